//! A state-machine test of the cache engine (`escache::cache::Cache`, Elasticsearch's
//! `common/cache/Cache.java`, R6.1-R6.9) against a deliberately naive reference model.
//!
//! The model keeps a `Vec` of entries, most recently used first, and implements each operation the
//! most obvious way (linear search, recomputing the total weight every time it is needed), step by
//! step as `Cache.java` does it. `proptest-state-machine` drives the model and the engine with the
//! same random operations, on a random configuration (maximum weight, expire-after-access,
//! expire-after-write) and a small key space so that keys collide. After every step every observable
//! is compared: the returned value, the stats, the removal notifications (reason and context) fired
//! by that step, the LRU order with values, count, weight, and each key's presence and times.

mod machine;
mod model;

use model::Model;

use escache::cache::{
    Cache, CacheBuilder, CacheStats, CollectingListener, LoadError, LoadStart, PendingLoads,
    RemovalContext, RemovalNotification, RemovalReason, ReplayStats, Weigher,
};
use proptest::prelude::*;
use proptest::test_runner::Config;
use proptest_state_machine::{prop_state_machine, ReferenceStateMachine, StateMachineTest};

type K = u8;

type V = u32;

/// Keys are drawn from `0..KEYS`, so that puts, gets and invalidations keep hitting the same keys.
const KEYS: K = 8;

/// The TTL used to resolve a "TTL-sized" time step when that expiry is not configured.
const FALLBACK_TTL: u64 = 7;

/// A "large" time step: far beyond every generated TTL.
const LARGE_STEP: u64 = 1_000_000_000;

/// The first value `make_value` hands out in `get_or_put_with` and `replay` (disjoint from the
/// small values of `put`, so the origin of a value is visible in the LRU listing).
const FIRST_MADE_VALUE: V = 1_000;

/// The weigher used for entries whose weight is not given explicitly: 0, 1 or 2, so zero-weight
/// entries exist too.
fn model_weight(key: K, value: V) -> u64 {
    (u64::from(key) + u64::from(value)) % 3
}

#[derive(Debug, Clone, Copy)]
struct ModWeigher;

impl Weigher<K, V> for ModWeigher {
    fn weigh(&self, key: &K, value: &V) -> u64 {
        model_weight(*key, *value)
    }
}

type Engine = Cache<K, V, ModWeigher, CollectingListener<K, V>>;

type Note = (RemovalNotification<K, V>, RemovalContext);

// ---------------------------------------------------------------------------------------------
// Configuration and operations
// ---------------------------------------------------------------------------------------------

#[derive(Debug, Clone)]
struct Settings {
    max_weight: Option<u64>,
    expire_after_access: Option<u64>,
    expire_after_write: Option<u64>,
    start: u64,
}

/// A time step, resolved against the configured TTLs.
#[derive(Debug, Clone, Copy)]
enum Tick {
    Zero,
    OneNano,
    AccessTtl,
    AccessTtlPlusOne,
    WriteTtl,
    WriteTtlPlusOne,
    Large,
    Small(u64),
}

impl Tick {
    fn nanos(self, s: &Settings) -> u64 {
        let access = s.expire_after_access.unwrap_or(FALLBACK_TTL);
        let write = s.expire_after_write.unwrap_or(FALLBACK_TTL);
        match self {
            Tick::Zero => 0,
            Tick::OneNano => 1,
            Tick::AccessTtl => access,
            Tick::AccessTtlPlusOne => access + 1,
            Tick::WriteTtl => write,
            Tick::WriteTtlPlusOne => write + 1,
            Tick::Large => LARGE_STEP,
            Tick::Small(n) => n,
        }
    }
}

/// What the loader of `compute_if_absent` does.
#[derive(Debug, Clone, Copy)]
enum Load {
    Value(V),
    Null,
    Fail,
}

#[derive(Debug, Clone)]
enum Op {
    Get(K),
    /// `weight: None` uses `put` (the weigher), `Some` uses `put_with_weight`.
    Put {
        key: K,
        value: V,
        weight: Option<u64>,
    },
    /// `weight: Some` uses `compute_if_absent_weighted`; `None` uses `compute_if_absent_with`, or the
    /// infallible `compute_if_absent` when `plain` and the loader yields a value.
    ComputeIfAbsent {
        key: K,
        load: Load,
        weight: Option<u64>,
        plain: bool,
    },
    /// Dependent loading (issue 8 point 18): `computeIfAbsent(key)` whose loader first loads `other`
    /// (never `key`) with value `inner` from the same cache, run between the lookup and the insert as
    /// Elasticsearch runs its loader outside the segment lock.
    ComputeDependent {
        key: K,
        other: K,
        load: Load,
        inner: V,
    },
    Invalidate(K),
    InvalidateValue(K, V),
    InvalidateAll,
    /// Invalidates every key whose bit is set in the mask.
    InvalidateMatching(u8),
    Refresh,
    /// `weight: None` uses `get_or_put_with` (the weigher); `Some(w)` uses `get_or_put_weighted`,
    /// whose value carries the weight `w` (`Some(None)`: no weight, so the weigher's again).
    GetOrPut {
        key: K,
        #[allow(clippy::option_option)] // three cases, as the doc above says
        weight: Option<Option<u64>>,
    },
    /// `replay(keys, now + offset, interval)`; the clock then stands at the last request's time.
    Replay {
        keys: Vec<K>,
        offset: u64,
        interval: u64,
    },
    Advance(Tick),
}

/// What an operation returned.
#[derive(Debug, Clone, PartialEq)]
enum Outcome {
    Nothing,
    Value(Option<V>),
    Loaded {
        result: Result<V, LoadError<String>>,
        loader_calls: u32,
    },
    Removed(bool),
    RemovedCount(usize),
    GetOrPut {
        hit: bool,
        made: u32,
    },
    Replayed {
        stats: ReplayStats,
        made: u32,
    },
}

fn loader_error(key: K) -> String {
    format!("no value for key {key}")
}

/// Where the clock stands after a replay of `n` requests starting at `start`.
fn clock_after_replay(now: u64, start: u64, n: usize, interval: u64) -> u64 {
    if n == 0 {
        now
    } else {
        start + (n as u64 - 1) * interval
    }
}
