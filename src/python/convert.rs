//! Python values to core types: keys, durations, weights.

use super::errors;
use crate::cache::{Key, KeyRef};
use crate::time::{self, Nanos, TimeValue};
use pyo3::prelude::*;
use pyo3::types::{PyDelta, PyDeltaAccess, PyFloat, PyInt, PyString};

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
        let type_name = obj
            .get_type()
            .name()
            .map(|n| n.to_string())
            .unwrap_or_else(|_| "?".to_string());
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

    pub fn to_owned(&self) -> PyResult<Key> {
        self.with_ref(|k| k.to_owned())
    }
}

/// A core key back to Python.
pub fn key_to_py(py: Python<'_>, key: &Key) -> Py<PyAny> {
    match key {
        Key::Int(i) => i
            .into_pyobject(py)
            .map(|b| b.into_any().unbind())
            .unwrap_or_else(|_| py.None()),
        Key::Str(s) => PyString::new(py, s).into_any().unbind(),
    }
}

/// A duration from Python: an Elasticsearch time value string (`"24h"`, `"100ms"`), a number of
/// seconds, or a `datetime.timedelta`. Returns nanoseconds; `None` passes through.
pub fn duration_nanos(obj: &Bound<'_, PyAny>, what: &str) -> PyResult<Nanos> {
    let py = obj.py();
    if let Ok(s) = obj.cast::<PyString>() {
        let s = s.to_str()?;
        return time::parse_duration(s, what).map_err(|e| errors::illegal_argument_from(py, e));
    }
    if let Ok(d) = obj.cast::<PyDelta>() {
        let secs = d.get_days() as i128 * 86_400 + d.get_seconds() as i128;
        let nanos = secs * 1_000_000_000 + d.get_microseconds() as i128 * 1_000;
        return u64::try_from(nanos).map_err(|_| {
            errors::illegal_argument(py, format!("[{what}] must be a non-negative duration"))
        });
    }
    if obj.is_instance_of::<PyInt>() {
        let secs: i64 = obj
            .extract()
            .map_err(|_| errors::illegal_argument(py, format!("[{what}] is out of range")))?;
        let nanos = u64::try_from(secs)
            .ok()
            .and_then(|s| s.checked_mul(time::NANOS_PER_SECOND))
            .ok_or_else(|| {
                errors::illegal_argument(
                    py,
                    format!("[{what}] must be a non-negative duration, got [{secs}]"),
                )
            })?;
        return Ok(nanos);
    }
    if obj.is_instance_of::<PyFloat>() {
        let secs: f64 = obj.extract()?;
        return time::seconds_to_nanos(secs).map_err(|e| errors::illegal_argument_from(py, e));
    }
    Err(errors::illegal_argument(
        py,
        format!("[{what}] must be a time value such as \"5m\", a number of seconds or a timedelta"),
    ))
}

/// A setting-style time value (may be zero or `-1`), as Elasticsearch parses it; numbers are seconds.
pub fn time_value(obj: &Bound<'_, PyAny>, setting: &str) -> PyResult<TimeValue> {
    let py = obj.py();
    if let Ok(s) = obj.cast::<PyString>() {
        return TimeValue::parse(s.to_str()?, setting)
            .map_err(|e| errors::illegal_argument_from(py, e));
    }
    if obj.is_instance_of::<PyInt>() {
        let secs: i64 = obj
            .extract()
            .map_err(|_| errors::illegal_argument(py, format!("[{setting}] is out of range")))?;
        return Ok(TimeValue::new(secs, time::TimeUnit::Seconds));
    }
    let nanos = duration_nanos(obj, setting)?;
    Ok(TimeValue::from_nanos(nanos))
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
