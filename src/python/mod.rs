//! pyo3 glue: converts Python arguments to core types, calls the core, converts back. No model logic
//! lives here.

mod cache;
mod cluster;
mod convert;
mod errors;
mod functions;
mod simulation;

use pyo3::prelude::*;

#[pymodule]
fn _core(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add("__version__", env!("CARGO_PKG_VERSION"))?;
    m.add_class::<cache::PyCache>()?;
    m.add_class::<cache::PyReplayResult>()?;
    cluster::register(m)?;
    m.add_class::<simulation::PySimulation>()?;
    functions::register(m)?;
    Ok(())
}
