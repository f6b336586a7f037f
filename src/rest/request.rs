//! A REST request as Elasticsearch's `RestRequest` sees it.
//!
//! - `uri()` is the raw request target, query string included (Netty's `HttpRequest.uri()`); ES puts it in
//!   messages such as `no handler found for uri [...]` and `missing authentication credentials for REST
//!   request [...]`.
//! - `raw_path()` is the target up to the first `?`, still percent-encoded; routing runs on it, and each
//!   path parameter is decoded on its own (so `%2C` becomes a comma *before* a handler splits on commas,
//!   and `%2F` never splits a segment).
//! - The query string is decoded like `RestUtils.decodeQueryString`: `&` and `;` separate pairs, a `#`
//!   ends the query, a name without `=` has the value `""`, `+` is a space, a repeated name keeps its
//!   last value (at the position of its first occurrence). A malformed escape, or one of ES's reserved
//!   marker names (`serverlessRequest`, `operatorRequest`, any case), is ES's `BadParameterException`:
//!   HTTP 400 with type `bad_parameter_exception` (see [`RequestError::BadParameter`]).
//! - Methods are Netty's: the nine names of `RestRequest.Method`, case-sensitive. Any other string is
//!   [`RequestError::UnknownMethod`], which ES answers with 405 (`Unexpected http method: <m>`).

use super::params;
use crate::error::{EsError, ExceptionType};
use indexmap::IndexMap;
use std::fmt;

/// `RestRequest.Method`, in ES's declaration order (also the order used to print allowed methods).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub(crate) enum Method {
    Get,
    Post,
    Put,
    Delete,
    Options,
    Head,
    Patch,
    Trace,
    Connect,
}

impl Method {
    pub(crate) const ALL: [Method; 9] = [
        Method::Get,
        Method::Post,
        Method::Put,
        Method::Delete,
        Method::Options,
        Method::Head,
        Method::Patch,
        Method::Trace,
        Method::Connect,
    ];

    pub(crate) fn as_str(self) -> &'static str {
        match self {
            Method::Get => "GET",
            Method::Post => "POST",
            Method::Put => "PUT",
            Method::Delete => "DELETE",
            Method::Options => "OPTIONS",
            Method::Head => "HEAD",
            Method::Patch => "PATCH",
            Method::Trace => "TRACE",
            Method::Connect => "CONNECT",
        }
    }

    /// Netty's `HttpMethod.valueOf` + `translateRequestMethod`: exact, case-sensitive names.
    pub(crate) fn parse(s: &str) -> Result<Method, UnknownMethod> {
        Method::ALL
            .into_iter()
            .find(|m| m.as_str() == s)
            .ok_or_else(|| UnknownMethod(s.to_owned()))
    }
}

impl fmt::Display for Method {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl std::str::FromStr for Method {
    type Err = UnknownMethod;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Method::parse(s)
    }
}

/// A method name ES does not know. ES answers it with 405: see `Router::unknown_method_response`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct UnknownMethod(pub String);

impl fmt::Display for UnknownMethod {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // `Netty4HttpRequest.translateRequestMethod`.
        write!(f, "Unexpected http method: {}", self.0)
    }
}

impl std::error::Error for UnknownMethod {}

/// Why a request could not be built. Turn it into ES's response with `Router::error_response`.
#[derive(Debug, Clone, PartialEq)]
pub enum RequestError {
    /// The method is not one of ES's nine: HTTP 405 `{"error":"Unexpected http method: <m>[, allowed:
    /// [..]]","status":405}` (+ `Allow` when the path has routes). `uri` and `raw_path` are kept for it.
    UnknownMethod {
        method: String,
        uri: String,
        raw_path: String,
    },
    /// The query string could not be decoded (`RestRequest.BadParameterException`): HTTP 400 with this
    /// error body. This is checked before the method, as in ES.
    BadParameter(EsError),
}

impl fmt::Display for RequestError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            RequestError::UnknownMethod { method, .. } => {
                write!(f, "Unexpected http method: {method}")
            }
            RequestError::BadParameter(e) => write!(f, "{e}"),
        }
    }
}

impl std::error::Error for RequestError {}

/// One REST request.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Request {
    pub(crate) method: Method,
    /// The raw path (no query string), percent-encoded as sent.
    pub(crate) path: String,
    /// Decoded query parameters, in order of first appearance.
    pub(crate) query: IndexMap<String, String>,
    /// Header lines as sent; look them up with [`Request::header`] (case-insensitive).
    pub(crate) headers: Vec<(String, String)>,
    pub(crate) body: Option<Vec<u8>>,
    /// Decoded path parameters, filled by the router (`Router::dispatch`). In ES they go into the same map
    /// as the query parameters and win over a query parameter of the same name; [`Request::param`] does
    /// the same.
    pub(crate) path_params: IndexMap<String, String>,
    uri: String,
}

const RESERVED_PARAMS: [&str; 2] = ["serverlessRequest", "operatorRequest"];

/// `new BadParameterException(IllegalArgumentException(msg))` as rendered by ES: a `RuntimeException`
/// whose message is the cause's `toString()`, with the IAE as `caused_by`.
fn bad_parameter(msg: String) -> EsError {
    EsError::new(
        ExceptionType::BadParameter,
        format!("java.lang.IllegalArgumentException: {msg}"),
        400,
    )
    .with_cause(EsError::illegal_argument(msg))
}

/// `RestUtils.decodeQueryString` (8.x single-value form).
pub(crate) fn decode_query_string(query: &str) -> Result<IndexMap<String, String>, EsError> {
    let mut out: IndexMap<String, String> = IndexMap::new();
    let query = match query.find('#') {
        Some(i) => &query[..i],
        None => query,
    };
    let mut add = |name: String, value: String| -> Result<(), EsError> {
        if RESERVED_PARAMS
            .iter()
            .any(|r| r.eq_ignore_ascii_case(&name))
        {
            return Err(bad_parameter(format!(
                "parameter [{name}] is reserved and may not be set"
            )));
        }
        out.insert(name, value);
        Ok(())
    };
    let dec = |s: &str| params::decode_query_component(s).map_err(bad_parameter);
    let bytes = query.as_bytes();
    let mut name: Option<String> = None;
    let mut pos = 0;
    let mut i = 0;
    while i < bytes.len() {
        let c = bytes[i];
        if c == b'=' && name.is_none() {
            if pos != i {
                name = Some(dec(&query[pos..i])?);
            }
            pos = i + 1;
        } else if c == b'&' || c == b';' {
            if name.is_none() && pos != i {
                add(dec(&query[pos..i])?, String::new())?;
            } else if let Some(n) = name.take() {
                add(n, dec(&query[pos..i])?)?;
            }
            pos = i + 1;
        }
        i += 1;
    }
    if pos != i {
        match name.take() {
            None => add(dec(&query[pos..i])?, String::new())?,
            Some(n) => add(n, dec(&query[pos..i])?)?,
        }
    } else if let Some(n) = name.take() {
        add(n, String::new())?;
    }
    Ok(out)
}

impl Request {
    /// Builds a request from a method name, a request target (`/path?query`), headers and a body.
    /// The query string is decoded first (a failure is 400 whatever the method), then the method.
    pub(crate) fn new(
        method: &str,
        target: &str,
        headers: Vec<(String, String)>,
        body: Option<Vec<u8>>,
    ) -> Result<Request, RequestError> {
        let (raw_path, query) = match target.find('?') {
            Some(i) => (&target[..i], Some(&target[i + 1..])),
            None => (target, None),
        };
        let query = match query {
            Some(q) => decode_query_string(q).map_err(RequestError::BadParameter)?,
            None => IndexMap::new(),
        };
        let method = Method::parse(method).map_err(|m| RequestError::UnknownMethod {
            method: m.0,
            uri: target.to_owned(),
            raw_path: raw_path.to_owned(),
        })?;
        Ok(Request {
            method,
            path: raw_path.to_owned(),
            query,
            headers,
            body,
            path_params: IndexMap::new(),
            uri: target.to_owned(),
        })
    }

    /// A request with a known method (tests, internal callers).
    #[cfg(test)]
    pub(crate) fn build(method: Method, target: &str) -> Result<Request, RequestError> {
        Request::new(method.as_str(), target, Vec::new(), None)
    }

    #[cfg(test)]
    #[must_use]
    pub(crate) fn with_body(mut self, body: impl Into<Vec<u8>>) -> Self {
        self.body = Some(body.into());
        self
    }

    /// The raw target, query string included (`RestRequest.uri()`).
    pub(crate) fn uri(&self) -> &str {
        &self.uri
    }

    /// The raw path, percent-encoded (`RestRequest.rawPath()`).
    pub(crate) fn raw_path(&self) -> &str {
        &self.path
    }

    /// The decoded path (`RestRequest.path()`), used in messages such as `request [<path>] contains
    /// unrecognized parameter`. Falls back to the raw path when it cannot be decoded.
    pub(crate) fn decoded_path(&self) -> String {
        params::decode_component(&self.path).unwrap_or_else(|_| self.path.clone())
    }

    /// The first value of a header, by case-insensitive name.
    pub(crate) fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }

    /// Every value of a header, by case-insensitive name, in order.
    pub(crate) fn header_values(&self, name: &str) -> Vec<&str> {
        self.headers
            .iter()
            .filter(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
            .collect()
    }

    /// `RestRequest.hasContent()`: a non-empty body.
    pub(crate) fn has_content(&self) -> bool {
        self.body.as_ref().is_some_and(|b| !b.is_empty())
    }

    /// A parameter: the path parameter if the route has one of that name, else the query parameter.
    pub(crate) fn param(&self, name: &str) -> Option<&str> {
        self.path_params
            .get(name)
            .or_else(|| self.query.get(name))
            .map(String::as_str)
    }

    /// `RestRequest.paramAsBoolean(key, boolean)`.
    pub(crate) fn param_as_boolean(&self, name: &str, default: bool) -> Result<bool, EsError> {
        params::param_as_boolean(self.param(name), default)
    }

    /// `RestRequest.paramAsStringArrayOrEmptyIfAll(key)`: `[]` means all.
    pub(crate) fn param_as_string_array_or_empty_if_all(&self, name: &str) -> Vec<String> {
        params::param_as_string_array_or_empty_if_all(self.param(name))
    }

    /// `RestRequest.paramAsStringArray(key, default)` with absent = `None`.
    #[cfg(test)]
    pub(crate) fn param_as_string_array(&self, name: &str) -> Option<Vec<String>> {
        params::param_as_string_array(self.param(name))
    }
}

/// `BaseRestHandler`'s check for parameters the handler did not read. `consumed` lists what the handler
/// read, path parameter names included (e.g. `["ids"]` for the API-key clear-cache handler, so that
/// `?idz` suggests `ids`). The global parameters ([`params::GLOBAL_PARAMS`]: `error_trace`, `filter_path`,
/// `format`, `human`, `pretty`) are always accepted. ES runs this after the handler prepared the request,
/// so errors from reading parameters (a bad boolean, say) come first.
pub(crate) fn check_unconsumed_params(req: &Request, consumed: &[&str]) -> Result<(), EsError> {
    check_unconsumed_params_with(req, consumed, &[])
}

/// [`check_unconsumed_params`] with the handler's `responseParams()`.
pub(crate) fn check_unconsumed_params_with(
    req: &Request,
    consumed: &[&str],
    response_params: &[&str],
) -> Result<(), EsError> {
    let keys: Vec<&str> = req.query.keys().map(String::as_str).collect();
    params::check_unconsumed(&req.decoded_path(), &keys, consumed, response_params)
}

/// The check `BaseRestHandler` makes after a handler that did not read the body: `request [<METHOD>
/// <path>] does not support having a body` (400 `illegal_argument_exception`). Users report the same
/// answer from 7.17 clusters, so escache applies it on every body-less route.
pub(crate) fn reject_unconsumed_body(req: &Request) -> Result<(), EsError> {
    if req.has_content() {
        return Err(EsError::illegal_argument(format!(
            "request [{} {}] does not support having a body",
            req.method,
            req.decoded_path()
        )));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn methods_are_case_sensitive_netty_names() {
        assert_eq!(Method::parse("GET").unwrap(), Method::Get);
        assert_eq!(Method::parse("OPTIONS").unwrap(), Method::Options);
        assert_eq!(Method::parse("PATCH").unwrap(), Method::Patch);
        assert_eq!(
            Method::parse("get").unwrap_err().to_string(),
            "Unexpected http method: get"
        );
        assert!(Method::parse("FOO").is_err());
        assert_eq!(Method::Delete.to_string(), "DELETE");
    }

    #[test]
    fn uri_keeps_query_and_path_stays_raw() {
        let r = Request::new(
            "POST",
            "/_security/api_key/a%2Cb/_clear_cache?pretty&x=1",
            vec![],
            None,
        )
        .unwrap();
        assert_eq!(r.uri(), "/_security/api_key/a%2Cb/_clear_cache?pretty&x=1");
        assert_eq!(r.raw_path(), "/_security/api_key/a%2Cb/_clear_cache");
        assert_eq!(r.path, "/_security/api_key/a%2Cb/_clear_cache");
        assert_eq!(r.decoded_path(), "/_security/api_key/a,b/_clear_cache");
        assert_eq!(r.query.get("pretty").map(String::as_str), Some(""));
        assert_eq!(r.query.get("x").map(String::as_str), Some("1"));
    }

    #[test]
    fn query_string_decoding_like_rest_utils() {
        let q = decode_query_string("a=1&b&c=&d=x+y%20z;e=%2C&a=2#frag=1").unwrap();
        let pairs: Vec<(&str, &str)> = q.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
        assert_eq!(
            pairs,
            [("a", "2"), ("b", ""), ("c", ""), ("d", "x y z"), ("e", ",")]
        );
        assert!(decode_query_string("").unwrap().is_empty());
        assert!(decode_query_string("&&").unwrap().is_empty());
        // `=v`: the `=` is skipped while no name is set, so `v` becomes a name with an empty value.
        let q = decode_query_string("=v").unwrap();
        assert_eq!(q.get("v").map(String::as_str), Some(""));
        let q = decode_query_string("a=b=c").unwrap();
        assert_eq!(q.get("a").map(String::as_str), Some("b=c"));
    }

    #[test]
    fn bad_query_escapes_are_bad_parameter_before_method() {
        let e = Request::new("FOO", "/?x=%ZZ", vec![], None).unwrap_err();
        let RequestError::BadParameter(e) = e else {
            panic!("expected BadParameter")
        };
        assert_eq!(e.kind, "bad_parameter_exception");
        assert_eq!(e.status, 400);
        assert_eq!(
            e.reason,
            "java.lang.IllegalArgumentException: invalid escape sequence `%ZZ' at index 0 of: %ZZ"
        );
        assert_eq!(
            e.caused_by.as_ref().unwrap().kind,
            "illegal_argument_exception"
        );
        assert_eq!(e.root_cause().kind, "bad_parameter_exception");

        let e = Request::new("GET", "/?OperatorRequest=true", vec![], None).unwrap_err();
        let RequestError::BadParameter(e) = e else {
            panic!()
        };
        assert!(e
            .reason
            .ends_with("parameter [OperatorRequest] is reserved and may not be set"));
    }

    #[test]
    fn unknown_method_is_typed() {
        let e = Request::new("BREW", "/_security/api_key?x", vec![], None).unwrap_err();
        assert_eq!(
            e,
            RequestError::UnknownMethod {
                method: "BREW".into(),
                uri: "/_security/api_key?x".into(),
                raw_path: "/_security/api_key".into()
            }
        );
    }

    #[test]
    fn headers_are_case_insensitive() {
        let r = Request::new(
            "GET",
            "/",
            vec![
                ("authorization".into(), "Basic abc".into()),
                ("X-Opaque-Id".into(), "1".into()),
                ("x-opaque-id".into(), "2".into()),
            ],
            None,
        )
        .unwrap();
        assert_eq!(r.header("Authorization"), Some("Basic abc"));
        assert_eq!(r.header("x-OPAQUE-id"), Some("1"));
        assert_eq!(r.header_values("X-Opaque-Id"), ["1", "2"]);
        assert_eq!(r.header("Content-Type"), None);
    }

    #[test]
    fn params_prefer_path_over_query() {
        let mut r = Request::build(
            Method::Post,
            "/_security/api_key/k1/_clear_cache?ids=zz&flag",
        )
        .unwrap();
        r.path_params.insert("ids".into(), "k1".into());
        assert_eq!(r.param("ids"), Some("k1"));
        assert!(r.param_as_boolean("flag", false).unwrap());
        assert_eq!(r.param_as_string_array_or_empty_if_all("ids"), ["k1"]);
        assert_eq!(r.param_as_string_array("nope"), None);
    }

    #[test]
    fn unconsumed_params_use_decoded_path_without_query() {
        let r = Request::build(
            Method::Post,
            "/_security/api_key/a%2Cb/_clear_cache?idz=1&pretty",
        )
        .unwrap();
        let e = check_unconsumed_params(&r, &["ids"]).unwrap_err();
        assert_eq!(
            e.reason,
            "request [/_security/api_key/a,b/_clear_cache] contains unrecognized parameter: [idz] -> did you mean [ids]?"
        );
        assert!(check_unconsumed_params(
            &Request::build(Method::Get, "/?pretty&human").unwrap(),
            &[]
        )
        .is_ok());
    }

    #[test]
    fn body_rejection_message() {
        let r = Request::build(Method::Get, "/_security/_authenticate")
            .unwrap()
            .with_body(b"{}".to_vec());
        assert_eq!(
            reject_unconsumed_body(&r).unwrap_err().reason,
            "request [GET /_security/_authenticate] does not support having a body"
        );
        let r = Request::build(Method::Get, "/")
            .unwrap()
            .with_body(Vec::new());
        assert!(reject_unconsumed_body(&r).is_ok());
    }
}
