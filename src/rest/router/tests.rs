//! Tests of the route table, path matching, dispatch and the routing-failure answers.

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
    // Distinct, except `RestSetEnabledAction`: one ES handler serving two client APIs
    // (`security.enable_user`, `security.disable_user`), so two route ids.
    assert_eq!(names.len(), RouteId::ALL.len() - 1);
    assert_eq!(
        RouteId::EnableUser.handler_name(),
        RouteId::DisableUser.handler_name()
    );
    // One client API per handler: `cluster.requests` tells calls apart by this name.
    let apis: BTreeSet<&str> = RouteId::ALL.iter().map(|r| r.api_name()).collect();
    assert_eq!(apis.len(), RouteId::ALL.len());
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
        (Method::Post, "/_security/role"),
        (Method::Delete, "/_security/role"),
        (Method::Get, "/_nodes/stats"),
        (Method::Get, "/_nodes/node-0/hot_threads"),
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
    // The user and role routes escache serves since issue 15 win over put-user/put-role too.
    for (m, path, route) in [
        (
            Method::Put,
            "/_security/user/_password",
            RouteId::ChangePassword,
        ),
        (
            Method::Post,
            "/_security/user/bob/_password",
            RouteId::ChangePassword,
        ),
        (
            Method::Put,
            "/_security/user/bob/_enable",
            RouteId::EnableUser,
        ),
        (
            Method::Post,
            "/_security/user/bob/_disable",
            RouteId::DisableUser,
        ),
        (Method::Get, "/_security/user/bob", RouteId::GetUsers),
        (Method::Get, "/_security/user", RouteId::GetUsers),
        (Method::Delete, "/_security/user/bob", RouteId::DeleteUser),
        (Method::Get, "/_security/role", RouteId::GetRoles),
        (Method::Delete, "/_security/role/r1", RouteId::DeleteRole),
        (
            Method::Post,
            "/_security/role/r1/_clear_cache",
            RouteId::ClearRolesCache,
        ),
        (
            Method::Post,
            "/_security/realm/default_native/_clear_cache",
            RouteId::ClearRealmCache,
        ),
        (
            Method::Post,
            "/_security/privilege/app/_clear_cache",
            RouteId::ClearPrivilegesCache,
        ),
    ] {
        assert_eq!(matched(m, path).0, route, "{m} {path}");
    }
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
    // Issue 15: has-privileges, user privileges, grant and bulk update are served now, by their
    // own handlers (never put-user's or update-API-key's).
    for (m, path, route) in [
        (
            Method::Post,
            "/_security/user/_has_privileges",
            RouteId::HasPrivileges,
        ),
        (
            Method::Get,
            "/_security/user/bob/_has_privileges",
            RouteId::HasPrivileges,
        ),
        (
            Method::Get,
            "/_security/user/_privileges",
            RouteId::GetUserPrivileges,
        ),
        (
            Method::Put,
            "/_security/api_key/grant",
            RouteId::GrantApiKey,
        ),
        (
            Method::Post,
            "/_security/api_key/_bulk_update",
            RouteId::BulkUpdateApiKey,
        ),
        (Method::Get, "/_nodes/_all/http", RouteId::NodesInfo),
        (
            Method::Get,
            "/_cluster/health/.security",
            RouteId::ClusterHealth,
        ),
    ] {
        assert!(
            matches!(r().resolve(m, path), RouteMatch::Matched { route: r, .. } if r == route),
            "{m} {path}"
        );
    }
    // ES's other `/_nodes/` handlers are not nodes info's.
    assert_eq!(
        r().resolve(Method::Get, "/_nodes/stats"),
        RouteMatch::NoHandler
    );
    assert_eq!(
        r().resolve(Method::Get, "/_nodes/n1/hot_threads"),
        RouteMatch::NoHandler
    );
    assert_eq!(
        r().resolve(Method::Post, "/_security/api_key/grant"),
        r().resolve(Method::Put, "/_security/api_key/grant")
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
