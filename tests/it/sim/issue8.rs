//! Issue 8 regressions: failed REST actions reported without credentials, actions missing their
//! node, bounded and typed scenario inputs, failing clear-cache actions, bad durations.

use super::*;

/// The `elastic` password's Basic header, and the password itself.
fn basic(password: &str) -> String {
    use base64::Engine;
    format!(
        "Basic {}",
        base64::engine::general_purpose::STANDARD.encode(format!("elastic:{password}"))
    )
}

#[test]
fn issue8_d03_a_failed_rest_action_is_reported_readably_without_its_credentials() {
    let mut c = cluster(2, 0, &[]);
    let password = "s3cr3t-pass";
    let header = basic(password);
    let mut sim = Simulation::new(&c, 0);
    let action = spec::action(
        &c,
        &[],
        &json!({"action": "rest", "method": "GET", "path": "/_nope", "node": "node-1",
                "authorization": header, "body": {"password": password}}),
    )
    .unwrap();
    sim.schedule(2 * S, None, action.clone()).unwrap();
    sim.run_until(&mut c, 3 * S);
    let r = report::report(&sim, &c);
    let errors = r["action_errors"].as_array().unwrap();
    assert_eq!(errors.len(), 1, "{r}");
    let what = errors[0]["action"].as_str().unwrap();
    assert!(
        what.starts_with("rest GET /_nope on node-1 (Authorization: Basic <redacted>)"),
        "{what}"
    );
    assert!(errors[0]["error"]
        .as_str()
        .unwrap()
        .starts_with("[node-1] answered 400: "));
    let secret_part = header.trim_start_matches("Basic ");
    for text in [r.to_string(), format!("{action:?}"), format!("{sim:?}")] {
        assert!(
            !text.contains(secret_part) && !text.contains(password),
            "{text}"
        );
    }
}

#[test]
fn issue8_d03_an_authorization_header_shows_its_scheme_only() {
    for (value, shown) in [
        ("Basic ZWxhc3RpYzpwdw==", "Basic <redacted>"),
        ("bearer AAEAAWVsYXN0aWM", "Bearer <redacted>"),
        ("ApiKey aWQ6c2VjcmV0", "ApiKey <redacted>"),
        // No known scheme: the first word could be the secret itself.
        ("hunter2 more", "<redacted>"),
        ("hunter2", "<redacted>"),
    ] {
        let h = AuthorizationHeader::new(value);
        assert_eq!(h.to_string(), shown);
        assert_eq!(format!("{h:?}"), shown);
        assert_eq!(h.expose(), value);
    }
}

proptest::proptest! {
    #![proptest_config(proptest::prelude::ProptestConfig::with_cases(200))]
    /// No rendering of a REST action (`describe`, `Debug`) carries its header's credentials or its
    /// body, whatever the scheme and secret.
    #[test]
    fn issue8_d03_rest_actions_never_render_their_credentials(
        scheme in "(Basic|Bearer|ApiKey|basic|[A-Za-z]{0,8})",
        secret in "[A-Za-z0-9+/=_:.-]{6,40}",
        path in "/[a-z_/]{0,20}",
        body_secret in "[A-Za-z0-9]{6,20}",
    ) {
        let a = Action::Rest {
            method: "POST".into(),
            path,
            body: Some(format!("{{\"password\":\"{body_secret}\"}}")),
            node: Some(0),
            authorization: Some(AuthorizationHeader::new(format!("{scheme} {secret}"))),
        };
        for text in [format!("{a:?}"), a.describe(&|n| format!("node-{n}"), &|w| w.to_string())] {
            proptest::prop_assert!(!text.contains(&secret), "{}", text);
            proptest::prop_assert!(!text.contains(&body_secret), "{}", text);
        }
    }
}

#[test]
fn issue8_d22_an_action_without_its_node_is_refused_naming_the_field() {
    let c = cluster(3, 0, &[]);
    let names = vec!["agents".to_string()];
    for (v, field) in [
        (
            json!({"action": "partition"}),
            "[action [partition].node] is required",
        ),
        (
            json!({"action": "heal"}),
            "[action [heal].node] is required",
        ),
        (
            json!({"action": "stop_node"}),
            "[action [stop_node].node] is required",
        ),
        (
            json!({"action": "start_node"}),
            "[action [start_node].node] is required",
        ),
        (
            json!({"action": "clear_cache"}),
            "[action [clear_cache].node] is required",
        ),
        (
            json!({"action": "invalidate_api_keys", "workload": "agents"}),
            "[action [invalidate_api_keys].node] is required",
        ),
        (
            json!({"action": "delete_service_tokens", "workload": "agents"}),
            "[action [delete_service_tokens].node] is required",
        ),
        (
            json!({"action": "drop_clear_cache"}),
            "[action [drop_clear_cache].nodes] is required",
        ),
    ] {
        let e = spec::action(&c, &names, &v).unwrap_err();
        assert_eq!(e.kind, "illegal_argument_exception");
        assert!(e.reason.contains(field), "{v}: {}", e.reason);
    }
    // With the node named, each is accepted.
    assert_eq!(
        spec::action(
            &c,
            &names,
            &json!({"action": "partition", "node": "node-2"})
        )
        .unwrap(),
        Action::Partition(2)
    );
}

#[test]
fn issue8_d09_scenario_inputs_are_bounded_and_typed() {
    let c = cluster(2, 0, &[]);
    let mut sim = Simulation::new(&c, 0);
    let add = |sim: &mut Simulation, v| {
        let w = spec::workload(&c, &v)?;
        sim.add_workload(&c, w)
    };
    let e = add(&mut sim, json!({"name": "w", "rate": 1e300})).unwrap_err();
    assert_eq!(
        e.reason,
        "workload [w]: rate must be a non-negative number of at most 1000000 requests per virtual second, got [1e300]"
    );
    let e = add(&mut sim, json!({"name": "w", "population": 1u64 << 40})).unwrap_err();
    assert!(
        e.reason
            .starts_with("workload [w]: population must be at least 1 and at most 10000000"),
        "{}",
        e.reason
    );
    assert!(sim.workload_names().is_empty());
    add(
        &mut sim,
        json!({"name": "w", "rate": MAX_RATE, "population": 1}),
    )
    .unwrap();
    let e = spec::workload(&c, &json!({})).unwrap_err();
    assert!(
        e.reason.contains("the description is empty"),
        "{}",
        e.reason
    );
    // An unknown cache: Elasticsearch's `CacheInvalidatorRegistry` message, naming the field.
    let e = spec::action(
        &c,
        &[],
        &json!({"action": "clear_cache", "cache": "bogus", "node": "node-0"}),
    )
    .unwrap_err();
    assert_eq!(
        e.reason,
        "[action [clear_cache].cache]: No cache named [bogus] is found"
    );
    for cache in [
        "api_key",
        "api_key_doc",
        "service",
        "index_service_account_token",
    ] {
        assert!(spec::action(
            &c,
            &[],
            &json!({"action": "clear_cache", "cache": cache, "node": "node-0"})
        )
        .is_ok());
    }
}

#[test]
fn issue8_d09_a_clear_cache_that_fails_on_a_node_is_recorded() {
    let mut c = cluster(3, 0, &[]);
    let mut sim = Simulation::new(&c, 0);
    sim.schedule(S, None, Action::DropClearCache(vec![2]))
        .unwrap();
    sim.schedule(
        2 * S,
        None,
        Action::ClearCache {
            cache: "api_key".into(),
            keys: vec![],
            node: 0,
        },
    )
    .unwrap();
    // Built without the scenario parser: the name is only checked where the nodes resolve it.
    sim.schedule(
        3 * S,
        None,
        Action::ClearCache {
            cache: "bogus".into(),
            keys: vec![],
            node: 0,
        },
    )
    .unwrap();
    sim.run_until(&mut c, 4 * S);
    let errors: Vec<_> = sim
        .action_errors
        .iter()
        .map(|e| (e.1.as_str(), e.2.as_str()))
        .collect();
    assert_eq!(errors.len(), 2, "{errors:?}");
    assert_eq!(errors[0].0, "clear_cache [api_key] (all keys) on node-0");
    assert!(
        errors[0]
            .1
            .starts_with("1 of 3 nodes failed; first failure on [node-2]: "),
        "{}",
        errors[0].1
    );
    assert_eq!(
        errors[1].1,
        "3 of 3 nodes failed; first failure on [node-0]: No cache named [bogus] is found"
    );
}

#[test]
fn issue8_d24_a_bad_duration_names_its_table_and_field() {
    let c = cluster(2, 0, &[]);
    let e = spec::workload(&c, &json!({"name": "w", "start": "10 minutes"})).unwrap_err();
    assert_eq!(
        e.reason,
        "[workload [w].start]: failed to parse [10 minutes]"
    );
    let e = spec::workload(&c, &json!({"name": "w", "expiration": "soon"})).unwrap_err();
    assert!(
        e.reason.contains("[workload [w].expiration]"),
        "{}",
        e.reason
    );
    let e = spec::cost_model(&json!({"digest": "1 millisecond"})).unwrap_err();
    assert!(
        e.reason.starts_with("[cost_model.digest]: "),
        "{}",
        e.reason
    );
}
