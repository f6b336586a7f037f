//! Time inside a request (CA-TM2 to CA-TM4): the timed document GET, the race the doc cache's
//! invalidation counter exists for (AK-R2.4), its counter-less what-if, and the timed index write.
//!
//! Requests (Q1, Q2, ... in the comments) arrive at chosen instants (the workload's own Poisson
//! rate is negligible), so every expected figure follows from the rules by hand. One node, one API
//! key, default settings: the auth cache holds the creator's pre-warmed success (R3.8), the doc
//! cache's TTL is 5 min (AK-R1), the stored hash is salted SHA-256, verified in 2 µs (the cost
//! model's default).

use super::latency::Distribution;
use super::simulation::Ev;
use super::{Action, Outcome, Selection, Simulation};
use super::{NodeChoice, Popularity, WorkloadKind, WorkloadSpec};
use crate::cluster::{Cluster, ClusterConfig};
use crate::events::EventKind;
use crate::time::{Nanos, NANOS_PER_MILLI, NANOS_PER_SECOND};
use indexmap::IndexMap;

const S: Nanos = NANOS_PER_SECOND;
const MS: Nanos = NANOS_PER_MILLI;
const US: Nanos = 1_000;

/// An API key workload `w` of `population` keys created on node 0, uniform, round-robin.
fn api_keys(population: usize, rate: f64) -> WorkloadSpec {
    WorkloadSpec {
        name: "w".into(),
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

/// One node, one key, no own traffic; `latencies` by operation name.
fn setup(latencies: &[(&str, Distribution)], counter: bool) -> (Cluster, Simulation) {
    let c = Cluster::new(ClusterConfig::new(1)).unwrap();
    let mut sim = Simulation::new(&c, 5);
    // A mean gap of about 30 years: no arrival of its own in the run.
    sim.add_workload(&c, api_keys(1, 1e-9)).unwrap();
    sim.latency.set(
        latencies
            .iter()
            .map(|(op, d)| ((*op).to_string(), *d))
            .collect::<IndexMap<_, _>>(),
    );
    sim.doc_cache_counter = counter;
    (c, sim)
}

fn arrive_at(sim: &mut Simulation, at: &[Nanos]) {
    for &t in at {
        sim.push(t, Ev::Arrival { workload: 0 });
    }
}

fn invalidate_at(sim: &mut Simulation, at: Nanos) {
    sim.schedule(
        at,
        None,
        Action::InvalidateApiKeys {
            workload: 0,
            selection: Selection::Indices(vec![0]),
            node: 0,
        },
    )
    .unwrap();
}

/// (time, kind, detail) of the request-level events: authentications and document GETs.
fn requests_trace(c: &Cluster) -> Vec<(Nanos, &'static str, String)> {
    c.events
        .iter()
        .filter(|e| {
            matches!(
                e.kind,
                EventKind::AuthSuccess | EventKind::AuthFailure | EventKind::IndexGet
            )
        })
        .map(|e| (e.time, e.kind.name(), e.detail.to_string()))
        .collect()
}

fn outcomes(sim: &Simulation) -> (u64, u64) {
    let t = sim.metrics.total_outcomes();
    (
        t[Outcome::Success as usize],
        t[Outcome::Unauthorized as usize],
    )
}

/// The race of AK-R2.4 with `index_get = 10ms`: Q1 at 1 s misses the doc cache, notes count 0 and
/// GETs the still-valid document; at 1.005 s the key is invalidated and the clear bumps the count
/// to 1 (and drops the pre-warmed auth entry); Q1's response at 1.010 s is not cached (1 != 0). Q1
/// itself validates the document it read: the auth cache misses, the verification takes 2 µs, Q1
/// succeeds at 1.010002 s, stale by 5.002 ms (ES does the same: the request read the index
/// first). Q2 at 2 s misses again, reads the invalidated document (cached at 2.010 s, count
/// unchanged) and is refused; Q3 at 301 s and Q4 at 301.02 s hit that cached refusal at once.
#[test]
fn rule_ca_tm2_a_clear_during_a_fetch_keeps_the_stale_document_out_of_the_cache() {
    let (mut c, mut sim) = setup(&[("index_get", Distribution::Fixed(10 * MS))], true);
    arrive_at(&mut sim, &[S, 2 * S, 301 * S, 301 * S + 20 * MS]);
    invalidate_at(&mut sim, S + 5 * MS);
    sim.run_until(&mut c, 400 * S);
    let invalidated = |id: &str| format!("API key: api key [{id}] has been invalidated");
    let id = sim.credential_ids(0)[0].clone();
    assert_eq!(sim.metrics.requests[0], 4);
    assert_eq!(outcomes(&sim), (1, 3));
    let n = &sim.metrics.nodes[0];
    assert_eq!(n.stale_acceptances, 1);
    assert_eq!(n.longest_stale_window, 5 * MS + 2 * US);
    assert_eq!(
        requests_trace(&c),
        vec![
            (S, "index_get", "started".into()),
            (
                S + 10 * MS,
                "index_get",
                "done: not cached, invalidated since the fetch started".into()
            ),
            (S + 10 * MS + 2 * US, "auth_success", "stale".into()),
            (2 * S, "index_get", "started".into()),
            (2 * S + 10 * MS, "index_get", "done: cached".into()),
            (2 * S + 10 * MS, "auth_failure", invalidated(&id)),
            (301 * S, "auth_failure", invalidated(&id)),
            (301 * S + 20 * MS, "auth_failure", invalidated(&id)),
        ]
    );
    // Two GETs of 10 ms each; the request latencies include them.
    assert_eq!(sim.metrics.index_get.count(), 2);
    assert_eq!(sim.metrics.index_get.max(), 10 * MS);
    assert_eq!(sim.metrics.latency.max(), 10 * MS + 2 * US);
    assert_eq!(sim.in_flight(), 0);
    let r = super::report::report(&sim, &c);
    assert_eq!(r["index_get_ms"]["max"], 10.0);
    assert_eq!(r["index_get_ms"]["mean"], 10.0);
}

/// The counter-less what-if (CA-TM3) of the same run: Q1's response is cached although the clear
/// landed during the GET, so the stale (valid) document answers Q2 at 2 s and Q3 at 301 s from the
/// doc cache with the auth cache's success: stale acceptances until the doc cache's TTL, 5 min
/// after the put at 1.010 s. Q4 at 301.02 s finds it expired, GETs the invalidated document and is
/// refused at 301.03 s. Longest stale window: 301 s - 1.005 s.
#[test]
fn rule_ca_tm3_without_the_counter_the_stale_document_is_served_until_its_ttl() {
    let (mut c, mut sim) = setup(&[("index_get", Distribution::Fixed(10 * MS))], false);
    arrive_at(&mut sim, &[S, 2 * S, 301 * S, 301 * S + 20 * MS]);
    invalidate_at(&mut sim, S + 5 * MS);
    sim.run_until(&mut c, 400 * S);
    assert_eq!(outcomes(&sim), (3, 1));
    let n = &sim.metrics.nodes[0];
    assert_eq!(n.stale_acceptances, 3);
    assert_eq!(n.longest_stale_window, 301 * S - (S + 5 * MS));
    let trace = requests_trace(&c);
    assert_eq!(trace[1], (S + 10 * MS, "index_get", "done: cached".into()));
    assert_eq!(trace[3], (2 * S, "auth_success", "stale".into()));
    assert_eq!(trace[4], (301 * S, "auth_success", "stale".into()));
    assert_eq!(
        trace[5..7],
        [
            (301 * S + 20 * MS, "index_get", "started".into()),
            (301 * S + 30 * MS, "index_get", "done: cached".into()),
        ]
    );
    assert_eq!(trace[7].0, 301 * S + 30 * MS);
    assert_eq!(trace[7].1, "auth_failure");
}

/// With no `index_get` latency the GET and the put are one instant (the behaviour before CA-TM2):
/// the same arrivals leave no `index_get` event, and the clear at 1.005 s simply removes Q1's
/// cached document, so Q2 is refused.
#[test]
fn rule_ca_tm2_no_latency_keeps_the_instant_fetch() {
    let (mut c, mut sim) = setup(&[("index_get", Distribution::Fixed(0))], true);
    arrive_at(&mut sim, &[S, 2 * S]);
    invalidate_at(&mut sim, S + 5 * MS);
    sim.run_until(&mut c, 10 * S);
    // Q1 at 1 s: doc put, auth cache hit on the pre-warmed success.
    assert_eq!(outcomes(&sim), (1, 1));
    assert_eq!(sim.metrics.nodes[0].stale_acceptances, 0);
    assert_eq!(sim.metrics.index_get.count(), 0);
    assert!(super::report::report(&sim, &c)
        .get("index_get_ms")
        .is_none());
    assert_eq!(
        requests_trace(&c)
            .iter()
            .map(|(t, k, _)| (*t, *k))
            .collect::<Vec<_>>(),
        vec![(S, "auth_success"), (2 * S, "auth_failure")]
    );
}

/// A node stopped while a GET is in flight ends the request as unavailable at once; the GET's
/// response is then ignored.
#[test]
fn rule_ca_tm2_a_stop_abandons_the_fetch() {
    let (mut c, mut sim) = setup(&[("index_get", Distribution::Fixed(10 * MS))], true);
    arrive_at(&mut sim, &[S]);
    sim.schedule(S + 5 * MS, None, Action::StopNode(0)).unwrap();
    sim.run_until(&mut c, 2 * S);
    let t = sim.metrics.total_outcomes();
    assert_eq!(t[Outcome::Unavailable as usize], 1);
    assert_eq!(t.iter().sum::<u64>(), 1);
    assert_eq!(sim.in_flight(), 0);
    assert_eq!(sim.metrics.latency.max(), 5 * MS);
}

/// CA-TM4, `index_write = 50ms`: the invalidation issued at 1 s lands at 1.05 s, its clear-cache
/// with it. A request at 1.02 s still reads a valid key and is not stale (the key is valid until the
/// write lands); one at 1.06 s is refused.
#[test]
fn rule_ca_tm4_an_index_write_lands_after_its_latency() {
    let (mut c, mut sim) = setup(&[("index_write", Distribution::Fixed(50 * MS))], true);
    arrive_at(&mut sim, &[S + 20 * MS, S + 60 * MS]);
    invalidate_at(&mut sim, S);
    sim.run_until(&mut c, 2 * S);
    assert_eq!(outcomes(&sim), (1, 1));
    assert_eq!(sim.metrics.nodes[0].stale_acceptances, 0);
    let clears: Vec<Nanos> = c
        .events
        .iter()
        .filter(|e| e.kind == EventKind::ClearCache)
        .map(|e| e.time)
        .collect();
    assert_eq!(clears, vec![S + 50 * MS]);
}

/// Same scenario and seed, same trace; a lognormal GET latency draws from its own stream, so the
/// requests' arrival instants are those of the run without it.
#[test]
fn rule_ca_tm1_timed_runs_are_deterministic_and_keep_the_arrivals() {
    let run = |latency: Option<Distribution>| {
        let c = Cluster::new(ClusterConfig::new(2)).unwrap();
        let mut sim = Simulation::new(&c, 11);
        let mut c = c;
        let spec = WorkloadSpec {
            popularity: Popularity::Zipf { s: 1.0 },
            node_choice: NodeChoice::Random,
            wrong_secret_share: 0.1,
            ..api_keys(50, 200.0)
        };
        sim.add_workload(&c, spec).unwrap();
        if let Some(d) = latency {
            sim.latency
                .set(IndexMap::from([("index_get".to_string(), d)]));
        }
        invalidate_at(&mut sim, 3 * S);
        sim.run_until(&mut c, 10 * S);
        let events: Vec<String> = c
            .events
            .iter()
            .map(|e| {
                format!(
                    "{} {} {} {} {}",
                    e.time,
                    e.node,
                    e.kind.name(),
                    e.key,
                    e.detail
                )
            })
            .collect();
        (sim.metrics.requests[0], events)
    };
    let ln = Distribution::LogNormal {
        mu: (2e6f64).ln(),
        sigma: 1.0,
    };
    let (n1, a) = run(Some(ln));
    let (n2, b) = run(Some(ln));
    assert_eq!(a, b);
    let (n0, _) = run(None);
    assert_eq!((n1, n2), (n0, n0));
    assert!(a.iter().any(|e| e.contains("index_get")));
}
