//! API key authentication and its caches: scenarios AK-S1 to AK-S8 (pre-warming, wrong secrets,
//! cached failures, shared first verification, disabled caches, the doc and role-descriptor caches).

use super::*;

// ---------------------------------------------------------------------------------------------
// Section 7 scenarios
// ---------------------------------------------------------------------------------------------

/// AK-S1 (R3.8): the creating node, and only it, caches `(true, hash(secret))`; the doc cache is empty.
#[test]
fn s1_create_prewarms_auth_cache() {
    let mut c = cluster(3);
    let k = create(&mut c, 0, "k1");
    assert_eq!(cached_success(&c, 0, &k.id), Some(true));
    assert_eq!(counts(&c, 0), (1, 0, 0));
    for n in 1..3 {
        assert_eq!(cached_success(&c, n, &k.id), None);
        assert_eq!(counts(&c, n), (0, 0, 0));
    }
    // The cached hash verifies the returned secret: authenticating on the creating node needs no slow
    // verification, and the auth-cache lookup is a hit.
    assert_eq!(svc(&c, 0).verifications, 0);
    assert_accepted(&mut c, 0, &k);
    assert_eq!(svc(&c, 0).verifications, 0);
    assert_eq!(stats(&c, 0, CacheId::ApiKeyAuth), cs(1, 0, 0));
    // Another node has nothing pre-warmed: one slow verification.
    assert_accepted(&mut c, 1, &k);
    assert_eq!(svc(&c, 1).verifications, 1);
}

/// AK-S2: a wrong secret against a good cached entry fails and keeps the very same entry.
#[test]
fn s2_wrong_secret_keeps_good_entry() {
    let mut c = cluster(2);
    let k = create(&mut c, 0, "k");
    assert_accepted(&mut c, 1, &k);
    let before = serial(&c, 1, &k.id);
    assert_eq!(svc(&c, 1).verifications, 1);
    let outcome = auth_secret(&mut c, 1, &k.id, "not-the-secret-at-all!");
    assert_eq!(
        failure_message(&outcome),
        format!("invalid credentials for API key [{}]", k.id)
    );
    assert_eq!(
        serial(&c, 1, &k.id),
        before,
        "the cached object is the same instance"
    );
    assert_eq!(cached_success(&c, 1, &k.id), Some(true));
    assert_eq!(
        svc(&c, 1).verifications,
        1,
        "no slow hash for a wrong secret against a good entry"
    );
    assert_accepted(&mut c, 1, &k);
    assert_eq!(serial(&c, 1, &k.id), before);
    // Same on the creating node's pre-warmed entry.
    let pre = serial(&c, 0, &k.id);
    assert_eq!(
        failure_message(&auth_secret(&mut c, 0, &k.id, "wrong")),
        format!("invalid credentials for API key [{}]", k.id)
    );
    assert_eq!(serial(&c, 0, &k.id), pre);
}

/// AK-S3: failures are cached; a different wrong secret replaces the entry; the right one replaces it
/// with a success; then alternating wrong/right gives CONTINUE then SUCCESS.
#[test]
fn s3_failed_verifications_are_cached() {
    let mut c = cluster(2);
    let k = create(&mut c, 0, "k");
    let a = k.api_key.expose().to_string();
    let invalid = format!("invalid credentials for API key [{}]", k.id);
    // B
    assert_eq!(
        failure_message(&auth_secret(&mut c, 1, &k.id, "secret-B-xxxxxxxxxxxx")),
        invalid
    );
    assert_eq!(cached_success(&c, 1, &k.id), Some(false));
    let s_b = serial(&c, 1, &k.id);
    assert_eq!(svc(&c, 1).verifications, 1);
    // B again: the cached failure answers, no re-hash.
    assert_eq!(
        failure_message(&auth_secret(&mut c, 1, &k.id, "secret-B-xxxxxxxxxxxx")),
        invalid
    );
    assert_eq!(serial(&c, 1, &k.id), s_b);
    assert_eq!(svc(&c, 1).verifications, 1);
    // C: still failing, with a new entry object.
    assert_eq!(
        failure_message(&auth_secret(&mut c, 1, &k.id, "secret-C-yyyyyyyyyyyy")),
        invalid
    );
    assert_eq!(cached_success(&c, 1, &k.id), Some(false));
    let s_c = serial(&c, 1, &k.id);
    assert_ne!(s_c, s_b);
    assert_eq!(svc(&c, 1).verifications, 2);
    // A: success, with a new entry object.
    let ok = api_key_auth(auth_secret(&mut c, 1, &k.id, &a));
    assert_eq!(&*ok.id, k.id);
    assert_eq!(cached_success(&c, 1, &k.id), Some(true));
    let s_a = serial(&c, 1, &k.id);
    assert_ne!(s_a, s_c);
    assert_eq!(svc(&c, 1).verifications, 3);
    // Alternating wrong and right three times: CONTINUE (401 with the message), then SUCCESS.
    for i in 0..3 {
        let wrong = format!("wrong-secret-number-{i}");
        let outcome = auth_secret(&mut c, 1, &k.id, &wrong);
        assert_eq!(failure_message(&outcome), invalid);
        assert!(matches!(&outcome, AuthenticationOutcome::Failed(e) if e.status == 401));
        api_key_auth(auth_secret(&mut c, 1, &k.id, &a));
    }
    assert_eq!(serial(&c, 1, &k.id), s_a);
    assert_eq!(svc(&c, 1).verifications, 3);
    // On a node that starts from the failures the same happens (mixing from scratch).
    for i in 0..3 {
        let outcome = auth_secret(&mut c, 0, &k.id, &format!("wrong-{i}"));
        assert_eq!(failure_message(&outcome), invalid);
        api_key_auth(auth_secret(&mut c, 0, &k.id, &a));
    }
}

/// AK-S4: with the first verification held in the crypto pool, a second authentication joins the same
/// pending entry; one verification serves both.
#[test]
fn s4_concurrent_first_use_shares_one_verification() {
    let mut c = cluster(2);
    let k = create(&mut c, 0, "k");
    c.node_mut(1).unwrap().crypto_pool.mode = CryptoPoolMode::Held;
    let r1 = match auth_key(&mut c, 1, &k) {
        AuthenticationOutcome::Pending { request } => request,
        other => panic!("expected pending, got {other:?}"),
    };
    assert_eq!(svc(&c, 1).cached_result(&k.id), Some(&FutureState::Pending));
    let r2 = match auth_key(&mut c, 1, &k) {
        AuthenticationOutcome::Pending { request } => request,
        other => panic!("expected pending, got {other:?}"),
    };
    assert_ne!(r1, r2);
    assert_eq!(svc(&c, 1).verifications, 0);
    assert_eq!(
        c.nodes()[1].crypto_pool.queued(),
        1,
        "one verification queued for both"
    );
    assert_eq!(svc(&c, 1).pending_verifications(), 1);
    let done = c.drain_crypto_pool(1);
    assert_eq!(svc(&c, 1).verifications, 1);
    assert_eq!(done.len(), 2);
    for r in [r1, r2] {
        let step = &done.iter().find(|(req, _)| *req == r).unwrap().1;
        match step {
            AuthStep::Done(AuthOutcome::Success(a)) => assert_eq!(&*a.id, k.id),
            other => panic!("request {r}: {other:?}"),
        }
    }
    assert_eq!(cached_success(&c, 1, &k.id), Some(true));
    assert_eq!(svc(&c, 1).pending_verifications(), 0);
    // A third request is a plain hit.
    c.node_mut(1).unwrap().crypto_pool.mode = CryptoPoolMode::Immediate;
    assert_accepted(&mut c, 1, &k);
    assert_eq!(svc(&c, 1).verifications, 1);
}

/// S5: `cache.ttl=0s` disables all three caches; creation caches nothing and authentication works.
#[test]
fn s5_ttl_zero_disables_every_cache() {
    let mut c = cluster_with(2, &[("xpack.security.authc.api_key.cache.ttl", "0s")]);
    let k = create(&mut c, 0, "k");
    for n in 0..2 {
        let s = svc(&c, n);
        assert!(s.auth_cache().is_none());
        assert!(s.doc_cache().is_none());
        for cache in [
            CacheId::ApiKeyAuth,
            CacheId::ApiKeyDoc,
            CacheId::ApiKeyRoleDescriptors,
        ] {
            assert_eq!(s.size(cache), None);
            assert_eq!(s.stats(cache), None);
        }
        assert_eq!(s.cached_result(&k.id), None);
    }
    for n in 0..2 {
        assert_accepted(&mut c, n, &k);
        assert_accepted(&mut c, n, &k);
        assert_eq!(svc(&c, n).cached_result(&k.id), None);
        // Nothing is cached: every authentication verifies.
        assert_eq!(svc(&c, n).verifications, 2);
    }
    // No API key cache put (the realm that authenticated the creator has its own cache).
    let api_key_caches = [
        CacheId::ApiKeyAuth,
        CacheId::ApiKeyDoc,
        CacheId::ApiKeyRoleDescriptors,
    ];
    assert_eq!(
        count_events(&c, 0, |e| e.1 == EventKind::CachePut
            && api_key_caches.contains(&e.2)),
        0
    );
}

/// S6: `doc_cache.ttl=0s` disables only the doc and role-descriptor caches.
#[test]
fn s6_doc_cache_ttl_zero_disables_doc_caches_only() {
    let mut c = cluster_with(2, &[("xpack.security.authc.api_key.doc_cache.ttl", "0s")]);
    let k = create(&mut c, 0, "k");
    assert_accepted(&mut c, 1, &k);
    assert_eq!(cached_success(&c, 1, &k.id), Some(true));
    assert_eq!(count(&c, 1, CacheId::ApiKeyAuth), 1);
    let s = svc(&c, 1);
    assert!(s.doc_cache().is_none());
    assert_eq!(s.size(CacheId::ApiKeyDoc), None);
    assert_eq!(s.size(CacheId::ApiKeyRoleDescriptors), None);
    assert_eq!(s.stats(CacheId::ApiKeyDoc), None);
    // Without a doc cache, a GET failure is an authentication failure even with a cached hash.
    c.set_security_index_health(IndexHealth::Red).unwrap();
    assert_rejected(
        &mut c,
        1,
        &k,
        &format!(
            "apikey authentication for id {} encountered a failure",
            k.id
        ),
    );
}

/// S7: doc cache and role-descriptor dedup (ST `testApiKeyDocCache`).
#[test]
fn s7_doc_cache_and_role_descriptor_dedup() {
    let mut c = cluster(3);
    let k1 = create(&mut c, 0, "k1");
    let k2 = create(&mut c, 0, "k2");
    let elastic = elastic(&mut c);
    let k3 = create_as(
        &mut c,
        0,
        &elastic,
        "k3",
        json!({"r1": {"cluster": ["monitor"]}}),
    );
    let empty_hash = role_descriptors_hash("{}");
    let superuser_bytes = c.security_index.api_keys()[&k1.id]
        .limited_by_role_descriptors
        .clone();
    let superuser_hash = role_descriptors_hash(&superuser_bytes);
    assert!(superuser_bytes.contains("superuser"));

    // 1. K1 cached: the byte cache holds `{}` and superuser.
    assert_accepted(&mut c, 1, &k1);
    assert_eq!(count(&c, 1, CacheId::ApiKeyDoc), 1);
    assert_eq!(count(&c, 1, CacheId::ApiKeyRoleDescriptors), 2);
    let rd1 = svc(&c, 1)
        .role_descriptor_bytes(&empty_hash)
        .unwrap()
        .clone();
    let lb1 = svc(&c, 1)
        .role_descriptor_bytes(&superuser_hash)
        .unwrap()
        .clone();
    assert_eq!(&*rd1, "{}");
    assert_eq!(&*lb1, &*superuser_bytes);

    // 2. K2, same roles: a new doc entry, the same byte instances.
    assert_accepted(&mut c, 1, &k2);
    assert_eq!(count(&c, 1, CacheId::ApiKeyDoc), 2);
    assert_eq!(count(&c, 1, CacheId::ApiKeyRoleDescriptors), 2);
    assert!(Arc::ptr_eq(
        svc(&c, 1).role_descriptor_bytes(&empty_hash).unwrap(),
        &rd1
    ));
    assert!(Arc::ptr_eq(
        svc(&c, 1).role_descriptor_bytes(&superuser_hash).unwrap(),
        &lb1
    ));
    // K2's own document carries other instances; the cache hands out the shared ones.
    assert!(!Arc::ptr_eq(
        &c.security_index.api_keys()[&k2.id].role_descriptors,
        &rd1
    ));
    for k in [&k1, &k2] {
        let a = assert_accepted(&mut c, 1, k);
        assert!(Arc::ptr_eq(&a.role_descriptors, &rd1), "{}", k.name);
        assert!(
            Arc::ptr_eq(&a.limited_by_role_descriptors, &lb1),
            "{}",
            k.name
        );
    }

    // 3. K3, another role: three byte entries.
    assert_accepted(&mut c, 1, &k3);
    assert_eq!(count(&c, 1, CacheId::ApiKeyDoc), 3);
    assert_eq!(count(&c, 1, CacheId::ApiKeyRoleDescriptors), 3);

    // 4. Clear the byte cache, then K1: exactly one GET (one doc put, replacing the doc entry) and
    //    two byte entries again.
    with_ctx(
        &mut c,
        1,
        escache::security::api_key::ApiKeyService::invalidate_all_role_descriptors,
    );
    assert_eq!(count(&c, 1, CacheId::ApiKeyRoleDescriptors), 0);
    let mark = c.events.len();
    assert_accepted(&mut c, 1, &k1);
    let doc_puts = count_events(&c, mark, |e| {
        e.1 == EventKind::CachePut && e.2 == CacheId::ApiKeyDoc
    });
    assert_eq!(doc_puts, 1, "exactly one GET");
    assert_eq!(
        count_events(&c, mark, |e| e.1 == EventKind::CacheReplaced
            && e.2 == CacheId::ApiKeyDoc
            && e.3 == k1.id),
        1
    );
    assert_eq!(count(&c, 1, CacheId::ApiKeyRoleDescriptors), 2);
    assert_eq!(count(&c, 1, CacheId::ApiKeyDoc), 3);

    // 5. GETs fail (a red index, which does not clear caches): K1 still authenticates from the doc
    //    cache; a node without the doc fails.
    c.set_security_index_health(IndexHealth::Red).unwrap();
    assert_eq!(count(&c, 1, CacheId::ApiKeyDoc), 3);
    let hits = stats(&c, 1, CacheId::ApiKeyDoc).hits;
    let mark = c.events.len();
    assert_accepted(&mut c, 1, &k1);
    assert_eq!(stats(&c, 1, CacheId::ApiKeyDoc).hits, hits + 1);
    assert_eq!(
        count_events(&c, mark, |e| e.1 == EventKind::CachePut
            && e.2 == CacheId::ApiKeyDoc),
        0
    );
    assert_rejected(
        &mut c,
        2,
        &k1,
        &format!(
            "apikey authentication for id {} encountered a failure",
            k1.id
        ),
    );
}

/// S8: a GET that finds no document removes the auth entry.
#[test]
fn s8_doc_not_found_removes_auth_entry() {
    let mut c = cluster(2);
    let k = create(&mut c, 0, "k");
    assert!(svc(&c, 0).contains(CacheId::ApiKeyAuth, &k.id));
    c.security_index.api_keys_mut().shift_remove(&k.id);
    assert_rejected(
        &mut c,
        0,
        &k,
        &format!("unable to find apikey with id {}", k.id),
    );
    assert!(!svc(&c, 0).contains(CacheId::ApiKeyAuth, &k.id));
    assert_eq!(count(&c, 0, CacheId::ApiKeyAuth), 0);
}
