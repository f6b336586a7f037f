//! The API key auth cache's removal listener (R2.7): a TRACE line for every eviction caused by the size
//! limit and, at most every 300 s, a WARN when 4,500 or more such evictions happened since the last
//! check (`ApiKeyService.getAuthCacheRemovalListener`, `maybeLogCacheFullWarning`).
//!
//! Elasticsearch starts `lastEvictionCheckedAt` at 0 while `System.nanoTime()` is far above 300 s, so
//! the very first size eviction already runs a check: it takes the counter (that one eviction) and
//! resets it without warning (fewer than 4,500). The first WARN can therefore come only about 300 s
//! after the first size eviction, and it counts the evictions after that first one.

use crate::cache::{RemovalContext, RemovalListener, RemovalNotification, RemovalReason};
use crate::time::{Nanos, NANOS_PER_SECOND};

pub(crate) const EVICTION_MONITOR_INTERVAL_SECONDS: u64 = 300;
pub const EVICTION_MONITOR_INTERVAL_NANOS: u64 =
    EVICTION_MONITOR_INTERVAL_SECONDS * NANOS_PER_SECOND;
/// 15 evictions a second over the 300 s window.
pub const EVICTION_WARNING_THRESHOLD: u64 = 15 * EVICTION_MONITOR_INTERVAL_SECONDS;

/// A log line the monitor wrote. Only key ids appear, never a secret or a hash.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum EvictionLog {
    /// TRACE `API key with ID [<id>] was evicted from the authentication cache, possibly due to cache size limit`
    Trace { at: Nanos, id: String },
    /// WARN `Possible thrashing for API key authentication cache, [<n>] eviction due to cache size within last [300] seconds`
    ThrashingWarning { at: Nanos, evictions: u64 },
}

impl EvictionLog {
    pub fn message(&self) -> String {
        match self {
            EvictionLog::Trace { id, .. } => format!(
                "API key with ID [{id}] was evicted from the authentication cache, possibly due to cache size limit"
            ),
            EvictionLog::ThrashingWarning { evictions, .. } => format!(
                "Possible thrashing for API key authentication cache, [{evictions}] eviction due to cache size within last [{EVICTION_MONITOR_INTERVAL_SECONDS}] seconds"
            ),
        }
    }
}

/// The monitor's state. `last_checked_at` is `None` until the first check: Elasticsearch's
/// `lastEvictionCheckedAt = new AtomicLong(0)`, which is more than 300 s before any `nanoTime`.
#[derive(Debug, Clone)]
pub struct AuthCacheEvictionMonitor {
    maximum_weight: u64,
    eviction_counter: u64,
    last_checked_at: Option<Nanos>,
    /// Size-limit evictions seen in total (TRACE lines written).
    pub size_evictions: u64,
    /// WARN lines written, with the time and the count each reported.
    pub warnings: Vec<(Nanos, u64)>,
    /// Keep the TRACE lines too (off by default: one per eviction).
    pub keep_trace: bool,
    pub trace: Vec<EvictionLog>,
}

impl AuthCacheEvictionMonitor {
    pub fn new(maximum_weight: u64) -> Self {
        Self {
            maximum_weight,
            eviction_counter: 0,
            last_checked_at: None,
            size_evictions: 0,
            warnings: Vec::new(),
            keep_trace: false,
            trace: Vec::new(),
        }
    }

    /// The pending count since the last check (`getEvictionCounter()`).
    pub fn eviction_counter(&self) -> u64 {
        self.eviction_counter
    }

    /// Test hooks, as `ApiKeyServiceTests` sets them (test builds only: the `testing` feature).
    #[cfg(any(test, feature = "testing"))]
    pub fn set_eviction_counter(&mut self, n: u64) {
        self.eviction_counter = n;
    }

    #[cfg(any(test, feature = "testing"))]
    pub fn set_last_checked_at(&mut self, at: Nanos) {
        self.last_checked_at = Some(at);
    }

    /// When the last check ran; `None` before the first size eviction.
    pub fn last_checked_at(&self) -> Option<Nanos> {
        self.last_checked_at
    }

    /// One removal. Only `EVICTED` while `count() >= max_keys` (the count after the entry left) counts;
    /// TTL expiry of a cache below its limit, replacements and invalidations are not logged.
    pub fn observe(
        &mut self,
        reason: RemovalReason,
        id: &dyn std::fmt::Display,
        context: RemovalContext,
    ) {
        if reason != RemovalReason::Evicted || (context.count as u64) < self.maximum_weight {
            return;
        }
        self.eviction_counter += 1;
        self.size_evictions += 1;
        if self.keep_trace {
            self.trace.push(EvictionLog::Trace {
                at: context.now,
                id: id.to_string(),
            });
        }
        let now = context.now;
        let due = self
            .last_checked_at
            .is_none_or(|last| now.saturating_sub(last) >= EVICTION_MONITOR_INTERVAL_NANOS);
        if due {
            self.last_checked_at = Some(now);
            let sum = std::mem::take(&mut self.eviction_counter);
            if sum >= EVICTION_WARNING_THRESHOLD {
                self.warnings.push((now, sum));
                if self.keep_trace {
                    self.trace.push(EvictionLog::ThrashingWarning {
                        at: now,
                        evictions: sum,
                    });
                }
            }
        }
    }
}

impl<K: std::fmt::Display, V> RemovalListener<K, V> for AuthCacheEvictionMonitor {
    fn on_removal(&mut self, n: RemovalNotification<K, V>, context: RemovalContext) {
        self.observe(n.reason, &n.key, context);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Issue 8, point 15: the first size eviction runs the first check (Elasticsearch's
    /// `lastEvictionCheckedAt` starts at 0), so with evictions from 250 s on at 20/s the first WARN
    /// comes 300 s after the first eviction and counts only the evictions after it. Starting the
    /// window at node start would have checked at 300 s (1,000 evictions, no WARN) and warned at
    /// 600 s.
    #[test]
    fn issue8_d15_first_warn_comes_300s_after_the_first_size_eviction() {
        let max = 100;
        let mut m = AuthCacheEvictionMonitor::new(max);
        let start = 250 * NANOS_PER_SECOND;
        let every = NANOS_PER_SECOND / 20;
        for i in 0..=(700 * 20) {
            let context = RemovalContext {
                count: max as usize,
                weight: u128::from(max),
                now: start + i * every,
            };
            m.observe(RemovalReason::Evicted, &i, context);
        }
        let first_warn = start + EVICTION_MONITOR_INTERVAL_NANOS;
        assert_eq!(
            m.warnings,
            vec![
                (first_warn, 300 * 20),
                (first_warn + EVICTION_MONITOR_INTERVAL_NANOS, 300 * 20),
            ]
        );
        assert_eq!(m.size_evictions, 700 * 20 + 1);
    }
}
