//! `escache::security::service_account` against the rules of docs/rules.md (T, V, A, S, C, I,
//! F, M rules and the scenarios ST-SC1 to ST-SC20).
//!
//! `tests/data/service_tokens` is Elasticsearch's own test resource (see `tests/data/README.md`).

use crate::common::{SERVICE_TOKENS, SERVICE_TOKEN_SECRETS as SECRETS};
use escache::error::{EsError, ExceptionType};
use escache::events::{CacheId, EventKind, EventLog};
use escache::security::hashing::{Hasher, Secret};
use escache::security::index::{IndexHealth, IndexState, SecurityIndex};
use escache::security::service_account::tool::{self, EXIT_CODE_ERROR, EXIT_NO_USER};
use escache::security::service_account::*;
use escache::security::settings::ServiceTokenSettings;
use escache::security::{CacheSize, Ctx};
use escache::time::{Nanos, TimeUnit, TimeValue, NANOS_PER_SECOND};
use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;
use serde_json::json;
use std::cell::Cell;

const IT_TOKEN: &str = "AAEAAWVsYXN0aWMvZmxlZXQtc2VydmVyL3Rva2VuMTpyNXdkYmRib1FTZTl2R09Ld2FKR0F3";

fn settings(ttl: TimeValue) -> ServiceTokenSettings {
    ServiceTokenSettings {
        cache_ttl: ttl,
        max_tokens: 100_000,
        cache_hash_algo: Hasher::Ssha256,
        hashing_algorithm: Hasher::resolve("bcrypt4").unwrap(),
    }
}

fn default_settings() -> ServiceTokenSettings {
    settings(TimeValue::new(20, TimeUnit::Minutes))
}

fn fleet() -> ServiceAccountId {
    ServiceAccountId::new("elastic", "fleet-server").unwrap()
}

fn token(account: &ServiceAccountId, name: &str, secret: &str) -> ServiceAccountToken {
    ServiceAccountToken::new(account.clone(), name, Secret::new(secret)).unwrap()
}

fn ctx(log: &mut EventLog, now: Nanos) -> Ctx<'_> {
    Ctx { log, node: 0, now }
}

fn open_index() -> SecurityIndex {
    let mut idx = SecurityIndex::new();
    idx.set_state(IndexState {
        exists: true,
        open: true,
        health_when_open: IndexHealth::Green,
        uuid: Some("idx-uuid".into()),
        format_up_to_date: true,
    });
    idx
}

fn events(log: &EventLog, kind: EventKind, cache: CacheId) -> Vec<String> {
    log.iter()
        .filter(|e| e.kind == kind && e.cache == cache)
        .map(|e| e.key.to_string())
        .collect()
}

fn source(o: &ServiceAccountAuthOutcome) -> Option<TokenSource> {
    match o {
        ServiceAccountAuthOutcome::Success(a) => Some(a.source),
        _ => None,
    }
}

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

// ----- C3 ------------------------------------------------------------------------------------

fn store(ttl: TimeValue) -> CachingTokenStore {
    CachingTokenStore::new(CacheId::IndexServiceAccountToken, &settings(ttl)).unwrap()
}

#[test]
fn c3_hit_skips_the_lookup_and_wrong_secret_fails_without_it() {
    let mut s = store(TimeValue::new(20, TimeUnit::Minutes));
    let mut rng = ChaCha8Rng::seed_from_u64(3);
    let mut log = EventLog::new(true);
    let calls = Cell::new(0);
    let good = token(&fleet(), "t1", "good-secret-1");
    let lookup = |t: &ServiceAccountToken| {
        calls.set(calls.get() + 1);
        Ok(t.secret.expose() == "good-secret-1")
    };
    assert!(s
        .authenticate_with_cache(&good, &mut ctx(&mut log, 0), &mut rng, lookup)
        .unwrap());
    assert!(s
        .authenticate_with_cache(&good, &mut ctx(&mut log, 1), &mut rng, lookup)
        .unwrap());
    assert_eq!(calls.get(), 1);
    // Scenario 2: a wrong secret on the cached key fails; the store is not asked; the entry stays.
    let wrong = token(&fleet(), "t1", "WRONGSECRET1");
    assert!(!s
        .authenticate_with_cache(&wrong, &mut ctx(&mut log, 2), &mut rng, lookup)
        .unwrap());
    assert_eq!(calls.get(), 1);
    assert!(s.contains("elastic/fleet-server/t1"));
    assert!(s
        .authenticate_with_cache(&good, &mut ctx(&mut log, 3), &mut rng, lookup)
        .unwrap());
    assert_eq!(calls.get(), 1);
    let st = s.stats().unwrap();
    assert_eq!((st.hits, st.misses, st.evictions), (3, 1, 0));
    let id = CacheId::IndexServiceAccountToken;
    assert_eq!(events(&log, EventKind::CacheMiss, id).len(), 1);
    assert_eq!(events(&log, EventKind::CachePut, id).len(), 1);
    assert_eq!(events(&log, EventKind::CacheHit, id).len(), 3);
    // The cached value keeps no secret and prints no hash.
    let cached = s.cached("elastic/fleet-server/t1").unwrap();
    assert!(cached.result.as_ref().unwrap().success);
    assert!(!format!("{s:?}").contains("SSHA"));
}

#[test]
fn c3_failures_and_exceptions_are_not_cached() {
    let mut s = store(TimeValue::new(20, TimeUnit::Minutes));
    let mut rng = ChaCha8Rng::seed_from_u64(4);
    let mut log = EventLog::new(true);
    let calls = Cell::new(0);
    let t2 = token(&fleet(), "t2", "some-secret-2");
    for i in 0..2 {
        let r = s.authenticate_with_cache(&t2, &mut ctx(&mut log, i), &mut rng, |_| {
            calls.set(calls.get() + 1);
            Ok(false)
        });
        assert_eq!(r, Ok(false));
        assert_eq!(s.size().unwrap().count, 0);
    }
    assert_eq!(calls.get(), 2);
    let id = CacheId::IndexServiceAccountToken;
    assert_eq!(events(&log, EventKind::CacheInvalidated, id).len(), 2);

    let boom = EsError::new(
        ExceptionType::IndexNotFound,
        "no such index [.security]",
        404,
    );
    for i in 0..2 {
        let r = s.authenticate_with_cache(&t2, &mut ctx(&mut log, 10 + i), &mut rng, |_| {
            calls.set(calls.get() + 1);
            Err(boom.clone())
        });
        assert_eq!(r, Err(boom.clone()));
        assert!(!s.contains("elastic/fleet-server/t2"));
    }
    assert_eq!(calls.get(), 4);
    // After the errors, a success is cached normally.
    assert_eq!(
        s.authenticate_with_cache(&t2, &mut ctx(&mut log, 20), &mut rng, |_| Ok(true)),
        Ok(true)
    );
    assert!(s.contains("elastic/fleet-server/t2"));
}

#[test]
fn c3_cache_disabled_always_asks_the_store() {
    for ttl in [TimeValue::ZERO, TimeValue::MINUS_ONE] {
        let mut s = store(ttl);
        assert!(!s.enabled());
        assert_eq!(s.size(), None);
        let mut rng = ChaCha8Rng::seed_from_u64(5);
        let mut log = EventLog::new(true);
        let calls = Cell::new(0);
        let t = token(&fleet(), "t1", "good-secret-1");
        for i in 0..3 {
            let r = s.authenticate_with_cache(&t, &mut ctx(&mut log, i), &mut rng, |_| {
                calls.set(calls.get() + 1);
                Ok(true)
            });
            assert_eq!(r, Ok(true));
        }
        assert_eq!(calls.get(), 3);
        s.invalidate(&["elastic/fleet-server/".into()], &mut ctx(&mut log, 9));
        s.invalidate_all(&mut ctx(&mut log, 9));
        assert!(log.is_empty());
    }
    // Through the service too (scenario 16).
    let mut svc = ServiceAccountService::new(&settings(TimeValue::ZERO), 1, b"").unwrap();
    let mut index = open_index();
    let mut rng = ChaCha8Rng::seed_from_u64(6);
    let t = create_index_token(
        &mut index,
        &fleet(),
        "t1",
        Hasher::resolve("bcrypt4").unwrap(),
        &mut rng,
        0,
        json!({}),
    )
    .unwrap();
    let mut log = EventLog::new(true);
    for _ in 0..3 {
        assert!(svc
            .authenticate(&t, &index, &mut ctx(&mut log, 0))
            .is_success());
    }
    assert_eq!(svc.verifications, 3);
    assert_eq!(svc.size(CacheId::IndexServiceAccountToken), None);
}

#[test]
fn c1_ttl_counts_from_the_write() {
    let mut s = store(TimeValue::new(1, TimeUnit::Seconds));
    let mut rng = ChaCha8Rng::seed_from_u64(7);
    let mut log = EventLog::new(true);
    let calls = Cell::new(0);
    let t = token(&fleet(), "t1", "good-secret-1");
    let mut auth = |now: Nanos| {
        s.authenticate_with_cache(&t, &mut ctx(&mut log, now), &mut rng, |_| {
            calls.set(calls.get() + 1);
            Ok(true)
        })
        .unwrap()
    };
    // (the closure's borrows end at its last use, before the trace is read below)
    assert!(auth(0));
    // Hit repeatedly: the access does not extend the life.
    for now in [
        NANOS_PER_SECOND / 4,
        NANOS_PER_SECOND / 2,
        3 * NANOS_PER_SECOND / 4,
        NANOS_PER_SECOND,
    ] {
        assert!(auth(now));
    }
    assert_eq!(
        calls.get(),
        1,
        "exactly ttl after the write is not yet expired"
    );
    assert!(auth(NANOS_PER_SECOND + 1));
    assert_eq!(
        calls.get(),
        2,
        "strictly more than ttl after the write is a miss"
    );
    assert!(auth(NANOS_PER_SECOND + 2));
    assert_eq!(calls.get(), 2);
    assert_eq!(
        events(
            &log,
            EventKind::CacheEvicted,
            CacheId::IndexServiceAccountToken
        ),
        ["elastic/fleet-server/t1"]
    );
}

#[test]
fn c1_max_tokens_evicts_lru_and_negative_fails() {
    let mut st = settings(TimeValue::new(20, TimeUnit::Minutes));
    st.max_tokens = 2;
    let mut s = CachingTokenStore::new(CacheId::FileServiceAccountToken, &st).unwrap();
    let mut rng = ChaCha8Rng::seed_from_u64(8);
    let mut log = EventLog::new(true);
    for (i, n) in ["a", "b", "a", "c"].into_iter().enumerate() {
        let t = token(&fleet(), n, "good-secret-1");
        s.authenticate_with_cache(&t, &mut ctx(&mut log, i as u64), &mut rng, |_| Ok(true))
            .unwrap();
    }
    assert_eq!(
        s.keys(),
        ["elastic/fleet-server/c", "elastic/fleet-server/a"]
    );
    assert_eq!(
        s.size(),
        Some(CacheSize {
            count: 2,
            weight: 2,
            maximum_weight: Some(2)
        })
    );
    st.max_tokens = -1;
    let e = CachingTokenStore::new(CacheId::FileServiceAccountToken, &st).unwrap_err();
    assert_eq!(e.reason, "maximumWeight < 0");
}

// ----- C4 ------------------------------------------------------------------------------------

#[test]
fn c4_prefix_versus_exact() {
    let mut s = store(TimeValue::new(20, TimeUnit::Minutes));
    let mut rng = ChaCha8Rng::seed_from_u64(9);
    let mut log = EventLog::new(true);
    let kibana = ServiceAccountId::new("elastic", "kibana").unwrap();
    let fill = |s: &mut CachingTokenStore, log: &mut EventLog, rng: &mut ChaCha8Rng| {
        for (acc, n) in [
            (&fleet(), "tok"),
            (&fleet(), "tok-2"),
            (&fleet(), "b"),
            (&kibana, "c"),
        ] {
            let t = token(acc, n, "good-secret-1");
            s.authenticate_with_cache(&t, &mut ctx(log, 0), rng, |_| Ok(true))
                .unwrap();
        }
    };
    fill(&mut s, &mut log, &mut rng);
    s.invalidate(
        &[
            "elastic/fleet-server/tok".into(),
            "elastic/fleet-server/nope".into(),
        ],
        &mut ctx(&mut log, 1),
    );
    assert!(!s.contains("elastic/fleet-server/tok"));
    assert!(s.contains("elastic/fleet-server/tok-2"));
    assert_eq!(s.size().unwrap().count, 3);
    // A prefix removes every key of that account only.
    s.invalidate(&["elastic/fleet-server/".into()], &mut ctx(&mut log, 2));
    assert_eq!(s.keys(), ["elastic/kibana/c"]);
    // Literal `*` patterns match nothing (scenario 18).
    fill(&mut s, &mut log, &mut rng);
    s.invalidate(
        &["*/*/".into(), "elastic/fleet-server/*".into()],
        &mut ctx(&mut log, 3),
    );
    assert_eq!(s.size().unwrap().count, 4);
    let invalidated = events(
        &log,
        EventKind::CacheInvalidated,
        CacheId::IndexServiceAccountToken,
    );
    assert_eq!(invalidated.len(), 3);
    s.invalidate_all(&mut ctx(&mut log, 4));
    assert_eq!(s.size().unwrap().count, 0);
}

// ----- ST-S2 / scenarios ------------------------------------------------------------------------

#[test]
fn scenario_9_same_name_in_file_and_index() {
    let mut rng = ChaCha8Rng::seed_from_u64(10);
    let file_secret = "file-secret-FFFF";
    let h = Hasher::Ssha256.hash(file_secret, &mut rng);
    let file = format!("elastic/fleet-server/token1:{h}\n");
    let mut svc = ServiceAccountService::new(&default_settings(), 1, file.as_bytes()).unwrap();
    let mut index = open_index();
    let idx_token = create_index_token(
        &mut index,
        &fleet(),
        "token1",
        Hasher::resolve("bcrypt4").unwrap(),
        &mut rng,
        1_767_225_600_000,
        json!({"principal": "elastic"}),
    )
    .unwrap();
    let mut log = EventLog::new(true);
    let file_token = token(&fleet(), "token1", file_secret);
    assert_eq!(
        source(&svc.authenticate(&file_token, &index, &mut ctx(&mut log, 0))),
        Some(TokenSource::File)
    );
    assert_eq!(
        source(&svc.authenticate(&idx_token, &index, &mut ctx(&mut log, 1))),
        Some(TokenSource::Index)
    );
    let verifications = svc.verifications;
    // Both cached: the index bearer fails the file cache's hash check and hits the index cache.
    assert_eq!(
        source(&svc.authenticate(&idx_token, &index, &mut ctx(&mut log, 2))),
        Some(TokenSource::Index)
    );
    assert_eq!(
        source(&svc.authenticate(&file_token, &index, &mut ctx(&mut log, 3))),
        Some(TokenSource::File)
    );
    assert_eq!(svc.verifications, verifications);
    assert!(svc.contains(
        CacheId::FileServiceAccountToken,
        "elastic/fleet-server/token1"
    ));
    assert!(svc.contains(
        CacheId::IndexServiceAccountToken,
        "elastic/fleet-server/token1"
    ));
}

#[test]
fn scenario_10_delete_then_clear_index_cache() {
    let mut svc = ServiceAccountService::new(&default_settings(), 1, b"").unwrap();
    let mut index = open_index();
    let mut rng = ChaCha8Rng::seed_from_u64(11);
    let bcrypt4 = Hasher::resolve("bcrypt4").unwrap();
    let t1 =
        create_index_token(&mut index, &fleet(), "t1", bcrypt4, &mut rng, 0, json!({})).unwrap();
    let mut log = EventLog::new(true);
    assert!(svc
        .authenticate(&t1, &index, &mut ctx(&mut log, 0))
        .is_success());
    assert!(delete_index_token(&mut index, "elastic/fleet-server/t1"));
    // Until the clear-cache runs, the success entry still answers (I2 is why it is sent).
    assert!(svc
        .authenticate(&t1, &index, &mut ctx(&mut log, 1))
        .is_success());
    assert!(svc.invalidate_by_name(
        "index_service_account_token",
        Some(&["elastic/fleet-server/t1".to_string()]),
        &mut ctx(&mut log, 2)
    ));
    assert!(!svc
        .authenticate(&t1, &index, &mut ctx(&mut log, 3))
        .is_success());
    assert!(!delete_index_token(&mut index, "elastic/fleet-server/t1"));
    assert!(!svc.invalidate_by_name("service", None, &mut ctx(&mut log, 4)));
}

#[test]
fn s4_index_exceptions_are_returned_and_not_cached() {
    let mut svc = ServiceAccountService::new(&default_settings(), 1, b"").unwrap();
    let mut index = open_index();
    let mut rng = ChaCha8Rng::seed_from_u64(12);
    let t = create_index_token(
        &mut index,
        &fleet(),
        "t",
        Hasher::resolve("bcrypt4").unwrap(),
        &mut rng,
        0,
        json!({}),
    )
    .unwrap();
    let mut state = index.state().clone();
    state.health_when_open = IndexHealth::Red;
    index.set_state(state.clone());
    let mut log = EventLog::new(true);
    match svc.authenticate(&t, &index, &mut ctx(&mut log, 0)) {
        ServiceAccountAuthOutcome::Exception(e) => {
            assert_eq!(e.kind, "unavailable_shards_exception");
        }
        other => panic!("{other:?}"),
    }
    state.health_when_open = IndexHealth::Green;
    state.format_up_to_date = false;
    index.set_state(state.clone());
    match svc.authenticate(&t, &index, &mut ctx(&mut log, 1)) {
        ServiceAccountAuthOutcome::Exception(e) => {
            assert_eq!(e.kind, "illegal_state_exception");
        }
        other => panic!("{other:?}"),
    }
    assert_eq!(
        svc.size(CacheId::IndexServiceAccountToken).unwrap().count,
        0
    );
    state.format_up_to_date = true;
    index.set_state(state);
    assert!(svc
        .authenticate(&t, &index, &mut ctx(&mut log, 2))
        .is_success());
}

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
