//! Issue 8 regressions: malformed `Authorization` headers, the crypto pool size, requests that must
//! not panic, and role descriptors that must fail closed (deep metadata, corrupt stored descriptors).

use super::*;

// ---------------------------------------------------------------------------------------------
// Issue 8: request input that must never panic, malformed ApiKey headers, the crypto pool size
// ---------------------------------------------------------------------------------------------

const GENERIC_401: &str =
    "unable to authenticate with provided credentials and anonymous access is not allowed for this request";
const CHALLENGES: [&str; 3] = [
    "Basic realm=\"security\", charset=\"UTF-8\"",
    "Bearer realm=\"security\"",
    "ApiKey",
];

fn get_authenticate(c: &mut Cluster, authorization: &str) -> escache::rest::Response {
    escache::rest::handle(
        c,
        0,
        "GET",
        "/_security/_authenticate",
        vec![("Authorization".into(), authorization.into())],
        None,
    )
}

/// Issue 8, point 2: the exact report (`é` at bytes 4..6 of the Authorization header sliced the
/// header inside a char) and its neighbours answer Elasticsearch's 401, never a panic.
#[test]
fn issue8_d02_non_ascii_authorization_header_is_a_401() {
    let mut c = cluster(1);
    for header in [
        "abcdéx",
        "abcdé",
        "Basiéx",
        "ApiKeé x",
        "Beareré x",
        "é",
        "ééééééé",
    ] {
        let r = escache::rest::handle(
            &mut c,
            0,
            "GET",
            "/",
            vec![("Authorization".into(), header.into())],
            None,
        );
        assert_eq!(r.status, 401, "{header}");
        assert_eq!(
            r.body["error"]["reason"],
            json!("missing authentication credentials for REST request [/]"),
            "{header}"
        );
        assert_eq!(
            r.header_values("WWW-Authenticate").collect::<Vec<_>>(),
            CHALLENGES
        );
    }
    // Java's case-insensitive scheme match: `Baſic` (long s) is `Basic`.
    let r = get_authenticate(
        &mut c,
        &basic("elastic", "changeme").replacen("Basic", "Baſic", 1),
    );
    assert_eq!(r.status, 200);
    assert_eq!(r.body["username"], json!("elastic"));
}

/// Issue 8, point 12: a malformed `ApiKey` credential is not a 400: `AuthenticatorChain` records
/// `API key: <IllegalArgumentException message>` and ends with the generic 401, the message under
/// `additional_unsuccessful_credentials` and the three challenges.
#[test]
fn issue8_d12_malformed_api_key_header_is_a_401_with_the_message() {
    let mut c = cluster(1);
    let cases = [
        (
            format!("ApiKey {}", STANDARD.encode("nocolon")),
            "invalid ApiKey value",
        ),
        (
            format!("ApiKey {}", STANDARD.encode(":secret")),
            "invalid ApiKey value",
        ),
        ("ApiKey a-b".to_string(), "Illegal base64 character 2d"),
        ("apikey abcé".to_string(), "Illegal base64 character -3d"),
    ];
    for (header, message) in cases {
        let mark = c.events.len();
        let r = get_authenticate(&mut c, &header);
        assert_eq!(r.status, 401, "{header}");
        let error = &r.body["error"];
        assert_eq!(error["type"], json!("security_exception"));
        assert_eq!(error["reason"], json!(GENERIC_401));
        assert_eq!(
            error["additional_unsuccessful_credentials"],
            json!(format!("API key: {message}"))
        );
        assert_eq!(error["root_cause"][0]["reason"], json!(GENERIC_401));
        assert_eq!(error["header"]["WWW-Authenticate"], json!(CHALLENGES));
        assert_eq!(
            r.header_values("WWW-Authenticate").collect::<Vec<_>>(),
            CHALLENGES
        );
        // Recorded as an authentication failure with the message; no key is looked up.
        let failures: Vec<String> = events_since(&c, mark)
            .into_iter()
            .filter(|e| e.1 == EventKind::AuthFailure)
            .map(|e| e.4)
            .collect();
        assert_eq!(failures, [format!("API key: {message}")]);
        assert_eq!(svc(&c, 0).verifications, 0);
    }
    // With API keys disabled the header is ignored: no credentials at all.
    let mut off = cluster_with(1, &[("xpack.security.authc.api_key.enabled", "false")]);
    let r = get_authenticate(&mut off, "ApiKey a-b");
    assert_eq!(
        r.body["error"]["reason"],
        json!("missing authentication credentials for REST request [/_security/_authenticate]")
    );
}

/// Issue 8, point 14: the `security-crypto` pool has `(allocatedProcessors + 1) / 2` threads
/// (`Security.getExecutorBuilders`): odd processor counts round up.
#[test]
fn issue8_d14_crypto_pool_size_rounds_half_the_processors_up() {
    for (processors, threads) in [
        (1, 1),
        (2, 1),
        (3, 2),
        (4, 2),
        (5, 3),
        (7, 4),
        (8, 4),
        (33, 17),
    ] {
        let p = processors.to_string();
        let s = SecuritySettings::from_pairs([("node.processors", p.as_str())]).unwrap();
        assert_eq!(
            (s.crypto_pool.size, s.crypto_pool.queue_size),
            (threads, 1000),
            "{p}"
        );
        let c = cluster_with(1, &[("node.processors", p.as_str())]);
        assert_eq!(c.node(0).unwrap().crypto_pool.size, threads, "{p}");
    }
    // An explicit size still wins.
    let s = SecuritySettings::from_pairs([
        ("node.processors", "3"),
        ("xpack.security.crypto.thread_pool.size", "5"),
    ])
    .unwrap();
    assert_eq!(s.crypto_pool.size, 5);
}

mod issue8_d02_no_request_panics {
    //! Issue 8, point 2: any bytes in the Authorization header, other headers, the method, the path,
    //! the query string and the body give an HTTP answer (a panic fails the test) that never carries
    //! the cluster password in any encoding.
    use super::*;
    use proptest::prelude::*;

    /// Arbitrary bytes read as lossy UTF-8, plus strings built from non-ASCII chars.
    fn text() -> impl Strategy<Value = String> {
        prop_oneof![
            proptest::collection::vec(any::<u8>(), 0..40)
                .prop_map(|b| String::from_utf8_lossy(&b).into_owned()),
            "[é☃ıſ\u{212A}İ\u{a0}\u{0}\u{1F600}a-zA-Z0-9:=+/ %?&#;]{0,30}",
            any::<String>(),
        ]
    }

    fn authorization() -> impl Strategy<Value = Option<String>> {
        let scheme = prop_oneof![
            Just(""),
            Just("Basic "),
            Just("ApiKey "),
            Just("Bearer "),
            Just("basic"),
            Just("APIKEY "),
            Just("Baſic "),
            // Cut schemes, so that the next char straddles the scheme's end.
            Just("Basi"),
            Just("ApiKe"),
            Just("Beare"),
            Just("abcd"),
            Just("Basic"),
            Just("Bearer"),
        ];
        let credential = prop_oneof![
            text(),
            proptest::collection::vec(any::<u8>(), 0..48).prop_map(|b| STANDARD.encode(b)),
            text().prop_map(|t| STANDARD.encode(format!("elastic:{t}"))),
            Just(STANDARD.encode("elastic:changeme")),
        ];
        proptest::option::weighted(
            0.9,
            (scheme, credential).prop_map(|(s, c)| format!("{s}{c}")),
        )
    }

    fn target() -> impl Strategy<Value = String> {
        let path = prop_oneof![
            text().prop_map(|t| format!("/{t}")),
            text().prop_map(|t| format!("/_security/api_key/{t}/_clear_cache")),
            text().prop_map(|t| format!("/_security/service/elastic/{t}/credential/token/{t}")),
            text().prop_map(|t| format!("/_security/api_key?id={t}&name={t}")),
            Just("/_security/_authenticate".to_string()),
            Just("/_security/api_key".to_string()),
            text(),
        ];
        (path, proptest::option::of(text()))
            .prop_map(|(p, q)| q.map_or(p.clone(), |q| format!("{p}?{q}")))
    }

    fn method() -> impl Strategy<Value = String> {
        prop_oneof![
            Just("GET".to_string()),
            Just("POST".to_string()),
            Just("PUT".to_string()),
            Just("DELETE".to_string()),
            Just("HEAD".to_string()),
            Just("OPTIONS".to_string()),
            text(),
        ]
    }

    fn body() -> impl Strategy<Value = Option<Vec<u8>>> {
        proptest::option::of(prop_oneof![
            proptest::collection::vec(any::<u8>(), 0..64),
            text().prop_map(|t| format!("{{\"ids\":[\"{t}\"],\"name\":\"{t}\"}}").into_bytes()),
            text().prop_map(String::into_bytes),
        ])
    }

    proptest! {
        #![proptest_config(ProptestConfig { cases: 512, ..ProptestConfig::default() })]

        #[test]
        fn issue8_d02_arbitrary_requests_never_panic(
            method in method(),
            target in target(),
            authorization in authorization(),
            extra in proptest::collection::vec((text(), text()), 0..3),
            content_type in proptest::option::of(prop_oneof![Just("application/json".to_string()), text()]),
            body in body(),
        ) {
            let mut c = cluster(2);
            let mut headers: Vec<(String, String)> = extra;
            if let Some(a) = &authorization {
                headers.push(("Authorization".into(), a.clone()));
            }
            if let Some(t) = content_type {
                headers.push(("Content-Type".into(), t));
            }
            let r = escache::rest::handle(&mut c, 1, &method, &target, headers, body);
            prop_assert!((200..600).contains(&r.status), "{}", r.status);
            let wire = r.headers.iter().fold(
                String::from_utf8_lossy(&r.body_bytes()).into_owned(),
                |mut w, (k, v)| {
                    w.push_str(&format!("{k}: {v}\n"));
                    w
                },
            );
            for secret in ["changeme", "ZWxhc3RpYzpjaGFuZ2VtZQ"] {
                prop_assert!(!wire.contains(secret) || target.contains(secret));
            }
        }
    }
}

// ---------------------------------------------------------------------------------------------
// Issue 8 point 1: stored role descriptors are read back or deny, never dropped
// ---------------------------------------------------------------------------------------------

fn rest(
    c: &mut Cluster,
    method: &str,
    path: &str,
    authorization: &str,
    body: Option<String>,
) -> escache::rest::Response {
    let mut headers = vec![("Authorization".to_string(), authorization.to_string())];
    if body.is_some() {
        headers.push(("Content-Type".into(), "application/json".into()));
    }
    escache::rest::handle(c, 0, method, path, headers, body.map(String::into_bytes))
}

/// `depth` nested objects: `{"a":{"a":...{}}}`.
fn nested(depth: usize) -> String {
    format!(
        "{}{{}}{}",
        "{\"a\":".repeat(depth - 1),
        "}".repeat(depth - 1)
    )
}

/// A create-key body whose one role grants `monitor` only and carries metadata nested so that the
/// whole body is `depth` levels deep (root, `role_descriptors`, the role, metadata, then the rest).
fn restricted_key_body(depth: usize) -> String {
    format!(
        r#"{{"name":"restricted","role_descriptors":{{"r":{{"cluster":["monitor"],"metadata":{{"m":{}}}}}}}}}"#,
        nested(depth - 4)
    )
}

fn api_key_header(created: &Value) -> String {
    format!("ApiKey {}", created["encoded"].as_str().unwrap())
}

const SUPERUSER_BODY: &str = r#"{"password":"s3cr3t-pass","roles":["superuser"]}"#;

/// A key limited to `monitor` can read `/` and its own identity, and cannot create a superuser.
fn assert_only_monitor(c: &mut Cluster, key: &str, user: &str) {
    assert_eq!(rest(c, "GET", "/", key, None).status, 200);
    assert_eq!(
        rest(c, "GET", "/_security/_authenticate", key, None).status,
        200
    );
    let r = rest(
        c,
        "PUT",
        &format!("/_security/user/{user}"),
        key,
        Some(SUPERUSER_BODY.into()),
    );
    assert_eq!(r.status, 403, "{}", r.body);
    assert_eq!(r.body["error"]["type"], "security_exception");
    assert!(!c.security_index.users.contains_key(user));
}

#[test]
fn issue8_d01_deep_metadata_key_cannot_create_a_superuser() {
    let mut c = cluster(1);
    let admin = basic("elastic", "changeme");
    // 130 levels: past serde_json's recursion limit, which used to turn the stored descriptors into
    // the empty set ("inherit the owner", here superuser).
    let r = rest(
        &mut c,
        "POST",
        "/_security/api_key",
        &admin,
        Some(restricted_key_body(130)),
    );
    assert_eq!(r.status, 200, "{}", r.body);
    let key = api_key_header(&r.body);
    assert_only_monitor(&mut c, &key, "evil");
    // The same through an update of a harmless key (PUT /_security/api_key/{id}) made by the
    // key's owner.
    let r = rest(
        &mut c,
        "POST",
        "/_security/api_key",
        &admin,
        Some(r#"{"name":"later","role_descriptors":{"r":{"cluster":["monitor"]}}}"#.into()),
    );
    let id = r.body["id"].as_str().unwrap().to_string();
    let later = api_key_header(&r.body);
    let update = format!(
        r#"{{"role_descriptors":{{"r":{{"cluster":["monitor"],"metadata":{{"m":{}}}}}}}}}"#,
        nested(200)
    );
    let r = rest(
        &mut c,
        "PUT",
        &format!("/_security/api_key/{id}"),
        &admin,
        Some(update),
    );
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(r.body, json!({"updated": true}));
    assert_only_monitor(&mut c, &later, "evil2");
}

#[test]
fn issue8_d01_accepted_at_creation_authenticates_with_exactly_its_restrictions() {
    // Around serde_json's old limit and around Elasticsearch's (Jackson's) nesting limit of 1000.
    for depth in (120..=132).chain(995..=1002) {
        let mut c = cluster(1);
        let admin = basic("elastic", "changeme");
        let r = rest(
            &mut c,
            "POST",
            "/_security/api_key",
            &admin,
            Some(restricted_key_body(depth)),
        );
        if depth <= 1000 {
            assert_eq!(r.status, 200, "depth {depth}: {}", r.body);
            let key = api_key_header(&r.body);
            assert_only_monitor(&mut c, &key, "evil");
            // And the stored descriptors read back through the get API, metadata intact.
            let id = r.body["id"].as_str().unwrap();
            let r = rest(
                &mut c,
                "GET",
                &format!("/_security/api_key?id={id}"),
                &admin,
                None,
            );
            assert_eq!(r.status, 200, "depth {depth}");
            let mut m = &r.body["api_keys"][0]["role_descriptors"]["r"]["metadata"]["m"];
            for _ in 0..depth - 5 {
                m = &m["a"];
            }
            assert_eq!(*m, json!({}), "depth {depth}");
        } else {
            assert_eq!(r.status, 400, "depth {depth}: {}", r.body);
            assert_eq!(r.body["error"]["type"], "x_content_parse_exception");
            assert_eq!(
                r.body["error"]["caused_by"]["type"],
                "stream_constraints_exception"
            );
            assert!(r.body["error"]["reason"]
                .as_str()
                .unwrap()
                .contains("Document nesting depth (1001) exceeds the maximum allowed (1000"));
            assert!(c.security_index.api_keys().is_empty(), "depth {depth}");
        }
    }
}

#[test]
fn issue8_d01_corrupt_stored_descriptors_deny() {
    for (blob, kind, status) in [
        // The blob does not parse: ES's `UncheckedIOException` around the parser's error.
        (
            r#"{"r":{"cluster":["monitor"]"#,
            "unchecked_i_o_exception",
            500,
        ),
        // A descriptor that does not parse: `RoleDescriptor.parse`'s error.
        (r#"{"r":{"cluster":5}}"#, "parse_exception", 400),
    ] {
        let mut c = cluster(1);
        let auth = elastic(&mut c);
        let k = create_as(
            &mut c,
            0,
            &auth,
            "k",
            json!({"r": {"cluster": ["monitor"]}}),
        );
        let key = header(&k.id, k.api_key.expose());
        c.security_index
            .api_keys_mut()
            .get_mut(&k.id)
            .unwrap()
            .role_descriptors = Arc::from(blob);
        c.clear_security_cache(0, "api_key", &[]);
        for (method, path, body) in [
            ("GET", "/", None),
            ("GET", "/_security/_authenticate", None),
            (
                "PUT",
                "/_security/user/evil",
                Some(SUPERUSER_BODY.to_string()),
            ),
        ] {
            let r = rest(&mut c, method, path, &key, body);
            assert_eq!(r.status, status, "{blob} {method} {path}: {}", r.body);
            assert_eq!(r.body["error"]["type"], kind, "{blob}");
        }
        assert!(!c.security_index.users.contains_key("evil"));
        // The get API reads the same blob: it fails too, rather than showing `{}`.
        let admin = basic("elastic", "changeme");
        let r = rest(
            &mut c,
            "GET",
            &format!("/_security/api_key?id={}", k.id),
            &admin,
            None,
        );
        assert_eq!(r.status, status, "{blob}: {}", r.body);
    }
    // The limited-by blob is read the same way.
    let mut c = cluster(1);
    let auth = elastic(&mut c);
    let k = create_as(&mut c, 0, &auth, "k", json!({}));
    let key = header(&k.id, k.api_key.expose());
    c.security_index
        .api_keys_mut()
        .get_mut(&k.id)
        .unwrap()
        .limited_by_role_descriptors = Arc::from("not json");
    c.clear_security_cache(0, "api_key", &[]);
    let r = rest(
        &mut c,
        "PUT",
        "/_security/user/evil",
        &key,
        Some(SUPERUSER_BODY.into()),
    );
    assert_eq!(r.status, 500, "{}", r.body);
    assert_eq!(r.body["error"]["type"], "unchecked_i_o_exception");
    assert!(!r.body.to_string().contains(k.api_key.expose()));
    assert!(!c.security_index.users.contains_key("evil"));
}

#[test]
fn issue8_d01_blob_reader_fails_closed() {
    use escache::security::api_key::{parse_role_descriptors_blob, role_descriptors_blob};
    assert!(parse_role_descriptors_blob("{}").unwrap().is_empty());
    for bad in ["", "[]", "{", "{\"r\":}", "null"] {
        let e = parse_role_descriptors_blob(bad).unwrap_err();
        assert_eq!(e.kind, "unchecked_i_o_exception", "{bad}");
        assert_eq!(e.status, 500);
    }
    // What the writer accepts, the reader reads; one level more cannot be written.
    let deep = |d: usize| -> Map<String, Value> {
        let v: Value = serde_json::from_str::<Value>("{}").unwrap();
        let mut v = v;
        for _ in 0..d {
            v = json!({ "a": v });
        }
        match v {
            Value::Object(m) => m,
            _ => unreachable!(),
        }
    };
    // `deep(d)` is d + 1 levels deep; the document around it adds one.
    let blob = role_descriptors_blob(deep(997)).unwrap();
    assert_eq!(parse_role_descriptors_blob(&blob).unwrap(), deep(997));
    let e = role_descriptors_blob(deep(999)).unwrap_err();
    assert_eq!(e.kind, "stream_constraints_exception");
    assert_eq!(e.status, 500);
}

#[test]
fn issue8_d01_owner_role_that_does_not_parse_is_left_out_of_limited_by() {
    let mut c = cluster(1);
    let admin = basic("elastic", "changeme");
    let r = rest(
        &mut c,
        "PUT",
        "/_security/role/monitoring",
        &admin,
        Some(r#"{"cluster":["monitor","manage_own_api_key"]}"#.into()),
    );
    assert_eq!(r.status, 200, "{}", r.body);
    let r = rest(
        &mut c,
        "PUT",
        "/_security/user/ops",
        &admin,
        Some(r#"{"password":"s3cr3t-pass","roles":["monitoring","broken"]}"#.into()),
    );
    assert_eq!(r.status, 200, "{}", r.body);
    // A role document that no longer parses (ES logs it and resolves the user without it).
    c.security_index
        .roles
        .insert("broken".into(), json!({"cluster": 5}));
    let ops = basic("ops", "s3cr3t-pass");
    let r = rest(
        &mut c,
        "POST",
        "/_security/api_key",
        &ops,
        Some(r#"{"name":"k"}"#.into()),
    );
    assert_eq!(r.status, 200, "{}", r.body);
    let key = api_key_header(&r.body);
    // The key works with the owner's parsable roles only, and gains nothing.
    assert_only_monitor(&mut c, &key, "evil");
    let id = r.body["id"].as_str().unwrap().to_string();
    let r = rest(
        &mut c,
        "GET",
        &format!("/_security/api_key?id={id}&with_limited_by=true"),
        &admin,
        None,
    );
    assert_eq!(r.status, 200, "{}", r.body);
    let limited_by = &r.body["api_keys"][0]["limited_by"][0];
    assert!(limited_by.get("monitoring").is_some(), "{limited_by}");
    assert!(limited_by.get("broken").is_none(), "{limited_by}");
}

/// Found by the `rest_request` fuzz target: a HEAD request that fails routing (405, or 400 no
/// handler) got the JSON error body; Elasticsearch's HTTP layer never sends a body to a HEAD request.
#[test]
fn head_request_that_fails_routing_has_no_body() {
    let mut c = cluster(1);
    for target in [
        "/_security/role/r1/_nope",
        "/_no/such/route",
        "/_security/api_key/*/_clear_cache",
    ] {
        let r = escache::rest::handle(&mut c, 0, "HEAD", target, vec![], None);
        assert!(matches!(r.status, 400 | 405), "{target}: {}", r.status);
        assert!(r.body_bytes().is_empty(), "{target}");
    }
    let r = escache::rest::handle(&mut c, 0, "GET", "/_no/such/route", vec![], None);
    assert!(!r.body_bytes().is_empty());
}
