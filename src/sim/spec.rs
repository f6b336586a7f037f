//! Workloads, actions and cost models described as JSON values (what scenario files and the Python API
//! hand over). Nodes are named; durations are Elasticsearch time values (`"5m"`) or seconds.

use super::cost::CostModel;
use super::{
    Action, AuthorizationHeader, NodeChoice, Popularity, Selection, TokenSourceSpec, WorkloadKind,
    WorkloadSpec,
};
use crate::cluster::Cluster;
use crate::error::EsError;
use crate::events::NodeIndex;
use crate::security::index::IndexHealth;
use crate::time::{duration_from_seconds, parse_duration, Nanos, TimeValue};
use serde_json::{Map, Value};

fn err(msg: impl Into<String>) -> EsError {
    EsError::illegal_argument(msg)
}

fn obj<'a>(v: &'a Value, what: &str) -> Result<&'a Map<String, Value>, EsError> {
    v.as_object()
        .ok_or_else(|| err(format!("{what} must be a table/object")))
}

fn check_keys(m: &Map<String, Value>, allowed: &[&str], what: &str) -> Result<(), EsError> {
    for k in m.keys() {
        if !allowed.contains(&k.as_str()) {
            return Err(err(format!(
                "unknown field [{k}] in {what}; expected one of [{}]",
                allowed.join(", ")
            )));
        }
    }
    Ok(())
}

/// An error about a field: `[what]: message`, unless the message already names the field (as
/// Elasticsearch's `failed to parse setting [what] ...` does).
fn field_err(what: &str, e: impl std::fmt::Display) -> EsError {
    let msg = e.to_string();
    if msg.contains(&format!("[{what}]")) {
        err(msg)
    } else {
        err(format!("[{what}]: {msg}"))
    }
}

/// A duration: a time value string or a number of seconds.
pub fn duration(v: &Value, what: &str) -> Result<Nanos, EsError> {
    match v {
        Value::String(s) => parse_duration(s, what).map_err(|e| field_err(what, e)),
        Value::Number(n) => {
            let secs = n
                .as_f64()
                .ok_or_else(|| err(format!("[{what}] is not a number")))?;
            duration_from_seconds(secs, what).map_err(|e| field_err(what, e))
        }
        _ => Err(err(format!(
            "[{what}] must be a duration such as \"5m\" or a number of seconds"
        ))),
    }
}

fn opt_duration(m: &Map<String, Value>, key: &str, what: &str) -> Result<Option<Nanos>, EsError> {
    m.get(key)
        .map(|v| duration(v, &format!("{what}.{key}")))
        .transpose()
}

fn num(m: &Map<String, Value>, key: &str, default: f64, what: &str) -> Result<f64, EsError> {
    match m.get(key) {
        None => Ok(default),
        Some(v) => v
            .as_f64()
            .ok_or_else(|| err(format!("[{what}.{key}] must be a number"))),
    }
}

fn string<'a>(
    m: &'a Map<String, Value>,
    key: &str,
    what: &str,
) -> Result<Option<&'a str>, EsError> {
    match m.get(key) {
        None => Ok(None),
        Some(Value::String(s)) => Ok(Some(s)),
        Some(_) => Err(err(format!("[{what}.{key}] must be a string"))),
    }
}

/// A node by name.
pub fn node(cluster: &Cluster, v: &Value, what: &str) -> Result<NodeIndex, EsError> {
    match v {
        Value::String(s) => cluster
            .node_index(s)
            .map_err(|_| err(format!("[{what}]: unknown node [{s}]"))),
        _ => Err(err(format!("[{what}] must be a node name"))),
    }
}

fn nodes(cluster: &Cluster, v: &Value, what: &str) -> Result<Vec<NodeIndex>, EsError> {
    match v {
        Value::Array(a) => a.iter().map(|x| node(cluster, x, what)).collect(),
        Value::String(_) => Ok(vec![node(cluster, v, what)?]),
        _ => Err(err(format!(
            "[{what}] must be a node name or a list of node names"
        ))),
    }
}

fn popularity(v: Option<&Value>, what: &str) -> Result<Popularity, EsError> {
    match v {
        None => Ok(Popularity::Uniform),
        Some(Value::String(s)) if s == "uniform" => Ok(Popularity::Uniform),
        Some(Value::String(s)) if s == "zipf" => Ok(Popularity::Zipf { s: 1.0 }),
        Some(Value::Object(m)) => {
            check_keys(m, &["zipf", "hotspot", "fraction", "probability"], what)?;
            if let Some(s) = m.get("zipf") {
                return Ok(Popularity::Zipf { s: s.as_f64().ok_or_else(|| err(format!("[{what}.zipf] must be a number")))? });
            }
            if m.contains_key("hotspot") || m.contains_key("fraction") {
                return Ok(Popularity::Hotspot {
                    fraction: num(m, "fraction", 0.1, what)?,
                    probability: num(m, "probability", 0.9, what)?,
                });
            }
            Err(err(format!("[{what}] must be \"uniform\", \"zipf\", {{zipf = s}} or {{hotspot = true, fraction, probability}}")))
        }
        Some(_) => Err(err(format!("[{what}] must be \"uniform\", \"zipf\", {{zipf = s}} or {{hotspot = true, fraction, probability}}"))),
    }
}

fn node_choice(cluster: &Cluster, v: Option<&Value>, what: &str) -> Result<NodeChoice, EsError> {
    match v {
        None => Ok(NodeChoice::RoundRobin),
        Some(Value::String(s)) => match s.as_str() {
            "round_robin" => Ok(NodeChoice::RoundRobin),
            "random" => Ok(NodeChoice::Random),
            "sticky" => Ok(NodeChoice::Sticky),
            other => Err(err(format!(
                "[{what}] must be round_robin, random, sticky or a table of weights, got [{other}]"
            ))),
        },
        Some(Value::Object(m)) => {
            let mut w = vec![0.0; cluster.nodes().len()];
            for (name, weight) in m {
                let i = cluster
                    .node_index(name)
                    .map_err(|_| err(format!("[{what}]: unknown node [{name}]")))?;
                w[i as usize] = weight
                    .as_f64()
                    .ok_or_else(|| err(format!("[{what}.{name}] must be a number")))?;
            }
            Ok(NodeChoice::Weighted(w))
        }
        Some(_) => Err(err(format!(
            "[{what}] must be round_robin, random, sticky or a table of weights"
        ))),
    }
}

/// A workload from its description.
pub fn workload(cluster: &Cluster, v: &Value) -> Result<WorkloadSpec, EsError> {
    let m = obj(v, "a workload")?;
    if m.is_empty() {
        // An empty `[[workloads]]` table is a mistake (fields written under another header), not a
        // request for 1000 API keys at 100/s.
        return Err(err(
            "a workload needs at least a [name] and a [rate]; the description is empty",
        ));
    }
    let name = string(m, "name", "workload")?
        .unwrap_or("workload")
        .to_string();
    let what = format!("workload [{name}]");
    check_keys(
        m,
        &[
            "name",
            "kind",
            "population",
            "keys",
            "tokens",
            "rate",
            "popularity",
            "node_choice",
            "wrong_secret_share",
            "create_over",
            "start",
            "stop",
            "creator_node",
            "expiration",
            "account",
            "source",
            "nodes",
        ],
        &what,
    )?;
    let kind = match string(m, "kind", &what)?.unwrap_or("api_key") {
        "api_key" => WorkloadKind::ApiKey {
            creator_node: match m.get("creator_node") {
                Some(n) => node(cluster, n, &format!("{what}.creator_node"))?,
                None => 0,
            },
            expiration: match string(m, "expiration", &what)? {
                Some(e) => Some({
                    let field = format!("{what}.expiration");
                    TimeValue::parse(e, &field).map_err(|x| field_err(&field, x))?
                }),
                None => None,
            },
        },
        "service_token" => {
            let account = string(m, "account", &what)?
                .unwrap_or("elastic/fleet-server")
                .to_string();
            let source = match string(m, "source", &what)?.unwrap_or("index") {
                "index" => TokenSourceSpec::Index,
                "file" => TokenSourceSpec::File {
                    nodes: match m.get("nodes") {
                        Some(n) => nodes(cluster, n, &format!("{what}.nodes"))?,
                        None => (0..cluster.nodes().len() as NodeIndex).collect(),
                    },
                },
                other => {
                    return Err(err(format!(
                        "[{what}.source] must be index or file, got [{other}]"
                    )))
                }
            };
            WorkloadKind::ServiceToken { account, source }
        }
        other => {
            return Err(err(format!(
                "[{what}.kind] must be api_key or service_token, got [{other}]"
            )))
        }
    };
    let population = ["population", "keys", "tokens"]
        .iter()
        .find_map(|k| m.get(*k))
        .map(|v| {
            v.as_u64()
                .ok_or_else(|| err(format!("[{what}.population] must be a positive integer")))
        })
        .transpose()?
        .unwrap_or(1000) as usize;
    let start = opt_duration(m, "start", &what)?.unwrap_or(0);
    let stop = opt_duration(m, "stop", &what)?;
    if let Some(s) = stop {
        if s <= start {
            return Err(err(format!(
                "[{what}.stop] must be later than [{what}.start]"
            )));
        }
    }
    Ok(WorkloadSpec {
        name,
        kind,
        population,
        rate: num(m, "rate", 100.0, &what)?,
        popularity: popularity(m.get("popularity"), &format!("{what}.popularity"))?,
        node_choice: node_choice(
            cluster,
            m.get("node_choice"),
            &format!("{what}.node_choice"),
        )?,
        wrong_secret_share: num(m, "wrong_secret_share", 0.0, &what)?,
        create_over: opt_duration(m, "create_over", &what)?.unwrap_or(0),
        start,
        stop,
    })
}

const SELECTORS: [&str; 4] = ["top", "random", "indices", "all"];

/// Which credentials an action targets: exactly one of `top`, `random`, `indices`, `all` (none given:
/// `top = 1`).
fn selection(m: &Map<String, Value>, what: &str) -> Result<Selection, EsError> {
    let given: Vec<&str> = SELECTORS
        .iter()
        .copied()
        .filter(|k| m.contains_key(*k))
        .collect();
    if given.len() > 1 {
        return Err(err(format!(
            "[{what}] takes one of [top, random, indices, all], got [{}]",
            given.join(", ")
        )));
    }
    let count = |k: &str| -> Result<usize, EsError> {
        m[k].as_u64()
            .map(|n| n as usize)
            .ok_or_else(|| err(format!("[{what}.{k}] must be a non-negative integer")))
    };
    match given.first().copied() {
        None => Ok(Selection::Top(1)),
        Some("top") => Ok(Selection::Top(count("top")?)),
        Some("random") => Ok(Selection::Random(count("random")?)),
        Some("indices") => match &m["indices"] {
            Value::Array(a) => a
                .iter()
                .map(|x| {
                    x.as_u64().map(|n| n as usize).ok_or_else(|| {
                        err(format!(
                            "[{what}.indices] must be a list of non-negative integers"
                        ))
                    })
                })
                .collect::<Result<Vec<_>, _>>()
                .map(Selection::Indices),
            _ => Err(err(format!(
                "[{what}.indices] must be a list of non-negative integers"
            ))),
        },
        _ => match m["all"] {
            Value::Bool(true) => Ok(Selection::All),
            _ => Err(err(format!("[{what}.all] must be true"))),
        },
    }
}

/// The fields each action accepts (besides `action`).
fn action_fields(kind: &str) -> Option<&'static [&'static str]> {
    const CREDENTIALS: &[&str] = &["workload", "top", "random", "indices", "all", "node"];
    const FILE_TOKENS: &[&str] = &[
        "workload", "top", "random", "indices", "all", "nodes", "node",
    ];
    Some(match kind {
        "rest" => &["method", "path", "body", "node", "authorization"],
        "invalidate_api_keys" | "delete_service_tokens" => CREDENTIALS,
        "remove_file_tokens" => FILE_TOKENS,
        "set_service_tokens_file" => &["nodes", "node", "content"],
        "clear_cache" => &["cache", "keys", "node"],
        "stop_node" | "start_node" | "partition" | "heal" => &["node"],
        "drop_clear_cache" => &["nodes", "node"],
        "index_health" => &["health"],
        "index_delete" | "index_close" | "index_open" | "index_recreate" => &[],
        "index_up_to_date" => &["value"],
        _ => return None,
    })
}

/// An action from its description; `workloads` names the simulation's workloads in order.
pub fn action(cluster: &Cluster, workloads: &[String], v: &Value) -> Result<Action, EsError> {
    let m = obj(v, "an action")?;
    let kind = string(m, "action", "action")?
        .ok_or_else(|| err("every action needs an [action] field"))?;
    let what = format!("action [{kind}]");
    let fields = action_fields(kind).ok_or_else(|| err(format!("unknown action [{kind}]")))?;
    for k in m.keys() {
        if k != "action" && !fields.contains(&k.as_str()) {
            return Err(err(format!(
                "unknown field [{k}] in {what}; expected one of [{}]",
                fields.join(", ")
            )));
        }
    }
    if m.contains_key("node") && m.contains_key("nodes") {
        return Err(err(format!("[{what}] takes [node] or [nodes], not both")));
    }
    // The node an action acts on or through: required, never a silent node-0.
    let required_node = || -> Result<NodeIndex, EsError> {
        match m.get("node") {
            Some(n) => node(cluster, n, &format!("{what}.node")),
            None => Err(err(format!("[{what}.node] is required: name the node"))),
        }
    };
    let workload = || -> Result<usize, EsError> {
        let name = string(m, "workload", &what)?
            .ok_or_else(|| err(format!("[{what}] needs a [workload]")))?;
        workloads
            .iter()
            .position(|w| w == name)
            .ok_or_else(|| err(format!("[{what}]: unknown workload [{name}]")))
    };
    let given_nodes = || -> Option<Result<Vec<NodeIndex>, EsError>> {
        m.get("nodes")
            .or_else(|| m.get("node"))
            .map(|n| nodes(cluster, n, &format!("{what}.nodes")))
    };
    // Service token files: every node's file unless told otherwise.
    let all_nodes = || -> Result<Vec<NodeIndex>, EsError> {
        given_nodes().unwrap_or_else(|| Ok((0..cluster.nodes().len() as NodeIndex).collect()))
    };
    Ok(match kind {
        "rest" => Action::Rest {
            method: string(m, "method", &what)?.unwrap_or("GET").to_string(),
            path: string(m, "path", &what)?
                .ok_or_else(|| err(format!("[{what}] needs a [path]")))?
                .to_string(),
            body: match m.get("body") {
                None | Some(Value::Null) => None,
                Some(Value::String(s)) => Some(s.clone()),
                Some(other) => Some(other.to_string()),
            },
            node: m
                .get("node")
                .map(|n| node(cluster, n, &format!("{what}.node")))
                .transpose()?,
            authorization: string(m, "authorization", &what)?.map(AuthorizationHeader::new),
        },
        "invalidate_api_keys" => Action::InvalidateApiKeys {
            workload: workload()?,
            selection: selection(m, &what)?,
            node: required_node()?,
        },
        "delete_service_tokens" => Action::DeleteServiceTokens {
            workload: workload()?,
            selection: selection(m, &what)?,
            node: required_node()?,
        },
        "remove_file_tokens" => Action::RemoveFileTokens {
            workload: workload()?,
            selection: selection(m, &what)?,
            nodes: all_nodes()?,
        },
        "set_service_tokens_file" => Action::SetServiceTokensFile {
            nodes: all_nodes()?,
            content: string(m, "content", &what)?
                .unwrap_or("")
                .as_bytes()
                .to_vec(),
        },
        "clear_cache" => Action::ClearCache {
            cache: {
                let cache = string(m, "cache", &what)?.unwrap_or("api_key");
                let n = required_node()?;
                // The name resolves on the receiving nodes (`CacheInvalidatorRegistry`); refuse
                // one no node knows now, with Elasticsearch's message, rather than at run time.
                cluster
                    .node(n)
                    .map(|x| x.registry.resolve(cache))
                    .transpose()
                    .map_err(|e| field_err(&format!("{what}.cache"), e.reason))?;
                cache.to_string()
            },
            keys: match m.get("keys") {
                None => Vec::new(),
                Some(Value::String(k)) => vec![k.clone()],
                Some(Value::Array(a)) => a
                    .iter()
                    .map(|x| {
                        x.as_str()
                            .map(str::to_string)
                            .ok_or_else(|| err(format!("[{what}.keys] must be a list of strings")))
                    })
                    .collect::<Result<Vec<_>, _>>()?,
                Some(_) => return Err(err(format!("[{what}.keys] must be a list of strings"))),
            },
            node: required_node()?,
        },
        "stop_node" => Action::StopNode(required_node()?),
        "start_node" => Action::StartNode(required_node()?),
        "partition" => Action::Partition(required_node()?),
        "heal" => Action::Heal(required_node()?),
        "drop_clear_cache" => {
            Action::DropClearCache(given_nodes().unwrap_or_else(|| {
                Err(err(format!("[{what}.nodes] is required: name the nodes")))
            })?)
        }
        "index_health" => Action::IndexHealth(
            IndexHealth::parse(string(m, "health", &what)?.unwrap_or(""))
                .ok_or_else(|| err(format!("[{what}.health] must be green, yellow or red")))?,
        ),
        "index_delete" => Action::IndexDelete,
        "index_close" => Action::IndexClose,
        "index_open" => Action::IndexOpen,
        "index_recreate" => Action::IndexRecreate,
        "index_up_to_date" => Action::IndexUpToDate(match m.get("value") {
            None => true,
            Some(Value::Bool(b)) => *b,
            Some(_) => return Err(err(format!("[{what}.value] must be true or false"))),
        }),
        other => return Err(err(format!("unknown action [{other}]"))),
    })
}

/// A cost model: defaults overridden by `pbkdf2_per_1000_iterations`, `bcrypt_cost_10`, `ssha256`,
/// `digest` (durations).
pub fn cost_model(v: &Value) -> Result<CostModel, EsError> {
    let m = obj(v, "the cost model")?;
    check_keys(
        m,
        &[
            "pbkdf2_per_1000_iterations",
            "bcrypt_cost_10",
            "ssha256",
            "digest",
        ],
        "the cost model",
    )?;
    let mut c = CostModel::default();
    if let Some(d) = opt_duration(m, "pbkdf2_per_1000_iterations", "cost_model")? {
        c.pbkdf2_per_1000_iterations = d;
    }
    if let Some(d) = opt_duration(m, "bcrypt_cost_10", "cost_model")? {
        c.bcrypt_cost_10 = d;
    }
    if let Some(d) = opt_duration(m, "ssha256", "cost_model")? {
        c.ssha256 = d;
    }
    if let Some(d) = opt_duration(m, "digest", "cost_model")? {
        c.digest = d;
    }
    Ok(c)
}
