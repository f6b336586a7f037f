//! Replaying the user's own traffic (issue 16, point 4): a workload whose arrivals come from a log of
//! real authentications instead of a Poisson draw. The log is Elasticsearch's JSON audit log
//! (`audit.rs`) or a CSV of (time, node, credential) (`csv.rs`), from a file or inline records.
//!
//! - CA-RP1: which events are read, and a malformed one fails the whole workload naming `file:line`.
//! - CA-RP2: each distinct real credential becomes a simulated one of its kind, created at the start.
//! - CA-RP3: real node names map onto simulated nodes (`node_map`, else round-robin by first
//!   appearance).
//! - CA-RP4: time is shifted (the `origin` instant plays at the workload's `start`) and scaled
//!   (`speed`).
//!
//! The log is read whole when the workload is added (preloaded, not streamed): the events are
//! sorted by time (stable, so equal instants keep the file's order) and kept as [`ReplayRecord`]s of
//! 16 bytes each (plus the distinct credentials and node names once each). Arrivals then walk that
//! array ([`Simulation::replay_arrival`](super::Simulation)).

mod arrivals;
pub(in crate::sim) use arrivals::{creation, never_created};
mod audit;
mod csv;
#[cfg(test)]
mod tests;
pub(crate) mod timestamp;

use crate::cluster::Cluster;
use crate::error::EsError;
use crate::events::NodeIndex;
use crate::time::Nanos;
use indexmap::IndexMap;
use serde::{Deserialize, Serialize};
use serde_json::{json, Value};
use std::collections::HashMap;

/// A replay log's format.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ReplayFormat {
    /// Elasticsearch's JSON audit log.
    EsAudit,
    /// `time,node,credential[,kind][,outcome]`.
    Csv,
}

/// Where a replay's events come from and how they are mapped (the replay fields of a workload).
#[derive(Debug, Clone, PartialEq)]
pub struct ReplayDesc {
    pub format: ReplayFormat,
    /// A file (already resolved against the scenario file's directory by the loader).
    pub path: Option<String>,
    /// Inline events: audit event objects (`es_audit`) or rows by column name (`csv`).
    pub records: Option<Vec<Value>>,
    /// The real instant that plays at the workload's start (default: the first event's).
    pub origin: Option<String>,
    /// Real seconds per simulated second (default 1).
    pub speed: f64,
    /// Real node name → simulated node name.
    pub node_map: IndexMap<String, String>,
}

/// What a real event presented (before mapping).
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Presented {
    ApiKey {
        id: String,
        name: Option<String>,
    },
    /// A service account token: the account's principal and the token's name.
    Token {
        account: String,
        name: String,
        file: bool,
    },
    /// A failed authentication naming only the token's principal (API key id or user name).
    Principal(String),
}

/// One real authentication.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Event {
    /// Nanoseconds since the epoch (or since any origin, for CSV seconds).
    pub(crate) at: i64,
    pub(crate) node: String,
    pub(crate) presented: Presented,
    pub(crate) success: bool,
}

/// A log as read, before mapping.
#[derive(Debug, Default)]
pub(crate) struct ReadLog {
    pub(crate) events: Vec<Event>,
    /// Events of other types (`access_granted`, ...).
    pub(crate) skipped: u64,
    /// Authentication events of a kind not modelled (realm users, `OAuth2` tokens, anonymous).
    pub(crate) unmodelled: u64,
}

/// How a simulated credential stands for a real one (CA-RP2).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ReplayCredentialKind {
    /// An API key that authenticated at least once: created at the start.
    ApiKey,
    /// A service account token that authenticated at least once: created at the start (index
    /// token, or a file token on every node when the log says `_service_account_file`).
    ServiceToken { file: bool },
    /// A principal that never authenticated: presented as an API key id that does not exist.
    UnknownApiKey,
    /// A service token that never authenticated: presented, never created.
    UnknownServiceToken,
}

/// One distinct real credential.
#[derive(Debug, Clone, PartialEq)]
pub struct ReplayCredential {
    pub kind: ReplayCredentialKind,
    /// The real API key id, or the token's `namespace/service/token`.
    pub real: String,
    /// The real API key name, when the log gives one.
    pub name: Option<String>,
}

/// One replayed authentication: 16 bytes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ReplayRecord {
    /// Simulated nanoseconds after the workload's start.
    pub at: Nanos,
    /// Index into [`ReplayPlan::credentials`].
    pub credential: u32,
    pub node: NodeIndex,
    /// The real authentication failed: the simulated one presents a wrong secret.
    pub wrong: bool,
}

/// A replay, read and mapped: what the workload runs.
#[derive(Debug, Clone, PartialEq)]
pub struct ReplayPlan {
    pub records: Vec<ReplayRecord>,
    pub credentials: Vec<ReplayCredential>,
    /// Real node names in order of first appearance, with the simulated node each maps onto.
    pub nodes: Vec<(String, NodeIndex)>,
    pub skipped: u64,
    pub unmodelled: u64,
    /// Events before `origin` or at or after the workload's `stop`.
    pub outside: u64,
}

/// Whether `s` has the shape of an Elasticsearch API key id (`UUIDs.randomBase64UUID`: 20
/// characters of URL-safe base64).
fn looks_like_api_key_id(s: &str) -> bool {
    s.len() == 20
        && s.bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
}

fn err(what: &str, msg: impl std::fmt::Display) -> EsError {
    EsError::illegal_argument(format!("[{what}]: {msg}"))
}

/// Reads the events of a replay (CA-RP1), errors naming `what` and the file and line.
pub(crate) fn read_log(desc: &ReplayDesc, what: &str) -> Result<ReadLog, EsError> {
    let mut log = ReadLog::default();
    match (&desc.path, &desc.records) {
        (Some(_), Some(_)) => {
            return Err(err(what, "give either [path] or [records], not both"));
        }
        (None, None) => return Err(err(what, "a replay workload needs a [path] or [records]")),
        (Some(path), None) => {
            let text = std::fs::read_to_string(path).map_err(|e| {
                err(
                    &format!("{what}.path"),
                    format!("cannot read [{path}]: {e}"),
                )
            })?;
            match desc.format {
                ReplayFormat::EsAudit => audit::read_lines(&text, path, &mut log),
                ReplayFormat::Csv => csv::read_lines(&text, path, &mut log),
            }
            .map_err(|e| err(&format!("{what}.path"), e))?;
        }
        (None, Some(records)) => {
            for (i, r) in records.iter().enumerate() {
                let at = format!("{what}.records[{i}]");
                match desc.format {
                    ReplayFormat::EsAudit => audit::read_event(r.clone(), &mut log),
                    ReplayFormat::Csv => serde_json::from_value::<csv::Row>(r.clone())
                        .map_err(|e| e.to_string())
                        .and_then(|row| csv::read_row(row, &mut log)),
                }
                .map_err(|e| err(&at, e))?;
            }
        }
    }
    Ok(log)
}

/// The distinct credentials of a log in order of first appearance, and each event's index into
/// them (`None`: not modelled). CA-RP2.
fn credentials(events: &[Event]) -> (Vec<ReplayCredential>, Vec<Option<u32>>) {
    let succeeded: std::collections::HashSet<&str> = events
        .iter()
        .filter(|e| e.success)
        .filter_map(|e| match &e.presented {
            Presented::ApiKey { id, .. } => Some(id.as_str()),
            _ => None,
        })
        .collect();
    let token_ok: std::collections::HashSet<(&str, &str)> = events
        .iter()
        .filter(|e| e.success)
        .filter_map(|e| match &e.presented {
            Presented::Token { account, name, .. } => Some((account.as_str(), name.as_str())),
            _ => None,
        })
        .collect();
    let token_file: std::collections::HashSet<(&str, &str)> = events
        .iter()
        .filter_map(|e| match &e.presented {
            Presented::Token {
                account,
                name,
                file: true,
            } => Some((account.as_str(), name.as_str())),
            _ => None,
        })
        .collect();
    let mut out: Vec<ReplayCredential> = Vec::new();
    let mut index: HashMap<String, u32> = HashMap::new();
    let mut of = Vec::with_capacity(events.len());
    for e in events {
        let cred = match &e.presented {
            Presented::ApiKey { id, name } => Some(ReplayCredential {
                kind: ReplayCredentialKind::ApiKey,
                real: id.clone(),
                name: name.clone(),
            }),
            Presented::Principal(p) if succeeded.contains(p.as_str()) => Some(ReplayCredential {
                kind: ReplayCredentialKind::ApiKey,
                real: p.clone(),
                name: None,
            }),
            Presented::Principal(p) if looks_like_api_key_id(p) => Some(ReplayCredential {
                kind: ReplayCredentialKind::UnknownApiKey,
                real: p.clone(),
                name: None,
            }),
            // A failed realm user (a user name, not an API key id): realms are not replayed.
            Presented::Principal(_) => None,
            Presented::Token { account, name, .. } => {
                let key = (account.as_str(), name.as_str());
                Some(ReplayCredential {
                    kind: if token_ok.contains(&key) {
                        ReplayCredentialKind::ServiceToken {
                            file: token_file.contains(&key),
                        }
                    } else {
                        ReplayCredentialKind::UnknownServiceToken
                    },
                    real: format!("{account}/{name}"),
                    name: None,
                })
            }
        };
        of.push(cred.map(|c| {
            let next = out.len() as u32;
            let i = *index.entry(c.real.clone()).or_insert_with(|| {
                out.push(c.clone());
                next
            });
            // A name seen later (a success after a failure) still names the key.
            if out[i as usize].name.is_none() {
                out[i as usize].name = c.name;
            }
            i
        }));
    }
    // The first appearance may be a failure naming the bare principal of a key that succeeds later:
    // the entry is then an API key whatever the first event said.
    for c in &mut out {
        if c.kind == ReplayCredentialKind::UnknownApiKey && succeeded.contains(c.real.as_str()) {
            c.kind = ReplayCredentialKind::ApiKey;
        }
    }
    (out, of)
}

/// Real node names onto simulated nodes, in order of first appearance (CA-RP3): `node_map` first,
/// then round-robin over the simulated nodes for the names it does not list.
fn map_nodes(
    events: &[Event],
    node_map: &IndexMap<String, String>,
    cluster: &Cluster,
    what: &str,
) -> Result<Vec<(String, NodeIndex)>, EsError> {
    let n = cluster.nodes().len().max(1);
    let mut out: Vec<(String, NodeIndex)> = Vec::new();
    let mut unmapped = 0usize;
    for e in events {
        if out.iter().any(|(name, _)| *name == e.node) {
            continue;
        }
        let sim = if let Some(s) = node_map.get(&e.node) {
            cluster
                .node_index(s)
                .map_err(|_| err(&format!("{what}.node_map"), format!("unknown node [{s}]")))?
        } else {
            unmapped += 1;
            ((unmapped - 1) % n) as NodeIndex
        };
        out.push((e.node.clone(), sim));
    }
    for (real, sim) in node_map {
        if !out.iter().any(|(name, _)| name == real) {
            // A mapping for a node the log never names is a typo more often than not.
            cluster
                .node_index(sim)
                .map_err(|_| err(&format!("{what}.node_map"), format!("unknown node [{sim}]")))?;
        }
    }
    Ok(out)
}

/// Reads and maps a replay onto `cluster` (CA-RP1 to CA-RP4). `start`/`stop`: the workload's.
pub(crate) fn plan(
    desc: &ReplayDesc,
    cluster: &Cluster,
    stop: Option<Nanos>,
    start: Nanos,
    what: &str,
) -> Result<ReplayPlan, EsError> {
    if !(desc.speed.is_finite() && desc.speed > 0.0) {
        return Err(err(
            &format!("{what}.speed"),
            format!("must be a positive number, got [{}]", desc.speed),
        ));
    }
    let mut log = read_log(desc, what)?;
    // CA-RP4: sorted by time; the sort is stable, so events of one instant keep the log's order.
    log.events.sort_by_key(|e| e.at);
    let origin = match &desc.origin {
        Some(o) => timestamp::parse_instant(o).ok_or_else(|| {
            err(
                &format!("{what}.origin"),
                format!("[{o}] is neither an ISO-8601 date-time nor a number of seconds"),
            )
        })?,
        None => log.events.first().map_or(0, |e| e.at),
    };
    let (credentials, of) = credentials(&log.events);
    let nodes = map_nodes(&log.events, &desc.node_map, cluster, what)?;
    let node_of: HashMap<&str, NodeIndex> = nodes.iter().map(|(r, s)| (r.as_str(), *s)).collect();
    let mut records = Vec::with_capacity(log.events.len());
    let mut outside = 0u64;
    for (e, c) in log.events.iter().zip(of) {
        let Some(c) = c else {
            log.unmodelled += 1;
            continue;
        };
        let Ok(real) = u64::try_from(e.at - origin) else {
            outside += 1;
            continue;
        };
        let at = if (desc.speed - 1.0).abs() < f64::EPSILON {
            real
        } else {
            (real as f64 / desc.speed).round() as Nanos
        };
        if stop.is_some_and(|s| start.saturating_add(at) >= s) {
            outside += 1;
            continue;
        }
        let cred = &credentials[c as usize];
        let wrong = !e.success
            && matches!(
                cred.kind,
                ReplayCredentialKind::ApiKey | ReplayCredentialKind::ServiceToken { .. }
            );
        records.push(ReplayRecord {
            at,
            credential: c,
            node: node_of.get(e.node.as_str()).copied().unwrap_or(0),
            wrong,
        });
    }
    if credentials.is_empty() {
        return Err(err(
            what,
            format!(
                "the replay holds no authentication of an API key or service account token ({} other events skipped, {} not modelled)",
                log.skipped, log.unmodelled
            ),
        ));
    }
    for c in &credentials {
        if let ReplayCredentialKind::ServiceToken { .. } = c.kind {
            let account = c.real.rsplit_once('/').map_or("", |(a, _)| a);
            if crate::security::service_account::find_account_in(account, cluster.settings.version)
                .is_none()
            {
                return Err(err(
                    what,
                    format!(
                        "service account [{account}] (of token [{}]) does not exist",
                        c.real
                    ),
                ));
            }
        }
    }
    Ok(ReplayPlan {
        records,
        credentials,
        nodes,
        skipped: log.skipped,
        unmodelled: log.unmodelled,
        outside,
    })
}

/// The replay fields of a summary request (`escache.audit.summary`).
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct SummaryDesc {
    format: Option<ReplayFormat>,
    path: Option<String>,
    records: Option<Vec<Value>>,
}

/// What a log holds, read as a replay workload would read it but mapped onto no cluster: counts,
/// node names and credentials in order of first appearance (a credential's position is the
/// `indices` entry that selects it in actions), instants in nanoseconds since the epoch.
pub fn summarize(v: &Value) -> Result<Value, EsError> {
    let d: SummaryDesc =
        serde_json::from_value(v.clone()).map_err(|e| err("replay", e.to_string()))?;
    let desc = ReplayDesc {
        format: d.format.unwrap_or(ReplayFormat::EsAudit),
        path: d.path,
        records: d.records,
        origin: None,
        speed: 1.0,
        node_map: IndexMap::new(),
    };
    let mut log = read_log(&desc, "replay")?;
    log.events.sort_by_key(|e| e.at);
    let (creds, of) = credentials(&log.events);
    let modelled: Vec<&Event> = log
        .events
        .iter()
        .zip(&of)
        .filter_map(|(e, c)| c.map(|_| e))
        .collect();
    let mut nodes: Vec<&str> = Vec::new();
    for e in &modelled {
        if !nodes.contains(&e.node.as_str()) {
            nodes.push(&e.node);
        }
    }
    let kind = |k: &ReplayCredentialKind| match k {
        ReplayCredentialKind::ApiKey => "api_key",
        ReplayCredentialKind::ServiceToken { .. } => "service_token",
        ReplayCredentialKind::UnknownApiKey => "unknown_api_key",
        ReplayCredentialKind::UnknownServiceToken => "unknown_service_token",
    };
    Ok(json!({
        "events": modelled.len(),
        "successes": modelled.iter().filter(|e| e.success).count(),
        "failures": modelled.iter().filter(|e| !e.success).count(),
        "skipped": log.skipped,
        "not_modelled": log.unmodelled + (of.iter().filter(|c| c.is_none()).count() as u64),
        "first": modelled.first().map(|e| e.at),
        "last": modelled.last().map(|e| e.at),
        "nodes": nodes,
        "credentials": creds.iter().map(|c| json!({"real": c.real, "kind": kind(&c.kind), "name": c.name})).collect::<Vec<_>>(),
    }))
}
