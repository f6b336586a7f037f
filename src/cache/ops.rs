//! Reads and writes: `Cache.get`, `put` and the read-only accessors
//! (`server/src/main/java/org/elasticsearch/common/cache/Cache.java`; R6.2, R6.4, R6.5).

use super::lru::Node;
use super::{Cache, Equivalent, KeyHasher, RemovalListener, RemovalReason, Weigher};
use crate::time::Nanos;
use std::hash::{BuildHasher, Hash};

impl<K: Hash + Eq, V, W: Weigher<K, V>, L: RemovalListener<K, V>> Cache<K, V, W, L> {
    /// `get` (R6.4), handing the value to `read` before the promotion prunes (a lone entry heavier than
    /// the maximum is evicted by its own promotion, yet Elasticsearch still returns it).
    #[inline]
    pub fn get_with<Q, R>(&mut self, key: &Q, now: Nanos, read: impl FnOnce(&V) -> R) -> Option<R>
    where
        Q: ?Sized + Hash + Equivalent<K>,
    {
        let idx = self.lookup(key, now, false)?;
        let r = read(&self.node(idx).value);
        self.promote(idx, now);
        Some(r)
    }

    /// `get` (R6.4) for cloneable values.
    pub fn get<Q>(&mut self, key: &Q, now: Nanos) -> Option<V>
    where
        Q: ?Sized + Hash + Equivalent<K>,
        V: Clone,
    {
        self.get_with(key, now, V::clone)
    }

    /// The value without touching stats, access time or order (no Elasticsearch counterpart: an
    /// observer's look). Expired-but-unpruned entries are still present.
    pub fn peek<Q>(&self, key: &Q) -> Option<&V>
    where
        Q: ?Sized + Hash + Equivalent<K>,
    {
        self.find(key).map(|idx| &self.node(idx).value)
    }

    /// The value for in-place update, without touching stats, access time or order (the security
    /// services complete a cached future this way, as a Java future completes in place).
    pub(crate) fn peek_mut<Q>(&mut self, key: &Q) -> Option<&mut V>
    where
        Q: ?Sized + Hash + Equivalent<K>,
    {
        let idx = self.find(key)?;
        Some(&mut self.node_mut(idx).value)
    }

    pub fn contains_key<Q>(&self, key: &Q) -> bool
    where
        Q: ?Sized + Hash + Equivalent<K>,
    {
        self.find(key).is_some()
    }

    /// Write and last-access times of an entry (for observers; no stats).
    pub fn entry_times<Q>(&self, key: &Q) -> Option<(Nanos, Nanos)>
    where
        Q: ?Sized + Hash + Equivalent<K>,
    {
        self.find(key).map(|idx| {
            let n = self.node(idx);
            (n.write_time, n.access_time)
        })
    }

    /// `put` (R6.5) with the weigher's weight.
    pub fn put(&mut self, key: K, value: V, now: Nanos) {
        let w = self.weigher.weigh(&key, &value);
        self.put_with_weight(key, value, w, now);
    }

    /// `put` (R6.5) with a weight computed by the caller (for weighers that can fail, such as Python
    /// callables). The new entry goes to the head, a live entry it replaces is unlinked, the tail is
    /// pruned, and only then is the replaced entry reported `REPLACED` (the evictions counter does not
    /// move for it).
    pub fn put_with_weight(&mut self, key: K, value: V, weight: u64, now: Nanos) {
        let hash = KeyHasher.hash_one(&key);
        let existing = self.find_hashed(hash, &key);
        self.store(hash, existing, key, value, weight, now);
    }

    /// Puts a new entry at the head: into `existing`'s slot (the old entry is unlinked, the tail
    /// pruned, and only then the old entry reported `REPLACED`), or into a new slot.
    #[inline]
    pub(super) fn store(
        &mut self,
        hash: u64,
        existing: Option<u32>,
        key: K,
        value: V,
        weight: u64,
        now: Nanos,
    ) {
        let node = Node {
            key,
            value,
            weight,
            write_time: now,
            access_time: now,
        };
        match existing {
            Some(idx) => {
                self.unlink(idx);
                // ok: `idx` came from the table.
                let old = self.nodes[idx as usize]
                    .replace(node)
                    .expect("occupied slot"); // ok: table entries always point at occupied slots
                self.link_at_head(idx);
                self.evict(now);
                self.notify(old, RemovalReason::Replaced, now);
            }
            None => self.insert_new(hash, node, now),
        }
    }
}
