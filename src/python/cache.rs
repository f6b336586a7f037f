//! `escache.Cache`: the generic engine, standalone, with its own virtual clock.
//!
//! Locking (one rule for every method): the engine sits behind one `Mutex`, taken with `try_lock` while
//! attached to Python; if another thread holds it (a `replay` running without the GIL), the caller waits
//! for it detached, then takes it attached: no thread ever holds the lock while it waits for the GIL,
//! and no thread holding the GIL waits for the lock. No Python code runs and
//! no Python object is created or released while the lock is held: values replaced, evicted or
//! invalidated are collected and released (or handed to the removal listener) after it is released, so
//! that a value's `__del__`, a listener, a loader or a weigher may call back into the cache. A call back
//! that still finds the lock held by its own thread is refused with `ReentrantCallError`, never a
//! deadlock. A panic while the lock is held poisons it: every later call raises `BrokenStateError`.

mod lock;
mod removals;
mod replay;

use super::convert::{self, KeyArg};
use super::errors;
use crate::cache::{
    Cache, CacheBuilder, Key, KeyRef, LoadError, LoadStart, PendingLoads, UnitWeigher,
};
use crate::time::{Nanos, VirtualClock, NANOS_PER_SECOND};
use lock::{broken, thread_token};
use pyo3::prelude::*;
use pyo3::types::{PyDict, PyList, PyTuple};
use removals::{PendingRemovals, Taken};
pub(crate) use replay::PyReplayResult;
use std::sync::atomic::AtomicU64;
use std::sync::{Condvar, Mutex};

/// Values: `None` stands for Python's `None`, so that a replay can insert without the GIL.
type Value = Option<Py<PyAny>>;

type Engine = Cache<Key, Value, UnitWeigher, PendingRemovals>;

struct Inner {
    cache: Engine,
    clock: VirtualClock,
    /// Keys a `compute_if_absent` is loading with the lock released (Elasticsearch's futures).
    loads: PendingLoads<Key>,
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

/// A borrowed key, converted before the lock is taken (a bad `str` raises here, not under the lock).
fn key_ref<'a>(karg: &'a KeyArg<'_, '_>) -> PyResult<KeyRef<'a>> {
    match karg {
        KeyArg::Int(i) => Ok(KeyRef::Int(*i)),
        KeyArg::Str(s) => s
            .to_str()
            .map(KeyRef::Str)
            .map_err(|e| errors::key_type(s.py(), format!("invalid str key: {e}"))),
    }
}

pub(crate) fn nanos_to_seconds(n: Nanos) -> f64 {
    n as f64 / NANOS_PER_SECOND as f64
}

/// Elasticsearch's generic cache (`org.elasticsearch.common.cache.Cache`) in virtual time.
#[pyclass(frozen, module = "escache._core", name = "Cache")]
pub struct PyCache {
    inner: Mutex<Inner>,
    /// Signalled whenever a pending load ends.
    loaded: Condvar,
    owner: AtomicU64,
    removal_listener: Option<Py<PyAny>>,
    weigher: Option<Py<PyAny>>,
}

impl PyCache {
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
        let listener = PendingRemovals::new(removal_listener.is_some());
        let cache = builder.removal_listener(listener).build::<Key, Value>()?;
        Ok(PyCache {
            inner: Mutex::new(Inner {
                cache,
                clock: VirtualClock::new(),
                loads: PendingLoads::default(),
            }),
            loaded: Condvar::new(),
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
        let karg = KeyArg::extract(key)?;
        let key = key_ref(&karg)?;
        let (found, taken, now) = {
            let mut inner = self.lock_key(py, key)?;
            let now = inner.clock.now();
            let found = inner.cache.get_with(&key, now, |v| value_to_py(py, v));
            (found, inner.take_pending(), now)
        };
        self.deliver(py, taken, now)?;
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
        let kref = key_ref(&karg)?;
        let owned = kref.to_owned();
        let (taken, now) = {
            let mut inner = self.lock_key(py, kref)?;
            let now = inner.clock.now();
            inner
                .cache
                .put_with_weight(owned, value_from_py(value), weight, now);
            (inner.take_pending(), now)
        };
        self.deliver(py, taken, now)
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
        let kref = key_ref(&karg)?;
        let (found, taken, now) = {
            let mut inner = self.lock_key(py, kref)?;
            let now = inner.clock.now();
            let found = match kref {
                // An int key costs nothing to own: one lookup does the get and the put.
                KeyRef::Int(i) => inner.cache.get_or_put_read(
                    Key::Int(i),
                    now,
                    || (value_from_py(default), Some(weight.unwrap_or(1))),
                    |v| value_to_py(py, v),
                ),
                // A str key is only copied on a miss.
                KeyRef::Str(_) => {
                    let found = inner.cache.get_with(&kref, now, |v| value_to_py(py, v));
                    if found.is_none() {
                        inner.cache.put_with_weight(
                            kref.to_owned(),
                            value_from_py(default),
                            weight.unwrap_or(1),
                            now,
                        );
                    }
                    found
                }
            };
            (found, inner.take_pending(), now)
        };
        self.deliver(py, taken, now)?;
        Ok(found.unwrap_or_else(|| default.clone().unbind()))
    }

    /// `computeIfAbsent`: the cached value, or `loader(key)` cached and returned. The loader runs at most
    /// once, with the cache unlocked (it may use other keys of this cache; waiting on its own key raises
    /// `ReentrantCallError`); if it raises or returns `None`, nothing is cached and `ExecutionError` is
    /// raised. Another thread asking for the key meanwhile waits for the load.
    fn compute_if_absent(
        &self,
        py: Python<'_>,
        key: &Bound<'_, PyAny>,
        loader: &Bound<'_, PyAny>,
    ) -> PyResult<Py<PyAny>> {
        let karg = KeyArg::extract(key)?;
        let kref = key_ref(&karg)?;
        let owned = kref.to_owned();
        // Under the lock: the `get` that evicts an expired entry, and on a miss the key's future
        // (`putIfAbsent`), so that the loader runs at most once.
        let (hit, taken, now) = {
            let mut inner = self.lock_key(py, kref)?;
            let now = inner.clock.now();
            let hit = inner
                .cache
                .compute_if_absent_lookup(&kref, now, |v| value_to_py(py, v));
            if hit.is_none() {
                // `lock_key` saw no pending load of this key, and the lock is still held.
                let started = inner.loads.begin(owned.clone(), thread_token(py));
                debug_assert_eq!(started, LoadStart::Started);
            }
            (hit, inner.take_pending(), now)
        };
        if let Some(v) = hit {
            self.deliver(py, taken, now)?;
            return Ok(v);
        }
        // The eager eviction is reported before the loader runs, as Elasticsearch's `get` does it.
        if let Err(e) = self.deliver(py, taken, now) {
            let taken = self.end_load(py, owned, None, now)?;
            drop(taken);
            return Err(e);
        }
        let loaded = loader.call1((key,)).and_then(|loaded| {
            if loaded.is_none() {
                return Ok(None);
            }
            let weight = self.weigh(py, key, &loaded)?;
            Ok(Some((loaded.unbind(), weight)))
        });
        let (result, to_cache): (Result<Py<PyAny>, LoadError<PyErr>>, _) = match loaded {
            Ok(Some((v, weight))) => (Ok(v.clone_ref(py)), Some((Some(v), weight))),
            Ok(None) => (Err(LoadError::NullValue), None),
            Err(e) => (Err(LoadError::Loader(e)), None),
        };
        let taken = self.end_load(py, owned, to_cache, now)?;
        self.deliver(py, taken, now)?;
        Ok(result?)
    }

    /// `invalidate(key)` removes the entry; `invalidate(key, value)` removes it only if `value == cached`
    /// (Elasticsearch's `Objects.equals(value, entry.value)`, so `None` is a value like any other).
    /// Returns whether an entry was removed. Counts an eviction when it removes.
    #[pyo3(signature = (key, *value))]
    fn invalidate(
        &self,
        py: Python<'_>,
        key: &Bound<'_, PyAny>,
        value: &Bound<'_, PyTuple>,
    ) -> PyResult<bool> {
        let karg = KeyArg::extract(key)?;
        let kref = key_ref(&karg)?;
        let expected = match value.len() {
            0 => None,
            1 => Some(value.get_item(0)?),
            n => {
                return Err(pyo3::exceptions::PyTypeError::new_err(format!(
                    "invalidate() takes a key and at most one value ({n} values given)"
                )))
            }
        };
        let Some(expected) = expected else {
            let (removed, taken, now) = {
                let mut inner = self.lock_key(py, kref)?;
                let now = inner.clock.now();
                let removed = inner.cache.invalidate(&kref, now);
                (removed, inner.take_pending(), now)
            };
            self.deliver(py, taken, now)?;
            return Ok(removed);
        };
        // `==` is Python code: it runs with the lock released, on the cached object, which is then
        // removed only if it is still the one cached (else the new one is compared).
        for _ in 0..MAX_COMPARE_ATTEMPTS {
            let cached = {
                let inner = self.lock(py)?;
                // A load in progress is an incomplete future: Elasticsearch leaves it (`isDone()`).
                if inner.loads.owner(&kref).is_some() {
                    return Ok(false);
                }
                match inner.cache.peek(&kref) {
                    None => return Ok(false),
                    Some(v) => value_to_py(py, v),
                }
            };
            let equal = expected.is(cached.bind(py)) || expected.eq(cached.bind(py))?;
            if !equal {
                return Ok(false);
            }
            let (removed, still_cached, taken, now) = {
                let mut inner = self.lock(py)?;
                let now = inner.clock.now();
                let mut same = false;
                let removed = inner.cache.invalidate_if(&kref, now, |v| {
                    same = v.as_ref().map(Py::as_ptr) == Some(cached.as_ptr())
                        || (v.is_none() && cached.is_none(py));
                    same
                });
                let still_cached = same || inner.cache.peek(&kref).is_none();
                (removed, still_cached, inner.take_pending(), now)
            };
            self.deliver(py, taken, now)?;
            if removed || still_cached {
                return Ok(removed);
            }
        }
        Ok(false)
    }

    /// `invalidateAll`: empties the cache; every entry is reported `INVALIDATED`, most recent first.
    fn invalidate_all(&self, py: Python<'_>) -> PyResult<()> {
        let (taken, now) = {
            let mut inner = self.lock(py)?;
            let now = inner.clock.now();
            inner.cache.invalidate_all(now);
            (inner.take_pending(), now)
        };
        self.deliver(py, taken, now)
    }

    /// `refresh`: prunes expired and overweight entries from the tail now.
    fn refresh(&self, py: Python<'_>) -> PyResult<()> {
        let (taken, now) = {
            let mut inner = self.lock(py)?;
            let now = inner.clock.now();
            inner.cache.refresh(now);
            (inner.take_pending(), now)
        };
        self.deliver(py, taken, now)
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
        // Copied under the lock, turned into Python objects after it.
        let keys: Vec<Key> = self.lock(py)?.cache.keys().cloned().collect();
        PyList::new(py, keys.iter().map(|k| convert::key_to_py(py, k)))
    }

    /// `(key, value)` pairs, most recently used first.
    fn items<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyList>> {
        let entries: Vec<(Key, Py<PyAny>)> = self
            .lock(py)?
            .cache
            .iter()
            .map(|(k, v)| (k.clone(), value_to_py(py, v)))
            .collect();
        let items = entries
            .into_iter()
            .map(|(k, v)| PyTuple::new(py, [convert::key_to_py(py, &k), v]))
            .collect::<PyResult<Vec<_>>>()?;
        PyList::new(py, items)
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
        let kref = key_ref(&karg)?;
        Ok(self.lock(py)?.cache.contains_key(&kref))
    }

    fn __iter__<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        self.keys(py)?.try_iter().map(Bound::into_any)
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

    /// Jupyter's rich display: the HTML that `escache._display` renders (counts and settings only).
    fn _repr_html_<'py>(slf: &Bound<'py, Self>) -> PyResult<Bound<'py, PyAny>> {
        let display = slf.py().import("escache._display")?;
        display.call_method1("cache_html", (slf,))
    }

    /// Fault injection for the tests of the broken state (debug builds only): panics while holding
    /// the lock, as a bug in the engine would.
    #[cfg(debug_assertions)]
    fn _panic_while_locked_for_tests(&self, py: Python<'_>) -> PyResult<()> {
        let _inner = self.lock(py)?;
        // ok: a test hook whose whole purpose is to panic (tests of the broken state)
        panic!("injected panic for tests");
    }

    /// Bulk get-or-put: for each key, `get`, and on a miss `put(key, value)`, all in Rust with the GIL
    /// released. Keys are a buffer of integers (`array.array`, a numpy array) or any iterable of str/int.
    /// Request `i` happens at `now + i * interval`; afterwards the clock stands at `now + len * interval`.
    /// The lock is taken and released without the GIL, once per chunk of requests; other threads wait
    /// for the chunk (detached). A key a `compute_if_absent` is loading is waited for, as `get` does.
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
        let keys = replay::replay_keys(py, keys)?;
        self.replay_chunks(py, &keys, interval, value)
    }
}

/// How many times `invalidate(key, value)` compares again when the cached value changed while `==` ran.
const MAX_COMPARE_ATTEMPTS: usize = 16;
