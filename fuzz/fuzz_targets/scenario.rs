//! The scenario specs (`sim::spec`: workloads, actions, cost models as JSON, which is what
//! `escache.load_scenario` and `Simulation.add_workload`/`schedule` hand to Rust), then the simulation
//! they build. The TOML side is fuzzed by `fuzz/atheris_scenario.py`.
//!
//! The input is either a scenario as JSON text (starting with `{`; seeds are the example scenarios)
//! or structured values built by `arbitrary`. Oracle, for any spec:
//! - `spec::workload`, `spec::action`, `spec::cost_model`, `Simulation::add_workload` and
//!   `Simulation::schedule` return a value or a 400 `illegal_argument_exception` with a reason; no
//!   panic;
//! - a small accepted scenario runs for up to 3 virtual seconds without a panic, and neither its
//!   report, its timeline nor its event trace contains the cluster password in any encoding (a `rest`
//!   action's `authorization` may carry it: the string `$basic` stands for `Basic <elastic:password>`).
//!
//! Check name for `ESCACHE_FUZZ_SKIP` (fuzz/README.md): `secrets`.
#![no_main]

use arbitrary::{Arbitrary, Unstructured};
use escache::cluster::{Cluster, ClusterConfig};
use escache::error::EsError;
use escache::sim::{report, spec, Simulation};
use escache::time::NANOS_PER_MILLI;
use escache_fuzz::secrets::Secret;
use escache_fuzz::skipped;
use escache_fuzz::value::{arbitrary_object, arbitrary_value};
use libfuzzer_sys::fuzz_target;
use serde_json::{Map, Value};

const PASSWORD: &str = "fuzz-scenario-pw";

#[derive(Debug)]
struct Input {
    workloads: Vec<Value>,
    actions: Vec<(Value, Option<Value>, Value)>,
    cost_model: Option<Value>,
    seed: u64,
}

impl Input {
    /// A scenario document as JSON text (the layout of a scenario file: `workloads`, `actions` with
    /// `at` and `every`, `simulation.cost_model`, `simulation.seed`), so that seeds can be real
    /// scenarios (`examples/*.toml` converted) and mutated as text.
    fn from_json(data: &[u8]) -> Option<Input> {
        let doc: Value = serde_json::from_slice(data).ok()?;
        let list = |k: &str| {
            doc.get(k)
                .and_then(Value::as_array)
                .cloned()
                .unwrap_or_default()
        };
        let actions = list("actions")
            .into_iter()
            .map(|mut a| {
                let (at, every) = match a.as_object_mut() {
                    Some(m) => (m.remove("at").unwrap_or(Value::from(0)), m.remove("every")),
                    None => (Value::from(0), None),
                };
                (at, every, a)
            })
            .collect();
        let sim = doc.get("simulation");
        Some(Input {
            workloads: list("workloads"),
            actions,
            cost_model: sim.and_then(|s| s.get("cost_model")).cloned(),
            seed: sim
                .and_then(|s| s.get("seed"))
                .and_then(Value::as_u64)
                .unwrap_or(0),
        })
    }
}

impl<'a> Arbitrary<'a> for Input {
    fn arbitrary(u: &mut Unstructured<'a>) -> arbitrary::Result<Self> {
        if let Some(input) = u
            .peek_bytes(1)
            .filter(|b| b[0] == b'{')
            .and_then(|_| Input::from_json(u.peek_bytes(u.len()).unwrap_or_default()))
        {
            return Ok(input);
        }
        let mut workloads = Vec::new();
        for _ in 0..u.int_in_range(0..=3)? {
            workloads.push(Value::Object(arbitrary_object(u, 2)?));
        }
        let mut actions = Vec::new();
        for _ in 0..u.int_in_range(0..=4)? {
            let at = arbitrary_value(u, 0)?;
            let every = if u.arbitrary()? {
                Some(arbitrary_value(u, 0)?)
            } else {
                None
            };
            actions.push((at, every, Value::Object(arbitrary_object(u, 2)?)));
        }
        let cost_model = if u.arbitrary()? {
            Some(Value::Object(arbitrary_object(u, 1)?))
        } else {
            None
        };
        Ok(Input {
            workloads,
            actions,
            cost_model,
            seed: u.arbitrary()?,
        })
    }
}

fn basic() -> String {
    use base64::Engine;
    let b64 = base64::engine::general_purpose::STANDARD.encode(format!("elastic:{PASSWORD}"));
    format!("Basic {b64}")
}

/// Replaces the placeholder `$basic` by the elastic user's `Authorization` header.
fn substitute(v: &mut Value) {
    match v {
        Value::String(s) if s == "$basic" => *s = basic(),
        Value::Array(a) => a.iter_mut().for_each(substitute),
        Value::Object(m) => m.values_mut().for_each(substitute),
        _ => {}
    }
}

fn check_error(e: &EsError) {
    assert_eq!(e.status, 400, "{e:?}");
    assert_eq!(e.kind, "illegal_argument_exception", "{e:?}");
    assert!(!e.reason.is_empty());
}

/// Whether running this scenario for a few virtual seconds is cheap.
fn small(workloads: &[Value], every: &[Option<u64>]) -> bool {
    let field = |w: &Map<String, Value>, k: &str| w.get(k).and_then(Value::as_f64);
    workloads.iter().filter_map(Value::as_object).all(|w| {
        ["population", "keys", "tokens"]
            .iter()
            .all(|k| field(w, k).is_none_or(|n| n <= 50.0))
            && (w.contains_key("population") || w.contains_key("keys") || w.contains_key("tokens"))
            && field(w, "rate").is_none_or(|r| r <= 200.0)
            && w.contains_key("rate")
    }) && every
        .iter()
        .all(|e| e.is_none_or(|n| n >= 50 * NANOS_PER_MILLI))
}

fuzz_target!(|input: Input| {
    let mut config = ClusterConfig::new(3);
    config.password = PASSWORD.into();
    config.seed = input.seed;
    let mut cluster = Cluster::new(config).expect("a valid cluster");
    let mut sim = Simulation::new(&cluster, input.seed);
    if let Some(c) = &input.cost_model {
        match spec::cost_model(c) {
            Ok(c) => sim.cost = c,
            Err(e) => return check_error(&e),
        }
    }
    let mut workloads = input.workloads.clone();
    for w in &mut workloads {
        substitute(w);
        let built = match spec::workload(&cluster, w) {
            Ok(b) => b,
            Err(e) => return check_error(&e),
        };
        if let Err(e) = sim.add_workload(&cluster, built) {
            return check_error(&e);
        }
    }
    let names = sim.workload_names();
    let mut intervals = Vec::new();
    for (at, every, action) in &input.actions {
        let mut action = action.clone();
        substitute(&mut action);
        let at = match spec::duration(at, "at") {
            Ok(n) => n,
            Err(e) => return check_error(&e),
        };
        let every = match every
            .as_ref()
            .map(|e| spec::duration(e, "every"))
            .transpose()
        {
            Ok(n) => n,
            Err(e) => return check_error(&e),
        };
        let built = match spec::action(&cluster, &names, &action) {
            Ok(a) => a,
            Err(e) => return check_error(&e),
        };
        if let Err(e) = sim.schedule(at, every, built) {
            return check_error(&e);
        }
        intervals.push(every);
    }
    if !small(&workloads, &intervals) {
        return;
    }
    sim.run_until(&mut cluster, 3_000 * NANOS_PER_MILLI);
    if skipped("secrets") {
        return;
    }
    let secret = Secret::new("the elastic password", "elastic", PASSWORD);
    // What the scenario's author wrote (before `$basic` is substituted) is theirs to see again: a
    // path that spells a secret is shown as written.
    let written = serde_json::to_vec(&(&input.workloads, &input.actions)).unwrap_or_default();
    let report = serde_json::to_string(&report::report(&sim, &cluster)).expect("report is JSON");
    let timeline =
        serde_json::to_string(&report::timeline(&sim, &cluster)).expect("timeline is JSON");
    for (what, text) in [
        ("report", report.as_bytes()),
        ("timeline", timeline.as_bytes()),
    ] {
        if let Some(form) = secret.leaked_in(text, &written) {
            panic!("{} leaks {form:?} in the {what}", secret.label);
        }
    }
    for ev in cluster.events.iter() {
        for text in [ev.key, ev.detail] {
            if let Some(form) = secret.leaked_in(text.as_bytes(), &written) {
                panic!("{} leaks {form:?} in the event trace", secret.label);
            }
        }
    }
});
