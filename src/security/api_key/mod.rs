//! API keys (`SEC/authc/ApiKeyService.java`).

mod auth_cache_replay;
mod eviction_monitor;

pub use auth_cache_replay::{replay_auth_cache, AuthCacheReplayReport};

pub use eviction_monitor::{
    AuthCacheEvictionMonitor, EvictionLog, EVICTION_MONITOR_INTERVAL_NANOS,
    EVICTION_MONITOR_INTERVAL_SECONDS, EVICTION_WARNING_THRESHOLD,
};
