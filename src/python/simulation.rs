//! `escache._core._Simulation`: the simulator over a cluster. Descriptions arrive as JSON text and are
//! parsed by `crate::sim::spec`; reports leave as JSON text. The Python `escache.Simulation` adds
//! scenario files and pretty printing.
//!
//! The run loop lives here because of the locking rules (module documentation of `python`): the core
//! runs in slices with the locks taken while detached; between slices, with every lock released, the
//! loop runs the Python callables scheduled as actions and checks for signals.

use super::cluster::{PyCluster, Shared, CLUSTER};
use super::convert;
use super::errors;
use super::locks::{self, Broken};
use crate::sim::explain::Explainer;
use crate::sim::scenario::Scenario;
use crate::sim::{report, spec, timeline, Simulation, Stop};
use crate::time::Nanos;
use pyo3::exceptions::PyException;
use pyo3::prelude::*;
use pyo3::sync::critical_section::with_critical_section;
use pyo3::types::{PyCapsule, PyList};
use pyo3::{PyTraverseError, PyVisit};
use std::sync::Mutex;
use std::time::{Duration, Instant};

const SIMULATION: &str = "simulation";

/// The longest a run goes, in wall time, without checking for signals (Ctrl-C) with no lock held.
pub(crate) const SIGNAL_CHECK_INTERVAL: Duration = Duration::from_millis(50);

/// Events run per hold of the locks: other threads get them between such slices.
const SLICE_EVENTS: usize = 256;

#[pyclass(frozen, module = "escache._core", name = "_Simulation")]
pub struct PySimulation {
    cluster: Shared,
    /// The Python cluster: the argument of callable actions.
    cluster_obj: Py<PyAny>,
    sim: Mutex<Simulation>,
    /// The cluster's clock when the simulation was built: times given to it count from here.
    start: Nanos,
    /// The Python callables scheduled as actions; the index is their key in the core.
    callables: Py<PyList>,
}

fn json_arg(py: Python<'_>, text: &str, what: &str) -> PyResult<serde_json::Value> {
    serde_json::from_str(text).map_err(|e| errors::illegal_argument(py, format!("{what}: {e}")))
}

impl PySimulation {
    /// Runs `f` on the locked cluster and simulation (in that order), detached.
    fn with_both<R: Send>(
        &self,
        py: Python<'_>,
        f: impl FnOnce(&mut crate::cluster::Cluster, &mut Simulation) -> R + Send,
    ) -> PyResult<R> {
        locks::with2(py, (CLUSTER, &self.cluster), (SIMULATION, &self.sim), f)
    }

    /// Runs `f` on the locked simulation alone, detached.
    fn with_sim<R: Send>(
        &self,
        py: Python<'_>,
        f: impl FnOnce(&mut Simulation) -> R + Send,
    ) -> PyResult<R> {
        locks::with(py, SIMULATION, &self.sim, f)
    }

    /// A time `offset` nanoseconds after the simulation's start.
    fn time(&self, py: Python<'_>, offset: Nanos, what: &str) -> PyResult<Nanos> {
        self.start
            .checked_add(offset)
            .filter(|t| *t < Nanos::MAX)
            .ok_or_else(|| {
                errors::illegal_argument(
                    py,
                    format!("[{what}] is past the end of the virtual clock (2^64 nanoseconds)"),
                )
            })
    }

    /// Runs callable action `key` with every lock released. An exception is recorded as the action's
    /// failure and the run goes on; `KeyboardInterrupt` and `SystemExit` stop the run.
    fn run_callable(&self, py: Python<'_>, key: usize, at: Nanos) -> PyResult<()> {
        let f = self.callables.bind(py).get_item(key)?;
        let Err(e) = f.call1((self.cluster_obj.bind(py),)) else {
            return Ok(());
        };
        if !e.is_instance_of::<PyException>(py) {
            return Err(e);
        }
        let message = e.value(py).str().map_or_else(
            |_| "<unprintable>".into(),
            |s| s.to_string_lossy().into_owned(),
        );
        let error = format!("{}: {message}", convert::type_name(e.value(py)));
        let action = format!("callable {}", callable_name(&f));
        self.with_sim(py, |s| s.external_failed(at, action, error))
    }
}

/// A callable's name for reports: its qualified name, or its type's.
fn callable_name(f: &Bound<'_, PyAny>) -> String {
    f.getattr("__qualname__")
        .and_then(|q| q.extract::<String>())
        .unwrap_or_else(|_| convert::type_name(f))
}

#[pymethods]
impl PySimulation {
    #[new]
    #[pyo3(signature = (cluster, seed=None))]
    fn new(
        py: Python<'_>,
        cluster: &Bound<'_, PyCluster>,
        seed: Option<&Bound<'_, PyAny>>,
    ) -> PyResult<Self> {
        let seed = seed.map_or(Ok(0), |s| convert::seed(s, "seed"))?;
        let shared = cluster.get().shared();
        let (sim, start) = locks::with(py, CLUSTER, &shared, |c| {
            (Simulation::new(c, seed), c.now())
        })?;
        Ok(PySimulation {
            cluster: shared,
            cluster_obj: cluster.clone().into_any().unbind(),
            sim: Mutex::new(sim),
            start,
            callables: PyList::empty(py).unbind(),
        })
    }

    /// The cluster's clock (virtual nanoseconds) when the simulation was built.
    #[getter]
    fn _start_nanos(&self) -> Nanos {
        self.start
    }

    /// Adds a workload described as JSON; returns its index.
    fn _add_workload(&self, py: Python<'_>, description: &str) -> PyResult<usize> {
        let v = json_arg(py, description, "workload")?;
        Ok(self.with_both(py, |c, sim| {
            let w = spec::workload(c, &v)?;
            sim.add_workload(c, w)
        })??)
    }

    /// Schedules an action described as JSON at `at` nanoseconds after the start (and every `every`).
    #[pyo3(signature = (at, description, every=None))]
    fn _schedule(
        &self,
        py: Python<'_>,
        at: Nanos,
        description: &str,
        every: Option<Nanos>,
    ) -> PyResult<()> {
        let at = self.time(py, at, "at")?;
        let v = json_arg(py, description, "action")?;
        self.with_both(py, |c, sim| {
            let names = sim.workload_names();
            let action = spec::action(c, &names, &v)?;
            sim.schedule(at, every, action)
        })??;
        Ok(())
    }

    /// Schedules a Python callable, called with the cluster, at `at` nanoseconds after the start (and
    /// every `every`). It runs with no lock held, so it may use the cluster.
    #[pyo3(signature = (at, action, every=None))]
    fn _schedule_callable(
        &self,
        py: Python<'_>,
        at: Nanos,
        action: &Bound<'_, PyAny>,
        every: Option<Nanos>,
    ) -> PyResult<()> {
        let at = self.time(py, at, "at")?;
        if !action.is_callable() {
            return Err(errors::illegal_argument_type(
                py,
                format!(
                    "[action] must be callable, not [{}]",
                    convert::type_name(action)
                ),
            ));
        }
        if every == Some(0) {
            return Err(errors::illegal_argument(py, "[every] must be positive"));
        }
        let list = self.callables.bind(py);
        // The key is the callable's index: taken and filled in one step, whatever other threads do.
        let key = with_critical_section(list, || {
            let key = list.len();
            list.append(action).map(|()| key)
        })?;
        Ok(self.with_sim(py, |sim| sim.schedule_external(at, every, key))??)
    }

    fn _set_cost_model(&self, py: Python<'_>, description: &str) -> PyResult<()> {
        let v = json_arg(py, description, "cost model")?;
        let cost = spec::cost_model(&v)?;
        self.with_sim(py, |s| s.cost = cost)
    }

    /// `[simulation.latency]` (CA-TM1): a JSON table of operation name → distribution.
    fn _set_latency(&self, py: Python<'_>, description: &str) -> PyResult<()> {
        let v = json_arg(py, description, "latency")?;
        let dists = crate::sim::latency::latencies(&v)?;
        self.with_sim(py, |s| s.latency.set(dists))
    }

    /// `[simulation.fault_detection]` (CA-PT1): a JSON table of the follower check settings.
    fn _set_fault_detection(&self, py: Python<'_>, description: &str) -> PyResult<()> {
        let v = json_arg(py, description, "fault detection")?;
        let fd = crate::sim::fault_detection::fault_detection(&v)?;
        self.with_sim(py, |s| s.fault_detection = Some(fd))
    }

    /// The what-if of a doc cache without its invalidation counter check (CA-TM3).
    fn _set_doc_cache_counter(&self, py: Python<'_>, enabled: bool) -> PyResult<()> {
        self.with_sim(py, |s| s.doc_cache_counter = enabled)
    }

    #[setter]
    fn set_sample_interval(&self, py: Python<'_>, interval: &Bound<'_, PyAny>) -> PyResult<()> {
        let n = convert::duration_nanos(interval, "sample_interval")?;
        if n == 0 {
            return Err(errors::illegal_argument(
                py,
                "sample_interval must be positive",
            ));
        }
        self.with_sim(py, |s| s.sample_interval = n)
    }

    /// Runs every event up to `until` nanoseconds after the start. The core runs with the locks
    /// taken while detached, in slices; between slices, with no lock held, callable actions run and
    /// signals are checked (at least every `SIGNAL_CHECK_INTERVAL`). A `KeyboardInterrupt` leaves
    /// the simulation between two events: a later run goes on from there.
    fn _run_until(&self, py: Python<'_>, until: Nanos) -> PyResult<()> {
        let until = self.time(py, until, "until")?;
        let (cluster, sim) = (&self.cluster, &self.sim);
        loop {
            let stop = py.detach(|| {
                let started = Instant::now();
                loop {
                    let stop = locks::locked2((CLUSTER, cluster), (SIMULATION, sim), |c, s| {
                        s.run_slice(c, until, SLICE_EVENTS)
                    })?;
                    if stop != Stop::Budget || started.elapsed() >= SIGNAL_CHECK_INTERVAL {
                        return Ok::<_, Broken>(stop);
                    }
                }
            })?;
            match stop {
                Stop::Reached => return Ok(()),
                Stop::Budget => {}
                Stop::External { key, at } => self.run_callable(py, key, at)?,
            }
            py.check_signals()?;
        }
    }

    /// Reads a scenario (TOML text, or JSON text when `toml` is false) into the scenario type and
    /// returns the document as read, as JSON text. Errors name the table and field.
    #[staticmethod]
    fn _parse_scenario(py: Python<'_>, text: &str, toml: bool) -> PyResult<String> {
        let read = if toml {
            Scenario::from_toml(text)
        } else {
            Scenario::from_json(text)
        };
        read.map(|(_, doc)| doc.to_string())
            .map_err(|e| errors::illegal_argument(py, e.into_reason()))
    }

    fn _report(&self, py: Python<'_>) -> PyResult<String> {
        self.with_both(py, |c, s| report::report(s, c).to_string())
    }

    fn _timeline(&self, py: Python<'_>) -> PyResult<String> {
        self.with_both(py, |c, s| report::timeline(s, c).to_string())
    }

    /// Rows in the timeline so far (rows are only ever added).
    fn _timeline_len(&self, py: Python<'_>) -> PyResult<usize> {
        self.with_sim(py, |s| timeline::timeline_len(s))
    }

    /// Timeline rows `0..stop` as a table, JSON text: `{"columns": [...], "rows": [[...], ...]}`.
    fn _timeline_table(&self, py: Python<'_>, stop: usize) -> PyResult<String> {
        self.with_both(py, |c, s| {
            timeline::timeline_columns(s, c, 0, stop)
                .to_json()
                .to_string()
        })
    }

    /// Timeline rows `0..stop` as an Arrow C stream capsule (`Timeline.__arrow_c_stream__`;
    /// `arrow.rs`). `requested_schema` is accepted and not honoured, as the `PyCapsule` interface allows.
    #[pyo3(signature = (stop, requested_schema=None))]
    fn _timeline_arrow<'py>(
        &self,
        py: Python<'py>,
        stop: usize,
        requested_schema: Option<&Bound<'py, PyAny>>,
    ) -> PyResult<Bound<'py, PyCapsule>> {
        let _ = requested_schema;
        let batches = self.with_both(py, |c, s| super::arrow::timeline_batches(s, c, stop))?;
        super::arrow::stream_capsule(py, batches)
    }

    /// Why an authentication of `credential` was accepted (`crate::sim::explain`), as JSON: on
    /// `node` (any when `None`), the latest acceptance at or before `at`, reading the trace up to
    /// `until` (both virtual nanoseconds since the cluster started).
    #[pyo3(signature = (credential, node=None, at=None, until=None))]
    fn _explain(
        &self,
        py: Python<'_>,
        credential: &str,
        node: Option<&str>,
        at: Option<Nanos>,
        until: Option<Nanos>,
    ) -> PyResult<String> {
        let e = self.with_both(py, |c, s| {
            Explainer::new(s, c, until).explain(credential, node, at)
        })??;
        Ok(serde_json::to_string(&e).unwrap_or_default())
    }

    /// Every stale acceptance in the trace up to `until`, explained, as a JSON list.
    #[pyo3(signature = (until=None))]
    fn _explain_stale(&self, py: Python<'_>, until: Option<Nanos>) -> PyResult<String> {
        let all = self.with_both(py, |c, s| Explainer::new(s, c, until).stale_acceptances())?;
        Ok(serde_json::to_string(&all).unwrap_or_default())
    }

    /// Ids of a workload's credentials (API key ids or qualified token names).
    fn _credential_ids(&self, py: Python<'_>, workload: usize) -> PyResult<Vec<String>> {
        self.with_sim(py, |s| s.credential_ids(workload))
    }

    #[getter]
    fn in_flight(&self, py: Python<'_>) -> PyResult<usize> {
        self.with_sim(py, |s| s.in_flight())
    }

    /// A test hook, not API: panics inside the core with the cluster and the simulation locked, as a
    /// bug in a run would.
    fn _testing_panic(&self, py: Python<'_>) -> PyResult<()> {
        self.with_both(py, |c, _| {
            c.advance(1);
            // ok: a test hook whose whole purpose is to panic (tests of the broken state)
            panic!("escache test hook: a panic with the simulation locked")
        })
    }

    fn __traverse__(&self, visit: PyVisit<'_>) -> Result<(), PyTraverseError> {
        visit.call(&self.cluster_obj)?;
        visit.call(&self.callables)
    }
}
