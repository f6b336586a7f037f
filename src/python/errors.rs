//! Raising escache's Python exceptions (defined in `python/escache/errors.py`, so that they can derive
//! from both `EscacheError` and the built-in Python expects).
//!
//! [`From<Error> for PyErr`](struct@crate::error::Error) is the one mapping from the crate's errors to
//! Python: an Elasticsearch exception raises the class of its type (the table in [`Class::of`]) with
//! `es_type`, `status` and `body` (the Elasticsearch error body as a dict) set; the parts' errors raise
//! as their Elasticsearch exception where Elasticsearch has one, and as escache's own class otherwise.
//! Each part's error converts with `?` too (it goes through [`Error`]). The few Python-only errors of
//! the glue (an argument of the wrong type, a bad cache key, a reentrant call) have their constructors
//! below.

use crate::cache::{CacheBuildError, LoadError};
use crate::error::{Error, EsError, ExceptionType, NodeError};
use crate::rest::request::RequestError;
use crate::security::hashing::HashError;
use crate::security::service_account::file::FileParseError;
use crate::security::service_account::tool::ToolError;
use crate::sim::workload::WorkloadError;
use crate::time::TimeError;
use pyo3::exceptions::PyRuntimeError;
use pyo3::prelude::*;
use pyo3::sync::PyOnceLock;
use pyo3::types::PyType;

/// The classes of `escache.errors` raised from Rust.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Class {
    IllegalArgument,
    IllegalArgumentType,
    ActionRequestValidation,
    Parse,
    KeyType,
    Security,
    ResourceNotFound,
    UnknownNode,
    IllegalState,
    ReentrantCall,
    BrokenState,
    Execution,
    NodeUnavailable,
    ServiceTokensTool,
    Elasticsearch,
}

impl Class {
    /// How many classes there are (the discriminants are `0..COUNT`).
    const COUNT: usize = Class::Elasticsearch as usize + 1;

    fn name(self) -> &'static str {
        match self {
            Class::IllegalArgument => "IllegalArgumentError",
            Class::IllegalArgumentType => "IllegalArgumentTypeError",
            Class::ActionRequestValidation => "ActionRequestValidationError",
            Class::Parse => "ParseError",
            Class::KeyType => "KeyTypeError",
            Class::Security => "SecurityError",
            Class::ResourceNotFound => "ResourceNotFoundError",
            Class::UnknownNode => "UnknownNodeError",
            Class::IllegalState => "IllegalStateError",
            Class::ReentrantCall => "ReentrantCallError",
            Class::BrokenState => "BrokenStateError",
            Class::Execution => "ExecutionError",
            Class::NodeUnavailable => "NodeUnavailableError",
            Class::ServiceTokensTool => "ServiceTokensToolError",
            Class::Elasticsearch => "ElasticsearchError",
        }
    }

    /// The class an Elasticsearch exception raises: its type's own class, else by status (every 400
    /// is an `IllegalArgumentError`, every 404 a `ResourceNotFoundError`, anything else an
    /// `ElasticsearchError`). `es_type` keeps the precise type either way.
    fn of(kind: ExceptionType, status: u16) -> Class {
        use ExceptionType as T;
        match kind {
            T::IllegalArgument | T::BadParameter => Class::IllegalArgument,
            T::ActionRequestValidation | T::Validation => Class::ActionRequestValidation,
            T::Parse | T::XContentParse | T::XContentEof | T::JsonParse | T::JsonEof => {
                Class::Parse
            }
            T::Security => Class::Security,
            T::ResourceNotFound | T::IndexNotFound => Class::ResourceNotFound,
            T::IllegalState => Class::IllegalState,
            T::NodeNotConnected | T::NodeDisconnected => Class::NodeUnavailable,
            _ => match status {
                400 => Class::IllegalArgument,
                404 => Class::ResourceNotFound,
                _ => Class::Elasticsearch,
            },
        }
    }

    /// The class object, imported once per class.
    fn get(self, py: Python<'_>) -> PyResult<Bound<'_, PyType>> {
        static CELLS: [PyOnceLock<Py<PyType>>; Class::COUNT] =
            [const { PyOnceLock::new() }; Class::COUNT];
        // ok: a discriminant is below `COUNT`, the last variant's plus one.
        CELLS[self as usize]
            .get_or_try_init(py, || -> PyResult<Py<PyType>> {
                let module = py.import("escache.errors")?;
                Ok(module.getattr(self.name())?.cast_into::<PyType>()?.unbind())
            })
            .map(|t| t.bind(py).clone())
    }

    /// A `Class(message)` error, raised lazily.
    fn err(self, py: Python<'_>, message: impl Into<String>) -> PyErr {
        let message = message.into();
        match self.get(py) {
            Ok(ty) => PyErr::from_type(ty, message),
            // escache.errors could not be imported: still raise, never panic.
            Err(_) => PyRuntimeError::new_err(message),
        }
    }
}

/// The glue's own errors, for what only Python can get wrong.
macro_rules! error_kind {
    ($($fn_name:ident => $class:ident),* $(,)?) => {
        $(pub fn $fn_name(py: Python<'_>, message: impl Into<String>) -> PyErr {
            Class::$class.err(py, message)
        })*
    };
}

error_kind! {
    illegal_argument => IllegalArgument,
    illegal_argument_type => IllegalArgumentType,
    illegal_state => IllegalState,
    key_type => KeyType,
    execution => Execution,
    reentrant_call => ReentrantCall,
    broken_state => BrokenState,
}

/// An Elasticsearch exception: its class, message `reason`, and `es_type`, `status`, `body` set on
/// the instance.
fn elasticsearch(py: Python<'_>, e: &EsError) -> PyErr {
    let build = || -> PyResult<PyErr> {
        let exc = Class::of(e.kind, e.status)
            .get(py)?
            .call1((e.reason.as_str(),))?;
        exc.setattr("es_type", e.kind.as_str())?;
        exc.setattr("status", e.status)?;
        let body = py
            .import("json")?
            .call_method1("loads", (e.to_body().to_string(),))?;
        exc.setattr("body", body)?;
        Ok(PyErr::from_value(exc))
    };
    build().unwrap_or_else(|_| PyRuntimeError::new_err(e.reason.clone()))
}

impl From<Error> for PyErr {
    fn from(e: Error) -> PyErr {
        Python::attach(|py| {
            let message = e.to_string();
            match e {
                Error::Es(e) => elasticsearch(py, &e),
                Error::ServiceTokensTool(t) => match Class::ServiceTokensTool.get(py) {
                    Ok(ty) => PyErr::from_type(ty, (t.message, t.exit_code)),
                    Err(_) => PyRuntimeError::new_err(message),
                },
                Error::Node(n) => match *n {
                    NodeError::Unknown(_) => Class::UnknownNode.err(py, message),
                    NodeError::Unavailable(_) => Class::NodeUnavailable.err(py, message),
                    NodeError::NoRunningNode => Class::IllegalArgument.err(py, message),
                },
                other => match other.to_es_error() {
                    Some(es) => elasticsearch(py, &es),
                    // A workload's parameters, an unknown HTTP method: bad arguments.
                    None => Class::IllegalArgument.err(py, message),
                },
            }
        })
    }
}

/// Each part's error raises through [`Error`], so `?` converts it in a `PyResult` function.
macro_rules! via_error {
    ($($part:ty),* $(,)?) => {
        $(impl From<$part> for PyErr {
            fn from(e: $part) -> PyErr {
                Error::from(e).into()
            }
        })*
    };
}

via_error!(
    EsError,
    TimeError,
    HashError,
    CacheBuildError,
    FileParseError,
    ToolError,
    RequestError,
    WorkloadError,
    NodeError,
);

/// `Cache.compute_if_absent`'s `ExecutionException`: the loader raised (its exception becomes
/// `__cause__`) or returned `None`.
impl From<LoadError<PyErr>> for PyErr {
    fn from(e: LoadError<PyErr>) -> PyErr {
        Python::attach(|py| match e {
            LoadError::NullValue => execution(py, "loader returned a null value"),
            LoadError::Loader(cause) => {
                let err = execution(py, format!("loader failed: {}", cause.value(py)));
                err.set_cause(py, Some(cause));
                err
            }
        })
    }
}
