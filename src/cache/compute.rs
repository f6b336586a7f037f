//! `Cache.computeIfAbsent` (R6.6) and the get-or-put requests a replay makes
//! (`server/src/main/java/org/elasticsearch/common/cache/Cache.java`).

use super::lru::Node;
use super::{Cache, Equivalent, KeyHasher, RemovalListener, ReplayStats, Weigher};
use crate::time::Nanos;
use std::hash::{BuildHasher, Hash};

/// Why `compute_if_absent` failed (R6.6). Elasticsearch wraps both in an `ExecutionException`.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum LoadError<E> {
    /// The loader failed; nothing was cached.
    #[error("loader failed: {0}")]
    Loader(E),
    /// The loader returned no value (`loader returned a null value`); nothing was cached.
    #[error("loader returned a null value")]
    NullValue,
}

impl<K: Hash + Eq, V, W: Weigher<K, V>, L: RemovalListener<K, V>> Cache<K, V, W, L> {
    /// `computeIfAbsent` (R6.6): a `get` that evicts an expired entry at once (and counts the hit or
    /// miss), then, on a miss, the loader, run exactly once. Its value is linked at the head and the
    /// tail pruned; a failing loader (or one that returns `None`, Java's `null`) caches nothing.
    /// `read` sees the value (found or loaded) before any pruning.
    pub fn compute_if_absent_with<E, R>(
        &mut self,
        key: K,
        now: Nanos,
        loader: impl FnOnce(&K) -> Result<Option<V>, E>,
        read: impl FnOnce(&V) -> R,
    ) -> Result<R, LoadError<E>> {
        self.compute_if_absent_weighted(key, now, |k| Ok(loader(k)?.map(|v| (v, None))), read)
    }

    /// [`Self::compute_if_absent_with`] whose loader may also give the weight (else the weigher's).
    pub fn compute_if_absent_weighted<E, R>(
        &mut self,
        key: K,
        now: Nanos,
        loader: impl FnOnce(&K) -> Result<Option<(V, Option<u64>)>, E>,
        read: impl FnOnce(&V) -> R,
    ) -> Result<R, LoadError<E>> {
        if let Some(idx) = self.lookup(&key, now, true) {
            let r = read(&self.node(idx).value);
            self.promote(idx, now);
            return Ok(r);
        }
        let (value, weight) = match loader(&key) {
            Ok(Some(loaded)) => loaded,
            Ok(None) => return Err(LoadError::NullValue),
            Err(e) => return Err(LoadError::Loader(e)),
        };
        Ok(self.insert_loaded(key, value, weight, now, read))
    }

    /// The first half of `computeIfAbsent` (R6.6): the `get` that evicts an expired entry at once. On a
    /// hit, `read` sees the value and the entry is promoted (and the tail pruned). On a miss (`None`) the
    /// caller loads the value, with the cache free for other calls, and ends with [`Self::put_loaded`]:
    /// Elasticsearch puts a future in the segment and runs the loader outside the segment lock, so that
    /// a loader may load other keys of the same cache (`Cache.computeIfAbsent`); [`PendingLoads`] stands
    /// for those futures.
    pub fn compute_if_absent_lookup<Q, R>(
        &mut self,
        key: &Q,
        now: Nanos,
        read: impl FnOnce(&V) -> R,
    ) -> Option<R>
    where
        Q: ?Sized + Hash + Equivalent<K>,
    {
        let idx = self.lookup(key, now, true)?;
        let r = read(&self.node(idx).value);
        self.promote(idx, now);
        Some(r)
    }

    /// The end of `computeIfAbsent`: the loaded value linked at the head (with the loader's weight, else
    /// the weigher's), then the tail pruned. `now` is the time the call began, as Elasticsearch's entry is
    /// created with the `now` read before loading. An entry put meanwhile under the same key is replaced.
    pub fn put_loaded(&mut self, key: K, value: V, weight: Option<u64>, now: Nanos) {
        let weight = weight.unwrap_or_else(|| self.weigher.weigh(&key, &value));
        self.put_with_weight(key, value, weight, now);
    }

    /// The end of `computeIfAbsent`: the loaded value linked at the head, then the tail pruned.
    pub(super) fn insert_loaded<R>(
        &mut self,
        key: K,
        value: V,
        weight: Option<u64>,
        now: Nanos,
        read: impl FnOnce(&V) -> R,
    ) -> R {
        let weight = weight.unwrap_or_else(|| self.weigher.weigh(&key, &value));
        let r = read(&value);
        let hash = KeyHasher.hash_one(&key);
        let node = Node {
            key,
            value,
            weight,
            write_time: now,
            access_time: now,
        };
        self.insert_new(hash, node, now);
        r
    }

    /// [`Self::compute_if_absent_with`] looked up by a borrowed key: the owned key is only made when
    /// the loader runs (a hit allocates nothing).
    pub(crate) fn compute_if_absent_borrowed<Q, E, R>(
        &mut self,
        key: &Q,
        now: Nanos,
        make_key: impl FnOnce(&Q) -> K,
        loader: impl FnOnce(&K) -> Result<Option<V>, E>,
        read: impl FnOnce(&V) -> R,
    ) -> Result<R, LoadError<E>>
    where
        Q: ?Sized + Hash + Equivalent<K>,
    {
        if let Some(idx) = self.lookup(key, now, true) {
            let r = read(&self.node(idx).value);
            self.promote(idx, now);
            return Ok(r);
        }
        let owned = make_key(key);
        let value = match loader(&owned) {
            Ok(Some(v)) => v,
            Ok(None) => return Err(LoadError::NullValue),
            Err(e) => return Err(LoadError::Loader(e)),
        };
        Ok(self.insert_loaded(owned, value, None, now, read))
    }

    /// `computeIfAbsent` for cloneable values with an infallible loader.
    pub fn compute_if_absent(&mut self, key: K, now: Nanos, loader: impl FnOnce(&K) -> V) -> V
    where
        V: Clone,
    {
        match self.compute_if_absent_with(key, now, |k| Ok::<_, ()>(Some(loader(k))), V::clone) {
            Ok(v) => v,
            // ok: the loader above can neither fail nor return None.
            Err(_) => unreachable!("infallible loader"),
        }
    }

    /// One request of a replay: `get`, and on a miss `put` of `make_value()`. Returns whether it hit.
    /// An expired entry is a miss and is then replaced (`REPLACED`), exactly as `get` + `put`.
    #[inline]
    pub fn get_or_put_with(&mut self, key: K, now: Nanos, make_value: impl FnOnce() -> V) -> bool {
        self.get_or_put_weighted(key, now, || (make_value(), None))
    }

    /// [`Self::get_or_put_with`] where the new value may come with its weight (else the weigher's).
    #[inline]
    pub fn get_or_put_weighted(
        &mut self,
        key: K,
        now: Nanos,
        make_value: impl FnOnce() -> (V, Option<u64>),
    ) -> bool {
        self.get_or_put_read(key, now, make_value, |_| ()).is_some()
    }

    /// One get-or-put request that also reads the value on a hit (before the promotion prunes):
    /// `Some(read(value))` on a hit, `None` on a miss (the new value is then inserted).
    #[inline]
    pub(crate) fn get_or_put_read<R>(
        &mut self,
        key: K,
        now: Nanos,
        make_value: impl FnOnce() -> (V, Option<u64>),
        read: impl FnOnce(&V) -> R,
    ) -> Option<R> {
        let hash = KeyHasher.hash_one(&key);
        let existing = match self.find_hashed(hash, &key) {
            Some(idx) if !self.is_expired(self.node(idx), now) => {
                self.stats.hits += 1;
                self.node_mut(idx).access_time = now;
                let r = read(&self.node(idx).value);
                self.promote(idx, now);
                return Some(r);
            }
            other => other,
        };
        self.stats.misses += 1;
        let (value, weight) = make_value();
        let weight = weight.unwrap_or_else(|| self.weigher.weigh(&key, &value));
        self.store(hash, existing, key, value, weight, now);
        None
    }

    /// A run of get-or-put requests, the `i`-th at `start + i * interval`.
    pub fn replay<I>(
        &mut self,
        keys: I,
        start: Nanos,
        interval: Nanos,
        mut make_value: impl FnMut() -> V,
    ) -> ReplayStats
    where
        I: IntoIterator<Item = K>,
    {
        self.replay_weighted(keys, start, interval, |_| (make_value(), None))
            .0
    }

    /// The one replay routine (every bulk replay, in Rust or from Python, runs here): get-or-put
    /// requests, the `i`-th at `start + i * interval` (saturating); on a miss request `i` inserts
    /// `make_value(i)`, a value and its weight (`None`: the weigher's). Returns what the run did and
    /// the time after it, `start + len * interval`.
    pub(crate) fn replay_weighted<I>(
        &mut self,
        keys: I,
        start: Nanos,
        interval: Nanos,
        mut make_value: impl FnMut(usize) -> (V, Option<u64>),
    ) -> (ReplayStats, Nanos)
    where
        I: IntoIterator<Item = K>,
    {
        let before = self.stats;
        let mut now = start;
        let mut requests = 0u64;
        for (i, key) in keys.into_iter().enumerate() {
            self.get_or_put_weighted(key, now, || make_value(i));
            now = now.saturating_add(interval);
            requests += 1;
        }
        let after = self.stats;
        let stats = ReplayStats {
            requests,
            hits: after.hits - before.hits,
            misses: after.misses - before.misses,
            evictions: after.evictions - before.evictions,
        };
        (stats, now)
    }
}

#[cfg(test)]
mod replay_tests {
    use super::super::{CacheBuilder, ReplayStats};

    #[test]
    fn replay_weighted_spaces_requests_and_takes_each_miss_weight() {
        let mut cache = CacheBuilder::new()
            .maximum_weight(3)
            .build::<u64, usize>()
            .unwrap();
        let mut asked = Vec::new();
        let (stats, end) = cache.replay_weighted([1, 2, 1, 3], 100, 10, |i| {
            asked.push(i);
            (i, Some(if i == 3 { 2 } else { 1 }))
        });
        // Requests 0, 1 and 3 miss; the weight-2 value of request 3 pushes out the LRU key 2.
        assert_eq!(asked, [0, 1, 3]);
        assert_eq!(
            stats,
            ReplayStats {
                requests: 4,
                hits: 1,
                misses: 3,
                evictions: 1
            }
        );
        assert_eq!(end, 140);
        assert_eq!(cache.keys().copied().collect::<Vec<_>>(), [3, 1]);
        assert_eq!(cache.weight(), 3);
        // `replay` is the same routine with the weigher's weights.
        let again = cache.replay([3, 4], end, u64::MAX, || 9);
        assert_eq!((again.requests, again.hits, again.misses), (2, 1, 1));
    }
}
