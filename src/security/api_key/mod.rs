//! API keys (`SEC/authc/ApiKeyService.java`).

mod auth_cache;
mod auth_cache_replay;
mod doc;
mod doc_cache;
mod eviction_monitor;
mod invalidation;
mod outcome;
mod service;
mod views;

pub use auth_cache::{AuthEntry, CachedHashResult, FutureState};
pub use doc::{
    nesting_depth, parse_role_descriptors_blob, role_descriptors_blob, role_descriptors_hash,
    ApiKeyDoc, ApiKeyDocFields, ApiKeyType, CachedApiKeyDoc, Creator, RdDigest,
};
pub use doc_cache::ApiKeyDocCache;
pub use outcome::{ApiKeyAuthentication, ApiKeyCredentials, AuthOutcome, AuthStep};
pub use service::ApiKeyService;

pub use auth_cache_replay::{replay_auth_cache, AuthCacheReplayReport};

pub use eviction_monitor::{
    AuthCacheEvictionMonitor, EvictionLog, EVICTION_MONITOR_INTERVAL_NANOS,
    EVICTION_MONITOR_INTERVAL_SECONDS, EVICTION_WARNING_THRESHOLD,
};
