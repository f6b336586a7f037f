//! The differential oracle for `escache::rest::body` (Jackson as Elasticsearch configures it) against
//! `serde_json` (strict RFC 8259).
//!
//! The parsers are meant to differ only where Elasticsearch's Jackson setup differs from RFC 8259
//! (`JsonXContent`'s `JsonFactory`, `StreamReadConstraints`):
//!
//! 1. comments (`//`, `/* */`) are allowed: [`to_rfc8259`] blanks them before serde_json reads;
//! 2. a duplicate key is an error (`STRICT_DUPLICATE_DETECTION`); serde_json keeps the last value;
//! 3. nesting deeper than 1000 is an error (`StreamReadConstraints.getMaxNestingDepth()`); serde_json
//!    reads it (its recursion limit is disabled here);
//! 4. the root must be an object (`ObjectParser`) and bytes after it are ignored;
//! 5. a lone UTF-16 surrogate escape (`"\ud800"`) is read (Java strings hold one; escache, whose
//!    strings are UTF-8, stores U+FFFD): [`to_rfc8259`] rewrites it to `\ufffd`; serde_json refuses it;
//! 6. numbers: `-0` is the integer 0 (Jackson's `VALUE_NUMBER_INT`) where serde_json reads `-0.0`;
//!    numbers are compared by value ([`same_value`]).
//!
//! 7. a number beyond the `f64` range (`1e400`) is refused by escache (Jackson keeps a number), so
//!    there is nothing to compare; [`to_rfc8259`] still rewrites such numbers to `null`.

use serde::de::{self, Deserialize, Deserializer, MapAccess, SeqAccess, Visitor};
use serde_json::Value;
use std::collections::HashSet;
use std::fmt;

/// Elasticsearch's nesting limit (Jackson's `StreamReadConstraints` default).
pub const MAX_DEPTH: usize = 1000;

/// Jackson's `StreamReadConstraints` default for the characters of one number, which escache applies
/// too (`Number value length (..) exceeds the maximum allowed (1000, ..)`).
pub const MAX_NUMBER_LEN: usize = 1000;

/// The length of the longest number token of an RFC 8259 document (outside strings).
pub fn longest_number(doc: &[u8]) -> usize {
    let (mut longest, mut run, mut in_string, mut escaped) = (0, 0, false, false);
    for &b in doc {
        if in_string {
            match (escaped, b) {
                (true, _) => escaped = false,
                (false, b'\\') => escaped = true,
                (false, b'"') => in_string = false,
                _ => {}
            }
            continue;
        }
        if matches!(b, b'0'..=b'9' | b'-' | b'+' | b'.' | b'e' | b'E') {
            run += 1;
            longest = longest.max(run);
        } else {
            run = 0;
            in_string = b == b'"';
        }
    }
    longest
}

/// Rewrites a body in Elasticsearch's JSON dialect into RFC 8259 JSON that serde_json reads to the
/// value escache is expected to produce: comments become one space, lone surrogate escapes become
/// `\ufffd`, out-of-range numbers become `null`. Bytes outside the root value are kept (the caller
/// reads only the first value). Meant for input escache accepted; any other input is copied as well as
/// the scan can.
pub fn to_rfc8259(input: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(input.len());
    let mut i = 0;
    while i < input.len() {
        let b = input[i];
        match b {
            b'"' => i = copy_string(input, i, &mut out),
            b'/' if input.get(i + 1) == Some(&b'/') => {
                while i < input.len() && input[i] != b'\n' && input[i] != b'\r' {
                    i += 1;
                }
                out.push(b' ');
            }
            b'/' if input.get(i + 1) == Some(&b'*') => {
                i += 2;
                while i < input.len() && !(input[i] == b'*' && input.get(i + 1) == Some(&b'/')) {
                    i += 1;
                }
                i = (i + 2).min(input.len());
                out.push(b' ');
            }
            b'-' | b'0'..=b'9' => {
                let start = i;
                while i < input.len()
                    && matches!(input[i], b'-' | b'+' | b'.' | b'e' | b'E' | b'0'..=b'9')
                {
                    i += 1;
                }
                let text = &input[start..i];
                let infinite = std::str::from_utf8(text)
                    .ok()
                    .and_then(|t| t.parse::<f64>().ok())
                    .is_some_and(|f| f.is_infinite());
                if infinite {
                    out.extend_from_slice(b"null");
                } else {
                    out.extend_from_slice(text);
                }
            }
            _ => {
                out.push(b);
                i += 1;
            }
        }
    }
    out
}

/// Copies the string starting at `input[start] == '"'`; returns the index after it.
fn copy_string(input: &[u8], start: usize, out: &mut Vec<u8>) -> usize {
    out.push(b'"');
    let mut i = start + 1;
    while i < input.len() {
        match input[i] {
            b'"' => {
                out.push(b'"');
                return i + 1;
            }
            b'\\' if input.get(i + 1) == Some(&b'u') => {
                let Some(hi) = hex4(input, i + 2) else {
                    out.extend_from_slice(&input[i..i + 2]);
                    i += 2;
                    continue;
                };
                if (0xD800..0xDC00).contains(&hi) {
                    let lo = (input.get(i + 6) == Some(&b'\\') && input.get(i + 7) == Some(&b'u'))
                        .then(|| hex4(input, i + 8))
                        .flatten();
                    if lo.is_some_and(|lo| (0xDC00..0xE000).contains(&lo)) {
                        out.extend_from_slice(&input[i..i + 12]);
                        i += 12;
                    } else {
                        out.extend_from_slice(b"\\ufffd");
                        i += 6;
                    }
                } else if (0xDC00..0xE000).contains(&hi) {
                    out.extend_from_slice(b"\\ufffd");
                    i += 6;
                } else {
                    out.extend_from_slice(&input[i..i + 6]);
                    i += 6;
                }
            }
            b'\\' => {
                let end = (i + 2).min(input.len());
                out.extend_from_slice(&input[i..end]);
                i = end;
            }
            b => {
                out.push(b);
                i += 1;
            }
        }
    }
    i
}

fn hex4(input: &[u8], at: usize) -> Option<u32> {
    let s = std::str::from_utf8(input.get(at..at + 4)?).ok()?;
    if !s.bytes().all(|b| b.is_ascii_hexdigit()) {
        return None;
    }
    u32::from_str_radix(s, 16).ok()
}

/// serde_json's reading of the first JSON value in `bytes` (trailing bytes ignored), with no
/// recursion limit.
pub fn serde_first_value(bytes: &[u8]) -> Result<Value, serde_json::Error> {
    let mut de = serde_json::Deserializer::from_slice(bytes);
    de.disable_recursion_limit();
    Value::deserialize(&mut de)
}

/// serde_json's reading of a whole document (`Err` on trailing bytes), with no recursion limit.
pub fn serde_document(bytes: &[u8]) -> Result<Value, serde_json::Error> {
    let mut de = serde_json::Deserializer::from_slice(bytes);
    de.disable_recursion_limit();
    let v = Value::deserialize(&mut de)?;
    de.end()?;
    Ok(v)
}

/// Whether a document has an object with a repeated key (read without building a value).
pub fn has_duplicate_key(bytes: &[u8]) -> bool {
    let mut de = serde_json::Deserializer::from_slice(bytes);
    de.disable_recursion_limit();
    match DupCheck::deserialize(&mut de) {
        Ok(DupCheck(dup)) => dup,
        Err(_) => false,
    }
}

struct DupCheck(bool);

impl<'de> Deserialize<'de> for DupCheck {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        d.deserialize_any(DupVisitor)
    }
}

struct DupVisitor;

impl<'de> Visitor<'de> for DupVisitor {
    type Value = DupCheck;

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("any JSON value")
    }
    fn visit_bool<E: de::Error>(self, _: bool) -> Result<DupCheck, E> {
        Ok(DupCheck(false))
    }
    fn visit_i64<E: de::Error>(self, _: i64) -> Result<DupCheck, E> {
        Ok(DupCheck(false))
    }
    fn visit_u64<E: de::Error>(self, _: u64) -> Result<DupCheck, E> {
        Ok(DupCheck(false))
    }
    fn visit_f64<E: de::Error>(self, _: f64) -> Result<DupCheck, E> {
        Ok(DupCheck(false))
    }
    fn visit_str<E: de::Error>(self, _: &str) -> Result<DupCheck, E> {
        Ok(DupCheck(false))
    }
    fn visit_unit<E: de::Error>(self) -> Result<DupCheck, E> {
        Ok(DupCheck(false))
    }
    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<DupCheck, A::Error> {
        let mut dup = false;
        while let Some(DupCheck(d)) = seq.next_element()? {
            dup |= d;
        }
        Ok(DupCheck(dup))
    }
    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<DupCheck, A::Error> {
        let mut seen = HashSet::new();
        let mut dup = false;
        while let Some(k) = map.next_key::<String>()? {
            dup |= !seen.insert(k);
            let DupCheck(d) = map.next_value()?;
            dup |= d;
        }
        Ok(DupCheck(dup))
    }
}

/// The nesting depth of a value (a scalar is 0, `{}` and `[]` are 1), as Jackson counts it.
pub fn depth(v: &Value) -> usize {
    match v {
        Value::Array(a) => 1 + a.iter().map(depth).max().unwrap_or(0),
        Value::Object(m) => 1 + m.values().map(depth).max().unwrap_or(0),
        _ => 0,
    }
}

/// Equality with numbers compared by value (`-0` and `-0.0`, `1` and `1.0` are equal) and object key
/// order significant (escache and Elasticsearch both keep it).
pub fn same_value(a: &Value, b: &Value) -> bool {
    match (a, b) {
        (Value::Number(x), Value::Number(y)) => {
            x == y
                || ((x.is_f64() || y.is_f64())
                    && x.as_f64().zip(y.as_f64()).is_some_and(|(p, q)| p == q))
        }
        (Value::Array(x), Value::Array(y)) => {
            x.len() == y.len() && x.iter().zip(y).all(|(p, q)| same_value(p, q))
        }
        (Value::Object(x), Value::Object(y)) => {
            x.len() == y.len()
                && x.iter()
                    .zip(y)
                    .all(|((ka, va), (kb, vb))| ka == kb && same_value(va, vb))
        }
        _ => a == b,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rewrites_the_dialect() {
        assert_eq!(to_rfc8259(b"{/*c*/\"a\"://x\n1}"), b"{ \"a\": \n1}");
        assert_eq!(
            to_rfc8259(br#"{"a":"\ud800x\udc00\ud83d\ude00\u0041"}"#),
            br#"{"a":"\ufffdx\ufffd\ud83d\ude00\u0041"}"#
        );
        assert_eq!(
            to_rfc8259(b"{\"a\":1e400,\"b\":-1e9}"),
            b"{\"a\":null,\"b\":-1e9}"
        );
        assert!(has_duplicate_key(br#"{"a":{"b":1,"b":2}}"#));
        assert!(!has_duplicate_key(br#"{"a":{"b":1},"b":2}"#));
    }
}
