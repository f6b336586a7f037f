//! Cluster privileges, denial messages and API key privilege intersection (AK-R5.7, ST-R4).

use super::*;

// ---------------------------------------------------------------------------------------------
// Privilege matrix

#[test]
fn r5_7_only_all_and_manage_security_clear_caches() {
    let c = ctx(CLEAR_SECURITY_CACHE);
    assert!(grants("all", CLEAR_SECURITY_CACHE, &c));
    assert!(grants("manage_security", CLEAR_SECURITY_CACHE, &c));
    for denied in [
        "manage",
        "manage_api_key",
        "manage_own_api_key",
        "manage_service_account",
        "read_security",
        "monitor",
        "none",
        "manage_token",
    ] {
        assert!(!grants(denied, CLEAR_SECURITY_CACHE, &c), "{denied}");
    }
    // Also with a context claiming the caller's own keys: manage_own_api_key only covers api_key/*.
    assert!(!grants(
        "manage_own_api_key",
        CLEAR_SECURITY_CACHE,
        &RequestContext::new(ApiKeyRequest::Create)
    ));
}

#[test]
fn api_key_actions_matrix() {
    for action in [
        CREATE_API_KEY,
        GET_API_KEY,
        INVALIDATE_API_KEY,
        UPDATE_API_KEY,
        QUERY_API_KEY,
    ] {
        let c = ctx(action);
        assert!(grants("all", action, &c), "{action}");
        assert!(grants("manage_security", action, &c), "{action}");
        assert!(grants("manage_api_key", action, &c), "{action}");
        assert!(!grants("manage", action, &c), "{action}");
        assert!(!grants("manage_service_account", action, &c), "{action}");
        assert!(!grants("monitor", action, &c), "{action}");
    }
    // read_security: get and query only.
    assert!(grants("read_security", GET_API_KEY, &ctx(GET_API_KEY)));
    assert!(grants("read_security", QUERY_API_KEY, &ctx(QUERY_API_KEY)));
    assert!(!grants(
        "read_security",
        CREATE_API_KEY,
        &ctx(CREATE_API_KEY)
    ));
    assert!(!grants(
        "read_security",
        INVALIDATE_API_KEY,
        &ctx(INVALIDATE_API_KEY)
    ));
    // manage_own_api_key: create (and update) always; get/invalidate/query only for own keys.
    assert!(grants(
        "manage_own_api_key",
        CREATE_API_KEY,
        &ctx(CREATE_API_KEY)
    ));
    assert!(grants(
        "manage_own_api_key",
        UPDATE_API_KEY,
        &ctx(UPDATE_API_KEY)
    ));
    for action in [GET_API_KEY, INVALIDATE_API_KEY, QUERY_API_KEY] {
        assert!(
            !grants("manage_own_api_key", action, &ctx(action)),
            "{action}"
        );
        assert!(
            grants(
                "manage_own_api_key",
                action,
                &RequestContext::owned_by_caller(action)
            ),
            "{action}"
        );
    }
    // grant is never "own".
    assert!(!grants(
        "manage_own_api_key",
        GRANT_API_KEY,
        &ctx(GRANT_API_KEY)
    ));
    assert!(grants("grant_api_key", GRANT_API_KEY, &ctx(GRANT_API_KEY)));
}

#[test]
fn service_account_user_role_and_monitor_matrix() {
    for action in [CREATE_SERVICE_ACCOUNT_TOKEN, DELETE_SERVICE_ACCOUNT_TOKEN] {
        let c = ctx(action);
        assert!(grants("manage_service_account", action, &c));
        assert!(grants("manage_security", action, &c));
        assert!(!grants("read_security", action, &c));
        assert!(!grants("manage", action, &c));
    }
    for action in [
        GET_SERVICE_ACCOUNT,
        GET_SERVICE_ACCOUNT_CREDENTIALS,
        GET_SERVICE_ACCOUNT_CREDENTIALS_NODES,
    ] {
        let c = ctx(action);
        assert!(grants("manage_service_account", action, &c), "{action}");
        assert!(grants("read_security", action, &c), "{action}");
    }
    for action in [PUT_USER, PUT_ROLE] {
        let c = ctx(action);
        assert!(grants("manage_security", action, &c));
        assert!(grants("all", action, &c));
        assert!(!grants("manage", action, &c));
        assert!(!grants("read_security", action, &c));
    }
    let c = ctx(CLUSTER_MAIN);
    for ok in ["monitor", "manage", "all"] {
        assert!(grants(ok, CLUSTER_MAIN, &c), "{ok}");
    }
    for no in ["manage_security", "monitor_ml", "none", "transport_client"] {
        assert!(!grants(no, CLUSTER_MAIN, &c), "{no}");
    }
    // `all` also covers the index template actions; `manage_index_templates` too, `monitor` only GET.
    assert!(grants("all", "indices:admin/template/put", &c));
    assert!(grants(
        "manage_index_templates",
        "indices:admin/template/put",
        &c
    ));
    assert!(!grants("monitor", "indices:admin/template/put", &c));
    assert!(grants("monitor", "indices:admin/template/get", &c));
}

#[test]
fn action_patterns_are_privileges() {
    let c = ctx(CLEAR_SECURITY_CACHE);
    // A cluster action name is a pattern (name + `*`).
    assert!(grants(
        "cluster:admin/xpack/security/cache/clear",
        CLEAR_SECURITY_CACHE,
        &c
    ));
    assert!(grants(
        "cluster:admin/xpack/security/cache",
        CLEAR_SECURITY_CACHE,
        &c
    ));
    assert!(grants(
        "cluster:admin/xpack/security/*",
        CLEAR_SECURITY_CACHE,
        &c
    ));
    assert!(grants(
        "cluster:admin/*/cache/clear",
        CLEAR_SECURITY_CACHE,
        &c
    ));
    assert!(!grants(
        "cluster:admin/xpack/security/api_key/*",
        CLEAR_SECURITY_CACHE,
        &c
    ));
    let p = ClusterPrivilege::resolve("Cluster:Admin/XPack/Security/*").unwrap();
    assert!(p.is_action_pattern());
    assert_eq!(p.name(), "cluster:admin/xpack/security/*");
    // Names are case-insensitive.
    let m = ClusterPrivilege::resolve("MANAGE_SECURITY").unwrap();
    assert!(!m.is_action_pattern());
    assert_eq!(m.name(), "manage_security");
    assert!(m.grants(CLEAR_SECURITY_CACHE, &c));
    // Unknown names grant nothing.
    assert!(!grants("manage_everything", CLEAR_SECURITY_CACHE, &c));
    assert!(is_cluster_action("cluster:monitor/main"));
    assert!(is_cluster_action("indices:admin/index_template/put"));
    assert!(!is_cluster_action("indices:data/read/search"));
}

#[test]
fn predefined_names_include_the_whole_resolver_list() {
    let names = cluster_privilege_names();
    assert_eq!(names.join(","), PREDEFINED);
    for n in [
        "monitor_ml",
        "manage_index_templates",
        "manage_ilm",
        "read_ccr",
        "cancel_task",
        "manage_enrich",
        "monitor_snapshot",
    ] {
        assert!(ClusterPrivilege::resolve(n).is_ok(), "{n}");
    }
}

// ---------------------------------------------------------------------------------------------
// Privilege lists for the 403

#[test]
fn privilege_lists_follow_es_evidence() {
    let f = |a: &str| find_privileges_that_grant(a, &ctx(a));
    assert_eq!(f(CLEAR_SECURITY_CACHE), ["manage_security", "all"]);
    assert_eq!(f(PUT_ROLE), ["manage_security", "all"]);
    assert_eq!(f(PUT_USER), ["manage_security", "all"]);
    assert_eq!(
        f(CREATE_API_KEY),
        [
            "manage_own_api_key",
            "manage_api_key",
            "manage_security",
            "all"
        ]
    );
    assert_eq!(f(CLUSTER_MAIN), ["monitor", "manage", "all"]);
    assert_eq!(
        f(GET_API_KEY),
        ["read_security", "manage_api_key", "manage_security", "all"]
    );
    assert_eq!(
        find_privileges_that_grant(GET_API_KEY, &RequestContext::owned_by_caller(GET_API_KEY)),
        [
            "manage_own_api_key",
            "read_security",
            "manage_api_key",
            "manage_security",
            "all"
        ]
    );
    assert_eq!(
        f(INVALIDATE_API_KEY),
        ["manage_api_key", "manage_security", "all"]
    );
    assert_eq!(
        f(CREATE_SERVICE_ACCOUNT_TOKEN),
        ["manage_service_account", "manage_security", "all"]
    );
    // A tie on implies-count, broken by name.
    assert_eq!(
        f(GET_SERVICE_ACCOUNT_CREDENTIALS),
        [
            "manage_service_account",
            "read_security",
            "manage_security",
            "all"
        ]
    );
    assert!(f("cluster:nothing/at/all").ends_with(&["manage", "all"]));
    assert!(f("indices:data/read/search").is_empty());
}

// ---------------------------------------------------------------------------------------------
// 403 messages

#[test]
fn user_denied_message() {
    let subject = Subject::native_user(
        "bob",
        &["zeta", "alpha", "ghost"],
        vec![role("zeta", &["manage"]), role("alpha", &["monitor"])],
    );
    let err = authorize(&subject, CLEAR_SECURITY_CACHE, &ctx(CLEAR_SECURITY_CACHE)).unwrap_err();
    assert_eq!(err.kind, "security_exception");
    assert_eq!(err.status, 403);
    assert_eq!(
        err.reason,
        "action [cluster:admin/xpack/security/cache/clear] is unauthorized for user [bob] with effective roles \
         [alpha,zeta] (assigned roles [ghost] were not found), this action is granted by the cluster privileges \
         [manage_security,all]"
    );
    assert!(err.headers.is_empty());
    assert_eq!(
        err.to_body(),
        json!({"error": {"root_cause": [{"type": "security_exception", "reason": err.reason}],
                         "type": "security_exception", "reason": err.reason}, "status": 403})
    );

    let nobody = Subject::native_user("carol", &[], vec![]);
    let err = authorize(&nobody, CLUSTER_MAIN, &ctx(CLUSTER_MAIN)).unwrap_err();
    assert_eq!(
        err.reason,
        "action [cluster:monitor/main] is unauthorized for user [carol] with effective roles [], this action is \
         granted by the cluster privileges [monitor,manage,all]"
    );
}

#[test]
fn api_key_and_service_account_denied_messages() {
    let key = Subject::api_key(
        "k1d",
        "alice",
        "default_native",
        vec![role("r", &["monitor"])],
        vec![role("owner", &["all"])],
    );
    let err = authorize(&key, CREATE_API_KEY, &ctx(CREATE_API_KEY)).unwrap_err();
    assert_eq!(
        err.reason,
        "action [cluster:admin/xpack/security/api_key/create] is unauthorized for API key id [k1d] of user \
         [alice], this action is granted by the cluster privileges \
         [manage_own_api_key,manage_api_key,manage_security,all]"
    );
    let sa = Subject::service_account(
        "elastic/fleet-server",
        role("elastic/fleet-server", &["monitor"]),
    );
    let err = authorize(&sa, CLEAR_SECURITY_CACHE, &ctx(CLEAR_SECURITY_CACHE)).unwrap_err();
    assert_eq!(
        err.reason,
        "action [cluster:admin/xpack/security/cache/clear] is unauthorized for service account \
         [elastic/fleet-server], this action is granted by the cluster privileges [manage_security,all]"
    );
    assert_eq!(err.status, 403);
    // The service account's own role is used.
    assert!(authorize(&sa, CLUSTER_MAIN, &ctx(CLUSTER_MAIN)).is_ok());
}

#[test]
fn index_actions_get_no_cluster_privilege_suffix() {
    let s = user_with("bob", &["all"]);
    let err = authorize(&s, "indices:data/read/search", &RequestContext::none()).unwrap_err();
    assert_eq!(
        err.reason,
        "action [indices:data/read/search] is unauthorized for user [bob] with effective roles [r1]"
    );
}

#[test]
fn authorize_grants_with_any_role() {
    let s = Subject::native_user(
        "bob",
        &["a", "b"],
        vec![role("a", &["monitor"]), role("b", &["manage_security"])],
    );
    assert!(authorize(&s, CLUSTER_MAIN, &ctx(CLUSTER_MAIN)).is_ok());
    assert!(authorize(&s, CLEAR_SECURITY_CACHE, &ctx(CLEAR_SECURITY_CACHE)).is_ok());
    let elastic =
        Subject::reserved_user("elastic", &["superuser"], vec![superuser_role_descriptor()]);
    for a in [
        CLEAR_SECURITY_CACHE,
        PUT_USER,
        PUT_ROLE,
        CREATE_API_KEY,
        GET_API_KEY,
        CLUSTER_MAIN,
    ] {
        assert!(authorize(&elastic, a, &ctx(a)).is_ok(), "{a}");
    }
    // manage: everything but security.
    let m = user_with("m", &["manage"]);
    assert!(authorize(&m, "cluster:admin/settings/update", &RequestContext::none()).is_ok());
    assert!(authorize(&m, CLEAR_SECURITY_CACHE, &ctx(CLEAR_SECURITY_CACHE)).is_err());
}

#[test]
fn authenticate_is_always_allowed_for_the_caller() {
    let c = RequestContext::none();
    assert!(authorize(
        &Subject::native_user("nobody", &[], vec![]),
        AUTHENTICATE,
        &c
    )
    .is_ok());
    assert!(authorize(
        &Subject::api_key("k", "u", "r", vec![], vec![]),
        AUTHENTICATE,
        &c
    )
    .is_ok());
    assert!(authorize(
        &Subject::service_account("elastic/kibana", role("elastic/kibana", &[])),
        AUTHENTICATE,
        &c
    )
    .is_ok());
}

#[test]
fn change_password_is_allowed_for_own_native_or_reserved_user() {
    let bob = Subject::native_user("bob", &[], vec![]);
    let own = RequestContext::none().with_target_username("bob");
    let other = RequestContext::none().with_target_username("eve");
    assert!(authorize(&bob, CHANGE_PASSWORD, &own).is_ok());
    let err = authorize(&bob, CHANGE_PASSWORD, &other).unwrap_err();
    assert!(err
        .reason
        .ends_with("this action is granted by the cluster privileges [manage_security,all]"));
    let key = Subject::api_key("k", "bob", "default_native", vec![], vec![]);
    assert!(authorize(&key, CHANGE_PASSWORD, &own).is_err());
}

// ---------------------------------------------------------------------------------------------
// API keys: own descriptors AND limited-by descriptors

#[test]
fn api_key_needs_both_its_own_and_its_limited_by_privileges() {
    // The key asks for manage_security, but its owner only had manage_api_key.
    let key = Subject::api_key(
        "k1",
        "alice",
        "default_native",
        vec![role("asked", &["manage_security"])],
        vec![role("owner", &["manage_api_key"])],
    );
    let err = authorize(&key, CLEAR_SECURITY_CACHE, &ctx(CLEAR_SECURITY_CACHE)).unwrap_err();
    assert!(err.reason.starts_with(
        "action [cluster:admin/xpack/security/cache/clear] is unauthorized for API key id [k1]"
    ));
    assert!(authorize(&key, CREATE_API_KEY, &ctx(CREATE_API_KEY)).is_ok());

    // The owner is a superuser but the key only asked for monitor.
    let narrow = Subject::api_key(
        "k2",
        "elastic",
        "reserved",
        vec![role("asked", &["monitor"])],
        vec![superuser_role_descriptor()],
    );
    assert!(authorize(&narrow, CLUSTER_MAIN, &ctx(CLUSTER_MAIN)).is_ok());
    assert!(authorize(&narrow, CLEAR_SECURITY_CACHE, &ctx(CLEAR_SECURITY_CACHE)).is_err());

    // No role descriptors: the key has its owner's privileges.
    let inherit = Subject::api_key(
        "k3",
        "elastic",
        "reserved",
        vec![],
        vec![superuser_role_descriptor()],
    );
    assert!(authorize(&inherit, CLEAR_SECURITY_CACHE, &ctx(CLEAR_SECURITY_CACHE)).is_ok());

    // No role descriptors and an owner without privileges: nothing.
    let empty = Subject::api_key("k4", "x", "default_native", vec![], vec![]);
    assert!(authorize(&empty, CLUSTER_MAIN, &ctx(CLUSTER_MAIN)).is_err());

    // Several own descriptors are a union, still intersected with limited-by.
    let union = Subject::api_key(
        "k5",
        "x",
        "default_native",
        vec![role("a", &["monitor"]), role("b", &["manage_security"])],
        vec![role("o1", &["manage_security"]), role("o2", &["manage"])],
    );
    assert!(authorize(&union, CLUSTER_MAIN, &ctx(CLUSTER_MAIN)).is_ok());
    assert!(authorize(&union, CLEAR_SECURITY_CACHE, &ctx(CLEAR_SECURITY_CACHE)).is_ok());
}

#[test]
fn api_key_manage_own_only_covers_itself() {
    let key = Subject::api_key(
        "self-id",
        "alice",
        "default_native",
        vec![],
        vec![role("owner", &["manage_own_api_key"])],
    );
    let get = |id: Option<&str>, owner: bool, with_limited_by: bool| {
        RequestContext::new(ApiKeyRequest::Get {
            id: id.map(Into::into),
            username: None,
            realm_name: None,
            owner,
            with_limited_by,
        })
    };
    assert!(authorize(&key, GET_API_KEY, &get(Some("self-id"), false, false)).is_ok());
    assert!(authorize(&key, GET_API_KEY, &get(Some("other"), false, false)).is_err());
    // owner=true does not make an API key the owner of anything but itself.
    let err = authorize(&key, GET_API_KEY, &get(None, true, false)).unwrap_err();
    assert_eq!(
        err.reason,
        "action [cluster:admin/xpack/security/api_key/get] is unauthorized for API key id [self-id] of user \
         [alice], this action is granted by the cluster privileges \
         [read_security,manage_api_key,manage_security,all]"
    );
    // Its own limited-by descriptors need more than manage_own_api_key.
    assert!(authorize(&key, GET_API_KEY, &get(Some("self-id"), false, true)).is_err());
    // Invalidating only itself.
    let inv = |ids: &[&str]| {
        RequestContext::new(ApiKeyRequest::Invalidate {
            ids: Some(ids.iter().map(std::string::ToString::to_string).collect()),
            username: None,
            realm_name: None,
            owner: false,
        })
    };
    assert!(authorize(&key, INVALIDATE_API_KEY, &inv(&["self-id"])).is_ok());
    assert!(authorize(&key, INVALIDATE_API_KEY, &inv(&["self-id", "other"])).is_err());
}

#[test]
fn user_manage_own_api_key_by_owner_flag_or_username_and_realm() {
    let bob = user_with("bob", &["manage_own_api_key"]);
    let get = |u: Option<&str>, r: Option<&str>, owner: bool| {
        RequestContext::new(ApiKeyRequest::Get {
            id: Some("any".into()),
            username: u.map(Into::into),
            realm_name: r.map(Into::into),
            owner,
            with_limited_by: false,
        })
    };
    assert!(authorize(&bob, GET_API_KEY, &get(None, None, true)).is_ok());
    assert!(authorize(
        &bob,
        GET_API_KEY,
        &get(Some("bob"), Some("default_native"), false)
    )
    .is_ok());
    assert!(authorize(
        &bob,
        GET_API_KEY,
        &get(Some("eve"), Some("default_native"), false)
    )
    .is_err());
    let err = authorize(&bob, GET_API_KEY, &get(None, None, false)).unwrap_err();
    assert!(err.reason.ends_with(
        "this action is granted by the cluster privileges [read_security,manage_api_key,manage_security,all]"
    ));
    assert!(authorize(&bob, CREATE_API_KEY, &ctx(CREATE_API_KEY)).is_ok());
    assert!(authorize(&bob, CLEAR_SECURITY_CACHE, &ctx(CLEAR_SECURITY_CACHE)).is_err());
}

#[test]
fn query_api_key_is_narrowed_to_own_keys_when_needed() {
    let own = user_with("bob", &["manage_own_api_key"]);
    let out = authorize_with_outcome(&own, QUERY_API_KEY, &ctx(QUERY_API_KEY)).unwrap();
    assert!(out.query_filtered_to_owner);
    let full = user_with("admin", &["manage_api_key"]);
    let out = authorize_with_outcome(&full, QUERY_API_KEY, &ctx(QUERY_API_KEY)).unwrap();
    assert!(!out.query_filtered_to_owner);
    // Denied after the retry: the list is computed for the narrowed request.
    let mon = user_with("mon", &["monitor"]);
    let err = authorize(&mon, QUERY_API_KEY, &ctx(QUERY_API_KEY)).unwrap_err();
    assert!(err.reason.ends_with(
        "this action is granted by the cluster privileges \
         [manage_own_api_key,read_security,manage_api_key,manage_security,all]"
    ));
}
