//! Workloads and cost models (actions: `action_spec.rs`; whole scenarios: `scenario.rs`):
//! escache's own description formats, as serde types (`deny_unknown_fields`), read from JSON values
//! (what the Python API hands over) or TOML text (scenario files). A description that does not fit
//! its type is refused naming its table and field (serde's path, `workloads[1].rate: invalid type:
//! ...`); then the names it holds (nodes, workloads, caches) resolve against the cluster, and
//! durations go through Elasticsearch's time-value parser (`crate::time`), keeping Elasticsearch's
//! messages. Nodes are named; durations are Elasticsearch time values (`"5m"`) or seconds.

pub use super::action_spec::{
    action, ActionDesc, ClearCacheDesc, CredentialsDesc, FileTokensDesc, HealthDesc, NodeDesc,
    NodesDesc, RestDesc, TokensFileDesc, UpToDateDesc,
};
use super::cost::CostModel;
use super::{NodeChoice, Popularity, TokenSourceSpec, WorkloadKind, WorkloadSpec};
use crate::cluster::Cluster;
use crate::error::EsError;
use crate::events::NodeIndex;
use crate::time::{duration_from_seconds, parse_duration, Nanos, TimeValue};
use indexmap::IndexMap;
use serde::de::{self, DeserializeOwned, Deserializer, Visitor};
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

pub(super) fn err(msg: impl Into<String>) -> EsError {
    EsError::illegal_argument(msg)
}

/// An error about a field: `[what]: message`, unless the message already names the field (as
/// Elasticsearch's `failed to parse setting [what] ...` does).
pub(super) fn field_err(what: &str, e: impl std::fmt::Display) -> EsError {
    let msg = e.to_string();
    if msg.contains(&format!("[{what}]")) {
        err(msg)
    } else {
        err(format!("[{what}]: {msg}"))
    }
}

/// Reads `T` from a JSON value; an error names the field by its path under `what`
/// (`[workload [w].rate]: invalid type: ...`).
pub(super) fn typed<T: DeserializeOwned>(v: &Value, what: &str) -> Result<T, EsError> {
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
pub(crate) enum DurationValue {
    TimeValue(String),
    Seconds(f64),
}

impl DurationValue {
    /// The duration in nanoseconds; errors name `what`.
    pub(crate) fn nanos(&self, what: &str) -> Result<Nanos, EsError> {
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
pub(crate) enum Names {
    One(String),
    Many(Vec<String>),
}

impl Names {
    pub(super) fn as_slice(&self) -> &[String] {
        match self {
            Names::One(s) => std::slice::from_ref(s),
            Names::Many(v) => v,
        }
    }
}

pub(super) fn node_named(cluster: &Cluster, name: &str, what: &str) -> Result<NodeIndex, EsError> {
    cluster
        .node_index(name)
        .map_err(|_| err(format!("[{what}]: unknown node [{name}]")))
}

pub(super) fn nodes_named(
    cluster: &Cluster,
    names: &Names,
    what: &str,
) -> Result<Vec<NodeIndex>, EsError> {
    names
        .as_slice()
        .iter()
        .map(|n| node_named(cluster, n, what))
        .collect()
}

pub(super) fn every_node(cluster: &Cluster) -> Vec<NodeIndex> {
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
    pub(crate) zipf: Option<f64>,
    pub(crate) hotspot: Option<bool>,
    pub(crate) fraction: Option<f64>,
    pub(crate) probability: Option<f64>,
}

/// Which credential a request presents. Untagged: scenario files write a bare name or a table, as
/// they always have.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(
    untagged,
    expecting = "\"uniform\", \"zipf\", {zipf = s} or {hotspot = true, fraction, probability}"
)]
pub(crate) enum PopularityDesc {
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
pub(crate) enum NodeChoiceDesc {
    Named(NodeChoiceName),
    Weighted(IndexMap<String, f64>),
}

/// A workload as scenarios and `Simulation.add_workload` describe it (every field optional).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct WorkloadDesc {
    /// Default `workload`.
    pub(crate) name: Option<String>,
    /// Default `api_key`.
    pub(crate) kind: Option<WorkloadKindName>,
    /// How many credentials (default 1000); also spelled `keys` or `tokens`.
    #[serde(alias = "keys", alias = "tokens")]
    pub(crate) population: Option<u64>,
    /// Requests per virtual second (default 100).
    pub rate: Option<f64>,
    /// Default `uniform`.
    pub(crate) popularity: Option<PopularityDesc>,
    /// Default `round_robin`.
    pub(crate) node_choice: Option<NodeChoiceDesc>,
    /// Default 0.
    pub(crate) wrong_secret_share: Option<f64>,
    /// Default 0: every credential up front.
    pub(crate) create_over: Option<DurationValue>,
    /// Default 0.
    pub(crate) start: Option<DurationValue>,
    /// Default: never.
    pub(crate) stop: Option<DurationValue>,
    /// API keys: the node that creates them (default the first node).
    pub(crate) creator_node: Option<String>,
    /// API keys: their expiration, a time value (default none).
    pub(crate) expiration: Option<String>,
    /// Service tokens: the service account (default `elastic/fleet-server`).
    pub(crate) account: Option<String>,
    /// Service tokens: `index` (default) or `file`.
    pub(crate) source: Option<TokenSourceName>,
    /// File tokens: the nodes whose file holds them (default every node).
    pub(crate) nodes: Option<Names>,
    /// The client model (issue 16.3): a preset name or a table (default `none`).
    pub(crate) client: Option<super::client::ClientDesc>,
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
    pub(crate) fn resolve(self, cluster: &Cluster) -> Result<WorkloadSpec, EsError> {
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
            client: match &self.client {
                Some(c) => c.resolve(cluster.nodes().len(), &field("client"))?,
                None => None,
            },
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

// ---- cost model -------------------------------------------------------------------------------------

/// The virtual CPU time of one hash verification, by algorithm (durations; defaults in
/// [`CostModel`]).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CostModelDesc {
    pub(crate) pbkdf2_per_1000_iterations: Option<DurationValue>,
    pub(crate) bcrypt_cost_10: Option<DurationValue>,
    pub(crate) ssha256: Option<DurationValue>,
    pub(crate) digest: Option<DurationValue>,
}

impl CostModelDesc {
    pub(crate) fn resolve(&self) -> Result<CostModel, EsError> {
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
