//! Taking `escache.Cache`'s lock (the rules are in the module documentation of `cache`).

use super::{errors, Inner, PyCache, Taken, Value};
use crate::cache::{Key, KeyRef};
use crate::time::Nanos;
use pyo3::prelude::*;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{MutexGuard, TryLockError};

/// A token per live OS thread (never 0), to tell a re-entrant call from a call from another thread:
/// the thread's Python thread state, which an attached thread reads without a thread-local lookup.
#[inline]
pub(super) fn thread_token(_attached: Python<'_>) -> u64 {
    // SAFETY: `PyThreadState_Get` only reads the current thread state; the `Python` token proves this
    // thread is attached, so there is one (it never returns null then).
    unsafe { pyo3::ffi::PyThreadState_Get() as usize as u64 }
}

pub(super) struct Locked<'a> {
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

pub(super) fn broken(py: Python<'_>) -> PyErr {
    errors::broken_state(
        py,
        "this Cache is broken: an internal error interrupted an earlier call while it was updating \
         the cache, so its state can no longer be trusted; create a new Cache",
    )
}

/// Elasticsearch deadlocks here (the loader's own future blocks it); escache refuses.
pub(super) fn own_load(py: Python<'_>, key: KeyRef<'_>) -> PyErr {
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

impl PyCache {
    /// Locks the cache (see the module comment). A call from the thread already holding it is refused;
    /// a call from another thread waits with the GIL released.
    #[inline]
    pub(super) fn lock<'a>(&'a self, py: Python<'_>) -> PyResult<Locked<'a>> {
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
    pub(super) fn lock_contended<'a>(
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
    pub(super) fn lock_key<'a>(&'a self, py: Python<'_>, key: KeyRef<'_>) -> PyResult<Locked<'a>> {
        let inner = self.lock(py)?;
        if inner.loads.is_empty() {
            return Ok(inner);
        }
        self.lock_key_while_loading(py, key, inner)
    }

    #[cold]
    pub(super) fn lock_key_while_loading<'a>(
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
    pub(super) fn wait_for_load(&self, py: Python<'_>, key: &Key) -> PyResult<()> {
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

    /// The end of a `compute_if_absent` load: the key's future completes (waiters go ahead) and a
    /// loaded value is cached, at the `now` the call began.
    pub(super) fn end_load(
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
