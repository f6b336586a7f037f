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

use super::convert::{self, KeyArg};
use super::errors;
use crate::cache::{
    Cache, CacheBuilder, Key, KeyRef, LoadError, LoadStart, PendingLoads, RemovalContext,
    RemovalListener, RemovalNotification, RemovalReason, UnitWeigher,
};
use crate::time::{Nanos, VirtualClock, NANOS_PER_SECOND};
use pyo3::buffer::PyBuffer;
use pyo3::prelude::*;
use pyo3::sync::PyOnceLock;
use pyo3::types::{PyDict, PyList, PyString, PyTuple};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Condvar, Mutex, MutexGuard, TryLockError};

/// Values: `None` stands for Python's `None`, so that a replay can insert without the GIL.
type Value = Option<Py<PyAny>>;

type Removal = (Key, Value, RemovalReason);

/// Removals wait here while the cache is locked; they are released, or handed to the Python listener,
/// after it is unlocked.
#[derive(Default)]
struct PendingRemovals {
    /// A Python listener is set and the operation is one call (not a replay): pruning pauses after each
    /// eviction so that the listener runs between two unlinks, as in Elasticsearch.
    step: bool,
    /// Pruning stopped with more to do; the binding goes on with `refresh(now)` after the callback.
    paused: bool,
    pending: Vec<Removal>,
}

impl RemovalListener<Key, Value> for PendingRemovals {
    #[inline]
    fn on_removal(&mut self, n: RemovalNotification<Key, Value>, _: RemovalContext) {
        self.pending.push((n.key, n.value, n.reason));
    }

    #[inline]
    fn pause_pruning(&mut self) -> bool {
        if self.step && !self.pending.is_empty() {
            self.paused = true;
        }
        self.paused
    }
}

type Engine = Cache<Key, Value, UnitWeigher, PendingRemovals>;

struct Inner {
    cache: Engine,
    clock: VirtualClock,
    /// Keys a `compute_if_absent` is loading with the lock released (Elasticsearch's futures).
    loads: PendingLoads<Key>,
}

/// What an operation left for after the unlock: its removals, in order (a lone one is moved out so
/// that the pending list keeps its allocation for the next operation).
struct Taken {
    one: Option<Removal>,
    more: Vec<Removal>,
    paused: bool,
}

impl Taken {
    fn removals(self) -> impl Iterator<Item = Removal> {
        self.one.into_iter().chain(self.more)
    }
}

impl Inner {
    #[inline]
    fn take_pending(&mut self) -> Taken {
        let l = self.cache.listener_mut();
        let paused = std::mem::take(&mut l.paused);
        let (one, more) = match l.pending.len() {
            0 => (None, Vec::new()),
            1 => (l.pending.pop(), Vec::new()),
            _ => (None, std::mem::take(&mut l.pending)),
        };
        Taken { one, more, paused }
    }
}

/// A token per live OS thread (never 0), to tell a re-entrant call from a call from another thread:
/// the thread's Python thread state, which an attached thread reads without a thread-local lookup.
#[inline]
fn thread_token(_attached: Python<'_>) -> u64 {
    // SAFETY: `PyThreadState_Get` only reads the current thread state; the `Python` token proves this
    // thread is attached, so there is one (it never returns null then).
    unsafe { pyo3::ffi::PyThreadState_Get() as usize as u64 }
}

struct Locked<'a> {
    guard: MutexGuard<'a, Inner>,
    /// The thread holding the lock, cleared before the lock is released.
    owner: &'a AtomicU64,
}

impl Drop for Locked<'_> {
    fn drop(&mut self) {
        self.owner.store(0, Ordering::Relaxed);
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

fn nanos_to_seconds(n: Nanos) -> f64 {
    n as f64 / NANOS_PER_SECOND as f64
}

fn broken(py: Python<'_>) -> PyErr {
    errors::broken_state(
        py,
        "this Cache is broken: an internal error interrupted an earlier call while it was updating \
         the cache, so its state can no longer be trusted; create a new Cache",
    )
}

/// Elasticsearch deadlocks here (the loader's own future blocks it); escache refuses.
fn own_load(py: Python<'_>, key: KeyRef<'_>) -> PyErr {
    let what = match key {
        KeyRef::Int(_) => "an int key",
        KeyRef::Str(_) => "a str key",
    };
    errors::reentrant_call(
        py,
        format!(
            "a compute_if_absent loader waited on its own key ({what} whose value it is loading); \
             Elasticsearch would deadlock here"
        ),
    )
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
    /// Locks the cache (see the module comment). A call from the thread already holding it is refused;
    /// a call from another thread waits with the GIL released.
    #[inline]
    fn lock<'a>(&'a self, py: Python<'_>) -> PyResult<Locked<'a>> {
        let guard = match self.inner.try_lock() {
            Ok(g) => g,
            Err(e) => self.lock_contended(py, e)?,
        };
        self.owner.store(thread_token(py), Ordering::Relaxed);
        Ok(Locked {
            guard,
            owner: &self.owner,
        })
    }

    #[cold]
    fn lock_contended<'a>(
        &'a self,
        py: Python<'_>,
        e: TryLockError<MutexGuard<'a, Inner>>,
    ) -> PyResult<MutexGuard<'a, Inner>> {
        match e {
            TryLockError::Poisoned(_) => Err(broken(py)),
            TryLockError::WouldBlock => {
                // Only this thread ever stores its own token, so a relaxed load is exact for "is it me".
                if self.owner.load(Ordering::Relaxed) == thread_token(py) {
                    return Err(errors::reentrant_call(
                        py,
                        "a call back into the cache while this thread is updating it",
                    ));
                }
                // Wait for the holder with the GIL released, then take the lock attached: the lock is
                // never held while this thread waits for the GIL (`MutexExt::lock_py_attached` would
                // re-attach with the lock held). Another detached thread may win the race; wait again.
                loop {
                    let free = py.detach(|| self.inner.lock().map(drop).is_ok());
                    if !free {
                        return Err(broken(py));
                    }
                    match self.inner.try_lock() {
                        Ok(g) => return Ok(g),
                        Err(TryLockError::Poisoned(_)) => return Err(broken(py)),
                        Err(TryLockError::WouldBlock) => {}
                    }
                }
            }
        }
    }

    /// [`Self::lock`] for an operation on `key`: while a `compute_if_absent` is loading that key, the
    /// loading thread is refused (Elasticsearch would deadlock on its own future) and other threads
    /// wait for the load to end (Elasticsearch's `future.get()`).
    #[inline]
    fn lock_key<'a>(&'a self, py: Python<'_>, key: KeyRef<'_>) -> PyResult<Locked<'a>> {
        let inner = self.lock(py)?;
        if inner.loads.is_empty() {
            return Ok(inner);
        }
        self.lock_key_while_loading(py, key, inner)
    }

    #[cold]
    fn lock_key_while_loading<'a>(
        &'a self,
        py: Python<'_>,
        key: KeyRef<'_>,
        mut inner: Locked<'a>,
    ) -> PyResult<Locked<'a>> {
        loop {
            let Some(loader) = inner.loads.owner(&key) else {
                return Ok(inner);
            };
            // Unlocked before any Python object (the error) is made.
            drop(inner);
            if loader == thread_token(py) {
                return Err(own_load(py, key));
            }
            self.wait_for_load(py, &key.to_owned())?;
            inner = self.lock(py)?;
        }
    }

    /// Waits, detached from Python, until no load of `key` is pending.
    fn wait_for_load(&self, py: Python<'_>, key: &Key) -> PyResult<()> {
        let ok = py.detach(|| {
            let Ok(mut inner) = self.inner.lock() else {
                return false;
            };
            while inner.loads.owner(key).is_some() {
                match self.loaded.wait(inner) {
                    Ok(g) => inner = g,
                    Err(_) => return false,
                }
            }
            true
        });
        if ok {
            Ok(())
        } else {
            Err(broken(py))
        }
    }

    /// Releases what an operation removed and hands it to the listener, with the lock released.
    ///
    /// Elasticsearch calls `removalListener.onRemoval` from `delete`, right after each unlink and inside
    /// the pruning loop (`Cache.evict` / `evictEntry` / `delete`), and reports a `put`'s `REPLACED`
    /// after its `promote` has pruned (`Cache.put`); `invalidateAll` unlinks everything first and then
    /// reports (`Cache.invalidateAll`). A listener that reads `count`/`weight` therefore sees the cache
    /// between two evictions. escache keeps that: the engine pauses pruning after each eviction
    /// (`pause_pruning`), the listener runs here with the lock released, and pruning goes on with the
    /// operation's `now`; a `REPLACED` waits for the pruning to end. Every notification is delivered;
    /// the first exception a listener raised is raised afterwards, later ones go to
    /// `sys.unraisablehook`. (A `replay` delivers per chunk of requests, after the chunk.)
    fn deliver(&self, py: Python<'_>, taken: Taken, now: Nanos) -> PyResult<()> {
        let Some(listener) = &self.removal_listener else {
            // Values are released here, after the unlock, so that their `__del__` may use the cache.
            drop(taken);
            return Ok(());
        };
        let mut first: Option<PyErr> = None;
        let mut replaced = Vec::new();
        let mut batch = taken;
        loop {
            let paused = batch.paused;
            for removal in batch.removals() {
                if paused && removal.2 == RemovalReason::Replaced {
                    replaced.push(removal);
                } else {
                    self.notify(py, listener, removal, &mut first);
                }
            }
            if !paused {
                break;
            }
            batch = {
                let mut inner = self.lock(py)?;
                inner.cache.refresh(now);
                inner.take_pending()
            };
        }
        for removal in replaced {
            self.notify(py, listener, removal, &mut first);
        }
        first.map_or(Ok(()), Err)
    }

    fn notify(
        &self,
        py: Python<'_>,
        listener: &Py<PyAny>,
        (key, value, reason): Removal,
        first: &mut Option<PyErr>,
    ) {
        let result = reason_to_py(py, reason).and_then(|reason| {
            let value = value.unwrap_or_else(|| py.None());
            listener
                .call1(py, (convert::key_to_py(py, &key), value, reason))
                .map(drop)
        });
        if let Err(e) = result {
            match first {
                None => *first = Some(e),
                Some(_) => e.write_unraisable(py, Some(listener.bind(py))),
            }
        }
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

    /// The end of a `compute_if_absent` load: the key's future completes (waiters go ahead) and a
    /// loaded value is cached, at the `now` the call began.
    fn end_load(
        &self,
        py: Python<'_>,
        key: Key,
        loaded: Option<(Value, Option<u64>)>,
        now: Nanos,
    ) -> PyResult<Taken> {
        let locked = self.lock(py);
        // Wake waiters even if the lock is broken: they then see the poison and report it.
        let result = locked.map(|mut inner| {
            inner.loads.finish(&key);
            if let Some((value, weight)) = loaded {
                inner.cache.put_loaded(key, value, weight, now);
            }
            inner.take_pending()
        });
        self.loaded.notify_all();
        result
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
            step: removal_listener.is_some(),
            ..PendingRemovals::default()
        };
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
                    same = v.as_ref().map(|v| v.as_ptr()) == Some(cached.as_ptr())
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
        let keys = replay_keys(py, keys)?;
        let n = match &keys {
            ReplayKeys::Ints(v) => v.len(),
            ReplayKeys::Keys(v) => v.len(),
        };
        let key_at = |i: usize| match &keys {
            ReplayKeys::Ints(ks) => KeyRef::Int(ks[i]),
            ReplayKeys::Keys(ks) => ks[i].as_ref(),
        };
        let mut total = PyReplayResult {
            requests: 0,
            hits: 0,
            misses: 0,
            evictions: 0,
        };
        let me = thread_token(py);
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
                        let k = convert::key_to_py(py, &key_at(i).to_owned());
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
            // The whole chunk runs detached: the lock is taken and released without the GIL.
            let run = py.detach(|| -> Result<_, ReplayBlocked> {
                let mut inner = self.inner.lock().map_err(|_| ReplayBlocked::Broken)?;
                // A key being loaded: wait for another thread's load, refuse this thread's own.
                while !inner.loads.is_empty() {
                    match (start..end).find_map(|i| inner.loads.owner(&key_at(i))) {
                        None => break,
                        Some(o) if o == me => return Err(ReplayBlocked::OwnLoad),
                        Some(_) => {
                            inner = self.loaded.wait(inner).map_err(|_| ReplayBlocked::Broken)?
                        }
                    }
                }
                let inner = &mut *inner;
                inner.cache.listener_mut().step = false;
                let mut values = values.into_iter();
                let before = inner.cache.stats();
                let mut now = inner.clock.now();
                for i in start..end {
                    let key = key_at(i).to_owned();
                    let weight = weights.as_ref().map(|w| w[i - start]);
                    inner
                        .cache
                        .get_or_put_weighted(key, now, || (values.next().flatten(), weight));
                    now = now.saturating_add(interval);
                }
                inner.cache.listener_mut().step = self.removal_listener.is_some();
                inner.clock = VirtualClock::starting_at(now);
                let after = inner.cache.stats();
                // Unused values go back to be released with the GIL held.
                let unused: Vec<Value> = values.collect();
                Ok((
                    after.hits - before.hits,
                    after.misses - before.misses,
                    after.evictions - before.evictions,
                    inner.take_pending(),
                    unused,
                    now,
                ))
            });
            let (hits, misses, evictions, taken, unused, now) = match run {
                Ok(r) => r,
                Err(ReplayBlocked::Broken) => return Err(broken(py)),
                Err(ReplayBlocked::OwnLoad) => return Err(errors::reentrant_call(
                    py,
                    "a compute_if_absent loader replayed its own key (whose value it is loading); \
                         Elasticsearch would deadlock here",
                )),
            };
            drop(unused);
            total.requests += (end - start) as u64;
            total.hits += hits;
            total.misses += misses;
            total.evictions += evictions;
            self.deliver(py, taken, now)?;
            start = end;
        }
        Ok(total)
    }
}

/// Why a replay chunk did not run.
enum ReplayBlocked {
    Broken,
    OwnLoad,
}

/// How many times `invalidate(key, value)` compares again when the cached value changed while `==` ran.
const MAX_COMPARE_ATTEMPTS: usize = 16;
