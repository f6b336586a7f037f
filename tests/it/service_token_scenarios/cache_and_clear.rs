//! Scenarios ST-SC1 to ST-SC8: the token cache, failures, short secrets and the clear-cache API.

use super::*;

// ---------------------------------------------------------------------------------------------
// Section 10 scenarios
// ---------------------------------------------------------------------------------------------

#[test]
fn sc1_cache_hit_skips_the_store() {
    let mut c = cluster(1);
    let t1 = create_index_token(&mut c, FLEET, "t1");
    assert_eq!(auth_source(&mut c, 0, &t1), "index");
    assert_eq!(verifications(&c, 0), 1);
    assert_eq!(keys(&c, 0, INDEX), set(&["elastic/fleet-server/t1"]));
    assert_eq!(stats(&c, 0, INDEX), (0, 1));

    let mark = c.events.len();
    assert_eq!(auth_source(&mut c, 0, &t1), "index");
    // No document GET: no store verification, a cache hit.
    assert_eq!(verifications(&c, 0), 1);
    assert!(events_since(&c, mark, EventKind::HashVerification, INDEX).is_empty());
    assert_eq!(stats(&c, 0, INDEX), (1, 1));
    assert_eq!(
        events_since(&c, mark, EventKind::CacheHit, INDEX),
        [(0, "elastic/fleet-server/t1".to_string(), String::new())]
    );
    // The cluster-level view sees the entry too.
    assert!(c.cache_contains(0, INDEX, "elastic/fleet-server/t1"));
    assert!(!c.cache_contains(0, FILE, "elastic/fleet-server/t1"));

    // Through REST: `_authenticate` reports the index store (A3).
    let r = rest(
        &mut c,
        0,
        "GET",
        "/_security/_authenticate",
        &format!("Bearer {t1}"),
        None,
    );
    assert_eq!(r.status, 200);
    assert_eq!(r.body["username"], json!(FLEET));
    assert_eq!(
        r.body["token"],
        json!({"name": "t1", "type": "_service_account_index"})
    );
    assert_eq!(
        r.body["authentication_realm"],
        json!({"name": "_service_account", "type": "_service_account"})
    );
    assert_eq!(r.body["authentication_type"], json!("token"));
    assert_eq!(verifications(&c, 0), 1);
}

#[test]
fn sc2_wrong_secret_on_a_cached_key() {
    let mut c = cluster(1);
    let t1 = create_index_token(&mut c, FLEET, "t1");
    assert_eq!(auth_source(&mut c, 0, &t1), "index");
    let before = verifications(&c, 0);
    let mark = c.events.len();

    let wrong = bearer_for(FLEET, "t1", "WRONGSECRET1");
    assert_eq!(
        auth_failure(&mut c, 0, &wrong),
        auth_failed_message(FLEET, "t1")
    );
    // The index store is not asked; the success entry stays.
    assert_eq!(verifications(&c, 0), before);
    assert!(events_since(&c, mark, EventKind::HashVerification, INDEX).is_empty());
    assert!(events_since(&c, mark, EventKind::CacheInvalidated, INDEX).is_empty());
    assert_eq!(keys(&c, 0, INDEX), set(&["elastic/fleet-server/t1"]));
    let entry = c.nodes()[0]
        .service_accounts
        .store(INDEX)
        .unwrap()
        .cached("elastic/fleet-server/t1")
        .unwrap();
    assert!(entry.result.as_ref().unwrap().success);
    // The right secret still hits.
    assert_eq!(auth_source(&mut c, 0, &t1), "index");
    assert_eq!(verifications(&c, 0), before);

    // Over REST the 401 carries the same message.
    let r = rest(
        &mut c,
        0,
        "GET",
        "/_security/_authenticate",
        &format!("Bearer {wrong}"),
        None,
    );
    assert_eq!(r.status, 401);
    assert_eq!(r.body["error"]["type"], json!("security_exception"));
    assert_eq!(
        r.body["error"]["reason"],
        json!(auth_failed_message(FLEET, "t1"))
    );
}

#[test]
fn sc3_failures_are_not_cached() {
    let mut c = cluster(1);
    let t1 = create_index_token(&mut c, FLEET, "t1");
    assert_eq!(auth_source(&mut c, 0, &t1), "index");
    let size = c.cache_size(0, INDEX).unwrap().count;
    let t2 = bearer_for(FLEET, "t2", "secret-of-t2-0001");
    let (_, misses) = stats(&c, 0, INDEX);
    let mark = c.events.len();
    for round in 1..=2u64 {
        assert_eq!(
            auth_failure(&mut c, 0, &t2),
            auth_failed_message(FLEET, "t2")
        );
        // The store was asked (a miss each time) and nothing stays.
        assert_eq!(stats(&c, 0, INDEX).1, misses + round);
        assert_eq!(c.cache_size(0, INDEX).unwrap().count, size);
        assert!(!c.cache_contains(0, INDEX, "elastic/fleet-server/t2"));
    }
    // Each attempt: a miss, a pending put, then the entry removed ("Do not cache failed attempt").
    assert_eq!(events_since(&c, mark, EventKind::CacheMiss, INDEX).len(), 2);
    assert_eq!(
        events_since(&c, mark, EventKind::CacheInvalidated, INDEX)
            .iter()
            .filter(|e| e.1 == "elastic/fleet-server/t2")
            .count(),
        2
    );
}

#[test]
fn sc4_secret_too_short() {
    let mut c = cluster(1);
    create_index_token(&mut c, FLEET, "t1");
    let mark = c.events.len();
    let short = bearer_for(FLEET, "t1", "123456789");
    assert_eq!(
        auth_failure(&mut c, 0, &short),
        auth_failed_message(FLEET, "t1")
    );
    assert_eq!(verifications(&c, 0), 0);
    assert_eq!(stats(&c, 0, INDEX), (0, 0));
    assert_eq!(stats(&c, 0, FILE), (0, 0));
    assert!(c
        .events
        .iter()
        .skip(mark)
        .all(|e| e.cache != INDEX && e.cache != FILE));
    // Ten characters reach the stores (and fail there).
    let ten = bearer_for(FLEET, "t1", "1234567890");
    assert_eq!(
        auth_failure(&mut c, 0, &ten),
        auth_failed_message(FLEET, "t1")
    );
    assert_eq!(stats(&c, 0, INDEX), (0, 1));
    assert_eq!(stats(&c, 0, FILE), (0, 1));
}

#[test]
fn sc5_clear_one_token() {
    let mut c = cluster(2);
    warm_t1_and_t1b(&mut c, 2);
    let mark = c.events.len();
    let r = rest(&mut c, 0, "POST", &clear_path(FLEET, "t1"), &admin(), None);
    assert_eq!(r.status, 200, "{}", r.body);
    assert_nodes_ok(&r.body, 2);
    for n in 0..2 {
        // Exact match only: `t1-b` stays, in both caches.
        assert_eq!(keys(&c, n, FILE), set(&["elastic/fleet-server/t1-b"]));
        assert_eq!(keys(&c, n, INDEX), set(&["elastic/fleet-server/t1-b"]));
    }
    // ST-R4: cache name `service`, the single exact key.
    assert_eq!(
        clear_events_since(&c, mark),
        [
            (
                0,
                "service".to_string(),
                "elastic/fleet-server/t1".to_string()
            ),
            (
                1,
                "service".to_string(),
                "elastic/fleet-server/t1".to_string()
            ),
        ]
    );
}

#[test]
fn sc6_clear_all_tokens_of_one_account() {
    let mut c = cluster(1);
    let a = create_index_token(&mut c, FLEET, "a");
    let b = create_index_token(&mut c, FLEET, "b");
    let kc = create_index_token(&mut c, "elastic/kibana", "c");
    for names in ["*", "_all", ""] {
        for t in [&a, &b, &kc] {
            auth_source(&mut c, 0, t);
        }
        assert_eq!(
            keys(&c, 0, INDEX),
            set(&[
                "elastic/fleet-server/a",
                "elastic/fleet-server/b",
                "elastic/kibana/c"
            ])
        );
        let mark = c.events.len();
        let r = rest(&mut c, 0, "POST", &clear_path(FLEET, names), &admin(), None);
        assert_eq!(r.status, 200, "[{names}]: {}", r.body);
        assert_nodes_ok(&r.body, 1);
        assert_eq!(
            keys(&c, 0, INDEX),
            set(&["elastic/kibana/c"]),
            "name [{names}]"
        );
        assert_eq!(
            clear_events_since(&c, mark),
            [(
                0,
                "service".to_string(),
                "elastic/fleet-server/".to_string()
            )],
            "name [{names}]"
        );
    }
}

#[test]
fn sc7_list_with_an_unknown_name() {
    let mut c = cluster(2);
    warm_t1_and_t1b(&mut c, 2);
    let r = rest(
        &mut c,
        1,
        "POST",
        &clear_path(FLEET, "t1,does-not-exist"),
        &admin(),
        None,
    );
    assert_eq!(r.status, 200);
    assert_nodes_ok(&r.body, 2);
    for n in 0..2 {
        assert_eq!(keys(&c, n, INDEX), set(&["elastic/fleet-server/t1-b"]));
        assert_eq!(keys(&c, n, FILE), set(&["elastic/fleet-server/t1-b"]));
    }
}

#[test]
fn sc8_invalid_name() {
    let mut c = cluster(2);
    warm_t1_and_t1b(&mut c, 2);
    let before: Vec<_> = (0..2)
        .map(|n| (c.cache_keys(n, FILE), c.cache_keys(n, INDEX)))
        .collect();
    for (names, first_bad) in [
        ("_bad", "_bad"),
        ("*,t1", "*"),
        ("t1,*", "*"),
        ("a,,b", ""),
        ("a%20b", "a b"),
        ("t1,_all", "_all"),
        ("t1,a%2Fb", "a/b"),
    ] {
        let mark = c.events.len();
        let r = rest(&mut c, 0, "POST", &clear_path(FLEET, names), &admin(), None);
        assert_eq!(r.status, 400, "{names}");
        assert_eq!(r.body["error"]["type"], json!("illegal_argument_exception"));
        assert_eq!(
            r.body["error"]["reason"],
            json!(v1_message(first_bad)),
            "{names}"
        );
        assert_eq!(r.body["status"], json!(400));
        assert!(clear_events_since(&c, mark).is_empty(), "{names}");
    }
    let after: Vec<_> = (0..2)
        .map(|n| (c.cache_keys(n, FILE), c.cache_keys(n, INDEX)))
        .collect();
    assert_eq!(before, after);
}
