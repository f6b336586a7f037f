//! Partitions as Elasticsearch experiences them (rules CA-PT1 to CA-PT5, issue 16.2): the master's
//! follower checks (`cluster.fault_detection.follower_check.*`), the removal of a node that fails
//! them, and its rejoining once the partition heals. `[simulation.fault_detection]` turns it on.
//!
//! Follower checks (`server/.../cluster/coordination/FollowersChecker.java`): the master checks
//! each follower every `interval`; a check that gets no answer fails after `timeout`; after
//! `retry_count` consecutive failures the node is removed from the cluster state. A partitioned
//! node answers no check, so with checks falling at `origin + k·interval` (the node's join, or the
//! start of the run) and the first check at or after the partition at `S`, the node is removed at
//! `S + retry_count·timeout + (retry_count - 1)·interval` (CA-PT1): 32 s after `S` with the
//! defaults (1 s, 10 s, 3).
//!
//! Rejoining (`PeerFinder`, `discovery.find_peers_interval`): a removed node looks for the master
//! every `find_peers_interval` from its removal; the first round at or after the heal finds it and
//! the node joins again (CA-PT4).

use super::spec::{err, typed, DurationValue};
use crate::error::EsError;
use crate::time::{Nanos, NANOS_PER_SECOND};
use serde::{Deserialize, Serialize};
use serde_json::Value;

/// Elasticsearch's smallest `cluster.fault_detection.follower_check.interval` (100ms).
const MIN_INTERVAL: Nanos = 100_000_000;
/// Elasticsearch's smallest `cluster.fault_detection.follower_check.timeout` (1ms).
const MIN_TIMEOUT: Nanos = 1_000_000;
/// Elasticsearch's smallest `discovery.find_peers_interval` (1ms).
const MIN_FIND_PEERS_INTERVAL: Nanos = 1_000_000;

/// The fault detection settings of a simulation.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FaultDetection {
    /// `cluster.fault_detection.follower_check.interval` (default 1s).
    pub interval: Nanos,
    /// `cluster.fault_detection.follower_check.timeout` (default 10s).
    pub timeout: Nanos,
    /// `cluster.fault_detection.follower_check.retry_count` (default 3).
    pub retry_count: u32,
    /// `discovery.find_peers_interval` (default 1s).
    pub find_peers_interval: Nanos,
}

impl Default for FaultDetection {
    fn default() -> Self {
        FaultDetection {
            interval: NANOS_PER_SECOND,
            timeout: 10 * NANOS_PER_SECOND,
            retry_count: 3,
            find_peers_interval: NANOS_PER_SECOND,
        }
    }
}

impl FaultDetection {
    /// CA-PT1: when a node partitioned at `at`, whose follower checks fall at
    /// `origin + k·interval`, is removed from the cluster state.
    pub fn removal_time(&self, origin: Nanos, at: Nanos) -> Nanos {
        let since = at.saturating_sub(origin);
        let first =
            origin.saturating_add(since.div_ceil(self.interval).saturating_mul(self.interval));
        let n = u64::from(self.retry_count);
        first
            .saturating_add(n.saturating_mul(self.timeout))
            .saturating_add((n - 1).saturating_mul(self.interval))
    }

    /// CA-PT4: when a node removed at `removed` and healed at `healed` joins again: the first
    /// peer-finding round at or after the heal.
    pub fn rejoin_time(&self, removed: Nanos, healed: Nanos) -> Nanos {
        let since = healed.saturating_sub(removed);
        removed.saturating_add(
            since
                .div_ceil(self.find_peers_interval)
                .saturating_mul(self.find_peers_interval),
        )
    }
}

/// `[simulation.fault_detection]`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(
    deny_unknown_fields,
    expecting = "a table {follower_check = {...}, find_peers_interval = ...} (empty for Elasticsearch's defaults)"
)]
pub struct FaultDetectionDesc {
    /// `follower_check = {interval, timeout, retry_count}`.
    pub(crate) follower_check: Option<FollowerCheckDesc>,
    /// `discovery.find_peers_interval` (default 1s).
    pub(crate) find_peers_interval: Option<DurationValue>,
}

/// `cluster.fault_detection.follower_check.*`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(
    deny_unknown_fields,
    expecting = "a table {interval = ..., timeout = ..., retry_count = ...}"
)]
pub struct FollowerCheckDesc {
    /// Default 1s, at least 100ms.
    pub(crate) interval: Option<DurationValue>,
    /// Default 10s, at least 1ms.
    pub(crate) timeout: Option<DurationValue>,
    /// Default 3, at least 1.
    pub(crate) retry_count: Option<u32>,
}

const WHAT: &str = "simulation.fault_detection";

/// A duration field: `default` when absent, else at least `min` (written `min_text`, as
/// Elasticsearch's setting bounds say it).
fn duration_at_least(
    value: Option<&DurationValue>,
    what: &str,
    default: Nanos,
    min: Nanos,
    min_text: &str,
) -> Result<Nanos, EsError> {
    let Some(d) = value else {
        return Ok(default);
    };
    let v = d.nanos(&format!("{WHAT}.{what}"))?;
    if v < min {
        return Err(err(format!(
            "[{WHAT}.{what}] must be at least [{min_text}], got [{}ms]",
            v as f64 / 1e6
        )));
    }
    Ok(v)
}

impl FaultDetectionDesc {
    pub(crate) fn resolve(&self) -> Result<FaultDetection, EsError> {
        let defaults = FaultDetection::default();
        let fc = self.follower_check.clone().unwrap_or_default();
        let retry_count = fc.retry_count.unwrap_or(defaults.retry_count);
        if retry_count == 0 {
            return Err(err(format!(
                "[{WHAT}.follower_check.retry_count] must be at least [1], got [0]"
            )));
        }
        Ok(FaultDetection {
            interval: duration_at_least(
                fc.interval.as_ref(),
                "follower_check.interval",
                defaults.interval,
                MIN_INTERVAL,
                "100ms",
            )?,
            timeout: duration_at_least(
                fc.timeout.as_ref(),
                "follower_check.timeout",
                defaults.timeout,
                MIN_TIMEOUT,
                "1ms",
            )?,
            retry_count,
            find_peers_interval: duration_at_least(
                self.find_peers_interval.as_ref(),
                "find_peers_interval",
                defaults.find_peers_interval,
                MIN_FIND_PEERS_INTERVAL,
                "1ms",
            )?,
        })
    }
}

/// `[simulation.fault_detection]` from its JSON form.
pub fn fault_detection(v: &Value) -> Result<FaultDetection, EsError> {
    let desc: FaultDetectionDesc = typed(v, WHAT)?;
    desc.resolve()
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    const S: Nanos = NANOS_PER_SECOND;

    #[test]
    fn rule_ca_pt1_removal_after_retry_count_timeouts_and_the_intervals_between() {
        let fd = FaultDetection::default();
        // Partitioned exactly at a check: 10 + 1 + 10 + 1 + 10 s later.
        assert_eq!(fd.removal_time(0, 10 * S), 42 * S);
        // Between checks: the next check, at 11 s, is the first to fail.
        assert_eq!(fd.removal_time(0, 10 * S + 1), 43 * S);
        // Checks counted from the node's join at 2.5 s.
        assert_eq!(
            fd.removal_time(2 * S + S / 2, 10 * S),
            10 * S + S / 2 + 32 * S
        );
        let one = FaultDetection {
            retry_count: 1,
            timeout: 2 * S,
            ..FaultDetection::default()
        };
        assert_eq!(one.removal_time(0, 5 * S), 7 * S);
    }

    #[test]
    fn rule_ca_pt4_rejoin_at_the_first_peer_finding_round_after_the_heal() {
        let fd = FaultDetection::default();
        assert_eq!(fd.rejoin_time(42 * S, 60 * S), 60 * S);
        assert_eq!(fd.rejoin_time(42 * S, 60 * S + 1), 61 * S);
        let slow = FaultDetection {
            find_peers_interval: 5 * S,
            ..FaultDetection::default()
        };
        assert_eq!(slow.rejoin_time(42 * S, 43 * S), 47 * S);
    }

    #[test]
    fn rule_ca_pt1_the_table_reads_elasticsearch_names_and_refuses_what_elasticsearch_refuses() {
        let fd = fault_detection(&json!({})).unwrap_or_default();
        assert_eq!(fd, FaultDetection::default());
        let fd = fault_detection(&json!({
            "follower_check": {"interval": "2s", "timeout": 5, "retry_count": 2},
            "find_peers_interval": "500ms"
        }));
        assert_eq!(
            fd.ok(),
            Some(FaultDetection {
                interval: 2 * S,
                timeout: 5 * S,
                retry_count: 2,
                find_peers_interval: S / 2
            })
        );
        let reason = |v: Value| fault_detection(&v).err().map(EsError::into_reason);
        assert_eq!(
            reason(json!({"follower_check": {"interval": "50ms"}})).as_deref(),
            Some("[simulation.fault_detection.follower_check.interval] must be at least [100ms], got [50ms]")
        );
        assert_eq!(
            reason(json!({"follower_check": {"retry_count": 0}})).as_deref(),
            Some("[simulation.fault_detection.follower_check.retry_count] must be at least [1], got [0]")
        );
        assert!(reason(json!({"follower_check": {"retries": 3}}))
            .is_some_and(|r| r.contains("unknown field `retries`")));
        assert!(
            reason(json!({"follower_check": {"retry_count": -1}})).is_some_and(
                |r| r.starts_with("[simulation.fault_detection.follower_check.retry_count]")
            )
        );
    }
}
