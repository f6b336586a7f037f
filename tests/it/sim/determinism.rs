//! Determinism: the same seeds give the same trace and report, another seed another trace, and a
//! run cut into slices is the run at once.

use super::*;

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
