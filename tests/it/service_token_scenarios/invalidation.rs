//! Cluster-level invalidation: ST-I1, ST-I2, ST-I3 and ST-S4 (partitions, delete broadcasts, file
//! reloads, a missing security index).

use super::*;

// ---------------------------------------------------------------------------------------------
// Rules beyond the scenarios
// ---------------------------------------------------------------------------------------------

#[test]
fn i1_partitioned_node_catches_up_when_healed() {
    let mut c = cluster(3);
    let files: String = file_line(FLEET, "f1", "file-secret-f1", 13);
    for n in 0..3 {
        c.set_service_tokens_file(n, files.clone().into_bytes())
            .unwrap();
    }
    c.advance(5 * NANOS_PER_SECOND);
    let t1 = create_index_token(&mut c, FLEET, "t1");
    let f1 = bearer_for(FLEET, "f1", "file-secret-f1");
    for n in 0..3 {
        auth_source(&mut c, n, &t1);
        auth_source(&mut c, n, &f1);
    }
    c.set_partitioned(1, true).unwrap();
    c.recreate_security_index();
    assert!(keys(&c, 0, INDEX).is_empty());
    assert!(keys(&c, 2, INDEX).is_empty());
    // The partitioned node missed the cluster-state update: its entry is stale and still accepted.
    assert_eq!(keys(&c, 1, INDEX), set(&["elastic/fleet-server/t1"]));
    assert_eq!(auth_source(&mut c, 1, &t1), "index");
    assert_eq!(
        auth_failure(&mut c, 0, &t1),
        auth_failed_message(FLEET, "t1")
    );
    c.set_partitioned(1, false).unwrap();
    assert!(keys(&c, 1, INDEX).is_empty());
    assert_eq!(
        auth_failure(&mut c, 1, &t1),
        auth_failed_message(FLEET, "t1")
    );
    // The file caches were never touched.
    for n in 0..3 {
        assert_eq!(keys(&c, n, FILE), set(&["elastic/fleet-server/f1"]));
    }
}

#[test]
fn i1_index_changes_that_do_not_clear() {
    let mut c = cluster(1);
    let t1 = create_index_token(&mut c, FLEET, "t1");
    auth_source(&mut c, 0, &t1);
    // GREEN -> YELLOW and GREEN -> RED: no rule applies.
    c.set_security_index_health(IndexHealth::Yellow).unwrap();
    assert_eq!(keys(&c, 0, INDEX), set(&["elastic/fleet-server/t1"]));
    c.set_security_index_health(IndexHealth::Red).unwrap();
    assert_eq!(keys(&c, 0, INDEX), set(&["elastic/fleet-server/t1"]));
    // Creating a token (I4) clears nothing either.
    c.set_security_index_health(IndexHealth::Green).unwrap();
    auth_source(&mut c, 0, &t1);
    create_index_token(&mut c, FLEET, "t2");
    assert_eq!(keys(&c, 0, INDEX), set(&["elastic/fleet-server/t1"]));
}

#[test]
fn s4_no_security_index_is_an_exception_and_not_cached() {
    let mut c = cluster(1);
    let t1 = create_index_token(&mut c, FLEET, "t1");
    auth_source(&mut c, 0, &t1);
    c.delete_security_index();
    let r = rest(
        &mut c,
        0,
        "GET",
        "/_security/_authenticate",
        &format!("Bearer {t1}"),
        None,
    );
    assert_eq!(r.status, 401);
    let body = r.body.to_string();
    assert!(body.contains("no such index [.security]"), "{body}");
    assert!(c.cache_keys(0, INDEX).is_empty());
}

#[test]
fn i2_delete_broadcasts_an_exact_key_clear_to_every_node() {
    let mut c = cluster(3);
    write_file(&mut c, 0, &file_line(FLEET, "t1", "file-secret-t1", 14));
    let t1 = create_index_token(&mut c, FLEET, "t1");
    let t1b = create_index_token(&mut c, FLEET, "t1-b");
    for n in 0..3 {
        auth_source(&mut c, n, &t1);
        auth_source(&mut c, n, &t1b);
    }
    auth_source(&mut c, 0, &bearer_for(FLEET, "t1", "file-secret-t1"));
    let r = rest(
        &mut c,
        2,
        "DELETE",
        "/_security/service/elastic/fleet-server/credential/token/t1",
        &admin(),
        None,
    );
    assert_eq!(r.body, json!({"found": true}));
    for n in 0..3 {
        // `…/t1` does not clear `…/t1-b`.
        assert_eq!(keys(&c, n, INDEX), set(&["elastic/fleet-server/t1-b"]));
    }
    // The file cache is not touched by a delete.
    assert_eq!(keys(&c, 0, FILE), set(&["elastic/fleet-server/t1"]));
    assert_eq!(
        auth_source(&mut c, 0, &bearer_for(FLEET, "t1", "file-secret-t1")),
        "file"
    );

    // A delete of a token that does not exist still broadcasts the clear (then answers 404).
    let mark = c.events.len();
    let r = rest(
        &mut c,
        0,
        "DELETE",
        "/_security/service/elastic/fleet-server/credential/token/nope",
        &admin(),
        None,
    );
    assert_eq!(r.status, 404);
    assert_eq!(
        clear_events_since(&c, mark),
        (0..3)
            .map(|n| (
                n,
                "index_service_account_token".to_string(),
                "elastic/fleet-server/nope".to_string()
            ))
            .collect::<Vec<_>>()
    );
    // Unknown account: found:false and no clear.
    let mark = c.events.len();
    let r = rest(
        &mut c,
        0,
        "DELETE",
        "/_security/service/elastic/foo/credential/token/t1",
        &admin(),
        None,
    );
    assert_eq!(
        (r.status, (*r.body).clone()),
        (404, json!({"found": false}))
    );
    assert!(clear_events_since(&c, mark).is_empty());
}

#[test]
fn i2_delete_with_a_partitioned_node_leaves_its_entry() {
    let mut c = cluster(3);
    let t1 = create_index_token(&mut c, FLEET, "t1");
    for n in 0..3 {
        auth_source(&mut c, n, &t1);
    }
    c.set_partitioned(2, true).unwrap();
    let r = rest(
        &mut c,
        0,
        "DELETE",
        "/_security/service/elastic/fleet-server/credential/token/t1",
        &admin(),
        None,
    );
    // Node failures are inside a successful clear response: the delete succeeds.
    assert_eq!((r.status, (*r.body).clone()), (200, json!({"found": true})));
    assert!(keys(&c, 0, INDEX).is_empty());
    assert!(keys(&c, 1, INDEX).is_empty());
    assert_eq!(keys(&c, 2, INDEX), set(&["elastic/fleet-server/t1"]));
    // The missed clear is not replayed: the deleted token is still accepted there from the cache.
    c.set_partitioned(2, false).unwrap();
    assert_eq!(auth_source(&mut c, 2, &t1), "index");
    assert_eq!(
        auth_failure(&mut c, 0, &t1),
        auth_failed_message(FLEET, "t1")
    );
}

#[test]
fn i3_reload_only_when_the_map_changes() {
    let mut c = cluster(1);
    let a = file_line(FLEET, "a", "file-secret-a1", 15);
    let b = file_line(FLEET, "b", "file-secret-b1", 16);
    write_file(&mut c, 0, &format!("{a}\n{b}\n"));
    let ba = bearer_for(FLEET, "a", "file-secret-a1");
    let bb = bearer_for(FLEET, "b", "file-secret-b1");
    let t1 = create_index_token(&mut c, FLEET, "t1");
    auth_source(&mut c, 0, &ba);
    auth_source(&mut c, 0, &bb);
    auth_source(&mut c, 0, &t1);
    let both = set(&["elastic/fleet-server/a", "elastic/fleet-server/b"]);

    // Same map in other clothes: reordered lines, CRLF, indentation, comments.
    for same in [
        format!("{b}\n{a}\n"),
        format!("{a}\r\n{b}\r\n"),
        format!("   {a}  \n#x\n{b}"),
        format!("{a}\n{b}\n{a}\n"),
    ] {
        let mark = c.events.len();
        write_file(&mut c, 0, &same);
        assert!(
            events_since(&c, mark, EventKind::FileReloaded, FILE).is_empty(),
            "{same:?}"
        );
        assert_eq!(keys(&c, 0, FILE), both, "{same:?}");
    }
    // Touching the file (rewriting the same bytes) changes nothing either.
    let current = c.nodes()[0].service_tokens_file().to_vec();
    c.set_service_tokens_file(0, current).unwrap();
    c.advance(10 * NANOS_PER_SECOND);
    assert_eq!(keys(&c, 0, FILE), both);

    // Changing one hash clears the whole file cache (not only that key); the index cache stays.
    let b2 = file_line(FLEET, "b", "file-secret-b2", 17);
    write_file(&mut c, 0, &format!("{a}\n{b2}\n"));
    assert!(keys(&c, 0, FILE).is_empty());
    assert_eq!(keys(&c, 0, INDEX), set(&["elastic/fleet-server/t1"]));
    assert_eq!(auth_source(&mut c, 0, &ba), "file");
    assert_eq!(
        auth_failure(&mut c, 0, &bb),
        auth_failed_message(FLEET, "b")
    );
    assert_eq!(
        auth_source(&mut c, 0, &bearer_for(FLEET, "b", "file-secret-b2")),
        "file"
    );

    // Deleting the file (empty) drops every file token.
    write_file(&mut c, 0, "");
    assert!(keys(&c, 0, FILE).is_empty());
    assert_eq!(
        auth_failure(&mut c, 0, &ba),
        auth_failed_message(FLEET, "a")
    );
    // Bad UTF-8 fails the whole file as well; fixing it brings the tokens back.
    write_file(&mut c, 0, &format!("{a}\n"));
    auth_source(&mut c, 0, &ba);
    let mut bad = format!("{a}\n").into_bytes();
    bad.extend_from_slice(b"\xff\xfe\n");
    c.set_service_tokens_file(0, bad).unwrap();
    c.advance(5 * NANOS_PER_SECOND);
    assert!(keys(&c, 0, FILE).is_empty());
    assert_eq!(
        auth_failure(&mut c, 0, &ba),
        auth_failed_message(FLEET, "a")
    );
    write_file(&mut c, 0, &format!("{a}\n"));
    assert_eq!(auth_source(&mut c, 0, &ba), "file");
}

#[test]
fn i3_cli_writes_are_picked_up_at_the_next_poll() {
    let mut c = cluster(2);
    let bearer = c.service_tokens_tool_create(1, FLEET, "cli-token").unwrap();
    assert!(bearer.expose().starts_with("AAEAA"));
    assert_eq!(
        auth_failure(&mut c, 1, bearer.expose()),
        auth_failed_message(FLEET, "cli-token")
    );
    c.advance(5 * NANOS_PER_SECOND);
    assert_eq!(auth_source(&mut c, 1, bearer.expose()), "file");
    assert!(c.cache_contains(1, FILE, "elastic/fleet-server/cli-token"));
    // Nodes can disagree: the token works only on the node whose file has it.
    assert_eq!(
        auth_failure(&mut c, 0, bearer.expose()),
        auth_failed_message(FLEET, "cli-token")
    );
    c.service_tokens_tool_delete(1, FLEET, "cli-token").unwrap();
    c.advance(5 * NANOS_PER_SECOND);
    assert!(keys(&c, 1, FILE).is_empty());
    assert_eq!(
        auth_failure(&mut c, 1, bearer.expose()),
        auth_failed_message(FLEET, "cli-token")
    );
}
