//! The simulation's record of each clear-cache fan-out, with fault detection or a `transport_hop`
//! latency (CA-PT2, CA-PT5, CA-TM5): when it was sent, which nodes answered at once, which it waited
//! on, and when its response was complete. The coordinator answers once every node has answered or
//! failed, so a fan-out that waits on a partitioned node takes until the partition heals or fault
//! detection removes the node.

use super::report::secs;
use super::simulation::Simulation;
use crate::cluster::membership::FanoutRecord;
use crate::cluster::Cluster;
use crate::time::Nanos;
use serde::{Deserialize, Serialize};

/// One fan-out and how far its response has come: `record.held` are the nodes still waited on,
/// and the response is complete, at `last_answer`, once there are none.
#[derive(Debug, Clone)]
pub(crate) struct Clear {
    pub(crate) record: FanoutRecord,
    /// When the latest answer so far reaches the coordinator (a `transport_hop` after the node ran
    /// the request, CA-TM5).
    pub(crate) last_answer: Nanos,
}

impl Clear {
    /// When the response was complete; `None` while a node is waited on.
    fn answered(&self) -> Option<Nanos> {
        self.record.held.is_empty().then_some(self.last_answer)
    }
}

/// A node's failure in a fan-out's response: the node and the Elasticsearch exception type.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct ClearFailure {
    pub(crate) node: String,
    #[serde(rename = "type")]
    pub(crate) type_: String,
}

/// A node leaving or joining the cluster state under fault detection (`report.cluster_state_changes`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct ClusterStateChange {
    /// Virtual seconds.
    pub(crate) time: f64,
    pub(crate) node: String,
    /// `removed` (CA-PT3) or `joined` (CA-PT4).
    pub(crate) change: String,
}

/// One fan-out in the report (`report.clears`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct ClearReport {
    /// Virtual seconds when the coordinator sent it.
    pub(crate) time: f64,
    /// The transport action (`cluster:admin/xpack/security/cache/clear`, ...).
    pub(crate) action: String,
    /// The cache (or realms, or `roles`) it clears.
    pub(crate) cache: String,
    pub(crate) coordinator: String,
    /// Nodes the response counts (`_nodes.total`): the cluster state's nodes when it was sent.
    pub(crate) nodes: usize,
    pub(crate) successful: usize,
    pub(crate) failures: Vec<ClearFailure>,
    /// Nodes not answered yet when the report was made.
    pub(crate) waiting_on: Vec<String>,
    /// How long the response took; `None` while it waits.
    pub(crate) latency_seconds: Option<f64>,
}

impl Simulation {
    /// Takes the fan-outs the cluster recorded and the ends of held node requests.
    pub(super) fn collect_clears(&mut self, cluster: &mut Cluster) {
        if !cluster.fanout.records() {
            return;
        }
        let now = cluster.now();
        for record in cluster.take_fanouts() {
            // CA-TM5: each request to another node arrives a hop after it was sent.
            for &target in &record.in_transit {
                let hop = self.latency.sample("transport_hop");
                let at = record.time.saturating_add(hop).max(now);
                self.push(
                    at,
                    super::simulation::Ev::TransportArrive {
                        fanout: record.id,
                        target,
                    },
                );
            }
            self.clears.push(Clear {
                last_answer: record.time,
                record,
            });
        }
        for outcome in cluster.take_held_outcomes() {
            // Fan-outs are recorded in the order sent; an outcome is usually for a recent one.
            let Some(i) = self
                .clears
                .iter()
                .rposition(|c| c.record.id == outcome.fanout)
            else {
                continue;
            };
            // The answer travels back a hop; a failure is known where it happens (the coordinator's
            // own connection closed, or its request could not be sent).
            let back = if outcome.result.is_ok() {
                self.latency.sample("transport_hop")
            } else {
                0
            };
            let c = &mut self.clears[i];
            c.record.held.retain(|&n| n != outcome.target);
            match outcome.result {
                Ok(node) => c.record.response.successes.push(node),
                Err(f) => c.record.response.failures.push(f),
            }
            c.last_answer = c.last_answer.max(now.saturating_add(back));
        }
    }

    /// Fault detection's removals and rejoins for the report.
    pub(crate) fn cluster_state_changes(&self, cluster: &Cluster) -> Vec<ClusterStateChange> {
        self.membership_changes
            .iter()
            .map(|&(t, n, joined)| ClusterStateChange {
                time: secs(t),
                node: cluster.node_label(n),
                change: if joined { "joined" } else { "removed" }.to_string(),
            })
            .collect()
    }

    /// The fan-outs for the report.
    pub(crate) fn clear_reports(&self, cluster: &Cluster) -> Vec<ClearReport> {
        let by_id = |id: &str| {
            cluster
                .nodes()
                .iter()
                .find(|n| n.id == id)
                .map_or_else(|| id.to_string(), |n| n.name.clone())
        };
        self.clears
            .iter()
            .map(|c| {
                let r = &c.record;
                ClearReport {
                    time: secs(r.time),
                    action: r.action.to_string(),
                    cache: r.label.clone(),
                    coordinator: cluster.node_label(r.coordinator),
                    nodes: r.response.successes.len() + r.response.failures.len() + r.held.len(),
                    successful: r.response.successes.len(),
                    failures: r
                        .response
                        .failures
                        .iter()
                        .map(|f| ClearFailure {
                            node: by_id(&f.node_id),
                            type_: f.cause.kind.as_str().to_string(),
                        })
                        .collect(),
                    waiting_on: r.held.iter().map(|&n| cluster.node_label(n)).collect(),
                    latency_seconds: c.answered().map(|a| secs(a - r.time)),
                }
            })
            .collect()
    }
}
