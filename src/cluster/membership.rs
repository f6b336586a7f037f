//! Cluster membership under fault detection (rules CA-PT1 to CA-PT5 in `docs/rules.md`): requests a
//! partition holds up, a node's removal from the cluster state and its rejoining.
//!
//! The cluster does not keep time for fault detection: the simulator decides when the follower
//! checks have failed (`sim/fault_detection.rs`) and calls [`Cluster::remove_from_cluster_state`],
//! and when a healed node's discovery finds the master again ([`Cluster::rejoin_cluster_state`]).
//! Without the simulator's fault detection a partitioned node stays in the cluster state and a
//! fan-out to it fails at once (`NodeNotConnectedException`), as before issue 16.2.

use super::fanout::{NodeFailure, NodeOperation, NodesResponse};
use super::Cluster;
use crate::error::{EsError, ExceptionType};
use crate::events::{CacheId, EventKind, NodeIndex};
use crate::time::Nanos;

/// A node request of a fan-out that waits on a partition (CA-PT2): the transport request was sent
/// and has no timeout; it arrives when the partition heals, or fails when the connection closes.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct HeldNodeRequest {
    /// The fan-out it belongs to ([`FanoutRecord::id`]).
    pub(crate) fanout: u64,
    pub(crate) coordinator: NodeIndex,
    pub(crate) target: NodeIndex,
    pub(crate) operation: NodeOperation,
}

/// How a held node request ended.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct HeldOutcome {
    pub(crate) fanout: u64,
    pub(crate) target: NodeIndex,
    /// `(node id, node name)` when the node ran the operation; its failure otherwise.
    pub(crate) result: Result<(String, String), NodeFailure>,
}

/// A fan-out as the coordinator sent it: the nodes that answered at once, and those it waits on.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct FanoutRecord {
    pub(crate) id: u64,
    pub(crate) time: Nanos,
    pub(crate) coordinator: NodeIndex,
    pub(crate) action: &'static str,
    pub(crate) label: String,
    /// The response without the held nodes.
    pub(crate) response: NodesResponse,
    pub(crate) held: Vec<NodeIndex>,
}

/// `NodeDisconnectedException`: the connection to the node closed while the request waited
/// (`TransportService` fails every pending handler of a closed connection).
pub(crate) fn node_disconnected(name: &str, index: NodeIndex, action: &str) -> EsError {
    EsError::new(
        ExceptionType::NodeDisconnected,
        format!(
            "[{name}][127.0.0.1:{}][{action}[n]] disconnected",
            9300 + u32::from(index)
        ),
        500,
    )
}

impl Cluster {
    /// Turns on the simulator's fault detection: requests across a partition wait (CA-PT2) and
    /// fan-outs are recorded for the simulation's report.
    pub(crate) fn set_fault_detection(&mut self, on: bool) {
        self.hold_partitioned = on;
    }

    /// Has the cluster record each fan-out in [`Cluster::fanouts`] (the simulator drains it).
    pub(crate) fn set_record_fanouts(&mut self, on: bool) {
        self.record_fanouts = on;
    }

    /// The fan-outs recorded since the last call.
    pub(crate) fn take_fanouts(&mut self) -> Vec<FanoutRecord> {
        std::mem::take(&mut self.fanouts)
    }

    /// Whether node `i` is in the cluster state: running and not removed by fault detection.
    pub fn in_cluster_state(&self, i: NodeIndex) -> bool {
        self.nodes
            .get(i as usize)
            .is_some_and(|n| n.running() && !n.removed)
    }

    /// CA-PT3: the master removes node `i` from the cluster state for `reason` (`NodeLeftExecutor`'s
    /// reason, from `FollowersChecker`). Every
    /// node closes its connections to it, so each request held on it, either way, fails with
    /// `NodeDisconnectedException` ([`Cluster::take_held_outcomes`]).
    pub(crate) fn remove_from_cluster_state(&mut self, i: NodeIndex, reason: &str) {
        let Some(node) = self.nodes.get_mut(i as usize) else {
            return;
        };
        if node.removed || !node.running() {
            return;
        }
        node.removed = true;
        let name = node.name.clone();
        let now = self.clock.now();
        self.events
            .record(now, i, EventKind::NodeRemoved, CacheId::None, &name, reason);
        self.fail_held(|r| r.target == i || r.coordinator == i);
    }

    /// Fails the held requests `which` selects: the connection between their nodes closed.
    pub(crate) fn fail_held(&mut self, which: impl Fn(&HeldNodeRequest) -> bool) {
        let (failed, kept): (Vec<_>, Vec<_>) = std::mem::take(&mut self.held)
            .into_iter()
            .partition(|r| which(r));
        self.held = kept;
        let now = self.clock.now();
        for r in failed {
            let n = &self.nodes[r.target as usize];
            let (id, name) = (n.id.clone(), n.name.clone());
            self.events.record(
                now,
                r.target,
                EventKind::NodeUnreachable,
                CacheId::None,
                &r.operation.label(),
                "disconnected",
            );
            self.held_outcomes.push(HeldOutcome {
                fanout: r.fanout,
                target: r.target,
                result: Err(NodeFailure {
                    node_id: id,
                    cause: node_disconnected(&name, r.target, r.operation.action()),
                }),
            });
        }
    }

    /// CA-PT2: the held requests whose nodes can reach each other again arrive now (the transport
    /// retransmits once the partition heals) and run on their node.
    pub(crate) fn deliver_held(&mut self) {
        let (ready, kept): (Vec<_>, Vec<_>) = std::mem::take(&mut self.held)
            .into_iter()
            .partition(|r| self.reachable(r.coordinator, r.target));
        self.held = kept;
        for r in ready {
            let n = &self.nodes[r.target as usize];
            let (id, name) = (n.id.clone(), n.name.clone());
            let result = match self.run_node_operation(r.target, &r.operation) {
                Ok(()) => Ok((id, name)),
                Err(cause) => Err(NodeFailure { node_id: id, cause }),
            };
            self.held_outcomes.push(HeldOutcome {
                fanout: r.fanout,
                target: r.target,
                result,
            });
        }
    }

    /// How held requests ended since the last call.
    pub(crate) fn take_held_outcomes(&mut self) -> Vec<HeldOutcome> {
        std::mem::take(&mut self.held_outcomes)
    }

    /// CA-PT4: node `i`, healed, joins the cluster again and applies the cluster state it missed:
    /// the security index changes it did not see clear its caches as R4.1 says, and nothing else
    /// does (no clear-cache broadcast is replayed).
    pub(crate) fn rejoin_cluster_state(&mut self, i: NodeIndex) {
        let Some(node) = self.nodes.get_mut(i as usize) else {
            return;
        };
        if !node.removed || node.partitioned || !node.running() {
            return;
        }
        node.removed = false;
        let name = node.name.clone();
        let now = self.clock.now();
        self.events
            .record(now, i, EventKind::NodeJoined, CacheId::None, &name, "");
        self.apply_index_state(i);
    }
}
