//! Answers for requests no handler takes: `RestController.handleNoHandlerFound` (400 `no handler
//! found`), `handleUnsupportedHttpMethod` (405 with `Allow`), `handleOptionsRequest` (200 with
//! `Allow`) and the 405 for a bad path parameter (`server/src/main/java/org/elasticsearch/rest/RestController.java`).

use crate::rest::request::Method;
use crate::rest::response::{Response, CONTENT_TYPE_TEXT};
use indexmap::IndexMap;

use super::routes::RouteId;

/// The outcome of matching a (method, raw path).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RouteMatch {
    /// A handler; `params` are the decoded path parameters.
    Matched {
        route: RouteId,
        params: IndexMap<String, String>,
    },
    /// The path exists for other methods: 405 `Incorrect HTTP method ...` with `Allow`.
    MethodNotAllowed { allowed: Vec<Method> },
    /// An OPTIONS request the path has no handler for: 200, empty body, `Allow` (when not empty).
    Options { allowed: Vec<Method> },
    /// No route: 400 `{"error":"no handler found for uri [..] and method [..]"}` (no `status` field).
    NoHandler,
    /// A path parameter failed to decode (`RestUtils.decodeComponent` threw): ES answers 405 with the
    /// exception message and the allowed methods.
    BadPathParameter {
        message: String,
        allowed: Vec<Method>,
    },
}

fn allowed_list(allowed: &[Method]) -> (String, String) {
    let names: Vec<&str> = allowed.iter().map(|m| m.as_str()).collect();
    (format!("[{}]", names.join(", ")), names.join(","))
}

pub(super) fn method_not_allowed(prefix: &str, allowed: &[Method]) -> Response {
    let mut msg = prefix.to_owned();
    if allowed.is_empty() {
        return Response::simple_error(405, &msg, true);
    }
    let (printed, header) = allowed_list(allowed);
    msg.push_str(", allowed: ");
    msg.push_str(&printed);
    Response::simple_error(405, &msg, true).with_header("Allow", &header)
}

/// ES's response for a [`RouteMatch`] other than `Matched` (`uri` is the raw target with its query).
/// For `Matched` this gives the 400 no-handler answer; do not call it with one.
pub fn route_failure_response(m: &RouteMatch, uri: &str, method: Method) -> Response {
    match m {
        RouteMatch::MethodNotAllowed { allowed } => method_not_allowed(
            &format!("Incorrect HTTP method for uri [{uri}] and method [{method}]"),
            allowed,
        ),
        RouteMatch::BadPathParameter { message, allowed } => method_not_allowed(message, allowed),
        RouteMatch::Options { allowed } => {
            let mut r = Response::empty(200).with_header("Content-Type", CONTENT_TYPE_TEXT);
            if !allowed.is_empty() {
                r.set_header("Allow", &allowed_list(allowed).1);
            }
            r
        }
        RouteMatch::NoHandler | RouteMatch::Matched { .. } => Response::simple_error(
            400,
            &format!("no handler found for uri [{uri}] and method [{method}]"),
            false,
        ),
    }
}
