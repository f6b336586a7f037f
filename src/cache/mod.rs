//! The generic Elasticsearch cache: `server/src/main/java/org/elasticsearch/common/cache/Cache.java`.
//!
//! Every security cache escache models (the API key auth, doc and role-descriptor caches, the two service
//! account token caches) is an instance of this one engine, so its rules (docs/rules.md,
//! R6.1-R6.9) are kept to the letter, quirks included:
//!
//! * one LRU order over the whole cache, most recent at the head (R6.1);
//! * an entry is expired when `now - access > expire_after_access` or `now - write > expire_after_write`,
//!   strictly greater (R6.3); an expired entry is a miss but stays until the tail is pruned (R6.4);
//! * pruning looks only at the tail, and only after a promotion, an insert or `refresh` (R6.7);
//! * `invalidate(k)` counts an eviction, `invalidate_all` does not (R6.8).
//!
//! Elasticsearch's 256 segments and locks exist for concurrency; escache runs single-threaded in virtual
//! time, where they are not observable, so one hash table stands for them. The LRU list is a
//! doubly-linked list threaded through a slab of nodes by `u32` index: O(1) per operation and a fixed,
//! small overhead per entry (key, value, weight, two times, two links).
//!
//! Time is passed in (`now`, virtual nanoseconds); the cache never reads a clock.

mod builder;
mod key;
mod loading;
mod notification;

pub use builder::{CacheBuildError, CacheBuilder};
pub use hashbrown::Equivalent;
pub use key::{Key, KeyRef};
pub use loading::{LoadStart, PendingLoads};
pub use notification::{
    CollectingListener, NoopListener, RemovalContext, RemovalListener, RemovalNotification,
    RemovalReason,
};

use crate::time::Nanos;
use hashbrown::HashTable;
use std::hash::{BuildHasher, Hash};

/// Weighs an entry (`CacheBuilder.weigher`). Called once, when the entry is inserted; the weight is kept
/// with the entry so that unlinking subtracts exactly what linking added.
pub trait Weigher<K, V> {
    fn weigh(&self, key: &K, value: &V) -> u64;
}

/// Elasticsearch's default weigher: every entry weighs 1.
#[derive(Debug, Clone, Copy, Default)]
pub struct UnitWeigher;

impl<K, V> Weigher<K, V> for UnitWeigher {
    #[inline]
    fn weigh(&self, _: &K, _: &V) -> u64 {
        1
    }
}

impl<K, V, F: Fn(&K, &V) -> u64> Weigher<K, V> for F {
    fn weigh(&self, key: &K, value: &V) -> u64 {
        self(key, value)
    }
}

/// `Cache.Stats`: hits, misses, evictions (R6.9).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash)]
pub struct CacheStats {
    pub hits: u64,
    pub misses: u64,
    pub evictions: u64,
}

/// What a run of get-or-put requests did (see [`Cache::get_or_put_with`]).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct ReplayStats {
    pub requests: u64,
    pub hits: u64,
    pub misses: u64,
    pub evictions: u64,
}

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

const NIL: u32 = u32::MAX;

/// One cached entry and its place in the LRU list. `prev` points towards the head (more recent),
/// `next` towards the tail (Elasticsearch's `before` / `after`).
#[derive(Debug)]
struct Node<K, V> {
    key: K,
    value: V,
    weight: u64,
    write_time: Nanos,
    access_time: Nanos,
    prev: u32,
    next: u32,
}

/// The hash used for keys: fixed-seeded, so nothing about the cache depends on process randomness.
/// Iteration order never comes from the hash table (keys are listed in LRU order), so this only
/// affects speed.
#[derive(Debug, Clone, Copy, Default)]
pub struct KeyHasher;

impl BuildHasher for KeyHasher {
    type Hasher = foldhash::fast::FoldHasher<'static>;
    #[inline]
    fn build_hasher(&self) -> Self::Hasher {
        foldhash::fast::FixedState::with_seed(0x6573_6361_6368_6521).build_hasher()
    }
}

/// Elasticsearch's `Cache<K, V>`, in virtual time.
pub struct Cache<K, V, W = UnitWeigher, L = NoopListener> {
    table: HashTable<u32>,
    nodes: Vec<Option<Node<K, V>>>,
    free: Vec<u32>,
    head: u32,
    tail: u32,
    count: usize,
    weight: u128,
    maximum_weight: Option<u64>,
    expire_after_access: Option<Nanos>,
    expire_after_write: Option<Nanos>,
    weigher: W,
    listener: L,
    stats: CacheStats,
}

impl<K, V, W, L> std::fmt::Debug for Cache<K, V, W, L> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // Keys and values stay out of Debug: values may be credentials' hashes.
        f.debug_struct("Cache")
            .field("count", &self.count)
            .field("weight", &self.weight)
            .field("maximum_weight", &self.maximum_weight)
            .field("expire_after_access", &self.expire_after_access)
            .field("expire_after_write", &self.expire_after_write)
            .field("stats", &self.stats)
            .finish()
    }
}

impl<K, V, W, L> Cache<K, V, W, L> {
    pub(crate) fn from_parts(
        maximum_weight: Option<u64>,
        expire_after_access: Option<Nanos>,
        expire_after_write: Option<Nanos>,
        weigher: W,
        listener: L,
    ) -> Self {
        Cache {
            table: HashTable::new(),
            nodes: Vec::new(),
            free: Vec::new(),
            head: NIL,
            tail: NIL,
            count: 0,
            weight: 0,
            maximum_weight,
            expire_after_access,
            expire_after_write,
            weigher,
            listener,
            stats: CacheStats::default(),
        }
    }

    /// The number of entries (`count()`).
    #[inline]
    pub fn count(&self) -> usize {
        self.count
    }

    /// The summed weight of the entries (`weight()`).
    #[inline]
    pub fn weight(&self) -> u128 {
        self.weight
    }

    /// `None` when unbounded.
    pub fn maximum_weight(&self) -> Option<u64> {
        self.maximum_weight
    }

    pub fn expire_after_access(&self) -> Option<Nanos> {
        self.expire_after_access
    }

    pub fn expire_after_write(&self) -> Option<Nanos> {
        self.expire_after_write
    }

    #[inline]
    pub fn stats(&self) -> CacheStats {
        self.stats
    }

    pub fn listener(&self) -> &L {
        &self.listener
    }

    pub fn listener_mut(&mut self) -> &mut L {
        &mut self.listener
    }

    pub fn weigher(&self) -> &W {
        &self.weigher
    }

    /// Keys from most to least recently used (`keys()`), expired-but-unpruned entries included, as
    /// Elasticsearch's iterator does.
    pub fn keys(&self) -> impl Iterator<Item = &K> + '_ {
        self.iter().map(|(k, _)| k)
    }

    /// Entries from most to least recently used.
    pub fn iter(&self) -> Iter<'_, K, V> {
        Iter {
            nodes: &self.nodes,
            at: self.head,
            left: self.count,
        }
    }

    #[inline]
    fn node(&self, idx: u32) -> &Node<K, V> {
        // ok: every index reachable from the table or the list is an occupied slot (slab invariant).
        self.nodes[idx as usize].as_ref().expect("occupied slot")
    }

    #[inline]
    fn node_mut(&mut self, idx: u32) -> &mut Node<K, V> {
        // ok: as in `node`.
        self.nodes[idx as usize].as_mut().expect("occupied slot")
    }

    /// R6.3: strictly greater than the TTL. `saturating_sub` keeps a caller's out-of-order `now` from
    /// wrapping into "expired long ago".
    #[inline]
    fn is_expired(&self, node: &Node<K, V>, now: Nanos) -> bool {
        self.expire_after_access
            .is_some_and(|t| now.saturating_sub(node.access_time) > t)
            || self
                .expire_after_write
                .is_some_and(|t| now.saturating_sub(node.write_time) > t)
    }

    #[inline]
    fn exceeds_weight(&self) -> bool {
        self.maximum_weight.is_some_and(|m| self.weight > m as u128)
    }

    fn unlink(&mut self, idx: u32) {
        let (prev, next, w) = {
            let n = self.node(idx);
            (n.prev, n.next, n.weight)
        };
        if prev == NIL {
            self.head = next;
        } else {
            self.node_mut(prev).next = next;
        }
        if next == NIL {
            self.tail = prev;
        } else {
            self.node_mut(next).prev = prev;
        }
        let n = self.node_mut(idx);
        n.prev = NIL;
        n.next = NIL;
        self.count -= 1;
        self.weight -= w as u128;
    }

    fn link_at_head(&mut self, idx: u32) {
        let old_head = self.head;
        let w = {
            let n = self.node_mut(idx);
            n.prev = NIL;
            n.next = old_head;
            n.weight
        };
        if old_head == NIL {
            self.tail = idx;
        } else {
            self.node_mut(old_head).prev = idx;
        }
        self.head = idx;
        self.count += 1;
        self.weight += w as u128;
    }

    fn alloc(&mut self, node: Node<K, V>) -> u32 {
        match self.free.pop() {
            Some(idx) => {
                self.nodes[idx as usize] = Some(node);
                idx
            }
            None => {
                self.nodes.push(Some(node));
                (self.nodes.len() - 1) as u32
            }
        }
    }

    fn release(&mut self, idx: u32) -> Node<K, V> {
        // ok: only called on indices taken from the table or the list.
        let node = self.nodes[idx as usize].take().expect("occupied slot");
        self.free.push(idx);
        node
    }
}

impl<K: Hash + Eq, V, W: Weigher<K, V>, L: RemovalListener<K, V>> Cache<K, V, W, L> {
    #[inline]
    fn find<Q>(&self, key: &Q) -> Option<u32>
    where
        Q: ?Sized + Hash + Equivalent<K>,
    {
        let hash = KeyHasher.hash_one(key);
        let nodes = &self.nodes;
        self.table
            .find(hash, |&i| {
                // ok: table entries always point at occupied slots.
                key.equivalent(&nodes[i as usize].as_ref().expect("occupied slot").key)
            })
            .copied()
    }

    fn remove_from_table(&mut self, idx: u32) {
        let hash = KeyHasher.hash_one(&self.node(idx).key);
        if let Ok(entry) = self.table.find_entry(hash, |&i| i == idx) {
            entry.remove();
        }
    }

    #[inline]
    fn context(&self, now: Nanos) -> RemovalContext {
        RemovalContext {
            count: self.count,
            weight: self.weight,
            now,
        }
    }

    #[inline]
    fn notify(&mut self, node: Node<K, V>, reason: RemovalReason, now: Nanos) {
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
    fn evict_entry(&mut self, idx: u32, now: Nanos) {
        self.remove_from_table(idx);
        self.stats.evictions += 1;
        self.unlink(idx);
        let node = self.release(idx);
        self.notify(node, RemovalReason::Evicted, now);
    }

    /// `evict`: while the tail is over weight or expired, evict it (R6.7). Only the tail is examined.
    fn evict(&mut self, now: Nanos) {
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
    fn promote(&mut self, idx: u32, now: Nanos) {
        if self.head != idx {
            self.unlink(idx);
            self.link_at_head(idx);
        }
        self.evict(now);
    }

    /// The segment lookup of `get`: a hit updates the access time and counts; an expired entry is a miss
    /// (and is evicted at once when `eager_evict`, as `computeIfAbsent` asks).
    #[inline]
    fn lookup<Q>(&mut self, key: &Q, now: Nanos, eager_evict: bool) -> Option<u32>
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
    pub fn peek_mut<Q>(&mut self, key: &Q) -> Option<&mut V>
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
        let nodes = &self.nodes;
        // ok: table entries always point at occupied slots.
        let found = self.table.find(hash, |&i| {
            nodes[i as usize].as_ref().expect("occupied slot").key == key // ok: table entries always point at occupied slots
        });
        let node = Node {
            key,
            value,
            weight,
            write_time: now,
            access_time: now,
            prev: NIL,
            next: NIL,
        };
        match found.copied() {
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
            None => {
                self.insert_new(hash, node, now);
            }
        }
    }

    fn insert_new(&mut self, hash: u64, node: Node<K, V>, now: Nanos) {
        let idx = self.alloc(node);
        let nodes = &self.nodes;
        self.table.insert_unique(hash, idx, |&i| {
            // ok: table entries always point at occupied slots.
            KeyHasher.hash_one(&nodes[i as usize].as_ref().expect("occupied slot").key)
        });
        self.link_at_head(idx);
        self.evict(now);
    }

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
    fn insert_loaded<R>(
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
            prev: NIL,
            next: NIL,
        };
        self.insert_new(hash, node, now);
        r
    }

    /// [`Self::compute_if_absent_with`] looked up by a borrowed key: the owned key is only made when
    /// the loader runs (a hit allocates nothing).
    pub fn compute_if_absent_borrowed<Q, E, R>(
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
    pub fn get_or_put_read<R>(
        &mut self,
        key: K,
        now: Nanos,
        make_value: impl FnOnce() -> (V, Option<u64>),
        read: impl FnOnce(&V) -> R,
    ) -> Option<R> {
        let hash = KeyHasher.hash_one(&key);
        let nodes = &self.nodes;
        // ok: table entries always point at occupied slots.
        let found = self.table.find(hash, |&i| {
            nodes[i as usize].as_ref().expect("occupied slot").key == key // ok: table entries always point at occupied slots
        });
        let existing = match found.copied() {
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
        let node = Node {
            key,
            value,
            weight,
            write_time: now,
            access_time: now,
            prev: NIL,
            next: NIL,
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
    pub fn replay_weighted<I>(
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
            let n = self.node(at);
            if pred(&n.key) {
                doomed.push(at);
            }
            at = n.next;
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
            at = self.node(at).next;
        }
        let mut nodes = std::mem::take(&mut self.nodes);
        self.table.clear();
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

/// Entries from most to least recently used.
pub struct Iter<'a, K, V> {
    nodes: &'a [Option<Node<K, V>>],
    at: u32,
    left: usize,
}

impl<'a, K, V> Iterator for Iter<'a, K, V> {
    type Item = (&'a K, &'a V);

    fn next(&mut self) -> Option<Self::Item> {
        if self.at == NIL {
            return None;
        }
        let n = self.nodes.get(self.at as usize)?.as_ref()?;
        self.at = n.next;
        self.left = self.left.saturating_sub(1);
        Some((&n.key, &n.value))
    }

    fn size_hint(&self) -> (usize, Option<usize>) {
        (self.left, Some(self.left))
    }
}

#[cfg(test)]
mod replay_tests {
    use super::*;

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
