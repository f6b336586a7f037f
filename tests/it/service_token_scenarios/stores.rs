//! Scenarios ST-SC9 to ST-SC15: file and index tokens side by side, deletes, index changes, and
//! edited, malformed and real `service_tokens` files.

use super::*;

#[test]
fn sc9_same_name_in_file_and_index() {
    let mut c = cluster(1);
    write_file(&mut c, 0, &file_line(FLEET, "token1", "file-secret-F1", 7));
    let index_bearer = create_index_token(&mut c, FLEET, "token1");
    let file_bearer = bearer_for(FLEET, "token1", "file-secret-F1");
    assert_eq!(auth_source(&mut c, 0, &index_bearer), "index");
    assert_eq!(auth_source(&mut c, 0, &file_bearer), "file");
    let key = "elastic/fleet-server/token1";
    assert!(c.cache_contains(0, FILE, key));
    assert!(c.cache_contains(0, INDEX, key));
    let v = verifications(&c, 0);
    let (fh, fm) = stats(&c, 0, FILE);
    let (ih, im) = stats(&c, 0, INDEX);
    let mark = c.events.len();

    // The index bearer: the file-cache hit fails its hash check, the index-cache hit succeeds.
    assert_eq!(auth_source(&mut c, 0, &index_bearer), "index");
    assert_eq!(stats(&c, 0, FILE), (fh + 1, fm));
    assert_eq!(stats(&c, 0, INDEX), (ih + 1, im));
    assert_eq!(verifications(&c, 0), v);
    assert!(c
        .events
        .iter()
        .skip(mark)
        .all(|e| e.kind != EventKind::HashVerification));
    // Both entries stay, each a success.
    for cache in [FILE, INDEX] {
        let e = c.nodes()[0]
            .service_accounts
            .store(cache)
            .unwrap()
            .cached(key)
            .unwrap();
        assert!(e.result.as_ref().unwrap().success, "{cache:?}");
    }
    let r = rest(
        &mut c,
        0,
        "GET",
        "/_security/_authenticate",
        &format!("Bearer {index_bearer}"),
        None,
    );
    assert_eq!(
        r.body["token"],
        json!({"name": "token1", "type": "_service_account_index"})
    );
    let r = rest(
        &mut c,
        0,
        "GET",
        "/_security/_authenticate",
        &format!("Bearer {file_bearer}"),
        None,
    );
    assert_eq!(
        r.body["token"],
        json!({"name": "token1", "type": "_service_account_file"})
    );
}

#[test]
fn sc10_delete_clears_the_index_cache() {
    let mut c = cluster(3);
    let t1 = create_index_token(&mut c, FLEET, "t1");
    for n in 0..3 {
        auth_source(&mut c, n, &t1);
        assert!(c.cache_contains(n, INDEX, "elastic/fleet-server/t1"));
    }
    let mark = c.events.len();
    let r = rest(
        &mut c,
        1,
        "DELETE",
        "/_security/service/elastic/fleet-server/credential/token/t1",
        &admin(),
        None,
    );
    assert_eq!(r.status, 200);
    assert_eq!(r.body, json!({"found": true}));
    let expected: Vec<_> = (0..3)
        .map(|n| {
            (
                n,
                "index_service_account_token".to_string(),
                "elastic/fleet-server/t1".to_string(),
            )
        })
        .collect();
    assert_eq!(clear_events_since(&c, mark), expected);
    for n in 0..3 {
        assert!(keys(&c, n, INDEX).is_empty());
        let (_, misses) = stats(&c, n, INDEX);
        assert_eq!(
            auth_failure(&mut c, n, &t1),
            auth_failed_message(FLEET, "t1")
        );
        // A store miss: the document is gone, so no hash was verified.
        assert_eq!(stats(&c, n, INDEX).1, misses + 1);
        assert_eq!(verifications(&c, n), 1);
    }
    let r = rest(
        &mut c,
        0,
        "DELETE",
        "/_security/service/elastic/fleet-server/credential/token/t1",
        &admin(),
        None,
    );
    assert_eq!(r.status, 404);
    assert_eq!(r.body, json!({"found": false}));
}

#[test]
fn sc11_delete_without_index_create_errors() {
    let mut c = cluster(2);
    c.delete_security_index();
    assert!(!c.security_index.exists());
    let mark = c.events.len();
    let r = rest(
        &mut c,
        0,
        "DELETE",
        "/_security/service/elastic/fleet-server/credential/token/t1",
        &admin(),
        None,
    );
    assert_eq!(r.status, 404);
    assert_eq!(r.body, json!({"found": false}));
    assert!(clear_events_since(&c, mark).is_empty());
    assert!(!c.security_index.exists());

    let r = rest(
        &mut c,
        0,
        "POST",
        "/_security/service/elastic/foo/credential/token/t1",
        &admin(),
        None,
    );
    assert_eq!(r.status, 400);
    assert_eq!(r.body["error"]["type"], json!("illegal_argument_exception"));
    assert_eq!(
        r.body["error"]["reason"],
        json!("service account [elastic/foo] does not exist")
    );

    create_index_token(&mut c, FLEET, "t1");
    let r = rest(
        &mut c,
        1,
        "PUT",
        "/_security/service/elastic/fleet-server/credential/token/t1",
        &admin(),
        None,
    );
    assert_eq!(r.status, 409);
    assert_eq!(
        r.body["error"]["type"],
        json!("version_conflict_engine_exception")
    );
    let reason = r.body["error"]["reason"].as_str().unwrap();
    assert!(reason.contains("document already exists"), "{reason}");
    assert!(
        reason.contains("service_account_token-elastic/fleet-server/t1"),
        "{reason}"
    );
}

#[test]
fn sc12_security_index_changes_clear_the_index_cache_only() {
    type Change = fn(&mut Cluster);
    let changes: [(&str, Change); 4] = [
        ("recreated (new UUID)", |c| c.recreate_security_index()),
        ("deleted", |c| c.delete_security_index()),
        ("up-to-date flag flipped", |c| {
            c.set_security_index_up_to_date(false);
        }),
        ("RED -> GREEN", |c| {
            c.set_security_index_health(IndexHealth::Green).unwrap();
        }),
    ];
    for (what, change) in changes {
        let mut c = cluster(2);
        write_file(&mut c, 0, &file_line(FLEET, "f1", "file-secret-f1", 3));
        let t1 = create_index_token(&mut c, FLEET, "t1");
        auth_source(&mut c, 0, &t1);
        auth_source(&mut c, 1, &t1);
        assert_eq!(
            auth_source(&mut c, 0, &bearer_for(FLEET, "f1", "file-secret-f1")),
            "file"
        );
        if what == "RED -> GREEN" {
            // Going RED clears nothing (only a move to non-RED does), and a cached token still
            // authenticates from the cache while the index is RED.
            c.set_security_index_health(IndexHealth::Red).unwrap();
            assert_eq!(keys(&c, 0, INDEX), set(&["elastic/fleet-server/t1"]));
            assert_eq!(auth_source(&mut c, 0, &t1), "index");
        }
        change(&mut c);
        for n in 0..2 {
            assert!(keys(&c, n, INDEX).is_empty(), "{what}: node {n}");
        }
        assert_eq!(
            keys(&c, 0, FILE),
            set(&["elastic/fleet-server/f1"]),
            "{what}"
        );
    }
}

#[test]
fn sc13_file_edited() {
    let mut c = cluster(1);
    let f1_line = file_line(FLEET, "f1", "file-secret-f1", 4);
    let g_line = file_line(FLEET, "g", "file-secret-g1", 5);
    write_file(&mut c, 0, &format!("{f1_line}\n{g_line}\n"));
    let f1 = bearer_for(FLEET, "f1", "file-secret-f1");
    let g = bearer_for(FLEET, "g", "file-secret-g1");
    let f2 = bearer_for(FLEET, "f2", "file-secret-f2");
    auth_source(&mut c, 0, &f1);
    auth_source(&mut c, 0, &g);
    assert_eq!(keys(&c, 0, FILE).len(), 2);

    // A comment and a blank line: the map is the same, nothing is cleared.
    let same = format!("# a comment\n{f1_line}\n\n{g_line}\n\n# another:comment\n");
    let mark = c.events.len();
    write_file(&mut c, 0, &same);
    assert!(events_since(&c, mark, EventKind::FileReloaded, FILE).is_empty());
    assert_eq!(keys(&c, 0, FILE).len(), 2);

    // A new line: after the next poll (not before) the whole file cache is cleared and f2 works.
    let edited = format!("{same}{}\n", file_line(FLEET, "f2", "file-secret-f2", 6));
    c.set_service_tokens_file(0, edited.into_bytes()).unwrap();
    let now = c.now();
    let next_poll = (now / (5 * NANOS_PER_SECOND) + 1) * 5 * NANOS_PER_SECOND;
    c.advance(next_poll - now - NANOS_PER_MILLI);
    assert_eq!(keys(&c, 0, FILE).len(), 2, "not reloaded before the poll");
    assert_eq!(
        auth_failure(&mut c, 0, &f2),
        auth_failed_message(FLEET, "f2")
    );
    let mark = c.events.len();
    c.advance(NANOS_PER_MILLI);
    let reloads = events_since(&c, mark, EventKind::FileReloaded, FILE);
    assert_eq!(reloads.len(), 1);
    assert_eq!(
        reloads[0].2,
        "service tokens file [config/service_tokens] changed. updating ..."
    );
    assert!(keys(&c, 0, FILE).is_empty(), "the whole cache is cleared");
    assert_eq!(auth_source(&mut c, 0, &f2), "file");
    assert_eq!(auth_source(&mut c, 0, &f1), "file");
}

#[test]
fn sc14_malformed_file() {
    let mut c = cluster(1);
    let good = [
        file_line(FLEET, "f1", "file-secret-f1", 8),
        file_line("elastic/kibana", "k1", "file-secret-k1", 9),
    ]
    .join("\n");
    write_file(&mut c, 0, &good);
    let f1 = bearer_for(FLEET, "f1", "file-secret-f1");
    let k1 = bearer_for("elastic/kibana", "k1", "file-secret-k1");
    auth_source(&mut c, 0, &f1);
    auth_source(&mut c, 0, &k1);
    assert_eq!(keys(&c, 0, FILE).len(), 2);

    let mark = c.events.len();
    write_file(&mut c, 0, &format!("{good}\nno-colon-on-this-line\n"));
    let warns = events_since(&c, mark, EventKind::LogWarn, FILE);
    assert!(
        warns.iter().any(|w| w.2
            == "failed to parse service tokens file [config/service_tokens]. skipping/removing all tokens..."),
        "{warns:?}"
    );
    assert_eq!(
        events_since(&c, mark, EventKind::FileReloaded, FILE).len(),
        1
    );
    assert!(keys(&c, 0, FILE).is_empty());
    assert_eq!(
        auth_failure(&mut c, 0, &f1),
        auth_failed_message(FLEET, "f1")
    );
    assert_eq!(
        auth_failure(&mut c, 0, &k1),
        auth_failed_message("elastic/kibana", "k1")
    );
    assert!(c.nodes()[0].service_accounts.file_tokens().is_empty());

    write_file(&mut c, 0, &good);
    assert_eq!(auth_source(&mut c, 0, &f1), "file");
    assert_eq!(auth_source(&mut c, 0, &k1), "file");
}

#[test]
fn sc15_plaintext_and_duplicate_lines() {
    let mut c = cluster(1);
    let text = [
        "elastic/fleet-server/p:{plain}plaintext-secret".to_string(),
        file_line(FLEET, "dup", "first-secret-1", 10),
        file_line(FLEET, "dup", "second-secret-2", 11),
    ]
    .join("\n");
    let mark = c.events.len();
    write_file(&mut c, 0, &text);
    let warns: Vec<String> = events_since(&c, mark, EventKind::LogWarn, FILE)
        .into_iter()
        .map(|e| e.2)
        .collect();
    assert_eq!(
        warns,
        [
            "skipping plaintext service account token for key [elastic/fleet-server/p]",
            "found duplicated key [elastic/fleet-server/dup], earlier entries are overridden",
        ]
    );
    assert_eq!(
        c.nodes()[0].service_accounts.file_tokens(),
        ["elastic/fleet-server/dup"]
    );
    assert_eq!(
        auth_failure(&mut c, 0, &bearer_for(FLEET, "p", "plaintext-secret")),
        auth_failed_message(FLEET, "p")
    );
    assert_eq!(
        auth_failure(&mut c, 0, &bearer_for(FLEET, "dup", "first-secret-1")),
        auth_failed_message(FLEET, "dup")
    );
    assert_eq!(
        auth_source(&mut c, 0, &bearer_for(FLEET, "dup", "second-secret-2")),
        "file"
    );
}

#[test]
fn sc15_real_elasticsearch_file() {
    // Elasticsearch's own test resource: five hashed tokens and a `{plain}` line.
    let mut c = cluster(2);
    c.set_service_tokens_file(0, SERVICE_TOKENS.as_bytes().to_vec())
        .unwrap();
    let mark = c.events.len();
    c.advance(5 * NANOS_PER_SECOND);
    let warns: Vec<String> = events_since(&c, mark, EventKind::LogWarn, FILE)
        .into_iter()
        .map(|e| e.2)
        .collect();
    assert_eq!(
        warns,
        ["skipping plaintext service account token for key [elastic/fleet-server/plain]"]
    );
    assert_eq!(
        c.service_tokens_tool_list(0, None).unwrap(),
        [
            "elastic/fleet-server/bcrypt",
            "elastic/fleet-server/bcrypt10",
            "elastic/fleet-server/pbkdf2",
            "elastic/fleet-server/pbkdf2_50000",
            "elastic/fleet-server/pbkdf2_stretch",
        ]
    );
    for (name, secret) in REAL_SECRETS {
        let b = bearer_for(FLEET, name, secret);
        assert_eq!(auth_source(&mut c, 0, &b), "file", "{name}");
        // Only node-0 has the file.
        assert_eq!(
            auth_failure(&mut c, 1, &b),
            auth_failed_message(FLEET, name)
        );
    }
    // Another token's secret fails.
    assert_eq!(
        auth_failure(
            &mut c,
            0,
            &bearer_for(FLEET, "pbkdf2", "XE90eAaoT1iW1W-vJf34qw")
        ),
        auth_failed_message(FLEET, "pbkdf2")
    );
    assert_eq!(
        auth_failure(
            &mut c,
            0,
            &bearer_for(FLEET, "plain", "_By842iQQVKSCLxVcJZWvw")
        ),
        auth_failed_message(FLEET, "plain")
    );
}
