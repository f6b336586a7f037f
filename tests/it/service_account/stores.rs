//! Index and file stores: ST-I1, ST-I3, ST-M1 to ST-M4, the file tokens tool (ST-F4) and the
//! accounts listed for an unknown principal.

use super::*;

// ----- I3 ------------------------------------------------------------------------------------

#[test]
fn i3_file_reload() {
    let mut rng = ChaCha8Rng::seed_from_u64(13);
    let h1 = Hasher::Ssha256.hash("secret-f1-000", &mut rng);
    let h2 = Hasher::Ssha256.hash("secret-f2-000", &mut rng);
    let v1 = format!("elastic/fleet-server/f1:{h1}\n");
    let mut svc = ServiceAccountService::new(&default_settings(), 1, v1.as_bytes()).unwrap();
    let index = open_index();
    let mut log = EventLog::new(true);
    let f1 = token(&fleet(), "f1", "secret-f1-000");
    let f2 = token(&fleet(), "f2", "secret-f2-000");
    let fid = CacheId::FileServiceAccountToken;
    assert_eq!(
        source(&svc.authenticate(&f1, &index, &mut ctx(&mut log, 0))),
        Some(TokenSource::File)
    );
    assert!(svc.contains(fid, "elastic/fleet-server/f1"));

    // Same bytes: the watcher sees nothing.
    assert!(!svc.poll_file(v1.as_bytes(), &mut ctx(&mut log, 1)));
    // A blank line or a comment: re-parsed, same map, nothing cleared.
    let v2 = format!("{v1}\n");
    assert!(!svc.poll_file(v2.as_bytes(), &mut ctx(&mut log, 2)));
    let v3 = format!("{v2}# a comment\n");
    assert!(!svc.poll_file(v3.as_bytes(), &mut ctx(&mut log, 3)));
    assert!(svc.contains(fid, "elastic/fleet-server/f1"));
    assert!(events(&log, EventKind::FileReloaded, fid).is_empty());

    // A new token: the whole file cache is cleared, and f2 works.
    let v4 = format!("{v3}elastic/fleet-server/f2:{h2}\n");
    assert!(svc.poll_file(v4.as_bytes(), &mut ctx(&mut log, 4)));
    assert_eq!(svc.size(fid).unwrap().count, 0);
    let reloads: Vec<String> = log
        .iter()
        .filter(|e| e.kind == EventKind::FileReloaded)
        .map(|e| e.detail.to_string())
        .collect();
    assert_eq!(
        reloads,
        ["service tokens file [config/service_tokens] changed. updating ..."]
    );
    assert_eq!(
        source(&svc.authenticate(&f2, &index, &mut ctx(&mut log, 5))),
        Some(TokenSource::File)
    );
    assert_eq!(
        source(&svc.authenticate(&f1, &index, &mut ctx(&mut log, 5))),
        Some(TokenSource::File)
    );
    assert_eq!(svc.size(fid).unwrap().count, 2);

    // Malformed: every file token fails and the cache is cleared.
    let bad = format!("{v4}no colon\n");
    assert!(svc.poll_file(bad.as_bytes(), &mut ctx(&mut log, 6)));
    assert_eq!(svc.size(fid).unwrap().count, 0);
    assert!(svc.file_tokens().is_empty());
    assert!(log.iter().any(|e| e.kind == EventKind::LogWarn
        && e.detail
            == "failed to parse service tokens file [config/service_tokens]. skipping/removing all tokens..."));
    for t in [&f1, &f2] {
        assert!(matches!(
            svc.authenticate(t, &index, &mut ctx(&mut log, 7)),
            ServiceAccountAuthOutcome::Failure(_)
        ));
    }
    // Still malformed, differently: empty map again, no change.
    assert!(!svc.poll_file(b"still broken", &mut ctx(&mut log, 8)));
    // Fixed: the tokens work again.
    assert!(svc.poll_file(v4.as_bytes(), &mut ctx(&mut log, 9)));
    for t in [&f1, &f2] {
        assert!(svc
            .authenticate(t, &index, &mut ctx(&mut log, 10))
            .is_success());
    }
    // A changed hash for the same key counts as a change.
    let h1b = Hasher::Ssha256.hash("secret-f1-000", &mut rng);
    let v5 = format!("elastic/fleet-server/f1:{h1b}\nelastic/fleet-server/f2:{h2}\n");
    assert!(svc.poll_file(v5.as_bytes(), &mut ctx(&mut log, 11)));
    // Deleting the file removes every token.
    assert!(svc.poll_file(b"", &mut ctx(&mut log, 12)));
    assert!(svc.file_tokens().is_empty());
}

#[test]
fn i1_index_cache_only_via_invalidators() {
    // The file cache opts out of security-index clears: the cluster calls invalidate_all for the
    // index cache only. Here: both invalidators by id act on their own cache alone.
    let mut rng = ChaCha8Rng::seed_from_u64(14);
    let h = Hasher::Ssha256.hash("file-secret-0001", &mut rng);
    let mut svc = ServiceAccountService::new(
        &default_settings(),
        1,
        format!("elastic/kibana/k:{h}\n").as_bytes(),
    )
    .unwrap();
    let mut index = open_index();
    let t = create_index_token(
        &mut index,
        &fleet(),
        "i",
        Hasher::resolve("bcrypt4").unwrap(),
        &mut rng,
        0,
        json!({}),
    )
    .unwrap();
    let kib = token(
        &ServiceAccountId::new("elastic", "kibana").unwrap(),
        "k",
        "file-secret-0001",
    );
    let mut log = EventLog::new(true);
    assert!(svc
        .authenticate(&kib, &index, &mut ctx(&mut log, 0))
        .is_success());
    assert!(svc
        .authenticate(&t, &index, &mut ctx(&mut log, 0))
        .is_success());
    assert!(svc.invalidate_all(CacheId::IndexServiceAccountToken, &mut ctx(&mut log, 1)));
    assert_eq!(
        svc.keys(CacheId::IndexServiceAccountToken),
        Vec::<String>::new()
    );
    assert_eq!(
        svc.keys(CacheId::FileServiceAccountToken),
        ["elastic/kibana/k"]
    );
    assert!(!svc.invalidate_all(CacheId::ApiKeyAuth, &mut ctx(&mut log, 1)));
}

// ----- M: index token operations ---------------------------------------------------------------

#[test]
fn m1_m3_index_tokens() {
    let mut index = open_index();
    let mut rng = ChaCha8Rng::seed_from_u64(15);
    let h = Hasher::resolve("bcrypt4").unwrap();
    let t = create_index_token(
        &mut index,
        &fleet(),
        "b-tok",
        h,
        &mut rng,
        42,
        json!({"principal": "elastic"}),
    )
    .unwrap();
    create_index_token(&mut index, &fleet(), "a-tok", h, &mut rng, 43, json!({})).unwrap();
    let kib = ServiceAccountId::new("elastic", "kibana").unwrap();
    create_index_token(&mut index, &kib, "k", h, &mut rng, 44, json!({})).unwrap();
    let doc = &index.service_tokens["elastic/fleet-server/b-tok"];
    assert_eq!(doc.username, "elastic/fleet-server");
    assert_eq!(doc.creation_time, 42);
    assert!(doc.password_hash.starts_with("$2a$04$"));
    assert!(t.as_bearer_string().starts_with("AAEAA"));
    assert_eq!(t.secret.len(), 22);
    assert_eq!(index_token_names(&index, &fleet()), ["a-tok", "b-tok"]);
    let e =
        create_index_token(&mut index, &fleet(), "a-tok", h, &mut rng, 45, json!({})).unwrap_err();
    assert_eq!(e.status, 409);
    assert_eq!(e.kind, "version_conflict_engine_exception");
    assert_eq!(
        e.reason,
        "[service_account_token-elastic/fleet-server/a-tok]: version conflict, document already exists (current version [1])"
    );
    assert!(e.reason.contains("document already exists"));
    let e =
        create_index_token(&mut index, &fleet(), "_bad", h, &mut rng, 45, json!({})).unwrap_err();
    assert_eq!(e.status, 400);
    assert!(delete_index_token(&mut index, "elastic/fleet-server/a-tok"));
    assert_eq!(index_token_names(&index, &fleet()), ["b-tok"]);
    assert_eq!(
        token_doc_id("elastic/fleet-server/x"),
        "service_account_token-elastic/fleet-server/x"
    );
}

#[test]
fn m4_accounts() {
    let all = get_service_accounts_json(None, None);
    let keys: Vec<&String> = all.as_object().unwrap().keys().collect();
    assert_eq!(
        keys,
        [
            "elastic/fleet-server",
            "elastic/fleet-server-remote",
            "elastic/auto-ops",
            "elastic/kibana"
        ]
    );
    assert_eq!(
        get_service_accounts_json(Some("elastic"), Some("auto-ops")),
        json!({"elastic/auto-ops": {"role_descriptor": {
            "cluster": ["monitor", "read_ilm", "read_slm"],
            "indices": [{"names": ["*"], "privileges": ["monitor", "view_index_metadata"], "allow_restricted_indices": true}],
            "applications": [],
            "run_as": [],
            "metadata": {},
            "transient_metadata": {"enabled": true}
        }}})
    );
    assert_eq!(
        get_service_accounts_json(Some("elastic"), Some("foo")),
        json!({})
    );
    assert_eq!(
        get_service_accounts_json(Some("foo"), Some("bar")),
        json!({})
    );
    assert_eq!(accounts_in(Some("elastic"), None).len(), 4);
}

// ----- F4: the CLI -----------------------------------------------------------------------------

#[test]
fn f4_file_tokens_tool() {
    let mut rng = ChaCha8Rng::seed_from_u64(16);
    let h = Hasher::resolve("bcrypt4").unwrap();
    let start =
        b"# header comment\nelastic/kibana/zz:{SHA}abc\nelastic/fleet-server/p:{plain}x\n\n";
    let (file, t) = tool::create(start, "elastic/fleet-server", "tok1", h, &mut rng).unwrap();
    let text = String::from_utf8(file.clone()).unwrap();
    let lines: Vec<&str> = text.lines().collect();
    assert_eq!(lines.len(), 2);
    assert!(lines[0].starts_with("elastic/fleet-server/tok1:$2a$04$"));
    assert_eq!(lines[1], "elastic/kibana/zz:{SHA}abc");
    assert!(text.ends_with('\n'));
    let line = tool::service_token_line(&t);
    assert_eq!(
        line,
        format!(
            "SERVICE_TOKEN elastic/fleet-server/tok1 = {}",
            t.as_bearer_string()
        )
    );
    // The new file authenticates the printed token.
    let mut svc = ServiceAccountService::new(&default_settings(), 1, &file).unwrap();
    let mut log = EventLog::new(true);
    let parsed = ServiceAccountToken::try_parse(&t.as_bearer_string()).unwrap();
    assert_eq!(
        source(&svc.authenticate(&parsed, &open_index(), &mut ctx(&mut log, 0))),
        Some(TokenSource::File)
    );

    let e = tool::create(&file, "elastic/fleet-server", "tok1", h, &mut rng).unwrap_err();
    assert_eq!(
        (e.exit_code, e.message.as_str()),
        (
            EXIT_CODE_ERROR,
            "Service token [elastic/fleet-server/tok1] already exists"
        )
    );
    let e = tool::create(&file, "elastic/fleet-server", "_x", h, &mut rng).unwrap_err();
    assert_eq!(e.exit_code, EXIT_CODE_ERROR);
    assert!(e.message.starts_with("invalid service token name [_x]."));
    let e = tool::create(&file, "elastic/foo", "_x", h, &mut rng).unwrap_err();
    assert_eq!(e.exit_code, EXIT_NO_USER);
    assert_eq!(
        e.message,
        "Unknown service account principal: [elastic/foo]. Must be one of [elastic/fleet-server,elastic/fleet-server-remote,elastic/auto-ops,elastic/kibana]"
    );
    let e = tool::create(b"broken", "elastic/fleet-server", "x", h, &mut rng).unwrap_err();
    assert_eq!(
        (e.exit_code, e.message.as_str()),
        (1, "Missing ':' character at line #1")
    );

    let (file, _) = tool::create(&file, "elastic/fleet-server", "a", h, &mut rng).unwrap();
    assert_eq!(
        tool::list(&file, None).unwrap(),
        [
            "elastic/fleet-server/a",
            "elastic/fleet-server/tok1",
            "elastic/kibana/zz"
        ]
    );
    assert_eq!(
        tool::list(&file, Some("elastic/fleet-server")).unwrap(),
        ["elastic/fleet-server/a", "elastic/fleet-server/tok1"]
    );
    assert_eq!(
        tool::list(&file, Some("elastic/fleet-server-remote")).unwrap(),
        Vec::<String>::new()
    );
    assert_eq!(
        tool::list(&file, Some("nope")).unwrap_err().exit_code,
        EXIT_NO_USER
    );

    let file = tool::delete(&file, "elastic/fleet-server", "tok1").unwrap();
    assert_eq!(
        tool::list(&file, None).unwrap(),
        ["elastic/fleet-server/a", "elastic/kibana/zz"]
    );
    let e = tool::delete(&file, "elastic/fleet-server", "tok1").unwrap_err();
    assert_eq!(
        (e.exit_code, e.message.as_str()),
        (
            1,
            "Service token [elastic/fleet-server/tok1] does not exist"
        )
    );
    assert_eq!(
        tool::delete(&file, "x/y", "tok1").unwrap_err().exit_code,
        EXIT_NO_USER
    );
}

/// Issue 8, point 17: `elasticsearch-service-tokens` with an unknown principal lists the valid ones
/// joined with `","` in `ACCOUNTS`' own map order (`getServiceAccountPrincipals()`), for every command
/// that takes a principal.
#[test]
fn issue8_d17_unknown_principal_lists_accounts_in_map_order() {
    let want = "Unknown service account principal: [elastic/nope]. Must be one of \
                [elastic/fleet-server,elastic/fleet-server-remote,elastic/auto-ops,elastic/kibana]";
    let mut rng = ChaCha8Rng::seed_from_u64(3);
    let h = Hasher::resolve("bcrypt4").unwrap();
    let errors = [
        tool::create(b"", "elastic/nope", "t", h, &mut rng).unwrap_err(),
        tool::delete(b"", "elastic/nope", "t").unwrap_err(),
        tool::list(b"", Some("elastic/nope")).unwrap_err(),
    ];
    for e in errors {
        assert_eq!((e.exit_code, e.message.as_str()), (EXIT_NO_USER, want));
    }
    assert_eq!(
        service_account_principals(),
        elastic_service_accounts()
            .iter()
            .map(ServiceAccount::principal)
            .collect::<Vec<_>>()
    );
}
