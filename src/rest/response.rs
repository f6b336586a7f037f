//! A REST response: status, headers, JSON body.
//!
//! Every response carries `X-Elastic-Product: Elasticsearch` (ES adds `X-elastic-product` in
//! `RestController.dispatchRequest`/`dispatchBadRequest`; the spelling here is escache's own,
//! and header names are case-insensitive in HTTP) and `Content-Type: application/json`.
//!
//! A body of `Value::Null` means *no body* (HEAD answers, OPTIONS answers): [`Response::body_bytes`] is
//! empty then. ES never sends a bare JSON `null`.

use crate::error::EsError;
use indexmap::IndexMap;
use serde_json::{json, Value};

pub const PRODUCT_HEADER: &str = "X-Elastic-Product";
pub const PRODUCT_HEADER_VALUE: &str = "Elasticsearch";
pub const CONTENT_TYPE_JSON: &str = "application/json";
/// `RestResponse.TEXT_CONTENT_TYPE`, used by ES for the empty OPTIONS answer.
pub const CONTENT_TYPE_TEXT: &str = "text/plain; charset=UTF-8";

#[derive(Debug, Clone, PartialEq)]
pub struct Response {
    pub status: u16,
    /// Header names as set; several values of one header are joined with `", "` (HTTP list syntax).
    pub headers: IndexMap<String, String>,
    pub body: Value,
}

impl Response {
    /// A response with the standard headers.
    pub fn new(status: u16, body: Value) -> Self {
        let mut headers = IndexMap::new();
        headers.insert(PRODUCT_HEADER.to_owned(), PRODUCT_HEADER_VALUE.to_owned());
        headers.insert("Content-Type".to_owned(), CONTENT_TYPE_JSON.to_owned());
        Response {
            status,
            headers,
            body,
        }
    }

    /// 200 with a JSON body.
    pub fn ok(body: Value) -> Self {
        Response::new(200, body)
    }

    /// A status without a body (e.g. `HEAD /`).
    pub fn empty(status: u16) -> Self {
        Response::new(status, Value::Null)
    }

    /// ES's error body for an exception (`{"error":{"root_cause":[..],..},"status":N}`), with the status
    /// of the error and its headers (e.g. `WWW-Authenticate`) copied as HTTP headers, as `RestResponse`
    /// does. Several values of one header are joined with `", "`.
    pub fn from_error(err: &EsError) -> Self {
        let mut r = Response::new(err.status, err.to_body());
        for (name, values) in &err.headers {
            if !values.is_empty() {
                r.add_header(name, &values.join(", "));
            }
        }
        r
    }

    /// `RestResponse.createSimpleErrorResponse` (`{"error":"<msg>","status":N}`) when `with_status_field`,
    /// else the `{"error":"<msg>"}` of `RestController.handleBadRequest` (unknown route).
    pub fn simple_error(status: u16, msg: &str, with_status_field: bool) -> Self {
        let body = if with_status_field {
            json!({"error": msg, "status": status})
        } else {
            json!({"error": msg})
        };
        Response::new(status, body)
    }

    /// Sets a header, replacing any value under the same (case-insensitive) name.
    pub fn set_header(&mut self, name: &str, value: &str) {
        match self
            .headers
            .keys()
            .position(|k| k.eq_ignore_ascii_case(name))
        {
            Some(i) => {
                if let Some((_, v)) = self.headers.get_index_mut(i) {
                    *v = value.to_owned();
                }
            }
            None => {
                self.headers.insert(name.to_owned(), value.to_owned());
            }
        }
    }

    /// Adds a header value; an existing header of that name gets `", "` and the value appended.
    pub fn add_header(&mut self, name: &str, value: &str) {
        match self
            .headers
            .keys()
            .position(|k| k.eq_ignore_ascii_case(name))
        {
            Some(i) => {
                if let Some((_, v)) = self.headers.get_index_mut(i) {
                    v.push_str(", ");
                    v.push_str(value);
                }
            }
            None => {
                self.headers.insert(name.to_owned(), value.to_owned());
            }
        }
    }

    pub fn with_header(mut self, name: &str, value: &str) -> Self {
        self.set_header(name, value);
        self
    }

    /// A header by case-insensitive name.
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }

    /// What goes on the wire for a request of `method`: for HEAD, the status and headers without the
    /// body (ES's HTTP layer never sends a body to a HEAD request, errors included).
    pub fn for_method(mut self, method: super::request::Method) -> Self {
        if method == super::request::Method::Head {
            self.body = Value::Null;
        }
        self
    }

    /// The body as sent: compact JSON, or nothing for `Value::Null`.
    pub fn body_bytes(&self) -> Vec<u8> {
        if self.body.is_null() {
            Vec::new()
        } else {
            serde_json::to_vec(&self.body).unwrap_or_default()
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_response_has_product_and_content_type() {
        for r in [
            Response::ok(json!({})),
            Response::empty(200),
            Response::simple_error(400, "x", false),
        ] {
            assert_eq!(r.header("x-elastic-product"), Some("Elasticsearch"));
            assert_eq!(r.header("content-type"), Some("application/json"));
            assert_eq!(
                r.headers.get("X-Elastic-Product").map(String::as_str),
                Some("Elasticsearch")
            );
        }
    }

    #[test]
    fn error_response_copies_status_and_challenge_headers() {
        let e = EsError::security(
            "missing authentication credentials for REST request [/?pretty]",
            401,
        )
        .with_header(
            "WWW-Authenticate",
            vec![
                "Basic realm=\"security\", charset=\"UTF-8\"".into(),
                "ApiKey".into(),
            ],
        );
        let r = Response::from_error(&e);
        assert_eq!(r.status, 401);
        assert_eq!(
            r.header("www-authenticate"),
            Some("Basic realm=\"security\", charset=\"UTF-8\", ApiKey")
        );
        assert_eq!(r.body, e.to_body());
        assert_eq!(r.body["status"], 401);
        assert_eq!(r.header("X-Elastic-Product"), Some("Elasticsearch"));
    }

    #[test]
    fn simple_errors() {
        let r = Response::simple_error(405, "Incorrect HTTP method", true);
        assert_eq!(
            r.body_bytes(),
            br#"{"error":"Incorrect HTTP method","status":405}"#
        );
        let r = Response::simple_error(
            400,
            "no handler found for uri [/x?y] and method [GET]",
            false,
        );
        assert_eq!(r.status, 400);
        assert_eq!(
            r.body_bytes(),
            br#"{"error":"no handler found for uri [/x?y] and method [GET]"}"#
        );
    }

    #[test]
    fn body_bytes_compact_and_ordered_and_empty_for_null() {
        let r = Response::ok(json!({"z": 1, "a": [1, {"b": null}]}));
        assert_eq!(r.body_bytes(), br#"{"z":1,"a":[1,{"b":null}]}"#);
        assert!(Response::empty(200).body_bytes().is_empty());
    }

    #[test]
    fn head_answers_have_no_body() {
        use crate::rest::request::Method;
        let r = Response::simple_error(
            400,
            "no handler found for uri [/x] and method [HEAD]",
            false,
        );
        let head = r.clone().for_method(Method::Head);
        assert_eq!(head.status, 400);
        assert!(head.body_bytes().is_empty());
        assert_eq!(head.header("X-Elastic-Product"), Some("Elasticsearch"));
        assert_eq!(r.clone().for_method(Method::Get), r);
    }

    #[test]
    fn header_set_and_add() {
        let mut r = Response::ok(json!({}));
        r.set_header("content-type", "text/plain; charset=UTF-8");
        assert_eq!(r.header("Content-Type"), Some("text/plain; charset=UTF-8"));
        assert_eq!(r.headers.len(), 2);
        r.add_header("Warning", "a");
        r.add_header("warning", "b");
        assert_eq!(r.header("WARNING"), Some("a, b"));
    }
}
