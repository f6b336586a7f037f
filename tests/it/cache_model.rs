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

// ---------------------------------------------------------------------------------------------
// The naive model
// ---------------------------------------------------------------------------------------------

#[derive(Debug, Clone, PartialEq)]
struct Entry {
    key: K,
    value: V,
    weight: u64,
    write_time: u64,
    access_time: u64,
}

#[derive(Debug, Clone)]
struct Model {
    settings: Settings,
    now: u64,
    /// Most recently used first; the last element is the LRU tail.
    entries: Vec<Entry>,
    hits: u64,
    misses: u64,
    evictions: u64,
    next_made_value: V,
    /// What the last operation returned, and the notifications it fired, in order.
    last: Outcome,
    notes: Vec<Note>,
}

impl Model {
    fn new(settings: Settings) -> Self {
        Model {
            now: settings.start,
            settings,
            entries: Vec::new(),
            hits: 0,
            misses: 0,
            evictions: 0,
            next_made_value: FIRST_MADE_VALUE,
            last: Outcome::Nothing,
            notes: Vec::new(),
        }
    }

    fn total_weight(&self) -> u128 {
        let mut sum = 0u128;
        for e in &self.entries {
            sum += u128::from(e.weight);
        }
        sum
    }

    fn position(&self, key: K) -> Option<usize> {
        self.entries.iter().position(|e| e.key == key)
    }

    /// `now - access > afterAccess || now - write > afterWrite`, strictly greater. The model's
    /// clock never goes backwards, so plain subtraction is safe.
    fn is_expired(&self, e: &Entry) -> bool {
        let mut expired = false;
        if let Some(ttl) = self.settings.expire_after_access {
            if self.now - e.access_time > ttl {
                expired = true;
            }
        }
        if let Some(ttl) = self.settings.expire_after_write {
            if self.now - e.write_time > ttl {
                expired = true;
            }
        }
        expired
    }

    fn is_over_weight(&self) -> bool {
        match self.settings.max_weight {
            Some(max) => self.total_weight() > u128::from(max),
            None => false,
        }
    }

    /// The listener is called after the entry left the list: the context shows the cache without it.
    fn notify(&mut self, e: Entry, reason: RemovalReason) {
        let context = RemovalContext {
            count: self.entries.len(),
            weight: self.total_weight(),
            now: self.now,
        };
        self.notes.push((
            RemovalNotification {
                key: e.key,
                value: e.value,
                reason,
            },
            context,
        ));
    }

    /// While the tail is over weight or expired, evict it.
    fn prune(&mut self) {
        while let Some(tail) = self.entries.last() {
            if !(self.is_over_weight() || self.is_expired(tail)) {
                break;
            }
            let tail = self.entries.pop().unwrap();
            self.evictions += 1;
            self.notify(tail, RemovalReason::Evicted);
        }
    }

    fn move_to_head(&mut self, i: usize) {
        let e = self.entries.remove(i);
        self.entries.insert(0, e);
    }

    fn new_entry(&self, key: K, value: V, weight: u64) -> Entry {
        Entry {
            key,
            value,
            weight,
            write_time: self.now,
            access_time: self.now,
        }
    }

    fn get(&mut self, key: K) -> Option<V> {
        let Some(i) = self.position(key) else {
            self.misses += 1;
            return None;
        };
        if self.is_expired(&self.entries[i]) {
            // A miss; the entry stays where it is.
            self.misses += 1;
            return None;
        }
        self.hits += 1;
        self.entries[i].access_time = self.now;
        let value = self.entries[i].value;
        self.move_to_head(i);
        self.prune();
        Some(value)
    }

    fn put(&mut self, key: K, value: V, weight: u64) {
        let old = self.position(key).map(|i| self.entries.remove(i));
        let fresh = self.new_entry(key, value, weight);
        self.entries.insert(0, fresh);
        self.prune();
        if let Some(old) = old {
            self.notify(old, RemovalReason::Replaced);
        }
    }

    fn compute_if_absent(
        &mut self,
        key: K,
        load: Load,
        weight: Option<u64>,
        dependent: Option<(K, V)>,
    ) -> Outcome {
        match self.position(key) {
            Some(i) if self.is_expired(&self.entries[i]) => {
                self.misses += 1;
                let e = self.entries.remove(i);
                self.evictions += 1;
                self.notify(e, RemovalReason::Evicted);
            }
            Some(i) => {
                self.hits += 1;
                self.entries[i].access_time = self.now;
                let value = self.entries[i].value;
                self.move_to_head(i);
                self.prune();
                return Outcome::Loaded {
                    result: Ok(value),
                    loader_calls: 0,
                };
            }
            None => self.misses += 1,
        }
        if let Some((other, inner)) = dependent {
            self.compute_if_absent(other, Load::Value(inner), None, None);
        }
        let result = match load {
            Load::Value(value) => {
                let w = weight.unwrap_or(model_weight(key, value));
                let fresh = self.new_entry(key, value, w);
                self.entries.insert(0, fresh);
                self.prune();
                Ok(value)
            }
            Load::Null => Err(LoadError::NullValue),
            Load::Fail => Err(LoadError::Loader(loader_error(key))),
        };
        Outcome::Loaded {
            result,
            loader_calls: 1,
        }
    }

    fn invalidate_where(&mut self, key: K, matches: impl Fn(V) -> bool) -> bool {
        match self.position(key) {
            Some(i) if matches(self.entries[i].value) => {
                let e = self.entries.remove(i);
                self.evictions += 1;
                self.notify(e, RemovalReason::Invalidated);
                true
            }
            _ => false,
        }
    }

    fn invalidate_all(&mut self) {
        let all = std::mem::take(&mut self.entries);
        for e in all {
            self.notify(e, RemovalReason::Invalidated);
        }
    }

    fn invalidate_matching(&mut self, mask: u8) -> usize {
        let keys: Vec<K> = self.entries.iter().map(|e| e.key).collect();
        let mut removed = 0;
        for key in keys {
            if (mask >> key) & 1 == 1 && self.invalidate_where(key, |_| true) {
                removed += 1;
            }
        }
        removed
    }

    /// `get`, and on a miss `put` of a freshly made value.
    fn get_or_put(&mut self, key: K, weight: Option<u64>) -> bool {
        if self.get(key).is_some() {
            return true;
        }
        let value = self.next_made_value;
        self.next_made_value += 1;
        self.put(key, value, weight.unwrap_or(model_weight(key, value)));
        false
    }

    fn replay(&mut self, keys: &[K], offset: u64, interval: u64) -> Outcome {
        let start = self.now + offset;
        let (hits, misses, evictions) = (self.hits, self.misses, self.evictions);
        let mut made = 0;
        let mut now = start;
        for &key in keys {
            self.now = now;
            if !self.get_or_put(key, None) {
                made += 1;
            }
            now += interval;
        }
        self.now = clock_after_replay(self.now, start, keys.len(), interval);
        Outcome::Replayed {
            stats: ReplayStats {
                requests: keys.len() as u64,
                hits: self.hits - hits,
                misses: self.misses - misses,
                evictions: self.evictions - evictions,
            },
            made,
        }
    }

    fn step(&mut self, op: &Op) -> Outcome {
        match *op {
            Op::Get(key) => Outcome::Value(self.get(key)),
            Op::Put { key, value, weight } => {
                let w = weight.unwrap_or(model_weight(key, value));
                self.put(key, value, w);
                Outcome::Nothing
            }
            Op::ComputeIfAbsent {
                key, load, weight, ..
            } => self.compute_if_absent(key, load, weight, None),
            Op::ComputeDependent {
                key,
                other,
                load,
                inner,
            } => self.compute_if_absent(key, load, None, Some((other, inner))),
            Op::Invalidate(key) => Outcome::Removed(self.invalidate_where(key, |_| true)),
            Op::InvalidateValue(key, value) => {
                Outcome::Removed(self.invalidate_where(key, |v| v == value))
            }
            Op::InvalidateAll => {
                self.invalidate_all();
                Outcome::Nothing
            }
            Op::InvalidateMatching(mask) => Outcome::RemovedCount(self.invalidate_matching(mask)),
            Op::Refresh => {
                self.prune();
                Outcome::Nothing
            }
            Op::GetOrPut { key, weight } => {
                let hit = self.get_or_put(key, weight.flatten());
                Outcome::GetOrPut {
                    hit,
                    made: u32::from(!hit),
                }
            }
            Op::Replay {
                ref keys,
                offset,
                interval,
            } => self.replay(keys, offset, interval),
            Op::Advance(tick) => {
                self.now += tick.nanos(&self.settings);
                Outcome::Nothing
            }
        }
    }
}

// ---------------------------------------------------------------------------------------------
// Reference state machine: strategies
// ---------------------------------------------------------------------------------------------

struct CacheMachine;

fn settings_strategy() -> impl Strategy<Value = Settings> {
    let max_weight = prop_oneof![
        2 => Just(None),
        1 => Just(Some(0u64)),
        4 => (1u64..6).prop_map(Some),
    ];
    let ttl = prop_oneof![1 => Just(None), 2 => (1u64..20).prop_map(Some)];
    let start = prop_oneof![Just(0u64), 1u64..1_000, Just(1u64 << 50)];
    (max_weight, ttl.clone(), ttl, start).prop_map(
        |(max_weight, expire_after_access, expire_after_write, start)| Settings {
            max_weight,
            expire_after_access,
            expire_after_write,
            start,
        },
    )
}

fn tick_strategy() -> impl Strategy<Value = Tick> {
    prop_oneof![
        Just(Tick::Zero),
        Just(Tick::OneNano),
        Just(Tick::AccessTtl),
        Just(Tick::AccessTtlPlusOne),
        Just(Tick::WriteTtl),
        Just(Tick::WriteTtlPlusOne),
        Just(Tick::Large),
        (0u64..30).prop_map(Tick::Small),
    ]
}

fn load_strategy() -> impl Strategy<Value = Load> {
    prop_oneof![
        4 => (0u32..6).prop_map(Load::Value),
        1 => Just(Load::Null),
        1 => Just(Load::Fail),
    ]
}

impl ReferenceStateMachine for CacheMachine {
    type State = Model;
    type Transition = Op;

    fn init_state() -> BoxedStrategy<Model> {
        settings_strategy().prop_map(Model::new).boxed()
    }

    fn transitions(state: &Model) -> BoxedStrategy<Op> {
        let key = 0..KEYS;
        let value = 0u32..6;
        let weight = prop::option::of(0u64..4);
        let ops = prop_oneof![
            5 => key.clone().prop_map(Op::Get),
            5 => (key.clone(), value.clone(), weight.clone())
                .prop_map(|(key, value, weight)| Op::Put { key, value, weight }),
            4 => (key.clone(), load_strategy(), weight, any::<bool>()).prop_map(
                |(key, load, weight, plain)| Op::ComputeIfAbsent { key, load, weight, plain }
            ),
            2 => (key.clone(), 1..KEYS, load_strategy(), 0u32..6).prop_map(
                |(key, d, load, inner)| Op::ComputeDependent { key, other: (key + d) % KEYS, load, inner }
            ),
            1 => key.clone().prop_map(Op::Invalidate),
            1 => (key.clone(), value).prop_map(|(k, v)| Op::InvalidateValue(k, v)),
            1 => Just(Op::InvalidateAll),
            1 => any::<u8>().prop_map(Op::InvalidateMatching),
            1 => Just(Op::Refresh),
            3 => (key.clone(), prop::option::of(prop::option::of(0u64..4)))
                .prop_map(|(key, weight)| Op::GetOrPut { key, weight }),
            1 => (prop::collection::vec(key, 0..6), 0u64..3, 0u64..4)
                .prop_map(|(keys, offset, interval)| Op::Replay { keys, offset, interval }),
            6 => tick_strategy().prop_map(Op::Advance),
        ];
        // `invalidate(k, v)` with the value actually cached under k, so that it removes something.
        let live: Vec<(K, V)> = state.entries.iter().map(|e| (e.key, e.value)).collect();
        if live.is_empty() {
            ops.boxed()
        } else {
            prop_oneof![
                12 => ops,
                1 => prop::sample::select(live).prop_map(|(k, v)| Op::InvalidateValue(k, v)),
            ]
            .boxed()
        }
    }

    fn apply(mut state: Model, op: &Op) -> Model {
        state.notes.clear();
        state.last = state.step(op);
        state
    }
}

// ---------------------------------------------------------------------------------------------
// The system under test
// ---------------------------------------------------------------------------------------------

struct Sut {
    cache: Engine,
    now: u64,
    next_made_value: V,
}

impl Sut {
    fn run(&mut self, op: Op, settings: &Settings) -> Outcome {
        let now = self.now;
        let cache = &mut self.cache;
        match op {
            Op::Get(key) => Outcome::Value(cache.get(&key, now)),
            Op::Put { key, value, weight } => {
                match weight {
                    None => cache.put(key, value, now),
                    Some(w) => cache.put_with_weight(key, value, w, now),
                }
                Outcome::Nothing
            }
            Op::ComputeIfAbsent {
                key,
                load,
                weight,
                plain,
            } => {
                let mut calls = 0u32;
                let result = match (load, weight, plain) {
                    (Load::Value(v), None, true) => Ok(cache.compute_if_absent(key, now, |k| {
                        assert_eq!(*k, key, "the loader is given the key");
                        calls += 1;
                        v
                    })),
                    (_, Some(w), _) => cache.compute_if_absent_weighted(
                        key,
                        now,
                        |k| {
                            assert_eq!(*k, key, "the loader is given the key");
                            calls += 1;
                            match load {
                                Load::Value(v) => Ok(Some((v, Some(w)))),
                                Load::Null => Ok(None),
                                Load::Fail => Err(loader_error(*k)),
                            }
                        },
                        |v| *v,
                    ),
                    (_, None, _) => cache.compute_if_absent_with(
                        key,
                        now,
                        |k| {
                            assert_eq!(*k, key, "the loader is given the key");
                            calls += 1;
                            match load {
                                Load::Value(v) => Ok(Some(v)),
                                Load::Null => Ok(None),
                                Load::Fail => Err(loader_error(*k)),
                            }
                        },
                        |v| *v,
                    ),
                };
                Outcome::Loaded {
                    result,
                    loader_calls: calls,
                }
            }
            Op::ComputeDependent {
                key,
                other,
                load,
                inner,
            } => {
                if let Some(v) = cache.compute_if_absent_lookup(&key, now, |v| *v) {
                    Outcome::Loaded {
                        result: Ok(v),
                        loader_calls: 0,
                    }
                } else {
                    // The key's future, then the loader with the cache free.
                    let mut loads = PendingLoads::default();
                    assert_eq!(loads.begin(key, 1), LoadStart::Started);
                    let nested = cache.compute_if_absent_with(
                        other,
                        now,
                        |_| Ok::<_, String>(Some(inner)),
                        |v| *v,
                    );
                    assert!(nested.is_ok());
                    // Waiting on its own key is refused (Elasticsearch would deadlock).
                    assert_eq!(loads.begin(key, 1), LoadStart::OwnLoad);
                    let result = match load {
                        Load::Value(v) => {
                            cache.put_loaded(key, v, None, now);
                            Ok(v)
                        }
                        Load::Null => Err(LoadError::NullValue),
                        Load::Fail => Err(LoadError::Loader(loader_error(key))),
                    };
                    loads.finish(&key);
                    assert!(loads.is_empty());
                    Outcome::Loaded {
                        result,
                        loader_calls: 1,
                    }
                }
            }
            Op::Invalidate(key) => Outcome::Removed(cache.invalidate(&key, now)),
            Op::InvalidateValue(key, value) => {
                Outcome::Removed(cache.invalidate_value(&key, &value, now))
            }
            Op::InvalidateAll => {
                cache.invalidate_all(now);
                Outcome::Nothing
            }
            Op::InvalidateMatching(mask) => {
                Outcome::RemovedCount(cache.invalidate_matching(now, |k| (mask >> *k) & 1 == 1))
            }
            Op::Refresh => {
                cache.refresh(now);
                Outcome::Nothing
            }
            Op::GetOrPut { key, weight } => {
                let mut made = 0;
                let next = &mut self.next_made_value;
                let mut make = || {
                    made += 1;
                    let v = *next;
                    *next += 1;
                    v
                };
                let hit = match weight {
                    None => cache.get_or_put_with(key, now, make),
                    Some(w) => cache.get_or_put_weighted(key, now, || (make(), w)),
                };
                Outcome::GetOrPut { hit, made }
            }
            Op::Replay {
                keys,
                offset,
                interval,
            } => {
                let start = now + offset;
                let n = keys.len();
                let mut made = 0;
                let next = &mut self.next_made_value;
                let stats = cache.replay(keys, start, interval, || {
                    made += 1;
                    let v = *next;
                    *next += 1;
                    v
                });
                self.now = clock_after_replay(now, start, n, interval);
                Outcome::Replayed { stats, made }
            }
            Op::Advance(tick) => {
                self.now += tick.nanos(settings);
                Outcome::Nothing
            }
        }
    }
}

impl StateMachineTest for CacheMachine {
    type SystemUnderTest = Sut;
    type Reference = CacheMachine;

    fn init_test(model: &Model) -> Sut {
        let s = &model.settings;
        let mut builder = CacheBuilder::new()
            .weigher(ModWeigher)
            .removal_listener(CollectingListener::default());
        if let Some(max) = s.max_weight {
            builder = builder.maximum_weight(i64::try_from(max).unwrap());
        }
        if let Some(ttl) = s.expire_after_access {
            builder = builder.expire_after_access_nanos(i64::try_from(ttl).unwrap());
        }
        if let Some(ttl) = s.expire_after_write {
            builder = builder.expire_after_write_nanos(i64::try_from(ttl).unwrap());
        }
        let cache: Engine = builder.build().expect("valid settings");
        assert_eq!(cache.maximum_weight(), s.max_weight);
        assert_eq!(cache.expire_after_access(), s.expire_after_access);
        assert_eq!(cache.expire_after_write(), s.expire_after_write);
        Sut {
            cache,
            now: s.start,
            next_made_value: FIRST_MADE_VALUE,
        }
    }

    fn apply(mut sut: Sut, model: &Model, op: Op) -> Sut {
        let described = format!("{op:?}");
        let outcome = sut.run(op, &model.settings);
        assert_eq!(outcome, model.last, "result of {described}");
        let notes: Vec<Note> = sut.cache.listener_mut().notifications.drain(..).collect();
        assert_eq!(notes, model.notes, "notifications fired by {described}");
        assert_eq!(sut.now, model.now, "clock after {described}");
        sut
    }

    fn check_invariants(sut: &Sut, model: &Model) {
        let cache = &sut.cache;
        let listed: Vec<(K, V)> = cache.iter().map(|(k, v)| (*k, *v)).collect();
        let expected: Vec<(K, V)> = model.entries.iter().map(|e| (e.key, e.value)).collect();
        assert_eq!(listed, expected, "entries, most recently used first");
        let keys: Vec<K> = cache.keys().copied().collect();
        let expected_keys: Vec<K> = model.entries.iter().map(|e| e.key).collect();
        assert_eq!(keys, expected_keys, "keys(), most recently used first");
        assert_eq!(
            cache.iter().size_hint(),
            (expected.len(), Some(expected.len()))
        );
        assert_eq!(cache.count(), model.entries.len(), "count");
        assert_eq!(cache.weight(), model.total_weight(), "weight");
        assert_eq!(
            cache.stats(),
            CacheStats {
                hits: model.hits,
                misses: model.misses,
                evictions: model.evictions,
            },
            "stats"
        );
        for key in 0..KEYS {
            let e = model.entries.iter().find(|e| e.key == key);
            assert_eq!(cache.contains_key(&key), e.is_some(), "contains_key({key})");
            assert_eq!(cache.peek(&key), e.map(|e| &e.value), "peek({key})");
            assert_eq!(
                cache.entry_times(&key),
                e.map(|e| (e.write_time, e.access_time)),
                "(write, access) times of {key}"
            );
        }
        assert!(
            cache.listener().notifications.is_empty(),
            "every notification was compared"
        );
    }
}

prop_state_machine! {
    #![proptest_config(Config {
        // `Config::default()` reads PROPTEST_CASES (default 256).
        max_shrink_iters: 4096,
        .. Config::default()
    })]

    #[test]
    fn engine_matches_naive_model(sequential 1..60 => CacheMachine);
}

/// The model itself, on a hand-checked sequence: if the model were wrong in the same way as the
/// engine, the state-machine test could not tell. This pins a few of its answers independently.
#[test]
fn model_sanity() {
    let mut m = Model::new(Settings {
        max_weight: Some(2),
        expire_after_access: Some(10),
        expire_after_write: None,
        start: 0,
    });
    m.put(1, 10, 1);
    m.put(2, 20, 1);
    assert_eq!(m.get(1), Some(10));
    m.put(3, 30, 1); // over weight: the tail (2) goes
    assert_eq!(
        m.entries.iter().map(|e| e.key).collect::<Vec<_>>(),
        vec![3, 1]
    );
    assert_eq!(m.evictions, 1);
    assert_eq!(m.notes.len(), 1);
    assert_eq!(m.notes[0].0.key, 2);
    assert_eq!(m.notes[0].1.count, 2);
    m.notes.clear();
    m.now = 11; // 11 - 0 > 10: key 1 (accessed at 0) and key 3 (written at 0) are expired
    assert_eq!(m.get(3), None);
    assert_eq!(m.entries.len(), 2, "an expired get does not remove");
    m.put(3, 31, 1);
    // put links 3 at head, unlinks old 3, prunes the expired tail 1, then reports REPLACED.
    let reasons: Vec<_> = m.notes.iter().map(|(n, _)| (n.key, n.reason)).collect();
    assert_eq!(
        reasons,
        vec![(1, RemovalReason::Evicted), (3, RemovalReason::Replaced)]
    );
    assert_eq!(m.evictions, 2);
    assert_eq!((m.hits, m.misses), (1, 1));
}
