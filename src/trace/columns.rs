//! The trace as columns: what `EventTrace.to_arrow()`, `to_pandas()` and `to_polars()` are built from
//! (the Arrow arrays are made in `src/python/arrow.rs`; the core has no Arrow dependency).
//!
//! The whole interface is [`columns`], which returns one [`TraceColumns`] of plain vectors. Whatever
//! the event store looks like, only that function reads it, so a new store re-implements that one
//! function. Its contract:
//!
//! - rows are events `start..stop` (clamped to the log's length), in trace order, the same rows
//!   [`write_jsonl`](super::write_jsonl) writes for the same range, with the same values;
//! - `node`, `kind` and `cache` are dictionary-encoded ([`DictColumn`]): each distinct value at most
//!   once in `values` (values that no row uses are allowed), row `i` being `values[codes[i]]`;
//! - an event of no node (cluster-wide, such as a security index change) has the node `""`, as in
//!   [`TraceRow`](super::TraceRow).

use crate::events::{CacheId, EventKind, EventLog};

/// A dictionary-encoded string column: row `i` is `values[codes[i]]`.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct DictColumn<'a> {
    pub values: Vec<&'a str>,
    pub codes: Vec<u32>,
}

impl<'a> DictColumn<'a> {
    /// Row `i`'s value (`None` past the end, or for a code outside `values`).
    pub fn get(&self, i: usize) -> Option<&'a str> {
        let code = *self.codes.get(i)?;
        self.values.get(usize::try_from(code).ok()?).copied()
    }
}

/// Events as columns, one entry per event in each; see the module documentation for the contract.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct TraceColumns<'a> {
    /// Virtual nanoseconds since the cluster started.
    pub time: Vec<u64>,
    /// The node's name; `""` for cluster-wide events.
    pub node: DictColumn<'a>,
    /// [`EventKind::name`].
    pub kind: DictColumn<'a>,
    /// [`CacheId::name`] (`""` for events of no cache).
    pub cache: DictColumn<'a>,
    pub key: Vec<&'a str>,
    pub detail: Vec<&'a str>,
}

impl TraceColumns<'_> {
    pub fn len(&self) -> usize {
        self.time.len()
    }

    pub fn is_empty(&self) -> bool {
        self.time.is_empty()
    }
}

/// Events `start..stop` of `log` (clamped to its length) as columns; `node_names` maps node indexes
/// to names (an index past it is a cluster-wide event: `""`).
///
/// The dictionaries are fixed, so every range of the same cluster gets the same ones: every node
/// name then `""` for `node`, every kind in [`EventKind`] order, `""` then every cache in [`CacheId`]
/// order.
pub fn columns<'a>(
    log: &'a EventLog,
    node_names: &[&'a str],
    start: usize,
    stop: usize,
) -> TraceColumns<'a> {
    let stop = stop.min(log.len());
    let rows = stop.saturating_sub(start);
    let mut out = TraceColumns {
        time: Vec::with_capacity(rows),
        node: DictColumn {
            values: node_names.iter().copied().chain([""]).collect(),
            codes: Vec::with_capacity(rows),
        },
        kind: DictColumn {
            values: EventKind::ALL.iter().map(|k| k.name()).collect(),
            codes: Vec::with_capacity(rows),
        },
        cache: DictColumn {
            values: [CacheId::None]
                .iter()
                .chain(&CacheId::ALL)
                .map(|c| c.name())
                .collect(),
            codes: Vec::with_capacity(rows),
        },
        key: Vec::with_capacity(rows),
        detail: Vec::with_capacity(rows),
    };
    // A node index past the names is cluster-wide: the last value, "".
    let no_node = u32::try_from(node_names.len()).unwrap_or(u32::MAX);
    for event in (start..stop).filter_map(|i| log.get(i)) {
        out.time.push(event.time);
        let node = u32::from(event.node);
        out.node
            .codes
            .push(if node < no_node { node } else { no_node });
        // Both enums are `repr(u8)` with discriminants in the dictionaries' order (tests below).
        out.kind.codes.push(u32::from(event.kind as u8));
        out.cache.codes.push(u32::from(event.cache as u8));
        out.key.push(event.key);
        out.detail.push(event.detail);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::trace::TraceRow;

    fn log() -> EventLog {
        let mut log = EventLog::new(true);
        log.record(1, 1, EventKind::CacheMiss, CacheId::ApiKeyAuth, "k1", "");
        log.record(2, 0, EventKind::AuthFailure, CacheId::None, "k1", "expired");
        let cluster_wide = crate::events::NodeIndex::MAX;
        log.record(
            3,
            cluster_wide,
            EventKind::SecurityIndexChange,
            CacheId::None,
            "",
            "green->red",
        );
        log.record(
            4,
            1,
            EventKind::FileReloaded,
            CacheId::FileServiceAccountToken,
            "",
            "",
        );
        log
    }

    /// Row `i` of the columns as the exported row: the contract with `write_jsonl`.
    fn row<'a>(c: &TraceColumns<'a>, i: usize) -> TraceRow<'a> {
        let (time, node, kind, cache) = (
            c.time[i],
            c.node.get(i).unwrap(),
            c.kind.get(i).unwrap(),
            c.cache.get(i).unwrap(),
        );
        TraceRow {
            v: crate::trace::TRACE_SCHEMA_VERSION,
            time,
            node: node.into(),
            kind: kind.into(),
            cache: cache.into(),
            key: c.key[i].into(),
            detail: c.detail[i].into(),
        }
    }

    #[test]
    fn columns_hold_the_exported_rows_in_order() {
        let log = log();
        let names = ["node-0", "node-1"];
        let c = columns(&log, &names, 0, usize::MAX);
        assert_eq!(c.len(), 4);
        let rows: Vec<TraceRow<'_>> = (0..c.len()).map(|i| row(&c, i)).collect();
        let expected: Vec<TraceRow<'_>> = log.iter().map(|e| TraceRow::of(&e, &names)).collect();
        assert_eq!(rows, expected);
        assert_eq!(rows[2].node, "");
        assert_eq!(rows[3].cache, "file_service_account_token");
    }

    #[test]
    fn a_range_is_clamped_and_keeps_the_dictionaries() {
        let log = log();
        let names = ["a", "b"];
        let all = columns(&log, &names, 0, 4);
        let tail = columns(&log, &names, 2, 99);
        assert_eq!(tail.time, vec![3, 4]);
        assert_eq!(tail.node.values, all.node.values);
        assert_eq!(tail.kind.values, all.kind.values);
        assert!(columns(&log, &names, 9, 3).is_empty());
    }

    #[test]
    fn dictionaries_hold_each_value_once_and_every_code_resolves() {
        let log = log();
        let c = columns(&log, &["n"], 0, 4);
        for d in [&c.node, &c.kind, &c.cache] {
            let mut seen = d.values.clone();
            seen.sort_unstable();
            seen.dedup();
            assert_eq!(seen.len(), d.values.len());
            assert!((0..c.len()).all(|i| d.get(i).is_some()));
        }
        // Every kind and cache decodes to its own name.
        for k in EventKind::ALL {
            assert_eq!(c.kind.values[k as usize], k.name());
        }
        for cache in CacheId::ALL {
            assert_eq!(c.cache.values[cache as usize], cache.name());
        }
    }
}
