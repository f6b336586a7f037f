//! escache's request-body parser (`rest::body`, Jackson's dialect) against serde_json.
//!
//! Oracle (fuzz/src/json.rs lists the dialect differences it allows):
//! - when escache accepts a body, serde_json accepts the same body rewritten to RFC 8259, and both
//!   values are equal; the value nests at most 1000 deep and has no duplicate key;
//! - when serde_json accepts a whole document whose root is an object, with no duplicate key, at
//!   most 1000 levels and no number longer than 1000 characters, escache accepts it too, with the
//!   same value;
//! - a rejection is a 400 x-content error whose `reason` starts with its `[line:col]` location.
#![no_main]

use escache::rest::body::parse_json_object;
use escache_fuzz::json::{
    depth, has_duplicate_key, longest_number, same_value, serde_document, serde_first_value,
    to_rfc8259, MAX_DEPTH, MAX_NUMBER_LEN,
};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let ours = parse_json_object(data, "fuzz_request");
    match &ours {
        Ok(parsed) => {
            let v = &parsed.value;
            assert!(v.is_object(), "escache accepted a non-object root: {v}");
            assert!(
                depth(v) <= MAX_DEPTH,
                "escache accepted nesting deeper than {MAX_DEPTH}"
            );
            let rewritten = to_rfc8259(data);
            let theirs = serde_first_value(&rewritten).unwrap_or_else(|e| {
                panic!(
                    "escache accepted, serde_json refused: {e}\nrewritten: {:?}",
                    String::from_utf8_lossy(&rewritten)
                )
            });
            assert!(
                same_value(v, &theirs),
                "values differ:\nescache:    {v}\nserde_json: {theirs}"
            );
            assert!(
                !has_duplicate_key(&rewritten),
                "escache accepted a duplicate key"
            );
        }
        Err(e) => {
            assert_eq!(e.status, 400, "a body error must be 400: {e:?}");
            assert!(
                matches!(
                    e.kind.as_str(),
                    "x_content_parse_exception" | "x_content_e_o_f_exception"
                ),
                "unexpected error type {}",
                e.kind
            );
            assert!(e.reason.starts_with('['), "no location in {:?}", e.reason);
        }
    }
    if let Ok(theirs) = serde_document(data) {
        if theirs.is_object()
            && depth(&theirs) <= MAX_DEPTH
            && !has_duplicate_key(data)
            && longest_number(data) <= MAX_NUMBER_LEN
        {
            match &ours {
                Ok(parsed) => assert!(
                    same_value(&parsed.value, &theirs),
                    "values differ:\nescache:    {}\nserde_json: {theirs}",
                    parsed.value
                ),
                Err(e) => panic!("serde_json accepted an RFC 8259 object, escache refused: {e:?}"),
            }
        }
    }
});
