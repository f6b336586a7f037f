//! The event trace of cache activity, secret hygiene in events, `Debug` and errors, and the
//! builder's refusal of a negative `max_keys`.

use super::*;

/// The trace records cache hits, misses, puts and removals (with their reasons) and authentication
/// outcomes.
#[test]
fn events_record_cache_activity_and_outcomes() {
    let mut c = cluster_with(2, &[("xpack.security.authc.api_key.cache.max_keys", "2")]);
    let k = create(&mut c, 0, "k");
    let mark = c.events.len();
    assert_accepted(&mut c, 1, &k);
    let ev = events_since(&c, mark);
    let has = |ev: &[(NodeIndex, EventKind, CacheId, String, String)], kind, cache, key: &str| {
        ev.iter()
            .any(|e| e.0 == 1 && e.1 == kind && e.2 == cache && e.3 == key)
    };
    assert!(has(&ev, EventKind::CacheMiss, CacheId::ApiKeyDoc, &k.id));
    assert!(has(&ev, EventKind::CachePut, CacheId::ApiKeyDoc, &k.id));
    assert!(has(
        &ev,
        EventKind::CacheMiss,
        CacheId::ApiKeyRoleDescriptors,
        &role_descriptors_hash("{}")
    ));
    assert!(has(
        &ev,
        EventKind::CachePut,
        CacheId::ApiKeyRoleDescriptors,
        &role_descriptors_hash("{}")
    ));
    assert!(has(&ev, EventKind::CacheMiss, CacheId::ApiKeyAuth, &k.id));
    assert!(has(&ev, EventKind::CachePut, CacheId::ApiKeyAuth, &k.id));
    assert!(has(
        &ev,
        EventKind::HashVerification,
        CacheId::ApiKeyAuth,
        &k.id
    ));
    assert!(ev
        .iter()
        .any(|e| e.1 == EventKind::HashVerification && e.4 == "ssha256"));
    assert!(ev
        .iter()
        .any(|e| e.0 == 1 && e.1 == EventKind::AuthSuccess && e.3 == k.id && e.4 == "api_key"));
    // Hits.
    let mark = c.events.len();
    assert_accepted(&mut c, 1, &k);
    let ev = events_since(&c, mark);
    assert!(has(&ev, EventKind::CacheHit, CacheId::ApiKeyDoc, &k.id));
    assert!(has(&ev, EventKind::CacheHit, CacheId::ApiKeyAuth, &k.id));
    assert!(!ev.iter().any(|e| e.1 == EventKind::CacheMiss));
    // A failure carries the message.
    let mark = c.events.len();
    auth_secret(&mut c, 1, &k.id, "wrong-secret");
    let ev = events_since(&c, mark);
    assert!(ev.iter().any(|e| e.1 == EventKind::AuthFailure
        && e.4 == format!("API key: invalid credentials for API key [{}]", k.id)));
    // Removals: EVICTED (size), INVALIDATED (clear), REPLACED (re-put).
    let k2 = create(&mut c, 0, "k2");
    let mark = c.events.len();
    create(&mut c, 0, "k3");
    assert!(events_since(&c, mark).iter().any(|e| e.0 == 0
        && e.1 == EventKind::CacheEvicted
        && e.2 == CacheId::ApiKeyAuth
        && e.3 == k.id));
    let mark = c.events.len();
    c.clear_security_cache(0, "api_key", &strings(&[&k.id]));
    let ev = events_since(&c, mark);
    assert!(ev.iter().any(|e| e.0 == 1
        && e.1 == EventKind::CacheInvalidated
        && e.2 == CacheId::ApiKeyDoc
        && e.3 == k.id));
    assert!(ev.iter().any(|e| e.0 == 1
        && e.1 == EventKind::CacheInvalidated
        && e.2 == CacheId::ApiKeyAuth
        && e.3 == k.id));
    assert!(ev
        .iter()
        .any(|e| e.1 == EventKind::ClearCache && e.3 == "api_key" && e.4 == k.id));
    // A doc put over an existing doc entry is REPLACED (its byte entries had gone).
    assert_accepted(&mut c, 1, &k2);
    with_ctx(
        &mut c,
        1,
        escache::security::api_key::ApiKeyService::invalidate_all_role_descriptors,
    );
    let mark = c.events.len();
    assert_accepted(&mut c, 1, &k2);
    assert!(events_since(&c, mark)
        .iter()
        .any(|e| e.1 == EventKind::CacheReplaced && e.2 == CacheId::ApiKeyDoc && e.3 == k2.id));
    // 429s are their own kind.
    c.node_mut(1).unwrap().crypto_pool.mode = CryptoPoolMode::Saturated;
    let k4 = create(&mut c, 0, "k4");
    let mark = c.events.len();
    auth_key(&mut c, 1, &k4);
    assert!(events_since(&c, mark)
        .iter()
        .any(|e| e.1 == EventKind::AuthRejected && e.0 == 1));
}

/// No secret, encoded credential or stored hash ever appears in the trace, in Debug output of the
/// cluster, its services, documents and responses, or in error reasons.
#[test]
fn no_secret_in_events_debug_or_errors() {
    let mut c = cluster(3);
    // The `elastic` password is a secret too.
    let mut secrets: Vec<String> = vec!["changeme".to_string()];
    let mut keys = Vec::new();
    let mut errors: Vec<String> = Vec::new();
    for i in 0..8u16 {
        let node = i % 3;
        let k = create(&mut c, node, &format!("key-{i}"));
        secrets.push(k.api_key.expose().to_string());
        secrets.push(k.encoded.expose().to_string());
        secrets.push(c.security_index.api_keys()[&k.id].hash.clone().unwrap());
        assert!(!format!("{k:?}").contains(k.api_key.expose()));
        assert!(!format!("{k:?}").contains(k.encoded.expose()));
        keys.push(k);
    }
    for (i, k) in keys.iter().enumerate() {
        for n in 0..3u16 {
            let wrong = format!("wrong-{i}-{n}-{}", "z".repeat(12));
            secrets.push(wrong.clone());
            let outcome = auth_secret(&mut c, n, &k.id, &wrong);
            if let AuthenticationOutcome::Failed(e) = &outcome {
                errors.push(format!("{e:?}"));
                errors.push(e.to_body().to_string());
            }
            errors.push(format!("{outcome:?}"));
            let ok = auth_key(&mut c, n, k);
            errors.push(format!("{ok:?}"));
            // A secret of another key.
            let other = &keys[(i + 1) % keys.len()];
            let outcome = auth_secret(&mut c, n, &k.id, other.api_key.expose());
            errors.push(format!("{outcome:?}"));
        }
    }
    c.node_mut(1).unwrap().crypto_pool.mode = CryptoPoolMode::Held;
    c.clear_security_cache(0, "api_key", &[]);
    errors.push(format!("{:?}", auth_key(&mut c, 1, &keys[0])));
    errors.push(format!("{:?}", c.nodes()[1].api_keys));
    errors.push(format!("{:?}", c.drain_crypto_pool(1)));
    c.node_mut(2).unwrap().crypto_pool.mode = CryptoPoolMode::Saturated;
    errors.push(format!("{:?}", auth_key(&mut c, 2, &keys[1])));
    let half: Vec<&str> = keys[..4].iter().map(|k| k.id.as_str()).collect();
    let inv = invalidate(&mut c, 0, &half);
    errors.push(format!("{inv:?}"));
    for k in &keys {
        for n in 0..3 {
            errors.push(format!("{:?}", auth_key(&mut c, n, k)));
        }
    }
    let mut debug = vec![format!("{c:?}"), format!("{:?}", c.security_index)];
    for n in c.nodes() {
        debug.push(format!("{n:?}"));
        debug.push(format!("{:?}", n.api_keys));
        debug.push(format!("{:?}", n.api_keys.auth_cache()));
        debug.push(format!("{:?}", n.api_keys.doc_cache().map(|d| &d.docs)));
        for k in &keys {
            debug.push(format!("{:?}", n.api_keys.cached_result(&k.id)));
        }
    }
    for d in c.security_index.api_keys().values() {
        debug.push(format!("{d:?}"));
        debug.push(format!("{:?}", d.to_cached()));
    }
    assert!(c.events.len() > 100);
    for s in &secrets {
        for e in c.events.iter() {
            assert!(
                !e.key.contains(s.as_str()) && !e.detail.contains(s.as_str()),
                "secret in event {e:?}"
            );
        }
        for text in debug.iter().chain(&errors) {
            assert!(!text.contains(s.as_str()), "secret in {text}");
        }
    }
}

/// A negative `max_keys` fails the cache builder when the node is built.
#[test]
fn negative_max_keys_fails_the_builder() {
    let mut config = ClusterConfig::new(1);
    config.settings =
        SecuritySettings::from_pairs([("xpack.security.authc.api_key.cache.max_keys", "-1")])
            .unwrap();
    let err = Cluster::new(config).unwrap_err();
    assert_eq!(err.reason, "maximumWeight < 0");
}
