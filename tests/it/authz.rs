//! Authorization: cluster privileges (R5.7, ST-R4), the 403 message, role and user
//! request parsing, and API key privilege intersection.
//!
//! Expectations are written out by hand from Elasticsearch's sources (`ClusterPrivilegeResolver`,
//! `AuthorizationDenialMessages`, `RoleDescriptor`, `PutUserRequestBuilder`, `Validation`) and the
//! Elasticsearch test evidence cited in docs/rules.md, never computed by the module itself.

use escache::security::authz::*;
use escache::security::hashing::Hasher;
use rand::SeedableRng;
use serde_json::{json, Value};

fn ctx(action: &str) -> RequestContext {
    RequestContext::for_action(action)
}

fn bcrypt() -> Hasher {
    Hasher::resolve("bcrypt").unwrap()
}

fn role(name: &str, cluster: &[&str]) -> RoleDescriptor {
    RoleDescriptor::with_cluster(name, cluster)
}

fn user_with(name: &str, privileges: &[&str]) -> Subject {
    Subject::native_user(name, &["r1"], vec![role("r1", privileges)])
}

const PREDEFINED: &str = "manage_own_api_key,manage_data_stream_global_retention,monitor_data_stream_global_retention,\
none,cancel_task,cross_cluster_replication,cross_cluster_search,delegate_pki,grant_api_key,manage_autoscaling,\
manage_index_templates,manage_logstash_pipelines,manage_oidc,manage_saml,manage_search_application,\
manage_search_query_rules,manage_search_synonyms,manage_service_account,manage_token,manage_user_profile,\
monitor_connector,monitor_enrich,monitor_inference,monitor_ml,monitor_rollup,monitor_snapshot,\
monitor_text_structure,monitor_watcher,post_behavioral_analytics_event,read_ccr,read_connector_secrets,\
read_fleet_secrets,read_ilm,read_pipeline,read_security,read_slm,transport_client,write_connector_secrets,\
write_fleet_secrets,create_snapshot,manage_api_key,manage_behavioral_analytics,manage_ccr,manage_connector,\
manage_enrich,manage_ilm,manage_inference,manage_ml,manage_rollup,manage_slm,manage_watcher,\
monitor_data_frame_transforms,monitor_transform,manage_ingest_pipelines,manage_pipeline,\
manage_data_frame_transforms,manage_transform,manage_security,monitor,manage,all";

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

// ---------------------------------------------------------------------------------------------
// Role parsing and validation

#[test]
fn role_parse_round_trip_and_field_order() {
    let body = json!({
        "description": "ops",
        "run_as": ["other"],
        "metadata": {"team": "ops", "v": 1},
        "indices": [
            {"names": "logs-*", "privileges": ["read"], "query": {"match": {"a": 1}}},
            {"names": ["a", "b"], "privileges": ["read", "write"],
             "field_security": {"grant": ["*"], "except": ["secret"]}, "allow_restricted_indices": true}
        ],
        "cluster": ["monitor", "manage_security", "cluster:admin/xpack/security/cache/*"],
        "applications": [{"application": "kibana", "privileges": ["read"], "resources": ["*"]}],
        "transient_metadata": {"enabled": false}
    });
    let rd = parse_put_role("ops", &body).unwrap();
    assert_eq!(rd.name, "ops");
    assert_eq!(
        rd.cluster,
        [
            "monitor",
            "manage_security",
            "cluster:admin/xpack/security/cache/*"
        ]
    );
    let out = rd.to_json();
    let keys: Vec<&String> = out.as_object().unwrap().keys().collect();
    assert_eq!(
        keys,
        [
            "cluster",
            "indices",
            "applications",
            "run_as",
            "metadata",
            "transient_metadata",
            "description"
        ]
    );
    assert_eq!(
        out["indices"],
        json!([
            {"names": ["logs-*"], "privileges": ["read"], "query": "{\"match\":{\"a\":1}}",
             "allow_restricted_indices": false},
            {"names": ["a", "b"], "privileges": ["read", "write"],
             "field_security": {"grant": ["*"], "except": ["secret"]}, "allow_restricted_indices": true}
        ])
    );
    assert_eq!(out["transient_metadata"], json!({"enabled": true}));
    // Parsing the display form gives back an equal descriptor.
    let again = RoleDescriptor::parse("ops", &out).unwrap();
    assert_eq!(again, rd);
    // A different role is not equal.
    let mut other = rd.clone();
    other.run_as.clear();
    assert_ne!(other, rd);
    // The document form writes `type` instead of `transient_metadata`.
    let doc = rd.to_doc_json();
    assert_eq!(doc["type"], json!("role"));
    assert!(doc.get("transient_metadata").is_none());
}

#[test]
fn minimal_role_serializes_every_list() {
    let rd = parse_put_role("empty", &json!({})).unwrap();
    assert_eq!(
        serde_json::to_string(&rd.to_json()).unwrap(),
        r#"{"cluster":[],"indices":[],"applications":[],"run_as":[],"metadata":{},"transient_metadata":{"enabled":true}}"#
    );
}

#[test]
fn role_parse_errors() {
    let err = parse_put_role("r1", &json!({"cluster": [], "bogus": 1})).unwrap_err();
    assert_eq!(err.kind, "parse_exception");
    assert_eq!(err.status, 400);
    assert_eq!(
        err.reason,
        "failed to parse role [r1]. unexpected field [bogus]"
    );

    let err = parse_put_role("r1", &json!(["x"])).unwrap_err();
    assert_eq!(
        err.reason,
        "failed to parse role [r1]. expected an object but found [START_ARRAY] instead"
    );

    let err = parse_put_role("r1", &json!({"cluster": "all"})).unwrap_err();
    assert_eq!(err.reason, "failed to parse role [r1]");
    let cause = err.caused_by.as_deref().unwrap();
    assert_eq!(
        cause.reason,
        "could not parse [cluster] field. expected a string array but found [VALUE_STRING] value instead"
    );
    assert_eq!(err.root_cause().reason, cause.reason);

    let err = parse_put_role("r1", &json!({"metadata": []})).unwrap_err();
    assert_eq!(
        err.reason,
        "expected field [metadata] to be of type object, but found [START_ARRAY] instead"
    );

    let err = parse_put_role("r1", &json!({"indices": [{"privileges": ["read"]}]})).unwrap_err();
    assert_eq!(
        err.reason,
        "failed to parse indices privileges for role [r1]. missing required [names] field"
    );
    let err = parse_put_role("r1", &json!({"indices": [{"names": ["a"]}]})).unwrap_err();
    assert_eq!(
        err.reason,
        "failed to parse indices privileges for role [r1]. missing required [privileges] field"
    );
    let err = parse_put_role(
        "r1",
        &json!({"indices": [{"names": [], "privileges": ["read"]}]}),
    )
    .unwrap_err();
    assert_eq!(
        err.reason,
        "failed to parse indices privileges for role [r1]. [names] cannot be an empty array"
    );
    let err = parse_put_role("r1", &json!({"indices": {"names": ["a"]}})).unwrap_err();
    assert_eq!(
        err.reason,
        "failed to parse indices privileges for role [r1]. expected field [indices] value to be an array, but found [START_OBJECT] instead"
    );
    let err = parse_put_role(
        "r1",
        &json!({"indices": [{"names": ["a"], "privileges": ["read"], "colour": 1}]}),
    )
    .unwrap_err();
    assert_eq!(
        err.reason,
        "failed to parse indices privileges for role [r1]. unexpected field [colour]"
    );
    let err = parse_put_role(
        "r1",
        &json!({"applications": [{"application": "app", "privileges": ["read"]}]}),
    )
    .unwrap_err();
    assert_eq!(
        err.reason,
        "failed to parse application privileges for role [r1]. missing required [resources] field"
    );
}

#[test]
fn role_validation_errors() {
    let err =
        parse_put_role("r1", &json!({"cluster": ["monitor", "Manage_Everything"]})).unwrap_err();
    assert_eq!(err.kind, "action_request_validation_exception");
    assert_eq!(err.status, 400);
    assert_eq!(
        err.reason,
        format!(
            "Validation Failed: 1: unknown cluster privilege [manage_everything]. a privilege must be either one of \
             the predefined cluster privilege names [{PREDEFINED}] or a pattern over one of the available cluster \
             actions;"
        )
    );

    let err = parse_put_role(
        "r1",
        &json!({"cluster": ["nope"], "metadata": {"_secret": 1},
                "indices": [{"names": ["a"], "privileges": ["read", "reed"]}]}),
    )
    .unwrap_err();
    let lines: Vec<&str> = err.reason.split(';').collect();
    assert_eq!(lines.len(), 4, "{}", err.reason);
    assert!(lines[0].starts_with("Validation Failed: 1: unknown cluster privilege [nope]."));
    assert!(lines[1]
        .starts_with("2: unknown index privilege [reed]. a privilege must be either one of"));
    assert_eq!(
        lines[2],
        "3: role descriptor metadata keys may not start with [_]"
    );
    assert_eq!(lines[3], "");

    let long = "x".repeat(1001);
    let err = parse_put_role("r1", &json!({"description": long})).unwrap_err();
    assert_eq!(
        err.reason,
        "Validation Failed: 1: Role description must be less than 1000 characters.;"
    );
    assert!(parse_put_role("r1", &json!({"description": "x".repeat(1000)})).is_ok());

    // Predefined names and action patterns are accepted.
    let ok = parse_put_role(
        "r1",
        &json!({"cluster": ["monitor_ml", "manage_index_templates", "cluster:admin/xpack/security/cache/clear",
                            "indices:admin/template/put"],
                "indices": [{"names": ["a"], "privileges": ["indices:data/read/*", "view_index_metadata"]}]}),
    );
    assert!(ok.is_ok());
}

#[test]
fn reserved_and_invalid_role_names() {
    let err = parse_put_role("superuser", &json!({"cluster": ["all"]})).unwrap_err();
    assert_eq!(err.kind, "action_request_validation_exception");
    assert_eq!(
        err.reason,
        "Validation Failed: 1: Role [superuser] is reserved and may not be used.;"
    );
    assert!(is_reserved_role("kibana_system"));
    assert!(!is_reserved_role("my_role"));

    let err = parse_put_role(" leading", &json!({})).unwrap_err();
    assert_eq!(err.kind, "validation_exception");
    assert_eq!(
        err.reason,
        "Validation Failed: 1: Role names must be at least 1 and no more than 1024 characters. They can contain \
         alphanumeric characters (a-z, A-Z, 0-9), spaces, punctuation, and printable symbols in the Basic Latin \
         (ASCII) block. Leading or trailing whitespace is not allowed.;"
    );
    assert!(parse_put_role("caf\u{e9}", &json!({})).is_err());
    assert!(parse_put_role(&"r".repeat(1025), &json!({})).is_err());
    assert!(parse_put_role("with space inside", &json!({})).is_ok());
}

#[test]
fn superuser_descriptor() {
    let su = superuser_role_descriptor();
    assert_eq!(reserved_role_descriptor("superuser"), Some(su.clone()));
    assert_eq!(reserved_role_descriptor("my_role"), None);
    assert_eq!(
        su.to_json(),
        json!({
            "cluster": ["all"],
            "indices": [
                {"names": ["*"], "privileges": ["all"], "allow_restricted_indices": false},
                {"names": ["*"], "privileges": ["monitor", "read", "view_index_metadata", "read_cross_cluster"],
                 "allow_restricted_indices": true}
            ],
            "applications": [{"application": "*", "privileges": ["*"], "resources": ["*"]}],
            "run_as": ["*"],
            "metadata": {"_reserved": true},
            "transient_metadata": {"enabled": true}
        })
    );
    // Its own metadata would not pass request validation (reserved `_` key).
    assert!(su.validate().is_err());
}

// ---------------------------------------------------------------------------------------------
// Users

#[test]
fn put_user_parses_and_hides_the_password() {
    let body = json!({
        "password": "s3cr3t-pw",
        "roles": ["r1", "r2"],
        "full_name": "Bob B",
        "email": null,
        "metadata": {"team": "a"},
        "enabled": false,
        "username": "bob"
    });
    let req = parse_put_user("bob", &body, &bcrypt()).unwrap();
    assert_eq!(req.password.as_ref().unwrap().expose(), "s3cr3t-pw");
    assert_eq!(req.roles.as_deref().unwrap(), ["r1", "r2"]);
    assert!(!req.enabled);
    assert!(req.has_password());
    let dbg = format!("{req:?}");
    assert!(dbg.contains("**redacted**"), "{dbg}");
    assert!(!dbg.contains("s3cr3t-pw"), "{dbg}");
    assert_eq!(
        serde_json::to_string(&req.to_user().to_json()).unwrap(),
        r#"{"username":"bob","roles":["r1","r2"],"full_name":"Bob B","email":null,"metadata":{"team":"a"},"enabled":false}"#
    );
    assert!(req.check_create(false).is_ok());
}

#[test]
fn put_user_password_rules() {
    let err =
        parse_put_user("bob", &json!({"password": "12345", "roles": []}), &bcrypt()).unwrap_err();
    assert_eq!(err.kind, "validation_exception");
    assert_eq!(err.status, 400);
    assert_eq!(
        err.reason,
        "Validation Failed: 1: passwords must be at least [6] characters long;"
    );
    // Not an Elasticsearch exception: the root cause is itself.
    assert_eq!(err.root_cause().kind, "validation_exception");
    assert!(parse_put_user(
        "bob",
        &json!({"password": "123456", "roles": []}),
        &bcrypt()
    )
    .is_ok());

    // No password: fine for an existing user, an error for a new one.
    let req = parse_put_user("bob", &json!({"roles": ["r1"]}), &bcrypt()).unwrap();
    assert!(!req.has_password());
    assert!(req.check_create(true).is_ok());
    let err = req.check_create(false).unwrap_err();
    assert_eq!(err.kind, "validation_exception");
    assert_eq!(
        err.reason,
        "Validation Failed: 1: password must be specified unless you are updating an existing user;"
    );

    // password_hash in the configured algorithm, then a password too.
    let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(7);
    let hash = bcrypt().hash("changeme", &mut rng);
    let req = parse_put_user(
        "bob",
        &json!({"password_hash": hash, "roles": []}),
        &bcrypt(),
    )
    .unwrap();
    assert!(req.password.is_none());
    assert!(!format!("{req:?}").contains(&hash));
    let err = parse_put_user(
        "bob",
        &json!({"password_hash": hash, "password": "changeme", "roles": []}),
        &bcrypt(),
    )
    .unwrap_err();
    assert_eq!(
        err.reason,
        "Validation Failed: 1: password_hash has already been set;"
    );
    let pbkdf2 = Hasher::resolve("pbkdf2").unwrap();
    let err =
        parse_put_user("bob", &json!({"password_hash": hash, "roles": []}), &pbkdf2).unwrap_err();
    assert_eq!(err.kind, "illegal_argument_exception");
    assert_eq!(
        err.reason,
        "Provided password hash uses [BCRYPT] but the configured hashing algorithm is [PBKDF2]"
    );
}

#[test]
fn put_user_parse_errors() {
    let err = parse_put_user(
        "bob",
        &json!({"password": "123456", "nick": "b"}),
        &bcrypt(),
    )
    .unwrap_err();
    assert_eq!(err.kind, "parse_exception");
    assert_eq!(
        err.reason,
        "failed to parse add user request. unexpected field [nick]"
    );
    let err = parse_put_user("bob", &json!({"enabled": "yes"}), &bcrypt()).unwrap_err();
    assert_eq!(
        err.reason,
        "expected field [enabled] to be of type boolean, but found [VALUE_STRING] instead"
    );
    let err = parse_put_user("bob", &json!({"full_name": 3}), &bcrypt()).unwrap_err();
    assert_eq!(
        err.reason,
        "expected field [full_name] to be of type string, but found [VALUE_NUMBER] instead"
    );
    let err = parse_put_user("bob", &json!({"metadata": "x"}), &bcrypt()).unwrap_err();
    assert_eq!(
        err.reason,
        "expected field [metadata] to be of type object, but found [VALUE_STRING] instead"
    );
    let err = parse_put_user("bob", &json!({"roles": null}), &bcrypt()).unwrap_err();
    assert_eq!(
        err.reason,
        "could not parse [roles] field. expected a string array but found null value instead"
    );
    let err = parse_put_user("bob", &json!({"username": "eve"}), &bcrypt()).unwrap_err();
    assert_eq!(err.kind, "illegal_argument_exception");
    assert_eq!(
        err.reason,
        "[username] in source does not match the username provided [bob]"
    );
    let err = parse_put_user("bob", &json!("x"), &bcrypt()).unwrap_err();
    assert_eq!(
        err.reason,
        "expected an object, but found token [VALUE_STRING]"
    );
    // The first bad field in body order wins.
    let err = parse_put_user("bob", &json!({"password": "1", "nick": 1}), &bcrypt()).unwrap_err();
    assert_eq!(err.kind, "validation_exception");
}

#[test]
fn put_user_validation() {
    let err = parse_put_user(
        "elastic",
        &json!({"password": "123456", "roles": []}),
        &bcrypt(),
    )
    .unwrap_err();
    assert_eq!(err.kind, "action_request_validation_exception");
    assert_eq!(
        err.reason,
        "Validation Failed: 1: user [elastic] is reserved and only the password can be changed;"
    );
    for u in [
        "kibana",
        "kibana_system",
        "logstash_system",
        "beats_system",
        "apm_system",
        "remote_monitoring_user",
    ] {
        let err = parse_put_user(u, &json!({"roles": []}), &bcrypt()).unwrap_err();
        assert_eq!(
            err.reason,
            format!("Validation Failed: 1: user [{u}] is reserved and only the password can be changed;")
        );
    }
    let err = parse_put_user("_system", &json!({"roles": []}), &bcrypt()).unwrap_err();
    assert_eq!(
        err.reason,
        "Validation Failed: 1: user [_system] is internal;"
    );

    let err = parse_put_user(
        "bad\u{7f}name",
        &json!({"roles": ["ok", " bad"]}),
        &bcrypt(),
    )
    .unwrap_err();
    assert_eq!(
        err.reason,
        "Validation Failed: 1: User names must be at least 1 and no more than 1024 characters. They can contain \
         alphanumeric characters (a-z, A-Z, 0-9), spaces, punctuation, and printable symbols in the Basic Latin \
         (ASCII) block. Leading or trailing whitespace is not allowed.;2: Role names must be at least 1 and no \
         more than 1024 characters. They can contain alphanumeric characters (a-z, A-Z, 0-9), spaces, \
         punctuation, and printable symbols in the Basic Latin (ASCII) block. Leading or trailing whitespace is \
         not allowed.;"
    );

    // Request-level checks come first, and alone.
    let err = parse_put_user("elastic", &json!({"metadata": {"_x": 1}}), &bcrypt()).unwrap_err();
    assert_eq!(
        err.reason,
        "Validation Failed: 1: roles are missing;2: metadata keys may not start with [_];"
    );

    // The anonymous user, when configured.
    let req = PutUserRequest::parse("_anonymous", &json!({"roles": []}), &bcrypt()).unwrap();
    let err = req.validate(Some("_anonymous")).unwrap_err();
    assert_eq!(
        err.reason,
        "Validation Failed: 1: user [_anonymous] is anonymous and cannot be modified via the API;"
    );

    // Roles as a comma-separated string.
    let req = parse_put_user("bob", &json!({"roles": "a,b"}), &bcrypt()).unwrap();
    assert_eq!(req.roles.as_deref().unwrap(), ["a", "b"]);
    let req = parse_put_user("bob", &json!({"roles": ""}), &bcrypt()).unwrap();
    assert_eq!(
        req.roles.as_deref().unwrap(),
        Vec::<String>::new().as_slice()
    );
}

#[test]
fn user_json_defaults() {
    let u = User::new("bob", &["viewer"]);
    let v: Value = u.to_json();
    assert_eq!(
        serde_json::to_string(&v).unwrap(),
        r#"{"username":"bob","roles":["viewer"],"full_name":null,"email":null,"metadata":{},"enabled":true}"#
    );
}
