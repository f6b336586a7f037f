//! Invalidation: `Cache.invalidate(key)`, `invalidate(key, value)`, `invalidateAll` and `refresh`
//! (`server/src/main/java/org/elasticsearch/common/cache/Cache.java`; R6.8).

use super::lru::NIL;
use super::{Cache, Equivalent, RemovalListener, RemovalReason, Weigher};
use crate::time::Nanos;
use std::hash::Hash;

impl<K: Hash + Eq, V, W: Weigher<K, V>, L: RemovalListener<K, V>> Cache<K, V, W, L> {
    /// `invalidate(key)` (R6.8): removes the entry, counts an eviction (Elasticsearch's quirk) and
    /// reports `INVALIDATED`. No pruning follows. Returns whether an entry was removed.
    pub fn invalidate<Q>(&mut self, key: &Q, now: Nanos) -> bool
    where
        Q: ?Sized + Hash + Equivalent<K>,
    {
        self.invalidate_if(key, now, |_| true)
    }

    /// `invalidate(key, value)` (R6.8): removes the entry only if `matches` its value (Elasticsearch
    /// compares with `Objects.equals`); counts an eviction only when it removes.
    pub fn invalidate_if<Q>(
        &mut self,
        key: &Q,
        now: Nanos,
        matches: impl FnOnce(&V) -> bool,
    ) -> bool
    where
        Q: ?Sized + Hash + Equivalent<K>,
    {
        let Some(idx) = self.find(key) else {
            return false;
        };
        if !matches(&self.node(idx).value) {
            return false;
        }
        self.remove_from_table(idx);
        self.stats.evictions += 1;
        self.unlink(idx);
        let node = self.release(idx);
        self.notify(node, RemovalReason::Invalidated, now);
        true
    }

    /// `invalidate(key, value)` with `==`.
    pub fn invalidate_value<Q>(&mut self, key: &Q, value: &V, now: Nanos) -> bool
    where
        Q: ?Sized + Hash + Equivalent<K>,
        V: PartialEq,
    {
        self.invalidate_if(key, now, |v| v == value)
    }

    /// Removes every entry whose key satisfies `pred`, each as `invalidate(key)` would (used by the
    /// service token caches' prefix invalidation, C4). Visits entries from most to least recent.
    pub fn invalidate_matching(&mut self, now: Nanos, mut pred: impl FnMut(&K) -> bool) -> usize {
        let mut doomed = Vec::new();
        let mut at = self.head;
        while at != NIL {
            if pred(&self.node(at).key) {
                doomed.push(at);
            }
            at = self.next_of(at);
        }
        for &idx in &doomed {
            self.remove_from_table(idx);
            self.stats.evictions += 1;
            self.unlink(idx);
            let node = self.release(idx);
            self.notify(node, RemovalReason::Invalidated, now);
        }
        doomed.len()
    }

    /// `invalidateAll` (R6.8): empties the cache, then reports every entry `INVALIDATED`, most recent
    /// first; the evictions counter does not move.
    pub fn invalidate_all(&mut self, now: Nanos) {
        let mut order = Vec::with_capacity(self.count);
        let mut at = self.head;
        while at != NIL {
            order.push(at);
            at = self.next_of(at);
        }
        let mut nodes = std::mem::take(&mut self.nodes);
        self.table.clear();
        self.links.clear();
        self.free.clear();
        self.head = NIL;
        self.tail = NIL;
        self.count = 0;
        self.weight = 0;
        for idx in order {
            if let Some(node) = nodes[idx as usize].take() {
                self.notify(node, RemovalReason::Invalidated, now);
            }
        }
        nodes.clear();
        if self.nodes.is_empty() {
            // Keep the slab's allocation for reuse (a listener may have inserted meanwhile only through
            // its own cache handle, never this one, but stay safe either way).
            self.nodes = nodes;
        }
    }

    /// `refresh` (R6.7): prune the tail now.
    pub fn refresh(&mut self, now: Nanos) {
        self.evict(now);
    }
}
