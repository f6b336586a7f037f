//! `computeIfAbsent`, pruning, invalidation and accessors: AK-R6.6 to AK-R6.9.

use super::*;

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
