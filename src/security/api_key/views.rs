//! What an observer reads of a node's API key caches: sizes, keys, stats, removals, pending
//! verifications (no stats counted, no order moved).

use super::auth_cache::AuthCache;
use super::eviction_monitor::AuthCacheEvictionMonitor;
use super::{ApiKeyDocCache, ApiKeyService, FutureState, RdDigest};
use crate::cache::CacheStats;
use crate::events::CacheId;
use crate::security::hashing::Hasher;
use crate::security::{CacheSize, RemovalCounts};
use std::sync::Arc;

impl ApiKeyService {
    pub fn auth_cache(&self) -> Option<&AuthCache> {
        self.auth_cache.as_ref()
    }

    pub fn doc_cache(&self) -> Option<&ApiKeyDocCache> {
        self.doc_cache.as_ref()
    }

    /// The eviction monitor of the auth cache (R2.7), when the cache is enabled.
    pub fn eviction_monitor(&self) -> Option<&AuthCacheEvictionMonitor> {
        self.auth_cache.as_ref().map(|c| &c.listener().monitor)
    }

    pub fn eviction_monitor_mut(&mut self) -> Option<&mut AuthCacheEvictionMonitor> {
        self.auth_cache
            .as_mut()
            .map(|c| &mut c.listener_mut().monitor)
    }

    /// `getFromCache`: the completed result of an auth entry, if any (no stats).
    pub fn cached_result(&self, id: &str) -> Option<&FutureState> {
        self.auth_cache.as_ref()?.peek(id).map(|e| &e.state)
    }

    /// Stats of one of the three caches.
    pub fn stats(&self, cache: CacheId) -> Option<CacheStats> {
        match cache {
            CacheId::ApiKeyAuth => self.auth_cache.as_ref().map(crate::cache::Cache::stats),
            CacheId::ApiKeyDoc => self.doc_cache.as_ref().map(|c| c.docs.stats()),
            CacheId::ApiKeyRoleDescriptors => {
                self.doc_cache.as_ref().map(|c| c.role_descriptors.stats())
            }
            _ => None,
        }
    }

    /// The hasher of the stored hash a queued verification will check (the simulator's cost model).
    pub(crate) fn pending_hasher(&self, serial: u64) -> Option<Hasher> {
        let p = self.pending.get(&serial)?;
        Hasher::resolve_from_hash(p.first.doc.hash.as_deref()?).ok()
    }

    /// Removals of one of the caches by reason; `None` when disabled.
    pub(crate) fn removals(&self, cache: CacheId) -> Option<RemovalCounts> {
        match cache {
            CacheId::ApiKeyAuth => self.auth_cache.as_ref().map(|c| c.listener().by_reason),
            CacheId::ApiKeyDoc => self.doc_cache.as_ref().map(|c| c.docs.listener().by_reason),
            CacheId::ApiKeyRoleDescriptors => self
                .doc_cache
                .as_ref()
                .map(|c| c.role_descriptors.listener().by_reason),
            _ => None,
        }
    }

    /// Requests waiting on verifications.
    pub fn pending_verifications(&self) -> usize {
        self.pending.len()
    }

    /// Keys of one of the caches, most recently used first.
    pub(crate) fn keys(&self, cache: CacheId) -> Vec<String> {
        match cache {
            CacheId::ApiKeyAuth => self
                .auth_cache
                .as_ref()
                .map(|c| c.keys().cloned().collect()),
            CacheId::ApiKeyDoc => self
                .doc_cache
                .as_ref()
                .map(|c| c.docs.keys().cloned().collect()),
            CacheId::ApiKeyRoleDescriptors => self
                .doc_cache
                .as_ref()
                .map(|c| c.role_descriptors.keys().map(RdDigest::hex).collect()),
            _ => None,
        }
        .unwrap_or_default()
    }

    /// The size of one of the caches; `None` when disabled.
    pub fn size(&self, cache: CacheId) -> Option<CacheSize> {
        match cache {
            CacheId::ApiKeyAuth => self.auth_cache.as_ref().map(CacheSize::of),
            CacheId::ApiKeyDoc => self.doc_cache.as_ref().map(|c| CacheSize::of(&c.docs)),
            CacheId::ApiKeyRoleDescriptors => self
                .doc_cache
                .as_ref()
                .map(|c| CacheSize::of(&c.role_descriptors)),
            _ => None,
        }
    }

    pub fn contains(&self, cache: CacheId, key: &str) -> bool {
        match cache {
            CacheId::ApiKeyAuth => self
                .auth_cache
                .as_ref()
                .is_some_and(|c| c.contains_key(key)),
            CacheId::ApiKeyDoc => self
                .doc_cache
                .as_ref()
                .is_some_and(|c| c.docs.contains_key(key)),
            CacheId::ApiKeyRoleDescriptors => self.doc_cache.as_ref().is_some_and(|c| {
                RdDigest::from_hex(key).is_some_and(|d| c.role_descriptors.contains_key(&d))
            }),
            _ => false,
        }
    }

    /// The shared role-descriptor bytes for a hash (S7 checks instance identity).
    pub fn role_descriptor_bytes(&self, hash: &str) -> Option<&Arc<str>> {
        self.doc_cache
            .as_ref()?
            .role_descriptors
            .peek(&RdDigest::from_hex(hash)?)
    }
}
