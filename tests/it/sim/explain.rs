//! "Why was this accepted?" (`escache::sim::explain`) over the busy scenario: the broadcast to node-2
//! is dropped at 10 s and five keys are invalidated at 15 s, so node-2 accepts them from its doc cache
//! until the security index's recovery (red at 20 s, green at 25 s) clears every API key cache (R4.1).

use super::*;
use escache::sim::explain::{Cause, Change, Ending, Explainer};

#[test]
fn every_stale_acceptance_names_the_dropped_broadcast_and_the_clear_that_ended_it() {
    let (c, sim) = busy_scenario(11, 5);
    let stale = Explainer::new(&sim, &c, None).stale_acceptances();
    let traced = c
        .events
        .iter()
        .filter(|e| e.kind == EventKind::AuthSuccess && e.detail == "stale")
        .count();
    assert!(traced > 0);
    assert_eq!(stale.len(), traced);
    for e in &stale {
        assert_eq!(
            (e.node.as_str(), e.cause),
            ("node-2", Cause::BroadcastDropped)
        );
        let entry = e.served_by.as_ref().unwrap();
        assert_eq!(entry.cache, "api_key_doc");
        assert!(entry.put_at.unwrap() < 15.0);
        let inv = e.invalidation.as_ref().unwrap();
        assert_eq!(
            (inv.time, inv.change, inv.missed_at),
            (15.0, Change::Invalidated, Some(15.0))
        );
        assert_eq!(inv.cleared_on, ["node-0", "node-1"]);
        // Accepted between the invalidation and the recovery, which ended it.
        assert!(e.time >= 15.0 && e.time < 25.0, "{e:?}");
        let end = e.ended.as_ref().unwrap();
        assert_eq!((end.time, end.how), (25.0, Ending::IndexChange));
    }
}

#[test]
fn explain_picks_the_acceptance_and_refuses_what_is_not_there() {
    let (c, sim) = busy_scenario(11, 5);
    let explainer = Explainer::new(&sim, &c, None);
    let first = &explainer.stale_acceptances()[0];
    let again = explainer.explain(&first.credential, None, None).unwrap();
    assert_eq!(&again, first);
    // Before the invalidation, the same key was valid everywhere.
    let early = explainer
        .explain(&first.credential, Some("node-2"), Some(14 * S))
        .unwrap();
    assert!(!early.stale && early.cause == Cause::NotStale && early.time <= 14.0);
    assert!(explainer.explain("no-such-key", None, None).is_err());
    assert!(explainer
        .explain(&first.credential, Some("node-7"), None)
        .is_err());
    // A trace read up to 12 s holds no acceptance after it.
    let cut = Explainer::new(&sim, &c, Some(12 * S));
    assert!(cut.stale_acceptances().is_empty());
    assert!(cut.explain(&first.credential, None, None).unwrap().time <= 12.0);
}
