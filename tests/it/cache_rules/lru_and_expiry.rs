//! The engine's LRU order, builder, expiry, get and put: AK-R6.1 to AK-R6.5.

use super::*;

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
