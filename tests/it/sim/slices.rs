//! Slices and external actions (the Python glue's run loop): event budgets and external actions
//! do not change the run.

use super::*;

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
