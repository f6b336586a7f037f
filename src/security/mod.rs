//! The security model: what Elasticsearch's security plugin keeps in its credential caches and when it
//! clears them (`x-pack/plugin/security/src/main/java/org/elasticsearch/xpack/security`).

pub mod api_key;
pub mod authz;
pub mod crypto_pool;
pub mod hashing;
pub(crate) mod ids;
pub mod index;
pub(crate) mod named_cache;
pub mod privileges_cache;
pub mod realm_cache;
pub mod registry;
pub mod roles_cache;
pub mod service_account;
pub mod settings;
pub(crate) mod store_settings;
pub mod stores;
pub mod version;

use crate::cache::{RemovalContext, RemovalListener, RemovalNotification, RemovalReason};
use crate::events::{CacheId, EventKind, EventLog, NodeIndex};
use crate::time::Nanos;

/// Where a node's security services write their events, and when "now" is.
pub struct Ctx<'a> {
    pub log: &'a mut EventLog,
    pub node: NodeIndex,
    pub now: Nanos,
}

impl Ctx<'_> {
    #[inline]
    pub(crate) fn record(&mut self, kind: EventKind, cache: CacheId, key: &str, detail: &str) {
        self.log
            .record(self.now, self.node, kind, cache, key, detail);
    }
}

/// A removal listener that keeps the removed keys and reasons until they are written to the trace.
#[derive(Debug)]
pub struct RemovalBuffer<K> {
    pub(crate) removed: Vec<(K, RemovalReason)>,
    /// Removals counted by reason (kept even with the trace off).
    pub(crate) by_reason: RemovalCounts,
}

impl<K, V> RemovalListener<K, V> for RemovalBuffer<K> {
    fn on_removal(&mut self, n: RemovalNotification<K, V>, _: RemovalContext) {
        self.by_reason.record(n.reason);
        self.removed.push((n.key, n.reason));
    }
}

impl<K> Default for RemovalBuffer<K> {
    fn default() -> Self {
        RemovalBuffer {
            removed: Vec::new(),
            by_reason: RemovalCounts::default(),
        }
    }
}

/// A cache's removals counted by reason, as `RemovalNotification.RemovalReason` names them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub(crate) struct RemovalCounts {
    pub(crate) replaced: u64,
    pub(crate) invalidated: u64,
    pub(crate) evicted: u64,
}

impl RemovalCounts {
    /// Counts one removal.
    pub(crate) fn record(&mut self, reason: RemovalReason) {
        match reason {
            RemovalReason::Replaced => self.replaced += 1,
            RemovalReason::Invalidated => self.invalidated += 1,
            RemovalReason::Evicted => self.evicted += 1,
        }
    }
}

/// A cache's size as an observer reads it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CacheSize {
    /// Entries (`Cache.count()`).
    pub count: usize,
    /// The entries' total weight (`Cache.weight()`).
    pub weight: u128,
    /// The maximum weight the cache was built with; `None` when unbounded.
    pub maximum_weight: Option<u64>,
    /// The cache's `expireAfterWrite` (its TTL setting); `None` when entries do not expire.
    pub expire_after_write: Option<crate::time::Nanos>,
    /// The cache's `expireAfterAccess`; `None` when entries do not expire after access.
    pub expire_after_access: Option<crate::time::Nanos>,
}

impl CacheSize {
    pub(crate) fn of<K, V, W, L>(cache: &crate::cache::Cache<K, V, W, L>) -> Self {
        CacheSize {
            count: cache.count(),
            weight: cache.weight(),
            maximum_weight: cache.maximum_weight(),
            expire_after_write: cache.expire_after_write(),
            expire_after_access: cache.expire_after_access(),
        }
    }
}

impl<K: TraceKey> RemovalBuffer<K> {
    /// Writes the buffered removals to the trace.
    pub(crate) fn flush(&mut self, ctx: &mut Ctx<'_>, cache: CacheId) {
        for (key, reason) in self.removed.drain(..) {
            if ctx.log.enabled() {
                key.with_str(|k| ctx.record(removal_event(reason), cache, k, ""));
            }
        }
    }
}

/// A cache key as the trace writes it, without allocating.
pub trait TraceKey {
    fn with_str<R>(&self, f: impl FnOnce(&str) -> R) -> R;
}

impl TraceKey for str {
    fn with_str<R>(&self, f: impl FnOnce(&str) -> R) -> R {
        f(self)
    }
}

impl TraceKey for String {
    fn with_str<R>(&self, f: impl FnOnce(&str) -> R) -> R {
        f(self)
    }
}

impl TraceKey for api_key::RdDigest {
    fn with_str<R>(&self, f: impl FnOnce(&str) -> R) -> R {
        let buf = self.hex_buf();
        f(std::str::from_utf8(&buf).unwrap_or(""))
    }
}

pub(crate) fn removal_event(reason: RemovalReason) -> EventKind {
    match reason {
        RemovalReason::Replaced => EventKind::CacheReplaced,
        RemovalReason::Invalidated => EventKind::CacheInvalidated,
        RemovalReason::Evicted => EventKind::CacheEvicted,
    }
}

/// What an observer can read of a service's caches, by cache name (no stats counted, no order moved).
pub(crate) trait CacheViews {
    /// `None` when the settings disable the cache.
    fn size(&self, cache: CacheId) -> Option<CacheSize>;
    /// Keys, most recently used first.
    fn keys(&self, cache: CacheId) -> Vec<String>;
    fn contains(&self, cache: CacheId, key: &str) -> bool;
    fn stats(&self, cache: CacheId) -> Option<crate::cache::CacheStats>;
    fn removals(&self, cache: CacheId) -> Option<RemovalCounts>;
}

impl CacheViews for api_key::ApiKeyService {
    fn size(&self, cache: CacheId) -> Option<CacheSize> {
        api_key::ApiKeyService::size(self, cache)
    }
    fn keys(&self, cache: CacheId) -> Vec<String> {
        api_key::ApiKeyService::keys(self, cache)
    }
    fn contains(&self, cache: CacheId, key: &str) -> bool {
        api_key::ApiKeyService::contains(self, cache, key)
    }
    fn stats(&self, cache: CacheId) -> Option<crate::cache::CacheStats> {
        api_key::ApiKeyService::stats(self, cache)
    }
    fn removals(&self, cache: CacheId) -> Option<RemovalCounts> {
        api_key::ApiKeyService::removals(self, cache)
    }
}

impl CacheViews for service_account::ServiceAccountService {
    fn size(&self, cache: CacheId) -> Option<CacheSize> {
        service_account::ServiceAccountService::size(self, cache)
    }
    fn keys(&self, cache: CacheId) -> Vec<String> {
        service_account::ServiceAccountService::keys(self, cache)
    }
    fn contains(&self, cache: CacheId, key: &str) -> bool {
        service_account::ServiceAccountService::contains(self, cache, key)
    }
    fn stats(&self, cache: CacheId) -> Option<crate::cache::CacheStats> {
        service_account::ServiceAccountService::stats(self, cache)
    }
    fn removals(&self, cache: CacheId) -> Option<RemovalCounts> {
        service_account::ServiceAccountService::removals(self, cache)
    }
}
