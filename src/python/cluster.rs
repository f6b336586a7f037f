//! `escache._core.Cluster` and its views (nodes, caches, the security index, the event trace). Glue only:
//! every rule lives in `crate::cluster` and below. The Python package subclasses these classes to add
//! the Pythonic parts (response objects, the official client, pandas).

use super::convert;
use super::errors;
use crate::cluster::{Cluster, ClusterConfig};
use crate::error::EsError;
use crate::events::{CacheId, NodeIndex};
use crate::security::index::IndexHealth;
use crate::security::settings::SecuritySettings;
use crate::time::NANOS_PER_SECOND;
use pyo3::exceptions::PyKeyError;
use pyo3::prelude::*;
use pyo3::types::{PyBool, PyBytes, PyDict, PyList, PyString, PyTuple};
use std::sync::{Arc, Mutex, MutexGuard};

pub(crate) type Shared = Arc<Mutex<Cluster>>;

pub(crate) fn lock<'a>(py: Python<'_>, shared: &'a Shared) -> MutexGuard<'a, Cluster> {
    match shared.try_lock() {
        Ok(g) => g,
        Err(std::sync::TryLockError::Poisoned(p)) => p.into_inner(),
        Err(std::sync::TryLockError::WouldBlock) => loop {
            py.detach(|| drop(shared.lock()));
            match shared.try_lock() {
                Ok(g) => break g,
                Err(std::sync::TryLockError::Poisoned(p)) => break p.into_inner(),
                Err(std::sync::TryLockError::WouldBlock) => continue,
            }
        },
    }
}

fn es_err(py: Python<'_>, e: EsError) -> PyErr {
    errors::illegal_argument(py, e.reason)
}

fn unknown_node(py: Python<'_>, name: &str) -> PyErr {
    errors::unknown_node(py, format!("unknown node [{name}]"))
}

/// A setting value from Python: str as is, bool as `true`/`false`, numbers as their text.
fn setting_value(v: &Bound<'_, PyAny>) -> PyResult<String> {
    let py = v.py();
    if let Ok(s) = v.cast::<PyString>() {
        return Ok(s.to_str()?.to_string());
    }
    if v.is_instance_of::<PyBool>() {
        return Ok(if v.extract::<bool>()? {
            "true"
        } else {
            "false"
        }
        .to_string());
    }
    if let Ok(i) = v.extract::<i64>() {
        return Ok(i.to_string());
    }
    if let Ok(f) = v.extract::<f64>() {
        return Ok(f.to_string());
    }
    Err(errors::illegal_argument(
        py,
        "setting values must be str, int, float or bool",
    ))
}

#[pyclass(subclass, frozen, module = "escache._core", name = "Cluster")]
pub struct PyCluster {
    shared: Shared,
}

impl PyCluster {
    pub(crate) fn shared(&self) -> Shared {
        self.shared.clone()
    }

    fn node_index(&self, py: Python<'_>, c: &Cluster, name: Option<&str>) -> PyResult<NodeIndex> {
        match name {
            Some(n) => c.node_index(n).map_err(|_| unknown_node(py, n)),
            None => c.first_running().ok_or_else(|| {
                errors::illegal_argument(py, "every node is stopped: start() one first")
            }),
        }
    }
}

#[pymethods]
impl PyCluster {
    #[new]
    #[pyo3(signature = (nodes=None, *, cluster_name="escache", seed=0, settings=None, password="changeme", trace=true))]
    fn new(
        py: Python<'_>,
        nodes: Option<&Bound<'_, PyAny>>,
        cluster_name: &str,
        seed: u64,
        settings: Option<&Bound<'_, PyDict>>,
        password: &str,
        trace: bool,
    ) -> PyResult<Self> {
        let three = 3i64.into_pyobject(py)?.into_any();
        let nodes = nodes.unwrap_or(&three);
        let node_names: Vec<String> = if let Ok(n) = nodes.extract::<i64>() {
            if !(1..=1000).contains(&n) {
                return Err(errors::illegal_argument(
                    py,
                    format!("nodes must be between 1 and 1000, got [{n}]"),
                ));
            }
            (0..n).map(|i| format!("node-{i}")).collect()
        } else {
            nodes
                .try_iter()
                .map_err(|_| {
                    errors::illegal_argument(py, "nodes must be a count or a list of node names")
                })?
                .map(|n| n.and_then(|n| n.extract::<String>()))
                .collect::<PyResult<Vec<String>>>()
                .map_err(|_| errors::illegal_argument(py, "node names must be str"))?
        };
        let mut pairs = Vec::new();
        if let Some(s) = settings {
            for (k, v) in s.iter() {
                pairs.push((
                    k.extract::<String>()
                        .map_err(|_| errors::illegal_argument(py, "setting names must be str"))?,
                    setting_value(&v)?,
                ));
            }
        }
        let settings = SecuritySettings::from_pairs(pairs).map_err(|e| es_err(py, e))?;
        let config = ClusterConfig {
            node_names,
            cluster_name: cluster_name.to_string(),
            seed,
            settings,
            password: password.to_string(),
        };
        let mut cluster = Cluster::new(config).map_err(|e| es_err(py, e))?;
        cluster.events.set_enabled(trace);
        Ok(PyCluster {
            shared: Arc::new(Mutex::new(cluster)),
        })
    }

    /// Runs one REST request; returns `(status, [(header, value)], body bytes)`.
    #[pyo3(signature = (method, target, headers, body, node=None))]
    fn _perform_raw<'py>(
        &self,
        py: Python<'py>,
        method: &str,
        target: &str,
        headers: Vec<(String, String)>,
        body: Option<Vec<u8>>,
        node: Option<&str>,
    ) -> PyResult<(u16, Vec<(String, String)>, Bound<'py, PyBytes>)> {
        let resp = {
            let mut c = lock(py, &self.shared);
            let idx = self.node_index(py, &c, node)?;
            if !c.nodes()[idx as usize].running() {
                return Err(errors::node_unavailable(
                    py,
                    format!("node [{}] is stopped", node.unwrap_or("")),
                ));
            }
            crate::rest::handle(&mut c, idx, method, target, headers, body)
        };
        let hdrs: Vec<(String, String)> = resp
            .headers
            .iter()
            .map(|(k, v)| (k.clone(), v.clone()))
            .collect();
        let bytes = resp.body_bytes();
        Ok((resp.status, hdrs, PyBytes::new(py, &bytes)))
    }

    #[getter]
    fn name(&self, py: Python<'_>) -> String {
        lock(py, &self.shared).name.clone()
    }

    #[getter]
    fn uuid(&self, py: Python<'_>) -> String {
        lock(py, &self.shared).uuid.clone()
    }

    #[getter]
    fn seed(&self, py: Python<'_>) -> u64 {
        lock(py, &self.shared).seed()
    }

    /// Virtual seconds since the cluster started.
    #[getter]
    fn now(&self, py: Python<'_>) -> f64 {
        lock(py, &self.shared).now() as f64 / NANOS_PER_SECOND as f64
    }

    #[getter]
    fn now_nanos(&self, py: Python<'_>) -> u64 {
        lock(py, &self.shared).now()
    }

    /// Moves virtual time forward (`"5m"`, seconds, or a timedelta); returns the new time in seconds.
    fn advance(&self, py: Python<'_>, duration: &Bound<'_, PyAny>) -> PyResult<f64> {
        let by = convert::duration_nanos(duration, "duration")?;
        let mut c = lock(py, &self.shared);
        Ok(c.advance(by) as f64 / NANOS_PER_SECOND as f64)
    }

    fn _node_names(&self, py: Python<'_>) -> Vec<String> {
        lock(py, &self.shared)
            .nodes()
            .iter()
            .map(|n| n.name.clone())
            .collect()
    }

    fn _node(&self, py: Python<'_>, name: &str) -> PyResult<PyNode> {
        let c = lock(py, &self.shared);
        let idx = c.node_index(name).map_err(|_| unknown_node(py, name))?;
        Ok(PyNode {
            shared: self.shared.clone(),
            index: idx,
        })
    }

    #[getter]
    fn security_index(&self) -> PySecurityIndex {
        PySecurityIndex {
            shared: self.shared.clone(),
        }
    }

    /// The settings in force, as given (names and raw values).
    #[getter]
    fn settings<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyDict>> {
        let d = PyDict::new(py);
        for (k, v) in &lock(py, &self.shared).settings.given {
            d.set_item(k, v)?;
        }
        Ok(d)
    }

    #[getter]
    fn trace_enabled(&self, py: Python<'_>) -> bool {
        lock(py, &self.shared).events.enabled()
    }

    #[setter]
    fn set_trace_enabled(&self, py: Python<'_>, on: bool) {
        lock(py, &self.shared).events.set_enabled(on);
    }

    fn _events_len(&self, py: Python<'_>) -> usize {
        lock(py, &self.shared).events.len()
    }

    /// Events `[start, stop)` as tuples `(time_nanos, node_name, kind, cache, key, detail)`.
    fn _events_rows<'py>(
        &self,
        py: Python<'py>,
        start: usize,
        stop: usize,
    ) -> PyResult<Bound<'py, PyList>> {
        let c = lock(py, &self.shared);
        let names: Vec<&str> = c.nodes().iter().map(|n| n.name.as_str()).collect();
        let stop = stop.min(c.events.len());
        let rows = PyList::empty(py);
        for i in start..stop {
            if let Some(e) = c.events.get(i) {
                let node = names.get(e.node as usize).copied().unwrap_or("");
                rows.append(PyTuple::new(
                    py,
                    [
                        e.time.into_pyobject(py)?.into_any(),
                        PyString::new(py, node).into_any(),
                        PyString::new(py, e.kind.name()).into_any(),
                        PyString::new(py, e.cache.name()).into_any(),
                        PyString::new(py, e.key).into_any(),
                        PyString::new(py, e.detail).into_any(),
                    ],
                )?)?;
            }
        }
        Ok(rows)
    }

    /// Bytes the trace store holds (columns at capacity plus the symbol table).
    fn _events_memory_bytes(&self, py: Python<'_>) -> usize {
        lock(py, &self.shared).events.memory_bytes()
    }

    fn _events_clear(&self, py: Python<'_>) {
        lock(py, &self.shared).events.clear();
    }

    fn __repr__(&self, py: Python<'_>) -> String {
        let c = lock(py, &self.shared);
        format!(
            "<escache.Cluster name={:?} nodes={} now={}s security_index={}>",
            c.name,
            c.nodes().len(),
            c.now() as f64 / NANOS_PER_SECOND as f64,
            c.security_index.state()
        )
    }
}

/// One node of a cluster.
#[pyclass(frozen, module = "escache._core", name = "Node")]
pub struct PyNode {
    shared: Shared,
    index: NodeIndex,
}

#[pymethods]
impl PyNode {
    #[getter]
    fn name(&self, py: Python<'_>) -> String {
        lock(py, &self.shared).nodes()[self.index as usize]
            .name
            .clone()
    }

    #[getter]
    fn id(&self, py: Python<'_>) -> String {
        lock(py, &self.shared).nodes()[self.index as usize]
            .id
            .clone()
    }

    #[getter]
    fn running(&self, py: Python<'_>) -> bool {
        lock(py, &self.shared).nodes()[self.index as usize].running()
    }

    /// Stops the node: it leaves the cluster and loses its caches.
    fn stop(&self, py: Python<'_>) -> PyResult<()> {
        lock(py, &self.shared)
            .stop_node(self.index)
            .map_err(|e| es_err(py, e))
    }

    /// Starts the node again with empty caches.
    fn start(&self, py: Python<'_>) -> PyResult<()> {
        lock(py, &self.shared)
            .start_node(self.index)
            .map_err(|e| es_err(py, e))
    }

    /// In the cluster but unreachable by other nodes.
    #[getter]
    fn partitioned(&self, py: Python<'_>) -> bool {
        lock(py, &self.shared).nodes()[self.index as usize].partitioned
    }

    #[setter]
    fn set_partitioned(&self, py: Python<'_>, value: bool) -> PyResult<()> {
        lock(py, &self.shared)
            .set_partitioned(self.index, value)
            .map_err(|e| es_err(py, e))
    }

    /// A view of one of the node's caches by name.
    fn _cache(&self, py: Python<'_>, name: &str) -> PyResult<PyCacheView> {
        let cache = CacheId::from_name(name).ok_or_else(|| {
            let names: Vec<&str> = CacheId::ALL.iter().map(|c| c.name()).collect();
            PyKeyError::new_err(format!("no cache named [{name}]; caches are {names:?}"))
        })?;
        let _ = py;
        Ok(PyCacheView {
            shared: self.shared.clone(),
            node: self.index,
            cache,
        })
    }

    /// The `security-crypto` pool's mode: "immediate", "held" or "saturated".
    #[getter]
    fn crypto_pool_mode(&self, py: Python<'_>) -> &'static str {
        use crate::security::crypto_pool::CryptoPoolMode::*;
        match lock(py, &self.shared).nodes()[self.index as usize]
            .crypto_pool
            .mode
        {
            Immediate => "immediate",
            Held => "held",
            Saturated => "saturated",
        }
    }

    #[setter]
    fn set_crypto_pool_mode(&self, py: Python<'_>, mode: &str) -> PyResult<()> {
        use crate::security::crypto_pool::CryptoPoolMode::*;
        let m = match mode {
            "immediate" => Immediate,
            "held" => Held,
            "saturated" => Saturated,
            other => {
                return Err(errors::illegal_argument(
                    py,
                    format!(
                    "crypto pool mode must be one of [immediate, held, saturated], got [{other}]"
                ),
                ))
            }
        };
        let mut c = lock(py, &self.shared);
        c.node_mut(self.index).map(|n| n.crypto_pool.mode = m);
        Ok(())
    }

    /// The node's `config/service_tokens` file (bytes). Setting it writes the file; the node's watcher
    /// re-reads it at its next poll (every 5 s of virtual time).
    #[getter]
    fn service_tokens_file<'py>(&self, py: Python<'py>) -> Bound<'py, PyBytes> {
        let c = lock(py, &self.shared);
        PyBytes::new(py, c.nodes()[self.index as usize].service_tokens_file())
    }

    #[setter]
    fn set_service_tokens_file(&self, py: Python<'_>, value: &Bound<'_, PyAny>) -> PyResult<()> {
        let bytes: Vec<u8> = if let Ok(s) = value.cast::<PyString>() {
            s.to_str()?.as_bytes().to_vec()
        } else if let Ok(b) = value.cast::<PyBytes>() {
            b.as_bytes().to_vec()
        } else {
            return Err(errors::illegal_argument(
                py,
                "service_tokens_file must be str or bytes",
            ));
        };
        lock(py, &self.shared)
            .set_service_tokens_file(self.index, bytes)
            .map_err(|e| es_err(py, e))
    }

    /// `elasticsearch-service-tokens create <principal> <name>` on this node: returns the bearer value.
    fn _service_tokens_create(
        &self,
        py: Python<'_>,
        principal: &str,
        name: &str,
    ) -> PyResult<String> {
        lock(py, &self.shared)
            .service_tokens_tool_create(self.index, principal, name)
            .map(|s| s.expose().to_string())
            .map_err(|e| errors::service_tokens_tool(py, e.message, e.exit_code))
    }

    fn _service_tokens_delete(&self, py: Python<'_>, principal: &str, name: &str) -> PyResult<()> {
        lock(py, &self.shared)
            .service_tokens_tool_delete(self.index, principal, name)
            .map_err(|e| errors::service_tokens_tool(py, e.message, e.exit_code))
    }

    #[pyo3(signature = (principal=None))]
    fn _service_tokens_list(
        &self,
        py: Python<'_>,
        principal: Option<&str>,
    ) -> PyResult<Vec<String>> {
        lock(py, &self.shared)
            .service_tokens_tool_list(self.index, principal)
            .map_err(|e| errors::service_tokens_tool(py, e.message, e.exit_code))
    }

    fn __repr__(&self, py: Python<'_>) -> String {
        let c = lock(py, &self.shared);
        let n = &c.nodes()[self.index as usize];
        format!(
            "<escache.Node name={:?} id={:?} running={} partitioned={}>",
            n.name,
            n.id,
            n.running(),
            n.partitioned
        )
    }

    fn __eq__(&self, other: &Bound<'_, PyAny>) -> bool {
        other.cast::<PyNode>().is_ok_and(|o| {
            Arc::ptr_eq(&o.get().shared, &self.shared) && o.get().index == self.index
        })
    }

    fn __hash__(&self) -> u64 {
        Arc::as_ptr(&self.shared) as u64 ^ self.index as u64
    }
}

/// A read-only view of one cache on one node. Looking never counts a hit or moves an entry.
#[pyclass(frozen, module = "escache._core", name = "CacheView")]
pub struct PyCacheView {
    shared: Shared,
    node: NodeIndex,
    cache: CacheId,
}

impl PyCacheView {
    fn with<R>(&self, py: Python<'_>, f: impl FnOnce(&Cluster) -> R) -> R {
        f(&lock(py, &self.shared))
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
    fn enabled(&self, py: Python<'_>) -> bool {
        self.with(py, |c| c.cache_size(self.node, self.cache).is_some())
    }

    fn __len__(&self, py: Python<'_>) -> usize {
        self.with(py, |c| {
            c.cache_size(self.node, self.cache).map_or(0, |s| s.0)
        })
    }

    fn __contains__(&self, py: Python<'_>, key: &str) -> bool {
        self.with(py, |c| c.cache_contains(self.node, self.cache, key))
    }

    /// Keys, most recently used first.
    fn keys(&self, py: Python<'_>) -> Vec<String> {
        self.with(py, |c| c.cache_keys(self.node, self.cache))
    }

    fn __iter__<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        PyList::new(py, self.keys(py))?
            .try_iter()
            .map(|i| i.into_any())
    }

    /// `{"hits": int, "misses": int, "evictions": int}` (zeros for a disabled cache).
    fn stats<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyDict>> {
        let s = self
            .with(py, |c| c.cache_stats(self.node, self.cache))
            .unwrap_or_default();
        let d = PyDict::new(py);
        d.set_item("hits", s.hits)?;
        d.set_item("misses", s.misses)?;
        d.set_item("evictions", s.evictions)?;
        Ok(d)
    }

    /// Removals by reason: `{"REPLACED": int, "INVALIDATED": int, "EVICTED": int}` (zeros when disabled).
    fn removals<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyDict>> {
        let r = self
            .with(py, |c| c.cache_removals(self.node, self.cache))
            .unwrap_or_default();
        let d = PyDict::new(py);
        d.set_item("REPLACED", r[0])?;
        d.set_item("INVALIDATED", r[1])?;
        d.set_item("EVICTED", r[2])?;
        Ok(d)
    }

    #[getter]
    fn weight(&self, py: Python<'_>) -> u128 {
        self.with(py, |c| {
            c.cache_size(self.node, self.cache).map_or(0, |s| s.1)
        })
    }

    #[getter]
    fn max_weight(&self, py: Python<'_>) -> Option<u64> {
        self.with(py, |c| {
            c.cache_size(self.node, self.cache).and_then(|s| s.2)
        })
    }

    fn __repr__(&self, py: Python<'_>) -> String {
        let (len, enabled) = self.with(py, |c| {
            let s = c.cache_size(self.node, self.cache);
            (s.map_or(0, |s| s.0), s.is_some())
        });
        let node = self.with(py, |c| c.nodes()[self.node as usize].name.clone());
        format!(
            "<escache.CacheView {} on {} entries={} enabled={}>",
            self.cache.name(),
            node,
            len,
            enabled
        )
    }
}

/// The cluster's `.security` index.
#[pyclass(frozen, module = "escache._core", name = "SecurityIndex")]
pub struct PySecurityIndex {
    shared: Shared,
}

#[pymethods]
impl PySecurityIndex {
    /// "green", "yellow", "red", or None when absent or closed.
    #[getter]
    fn health(&self, py: Python<'_>) -> Option<&'static str> {
        lock(py, &self.shared)
            .security_index
            .state()
            .health()
            .map(|h| h.as_str())
    }

    #[setter]
    fn set_health(&self, py: Python<'_>, value: Option<&str>) -> PyResult<()> {
        let Some(v) = value else {
            return Err(errors::illegal_argument(
                py,
                "health cannot be set to None: use delete() or close()",
            ));
        };
        let h = IndexHealth::parse(v).ok_or_else(|| {
            errors::illegal_argument(
                py,
                format!("health must be one of [green, yellow, red], got [{v}]"),
            )
        })?;
        lock(py, &self.shared)
            .set_security_index_health(h)
            .map_err(|e| es_err(py, e))
    }

    #[getter]
    fn exists(&self, py: Python<'_>) -> bool {
        lock(py, &self.shared).security_index.exists()
    }

    #[getter]
    fn is_open(&self, py: Python<'_>) -> bool {
        let c = lock(py, &self.shared);
        c.security_index.exists() && c.security_index.state().open
    }

    #[getter]
    fn uuid(&self, py: Python<'_>) -> Option<String> {
        lock(py, &self.shared).security_index.state().uuid.clone()
    }

    #[getter]
    fn up_to_date(&self, py: Python<'_>) -> bool {
        lock(py, &self.shared)
            .security_index
            .state()
            .is_up_to_date()
    }

    #[setter]
    fn set_up_to_date(&self, py: Python<'_>, value: bool) {
        lock(py, &self.shared).set_security_index_up_to_date(value);
    }

    fn create(&self, py: Python<'_>) {
        lock(py, &self.shared).create_security_index();
    }

    fn delete(&self, py: Python<'_>) {
        lock(py, &self.shared).delete_security_index();
    }

    fn close(&self, py: Python<'_>) {
        lock(py, &self.shared).close_security_index();
    }

    fn open(&self, py: Python<'_>) {
        lock(py, &self.shared).open_security_index();
    }

    /// Deletes and creates the index: empty, with a new UUID.
    fn recreate(&self, py: Python<'_>) {
        lock(py, &self.shared).recreate_security_index();
    }

    fn __repr__(&self, py: Python<'_>) -> String {
        let c = lock(py, &self.shared);
        let s = c.security_index.state();
        format!("<escache.SecurityIndex {} uuid={:?}>", s, s.uuid)
    }
}

pub fn register(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add_class::<PyCluster>()?;
    m.add_class::<PyNode>()?;
    m.add_class::<PyCacheView>()?;
    m.add_class::<PySecurityIndex>()?;
    Ok(())
}
