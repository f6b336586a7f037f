//! API keys (`SEC/authc/ApiKeyService.java`).

mod auth_cache_replay;
mod doc;
mod eviction_monitor;
mod service;

pub use doc::{
    nesting_depth, parse_role_descriptors_blob, role_descriptors_blob, role_descriptors_hash,
    ApiKeyDoc, ApiKeyDocFields, ApiKeyType, CachedApiKeyDoc, Creator, RdDigest,
};
pub use service::{
    ApiKeyAuthentication, ApiKeyCredentials, ApiKeyDocCache, ApiKeyService, AuthEntry, AuthOutcome,
    AuthStep, CachedHashResult, FutureState,
};

pub use auth_cache_replay::{replay_auth_cache, AuthCacheReplayReport};

pub use eviction_monitor::{
    AuthCacheEvictionMonitor, EvictionLog, EVICTION_MONITOR_INTERVAL_NANOS,
    EVICTION_MONITOR_INTERVAL_SECONDS, EVICTION_WARNING_THRESHOLD,
};
