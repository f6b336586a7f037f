//! Taking a core lock from Python: detached, with panics turned into a broken object (see the
//! locking rules in the module documentation of `python`).

use super::errors;
use pyo3::prelude::*;
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::sync::{Mutex, TryLockError};

/// A call found (or left) a lock poisoned: the object named is broken.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Broken(pub &'static str);

/// `BrokenStateError`, raised once re-attached.
impl From<Broken> for PyErr {
    fn from(Broken(what): Broken) -> PyErr {
        Python::attach(|py| {
            errors::broken_state(
                py,
                format!(
                    "this {what} is broken: an internal error interrupted an earlier operation \
                     half-way, so its state cannot be trusted; build a new {what} (and please report \
                     the bug)"
                ),
            )
        })
    }
}

/// Runs `f` with `m` locked, while already detached. A panic in `f` poisons `m` (the guard is dropped
/// while unwinding) and is reported as [`Broken`], like every later call.
pub(crate) fn locked<T, R>(
    what: &'static str,
    m: &Mutex<T>,
    f: impl FnOnce(&mut T) -> R,
) -> Result<R, Broken> {
    // AssertUnwindSafe: after a panic the state is never used again (the poisoned lock says so).
    catch_unwind(AssertUnwindSafe(|| match m.lock() {
        Ok(mut guard) => Ok(f(&mut guard)),
        Err(_) => Err(Broken(what)),
    }))
    .unwrap_or(Err(Broken(what)))
}

/// Runs `f` with `first` then `second` locked (the lock order), while already detached. A panic in
/// `f` poisons both: either state may be half-updated. It is reported as the second one broken (the
/// object called).
pub(crate) fn locked2<A, B, R>(
    (what_a, first): (&'static str, &Mutex<A>),
    (what_b, second): (&'static str, &Mutex<B>),
    f: impl FnOnce(&mut A, &mut B) -> R,
) -> Result<R, Broken> {
    catch_unwind(AssertUnwindSafe(|| {
        let mut a = first.lock().map_err(|_| Broken(what_a))?;
        let mut b = second.lock().map_err(|_| Broken(what_b))?;
        Ok(f(&mut a, &mut b))
    }))
    .unwrap_or(Err(Broken(what_b)))
}

/// Detaches, runs `f` with `m` locked, releases the lock, re-attaches.
pub(crate) fn with<T: Send, R: Send>(
    py: Python<'_>,
    what: &'static str,
    m: &Mutex<T>,
    f: impl FnOnce(&mut T) -> R + Send,
) -> PyResult<R> {
    Ok(py.detach(|| locked(what, m, f))?)
}

/// Detaches, runs `f` with `first` then `second` locked, releases both, re-attaches.
pub(crate) fn with2<A: Send, B: Send, R: Send>(
    py: Python<'_>,
    first: (&'static str, &Mutex<A>),
    second: (&'static str, &Mutex<B>),
    f: impl FnOnce(&mut A, &mut B) -> R + Send,
) -> PyResult<R> {
    Ok(py.detach(|| locked2(first, second, f))?)
}

/// Runs `f` with `m` locked, taking the lock attached with `try_lock` when it is free (no release and
/// re-acquire of the GIL: the per-request path of `Cluster.perform_request`), else waiting for it
/// detached ([`with`]). It never blocks on the lock while attached and never waits for the GIL while
/// holding it; `f` is plain Rust (it gets no `Python` token). A panic in `f` poisons `m`, as in
/// [`locked`].
pub(crate) fn with_try_attached<T: Send, R: Send>(
    py: Python<'_>,
    what: &'static str,
    m: &Mutex<T>,
    f: impl FnOnce(&mut T) -> R + Send,
) -> PyResult<R> {
    let mut guard = match m.try_lock() {
        Ok(g) => g,
        Err(TryLockError::Poisoned(_)) => return Err(Broken(what).into()),
        Err(TryLockError::WouldBlock) => return with(py, what, m, f),
    };
    // AssertUnwindSafe: the guard is dropped while unwinding, which poisons `m` (see `locked`).
    catch_unwind(AssertUnwindSafe(move || f(&mut guard))).map_err(|_| Broken(what).into())
}
