//! One security cache keyed by name, as the realm, role and privilege stores each build theirs: an
//! Elasticsearch [`Cache`] (absent when its settings disable it) whose lookups, puts and removals go
//! to the trace under the cache's [`CacheId`].

use crate::cache::{Cache, CacheBuilder, CacheStats, UnitWeigher};
use crate::error::EsError;
use crate::events::{CacheId, EventKind};
use crate::security::{CacheSize, Ctx, RemovalBuffer, RemovalCounts};
use crate::time::TimeValue;

type Inner<V> = Cache<String, V, UnitWeigher, RemovalBuffer<String>>;

/// A cache of `V` by string key, or nothing when disabled.
pub struct NamedCache<V> {
    id: CacheId,
    cache: Option<Inner<V>>,
}

impl<V> std::fmt::Debug for NamedCache<V> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("NamedCache")
            .field("id", &self.id)
            .field("enabled", &self.cache.is_some())
            .finish_non_exhaustive()
    }
}

impl<V: Clone> NamedCache<V> {
    /// `CacheBuilder` with `setExpireAfterWrite(ttl)` when a TTL is given and
    /// `setMaximumWeight(max)` when `max >= 0` (each entry weighs 1).
    ///
    /// # Errors
    /// `maximumWeight < 0` when `max_weight_strict` and `max < 0`, as `CacheBuilder` refuses it.
    pub(crate) fn build(
        id: CacheId,
        expire_after_write: Option<TimeValue>,
        max: i32,
        max_weight_strict: bool,
    ) -> Result<Self, EsError> {
        let mut b = CacheBuilder::new();
        if let Some(ttl) = expire_after_write.and_then(|t| t.positive_nanos()) {
            b = b.expire_after_write_nanos(i64::try_from(ttl).unwrap_or(i64::MAX));
        }
        if max >= 0 || max_weight_strict {
            b = b.maximum_weight(i64::from(max));
        }
        let cache = b
            .removal_listener(RemovalBuffer::default())
            .build()
            .map_err(|e| EsError::illegal_argument(e.to_string()))?;
        Ok(NamedCache {
            id,
            cache: Some(cache),
        })
    }

    /// A cache the settings turn off (a TTL of 0).
    pub(crate) fn disabled(id: CacheId) -> Self {
        NamedCache { id, cache: None }
    }

    pub(crate) fn id(&self) -> CacheId {
        self.id
    }

    pub(crate) fn enabled(&self) -> bool {
        self.cache.is_some()
    }

    fn flush(&mut self, ctx: &mut Ctx<'_>) {
        let id = self.id;
        if let Some(c) = self.cache.as_mut() {
            c.listener_mut().flush(ctx, id);
        }
    }

    /// `Cache.get`: a hit or a miss in the trace; `None` when disabled or absent.
    pub(crate) fn get(&mut self, key: &str, ctx: &mut Ctx<'_>) -> Option<V> {
        let c = self.cache.as_mut()?;
        let v = c.get(key, ctx.now);
        let kind = if v.is_some() {
            EventKind::CacheHit
        } else {
            EventKind::CacheMiss
        };
        ctx.record(kind, self.id, key, "");
        self.flush(ctx);
        v
    }

    /// `Cache.put` (`computeIfAbsent` after a miss).
    pub(crate) fn put(&mut self, key: &str, value: V, ctx: &mut Ctx<'_>) {
        if let Some(c) = self.cache.as_mut() {
            c.put(key.to_string(), value, ctx.now);
            ctx.record(EventKind::CachePut, self.id, key, "");
        }
        self.flush(ctx);
    }

    /// `invalidate(key)` for each key.
    pub(crate) fn invalidate(&mut self, keys: &[String], ctx: &mut Ctx<'_>) {
        if let Some(c) = self.cache.as_mut() {
            for k in keys {
                c.invalidate(k.as_str(), ctx.now);
            }
        }
        self.flush(ctx);
    }

    /// Invalidates every entry whose key `pred` accepts (`CacheIteratorHelper.removeKeysIf`).
    pub(crate) fn invalidate_matching(
        &mut self,
        ctx: &mut Ctx<'_>,
        pred: impl FnMut(&String) -> bool,
    ) {
        if let Some(c) = self.cache.as_mut() {
            c.invalidate_matching(ctx.now, pred);
        }
        self.flush(ctx);
    }

    pub(crate) fn invalidate_all(&mut self, ctx: &mut Ctx<'_>) {
        if let Some(c) = self.cache.as_mut() {
            c.invalidate_all(ctx.now);
        }
        self.flush(ctx);
    }

    // ---- what an observer reads (no stats counted, no order moved) -----------------------------

    pub(crate) fn size(&self) -> Option<CacheSize> {
        self.cache.as_ref().map(CacheSize::of)
    }

    pub(crate) fn keys(&self) -> Vec<String> {
        self.cache
            .as_ref()
            .map(|c| c.keys().cloned().collect())
            .unwrap_or_default()
    }

    pub(crate) fn contains(&self, key: &str) -> bool {
        self.cache.as_ref().is_some_and(|c| c.contains_key(key))
    }

    pub(crate) fn stats(&self) -> Option<CacheStats> {
        self.cache.as_ref().map(Cache::stats)
    }

    pub(crate) fn removals(&self) -> Option<RemovalCounts> {
        self.cache.as_ref().map(|c| c.listener().by_reason)
    }
}
