//! `escache._core._Simulation`: the simulator over a cluster. Descriptions arrive as JSON text and are
//! parsed by `crate::sim::spec`; reports leave as JSON text. The Python `escache.Simulation` adds
//! Python callables, scenario files and pretty printing.

use super::cluster::{PyCluster, Shared};
use super::convert;
use super::errors;
use crate::sim::{report, spec, Simulation};
use pyo3::prelude::*;
use std::sync::Mutex;

#[pyclass(frozen, module = "escache._core", name = "_Simulation")]
pub struct PySimulation {
    cluster: Shared,
    sim: Mutex<Simulation>,
}

fn json_arg(py: Python<'_>, text: &str, what: &str) -> PyResult<serde_json::Value> {
    serde_json::from_str(text).map_err(|e| errors::illegal_argument(py, format!("{what}: {e}")))
}

#[pymethods]
impl PySimulation {
    #[new]
    #[pyo3(signature = (cluster, seed=0))]
    fn new(py: Python<'_>, cluster: &Bound<'_, PyCluster>, seed: u64) -> PyResult<Self> {
        let shared = cluster.get().shared();
        let sim = {
            let c = super::cluster::lock(py, &shared);
            Simulation::new(&c, seed)
        };
        Ok(PySimulation {
            cluster: shared,
            sim: Mutex::new(sim),
        })
    }

    /// Adds a workload described as JSON; returns its index.
    fn _add_workload(&self, py: Python<'_>, description: &str) -> PyResult<usize> {
        let v = json_arg(py, description, "workload")?;
        let c = super::cluster::lock(py, &self.cluster);
        let w = spec::workload(&c, &v).map_err(|e| errors::illegal_argument(py, e.reason))?;
        let mut sim = self.sim.lock().unwrap_or_else(|p| p.into_inner());
        sim.add_workload(&c, w)
            .map_err(|e| errors::illegal_argument(py, e.reason))
    }

    /// Schedules an action described as JSON at `at` (and every `every`).
    #[pyo3(signature = (at, description, every=None))]
    fn _schedule(
        &self,
        py: Python<'_>,
        at: &Bound<'_, PyAny>,
        description: &str,
        every: Option<&Bound<'_, PyAny>>,
    ) -> PyResult<()> {
        let at = convert::duration_nanos(at, "at")?;
        let every = every
            .filter(|e| !e.is_none())
            .map(|e| convert::duration_nanos(e, "every"))
            .transpose()?;
        let v = json_arg(py, description, "action")?;
        let c = super::cluster::lock(py, &self.cluster);
        let mut sim = self.sim.lock().unwrap_or_else(|p| p.into_inner());
        let names = sim.workload_names();
        let action =
            spec::action(&c, &names, &v).map_err(|e| errors::illegal_argument(py, e.reason))?;
        sim.schedule(at, every, action)
            .map_err(|e| errors::illegal_argument(py, e.reason))
    }

    fn _set_cost_model(&self, py: Python<'_>, description: &str) -> PyResult<()> {
        let v = json_arg(py, description, "cost model")?;
        let cost = spec::cost_model(&v).map_err(|e| errors::illegal_argument(py, e.reason))?;
        self.sim.lock().unwrap_or_else(|p| p.into_inner()).cost = cost;
        Ok(())
    }

    #[setter]
    fn set_sample_interval(&self, interval: &Bound<'_, PyAny>) -> PyResult<()> {
        let n = convert::duration_nanos(interval, "sample_interval")?;
        if n == 0 {
            return Err(errors::illegal_argument(
                interval.py(),
                "sample_interval must be positive",
            ));
        }
        self.sim
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .sample_interval = n;
        Ok(())
    }

    /// Runs every event up to virtual time `until_nanos` with the GIL released.
    fn _run_until(&self, py: Python<'_>, until_nanos: u64) {
        let cluster = self.cluster.clone();
        let mut sim = self.sim.lock().unwrap_or_else(|p| p.into_inner());
        let sim = &mut *sim;
        py.detach(|| {
            let mut c = cluster.lock().unwrap_or_else(|p| p.into_inner());
            sim.run_until(&mut c, until_nanos);
        });
    }

    fn _report(&self, py: Python<'_>) -> String {
        let c = super::cluster::lock(py, &self.cluster);
        let sim = self.sim.lock().unwrap_or_else(|p| p.into_inner());
        report::report(&sim, &c).to_string()
    }

    fn _timeline(&self, py: Python<'_>) -> String {
        let c = super::cluster::lock(py, &self.cluster);
        let sim = self.sim.lock().unwrap_or_else(|p| p.into_inner());
        report::timeline(&sim, &c).to_string()
    }

    /// Ids of a workload's credentials (API key ids or qualified token names).
    fn _credential_ids(&self, workload: usize) -> Vec<String> {
        self.sim
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .credential_ids(workload)
    }

    #[getter]
    fn in_flight(&self) -> usize {
        self.sim
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .in_flight()
    }
}
