//! The Content-Type check `RestController.dispatchRequest` makes once a handler is found
//! (`server/src/main/java/org/elasticsearch/rest/RestController.java`, `SAFELISTED_MEDIA_TYPES`), against
//! the media types of `XContentType` (`libs/x-content/src/main/java/org/elasticsearch/xcontent/XContentType.java`).

use crate::rest::request::Request;
use crate::rest::response::Response;

/// Media types ES's `XContentType` registry knows (`application/vnd.elasticsearch+*` is what the
/// official clients send, with `compatible-with=N`; the version parameter is not checked here).
const KNOWN_MEDIA_TYPES: &[&str] = &[
    "application/json",
    "application/x-ndjson",
    "application/smile",
    "application/yaml",
    "application/cbor",
    "application/vnd.elasticsearch+json",
    "application/vnd.elasticsearch+x-ndjson",
    "application/vnd.elasticsearch+smile",
    "application/vnd.elasticsearch+yaml",
    "application/vnd.elasticsearch+cbor",
];

/// `RestController.SAFELISTED_MEDIA_TYPES`, always refused (CSRF protection).
const SAFELISTED_MEDIA_TYPES: &[&str] = &[
    "application/x-www-form-urlencoded",
    "multipart/form-data",
    "text/plain",
];

/// The Content-Type check ES makes once a handler is found, for a request with a non-empty body: none
/// gives 406 `Content-Type header is missing`; a browser-safelisted or unknown media type gives 406
/// `Content-Type header [<v>] is not supported` (values joined with ","). Simplification: a header
/// that does not even parse as a media type, or several Content-Type headers, also get the 406 (ES
/// answers those with a 400 `media_type_header_exception`). `None` means acceptable.
pub fn check_content_type(req: &Request) -> Option<Response> {
    if !req.has_content() {
        return None;
    }
    let values = req.header_values("Content-Type");
    if values.is_empty() {
        return Some(Response::simple_error(
            406,
            "Content-Type header is missing",
            true,
        ));
    }
    let media = values[0]
        .split(';')
        .next()
        .unwrap_or("")
        .trim()
        .to_ascii_lowercase();
    let ok = values.len() == 1
        && !SAFELISTED_MEDIA_TYPES.contains(&media.as_str())
        && KNOWN_MEDIA_TYPES.contains(&media.as_str());
    if ok {
        None
    } else {
        Some(Response::simple_error(
            406,
            &format!(
                "Content-Type header [{}] is not supported",
                values.join(",")
            ),
            true,
        ))
    }
}
