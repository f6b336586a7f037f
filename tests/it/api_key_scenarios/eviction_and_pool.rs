//! Eviction statistics, TTL expiry, the thrashing warning, doc metrics and the crypto pool:
//! scenarios AK-S16 to AK-S20.

use super::*;

/// S16 (cluster level): with `max_keys=3`, size evictions are counted and traced; a re-put and
/// invalidations are not traced; `invalidateAll` leaves the eviction counter alone.
#[test]
fn s16_eviction_statistics() {
    let mut c = cluster_with(2, &[("xpack.security.authc.api_key.cache.max_keys", "3")]);
    c.node_mut(0)
        .unwrap()
        .api_keys
        .eviction_monitor_mut()
        .unwrap()
        .keep_trace = true;
    let keys: Vec<CreatedApiKey> = (0..3)
        .map(|i| create(&mut c, 0, &format!("k{i}")))
        .collect();
    assert_eq!(count(&c, 0, CacheId::ApiKeyAuth), 3);
    assert_eq!(stats(&c, 0, CacheId::ApiKeyAuth).evictions, 0);
    let k3 = create(&mut c, 0, "k3");
    assert_eq!(count(&c, 0, CacheId::ApiKeyAuth), 3);
    assert_eq!(stats(&c, 0, CacheId::ApiKeyAuth).evictions, 1);
    let k4 = create(&mut c, 0, "k4");
    assert_eq!(count(&c, 0, CacheId::ApiKeyAuth), 3);
    assert_eq!(stats(&c, 0, CacheId::ApiKeyAuth).evictions, 2);
    assert!(!svc(&c, 0).contains(CacheId::ApiKeyAuth, &keys[0].id));
    assert!(!svc(&c, 0).contains(CacheId::ApiKeyAuth, &keys[1].id));
    // Re-put and a hit: no change.
    with_ctx(&mut c, 0, |s, ctx| s.on_created(&k4.id, &k4.api_key, ctx));
    assert_accepted(&mut c, 0, &k3);
    assert_eq!(count(&c, 0, CacheId::ApiKeyAuth), 3);
    assert_eq!(stats(&c, 0, CacheId::ApiKeyAuth).evictions, 2);
    let monitor = svc(&c, 0).eviction_monitor().unwrap();
    assert_eq!(monitor.size_evictions, 2);
    let trace: Vec<String> = monitor
        .trace
        .iter()
        .map(escache::security::api_key::EvictionLog::message)
        .collect();
    assert_eq!(
        trace,
        [&keys[0].id, &keys[1].id]
            .iter()
            .map(|id| format!(
                "API key with ID [{id}] was evicted from the authentication cache, possibly due to cache size limit"
            ))
            .collect::<Vec<_>>()
    );
    // invalidate(k) counts an eviction (R6.8) but is not a size eviction: not traced.
    c.clear_security_cache(0, "api_key", &strings(&[&k3.id]));
    assert_eq!(stats(&c, 0, CacheId::ApiKeyAuth).evictions, 3);
    assert_eq!(svc(&c, 0).eviction_monitor().unwrap().size_evictions, 2);
    // invalidateAll: count 0, evictions unchanged.
    c.clear_security_cache(0, "api_key", &[]);
    assert_eq!(count(&c, 0, CacheId::ApiKeyAuth), 0);
    assert_eq!(stats(&c, 0, CacheId::ApiKeyAuth).evictions, 3);
    assert_eq!(svc(&c, 0).eviction_monitor().unwrap().size_evictions, 2);
    assert_eq!(svc(&c, 0).eviction_monitor().unwrap().trace.len(), 2);
}

/// S17 (cluster level): with `cache.ttl=100ms`, an entry not used for 200 ms is a miss; the new put
/// leaves one entry, and TTL expiry is not traced.
#[test]
fn s17_ttl_expiry_is_a_miss_and_not_traced() {
    let mut c = cluster_with(1, &[("xpack.security.authc.api_key.cache.ttl", "100ms")]);
    let k = create(&mut c, 0, "k");
    assert_eq!(count(&c, 0, CacheId::ApiKeyAuth), 1);
    c.advance(200 * NANOS_PER_MILLI);
    let before = stats(&c, 0, CacheId::ApiKeyAuth);
    assert_accepted(&mut c, 0, &k);
    let after = stats(&c, 0, CacheId::ApiKeyAuth);
    assert_eq!(after.hits, before.hits);
    assert_eq!(after.misses, before.misses + 1);
    assert_eq!(
        svc(&c, 0).verifications,
        1,
        "the expired pre-warmed hash was not used"
    );
    assert_eq!(count(&c, 0, CacheId::ApiKeyAuth), 1);
    assert_eq!(cached_success(&c, 0, &k.id), Some(true));
    let monitor = svc(&c, 0).eviction_monitor().unwrap();
    assert_eq!(monitor.size_evictions, 0);
    assert_eq!(monitor.eviction_counter(), 0);
    assert!(monitor.warnings.is_empty());
    // Exactly at the TTL an entry is still alive (strictly greater expires).
    c.advance(100 * NANOS_PER_MILLI);
    assert_accepted(&mut c, 0, &k);
    assert_eq!(svc(&c, 0).verifications, 1);
}

/// S18: with the counter at 4500 and the last check 311 s ago, one size eviction logs TRACE and one
/// WARN and resets the counter; the next eviction does not warn.
#[test]
fn s18_thrashing_warning() {
    let mut c = cluster_with(1, &[("xpack.security.authc.api_key.cache.max_keys", "1")]);
    create(&mut c, 0, "k0");
    c.advance(311 * NANOS_PER_SECOND);
    {
        let m = c
            .node_mut(0)
            .unwrap()
            .api_keys
            .eviction_monitor_mut()
            .unwrap();
        m.set_eviction_counter(EVICTION_WARNING_THRESHOLD);
        m.set_last_checked_at(0);
    }
    let mark = c.events.len();
    create(&mut c, 0, "k1");
    let m = svc(&c, 0).eviction_monitor().unwrap();
    assert_eq!(m.size_evictions, 1);
    assert_eq!(m.warnings, vec![(311 * NANOS_PER_SECOND, 4501)]);
    assert_eq!(m.eviction_counter(), 0);
    let warns: Vec<String> = events_since(&c, mark)
        .into_iter()
        .filter(|e| e.1 == EventKind::LogWarn)
        .map(|e| e.4)
        .collect();
    assert_eq!(
        warns,
        vec!["Possible thrashing for API key authentication cache, [4501] eviction due to cache size within last [300] seconds"]
    );
    let mark = c.events.len();
    create(&mut c, 0, "k2");
    let m = svc(&c, 0).eviction_monitor().unwrap();
    assert_eq!(m.size_evictions, 2);
    assert_eq!(m.warnings.len(), 1);
    assert_eq!(m.eviction_counter(), 1);
    assert_eq!(count_events(&c, mark, |e| e.1 == EventKind::LogWarn), 0);
}

/// S19: doc and role-descriptor cache stats with `max_keys=1`, exactly as the table.
#[test]
fn s19_doc_and_role_descriptor_metrics() {
    let mut c = cluster_with(2, &[("xpack.security.authc.api_key.cache.max_keys", "1")]);
    let elastic = elastic(&mut c);
    let k1 = create_as(
        &mut c,
        0,
        &elastic,
        "k1",
        json!({"r1": {"cluster": ["monitor"]}}),
    );
    // First authentication.
    assert_accepted(&mut c, 1, &k1);
    assert_eq!(count(&c, 1, CacheId::ApiKeyDoc), 1);
    assert_eq!(stats(&c, 1, CacheId::ApiKeyDoc), cs(0, 1, 0));
    assert_eq!(count(&c, 1, CacheId::ApiKeyRoleDescriptors), 2);
    assert_eq!(stats(&c, 1, CacheId::ApiKeyRoleDescriptors), cs(0, 2, 0));
    // Gets.
    assert_accepted(&mut c, 1, &k1);
    assert_eq!(stats(&c, 1, CacheId::ApiKeyDoc), cs(1, 1, 0));
    assert_eq!(stats(&c, 1, CacheId::ApiKeyRoleDescriptors), cs(2, 2, 0));
    // A second key with other roles (its own and its limited-by both differ from K1's).
    let reader = native_user(
        &mut c,
        "reader",
        "reader-password",
        "reader",
        json!({"cluster": ["monitor"], "indices": []}),
    );
    let k2 = create_as(
        &mut c,
        0,
        &reader,
        "k2",
        json!({"r2": {"cluster": ["manage_api_key"]}}),
    );
    assert_accepted(&mut c, 1, &k2);
    assert_eq!(count(&c, 1, CacheId::ApiKeyDoc), 1);
    assert_eq!(stats(&c, 1, CacheId::ApiKeyDoc), cs(1, 2, 1));
    assert_eq!(count(&c, 1, CacheId::ApiKeyRoleDescriptors), 2);
    assert_eq!(stats(&c, 1, CacheId::ApiKeyRoleDescriptors), cs(2, 4, 2));
}

/// S20: a saturated crypto pool answers 429 and leaves no (toxic) auth entry behind.
#[test]
fn s20_crypto_pool_full_gives_429() {
    let mut c = cluster(2);
    let k = create(&mut c, 0, "k");
    c.node_mut(1).unwrap().crypto_pool.mode = CryptoPoolMode::Saturated;
    let mark = c.events.len();
    match auth_key(&mut c, 1, &k) {
        AuthenticationOutcome::Failed(e) => {
            assert_eq!(e.kind, "es_rejected_execution_exception");
            assert_eq!(e.status, 429);
        }
        other => panic!("expected 429, got {other:?}"),
    }
    assert!(!svc(&c, 1).contains(CacheId::ApiKeyAuth, &k.id));
    assert_eq!(count(&c, 1, CacheId::ApiKeyAuth), 0);
    let ev = events_since(&c, mark);
    assert!(ev.iter().any(|e| e.1 == EventKind::LogWarn
        && e.4 == "rejecting possibly valid API key authentication because the [security-crypto] threadpool is full"));
    assert!(ev.iter().any(|e| e.1 == EventKind::AuthRejected));
    assert!(ev
        .iter()
        .any(|e| e.1 == EventKind::CacheInvalidated && e.2 == CacheId::ApiKeyAuth && e.3 == k.id));
    // A pre-warmed key still authenticates on a saturated pool: no verification needed.
    c.node_mut(0).unwrap().crypto_pool.mode = CryptoPoolMode::Saturated;
    assert_accepted(&mut c, 0, &k);
    // Once the pool has room, the key works again: nothing toxic was cached.
    c.node_mut(1).unwrap().crypto_pool.mode = CryptoPoolMode::Immediate;
    assert_accepted(&mut c, 1, &k);
    assert_eq!(cached_success(&c, 1, &k.id), Some(true));
}
