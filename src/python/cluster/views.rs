//! `escache._core.CacheView` and `escache._core.SecurityIndex`: read-only and read-write views of
//! a cluster's caches and `.security` index.

use super::{convert, errors, py_bool, py_repr, try_with, with, Shared};
use crate::cluster::Cluster;
use crate::events::{CacheId, NodeIndex};
use crate::security::index::IndexHealth;
use pyo3::prelude::*;
use pyo3::types::{PyDict, PyList};

/// A read-only view of one cache on one node. Looking never counts a hit or moves an entry.
#[pyclass(frozen, module = "escache._core", name = "CacheView")]
pub struct PyCacheView {
    pub(super) shared: Shared,
    pub(super) node: NodeIndex,
    pub(super) cache: CacheId,
}

impl PyCacheView {
    fn with<R: Send>(
        &self,
        py: Python<'_>,
        f: impl FnOnce(&Cluster, NodeIndex, CacheId) -> R + Send,
    ) -> PyResult<R> {
        let (node, cache) = (self.node, self.cache);
        with(py, &self.shared, |c| f(c, node, cache))
    }
}

#[pymethods]
impl PyCacheView {
    #[getter]
    fn name(&self) -> &'static str {
        self.cache.name()
    }

    /// Whether the node's settings enable this cache.
    #[getter]
    fn enabled(&self, py: Python<'_>) -> PyResult<bool> {
        self.with(py, |c, n, id| c.cache_size(n, id).is_some())
    }

    fn __len__(&self, py: Python<'_>) -> PyResult<usize> {
        self.with(py, |c, n, id| c.cache_size(n, id).map_or(0, |s| s.count))
    }

    fn __contains__(&self, py: Python<'_>, key: &Bound<'_, PyAny>) -> PyResult<bool> {
        // Cache keys are ids: anything that is not text is simply not in the cache.
        let Ok(key) = convert::text(key, "key") else {
            return Ok(false);
        };
        self.with(py, |c, n, id| c.cache_contains(n, id, key))
    }

    /// Keys, most recently used first.
    fn keys(&self, py: Python<'_>) -> PyResult<Vec<String>> {
        self.with(py, Cluster::cache_keys)
    }

    fn __iter__<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        PyList::new(py, self.keys(py)?)?
            .try_iter()
            .map(Bound::into_any)
    }

    /// `{"hits": int, "misses": int, "evictions": int}` (zeros for a disabled cache).
    fn stats<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyDict>> {
        let s = self.with(py, Cluster::cache_stats)?.unwrap_or_default();
        let d = PyDict::new(py);
        d.set_item("hits", s.hits)?;
        d.set_item("misses", s.misses)?;
        d.set_item("evictions", s.evictions)?;
        Ok(d)
    }

    /// Removals by reason: `{"REPLACED": int, "INVALIDATED": int, "EVICTED": int}` (zeros when disabled).
    fn removals<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyDict>> {
        let r = self.with(py, Cluster::cache_removals)?.unwrap_or_default();
        let d = PyDict::new(py);
        d.set_item("REPLACED", r.replaced)?;
        d.set_item("INVALIDATED", r.invalidated)?;
        d.set_item("EVICTED", r.evicted)?;
        Ok(d)
    }

    #[getter]
    fn weight(&self, py: Python<'_>) -> PyResult<u128> {
        self.with(py, |c, n, id| c.cache_size(n, id).map_or(0, |s| s.weight))
    }

    #[getter]
    fn max_weight(&self, py: Python<'_>) -> PyResult<Option<u64>> {
        self.with(py, |c, n, id| {
            c.cache_size(n, id).and_then(|s| s.maximum_weight)
        })
    }

    /// The cache's time to live (`expireAfterWrite`, from the node's `*.cache.ttl` setting) in
    /// seconds; `None` when entries do not expire or the cache is disabled.
    #[getter]
    fn expire_after_write(&self, py: Python<'_>) -> PyResult<Option<f64>> {
        self.with(py, |c, n, id| {
            c.cache_size(n, id)
                .and_then(|s| s.expire_after_write)
                .map(crate::python::cache::nanos_to_seconds)
        })
    }

    /// The cache's `expireAfterAccess` in seconds; `None` when entries do not expire after access
    /// (Elasticsearch's security caches set only a TTL) or the cache is disabled.
    #[getter]
    fn expire_after_access(&self, py: Python<'_>) -> PyResult<Option<f64>> {
        self.with(py, |c, n, id| {
            c.cache_size(n, id)
                .and_then(|s| s.expire_after_access)
                .map(crate::python::cache::nanos_to_seconds)
        })
    }

    fn __repr__(&self, py: Python<'_>) -> PyResult<String> {
        let (len, enabled, node) = self.with(py, |c, n, id| {
            let s = c.cache_size(n, id);
            (
                s.map_or(0, |s| s.count),
                s.is_some(),
                // ok: the node's index was checked when its view was made; nodes are never removed.
                c.nodes()[n as usize].name.clone(),
            )
        })?;
        Ok(format!(
            "<escache.CacheView name={} node={} entries={len} enabled={}>",
            py_repr(py, self.cache.name())?,
            py_repr(py, &node)?,
            py_bool(enabled)
        ))
    }

    /// Jupyter's rich display: the HTML that `escache._display` renders (the glue only calls it).
    fn _repr_html_<'py>(slf: &Bound<'py, Self>) -> PyResult<Bound<'py, PyAny>> {
        let display = slf.py().import("escache._display")?;
        display.call_method1("cache_view_html", (slf,))
    }
}

/// The cluster's `.security` index.
#[pyclass(frozen, module = "escache._core", name = "SecurityIndex")]
pub struct PySecurityIndex {
    pub(super) shared: Shared,
}

#[pymethods]
impl PySecurityIndex {
    /// "green", "yellow", "red", or None when absent or closed.
    #[getter]
    fn health(&self, py: Python<'_>) -> PyResult<Option<&'static str>> {
        with(py, &self.shared, |c| {
            c.security_index.state().health().map(IndexHealth::as_str)
        })
    }

    #[setter]
    fn set_health(&self, py: Python<'_>, value: Option<&Bound<'_, PyAny>>) -> PyResult<()> {
        let Some(v) = convert::opt_text(value, "health")? else {
            return Err(errors::illegal_argument(
                py,
                "health cannot be set to None: use delete() or close()",
            ));
        };
        let h = IndexHealth::from_name(v)?;
        try_with(py, &self.shared, |c| Ok(c.set_security_index_health(h)?))
    }

    #[getter]
    fn exists(&self, py: Python<'_>) -> PyResult<bool> {
        with(py, &self.shared, |c| c.security_index.exists())
    }

    #[getter]
    fn is_open(&self, py: Python<'_>) -> PyResult<bool> {
        with(py, &self.shared, |c| {
            c.security_index.exists() && c.security_index.state().open
        })
    }

    #[getter]
    fn uuid(&self, py: Python<'_>) -> PyResult<Option<String>> {
        with(py, &self.shared, |c| c.security_index.state().uuid.clone())
    }

    #[getter]
    fn up_to_date(&self, py: Python<'_>) -> PyResult<bool> {
        with(py, &self.shared, |c| {
            c.security_index.state().is_up_to_date()
        })
    }

    #[setter]
    fn set_up_to_date(&self, py: Python<'_>, value: bool) -> PyResult<()> {
        with(py, &self.shared, |c| c.set_security_index_up_to_date(value))
    }

    fn create(&self, py: Python<'_>) -> PyResult<()> {
        with(py, &self.shared, Cluster::create_security_index)
    }

    fn delete(&self, py: Python<'_>) -> PyResult<()> {
        with(py, &self.shared, Cluster::delete_security_index)
    }

    fn close(&self, py: Python<'_>) -> PyResult<()> {
        with(py, &self.shared, Cluster::close_security_index)
    }

    fn open(&self, py: Python<'_>) -> PyResult<()> {
        with(py, &self.shared, Cluster::open_security_index)
    }

    /// Deletes and creates the index: empty, with a new UUID.
    fn recreate(&self, py: Python<'_>) -> PyResult<()> {
        with(py, &self.shared, Cluster::recreate_security_index)
    }

    fn __repr__(&self, py: Python<'_>) -> PyResult<String> {
        let (state, uuid) = with(py, &self.shared, |c| {
            let s = c.security_index.state();
            (s.to_string(), s.uuid.clone())
        })?;
        let uuid = match uuid {
            Some(u) => py_repr(py, &u)?,
            None => "None".to_string(),
        };
        Ok(format!(
            "<escache.SecurityIndex state={} uuid={uuid}>",
            py_repr(py, &state)?
        ))
    }

    /// Jupyter's rich display: the HTML that `escache._display` renders (the glue only calls it).
    fn _repr_html_<'py>(slf: &Bound<'py, Self>) -> PyResult<Bound<'py, PyAny>> {
        let display = slf.py().import("escache._display")?;
        display.call_method1("security_index_html", (slf,))
    }
}
