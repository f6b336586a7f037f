//! `CacheBuilder` (`server/src/main/java/org/elasticsearch/common/cache/CacheBuilder.java`), R6.2.

use super::{Cache, NoopListener, UnitWeigher};
use crate::time::{Nanos, TimeValue};

/// The builder's errors, with Elasticsearch's texts.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CacheBuildError {
    #[error("maximumWeight < 0")]
    NegativeMaximumWeight,
    #[error("expireAfterAccess <= 0")]
    NonPositiveExpireAfterAccess,
    #[error("expireAfterWrite <= 0")]
    NonPositiveExpireAfterWrite,
}

/// Builds a [`Cache`]. As in Elasticsearch, nothing set means unbounded and never expiring, and the
/// default weigher gives every entry weight 1.
#[derive(Debug, Clone)]
pub struct CacheBuilder<W = UnitWeigher, L = NoopListener> {
    maximum_weight: Option<u64>,
    expire_after_access: Option<Nanos>,
    expire_after_write: Option<Nanos>,
    weigher: W,
    listener: L,
    error: Option<CacheBuildError>,
}

impl CacheBuilder {
    pub fn new() -> Self {
        CacheBuilder {
            maximum_weight: None,
            expire_after_access: None,
            expire_after_write: None,
            weigher: UnitWeigher,
            listener: NoopListener,
            error: None,
        }
    }
}

impl Default for CacheBuilder {
    fn default() -> Self {
        Self::new()
    }
}

impl<W, L> CacheBuilder<W, L> {
    fn fail(mut self, e: CacheBuildError) -> Self {
        self.error.get_or_insert(e);
        self
    }

    /// `setMaximumWeight`: a negative weight fails with `maximumWeight < 0`.
    #[must_use]
    pub fn maximum_weight(self, weight: i64) -> Self {
        match u64::try_from(weight) {
            Ok(w) => Self {
                maximum_weight: Some(w),
                ..self
            },
            Err(_) => self.fail(CacheBuildError::NegativeMaximumWeight),
        }
    }

    /// `setExpireAfterAccess`: zero or negative fails with `expireAfterAccess <= 0`.
    #[must_use]
    pub fn expire_after_access_nanos(self, nanos: i64) -> Self {
        match u64::try_from(nanos) {
            Ok(n) if n > 0 => Self {
                expire_after_access: Some(n),
                ..self
            },
            _ => self.fail(CacheBuildError::NonPositiveExpireAfterAccess),
        }
    }

    /// `setExpireAfterWrite`: zero or negative fails with `expireAfterWrite <= 0`.
    #[must_use]
    pub fn expire_after_write_nanos(self, nanos: i64) -> Self {
        match u64::try_from(nanos) {
            Ok(n) if n > 0 => Self {
                expire_after_write: Some(n),
                ..self
            },
            _ => self.fail(CacheBuildError::NonPositiveExpireAfterWrite),
        }
    }

    #[must_use]
    pub fn expire_after_access(self, value: TimeValue) -> Self {
        self.expire_after_access_nanos(value.nanos())
    }

    #[must_use]
    pub fn expire_after_write(self, value: TimeValue) -> Self {
        self.expire_after_write_nanos(value.nanos())
    }

    pub fn weigher<W2>(self, weigher: W2) -> CacheBuilder<W2, L> {
        CacheBuilder {
            maximum_weight: self.maximum_weight,
            expire_after_access: self.expire_after_access,
            expire_after_write: self.expire_after_write,
            weigher,
            listener: self.listener,
            error: self.error,
        }
    }

    pub fn removal_listener<L2>(self, listener: L2) -> CacheBuilder<W, L2> {
        CacheBuilder {
            maximum_weight: self.maximum_weight,
            expire_after_access: self.expire_after_access,
            expire_after_write: self.expire_after_write,
            weigher: self.weigher,
            listener,
            error: self.error,
        }
    }

    /// The first error any setter met, or the cache.
    pub fn build<K, V>(self) -> Result<Cache<K, V, W, L>, CacheBuildError> {
        if let Some(e) = self.error {
            return Err(e);
        }
        Ok(Cache::from_parts(
            self.maximum_weight,
            self.expire_after_access,
            self.expire_after_write,
            self.weigher,
            self.listener,
        ))
    }
}
