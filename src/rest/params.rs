//! Parameter parsing exactly as Elasticsearch's REST layer does it.
//!
//! Sources (elastic/elasticsearch, read through the search tools):
//! - `server/src/main/java/org/elasticsearch/common/Strings.java`: `splitStringByCommaToArray(s)` is
//!   `s == null || s.isEmpty() ? EMPTY_ARRAY : s.split(",")` (Java `String.split`: inner and leading empty
//!   items kept, *trailing* empty items dropped, nothing trimmed); `isAllOrWildcard(String[])` is
//!   `isEmpty(data) || data.length == 1 && ("_all".equals(data[0]) || "*".equals(data[0]))`.
//! - `server/src/main/java/org/elasticsearch/rest/RestRequest.java`: `paramAsStringArray(key, default)`
//!   returns the default when the param is absent, else `splitStringByCommaToArray(value)`;
//!   `paramAsStringArrayOrEmptyIfAll(key)` = `paramAsStringArray(key, EMPTY_ARRAY)`, then `EMPTY_ARRAY`
//!   when `isAllOrWildcard`. `paramAsBoolean(key, boolean)`: an empty string is `true`, otherwise
//!   `Booleans.parseBoolean(raw, default)`.
//! - `libs/core/src/main/java/org/elasticsearch/core/Booleans.java`: `parseBoolean(String, default)`: a null
//!   or blank (only `Character.isWhitespace`) value gives the default; otherwise only `"true"`/`"false"`
//!   (case-sensitive), else `IllegalArgumentException("Failed to parse value [v] as only [true] or [false]
//!   are allowed.")`.
//! - `server/src/main/java/org/elasticsearch/rest/RestUtils.java`: `decodeComponent` (path: `+` stays
//!   `+`, the default of `es.rest.url_plus_as_space=false`; query strings: `+` is a space), `%%` is `%`,
//!   errors `unterminated escape sequence at end of string: <s>`, `partial escape sequence at end of
//!   string: <s>`, ``invalid escape sequence `%XY' at index <i> of: <s>``.
//! - `server/src/main/java/org/elasticsearch/rest/BaseRestHandler.java`: unconsumed parameters (sorted, a
//!   `TreeSet`) are rejected with `request [<path>] contains unrecognized parameter[s]: [p] -> did you mean
//!   [x]?, [q]`; candidates are ranked with Lucene's `LevenshteinDistance` (similarity > 0.5, best first,
//!   ties by name). `RestResponse.RESPONSE_PARAMS = {"error_trace"}`.

use crate::error::EsError;

/// Parameters every request may carry without a handler reading them. `error_trace` is read by
/// `RestController.validateErrorTrace` and is `RestResponse.RESPONSE_PARAMS`; `format`, `filter_path`,
/// `pretty` and `human` are read when the REST channel is created (`AbstractRestChannel`), before the
/// handler runs, so ES counts them as consumed (and offers them as "did you mean" candidates).
pub(crate) const GLOBAL_PARAMS: &[&str] =
    &["error_trace", "filter_path", "format", "human", "pretty"];

/// Java's `s.split(",")` (limit 0): inner and leading empty items are kept, trailing empty items are
/// removed. Note Java gives `[""]` for `""` (no match: the whole input); `","` and `",,"` give `[]`.
pub(crate) fn java_split_comma(s: &str) -> Vec<String> {
    let mut parts: Vec<String> = s.split(',').map(str::to_owned).collect();
    if parts.len() == 1 {
        // No separator found: Java returns the input itself, even when it is empty.
        return parts;
    }
    while parts.last().is_some_and(std::string::String::is_empty) {
        parts.pop();
    }
    parts
}

/// `Strings.splitStringByCommaToArray`: `""` gives `[]`, everything else is [`java_split_comma`].
pub(crate) fn split_string_by_comma_to_array(s: &str) -> Vec<String> {
    if s.is_empty() {
        Vec::new()
    } else {
        java_split_comma(s)
    }
}

/// `Strings.isAllOrWildcard(String[])`: empty, or exactly one element that is `*` or `_all`.
pub(crate) fn is_all_or_wildcard<S: AsRef<str>>(items: &[S]) -> bool {
    items.is_empty() || (items.len() == 1 && matches!(items[0].as_ref(), "*" | "_all"))
}

/// `RestRequest.paramAsStringArrayOrEmptyIfAll`: `[]` means "all" (absent, empty, `*`, `_all`, or only
/// commas such as `","`). Everything else is literal: `abc*` stays `["abc*"]`, `a,*` is `["a", "*"]`,
/// `*,*` is `["*", "*"]`, `a,,b` is `["a", "", "b"]`, `,a` is `["", "a"]`, `a,b,` is `["a", "b"]`.
pub(crate) fn param_as_string_array_or_empty_if_all(value: Option<&str>) -> Vec<String> {
    let items = match value {
        None => return Vec::new(),
        Some(v) => split_string_by_comma_to_array(v),
    };
    if is_all_or_wildcard(&items) {
        Vec::new()
    } else {
        items
    }
}

/// `RestRequest.paramAsStringArray(key, default)` with an absent param giving `None`.
pub fn param_as_string_array(value: Option<&str>) -> Option<Vec<String>> {
    value.map(split_string_by_comma_to_array)
}

/// Java's `Character.isWhitespace` for one char.
#[allow(clippy::match_same_arms)] // the excluded spaces are spelled out, as Java's definition lists them
pub(crate) fn java_is_whitespace(c: char) -> bool {
    match c {
        // Non-breaking spaces are excluded by Java.
        '\u{00A0}' | '\u{2007}' | '\u{202F}' => false,
        '\t' | '\n' | '\u{000B}' | '\u{000C}' | '\r' | '\u{001C}'..='\u{001F}' => true,
        // SPACE_SEPARATOR, LINE_SEPARATOR, PARAGRAPH_SEPARATOR.
        ' '
        | '\u{1680}'
        | '\u{2000}'..='\u{2006}'
        | '\u{2008}'..='\u{200A}'
        | '\u{2028}'
        | '\u{2029}' => true,
        '\u{205F}' | '\u{3000}' => true,
        _ => false,
    }
}

fn has_text(s: &str) -> bool {
    s.chars().any(|c| !java_is_whitespace(c))
}

/// The `IllegalArgumentException` of `Booleans.parseBoolean`.
pub(crate) fn boolean_parse_error(value: &str) -> EsError {
    EsError::illegal_argument(format!(
        "Failed to parse value [{value}] as only [true] or [false] are allowed."
    ))
}

/// `Booleans.parseBoolean(String)`: only `true` and `false`.
pub(crate) fn parse_boolean_strict(value: &str) -> Result<bool, EsError> {
    match value {
        "true" => Ok(true),
        "false" => Ok(false),
        other => Err(boolean_parse_error(other)),
    }
}

/// `Booleans.parseBoolean(String, boolean)`: absent or blank gives the default.
pub(crate) fn parse_boolean(value: Option<&str>, default: bool) -> Result<bool, EsError> {
    match value {
        Some(v) if has_text(v) => parse_boolean_strict(v),
        _ => Ok(default),
    }
}

/// `RestRequest.paramAsBoolean(key, boolean)`: `?flag` (empty value) is `true`; blank (e.g. a space) is
/// the default; otherwise only `true`/`false`.
pub(crate) fn param_as_boolean(value: Option<&str>, default: bool) -> Result<bool, EsError> {
    match value {
        Some("") => Ok(true),
        other => parse_boolean(other, default),
    }
}

/// `RestRequest.paramAsBoolean(key, Boolean)` with a null default: absent or blank (including empty) is
/// `None`. Unlike [`param_as_boolean`], `?flag` with no value is *not* `true` here.
pub fn param_as_optional_boolean(value: Option<&str>) -> Result<Option<bool>, EsError> {
    match value {
        Some(v) if has_text(v) => parse_boolean_strict(v).map(Some),
        _ => Ok(None),
    }
}

/// `RestUtils.decodeComponent` for path segments: `%XX` decoded, `%%` is `%`, `+` is kept as `+`.
/// A value without `%` is returned unchanged. The error is the `IllegalArgumentException` message.
pub(crate) fn decode_component(s: &str) -> Result<String, String> {
    decode(s, false)
}

/// `RestUtils.decodeQueryStringParam`: like [`decode_component`] but `+` is a space.
pub(crate) fn decode_query_component(s: &str) -> Result<String, String> {
    decode(s, true)
}

fn hex_nibble(c: u16) -> Option<u8> {
    match c {
        0x30..=0x39 => Some((c - 0x30) as u8),
        0x61..=0x66 => Some((c - 0x61 + 10) as u8),
        0x41..=0x46 => Some((c - 0x41 + 10) as u8),
        _ => None,
    }
}

/// The port of `RestUtils.decode`. Java walks UTF-16 units and writes `(byte) c` for unescaped chars;
/// here an unescaped non-ASCII char contributes its UTF-8 bytes instead (a raw non-ASCII char cannot
/// reach ES through Netty undamaged anyway). Indexes in error messages count UTF-16 units, as Java's.
/// The bytes are then read as UTF-8 with replacement characters, as `new String(buf, UTF_8)` does.
fn decode(s: &str, plus_as_space: bool) -> Result<String, String> {
    if !s.chars().any(|c| c == '%' || (plus_as_space && c == '+')) {
        return Ok(s.to_owned());
    }
    let units: Vec<u16> = s.encode_utf16().collect();
    let size = units.len();
    let mut buf: Vec<u8> = Vec::with_capacity(s.len());
    let mut i = 0;
    while i < size {
        let c = units[i];
        if c == u16::from(b'+') {
            buf.push(if plus_as_space { b' ' } else { b'+' });
        } else if c == u16::from(b'%') {
            if i == size - 1 {
                return Err(format!(
                    "unterminated escape sequence at end of string: {s}"
                ));
            }
            i += 1;
            let c1 = units[i];
            if c1 == u16::from(b'%') {
                buf.push(b'%');
                i += 1;
                continue;
            } else if i == size - 1 {
                return Err(format!("partial escape sequence at end of string: {s}"));
            }
            i += 1;
            let c2 = units[i];
            if let (Some(h), Some(l)) = (hex_nibble(c1), hex_nibble(c2)) {
                buf.push(h * 16 + l);
            } else {
                let shown = String::from_utf16_lossy(&[c1, c2]);
                return Err(format!(
                    "invalid escape sequence `%{shown}' at index {} of: {s}",
                    i - 2
                ));
            }
        } else {
            // Re-encode this char (and its surrogate pair partner) as UTF-8.
            let end = if (0xD800..0xDC00).contains(&c) && i + 1 < size {
                i + 2
            } else {
                i + 1
            };
            let text = String::from_utf16_lossy(&units[i..end]);
            buf.extend_from_slice(text.as_bytes());
            i = end;
            continue;
        }
        i += 1;
    }
    Ok(String::from_utf8_lossy(&buf).into_owned())
}

/// Lucene's `LevenshteinDistance.getDistance`: a similarity in `[0, 1]` (1 = equal), computed on UTF-16
/// units in `f32`, as `1 - distance / max(len)`.
pub(crate) fn lucene_levenshtein(target: &str, other: &str) -> f32 {
    let sa: Vec<u16> = target.encode_utf16().collect();
    let ot: Vec<u16> = other.encode_utf16().collect();
    let n = sa.len();
    let m = ot.len();
    if n == 0 || m == 0 {
        return if n == m { 1.0 } else { 0.0 };
    }
    let mut p: Vec<usize> = (0..=n).collect();
    let mut d: Vec<usize> = vec![0; n + 1];
    for j in 1..=m {
        let t_j = ot[j - 1];
        d[0] = j;
        for i in 1..=n {
            let cost = usize::from(sa[i - 1] != t_j);
            d[i] = (d[i - 1] + 1).min(p[i] + 1).min(p[i - 1] + cost);
        }
        std::mem::swap(&mut p, &mut d);
    }
    1.0f32 - (p[n] as f32 / n.max(m) as f32)
}

/// `BaseRestHandler.unrecognized(request, invalids, candidates, detail)`. `invalids` are used in the
/// given order (ES passes a sorted set); candidates are deduplicated.
pub(crate) fn unrecognized_message<S: AsRef<str>, C: AsRef<str>>(
    path: &str,
    invalids: &[S],
    candidates: &[C],
    detail: &str,
) -> String {
    let mut cands: Vec<&str> = candidates.iter().map(AsRef::as_ref).collect();
    cands.sort_unstable();
    cands.dedup();
    let mut msg = format!(
        "request [{path}] contains unrecognized {detail}{}: ",
        if invalids.len() > 1 { "s" } else { "" }
    );
    for (idx, invalid) in invalids.iter().enumerate() {
        let invalid = invalid.as_ref();
        let mut scored: Vec<(f32, &str)> = cands
            .iter()
            .map(|c| (lucene_levenshtein(invalid, c), *c))
            .filter(|(score, _)| *score > 0.5)
            .collect();
        scored.sort_by(|a, b| b.0.total_cmp(&a.0).then_with(|| a.1.cmp(b.1)));
        msg.push('[');
        msg.push_str(invalid);
        msg.push(']');
        if !scored.is_empty() {
            msg.push_str(" -> did you mean ");
            if scored.len() > 1 {
                msg.push_str("any of ");
            }
            let names: Vec<&str> = scored.iter().map(|(_, c)| *c).collect();
            msg.push('[');
            msg.push_str(&names.join(", "));
            msg.push_str("]?");
        }
        if idx + 1 < invalids.len() {
            msg.push_str(", ");
        }
    }
    msg
}

/// The unconsumed-parameter check of `BaseRestHandler.handleRequest`, over a request's query parameter
/// names. `consumed` are the parameters the handler read (include the path parameter names it read:
/// ES puts path parameters into the same map, so a query parameter of the same name is consumed with
/// them); `response_params` are the handler's `responseParams()`. [`GLOBAL_PARAMS`] are always accepted.
/// `path` is the decoded request path (`RestRequest.path()`), without the query string.
pub(crate) fn check_unconsumed<K: AsRef<str>>(
    path: &str,
    query_keys: &[K],
    consumed: &[&str],
    response_params: &[&str],
) -> Result<(), EsError> {
    let mut unconsumed: Vec<&str> = query_keys
        .iter()
        .map(AsRef::as_ref)
        .filter(|k| {
            !consumed.contains(k) && !response_params.contains(k) && !GLOBAL_PARAMS.contains(k)
        })
        .collect();
    if unconsumed.is_empty() {
        return Ok(());
    }
    unconsumed.sort_unstable();
    unconsumed.dedup();
    let mut candidates: Vec<&str> = consumed.to_vec();
    candidates.extend_from_slice(GLOBAL_PARAMS);
    candidates.extend_from_slice(response_params);
    Err(EsError::illegal_argument(unrecognized_message(
        path,
        &unconsumed,
        &candidates,
        "parameter",
    )))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn v(items: &[&str]) -> Vec<String> {
        items.iter().map(ToString::to_string).collect()
    }

    #[test]
    fn java_split_keeps_inner_and_leading_empties_drops_trailing() {
        assert_eq!(java_split_comma("a,,b"), v(&["a", "", "b"]));
        assert_eq!(java_split_comma("a,b,"), v(&["a", "b"]));
        assert_eq!(java_split_comma("a,b,,,"), v(&["a", "b"]));
        assert_eq!(java_split_comma(",a"), v(&["", "a"]));
        assert_eq!(java_split_comma(""), v(&[""]));
        assert_eq!(java_split_comma(","), Vec::<String>::new());
        assert_eq!(java_split_comma(",,"), Vec::<String>::new());
        assert_eq!(java_split_comma(" a , b "), v(&[" a ", " b "]));
        assert_eq!(split_string_by_comma_to_array(""), Vec::<String>::new());
    }

    #[test]
    fn string_array_or_empty_if_all() {
        let f = |s: &str| param_as_string_array_or_empty_if_all(Some(s));
        assert_eq!(
            param_as_string_array_or_empty_if_all(None),
            Vec::<String>::new()
        );
        assert_eq!(f(""), Vec::<String>::new());
        assert_eq!(f("*"), Vec::<String>::new());
        assert_eq!(f("_all"), Vec::<String>::new());
        assert_eq!(f(","), Vec::<String>::new());
        assert_eq!(f("*,"), Vec::<String>::new());
        assert_eq!(f("a,*"), v(&["a", "*"]));
        assert_eq!(f("*,*"), v(&["*", "*"]));
        assert_eq!(f("*,_all"), v(&["*", "_all"]));
        assert_eq!(f("abc*"), v(&["abc*"]));
        assert_eq!(f("a,,b"), v(&["a", "", "b"]));
        assert_eq!(f("a,b,"), v(&["a", "b"]));
        assert_eq!(f(",a"), v(&["", "a"]));
        assert_eq!(f("_ALL"), v(&["_ALL"]));
        assert_eq!(f(" *"), v(&[" *"]));
    }

    #[test]
    fn booleans_like_es() {
        assert!(!param_as_boolean(None, false).unwrap());
        assert!(param_as_boolean(None, true).unwrap());
        assert!(param_as_boolean(Some(""), false).unwrap());
        assert!(!param_as_boolean(Some("  "), false).unwrap());
        assert!(param_as_boolean(Some("true"), false).unwrap());
        assert!(!param_as_boolean(Some("false"), true).unwrap());
        let e = param_as_boolean(Some("TRUE"), false).unwrap_err();
        assert_eq!(e.kind, "illegal_argument_exception");
        assert_eq!(
            e.reason,
            "Failed to parse value [TRUE] as only [true] or [false] are allowed."
        );
        assert_eq!(e.status, 400);
        assert!(param_as_boolean(Some("1"), false).is_err());
        assert!(param_as_boolean(Some("yes"), false).is_err());
        assert_eq!(param_as_optional_boolean(Some("")).unwrap(), None);
        assert_eq!(
            param_as_optional_boolean(Some("false")).unwrap(),
            Some(false)
        );
        assert!(param_as_optional_boolean(Some("no")).is_err());
    }

    #[test]
    fn path_decoding() {
        assert_eq!(decode_component("a%2Cb").unwrap(), "a,b");
        assert_eq!(decode_component("a+b").unwrap(), "a+b");
        assert_eq!(decode_query_component("a+b").unwrap(), "a b");
        assert_eq!(decode_component("%2F").unwrap(), "/");
        assert_eq!(decode_component("100%%").unwrap(), "100%");
        assert_eq!(decode_component("%C3%A9").unwrap(), "é");
        assert_eq!(decode_component("é%20x").unwrap(), "é x");
        assert_eq!(decode_component("").unwrap(), "");
        assert_eq!(decode_component("%2a").unwrap(), "*");
        assert_eq!(
            decode_component("%").unwrap_err(),
            "unterminated escape sequence at end of string: %"
        );
        assert_eq!(
            decode_component("ab%4").unwrap_err(),
            "partial escape sequence at end of string: ab%4"
        );
        assert_eq!(
            decode_component("ab%ZZcd").unwrap_err(),
            "invalid escape sequence `%ZZ' at index 2 of: ab%ZZcd"
        );
        // Invalid UTF-8 after decoding becomes U+FFFD, as Java's `new String(bytes, UTF_8)`.
        assert_eq!(decode_component("%FF").unwrap(), "\u{FFFD}");
    }

    #[test]
    #[allow(clippy::float_cmp)] // Lucene returns exactly 1.0 and 0.0 for these
    fn levenshtein_matches_lucene() {
        assert_eq!(lucene_levenshtein("abc", "abc"), 1.0);
        assert_eq!(lucene_levenshtein("", ""), 1.0);
        assert_eq!(lucene_levenshtein("a", ""), 0.0);
        assert!((lucene_levenshtein("id", "ids") - (1.0 - 1.0 / 3.0)).abs() < 1e-6);
    }

    #[test]
    fn unrecognized_parameters() {
        let e = check_unconsumed("/_security/api_key", &["id", "refresh"], &["refresh"], &[])
            .unwrap_err();
        assert_eq!(e.kind, "illegal_argument_exception");
        assert_eq!(e.status, 400);
        assert_eq!(
            e.reason,
            "request [/_security/api_key] contains unrecognized parameter: [id]"
        );

        let e = check_unconsumed("/_security/api_key/x/_clear_cache", &["idz"], &["ids"], &[])
            .unwrap_err();
        assert_eq!(
            e.reason,
            "request [/_security/api_key/x/_clear_cache] contains unrecognized parameter: [idz] -> did you mean [ids]?"
        );

        let e = check_unconsumed("/p", &["zzz", "prety"], &[], &[]).unwrap_err();
        assert_eq!(e.reason, "request [/p] contains unrecognized parameters: [prety] -> did you mean [pretty]?, [zzz]");

        let e = check_unconsumed("/p", &["nam"], &["name", "namespace"], &["nama", "nsme"])
            .unwrap_err();
        assert_eq!(e.reason, "request [/p] contains unrecognized parameter: [nam] -> did you mean any of [nama, name]?");

        assert!(check_unconsumed(
            "/p",
            &["pretty", "error_trace", "filter_path", "human", "format"],
            &[],
            &[]
        )
        .is_ok());
        assert!(check_unconsumed::<&str>("/p", &[], &[], &[]).is_ok());
    }
}
