//! Role descriptor parsing and validation (`RoleDescriptor`, reserved roles).

use super::*;

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
