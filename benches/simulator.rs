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

/// [`run_for`], the function callgrind collects.
#[inline(never)]
fn timed_run(c: &mut Cluster, sim: &mut Simulation, nanos: u64) -> u64 {
    run_for(c, sim, nanos)
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
