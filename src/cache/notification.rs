//! Removal notifications (`server/src/main/java/org/elasticsearch/common/cache/RemovalNotification.java`).

use crate::time::Nanos;
use std::fmt;

/// Why an entry left the cache. Exactly Elasticsearch's three reasons (R6.9).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum RemovalReason {
    /// A `put` over a live entry.
    Replaced,
    /// `invalidate`, `invalidate_if`, `invalidate_all`.
    Invalidated,
    /// Pruned from the LRU tail: over weight, or expired.
    Evicted,
}

impl RemovalReason {
    /// The Java enum constant's name.
    pub fn as_str(self) -> &'static str {
        match self {
            RemovalReason::Replaced => "REPLACED",
            RemovalReason::Invalidated => "INVALIDATED",
            RemovalReason::Evicted => "EVICTED",
        }
    }
}

impl fmt::Display for RemovalReason {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// An entry that left the cache, handed to the [`RemovalListener`] by value.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RemovalNotification<K, V> {
    pub key: K,
    pub value: V,
    pub reason: RemovalReason,
}

/// What the cache looked like when a listener was called: Elasticsearch's listeners read
/// `count()` from inside the callback (R2.7), after the entry was unlinked.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RemovalContext {
    /// `count()` after the removed entry was unlinked.
    pub count: usize,
    /// `weight()` after the removed entry was unlinked.
    pub weight: u128,
    /// The time of the operation that caused the removal.
    pub now: Nanos,
}

/// Receives every removal, synchronously, in the order Elasticsearch's `Cache` fires them.
pub trait RemovalListener<K, V> {
    fn on_removal(&mut self, notification: RemovalNotification<K, V>, context: RemovalContext);

    /// Asked by the pruning loop before each further eviction: `true` stops the loop there, leaving
    /// the rest to a later [`Cache::refresh`](super::Cache::refresh) with the same `now`. A listener
    /// that is delivered later (outside the cache's lock, as the Python binding's) pauses after each
    /// eviction so that its callback runs between two unlinks, as Elasticsearch's does (`Cache.evict`
    /// calls `removalListener.onRemoval` from `delete`, inside the loop). The default never pauses.
    #[inline]
    fn pause_pruning(&mut self) -> bool {
        false
    }
}

/// The default listener: drops what it is given.
#[derive(Debug, Clone, Copy, Default)]
pub struct NoopListener;

impl<K, V> RemovalListener<K, V> for NoopListener {
    #[inline]
    fn on_removal(&mut self, _: RemovalNotification<K, V>, _: RemovalContext) {}
}

/// Collects every notification in order (useful in tests and for delivering them later, outside the
/// cache, as the Python bindings do).
#[derive(Debug, Clone, Default)]
pub struct CollectingListener<K, V> {
    pub notifications: Vec<(RemovalNotification<K, V>, RemovalContext)>,
}

impl<K, V> RemovalListener<K, V> for CollectingListener<K, V> {
    fn on_removal(&mut self, notification: RemovalNotification<K, V>, context: RemovalContext) {
        self.notifications.push((notification, context));
    }
}

impl<K, V, F> RemovalListener<K, V> for F
where
    F: FnMut(RemovalNotification<K, V>, RemovalContext),
{
    fn on_removal(&mut self, notification: RemovalNotification<K, V>, context: RemovalContext) {
        self(notification, context);
    }
}
