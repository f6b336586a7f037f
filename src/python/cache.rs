//! `escache.Cache`: the generic engine, standalone, with its own virtual clock.

use super::convert::{self, KeyArg};
use super::errors;
use crate::cache::{
    Cache, CacheBuilder, Key, KeyRef, LoadError, RemovalContext, RemovalListener,
    RemovalNotification, RemovalReason, UnitWeigher,
};
use crate::time::{Nanos, VirtualClock, NANOS_PER_SECOND};
use pyo3::buffer::PyBuffer;
use pyo3::prelude::*;
use pyo3::sync::PyOnceLock;
use pyo3::types::{PyDict, PyList, PyString, PyTuple};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Mutex, MutexGuard, TryLockError};

/// Values: `None` stands for Python's `None`, so that a replay can insert without the GIL.
type Value = Option<Py<PyAny>>;

/// Removals wait here while the cache is locked; they are handed to the Python listener afterwards,
/// so that a listener may call back into the cache.
#[derive(Default)]
struct PendingRemovals {
    enabled: bool,
    pending: Vec<(Key, Value, RemovalReason)>,
}

impl RemovalListener<Key, Value> for PendingRemovals {
    #[inline]
    fn on_removal(&mut self, n: RemovalNotification<Key, Value>, _: RemovalContext) {
        if self.enabled {
            self.pending.push((n.key, n.value, n.reason));
        }
    }
}

type Engine = Cache<Key, Value, UnitWeigher, PendingRemovals>;

struct Inner {
    cache: Engine,
    clock: VirtualClock,
}

impl Inner {
    fn take_pending(&mut self) -> Vec<(Key, Value, RemovalReason)> {
        let l = self.cache.listener_mut();
        if l.pending.is_empty() {
            Vec::new()
        } else {
            std::mem::take(&mut l.pending)
        }
    }
}

/// A token per OS thread, to tell a re-entrant call from a call from another thread.
fn thread_token() -> u64 {
    static NEXT: AtomicU64 = AtomicU64::new(1);
    thread_local!(static TOKEN: u64 = NEXT.fetch_add(1, Ordering::Relaxed));
    TOKEN.with(|t| *t)
}

struct Locked<'a> {
    guard: MutexGuard<'a, Inner>,
    /// Set while Python code (a loader, a weigher, `__eq__`) runs under the lock, so that a call back
    /// from it is told apart from a call from another thread.
    owner: Option<&'a AtomicU64>,
}

impl Drop for Locked<'_> {
    fn drop(&mut self) {
        if let Some(o) = self.owner {
            o.store(0, Ordering::Release);
        }
    }
}

impl std::ops::Deref for Locked<'_> {
    type Target = Inner;
    fn deref(&self) -> &Inner {
        &self.guard
    }
}

impl std::ops::DerefMut for Locked<'_> {
    fn deref_mut(&mut self) -> &mut Inner {
        &mut self.guard
    }
}

fn reason_to_py(py: Python<'_>, reason: RemovalReason) -> PyResult<Py<PyAny>> {
    static ENUM: PyOnceLock<Py<PyAny>> = PyOnceLock::new();
    let cls = ENUM.get_or_try_init(py, || -> PyResult<Py<PyAny>> {
        Ok(py
            .import("escache._types")?
            .getattr("RemovalReason")?
            .unbind())
    })?;
    Ok(cls.bind(py).getattr(reason.as_str())?.unbind())
}

fn value_to_py(py: Python<'_>, v: &Value) -> Py<PyAny> {
    match v {
        Some(o) => o.clone_ref(py),
        None => py.None(),
    }
}

fn value_from_py(obj: &Bound<'_, PyAny>) -> Value {
    if obj.is_none() {
        None
    } else {
        Some(obj.clone().unbind())
    }
}

fn nanos_to_seconds(n: Nanos) -> f64 {
    n as f64 / NANOS_PER_SECOND as f64
}

/// Elasticsearch's generic cache (`org.elasticsearch.common.cache.Cache`) in virtual time.
#[pyclass(frozen, module = "escache._core", name = "Cache")]
pub struct PyCache {
    inner: Mutex<Inner>,
    owner: AtomicU64,
    removal_listener: Option<Py<PyAny>>,
    weigher: Option<Py<PyAny>>,
}

impl PyCache {
    /// Locks the cache. A call from the thread that already holds it (a loader or weigher calling
    /// back) is refused; a call from another thread waits with the GIL released.
    fn lock<'a>(&'a self, py: Python<'_>) -> PyResult<Locked<'a>> {
        let guard = match self.inner.try_lock() {
            Ok(g) => g,
            Err(TryLockError::Poisoned(p)) => p.into_inner(),
            Err(TryLockError::WouldBlock) => {
                if self.owner.load(Ordering::Acquire) == thread_token() {
                    return Err(errors::reentrant_call(
                        py,
                        "a loader or weigher called back into the cache that is running it",
                    ));
                }
                // Wait for the other thread with the GIL released, then take the lock with it held (a
                // guard cannot cross `detach`).
                loop {
                    py.detach(|| drop(self.inner.lock()));
                    match self.inner.try_lock() {
                        Ok(g) => break g,
                        Err(TryLockError::Poisoned(p)) => break p.into_inner(),
                        Err(TryLockError::WouldBlock) => continue,
                    }
                }
            }
        };
        Ok(Locked { guard, owner: None })
    }

    /// [`Self::lock`] for running Python code under the lock: records this thread as the owner.
    fn lock_for_python<'a>(&'a self, py: Python<'_>) -> PyResult<Locked<'a>> {
        let mut locked = self.lock(py)?;
        self.owner.store(thread_token(), Ordering::Release);
        locked.owner = Some(&self.owner);
        Ok(locked)
    }

    /// Hands removals to the listener in order. Every one is delivered; the first exception a listener
    /// raised is raised afterwards, later ones go to `sys.unraisablehook`.
    fn deliver(&self, py: Python<'_>, pending: Vec<(Key, Value, RemovalReason)>) -> PyResult<()> {
        let Some(listener) = &self.removal_listener else {
            return Ok(());
        };
        let mut first: Option<PyErr> = None;
        for (key, value, reason) in pending {
            let result = reason_to_py(py, reason).and_then(|reason| {
                let value = value.unwrap_or_else(|| py.None());
                listener
                    .call1(py, (convert::key_to_py(py, &key), value, reason))
                    .map(drop)
            });
            if let Err(e) = result {
                match &first {
                    None => first = Some(e),
                    Some(_) => e.write_unraisable(py, Some(listener.bind(py))),
                }
            }
        }
        first.map_or(Ok(()), Err)
    }

    fn weigh(
        &self,
        py: Python<'_>,
        key: &Bound<'_, PyAny>,
        value: &Bound<'_, PyAny>,
    ) -> PyResult<Option<u64>> {
        match &self.weigher {
            None => Ok(None),
            Some(w) => convert::weight(w.bind(py).call1((key, value))?.as_any()).map(Some),
        }
    }
}

/// One bulk get-or-put run.
#[pyclass(frozen, module = "escache._core", name = "ReplayResult", get_all)]
pub struct PyReplayResult {
    pub requests: u64,
    pub hits: u64,
    pub misses: u64,
    pub evictions: u64,
}

#[pymethods]
impl PyReplayResult {
    /// hits / requests (0.0 for an empty run).
    #[getter]
    fn hit_ratio(&self) -> f64 {
        if self.requests == 0 {
            0.0
        } else {
            self.hits as f64 / self.requests as f64
        }
    }

    fn as_dict<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyDict>> {
        let d = PyDict::new(py);
        d.set_item("requests", self.requests)?;
        d.set_item("hits", self.hits)?;
        d.set_item("misses", self.misses)?;
        d.set_item("evictions", self.evictions)?;
        d.set_item("hit_ratio", self.hit_ratio())?;
        Ok(d)
    }

    fn __repr__(&self) -> String {
        format!(
            "ReplayResult(requests={}, hits={}, misses={}, evictions={}, hit_ratio={:.4})",
            self.requests,
            self.hits,
            self.misses,
            self.evictions,
            self.hit_ratio()
        )
    }
}

/// How many requests a replay runs between two returns to Python (to hand removals to the listener
/// and to keep memory bounded).
const REPLAY_CHUNK: usize = 1 << 16;

enum ReplayKeys {
    Ints(Vec<i64>),
    Keys(Vec<Key>),
}

fn replay_keys(py: Python<'_>, keys: &Bound<'_, PyAny>) -> PyResult<ReplayKeys> {
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

#[pymethods]
impl PyCache {
    #[new]
    #[pyo3(signature = (max_weight=None, *, expire_after_access=None, expire_after_write=None, weigher=None, removal_listener=None))]
    fn new(
        py: Python<'_>,
        max_weight: Option<&Bound<'_, PyAny>>,
        expire_after_access: Option<&Bound<'_, PyAny>>,
        expire_after_write: Option<&Bound<'_, PyAny>>,
        weigher: Option<Py<PyAny>>,
        removal_listener: Option<Py<PyAny>>,
    ) -> PyResult<Self> {
        let mut builder = CacheBuilder::new();
        if let Some(m) = max_weight.filter(|m| !m.is_none()) {
            let m: i64 = m.extract().map_err(|_| {
                errors::illegal_argument(py, "max_weight must be an int (Java long)")
            })?;
            builder = builder.maximum_weight(m);
        }
        if let Some(d) = expire_after_access.filter(|d| !d.is_none()) {
            let tv = convert::time_value(d, "expire_after_access")?;
            builder = builder.expire_after_access_nanos(tv.nanos());
        }
        if let Some(d) = expire_after_write.filter(|d| !d.is_none()) {
            let tv = convert::time_value(d, "expire_after_write")?;
            builder = builder.expire_after_write_nanos(tv.nanos());
        }
        for (name, f) in [
            ("weigher", &weigher),
            ("removal_listener", &removal_listener),
        ] {
            if let Some(f) = f {
                if !f.bind(py).is_callable() {
                    return Err(errors::illegal_argument(
                        py,
                        format!("{name} must be callable"),
                    ));
                }
            }
        }
        let listener = PendingRemovals {
            enabled: removal_listener.is_some(),
            pending: Vec::new(),
        };
        let cache = builder
            .removal_listener(listener)
            .build::<Key, Value>()
            .map_err(|e| errors::illegal_argument_from(py, e))?;
        Ok(PyCache {
            inner: Mutex::new(Inner {
                cache,
                clock: VirtualClock::new(),
            }),
            owner: AtomicU64::new(0),
            removal_listener,
            weigher,
        })
    }

    /// `get`: the value, or `default` on a miss (absent or expired). A hit refreshes the access time and
    /// moves the entry to the head; the tail is then pruned.
    #[pyo3(signature = (key, default=None))]
    fn get(
        &self,
        py: Python<'_>,
        key: &Bound<'_, PyAny>,
        default: Option<Py<PyAny>>,
    ) -> PyResult<Py<PyAny>> {
        let key = KeyArg::extract(key)?;
        let (found, pending) = {
            let mut inner = self.lock(py)?;
            let now = inner.clock.now();
            let found = key.with_ref(|k| inner.cache.get_with(&k, now, |v| value_to_py(py, v)))?;
            (found, inner.take_pending())
        };
        self.deliver(py, pending)?;
        Ok(found.unwrap_or_else(|| default.unwrap_or_else(|| py.None())))
    }

    /// `put`: inserts at the head, prunes the tail, then reports a replaced entry as `REPLACED`.
    fn put(
        &self,
        py: Python<'_>,
        key: &Bound<'_, PyAny>,
        value: &Bound<'_, PyAny>,
    ) -> PyResult<()> {
        let karg = KeyArg::extract(key)?;
        let weight = self.weigh(py, key, value)?.unwrap_or(1);
        let owned = karg.to_owned()?;
        let pending = {
            let mut inner = self.lock(py)?;
            let now = inner.clock.now();
            inner
                .cache
                .put_with_weight(owned, value_from_py(value), weight, now);
            inner.take_pending()
        };
        self.deliver(py, pending)
    }

    /// `get`, and on a miss `put(key, default)`: one request of a get-or-put workload in one call.
    /// Returns the cached value on a hit, `default` on a miss. Counts exactly as `get` then `put`.
    #[pyo3(signature = (key, default=None))]
    fn setdefault(
        &self,
        py: Python<'_>,
        key: &Bound<'_, PyAny>,
        default: Option<&Bound<'_, PyAny>>,
    ) -> PyResult<Py<PyAny>> {
        let karg = KeyArg::extract(key)?;
        let none = py.None().into_bound(py);
        let default = default.unwrap_or(&none);
        let weight = match &self.weigher {
            None => None,
            Some(_) => self.weigh(py, key, default)?,
        };
        let (found, pending) = {
            let mut inner = self.lock(py)?;
            let now = inner.clock.now();
            let found = match karg {
                // An int key costs nothing to own: one lookup does the get and the put.
                KeyArg::Int(i) => inner.cache.get_or_put_read(
                    Key::Int(i),
                    now,
                    || (value_from_py(default), Some(weight.unwrap_or(1))),
                    |v| value_to_py(py, v),
                ),
                // A str key is only copied on a miss.
                KeyArg::Str(_) => {
                    let found =
                        karg.with_ref(|k| inner.cache.get_with(&k, now, |v| value_to_py(py, v)))?;
                    if found.is_none() {
                        let owned = karg.to_owned()?;
                        inner.cache.put_with_weight(
                            owned,
                            value_from_py(default),
                            weight.unwrap_or(1),
                            now,
                        );
                    }
                    found
                }
            };
            (found, inner.take_pending())
        };
        self.deliver(py, pending)?;
        Ok(found.unwrap_or_else(|| default.clone().unbind()))
    }

    /// `computeIfAbsent`: the cached value, or `loader(key)` cached and returned. The loader runs at most
    /// once; if it raises or returns `None`, nothing is cached and `ExecutionError` is raised.
    fn compute_if_absent(
        &self,
        py: Python<'_>,
        key: &Bound<'_, PyAny>,
        loader: &Bound<'_, PyAny>,
    ) -> PyResult<Py<PyAny>> {
        let karg = KeyArg::extract(key)?;
        let owned = karg.to_owned()?;
        let (result, pending) = {
            let mut inner = self.lock_for_python(py)?;
            let now = inner.clock.now();
            let result = inner.cache.compute_if_absent_weighted(
                owned,
                now,
                |_| -> PyResult<Option<(Value, Option<u64>)>> {
                    let loaded = loader.call1((key,))?;
                    if loaded.is_none() {
                        return Ok(None);
                    }
                    let weight = self.weigh(py, key, &loaded)?;
                    Ok(Some((Some(loaded.unbind()), weight)))
                },
                |v| value_to_py(py, v),
            );
            (result, inner.take_pending())
        };
        self.deliver(py, pending)?;
        match result {
            Ok(v) => Ok(v),
            Err(LoadError::NullValue) => Err(errors::execution(py, "loader returned a null value")),
            Err(LoadError::Loader(cause)) => {
                let err = errors::execution(py, format!("loader failed: {}", cause.value(py)));
                err.set_cause(py, Some(cause));
                Err(err)
            }
        }
    }

    /// `invalidate(key)`, or `invalidate(key, value)` when `value` is given (removes only if the cached
    /// value `==` it). Returns whether an entry was removed. Counts an eviction when it removes.
    #[pyo3(signature = (key, value=None))]
    fn invalidate(
        &self,
        py: Python<'_>,
        key: &Bound<'_, PyAny>,
        value: Option<&Bound<'_, PyAny>>,
    ) -> PyResult<bool> {
        let karg = KeyArg::extract(key)?;
        let mut compare_error = None;
        let (removed, pending) = {
            let mut inner = self.lock_for_python(py)?;
            let now = inner.clock.now();
            let removed = karg.with_ref(|k| match value {
                None => inner.cache.invalidate(&k, now),
                Some(expected) => inner.cache.invalidate_if(&k, now, |cached| {
                    let cached = value_to_py(py, cached);
                    match cached.bind(py).eq(expected) {
                        Ok(eq) => eq,
                        Err(e) => {
                            compare_error = Some(e);
                            false
                        }
                    }
                }),
            })?;
            (removed, inner.take_pending())
        };
        self.deliver(py, pending)?;
        match compare_error {
            Some(e) => Err(e),
            None => Ok(removed),
        }
    }

    /// `invalidateAll`: empties the cache; every entry is reported `INVALIDATED`, most recent first.
    fn invalidate_all(&self, py: Python<'_>) -> PyResult<()> {
        let pending = {
            let mut inner = self.lock(py)?;
            let now = inner.clock.now();
            inner.cache.invalidate_all(now);
            inner.take_pending()
        };
        self.deliver(py, pending)
    }

    /// `refresh`: prunes expired and overweight entries from the tail now.
    fn refresh(&self, py: Python<'_>) -> PyResult<()> {
        let pending = {
            let mut inner = self.lock(py)?;
            let now = inner.clock.now();
            inner.cache.refresh(now);
            inner.take_pending()
        };
        self.deliver(py, pending)
    }

    /// Moves the virtual clock forward by a duration (`"5m"`, seconds, or a timedelta) and returns the
    /// new time in seconds. Nothing is pruned: as in Elasticsearch, expiry is noticed lazily.
    fn advance(&self, py: Python<'_>, duration: &Bound<'_, PyAny>) -> PyResult<f64> {
        let by = convert::duration_nanos(duration, "duration")?;
        let mut inner = self.lock(py)?;
        Ok(nanos_to_seconds(inner.clock.advance(by)))
    }

    /// Virtual time in seconds.
    #[getter]
    fn now(&self, py: Python<'_>) -> PyResult<f64> {
        Ok(nanos_to_seconds(self.lock(py)?.clock.now()))
    }

    /// Virtual time in nanoseconds.
    #[getter]
    fn now_nanos(&self, py: Python<'_>) -> PyResult<u64> {
        Ok(self.lock(py)?.clock.now())
    }

    /// `{"hits": int, "misses": int, "evictions": int}`.
    fn stats<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyDict>> {
        let s = self.lock(py)?.cache.stats();
        let d = PyDict::new(py);
        d.set_item("hits", s.hits)?;
        d.set_item("misses", s.misses)?;
        d.set_item("evictions", s.evictions)?;
        Ok(d)
    }

    /// Keys, most recently used first (expired entries not yet pruned included).
    fn keys<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyList>> {
        let inner = self.lock(py)?;
        PyList::new(py, inner.cache.keys().map(|k| convert::key_to_py(py, k)))
    }

    /// `(key, value)` pairs, most recently used first.
    fn items<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyList>> {
        let inner = self.lock(py)?;
        let items: PyResult<Vec<Bound<'py, PyTuple>>> = inner
            .cache
            .iter()
            .map(|(k, v)| PyTuple::new(py, [convert::key_to_py(py, k), value_to_py(py, v)]))
            .collect();
        PyList::new(py, items?)
    }

    #[getter]
    fn count(&self, py: Python<'_>) -> PyResult<usize> {
        Ok(self.lock(py)?.cache.count())
    }

    #[getter]
    fn weight(&self, py: Python<'_>) -> PyResult<u128> {
        Ok(self.lock(py)?.cache.weight())
    }

    #[getter]
    fn max_weight(&self, py: Python<'_>) -> PyResult<Option<u64>> {
        Ok(self.lock(py)?.cache.maximum_weight())
    }

    /// Seconds, or `None` when entries do not expire after access.
    #[getter]
    fn expire_after_access(&self, py: Python<'_>) -> PyResult<Option<f64>> {
        Ok(self
            .lock(py)?
            .cache
            .expire_after_access()
            .map(nanos_to_seconds))
    }

    /// Seconds, or `None` when entries do not expire after write.
    #[getter]
    fn expire_after_write(&self, py: Python<'_>) -> PyResult<Option<f64>> {
        Ok(self
            .lock(py)?
            .cache
            .expire_after_write()
            .map(nanos_to_seconds))
    }

    fn __len__(&self, py: Python<'_>) -> PyResult<usize> {
        self.count(py)
    }

    /// Presence, without counting a hit or moving the entry (an expired, unpruned entry is present).
    fn __contains__(&self, py: Python<'_>, key: &Bound<'_, PyAny>) -> PyResult<bool> {
        let Ok(karg) = KeyArg::extract(key) else {
            return Ok(false);
        };
        let inner = self.lock(py)?;
        karg.with_ref(|k: KeyRef<'_>| inner.cache.contains_key(&k))
    }

    fn __iter__<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        self.keys(py)?.try_iter().map(|i| i.into_any())
    }

    /// Counts and settings only: keys and values never appear in a repr.
    fn __repr__(&self, py: Python<'_>) -> PyResult<String> {
        let inner = self.lock(py)?;
        let c = &inner.cache;
        let s = c.stats();
        let opt = |v: Option<Nanos>| {
            v.map_or("None".to_string(), |n| format!("{}s", nanos_to_seconds(n)))
        };
        Ok(format!(
            "<escache.Cache count={} weight={} max_weight={} expire_after_access={} expire_after_write={} hits={} misses={} evictions={}>",
            c.count(),
            c.weight(),
            c.maximum_weight().map_or("None".to_string(), |m| m.to_string()),
            opt(c.expire_after_access()),
            opt(c.expire_after_write()),
            s.hits,
            s.misses,
            s.evictions
        ))
    }

    /// Bulk get-or-put: for each key, `get`, and on a miss `put(key, value)`, all in Rust with the GIL
    /// released. Keys are a buffer of integers (`array.array`, a numpy array) or any iterable of str/int.
    /// Request `i` happens at `now + i * interval`; afterwards the clock stands at `now + len * interval`.
    #[pyo3(signature = (keys, *, interval=None, value=None))]
    fn replay(
        &self,
        py: Python<'_>,
        keys: &Bound<'_, PyAny>,
        interval: Option<&Bound<'_, PyAny>>,
        value: Option<Py<PyAny>>,
    ) -> PyResult<PyReplayResult> {
        let interval = match interval {
            Some(i) if !i.is_none() => convert::duration_nanos(i, "interval")?,
            _ => 0,
        };
        let value = value.filter(|v| !v.is_none(py));
        let keys = replay_keys(py, keys)?;
        let n = match &keys {
            ReplayKeys::Ints(v) => v.len(),
            ReplayKeys::Keys(v) => v.len(),
        };
        let mut total = PyReplayResult {
            requests: 0,
            hits: 0,
            misses: 0,
            evictions: 0,
        };
        let mut start = 0;
        while start < n {
            let end = (start + REPLAY_CHUNK).min(n);
            // A Python weigher is asked for each request's weight before the chunk runs.
            let weights: Option<Vec<u64>> = match &self.weigher {
                None => None,
                Some(_) => {
                    let v = value
                        .as_ref()
                        .map_or_else(|| py.None().into_bound(py), |v| v.bind(py).clone());
                    let mut w = Vec::with_capacity(end - start);
                    for i in start..end {
                        let k = match &keys {
                            ReplayKeys::Ints(ks) => convert::key_to_py(py, &Key::Int(ks[i])),
                            ReplayKeys::Keys(ks) => convert::key_to_py(py, &ks[i]),
                        };
                        w.push(self.weigh(py, k.bind(py), &v)?.unwrap_or(1));
                    }
                    Some(w)
                }
            };
            let values: Vec<Value> = match &value {
                // Cloning a Python reference needs the GIL: prepare one per request of the chunk.
                Some(v) => (start..end).map(|_| Some(v.clone_ref(py))).collect(),
                None => Vec::new(),
            };
            let pending = {
                let mut inner = self.lock(py)?;
                let inner = &mut *inner;
                let chunk = py.detach(|| {
                    let mut values = values.into_iter();
                    let before = inner.cache.stats();
                    let mut now = inner.clock.now();
                    for i in start..end {
                        let key = match &keys {
                            ReplayKeys::Ints(ks) => Key::Int(ks[i]),
                            ReplayKeys::Keys(ks) => ks[i].clone(),
                        };
                        let weight = weights.as_ref().map(|w| w[i - start]);
                        inner
                            .cache
                            .get_or_put_weighted(key, now, || (values.next().flatten(), weight));
                        now = now.saturating_add(interval);
                    }
                    inner.clock = VirtualClock::starting_at(now);
                    let after = inner.cache.stats();
                    (
                        after.hits - before.hits,
                        after.misses - before.misses,
                        after.evictions - before.evictions,
                    )
                });
                total.requests += (end - start) as u64;
                total.hits += chunk.0;
                total.misses += chunk.1;
                total.evictions += chunk.2;
                inner.take_pending()
            };
            self.deliver(py, pending)?;
            start = end;
        }
        Ok(total)
    }
}
