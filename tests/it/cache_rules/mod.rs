//! One test per rule of docs/rules.md (`org.elasticsearch.common.cache.Cache`, R6.1-R6.9), the
//! eviction scenarios S16 and S17, and the auth-cache eviction monitor (R2.7, S16-S18).
//!
//! Every expectation here is spelled out by hand from the rule (and from `Cache.java`), never
//! computed by the engine itself.

mod issue8;
mod loading_and_invalidation;
mod lru_and_expiry;
mod monitor;

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
#[allow(clippy::trivially_copy_pass_by_ref)] // a `Weigher` takes its key and value by reference
fn value_weigher(_: &&'static str, v: &u64) -> u64 {
    *v
}

use RemovalReason::{Evicted, Invalidated, Replaced};
