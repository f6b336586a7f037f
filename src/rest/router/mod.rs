//! The route table and Elasticsearch's path matching.
//!
//! Matching is a port of `server/src/main/java/org/elasticsearch/common/path/PathTrie.java` and of the
//! dispatch loop in `server/src/main/java/org/elasticsearch/rest/RestController.java`
//! (`tryAllHandlers`, `handleNoHandlerFound`, `getValidHandlerMethodSet`, `handleUnsupportedHttpMethod`,
//! `handleOptionsRequest`, `handleBadRequest`). What that means in practice (all verified in the sources):
//!
//! - The raw (still percent-encoded) path is split with Java's `path.split("/")`: a leading empty token is
//!   skipped, *trailing* empty tokens are dropped (so `/_security/api_key/` and `/_security/api_key//`
//!   are `/_security/api_key`, and `/` or `//` is the root), but an *inner* empty token is kept and is
//!   matched by a `{placeholder}` with the value `""`: `POST /_security/api_key//_clear_cache` is the
//!   clear-cache route with `ids=""`, which means all keys.
//! - A literal segment wins over a placeholder; if the literal branch fails further down, the placeholder
//!   branch is tried (backtracking). A literal `*` segment reaches the placeholder child directly.
//! - Four matching modes are tried in order (explicit only, root wildcard, leaf wildcard, all wildcards).
//!   For each, when no handler exists for the method, the methods of the path under *all* modes are
//!   collected: if the request method is not among them, OPTIONS answers 200 with `Allow`, and any other
//!   method answers 405 when the set is not empty. When no mode yields a handler: 400 `no handler found`.
//! - Each placeholder value is decoded on its own with `RestUtils.decodeComponent` (`+` stays `+`); a
//!   malformed escape there throws an `IllegalArgumentException` that `tryAllHandlers` answers with 405,
//!   the exception message and the allowed methods (`BadPathParameter`).
//! - Allowed methods are a Java `HashSet<Method>` in ES, printed in hash order; here they are printed in
//!   `RestRequest.Method` declaration order (GET, POST, PUT, DELETE, OPTIONS, HEAD, ...), deterministically.
//! - There is no HEAD-to-GET fallback (`MethodHandlers.getHandler` looks up the exact method).

mod content_type;
mod failures;
mod routes;
#[cfg(test)]
mod tests;
mod trie;

pub(crate) use content_type::check_content_type;
pub(crate) use failures::{route_failure_response, RouteMatch};
pub(crate) use routes::{RouteId, ROUTES, UNIMPLEMENTED_ROUTES};

use super::params;
use super::request::{Method, Request, RequestError};
use super::response::Response;
use failures::method_not_allowed;
use indexmap::IndexMap;
use std::collections::{BTreeMap, BTreeSet};
use std::sync::OnceLock;
use trie::{java_split_slash, MethodHandlers, Mode, TrieNode, MODES};

/// The route table as ES's `PathTrie<MethodHandlers>`.
#[derive(Debug)]
pub(crate) struct Router {
    root: TrieNode,
    root_value: Option<MethodHandlers>,
}

impl Default for Router {
    fn default() -> Self {
        Router::new()
    }
}

impl Router {
    /// A router over [`ROUTES`] and [`UNIMPLEMENTED_ROUTES`].
    pub(crate) fn new() -> Self {
        let mut router = Router::with_routes(ROUTES);
        for &(method, path) in UNIMPLEMENTED_ROUTES {
            router.add(method, path, None);
        }
        router
    }

    /// A router over any table (panics on conflicting placeholder names or a duplicate (path, method),
    /// as ES's `PathTrie.insert` and `MethodHandlers.addMethod` throw).
    pub(crate) fn with_routes(routes: &[(Method, &str, RouteId)]) -> Self {
        let mut router = Router {
            root: TrieNode::default(),
            root_value: None,
        };
        for &(method, path, route) in routes {
            router.add(method, path, Some(route));
        }
        router
    }

    fn add(&mut self, method: Method, path: &str, route: Option<RouteId>) {
        let tokens = java_split_slash(path);
        if tokens.is_empty() || path.is_empty() {
            let handlers = self.root_value.get_or_insert_with(BTreeMap::new);
            // ok: the route table is static and conflict-free (tested); this guards edits to it
            assert!(
                handlers.insert(method, route).is_none(),
                "Cannot replace existing handler for [/] for method: {method}"
            );
            return;
        }
        let index = usize::from(tokens[0].is_empty());
        self.root.insert(&tokens, index, method, route);
    }

    /// A shared router over [`ROUTES`].
    pub(crate) fn global() -> &'static Router {
        static ROUTER: OnceLock<Router> = OnceLock::new();
        ROUTER.get_or_init(Router::new)
    }

    fn retrieve(
        &self,
        raw_path: &str,
        params: Option<&mut IndexMap<String, String>>,
        mode: Mode,
    ) -> Result<Option<&MethodHandlers>, String> {
        if raw_path.is_empty() {
            return Ok(self.root_value.as_ref());
        }
        let tokens = java_split_slash(raw_path);
        if tokens.is_empty() {
            return Ok(self.root_value.as_ref());
        }
        let index = usize::from(tokens[0].is_empty());
        self.root.retrieve(&tokens, index, params, mode)
    }

    /// `RestController.getValidHandlerMethodSet`: the methods of a path under every matching mode.
    pub(crate) fn allowed_methods(&self, raw_path: &str) -> Vec<Method> {
        let mut set = BTreeSet::new();
        for mode in MODES {
            // Without a params map nothing is decoded, so this cannot fail.
            if let Ok(Some(handlers)) = self.retrieve(raw_path, None, mode) {
                set.extend(handlers.keys().copied());
            }
        }
        set.into_iter().collect()
    }

    /// Matches a method and a raw (percent-encoded, query-less) path like `RestController.tryAllHandlers`.
    pub(crate) fn resolve(&self, method: Method, raw_path: &str) -> RouteMatch {
        for mode in MODES {
            let mut params = IndexMap::new();
            match self.retrieve(raw_path, Some(&mut params), mode) {
                Err(message) => {
                    return RouteMatch::BadPathParameter {
                        message,
                        allowed: self.allowed_methods(raw_path),
                    };
                }
                Ok(handlers) => {
                    match handlers.and_then(|h| h.get(&method)) {
                        Some(Some(route)) => {
                            return RouteMatch::Matched {
                                route: *route,
                                params,
                            };
                        }
                        Some(None) => return RouteMatch::NoHandler,
                        None => {}
                    }
                    let valid = self.allowed_methods(raw_path);
                    if !valid.contains(&method) {
                        if method == Method::Options {
                            return RouteMatch::Options { allowed: valid };
                        }
                        if !valid.is_empty() {
                            return RouteMatch::MethodNotAllowed { allowed: valid };
                        }
                    }
                }
            }
        }
        RouteMatch::NoHandler
    }

    /// Routes a built request: checks `error_trace` (as `RestController.validateErrorTrace`, before
    /// routing), matches the route, fills `req.path_params`, then checks the body's Content-Type (as
    /// `RestController.dispatchRequest`). Every failure is returned as ES's response.
    pub(crate) fn dispatch(&self, req: &mut Request) -> Result<RouteId, Response> {
        if let Err(e) =
            params::param_as_boolean(req.query.get("error_trace").map(String::as_str), false)
        {
            return Err(Response::simple_error(400, &e.reason, true));
        }
        match self.resolve(req.method, &req.path) {
            RouteMatch::Matched { route, params } => {
                req.path_params = params;
                if let Some(resp) = check_content_type(req) {
                    return Err(resp);
                }
                Ok(route)
            }
            other => Err(route_failure_response(&other, req.uri(), req.method)),
        }
    }

    /// Builds and routes a request in one step: `(method, target, headers, body)` to the request and its
    /// handler, or ES's response for a bad query string, an unknown method, or a routing failure.
    #[cfg(test)]
    pub(crate) fn route(
        &self,
        method: &str,
        target: &str,
        headers: Vec<(String, String)>,
        body: Option<Vec<u8>>,
    ) -> Result<(Request, RouteId), Response> {
        let mut req =
            Request::new(method, target, headers, body).map_err(|e| self.error_response(&e))?;
        let route = self.dispatch(&mut req)?;
        Ok((req, route))
    }

    /// ES's answer to a request that could not be built.
    pub(crate) fn error_response(&self, err: &RequestError) -> Response {
        match err {
            RequestError::BadParameter(e) => Response::from_error(e),
            RequestError::UnknownMethod {
                method, raw_path, ..
            } => self.unknown_method_response(method, raw_path),
        }
    }

    /// `handleUnsupportedHttpMethod(uri, null, .., validMethods, IllegalArgumentException)`: 405 with
    /// `Unexpected http method: <m>`, `, allowed: [..]` and `Allow` when the path has routes.
    pub(crate) fn unknown_method_response(&self, method: &str, raw_path: &str) -> Response {
        let allowed = self.allowed_methods(raw_path);
        method_not_allowed(&format!("Unexpected http method: {method}"), &allowed)
    }
}
