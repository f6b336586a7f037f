//! Oracles and input generators shared by the fuzz targets in `fuzz_targets/`.
//!
//! - [`json`]: the differential oracle for escache's request-body parser against `serde_json`.
//! - [`java_time`]: Elasticsearch's `TimeValue.parseTimeValue` / `getStringRep`, transcribed from
//!   `libs/core/src/main/java/org/elasticsearch/core/TimeValue.java`, as the reference for `time.rs`.
//! - [`secrets`]: the forms in which a secret must never show up in a response.
//! - [`value`]: structured JSON values for `arbitrary`, biased towards the field names escache reads.

pub mod java_time;
pub mod json;
pub mod secrets;
pub mod value;

/// Whether the named check is switched off by `ESCACHE_FUZZ_SKIP` (a comma-separated list of check
/// names, e.g. `head-body,status-500`), to keep fuzzing past a finding that is not fixed yet. Every
/// check is on by default; `run.sh` sets nothing.
pub fn skipped(check: &str) -> bool {
    static SKIP: std::sync::OnceLock<Vec<String>> = std::sync::OnceLock::new();
    SKIP.get_or_init(|| {
        std::env::var("ESCACHE_FUZZ_SKIP")
            .unwrap_or_default()
            .split(',')
            .map(|s| s.trim().to_owned())
            .filter(|s| !s.is_empty())
            .collect()
    })
    .iter()
    .any(|s| s == check)
}
