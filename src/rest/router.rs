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

use super::params;
use super::request::{Method, Request, RequestError};
use super::response::{Response, CONTENT_TYPE_TEXT};
use indexmap::IndexMap;
use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::sync::OnceLock;

/// One variant per Elasticsearch REST handler (class). A handler registered for several methods (create
/// API key: POST and PUT; main: GET and HEAD) is one variant; the method is on the request.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum RouteId {
    /// `GET /`, `HEAD /` (`RestMainAction`).
    Main,
    /// `POST|PUT /_security/api_key` (`RestCreateApiKeyAction`).
    CreateApiKey,
    /// `GET /_security/api_key` (`RestGetApiKeyAction`).
    GetApiKey,
    /// `DELETE /_security/api_key` (`RestInvalidateApiKeyAction`).
    InvalidateApiKey,
    /// `PUT /_security/api_key/{ids}` (`RestUpdateApiKeyAction`; ES names the placeholder `ids` because
    /// `PathTrie` forbids two names at one position; the update takes a single id).
    UpdateApiKey,
    /// `POST /_security/api_key/{ids}/_clear_cache` (`RestClearApiKeyCacheAction`).
    ClearApiKeyCache,
    /// `GET /_security/_authenticate` (`RestAuthenticateAction`).
    Authenticate,
    /// `PUT|POST /_security/user/{username}` (`RestPutUserAction`).
    PutUser,
    /// `PUT|POST /_security/role/{name}` (`RestPutRoleAction`).
    PutRole,
    /// `POST|PUT /_security/service/{namespace}/{service}/credential/token/{name}` and
    /// `POST /_security/service/{namespace}/{service}/credential/token` (`RestCreateServiceAccountTokenAction`).
    CreateServiceAccountToken,
    /// `DELETE /_security/service/{namespace}/{service}/credential/token/{name}`.
    DeleteServiceAccountToken,
    /// `GET /_security/service/{namespace}/{service}/credential`.
    GetServiceAccountCredentials,
    /// `GET /_security/service`, `GET /_security/service/{namespace}`,
    /// `GET /_security/service/{namespace}/{service}` (`RestGetServiceAccountAction`).
    GetServiceAccount,
    /// `POST /_security/service/{namespace}/{service}/credential/token/{name}/_clear_cache`.
    ClearServiceAccountTokenStoreCache,
}

impl RouteId {
    pub const ALL: [RouteId; 14] = [
        RouteId::Main,
        RouteId::CreateApiKey,
        RouteId::GetApiKey,
        RouteId::InvalidateApiKey,
        RouteId::UpdateApiKey,
        RouteId::ClearApiKeyCache,
        RouteId::Authenticate,
        RouteId::PutUser,
        RouteId::PutRole,
        RouteId::CreateServiceAccountToken,
        RouteId::DeleteServiceAccountToken,
        RouteId::GetServiceAccountCredentials,
        RouteId::GetServiceAccount,
        RouteId::ClearServiceAccountTokenStoreCache,
    ];

    /// The handler's `getName()`. The two clear-cache names come from AK-R5.6 and ST-R1;
    /// the others follow ES's naming and were not all re-read.
    pub fn handler_name(self) -> &'static str {
        match self {
            RouteId::Main => "main_action",
            RouteId::CreateApiKey => "xpack_security_create_api_key",
            RouteId::GetApiKey => "xpack_security_get_api_key",
            RouteId::InvalidateApiKey => "xpack_security_invalidate_api_key",
            RouteId::UpdateApiKey => "xpack_security_update_api_key",
            RouteId::ClearApiKeyCache => "security_clear_api_key_cache_action",
            RouteId::Authenticate => "security_authenticate_action",
            RouteId::PutUser => "security_put_user_action",
            RouteId::PutRole => "security_put_role_action",
            RouteId::CreateServiceAccountToken => "xpack_security_create_service_account_token",
            RouteId::DeleteServiceAccountToken => "xpack_security_delete_service_account_token",
            RouteId::GetServiceAccountCredentials => {
                "xpack_security_get_service_account_credentials"
            }
            RouteId::GetServiceAccount => "xpack_security_get_service_account",
            RouteId::ClearServiceAccountTokenStoreCache => {
                "xpack_security_clear_service_account_token_store_cache"
            }
        }
    }

    /// The transport action the handler runs (what authorization checks: AK-R5.7, ST-R4).
    pub fn action(self) -> &'static str {
        match self {
            RouteId::Main => "cluster:monitor/main",
            RouteId::CreateApiKey => "cluster:admin/xpack/security/api_key/create",
            RouteId::GetApiKey => "cluster:admin/xpack/security/api_key/get",
            RouteId::InvalidateApiKey => "cluster:admin/xpack/security/api_key/invalidate",
            RouteId::UpdateApiKey => "cluster:admin/xpack/security/api_key/update",
            RouteId::ClearApiKeyCache | RouteId::ClearServiceAccountTokenStoreCache => {
                "cluster:admin/xpack/security/cache/clear"
            }
            RouteId::Authenticate => "cluster:admin/xpack/security/user/authenticate",
            RouteId::PutUser => "cluster:admin/xpack/security/user/put",
            RouteId::PutRole => "cluster:admin/xpack/security/role/put",
            RouteId::CreateServiceAccountToken => {
                "cluster:admin/xpack/security/service_account/token/create"
            }
            RouteId::DeleteServiceAccountToken => {
                "cluster:admin/xpack/security/service_account/token/delete"
            }
            RouteId::GetServiceAccountCredentials => {
                "cluster:admin/xpack/security/service_account/credential/get"
            }
            RouteId::GetServiceAccount => "cluster:admin/xpack/security/service_account/get",
        }
    }
}

/// Every (method, path pattern, handler) the router serves.
pub const ROUTES: &[(Method, &str, RouteId)] = &[
    (Method::Get, "/", RouteId::Main),
    (Method::Head, "/", RouteId::Main),
    (Method::Post, "/_security/api_key", RouteId::CreateApiKey),
    (Method::Put, "/_security/api_key", RouteId::CreateApiKey),
    (Method::Get, "/_security/api_key", RouteId::GetApiKey),
    (
        Method::Delete,
        "/_security/api_key",
        RouteId::InvalidateApiKey,
    ),
    (
        Method::Put,
        "/_security/api_key/{ids}",
        RouteId::UpdateApiKey,
    ),
    (
        Method::Post,
        "/_security/api_key/{ids}/_clear_cache",
        RouteId::ClearApiKeyCache,
    ),
    (
        Method::Get,
        "/_security/_authenticate",
        RouteId::Authenticate,
    ),
    (Method::Put, "/_security/user/{username}", RouteId::PutUser),
    (Method::Post, "/_security/user/{username}", RouteId::PutUser),
    (Method::Put, "/_security/role/{name}", RouteId::PutRole),
    (Method::Post, "/_security/role/{name}", RouteId::PutRole),
    (
        Method::Post,
        "/_security/service/{namespace}/{service}/credential/token/{name}",
        RouteId::CreateServiceAccountToken,
    ),
    (
        Method::Put,
        "/_security/service/{namespace}/{service}/credential/token/{name}",
        RouteId::CreateServiceAccountToken,
    ),
    (
        Method::Post,
        "/_security/service/{namespace}/{service}/credential/token",
        RouteId::CreateServiceAccountToken,
    ),
    (
        Method::Delete,
        "/_security/service/{namespace}/{service}/credential/token/{name}",
        RouteId::DeleteServiceAccountToken,
    ),
    (
        Method::Get,
        "/_security/service/{namespace}/{service}/credential",
        RouteId::GetServiceAccountCredentials,
    ),
    (
        Method::Get,
        "/_security/service",
        RouteId::GetServiceAccount,
    ),
    (
        Method::Get,
        "/_security/service/{namespace}",
        RouteId::GetServiceAccount,
    ),
    (
        Method::Get,
        "/_security/service/{namespace}/{service}",
        RouteId::GetServiceAccount,
    ),
    (
        Method::Post,
        "/_security/service/{namespace}/{service}/credential/token/{name}/_clear_cache",
        RouteId::ClearServiceAccountTokenStoreCache,
    ),
];

/// Elasticsearch's own routes under `/_security/user/`, `/_security/role/` and `/_security/api_key/`
/// that escache does not implement (from the `Rest*Action.routes()` of
/// `x-pack/plugin/security/src/main/java/org/elasticsearch/xpack/security/rest/action/`). They are in
/// the trie so that, as in ES's `PathTrie`, their literal segments win over the placeholders of the
/// routes escache does serve: `POST /_security/user/_has_privileges` must never reach put-user
/// (issue 8 point 11). A request that lands on one is answered like a path with no handler (400
/// `no handler found for uri [..] and method [..]`), and the methods they declare count for 405/`Allow`
/// as they do in ES.
pub const UNIMPLEMENTED_ROUTES: &[(Method, &str)] = &[
    // RestGetUsersAction, RestDeleteUserAction
    (Method::Get, "/_security/user"),
    (Method::Get, "/_security/user/{username}"),
    (Method::Delete, "/_security/user/{username}"),
    // RestChangePasswordAction
    (Method::Put, "/_security/user/{username}/_password"),
    (Method::Post, "/_security/user/{username}/_password"),
    (Method::Put, "/_security/user/_password"),
    (Method::Post, "/_security/user/_password"),
    // RestSetEnabledAction
    (Method::Put, "/_security/user/{username}/_enable"),
    (Method::Post, "/_security/user/{username}/_enable"),
    (Method::Put, "/_security/user/{username}/_disable"),
    (Method::Post, "/_security/user/{username}/_disable"),
    // RestHasPrivilegesAction
    (Method::Get, "/_security/user/{username}/_has_privileges"),
    (Method::Post, "/_security/user/{username}/_has_privileges"),
    (Method::Get, "/_security/user/_has_privileges"),
    (Method::Post, "/_security/user/_has_privileges"),
    // RestGetUserPrivilegesAction
    (Method::Get, "/_security/user/_privileges"),
    // RestGetRolesAction, RestDeleteRoleAction, RestClearRolesCacheAction, bulk put/delete roles
    (Method::Get, "/_security/role"),
    (Method::Get, "/_security/role/{name}"),
    (Method::Delete, "/_security/role/{name}"),
    (Method::Post, "/_security/role/{name}/_clear_cache"),
    (Method::Post, "/_security/role"),
    (Method::Delete, "/_security/role"),
    // RestGrantApiKeyAction, RestBulkUpdateApiKeyAction
    (Method::Post, "/_security/api_key/grant"),
    (Method::Put, "/_security/api_key/grant"),
    (Method::Post, "/_security/api_key/_bulk_update"),
];

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

const WILDCARD: &str = "*";

/// `PathTrie.TrieMatchingMode`, in the order `retrieveAll` tries them.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Mode {
    ExplicitNodesOnly,
    WildcardRootNodesAllowed,
    WildcardLeafNodesAllowed,
    WildcardNodesAllowed,
}

const MODES: [Mode; 4] = [
    Mode::ExplicitNodesOnly,
    Mode::WildcardRootNodesAllowed,
    Mode::WildcardLeafNodesAllowed,
    Mode::WildcardNodesAllowed,
];

/// `None`: one of [`UNIMPLEMENTED_ROUTES`].
type MethodHandlers = BTreeMap<Method, Option<RouteId>>;

#[derive(Debug, Default)]
struct TrieNode {
    named_wildcard: Option<String>,
    value: Option<MethodHandlers>,
    /// Placeholder children are stored under `*`, as in ES.
    children: HashMap<String, TrieNode>,
}

fn named_wildcard_of(token: &str) -> Option<String> {
    let open = token.find('{')?;
    let close = token.find('}')?;
    Some(token.get(open + 1..close).unwrap_or("").to_owned())
}

fn put(
    params: Option<&mut IndexMap<String, String>>,
    node: &TrieNode,
    token: &str,
) -> Result<(), String> {
    if let (Some(p), Some(name)) = (params, &node.named_wildcard) {
        p.insert(name.clone(), params::decode_component(token)?);
    }
    Ok(())
}

impl TrieNode {
    fn insert(&mut self, path: &[&str], index: usize, method: Method, route: Option<RouteId>) {
        if index >= path.len() {
            return;
        }
        let token = path[index];
        let wildcard_name = named_wildcard_of(token);
        let key = if wildcard_name.is_some() {
            WILDCARD
        } else {
            token
        };
        let node = self.children.entry(key.to_owned()).or_default();
        if let Some(name) = wildcard_name {
            match &node.named_wildcard {
                Some(existing) if *existing != name => panic!(
                    // ok: the route table is static and conflict-free (tested); this guards edits to it
                    "Trying to use conflicting wildcard names for same path: {existing} and {name}"
                ),
                _ => node.named_wildcard = Some(name),
            }
        }
        if index == path.len() - 1 {
            let handlers = node.value.get_or_insert_with(BTreeMap::new);
            if handlers.insert(method, route).is_some() {
                panic!(
                    // ok: the route table is static and conflict-free (tested); this guards edits to it
                    "Cannot replace existing handler for [{}] for method: {method}",
                    path.join("/")
                );
            }
        }
        node.insert(path, index + 1, method, route);
    }

    fn retrieve<'a>(
        &'a self,
        path: &[&str],
        index: usize,
        mut params: Option<&mut IndexMap<String, String>>,
        mode: Mode,
    ) -> Result<Option<&'a MethodHandlers>, String> {
        if index >= path.len() {
            return Ok(None);
        }
        let token = path[index];
        let wildcard = self.children.get(WILDCARD);
        let (node, used_wildcard) = match self.children.get(token) {
            None => {
                let allowed = match mode {
                    Mode::WildcardNodesAllowed => true,
                    Mode::WildcardRootNodesAllowed => index == 1,
                    Mode::WildcardLeafNodesAllowed => index + 1 == path.len(),
                    Mode::ExplicitNodesOnly => false,
                };
                match wildcard {
                    Some(w) if allowed => (w, true),
                    _ => return Ok(None),
                }
            }
            Some(n) => {
                let explicit_or_root = matches!(
                    mode,
                    Mode::ExplicitNodesOnly | Mode::WildcardRootNodesAllowed
                );
                match wildcard {
                    Some(w)
                        if index + 1 == path.len() && n.value.is_none() && !explicit_or_root =>
                    {
                        (w, true)
                    }
                    Some(w)
                        if index == 1
                            && n.value.is_none()
                            && mode == Mode::WildcardRootNodesAllowed =>
                    {
                        (w, true)
                    }
                    _ => (n, token == WILDCARD),
                }
            }
        };
        put(params.as_deref_mut(), node, token)?;
        if index == path.len() - 1 {
            return Ok(node.value.as_ref());
        }
        let mut value = node.retrieve(path, index + 1, params.as_deref_mut(), mode)?;
        if value.is_none() && !used_wildcard && mode != Mode::ExplicitNodesOnly {
            if let Some(w) = wildcard {
                put(params.as_deref_mut(), w, token)?;
                value = w.retrieve(path, index + 1, params, mode)?;
            }
        }
        Ok(value)
    }
}

/// Java's `s.split("/")`: trailing empty tokens removed; no separator gives `[s]`.
fn java_split_slash(s: &str) -> Vec<&str> {
    let mut parts: Vec<&str> = s.split('/').collect();
    if parts.len() == 1 {
        return parts;
    }
    while parts.last() == Some(&"") {
        parts.pop();
    }
    parts
}

/// The route table as ES's `PathTrie<MethodHandlers>`.
#[derive(Debug)]
pub struct Router {
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
    pub fn new() -> Self {
        let mut router = Router::with_routes(ROUTES);
        for &(method, path) in UNIMPLEMENTED_ROUTES {
            router.add(method, path, None);
        }
        router
    }

    /// A router over any table (panics on conflicting placeholder names or a duplicate (path, method),
    /// as ES's `PathTrie.insert` and `MethodHandlers.addMethod` throw).
    pub fn with_routes(routes: &[(Method, &str, RouteId)]) -> Self {
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
            if handlers.insert(method, route).is_some() {
                panic!("Cannot replace existing handler for [/] for method: {method}");
                // ok: the route table is static and conflict-free (tested); this guards edits to it
            }
            return;
        }
        let index = usize::from(tokens[0].is_empty());
        self.root.insert(&tokens, index, method, route);
    }

    /// A shared router over [`ROUTES`].
    pub fn global() -> &'static Router {
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
    pub fn allowed_methods(&self, raw_path: &str) -> Vec<Method> {
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
    pub fn resolve(&self, method: Method, raw_path: &str) -> RouteMatch {
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
    pub fn dispatch(&self, req: &mut Request) -> Result<RouteId, Response> {
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
    pub fn route(
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
    pub fn error_response(&self, err: &RequestError) -> Response {
        match err {
            RequestError::BadParameter(e) => Response::from_error(e),
            RequestError::UnknownMethod {
                method, raw_path, ..
            } => self.unknown_method_response(method, raw_path),
        }
    }

    /// `handleUnsupportedHttpMethod(uri, null, .., validMethods, IllegalArgumentException)`: 405 with
    /// `Unexpected http method: <m>`, `, allowed: [..]` and `Allow` when the path has routes.
    pub fn unknown_method_response(&self, method: &str, raw_path: &str) -> Response {
        let allowed = self.allowed_methods(raw_path);
        method_not_allowed(&format!("Unexpected http method: {method}"), &allowed)
    }
}

fn allowed_list(allowed: &[Method]) -> (String, String) {
    let names: Vec<&str> = allowed.iter().map(|m| m.as_str()).collect();
    (format!("[{}]", names.join(", ")), names.join(","))
}

fn method_not_allowed(prefix: &str, allowed: &[Method]) -> Response {
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

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn r() -> &'static Router {
        Router::global()
    }

    fn matched(method: Method, path: &str) -> (RouteId, IndexMap<String, String>) {
        match r().resolve(method, path) {
            RouteMatch::Matched { route, params } => (route, params),
            other => panic!("{method} {path}: expected a match, got {other:?}"),
        }
    }

    fn p(pairs: &[(&str, &str)]) -> IndexMap<String, String> {
        pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    #[test]
    fn every_design_route_matches() {
        use Method::*;
        type Case<'a> = (Method, &'a str, RouteId, &'a [(&'a str, &'a str)]);
        let cases: &[Case] = &[
            (Get, "/", RouteId::Main, &[]),
            (Head, "/", RouteId::Main, &[]),
            (Post, "/_security/api_key", RouteId::CreateApiKey, &[]),
            (Put, "/_security/api_key", RouteId::CreateApiKey, &[]),
            (Get, "/_security/api_key", RouteId::GetApiKey, &[]),
            (Delete, "/_security/api_key", RouteId::InvalidateApiKey, &[]),
            (
                Put,
                "/_security/api_key/k1",
                RouteId::UpdateApiKey,
                &[("ids", "k1")],
            ),
            (
                Post,
                "/_security/api_key/k1,k2/_clear_cache",
                RouteId::ClearApiKeyCache,
                &[("ids", "k1,k2")],
            ),
            (Get, "/_security/_authenticate", RouteId::Authenticate, &[]),
            (
                Put,
                "/_security/user/bob",
                RouteId::PutUser,
                &[("username", "bob")],
            ),
            (
                Post,
                "/_security/user/bob",
                RouteId::PutUser,
                &[("username", "bob")],
            ),
            (
                Put,
                "/_security/role/r1",
                RouteId::PutRole,
                &[("name", "r1")],
            ),
            (
                Post,
                "/_security/role/r1",
                RouteId::PutRole,
                &[("name", "r1")],
            ),
            (
                Post,
                "/_security/service/elastic/fleet-server/credential/token/t1",
                RouteId::CreateServiceAccountToken,
                &[
                    ("namespace", "elastic"),
                    ("service", "fleet-server"),
                    ("name", "t1"),
                ],
            ),
            (
                Put,
                "/_security/service/elastic/fleet-server/credential/token/t1",
                RouteId::CreateServiceAccountToken,
                &[
                    ("namespace", "elastic"),
                    ("service", "fleet-server"),
                    ("name", "t1"),
                ],
            ),
            (
                Post,
                "/_security/service/elastic/fleet-server/credential/token",
                RouteId::CreateServiceAccountToken,
                &[("namespace", "elastic"), ("service", "fleet-server")],
            ),
            (
                Delete,
                "/_security/service/elastic/fleet-server/credential/token/t1",
                RouteId::DeleteServiceAccountToken,
                &[
                    ("namespace", "elastic"),
                    ("service", "fleet-server"),
                    ("name", "t1"),
                ],
            ),
            (
                Get,
                "/_security/service/elastic/fleet-server/credential",
                RouteId::GetServiceAccountCredentials,
                &[("namespace", "elastic"), ("service", "fleet-server")],
            ),
            (Get, "/_security/service", RouteId::GetServiceAccount, &[]),
            (
                Get,
                "/_security/service/elastic",
                RouteId::GetServiceAccount,
                &[("namespace", "elastic")],
            ),
            (
                Get,
                "/_security/service/elastic/fleet-server",
                RouteId::GetServiceAccount,
                &[("namespace", "elastic"), ("service", "fleet-server")],
            ),
            (
                Post,
                "/_security/service/elastic/fleet-server/credential/token/a,b/_clear_cache",
                RouteId::ClearServiceAccountTokenStoreCache,
                &[
                    ("namespace", "elastic"),
                    ("service", "fleet-server"),
                    ("name", "a,b"),
                ],
            ),
        ];
        for (method, path, route, params) in cases {
            let (got, got_params) = matched(*method, path);
            assert_eq!(got, *route, "{method} {path}");
            assert_eq!(got_params, p(params), "{method} {path}");
        }
        // Every table entry is reachable and names a distinct handler.
        for &(method, path, route) in ROUTES {
            let concrete = path
                .split('/')
                .map(|s| if s.starts_with('{') { "x" } else { s })
                .collect::<Vec<_>>()
                .join("/");
            let concrete = if concrete.is_empty() {
                "/".to_string()
            } else {
                concrete
            };
            assert_eq!(matched(method, &concrete).0, route, "{method} {path}");
        }
        let names: BTreeSet<&str> = RouteId::ALL.iter().map(|r| r.handler_name()).collect();
        assert_eq!(names.len(), RouteId::ALL.len());
    }

    #[test]
    fn path_params_are_decoded_per_segment() {
        let (_, params) = matched(Method::Post, "/_security/api_key/a%2Cb/_clear_cache");
        assert_eq!(params["ids"], "a,b");
        let (_, params) = matched(Method::Post, "/_security/api_key/a+b/_clear_cache");
        assert_eq!(params["ids"], "a+b");
        // `%2F` decodes inside one segment: it never splits the path.
        let (route, params) = matched(Method::Put, "/_security/user/a%2Fb");
        assert_eq!(route, RouteId::PutUser);
        assert_eq!(params["username"], "a/b");
        let (_, params) = matched(Method::Post, "/_security/api_key/%2A/_clear_cache");
        assert_eq!(params["ids"], "*");
        let (_, params) = matched(Method::Post, "/_security/api_key/*/_clear_cache");
        assert_eq!(params["ids"], "*");
    }

    #[test]
    fn trailing_slashes_ignored_inner_empty_segment_is_an_empty_param() {
        assert_eq!(
            matched(Method::Get, "/_security/api_key/").0,
            RouteId::GetApiKey
        );
        assert_eq!(
            matched(Method::Get, "/_security/api_key//").0,
            RouteId::GetApiKey
        );
        assert_eq!(matched(Method::Get, "//").0, RouteId::Main);
        assert_eq!(matched(Method::Get, "").0, RouteId::Main);
        let (route, params) = matched(Method::Post, "/_security/api_key//_clear_cache");
        assert_eq!(route, RouteId::ClearApiKeyCache);
        assert_eq!(params["ids"], "");
        let (route, params) = matched(
            Method::Post,
            "/_security/service/elastic/fleet-server/credential/token//_clear_cache",
        );
        assert_eq!(route, RouteId::ClearServiceAccountTokenStoreCache);
        assert_eq!(params["name"], "");
        // A leading double slash is an empty first segment: nothing matches it.
        assert_eq!(
            r().resolve(Method::Get, "//_security/api_key"),
            RouteMatch::NoHandler
        );
    }

    #[test]
    fn literal_segments_win_over_placeholders() {
        // `credential` is literal under {service}; GET there is the credentials handler, not the account.
        assert_eq!(
            matched(
                Method::Get,
                "/_security/service/elastic/fleet-server/credential"
            )
            .0,
            RouteId::GetServiceAccountCredentials
        );
        let (route, params) = matched(Method::Get, "/_security/service/elastic/credential");
        assert_eq!(route, RouteId::GetServiceAccount);
        assert_eq!(
            params,
            p(&[("namespace", "elastic"), ("service", "credential")])
        );
        // A literal with only other methods: 405, not the placeholder.
        assert_eq!(
            r().resolve(
                Method::Get,
                "/_security/service/elastic/fleet-server/credential/token"
            ),
            RouteMatch::MethodNotAllowed {
                allowed: vec![Method::Post]
            }
        );

        // PathTrie's rules on a table with literal and placeholder siblings.
        let t = Router::with_routes(&[
            (Method::Get, "/a/b", RouteId::Main),
            (Method::Get, "/a/{p}", RouteId::GetApiKey),
            (Method::Get, "/a/{p}/c", RouteId::Authenticate),
            (Method::Get, "/x/y/z", RouteId::Main),
            (Method::Get, "/x/{q}", RouteId::GetApiKey),
        ]);
        let m = |path: &str| match t.resolve(Method::Get, path) {
            RouteMatch::Matched { route, params } => (route, params),
            other => panic!("{path}: {other:?}"),
        };
        assert_eq!(m("/a/b"), (RouteId::Main, p(&[])));
        assert_eq!(m("/a/q"), (RouteId::GetApiKey, p(&[("p", "q")])));
        // The literal branch fails below `b`: backtrack to the placeholder.
        assert_eq!(m("/a/b/c"), (RouteId::Authenticate, p(&[("p", "b")])));
        // A literal without a handler at the end of the path gives way to a placeholder sibling.
        assert_eq!(m("/x/y"), (RouteId::GetApiKey, p(&[("q", "y")])));
        assert_eq!(m("/x/y/z"), (RouteId::Main, p(&[])));
    }

    #[test]
    fn method_not_allowed_lists_methods() {
        assert_eq!(
            r().resolve(Method::Get, "/_security/api_key/k1/_clear_cache"),
            RouteMatch::MethodNotAllowed {
                allowed: vec![Method::Post]
            }
        );
        assert_eq!(
            r().resolve(Method::Post, "/_security/api_key/_clear_cache"),
            RouteMatch::MethodNotAllowed {
                allowed: vec![Method::Put]
            }
        );
        assert_eq!(
            r().resolve(Method::Patch, "/_security/api_key"),
            RouteMatch::MethodNotAllowed {
                allowed: vec![Method::Get, Method::Post, Method::Put, Method::Delete]
            }
        );
        // ES declares GET and DELETE on this path too (get and delete user), which escache does
        // not implement: they count for the allowed set.
        assert_eq!(
            r().resolve(Method::Patch, "/_security/user/bob"),
            RouteMatch::MethodNotAllowed {
                allowed: vec![Method::Get, Method::Post, Method::Put, Method::Delete]
            }
        );
    }

    #[test]
    fn issue8_d11_unimplemented_literal_routes_win_over_placeholders() {
        // ES's literal segments win over `{username}`/`{name}`/`{ids}`; escache answers them like a
        // path without a handler instead of running another handler.
        for (m, path) in [
            (Method::Post, "/_security/user/_has_privileges"),
            (Method::Get, "/_security/user/_has_privileges"),
            (Method::Post, "/_security/user/bob/_has_privileges"),
            (Method::Get, "/_security/user/_privileges"),
            (Method::Put, "/_security/user/_password"),
            (Method::Post, "/_security/user/bob/_password"),
            (Method::Put, "/_security/user/bob/_enable"),
            (Method::Get, "/_security/user/bob"),
            (Method::Delete, "/_security/role/r1"),
            (Method::Post, "/_security/role/r1/_clear_cache"),
            (Method::Put, "/_security/api_key/grant"),
            (Method::Post, "/_security/api_key/_bulk_update"),
        ] {
            assert_eq!(r().resolve(m, path), RouteMatch::NoHandler, "{m} {path}");
        }
        // A method ES does not declare on the literal path is a 405 naming ES's methods (the
        // placeholder's PUT/POST of put-user are not reached).
        assert_eq!(
            r().resolve(Method::Put, "/_security/user/_has_privileges"),
            RouteMatch::MethodNotAllowed {
                allowed: vec![Method::Get, Method::Post]
            }
        );
        assert_eq!(
            r().resolve(Method::Put, "/_security/user/_privileges"),
            RouteMatch::MethodNotAllowed {
                allowed: vec![Method::Get]
            }
        );
        // The routes escache serves still match.
        assert!(matches!(
            r().resolve(Method::Put, "/_security/user/_hasprivileges"),
            RouteMatch::Matched {
                route: RouteId::PutUser,
                ..
            }
        ));
        assert!(matches!(
            r().resolve(Method::Put, "/_security/api_key/k1"),
            RouteMatch::Matched {
                route: RouteId::UpdateApiKey,
                ..
            }
        ));
        let resp = r()
            .route("POST", "/_security/user/_has_privileges", vec![], None)
            .unwrap_err();
        assert_eq!(resp.status, 400);
        assert_eq!(
            resp.body,
            json!({"error": "no handler found for uri [/_security/user/_has_privileges] and method [POST]"})
        );
    }

    #[test]
    fn no_handler_and_options() {
        assert_eq!(r().resolve(Method::Get, "/_nope"), RouteMatch::NoHandler);
        assert_eq!(
            r().resolve(Method::Post, "/_security/api_key/a/b/c"),
            RouteMatch::NoHandler
        );
        assert_eq!(
            r().resolve(Method::Options, "/_nope"),
            RouteMatch::Options { allowed: vec![] }
        );
        assert_eq!(
            r().resolve(Method::Options, "/"),
            RouteMatch::Options {
                allowed: vec![Method::Get, Method::Head]
            }
        );
    }

    #[test]
    fn responses_for_routing_failures() {
        let resp = r()
            .route(
                "GET",
                "/_security/api_key/k1/_clear_cache?pretty",
                vec![],
                None,
            )
            .unwrap_err();
        assert_eq!(resp.status, 405);
        assert_eq!(
            resp.body,
            json!({"error": "Incorrect HTTP method for uri [/_security/api_key/k1/_clear_cache?pretty] and method [GET], allowed: [POST]", "status": 405})
        );
        assert_eq!(resp.header("Allow"), Some("POST"));
        assert_eq!(resp.header("X-Elastic-Product"), Some("Elasticsearch"));

        let resp = r()
            .route("PATCH", "/_security/user/bob", vec![], None)
            .unwrap_err();
        assert_eq!(resp.header("Allow"), Some("GET,POST,PUT,DELETE"));
        assert!(resp.body["error"]
            .as_str()
            .unwrap()
            .ends_with("allowed: [GET, POST, PUT, DELETE]"));

        let resp = r()
            .route("GET", "/_nope/x?a=1&b", vec![], None)
            .unwrap_err();
        assert_eq!(resp.status, 400);
        assert_eq!(
            resp.body,
            json!({"error": "no handler found for uri [/_nope/x?a=1&b] and method [GET]"})
        );
        assert_eq!(resp.header("Allow"), None);

        let resp = r()
            .route("OPTIONS", "/_security/api_key", vec![], None)
            .unwrap_err();
        assert_eq!(resp.status, 200);
        assert_eq!(resp.header("Allow"), Some("GET,POST,PUT,DELETE"));
        assert!(resp.body_bytes().is_empty());
    }

    #[test]
    fn unknown_methods_are_405() {
        let resp = r()
            .route("BREW", "/_security/api_key/k/_clear_cache", vec![], None)
            .unwrap_err();
        assert_eq!(resp.status, 405);
        assert_eq!(
            resp.body,
            json!({"error": "Unexpected http method: BREW, allowed: [POST]", "status": 405})
        );
        assert_eq!(resp.header("Allow"), Some("POST"));
        let resp = r().route("get", "/_nope", vec![], None).unwrap_err();
        assert_eq!(resp.status, 405);
        assert_eq!(
            resp.body,
            json!({"error": "Unexpected http method: get", "status": 405})
        );
        assert_eq!(resp.header("Allow"), None);
    }

    #[test]
    fn malformed_path_escape_is_405_with_message() {
        let resp = r()
            .route("POST", "/_security/api_key/%ZZ/_clear_cache", vec![], None)
            .unwrap_err();
        assert_eq!(resp.status, 405);
        assert_eq!(
            resp.body,
            json!({"error": "invalid escape sequence `%ZZ' at index 0 of: %ZZ, allowed: [POST]", "status": 405})
        );
        let resp = r()
            .route("POST", "/_security/api_key/a%/_clear_cache", vec![], None)
            .unwrap_err();
        assert_eq!(
            resp.body["error"],
            "unterminated escape sequence at end of string: a%, allowed: [POST]"
        );
    }

    #[test]
    fn bad_query_is_400_error_body() {
        let resp = r()
            .route(
                "POST",
                "/_security/api_key/k/_clear_cache?x=%",
                vec![],
                None,
            )
            .unwrap_err();
        assert_eq!(resp.status, 400);
        assert_eq!(resp.body["error"]["type"], "bad_parameter_exception");
        assert_eq!(resp.body["status"], 400);
    }

    #[test]
    fn error_trace_is_validated_before_routing() {
        let resp = r()
            .route("GET", "/_nope?error_trace=maybe", vec![], None)
            .unwrap_err();
        assert_eq!(resp.status, 400);
        assert_eq!(
            resp.body,
            json!({"error": "Failed to parse value [maybe] as only [true] or [false] are allowed.", "status": 400})
        );
        assert!(r().route("GET", "/?error_trace", vec![], None).is_ok());
    }

    #[test]
    fn dispatch_fills_path_params_and_checks_content_type() {
        let (req, route) = r()
            .route(
                "PUT",
                "/_security/api_key/k1?ids=other",
                vec![(
                    "content-type".into(),
                    "application/vnd.elasticsearch+json; compatible-with=8".into(),
                )],
                Some(b"{}".to_vec()),
            )
            .unwrap();
        assert_eq!(route, RouteId::UpdateApiKey);
        assert_eq!(req.param("ids"), Some("k1"));

        let resp = r()
            .route("POST", "/_security/api_key", vec![], Some(b"{}".to_vec()))
            .unwrap_err();
        assert_eq!(resp.status, 406);
        assert_eq!(
            resp.body,
            json!({"error": "Content-Type header is missing", "status": 406})
        );

        let resp = r()
            .route(
                "POST",
                "/_security/api_key",
                vec![("Content-Type".into(), "text/plain".into())],
                Some(b"{}".to_vec()),
            )
            .unwrap_err();
        assert_eq!(
            resp.body,
            json!({"error": "Content-Type header [text/plain] is not supported", "status": 406})
        );

        // No body: no Content-Type needed. An empty body is no body.
        assert!(r()
            .route("POST", "/_security/api_key", vec![], Some(Vec::new()))
            .is_ok());
        assert!(r()
            .route(
                "POST",
                "/_security/api_key",
                vec![(
                    "Content-Type".into(),
                    "application/json; charset=UTF-8".into()
                )],
                Some(b"{}".to_vec())
            )
            .is_ok());
    }

    #[test]
    fn conflicting_wildcards_are_rejected_like_es() {
        let result = std::panic::catch_unwind(|| {
            Router::with_routes(&[
                (Method::Get, "/a/{x}", RouteId::Main),
                (Method::Get, "/a/{y}/b", RouteId::Main),
            ])
        });
        assert!(result.is_err());
    }

    #[test]
    fn action_names() {
        assert_eq!(
            RouteId::ClearApiKeyCache.action(),
            "cluster:admin/xpack/security/cache/clear"
        );
        assert_eq!(
            RouteId::ClearServiceAccountTokenStoreCache.action(),
            "cluster:admin/xpack/security/cache/clear"
        );
        assert_eq!(
            RouteId::ClearApiKeyCache.handler_name(),
            "security_clear_api_key_cache_action"
        );
    }
}
