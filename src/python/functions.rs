//! Module-level functions.

use super::convert;
use super::errors;
use crate::security::api_key::replay_auth_cache;
use crate::security::settings;
use crate::sim::workload::{zipf_trace, WorkloadError};
use crate::time::TimeValue;
use pyo3::buffer::PyBuffer;
use pyo3::prelude::*;
use pyo3::types::{PyBytes, PyDict};

/// `requests` Zipf-distributed key ranks in `0..keys` as little-endian int64 bytes (the Python wrapper
/// turns them into an `array.array('q')`). Seeded: the same arguments give the same bytes.
#[pyfunction]
#[pyo3(signature = (keys, requests, alpha=1.0, seed=0))]
fn _zipf_trace_bytes(
    py: Python<'_>,
    keys: i64,
    requests: usize,
    alpha: f64,
    seed: u64,
) -> PyResult<Bound<'_, PyBytes>> {
    // Ranks are written as int64: `keys` is an int64 too, so every rank fits (a negative count is
    // refused with the same error as zero).
    let keys = u64::try_from(keys).map_err(|_| WorkloadError::TooSmall {
        name: "keys",
        min: 1.0,
        value: keys as f64,
    })?;
    let trace = py.detach(|| zipf_trace(keys, requests, alpha, seed))?;
    let mut bytes = Vec::with_capacity(trace.len() * 8);
    for k in trace {
        // ok: k < keys <= i64::MAX.
        bytes.extend_from_slice(&(k as i64).to_le_bytes());
    }
    Ok(PyBytes::new(py, &bytes))
}

/// Replays API key ids through one node's API key auth cache (expire-after-access `ttl`, at most
/// `max_keys`), one request every `interval`, and reports hits, evictions and the R2.7 thrashing WARNs.
/// The defaults are the settings' (`settings::API_KEY_CACHE_MAX_KEYS_DEFAULT`, `API_KEY_CACHE_TTL_DEFAULT`),
/// written out so that `help()` shows them.
#[pyfunction]
#[pyo3(signature = (keys, *, interval, max_keys=25_000, ttl=None))]
fn replay_api_key_auth_cache<'py>(
    py: Python<'py>,
    keys: &Bound<'py, PyAny>,
    interval: &Bound<'py, PyAny>,
    max_keys: i64,
    ttl: Option<&Bound<'py, PyAny>>,
) -> PyResult<Bound<'py, PyDict>> {
    let interval = convert::duration_nanos(interval, "interval")?;
    let ttl = match ttl {
        Some(t) => convert::time_value(t, "xpack.security.authc.api_key.cache.ttl")?,
        None => settings::API_KEY_CACHE_TTL_DEFAULT,
    };
    // One rule for a buffer and a sequence: every id is a non-negative integer (a negative one in an
    // `array('q')` is refused as `[-1]` is, not read as a huge unsigned id).
    let refused = || errors::illegal_argument(py, "keys must be non-negative integer API key ids");
    let ids: Vec<u64> = match PyBuffer::<i64>::get(keys) {
        Ok(buf) => buf
            .to_vec(py)?
            .into_iter()
            .map(|k| u64::try_from(k).map_err(|_| refused()))
            .collect::<PyResult<Vec<u64>>>()?,
        Err(_) => keys
            .try_iter()?
            .map(|k| k.and_then(|k| k.extract::<u64>()))
            .collect::<PyResult<Vec<u64>>>()
            .map_err(|_| refused())?,
    };
    let report = py.detach(|| replay_auth_cache(&ids, interval, max_keys, ttl))?;
    let d = PyDict::new(py);
    d.set_item("requests", report.requests)?;
    d.set_item("hits", report.hits)?;
    d.set_item("misses", report.misses)?;
    d.set_item("evictions", report.evictions)?;
    d.set_item("size_evictions", report.size_evictions)?;
    let warnings: Vec<(f64, u64)> = report
        .warnings
        .iter()
        .map(|&(t, n)| (t as f64 / 1e9, n))
        .collect();
    d.set_item("warnings", warnings)?;
    d.set_item("elapsed", report.elapsed as f64 / 1e9)?;
    d.set_item("final_count", report.final_count)?;
    d.set_item("cache_enabled", report.cache_enabled)?;
    Ok(d)
}

/// Elasticsearch's `TimeValue.parseTimeValue`: nanoseconds, `-1` for the minus-one sentinel. Raises
/// `IllegalArgumentError` with Elasticsearch's text.
#[pyfunction]
#[pyo3(signature = (value, setting_name="time value"))]
fn parse_time_value(value: &str, setting_name: &str) -> PyResult<i64> {
    let t = TimeValue::parse(value, setting_name)?;
    Ok(
        // `-1` is Elasticsearch's sentinel (`TimeValue.MINUS_ONE`, -1 ms): reported as -1, as documented,
        // not as the -1_000_000 nanoseconds of its millisecond representation.
        if t == TimeValue::MINUS_ONE {
            -1
        } else {
            t.nanos()
        },
    )
}

/// A duration argument in nanoseconds: a time value, a number of seconds or a timedelta, at most
/// about 292 years; `IllegalArgumentError` naming `what` otherwise (`convert::duration_nanos`).
#[pyfunction]
fn _duration_nanos(value: &Bound<'_, PyAny>, what: &str) -> PyResult<u64> {
    convert::duration_nanos(value, what)
}

/// What a replay log holds (`crate::sim::replay::summarize`), JSON in and out; a malformed log
/// raises `IllegalArgumentError` naming the file and line.
#[pyfunction]
fn _replay_summary(py: Python<'_>, description: &str) -> PyResult<String> {
    let v: serde_json::Value = serde_json::from_str(description).map_err(|e| {
        super::errors::illegal_argument(py, format!("invalid replay description: {e}"))
    })?;
    py.detach(|| crate::sim::replay::summarize(&v))
        .map(|s| s.to_string())
        .map_err(|e| super::errors::illegal_argument(py, e.into_reason()))
}

pub fn register(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add_function(wrap_pyfunction!(_replay_summary, m)?)?;
    m.add_function(wrap_pyfunction!(_zipf_trace_bytes, m)?)?;
    m.add_function(wrap_pyfunction!(replay_api_key_auth_cache, m)?)?;
    m.add_function(wrap_pyfunction!(parse_time_value, m)?)?;
    m.add_function(wrap_pyfunction!(_duration_nanos, m)?)?;
    Ok(())
}
