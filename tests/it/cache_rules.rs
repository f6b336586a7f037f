//! One test per rule of docs/rules.md (`org.elasticsearch.common.cache.Cache`, R6.1-R6.9), the
//! eviction scenarios S16 and S17, and the auth-cache eviction monitor (R2.7, S16-S18).
//!
//! Every expectation here is spelled out by hand from the rule (and from `Cache.java`), never
//! computed by the engine itself.

use escache::cache::{
    Cache, CacheBuildError, CacheBuilder, CacheStats, CollectingListener, LoadError,
    RemovalContext, RemovalNotification, RemovalReason,
};
use escache::security::api_key::{
    AuthCacheEvictionMonitor, EvictionLog, EVICTION_MONITOR_INTERVAL_NANOS,
    EVICTION_WARNING_THRESHOLD,
};
use escache::time::{TimeUnit, TimeValue, NANOS_PER_MILLI, NANOS_PER_SECOND};

type Collected<K, V, W> = Cache<K, V, W, CollectingListener<K, V>>;

/// One notification as (key, value, reason, count after, weight after, now).
type Seen<K, V> = (K, V, RemovalReason, usize, u128, u64);

/// Takes the notifications fired since the last call.
fn drain<K, V, W>(cache: &mut Collected<K, V, W>) -> Vec<Seen<K, V>> {
    cache
        .listener_mut()
        .notifications
        .drain(..)
        .map(|(n, c)| (n.key, n.value, n.reason, c.count, c.weight, c.now))
        .collect()
}

fn keys<K: Clone, V, W, L>(cache: &Cache<K, V, W, L>) -> Vec<K> {
    cache.keys().cloned().collect()
}

fn stats(hits: u64, misses: u64, evictions: u64) -> CacheStats {
    CacheStats {
        hits,
        misses,
        evictions,
    }
}

/// A value that is its own weight, for weighted caches.
fn value_weigher(_: &&'static str, v: &u64) -> u64 {
    *v
}

use RemovalReason::{Evicted, Invalidated, Replaced};

// ---------------------------------------------------------------------------------------------
// R6.1-R6.9
// ---------------------------------------------------------------------------------------------

/// R6.1: Elasticsearch spreads keys over 256 segments, but there is one LRU list for the whole cache:
/// the least recently used entry of *all* keys is the one evicted, whatever segment it lives in.
#[test]
fn r6_1_one_lru_order_across_all_keys() {
    let mut cache: Collected<u32, u32, _> = CacheBuilder::new()
        .maximum_weight(300)
        .removal_listener(CollectingListener::default())
        .build()
        .unwrap();
    // 300 keys: far more than 256 segments, so keys share and spread over segments.
    for k in 0..300 {
        cache.put(k, k * 10, 0);
    }
    let expected: Vec<u32> = (0..300).rev().collect();
    assert_eq!(keys(&cache), expected, "most recently used first");
    assert!(drain(&mut cache).is_empty());

    // Touch the oldest key and one in the middle: they move to the head, in that order.
    assert_eq!(cache.get(&0, 1), Some(0));
    assert_eq!(cache.get(&150, 2), Some(1500));
    let listed = keys(&cache);
    assert_eq!(&listed[..4], &[150, 0, 299, 298]);
    assert_eq!(listed.len(), 300);
    assert_eq!(
        *listed.last().unwrap(),
        1,
        "key 1 is now the global LRU entry"
    );

    // The next insert evicts key 1, the globally least recent one, not key 0 (inserted first).
    cache.put(300, 3000, 3);
    assert_eq!(drain(&mut cache), vec![(1, 10, Evicted, 300, 300, 3)]);
    cache.put(301, 3010, 4);
    assert_eq!(drain(&mut cache), vec![(2, 20, Evicted, 300, 300, 4)]);
    assert!(cache.contains_key(&0) && cache.contains_key(&150));
    assert_eq!(&keys(&cache)[..4], &[301, 300, 150, 0]);
    // iter() walks the same single order, with values.
    let first: Vec<(u32, u32)> = cache.iter().take(3).map(|(k, v)| (*k, *v)).collect();
    assert_eq!(first, vec![(301, 3010), (300, 3000), (150, 1500)]);
    assert_eq!(cache.stats(), stats(2, 0, 2));
}

/// R6.2: the builder's errors carry Elasticsearch's texts; defaults are unbounded, never expiring,
/// weight 1 per entry; a maximum weight of 0 is allowed.
#[test]
fn r6_2_builder_errors_defaults_and_zero_max_weight() {
    fn err(b: CacheBuilder) -> CacheBuildError {
        b.build::<u32, u32>().unwrap_err()
    }
    let negative = err(CacheBuilder::new().maximum_weight(-1));
    assert_eq!(negative, CacheBuildError::NegativeMaximumWeight);
    assert_eq!(negative.to_string(), "maximumWeight < 0");
    assert_eq!(
        err(CacheBuilder::new().maximum_weight(i64::MIN)).to_string(),
        "maximumWeight < 0"
    );

    for bad in [0, -1, i64::MIN] {
        assert_eq!(
            err(CacheBuilder::new().expire_after_access_nanos(bad)).to_string(),
            "expireAfterAccess <= 0"
        );
        assert_eq!(
            err(CacheBuilder::new().expire_after_write_nanos(bad)).to_string(),
            "expireAfterWrite <= 0"
        );
    }
    // Through TimeValue, as the settings give them: `0s` and `-1`.
    for bad in [
        TimeValue::ZERO,
        TimeValue::MINUS_ONE,
        TimeValue::new(0, TimeUnit::Hours),
    ] {
        assert_eq!(
            err(CacheBuilder::new().expire_after_access(bad)),
            CacheBuildError::NonPositiveExpireAfterAccess
        );
        assert_eq!(
            err(CacheBuilder::new().expire_after_write(bad)),
            CacheBuildError::NonPositiveExpireAfterWrite
        );
    }
    // Java throws at the first bad setter: that error is the one reported, and a later valid call
    // does not clear it.
    assert_eq!(
        err(CacheBuilder::new()
            .expire_after_write_nanos(0)
            .maximum_weight(-5)),
        CacheBuildError::NonPositiveExpireAfterWrite
    );
    assert_eq!(
        err(CacheBuilder::new()
            .maximum_weight(-5)
            .expire_after_access_nanos(0)),
        CacheBuildError::NegativeMaximumWeight
    );
    assert_eq!(
        err(CacheBuilder::new().maximum_weight(-1).maximum_weight(10)),
        CacheBuildError::NegativeMaximumWeight
    );

    // Valid settings are kept, in nanoseconds.
    let c: Cache<u32, u32> = CacheBuilder::new()
        .maximum_weight(7)
        .expire_after_access(TimeValue::new(100, TimeUnit::Millis))
        .expire_after_write(TimeValue::new(2, TimeUnit::Seconds))
        .build()
        .unwrap();
    assert_eq!(c.maximum_weight(), Some(7));
    assert_eq!(c.expire_after_access(), Some(100 * NANOS_PER_MILLI));
    assert_eq!(c.expire_after_write(), Some(2 * NANOS_PER_SECOND));

    // Defaults: unbounded, no expiry, every entry weighs 1.
    let mut unbounded: Collected<u32, u32, _> = CacheBuilder::new()
        .removal_listener(CollectingListener::default())
        .build()
        .unwrap();
    assert_eq!(unbounded.maximum_weight(), None);
    assert_eq!(unbounded.expire_after_access(), None);
    assert_eq!(unbounded.expire_after_write(), None);
    for k in 0..10_000u32 {
        unbounded.put(k, k, u64::from(k));
    }
    assert_eq!(unbounded.count(), 10_000);
    assert_eq!(unbounded.weight(), 10_000, "default weigher: 1 per entry");
    // No expiry: even a huge clock jump keeps the oldest entry.
    assert_eq!(unbounded.get(&0, u64::MAX / 2), Some(0));
    assert_eq!(unbounded.stats(), stats(1, 0, 0));
    assert!(drain(&mut unbounded).is_empty());

    // maximum_weight(0) is accepted, and every insert is evicted at once.
    let mut zero: Collected<u32, u32, _> = CacheBuilder::new()
        .maximum_weight(0)
        .removal_listener(CollectingListener::default())
        .build()
        .unwrap();
    assert_eq!(zero.maximum_weight(), Some(0));
    zero.put(1, 11, 5);
    assert_eq!(zero.count(), 0);
    assert_eq!(drain(&mut zero), vec![(1, 11, Evicted, 0, 0, 5)]);
    assert_eq!(zero.get(&1, 6), None);
    assert_eq!(zero.stats(), stats(0, 1, 1));
}

/// R6.3: an entry is expired only when `now - access > afterAccess` or `now - write > afterWrite`:
/// at exactly the TTL it is still live.
#[test]
fn r6_3_expiry_is_strictly_greater_than_ttl() {
    // Expire after access: each hit restarts the clock.
    let mut access: Cache<&str, u32> = CacheBuilder::new()
        .expire_after_access_nanos(100)
        .build()
        .unwrap();
    let t0 = 1 << 40; // nanoTime is relative: any origin works
    access.put("a", 1, t0);
    assert_eq!(access.get("a", t0 + 100), Some(1), "exactly the TTL: live");
    assert_eq!(access.entry_times("a"), Some((t0, t0 + 100)));
    assert_eq!(
        access.get("a", t0 + 200),
        Some(1),
        "100 after the last access"
    );
    assert_eq!(access.get("a", t0 + 301), None, "101 after the last access");
    assert_eq!(access.stats(), stats(2, 1, 0));

    // Expire after write: hits do not extend the life of an entry.
    let mut write: Cache<&str, u32> = CacheBuilder::new()
        .expire_after_write_nanos(100)
        .build()
        .unwrap();
    write.put("b", 2, 0);
    assert_eq!(write.get("b", 60), Some(2));
    assert_eq!(write.get("b", 100), Some(2), "exactly the TTL: live");
    assert_eq!(
        write.get("b", 101),
        None,
        "accessed 1ns ago, written 101ns ago"
    );
    assert_eq!(write.stats(), stats(2, 1, 0));

    // Both: whichever runs out first.
    let mut both: Cache<&str, u32> = CacheBuilder::new()
        .expire_after_access_nanos(50)
        .expire_after_write_nanos(100)
        .build()
        .unwrap();
    both.put("c", 3, 0);
    both.put("d", 4, 0);
    assert_eq!(both.get("c", 50), Some(3));
    assert_eq!(both.get("c", 100), Some(3), "access 50 ago, write 100 ago");
    assert_eq!(
        both.get("c", 101),
        None,
        "write TTL exceeded, access TTL not"
    );
    assert_eq!(
        both.get("d", 51),
        None,
        "access TTL exceeded, write TTL not"
    );
}

/// R6.4: absent -> miss; expired -> miss, and the entry stays; hit -> hits++, access time = now,
/// moved to the head; the promotion then prunes the tail.
#[test]
fn r6_4_get_miss_expired_stays_hit_promotes_then_prunes() {
    let mut cache: Collected<&str, u32, _> = CacheBuilder::new()
        .expire_after_access_nanos(10)
        .removal_listener(CollectingListener::default())
        .build()
        .unwrap();
    assert_eq!(cache.get("x", 0), None);
    assert_eq!(cache.stats(), stats(0, 1, 0));

    cache.put("a", 1, 0);
    cache.put("b", 2, 3);
    cache.put("c", 3, 6);
    assert_eq!(keys(&cache), vec!["c", "b", "a"]);

    // A hit: counted, access time updated, moved to the head. Nothing is expired yet (8 - 0 <= 10).
    assert_eq!(cache.get("b", 8), Some(2));
    assert_eq!(keys(&cache), vec!["b", "c", "a"]);
    assert_eq!(cache.entry_times("b"), Some((3, 8)));
    assert_eq!(cache.stats(), stats(1, 1, 0));
    assert!(drain(&mut cache).is_empty());

    // At 11, "a" (accessed at 0) is expired. A miss on another key does not prune it...
    assert_eq!(cache.get("zzz", 11), None);
    assert_eq!(cache.count(), 3);
    // ...and a get of "a" itself is a miss that leaves it in place, untouched.
    assert_eq!(cache.get("a", 11), None);
    assert_eq!(cache.stats(), stats(1, 3, 0));
    assert_eq!(cache.count(), 3);
    assert!(cache.contains_key("a"));
    assert_eq!(
        cache.entry_times("a"),
        Some((0, 0)),
        "an expired get does not touch"
    );
    assert_eq!(keys(&cache), vec!["b", "c", "a"], "nor move");
    assert!(drain(&mut cache).is_empty());

    // A hit on "c" promotes it, and the promotion prunes the expired tail "a".
    assert_eq!(cache.get("c", 11), Some(3));
    assert_eq!(drain(&mut cache), vec![("a", 1, Evicted, 2, 2, 11)]);
    assert_eq!(keys(&cache), vec!["c", "b"]);
    assert_eq!(cache.stats(), stats(2, 3, 1));

    // get_with reads the value of a hit and counts exactly like get.
    assert_eq!(cache.get_with("b", 12, |v| v * 100), Some(200));
    assert_eq!(cache.get_with("nope", 12, |v| v * 100), None);
    assert_eq!(keys(&cache), vec!["b", "c"]);
    assert_eq!(cache.stats(), stats(3, 4, 1));
}

/// R6.5: put links the new entry at the head; a live entry it replaces is unlinked, and reported
/// REPLACED only after the pruning (its notifications come after the EVICTED ones); the eviction
/// counter does not move for a replacement.
#[test]
fn r6_5_put_replaced_after_pruning_without_counting_an_eviction() {
    let mut cache: Collected<&str, u64, _> = CacheBuilder::new()
        .maximum_weight(4)
        .weigher(value_weigher)
        .removal_listener(CollectingListener::default())
        .build()
        .unwrap();
    cache.put("a", 1, 0);
    cache.put("b", 1, 1);
    cache.put("c", 1, 2);
    assert_eq!(cache.weight(), 3);

    // A plain replacement: REPLACED for the old value, new entry at the head, no eviction.
    cache.put_with_weight("b", 1, 1, 3);
    assert_eq!(drain(&mut cache), vec![("b", 1, Replaced, 3, 3, 3)]);
    assert_eq!(keys(&cache), vec!["b", "c", "a"]);
    assert_eq!(cache.stats().evictions, 0);

    // A heavier replacement (weight 1 -> 3) pushes the tail "c" out: 1 + 1 + 3 = 5 > 4.
    // Order: [a(3), b(1), c(1)] -> evict c -> 4, not over. EVICTED first, REPLACED after.
    cache.put("a", 3, 4);
    assert_eq!(
        drain(&mut cache),
        vec![("c", 1, Evicted, 2, 4, 4), ("a", 1, Replaced, 2, 4, 4)]
    );
    assert_eq!(keys(&cache), vec!["a", "b"]);
    assert_eq!(cache.stats().evictions, 1);

    // A replacement heavier than the maximum: the pruning evicts everything, the new entry too;
    // the old one is still reported REPLACED, last, with the cache already empty.
    cache.put("a", 5, 5);
    assert_eq!(
        drain(&mut cache),
        vec![
            ("b", 1, Evicted, 1, 5, 5),
            ("a", 5, Evicted, 0, 0, 5),
            ("a", 3, Replaced, 0, 0, 5),
        ]
    );
    assert_eq!(cache.count(), 0);
    assert_eq!(cache.weight(), 0);
    assert_eq!(cache.stats(), stats(0, 0, 3));

    // An expired entry that is put over is REPLACED, not EVICTED.
    let mut ttl: Collected<&str, u32, _> = CacheBuilder::new()
        .expire_after_write_nanos(10)
        .removal_listener(CollectingListener::default())
        .build()
        .unwrap();
    ttl.put("k", 1, 0);
    ttl.put("k", 2, 50);
    assert_eq!(drain(&mut ttl), vec![("k", 1, Replaced, 1, 1, 50)]);
    assert_eq!(ttl.stats(), stats(0, 0, 0));
    assert_eq!(ttl.entry_times("k"), Some((50, 50)));
}

/// R6.6: computeIfAbsent is a get that evicts an expired entry at once; a hit does not run the
/// loader; a miss runs it exactly once; a failing or null loader caches nothing.
#[test]
fn r6_6_compute_if_absent_eager_eviction_loader_once_and_failures() {
    let mut cache: Collected<&str, u32, _> = CacheBuilder::new()
        .expire_after_access_nanos(10)
        .removal_listener(CollectingListener::default())
        .build()
        .unwrap();
    let mut calls = 0;

    // Miss: the loader runs once, its value is cached at the head.
    let got = cache.compute_if_absent("k", 0, |k| {
        calls += 1;
        assert_eq!(*k, "k");
        7
    });
    assert_eq!((got, calls), (7, 1));
    assert_eq!(cache.stats(), stats(0, 1, 0));
    assert_eq!(cache.peek("k"), Some(&7));

    // Hit: the loader does not run, access time moves, the entry is promoted.
    cache.put("other", 1, 4);
    let got = cache.compute_if_absent("k", 5, |_| {
        calls += 1;
        99
    });
    assert_eq!((got, calls), (7, 1));
    assert_eq!(cache.stats(), stats(1, 1, 0));
    assert_eq!(keys(&cache), vec!["k", "other"]);
    assert_eq!(cache.entry_times("k"), Some((0, 5)));

    // Expired (20 - 5 > 10): evicted at once (EVICTED, evictions++), a miss, the loader runs. The new
    // entry's insert then prunes the expired tail "other" (accessed at 4).
    let got = cache.compute_if_absent("k", 20, |_| {
        calls += 1;
        8
    });
    assert_eq!((got, calls), (8, 2));
    assert_eq!(
        drain(&mut cache),
        vec![("k", 7, Evicted, 1, 1, 20), ("other", 1, Evicted, 1, 1, 20)]
    );
    assert_eq!(cache.stats(), stats(1, 2, 2));
    assert_eq!(keys(&cache), vec!["k"]);
    // A plain get of an expired entry would have left it in place (R6.4); compare:
    cache.put("g", 1, 20);
    assert_eq!(cache.get("g", 40), None);
    assert!(cache.contains_key("g"));
    cache.invalidate("g", 40);
    drain(&mut cache);
    let before = cache.stats();

    // A failing loader: LoadError::Loader, only the miss is counted, nothing is cached.
    let r: Result<u32, LoadError<&str>> =
        cache.compute_if_absent_with("bad", 41, |_| Err("boom"), |v| *v);
    assert_eq!(r, Err(LoadError::Loader("boom")));
    assert_eq!(r.unwrap_err().to_string(), "loader failed: boom");
    assert!(!cache.contains_key("bad"));
    // A null value: LoadError::NullValue, with Java's text.
    let r: Result<u32, LoadError<&str>> =
        cache.compute_if_absent_with("null", 42, |_| Ok(None), |v| *v);
    assert_eq!(r, Err(LoadError::NullValue));
    assert_eq!(r.unwrap_err().to_string(), "loader returned a null value");
    assert!(!cache.contains_key("null"));
    assert_eq!(
        cache.stats(),
        CacheStats {
            misses: before.misses + 2,
            ..before
        }
    );
    assert!(
        drain(&mut cache).is_empty(),
        "a failed load notifies nothing"
    );
    // The failure was not cached: the next call runs the loader again and succeeds.
    let r: Result<u32, LoadError<&str>> =
        cache.compute_if_absent_with("bad", 43, |_| Ok(Some(3)), |v| *v + 1);
    assert_eq!(r, Ok(4), "read sees the loaded value");
    assert_eq!(cache.peek("bad"), Some(&3));
    // Unlike the failed loads, this insert prunes: "k" (accessed at 20) is an expired tail at 43.
    assert_eq!(drain(&mut cache), vec![("k", 8, Evicted, 1, 1, 43)]);

    // A failing loader over an expired entry: the entry is evicted anyway, nothing replaces it.
    let r: Result<u32, LoadError<&str>> =
        cache.compute_if_absent_with("bad", 100, |_| Err("again"), |v| *v);
    assert_eq!(r, Err(LoadError::Loader("again")));
    assert!(!cache.contains_key("bad"));
    let seen = drain(&mut cache);
    assert_eq!(seen[0], ("bad", 3, Evicted, 0, 0, 100));
    assert_eq!(seen.len(), 1, "no pruning follows a failed load");

    // With maximum weight 0 the loaded value is returned although it is evicted right away.
    let mut zero: Collected<&str, u32, _> = CacheBuilder::new()
        .maximum_weight(0)
        .removal_listener(CollectingListener::default())
        .build()
        .unwrap();
    assert_eq!(zero.compute_if_absent("z", 1, |_| 5), 5);
    assert_eq!(zero.count(), 0);
    assert_eq!(drain(&mut zero), vec![("z", 5, Evicted, 0, 0, 1)]);
    assert_eq!(zero.stats(), stats(0, 1, 1));
}

/// R6.7: pruning only looks at the tail, and only after a promotion, an insert or refresh; there is
/// no background thread, so time passing alone changes nothing.
#[test]
fn r6_7_pruning_only_tail_only_after_mutation_or_refresh() {
    let mut cache: Collected<&str, u32, _> = CacheBuilder::new()
        .expire_after_write_nanos(10)
        .removal_listener(CollectingListener::default())
        .build()
        .unwrap();
    cache.put("a", 1, 0);
    cache.put("b", 2, 5);
    assert_eq!(cache.get("a", 6), Some(1)); // [a, b]: the tail b was written later than a
    assert_eq!(keys(&cache), vec!["a", "b"]);

    // At 12: a (written at 0) is expired, b (written at 5) is not. refresh looks at the tail only.
    cache.refresh(12);
    assert_eq!(cache.count(), 2, "expired a survives: it is not the tail");
    assert!(drain(&mut cache).is_empty());
    assert_eq!(cache.get("a", 12), None);

    // At 16 both are expired, but nothing happens until a mutation or refresh.
    assert_eq!(cache.get("missing", 16), None);
    assert!(!cache.invalidate("missing", 16));
    assert_eq!(cache.peek("b"), Some(&2));
    assert_eq!(cache.iter().count(), 2);
    assert_eq!(cache.count(), 2);
    assert_eq!(cache.stats().evictions, 0);

    // refresh now evicts b (the tail), then a (the new tail): both EVICTED, in LRU order.
    cache.refresh(16);
    assert_eq!(
        drain(&mut cache),
        vec![("b", 2, Evicted, 1, 1, 16), ("a", 1, Evicted, 0, 0, 16)]
    );
    assert_eq!(cache.stats(), stats(1, 2, 2));

    // Over weight: one insert can evict several tail entries, oldest first, and stops as soon as
    // the weight is within bounds.
    let mut weighted: Collected<&str, u64, _> = CacheBuilder::new()
        .maximum_weight(4)
        .weigher(value_weigher)
        .removal_listener(CollectingListener::default())
        .build()
        .unwrap();
    for k in ["a", "b", "c", "d"] {
        weighted.put(k, 1, 0);
    }
    assert!(drain(&mut weighted).is_empty());
    weighted.put("e", 3, 1); // 7 > 4: a, b, c go (6, 5, 4)
    assert_eq!(
        drain(&mut weighted),
        vec![
            ("a", 1, Evicted, 4, 6, 1),
            ("b", 1, Evicted, 3, 5, 1),
            ("c", 1, Evicted, 2, 4, 1),
        ]
    );
    assert_eq!(keys(&weighted), vec!["e", "d"]);
    assert_eq!(weighted.weight(), 4);
    assert_eq!(weighted.stats().evictions, 3);
}

/// R6.8: invalidate(k) removes and counts an eviction (a quirk), invalidate(k, v) only on a matching
/// value, `invalidate_all` clears without counting; all report INVALIDATED and none prunes.
#[test]
fn r6_8_invalidation_table() {
    let mut cache: Collected<&str, u32, _> = CacheBuilder::new()
        .expire_after_access_nanos(10)
        .removal_listener(CollectingListener::default())
        .build()
        .unwrap();
    cache.put("a", 1, 0);
    cache.put("b", 2, 1);
    cache.put("c", 3, 2);

    // An absent key: nothing.
    assert!(!cache.invalidate("x", 3));
    assert_eq!(cache.stats(), stats(0, 0, 0));

    // invalidate(k) at 20, when every entry is expired: b goes (INVALIDATED, evictions + 1), and no
    // pruning follows: the expired a and c stay.
    assert!(cache.invalidate("b", 20));
    assert_eq!(drain(&mut cache), vec![("b", 2, Invalidated, 2, 2, 20)]);
    assert_eq!(cache.stats(), stats(0, 0, 1));
    assert_eq!(keys(&cache), vec!["c", "a"]);

    // invalidate(k, v) with another value: nothing; with the cached value: removed, counted.
    assert!(!cache.invalidate_value("a", &999, 21));
    assert!(!cache.invalidate_if("a", 21, |v| *v > 1));
    assert_eq!(cache.stats().evictions, 1);
    assert!(drain(&mut cache).is_empty());
    assert!(cache.invalidate_value("a", &1, 21));
    assert_eq!(drain(&mut cache), vec![("a", 1, Invalidated, 1, 1, 21)]);
    assert_eq!(cache.stats(), stats(0, 0, 2));
    assert!(!cache.invalidate_value("a", &1, 21), "already gone");

    // The expired c survived both invalidations; the next insert prunes it.
    cache.put("d", 4, 22);
    assert_eq!(drain(&mut cache), vec![("c", 3, Evicted, 1, 1, 22)]);
    assert_eq!(cache.stats(), stats(0, 0, 3));

    // invalidate_all: every entry INVALIDATED, most recent first, each seeing count 0 and weight 0;
    // the evictions counter does not move.
    cache.put("e", 5, 23);
    cache.put("x", 6, 23);
    assert_eq!(cache.get("e", 23), Some(5)); // [e, x, d]
    cache.invalidate_all(24);
    assert_eq!(
        drain(&mut cache),
        vec![
            ("e", 5, Invalidated, 0, 0, 24),
            ("x", 6, Invalidated, 0, 0, 24),
            ("d", 4, Invalidated, 0, 0, 24),
        ]
    );
    assert_eq!((cache.count(), cache.weight()), (0, 0));
    assert!(keys(&cache).is_empty());
    assert_eq!(cache.stats(), stats(1, 0, 3));
    // The cache still works afterwards.
    cache.put("f", 6, 25);
    assert_eq!(cache.get("f", 25), Some(6));
    assert_eq!(cache.count(), 1);

    // invalidate_matching: each match as invalidate(k), most recent first, one eviction each.
    cache.put("svc/1", 7, 26);
    cache.put("other", 8, 27);
    cache.put("svc/2", 9, 28);
    let removed = cache.invalidate_matching(29, |k| k.starts_with("svc/"));
    assert_eq!(removed, 2);
    assert_eq!(
        drain(&mut cache),
        vec![
            ("svc/2", 9, Invalidated, 3, 3, 29),
            ("svc/1", 7, Invalidated, 2, 2, 29),
        ]
    );
    assert_eq!(keys(&cache), vec!["other", "f"]);
    assert_eq!(cache.stats(), stats(2, 0, 5));
}

/// R6.9: count, weight and stats; the removal reasons are exactly REPLACED, INVALIDATED, EVICTED.
#[test]
fn r6_9_accessors_and_reasons() {
    assert_eq!(Replaced.as_str(), "REPLACED");
    assert_eq!(Invalidated.as_str(), "INVALIDATED");
    assert_eq!(Evicted.as_str(), "EVICTED");
    assert_eq!(
        [Replaced, Invalidated, Evicted].map(|r| r.to_string()),
        ["REPLACED", "INVALIDATED", "EVICTED"]
    );

    let mut cache: Collected<&str, u64, _> = CacheBuilder::new()
        .maximum_weight(10)
        .weigher(value_weigher)
        .removal_listener(CollectingListener::default())
        .build()
        .unwrap();
    assert_eq!(
        (cache.count(), cache.weight(), cache.stats()),
        (0, 0, stats(0, 0, 0))
    );
    assert_eq!(cache.weigher()(&"x", &4), 4);

    cache.put("a", 2, 0);
    cache.put("b", 3, 0);
    cache.put("a", 4, 0); // REPLACED
    assert_eq!((cache.count(), cache.weight()), (2, 7));
    assert_eq!(cache.get("b", 0), Some(3));
    assert_eq!(cache.get("c", 0), None);
    assert!(cache.invalidate("a", 0)); // INVALIDATED
    cache.put("c", 5, 0);
    cache.put("d", 6, 0); // 3 + 5 + 6 = 14 > 10: b EVICTED, then 11 > 10: c EVICTED
    assert_eq!((cache.count(), cache.weight()), (1, 6));
    assert_eq!(cache.stats(), stats(1, 1, 3));

    // peek, contains_key and entry_times observe without counting or reordering.
    assert_eq!(cache.peek("d"), Some(&6));
    assert!(cache.contains_key("d") && !cache.contains_key("a"));
    assert_eq!(cache.entry_times("d"), Some((0, 0)));
    assert_eq!(cache.stats(), stats(1, 1, 3));

    let reasons: Vec<RemovalReason> = cache
        .listener()
        .notifications
        .iter()
        .map(|(n, _)| n.reason)
        .collect();
    assert_eq!(reasons, vec![Replaced, Invalidated, Evicted, Evicted]);
    let first: &(RemovalNotification<&str, u64>, RemovalContext) =
        &cache.listener().notifications[0];
    assert_eq!(
        first.0,
        RemovalNotification {
            key: "a",
            value: 2,
            reason: Replaced
        }
    );

    // keys() and iter() list most recently used first; the weight sum does not overflow u64.
    let mut wide: Cache<u8, u64, _> = CacheBuilder::new()
        .weigher(|_: &u8, w: &u64| *w)
        .build()
        .unwrap();
    wide.put(1, u64::MAX, 0);
    wide.put(2, u64::MAX, 0);
    wide.put(3, 0, 0);
    assert_eq!(wide.weight(), 2 * u128::from(u64::MAX));
    assert_eq!(wide.keys().copied().collect::<Vec<_>>(), vec![3, 2, 1]);
    assert_eq!(wide.get(&1, 0), Some(u64::MAX));
    assert_eq!(
        wide.iter().map(|(k, v)| (*k, *v)).collect::<Vec<_>>(),
        vec![(1, u64::MAX), (3, 0), (2, u64::MAX)]
    );
    assert_eq!(wide.iter().size_hint(), (3, Some(3)));
}

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

// ---------------------------------------------------------------------------------------------
// Issue 8: listeners between unlinks (point 20), dependent loading (point 18)
// ---------------------------------------------------------------------------------------------

/// `Cache.evict` calls `evictEntry` -> `delete` -> `removalListener.onRemoval` once per entry, so a
/// listener reading `count()`/`weight()` sees the cache between two unlinks; `put` reports `REPLACED`
/// after its `promote` has pruned; `invalidateAll` unlinks everything, then reports.
#[test]
fn issue8_d20_listener_sees_count_and_weight_after_each_unlink() {
    let mut cache: Collected<&'static str, u64, _> = CacheBuilder::new()
        .maximum_weight(3)
        .weigher(value_weigher)
        .removal_listener(CollectingListener::default())
        .build()
        .unwrap();
    for k in ["a", "b", "c"] {
        cache.put(k, 1, 0);
    }
    cache.put("c", 3, 1);
    assert_eq!(
        drain(&mut cache),
        vec![
            ("a", 1, Evicted, 2, 4, 1),
            ("b", 1, Evicted, 1, 3, 1),
            ("c", 1, Replaced, 1, 3, 1),
        ]
    );
    cache.put("x", 0, 2);
    cache.invalidate_all(3);
    assert_eq!(
        drain(&mut cache),
        vec![
            ("x", 0, Invalidated, 0, 0, 3),
            ("c", 3, Invalidated, 0, 0, 3)
        ]
    );
}

/// A listener that pauses the pruning after each eviction leaves the rest to `refresh(now)`, which
/// goes on exactly where Elasticsearch's loop would: same entries, same order, same counts.
#[test]
fn issue8_d20_paused_pruning_resumes_with_refresh() {
    #[derive(Default)]
    struct Pausing {
        seen: Vec<(&'static str, usize)>,
        paused: bool,
    }
    impl escache::cache::RemovalListener<&'static str, u64> for Pausing {
        fn on_removal(&mut self, n: RemovalNotification<&'static str, u64>, c: RemovalContext) {
            self.seen.push((n.key, c.count));
        }
        fn pause_pruning(&mut self) -> bool {
            self.paused = !self.seen.is_empty();
            self.paused
        }
    }
    let mut cache = CacheBuilder::new()
        .maximum_weight(3)
        .weigher(value_weigher)
        .removal_listener(Pausing::default())
        .build()
        .unwrap();
    for k in ["a", "b", "c"] {
        cache.put(k, 1, 0);
    }
    cache.put("d", 3, 0);
    // Paused after a: over weight until resumed.
    assert_eq!(cache.listener().seen, vec![("a", 3)]);
    assert_eq!((cache.count(), cache.weight()), (3, 5));
    let mut rounds = 0;
    while cache.listener().paused {
        cache.listener_mut().seen.clear();
        cache.listener_mut().paused = false;
        cache.refresh(0);
        rounds += 1;
        assert!(rounds < 10);
    }
    assert_eq!(keys(&cache), vec!["d"]);
    assert_eq!(cache.stats(), stats(0, 0, 3));
}

/// `computeIfAbsent` in two halves around a loader that runs with the cache free: the loader of key 0
/// loads key 1 from the same cache (dependent loading), both are cached; a load of the key already
/// being loaded by the same owner is `OwnLoad` (Elasticsearch would deadlock on its own future).
#[test]
fn issue8_d18_dependent_loading_with_pending_loads() {
    use escache::cache::{LoadStart, PendingLoads};
    let mut cache: Collected<u32, &'static str, _> = CacheBuilder::new()
        .maximum_weight(10)
        .removal_listener(CollectingListener::default())
        .build()
        .unwrap();
    let mut loads = PendingLoads::default();
    let me = 7;
    assert_eq!(cache.compute_if_absent_lookup(&0, 5, |v| *v), None);
    assert_eq!(loads.begin(0, me), LoadStart::Started);
    // The loader of 0 asks for 1.
    assert_eq!(cache.compute_if_absent_lookup(&1, 5, |v| *v), None);
    assert_eq!(loads.begin(1, me), LoadStart::Started);
    // ...whose loader would wait on 0: refused, never a deadlock.
    assert_eq!(loads.begin(0, me), LoadStart::OwnLoad);
    assert_eq!(loads.begin(0, me + 1), LoadStart::OtherLoad(me));
    cache.put_loaded(1, "one", None, 5);
    loads.finish(&1);
    cache.put_loaded(0, "zero", None, 5);
    loads.finish(&0);
    assert!(loads.is_empty());
    assert_eq!(keys(&cache), vec![0, 1]);
    assert_eq!(cache.stats(), stats(0, 2, 0));
    assert_eq!(cache.entry_times(&0), Some((5, 5)));
    assert_eq!(cache.compute_if_absent_lookup(&1, 6, |v| *v), Some("one"));
    assert_eq!(keys(&cache), vec![1, 0]);
}
