//! Scenarios ST-SC16 to ST-SC20: a disabled cache, TTL, names not checked, privileges and the
//! get-credentials API.

use super::*;

#[test]
fn sc16_cache_disabled() {
    for ttl in ["0s", "-1"] {
        let mut c = cluster_with(2, &[(TTL, ttl)]);
        assert!(c.cache_size(0, INDEX).is_none());
        assert!(c.cache_size(0, FILE).is_none());
        write_file(&mut c, 0, &file_line(FLEET, "f1", "file-secret-f1", 12));
        let t1 = create_index_token(&mut c, FLEET, "t1");
        let f1 = bearer_for(FLEET, "f1", "file-secret-f1");
        for round in 1..=3u64 {
            assert_eq!(auth_source(&mut c, 0, &t1), "index");
            assert_eq!(auth_source(&mut c, 0, &f1), "file");
            // Every authentication asks the store: one verification each.
            assert_eq!(verifications(&c, 0), 2 * round, "ttl {ttl}");
        }
        assert!(c.cache_keys(0, INDEX).is_empty());
        assert!(c.events.iter().all(|e| e.cache != INDEX && e.cache != FILE
            || matches!(
                e.kind,
                EventKind::HashVerification | EventKind::LogWarn | EventKind::FileReloaded
            )));
        for names in ["*", "t1", "t1,f1"] {
            let r = rest(&mut c, 1, "POST", &clear_path(FLEET, names), &admin(), None);
            assert_eq!(r.status, 200);
            assert_nodes_ok(&r.body, 2);
        }
        let r = rest(
            &mut c,
            0,
            "DELETE",
            "/_security/service/elastic/fleet-server/credential/token/t1",
            &admin(),
            None,
        );
        assert_eq!(r.body, json!({"found": true}));
        assert_eq!(
            auth_failure(&mut c, 0, &t1),
            auth_failed_message(FLEET, "t1")
        );
    }
}

#[test]
fn sc17_ttl_counts_from_the_write() {
    let mut c = cluster_with(1, &[(TTL, "1s")]);
    let t1 = create_index_token(&mut c, FLEET, "t1");
    assert_eq!(auth_source(&mut c, 0, &t1), "index");
    assert_eq!(verifications(&c, 0), 1);
    // Accessed at 0.6 s: a hit, which must not extend the entry's life.
    c.advance(600 * NANOS_PER_MILLI);
    auth_source(&mut c, 0, &t1);
    assert_eq!(verifications(&c, 0), 1);
    // Exactly 1 s after the write: not expired yet (expiry is strictly greater than the TTL).
    c.advance(400 * NANOS_PER_MILLI);
    auth_source(&mut c, 0, &t1);
    assert_eq!(verifications(&c, 0), 1);
    // 1 s + 1 ms after the write (0.4 s after the last access): the store is asked again.
    c.advance(NANOS_PER_MILLI);
    assert_eq!(auth_source(&mut c, 0, &t1), "index");
    assert_eq!(verifications(&c, 0), 2);
    // The new entry is fresh.
    c.advance(500 * NANOS_PER_MILLI);
    auth_source(&mut c, 0, &t1);
    assert_eq!(verifications(&c, 0), 2);
}

#[test]
fn sc18_namespace_and_service_not_checked() {
    let mut c = cluster(2);
    warm_t1_and_t1b(&mut c, 2);
    let before: Vec<_> = (0..2)
        .map(|n| (keys(&c, n, FILE), keys(&c, n, INDEX)))
        .collect();
    for (principal, names, key) in [
        ("foo/bar", "*", "foo/bar/"),
        ("*/*", "*", "*/*/"),
        ("elastic/foo", "t1", "elastic/foo/t1"),
        ("other/fleet-server", "t1", "other/fleet-server/t1"),
    ] {
        let mark = c.events.len();
        let r = rest(
            &mut c,
            0,
            "POST",
            &clear_path(principal, names),
            &admin(),
            None,
        );
        assert_eq!(r.status, 200, "{principal}/{names}");
        assert_nodes_ok(&r.body, 2);
        // The keys were sent to every node, and matched nothing.
        assert_eq!(
            clear_events_since(&c, mark)
                .into_iter()
                .map(|e| e.2)
                .collect::<Vec<_>>(),
            [key, key]
        );
    }
    let after: Vec<_> = (0..2)
        .map(|n| (keys(&c, n, FILE), keys(&c, n, INDEX)))
        .collect();
    assert_eq!(before, after);
}

#[test]
fn sc19_privilege() {
    let mut c = cluster(2);
    warm_t1_and_t1b(&mut c, 2);
    for (role, privilege) in [
        ("svc", "manage_service_account"),
        ("sec", "manage_security"),
    ] {
        let r = rest(
            &mut c,
            0,
            "PUT",
            &format!("/_security/role/{role}"),
            &admin(),
            Some(json!({"cluster": [privilege]})),
        );
        assert_eq!(r.status, 200, "{}", r.body);
        let r = rest(
            &mut c,
            0,
            "PUT",
            &format!("/_security/user/u_{role}"),
            &admin(),
            Some(json!({"password": "s3cret-pass", "roles": [role]})),
        );
        assert_eq!(r.status, 200, "{}", r.body);
    }
    let svc = basic("u_svc", "s3cret-pass");
    let mark = c.events.len();
    let r = rest(&mut c, 0, "POST", &clear_path(FLEET, "t1"), &svc, None);
    assert_eq!(r.status, 403);
    assert_eq!(r.body["error"]["type"], json!("security_exception"));
    assert_eq!(
        r.body["error"]["reason"],
        json!(format!(
            "action [{CLEAR_ACTION}] is unauthorized for user [u_svc] with effective roles [svc], \
             this action is granted by the cluster privileges [manage_security,all]"
        ))
    );
    assert!(clear_events_since(&c, mark).is_empty());
    assert!(c.cache_contains(0, INDEX, "elastic/fleet-server/t1"));
    // `manage_service_account` does cover the token APIs themselves.
    let r = rest(
        &mut c,
        0,
        "GET",
        "/_security/service/elastic/fleet-server/credential",
        &svc,
        None,
    );
    assert_eq!(r.status, 200);

    let r = rest(
        &mut c,
        1,
        "POST",
        &clear_path(FLEET, "t1"),
        &basic("u_sec", "s3cret-pass"),
        None,
    );
    assert_eq!(r.status, 200);
    assert_nodes_ok(&r.body, 2);
    for n in 0..2 {
        assert!(!c.cache_contains(n, INDEX, "elastic/fleet-server/t1"));
        assert!(!c.cache_contains(n, FILE, "elastic/fleet-server/t1"));
    }
}

#[test]
fn sc20_get_credentials() {
    let mut c = cluster_named(&["n0", "n1", "n2"], &[]);
    create_index_token(&mut c, FLEET, "api-token-2");
    create_index_token(&mut c, FLEET, "api-token-1");
    create_index_token(&mut c, "elastic/kibana", "kibana-token");
    c.service_tokens_tool_create(0, FLEET, "token1").unwrap();
    let file = c.nodes()[0].service_tokens_file().to_vec();
    c.set_service_tokens_file(1, file).unwrap();
    c.service_tokens_tool_create(2, "elastic/kibana", "token1")
        .unwrap();
    c.advance(5 * NANOS_PER_SECOND);
    let r = rest(
        &mut c,
        2,
        "GET",
        "/_security/service/elastic/fleet-server/credential",
        &admin(),
        None,
    );
    assert_eq!(r.status, 200);
    assert_eq!(
        r.body,
        json!({
            "service_account": "elastic/fleet-server",
            "count": 3,
            "tokens": {"api-token-1": {}, "api-token-2": {}},
            "nodes_credentials": {
                "_nodes": {"total": 3, "successful": 3, "failed": 0},
                "file_tokens": {"token1": {"nodes": ["n0", "n1"]}}
            }
        })
    );
    // Sorted by name in the JSON as well.
    let names: Vec<&String> = r.body["tokens"].as_object().unwrap().keys().collect();
    assert_eq!(names, ["api-token-1", "api-token-2"]);

    // A partitioned node is a failure, and its file tokens are not reported.
    c.set_partitioned(1, true).unwrap();
    let r = rest(
        &mut c,
        0,
        "GET",
        "/_security/service/elastic/fleet-server/credential",
        &admin(),
        None,
    );
    assert_eq!(r.status, 200);
    let nodes = &r.body["nodes_credentials"]["_nodes"];
    assert_eq!(nodes["total"], json!(3));
    assert_eq!(nodes["successful"], json!(2));
    assert_eq!(nodes["failed"], json!(1));
    assert_eq!(nodes["failures"].as_array().unwrap().len(), 1);
    assert_eq!(
        r.body["nodes_credentials"]["file_tokens"],
        json!({"token1": {"nodes": ["n0"]}})
    );
    assert_eq!(r.body["count"], json!(3));
}
