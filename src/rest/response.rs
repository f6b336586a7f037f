//! A REST response: status, headers, JSON body.
//!
//! Every response carries `X-Elastic-Product: Elasticsearch` (ES adds `X-elastic-product` in
//! `RestController.dispatchRequest`/`dispatchBadRequest`; the spelling here is escache's own,
//! and header names are case-insensitive in HTTP) and `Content-Type: application/json`.
//!
//! Headers are a list of fields, one `(name, value)` pair per field as sent on the wire: a header
//! with several values (the three `WWW-Authenticate` challenges of a 401) is several fields of the
//! same name, as Elasticsearch's HTTP layer sends them (`Netty4HttpResponse` adds one field per
//! value), never one field joined with `", "`, which would be ambiguous for challenges that contain
//! commas themselves.
//!
//! A body of `Value::Null` means *no body* (HEAD answers, OPTIONS answers): [`Response::body_bytes`] is
//! empty then. ES never sends a bare JSON `null`.
//!
//! A handler on a hot path may answer with its body already serialised ([`Response::ok_rendered`]:
//! `GET /_security/_authenticate`): the bytes go out as they are, and the [`Body`] is parsed into a
//! `Value` only when something reads it (a test, `filter_path`, `?pretty`).

use crate::error::EsError;
use serde::{Serialize, Serializer};
use serde_json::{json, Value};
use std::cell::OnceCell;
use std::fmt;
use std::ops::Deref;

pub(crate) const PRODUCT_HEADER: &str = "X-Elastic-Product";
pub(crate) const PRODUCT_HEADER_VALUE: &str = "Elasticsearch";
pub(crate) const CONTENT_TYPE_JSON: &str = "application/json";
/// `RestResponse.TEXT_CONTENT_TYPE`, used by ES for the empty OPTIONS answer.
pub(crate) const CONTENT_TYPE_TEXT: &str = "text/plain; charset=UTF-8";

/// A response body: a JSON `Value`, or compact JSON bytes a handler serialised directly, parsed on
/// first read (through `Deref`). Either way it reads as the `Value` it stands for.
#[derive(Clone, Default)]
pub struct Body {
    value: OnceCell<Value>,
    /// The compact JSON the handler wrote (never empty); `value` is its parse once read. (A boxed
    /// slice: a `Response` is returned in `Result`s and stays small.)
    rendered: Option<Box<[u8]>>,
}

impl Body {
    /// A body serialised by the handler (`serde_json::to_vec` of a value that is not `null`).
    fn rendered(bytes: Vec<u8>) -> Self {
        Body {
            value: OnceCell::new(),
            rendered: Some(bytes.into_boxed_slice()),
        }
    }

    /// The body as an owned `Value`.
    pub fn into_value(self) -> Value {
        match self.value.into_inner() {
            Some(v) => v,
            None => parse_rendered(self.rendered.as_deref()),
        }
    }

    /// The body as a `Value` to edit in place (a rendered body is parsed first and its bytes dropped,
    /// so what is written next is the edited value).
    pub fn value_mut(&mut self) -> &mut Value {
        if let Some(bytes) = self.rendered.take() {
            self.value = OnceCell::from(parse_rendered(Some(&bytes)));
        }
        if self.value.get().is_none() {
            self.value = OnceCell::from(Value::Null);
        }
        // ok: the cell was filled just above.
        self.value.get_mut().expect("set above")
    }

    fn is_null(&self) -> bool {
        self.rendered.is_none() && self.value.get().is_none_or(Value::is_null)
    }
}

/// Bytes `serde_json` wrote are JSON: the `Null` fallback is unreachable.
fn parse_rendered(bytes: Option<&[u8]>) -> Value {
    bytes
        .and_then(|b| serde_json::from_slice(b).ok())
        .unwrap_or(Value::Null)
}

impl From<Value> for Body {
    fn from(v: Value) -> Self {
        Body {
            value: OnceCell::from(v),
            rendered: None,
        }
    }
}

impl Deref for Body {
    type Target = Value;
    fn deref(&self) -> &Value {
        self.value
            .get_or_init(|| parse_rendered(self.rendered.as_deref()))
    }
}

impl PartialEq for Body {
    fn eq(&self, other: &Body) -> bool {
        **self == **other
    }
}

impl PartialEq<Value> for Body {
    fn eq(&self, other: &Value) -> bool {
        **self == *other
    }
}

impl PartialEq<Body> for Value {
    fn eq(&self, other: &Body) -> bool {
        *self == **other
    }
}

impl fmt::Debug for Body {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(&**self, f)
    }
}

impl fmt::Display for Body {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(&**self, f)
    }
}

impl Serialize for Body {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        (**self).serialize(s)
    }
}

#[derive(Debug, Clone, PartialEq)]
pub struct Response {
    pub status: u16,
    /// The header fields in order, names as set; a name repeats for a header with several values.
    pub headers: Vec<(String, String)>,
    pub body: Body,
    /// `?pretty`: the body is sent pretty-printed (`crate::rest::render`).
    pub(crate) pretty: bool,
}

impl Response {
    /// A response with the standard headers.
    pub(crate) fn new(status: u16, body: Value) -> Self {
        let headers = vec![
            (PRODUCT_HEADER.to_owned(), PRODUCT_HEADER_VALUE.to_owned()),
            ("Content-Type".to_owned(), CONTENT_TYPE_JSON.to_owned()),
        ];
        Response {
            status,
            headers,
            body: body.into(),
            pretty: false,
        }
    }

    /// 200 with a JSON body.
    pub(crate) fn ok(body: Value) -> Self {
        Response::new(200, body)
    }

    /// 200 with a body its handler wrote as compact JSON (not empty: a `Value` is parsed from it if
    /// read).
    pub(crate) fn ok_rendered(bytes: Vec<u8>) -> Self {
        let mut r = Response::new(200, Value::Null);
        r.body = Body::rendered(bytes);
        r
    }

    /// A status without a body (e.g. `HEAD /`).
    pub(crate) fn empty(status: u16) -> Self {
        Response::new(status, Value::Null)
    }

    /// ES's error body for an exception (`{"error":{"root_cause":[..],..},"status":N}`), with the status
    /// of the error and its headers (e.g. `WWW-Authenticate`) copied as HTTP headers, one field per
    /// value, as `RestResponse.copyHeaders` and the HTTP layer do.
    pub(crate) fn from_error(err: &EsError) -> Self {
        let mut r = Response::new(err.status, err.to_body());
        for (name, values) in &err.headers {
            for value in values {
                r.add_header(name, value);
            }
        }
        r
    }

    /// `RestResponse.createSimpleErrorResponse` (`{"error":"<msg>","status":N}`) when `with_status_field`,
    /// else the `{"error":"<msg>"}` of `RestController.handleBadRequest` (unknown route).
    pub(crate) fn simple_error(status: u16, msg: &str, with_status_field: bool) -> Self {
        let body = if with_status_field {
            json!({"error": msg, "status": status})
        } else {
            json!({"error": msg})
        };
        Response::new(status, body)
    }

    /// Sets a header to one value, replacing every field of that (case-insensitive) name; the field
    /// keeps the place of the first one it replaces.
    pub(crate) fn set_header(&mut self, name: &str, value: &str) {
        let mut found = false;
        self.headers.retain_mut(|(k, v)| {
            if !k.eq_ignore_ascii_case(name) {
                return true;
            }
            if found {
                return false;
            }
            found = true;
            value.clone_into(v);
            true
        });
        if !found {
            self.headers.push((name.to_owned(), value.to_owned()));
        }
    }

    /// Adds one more field: a header that has values already gets another one (`addHeader`).
    pub(crate) fn add_header(&mut self, name: &str, value: &str) {
        self.headers.push((name.to_owned(), value.to_owned()));
    }

    #[must_use]
    pub(crate) fn with_header(mut self, name: &str, value: &str) -> Self {
        self.set_header(name, value);
        self
    }

    /// The first value of a header, by case-insensitive name.
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }

    /// Every value of a header, by case-insensitive name, in the order sent.
    pub fn header_values<'a>(&'a self, name: &'a str) -> impl Iterator<Item = &'a str> {
        self.headers
            .iter()
            .filter(move |(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }

    /// What goes on the wire for a request of `method`: for HEAD, the status and headers without the
    /// body (ES's HTTP layer never sends a body to a HEAD request, errors included).
    #[must_use]
    pub(crate) fn for_method(mut self, method: super::request::Method) -> Self {
        if method == super::request::Method::Head {
            self.body = Value::Null.into();
        }
        self
    }

    /// The body as sent: compact JSON (pretty with `?pretty`), or nothing for `Value::Null`.
    pub fn body_bytes(&self) -> Vec<u8> {
        if self.body.is_null() {
            Vec::new()
        } else if self.pretty {
            super::render::pretty_bytes(&self.body)
        } else if let Some(rendered) = &self.body.rendered {
            rendered.to_vec()
        } else {
            serde_json::to_vec(&*self.body).unwrap_or_default()
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
                r.headers[0],
                (PRODUCT_HEADER.into(), "Elasticsearch".into())
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
            r.header_values("www-authenticate").collect::<Vec<_>>(),
            ["Basic realm=\"security\", charset=\"UTF-8\"", "ApiKey"]
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

    /// A body serialised by its handler goes out as those bytes, and reads (and compares) as the
    /// `Value` they hold; `?pretty` and HEAD treat it as any body.
    #[test]
    fn a_serialised_body_is_sent_as_written_and_reads_as_its_value() {
        #[derive(Serialize)]
        struct Out {
            z: u8,
            a: Vec<Option<&'static str>>,
        }
        let r = Response::ok_rendered(
            serde_json::to_vec(&Out {
                z: 1,
                a: vec![Some("x\"y"), None],
            })
            .unwrap(),
        );
        assert_eq!(r.body_bytes(), br#"{"z":1,"a":["x\"y",null]}"#);
        let value = json!({"z": 1, "a": ["x\"y", null]});
        assert_eq!(r.body, value);
        assert_eq!(r, Response::ok(value.clone()));
        assert_eq!(r.body["a"][0], "x\"y");
        assert_eq!(r.body.clone().into_value(), value);
        let mut pretty = r.clone();
        pretty.pretty = true;
        assert_eq!(
            pretty.body_bytes(),
            Response {
                pretty: true,
                ..Response::ok(value)
            }
            .body_bytes()
        );
        assert!(r
            .for_method(crate::rest::request::Method::Head)
            .body_bytes()
            .is_empty());
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
        assert_eq!(r.header("WARNING"), Some("a"));
        assert_eq!(r.header_values("WARNING").collect::<Vec<_>>(), ["a", "b"]);
        assert_eq!(r.headers.len(), 4);
        r.set_header("WARNING", "c");
        assert_eq!(r.header_values("warning").collect::<Vec<_>>(), ["c"]);
        assert_eq!(r.headers[2], ("Warning".into(), "c".into()));
        assert_eq!(r.headers.len(), 3);
    }

    /// Issue 8, point 13: one `WWW-Authenticate` field per challenge, in Elasticsearch's order.
    #[test]
    fn issue8_d13_one_www_authenticate_field_per_challenge() {
        let r = Response::from_error(&crate::cluster::authn::missing_credentials("/"));
        let fields: Vec<&(String, String)> = r
            .headers
            .iter()
            .filter(|(k, _)| k == "WWW-Authenticate")
            .collect();
        let values: Vec<&str> = fields.iter().map(|(_, v)| v.as_str()).collect();
        assert_eq!(
            values,
            [
                "Basic realm=\"security\", charset=\"UTF-8\"",
                "Bearer realm=\"security\"",
                "ApiKey"
            ]
        );
        // The body keeps the list under `header`, as Elasticsearch renders it.
        assert_eq!(r.body["error"]["header"]["WWW-Authenticate"], json!(values));
    }
}
