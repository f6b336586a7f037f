//! Token locations on demand: reads a body again with the same reader and follows one JSON pointer
//! to the key or value whose `XContentLocation` an error needs (ES reports the parser's location at
//! the offending token; `libs/x-content/src/main/java/org/elasticsearch/xcontent/XContentLocation.java`).

use super::reader::Parser;
use super::Location;

/// One JSON pointer to look for while parsing: its unescaped segments (each also as an array index
/// when it is one in canonical form), and whether the key or the value location is wanted.
pub(super) struct Target {
    pub(super) segments: Vec<String>,
    pub(super) indexes: Vec<Option<usize>>,
    pub(super) want_key: bool,
    pub(super) found: Option<Location>,
}

impl Target {
    fn new(pointer: &str, want_key: bool) -> Option<Self> {
        let segments: Vec<String> = if pointer.is_empty() {
            Vec::new()
        } else {
            let rest = pointer.strip_prefix('/')?;
            rest.split('/')
                .map(|s| s.replace("~1", "/").replace("~0", "~"))
                .collect()
        };
        let indexes = segments
            .iter()
            .map(|s| {
                let canonical = s == "0" || (!s.starts_with('0') && !s.starts_with('+'));
                s.parse::<usize>().ok().filter(|_| canonical)
            })
            .collect();
        Some(Target {
            segments,
            indexes,
            want_key,
            found: None,
        })
    }
}

/// Reads `bytes` again and returns the location of `pointer`'s key or value (`None` when absent, or
/// when the bytes no longer parse).
pub(super) fn locate(bytes: &[u8], pointer: &str, want_key: bool) -> Option<Location> {
    let target = Target::new(pointer, want_key)?;
    if want_key && target.segments.is_empty() {
        return None;
    }
    let mut p = Parser::new(bytes);
    p.target = Some(target);
    p.skip_ws().ok()?;
    // A failure after the location was found does not matter; one before leaves `found` empty.
    let _ = p.parse_value(true, 0);
    p.target.and_then(|t| t.found)
}
