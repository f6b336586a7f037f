//! Tests of the request-body reader: values, Jackson messages and locations, redaction.

use super::messages::{SOURCE, VALID_VALUES};
use super::*;
use crate::rest::request::{Method, Request};
use serde_json::json;

fn perr(body: &str) -> EsError {
    parse_json_object(body.as_bytes(), "api_key_request").unwrap_err()
}

fn source(l: usize, c: usize) -> String {
    format!("\n at [Source: {SOURCE}; line: {l}, column: {c}]")
}

#[test]
fn parses_objects_in_order() {
    let b = parse_json_object(
        br#"{"z":1,"a":{"y":[1,2.5,"x",true,null],"b":-3}} trailing"#,
        "p",
    )
    .unwrap();
    assert_eq!(
        serde_json::to_string(&b.value).unwrap(),
        r#"{"z":1,"a":{"y":[1,2.5,"x",true,null],"b":-3}}"#
    );
    assert_eq!(b.key_location("/a"), Some(Location { line: 1, column: 8 }));
    assert_eq!(
        b.value_location("/a"),
        Some(Location {
            line: 1,
            column: 12
        })
    );
    assert_eq!(
        b.value_location("/a/y/2"),
        Some(Location {
            line: 1,
            column: 24
        })
    );
    assert_eq!(b.value_location(""), Some(Location { line: 1, column: 1 }));
    let b = parse_json_object(b"{\"a\":\"\\u00e9\\ud83d\\ude00\\n\"}", "p").unwrap();
    assert_eq!(b.value, json!({"a": "é😀\n"}));
    let b = parse_json_object(
        b"{\"n\":18446744073709551615,\"m\":-9223372036854775808,\"e\":1e3}",
        "p",
    )
    .unwrap();
    assert_eq!(b.value["n"], json!(18_446_744_073_709_551_615_u64));
    assert_eq!(b.value["m"], json!(i64::MIN));
    assert_eq!(b.value["e"], json!(1000.0));
}

#[test]
fn comments_are_allowed() {
    let b = parse_json_object(b"/* c */ {\"a\": 1 // x\n , \"b\": 2}", "p").unwrap();
    assert_eq!(b.value, json!({"a": 1, "b": 2}));
}

#[test]
fn malformed_json_is_x_content_parse_exception_with_json_cause() {
    let e = perr("{ name: 1 }");
    assert_eq!(e.kind, "x_content_parse_exception");
    assert_eq!(e.status, 400);
    let msg =
        "Unexpected character ('n' (code 110)): was expecting double-quote to start field name";
    assert_eq!(e.reason, format!("[1:4] {msg}{}", source(1, 4)));
    let cause = e.caused_by.as_ref().unwrap();
    assert_eq!(cause.kind, "json_parse_exception");
    assert_eq!(cause.reason, format!("{msg}{}", source(1, 4)));
    // The root cause is the x-content exception itself.
    let body = e.to_body();
    assert_eq!(
        body["error"]["root_cause"][0]["type"],
        "x_content_parse_exception"
    );
    assert_eq!(body["error"]["caused_by"]["type"], "json_parse_exception");

    assert!(perr("{\"a\":1,}").reason.starts_with(
        "[1:9] Unexpected character ('}' (code 125)): was expecting double-quote to start field name"
    ));
    assert!(perr("{\"a\":1 \"b\":2}")
        .reason
        .starts_with("[1:9] Unexpected character ('\"' (code 34)): was expecting comma to separate Object entries"));
    assert!(perr("{\"a\" 1}").reason.starts_with(
        "[1:7] Unexpected character ('1' (code 49)): was expecting a colon to separate field name and value"
    ));
    assert!(perr("{\"a\":[1 2]}")
        .reason
        .starts_with("[1:10] Unexpected character ('2' (code 50)): was expecting comma to separate Array entries"));
    assert!(perr("{\"a\":tru}").reason.starts_with(&format!(
        "[1:10] Unrecognized token 'tru': was expecting {VALID_VALUES}"
    )));
    assert!(perr("{\"a\":}")
        .reason
        .starts_with("[1:7] Unexpected character ('}' (code 125)): expected a value"));
    assert!(perr("{\"a\":[1,]}")
        .reason
        .starts_with("[1:10] Unexpected character (']' (code 93)): expected a value"));
    assert!(perr("{\"a\":01}")
        .reason
        .starts_with("[1:8] Invalid numeric value: Leading zeroes not allowed"));
    assert!(perr("{\"a\":\"x\ny\"}").reason.starts_with(
        "[1:9] Illegal unquoted character ((CTRL-CHAR, code 10)): has to be escaped using backslash to be included in string value"
    ));
    assert!(perr("{\"a\":\"\\q\"}")
        .reason
        .starts_with("[1:9] Unrecognized character escape 'q' (code 113)"));
    assert!(perr("{\"a\":1]")
        .reason
        .starts_with("[1:8] Unexpected close marker ']': expected '}' (for Object starting at"));
    // Line counting.
    assert!(perr("{\n  \"a\": 1,\n  b\n}")
        .reason
        .starts_with("[3:4] Unexpected character ('b'"));
}

#[test]
fn duplicate_keys_are_rejected() {
    let e = perr(r#"{"name":"a","name":"b"}"#);
    assert_eq!(e.kind, "x_content_parse_exception");
    assert!(
        e.reason.starts_with("[1:19] Duplicate field 'name'"),
        "{}",
        e.reason
    );
}

#[test]
fn truncated_json_is_eof() {
    let e = perr(r#"{"name":"a""#);
    assert_eq!(e.kind, "x_content_e_o_f_exception");
    assert_eq!(e.reason, "[1:12] Unexpected end of file");
    let cause = e.caused_by.as_ref().unwrap();
    assert_eq!(cause.kind, "json_e_o_f_exception");
    assert!(cause.reason.starts_with(
        "Unexpected end-of-input: expected close marker for Object (start marker at [Source: "
    ));
    assert_eq!(
        e.to_body()["error"]["root_cause"][0]["type"],
        "x_content_e_o_f_exception"
    );
    assert_eq!(perr(r#"{"name":"a"#).kind, "x_content_e_o_f_exception");
    assert_eq!(perr(r#"{"name""#).kind, "x_content_e_o_f_exception");
}

#[test]
fn root_must_be_an_object() {
    let e = perr(r#"["a"]"#);
    assert_eq!(e.kind, "x_content_parse_exception");
    assert_eq!(
        e.reason,
        "[1:1] [api_key_request] Expected START_OBJECT but was: START_ARRAY"
    );
    assert!(e.caused_by.is_none());
    assert_eq!(
        perr(r#"  "a""#).reason,
        "[1:3] [api_key_request] Expected START_OBJECT but was: VALUE_STRING"
    );
    assert_eq!(
        perr("12").reason,
        "[1:1] [api_key_request] Expected START_OBJECT but was: VALUE_NUMBER"
    );
    assert_eq!(
        perr("true").reason,
        "[1:1] [api_key_request] Expected START_OBJECT but was: VALUE_BOOLEAN"
    );
    assert_eq!(
        perr("null").reason,
        "[1:1] [api_key_request] Expected START_OBJECT but was: VALUE_NULL"
    );
    assert_eq!(
        perr("  ").reason,
        "[1:3] [api_key_request] Expected START_OBJECT but was: null"
    );
    assert!(perr("xyz")
        .reason
        .starts_with("[1:4] Unrecognized token 'xyz'"));
}

#[test]
fn nesting_limit() {
    let deep = format!("{{\"a\":{}1{}}}", "[".repeat(1000), "]".repeat(1000));
    let e = perr(&deep);
    assert_eq!(e.kind, "x_content_parse_exception");
    assert_eq!(
        e.caused_by.as_ref().unwrap().kind,
        "stream_constraints_exception"
    );
    assert!(e
        .reason
        .contains("Document nesting depth (1001) exceeds the maximum allowed (1000"));
    let ok = format!("{{\"a\":{}1{}}}", "[".repeat(999), "]".repeat(999));
    assert!(parse_json_object(ok.as_bytes(), "p").is_ok());
}

/// `{"a": [[...[0,0,...]...]]}`: `depth` nested arrays around `zeros` zeros.
fn nested_zeros(depth: usize, zeros: usize) -> String {
    let mut s = String::with_capacity(2 * depth + 2 * zeros + 8);
    s.push_str("{\"a\":");
    s.push_str(&"[".repeat(depth));
    for i in 0..zeros {
        if i > 0 {
            s.push(',');
        }
        s.push('0');
    }
    s.push_str(&"]".repeat(depth));
    s.push('}');
    s
}

#[test]
fn issue8_d08_nested_two_megabyte_body_parses_without_per_value_paths() {
    // The body of the report: a million zeros in 990 nested arrays (2 MB).
    let body = nested_zeros(990, 1_000_000);
    assert!(body.len() > 2_000_000);
    let b = parse_json_object(body.as_bytes(), "p").unwrap();
    let mut v = &b.value["a"];
    for _ in 0..989 {
        let a = v.as_array().unwrap();
        assert_eq!(a.len(), 1);
        v = &a[0];
    }
    let zeros = v.as_array().unwrap();
    assert_eq!(zeros.len(), 1_000_000);
    assert!(zeros.iter().all(|z| *z == json!(0)));
    // Locations are still there when an error needs one, found by reading the body again.
    let deep = format!("/a{}", "/0".repeat(990));
    assert_eq!(
        b.value_location(&deep),
        Some(Location {
            line: 1,
            column: 6 + 990
        })
    );
    let last = format!("/a{}/999999", "/0".repeat(989));
    assert_eq!(
        b.value_location(&last),
        Some(Location {
            line: 1,
            column: 6 + 990 + 2 * 999_999
        })
    );
    assert_eq!(b.value_location("/a/1"), None);
    assert_eq!(b.key_location("/a"), Some(Location { line: 1, column: 2 }));
    // One level past Elasticsearch's limit is its nesting error, whatever the size.
    let e = perr(&nested_zeros(1000, 1_000_000));
    assert_eq!(
        e.caused_by.as_ref().unwrap().kind,
        "stream_constraints_exception"
    );
    assert!(e
        .reason
        .contains("Document nesting depth (1001) exceeds the maximum allowed (1000"));
}

#[test]
fn issue8_d08_large_flat_body_parses() {
    let mut body = String::from("{");
    for i in 0..100_000 {
        if i > 0 {
            body.push(',');
        }
        body.push_str(&format!("\"k{i}\":{{\"v\":[{i},\"s{i}\"]}}"));
    }
    body.push('}');
    let b = parse_json_object(body.as_bytes(), "p").unwrap();
    let m = b.value.as_object().unwrap();
    assert_eq!(m.len(), 100_000);
    assert_eq!(m["k99999"], json!({"v": [99999, "s99999"]}));
    let key_at = body.find("\"k50000\"").unwrap();
    assert_eq!(
        b.key_location("/k50000"),
        Some(Location {
            line: 1,
            column: key_at + 1
        })
    );
    assert_eq!(
        b.value_location("/k50000/v/1"),
        Some(Location {
            line: 1,
            column: body.find("\"s50000\"").unwrap() + 1
        })
    );
}

#[test]
fn pointers_with_escapes_and_non_index_segments() {
    let b = parse_json_object(br#"{"a/b":{"~":[1,{"0":2}]}}"#, "p").unwrap();
    assert_eq!(
        b.value_location("/a~1b/~0/1/0"),
        Some(Location {
            line: 1,
            column: 21
        })
    );
    assert_eq!(b.value_location("/a~1b/~0/01"), None);
    assert_eq!(b.value_location("no-slash"), None);
    assert_eq!(b.key_location(""), None);
}

#[test]
fn numbers_beyond_double_or_too_long_are_refused() {
    // `null` would read as "absent" (an expiration never set); ES keeps the number's text.
    let e = perr(r#"{"expiration":1e400}"#);
    assert_eq!(e.kind, "x_content_parse_exception");
    assert!(
        e.reason
            .starts_with("[1:15] Numeric value (1e400) out of range of double"),
        "{}",
        e.reason
    );
    let long = format!("{{\"a\":{}}}", "1".repeat(1001));
    let e = perr(&long);
    assert_eq!(
        e.caused_by.as_ref().unwrap().kind,
        "stream_constraints_exception"
    );
    assert!(e.reason.contains("Number value length (1001) exceeds"));
    assert!(parse_json_object(format!("{{\"a\":{}}}", "1".repeat(300)).as_bytes(), "p").is_ok());
}

#[test]
fn credential_tokens_are_not_echoed() {
    let e = perr(r#"{"password": hunter2xyz}"#);
    assert!(
        e.reason.contains("Unrecognized token '::es_redacted::'"),
        "{}",
        e.reason
    );
    assert!(!format!("{:?}", e.to_body()).contains("hunter2xyz"));
    let e = perr(r#"{"password_hash": 1e999999}"#);
    assert!(!e.to_body().to_string().contains("1e999999"));
    // Other fields keep Jackson's text.
    assert!(perr(r#"{"name": hunter2xyz}"#)
        .reason
        .contains("Unrecognized token 'hunter2xyz'"));
}

#[test]
fn missing_body_is_parse_exception() {
    let r = Request::build(Method::Post, "/_security/api_key").unwrap();
    let e = parse_json_body(&r, "api_key_request").unwrap_err();
    assert_eq!(e.kind, "parse_exception");
    assert_eq!(e.reason, "request body is required");
    assert_eq!(e.status, 400);
    let r = r.with_body(Vec::new());
    assert_eq!(
        parse_json_body(&r, "api_key_request").unwrap_err().reason,
        "request body is required"
    );
    assert_eq!(parse_optional_json_body(&r, "x").unwrap(), None);
    let r = Request::build(Method::Post, "/_security/api_key")
        .unwrap()
        .with_body(br#"{"name":"k"}"#.to_vec());
    assert_eq!(
        parse_json_body(&r, "api_key_request").unwrap(),
        json!({"name": "k"})
    );
}

#[test]
fn helper_errors() {
    let e = x_content_parse_error(
        Some(Location { line: 1, column: 2 }),
        "[api_key_request] unknown field [nam]",
    );
    assert_eq!(e.reason, "[1:2] [api_key_request] unknown field [nam]");
    assert_eq!(
        e.to_body()["error"]["root_cause"][0]["type"],
        "x_content_parse_exception"
    );
    assert_eq!(pointer_child("/a", "b/c~d"), "/a/b~1c~0d");
}
