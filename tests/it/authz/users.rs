//! Put-user request parsing and validation (`PutUserRequestBuilder`, `Validation`).

use super::*;

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
