//! The state machines: the reference machine and its strategies, the engine under test, and the
//! property test that runs them against each other.

use super::*;

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
