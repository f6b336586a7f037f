//! pyo3 glue: converts Python arguments to core types, calls the core, converts back. No model logic
//! lives here.
//!
//! # Locking (one design for the whole binding)
//!
//! The core's state sits behind `std::sync::Mutex`es: a cluster's (shared by its `Node`,
//! `CacheView` and `SecurityIndex` views and its simulations), a simulation's, a `Cache`'s. Two
//! rules keep them from deadlocking with the interpreter (the GIL, or the garbage collector's
//! stop-the-world) and with each other:
//!
//! 1. **Core locks are taken only while detached, and the interpreter is never waited for while one
//!    is held.** A method converts its arguments to plain Rust data, then runs
//!    `py.detach(|| { lock; core work; plain Rust result })`, and converts to Python objects only
//!    after re-attaching, the lock released ([`locks`]). So a thread holding a core lock never needs
//!    the GIL, and a thread holding the GIL never blocks on a core lock. (`MutexExt::lock_py_attached`
//!    would re-attach while holding the lock, waiting for the GIL under it; hence not used.)
//!    `escache.Cache` (`cache.rs`) keeps per-operation calls at pyo3's dispatch cost instead: it
//!    takes its lock attached with `try_lock`, which never blocks, and runs no Python code under
//!    it; a contended caller waits for the holder detached, then tries again attached.
//! 2. **One lock order: cluster before simulation**, never the reverse; a call needing only the
//!    simulation takes only its lock.
//!
//! Python code never runs under a core lock: a Python callable scheduled as a simulation action is
//! run by the glue's loop, between slices of the core's run, with every lock released
//! (`simulation.rs`); the same loop checks for signals (Ctrl-C) at least every
//! [`simulation::SIGNAL_CHECK_INTERVAL`] of wall time.
//!
//! A Rust panic under a core lock poisons it: the object's state may be half-updated, so that call
//! and every later one on the object (and on everything sharing its lock) raise
//! `escache.BrokenStateError`; nothing goes on using the state.

mod arrow;
mod cache;
mod cluster;
mod convert;
mod errors;
mod functions;
mod http;
mod locks;
mod simulation;

use pyo3::prelude::*;

/// A panic's message may quote the data it was handling (a slice panic prints the whole string, which
/// can be an `Authorization` header), and Rust's default hook writes it to stderr. escache's own
/// panics (a bug, whatever the input) therefore print only where they happened; a panic elsewhere in
/// the process goes to the hook that was there before.
fn install_panic_hook() {
    static ONCE: std::sync::Once = std::sync::Once::new();
    ONCE.call_once(|| {
        let previous = std::panic::take_hook();
        std::panic::set_hook(Box::new(move |info| match info.location() {
            // Cargo names the crate's own files relative to its root.
            Some(at) if at.file().starts_with("src/") => eprintln!(
                "escache: internal error at {}:{} (a bug: please report it; the panic message is \
                 withheld because it may quote request data)",
                at.file(),
                at.line()
            ),
            _ => previous(info),
        }));
    });
}

#[pymodule]
fn _core(m: &Bound<'_, PyModule>) -> PyResult<()> {
    install_panic_hook();
    m.add("__version__", env!("CARGO_PKG_VERSION"))?;
    m.add("TRACE_SCHEMA_VERSION", crate::trace::TRACE_SCHEMA_VERSION)?;
    m.add_class::<cache::PyCache>()?;
    m.add_class::<cache::PyReplayResult>()?;
    cluster::register(m)?;
    m.add_class::<simulation::PySimulation>()?;
    functions::register(m)?;
    http::register(m)?;
    Ok(())
}
