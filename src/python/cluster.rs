//! `escache._core.Cluster` and its views (nodes, caches, the security index, the event trace). Glue only:
//! every rule lives in `crate::cluster` and below. The Python package subclasses these classes to add
//! the Pythonic parts (response objects, the official client, pandas).

use super::convert;
use super::errors;
use super::locks;
use crate::cluster::{Cluster, ClusterConfig};
use crate::error::{Error, NodeError};
use crate::events::{CacheId, NodeIndex};
use crate::security::index::IndexHealth;
use crate::security::settings::SecuritySettings;
use crate::time::NANOS_PER_SECOND;
use pyo3::exceptions::PyKeyError;
use pyo3::prelude::*;
use pyo3::types::{PyBool, PyBytes, PyDict, PyList, PyString, PyTuple};
use std::sync::{Arc, Mutex};

pub(crate) type Shared = Arc<Mutex<Cluster>>;

/// What a poisoned cluster lock reports (see the locking rules in `python`'s module documentation).
pub(crate) const CLUSTER: &str = "cluster";

/// Detaches, runs `f` on the locked cluster, re-attaches: every access to a cluster goes through here.
fn with<R: Send>(
    py: Python<'_>,
    shared: &Shared,
    f: impl FnOnce(&mut Cluster) -> R + Send,
) -> PyResult<R> {
    locks::with(py, CLUSTER, shared, f)
}

/// [`with`] for an operation that may be refused: the refusal is decided under the lock and raised
/// once re-attached.
fn try_with<R: Send>(
    py: Python<'_>,
    shared: &Shared,
    f: impl FnOnce(&mut Cluster) -> Result<R, Error> + Send,
) -> PyResult<R> {
    Ok(with(py, shared, f)??)
}

/// Python's `repr` of a str (`'node-0'`), for `__repr__`s in Python style.
fn py_repr(py: Python<'_>, s: &str) -> PyResult<String> {
    Ok(PyString::new(py, s).repr()?.to_str()?.to_string())
}

fn py_bool(b: bool) -> &'static str {
    if b {
        "True"
    } else {
        "False"
    }
}

/// A setting value from Python: str as is, bool as `true`/`false`, numbers as their text.
fn setting_value(v: &Bound<'_, PyAny>, name: &str) -> PyResult<String> {
    let py = v.py();
    if v.cast::<PyString>().is_ok() {
        return Ok(convert::text(v, &format!("settings[{name}]"))?.to_string());
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
    Err(errors::illegal_argument_type(
        py,
        format!(
            "setting [{name}] must be str, int, float or bool, not [{}]",
            convert::type_name(v)
        ),
    ))
}

/// `(status, [(header, value)], body)`, as `_perform_raw` returns it.
type RawResponse<'py> = (u16, Vec<(String, String)>, Bound<'py, PyBytes>);

#[pyclass(subclass, frozen, module = "escache._core", name = "Cluster")]
pub struct PyCluster {
    shared: Shared,
}

impl PyCluster {
    pub(crate) fn shared(&self) -> Shared {
        self.shared.clone()
    }
}

/// The node a request goes to: the one named, or the first running one.
/// The core's `resource_not_found_exception` for a name is the Python API's `UnknownNodeError`.
fn node_index(c: &Cluster, name: Option<&str>) -> Result<NodeIndex, NodeError> {
    match name {
        Some(n) => c
            .node_index(n)
            .map_err(|_| NodeError::Unknown(n.to_string())),
        None => c.first_running().ok_or(NodeError::NoRunningNode),
    }
}

#[pymethods]
impl PyCluster {
    #[new]
    #[pyo3(signature = (nodes=None, *, cluster_name=None, seed=None, settings=None, password=None, trace=true))]
    fn new(
        py: Python<'_>,
        nodes: Option<&Bound<'_, PyAny>>,
        cluster_name: Option<&Bound<'_, PyAny>>,
        seed: Option<&Bound<'_, PyAny>>,
        settings: Option<&Bound<'_, PyDict>>,
        password: Option<&Bound<'_, PyAny>>,
        trace: bool,
    ) -> PyResult<Self> {
        let seed = seed.map_or(Ok(0), |s| convert::seed(s, "seed"))?;
        let cluster_name = convert::opt_text(cluster_name, "cluster_name")?.unwrap_or("escache");
        let password = convert::opt_text(password, "password")?.unwrap_or("changeme");
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
                    errors::illegal_argument_type(
                        py,
                        "nodes must be a count or a list of node names",
                    )
                })?
                .map(|n| n.and_then(|n| convert::text(&n, "nodes").map(str::to_string)))
                .collect::<PyResult<Vec<String>>>()?
        };
        let mut pairs = Vec::new();
        if let Some(s) = settings {
            for (k, v) in s.iter() {
                let name = convert::text(&k, "setting name")?.to_string();
                let value = setting_value(&v, &name)?;
                pairs.push((name, value));
            }
        }
        let settings = SecuritySettings::from_pairs(pairs)?;
        let config = ClusterConfig {
            node_names,
            cluster_name: cluster_name.to_string(),
            seed,
            settings,
            password: password.to_string(),
        };
        let mut cluster = Cluster::new(config)?;
        cluster.events.set_enabled(trace);
        Ok(PyCluster {
            shared: Arc::new(Mutex::new(cluster)),
        })
    }

    /// Runs one REST request; returns `(status, [(header, value)], body bytes)`. `headers` is an
    /// iterable of `(name, value)` pairs of str.
    #[pyo3(signature = (method, target, headers, body, node=None))]
    fn _perform_raw<'py>(
        &self,
        py: Python<'py>,
        method: &Bound<'py, PyAny>,
        target: &Bound<'py, PyAny>,
        headers: &Bound<'py, PyAny>,
        body: Option<&Bound<'py, PyAny>>,
        node: Option<&Bound<'py, PyAny>>,
    ) -> PyResult<RawResponse<'py>> {
        let method = convert::text(method, "method")?;
        let target = convert::text(target, "path")?;
        let node = convert::opt_text(node, "node")?;
        let headers = header_pairs(headers)?;
        let body = match body.filter(|b| !b.is_none()) {
            None => None,
            Some(b) => Some(
                b.cast::<PyBytes>()
                    .map_err(|_| {
                        errors::illegal_argument_type(
                            py,
                            format!("[body] must be bytes, not [{}]", convert::type_name(b)),
                        )
                    })?
                    .as_bytes()
                    .to_vec(),
            ),
        };
        let shared = &self.shared;
        let (status, hdrs, bytes) = py
            .detach(|| {
                let resp = locks::locked(CLUSTER, shared, |c| {
                    let idx = node_index(c, node)?;
                    // ok: node_index returned an index of this cluster's nodes.
                    if !c.nodes()[idx as usize].running() {
                        return Err(NodeError::Unavailable(node.unwrap_or("").to_string()));
                    }
                    Ok(crate::rest::handle(c, idx, method, target, headers, body))
                })?;
                // Serialised with the cluster unlocked.
                Ok(resp.map(|r| {
                    let bytes = r.body_bytes();
                    (r.status, r.headers.into_iter().collect::<Vec<_>>(), bytes)
                }))
            })
            .map_err(|b: locks::Broken| b.into_py_err(py))??;
        Ok((status, hdrs, PyBytes::new(py, &bytes)))
    }

    #[getter]
    fn name(&self, py: Python<'_>) -> PyResult<String> {
        with(py, &self.shared, |c| c.name.clone())
    }

    #[getter]
    fn uuid(&self, py: Python<'_>) -> PyResult<String> {
        with(py, &self.shared, |c| c.uuid.clone())
    }

    #[getter]
    fn seed(&self, py: Python<'_>) -> PyResult<u64> {
        with(py, &self.shared, |c| c.seed())
    }

    /// Virtual seconds since the cluster started.
    #[getter]
    fn now(&self, py: Python<'_>) -> PyResult<f64> {
        with(py, &self.shared, |c| {
            c.now() as f64 / NANOS_PER_SECOND as f64
        })
    }

    #[getter]
    fn now_nanos(&self, py: Python<'_>) -> PyResult<u64> {
        with(py, &self.shared, |c| c.now())
    }

    /// Moves virtual time forward (`"5m"`, seconds, or a timedelta); returns the new time in seconds.
    fn advance(&self, py: Python<'_>, duration: &Bound<'_, PyAny>) -> PyResult<f64> {
        let by = convert::duration_nanos(duration, "duration")?;
        with(py, &self.shared, |c| {
            c.advance(by) as f64 / NANOS_PER_SECOND as f64
        })
    }

    fn _node_names(&self, py: Python<'_>) -> PyResult<Vec<String>> {
        with(py, &self.shared, |c| {
            c.nodes().iter().map(|n| n.name.clone()).collect()
        })
    }

    fn _node(&self, py: Python<'_>, name: &Bound<'_, PyAny>) -> PyResult<PyNode> {
        let name = convert::text(name, "name")?;
        let index = try_with(py, &self.shared, |c| Ok(node_index(c, Some(name))?))?;
        Ok(PyNode {
            shared: self.shared.clone(),
            index,
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
        let given = with(py, &self.shared, |c| c.settings.given.clone())?;
        let d = PyDict::new(py);
        for (k, v) in given {
            d.set_item(k, v)?;
        }
        Ok(d)
    }

    #[getter]
    fn trace_enabled(&self, py: Python<'_>) -> PyResult<bool> {
        with(py, &self.shared, |c| c.events.enabled())
    }

    #[setter]
    fn set_trace_enabled(&self, py: Python<'_>, on: bool) -> PyResult<()> {
        with(py, &self.shared, |c| c.events.set_enabled(on))
    }

    fn _events_len(&self, py: Python<'_>) -> PyResult<usize> {
        with(py, &self.shared, |c| c.events.len())
    }

    /// Events `[start, stop)` as tuples `(time_nanos, node_name, kind, cache, key, detail)`.
    fn _events_rows<'py>(
        &self,
        py: Python<'py>,
        start: usize,
        stop: usize,
    ) -> PyResult<Bound<'py, PyList>> {
        type Row = (u64, String, &'static str, &'static str, String, String);
        let rows: Vec<Row> = with(py, &self.shared, |c| {
            let names: Vec<&str> = c.nodes().iter().map(|n| n.name.as_str()).collect();
            let stop = stop.min(c.events.len());
            (start..stop)
                .filter_map(|i| c.events.get(i))
                .map(|e| {
                    let node = names.get(e.node as usize).copied().unwrap_or("");
                    (
                        e.time,
                        node.to_string(),
                        e.kind.name(),
                        e.cache.name(),
                        e.key.to_string(),
                        e.detail.to_string(),
                    )
                })
                .collect()
        })?;
        let out = PyList::empty(py);
        for (time, node, kind, cache, key, detail) in rows {
            out.append(PyTuple::new(
                py,
                [
                    time.into_pyobject(py)?.into_any(),
                    PyString::new(py, &node).into_any(),
                    PyString::new(py, kind).into_any(),
                    PyString::new(py, cache).into_any(),
                    PyString::new(py, &key).into_any(),
                    PyString::new(py, &detail).into_any(),
                ],
            )?)?;
        }
        Ok(out)
    }

    /// Bytes the trace store holds (columns at capacity plus the symbol table).
    fn _events_memory_bytes(&self, py: Python<'_>) -> PyResult<usize> {
        with(py, &self.shared, |c| c.events.memory_bytes())
    }

    fn _events_clear(&self, py: Python<'_>) -> PyResult<()> {
        with(py, &self.shared, |c| c.events.clear())
    }

    /// A test hook, not API: panics inside the core with the cluster locked, as a bug would.
    fn _testing_panic(&self, py: Python<'_>) -> PyResult<()> {
        with(py, &self.shared, |c| {
            c.advance(1);
            // ok: a test hook whose whole purpose is to panic (tests of the broken state)
            panic!("escache test hook: a panic with the cluster locked")
        })
    }

    fn __repr__(&self, py: Python<'_>) -> PyResult<String> {
        let (name, nodes, now, index) = with(py, &self.shared, |c| {
            (
                c.name.clone(),
                c.nodes().len(),
                c.now() as f64 / NANOS_PER_SECOND as f64,
                c.security_index.state().to_string(),
            )
        })?;
        Ok(format!(
            "<escache.Cluster name={} nodes={nodes} now={now}s security_index={}>",
            py_repr(py, &name)?,
            py_repr(py, &index)?
        ))
    }
}

/// `(name, value)` header pairs, each a str Python can encode (the value is never quoted in an
/// error: it may be a credential).
fn header_pairs(headers: &Bound<'_, PyAny>) -> PyResult<Vec<(String, String)>> {
    let py = headers.py();
    let not_pairs = || {
        errors::illegal_argument_type(
            py,
            format!(
                "[headers] must be (name, value) pairs of str, not [{}]",
                convert::type_name(headers)
            ),
        )
    };
    let mut out = Vec::new();
    for item in headers.try_iter().map_err(|_| not_pairs())? {
        let item = item?;
        let (name, value) = item
            .extract::<(Bound<'_, PyAny>, Bound<'_, PyAny>)>()
            .map_err(|_| not_pairs())?;
        let name = convert::text(&name, "header name")?;
        let value = convert::text(&value, &format!("headers[{name}]"))?;
        out.push((name.to_string(), value.to_string()));
    }
    Ok(out)
}

/// One node of a cluster.
#[pyclass(frozen, module = "escache._core", name = "Node")]
pub struct PyNode {
    shared: Shared,
    index: NodeIndex,
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
        self.with_node(py, |n| n.running())
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
        use crate::security::crypto_pool::CryptoPoolMode::*;
        self.with_node(py, |n| match n.crypto_pool.mode {
            Immediate => "immediate",
            Held => "held",
            Saturated => "saturated",
        })
    }

    #[setter]
    fn set_crypto_pool_mode(&self, py: Python<'_>, mode: &Bound<'_, PyAny>) -> PyResult<()> {
        use crate::security::crypto_pool::CryptoPoolMode::*;
        let m = match convert::text(mode, "crypto_pool_mode")? {
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
        with(py, &self.shared, |c| {
            if let Some(n) = c.node_mut(self.index) {
                n.crypto_pool.mode = m;
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
        self.with(py, |c, n, id| c.cache_keys(n, id))
    }

    fn __iter__<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        PyList::new(py, self.keys(py)?)?
            .try_iter()
            .map(|i| i.into_any())
    }

    /// `{"hits": int, "misses": int, "evictions": int}` (zeros for a disabled cache).
    fn stats<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyDict>> {
        let s = self
            .with(py, |c, n, id| c.cache_stats(n, id))?
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
            .with(py, |c, n, id| c.cache_removals(n, id))?
            .unwrap_or_default();
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
    fn health(&self, py: Python<'_>) -> PyResult<Option<&'static str>> {
        with(py, &self.shared, |c| {
            c.security_index.state().health().map(|h| h.as_str())
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
        let h = IndexHealth::parse(v).ok_or_else(|| {
            errors::illegal_argument(
                py,
                format!("health must be one of [green, yellow, red], got [{v}]"),
            )
        })?;
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
        with(py, &self.shared, |c| c.create_security_index())
    }

    fn delete(&self, py: Python<'_>) -> PyResult<()> {
        with(py, &self.shared, |c| c.delete_security_index())
    }

    fn close(&self, py: Python<'_>) -> PyResult<()> {
        with(py, &self.shared, |c| c.close_security_index())
    }

    fn open(&self, py: Python<'_>) -> PyResult<()> {
        with(py, &self.shared, |c| c.open_security_index())
    }

    /// Deletes and creates the index: empty, with a new UUID.
    fn recreate(&self, py: Python<'_>) -> PyResult<()> {
        with(py, &self.shared, |c| c.recreate_security_index())
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
}

pub fn register(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add_class::<PyCluster>()?;
    m.add_class::<PyNode>()?;
    m.add_class::<PyCacheView>()?;
    m.add_class::<PySecurityIndex>()?;
    Ok(())
}
