//! The timeline as columns: one row per periodic sample and node, one column per figure, for
//! `SimulationReport.timeline` (`to_arrow()`, `to_pandas()`, `to_polars()`; the Arrow arrays are made
//! in `src/python/arrow.rs`). The rows are those of [`timeline_rows`](super::report::timeline_rows),
//! flattened: a cache's figures are `None` where that row has no entry for the cache (the cache is
//! disabled, or the node was stopped).

use super::metrics::{NodeSample, Outcome};
use super::report::{ms, secs};
use super::simulation::Simulation;
use crate::cluster::Cluster;
use crate::events::CacheId;
use crate::trace::DictColumn;
use serde_json::Value;

/// The cumulative figures of one cache, one entry per row.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct CacheColumns {
    /// The cache's name ([`CacheId::name`]): its columns are `{cache}_hits`, `{cache}_misses`,
    /// `{cache}_evictions` and `{cache}_count`.
    pub cache: &'static str,
    pub hits: Vec<Option<u64>>,
    pub misses: Vec<Option<u64>>,
    pub evictions: Vec<Option<u64>>,
    pub count: Vec<Option<u64>>,
}

/// Samples as columns, one entry per row in each (rows in sample order, nodes in cluster order
/// within a sample).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct TimelineColumns<'a> {
    /// Virtual seconds since the cluster started.
    pub time: Vec<f64>,
    /// The node's name (every node of the cluster in the dictionary, in order).
    pub node: DictColumn<'a>,
    /// The node's `security-crypto` queue depth at the sample.
    pub queue_depth: Vec<u32>,
    /// The most tasks queued in the node's `security-crypto` pool since the previous sample.
    pub max_queue_depth: Vec<u32>,
    /// Cumulative CPU seconds spent verifying hashes.
    pub hashing_cpu_seconds: Vec<f64>,
    /// Cumulative authentications by outcome: the column name (the report's attribute:
    /// `success`, `unauthorized`, `too_busy`, `unavailable`) and its values.
    pub authentications: Vec<(&'static str, Vec<u64>)>,
    /// Cumulative stale acceptances (successes for a credential no longer valid on the node).
    pub stale_acceptances: Vec<u64>,
    /// Latency (milliseconds) of the requests that finished on the node since the previous sample:
    /// the column name (`latency_p50_ms`, `latency_p90_ms`, `latency_p99_ms`, `latency_max_ms`)
    /// and its values, `None` where none finished.
    pub latency_ms: Vec<(&'static str, Vec<Option<f64>>)>,
    /// Every cache, in [`CacheId::ALL`] order.
    pub caches: Vec<CacheColumns>,
}

/// One column's values, borrowed, by type: what [`TimelineColumns::named`] lists.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Column<'c, 'a> {
    Float64(&'c [f64]),
    UInt32(&'c [u32]),
    UInt64(&'c [u64]),
    /// `None` where the row has no value (no request finished in the interval).
    OptionFloat64(&'c [Option<f64>]),
    /// `None` where the row has no value (a cache disabled, or the node stopped).
    OptionUInt64(&'c [Option<u64>]),
    Dict(&'c DictColumn<'a>),
}

impl Column<'_, '_> {
    /// Row `i`'s value as JSON (`null` when absent or past the end).
    fn json(&self, i: usize) -> Value {
        match self {
            Column::Float64(v) => v.get(i).map_or(Value::Null, |&x| Value::from(x)),
            Column::UInt32(v) => v.get(i).map_or(Value::Null, |&x| Value::from(x)),
            Column::UInt64(v) => v.get(i).map_or(Value::Null, |&x| Value::from(x)),
            Column::OptionUInt64(v) => v.get(i).copied().flatten().map_or(Value::Null, Value::from),
            Column::OptionFloat64(v) => {
                v.get(i).copied().flatten().map_or(Value::Null, Value::from)
            }
            Column::Dict(d) => d.get(i).map_or(Value::Null, Value::from),
        }
    }
}

impl<'a> TimelineColumns<'a> {
    /// Every column with its name, in table order: `time`, `node`, `queue_depth`,
    /// `max_queue_depth`, `hashing_cpu_seconds`, the four outcomes, `stale_acceptances`, the four
    /// `latency_*_ms`, then `{cache}_hits`, `{cache}_misses`,
    /// `{cache}_evictions`, `{cache}_count` for each cache. The one place the names and the order
    /// are set (for Arrow and for the rows alike).
    pub fn named(&self) -> Vec<(String, Column<'_, 'a>)> {
        let mut out = vec![
            ("time".to_string(), Column::Float64(&self.time)),
            ("node".to_string(), Column::Dict(&self.node)),
            ("queue_depth".to_string(), Column::UInt32(&self.queue_depth)),
            (
                "max_queue_depth".to_string(),
                Column::UInt32(&self.max_queue_depth),
            ),
            (
                "hashing_cpu_seconds".to_string(),
                Column::Float64(&self.hashing_cpu_seconds),
            ),
        ];
        for (name, values) in &self.authentications {
            out.push(((*name).to_string(), Column::UInt64(values)));
        }
        out.push((
            "stale_acceptances".to_string(),
            Column::UInt64(&self.stale_acceptances),
        ));
        for (name, values) in &self.latency_ms {
            out.push(((*name).to_string(), Column::OptionFloat64(values)));
        }
        for c in &self.caches {
            for (figure, values) in [
                ("hits", &c.hits),
                ("misses", &c.misses),
                ("evictions", &c.evictions),
                ("count", &c.count),
            ] {
                out.push((
                    format!("{}_{figure}", c.cache),
                    Column::OptionUInt64(values),
                ));
            }
        }
        out
    }

    /// How many rows.
    pub fn len(&self) -> usize {
        self.time.len()
    }

    pub fn is_empty(&self) -> bool {
        self.time.is_empty()
    }

    /// The table as JSON: `{"columns": [names], "rows": [[values in column order], ...]}`.
    pub fn to_json(&self) -> Value {
        let named = self.named();
        let rows: Vec<Value> = (0..self.len())
            .map(|i| Value::Array(named.iter().map(|(_, c)| c.json(i)).collect()))
            .collect();
        let columns: Vec<Value> = named.into_iter().map(|(n, _)| Value::from(n)).collect();
        serde_json::json!({ "columns": columns, "rows": rows })
    }
}

/// An outcome's column name: `SimulationReport.authentications`'s attribute for it.
fn outcome_column(o: Outcome) -> &'static str {
    match o {
        Outcome::Success => "success",
        Outcome::Unauthorized => "unauthorized",
        Outcome::TooBusy => "too_busy",
        Outcome::Unavailable => "unavailable",
    }
}

/// The latency columns, in the order of a sample's (p50, p90, p99, max).
const LATENCY_COLUMNS: [&str; 4] = [
    "latency_p50_ms",
    "latency_p90_ms",
    "latency_p99_ms",
    "latency_max_ms",
];

/// How many rows the timeline has (rows are only ever added).
pub fn timeline_len(sim: &Simulation) -> usize {
    sim.metrics.samples.len()
}

/// Rows `start..stop` of the timeline (clamped to its length) as columns.
pub fn timeline_columns<'a>(
    sim: &Simulation,
    cluster: &'a Cluster,
    start: usize,
    stop: usize,
) -> TimelineColumns<'a> {
    let samples: &[NodeSample] = sim
        .metrics
        .samples
        .get(start..stop.min(sim.metrics.samples.len()))
        .unwrap_or_default();
    let names: Vec<&'a str> = cluster.nodes().iter().map(|n| n.name.as_str()).collect();
    let no_node = u32::try_from(names.len()).unwrap_or(u32::MAX);
    let mut node_values = names;
    // A sample always names one of the cluster's nodes; "" stands in should one not.
    node_values.push("");
    let mut out = TimelineColumns {
        time: samples.iter().map(|s| secs(s.time)).collect(),
        node: DictColumn {
            values: node_values,
            codes: samples
                .iter()
                .map(|s| u32::from(s.node).min(no_node))
                .collect(),
        },
        queue_depth: samples.iter().map(|s| s.queue_depth).collect(),
        max_queue_depth: samples.iter().map(|s| s.max_queue_depth).collect(),
        hashing_cpu_seconds: samples.iter().map(|s| secs(s.hashing_cpu)).collect(),
        authentications: Outcome::ALL
            .iter()
            .map(|&o| {
                let values = samples.iter().map(|s| s.outcomes[o as usize]).collect();
                (outcome_column(o), values)
            })
            .collect(),
        stale_acceptances: samples.iter().map(|s| s.stale_acceptances).collect(),
        latency_ms: LATENCY_COLUMNS
            .iter()
            .enumerate()
            .map(|(q, &name)| {
                let values = samples
                    .iter()
                    .map(|s| s.latency.map(|l| ms(l[q])))
                    .collect();
                (name, values)
            })
            .collect(),
        caches: Vec::with_capacity(CacheId::ALL.len()),
    };
    for (i, cache) in CacheId::ALL.iter().enumerate() {
        let figure = |f: fn(&(u64, u64, u64, usize)) -> u64| -> Vec<Option<u64>> {
            samples
                .iter()
                .map(|s| s.caches.get(i).and_then(Option::as_ref).map(f))
                .collect()
        };
        out.caches.push(CacheColumns {
            cache: cache.name(),
            hits: figure(|c| c.0),
            misses: figure(|c| c.1),
            evictions: figure(|c| c.2),
            count: figure(|c| c.3 as u64),
        });
    }
    out
}
