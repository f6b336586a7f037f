//! The simulator core (`escache::sim`): determinism over a seed, conservation of requests, the cost
//! model's charging of virtual CPU, the `security-crypto` pool's 429 rule, and the validation of
//! workload and action descriptions.
//!
//! Expected figures are derived by hand from the rules: the cost model's defaults (65 ms per PBKDF2
//! verification of 10,000 iterations, 6.5 ms per 1,000), the pool's capacity (threads + queue; the
//! next submission is rejected, R3.4 / PR #58090), and "every request ends in exactly one outcome".

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

#[test]
fn outcome_order_is_the_reports() {
    // The indices used below follow Outcome::ALL.
    assert_eq!(Outcome::ALL[SUCCESS], Outcome::Success);
    assert_eq!(Outcome::ALL[UNAUTHORIZED], Outcome::Unauthorized);
    assert_eq!(Outcome::ALL[TOO_BUSY], Outcome::TooBusy);
    assert_eq!(Outcome::ALL[UNAVAILABLE], Outcome::Unavailable);
}

// ---- determinism ---------------------------------------------------------------------------------

/// `busy_scenario_unrun`, run for 40 s.
fn busy_scenario(cluster_seed: u64, sim_seed: u64) -> (Cluster, Simulation) {
    let (mut c, mut sim) = busy_scenario_unrun(cluster_seed, sim_seed);
    sim.run_until(&mut c, 40 * S);
    (c, sim)
}

#[test]
fn the_same_seeds_give_the_same_trace_and_report() {
    let (c1, s1) = busy_scenario(11, 5);
    let (c2, s2) = busy_scenario(11, 5);
    let d1 = trace_digest(&c1);
    assert!(d1.0 > 10_000, "a busy trace: {} events", d1.0);
    assert_eq!(d1, trace_digest(&c2));
    assert_eq!(
        report::report(&s1, &c1).to_string(),
        report::report(&s2, &c2).to_string()
    );
    assert_eq!(
        report::timeline(&s1, &c1).to_string(),
        report::timeline(&s2, &c2).to_string()
    );
    assert!(s1.action_errors.is_empty(), "{:?}", s1.action_errors);
}

#[test]
fn another_seed_gives_another_trace() {
    let (c1, s1) = busy_scenario(11, 5);
    // Another simulation seed: other arrival times and credential choices.
    let (c2, s2) = busy_scenario(11, 6);
    assert_ne!(trace_digest(&c1), trace_digest(&c2));
    assert_ne!(
        report::report(&s1, &c1)["requests"],
        report::report(&s2, &c2)["requests"]
    );
    // Another cluster seed: other key ids.
    let (c3, s3) = busy_scenario(12, 5);
    assert_ne!(s1.credential_ids(0), s3.credential_ids(0));
    assert_ne!(trace_digest(&c1), trace_digest(&c3));
}

#[test]
fn running_in_slices_is_running_at_once() {
    let (c1, s1) = busy_scenario(3, 3);
    // The same scenario, stopped every 1.5 s (as a progress bar does).
    let (mut c2, mut s2) = busy_scenario_unrun(3, 3);
    let mut t = 0;
    while t < 40 * S {
        t = (t + 1_500 * MS).min(40 * S);
        s2.run_until(&mut c2, t);
    }
    assert_eq!(trace_digest(&c1), trace_digest(&c2));
    assert_eq!(
        report::report(&s1, &c1).to_string(),
        report::report(&s2, &c2).to_string()
    );
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

// ---- conservation --------------------------------------------------------------------------------

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

fn check_conservation(c: &Cluster, sim: &Simulation) {
    let m = &sim.metrics;
    let requests: u64 = m.requests.iter().sum();
    let finished: u64 = m.total_outcomes().iter().sum();
    assert_eq!(requests, finished + sim.in_flight() as u64);
    // Per workload: each has its own unfinished share, and those add up to the in-flight total.
    let mut unfinished = 0;
    for (w, outcomes) in m.workload_outcomes.iter().enumerate() {
        let done: u64 = outcomes.iter().sum();
        assert!(m.requests[w] >= done);
        unfinished += m.requests[w] - done;
    }
    assert_eq!(unfinished, sim.in_flight() as u64);
    // Per outcome: the workloads' counts add up to the nodes' counts.
    for o in 0..4 {
        let by_workload: u64 = m.workload_outcomes.iter().map(|x| x[o]).sum();
        let by_node: u64 = m.nodes.iter().map(|n| n.outcomes[o]).sum();
        assert_eq!(by_workload, by_node, "outcome {}", Outcome::ALL[o].name());
    }
    // Every finished request left exactly one authentication event on its node.
    for (i, n) in m.nodes.iter().enumerate() {
        let i = i as NodeIndex;
        assert_eq!(
            n.outcomes[SUCCESS],
            count(c, EventKind::AuthSuccess, Some(i))
        );
        assert_eq!(
            n.outcomes[UNAUTHORIZED],
            count(c, EventKind::AuthFailure, Some(i))
        );
        assert_eq!(
            n.outcomes[TOO_BUSY],
            count(c, EventKind::AuthRejected, Some(i))
        );
    }
    // The latency histogram saw each finished request once.
    assert_eq!(m.latency.count(), finished);
}

#[test]
fn every_request_ends_in_exactly_one_outcome() {
    let (mut c, mut sim) = conservation_scenario();
    // Stop every 10 ms for 6 s: the books balance whenever we look, also while verifications are
    // pending (requests in flight).
    let mut seen_in_flight = 0;
    for step in 1..=600 {
        sim.run_until(&mut c, step * 10 * MS);
        check_conservation(&c, &sim);
        seen_in_flight = seen_in_flight.max(sim.in_flight());
    }
    assert!(
        seen_in_flight > 0,
        "some looks caught verifications pending"
    );
    check_conservation(&c, &sim);
    // After the traffic stops and the pools drain, nothing is left in flight.
    sim.run_until(&mut c, 30 * S);
    check_conservation(&c, &sim);
    assert_eq!(sim.in_flight(), 0);
    let t = sim.metrics.total_outcomes();
    assert!(t[SUCCESS] > 0, "{t:?}");
    assert!(t[UNAUTHORIZED] > 0, "wrong secrets give 401: {t:?}");
    assert!(t[TOO_BUSY] > 0, "a pool of 1 + 5 overflows: {t:?}");
    assert!(t[UNAVAILABLE] > 0, "node-1 was stopped for 1 s: {t:?}");
    assert!(sim.action_errors.is_empty(), "{:?}", sim.action_errors);
}

// ---- the cost model ------------------------------------------------------------------------------

#[test]
fn default_costs_are_elasticsearchs_measurements() {
    let m = CostModel::default();
    assert_eq!(m.verification(Hasher::pbkdf2(10_000).unwrap()), 65 * MS);
    assert_eq!(
        m.verification(Hasher::pbkdf2_stretch(10_000).unwrap()),
        65 * MS
    );
    assert_eq!(m.verification(Hasher::pbkdf2(1_000).unwrap()), 6_500_000);
    assert_eq!(m.verification(Hasher::Ssha256), 2_000);
}

#[test]
fn hashing_cpu_is_verifications_times_the_cost_of_the_algorithm() {
    let (mut c, mut sim) = conservation_scenario();
    sim.run_until(&mut c, 30 * S);
    let per = 50 * MS; // pbkdf2_1000: 1,000 iterations at the scenario's 50 ms per 1,000
    let mut total = 0;
    for (i, n) in sim.metrics.nodes.iter().enumerate() {
        assert!(n.verifications > 0);
        assert_eq!(n.hashing_cpu, n.verifications * per, "node {i}");
        total += n.verifications;
    }
    // Every started verification of a running node completed and left its event, naming the
    // algorithm; the verifications abandoned by node-1's stop were charged but never completed.
    let events: Vec<_> = c
        .events
        .iter()
        .filter(|e| e.kind == EventKind::HashVerification)
        .map(|e| e.detail.to_string())
        .collect();
    assert!(
        events.iter().all(|d| d == "pbkdf2_1000"),
        "{:?}",
        &events[..3]
    );
    assert!(events.len() as u64 <= total);
    let r = report::report(&sim, &c);
    let cpu = r["hashing_cpu_seconds"].as_f64().unwrap();
    assert!((cpu - (total * per) as f64 / 1e9).abs() < 1e-9);
}

/// Two nodes; node-0 creates the keys (and so has them pre-warmed, R3.8); the traffic goes to node-1.
fn node1_only(
    settings: &[(&str, &str)],
    population: usize,
    rate: f64,
    seed: u64,
) -> (Cluster, Simulation) {
    let c = cluster(2, 4, settings);
    let mut sim = Simulation::new(&c, seed);
    let mut w = api_keys("w", population, rate);
    w.node_choice = NodeChoice::Weighted(vec![0.0, 1.0]);
    sim.add_workload(&c, w).unwrap();
    (c, sim)
}

#[test]
fn an_overridden_cost_is_charged_and_is_the_latency_of_a_first_use() {
    let (mut c, mut sim) = node1_only(
        &[(
            "xpack.security.authc.api_key.hashing.algorithm",
            "pbkdf2_1000",
        )],
        1,
        2.0,
        1,
    );
    sim.cost = spec::cost_model(&json!({"pbkdf2_per_1000_iterations": "100ms"})).unwrap();
    sim.run_until(&mut c, 20 * S);
    let n1 = &sim.metrics.nodes[1];
    // One key, one node: one verification (the auth cache then holds it for 24 h).
    assert_eq!(n1.verifications, 1);
    assert_eq!(n1.hashing_cpu, 100 * MS);
    assert_eq!(sim.metrics.nodes[0].verifications, 0);
    // The first request waited for the verification on an idle pool: exactly the cost.
    assert_eq!(sim.metrics.latency.max(), 100 * MS);
    assert!(n1.outcomes[SUCCESS] > 10);
}

#[test]
fn a_single_thread_serialises_verifications() {
    // One thread (node.processors 2 -> 1), 65 ms per pbkdf2 verification: n distinct first uses
    // arriving together are done one after the other, so the slowest waits about n x 65 ms.
    let (mut c, mut sim) = node1_only(
        &[(
            "xpack.security.authc.api_key.hashing.algorithm",
            "pbkdf2_1000",
        )],
        20,
        2000.0,
        2,
    );
    sim.cost = CostModel {
        pbkdf2_per_1000_iterations: 65 * MS,
        ..CostModel::default()
    };
    sim.run_until(&mut c, 200 * MS);
    sim.run_until(&mut c, 5 * S);
    let n1 = &sim.metrics.nodes[1];
    assert_eq!(n1.verifications, 20);
    assert_eq!(n1.hashing_cpu, 20 * 65 * MS);
    let max = sim.metrics.latency.max();
    // The 20th distinct key arrived within the first ~0.1 s and waited for up to 20 verifications.
    assert!(max <= 20 * 65 * MS, "{max}");
    assert!(max >= 19 * 65 * MS - 200 * MS, "{max}");
}

#[test]
fn a_full_pool_answers_429_only_past_threads_plus_queue() {
    // Threads 1, queue 3: four verifications fit. A cost of an hour keeps them all in the pool, so
    // the first four distinct keys are admitted (their later requests join the pending futures, AK-S4)
    // and every request for any other key is rejected (R3.4: 429, and the failed future removed).
    let settings = [
        (
            "xpack.security.authc.api_key.hashing.algorithm",
            "pbkdf2_1000",
        ),
        ("xpack.security.crypto.thread_pool.size", "1"),
        ("xpack.security.crypto.thread_pool.queue_size", "3"),
    ];
    let (mut c, mut sim) = node1_only(&settings, 10, 100.0, 3);
    sim.cost = spec::cost_model(&json!({"pbkdf2_per_1000_iterations": 3600})).unwrap();
    sim.run_until(&mut c, 3 * S);
    let n1 = &sim.metrics.nodes[1];
    assert_eq!(n1.verifications, 1, "one thread, busy for an hour");
    assert_eq!(n1.max_queue_depth, 3);
    assert_eq!(n1.outcomes[SUCCESS], 0);
    let rejected: BTreeSet<&str> = c
        .events
        .iter()
        .filter(|e| e.kind == EventKind::AuthRejected && e.node == 1)
        .map(|e| e.key)
        .collect();
    assert_eq!(rejected.len(), 10 - 4, "every key but the four admitted");
    assert_eq!(
        n1.outcomes[TOO_BUSY],
        count(&c, EventKind::AuthRejected, Some(1))
    );
    assert_eq!(
        n1.outcomes[TOO_BUSY],
        count(&c, EventKind::LogWarn, Some(1))
    );
    let requests: u64 = sim.metrics.requests.iter().sum();
    assert_eq!(requests, n1.outcomes[TOO_BUSY] + sim.in_flight() as u64);

    // The same traffic with room for every key (1 + 9 = 10): no 429 at all.
    let settings = [
        (
            "xpack.security.authc.api_key.hashing.algorithm",
            "pbkdf2_1000",
        ),
        ("xpack.security.crypto.thread_pool.size", "1"),
        ("xpack.security.crypto.thread_pool.queue_size", "9"),
    ];
    let (mut c, mut sim) = node1_only(&settings, 10, 100.0, 3);
    sim.cost = spec::cost_model(&json!({"pbkdf2_per_1000_iterations": 3600})).unwrap();
    sim.run_until(&mut c, 3 * S);
    assert_eq!(sim.metrics.nodes[1].outcomes[TOO_BUSY], 0);
    assert_eq!(sim.metrics.nodes[1].max_queue_depth, 9);
}

#[test]
fn node1_traffic_reaches_node1_only() {
    let (mut c, mut sim) = node1_only(&[], 5, 50.0, 1);
    sim.run_until(&mut c, 2 * S);
    assert_eq!(sim.metrics.nodes[0].outcomes.iter().sum::<u64>(), 0);
    assert!(sim.metrics.nodes[1].outcomes[SUCCESS] > 50);
}

// ---- descriptions --------------------------------------------------------------------------------

#[test]
fn bad_descriptions_are_refused_with_elasticsearch_style_errors() {
    let c = cluster(3, 0, &[]);
    let names = vec!["agents".to_string()];
    let bad_actions = [
        (
            json!({"action": "partition", "noed": "node-1"}),
            "[action [partition].noed]: unknown field `noed`",
        ),
        (
            json!({"action": "partition", "node": "node-7"}),
            "unknown node [node-7]",
        ),
        (json!({"action": "explode"}), "unknown action [explode]"),
        (
            json!({"action": "invalidate_api_keys", "workload": "nobody"}),
            "unknown workload [nobody]",
        ),
        (
            json!({"action": "invalidate_api_keys", "workload": "agents", "top": 2, "all": true}),
            "takes one of",
        ),
        (
            json!({"action": "invalidate_api_keys", "workload": "agents", "top": -1}),
            "[action [invalidate_api_keys].top]: invalid value: integer `-1`",
        ),
        (
            json!({"action": "invalidate_api_keys", "workload": "agents", "indices": [1, "x"]}),
            "indices",
        ),
        (
            json!({"action": "clear_cache", "keys": [1], "node": "node-0"}),
            "[action [clear_cache].keys]: ",
        ),
        (
            json!({"action": "index_health", "health": "purple"}),
            "must be green, yellow or red",
        ),
        (
            json!({"action": "index_up_to_date", "value": "yes"}),
            "[action [index_up_to_date].value]: invalid type: string \"yes\", expected a boolean",
        ),
        (
            json!({"action": "drop_clear_cache", "node": "node-1", "nodes": ["node-2"]}),
            "not both",
        ),
    ];
    for (v, msg) in bad_actions {
        let e = spec::action(&c, &names, &v).unwrap_err();
        assert_eq!(e.kind, "illegal_argument_exception");
        assert!(e.reason.contains(msg), "{v}: {}", e.reason);
    }
    let bad_workloads = [
        (
            json!({"name": "w", "rate": 1, "colour": "red"}),
            "[workload [w].colour]: unknown field `colour`",
        ),
        (json!({"name": "w", "start": "5 minutes"}), "5 minutes"),
        (
            json!({"name": "w", "start": "1m", "stop": "30s"}),
            "must be later than",
        ),
        (
            json!({"name": "w", "kind": "password"}),
            "[workload [w].kind]: unknown variant `password`, expected `api_key` or `service_token`",
        ),
        (
            json!({"name": "w", "creator_node": "node-9"}),
            "unknown node [node-9]",
        ),
        (
            json!({"name": "w", "node_choice": {"node-5": 1}}),
            "unknown node [node-5]",
        ),
        (json!({"name": "w", "popularity": "pareto"}), "popularity"),
    ];
    for (v, msg) in bad_workloads {
        let e = spec::workload(&c, &v).unwrap_err();
        assert!(e.reason.contains(msg), "{v}: {}", e.reason);
    }
    let e = spec::cost_model(&json!({"argon2": "1ms"})).unwrap_err();
    assert!(
        e.reason
            .contains("[cost_model.argon2]: unknown field `argon2`"),
        "{}",
        e.reason
    );
    // Good descriptions parse.
    assert_eq!(
        spec::action(
            &c,
            &names,
            &json!({"action": "drop_clear_cache", "nodes": ["node-2"]})
        )
        .unwrap(),
        Action::DropClearCache(vec![2])
    );
    let w = spec::workload(
        &c,
        &json!({"name": "w", "start": "10s", "stop": 60, "popularity": {"zipf": 1.1}}),
    )
    .unwrap();
    assert_eq!((w.start, w.stop), (10 * S, Some(60 * S)));
    assert_eq!(w.popularity, Popularity::Zipf { s: 1.1 });
}

#[test]
fn a_refused_workload_or_action_changes_nothing() {
    let c = cluster(2, 0, &[]);
    let mut sim = Simulation::new(&c, 0);
    let mut bad = api_keys("bad", 0, 10.0);
    assert!(sim.add_workload(&c, bad.clone()).is_err());
    bad.population = 10;
    bad.rate = -1.0;
    assert!(sim.add_workload(&c, bad).is_err());
    assert!(sim.workload_names().is_empty());
    assert!(sim.schedule(0, Some(0), Action::IndexDelete).is_err());
    let mut c = c;
    sim.run_until(&mut c, 5 * S);
    let r = report::report(&sim, &c);
    assert_eq!(r["requests"], 0);
    assert_eq!(r["action_errors"], json!([]));
}

// ---- slices and external actions (the Python glue's run loop) --------------------------------------

/// Runs to 40 s in slices of `budget` events, the way the Python glue does between signal checks.
fn run_in_slices(c: &mut Cluster, sim: &mut Simulation, budget: usize) -> Vec<(usize, u64)> {
    let mut externals = Vec::new();
    loop {
        match sim.run_slice(c, 40 * S, budget) {
            escache::sim::Stop::Reached => return externals,
            escache::sim::Stop::Budget => {}
            escache::sim::Stop::External { key, at } => {
                assert_eq!(at, c.now());
                externals.push((key, at));
            }
        }
    }
}

#[test]
fn issue8_d07_a_run_cut_into_event_budgets_is_the_same_run() {
    let (c1, s1) = busy_scenario(4, 9);
    let (mut c2, mut s2) = busy_scenario_unrun(4, 9);
    // A budget that does not divide anything evenly: slices end between events of one instant.
    let mut slices = 0;
    while s2.run_slice(&mut c2, 40 * S, 7) == escache::sim::Stop::Budget {
        slices += 1;
    }
    assert!(slices > 1_000, "the run was cut {slices} times");
    assert_eq!(c2.now(), 40 * S);
    assert_eq!(trace_digest(&c1), trace_digest(&c2));
    assert_eq!(
        report::report(&s1, &c1).to_string(),
        report::report(&s2, &c2).to_string()
    );
}

#[test]
fn issue8_d23_external_actions_stop_the_run_at_their_time_and_failures_are_recorded() {
    let (c1, s1) = busy_scenario(5, 2);
    let (mut c2, mut s2) = busy_scenario_unrun(5, 2);
    let id = 42;
    s2.schedule_external(5 * S, Some(10 * S), id).unwrap();
    assert!(s2.schedule_external(S, Some(0), 7).is_err());
    let stops = run_in_slices(&mut c2, &mut s2, 1_000);
    // Every occurrence, in time order, with the clock standing at its time.
    assert_eq!(
        stops,
        vec![(id, 5 * S), (id, 15 * S), (id, 25 * S), (id, 35 * S)]
    );
    // Stopping for an action that does nothing leaves the simulation as if it were not there.
    assert_eq!(trace_digest(&c1), trace_digest(&c2));
    assert_eq!(
        report::report(&s1, &c1)["stale_acceptances"],
        report::report(&s2, &c2)["stale_acceptances"]
    );
    // A failure is an action error like any other; the run went on to the end.
    let before = s2.action_errors.len();
    s2.external_failed(15 * S, "callable probe".into(), "ValueError: boom".into());
    assert_eq!(s2.action_errors.len(), before + 1);
    let errors = &report::report(&s2, &c2)["action_errors"];
    let last = &errors[errors.as_array().unwrap().len() - 1];
    assert_eq!(last["action"], "callable probe");
    assert_eq!(last["error"], "ValueError: boom");
    assert_eq!(last["time"], 15.0);
    // A plain `run_until` has no runner for external actions: it skips them.
    let (mut c3, mut s3) = busy_scenario_unrun(5, 2);
    s3.schedule_external(5 * S, None, 0).unwrap();
    s3.run_until(&mut c3, 40 * S);
    assert_eq!(trace_digest(&c1), trace_digest(&c3));
}

// ---- issue 8 -------------------------------------------------------------------------------------

/// The `elastic` password's Basic header, and the password itself.
fn basic(password: &str) -> String {
    use base64::Engine;
    format!(
        "Basic {}",
        base64::engine::general_purpose::STANDARD.encode(format!("elastic:{password}"))
    )
}

#[test]
fn issue8_d03_a_failed_rest_action_is_reported_readably_without_its_credentials() {
    let mut c = cluster(2, 0, &[]);
    let password = "s3cr3t-pass";
    let header = basic(password);
    let mut sim = Simulation::new(&c, 0);
    let action = spec::action(
        &c,
        &[],
        &json!({"action": "rest", "method": "GET", "path": "/_nope", "node": "node-1",
                "authorization": header, "body": {"password": password}}),
    )
    .unwrap();
    sim.schedule(2 * S, None, action.clone()).unwrap();
    sim.run_until(&mut c, 3 * S);
    let r = report::report(&sim, &c);
    let errors = r["action_errors"].as_array().unwrap();
    assert_eq!(errors.len(), 1, "{r}");
    let what = errors[0]["action"].as_str().unwrap();
    assert!(
        what.starts_with("rest GET /_nope on node-1 (Authorization: Basic <redacted>)"),
        "{what}"
    );
    assert!(errors[0]["error"]
        .as_str()
        .unwrap()
        .starts_with("[node-1] answered 400: "));
    let secret_part = header.trim_start_matches("Basic ");
    for text in [r.to_string(), format!("{action:?}"), format!("{sim:?}")] {
        assert!(
            !text.contains(secret_part) && !text.contains(password),
            "{text}"
        );
    }
}

#[test]
fn issue8_d03_an_authorization_header_shows_its_scheme_only() {
    for (value, shown) in [
        ("Basic ZWxhc3RpYzpwdw==", "Basic <redacted>"),
        ("bearer AAEAAWVsYXN0aWM", "Bearer <redacted>"),
        ("ApiKey aWQ6c2VjcmV0", "ApiKey <redacted>"),
        // No known scheme: the first word could be the secret itself.
        ("hunter2 more", "<redacted>"),
        ("hunter2", "<redacted>"),
    ] {
        let h = AuthorizationHeader::new(value);
        assert_eq!(h.to_string(), shown);
        assert_eq!(format!("{h:?}"), shown);
        assert_eq!(h.expose(), value);
    }
}

proptest::proptest! {
    #![proptest_config(proptest::prelude::ProptestConfig::with_cases(200))]
    /// No rendering of a REST action (`describe`, `Debug`) carries its header's credentials or its
    /// body, whatever the scheme and secret.
    #[test]
    fn issue8_d03_rest_actions_never_render_their_credentials(
        scheme in "(Basic|Bearer|ApiKey|basic|[A-Za-z]{0,8})",
        secret in "[A-Za-z0-9+/=_:.-]{6,40}",
        path in "/[a-z_/]{0,20}",
        body_secret in "[A-Za-z0-9]{6,20}",
    ) {
        let a = Action::Rest {
            method: "POST".into(),
            path,
            body: Some(format!("{{\"password\":\"{body_secret}\"}}")),
            node: Some(0),
            authorization: Some(AuthorizationHeader::new(format!("{scheme} {secret}"))),
        };
        for text in [format!("{a:?}"), a.describe(&|n| format!("node-{n}"), &|w| w.to_string())] {
            proptest::prop_assert!(!text.contains(&secret), "{}", text);
            proptest::prop_assert!(!text.contains(&body_secret), "{}", text);
        }
    }
}

#[test]
fn issue8_d22_an_action_without_its_node_is_refused_naming_the_field() {
    let c = cluster(3, 0, &[]);
    let names = vec!["agents".to_string()];
    for (v, field) in [
        (
            json!({"action": "partition"}),
            "[action [partition].node] is required",
        ),
        (
            json!({"action": "heal"}),
            "[action [heal].node] is required",
        ),
        (
            json!({"action": "stop_node"}),
            "[action [stop_node].node] is required",
        ),
        (
            json!({"action": "start_node"}),
            "[action [start_node].node] is required",
        ),
        (
            json!({"action": "clear_cache"}),
            "[action [clear_cache].node] is required",
        ),
        (
            json!({"action": "invalidate_api_keys", "workload": "agents"}),
            "[action [invalidate_api_keys].node] is required",
        ),
        (
            json!({"action": "delete_service_tokens", "workload": "agents"}),
            "[action [delete_service_tokens].node] is required",
        ),
        (
            json!({"action": "drop_clear_cache"}),
            "[action [drop_clear_cache].nodes] is required",
        ),
    ] {
        let e = spec::action(&c, &names, &v).unwrap_err();
        assert_eq!(e.kind, "illegal_argument_exception");
        assert!(e.reason.contains(field), "{v}: {}", e.reason);
    }
    // With the node named, each is accepted.
    assert_eq!(
        spec::action(
            &c,
            &names,
            &json!({"action": "partition", "node": "node-2"})
        )
        .unwrap(),
        Action::Partition(2)
    );
}

#[test]
fn issue8_d09_scenario_inputs_are_bounded_and_typed() {
    let c = cluster(2, 0, &[]);
    let mut sim = Simulation::new(&c, 0);
    let add = |sim: &mut Simulation, v| {
        let w = spec::workload(&c, &v)?;
        sim.add_workload(&c, w)
    };
    let e = add(&mut sim, json!({"name": "w", "rate": 1e300})).unwrap_err();
    assert_eq!(
        e.reason,
        "workload [w]: rate must be a non-negative number of at most 1000000 requests per virtual second, got [1e300]"
    );
    let e = add(&mut sim, json!({"name": "w", "population": 1u64 << 40})).unwrap_err();
    assert!(
        e.reason
            .starts_with("workload [w]: population must be at least 1 and at most 10000000"),
        "{}",
        e.reason
    );
    assert!(sim.workload_names().is_empty());
    add(
        &mut sim,
        json!({"name": "w", "rate": MAX_RATE, "population": 1}),
    )
    .unwrap();
    let e = spec::workload(&c, &json!({})).unwrap_err();
    assert!(
        e.reason.contains("the description is empty"),
        "{}",
        e.reason
    );
    // An unknown cache: Elasticsearch's `CacheInvalidatorRegistry` message, naming the field.
    let e = spec::action(
        &c,
        &[],
        &json!({"action": "clear_cache", "cache": "bogus", "node": "node-0"}),
    )
    .unwrap_err();
    assert_eq!(
        e.reason,
        "[action [clear_cache].cache]: No cache named [bogus] is found"
    );
    for cache in [
        "api_key",
        "api_key_doc",
        "service",
        "index_service_account_token",
    ] {
        assert!(spec::action(
            &c,
            &[],
            &json!({"action": "clear_cache", "cache": cache, "node": "node-0"})
        )
        .is_ok());
    }
}

#[test]
fn issue8_d09_a_clear_cache_that_fails_on_a_node_is_recorded() {
    let mut c = cluster(3, 0, &[]);
    let mut sim = Simulation::new(&c, 0);
    sim.schedule(S, None, Action::DropClearCache(vec![2]))
        .unwrap();
    sim.schedule(
        2 * S,
        None,
        Action::ClearCache {
            cache: "api_key".into(),
            keys: vec![],
            node: 0,
        },
    )
    .unwrap();
    // Built without the scenario parser: the name is only checked where the nodes resolve it.
    sim.schedule(
        3 * S,
        None,
        Action::ClearCache {
            cache: "bogus".into(),
            keys: vec![],
            node: 0,
        },
    )
    .unwrap();
    sim.run_until(&mut c, 4 * S);
    let errors: Vec<_> = sim
        .action_errors
        .iter()
        .map(|e| (e.1.as_str(), e.2.as_str()))
        .collect();
    assert_eq!(errors.len(), 2, "{errors:?}");
    assert_eq!(errors[0].0, "clear_cache [api_key] (all keys) on node-0");
    assert!(
        errors[0]
            .1
            .starts_with("1 of 3 nodes failed; first failure on [node-2]: "),
        "{}",
        errors[0].1
    );
    assert_eq!(
        errors[1].1,
        "3 of 3 nodes failed; first failure on [node-0]: No cache named [bogus] is found"
    );
}

#[test]
fn issue8_d24_a_bad_duration_names_its_table_and_field() {
    let c = cluster(2, 0, &[]);
    let e = spec::workload(&c, &json!({"name": "w", "start": "10 minutes"})).unwrap_err();
    assert_eq!(
        e.reason,
        "[workload [w].start]: failed to parse [10 minutes]"
    );
    let e = spec::workload(&c, &json!({"name": "w", "expiration": "soon"})).unwrap_err();
    assert!(
        e.reason.contains("[workload [w].expiration]"),
        "{}",
        e.reason
    );
    let e = spec::cost_model(&json!({"digest": "1 millisecond"})).unwrap_err();
    assert!(
        e.reason.starts_with("[cost_model.digest]: "),
        "{}",
        e.reason
    );
}

// ---- the scenario format: serde types, paths in errors, and its documentation -------------------

/// The field names a `deny_unknown_fields` type (or the variant names an enum) expects, from the
/// error serde gives for a field it does not know.
fn expected_names<T: serde::de::DeserializeOwned + std::fmt::Debug>(
    probe: serde_json::Value,
) -> Vec<String> {
    let e = serde_json::from_value::<T>(probe).unwrap_err().to_string();
    let (_, list) = e.split_once("expected").unwrap_or(("", ""));
    list.split('`')
        .skip(1)
        .step_by(2)
        .map(str::to_string)
        .collect()
}

#[test]
fn docs_scenarios_md_names_every_field_and_action() {
    use escache::sim::scenario::{ClusterDesc, Scenario, SimulationDesc};
    use escache::sim::spec::{
        ActionDesc, ClearCacheDesc, CostModelDesc, CredentialsDesc, FileTokensDesc, HealthDesc,
        NodeChoiceName, NodeDesc, NodesDesc, PopularityLaw, PopularityName, RestDesc,
        TokenSourceName, TokensFileDesc, UpToDateDesc, WorkloadDesc, WorkloadKindName,
    };
    let doc =
        std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/docs/scenarios.md")).unwrap();
    let unknown = json!({"__not_a_field__": 1});
    let variant = json!("__not_a_variant__");
    let mut names = Vec::new();
    names.extend(expected_names::<Scenario>(unknown.clone()));
    names.extend(expected_names::<ClusterDesc>(unknown.clone()));
    names.extend(expected_names::<SimulationDesc>(unknown.clone()));
    names.extend(expected_names::<CostModelDesc>(unknown.clone()));
    names.extend(expected_names::<WorkloadDesc>(unknown.clone()));
    names.extend(expected_names::<PopularityLaw>(unknown.clone()));
    names.extend(expected_names::<RestDesc>(unknown.clone()));
    names.extend(expected_names::<CredentialsDesc>(unknown.clone()));
    names.extend(expected_names::<FileTokensDesc>(unknown.clone()));
    names.extend(expected_names::<TokensFileDesc>(unknown.clone()));
    names.extend(expected_names::<ClearCacheDesc>(unknown.clone()));
    names.extend(expected_names::<NodeDesc>(unknown.clone()));
    names.extend(expected_names::<NodesDesc>(unknown.clone()));
    names.extend(expected_names::<HealthDesc>(unknown.clone()));
    names.extend(expected_names::<UpToDateDesc>(unknown));
    names.extend(expected_names::<WorkloadKindName>(variant.clone()));
    names.extend(expected_names::<TokenSourceName>(variant.clone()));
    names.extend(expected_names::<PopularityName>(variant.clone()));
    names.extend(expected_names::<NodeChoiceName>(variant));
    names.extend(ActionDesc::NAMES.iter().map(|s| (*s).to_string()));
    names.extend(["at", "every", "action", "keys", "tokens"].map(String::from));
    assert!(names.len() > 60, "{names:?}");
    for name in names {
        assert!(
            doc.contains(&format!("`{name}`")),
            "docs/scenarios.md does not name `{name}`"
        );
    }
}

#[test]
fn scenario_errors_name_their_table_and_field() {
    use escache::sim::scenario::Scenario;
    let reason = |text: &str| Scenario::from_toml(text).unwrap_err().into_reason();
    assert_eq!(
        reason("[[workloads]]\nname = 'a'\n[[workloads]]\nname = 'b'\nrate = 'x'\n"),
        "workloads[1].rate: invalid type: string \"x\", expected f64"
    );
    assert!(reason("[cluster]\nnodes = 3\ncolour = 'red'\n")
        .starts_with("cluster.colour: unknown field `colour`, expected one of `nodes`"));
    assert!(reason("[simulation.cost_model]\nargon2 = '1ms'\n")
        .starts_with("simulation.cost_model.argon2: unknown field `argon2`"));
    assert!(
        reason("[[workloads]]\nname = 'w'\npopularity = {zipf = 'x'}\n")
            .starts_with("workloads[0].popularity: ")
    );
    assert_eq!(
        reason("[[actions]]\nat = '1s'\naction = 'heal'\nnode = 3\n"),
        "actions[0]: [action [heal].node]: invalid type: integer `3`, expected a string"
    );
    assert!(reason("[cluster\n").starts_with("invalid scenario file: "));
    assert!(reason("[cluster\n").ends_with(" at line 1, column 9"));
    // Past 64 bits: no JSON number holds it, and the error still names the field.
    let big = reason("[simulation]\nseed = 18446744073709551616\n");
    assert!(big.starts_with("simulation.seed: "), "{big}");
    // The same scenario as a JSON value reads the same.
    let text =
        "[cluster]\nnodes = 2\n[[workloads]]\nname = 'w'\nrate = 5\npopularity = {zipf = 1.1}\n\
                [[actions]]\nat = '1s'\naction = 'partition'\nnode = 'node-1'\n";
    let (from_toml, doc) = Scenario::from_toml(text).unwrap();
    assert_eq!(Scenario::from_value(&doc).unwrap(), from_toml);
    assert_eq!(from_toml.workloads[0].rate, Some(5.0));
}
