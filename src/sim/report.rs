//! The simulation report as JSON: totals, per node, per workload, per cache, latencies, and the time
//! series of the periodic samples.

use super::metrics::{Metrics, Outcome};
use super::simulation::Simulation;
use crate::cluster::Cluster;
use crate::events::CacheId;
use crate::security::RemovalCounts;
use crate::time::NANOS_PER_SECOND;
use serde_json::{json, Map, Value};

fn secs(n: u64) -> f64 {
    n as f64 / NANOS_PER_SECOND as f64
}

fn ms(n: u64) -> f64 {
    n as f64 / 1_000_000.0
}

/// Removals by reason, as Elasticsearch names the reasons.
fn removal_json(r: Option<RemovalCounts>) -> Value {
    let r = r.unwrap_or_default();
    json!({"REPLACED": r.replaced, "INVALIDATED": r.invalidated, "EVICTED": r.evicted})
}

/// The report of a simulation so far.
pub fn report(sim: &Simulation, cluster: &Cluster) -> Value {
    let m: &Metrics = &sim.metrics;
    let totals = m.total_outcomes();
    let requests: u64 = m.requests.iter().sum();
    let mut nodes = Map::new();
    for (i, n) in cluster.nodes().iter().enumerate() {
        let nm = &m.nodes[i];
        let mut caches = Map::new();
        for c in CacheId::ALL {
            let (stats, size) = (
                cluster.cache_stats(i as u16, c),
                cluster.cache_size(i as u16, c),
            );
            let v = match (stats, size) {
                (Some(s), Some(sz)) => {
                    let lookups = s.hits + s.misses;
                    json!({
                        "hits": s.hits,
                        "misses": s.misses,
                        "hit_ratio": if lookups == 0 { Value::Null } else { json!(s.hits as f64 / lookups as f64) },
                        "evictions": s.evictions,
                        "removals": removal_json(cluster.cache_removals(i as u16, c)),
                        "count": sz.count,
                    })
                }
                _ => Value::Null,
            };
            caches.insert(c.name().into(), v);
        }
        nodes.insert(
            n.name.clone(),
            json!({
                "id": n.id,
                "running": n.running(),
                "partitioned": n.partitioned,
                "authentications": Metrics::outcome_json(&nm.outcomes),
                "stale_acceptances": nm.stale_acceptances,
                "longest_stale_window_seconds": secs(nm.longest_stale_window),
                "hashing_cpu_seconds": secs(nm.hashing_cpu),
                "hash_verifications": nm.verifications,
                "max_crypto_queue_depth": nm.max_queue_depth,
                "caches": Value::Object(caches),
            }),
        );
    }
    let mut workloads = Map::new();
    for (w, name) in sim.workload_names().iter().enumerate() {
        workloads.insert(
            name.clone(),
            json!({
                "requests": m.requests[w],
                "credentials": sim.credentials_created(w),
                "authentications": Metrics::outcome_json(&m.workload_outcomes[w]),
            }),
        );
    }
    let finished: u64 = totals.iter().sum();
    let stale: u64 = m.nodes.iter().map(|n| n.stale_acceptances).sum();
    let longest = m
        .nodes
        .iter()
        .map(|n| n.longest_stale_window)
        .max()
        .unwrap_or(0);
    let cpu: u64 = m.nodes.iter().map(|n| n.hashing_cpu).sum();
    let l = &m.latency;
    json!({
        "virtual_seconds": secs(cluster.now()),
        "requests": requests,
        "finished": finished,
        "in_flight": sim.in_flight(),
        "authentications": Metrics::outcome_json(&totals),
        "success_ratio": if finished == 0 { Value::Null } else { json!(totals[0] as f64 / finished as f64) },
        "stale_acceptances": stale,
        "longest_stale_window_seconds": secs(longest),
        "hashing_cpu_seconds": secs(cpu),
        "latency_ms": {
            "mean": l.mean() / 1e6,
            "p50": ms(l.quantile(0.5)),
            "p90": ms(l.quantile(0.9)),
            "p99": ms(l.quantile(0.99)),
            "p999": ms(l.quantile(0.999)),
            "max": ms(l.max()),
        },
        "nodes": Value::Object(nodes),
        "workloads": Value::Object(workloads),
        "action_errors": sim.action_errors.iter().map(|(t, a, e)| json!({"time": secs(*t), "action": a, "error": e})).collect::<Vec<_>>(),
        "events": cluster.events.len(),
        "outcome_names": Outcome::ALL.iter().map(|o| o.name()).collect::<Vec<_>>(),
    })
}

/// The periodic samples as columns: time, node, per-cache hits/misses/evictions/count, queue depth,
/// hashing CPU and outcomes (cumulative).
pub fn timeline(sim: &Simulation, cluster: &Cluster) -> Value {
    let names: Vec<&str> = cluster.nodes().iter().map(|n| n.name.as_str()).collect();
    let mut rows = Vec::with_capacity(sim.metrics.samples.len());
    for s in &sim.metrics.samples {
        let mut caches = Map::new();
        for (j, c) in CacheId::ALL.iter().enumerate() {
            if let Some((h, mi, e, n)) = s.caches[j] {
                caches.insert(
                    c.name().into(),
                    json!({"hits": h, "misses": mi, "evictions": e, "count": n}),
                );
            }
        }
        rows.push(json!({
            "time": secs(s.time),
            "node": names.get(s.node as usize).copied().unwrap_or(""),
            "queue_depth": s.queue_depth,
            "hashing_cpu_seconds": secs(s.hashing_cpu),
            "authentications": Metrics::outcome_json(&s.outcomes),
            "caches": Value::Object(caches),
        }));
    }
    Value::Array(rows)
}
