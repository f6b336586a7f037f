//! What an operation on `escache.Cache` removed: held while the cache is locked, released or handed to
//! the removal listener after it is unlocked.

use super::{Inner, PyCache, Value};
use crate::cache::{Key, RemovalContext, RemovalListener, RemovalNotification, RemovalReason};
use crate::python::convert;
use crate::time::Nanos;
use pyo3::prelude::*;
use pyo3::sync::PyOnceLock;

pub(super) type Removal = (Key, Value, RemovalReason);

/// Removals wait here while the cache is locked; they are released, or handed to the Python listener,
/// after it is unlocked.
#[derive(Default)]
pub(super) struct PendingRemovals {
    /// A Python listener is set and the operation is one call (not a replay): pruning pauses after each
    /// eviction so that the listener runs between two unlinks, as in Elasticsearch.
    pub(super) step: bool,
    /// A Python listener is set: every removal is handed to it. Without one, only removed values
    /// (Python objects, released with the GIL) need keeping; a removal without a value is dropped at
    /// once (a replay with the default value evicts without filling this list).
    listening: bool,
    /// Pruning stopped with more to do; the binding goes on with `refresh(now)` after the callback.
    paused: bool,
    pending: Vec<Removal>,
}

impl PendingRemovals {
    /// `step`: a Python listener is set (see the field).
    pub(super) fn new(step: bool) -> Self {
        PendingRemovals {
            step,
            listening: step,
            ..PendingRemovals::default()
        }
    }
}

impl RemovalListener<Key, Value> for PendingRemovals {
    #[inline]
    fn on_removal(&mut self, n: RemovalNotification<Key, Value>, _: RemovalContext) {
        if self.listening || n.value.is_some() {
            self.pending.push((n.key, n.value, n.reason));
        }
    }

    #[inline]
    fn pause_pruning(&mut self) -> bool {
        if self.step && !self.pending.is_empty() {
            self.paused = true;
        }
        self.paused
    }
}

/// What an operation left for after the unlock: its removals, in order (a lone one is moved out so
/// that the pending list keeps its allocation for the next operation).
pub(super) struct Taken {
    one: Option<Removal>,
    more: Vec<Removal>,
    paused: bool,
}

impl Taken {
    pub(super) fn removals(self) -> impl Iterator<Item = Removal> {
        self.one.into_iter().chain(self.more)
    }
}

impl Inner {
    #[inline]
    pub(super) fn take_pending(&mut self) -> Taken {
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

pub(super) fn reason_to_py(py: Python<'_>, reason: RemovalReason) -> PyResult<Py<PyAny>> {
    static ENUM: PyOnceLock<Py<PyAny>> = PyOnceLock::new();
    let cls = ENUM.get_or_try_init(py, || -> PyResult<Py<PyAny>> {
        Ok(py
            .import("escache._types")?
            .getattr("RemovalReason")?
            .unbind())
    })?;
    Ok(cls.bind(py).getattr(reason.as_str())?.unbind())
}

impl PyCache {
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
    pub(super) fn deliver(&self, py: Python<'_>, taken: Taken, now: Nanos) -> PyResult<()> {
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
                    Self::notify(py, listener, removal, &mut first);
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
            Self::notify(py, listener, removal, &mut first);
        }
        first.map_or(Ok(()), Err)
    }

    fn notify(
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
}
