//! Python values to core types: keys, durations, weights.

use super::errors;
use crate::cache::{Key, KeyRef};
use crate::time::{self, DurationInput, Nanos, TimeValue};
use pyo3::prelude::*;
use pyo3::types::{PyBool, PyDelta, PyDeltaAccess, PyFloat, PyInt, PyString};

/// A key borrowed from a Python object: a `str` is not copied until it is inserted.
pub enum KeyArg<'a, 'py> {
    Int(i64),
    Str(&'a Bound<'py, PyString>),
}

impl<'a, 'py> KeyArg<'a, 'py> {
    pub fn extract(obj: &'a Bound<'py, PyAny>) -> PyResult<Self> {
        if let Ok(s) = obj.cast::<PyString>() {
            return Ok(KeyArg::Str(s));
        }
        if obj.is_instance_of::<PyInt>() {
            return obj.extract::<i64>().map(KeyArg::Int).map_err(|_| {
                errors::key_type(
                    obj.py(),
                    "an int cache key must fit in a signed 64-bit integer",
                )
            });
        }
        let type_name = type_name(obj);
        Err(errors::key_type(
            obj.py(),
            format!("cache keys are str or int, not [{type_name}]"),
        ))
    }

    /// Borrows the key for a lookup.
    pub fn with_ref<R>(&self, f: impl FnOnce(KeyRef<'_>) -> R) -> PyResult<R> {
        match self {
            KeyArg::Int(i) => Ok(f(KeyRef::Int(*i))),
            KeyArg::Str(s) => {
                let s = s
                    .to_str()
                    .map_err(|e| errors::key_type(s.py(), format!("invalid str key: {e}")))?;
                Ok(f(KeyRef::Str(s)))
            }
        }
    }

    #[allow(
        clippy::redundant_closure_for_method_calls,
        reason = "`KeyRef::to_owned` as a path is not general over the borrow's lifetime"
    )]
    pub fn to_owned(&self) -> PyResult<Key> {
        self.with_ref(|k| k.to_owned())
    }
}

/// A core key back to Python.
pub fn key_to_py(py: Python<'_>, key: &Key) -> Py<PyAny> {
    match key {
        Key::Int(i) => i
            .into_pyobject(py)
            .map_or_else(|_| py.None(), |b| b.into_any().unbind()),
        Key::Str(s) => PyString::new(py, s).into_any().unbind(),
    }
}

/// A duration from Python: an Elasticsearch time value string (`"24h"`, `"100ms"`), a number of
/// seconds, or a `datetime.timedelta`, as the core's [`DurationInput`] (the rules are
/// [`time::duration`]'s). A bool, or any other type, is an `IllegalArgumentTypeError` naming `what`.
pub fn duration_input<'a>(obj: &'a Bound<'_, PyAny>, what: &str) -> PyResult<DurationInput<'a>> {
    let py = obj.py();
    if obj.cast::<PyString>().is_ok() {
        return text(obj, what).map(DurationInput::Text);
    }
    if let Ok(d) = obj.cast::<PyDelta>() {
        let secs = i128::from(d.get_days()) * 86_400 + i128::from(d.get_seconds());
        return Ok(DurationInput::Nanos(
            secs * 1_000_000_000 + i128::from(d.get_microseconds()) * 1_000,
        ));
    }
    if obj.is_instance_of::<PyBool>() {
        // `True` is an int to Python, but never a duration.
        return Err(errors::illegal_argument_type(
            py,
            format!(
                "[{what}] must be a time value such as \"5m\" or a number of seconds, not a bool"
            ),
        ));
    }
    if obj.is_instance_of::<PyInt>() {
        // Beyond i128: too long anyway.
        return Ok(DurationInput::WholeSeconds(
            obj.extract::<i128>().unwrap_or(i128::MAX),
        ));
    }
    if obj.is_instance_of::<PyFloat>() {
        return obj.extract().map(DurationInput::Seconds);
    }
    Err(errors::illegal_argument_type(
        py,
        format!("[{what}] must be a time value such as \"5m\", a number of seconds or a timedelta"),
    ))
}

/// [`duration_input`], through [`time::duration`]: nanoseconds, at most [`time::MAX_DURATION_NANOS`].
/// Every refusal of a value is an `IllegalArgumentError` naming `what`.
pub fn duration_nanos(obj: &Bound<'_, PyAny>, what: &str) -> PyResult<Nanos> {
    let input = duration_input(obj, what)?;
    Ok(time::duration(input, what)?)
}

/// A `str` argument as UTF-8 text. Anything else is an `IllegalArgumentTypeError` (a `TypeError`),
/// and a `str` that cannot be encoded as UTF-8 (a lone surrogate) an `IllegalArgumentError` (a
/// `ValueError`); both name the argument, never its value (it may be a credential).
pub fn text<'a>(obj: &'a Bound<'_, PyAny>, what: &str) -> PyResult<&'a str> {
    let py = obj.py();
    let Ok(s) = obj.cast::<PyString>() else {
        return Err(errors::illegal_argument_type(
            py,
            format!("[{what}] must be a str, not [{}]", type_name(obj)),
        ));
    };
    s.to_str().map_err(|_| {
        errors::illegal_argument(
            py,
            format!(
                "[{what}] is not valid text: it holds a lone surrogate, which UTF-8 cannot encode"
            ),
        )
    })
}

/// A seed: an `int` from 0 to 2**64 - 1. Anything else is a typed error that names the argument
/// (`IllegalArgumentTypeError` for a non-int, `IllegalArgumentError` for an int out of range).
pub fn seed(obj: &Bound<'_, PyAny>, what: &str) -> PyResult<u64> {
    let py = obj.py();
    if obj.is_instance_of::<PyBool>() || !obj.is_instance_of::<PyInt>() {
        return Err(errors::illegal_argument_type(
            py,
            format!("[{what}] must be an int, not [{}]", type_name(obj)),
        ));
    }
    obj.extract::<u64>().map_err(|_| {
        errors::illegal_argument(
            py,
            format!("[{what}] must be an int from 0 to 18446744073709551615"),
        )
    })
}

/// [`text`] for an optional argument (`None` passes through).
pub fn opt_text<'a>(obj: Option<&'a Bound<'_, PyAny>>, what: &str) -> PyResult<Option<&'a str>> {
    obj.filter(|o| !o.is_none())
        .map(|o| text(o, what))
        .transpose()
}

/// The name of an object's type, for messages.
pub fn type_name(obj: &Bound<'_, PyAny>) -> String {
    obj.get_type()
        .name()
        .map_or_else(|_| "?".to_string(), |n| n.to_string())
}

/// A setting-style time value (may be zero or `-1`), as Elasticsearch parses it; numbers are seconds
/// ([`TimeValue::from_input`]).
pub fn time_value(obj: &Bound<'_, PyAny>, setting: &str) -> PyResult<TimeValue> {
    let py = obj.py();
    let input = if obj.is_instance_of::<PyInt>() {
        // A bool is an int here (`True` is one second), as it always was.
        let secs: i64 = obj
            .extract()
            .map_err(|_| errors::illegal_argument(py, format!("[{setting}] is out of range")))?;
        DurationInput::WholeSeconds(i128::from(secs))
    } else {
        duration_input(obj, setting)?
    };
    Ok(TimeValue::from_input(input, setting)?)
}

/// A weight from a weigher: an int in Java's `long` range, not negative.
pub fn weight(obj: &Bound<'_, PyAny>) -> PyResult<u64> {
    let py = obj.py();
    let bad = || {
        errors::illegal_argument(
            py,
            "a weigher must return an int between 0 and 9223372036854775807",
        )
    };
    if !obj.is_instance_of::<PyInt>() {
        return Err(bad());
    }
    let w: i64 = obj.extract().map_err(|_| bad())?;
    u64::try_from(w).map_err(|_| bad())
}
