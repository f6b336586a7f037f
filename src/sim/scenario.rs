//! A scenario file: the cluster, its settings, the simulation, its workloads and its scheduled
//! actions, as one serde type. Read from TOML text (the `toml` crate) or a JSON value (a dict handed
//! over from Python); every error names its table and field by serde's path
//! (`workloads[1].rate: invalid type: string "x", expected f64`). `docs/scenarios.md` documents the
//! format; a test checks that it names every field of these types.

use super::spec::{err, ActionDesc, CostModelDesc, DurationValue, WorkloadDesc};
use crate::error::EsError;
use indexmap::IndexMap;
use serde::de::{self, DeserializeOwned, Deserializer};
use serde::{Deserialize, Serialize};
use serde_json::Value;

/// The cluster's nodes: how many (named `node-0`, `node-1`, ...) or their names.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(untagged, expecting = "a positive number or a list of node names")]
pub(crate) enum ClusterNodes {
    Count(u64),
    Names(Vec<String>),
}

/// `[cluster]`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ClusterDesc {
    /// Default 3.
    pub(crate) nodes: Option<ClusterNodes>,
    /// The cluster name (default `escache`).
    pub(crate) name: Option<String>,
    /// The cluster's seed (default the simulation's seed).
    pub(crate) seed: Option<u64>,
    /// The `elastic` user's password (default `changeme`).
    pub(crate) password: Option<String>,
    /// Whether the cluster records its event trace (default true).
    pub(crate) trace: Option<bool>,
    /// The Elasticsearch version profile (default the newest).
    pub(crate) es_version: Option<crate::security::version::EsVersion>,
}

/// `[simulation]`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SimulationDesc {
    /// The simulation's seed (default the cluster's seed, else 0).
    pub(crate) seed: Option<u64>,
    /// How long `escache run` runs (default `10m`).
    pub(crate) duration: Option<DurationValue>,
    /// How often the timeline samples every node (default `10s`).
    pub(crate) sample_interval: Option<DurationValue>,
    /// The virtual CPU time of hash verifications.
    pub(crate) cost_model: Option<CostModelDesc>,
    /// `[simulation.latency]`: operation name → latency distribution (CA-TM1; default none).
    pub(crate) latency: Option<super::latency::LatencyDesc>,
    /// What-if: `false` turns off the doc cache's invalidation counter check (CA-TM3; default true).
    pub(crate) doc_cache_counter: Option<bool>,
    /// `[simulation.fault_detection]`: follower checks, removal and rejoin (CA-PT1; default off).
    pub(crate) fault_detection: Option<super::fault_detection::FaultDetectionDesc>,
}

/// `[[actions]]`: an action and when it runs.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub(crate) struct ScheduledActionDesc {
    /// When, counted from the start (default 0).
    pub(crate) at: Option<DurationValue>,
    /// Then again every this long (default: once).
    pub(crate) every: Option<DurationValue>,
    #[serde(flatten)]
    pub(crate) action: ActionDesc,
}

impl<'de> Deserialize<'de> for ScheduledActionDesc {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let Value::Object(mut m) = Value::deserialize(d)? else {
            return Err(de::Error::custom("an action must be a table"));
        };
        let mut time = |key: &str| -> Result<Option<DurationValue>, D::Error> {
            m.shift_remove(key)
                .map(|v| {
                    DurationValue::deserialize(v)
                        .map_err(|e| de::Error::custom(format!("[{key}]: {e}")))
                })
                .transpose()
        };
        let (at, every) = (time("at")?, time("every")?);
        let action = ActionDesc::from_value(&Value::Object(m))
            .map_err(|e| de::Error::custom(e.into_reason()))?;
        Ok(ScheduledActionDesc { at, every, action })
    }
}

/// A whole scenario.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Scenario {
    /// Free text, shown by `escache run`.
    pub(crate) name: Option<String>,
    /// Free text, shown by `escache run`.
    pub(crate) description: Option<String>,
    #[serde(default)]
    pub(crate) cluster: ClusterDesc,
    /// Elasticsearch setting names and their values (`Cluster(settings=...)`).
    #[serde(default)]
    pub(crate) settings: IndexMap<String, Value>,
    #[serde(default)]
    pub(crate) simulation: SimulationDesc,
    #[serde(default)]
    pub workloads: Vec<WorkloadDesc>,
    #[serde(default)]
    pub(crate) actions: Vec<ScheduledActionDesc>,
    /// `[short]`: the scenario's CI form (`escache run NAME --short`), a partial scenario laid over
    /// this one by the Python loader (`escache.simulation`), which then reads the result again
    /// through these types; kept here as written.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) short: Option<Value>,
}

/// Reads `T` from `v`; an error is prefixed with the path of the field it is about.
fn with_path<T: DeserializeOwned>(v: &Value) -> Result<T, EsError> {
    serde_path_to_error::deserialize(v).map_err(|e| {
        let path = e.path().to_string();
        let inner = e.into_inner();
        if path == "." {
            err(inner.to_string())
        } else {
            err(format!("{path}: {inner}"))
        }
    })
}

impl Scenario {
    /// A scenario from TOML text, with the document as read (the tables as written, for the
    /// Python loader that builds the cluster from them).
    pub fn from_toml(text: &str) -> Result<(Scenario, Value), EsError> {
        // One line: the parser's message and where, not its multi-line snippet.
        let toml_err = |e: &toml::de::Error| {
            let at = e.span().map_or(String::new(), |s| {
                let before = text.get(..s.start).unwrap_or("");
                let line = before.matches('\n').count() + 1;
                let column = before.rsplit('\n').next().unwrap_or("").chars().count() + 1;
                format!(" at line {line}, column {column}")
            });
            err(format!(
                "invalid scenario file: {}{at}",
                e.message().trim_end()
            ))
        };
        // Read into the types straight from the TOML deserializer, so that a value no JSON number
        // holds (an integer past 64 bits) is refused naming its field.
        let de = toml::Deserializer::parse(text).map_err(|e| toml_err(&e))?;
        let s: Scenario = serde_path_to_error::deserialize(de).map_err(|e| {
            let path = e.path().to_string();
            let inner = e.into_inner();
            if path == "." {
                toml_err(&inner)
            } else {
                err(format!("{path}: {}", inner.message().trim_end()))
            }
        })?;
        let doc: Value = toml::from_str(text).map_err(|e| toml_err(&e))?;
        Ok((Scenario::checked(s)?, doc))
    }

    /// A scenario from JSON text (a dict handed over from Python), with the document as read.
    pub fn from_json(text: &str) -> Result<(Scenario, Value), EsError> {
        let doc: Value =
            serde_json::from_str(text).map_err(|e| err(format!("invalid scenario: {e}")))?;
        Ok((Scenario::from_value(&doc)?, doc))
    }

    /// A scenario from a JSON value (a dict handed over from Python).
    pub fn from_value(doc: &Value) -> Result<Scenario, EsError> {
        Scenario::checked(with_path(doc)?)
    }

    /// What the types alone do not say: at least one node; no empty workload table.
    fn checked(s: Scenario) -> Result<Scenario, EsError> {
        match &s.cluster.nodes {
            Some(ClusterNodes::Count(0)) => {
                return Err(err("cluster.nodes: must be at least 1, got [0]"))
            }
            Some(ClusterNodes::Names(n)) if n.is_empty() => {
                return Err(err("cluster.nodes: the list of node names is empty"))
            }
            _ => {}
        }
        if let Some(i) = s
            .workloads
            .iter()
            .position(|w| *w == WorkloadDesc::default())
        {
            // An empty `[[workloads]]` table is a mistake (fields written under another header),
            // not a request for 1000 API keys at 100/s.
            return Err(err(format!(
                "[workloads[{i}]] is empty: a workload needs at least a [name] and a [rate]"
            )));
        }
        Ok(s)
    }
}
