//! The simulation report and the time series of the periodic samples: escache's own formats, as
//! serde types. `escache._core._Simulation` hands them to Python as JSON, where
//! `escache.report` reads them into the same types.

use super::metrics::{Metrics, NodeSample, Outcome};
use super::simulation::Simulation;
use crate::cluster::Cluster;
use crate::events::CacheId;
use crate::time::NANOS_PER_SECOND;
use indexmap::IndexMap;
use serde::{Deserialize, Serialize};
use serde_json::Value;

pub(super) fn secs(n: u64) -> f64 {
    n as f64 / NANOS_PER_SECOND as f64
}

pub(super) fn ms(n: u64) -> f64 {
    n as f64 / 1_000_000.0
}

/// Authentications by outcome, under the names reports have always used (HTTP statuses for 401 and
/// 429).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct Authentications {
    pub(crate) success: u64,
    #[serde(rename = "401")]
    pub(crate) unauthorized: u64,
    #[serde(rename = "429")]
    pub(crate) too_busy: u64,
    pub(crate) unavailable: u64,
}

impl From<&[u64; 4]> for Authentications {
    fn from(o: &[u64; 4]) -> Self {
        let at = |x: Outcome| o[x as usize];
        Authentications {
            success: at(Outcome::Success),
            unauthorized: at(Outcome::Unauthorized),
            too_busy: at(Outcome::TooBusy),
            unavailable: at(Outcome::Unavailable),
        }
    }
}

/// Cache removals by reason, as Elasticsearch's `RemovalNotification.RemovalReason` names them.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "UPPERCASE")]
pub(crate) struct Removals {
    pub(crate) replaced: u64,
    pub(crate) invalidated: u64,
    pub(crate) evicted: u64,
}

/// One cache of one node.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct CacheReport {
    pub(crate) hits: u64,
    pub(crate) misses: u64,
    /// `None` before the first lookup.
    pub(crate) hit_ratio: Option<f64>,
    pub(crate) evictions: u64,
    pub(crate) removals: Removals,
    pub(crate) count: usize,
}

/// One node.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct NodeReport {
    pub(crate) id: String,
    pub(crate) running: bool,
    pub(crate) partitioned: bool,
    pub(crate) authentications: Authentications,
    pub(crate) stale_acceptances: u64,
    pub(crate) longest_stale_window_seconds: f64,
    pub(crate) hashing_cpu_seconds: f64,
    pub(crate) hash_verifications: u64,
    pub(crate) max_crypto_queue_depth: u32,
    /// Every cache by name (`CacheId::ALL` order); `None` when disabled or the node is stopped.
    pub(crate) caches: IndexMap<String, Option<CacheReport>>,
}

/// One workload.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct WorkloadReport {
    pub(crate) requests: u64,
    pub(crate) credentials: usize,
    pub(crate) authentications: Authentications,
    /// Attempts beyond each logical request's first (CA-CL4).
    pub(crate) retries: u64,
    /// Attempts over logical requests; `None` before the first request.
    pub(crate) amplification: Option<f64>,
}

/// Request latencies in milliseconds.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct Latency {
    pub(crate) mean: f64,
    pub(crate) p50: f64,
    pub(crate) p90: f64,
    pub(crate) p99: f64,
    pub(crate) p999: f64,
    pub(crate) max: f64,
}

/// A scheduled action that failed (the run goes on).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct ActionError {
    /// Virtual seconds since the cluster's clock started.
    pub(crate) time: f64,
    pub(crate) action: String,
    pub(crate) error: String,
}

/// The report of a simulation so far.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct Report {
    pub(crate) virtual_seconds: f64,
    pub(crate) requests: u64,
    pub(crate) finished: u64,
    pub(crate) in_flight: usize,
    pub(crate) authentications: Authentications,
    /// Client retries (CA-CL4): attempts beyond each logical request's first. `authentications`
    /// counts each logical request once, by its last attempt.
    pub(crate) retries: u64,
    /// Attempts over logical requests (1 without retries); `None` before the first request.
    pub(crate) amplification: Option<f64>,
    /// `None` before the first request finishes.
    pub(crate) success_ratio: Option<f64>,
    pub(crate) stale_acceptances: u64,
    pub(crate) longest_stale_window_seconds: f64,
    pub(crate) hashing_cpu_seconds: f64,
    pub(crate) latency_ms: Latency,
    pub(crate) nodes: IndexMap<String, NodeReport>,
    pub(crate) workloads: IndexMap<String, WorkloadReport>,
    pub(crate) action_errors: Vec<ActionError>,
    /// Events in the cluster's trace.
    pub(crate) events: usize,
    pub(crate) outcome_names: Vec<String>,
    /// How long the API key document GETs took (CA-TM2); only with an `index_get` latency.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) index_get_ms: Option<Latency>,
    /// The clear-cache fan-outs and how long each response took (CA-PT5); only with fault
    /// detection or a `transport_hop` latency (CA-TM5).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) clears: Option<Vec<super::clears::ClearReport>>,
    /// Fault detection's removals and rejoins (CA-PT5); only with fault detection.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) cluster_state_changes: Option<Vec<super::clears::ClusterStateChange>>,
}

impl Report {
    /// The report of `sim` over `cluster` so far.
    pub(crate) fn new(sim: &Simulation, cluster: &Cluster) -> Report {
        let m: &Metrics = &sim.metrics;
        let totals = m.total_outcomes();
        let nodes = cluster
            .nodes()
            .iter()
            .enumerate()
            .map(|(i, n)| {
                let nm = &m.nodes[i];
                let caches = CacheId::ALL
                    .iter()
                    .map(|&c| {
                        let node = i as u16;
                        let cache =
                            match (cluster.cache_stats(node, c), cluster.cache_size(node, c)) {
                                (Some(s), Some(sz)) => {
                                    let lookups = s.hits + s.misses;
                                    let r = cluster.cache_removals(node, c).unwrap_or_default();
                                    Some(CacheReport {
                                        hits: s.hits,
                                        misses: s.misses,
                                        hit_ratio: (lookups != 0)
                                            .then(|| s.hits as f64 / lookups as f64),
                                        evictions: s.evictions,
                                        removals: Removals {
                                            replaced: r.replaced,
                                            invalidated: r.invalidated,
                                            evicted: r.evicted,
                                        },
                                        count: sz.count,
                                    })
                                }
                                _ => None,
                            };
                        (c.name().to_string(), cache)
                    })
                    .collect();
                let report = NodeReport {
                    id: n.id.clone(),
                    running: n.running(),
                    partitioned: n.partitioned,
                    authentications: Authentications::from(&nm.outcomes),
                    stale_acceptances: nm.stale_acceptances,
                    longest_stale_window_seconds: secs(nm.longest_stale_window),
                    hashing_cpu_seconds: secs(nm.hashing_cpu),
                    hash_verifications: nm.verifications,
                    max_crypto_queue_depth: nm.max_queue_depth,
                    caches,
                };
                (n.name.clone(), report)
            })
            .collect();
        let workloads = sim
            .workload_names()
            .into_iter()
            .enumerate()
            .map(|(w, name)| {
                let report = WorkloadReport {
                    requests: m.requests[w],
                    credentials: sim.credentials_created(w),
                    authentications: Authentications::from(&m.workload_outcomes[w]),
                    retries: m.retries[w],
                    amplification: m.amplification(Some(w)),
                };
                (name, report)
            })
            .collect();
        let finished: u64 = totals.iter().sum();
        let l = &m.latency;
        let latency = |l: &super::metrics::LatencyHistogram| Latency {
            mean: l.mean() / 1e6,
            p50: ms(l.quantile(0.5)),
            p90: ms(l.quantile(0.9)),
            p99: ms(l.quantile(0.99)),
            p999: ms(l.quantile(0.999)),
            max: ms(l.max()),
        };
        Report {
            virtual_seconds: secs(cluster.now()),
            requests: m.requests.iter().sum(),
            finished,
            in_flight: sim.in_flight(),
            authentications: Authentications::from(&totals),
            retries: m.retries.iter().sum(),
            amplification: m.amplification(None),
            success_ratio: (finished != 0).then(|| totals[0] as f64 / finished as f64),
            stale_acceptances: m.nodes.iter().map(|n| n.stale_acceptances).sum(),
            longest_stale_window_seconds: secs(
                m.nodes
                    .iter()
                    .map(|n| n.longest_stale_window)
                    .max()
                    .unwrap_or(0),
            ),
            hashing_cpu_seconds: secs(m.nodes.iter().map(|n| n.hashing_cpu).sum()),
            latency_ms: latency(l),
            nodes,
            workloads,
            action_errors: sim
                .action_errors
                .iter()
                .map(|(t, a, e)| ActionError {
                    time: secs(*t),
                    action: a.clone(),
                    error: e.clone(),
                })
                .collect(),
            events: cluster.events.len(),
            outcome_names: Outcome::ALL.iter().map(|o| o.name().to_string()).collect(),
            index_get_ms: (m.index_get.count() != 0).then(|| latency(&m.index_get)),
            clears: sim.records_clears().then(|| sim.clear_reports(cluster)),
            cluster_state_changes: sim
                .fault_detection
                .is_some()
                .then(|| sim.cluster_state_changes(cluster)),
        }
    }
}

/// The report of a simulation so far, as a JSON value.
pub fn report(sim: &Simulation, cluster: &Cluster) -> Value {
    // ok: a struct of numbers, strings and string-keyed maps always serializes
    serde_json::to_value(Report::new(sim, cluster)).unwrap_or(Value::Null)
}

/// The cumulative figures of one cache in a periodic sample.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct CacheSample {
    pub(crate) hits: u64,
    pub(crate) misses: u64,
    pub(crate) evictions: u64,
    pub(crate) count: usize,
}

/// One row of the timeline: a node's cumulative figures at a sample time.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct TimelineRow {
    pub(crate) time: f64,
    pub(crate) node: String,
    pub(crate) queue_depth: u32,
    /// The most tasks queued in the node's `security-crypto` pool since the previous sample.
    pub(crate) max_queue_depth: u32,
    pub(crate) hashing_cpu_seconds: f64,
    pub(crate) authentications: Authentications,
    /// Stale acceptances so far (cumulative, like the outcomes).
    pub(crate) stale_acceptances: u64,
    /// Latency of the requests that finished on the node since the previous sample; `None` when
    /// none did.
    pub(crate) latency_ms: Option<IntervalLatency>,
    /// The enabled caches of a running node, by name.
    pub(crate) caches: IndexMap<String, CacheSample>,
}

/// Latencies (milliseconds) of the requests that finished in one sample interval.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct IntervalLatency {
    pub(crate) p50: f64,
    pub(crate) p90: f64,
    pub(crate) p99: f64,
    pub(crate) max: f64,
}

impl TimelineRow {
    fn new(s: &NodeSample, names: &[&str]) -> TimelineRow {
        let caches = CacheId::ALL
            .iter()
            .zip(&s.caches)
            .filter_map(|(c, x)| {
                let &(hits, misses, evictions, count) = x.as_ref()?;
                let sample = CacheSample {
                    hits,
                    misses,
                    evictions,
                    count,
                };
                Some((c.name().to_string(), sample))
            })
            .collect();
        TimelineRow {
            time: secs(s.time),
            node: names
                .get(s.node as usize)
                .copied()
                .unwrap_or("")
                .to_string(),
            queue_depth: s.queue_depth,
            max_queue_depth: s.max_queue_depth,
            hashing_cpu_seconds: secs(s.hashing_cpu),
            authentications: Authentications::from(&s.outcomes),
            stale_acceptances: s.stale_acceptances,
            latency_ms: s.latency.map(|[p50, p90, p99, max]| IntervalLatency {
                p50: ms(p50),
                p90: ms(p90),
                p99: ms(p99),
                max: ms(max),
            }),
            caches,
        }
    }
}

/// The periodic samples as rows: time, node, per-cache hits/misses/evictions/count, queue depth,
/// hashing CPU and outcomes (cumulative).
pub(crate) fn timeline_rows(sim: &Simulation, cluster: &Cluster) -> Vec<TimelineRow> {
    let names: Vec<&str> = cluster.nodes().iter().map(|n| n.name.as_str()).collect();
    sim.metrics
        .samples
        .iter()
        .map(|s| TimelineRow::new(s, &names))
        .collect()
}

/// The periodic samples as a JSON value (see [`timeline_rows`]).
pub fn timeline(sim: &Simulation, cluster: &Cluster) -> Value {
    // ok: rows of numbers and strings always serialize
    serde_json::to_value(timeline_rows(sim, cluster)).unwrap_or(Value::Null)
}
