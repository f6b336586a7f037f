//! Expiry and eviction: `Cache.java`'s `isExpired` (R6.3), `get` returning a miss for an expired entry
//! (R6.4), `promote` and `evict`, which prunes only at the tail (R6.7), and the removal notifications
//! (`server/src/main/java/org/elasticsearch/common/cache/Cache.java`).

use super::lru::{Node, NIL};
use super::{
    Cache, Equivalent, RemovalContext, RemovalListener, RemovalNotification, RemovalReason, Weigher,
};
use crate::time::Nanos;
use std::hash::Hash;

impl<K, V, W, L> Cache<K, V, W, L> {
    /// R6.3: strictly greater than the TTL. `saturating_sub` keeps a caller's out-of-order `now` from
    /// wrapping into "expired long ago".
    #[inline]
    pub(super) fn is_expired(&self, node: &Node<K, V>, now: Nanos) -> bool {
        self.expire_after_access
            .is_some_and(|t| now.saturating_sub(node.access_time) > t)
            || self
                .expire_after_write
                .is_some_and(|t| now.saturating_sub(node.write_time) > t)
    }

    #[inline]
    pub(super) fn exceeds_weight(&self) -> bool {
        self.maximum_weight
            .is_some_and(|m| self.weight > u128::from(m))
    }
}

impl<K: Hash + Eq, V, W: Weigher<K, V>, L: RemovalListener<K, V>> Cache<K, V, W, L> {
    #[inline]
    pub(super) fn context(&self, now: Nanos) -> RemovalContext {
        RemovalContext {
            count: self.count,
            weight: self.weight,
            now,
        }
    }

    #[inline]
    pub(super) fn notify(&mut self, node: Node<K, V>, reason: RemovalReason, now: Nanos) {
        let context = self.context(now);
        self.listener.on_removal(
            RemovalNotification {
                key: node.key,
                value: node.value,
                reason,
            },
            context,
        );
    }

    /// `evictEntry`: out of the map (counting an eviction), off the list, then `EVICTED` (R6.7).
    pub(super) fn evict_entry(&mut self, idx: u32, now: Nanos) {
        self.remove_from_table(idx);
        self.stats.evictions += 1;
        self.unlink(idx);
        let node = self.release(idx);
        self.notify(node, RemovalReason::Evicted, now);
    }

    /// `evict`: while the tail is over weight or expired, evict it (R6.7). Only the tail is examined.
    #[inline]
    pub(super) fn evict(&mut self, now: Nanos) {
        // Within weight and without expiry there is nothing to prune: decided here, inlined into
        // every get and put, without the loop.
        let expires = self.expire_after_access.is_some() || self.expire_after_write.is_some();
        if expires || self.exceeds_weight() {
            self.evict_tail(now);
        }
    }

    fn evict_tail(&mut self, now: Nanos) {
        let expires = self.expire_after_access.is_some() || self.expire_after_write.is_some();
        while self.tail != NIL {
            let tail = self.tail;
            // Without expiry only the weight matters: the tail node need not be read.
            if !(self.exceeds_weight() || (expires && self.is_expired(self.node(tail), now))) {
                break;
            }
            if self.listener.pause_pruning() {
                break;
            }
            self.evict_entry(tail, now);
        }
    }

    /// `promote` of an entry already linked: move it to the head, then prune.
    #[inline]
    pub(super) fn promote(&mut self, idx: u32, now: Nanos) {
        self.move_to_head(idx);
        self.evict(now);
    }

    /// The segment lookup of `get`: a hit updates the access time and counts; an expired entry is a miss
    /// (and is evicted at once when `eager_evict`, as `computeIfAbsent` asks).
    #[inline]
    pub(super) fn lookup<Q>(&mut self, key: &Q, now: Nanos, eager_evict: bool) -> Option<u32>
    where
        Q: ?Sized + Hash + Equivalent<K>,
    {
        let Some(idx) = self.find(key) else {
            self.stats.misses += 1;
            return None;
        };
        if self.is_expired(self.node(idx), now) {
            self.stats.misses += 1;
            if eager_evict {
                self.evict_entry(idx, now);
            }
            return None;
        }
        self.stats.hits += 1;
        self.node_mut(idx).access_time = now;
        Some(idx)
    }
}
