//! `GET /_cluster/health[/{index}]` (`RestClusterHealthAction`, `TransportClusterHealthAction`,
//! `ClusterHealthResponse.toXContent`). Rules API-CH1 to API-CH3.
//!
//! escache models one index, the security index (`.security-7`, alias `.security`: one primary,
//! `auto_expand_replicas: 0-1`), so the cluster's health is that index's health: green when it
//! is absent or closed (nothing unassigned), else the health it was given. Waiting
//! (`wait_for_status`, `wait_for_nodes`) happens in virtual time, where nothing changes while a
//! request waits: an unmet condition is a timeout at once (`timed_out: true`, HTTP 408).

use crate::cluster::Cluster;
use crate::error::EsError;
use crate::events::NodeIndex;
use crate::rest::params::java_split_comma;
use crate::rest::{check_unconsumed_params, reject_unconsumed_body, Request, Response, RouteId};
use crate::security::authz::{self, wildcard_match, RequestContext, Subject};
use crate::security::index::{IndexHealth, SECURITY_MAIN_ALIAS, SECURITY_MAIN_INDEX};
use serde_json::{json, Map, Value};

fn rank(h: IndexHealth) -> u8 {
    match h {
        IndexHealth::Green => 2,
        IndexHealth::Yellow => 1,
        IndexHealth::Red => 0,
    }
}

/// `ClusterHealthStatus.valueOf(s.toUpperCase())` and `Level.valueOf`: Java's enum error.
fn enum_error(class: &str, value: &str) -> EsError {
    EsError::illegal_argument(format!("No enum constant {class}.{}", value.to_uppercase()))
}

/// `wait_for_nodes`: `N`, `>=N`, `<=N`, `>N`, `<N`, `ge(N)`, `le(N)`, `gt(N)`, `lt(N)`.
fn nodes_condition_met(spec: &str, nodes: usize) -> Result<bool, EsError> {
    let s = spec.trim();
    let (op, num) = if let Some(r) = s.strip_prefix(">=") {
        (">=", r)
    } else if let Some(r) = s.strip_prefix("<=") {
        ("<=", r)
    } else if let Some(r) = s.strip_prefix('>') {
        (">", r)
    } else if let Some(r) = s.strip_prefix('<') {
        ("<", r)
    } else if let Some(r) = s.strip_prefix("ge(").and_then(|r| r.strip_suffix(')')) {
        (">=", r)
    } else if let Some(r) = s.strip_prefix("le(").and_then(|r| r.strip_suffix(')')) {
        ("<=", r)
    } else if let Some(r) = s.strip_prefix("gt(").and_then(|r| r.strip_suffix(')')) {
        (">", r)
    } else if let Some(r) = s.strip_prefix("lt(").and_then(|r| r.strip_suffix(')')) {
        ("<", r)
    } else {
        ("==", s)
    };
    let n: usize = num
        .trim()
        .parse()
        .map_err(|_| EsError::illegal_argument(format!("For input string: \"{}\"", num.trim())))?;
    Ok(match op {
        ">=" => nodes >= n,
        "<=" => nodes <= n,
        ">" => nodes > n,
        "<" => nodes < n,
        _ => nodes == n,
    })
}

/// Whether an index expression of the request names the security index; `Err` for a concrete
/// name that does not exist (its health is red and the wait times out).
fn names_security_index(expr: &str) -> bool {
    expr == "_all"
        || wildcard_match(expr, SECURITY_MAIN_INDEX)
        || wildcard_match(expr, SECURITY_MAIN_ALIAS)
}

#[allow(clippy::too_many_lines)] // one response, field by field
pub(super) fn handle(
    cluster: &Cluster,
    req: &Request,
    subject: &Subject,
) -> Result<Response, EsError> {
    check_unconsumed_params(
        req,
        &[
            "index",
            "local",
            "master_timeout",
            "timeout",
            "wait_for_status",
            "wait_for_no_relocating_shards",
            "wait_for_no_initializing_shards",
            "wait_for_active_shards",
            "wait_for_nodes",
            "wait_for_events",
            "level",
            "expand_wildcards",
            "ignore_unavailable",
            "allow_no_indices",
            "ignore_throttled",
        ],
    )?;
    reject_unconsumed_body(req)?;
    let wait_for_status = match req.param("wait_for_status") {
        Some(s) => Some(IndexHealth::parse(s).ok_or_else(|| {
            enum_error("org.elasticsearch.cluster.health.ClusterHealthStatus", s)
        })?),
        None => None,
    };
    let level = match req.param("level") {
        None => "cluster".to_string(),
        Some(l) if matches!(l.to_lowercase().as_str(), "cluster" | "indices" | "shards") => {
            l.to_lowercase()
        }
        Some(l) => {
            return Err(enum_error(
                "org.elasticsearch.action.admin.cluster.health.ClusterHealthRequest.Level",
                l,
            ))
        }
    };
    req.param_as_boolean("local", false)?;
    req.param_as_boolean("wait_for_no_relocating_shards", false)?;
    req.param_as_boolean("wait_for_no_initializing_shards", false)?;
    authz::authorize(
        subject,
        RouteId::ClusterHealth.action(),
        &RequestContext::none(),
    )?;
    let expressions: Vec<String> = req
        .param("index")
        .map(java_split_comma)
        .unwrap_or_default()
        .into_iter()
        .filter(|e| !e.is_empty())
        .collect();
    let missing_concrete = expressions
        .iter()
        .any(|e| !e.contains(['*', '?']) && e != "_all" && !names_security_index(e));
    let state = cluster.security_index.state();
    let index_health = state.health();
    let in_scope = expressions.is_empty() || expressions.iter().any(|e| names_security_index(e));
    // A node fault detection removed is not in the cluster state (CA-PT3).
    let nodes = (0..cluster.nodes().len())
        .filter(|&i| cluster.in_cluster_state(i as NodeIndex))
        .count();
    let replicas = usize::from(nodes > 1);
    let counted = if in_scope { index_health } else { None };
    let (primary, active, unassigned, unassigned_primary) = match counted {
        None => (0, 0, 0, 0),
        Some(IndexHealth::Green) => (1, 1 + replicas, 0, 0),
        Some(IndexHealth::Yellow) => (1, 1, replicas.max(1), 0),
        Some(IndexHealth::Red) => (0, 0, 1 + replicas, 1),
    };
    let mut status = counted.unwrap_or(IndexHealth::Green);
    if missing_concrete {
        status = IndexHealth::Red;
    }
    let mut timed_out = missing_concrete;
    if let Some(want) = wait_for_status {
        timed_out |= rank(status) < rank(want);
    }
    if let Some(spec) = req.param("wait_for_nodes") {
        timed_out |= !nodes_condition_met(spec, nodes)?;
    }
    let total = active + unassigned;
    #[allow(clippy::cast_precision_loss)] // shard counts are tiny
    let percent = if total == 0 {
        100.0
    } else {
        active as f64 * 100.0 / total as f64
    };
    let mut body = Map::new();
    body.insert("cluster_name".into(), json!(cluster.name));
    body.insert("status".into(), json!(status.as_str()));
    body.insert("timed_out".into(), json!(timed_out));
    body.insert("number_of_nodes".into(), json!(nodes));
    body.insert("number_of_data_nodes".into(), json!(nodes));
    body.insert("active_primary_shards".into(), json!(primary));
    body.insert("active_shards".into(), json!(active));
    body.insert("relocating_shards".into(), json!(0));
    body.insert("initializing_shards".into(), json!(0));
    body.insert("unassigned_shards".into(), json!(unassigned));
    body.insert(
        "unassigned_primary_shards".into(),
        json!(unassigned_primary),
    );
    body.insert("delayed_unassigned_shards".into(), json!(0));
    body.insert("number_of_pending_tasks".into(), json!(0));
    body.insert("number_of_in_flight_fetch".into(), json!(0));
    body.insert("task_max_waiting_in_queue_millis".into(), json!(0));
    body.insert("active_shards_percent_as_number".into(), json!(percent));
    if level != "cluster" {
        let mut indices = Map::new();
        if let Some(h) = counted {
            indices.insert(
                SECURITY_MAIN_INDEX.into(),
                json!({
                    "status": h.as_str(),
                    "number_of_shards": 1,
                    "number_of_replicas": replicas,
                    "active_primary_shards": primary,
                    "active_shards": active,
                    "relocating_shards": 0,
                    "initializing_shards": 0,
                    "unassigned_shards": unassigned,
                    "unassigned_primary_shards": unassigned_primary,
                }),
            );
        }
        body.insert("indices".into(), Value::Object(indices));
    }
    // `RestClusterHealthAction`: a timed-out wait answers 408 with the same body.
    let code = if timed_out { 408 } else { 200 };
    Ok(Response::new(code, Value::Object(body)))
}
