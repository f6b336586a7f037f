//! The actions of scenarios and `Simulation.schedule`, as serde types: [`ActionDesc`], tagged by its
//! `action` field, and its resolution against the cluster into an [`Action`] (see `spec.rs` for the
//! conventions: errors name the field by its path; nodes and workloads by name).

use super::spec::{err, every_node, field_err, node_named, nodes_named, typed, Names};
use super::{Action, AuthorizationHeader, Selection};
use crate::cluster::Cluster;
use crate::error::EsError;
use crate::events::NodeIndex;
use crate::security::index::IndexHealth;
use serde::de::{self, Deserializer};
use serde::{Deserialize, Serialize};
use serde_json::Value;

/// `rest`: any REST request.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RestDesc {
    /// Default `GET`.
    pub(crate) method: Option<String>,
    pub(crate) path: String,
    /// A JSON body: text, or a table sent as JSON.
    pub(crate) body: Option<Value>,
    /// Default: the first running node.
    pub(crate) node: Option<String>,
    /// The `Authorization` header (`Simulation.schedule` defaults it to the `elastic` user's).
    pub(crate) authorization: Option<String>,
}

/// Which of a workload's credentials: one of `top`, `random`, `indices`, `all` (none: `top = 1`).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CredentialsDesc {
    pub(crate) workload: Option<String>,
    pub(crate) top: Option<u64>,
    pub(crate) random: Option<u64>,
    pub(crate) indices: Option<Vec<u64>>,
    pub(crate) all: Option<bool>,
    /// The node that coordinates the request (required).
    pub(crate) node: Option<String>,
}

/// `remove_file_tokens`: the credentials of [`CredentialsDesc`], on `nodes` (default every node).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FileTokensDesc {
    pub(crate) workload: Option<String>,
    pub(crate) top: Option<u64>,
    pub(crate) random: Option<u64>,
    pub(crate) indices: Option<Vec<u64>>,
    pub(crate) all: Option<bool>,
    pub(crate) nodes: Option<Names>,
    pub(crate) node: Option<Names>,
}

/// `set_service_tokens_file`: a file's content, on `nodes` (default every node).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TokensFileDesc {
    pub(crate) nodes: Option<Names>,
    pub(crate) node: Option<Names>,
    /// Default empty.
    pub(crate) content: Option<String>,
}

/// `clear_cache`: a clear-cache request coordinated by `node` (required).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ClearCacheDesc {
    /// A cache name as `CacheInvalidatorRegistry` knows it (default `api_key`).
    pub(crate) cache: Option<String>,
    /// Default: every key.
    pub(crate) keys: Option<Names>,
    pub(crate) node: Option<String>,
}

/// An action on one node (required).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NodeDesc {
    pub(crate) node: Option<String>,
}

/// `drop_clear_cache`: the nodes (required).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NodesDesc {
    pub(crate) nodes: Option<Names>,
    pub(crate) node: Option<Names>,
}

/// `index_health`: `green`, `yellow` or `red`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct HealthDesc {
    pub(crate) health: Option<String>,
}

/// `index_up_to_date`: default `true`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct UpToDateDesc {
    pub(crate) value: Option<bool>,
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
    pub(crate) fn from_value(v: &Value) -> Result<ActionDesc, EsError> {
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
    pub(crate) fn resolve(
        self,
        cluster: &Cluster,
        workloads: &[String],
    ) -> Result<Action, EsError> {
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
    pub(crate) fn name(&self) -> &'static str {
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
