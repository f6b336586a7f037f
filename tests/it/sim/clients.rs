//! Client models (issue 16.3, CA-CL1 to CA-CL5): retries, dead-node marking and the amplification
//! of a 429 storm, with expected figures derived by hand from the rules.

use super::*;
use escache::sim::{ClientModel, ClientPreset};

/// One node whose `security-crypto` pool holds 1 + 3 verifications of an hour each: the first four
/// distinct keys are admitted and every later request for any of the other six is rejected with
/// 429 (R3.4), forever (the pool never frees within the run). The creating node's auth cache, warm
/// from the creation (AK-R3.8), is cleared at 0 s.
fn full_pool(client: Option<ClientModel>) -> (Cluster, Simulation) {
    let settings = [
        (
            "xpack.security.authc.api_key.hashing.algorithm",
            "pbkdf2_1000",
        ),
        ("xpack.security.crypto.thread_pool.size", "1"),
        ("xpack.security.crypto.thread_pool.queue_size", "3"),
    ];
    let mut c = cluster(1, 4, &settings);
    let mut sim = Simulation::new(&c, 3);
    sim.cost = spec::cost_model(&json!({"pbkdf2_per_1000_iterations": 3600})).unwrap();
    let mut w = api_keys("w", 10, 100.0);
    w.client = client;
    sim.add_workload(&c, w).unwrap();
    let clear = Action::ClearCache {
        cache: "api_key".into(),
        keys: vec![],
        node: 0,
    };
    sim.schedule(0, None, clear).unwrap();
    sim.run_until(&mut c, 3 * S);
    (c, sim)
}

/// CA-CL1, CA-CL4: elasticsearch-py retries a 429 three times with no delay. On one node whose
/// pool stays full, no virtual time passes between the attempts, so each rejected logical request
/// makes exactly 1 + 3 = 4 attempts, all rejected: retries = 3 x the logical 429s, and the
/// amplification is (requests + retries) / requests, at most 4.
#[test]
fn rule_ca_cl1_python_client_retries_each_429_three_times() {
    let py = ClientModel::preset(ClientPreset::ElasticsearchPy, 1);
    let (c, sim) = full_pool(Some(py));
    let m = &sim.metrics;
    let rejected = m.workload_outcomes[0][TOO_BUSY];
    let requests = m.requests[0];
    assert!(rejected > 100, "{rejected}");
    assert_eq!(m.retries[0], 3 * rejected);
    assert_eq!(m.nodes[0].retried[TOO_BUSY], 3 * rejected);
    // Every attempt is in the trace: 4 rejections per rejected logical request.
    assert_eq!(count(&c, EventKind::AuthRejected, Some(0)), 4 * rejected);
    let amp = m.amplification(Some(0)).unwrap();
    let expected = (requests + 3 * rejected) as f64 / requests as f64;
    assert!((amp - expected).abs() < 1e-12 && amp <= 4.0, "{amp}");
    // Conservation: each logical request ends once (or waits on an admitted verification).
    assert_eq!(requests, rejected + sim.in_flight() as u64);
    let v = report::report(&sim, &c);
    assert_eq!(v["retries"], json!(3 * rejected));
    assert_eq!(v["workloads"]["w"]["retries"], json!(3 * rejected));
}

/// CA-CL5: the Java and Go clients do not retry 429 (only 502, 503, 504 and connection errors) nor
/// mark a node dead for it: the run is the run without a client model, byte for byte.
#[test]
fn rule_ca_cl5_java_and_go_do_not_retry_429() {
    let (base, base_sim) = full_pool(None);
    for p in [
        ClientPreset::ElasticsearchJava,
        ClientPreset::GoElasticsearch,
    ] {
        let (c, sim) = full_pool(Some(ClientModel::preset(p, 1)));
        assert_eq!(sim.metrics.retries[0], 0, "{p:?}");
        assert_eq!(sim.metrics.amplification(Some(0)), Some(1.0));
        assert_eq!(trace_digest(&c), trace_digest(&base), "{p:?}");
        assert_eq!(
            sim.metrics.workload_outcomes,
            base_sim.metrics.workload_outcomes
        );
    }
}

/// CA-CL3: a stopped node is a connection error: elasticsearch-py marks it dead for
/// min(1 s x 2^(n-1), 30 s) and retries at once on the next node, so no logical request fails.
/// Stopped at 5 s, node-1 is probed again only after each timeout: at 5, ~6, ~8, ~12, ~20 and
/// ~36 s (1 + 2 + 4 + 8 + 16 = 31 s after the stop, plus a few ms each before a request picks it);
/// the next probe would be ~66 s, past the end at 65 s. Six failed attempts, six retries.
#[test]
fn rule_ca_cl3_a_stopped_node_is_marked_dead_and_probed_after_each_timeout() {
    let run = |client: Option<ClientModel>| {
        let mut c = cluster(3, 1, &[]);
        let mut sim = Simulation::new(&c, 5);
        let mut w = api_keys("w", 10, 100.0);
        w.client = client;
        sim.add_workload(&c, w).unwrap();
        sim.schedule(5 * S, None, Action::StopNode(1)).unwrap();
        sim.run_until(&mut c, 65 * S);
        (c, sim)
    };
    let (c, sim) = run(Some(ClientModel::preset(ClientPreset::ElasticsearchPy, 3)));
    let m = &sim.metrics;
    assert_eq!(m.workload_outcomes[0][UNAVAILABLE], 0);
    assert_eq!(m.retries[0], 6);
    assert_eq!(m.nodes[1].retried[UNAVAILABLE], 6);
    assert_eq!(count(&c, EventKind::NodeUnreachable, Some(1)), 6);
    assert_eq!(
        m.requests[0],
        m.workload_outcomes[0][SUCCESS] + sim.in_flight() as u64
    );
    // Without a client model a third of the requests after the stop find node-1 down.
    let (_, none) = run(None);
    let lost = none.metrics.workload_outcomes[0][UNAVAILABLE] as f64;
    assert!((lost - 6000.0 / 3.0).abs() < 150.0, "{lost}");
}

/// Determinism with a client model: same seed, same trace bytes.
#[test]
fn rule_ca_cl4_client_runs_are_deterministic() {
    let py = || Some(ClientModel::preset(ClientPreset::ElasticsearchPy, 1));
    let (a, _) = full_pool(py());
    let (b, _) = full_pool(py());
    assert_eq!(trace_digest(&a), trace_digest(&b));
}
