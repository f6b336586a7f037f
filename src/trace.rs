//! The exported event trace (`EventTrace.to_jsonl`): one [`TraceRow`] per event, written as JSON Lines.
//!
//! The row is escache's own format, so it is a serde type; its schema version is [`TRACE_SCHEMA_VERSION`]
//! (the `v` column). Lines are ASCII-only JSON, every non-ASCII character escaped as `\uXXXX` (what
//! Python's `json.dumps` writes with its default `ensure_ascii=True`), so a trace is the same bytes
//! whatever reads it as text.

use crate::events::{Event, EventLog};
use serde::{Deserialize, Serialize};
use std::borrow::Cow;
use std::io;

mod columns;
pub use columns::{columns, DictColumn, TraceColumns};

/// The trace schema version: the `v` column of every exported row.
pub const TRACE_SCHEMA_VERSION: u8 = 1;

/// One exported event. Column meanings: `EventTrace.SCHEMA` in the Python package.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TraceRow<'a> {
    pub v: u8,
    /// Virtual nanoseconds since the cluster started.
    pub time: u64,
    /// The node's name; empty for cluster-wide events.
    #[serde(borrow)]
    pub node: Cow<'a, str>,
    #[serde(borrow)]
    pub kind: Cow<'a, str>,
    #[serde(borrow)]
    pub cache: Cow<'a, str>,
    #[serde(borrow)]
    pub key: Cow<'a, str>,
    #[serde(borrow)]
    pub detail: Cow<'a, str>,
}

impl<'a> TraceRow<'a> {
    /// The row of `event`; `node_names` maps node indexes to names (an unknown index is empty).
    pub fn of(event: &Event<'a>, node_names: &[&'a str]) -> Self {
        TraceRow {
            v: TRACE_SCHEMA_VERSION,
            time: event.time,
            node: Cow::Borrowed(
                node_names
                    .get(usize::from(event.node))
                    .copied()
                    .unwrap_or(""),
            ),
            kind: Cow::Borrowed(event.kind.name()),
            cache: Cow::Borrowed(event.cache.name()),
            key: Cow::Borrowed(event.key),
            detail: Cow::Borrowed(event.detail),
        }
    }
}

/// `serde_json`'s compact format with non-ASCII characters (and DEL) escaped as `\uXXXX` (UTF-16
/// surrogate pairs above U+FFFF), lower-case hex as Python writes it.
struct AsciiFormatter;

impl serde_json::ser::Formatter for AsciiFormatter {
    fn write_string_fragment<W: ?Sized + io::Write>(
        &mut self,
        writer: &mut W,
        fragment: &str,
    ) -> io::Result<()> {
        let mut plain = 0;
        for (i, c) in fragment.char_indices() {
            if c.is_ascii() && c != '\u{7f}' {
                continue;
            }
            writer.write_all(&fragment.as_bytes()[plain..i])?;
            let mut units = [0u16; 2];
            for unit in c.encode_utf16(&mut units) {
                write!(writer, "\\u{unit:04x}")?;
            }
            plain = i + c.len_utf8();
        }
        writer.write_all(&fragment.as_bytes()[plain..])
    }
}

/// Appends events `start..stop` of `log` (clamped to its length) to `out` as JSON Lines; returns the
/// number of lines written.
pub fn write_jsonl(
    log: &EventLog,
    node_names: &[&str],
    start: usize,
    stop: usize,
    out: &mut Vec<u8>,
) -> usize {
    let stop = stop.min(log.len());
    let mut written = 0;
    for event in (start..stop).filter_map(|i| log.get(i)) {
        let row = TraceRow::of(&event, node_names);
        let mut ser = serde_json::Serializer::with_formatter(&mut *out, AsciiFormatter);
        // ok: serializing plain strings and integers into a Vec cannot fail.
        if row.serialize(&mut ser).is_ok() {
            out.push(b'\n');
            written += 1;
        }
    }
    written
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::events::{CacheId, EventKind};

    fn one_event_log(key: &str, detail: &str) -> EventLog {
        let mut log = EventLog::new(true);
        log.record(7, 1, EventKind::CacheHit, CacheId::ApiKeyAuth, key, detail);
        log
    }

    #[test]
    fn a_row_is_the_schema_in_order_and_ascii_only() {
        let log = one_event_log("k\u{e9}y\u{1f600}", "a\"b\\c\n\u{7f}");
        let mut out = Vec::new();
        assert_eq!(write_jsonl(&log, &["node-0", "node-1"], 0, 10, &mut out), 1);
        let line = String::from_utf8(out).unwrap();
        assert_eq!(
            line,
            "{\"v\":1,\"time\":7,\"node\":\"node-1\",\"kind\":\"cache_hit\",\"cache\":\"api_key_auth\",\
             \"key\":\"k\\u00e9y\\ud83d\\ude00\",\"detail\":\"a\\\"b\\\\c\\n\\u007f\"}\n"
        );
        assert!(line.is_ascii());
    }

    #[test]
    fn rows_read_back_as_the_same_row() {
        let log = one_event_log("\u{10ffff}x", "\u{0}\u{1f}");
        let mut out = Vec::new();
        write_jsonl(&log, &[], 0, 1, &mut out);
        let text = String::from_utf8(out).unwrap();
        let back: TraceRow<'_> = serde_json::from_str(text.trim_end()).unwrap();
        let event = log.get(0).unwrap();
        assert_eq!(back, TraceRow::of(&event, &[]));
        assert_eq!(back.node, "");
    }
}
