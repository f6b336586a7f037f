//! ST-C1 settings, ST-A2 checks, ST-M5, nodes whose `service_tokens` files disagree, restarts, and
//! the order of request errors.

use super::*;

#[test]
fn c1_settings_errors() {
    let parse = |k: &str, v: &str| SecuritySettings::from_pairs([(k, v)]);
    let e = parse("xpack.security.authc.service_token.cache.hash_algo", "x").unwrap_err();
    assert_eq!(e.reason, "unknown hash function [x]");
    let e = parse(TTL, "1x").unwrap_err();
    assert_eq!(
        e.reason,
        "failed to parse setting [xpack.security.authc.service_token.cache.ttl] with value [1x] as a time value: unit is missing or unrecognized"
    );
    let e = parse(
        "xpack.security.authc.service_token.cache.max_tokens",
        "many",
    )
    .unwrap_err();
    assert_eq!(
        e.reason,
        "Failed to parse value [many] for setting [xpack.security.authc.service_token.cache.max_tokens]"
    );
    // The stored-hash algorithm takes the bcrypt and PBKDF2 families only.
    for bad in ["ssha256", "sha256", "noop", "md5"] {
        let e = parse(HASHING, bad).unwrap_err();
        assert!(
            e.reason.starts_with(&format!(
                "Invalid algorithm: {bad}. Valid values for password hashing are ["
            )),
            "{}",
            e.reason
        );
    }
    for ok in [
        "bcrypt",
        "bcrypt4",
        "pbkdf2",
        "pbkdf2_stretch_1000",
        "PBKDF2",
    ] {
        assert!(parse(HASHING, ok).is_ok(), "{ok}");
    }
    // A negative max_tokens parses, and fails when the node builds its caches.
    let mut config = ClusterConfig::new(1);
    config.settings = SecuritySettings::from_pairs([(
        "xpack.security.authc.service_token.cache.max_tokens",
        "-1",
    )])
    .unwrap();
    assert!(Cluster::new(config).is_err());
    // Unknown setting names are refused.
    assert!(parse("xpack.security.authc.service_token.cache.tll", "1s").is_err());
}

#[test]
fn c1_max_tokens_evicts_least_recently_used() {
    let mut c = cluster_with(
        1,
        &[("xpack.security.authc.service_token.cache.max_tokens", "2")],
    );
    let a = create_index_token(&mut c, FLEET, "a");
    let b = create_index_token(&mut c, FLEET, "b");
    let d = create_index_token(&mut c, FLEET, "d");
    auth_source(&mut c, 0, &a);
    auth_source(&mut c, 0, &b);
    auth_source(&mut c, 0, &a); // a is now the most recently used
    auth_source(&mut c, 0, &d);
    assert_eq!(
        keys(&c, 0, INDEX),
        set(&["elastic/fleet-server/a", "elastic/fleet-server/d"])
    );
    assert_eq!(c.cache_stats(0, INDEX).unwrap().evictions, 1);
}

#[test]
fn c1_cache_hash_algo_is_used_for_the_cached_hash() {
    // Any Hasher name works for the in-memory hash, e.g. a cheap bcrypt or pbkdf2.
    for algo in ["bcrypt4", "pbkdf2_1000", "ssha256", "noop"] {
        let mut c = cluster_with(
            1,
            &[("xpack.security.authc.service_token.cache.hash_algo", algo)],
        );
        let t1 = create_index_token(&mut c, FLEET, "t1");
        auth_source(&mut c, 0, &t1);
        assert_eq!(auth_source(&mut c, 0, &t1), "index", "{algo}");
        assert_eq!(verifications(&c, 0), 1, "{algo}");
        assert_eq!(
            auth_failure(&mut c, 0, &bearer_for(FLEET, "t1", "WRONGSECRET1")),
            auth_failed_message(FLEET, "t1"),
            "{algo}"
        );
        assert_eq!(verifications(&c, 0), 1, "{algo}");
    }
}

#[test]
fn a2_checks_touch_no_cache_and_do_not_fall_through() {
    let mut c = cluster(1);
    create_index_token(&mut c, FLEET, "t1");
    let mark = c.events.len();
    for (principal, name, secret) in [
        (FLEET, "t1", "123456789"),                     // secret too short
        ("other/fleet-server", "t1", "secret-0123456"), // namespace is not `elastic`
        ("elastic/foo", "t1", "secret-0123456"),        // not a known account
    ] {
        let r = rest(
            &mut c,
            0,
            "GET",
            "/_security/_authenticate",
            &format!("Bearer {}", bearer_for(principal, name, secret)),
            None,
        );
        assert_eq!(r.status, 401);
        // The service account message, not the generic one of the next authenticators.
        assert_eq!(
            r.body["error"]["reason"],
            json!(auth_failed_message(principal, name))
        );
        let challenges: Vec<&str> = r.header_values("WWW-Authenticate").collect();
        assert!(
            challenges.contains(&"Bearer realm=\"security\""),
            "{challenges:?}"
        );
    }
    assert_eq!(stats(&c, 0, INDEX), (0, 0));
    assert_eq!(stats(&c, 0, FILE), (0, 0));
    assert_eq!(verifications(&c, 0), 0);
    assert!(c
        .events
        .iter()
        .skip(mark)
        .all(|e| e.cache != INDEX && e.cache != FILE));
    // A bearer that does not parse as a service token goes to the other bearer handlers (T4).
    let r = rest(
        &mut c,
        0,
        "GET",
        "/_security/_authenticate",
        "Bearer not-a-service-token",
        None,
    );
    assert_eq!(r.status, 401);
    assert_eq!(
        r.body["error"]["reason"],
        json!("unable to authenticate with provided credentials and anonymous access is not allowed for this request")
    );
}

#[test]
fn m5_same_name_in_file_and_index_both_work() {
    let mut c = cluster(2);
    write_file(&mut c, 1, &file_line(FLEET, "shared", "file-secret-sh", 18));
    let index_bearer = create_index_token(&mut c, FLEET, "shared");
    let file_bearer = bearer_for(FLEET, "shared", "file-secret-sh");
    for _ in 0..2 {
        assert_eq!(auth_source(&mut c, 1, &file_bearer), "file");
        assert_eq!(auth_source(&mut c, 1, &index_bearer), "index");
    }
    // The index token works everywhere; the file token only where the file has it.
    assert_eq!(auth_source(&mut c, 0, &index_bearer), "index");
    assert_eq!(
        auth_failure(&mut c, 0, &file_bearer),
        auth_failed_message(FLEET, "shared")
    );
    let r = rest(
        &mut c,
        0,
        "GET",
        "/_security/service/elastic/fleet-server/credential",
        &admin(),
        None,
    );
    assert_eq!(r.body["count"], json!(2));
    assert_eq!(r.body["tokens"], json!({"shared": {}}));
    assert_eq!(
        r.body["nodes_credentials"]["file_tokens"],
        json!({"shared": {"nodes": ["node-1"]}})
    );
}

#[test]
fn file_tokens_work_only_on_the_nodes_that_have_them() {
    let mut c = cluster(3);
    let line = file_line("elastic/kibana", "k", "kibana-secret-1", 19);
    c.set_service_tokens_file(0, line.clone().into_bytes())
        .unwrap();
    c.set_service_tokens_file(2, line.into_bytes()).unwrap();
    c.advance(5 * NANOS_PER_SECOND);
    let k = bearer_for("elastic/kibana", "k", "kibana-secret-1");
    assert_eq!(auth_source(&mut c, 0, &k), "file");
    assert_eq!(auth_source(&mut c, 2, &k), "file");
    // node-1 has no such file token (and the index has no such document).
    assert_eq!(
        auth_failure(&mut c, 1, &k),
        auth_failed_message("elastic/kibana", "k")
    );
    assert!(keys(&c, 1, FILE).is_empty());
    assert!(keys(&c, 1, INDEX).is_empty());
    // A clear from node-1 reaches the others and removes their entries.
    let r = rest(
        &mut c,
        1,
        "POST",
        &clear_path("elastic/kibana", "k"),
        &admin(),
        None,
    );
    assert_nodes_ok(&r.body, 3);
    assert!(keys(&c, 0, FILE).is_empty());
    assert!(keys(&c, 2, FILE).is_empty());
}

#[test]
fn clear_cache_with_a_partitioned_node() {
    let mut c = cluster(3);
    warm_t1_and_t1b(&mut c, 3);
    c.set_partitioned(1, true).unwrap();
    let r = rest(&mut c, 0, "POST", &clear_path(FLEET, "t1"), &admin(), None);
    assert_eq!(r.status, 200);
    let nodes = &r.body["_nodes"];
    assert_eq!(
        (&nodes["total"], &nodes["successful"], &nodes["failed"]),
        (&json!(3), &json!(2), &json!(1))
    );
    let failures = nodes["failures"].as_array().unwrap();
    assert_eq!(failures.len(), 1);
    let node1_id = c.nodes()[1].id.clone();
    assert_eq!(failures[0]["type"], json!("failed_node_exception"));
    assert_eq!(
        failures[0]["reason"],
        json!(format!("Failed node [{node1_id}]"))
    );
    let listed: Vec<&String> = r.body["nodes"].as_object().unwrap().keys().collect();
    assert_eq!(listed, [&c.nodes()[0].id, &c.nodes()[2].id]);
    assert!(!c.cache_contains(0, INDEX, "elastic/fleet-server/t1"));
    assert!(!c.cache_contains(2, FILE, "elastic/fleet-server/t1"));
    assert!(c.cache_contains(1, INDEX, "elastic/fleet-server/t1"));
    assert!(c.cache_contains(1, FILE, "elastic/fleet-server/t1"));

    // Coordinated by the partitioned node itself: only it is reached.
    let r = rest(&mut c, 1, "POST", &clear_path(FLEET, "t1"), &admin(), None);
    assert_eq!(r.status, 200);
    assert_eq!(r.body["_nodes"]["successful"], json!(1));
    assert_eq!(r.body["_nodes"]["failed"], json!(2));
    assert!(!c.cache_contains(1, INDEX, "elastic/fleet-server/t1"));
    assert!(!c.cache_contains(1, FILE, "elastic/fleet-server/t1"));
}

#[test]
fn node_restart_empties_the_caches_and_rereads_the_file() {
    let mut c = cluster(2);
    write_file(&mut c, 0, &file_line(FLEET, "f1", "file-secret-f1", 20));
    let f1 = bearer_for(FLEET, "f1", "file-secret-f1");
    auth_source(&mut c, 0, &f1);
    c.stop_node(0).unwrap();
    c.start_node(0).unwrap();
    assert!(keys(&c, 0, FILE).is_empty());
    assert_eq!(auth_source(&mut c, 0, &f1), "file");

    // F3: a node whose file does not parse does not start.
    c.stop_node(1).unwrap();
    c.set_service_tokens_file(1, b"broken-line\n".to_vec())
        .unwrap();
    let e = c.start_node(1).unwrap_err();
    assert_eq!(e.reason, "Missing ':' character at line #1");
    assert!(!c.nodes()[1].running());
}

#[test]
fn r2_bad_name_is_reported_before_an_unknown_parameter() {
    // `RestClearServiceAccountTokenStoreCacheAction.innerPrepareRequest` throws for a bad name, and
    // `BaseRestHandler` only then checks for unconsumed parameters.
    let mut c = cluster(1);
    let r = rest(
        &mut c,
        0,
        "POST",
        &format!("{}?foo=1", clear_path(FLEET, "_bad")),
        &admin(),
        None,
    );
    assert_eq!(r.status, 400);
    assert_eq!(r.body["error"]["reason"], json!(v1_message("_bad")));
    // With valid names the unknown parameter is refused and nothing is sent to the nodes.
    let mark = c.events.len();
    let r = rest(
        &mut c,
        0,
        "POST",
        &format!("{}?foo=1", clear_path(FLEET, "t1")),
        &admin(),
        None,
    );
    assert_eq!(r.status, 400);
    assert_eq!(r.body["error"]["type"], json!("illegal_argument_exception"));
    let reason = r.body["error"]["reason"].as_str().unwrap();
    assert!(
        reason.contains("contains unrecognized parameter: [foo]"),
        "{reason}"
    );
    assert!(clear_events_since(&c, mark).is_empty());
}

/// Issue 8, point 16: each node's `service_tokens` watcher polls every 5 s from that node's own
/// start (`ResourceWatcherService`, `Frequency.HIGH`), not on one cluster-wide grid: node-1,
/// restarted at 3 s, polls at 8 s and 13 s while node-0 polls at 5 s and 10 s.
#[test]
fn issue8_d16_restarted_node_polls_from_its_own_start() {
    let mut c = cluster(2);
    c.advance(NANOS_PER_SECOND);
    c.stop_node(1).unwrap();
    c.advance(2 * NANOS_PER_SECOND);
    c.start_node(1).unwrap();
    assert_eq!(c.node(1).unwrap().started_at(), 3 * NANOS_PER_SECOND);
    assert_eq!(c.node(0).unwrap().started_at(), 0);
    c.advance(NANOS_PER_SECOND); // 4 s
    let mark = c.events.len();
    let reloads = |c: &Cluster| -> Vec<(NodeIndex, u64)> {
        c.events
            .iter()
            .skip(mark)
            .filter(|e| e.kind == EventKind::FileReloaded && e.cache == FILE)
            .map(|e| (e.node, e.time / NANOS_PER_MILLI))
            .collect()
    };
    let text = file_line(FLEET, "f1", "file-secret-f1", 1) + "\n";
    for node in [0, 1] {
        c.set_service_tokens_file(node, text.clone().into_bytes())
            .unwrap();
    }
    c.advance(NANOS_PER_SECOND); // 5 s: node-0's poll
    assert_eq!(reloads(&c), [(0, 5_000)]);
    c.advance(3 * NANOS_PER_SECOND - 1); // just before 8 s
    assert_eq!(reloads(&c), [(0, 5_000)], "node-1 has not polled yet");
    c.advance(1); // 8 s: node-1's first poll since its restart
    assert_eq!(reloads(&c), [(0, 5_000), (1, 8_000)]);
    assert_eq!(
        auth_source(&mut c, 1, &bearer_for(FLEET, "f1", "file-secret-f1")),
        "file"
    );
    // A later edit at 9 s: node-0 sees it at 10 s, node-1 at 13 s.
    let text = format!("{text}{}\n", file_line(FLEET, "f2", "file-secret-f2", 2));
    c.advance(NANOS_PER_SECOND);
    for node in [0, 1] {
        c.set_service_tokens_file(node, text.clone().into_bytes())
            .unwrap();
    }
    c.advance(4 * NANOS_PER_SECOND);
    assert_eq!(
        reloads(&c),
        [(0, 5_000), (1, 8_000), (0, 10_000), (1, 13_000)]
    );
}
