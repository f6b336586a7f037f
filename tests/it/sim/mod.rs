//! The simulator core (`escache::sim`): determinism over a seed, conservation of requests, the cost
//! model's charging of virtual CPU, the `security-crypto` pool's 429 rule, and the validation of
//! workload and action descriptions.
//!
//! Expected figures are derived by hand from the rules: the cost model's defaults (65 ms per PBKDF2
//! verification of 10,000 iterations, 6.5 ms per 1,000), the pool's capacity (threads + queue; the
//! next submission is rejected, R3.4 / PR #58090), and "every request ends in exactly one outcome".

mod clients;
mod conservation;
mod cost_model;
mod descriptions;
mod determinism;
mod explain;
mod issue8;
mod scenario_format;
mod slices;
mod timeline_columns;

use escache::cluster::{Cluster, ClusterConfig};
use escache::events::{EventKind, NodeIndex};
use escache::security::hashing::Hasher;
use escache::security::index::IndexHealth;
use escache::security::settings::SecuritySettings;
use escache::sim::{
    report, spec, Action, AuthorizationHeader, CostModel, NodeChoice, Outcome, Popularity,
    Selection, Simulation, TokenSourceSpec, WorkloadKind, WorkloadSpec, MAX_RATE,
};
use escache::time::{NANOS_PER_MILLI, NANOS_PER_SECOND};
use serde_json::json;
use std::collections::BTreeSet;

const S: u64 = NANOS_PER_SECOND;
const MS: u64 = NANOS_PER_MILLI;

fn cluster(nodes: usize, seed: u64, settings: &[(&str, &str)]) -> Cluster {
    let mut config = ClusterConfig::new(nodes);
    config.seed = seed;
    config.settings = SecuritySettings::from_pairs(settings.iter().copied()).unwrap();
    Cluster::new(config).unwrap()
}

fn api_keys(name: &str, population: usize, rate: f64) -> WorkloadSpec {
    WorkloadSpec {
        name: name.into(),
        kind: WorkloadKind::ApiKey {
            creator_node: 0,
            expiration: None,
        },
        population,
        rate,
        popularity: Popularity::Uniform,
        node_choice: NodeChoice::RoundRobin,
        wrong_secret_share: 0.0,
        create_over: 0,
        start: 0,
        stop: None,
        client: None,
    }
}

/// FNV-1a over every field of every event: equal traces give equal digests.
fn trace_digest(c: &Cluster) -> (usize, u64) {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    let mut eat = |bytes: &[u8]| {
        for b in bytes {
            h ^= u64::from(*b);
            h = h.wrapping_mul(0x0100_0000_01b3);
        }
        h ^= 0xff;
        h = h.wrapping_mul(0x0100_0000_01b3);
    };
    for e in c.events.iter() {
        eat(&e.time.to_le_bytes());
        eat(&e.node.to_le_bytes());
        eat(e.kind.name().as_bytes());
        eat(e.cache.name().as_bytes());
        eat(e.key.as_bytes());
        eat(e.detail.as_bytes());
    }
    (c.events.len(), h)
}

fn count(c: &Cluster, kind: EventKind, node: Option<NodeIndex>) -> u64 {
    c.events
        .iter()
        .filter(|e| e.kind == kind && node.is_none_or(|n| e.node == n))
        .count() as u64
}

const SUCCESS: usize = 0;
const UNAUTHORIZED: usize = 1;
const TOO_BUSY: usize = 2;
const UNAVAILABLE: usize = 3;

// ---- shared scenarios ----------------------------------------------------------------------------

/// `busy_scenario_unrun`, run for 40 s.
fn busy_scenario(cluster_seed: u64, sim_seed: u64) -> (Cluster, Simulation) {
    let (mut c, mut sim) = busy_scenario_unrun(cluster_seed, sim_seed);
    sim.run_until(&mut c, 40 * S);
    (c, sim)
}

/// A scenario touching every moving part: API keys (Zipf, wrong secrets), index service tokens, a
/// dropped broadcast, an invalidation, the security index going red and back, a node stop/start.
fn busy_scenario_unrun(cluster_seed: u64, sim_seed: u64) -> (Cluster, Simulation) {
    let c = cluster(3, cluster_seed, &[]);
    let mut sim = Simulation::new(&c, sim_seed);
    let mut keys = api_keys("keys", 300, 150.0);
    keys.popularity = Popularity::Zipf { s: 1.0 };
    keys.node_choice = NodeChoice::Random;
    keys.wrong_secret_share = 0.05;
    sim.add_workload(&c, keys).unwrap();
    let tokens = WorkloadSpec {
        name: "tokens".into(),
        kind: WorkloadKind::ServiceToken {
            account: "elastic/fleet-server".into(),
            source: TokenSourceSpec::Index,
        },
        population: 3,
        rate: 20.0,
        popularity: Popularity::Uniform,
        node_choice: NodeChoice::Sticky,
        wrong_secret_share: 0.0,
        create_over: 0,
        start: 0,
        stop: None,
        client: None,
    };
    sim.add_workload(&c, tokens).unwrap();
    for (at, a) in [
        (10 * S, Action::DropClearCache(vec![2])),
        (
            15 * S,
            Action::InvalidateApiKeys {
                workload: 0,
                selection: Selection::Top(5),
                node: 0,
            },
        ),
        (20 * S, Action::IndexHealth(IndexHealth::Red)),
        (25 * S, Action::IndexHealth(IndexHealth::Green)),
        (27 * S, Action::StopNode(1)),
        (29 * S, Action::StartNode(1)),
    ] {
        sim.schedule(at, None, a).unwrap();
    }
    (c, sim)
}

/// Requests that can end every way: a wrong secret (401), a small pool (429), a stopped node
/// (unavailable), pending verifications (in flight).
fn conservation_scenario() -> (Cluster, Simulation) {
    let c = cluster(
        2,
        1,
        &[
            (
                "xpack.security.authc.api_key.hashing.algorithm",
                "pbkdf2_1000",
            ),
            ("xpack.security.crypto.thread_pool.size", "1"),
            ("xpack.security.crypto.thread_pool.queue_size", "5"),
        ],
    );
    let mut sim = Simulation::new(&c, 9);
    // 50 ms per verification: one thread drains 20 a second, less than the first uses arriving.
    sim.cost = CostModel {
        pbkdf2_per_1000_iterations: 50 * MS,
        ..CostModel::default()
    };
    let mut a = api_keys("a", 60, 80.0);
    a.wrong_secret_share = 0.2;
    a.stop = Some(8 * S);
    sim.add_workload(&c, a).unwrap();
    let mut b = api_keys("b", 40, 40.0);
    b.node_choice = NodeChoice::Weighted(vec![0.0, 1.0]);
    b.start = S;
    b.stop = Some(8 * S);
    sim.add_workload(&c, b).unwrap();
    sim.schedule(3 * S, None, Action::StopNode(1)).unwrap();
    sim.schedule(4 * S, None, Action::StartNode(1)).unwrap();
    sim.schedule(
        5 * S,
        None,
        Action::ClearCache {
            cache: "api_key".into(),
            keys: vec![],
            node: 0,
        },
    )
    .unwrap();
    (c, sim)
}
