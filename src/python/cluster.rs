//! `escache._core.Cluster` and its views (nodes, caches, the security index, the event trace). Glue only:
//! every rule lives in `crate::cluster` and below. The Python package subclasses these classes to add
//! the Pythonic parts (response objects, the official client, pandas).

use super::convert;
use super::errors;
use super::locks;
use crate::cluster::{Cluster, ClusterConfig};
use crate::error::{Error, NodeError};
use crate::events::NodeIndex;
use crate::security::settings::{SecuritySettings, SettingValue};
use crate::time::NANOS_PER_SECOND;
use pyo3::prelude::*;
use pyo3::sync::PyOnceLock;
use pyo3::types::{PyBool, PyBytes, PyCapsule, PyDict, PyList, PyString, PyTuple};
use std::sync::{Arc, Mutex};

mod node;
mod requests;
mod views;

pub use node::PyNode;
pub use views::{PyCacheView, PySecurityIndex};

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

/// A setting value from Python as the core's [`SettingValue`]: str, bool, int, or a float (anything
/// `float()` takes; an int beyond 64 bits too).
fn setting_value(v: &Bound<'_, PyAny>, name: &str) -> PyResult<SettingValue> {
    if v.cast::<PyString>().is_ok() {
        let text = convert::text(v, &format!("settings[{name}]"))?;
        return Ok(SettingValue::Text(text.to_string()));
    }
    if v.is_instance_of::<PyBool>() {
        return v.extract().map(SettingValue::Bool);
    }
    if let Ok(i) = v.extract::<i64>() {
        return Ok(SettingValue::Int(i));
    }
    if let Ok(f) = v.extract::<f64>() {
        return Ok(SettingValue::Float(f));
    }
    Err(errors::illegal_argument_type(
        v.py(),
        format!(
            "setting [{name}] must be str, int, float or bool, not [{}]",
            convert::type_name(v)
        ),
    ))
}

/// `(status, [(header, value)], body)` of a request the core answered, before conversion.
type Answered = (u16, Vec<(String, String)>, Vec<u8>);

/// `(status, [(header, value)], body)`, as `_perform_raw` returns it.
type RawResponse<'py> = (u16, Bound<'py, PyList>, Bound<'py, PyBytes>);

/// The header fields every response carries (`crate::rest::response`), made once as Python tuples:
/// a response hands out these shared (immutable) tuples instead of making four strings per request.
static STANDARD_FIELDS: PyOnceLock<[Py<PyTuple>; 2]> = PyOnceLock::new();

/// Header fields as a Python list of `(name, value)` tuples.
fn header_list<'py>(py: Python<'py>, fields: &[(String, String)]) -> PyResult<Bound<'py, PyList>> {
    use crate::rest::response::{CONTENT_TYPE_JSON, PRODUCT_HEADER, PRODUCT_HEADER_VALUE};
    let standard = STANDARD_FIELDS.get_or_init(py, || {
        [
            PyTuple::new(py, [PRODUCT_HEADER, PRODUCT_HEADER_VALUE])
                .expect("a tuple of two str") // ok: building a 2-tuple of str cannot fail
                .unbind(),
            PyTuple::new(py, ["Content-Type", CONTENT_TYPE_JSON])
                .expect("a tuple of two str") // ok: as above
                .unbind(),
        ]
    });
    let list = PyList::empty(py);
    for (name, value) in fields {
        let shared = match (name.as_str(), value.as_str()) {
            (PRODUCT_HEADER, PRODUCT_HEADER_VALUE) => Some(&standard[0]),
            ("Content-Type", CONTENT_TYPE_JSON) => Some(&standard[1]),
            _ => None,
        };
        match shared {
            Some(t) => list.append(t.bind(py))?,
            None => list.append((name.as_str(), value.as_str()))?,
        }
    }
    Ok(list)
}

#[pyclass(subclass, frozen, module = "escache._core", name = "Cluster")]
pub struct PyCluster {
    shared: Shared,
}

impl PyCluster {
    pub(crate) fn shared(&self) -> Shared {
        self.shared.clone()
    }
}

impl PyCluster {
    /// One REST request through the core: the cluster locked attached when it is free (no GIL round
    /// trip per request), else waited for detached ([`locks::with_try_attached`]); the body is
    /// serialised with the cluster unlocked.
    fn perform(
        &self,
        py: Python<'_>,
        method: &str,
        target: &str,
        node: Option<&str>,
        headers: Vec<(String, String)>,
        body: Option<Vec<u8>>,
    ) -> PyResult<Answered> {
        let resp = locks::with_try_attached(py, CLUSTER, &self.shared, |c| {
            let idx = node_index(c, node)?;
            // ok: node_index returned an index of this cluster's nodes.
            if !c.nodes()[idx as usize].running() {
                return Err(NodeError::Unavailable(node.unwrap_or("").to_string()));
            }
            Ok(crate::rest::handle(c, idx, method, target, headers, body))
        })??;
        let bytes = resp.body_bytes();
        Ok((resp.status, resp.headers, bytes))
    }

    /// `_perform_raw` and `_perform`: the arguments converted in order (method, path, node, headers,
    /// body), the request run, the answer converted back. `json_default`: a body sent without a
    /// `Content-Type` header is sent as `application/json`.
    fn respond<'py>(
        &self,
        py: Python<'py>,
        (method, target, node): (
            &Bound<'py, PyAny>,
            &Bound<'py, PyAny>,
            Option<&Bound<'py, PyAny>>,
        ),
        headers: impl FnOnce() -> PyResult<Vec<(String, String)>>,
        body: Option<&Bound<'py, PyAny>>,
        json_default: bool,
    ) -> PyResult<RawResponse<'py>> {
        let method = convert::text(method, "method")?;
        let target = convert::text(target, "path")?;
        let node = convert::opt_text(node, "node")?;
        let mut headers = headers()?;
        let body = body_bytes(body)?;
        if json_default
            && body.is_some()
            && !headers
                .iter()
                .any(|(k, _)| k.eq_ignore_ascii_case("content-type"))
        {
            headers.push(("Content-Type".to_owned(), "application/json".to_owned()));
        }
        let (status, hdrs, bytes) = self.perform(py, method, target, node, headers, body)?;
        Ok((status, header_list(py, &hdrs)?, PyBytes::new(py, &bytes)))
    }
}

/// `dict(headers or {})` as header pairs: a mapping or `(name, value)` pairs, as
/// `Cluster.perform_request` always took them.
fn mapping_headers(headers: Option<&Bound<'_, PyAny>>) -> PyResult<Vec<(String, String)>> {
    match headers {
        Some(h) if h.is_truthy()? => match h.cast::<PyDict>() {
            Ok(d) => dict_header_pairs(d),
            Err(_) => dict_header_pairs(h.py().get_type::<PyDict>().call1((h,))?.cast::<PyDict>()?),
        },
        _ => Ok(Vec::new()),
    }
}

/// A request body from Python: `bytes` or `None`.
fn body_bytes(body: Option<&Bound<'_, PyAny>>) -> PyResult<Option<Vec<u8>>> {
    match body.filter(|b| !b.is_none()) {
        None => Ok(None),
        Some(b) => Ok(Some(
            b.cast::<PyBytes>()
                .map_err(|_| {
                    errors::illegal_argument_type(
                        b.py(),
                        format!("[body] must be bytes, not [{}]", convert::type_name(b)),
                    )
                })?
                .as_bytes()
                .to_vec(),
        )),
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
    #[pyo3(signature = (nodes=None, *, cluster_name=None, seed=None, settings=None, password=None, trace=true, es_version=None))]
    #[allow(clippy::too_many_arguments)] // Python keyword arguments
    fn new(
        py: Python<'_>,
        nodes: Option<&Bound<'_, PyAny>>,
        cluster_name: Option<&Bound<'_, PyAny>>,
        seed: Option<&Bound<'_, PyAny>>,
        settings: Option<&Bound<'_, PyDict>>,
        password: Option<&Bound<'_, PyAny>>,
        trace: bool,
        es_version: Option<&Bound<'_, PyAny>>,
    ) -> PyResult<Self> {
        let version = match convert::opt_text(es_version, "es_version")? {
            Some(v) => crate::security::version::EsVersion::parse(v)?,
            None => crate::security::version::EsVersion::default(),
        };
        let mut config = ClusterConfig::new(0);
        config.seed = seed.map_or(Ok(0), |s| convert::seed(s, "seed"))?;
        if let Some(name) = convert::opt_text(cluster_name, "cluster_name")? {
            config.cluster_name = name.to_string();
        }
        if let Some(password) = convert::opt_text(password, "password")? {
            config.password = password.to_string();
        }
        config.node_names = match nodes {
            None => ClusterConfig::node_names(ClusterConfig::DEFAULT_NODE_COUNT),
            Some(n) => match n.extract::<i64>() {
                Ok(count) => ClusterConfig::node_names(count),
                Err(_) => Ok(n
                    .try_iter()
                    .map_err(|_| {
                        errors::illegal_argument_type(
                            py,
                            "nodes must be a count or a list of node names",
                        )
                    })?
                    .map(|n| n.and_then(|n| convert::text(&n, "nodes").map(str::to_string)))
                    .collect::<PyResult<Vec<String>>>()?),
            },
        }?;
        let mut pairs = Vec::new();
        if let Some(s) = settings {
            for (k, v) in s.iter() {
                let name = convert::text(&k, "setting name")?.to_string();
                let value = setting_value(&v, &name)?;
                pairs.push((name, value));
            }
        }
        config.settings = SecuritySettings::from_pairs_for(version, pairs)?;
        let mut cluster = Cluster::new(config)?;
        cluster.events.set_enabled(trace);
        cluster.requests.set_enabled(true);
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
        self.respond(
            py,
            (method, target, node),
            || header_pairs(headers),
            body,
            false,
        )
    }

    /// `Cluster.perform_request`'s core: `headers` is a mapping of str to str (or `None`), `body` the
    /// encoded body; a body without a `Content-Type` header is sent as `application/json`. Returns
    /// what `_perform_raw` does.
    #[pyo3(signature = (method, target, headers, body, node=None))]
    fn _perform<'py>(
        &self,
        py: Python<'py>,
        method: &Bound<'py, PyAny>,
        target: &Bound<'py, PyAny>,
        headers: Option<&Bound<'py, PyAny>>,
        body: Option<&Bound<'py, PyAny>>,
        node: Option<&Bound<'py, PyAny>>,
    ) -> PyResult<RawResponse<'py>> {
        self.respond(
            py,
            (method, target, node),
            || mapping_headers(headers),
            body,
            true,
        )
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

    /// The Elasticsearch version profile (`"9.1"`, `"8.19"`, `"7.17"`).
    #[getter]
    fn es_version(&self, py: Python<'_>) -> PyResult<&'static str> {
        with(py, &self.shared, |c| c.settings.version.name())
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

    /// Events `[start, stop)` as JSON Lines (`crate::trace`): the bytes `EventTrace.to_jsonl` writes.
    fn _events_jsonl<'py>(
        &self,
        py: Python<'py>,
        start: usize,
        stop: usize,
    ) -> PyResult<Bound<'py, PyBytes>> {
        let bytes = with(py, &self.shared, |c| {
            let names: Vec<&str> = c.nodes().iter().map(|n| n.name.as_str()).collect();
            let mut out = Vec::new();
            crate::trace::write_jsonl(&c.events, &names, start, stop, &mut out);
            out
        })?;
        Ok(PyBytes::new(py, &bytes))
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

    /// The whole trace as an Arrow C stream capsule (`EventTrace.__arrow_c_stream__`; `arrow.rs`).
    /// `requested_schema` is accepted and not honoured, as the `PyCapsule` interface allows.
    #[pyo3(signature = (requested_schema=None))]
    fn _events_arrow<'py>(
        &self,
        py: Python<'py>,
        requested_schema: Option<&Bound<'py, PyAny>>,
    ) -> PyResult<Bound<'py, PyCapsule>> {
        let _ = requested_schema;
        let batches = with(py, &self.shared, |c| super::arrow::trace_batches(c))?;
        super::arrow::stream_capsule(py, batches)
    }

    /// Bytes the trace store holds (columns at capacity plus the symbol table).
    fn _events_memory_bytes(&self, py: Python<'_>) -> PyResult<usize> {
        with(py, &self.shared, |c| c.events.memory_bytes())
    }

    /// The request log (`cluster.requests`).
    #[getter]
    fn _requests(&self) -> requests::PyRequestLog {
        requests::PyRequestLog {
            shared: self.shared.clone(),
        }
    }

    /// Rebuilds the cluster in place from its constructor arguments (`Cluster::reset`).
    fn _reset(&self, py: Python<'_>) -> PyResult<()> {
        requests::reset(py, &self.shared)
    }

    /// A node's `service_tokens` file, read at once (`Cluster::load_service_tokens_file`).
    fn _load_service_tokens_file(
        &self,
        py: Python<'_>,
        node: &Bound<'_, PyAny>,
        contents: &Bound<'_, PyAny>,
    ) -> PyResult<()> {
        let name = convert::text(node, "node")?;
        let bytes = match contents.cast::<PyBytes>() {
            Ok(b) => b.as_bytes().to_vec(),
            Err(_) => convert::text(contents, "service_tokens")?
                .as_bytes()
                .to_vec(),
        };
        try_with(py, &self.shared, |c| {
            let i = node_index(c, Some(name))?;
            Ok(c.load_service_tokens_file(i, bytes)?)
        })
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
        push_header(&mut out, &name, &value)?;
    }
    Ok(out)
}

/// A dict's items as header pairs (`header_pairs` without building the items list).
fn dict_header_pairs(headers: &Bound<'_, PyDict>) -> PyResult<Vec<(String, String)>> {
    let mut out = Vec::with_capacity(headers.len() + 1);
    for (name, value) in headers.iter() {
        push_header(&mut out, &name, &value)?;
    }
    Ok(out)
}

/// One header field, each part a str Python can encode (the value is never quoted in an error: it
/// may be a credential).
fn push_header(
    out: &mut Vec<(String, String)>,
    name: &Bound<'_, PyAny>,
    value: &Bound<'_, PyAny>,
) -> PyResult<()> {
    let name = convert::text(name, "header name")?;
    // The message is only built for a value that is refused.
    let value = match value.cast::<PyString>().ok().and_then(|v| v.to_str().ok()) {
        Some(v) => v,
        None => convert::text(value, &format!("headers[{name}]"))?,
    };
    out.push((name.to_string(), value.to_string()));
    Ok(())
}

pub fn register(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add_class::<PyCluster>()?;
    m.add_class::<PyNode>()?;
    m.add_class::<PyCacheView>()?;
    m.add_class::<PySecurityIndex>()?;
    requests::register(m)?;
    Ok(())
}
