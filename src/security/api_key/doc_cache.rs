//! `ApiKeyService.ApiKeyDocCache` (`SEC/authc/ApiKeyService.java`): the doc cache and the
//! role-descriptor bytes cache it shares between keys, with the invalidation counter of R2.4.

use super::{ApiKeyDoc, CachedApiKeyDoc, RdDigest};
use crate::cache::{Cache, CacheBuilder, RemovalListener, UnitWeigher};
use crate::error::EsError;
use crate::events::{CacheId, EventKind};
use crate::security::{Ctx, RemovalBuffer, TraceKey};
use crate::time::NANOS_PER_HOUR;
use std::sync::Arc;

/// The doc cache and the role-descriptor bytes cache, with the invalidation counter of R2.4.
pub struct ApiKeyDocCache {
    pub docs: Cache<String, CachedApiKeyDoc, UnitWeigher, RemovalBuffer<String>>,
    pub(crate) role_descriptors: Cache<RdDigest, Arc<str>, UnitWeigher, RemovalBuffer<RdDigest>>,
    invalidation_count: u64,
}

impl ApiKeyDocCache {
    pub(super) fn new(ttl_nanos: u64, max_keys: i32) -> Result<Self, EsError> {
        let build_err = |e: crate::cache::CacheBuildError| EsError::illegal_argument(e.to_string());
        let docs = CacheBuilder::new()
            .expire_after_write_nanos(ttl_nanos as i64)
            .maximum_weight(i64::from(max_keys))
            .removal_listener(RemovalBuffer::default())
            .build()
            .map_err(build_err)?;
        // R2.3: expire-after-access 1h (hard-coded), twice the weight.
        let role_descriptors = CacheBuilder::new()
            .expire_after_access_nanos(NANOS_PER_HOUR as i64)
            .maximum_weight(i64::from(max_keys) * 2)
            .removal_listener(RemovalBuffer::default())
            .build()
            .map_err(build_err)?;
        Ok(ApiKeyDocCache {
            docs,
            role_descriptors,
            invalidation_count: 0,
        })
    }

    pub fn invalidation_count(&self) -> u64 {
        self.invalidation_count
    }

    pub(super) fn flush(&mut self, ctx: &mut Ctx<'_>) {
        // Called after every lookup: most find nothing buffered.
        let docs = self.docs.listener_mut();
        if !docs.removed.is_empty() {
            docs.flush(ctx, CacheId::ApiKeyDoc);
        }
        let rd = self.role_descriptors.listener_mut();
        if !rd.removed.is_empty() {
            rd.flush(ctx, CacheId::ApiKeyRoleDescriptors);
        }
    }

    /// R2.5: the doc only if the doc entry and both byte entries are present (each `get` counts).
    pub(super) fn get(&mut self, id: &str, ctx: &mut Ctx<'_>) -> Option<ApiKeyDoc> {
        let now = ctx.now;
        let existing = traced_get(&mut self.docs, id, ctx, CacheId::ApiKeyDoc);
        let doc = existing.and_then(|cached| {
            let rd = traced_get(
                &mut self.role_descriptors,
                &cached.role_descriptors_hash,
                ctx,
                CacheId::ApiKeyRoleDescriptors,
            );
            let lb = traced_get(
                &mut self.role_descriptors,
                &cached.limited_by_role_descriptors_hash,
                ctx,
                CacheId::ApiKeyRoleDescriptors,
            );
            match (rd, lb) {
                (Some(rd), Some(lb)) => Some(cached.to_doc(rd, lb)),
                _ => None,
            }
        });
        let _ = now;
        self.flush(ctx);
        doc
    }

    /// R2.4/R2.5: cache the doc only if no invalidation happened since `count` was read; then share
    /// the role-descriptor bytes through `computeIfAbsent`.
    pub(super) fn put_if_no_invalidation_since(
        &mut self,
        id: &str,
        doc: &ApiKeyDoc,
        count: u64,
        ctx: &mut Ctx<'_>,
    ) -> bool {
        if count != self.invalidation_count {
            return false;
        }
        let cached = doc.to_cached();
        let (rd_hash, lb_hash) = (
            cached.role_descriptors_hash,
            cached.limited_by_role_descriptors_hash,
        );
        self.docs.put(id.to_string(), cached, ctx.now);
        ctx.record(EventKind::CachePut, CacheId::ApiKeyDoc, id, "");
        for (hash, bytes) in [
            (rd_hash, &doc.role_descriptors),
            (lb_hash, &doc.limited_by_role_descriptors),
        ] {
            let mut loaded = false;
            let _ = self.role_descriptors.compute_if_absent_borrowed(
                &hash,
                ctx.now,
                |h: &RdDigest| *h,
                |_| {
                    loaded = true;
                    Ok::<_, ()>(Some(bytes.clone()))
                },
                |_| (),
            );
            if !ctx.log.enabled() {
                continue;
            }
            let kind = if loaded {
                EventKind::CacheMiss
            } else {
                EventKind::CacheHit
            };
            hash.with_str(|h| ctx.record(kind, CacheId::ApiKeyRoleDescriptors, h, ""));
            if loaded {
                hash.with_str(|h| {
                    ctx.record(EventKind::CachePut, CacheId::ApiKeyRoleDescriptors, h, "");
                });
            }
        }
        self.flush(ctx);
        true
    }

    /// `invalidate(ids)`: counter first, then each doc.
    pub(super) fn invalidate(&mut self, ids: &[String], ctx: &mut Ctx<'_>) {
        self.invalidation_count += 1;
        for id in ids {
            self.docs.invalidate(id.as_str(), ctx.now);
        }
        self.flush(ctx);
    }

    /// `invalidateAll`: counter first, then the doc and role-descriptor caches.
    pub(super) fn invalidate_all(&mut self, ctx: &mut Ctx<'_>) {
        self.invalidation_count += 1;
        self.docs.invalidate_all(ctx.now);
        self.role_descriptors.invalidate_all(ctx.now);
        self.flush(ctx);
    }
}

/// A `get` that writes its hit or miss to the trace.
fn traced_get<K, Q, V, L>(
    cache: &mut Cache<K, V, UnitWeigher, L>,
    key: &Q,
    ctx: &mut Ctx<'_>,
    id: CacheId,
) -> Option<V>
where
    K: std::hash::Hash + Eq,
    Q: ?Sized + std::hash::Hash + crate::cache::Equivalent<K> + TraceKey,
    V: Clone,
    L: RemovalListener<K, V>,
{
    let v = cache.get(key, ctx.now);
    if ctx.log.enabled() {
        let kind = if v.is_some() {
            EventKind::CacheHit
        } else {
            EventKind::CacheMiss
        };
        key.with_str(|k| ctx.record(kind, id, k, ""));
    }
    v
}
