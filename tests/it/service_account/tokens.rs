//! Service account tokens and their checks: ST-T2, ST-T4, ST-V1, ST-F2, ST-F3, ST-A2 and the file
//! store with Elasticsearch's own `service_tokens` file.

use super::*;

// ----- T, V ----------------------------------------------------------------------------------

#[test]
fn t2_example_decodes_and_round_trips() {
    let t = ServiceAccountToken::try_parse(IT_TOKEN).unwrap();
    assert_eq!(t.account, fleet());
    assert_eq!(t.name, "token1");
    assert_eq!(
        format!("{}:{}", t.qualified_name(), t.secret.expose()),
        "elastic/fleet-server/token1:r5wdbdboQSe9vGOKwaJGAw"
    );
    assert_eq!(t.as_bearer_string(), IT_TOKEN);
    // Padding is optional when decoding.
    let t2 = token(&fleet(), "t", "secret-secret1");
    let unpadded = t2.as_bearer_string();
    assert_ne!(unpadded.len() % 4, 0);
    let padded = format!("{unpadded}{}", "=".repeat(4 - unpadded.len() % 4));
    assert_eq!(ServiceAccountToken::try_parse(&padded), Some(t2.clone()));
    assert_eq!(ServiceAccountToken::try_parse(&unpadded), Some(t2));
    assert!(!format!("{t:?}").contains("r5wdbdbo"));
}

fn bearer(content: &[u8]) -> String {
    use base64::Engine;
    let mut b = vec![0u8, 1, 0, 1];
    b.extend_from_slice(content);
    base64::engine::general_purpose::STANDARD_NO_PAD.encode(b)
}

#[test]
fn t4_anything_wrong_is_not_a_service_token() {
    use base64::Engine;
    let std = base64::engine::general_purpose::STANDARD;
    assert!(ServiceAccountToken::try_parse("not base64 !!!").is_none());
    assert!(ServiceAccountToken::try_parse("").is_none());
    assert!(ServiceAccountToken::try_parse(
        &std.encode(b"\x00\x01\x00\x02elastic/fleet-server/t:secretsecret")
    )
    .is_none());
    assert!(ServiceAccountToken::try_parse(&std.encode(b"\x00\x01\x00")).is_none());
    for bad in [
        &b"elastic/fleet-server/t"[..],           // no colon
        b"elastic/fleet-server:secretsecret",     // two parts
        b"elastic/fleet-server/a/b:secretsecret", // four parts
        b"elastic/fleet-server/t/:secretsecret",  // trailing empty part counts
        b" /fleet-server/t:secretsecret",         // blank namespace
        b"elastic/\t/t:secretsecret",             // blank service
        b"elastic/fleet-server/_t:secretsecret",  // V1
        b"elastic/fleet-server/:secretsecret",    // V1: empty name
        b"elastic/fleet-server/a b:secretsecret", // V1: space
    ] {
        assert!(
            ServiceAccountToken::try_parse(&bearer(bad)).is_none(),
            "{}",
            String::from_utf8_lossy(bad)
        );
    }
    // The secret may contain ':' (split at the first one) and be short: A2 rejects it later.
    let t = ServiceAccountToken::try_parse(&bearer(b"foo/bar/t:a:b")).unwrap();
    assert_eq!(t.secret.expose(), "a:b");
    assert_eq!(t.account.namespace, "foo");
}

#[test]
fn v1_boundaries() {
    assert!(is_valid_token_name(&"a".repeat(256)));
    assert!(!is_valid_token_name(&"a".repeat(257)));
    assert!(is_valid_token_name("-"));
    assert!(is_valid_token_name("a_"));
    assert!(!is_valid_token_name("_"));
    assert!(!is_valid_token_name("_a"));
    assert!(!is_valid_token_name(""));
    assert!(!is_valid_token_name(" a"));
    assert!(!is_valid_token_name("a b"));
    assert!(!is_valid_token_name("a*"));
    let e = validate_token_name("a b").unwrap_err();
    assert_eq!(e.kind, "illegal_argument_exception");
    assert_eq!(e.status, 400);
    assert_eq!(
        e.reason,
        "invalid service token name [a b]. service account token name must have at least 1 character and at most 256 characters that are alphanumeric (A-Z, a-z, 0-9) or hyphen (-) or underscore (_). It must not begin with an underscore (_)."
    );
}

// ----- F: the file ---------------------------------------------------------------------------

#[test]
fn f2_f3_file_rules() {
    let mut rng = ChaCha8Rng::seed_from_u64(1);
    let h1 = Hasher::Ssha256.hash("secret-one-1", &mut rng);
    let h2 = Hasher::Ssha256.hash("secret-two-2", &mut rng);
    let text = format!(
        "# a comment\n\n\t \nelastic/fleet-server/a:{h1}\r\nelastic/fleet-server/p:{{plain}}xyz\n  elastic/fleet-server/a:{h2}  \nelastic/kibana/k:{h1}\n"
    );
    let p = parse_service_tokens_file(text.as_bytes()).unwrap();
    assert_eq!(p.len(), 2);
    assert_eq!(p.get("elastic/fleet-server/a"), Some(h2.as_str()));
    assert!(!p.contains("elastic/fleet-server/p"));
    assert_eq!(
        p.warnings(),
        [
            "skipping plaintext service account token for key [elastic/fleet-server/p]",
            "found duplicated key [elastic/fleet-server/a], earlier entries are overridden",
        ]
    );
    let dbg = format!("{p:?}");
    assert!(!dbg.contains(&h1) && !dbg.contains("SSHA256"));

    // Line numbers count comments and blank lines.
    let e = parse_service_tokens_file(
        format!("# c\n\nelastic/fleet-server/a:{h1}\nno colon here\n").as_bytes(),
    )
    .unwrap_err();
    assert_eq!(e, FileParseError::MissingColon { line: 4 });
    assert_eq!(e.to_string(), "Missing ':' character at line #4");
    // Bad UTF-8 (a UTF-16 file) fails the whole file.
    let utf16: Vec<u8> = "a:{SHA}x\n"
        .encode_utf16()
        .flat_map(u16::to_le_bytes)
        .chain([0xff, 0xfe])
        .collect();
    assert!(matches!(
        parse_service_tokens_file(&[0xff, 0xfe, b'a', b':']),
        Err(FileParseError::MalformedInput { .. })
    ));
    assert!(parse_service_tokens_file(&utf16).is_err());
    // Keys are not checked; an empty file is empty.
    let p = parse_service_tokens_file(format!("whatever:{h1}").as_bytes()).unwrap();
    assert!(p.contains("whatever"));
    assert!(parse_service_tokens_file(b"").unwrap().is_empty());
}

#[test]
fn f3_malformed_file_fails_startup() {
    let e = ServiceAccountService::new(&default_settings(), 1, b"a:{SHA}x\nbroken\n").unwrap_err();
    assert_eq!(e.kind, "illegal_state_exception");
    assert_eq!(e.reason, "Missing ':' character at line #2");
    let e = ServiceAccountService::new(&default_settings(), 1, &[0xc3, 0x28]).unwrap_err();
    assert_eq!(
        e.reason,
        "Failed to load service_tokens file [config/service_tokens]"
    );
}

// ----- the real Elasticsearch test file -------------------------------------------------------

#[test]
fn real_file_tokens_authenticate_from_the_file_store() {
    let mut svc =
        ServiceAccountService::new(&default_settings(), 7, SERVICE_TOKENS.as_bytes()).unwrap();
    assert_eq!(svc.file_tokens().len(), 5);
    assert_eq!(
        svc.startup_warnings(),
        ["skipping plaintext service account token for key [elastic/fleet-server/plain]"]
    );
    assert_eq!(
        svc.file_token_names(&fleet()),
        [
            "bcrypt",
            "bcrypt10",
            "pbkdf2",
            "pbkdf2_50000",
            "pbkdf2_stretch"
        ]
    );
    let index = open_index();
    let mut log = EventLog::new(true);
    for (name, secret) in SECRETS {
        let t = token(&fleet(), name, secret);
        let out = svc.authenticate(&t, &index, &mut ctx(&mut log, 0));
        assert_eq!(source(&out), Some(TokenSource::File), "{name}");
        // The secrets of the others do not verify.
        let other = SECRETS.iter().find(|(n, _)| *n != name).unwrap().1;
        let wrong = token(&fleet(), name, other);
        let out = svc.authenticate(&wrong, &index, &mut ctx(&mut log, 0));
        assert!(
            matches!(out, ServiceAccountAuthOutcome::Failure(_)),
            "{name}"
        );
    }
    assert_eq!(svc.size(CacheId::FileServiceAccountToken).unwrap().count, 5);
    // Each stored hash was verified once; the wrong secrets hit the cache and went on to the index.
    assert_eq!(svc.verifications, 5);
    let details: Vec<String> = log
        .iter()
        .filter(|e| e.kind == EventKind::HashVerification)
        .map(|e| e.detail.to_string())
        .collect();
    assert_eq!(
        details,
        [
            "bcrypt",
            "bcrypt",
            "pbkdf2",
            "pbkdf2_50000",
            "pbkdf2_stretch"
        ]
    );

    // The plaintext line was skipped: its secret fails in the file store, then the index store.
    let plain = token(&fleet(), "plain", "_By842iQQVKSCLxVcJZWvw");
    let out = svc.authenticate(&plain, &index, &mut ctx(&mut log, 0));
    let e = out.error().unwrap();
    assert_eq!(e.status, 401);
    assert_eq!(
        e.reason,
        "failed to authenticate service account [elastic/fleet-server] with token name [plain]"
    );
    // With no security index the index store raises: ST-S2 returns the exception (ST-S4).
    let out = svc.authenticate(&plain, &SecurityIndex::new(), &mut ctx(&mut log, 0));
    match out {
        ServiceAccountAuthOutcome::Exception(e) => {
            assert_eq!(e.kind, "index_not_found_exception");
            assert_eq!(e.reason, "no such index [.security]");
        }
        other => panic!("{other:?}"),
    }
}

#[test]
fn qa_file_token_authenticates_the_it_bearer() {
    // `x-pack/plugin/security/qa/service-account/.../service_tokens` (tests/data/README.md).
    let line = b"elastic/fleet-server/token1:{PBKDF2_STRETCH}10000$8QN+eThJEaCd18sCP0nfzxJq2D9yhmSZgI20TDooYcE=$+0ELfqW4D2+/SlHvm/885dzv67qO2SMJg32Mv/9epXk=\n";
    let mut svc = ServiceAccountService::new(&default_settings(), 1, line).unwrap();
    let index = open_index();
    let mut log = EventLog::new(true);
    let t = ServiceAccountToken::try_parse(IT_TOKEN).unwrap();
    let out = svc.authenticate(&t, &index, &mut ctx(&mut log, 0));
    assert_eq!(
        out,
        ServiceAccountAuthOutcome::Success(ServiceAccountAuthentication {
            principal: "elastic/fleet-server".into(),
            token_name: "token1".into(),
            source: TokenSource::File,
        })
    );
    // ServiceAccountIT.INVALID_SERVICE_TOKEN's secret: the cache hit fails, the index has nothing.
    let invalid = token(&fleet(), "token1", "3aJCLaQWRN2sXlOdtxA0SQ");
    let out = svc.authenticate(&invalid, &index, &mut ctx(&mut log, 1));
    assert_eq!(
        out.error().unwrap().reason,
        "failed to authenticate service account [elastic/fleet-server] with token name [token1]"
    );
    assert_eq!(svc.verifications, 1);
}

// ----- A2 ------------------------------------------------------------------------------------

#[test]
fn a2_checks_fail_before_any_store_or_cache() {
    let mut rng = ChaCha8Rng::seed_from_u64(2);
    let h = Hasher::Ssha256.hash("abcdefghi", &mut rng);
    let file = format!("elastic/fleet-server/short:{h}\nfoo/bar/t:{h}\n");
    let mut svc = ServiceAccountService::new(&default_settings(), 1, file.as_bytes()).unwrap();
    let index = SecurityIndex::new(); // an index store lookup would raise
    let mut log = EventLog::new(true);
    for t in [
        token(&fleet(), "short", "abcdefghi"), // 9 chars
        token(
            &ServiceAccountId::new("foo", "bar").unwrap(),
            "t",
            "abcdefghijkl",
        ),
        token(
            &ServiceAccountId::new("elastic", "foo").unwrap(),
            "t",
            "abcdefghijkl",
        ),
        token(
            &ServiceAccountId::new("elastic", "enterprise-search-server").unwrap(),
            "t",
            "abcdefghijkl",
        ),
    ] {
        let out = svc.authenticate(&t, &index, &mut ctx(&mut log, 0));
        let e = match out {
            ServiceAccountAuthOutcome::Failure(e) => e,
            other => panic!("{other:?}"),
        };
        assert_eq!(e.kind, "security_exception");
        assert_eq!(e.status, 401);
        assert_eq!(
            e.reason,
            format!(
                "failed to authenticate service account [{}] with token name [{}]",
                t.account, t.name
            )
        );
    }
    assert!(log.is_empty());
    assert_eq!(
        svc.stats(CacheId::FileServiceAccountToken).unwrap().misses,
        0
    );
    assert_eq!(
        svc.stats(CacheId::IndexServiceAccountToken).unwrap().misses,
        0
    );
    assert_eq!(svc.verifications, 0);
}
