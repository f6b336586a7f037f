//! "Why was this accepted?": explains an accepted authentication from the event trace and the
//! simulation's ground truth (when the credential stopped being valid on that node).
//!
//! The trace is read only through its public iteration (`EventLog::iter`): one pass builds an index
//! (events per credential id, the clear-cache fan-outs, node faults, file watcher reloads), then
//! each question is a short scan of one credential's events. An explanation says which cache entry
//! served the acceptance and when (and by which request) it was put; which change made the
//! credential invalid; why the clear that should have removed the entry did not reach the node (the
//! broadcast was dropped, the node was partitioned or down, its `service_tokens` file watcher had not
//! run yet); and when the entry finally expired or was cleared.

use super::simulation::Simulation;
use super::traffic::{TokenSourceSpec, WorkloadKind};
use crate::cluster::Cluster;
use crate::error::EsError;
use crate::events::{CacheId, EventKind, NodeIndex};
use crate::time::{Nanos, NANOS_PER_SECOND};
use serde::{Deserialize, Serialize};
use std::collections::HashMap;

fn secs(n: Nanos) -> f64 {
    n as f64 / NANOS_PER_SECOND as f64
}

/// Why a stale acceptance happened: why the change that made the credential invalid had not reached
/// the node's caches.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Cause {
    /// Not stale: the credential was valid on this node at that time.
    NotStale,
    /// The clear-cache broadcast to this node was dropped (the coordinator timed out on it).
    BroadcastDropped,
    /// The node was partitioned from the coordinator: the broadcast could not reach it.
    Partitioned,
    /// The node was stopped when the broadcast went out.
    NodeDown,
    /// Fault detection had removed the node from the cluster state (CA-PT3): the broadcast was not
    /// sent to it, and its response did not list it.
    LeftCluster,
    /// The token was removed from this node's `service_tokens` file and the node's file watcher had
    /// not reloaded the file yet (I3: it polls every 5 s).
    FileWatcherPending,
    /// The trace shows no clear of the credential reaching or missing this node (the trace was off or
    /// cleared, or nothing was sent).
    NotCleared,
}

/// What made the credential invalid.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Change {
    /// An API key invalidated (`DELETE /_security/api_key`).
    Invalidated,
    /// An index service token deleted.
    Deleted,
    /// A file token removed from this node's `service_tokens` file.
    RemovedFromFile,
    /// The credential's expiration passed.
    Expired,
}

/// How the cache entry (or the stale state) went away.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Ending {
    /// The entry had expired: the next lookup missed and read the credential again.
    Expired,
    /// The entry was invalidated (a clear-cache, or the fresh document showed the key invalidated).
    Invalidated,
    /// The entry was evicted (size limit).
    Evicted,
    /// The node's file watcher reloaded its `service_tokens` file, clearing the file token cache.
    FileReloaded,
    /// A security index state change cleared every API key cache (R4.1).
    IndexChange,
    /// The node stopped and lost its caches.
    NodeStopped,
}

/// An authentication, as the trace records it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Request {
    /// Virtual seconds since the cluster started.
    pub time: f64,
    pub node: String,
    /// `success`, `401` or `429`.
    pub outcome: String,
}

/// The cache entry that served the acceptance.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CacheEntry {
    pub cache: String,
    /// When the entry was put; `None` when the put is not in the trace.
    pub put_at: Option<f64>,
    /// The authentication that missed the cache and put the entry.
    pub put_by: Option<Request>,
}

/// The change that made the credential invalid on this node.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Invalidation {
    pub time: f64,
    pub change: Change,
    /// Nodes whose caches a clear of this credential reached (between the change and the acceptance).
    pub cleared_on: Vec<String>,
    /// The trace event that shows this node missed it (a dropped or unreachable broadcast), if any.
    pub missed_at: Option<f64>,
}

/// When the stale state ended on this node.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct End {
    pub time: f64,
    pub how: Ending,
}

/// The answer to "why was this accepted?".
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Explanation {
    /// The credential id (API key id or qualified token name; never a secret).
    pub credential: String,
    pub node: String,
    /// When the accepted authentication ended (virtual seconds since the cluster started).
    pub time: f64,
    /// Whether the credential was no longer valid on this node then (ground truth).
    pub stale: bool,
    /// How long it had been invalid at that time.
    pub stale_for_seconds: Option<f64>,
    pub served_by: Option<CacheEntry>,
    pub invalidation: Option<Invalidation>,
    pub cause: Cause,
    /// When the entry expired or was cleared after the acceptance.
    pub ended: Option<End>,
    /// The first authentication of the credential on this node refused after the acceptance.
    pub first_refused: Option<Request>,
}

/// One event of a credential, as the index keeps it.
#[derive(Debug, Clone, Copy)]
struct KeyEvent {
    time: Nanos,
    node: NodeIndex,
    kind: EventKind,
    cache: CacheId,
    stale: bool,
}

/// A cluster-level event the explanations look at.
#[derive(Debug, Clone)]
struct Other {
    time: Nanos,
    node: NodeIndex,
    kind: EventKind,
    detail: String,
}

/// Ground truth of one credential: its workload's kind and when it stopped being valid.
struct Truth {
    api_key: bool,
    file_token: bool,
    invalid_since: Option<Nanos>,
    expires_at: Option<Nanos>,
    removed_from_file: Vec<(NodeIndex, Nanos)>,
}

/// The index over a trace: one pass, then questions.
pub struct Explainer<'a> {
    names: Vec<String>,
    by_key: HashMap<&'a str, Vec<KeyEvent>>,
    /// Stale acceptances in trace order: (credential id, position in its events).
    stale: Vec<(&'a str, usize)>,
    others: Vec<Other>,
    truth: HashMap<String, Truth>,
}

fn is_lookup(kind: EventKind) -> bool {
    matches!(kind, EventKind::CacheHit | EventKind::CacheMiss)
}

fn is_auth(kind: EventKind) -> bool {
    matches!(
        kind,
        EventKind::AuthSuccess | EventKind::AuthFailure | EventKind::AuthRejected
    )
}

fn outcome(kind: EventKind) -> &'static str {
    match kind {
        EventKind::AuthSuccess => "success",
        EventKind::AuthRejected => "429",
        _ => "401",
    }
}

/// Whether a clear-cache `detail` (`*` or comma-separated keys) covers `key`.
fn covers(detail: &str, key: &str) -> bool {
    detail == "*" || detail.split(',').any(|k| k == key)
}

impl<'a> Explainer<'a> {
    /// Indexes `cluster`'s trace up to `until` (virtual nanoseconds; `None`: all of it) with `sim`'s
    /// ground truth.
    pub fn new(sim: &Simulation, cluster: &'a Cluster, until: Option<Nanos>) -> Explainer<'a> {
        let names = cluster.nodes().iter().map(|n| n.name.clone()).collect();
        let mut by_key: HashMap<&'a str, Vec<KeyEvent>> = HashMap::new();
        let mut stale = Vec::new();
        let mut others = Vec::new();
        for e in cluster.events.iter() {
            if until.is_some_and(|u| e.time > u) {
                break;
            }
            match e.kind {
                EventKind::CacheHit
                | EventKind::CacheMiss
                | EventKind::CachePut
                | EventKind::CacheReplaced
                | EventKind::CacheInvalidated
                | EventKind::CacheEvicted
                | EventKind::AuthSuccess
                | EventKind::AuthFailure
                | EventKind::AuthRejected => {
                    let is_stale = e.kind == EventKind::AuthSuccess && e.detail == "stale";
                    let events = by_key.entry(e.key).or_default();
                    if is_stale {
                        stale.push((e.key, events.len()));
                    }
                    events.push(KeyEvent {
                        time: e.time,
                        node: e.node,
                        kind: e.kind,
                        cache: e.cache,
                        stale: is_stale,
                    });
                }
                // A request to a stopped node is not a fan-out.
                EventKind::NodeUnreachable if e.detail == "node stopped" => {}
                EventKind::ClearCache
                | EventKind::NodeUnreachable
                | EventKind::NodeStopped
                | EventKind::NodeStarted
                | EventKind::NodePartitioned
                | EventKind::NodeHealed
                | EventKind::NodeRemoved
                | EventKind::NodeJoined
                | EventKind::FileReloaded
                | EventKind::SecurityIndexChange => others.push(Other {
                    time: e.time,
                    node: e.node,
                    kind: e.kind,
                    detail: e.detail.to_string(),
                }),
                _ => {}
            }
        }
        let mut truth = HashMap::new();
        for w in &sim.workloads {
            let (api_key, file_token) = match &w.spec.kind {
                // A replay mixes kinds: each credential's own (below).
                WorkloadKind::ApiKey { .. } | WorkloadKind::Replay(_) => (true, false),
                WorkloadKind::ServiceToken { source, .. } => {
                    (false, matches!(source, TokenSourceSpec::File { .. }))
                }
            };
            for c in &w.credentials {
                let api_key =
                    api_key && matches!(c.presented, super::traffic::Presented::ApiKey { .. });
                let mut removed: Vec<(NodeIndex, Nanos)> =
                    c.removed_from_file.iter().map(|(n, t)| (*n, *t)).collect();
                removed.sort_unstable();
                truth.insert(
                    c.id.clone(),
                    Truth {
                        api_key,
                        file_token,
                        invalid_since: c.invalid_since,
                        expires_at: c.expires_at,
                        removed_from_file: removed,
                    },
                );
            }
        }
        Explainer {
            names,
            by_key,
            stale,
            others,
            truth,
        }
    }

    fn name(&self, node: NodeIndex) -> String {
        self.names.get(node as usize).cloned().unwrap_or_default()
    }

    /// Explains the acceptance of `credential` on `node` (any node when `None`): the latest one at or
    /// before `at`, or without `at` the first stale one (the last one when none was stale).
    pub fn explain(
        &self,
        credential: &str,
        node: Option<&str>,
        at: Option<Nanos>,
    ) -> Result<Explanation, EsError> {
        let node =
            match node {
                Some(name) => {
                    Some(self.names.iter().position(|n| n == name).ok_or_else(|| {
                        EsError::illegal_argument(format!("no node named [{name}]"))
                    })? as NodeIndex)
                }
                None => None,
            };
        let events = self.by_key.get(credential).map_or(&[][..], Vec::as_slice);
        let accepted =
            |e: &KeyEvent| e.kind == EventKind::AuthSuccess && node.is_none_or(|n| e.node == n);
        let pos = match at {
            Some(t) => events.iter().rposition(|e| accepted(e) && e.time <= t),
            None => events
                .iter()
                .position(|e| accepted(e) && e.stale)
                .or_else(|| events.iter().rposition(accepted)),
        };
        let pos = pos.ok_or_else(|| {
            let on = node.map_or(String::new(), |n| format!(" on [{}]", self.name(n)));
            let when = at.map_or(String::new(), |t| format!(" at or before {}s", secs(t)));
            EsError::resource_not_found(format!(
                "no accepted authentication of [{credential}]{on}{when} in the trace"
            ))
        })?;
        self.explain_at(credential, events, pos)
            .ok_or_else(|| EsError::resource_not_found("no such acceptance in the trace"))
    }

    /// Every stale acceptance in the trace, in order, explained.
    pub fn stale_acceptances(&self) -> Vec<Explanation> {
        self.stale
            .iter()
            .filter_map(|&(key, pos)| self.explain_at(key, self.by_key.get(key)?, pos))
            .collect()
    }

    /// When the credential stopped being valid on `node` at `now`, and what changed.
    fn invalid_since(
        &self,
        credential: &str,
        node: NodeIndex,
        now: Nanos,
    ) -> Option<(Nanos, Change)> {
        let t = self.truth.get(credential)?;
        let mut best: Option<(Nanos, Change)> = None;
        let mut consider = |since: Nanos, change: Change| {
            if since <= now && best.is_none_or(|(b, _)| since < b) {
                best = Some((since, change));
            }
        };
        if let Some(s) = t.invalid_since {
            consider(
                s,
                if t.api_key {
                    Change::Invalidated
                } else {
                    Change::Deleted
                },
            );
        }
        if let Some(e) = t.expires_at {
            consider(e, Change::Expired);
        }
        if t.file_token {
            if let Some(&(_, s)) = t.removed_from_file.iter().find(|(n, _)| *n == node) {
                consider(s, Change::RemovedFromFile);
            }
        }
        best
    }

    /// The explanation of the acceptance at `events[pos]`; `None` when `pos` is out of range.
    fn explain_at(&self, credential: &str, events: &[KeyEvent], pos: usize) -> Option<Explanation> {
        let acc = *events.get(pos)?;
        let node = acc.node;
        let mine = |e: &&KeyEvent| e.node == node;
        let before = &events[..pos];
        let after = &events[pos + 1..];

        // The lookups of this request: the latest ones on this node before the acceptance. For an API
        // key the doc cache holds what makes a revoked key stale (R3.7); a hit there served it.
        let served_by = before
            .iter()
            .rev()
            .find(|e| mine(e) && is_lookup(e.kind))
            .and_then(|last| {
                let group = before
                    .iter()
                    .rev()
                    .filter(mine)
                    .take_while(|e| e.time == last.time)
                    .filter(|e| is_lookup(e.kind));
                let hits: Vec<&KeyEvent> =
                    group.filter(|e| e.kind == EventKind::CacheHit).collect();
                let hit = hits
                    .iter()
                    .find(|e| e.cache == CacheId::ApiKeyDoc)
                    .or_else(|| hits.first())?;
                let cache = hit.cache;
                let put = before
                    .iter()
                    .rposition(|e| mine(&e) && e.kind == EventKind::CachePut && e.cache == cache);
                let put_by = put.and_then(|p| {
                    events[p..]
                        .iter()
                        .find(|e| mine(e) && is_auth(e.kind))
                        .map(|e| Request {
                            time: secs(e.time),
                            node: self.name(node),
                            outcome: outcome(e.kind).to_string(),
                        })
                });
                Some(CacheEntry {
                    cache: cache.name().to_string(),
                    put_at: put.map(|p| secs(events[p].time)),
                    put_by,
                })
            });

        let since = self.invalid_since(credential, node, acc.time);
        let stale = acc.stale || since.is_some();
        let window = |e: &&Other| since.is_some_and(|(s, _)| e.time >= s && e.time <= acc.time);
        let invalidation = since.map(|(s, change)| {
            let mut cleared_on: Vec<String> = self
                .others
                .iter()
                .filter(window)
                .filter(|e| e.kind == EventKind::ClearCache && covers(&e.detail, credential))
                .map(|e| self.name(e.node))
                .collect();
            cleared_on.dedup();
            let missed_at = self
                .others
                .iter()
                .filter(window)
                .find(|e| e.node == node && e.kind == EventKind::NodeUnreachable)
                .map(|e| secs(e.time));
            Invalidation {
                time: secs(s),
                change,
                cleared_on,
                missed_at,
            }
        });
        let cause = match since {
            None => Cause::NotStale,
            Some((_, Change::RemovedFromFile)) => Cause::FileWatcherPending,
            Some((s, _)) => {
                let missed = self
                    .others
                    .iter()
                    .filter(window)
                    .find(|e| e.node == node && e.kind == EventKind::NodeUnreachable);
                match missed {
                    Some(e) if e.detail == "dropped" => Cause::BroadcastDropped,
                    Some(_) => Cause::Partitioned,
                    None if self.stopped_at(node, s) => Cause::NodeDown,
                    None if self.removed_at(node, s) => Cause::LeftCluster,
                    None => Cause::NotCleared,
                }
            }
        };

        let ended = self.ended(served_by.as_ref(), after, node, acc.time, since.is_some());
        let first_refused = after
            .iter()
            .find(|e| {
                e.node == node && matches!(e.kind, EventKind::AuthFailure | EventKind::AuthRejected)
            })
            .map(|e| Request {
                time: secs(e.time),
                node: self.name(node),
                outcome: outcome(e.kind).to_string(),
            });
        Some(Explanation {
            credential: credential.to_string(),
            node: self.name(node),
            time: secs(acc.time),
            stale,
            stale_for_seconds: since.map(|(s, _)| secs(acc.time - s)),
            served_by,
            invalidation,
            cause,
            ended,
            first_refused,
        })
    }

    /// Whether `node`'s last event among `on` and `off` at or before `t` was an `on` one: a state
    /// entered by `on` and left by `off`.
    fn in_state_at(&self, node: NodeIndex, t: Nanos, on: EventKind, off: &[EventKind]) -> bool {
        self.others
            .iter()
            .rfind(|e| e.node == node && e.time <= t && (e.kind == on || off.contains(&e.kind)))
            .is_some_and(|e| e.kind == on)
    }

    /// Whether `node` was stopped at `t` (its last stop/start event before `t` was a stop).
    fn stopped_at(&self, node: NodeIndex, t: Nanos) -> bool {
        self.in_state_at(node, t, EventKind::NodeStopped, &[EventKind::NodeStarted])
    }

    /// Whether `node` was out of the cluster state at `t`: removed (CA-PT3) and not joined or
    /// started since.
    fn removed_at(&self, node: NodeIndex, t: Nanos) -> bool {
        self.in_state_at(
            node,
            t,
            EventKind::NodeRemoved,
            &[EventKind::NodeJoined, EventKind::NodeStarted],
        )
    }

    /// When the entry that served the acceptance went away (or, without an entry, the stale state:
    /// a file reload).
    fn ended(
        &self,
        entry: Option<&CacheEntry>,
        after: &[KeyEvent],
        node: NodeIndex,
        from: Nanos,
        stale: bool,
    ) -> Option<End> {
        let cache = entry.and_then(|e| CacheId::from_name(&e.cache));
        let from_key = cache.and_then(|cache| {
            after
                .iter()
                .find(|e| {
                    e.node == node
                        && e.cache == cache
                        && matches!(
                            e.kind,
                            EventKind::CacheMiss
                                | EventKind::CacheInvalidated
                                | EventKind::CacheEvicted
                        )
                })
                .map(|e| {
                    let how = match e.kind {
                        EventKind::CacheMiss => Ending::Expired,
                        EventKind::CacheEvicted => Ending::Evicted,
                        _ => Ending::Invalidated,
                    };
                    (e.time, how)
                })
        });
        // Whole-cache clears leave per-key removals too, but say which: a file reload, an index
        // change; a stopped node records none.
        let file = cache.is_none_or(|c| c == CacheId::FileServiceAccountToken);
        let api_key = cache.is_some_and(|c| {
            matches!(
                c,
                CacheId::ApiKeyAuth | CacheId::ApiKeyDoc | CacheId::ApiKeyRoleDescriptors
            )
        });
        let from_other = self
            .others
            .iter()
            .filter(|e| {
                e.time > from && (e.node == node || e.kind == EventKind::SecurityIndexChange)
            })
            .find_map(|e| match e.kind {
                EventKind::FileReloaded if file && (stale || cache.is_some()) => {
                    Some((e.time, Ending::FileReloaded))
                }
                EventKind::NodeStopped if cache.is_some() => Some((e.time, Ending::NodeStopped)),
                EventKind::SecurityIndexChange
                    if api_key && e.detail.contains("caches cleared") =>
                {
                    Some((e.time, Ending::IndexChange))
                }
                _ => None,
            });
        let (time, how) = match (from_key, from_other) {
            (Some(k), Some(o)) if o.0 <= k.0 => o,
            (Some(k), _) => k,
            (None, o) => o?,
        };
        Some(End {
            time: secs(time),
            how,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_clear_detail_covers_its_keys_or_everything() {
        assert!(covers("*", "k1"));
        assert!(covers("k0,k1,k2", "k1"));
        assert!(!covers("k0,k10", "k1"));
        assert!(!covers("", "k1"));
    }
}
