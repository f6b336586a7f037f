//! Conservation: every request ends in exactly one outcome, in the report's outcome order.

use super::*;

#[test]
fn outcome_order_is_the_reports() {
    // The indices used below follow Outcome::ALL.
    assert_eq!(Outcome::ALL[SUCCESS], Outcome::Success);
    assert_eq!(Outcome::ALL[UNAUTHORIZED], Outcome::Unauthorized);
    assert_eq!(Outcome::ALL[TOO_BUSY], Outcome::TooBusy);
    assert_eq!(Outcome::ALL[UNAVAILABLE], Outcome::Unavailable);
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
