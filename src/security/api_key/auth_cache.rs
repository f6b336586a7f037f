//! The auth cache's entries and listener (`ApiKeyService`'s `apiKeyAuthCache` of
//! `ListenableFuture<CachedApiKeyHashResult>`, in `SEC/authc/ApiKeyService.java`).

use super::eviction_monitor::AuthCacheEvictionMonitor;
use crate::cache::{
    Cache, RemovalContext, RemovalListener, RemovalNotification, RemovalReason, UnitWeigher,
};
use crate::security::RemovalCounts;
use std::sync::Arc;

/// `CachedApiKeyHashResult`: whether the verification succeeded, and the cache hasher's hash of the
/// secret that was presented (the wrong one, for a failure).
#[derive(Clone, PartialEq, Eq)]
pub struct CachedHashResult {
    pub success: bool,
    pub(super) hash: Arc<str>,
}

impl std::fmt::Debug for CachedHashResult {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("CachedHashResult")
            .field("success", &self.success)
            .finish_non_exhaustive()
    }
}

/// The state of an auth-cache entry's future.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum FutureState {
    Pending,
    Done(CachedHashResult),
    Failed,
}

/// An auth-cache value: a future with an identity (`serial`), which is what the conditional
/// `invalidate(id, future)` compares.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AuthEntry {
    pub serial: u64,
    pub(crate) state: FutureState,
}

/// The auth cache's listener: the R2.7 monitor, plus the removals for the trace.
#[derive(Debug)]
pub struct AuthCacheListener {
    pub(crate) monitor: AuthCacheEvictionMonitor,
    pub(super) removed: Vec<(String, RemovalReason)>,
    pub(super) warnings_logged: usize,
    /// Removals by reason.
    pub(crate) by_reason: RemovalCounts,
}

impl RemovalListener<String, AuthEntry> for AuthCacheListener {
    fn on_removal(&mut self, n: RemovalNotification<String, AuthEntry>, context: RemovalContext) {
        self.monitor.observe(n.reason, &n.key, context);
        self.by_reason.record(n.reason);
        self.removed.push((n.key, n.reason));
    }
}

pub(super) type AuthCache = Cache<String, AuthEntry, UnitWeigher, AuthCacheListener>;
