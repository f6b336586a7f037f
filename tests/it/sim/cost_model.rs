//! The cost model: Elasticsearch's measured hashing costs, virtual CPU charged per verification,
//! and the `security-crypto` pool's threads, queue and 429 rule (R3.4).

use super::*;

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
