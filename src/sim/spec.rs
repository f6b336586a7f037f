//! Workloads, actions, cost models and whole scenarios: escache's own description formats, as serde
//! types (`deny_unknown_fields`), read from JSON values (what the Python API hands over) or TOML text
//! (scenario files). A description that does not fit its type is refused naming its table and field
//! (serde's path, `workloads[1].rate: invalid type: ...`); then the names it holds (nodes, workloads,
//! caches) resolve against the cluster, and durations go through Elasticsearch's time-value parser
//! (`crate::time`), keeping Elasticsearch's messages. Nodes are named; durations are Elasticsearch
//! time values (`"5m"`) or seconds.

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
use indexmap::IndexMap;
use serde::de::{self, DeserializeOwned, Deserializer, Visitor};
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

fn err(msg: impl Into<String>) -> EsError {
    EsError::illegal_argument(msg)
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

/// Reads `T` from a JSON value; an error names the field by its path under `what`
/// (`[workload [w].rate]: invalid type: ...`).
fn typed<T: DeserializeOwned>(v: &Value, what: &str) -> Result<T, EsError> {
    serde_path_to_error::deserialize(v).map_err(|e| {
        let path = e.path().to_string();
        let inner = e.into_inner();
        if path == "." {
            err(format!("[{what}]: {inner}"))
        } else {
            err(format!("[{what}.{path}]: {inner}"))
        }
    })
}

// ---- durations ------------------------------------------------------------------------------------

/// A duration as written: an Elasticsearch time value (`"5m"`) or a number of seconds. It becomes
/// nanoseconds through `crate::time` once the field's name is known ([`DurationValue::nanos`]), so
/// that its errors are Elasticsearch's.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(untagged)]
pub enum DurationValue {
    TimeValue(String),
    Seconds(f64),
}

impl DurationValue {
    /// The duration in nanoseconds; errors name `what`.
    pub fn nanos(&self, what: &str) -> Result<Nanos, EsError> {
        match self {
            DurationValue::TimeValue(s) => parse_duration(s, what).map_err(|e| field_err(what, e)),
            DurationValue::Seconds(secs) => {
                duration_from_seconds(*secs, what).map_err(|e| field_err(what, e))
            }
        }
    }
}

impl<'de> Deserialize<'de> for DurationValue {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl Visitor<'_> for V {
            type Value = DurationValue;
            fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str("a duration such as \"5m\" or a number of seconds")
            }
            fn visit_str<E: de::Error>(self, s: &str) -> Result<DurationValue, E> {
                Ok(DurationValue::TimeValue(s.to_string()))
            }
            fn visit_f64<E: de::Error>(self, x: f64) -> Result<DurationValue, E> {
                Ok(DurationValue::Seconds(x))
            }
            fn visit_i64<E: de::Error>(self, x: i64) -> Result<DurationValue, E> {
                Ok(DurationValue::Seconds(x as f64))
            }
            fn visit_u64<E: de::Error>(self, x: u64) -> Result<DurationValue, E> {
                Ok(DurationValue::Seconds(x as f64))
            }
        }
        d.deserialize_any(V)
    }
}

/// A duration: a time value string or a number of seconds.
pub fn duration(v: &Value, what: &str) -> Result<Nanos, EsError> {
    typed::<DurationValue>(v, what)?.nanos(what)
}

/// One name or a list of names (`node = "node-1"` or `nodes = ["node-1", "node-2"]`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(untagged, expecting = "a name or a list of names")]
pub enum Names {
    One(String),
    Many(Vec<String>),
}

impl Names {
    fn as_slice(&self) -> &[String] {
        match self {
            Names::One(s) => std::slice::from_ref(s),
            Names::Many(v) => v,
        }
    }
}

/// A node by name.
pub fn node(cluster: &Cluster, v: &Value, what: &str) -> Result<NodeIndex, EsError> {
    match v {
        Value::String(s) => node_named(cluster, s, what),
        _ => Err(err(format!("[{what}] must be a node name"))),
    }
}

fn node_named(cluster: &Cluster, name: &str, what: &str) -> Result<NodeIndex, EsError> {
    cluster
        .node_index(name)
        .map_err(|_| err(format!("[{what}]: unknown node [{name}]")))
}

fn nodes_named(cluster: &Cluster, names: &Names, what: &str) -> Result<Vec<NodeIndex>, EsError> {
    names
        .as_slice()
        .iter()
        .map(|n| node_named(cluster, n, what))
        .collect()
}

fn every_node(cluster: &Cluster) -> Vec<NodeIndex> {
    (0..cluster.nodes().len() as NodeIndex).collect()
}

// ---- workloads --------------------------------------------------------------------------------------

/// What a workload's credentials are.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum WorkloadKindName {
    #[default]
    ApiKey,
    ServiceToken,
}

/// Where a service token workload's tokens live.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum TokenSourceName {
    #[default]
    Index,
    File,
}

/// A popularity law by name.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum PopularityName {
    Uniform,
    /// Zipf with exponent 1.
    Zipf,
}

/// A popularity law with parameters: `{zipf = s}`, or `{hotspot = true, fraction, probability}`
/// (`fraction` defaults to 0.1, `probability` to 0.9).
#[derive(Debug, Clone, Copy, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PopularityLaw {
    pub zipf: Option<f64>,
    pub hotspot: Option<bool>,
    pub fraction: Option<f64>,
    pub probability: Option<f64>,
}

/// Which credential a request presents. Untagged: scenario files write a bare name or a table, as
/// they always have.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(
    untagged,
    expecting = "\"uniform\", \"zipf\", {zipf = s} or {hotspot = true, fraction, probability}"
)]
pub enum PopularityDesc {
    Named(PopularityName),
    Law(PopularityLaw),
}

/// A node choice by name.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum NodeChoiceName {
    RoundRobin,
    Random,
    Sticky,
}

/// Which node receives a request: a name, or a weight per node name.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(
    untagged,
    expecting = "round_robin, random, sticky or a table of weights by node name"
)]
pub enum NodeChoiceDesc {
    Named(NodeChoiceName),
    Weighted(IndexMap<String, f64>),
}

/// A workload as scenarios and `Simulation.add_workload` describe it (every field optional).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct WorkloadDesc {
    /// Default `workload`.
    pub name: Option<String>,
    /// Default `api_key`.
    pub kind: Option<WorkloadKindName>,
    /// How many credentials (default 1000); also spelled `keys` or `tokens`.
    #[serde(alias = "keys", alias = "tokens")]
    pub population: Option<u64>,
    /// Requests per virtual second (default 100).
    pub rate: Option<f64>,
    /// Default `uniform`.
    pub popularity: Option<PopularityDesc>,
    /// Default `round_robin`.
    pub node_choice: Option<NodeChoiceDesc>,
    /// Default 0.
    pub wrong_secret_share: Option<f64>,
    /// Default 0: every credential up front.
    pub create_over: Option<DurationValue>,
    /// Default 0.
    pub start: Option<DurationValue>,
    /// Default: never.
    pub stop: Option<DurationValue>,
    /// API keys: the node that creates them (default the first node).
    pub creator_node: Option<String>,
    /// API keys: their expiration, a time value (default none).
    pub expiration: Option<String>,
    /// Service tokens: the service account (default `elastic/fleet-server`).
    pub account: Option<String>,
    /// Service tokens: `index` (default) or `file`.
    pub source: Option<TokenSourceName>,
    /// File tokens: the nodes whose file holds them (default every node).
    pub nodes: Option<Names>,
}

impl PopularityDesc {
    fn resolve(self, what: &str) -> Result<Popularity, EsError> {
        match self {
            PopularityDesc::Named(PopularityName::Uniform) => Ok(Popularity::Uniform),
            PopularityDesc::Named(PopularityName::Zipf) => Ok(Popularity::Zipf { s: 1.0 }),
            PopularityDesc::Law(PopularityLaw { zipf: Some(s), .. }) => Ok(Popularity::Zipf { s }),
            PopularityDesc::Law(l) if l.hotspot.is_some() || l.fraction.is_some() => {
                Ok(Popularity::Hotspot {
                    fraction: l.fraction.unwrap_or(0.1),
                    probability: l.probability.unwrap_or(0.9),
                })
            }
            PopularityDesc::Law(_) => Err(err(format!("[{what}] must be \"uniform\", \"zipf\", {{zipf = s}} or {{hotspot = true, fraction, probability}}"))),
        }
    }
}

impl NodeChoiceDesc {
    fn resolve(self, cluster: &Cluster, what: &str) -> Result<NodeChoice, EsError> {
        Ok(match self {
            NodeChoiceDesc::Named(NodeChoiceName::RoundRobin) => NodeChoice::RoundRobin,
            NodeChoiceDesc::Named(NodeChoiceName::Random) => NodeChoice::Random,
            NodeChoiceDesc::Named(NodeChoiceName::Sticky) => NodeChoice::Sticky,
            NodeChoiceDesc::Weighted(m) => {
                let mut w = vec![0.0; cluster.nodes().len()];
                for (name, weight) in m {
                    let i = node_named(cluster, &name, what)?;
                    w[i as usize] = weight;
                }
                NodeChoice::Weighted(w)
            }
        })
    }
}

impl WorkloadDesc {
    /// The workload, its names resolved against `cluster`.
    pub fn resolve(self, cluster: &Cluster) -> Result<WorkloadSpec, EsError> {
        let name = self.name.unwrap_or_else(|| "workload".to_string());
        let what = format!("workload [{name}]");
        let field = |f: &str| format!("{what}.{f}");
        let kind = match self.kind.unwrap_or_default() {
            WorkloadKindName::ApiKey => WorkloadKind::ApiKey {
                creator_node: match &self.creator_node {
                    Some(n) => node_named(cluster, n, &field("creator_node"))?,
                    None => 0,
                },
                expiration: match &self.expiration {
                    Some(e) => Some({
                        let f = field("expiration");
                        TimeValue::parse(e, &f).map_err(|x| field_err(&f, x))?
                    }),
                    None => None,
                },
            },
            WorkloadKindName::ServiceToken => WorkloadKind::ServiceToken {
                account: self
                    .account
                    .unwrap_or_else(|| "elastic/fleet-server".to_string()),
                source: match self.source.unwrap_or_default() {
                    TokenSourceName::Index => TokenSourceSpec::Index,
                    TokenSourceName::File => TokenSourceSpec::File {
                        nodes: match &self.nodes {
                            Some(n) => nodes_named(cluster, n, &field("nodes"))?,
                            None => every_node(cluster),
                        },
                    },
                },
            },
        };
        let duration = |d: &Option<DurationValue>, f: &str| -> Result<Option<Nanos>, EsError> {
            d.as_ref().map(|d| d.nanos(&field(f))).transpose()
        };
        let start = duration(&self.start, "start")?.unwrap_or(0);
        let stop = duration(&self.stop, "stop")?;
        if stop.is_some_and(|s| s <= start) {
            return Err(err(format!(
                "[{what}.stop] must be later than [{what}.start]"
            )));
        }
        Ok(WorkloadSpec {
            kind,
            population: self.population.unwrap_or(1000) as usize,
            rate: self.rate.unwrap_or(100.0),
            popularity: self
                .popularity
                .map_or(Ok(Popularity::Uniform), |p| p.resolve(&field("popularity")))?,
            node_choice: self.node_choice.map_or(Ok(NodeChoice::RoundRobin), |c| {
                c.resolve(cluster, &field("node_choice"))
            })?,
            wrong_secret_share: self.wrong_secret_share.unwrap_or(0.0),
            create_over: duration(&self.create_over, "create_over")?.unwrap_or(0),
            start,
            stop,
            name,
        })
    }
}

/// A workload from its description.
pub fn workload(cluster: &Cluster, v: &Value) -> Result<WorkloadSpec, EsError> {
    if v.as_object().is_some_and(Map::is_empty) {
        // An empty `[[workloads]]` table is a mistake (fields written under another header), not a
        // request for 1000 API keys at 100/s.
        return Err(err(
            "a workload needs at least a [name] and a [rate]; the description is empty",
        ));
    }
    let name = v.get("name").and_then(Value::as_str).unwrap_or("workload");
    typed::<WorkloadDesc>(v, &format!("workload [{name}]"))?.resolve(cluster)
}

// ---- actions ----------------------------------------------------------------------------------------

/// `rest`: any REST request.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RestDesc {
    /// Default `GET`.
    pub method: Option<String>,
    pub path: String,
    /// A JSON body: text, or a table sent as JSON.
    pub body: Option<Value>,
    /// Default: the first running node.
    pub node: Option<String>,
    /// The `Authorization` header (`Simulation.schedule` defaults it to the `elastic` user's).
    pub authorization: Option<String>,
}

/// Which of a workload's credentials: one of `top`, `random`, `indices`, `all` (none: `top = 1`).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CredentialsDesc {
    pub workload: Option<String>,
    pub top: Option<u64>,
    pub random: Option<u64>,
    pub indices: Option<Vec<u64>>,
    pub all: Option<bool>,
    /// The node that coordinates the request (required).
    pub node: Option<String>,
}

/// `remove_file_tokens`: the credentials of [`CredentialsDesc`], on `nodes` (default every node).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FileTokensDesc {
    pub workload: Option<String>,
    pub top: Option<u64>,
    pub random: Option<u64>,
    pub indices: Option<Vec<u64>>,
    pub all: Option<bool>,
    pub nodes: Option<Names>,
    pub node: Option<Names>,
}

/// `set_service_tokens_file`: a file's content, on `nodes` (default every node).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TokensFileDesc {
    pub nodes: Option<Names>,
    pub node: Option<Names>,
    /// Default empty.
    pub content: Option<String>,
}

/// `clear_cache`: a clear-cache request coordinated by `node` (required).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ClearCacheDesc {
    /// A cache name as `CacheInvalidatorRegistry` knows it (default `api_key`).
    pub cache: Option<String>,
    /// Default: every key.
    pub keys: Option<Names>,
    pub node: Option<String>,
}

/// An action on one node (required).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NodeDesc {
    pub node: Option<String>,
}

/// `drop_clear_cache`: the nodes (required).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NodesDesc {
    pub nodes: Option<Names>,
    pub node: Option<Names>,
}

/// `index_health`: `green`, `yellow` or `red`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct HealthDesc {
    pub health: Option<String>,
}

/// `index_up_to_date`: default `true`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct UpToDateDesc {
    pub value: Option<bool>,
}

/// An action without fields.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NoFields {}

/// An action as scenarios and `Simulation.schedule` describe it, tagged by its `action` field.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(tag = "action", rename_all = "snake_case")]
pub enum ActionDesc {
    Rest(RestDesc),
    InvalidateApiKeys(CredentialsDesc),
    DeleteServiceTokens(CredentialsDesc),
    RemoveFileTokens(FileTokensDesc),
    SetServiceTokensFile(TokensFileDesc),
    ClearCache(ClearCacheDesc),
    StopNode(NodeDesc),
    StartNode(NodeDesc),
    Partition(NodeDesc),
    Heal(NodeDesc),
    DropClearCache(NodesDesc),
    IndexHealth(HealthDesc),
    IndexDelete(NoFields),
    IndexClose(NoFields),
    IndexOpen(NoFields),
    IndexRecreate(NoFields),
    IndexUpToDate(UpToDateDesc),
}

impl ActionDesc {
    /// Every action name, as the `action` field spells it.
    pub const NAMES: [&'static str; 17] = [
        "rest",
        "invalidate_api_keys",
        "delete_service_tokens",
        "remove_file_tokens",
        "set_service_tokens_file",
        "clear_cache",
        "stop_node",
        "start_node",
        "partition",
        "heal",
        "drop_clear_cache",
        "index_health",
        "index_delete",
        "index_close",
        "index_open",
        "index_recreate",
        "index_up_to_date",
    ];

    /// Reads an action: the `action` tag picks the variant, whose fields are then read with their
    /// path (`[action [partition].node]: invalid type: ...`). (serde's derived internally tagged
    /// enums buffer the fields first and lose that path.)
    pub fn from_value(v: &Value) -> Result<ActionDesc, EsError> {
        let m = v
            .as_object()
            .ok_or_else(|| err("an action must be a table/object"))?;
        let kind = match m.get("action") {
            Some(Value::String(s)) => s.as_str(),
            Some(_) => return Err(err("[action] must be a string")),
            None => return Err(err("every action needs an [action] field")),
        };
        let mut fields = m.clone();
        fields.shift_remove("action");
        let fields = Value::Object(fields);
        let what = format!("action [{kind}]");
        let f = &fields;
        Ok(match kind {
            "rest" => ActionDesc::Rest(typed(f, &what)?),
            "invalidate_api_keys" => ActionDesc::InvalidateApiKeys(typed(f, &what)?),
            "delete_service_tokens" => ActionDesc::DeleteServiceTokens(typed(f, &what)?),
            "remove_file_tokens" => ActionDesc::RemoveFileTokens(typed(f, &what)?),
            "set_service_tokens_file" => ActionDesc::SetServiceTokensFile(typed(f, &what)?),
            "clear_cache" => ActionDesc::ClearCache(typed(f, &what)?),
            "stop_node" => ActionDesc::StopNode(typed(f, &what)?),
            "start_node" => ActionDesc::StartNode(typed(f, &what)?),
            "partition" => ActionDesc::Partition(typed(f, &what)?),
            "heal" => ActionDesc::Heal(typed(f, &what)?),
            "drop_clear_cache" => ActionDesc::DropClearCache(typed(f, &what)?),
            "index_health" => ActionDesc::IndexHealth(typed(f, &what)?),
            "index_delete" => ActionDesc::IndexDelete(typed(f, &what)?),
            "index_close" => ActionDesc::IndexClose(typed(f, &what)?),
            "index_open" => ActionDesc::IndexOpen(typed(f, &what)?),
            "index_recreate" => ActionDesc::IndexRecreate(typed(f, &what)?),
            "index_up_to_date" => ActionDesc::IndexUpToDate(typed(f, &what)?),
            other => {
                return Err(err(format!(
                    "unknown action [{other}]; expected one of [{}]",
                    Self::NAMES.join(", ")
                )))
            }
        })
    }

    /// The action, its names resolved against `cluster` and `workloads` (the simulation's workload
    /// names, in order).
    pub fn resolve(self, cluster: &Cluster, workloads: &[String]) -> Result<Action, EsError> {
        let name = self.name();
        let what = format!("action [{name}]");
        // The node an action acts on or through: required, never a silent node-0.
        let required = |n: Option<String>| -> Result<NodeIndex, EsError> {
            match n {
                Some(n) => node_named(cluster, &n, &format!("{what}.node")),
                None => Err(err(format!("[{what}.node] is required: name the node"))),
            }
        };
        let workload = |w: Option<String>| -> Result<usize, EsError> {
            let w = w.ok_or_else(|| err(format!("[{what}] needs a [workload]")))?;
            workloads
                .iter()
                .position(|x| *x == w)
                .ok_or_else(|| err(format!("[{what}]: unknown workload [{w}]")))
        };
        // `nodes` or `node`, not both; `None` when neither is given.
        let given_nodes = |nodes: Option<Names>, node: Option<Names>| match (nodes, node) {
            (Some(_), Some(_)) => Err(err(format!("[{what}] takes [node] or [nodes], not both"))),
            (Some(n), None) | (None, Some(n)) => {
                nodes_named(cluster, &n, &format!("{what}.nodes")).map(Some)
            }
            (None, None) => Ok(None),
        };
        let selection = |top, random, indices: Option<Vec<u64>>, all: Option<bool>| {
            selection(&what, top, random, indices, all)
        };
        Ok(match self {
            ActionDesc::Rest(r) => Action::Rest {
                method: r.method.unwrap_or_else(|| "GET".to_string()),
                path: r.path,
                body: match r.body {
                    None | Some(Value::Null) => None,
                    Some(Value::String(s)) => Some(s),
                    Some(other) => Some(other.to_string()),
                },
                node: r
                    .node
                    .map(|n| node_named(cluster, &n, &format!("{what}.node")))
                    .transpose()?,
                authorization: r.authorization.map(AuthorizationHeader::new),
            },
            ActionDesc::InvalidateApiKeys(c) => Action::InvalidateApiKeys {
                workload: workload(c.workload)?,
                selection: selection(c.top, c.random, c.indices, c.all)?,
                node: required(c.node)?,
            },
            ActionDesc::DeleteServiceTokens(c) => Action::DeleteServiceTokens {
                workload: workload(c.workload)?,
                selection: selection(c.top, c.random, c.indices, c.all)?,
                node: required(c.node)?,
            },
            ActionDesc::RemoveFileTokens(c) => {
                let nodes = given_nodes(c.nodes, c.node)?;
                Action::RemoveFileTokens {
                    workload: workload(c.workload)?,
                    selection: selection(c.top, c.random, c.indices, c.all)?,
                    // Service token files: every node's file unless told otherwise.
                    nodes: nodes.unwrap_or_else(|| every_node(cluster)),
                }
            }
            ActionDesc::SetServiceTokensFile(t) => Action::SetServiceTokensFile {
                nodes: given_nodes(t.nodes, t.node)?.unwrap_or_else(|| every_node(cluster)),
                content: t.content.unwrap_or_default().into_bytes(),
            },
            ActionDesc::ClearCache(c) => {
                let cache = c.cache.unwrap_or_else(|| "api_key".to_string());
                let node = required(c.node)?;
                // The name resolves on the receiving nodes (`CacheInvalidatorRegistry`); refuse
                // one no node knows now, with Elasticsearch's message, rather than at run time.
                cluster
                    .node(node)
                    .map(|x| x.registry.resolve(&cache))
                    .transpose()
                    .map_err(|e| field_err(&format!("{what}.cache"), e.into_reason()))?;
                Action::ClearCache {
                    cache,
                    keys: c.keys.map(|k| k.as_slice().to_vec()).unwrap_or_default(),
                    node,
                }
            }
            ActionDesc::StopNode(n) => Action::StopNode(required(n.node)?),
            ActionDesc::StartNode(n) => Action::StartNode(required(n.node)?),
            ActionDesc::Partition(n) => Action::Partition(required(n.node)?),
            ActionDesc::Heal(n) => Action::Heal(required(n.node)?),
            ActionDesc::DropClearCache(n) => Action::DropClearCache(
                given_nodes(n.nodes, n.node)?
                    .ok_or_else(|| err(format!("[{what}.nodes] is required: name the nodes")))?,
            ),
            ActionDesc::IndexHealth(h) => Action::IndexHealth(
                IndexHealth::parse(h.health.as_deref().unwrap_or(""))
                    .ok_or_else(|| err(format!("[{what}.health] must be green, yellow or red")))?,
            ),
            ActionDesc::IndexDelete(_) => Action::IndexDelete,
            ActionDesc::IndexClose(_) => Action::IndexClose,
            ActionDesc::IndexOpen(_) => Action::IndexOpen,
            ActionDesc::IndexRecreate(_) => Action::IndexRecreate,
            ActionDesc::IndexUpToDate(u) => Action::IndexUpToDate(u.value.unwrap_or(true)),
        })
    }

    /// The action's name, as the `action` field spells it.
    pub fn name(&self) -> &'static str {
        let i = match self {
            ActionDesc::Rest(_) => 0,
            ActionDesc::InvalidateApiKeys(_) => 1,
            ActionDesc::DeleteServiceTokens(_) => 2,
            ActionDesc::RemoveFileTokens(_) => 3,
            ActionDesc::SetServiceTokensFile(_) => 4,
            ActionDesc::ClearCache(_) => 5,
            ActionDesc::StopNode(_) => 6,
            ActionDesc::StartNode(_) => 7,
            ActionDesc::Partition(_) => 8,
            ActionDesc::Heal(_) => 9,
            ActionDesc::DropClearCache(_) => 10,
            ActionDesc::IndexHealth(_) => 11,
            ActionDesc::IndexDelete(_) => 12,
            ActionDesc::IndexClose(_) => 13,
            ActionDesc::IndexOpen(_) => 14,
            ActionDesc::IndexRecreate(_) => 15,
            ActionDesc::IndexUpToDate(_) => 16,
        };
        Self::NAMES[i]
    }
}

/// Which credentials an action targets: exactly one of `top`, `random`, `indices`, `all` (none given:
/// `top = 1`).
fn selection(
    what: &str,
    top: Option<u64>,
    random: Option<u64>,
    indices: Option<Vec<u64>>,
    all: Option<bool>,
) -> Result<Selection, EsError> {
    let given: Vec<&str> = [
        ("top", top.is_some()),
        ("random", random.is_some()),
        ("indices", indices.is_some()),
        ("all", all.is_some()),
    ]
    .into_iter()
    .filter_map(|(k, g)| g.then_some(k))
    .collect();
    if given.len() > 1 {
        return Err(err(format!(
            "[{what}] takes one of [top, random, indices, all], got [{}]",
            given.join(", ")
        )));
    }
    Ok(match (top, random, indices, all) {
        (Some(n), ..) => Selection::Top(n as usize),
        (_, Some(n), ..) => Selection::Random(n as usize),
        (_, _, Some(v), _) => Selection::Indices(v.into_iter().map(|i| i as usize).collect()),
        (_, _, _, Some(true)) => Selection::All,
        (_, _, _, Some(false)) => return Err(err(format!("[{what}.all] must be true"))),
        (None, None, None, None) => Selection::Top(1),
    })
}

/// An action from its description; `workloads` names the simulation's workloads in order.
pub fn action(cluster: &Cluster, workloads: &[String], v: &Value) -> Result<Action, EsError> {
    ActionDesc::from_value(v)?.resolve(cluster, workloads)
}

impl<'de> Deserialize<'de> for ActionDesc {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let v = Value::deserialize(d)?;
        ActionDesc::from_value(&v).map_err(|e| de::Error::custom(e.into_reason()))
    }
}

// ---- cost model -------------------------------------------------------------------------------------

/// The virtual CPU time of one hash verification, by algorithm (durations; defaults in
/// [`CostModel`]).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CostModelDesc {
    pub pbkdf2_per_1000_iterations: Option<DurationValue>,
    pub bcrypt_cost_10: Option<DurationValue>,
    pub ssha256: Option<DurationValue>,
    pub digest: Option<DurationValue>,
}

impl CostModelDesc {
    pub fn resolve(&self) -> Result<CostModel, EsError> {
        let mut c = CostModel::default();
        let fields = [
            (
                &self.pbkdf2_per_1000_iterations,
                "pbkdf2_per_1000_iterations",
                &mut c.pbkdf2_per_1000_iterations,
            ),
            (
                &self.bcrypt_cost_10,
                "bcrypt_cost_10",
                &mut c.bcrypt_cost_10,
            ),
            (&self.ssha256, "ssha256", &mut c.ssha256),
            (&self.digest, "digest", &mut c.digest),
        ];
        for (given, name, slot) in fields {
            if let Some(d) = given {
                *slot = d.nanos(&format!("cost_model.{name}"))?;
            }
        }
        Ok(c)
    }
}

/// A cost model: defaults overridden by `pbkdf2_per_1000_iterations`, `bcrypt_cost_10`, `ssha256`,
/// `digest` (durations).
pub fn cost_model(v: &Value) -> Result<CostModel, EsError> {
    typed::<CostModelDesc>(v, "cost_model")?.resolve()
}
