//! Raising escache's Python exceptions (defined in `python/escache/errors.py`, so that they can derive
//! from both `EscacheError` and the built-in Python expects).

use pyo3::exceptions::PyRuntimeError;
use pyo3::prelude::*;
use pyo3::sync::PyOnceLock;
use pyo3::types::PyType;

fn class<'py>(
    py: Python<'py>,
    cell: &'static PyOnceLock<Py<PyType>>,
    name: &str,
) -> PyResult<Bound<'py, PyType>> {
    cell.get_or_try_init(py, || -> PyResult<Py<PyType>> {
        let module = py.import("escache.errors")?;
        Ok(module.getattr(name)?.cast_into::<PyType>()?.unbind())
    })
    .map(|t| t.bind(py).clone())
}

macro_rules! error_kind {
    ($fn_name:ident, $class:literal) => {
        pub fn $fn_name(py: Python<'_>, message: impl Into<String>) -> PyErr {
            static CELL: PyOnceLock<Py<PyType>> = PyOnceLock::new();
            let message = message.into();
            match class(py, &CELL, $class) {
                Ok(ty) => PyErr::from_type(ty, message),
                // escache.errors could not be imported: still raise, never panic.
                Err(_) => PyRuntimeError::new_err(message),
            }
        }
    };
}

error_kind!(illegal_argument, "IllegalArgumentError");
error_kind!(key_type, "KeyTypeError");
error_kind!(execution, "ExecutionError");
error_kind!(reentrant_call, "ReentrantCallError");
error_kind!(broken_state, "BrokenStateError");
error_kind!(unknown_node, "UnknownNodeError");
error_kind!(node_unavailable, "NodeUnavailableError");
error_kind!(illegal_argument_type, "IllegalArgumentTypeError");

/// Converts any core error whose text is Elasticsearch's into `IllegalArgumentError`.
pub fn illegal_argument_from(py: Python<'_>, e: impl std::fmt::Display) -> PyErr {
    illegal_argument(py, e.to_string())
}

/// `ServiceTokensToolError(message, exit_code)`: the CLI's message and exit status.
pub fn service_tokens_tool(py: Python<'_>, message: String, exit_code: i32) -> PyErr {
    static CELL: PyOnceLock<Py<PyType>> = PyOnceLock::new();
    match class(py, &CELL, "ServiceTokensToolError") {
        Ok(ty) => PyErr::from_type(ty, (message, exit_code)),
        Err(_) => PyRuntimeError::new_err(message),
    }
}
