//! `escache._core.RequestLog`: the cluster's request log (`crate::cluster::requests`) as rows, the
//! route table as rows (the served-APIs page), and `Cluster._reset`. Glue only.

use super::{with, Shared, CLUSTER};
use crate::cluster::requests::{ParamValue, RequestRecord};
use crate::cluster::Cluster;
use crate::python::locks;
use crate::rest::router::{ROUTES, UNIMPLEMENTED_ROUTES};
use pyo3::prelude::*;
use pyo3::types::{PyList, PyString, PyTuple};

/// One record as plain Rust data, converted once re-attached.
type Row = (
    u64,
    String,
    Option<&'static str>,
    String,
    String,
    Vec<(String, ParamValue)>,
    Option<String>,
    Option<String>,
    u16,
    Vec<(String, &'static str, Option<Vec<String>>)>,
);

fn row(c: &Cluster, r: &RequestRecord) -> Row {
    let name = |i: u16| c.node(i).map_or_else(String::new, |n| n.name.clone());
    (
        r.time,
        name(r.node),
        r.api,
        r.method.clone(),
        r.path.clone(),
        r.params.clone(),
        r.principal.clone(),
        r.realm.clone(),
        r.status,
        r.cleared
            .iter()
            .map(|x| (name(x.node), x.cache.name(), x.keys.clone()))
            .collect(),
    )
}

/// A cluster's request log: `cluster.requests` in Python wraps it.
#[pyclass(frozen, module = "escache._core", name = "RequestLog")]
pub struct PyRequestLog {
    pub(super) shared: Shared,
}

#[pymethods]
impl PyRequestLog {
    fn __len__(&self, py: Python<'_>) -> PyResult<usize> {
        with(py, &self.shared, |c| c.requests.len())
    }

    /// Records `[start, stop)` as tuples `(time_nanos, node, api, method, path, [(name, value)],
    /// principal, realm, status, [(node, cache, keys or None)])`; a value is a str or a list of str.
    fn rows<'py>(
        &self,
        py: Python<'py>,
        start: usize,
        stop: usize,
    ) -> PyResult<Bound<'py, PyList>> {
        let rows: Vec<Row> = with(py, &self.shared, |c| {
            let stop = stop.min(c.requests.len());
            (start..stop)
                .filter_map(|i| c.requests.get(i))
                .map(|r| row(c, r))
                .collect()
        })?;
        let out = PyList::empty(py);
        for (time, node, api, method, path, params, principal, realm, status, cleared) in rows {
            let params_list = PyList::empty(py);
            for (k, v) in params {
                let value = match v {
                    ParamValue::One(s) => PyString::new(py, &s).into_any(),
                    ParamValue::Many(items) => PyList::new(py, items)?.into_any(),
                };
                params_list.append((k, value))?;
            }
            let cleared_list = PyList::new(py, cleared)?;
            out.append(PyTuple::new(
                py,
                [
                    time.into_pyobject(py)?.into_any(),
                    node.into_pyobject(py)?.into_any(),
                    api.into_pyobject(py)?.into_any(),
                    method.into_pyobject(py)?.into_any(),
                    path.into_pyobject(py)?.into_any(),
                    params_list.into_any(),
                    principal.into_pyobject(py)?.into_any(),
                    realm.into_pyobject(py)?.into_any(),
                    status.into_pyobject(py)?.into_any(),
                    cleared_list.into_any(),
                ],
            )?)?;
        }
        Ok(out)
    }

    fn clear(&self, py: Python<'_>) -> PyResult<()> {
        with(py, &self.shared, |c| c.requests.clear())
    }

    #[getter]
    fn enabled(&self, py: Python<'_>) -> PyResult<bool> {
        with(py, &self.shared, |c| c.requests.enabled())
    }

    #[setter]
    fn set_enabled(&self, py: Python<'_>, on: bool) -> PyResult<()> {
        with(py, &self.shared, |c| c.requests.set_enabled(on))
    }

    #[getter]
    fn maxlen(&self, py: Python<'_>) -> PyResult<usize> {
        with(py, &self.shared, |c| c.requests.capacity())
    }

    #[setter]
    fn set_maxlen(&self, py: Python<'_>, n: usize) -> PyResult<()> {
        with(py, &self.shared, |c| c.requests.set_capacity(n))
    }

    #[getter]
    fn dropped(&self, py: Python<'_>) -> PyResult<u64> {
        with(py, &self.shared, |c| c.requests.dropped())
    }
}

/// Rebuilds the shared cluster in place (`Cluster::reset`).
pub(super) fn reset(py: Python<'_>, shared: &Shared) -> PyResult<()> {
    let done = py.detach(|| locks::locked(CLUSTER, shared, Cluster::reset))?;
    Ok(done?)
}

/// The route table: `(method, path, api, handler, since)` for each route served (`since`: the oldest
/// version profile that has it, CA-VP7), then `(method, path, None, None, None)` for each
/// Elasticsearch route that answers as unhandled.
#[pyfunction]
#[allow(clippy::type_complexity)]
fn _routes() -> Vec<(
    &'static str,
    &'static str,
    Option<&'static str>,
    Option<&'static str>,
    Option<&'static str>,
)> {
    let served = ROUTES.iter().map(|&(m, path, route)| {
        (
            m.as_str(),
            path,
            Some(route.api_name()),
            Some(route.handler_name()),
            Some(route.since().name()),
        )
    });
    let unserved = UNIMPLEMENTED_ROUTES
        .iter()
        .map(|&(m, path)| (m.as_str(), path, None, None, None));
    served.chain(unserved).collect()
}

/// Service account token name rule V1 (`Validation.isValidServiceAccountTokenName`), for
/// `escache.strategies`.
#[pyfunction]
fn _is_valid_token_name(name: &str) -> bool {
    crate::security::service_account::token::is_valid_token_name(name)
}

pub(super) fn register(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add_class::<PyRequestLog>()?;
    m.add_function(wrap_pyfunction!(_routes, m)?)?;
    // The version profiles, oldest first (docs/versions.md).
    let versions: Vec<&str> = crate::security::version::EsVersion::ALL
        .iter()
        .map(|v| v.name())
        .collect();
    m.add("ES_VERSIONS", pyo3::types::PyTuple::new(m.py(), versions)?)?;
    m.add_function(wrap_pyfunction!(_is_valid_token_name, m)?)?;
    Ok(())
}
