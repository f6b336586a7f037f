//! A request stream through one node's API key auth cache, with the settings' rules (AK-R1) and the
//! eviction monitor (R2.7). This is what `escache demo` runs; the cluster model drives the same cache
//! through full authentication.

use super::AuthCacheEvictionMonitor;
use crate::cache::{CacheBuildError, CacheBuilder};
use crate::time::{Nanos, TimeValue};

/// What a replay measured.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AuthCacheReplayReport {
    pub(crate) requests: u64,
    pub(crate) hits: u64,
    pub(crate) misses: u64,
    /// The cache's evictions counter (size and TTL evictions, no invalidations happen here).
    pub(crate) evictions: u64,
    /// Evictions while the cache was full (the TRACE lines of R2.7).
    pub(crate) size_evictions: u64,
    /// The thrashing WARNs: (time, evictions reported).
    pub(crate) warnings: Vec<(Nanos, u64)>,
    /// Virtual time from the first request to the last.
    pub(crate) elapsed: Nanos,
    /// Entries left at the end.
    pub(crate) final_count: usize,
    /// False when `cache.ttl <= 0` disabled the cache (every request then verifies the hash).
    pub(crate) cache_enabled: bool,
}

/// Replays `keys` (API key ids) one every `interval` through an auth cache built as
/// `ApiKeyService` builds it: expire-after-access `ttl`, maximum weight `max_keys`.
pub fn replay_auth_cache(
    keys: &[u64],
    interval: Nanos,
    max_keys: i64,
    ttl: TimeValue,
) -> Result<AuthCacheReplayReport, CacheBuildError> {
    let requests = keys.len() as u64;
    let elapsed = interval.saturating_mul(requests.saturating_sub(1));
    let Some(ttl_nanos) = ttl.positive_nanos() else {
        // Section 1: ttl <= 0 disables all three caches.
        return Ok(AuthCacheReplayReport {
            requests,
            hits: 0,
            misses: requests,
            evictions: 0,
            size_evictions: 0,
            warnings: Vec::new(),
            elapsed,
            final_count: 0,
            cache_enabled: false,
        });
    };
    let monitor = AuthCacheEvictionMonitor::new(u64::try_from(max_keys).unwrap_or(0));
    let mut cache = CacheBuilder::new()
        .expire_after_access_nanos(i64::try_from(ttl_nanos).unwrap_or(i64::MAX))
        .maximum_weight(max_keys)
        .removal_listener(monitor)
        .build::<u64, ()>()?;
    let stats = cache.replay(keys.iter().copied(), 0, interval, || ());
    let monitor = cache.listener();
    Ok(AuthCacheReplayReport {
        requests: stats.requests,
        hits: stats.hits,
        misses: stats.misses,
        evictions: stats.evictions,
        size_evictions: monitor.size_evictions,
        warnings: monitor.warnings.clone(),
        elapsed,
        final_count: cache.count(),
        cache_enabled: true,
    })
}
