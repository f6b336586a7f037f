//! The timeline as columns (`escache::sim::timeline`, behind `SimulationReport.timeline.to_arrow()`):
//! the same figures as the timeline's rows, flattened, with a stopped node's caches empty.

use super::*;
use escache::sim::timeline::{timeline_columns, timeline_len};
use serde_json::Value;

#[test]
fn columns_are_the_rows_flattened_with_absent_caches_as_none() {
    let (mut c, mut sim) = busy_scenario_unrun(3, 4);
    // A sample every 10 s: node-2 is stopped at the 40 s one, so its row there has no caches.
    sim.schedule(35 * S, None, Action::StopNode(2)).unwrap();
    sim.schedule(45 * S, None, Action::StartNode(2)).unwrap();
    sim.run_until(&mut c, 50 * S);
    let rows = report::timeline(&sim, &c);
    let rows = rows.as_array().unwrap();
    assert_eq!(rows.len(), timeline_len(&sim));
    assert_eq!(rows.len(), 6 * 3, "a row per node every 10 s, 0 s to 50 s");

    let cols = timeline_columns(&sim, &c, 0, usize::MAX);
    assert_eq!(cols.time.len(), rows.len());
    let mut stopped_rows = 0;
    for (i, row) in rows.iter().enumerate() {
        assert_eq!(Value::from(cols.time[i]), row["time"]);
        assert_eq!(cols.node.get(i).unwrap(), row["node"]);
        assert_eq!(Value::from(cols.queue_depth[i]), row["queue_depth"]);
        assert_eq!(Value::from(cols.max_queue_depth[i]), row["max_queue_depth"]);
        assert_eq!(
            Value::from(cols.stale_acceptances[i]),
            row["stale_acceptances"]
        );
        let latency: Vec<(&str, Value)> = cols
            .latency_ms
            .iter()
            .map(|(name, v)| (*name, v[i].map_or(Value::Null, Value::from)))
            .collect();
        let l = &row["latency_ms"];
        let q = |k: &str| {
            if l.is_null() {
                Value::Null
            } else {
                l[k].clone()
            }
        };
        assert_eq!(
            latency,
            [
                ("latency_p50_ms", q("p50")),
                ("latency_p90_ms", q("p90")),
                ("latency_p99_ms", q("p99")),
                ("latency_max_ms", q("max")),
            ]
        );
        assert_eq!(
            Value::from(cols.hashing_cpu_seconds[i]),
            row["hashing_cpu_seconds"]
        );
        let auth = &row["authentications"];
        let by_name: Vec<(&str, u64)> = cols
            .authentications
            .iter()
            .map(|(name, v)| (*name, v[i]))
            .collect();
        assert_eq!(
            by_name,
            [
                ("success", auth["success"].as_u64().unwrap()),
                ("unauthorized", auth["401"].as_u64().unwrap()),
                ("too_busy", auth["429"].as_u64().unwrap()),
                ("unavailable", auth["unavailable"].as_u64().unwrap()),
            ]
        );
        let caches = row["caches"].as_object().unwrap();
        if caches.is_empty() {
            stopped_rows += 1;
        }
        for cache in &cols.caches {
            let figures = [&cache.hits, &cache.misses, &cache.evictions, &cache.count];
            let got: Vec<Option<u64>> = figures.iter().map(|f| f[i]).collect();
            let want: Vec<Option<u64>> = ["hits", "misses", "evictions", "count"]
                .iter()
                .map(|f| caches.get(cache.cache).map(|s| s[f].as_u64().unwrap()))
                .collect();
            assert_eq!(got, want, "row {i}, cache {}", cache.cache);
        }
    }
    assert_eq!(stopped_rows, 1, "node-2 was sampled once while stopped");
    assert!(
        cols.latency_ms[0].1.iter().any(Option::is_some),
        "requests finished between samples"
    );
    assert!(cols
        .caches
        .iter()
        .any(|c| c.hits.iter().flatten().any(|&h| h > 0)));

    // A range is the same rows.
    let tail = timeline_columns(&sim, &c, 9, 1_000);
    assert_eq!(tail.time, cols.time[9..]);
    assert_eq!(tail.caches[1].misses, cols.caches[1].misses[9..]);

    // The table (`Timeline`'s rows): the same values under the documented column names.
    let table = cols.to_json();
    let names: Vec<&str> = table["columns"]
        .as_array()
        .unwrap()
        .iter()
        .map(|n| n.as_str().unwrap())
        .collect();
    assert_eq!(
        names[..14],
        [
            "time",
            "node",
            "queue_depth",
            "max_queue_depth",
            "hashing_cpu_seconds",
            "success",
            "unauthorized",
            "too_busy",
            "unavailable",
            "stale_acceptances",
            "latency_p50_ms",
            "latency_p90_ms",
            "latency_p99_ms",
            "latency_max_ms",
        ]
    );
    assert_eq!(names.len(), 14 + 4 * cols.caches.len());
    let at = |name: &str| names.iter().position(|n| *n == name).unwrap();
    for (i, row) in rows.iter().enumerate() {
        let t = &table["rows"][i];
        assert_eq!(t[at("time")], row["time"]);
        assert_eq!(t[at("node")], row["node"]);
        assert_eq!(t[at("unauthorized")], row["authentications"]["401"]);
        assert_eq!(t[at("max_queue_depth")], row["max_queue_depth"]);
        assert_eq!(
            t[at("latency_p99_ms")],
            row["latency_ms"].get("p99").cloned().unwrap_or(Value::Null)
        );
        for cache in &cols.caches {
            for figure in ["hits", "misses", "evictions", "count"] {
                let want = row["caches"]
                    .get(cache.cache)
                    .map_or(Value::Null, |s| s[figure].clone());
                assert_eq!(t[at(&format!("{}_{figure}", cache.cache))], want);
            }
        }
    }
}
