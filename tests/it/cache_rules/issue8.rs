//! Issue 8 regressions: listener-visible state after each unlink, paused pruning, dependent loads.

use super::*;

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
