//! Microbenchmarks of the simulator's hot path (`cargo bench --bench simulator`), and the whole
//! simulation of `benches/simulate.py` (3 nodes, 100,000 API keys, Zipf 1.0, trace off).
//!
//! `ESCACHE_SIM_ONCE=<virtual seconds>` runs the whole simulation once instead (optionally
//! `ESCACHE_SIM_NODES=30 ESCACHE_SIM_RATE=3333.3`: the day of Fleet's shape), printing its wall
//! time; under `valgrind --tool=callgrind --collect-atstart=no --toggle-collect='simulator::timed_run'`
//! it gives an instruction count, which does not move with the machine's load;
//! `ESCACHE_SIM_WARM=<virtual seconds>` runs that long first, uncounted.

use escache::cluster::{Cluster, ClusterConfig};
use escache::events::{CacheId, EventLog};
use escache::sim::{NodeChoice, Popularity, Simulation, WorkloadKind, WorkloadSpec};
use escache::time::NANOS_PER_SECOND;

fn main() {
    if let Some(secs) = std::env::var("ESCACHE_SIM_ONCE")
        .ok()
        .and_then(|s| s.parse::<u64>().ok())
    {
        let env = |name: &str, default: f64| {
            std::env::var(name)
                .ok()
                .and_then(|s| s.parse::<f64>().ok())
                .unwrap_or(default)
        };
        let nodes = env("ESCACHE_SIM_NODES", 3.0) as usize;
        let (mut c, mut sim) = fleet(nodes, 100_000, env("ESCACHE_SIM_RATE", 50_000.0));
        // `ESCACHE_SIM_WARM=<virtual seconds>` first, outside `timed_run`: the steady state only.
        let warm = env("ESCACHE_SIM_WARM", 0.0) as u64;
        let warmed = warm_up(&mut c, &mut sim, warm * NANOS_PER_SECOND);
        let started = std::time::Instant::now();
        let requests = timed_run(&mut c, &mut sim, secs * NANOS_PER_SECOND) - warmed;
        let wall = started.elapsed().as_secs_f64();
        println!(
            "{requests} requests in {secs} virtual s on {nodes} nodes: {wall:.2} s of wall time, {:.3} M/s",
            requests as f64 / wall / 1e6
        );
        for cache in [
            CacheId::ApiKeyAuth,
            CacheId::ApiKeyDoc,
            CacheId::ApiKeyRoleDescriptors,
        ] {
            if let Some(s) = c.cache_stats(0, cache) {
                println!(
                    "node-0 {}: {} hits, {} misses, {} evictions",
                    cache.name(),
                    s.hits,
                    s.misses,
                    s.evictions
                );
            }
        }
        return;
    }
    divan::main();
}

/// A cluster of `nodes` with `keys` API keys (created, untimed) and a Zipf(1.0) workload at `rate`
/// requests per virtual second over random nodes, trace off: `benches/simulate.py`'s case.
fn fleet(nodes: usize, keys: usize, rate: f64) -> (Cluster, Simulation) {
    let mut config = ClusterConfig::new(nodes);
    config.seed = 0;
    // ok: a fixed, valid configuration.
    let mut c = Cluster::new(config).expect("cluster");
    c.events.set_enabled(false);
    let mut sim = Simulation::new(&c, 0);
    sim.add_workload(
        &c,
        WorkloadSpec {
            name: "keys".into(),
            kind: WorkloadKind::ApiKey {
                creator_node: 0,
                expiration: None,
            },
            population: keys,
            rate,
            popularity: Popularity::Zipf { s: 1.0 },
            node_choice: NodeChoice::Random,
            wrong_secret_share: 0.0,
            create_over: 0,
            start: 0,
            stop: None,
            client: None,
        },
    )
    .expect("workload");
    sim.run_until(&mut c, 0);
    (c, sim)
}

/// [`run_for`] outside [`timed_run`], which callgrind does not collect.
#[inline(never)]
fn warm_up(c: &mut Cluster, sim: &mut Simulation, nanos: u64) -> u64 {
    run_for(c, sim, nanos)
}

/// [`run_for`], the function callgrind collects. `black_box` keeps its code different from
/// [`warm_up`]'s, which the linker would otherwise fold into one function (callgrind then collected
/// nothing).
#[inline(never)]
fn timed_run(c: &mut Cluster, sim: &mut Simulation, nanos: u64) -> u64 {
    std::hint::black_box(run_for(c, sim, std::hint::black_box(nanos)))
}

/// Runs the simulation `nanos` further; returns the requests made so far.
fn run_for(c: &mut Cluster, sim: &mut Simulation, nanos: u64) -> u64 {
    let until = c.now() + nanos;
    sim.run_until(c, until);
    sim.metrics.requests.iter().sum()
}

/// One event through the simulation's queue (push, then pop the earliest), with the queue holding
/// what a 3-node run holds (an arrival, a sample, a few verifications).
#[divan::bench]
fn event_queue(bencher: divan::Bencher) {
    let (mut c, mut sim) = fleet(3, 1_000, 50_000.0);
    timed_run(&mut c, &mut sim, NANOS_PER_SECOND);
    let mut at = c.now();
    bencher.bench_local(|| {
        at += 20_000;
        sim.bench_queue_cycle(divan::black_box(at))
    });
}

/// The credential of a request: a Zipf(1.0) draw over 100,000 keys.
#[divan::bench]
fn zipf_sample(bencher: divan::Bencher) {
    let (_c, mut sim) = fleet(1, 100_000, 50_000.0);
    bencher.bench_local(|| sim.bench_pick_credential(0));
}

/// The node of a request: a uniform draw over 30 nodes.
#[divan::bench]
fn node_choice(bencher: divan::Bencher) {
    let (c, mut sim) = fleet(30, 100, 50_000.0);
    bencher.bench_local(|| sim.bench_pick_node(&c, 0, divan::black_box(7)));
}

/// One authentication appended to the trace (the key already interned, as it is after its first
/// request).
#[divan::bench]
fn trace_append(bencher: divan::Bencher) {
    let mut log = EventLog::new(true);
    let keys: Vec<String> = (0..1_000).map(|i| format!("key-{i:016}")).collect();
    let mut i = 0usize;
    bencher.bench_local(|| {
        i += 1;
        log.bench_record(i as u64 * 1_000, (i % 3) as u16, &keys[i % keys.len()]);
    });
}

/// One event of the 3-node, 100,000-key run (trace off) after a warm-up second: mostly an arrival
/// (draws, the node's doc, role-descriptor and auth cache lookups, the memoised secret check, the
/// outcome and its metrics), sometimes a verification finishing in the crypto pool.
#[divan::bench(sample_count = 200, sample_size = 100)]
fn authenticate_hot_path(bencher: divan::Bencher) {
    let (mut c, mut sim) = fleet(3, 100_000, 50_000.0);
    timed_run(&mut c, &mut sim, NANOS_PER_SECOND);
    bencher.bench_local(|| sim.run_slice(&mut c, u64::MAX, 1));
}

/// One virtual second of the 3-node case after a warm-up second: 50,000 authentications.
#[divan::bench(sample_count = 5, sample_size = 1)]
fn simulate_3_nodes_100k_keys_1s(bencher: divan::Bencher) {
    bencher
        .with_inputs(|| {
            let (mut c, mut sim) = fleet(3, 100_000, 50_000.0);
            timed_run(&mut c, &mut sim, NANOS_PER_SECOND);
            (c, sim)
        })
        // The cluster is handed back, so that dropping it is not timed.
        .bench_local_values(|(mut c, mut sim)| {
            timed_run(&mut c, &mut sim, NANOS_PER_SECOND);
            (c, sim)
        });
}

/// The floor: per authentication, only the memory work no faithful simulator of the 3-node,
/// 100,000-key case can skip, done with the fastest plain structures: a Zipf(1.0) draw (an alias
/// table and `SplitMix64`, the cheapest 64-bit generator), a uniform node draw, the arrival's push and
/// pop in a binary heap, and on the chosen node the doc cache's and the auth cache's hash lookups
/// (`hashbrown`, `u32` keys) with the LRU promotion of a hit, or the insertion and tail eviction of
/// a miss (each cache 25,000 entries: `cache.max_keys`'s default). No secret check, expiry, trace,
/// metrics, role-descriptor cache or outcome: its median is a lower bound, not a simulator.
#[divan::bench(sample_count = 200, sample_size = 1000)]
fn floor_authentication(bencher: divan::Bencher) {
    let mut f = floor::Floor::new(3, 100_000, 25_000);
    for _ in 0..500_000 {
        f.authenticate();
    }
    bencher.bench_local(|| f.authenticate());
}

/// [`floor_authentication`]'s structures.
mod floor {
    use std::cmp::Reverse;
    use std::collections::BinaryHeap;

    /// `SplitMix64`.
    struct Rng(u64);

    impl Rng {
        #[inline]
        fn next(&mut self) -> u64 {
            self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
            let mut z = self.0;
            z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
            z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
            z ^ (z >> 31)
        }

        /// Uniform in `0..n` (Lemire's multiply-shift).
        #[inline]
        fn below(&mut self, n: u32) -> u32 {
            ((u128::from(self.next() as u32) * u128::from(n)) >> 32) as u32
        }
    }

    /// Walker's alias table of Zipf(`s`) over `n` ranks (Vose's construction), `u32` thresholds.
    struct Alias {
        keep: Vec<u32>,
        alias: Vec<u32>,
    }

    impl Alias {
        fn zipf(n: usize, s: f64) -> Alias {
            let w: Vec<f64> = (1..=n).map(|k| (k as f64).powf(-s)).collect();
            let total: f64 = w.iter().sum();
            let mut p: Vec<f64> = w.iter().map(|x| x * n as f64 / total).collect();
            let mut keep = vec![u32::MAX; n];
            let mut alias: Vec<u32> = (0..n as u32).collect();
            let (mut small, mut large): (Vec<usize>, Vec<usize>) =
                (0..n).partition(|&i| p[i] < 1.0);
            while let (Some(l), Some(&g)) = (small.pop(), large.last()) {
                keep[l] = (p[l] * f64::from(u32::MAX)) as u32;
                alias[l] = g as u32;
                p[g] -= 1.0 - p[l];
                if p[g] < 1.0 {
                    large.pop();
                    small.push(g);
                }
            }
            Alias { keep, alias }
        }

        #[inline]
        fn sample(&self, rng: &mut Rng) -> u32 {
            let r = rng.next();
            let col = ((u128::from(r >> 32) * self.keep.len() as u128) >> 32) as usize;
            if (r as u32) < self.keep[col] {
                col as u32
            } else {
                self.alias[col]
            }
        }
    }

    const NIL: u32 = u32::MAX;

    /// An exact LRU of `u32` keys: a `hashbrown` table to slots, the recency list in two `Vec`s.
    struct Lru {
        map: hashbrown::HashMap<u32, u32>,
        keys: Vec<u32>,
        prev: Vec<u32>,
        next: Vec<u32>,
        head: u32,
        tail: u32,
        cap: usize,
    }

    impl Lru {
        fn new(cap: usize) -> Lru {
            Lru {
                map: hashbrown::HashMap::with_capacity(cap),
                keys: Vec::with_capacity(cap),
                prev: Vec::with_capacity(cap),
                next: Vec::with_capacity(cap),
                head: NIL,
                tail: NIL,
                cap,
            }
        }

        #[inline]
        fn unlink(&mut self, s: u32) {
            let (p, n) = (self.prev[s as usize], self.next[s as usize]);
            if p == NIL {
                self.head = n;
            } else {
                self.next[p as usize] = n;
            }
            if n == NIL {
                self.tail = p;
            } else {
                self.prev[n as usize] = p;
            }
        }

        #[inline]
        fn push_front(&mut self, s: u32) {
            self.prev[s as usize] = NIL;
            self.next[s as usize] = self.head;
            if self.head != NIL {
                self.prev[self.head as usize] = s;
            }
            self.head = s;
            if self.tail == NIL {
                self.tail = s;
            }
        }

        /// A hit promotes; a miss inserts (evicting the tail when full). Returns whether it hit.
        #[inline]
        fn access(&mut self, key: u32) -> bool {
            if let Some(&s) = self.map.get(&key) {
                if self.head != s {
                    self.unlink(s);
                    self.push_front(s);
                }
                return true;
            }
            let s = if self.keys.len() < self.cap {
                self.keys.push(key);
                self.prev.push(NIL);
                self.next.push(NIL);
                (self.keys.len() - 1) as u32
            } else {
                let s = self.tail;
                self.unlink(s);
                self.map.remove(&self.keys[s as usize]);
                self.keys[s as usize] = key;
                s
            };
            self.map.insert(key, s);
            self.push_front(s);
            false
        }
    }

    pub(super) struct Floor {
        rng: Rng,
        zipf: Alias,
        queue: BinaryHeap<Reverse<(u64, u32)>>,
        now: u64,
        /// Per node: the doc cache and the auth cache.
        nodes: Vec<(Lru, Lru)>,
    }

    impl Floor {
        pub(super) fn new(nodes: usize, keys: usize, cap: usize) -> Floor {
            let mut queue = BinaryHeap::new();
            // What a run's queue holds besides the arrival: a sample, a few verifications.
            for i in 0..4u32 {
                queue.push(Reverse((u64::MAX / 2 + u64::from(i), i)));
            }
            queue.push(Reverse((0, 0)));
            Floor {
                rng: Rng(0),
                zipf: Alias::zipf(keys, 1.0),
                queue,
                now: 0,
                nodes: (0..nodes).map(|_| (Lru::new(cap), Lru::new(cap))).collect(),
            }
        }

        /// One authentication: the arrival popped and the next one pushed, the draws, the lookups.
        #[inline(never)]
        pub(super) fn authenticate(&mut self) -> bool {
            let Some(Reverse((at, w))) = self.queue.pop() else {
                return false;
            };
            self.now = at;
            let gap = 1 + (self.rng.next() & 0x7FFF);
            self.queue.push(Reverse((at + gap, w)));
            let key = self.zipf.sample(&mut self.rng);
            let node = self.rng.below(self.nodes.len() as u32) as usize;
            let (docs, auth) = &mut self.nodes[node];
            docs.access(key) & auth.access(key)
        }
    }
}
