//! `Cache.replay`: bulk get-or-put, run by the cache engine's one replay routine
//! (`Cache::replay_weighted`) in chunks, detached from Python.

use super::{broken, errors, thread_token, PyCache, Value};
use crate::cache::{Key, KeyRef, ReplayStats};
use crate::python::convert::{self, KeyArg};
use crate::time::{Nanos, VirtualClock};
use pyo3::buffer::PyBuffer;
use pyo3::prelude::*;
use pyo3::types::{PyDict, PyString};

/// One bulk get-or-put run: the core's [`ReplayStats`].
#[pyclass(frozen, module = "escache._core", name = "ReplayResult")]
pub struct PyReplayResult(ReplayStats);

#[pymethods]
impl PyReplayResult {
    #[getter]
    fn requests(&self) -> u64 {
        self.0.requests
    }

    #[getter]
    fn hits(&self) -> u64 {
        self.0.hits
    }

    #[getter]
    fn misses(&self) -> u64 {
        self.0.misses
    }

    #[getter]
    fn evictions(&self) -> u64 {
        self.0.evictions
    }

    /// hits / requests (0.0 for an empty run).
    #[getter]
    fn hit_ratio(&self) -> f64 {
        self.0.hit_ratio()
    }

    fn as_dict<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyDict>> {
        let d = PyDict::new(py);
        d.set_item("requests", self.0.requests)?;
        d.set_item("hits", self.0.hits)?;
        d.set_item("misses", self.0.misses)?;
        d.set_item("evictions", self.0.evictions)?;
        d.set_item("hit_ratio", self.0.hit_ratio())?;
        Ok(d)
    }

    fn __repr__(&self) -> String {
        format!(
            "ReplayResult(requests={}, hits={}, misses={}, evictions={}, hit_ratio={:.4})",
            self.0.requests,
            self.0.hits,
            self.0.misses,
            self.0.evictions,
            self.0.hit_ratio()
        )
    }

    /// Jupyter's rich display: the HTML that `escache._display` renders.
    fn _repr_html_<'py>(slf: &Bound<'py, Self>) -> PyResult<Bound<'py, PyAny>> {
        let display = slf.py().import("escache._display")?;
        display.call_method1("replay_result_html", (slf,))
    }
}

/// How many requests a replay runs between two returns to Python (to hand removals to the listener
/// and to keep memory bounded).
const REPLAY_CHUNK: usize = 1 << 16;

pub(super) enum ReplayKeys {
    Ints(Vec<i64>),
    Keys(Vec<Key>),
}

pub(super) fn replay_keys(py: Python<'_>, keys: &Bound<'_, PyAny>) -> PyResult<ReplayKeys> {
    // A buffer of integers (array.array, numpy arrays, memoryview) is read in one copy.
    if let Ok(buf) = PyBuffer::<i64>::get(keys) {
        return Ok(ReplayKeys::Ints(buf.to_vec(py)?));
    }
    if let Ok(buf) = PyBuffer::<u64>::get(keys) {
        let raw = buf.to_vec(py)?;
        let ints = raw
            .into_iter()
            .map(|k| {
                i64::try_from(k).map_err(|_| {
                    errors::key_type(py, "an int cache key must fit in a signed 64-bit integer")
                })
            })
            .collect::<PyResult<Vec<i64>>>()?;
        return Ok(ReplayKeys::Ints(ints));
    }
    if let Ok(buf) = PyBuffer::<i32>::get(keys) {
        return Ok(ReplayKeys::Ints(
            buf.to_vec(py)?.into_iter().map(i64::from).collect(),
        ));
    }
    if let Ok(buf) = PyBuffer::<u32>::get(keys) {
        return Ok(ReplayKeys::Ints(
            buf.to_vec(py)?.into_iter().map(i64::from).collect(),
        ));
    }
    if keys.is_instance_of::<PyString>() || keys.cast::<pyo3::types::PyBytes>().is_ok() {
        return Err(errors::key_type(
            py,
            "replay takes a sequence or buffer of keys, not a single str or bytes",
        ));
    }
    let mut out = Vec::new();
    for item in keys.try_iter()? {
        out.push(KeyArg::extract(&item?)?.to_owned()?);
    }
    Ok(ReplayKeys::Keys(out))
}

impl PyCache {
    /// `Cache.replay` of `keys` converted ([`replay_keys`]), one request every `interval`, inserting
    /// `value` (`None`: Python's `None`) on a miss: in chunks of [`REPLAY_CHUNK`] requests, each run
    /// detached through `Cache::replay_weighted` after a Python weigher (if any) has weighed its
    /// requests with the GIL; the chunk's removals go to the listener after it.
    pub(super) fn replay_chunks(
        &self,
        py: Python<'_>,
        keys: &ReplayKeys,
        interval: Nanos,
        value: Option<Py<PyAny>>,
    ) -> PyResult<PyReplayResult> {
        let n = match keys {
            ReplayKeys::Ints(v) => v.len(),
            ReplayKeys::Keys(v) => v.len(),
        };
        // ok: every index below is less than `n`, the number of keys.
        let key_at = |i: usize| match keys {
            ReplayKeys::Ints(ks) => KeyRef::Int(ks[i]),
            ReplayKeys::Keys(ks) => ks[i].as_ref(),
        };
        let mut total = ReplayStats::default();
        let me = thread_token(py);
        let mut start = 0;
        while start < n {
            let end = (start + REPLAY_CHUNK).min(n);
            // A Python weigher is asked for each request's weight before the chunk runs.
            let weights: Option<Vec<u64>> = if self.weigher.is_some() {
                let v = value
                    .as_ref()
                    .map_or_else(|| py.None().into_bound(py), |v| v.bind(py).clone());
                let mut w = Vec::with_capacity(end - start);
                for i in start..end {
                    let k = convert::key_to_py(py, &key_at(i).to_owned());
                    w.push(self.weigh(py, k.bind(py), &v)?.unwrap_or(1));
                }
                Some(w)
            } else {
                None
            };
            let values: Vec<Value> = match &value {
                // Cloning a Python reference needs the GIL: prepare one per request of the chunk.
                Some(v) => (start..end).map(|_| Some(v.clone_ref(py))).collect(),
                None => Vec::new(),
            };
            // The whole chunk runs detached: the lock is taken and released without the GIL.
            let run = py.detach(|| -> Result<_, ReplayBlocked> {
                let mut inner = self.inner.lock().map_err(|_| ReplayBlocked::Broken)?;
                // A key being loaded: wait for another thread's load, refuse this thread's own.
                while !inner.loads.is_empty() {
                    match (start..end).find_map(|i| inner.loads.owner(&key_at(i))) {
                        None => break,
                        Some(o) if o == me => return Err(ReplayBlocked::OwnLoad),
                        Some(_) => {
                            inner = self.loaded.wait(inner).map_err(|_| ReplayBlocked::Broken)?;
                        }
                    }
                }
                let inner = &mut *inner;
                inner.cache.listener_mut().step = false;
                let mut values = values.into_iter();
                let mut make_value = |j: usize| {
                    let weight = weights.as_ref().and_then(|w| w.get(j).copied());
                    (values.next().flatten(), weight)
                };
                let at = inner.clock.now();
                // Integer keys are read straight from their slice (no per-request match on the kind).
                let (stats, now) = match keys {
                    ReplayKeys::Ints(ks) => inner.cache.replay_weighted(
                        ks[start..end].iter().map(|&k| Key::Int(k)),
                        at,
                        interval,
                        &mut make_value,
                    ),
                    ReplayKeys::Keys(ks) => inner.cache.replay_weighted(
                        ks[start..end].iter().cloned(),
                        at,
                        interval,
                        &mut make_value,
                    ),
                };
                inner.cache.listener_mut().step = self.removal_listener.is_some();
                inner.clock = VirtualClock::starting_at(now);
                // Unused values go back to be released with the GIL held.
                let unused: Vec<Value> = values.collect();
                Ok((stats, inner.take_pending(), unused, now))
            });
            let (stats, taken, unused, now) = match run {
                Ok(r) => r,
                Err(ReplayBlocked::Broken) => return Err(broken(py)),
                Err(ReplayBlocked::OwnLoad) => return Err(errors::reentrant_call(
                    py,
                    "a compute_if_absent loader replayed its own key (whose value it is loading); \
                         Elasticsearch would deadlock here",
                )),
            };
            drop(unused);
            total += stats;
            self.deliver(py, taken, now)?;
            start = end;
        }
        Ok(PyReplayResult(total))
    }
}

/// Why a replay chunk did not run.
enum ReplayBlocked {
    Broken,
    OwnLoad,
}
