//! API keys (`SEC/authc/ApiKeyService.java`).

mod auth_cache;
mod auth_cache_replay;
mod doc;
mod doc_cache;
mod eviction_monitor;
mod invalidation;
mod outcome;
pub(crate) mod query;
mod service;
mod views;

pub use auth_cache::FutureState;
pub use auth_cache::{AuthEntry, CachedHashResult};
pub use doc::CachedApiKeyDoc;
pub use doc::{
    parse_role_descriptors_blob, role_descriptors_blob, role_descriptors_hash, ApiKeyType,
};
pub(crate) use doc::{ApiKeyDoc, ApiKeyDocFields, Creator, RdDigest};
pub use doc_cache::ApiKeyDocCache;
pub(crate) use outcome::ApiKeyCredentials;
pub use outcome::{ApiKeyAuthentication, AuthOutcome, AuthStep};
pub use service::ApiKeyService;
pub(crate) use service::{Begin, DocFetch, FetchEnd};

pub use auth_cache_replay::{replay_auth_cache, AuthCacheReplayReport};

pub use eviction_monitor::{
    AuthCacheEvictionMonitor, EvictionLog, EVICTION_MONITOR_INTERVAL_NANOS,
    EVICTION_WARNING_THRESHOLD,
};
