//! `escache._core.Node`: one node of a cluster.

use super::{convert, errors, py_bool, py_repr, try_with, with, PyCacheView, Shared};
use crate::events::{CacheId, NodeIndex};
use crate::security::crypto_pool::CryptoPoolMode;
use pyo3::exceptions::PyKeyError;
use pyo3::prelude::*;
use pyo3::types::{PyBytes, PyString};
use std::sync::Arc;

/// One node of a cluster.
#[pyclass(frozen, module = "escache._core", name = "Node")]
pub struct PyNode {
    pub(super) shared: Shared,
    pub(super) index: NodeIndex,
}

impl PyNode {
    /// Runs `f` on this node (nodes are never removed, so the index stays valid).
    fn with_node<R: Send>(
        &self,
        py: Python<'_>,
        f: impl FnOnce(&crate::cluster::Node) -> R + Send,
    ) -> PyResult<R> {
        let i = self.index as usize;
        // ok: the index was checked when the view was made, and nodes are never removed.
        with(py, &self.shared, |c| f(&c.nodes()[i]))
    }
}

#[pymethods]
impl PyNode {
    #[getter]
    fn name(&self, py: Python<'_>) -> PyResult<String> {
        self.with_node(py, |n| n.name.clone())
    }

    #[getter]
    fn id(&self, py: Python<'_>) -> PyResult<String> {
        self.with_node(py, |n| n.id.clone())
    }

    #[getter]
    fn running(&self, py: Python<'_>) -> PyResult<bool> {
        self.with_node(py, crate::cluster::Node::running)
    }

    /// Stops the node: it leaves the cluster and loses its caches.
    fn stop(&self, py: Python<'_>) -> PyResult<()> {
        try_with(py, &self.shared, |c| Ok(c.stop_node(self.index)?))
    }

    /// Starts the node again with empty caches.
    fn start(&self, py: Python<'_>) -> PyResult<()> {
        try_with(py, &self.shared, |c| Ok(c.start_node(self.index)?))
    }

    /// In the cluster but unreachable by other nodes.
    #[getter]
    fn partitioned(&self, py: Python<'_>) -> PyResult<bool> {
        self.with_node(py, |n| n.partitioned)
    }

    /// In the cluster state: running and not removed by the simulator's fault detection (CA-PT3).
    #[getter]
    fn in_cluster_state(&self, py: Python<'_>) -> PyResult<bool> {
        self.with_node(py, crate::cluster::Node::in_cluster_state)
    }

    #[setter]
    fn set_partitioned(&self, py: Python<'_>, value: bool) -> PyResult<()> {
        try_with(py, &self.shared, |c| {
            Ok(c.set_partitioned(self.index, value)?)
        })
    }

    /// A view of one of the node's caches by name.
    fn _cache(&self, name: &Bound<'_, PyAny>) -> PyResult<PyCacheView> {
        let name = convert::text(name, "name")?;
        let cache = CacheId::from_name(name).ok_or_else(|| {
            let names: Vec<&str> = CacheId::ALL.iter().map(|c| c.name()).collect();
            PyKeyError::new_err(format!("no cache named [{name}]; caches are {names:?}"))
        })?;
        Ok(PyCacheView {
            shared: self.shared.clone(),
            node: self.index,
            cache,
        })
    }

    /// The `security-crypto` pool's mode: "immediate", "held" or "saturated".
    #[getter]
    fn crypto_pool_mode(&self, py: Python<'_>) -> PyResult<&'static str> {
        self.with_node(py, |n| n.crypto_pool.mode.as_str())
    }

    #[setter]
    fn set_crypto_pool_mode(&self, py: Python<'_>, mode: &Bound<'_, PyAny>) -> PyResult<()> {
        let mode = CryptoPoolMode::parse(convert::text(mode, "crypto_pool_mode")?)?;
        with(py, &self.shared, |c| {
            if let Some(n) = c.node_mut(self.index) {
                n.crypto_pool.mode = mode;
            }
        })
    }

    /// The node's `config/service_tokens` file (bytes). Setting it writes the file; the node's watcher
    /// re-reads it at its next poll (every 5 s of virtual time).
    #[getter]
    fn service_tokens_file<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyBytes>> {
        let bytes = self.with_node(py, |n| n.service_tokens_file().to_vec())?;
        Ok(PyBytes::new(py, &bytes))
    }

    #[setter]
    fn set_service_tokens_file(&self, py: Python<'_>, value: &Bound<'_, PyAny>) -> PyResult<()> {
        let bytes: Vec<u8> = if value.cast::<PyString>().is_ok() {
            convert::text(value, "service_tokens_file")?
                .as_bytes()
                .to_vec()
        } else if let Ok(b) = value.cast::<PyBytes>() {
            b.as_bytes().to_vec()
        } else {
            return Err(errors::illegal_argument_type(
                py,
                format!(
                    "service_tokens_file must be str or bytes, not [{}]",
                    convert::type_name(value)
                ),
            ));
        };
        try_with(py, &self.shared, |c| {
            Ok(c.set_service_tokens_file(self.index, bytes)?)
        })
    }

    /// `elasticsearch-service-tokens create <principal> <name>` on this node: returns the bearer value.
    fn _service_tokens_create(
        &self,
        py: Python<'_>,
        principal: &Bound<'_, PyAny>,
        name: &Bound<'_, PyAny>,
    ) -> PyResult<String> {
        let principal = convert::text(principal, "principal")?;
        let name = convert::text(name, "name")?;
        try_with(py, &self.shared, |c| {
            Ok(c.service_tokens_tool_create(self.index, principal, name)
                .map(|s| s.expose().to_string())?)
        })
    }

    fn _service_tokens_delete(
        &self,
        py: Python<'_>,
        principal: &Bound<'_, PyAny>,
        name: &Bound<'_, PyAny>,
    ) -> PyResult<()> {
        let principal = convert::text(principal, "principal")?;
        let name = convert::text(name, "name")?;
        try_with(py, &self.shared, |c| {
            Ok(c.service_tokens_tool_delete(self.index, principal, name)?)
        })
    }

    #[pyo3(signature = (principal=None))]
    fn _service_tokens_list(
        &self,
        py: Python<'_>,
        principal: Option<&Bound<'_, PyAny>>,
    ) -> PyResult<Vec<String>> {
        let principal = convert::opt_text(principal, "principal")?;
        try_with(py, &self.shared, |c| {
            Ok(c.service_tokens_tool_list(self.index, principal)?)
        })
    }

    fn __repr__(&self, py: Python<'_>) -> PyResult<String> {
        let (name, id, running, partitioned) = self.with_node(py, |n| {
            (n.name.clone(), n.id.clone(), n.running(), n.partitioned)
        })?;
        Ok(format!(
            "<escache.Node name={} id={} running={} partitioned={}>",
            py_repr(py, &name)?,
            py_repr(py, &id)?,
            py_bool(running),
            py_bool(partitioned)
        ))
    }

    fn __eq__(&self, other: &Bound<'_, PyAny>) -> bool {
        other.cast::<PyNode>().is_ok_and(|o| {
            Arc::ptr_eq(&o.get().shared, &self.shared) && o.get().index == self.index
        })
    }

    fn __hash__(&self) -> u64 {
        Arc::as_ptr(&self.shared) as u64 ^ u64::from(self.index)
    }
}
