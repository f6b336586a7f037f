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

impl ReplayStats {
    /// hits / requests (0.0 for an empty run).
    pub fn hit_ratio(&self) -> f64 {
        if self.requests == 0 {
            0.0
        } else {
            self.hits as f64 / self.requests as f64
        }
    }
}

/// Runs done in chunks add up to the run.
impl std::ops::AddAssign for ReplayStats {
    fn add_assign(&mut self, other: ReplayStats) {
        self.requests += other.requests;
        self.hits += other.hits;
        self.misses += other.misses;
        self.evictions += other.evictions;
    }
}

#[cfg(test)]
mod tests {
    use super::ReplayStats;

    #[test]
    fn chunks_add_up_and_an_empty_run_has_a_zero_hit_ratio() {
        let mut total = ReplayStats::default();
        assert!(total.hit_ratio().abs() < f64::EPSILON);
        total += ReplayStats {
            requests: 4,
            hits: 1,
            misses: 3,
            evictions: 1,
        };
        total += ReplayStats {
            requests: 4,
            hits: 3,
            misses: 1,
            evictions: 0,
        };
        assert_eq!(
            total,
            ReplayStats {
                requests: 8,
                hits: 4,
                misses: 4,
                evictions: 1
            }
        );
        assert!((total.hit_ratio() - 0.5).abs() < f64::EPSILON);
    }
}
