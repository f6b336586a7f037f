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
//! doubly-linked list threaded through a slab of nodes by `u32` index (the links in a dense array beside it): O(1) per operation and a fixed,
//! small overhead per entry (key, value, weight, two times, two links).
//!
//! Time is passed in (`now`, virtual nanoseconds); the cache never reads a clock.

mod builder;
mod compute;
mod invalidate;
mod key;
mod loading;
mod lru;
mod notification;
mod ops;
mod policy;
mod stats;
mod weigher;

pub use builder::{CacheBuildError, CacheBuilder};
pub use compute::LoadError;
pub(crate) use hashbrown::Equivalent;
pub use key::{Key, KeyRef};
pub use loading::{LoadStart, PendingLoads};
pub(crate) use lru::Iter;
pub use lru::KeyHasher;
pub use notification::NoopListener;
pub use notification::{
    CollectingListener, RemovalContext, RemovalListener, RemovalNotification, RemovalReason,
};
pub use stats::{CacheStats, ReplayStats};
pub use weigher::{UnitWeigher, Weigher};

use crate::time::Nanos;
use hashbrown::HashTable;
use lru::{Link, Node, NIL};

/// Elasticsearch's `Cache<K, V>`, in virtual time.
pub struct Cache<K, V, W = UnitWeigher, L = NoopListener> {
    table: HashTable<u32>,
    nodes: Vec<Option<Node<K, V>>>,
    /// `links[i]` is slot `i`'s place in the LRU list (as long as `nodes`).
    links: Vec<Link>,
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
            links: Vec::new(),
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
            links: &self.links,
            at: self.head,
            left: self.count,
        }
    }
}
