//! The token caches: ST-C1, ST-C3, ST-C4, scenarios ST-SC9 and ST-SC10, and ST-S4.

use super::*;

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
            maximum_weight: Some(2),
            // The TTL the store was built with (settings(20m) above).
            expire_after_write: Some(20 * 60 * 1_000_000_000),
            expire_after_access: None,
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
