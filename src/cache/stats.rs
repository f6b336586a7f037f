//! The cache's counters: `Cache.CacheStats` (`server/src/main/java/org/elasticsearch/common/cache/Cache.java`)
//! and what a replay of get-or-put requests did.

/// `Cache.Stats`: hits, misses, evictions (R6.9).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash)]
pub struct CacheStats {
    pub hits: u64,
    pub misses: u64,
    pub evictions: u64,
}

/// What a run of get-or-put requests did (see [`Cache::get_or_put_with`]).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct ReplayStats {
    pub requests: u64,
    pub hits: u64,
    pub misses: u64,
    pub evictions: u64,
}
