//! The auth cache's eviction monitor: scenarios AK-S16 to AK-S18 and AK-R2.7.

use super::*;

// ---------------------------------------------------------------------------------------------
// Scenarios and the R2.7 eviction monitor
// ---------------------------------------------------------------------------------------------

type AuthCache = Cache<String, u32, escache::cache::UnitWeigher, AuthCacheEvictionMonitor>;

/// The API key auth cache: `max_keys` entries, expire-after-access ttl, the R2.7 listener.
fn auth_cache(max_keys: i64, ttl: TimeValue) -> AuthCache {
    let mut monitor = AuthCacheEvictionMonitor::new(max_keys as u64);
    monitor.keep_trace = true;
    CacheBuilder::new()
        .maximum_weight(max_keys)
        .expire_after_access(ttl)
        .removal_listener(monitor)
        .build()
        .unwrap()
}

fn traced_ids(cache: &AuthCache) -> Vec<String> {
    cache
        .listener()
        .trace
        .iter()
        .filter_map(|l| match l {
            EvictionLog::Trace { id, .. } => Some(id.clone()),
            EvictionLog::ThrashingWarning { .. } => None,
        })
        .collect()
}

/// S16: eviction statistics with `max_keys` = N, and a TRACE line only for size evictions.
#[test]
fn s16_eviction_statistics_and_trace_only_on_size_evictions() {
    const N: i64 = 5;
    let mut cache = auth_cache(N, TimeValue::new(24, TimeUnit::Hours));
    let t = NANOS_PER_SECOND;
    for i in 0..N {
        cache.put(format!("k{i}"), i as u32, t);
    }
    assert_eq!(cache.count(), 5);
    assert_eq!(cache.stats().evictions, 0);

    cache.put("k5".to_string(), 5, t);
    assert_eq!(cache.count(), 5);
    assert_eq!(cache.stats().evictions, 1);
    assert_eq!(traced_ids(&cache), vec!["k0"]);
    assert_eq!(
        cache.listener().trace[0].message(),
        "API key with ID [k0] was evicted from the authentication cache, possibly due to cache size limit"
    );

    cache.put("k6".to_string(), 6, t);
    assert_eq!(cache.stats().evictions, 2);
    assert_eq!(traced_ids(&cache), vec!["k0", "k1"]);

    // Re-put of an existing key: REPLACED, nothing counted or traced.
    cache.put("k6".to_string(), 60, t);
    // invalidate(k, v) with a different value: nothing.
    assert!(!cache.invalidate_value("k5", &999, t));
    assert_eq!(cache.count(), 5);
    assert_eq!(cache.stats().evictions, 2);
    assert_eq!(traced_ids(&cache), vec!["k0", "k1"]);

    cache.invalidate_all(t);
    assert_eq!(cache.count(), 0);
    assert_eq!(cache.stats().evictions, 2);
    let monitor = cache.listener();
    assert_eq!(monitor.size_evictions, 2);
    // The first size eviction ran the first R2.7 check and reset the counter; only k1 is pending.
    assert_eq!(monitor.eviction_counter(), 1);
    assert_eq!(monitor.trace.len(), 2, "invalidations are not traced");
    assert!(monitor.warnings.is_empty());
}

/// S17: ttl = 100ms: an entry not accessed for 200ms is a miss; a new put prunes it, count 1, and that
/// TTL eviction (below the size limit) is not traced.
#[test]
fn s17_ttl_expiry_is_a_miss_and_not_traced() {
    let ttl = TimeValue::new(100, TimeUnit::Millis);
    let mut cache = auth_cache(5, ttl);
    cache.put("k".to_string(), 1, 0);
    let later = 200 * NANOS_PER_MILLI;
    assert_eq!(cache.get("k", later), None);
    assert_eq!(cache.stats(), stats(0, 1, 0));
    assert_eq!(cache.count(), 1, "still there until pruned");

    cache.put("k2".to_string(), 2, later);
    assert_eq!(cache.count(), 1);
    assert_eq!(cache.keys().cloned().collect::<Vec<_>>(), vec!["k2"]);
    assert_eq!(
        cache.stats().evictions,
        1,
        "the cache counts the TTL eviction"
    );
    let monitor = cache.listener();
    assert_eq!(monitor.size_evictions, 0, "but the monitor does not");
    assert_eq!(monitor.eviction_counter(), 0);
    assert!(monitor.trace.is_empty());

    // The same with a re-put of the expired key: REPLACED, count 1, still nothing traced.
    let mut again = auth_cache(5, ttl);
    again.put("k".to_string(), 1, 0);
    assert_eq!(again.get("k", later), None);
    again.put("k".to_string(), 2, later);
    assert_eq!(again.count(), 1);
    assert_eq!(again.get("k", later), Some(2));
    assert!(again.listener().trace.is_empty());
}

/// S18: with the counter at 4500 and the last check more than 310 s ago, one size eviction gives a
/// TRACE and one WARN and resets the counter; the next eviction gives no WARN.
#[test]
fn s18_thrashing_warning_once_then_throttled() {
    let now = 1_000 * NANOS_PER_SECOND;
    let mut cache = auth_cache(2, TimeValue::new(24, TimeUnit::Hours));
    cache.put("a".to_string(), 1, now);
    cache.put("b".to_string(), 2, now);
    let monitor = cache.listener_mut();
    monitor.set_eviction_counter(EVICTION_WARNING_THRESHOLD);
    let last_check = now - 311 * NANOS_PER_SECOND;
    monitor.set_last_checked_at(last_check);
    assert_eq!(EVICTION_WARNING_THRESHOLD, 4500);

    cache.put("c".to_string(), 3, now);
    let monitor = cache.listener();
    assert_eq!(traced_ids(&cache), vec!["a"]);
    // The eviction is counted before the check: 4500 + 1.
    assert_eq!(monitor.warnings, vec![(now, 4501)]);
    assert_eq!(
        monitor.trace.last().unwrap().message(),
        "Possible thrashing for API key authentication cache, [4501] eviction due to cache size within last [300] seconds"
    );
    assert_eq!(monitor.eviction_counter(), 0, "reset");
    assert_eq!(monitor.last_checked_at(), Some(now));

    let next = now + NANOS_PER_SECOND;
    cache.put("d".to_string(), 4, next);
    let monitor = cache.listener();
    assert_eq!(traced_ids(&cache), vec!["a", "b"]);
    assert_eq!(monitor.warnings.len(), 1, "throttled: no second WARN");
    assert_eq!(monitor.eviction_counter(), 1);
    assert_eq!(monitor.last_checked_at(), Some(now));
    assert_eq!(monitor.size_evictions, 2);
}

/// R2.7 edges: only EVICTED with `count()` >= `max_keys` is counted; the first size eviction runs the
/// first check (Elasticsearch's last-check time starts at 0, far before `nanoTime`); later checks run
/// once at least 300 s have passed (>=), reset the counter even below the threshold, and warn only at
/// >= 4500.
#[test]
fn r2_7_monitor_counts_size_evictions_and_checks_every_300s() {
    let ctx = |count: usize, now: u64| RemovalContext {
        count,
        weight: count as u128,
        now,
    };
    let mut m = AuthCacheEvictionMonitor::new(10);
    m.observe(Evicted, &"ttl", ctx(9, 1)); // below the limit: a TTL eviction
    m.observe(Replaced, &"r", ctx(10, 1));
    m.observe(Invalidated, &"i", ctx(10, 1));
    assert_eq!((m.eviction_counter(), m.size_evictions), (0, 0));
    assert!(m.trace.is_empty(), "nothing logged, keep_trace or not");
    assert_eq!(m.last_checked_at(), None);

    // The first size eviction: counted, then the first check takes it and resets the counter.
    m.observe(Evicted, &"s1", ctx(10, 2));
    assert_eq!((m.eviction_counter(), m.size_evictions), (0, 1));
    assert_eq!(m.last_checked_at(), Some(2));
    m.observe(Evicted, &"s2", ctx(11, 3));
    assert_eq!((m.eviction_counter(), m.size_evictions), (1, 2));
    assert_eq!(m.last_checked_at(), Some(2));

    // 1 ns short of 300 s after that check: no check yet.
    m.observe(
        Evicted,
        &"s3",
        ctx(10, 2 + EVICTION_MONITOR_INTERVAL_NANOS - 1),
    );
    assert_eq!(m.eviction_counter(), 2);
    assert_eq!(m.last_checked_at(), Some(2));

    // Exactly 300 s: the check runs; 3 < 4500, so no WARN, but the counter is reset.
    let first = 2 + EVICTION_MONITOR_INTERVAL_NANOS;
    m.observe(Evicted, &"s4", ctx(10, first));
    assert_eq!(m.eviction_counter(), 0);
    assert_eq!(m.last_checked_at(), Some(first));
    assert!(m.warnings.is_empty());

    // Exactly the threshold at the next check: WARN with that count.
    m.set_eviction_counter(EVICTION_WARNING_THRESHOLD - 1);
    let second = first + EVICTION_MONITOR_INTERVAL_NANOS;
    m.observe(Evicted, &"s5", ctx(10, second));
    assert_eq!(m.warnings, vec![(second, EVICTION_WARNING_THRESHOLD)]);
    assert_eq!(m.eviction_counter(), 0);
    assert_eq!(m.size_evictions, 5);
}
