//! Cluster membership: nodes stopped, started and partitioned, and under the simulator's fault
//! detection (rules CA-PT1 to CA-PT5 in `docs/rules.md`) the requests a partition or a transport
//! hop holds up, a node's removal from the cluster state and its rejoining.
//!
//! The cluster does not keep time for fault detection: the simulator decides when the follower
//! checks have failed (`sim/fault_detection.rs`) and calls [`Cluster::remove_from_cluster_state`],
//! and when a healed node's discovery finds the master again ([`Cluster::rejoin_cluster_state`]).
//! Without the simulator's fault detection a partitioned node stays in the cluster state and a
//! fan-out to it fails at once (`NodeNotConnectedException`), as before issue 16.2.

use super::fanout::{NodeFailure, NodeOperation, NodesResponse};
use super::{Cluster, Node};
use crate::error::{EsError, ExceptionType};
use crate::events::{CacheId, EventKind, NodeIndex};
use crate::security::crypto_pool::CryptoPool;
use crate::time::Nanos;
use rand::RngCore;

/// A node request of a fan-out that waits on a partition (CA-PT2): the transport request was sent
/// and has no timeout; it arrives when the partition heals, or fails when the connection closes.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct HeldNodeRequest {
    /// The fan-out it belongs to ([`FanoutRecord::id`]).
    pub(crate) fanout: u64,
    pub(crate) coordinator: NodeIndex,
    pub(crate) target: NodeIndex,
    pub(crate) operation: NodeOperation,
    /// On its way (CA-TM5), rather than waiting on a partition.
    pub(crate) in_transit: bool,
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
    /// The nodes not answered yet: in transit or waiting on a partition.
    pub(crate) held: Vec<NodeIndex>,
    /// Of `held`, those in transit (CA-TM5): the simulator schedules their arrival.
    pub(crate) in_transit: Vec<NodeIndex>,
}

/// What the cluster keeps of fan-outs for the simulator: whether requests wait on partitions and
/// travel, the requests held, how they ended, and the fan-outs recorded.
#[derive(Debug, Default)]
pub(crate) struct FanoutState {
    /// Whether a request across a partition waits (the simulator's fault detection, CA-PT2) rather
    /// than failing at once.
    pub(crate) hold_partitioned: bool,
    /// Whether a fan-out's requests to other nodes travel (the simulator's `transport_hop`
    /// latency, CA-TM5): they are held in transit until the simulator has them arrive.
    pub(crate) delay_remote: bool,
    /// The node requests held up (CA-PT2, CA-TM5).
    pub(crate) held: Vec<HeldNodeRequest>,
    /// How held requests ended, until the simulator takes them.
    pub(crate) outcomes: Vec<HeldOutcome>,
    /// The fan-outs sent while either model is on, until the simulator takes them.
    pub(crate) records: Vec<FanoutRecord>,
    pub(crate) seq: u64,
}

impl FanoutState {
    /// Whether fan-outs are recorded: with either model on, the simulator reports them.
    pub(crate) fn records(&self) -> bool {
        self.hold_partitioned || self.delay_remote
    }
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
    /// The simulator's models of a fan-out: requests across a partition wait (its fault
    /// detection, CA-PT2) and requests to other nodes travel (its `transport_hop`, CA-TM5). With
    /// either, fan-outs are recorded for the simulation's report.
    pub(crate) fn set_fanout_model(&mut self, hold_partitioned: bool, delay_remote: bool) {
        self.fanout.hold_partitioned = hold_partitioned;
        self.fanout.delay_remote = delay_remote;
    }

    /// The fan-outs recorded since the last call.
    pub(crate) fn take_fanouts(&mut self) -> Vec<FanoutRecord> {
        std::mem::take(&mut self.fanout.records)
    }

    /// Whether node `i` is in the cluster state: running and not removed by fault detection.
    pub fn in_cluster_state(&self, i: NodeIndex) -> bool {
        self.nodes
            .get(i as usize)
            .is_some_and(Node::in_cluster_state)
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
        let (failed, kept): (Vec<_>, Vec<_>) = std::mem::take(&mut self.fanout.held)
            .into_iter()
            .partition(|r| which(r));
        self.fanout.held = kept;
        let now = self.clock.now();
        for r in failed {
            self.events.record(
                now,
                r.target,
                EventKind::NodeUnreachable,
                CacheId::None,
                &r.operation.label(),
                "disconnected",
            );
            let name = &self.nodes[r.target as usize].name;
            let cause = node_disconnected(name, r.target, r.operation.action());
            self.end_held(&r, Err(cause));
        }
    }

    /// CA-PT2: the held requests whose nodes can reach each other again arrive now (the transport
    /// retransmits once the partition heals) and run on their node.
    pub(crate) fn deliver_held(&mut self) {
        let (ready, kept): (Vec<_>, Vec<_>) = std::mem::take(&mut self.fanout.held)
            .into_iter()
            .partition(|r| !r.in_transit && self.reachable(r.coordinator, r.target));
        self.fanout.held = kept;
        for r in ready {
            let result = self.run_node_operation(r.target, &r.operation);
            self.end_held(&r, result);
        }
    }

    /// A held request ended (its node ran it, or it failed): the outcome is kept for the simulator.
    fn end_held(&mut self, r: &HeldNodeRequest, result: Result<(), EsError>) {
        let n = &self.nodes[r.target as usize];
        let result = match result {
            Ok(()) => Ok((n.id.clone(), n.name.clone())),
            Err(cause) => Err(NodeFailure {
                node_id: n.id.clone(),
                cause,
            }),
        };
        self.fanout.outcomes.push(HeldOutcome {
            fanout: r.fanout,
            target: r.target,
            result,
        });
    }

    /// CA-TM5: the request of fan-out `fanout` to `target`, in transit, arrives. It runs if the two
    /// nodes can reach each other; across a partition it waits (with fault detection, CA-PT2) or
    /// fails with `node_not_connected_exception`. A request that already ended is ignored.
    pub(crate) fn arrive(&mut self, fanout: u64, target: NodeIndex) {
        let Some(pos) = self
            .fanout
            .held
            .iter()
            .position(|r| r.in_transit && r.fanout == fanout && r.target == target)
        else {
            return;
        };
        let coordinator = self.fanout.held[pos].coordinator;
        if self.reachable(coordinator, target) {
            let r = self.fanout.held.remove(pos);
            let result = self.run_node_operation(target, &r.operation);
            self.end_held(&r, result);
            return;
        }
        let now = self.clock.now();
        let label = self.fanout.held[pos].operation.label();
        let waits = self.fanout.hold_partitioned;
        // The trace's detail: `waiting` on the partition (CA-PT2), or the action that failed.
        let detail = if waits {
            "waiting"
        } else {
            self.fanout.held[pos].operation.action()
        };
        self.events.record(
            now,
            target,
            EventKind::NodeUnreachable,
            CacheId::None,
            &label,
            detail,
        );
        if waits {
            self.fanout.held[pos].in_transit = false;
            return;
        }
        let r = self.fanout.held.remove(pos);
        let cause = super::fanout::node_not_connected(&self.nodes[target as usize].name, target);
        self.end_held(&r, Err(cause));
    }

    /// How held requests ended since the last call.
    pub(crate) fn take_held_outcomes(&mut self) -> Vec<HeldOutcome> {
        std::mem::take(&mut self.fanout.outcomes)
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

/// Node faults: stopping, starting and partitioning a node.
impl Cluster {
    /// Stops a node: it leaves the cluster; its caches and in-flight verifications are gone.
    pub fn stop_node(&mut self, i: NodeIndex) -> Result<(), EsError> {
        let now = self.clock.now();
        let node = self
            .nodes
            .get_mut(i as usize)
            .ok_or_else(|| EsError::resource_not_found("unknown node"))?;
        if !node.running {
            return Ok(());
        }
        node.running = false;
        node.api_keys.abandon_pending();
        node.crypto_pool.clear();
        let name = node.name.clone();
        self.events
            .record(now, i, EventKind::NodeStopped, CacheId::None, &name, "");
        // Its connections close: every request held on it fails (CA-PT2).
        self.fail_held(|r| r.target == i || r.coordinator == i);
        Ok(())
    }

    /// Starts a stopped node with empty caches.
    pub fn start_node(&mut self, i: NodeIndex) -> Result<(), EsError> {
        let now = self.clock.now();
        let settings = self.settings.clone();
        let node = self
            .nodes
            .get_mut(i as usize)
            .ok_or_else(|| EsError::resource_not_found("unknown node"))?;
        if node.running {
            return Ok(());
        }
        let seed = node.rng.next_u64();
        let (api_keys, service_accounts, registry) =
            Node::build_services(&settings, seed, &node.service_tokens_file)?;
        node.generation += 1;
        node.index_state_seen = self.security_index.state().clone();
        node.api_keys = api_keys;
        node.service_accounts = service_accounts;
        node.stores = crate::security::stores::SecurityStores::new(&settings.stores)?;
        node.registry = registry;
        node.file_changed_at = None;
        node.started_at = now;
        node.crypto_pool =
            CryptoPool::new(settings.crypto_pool.size, settings.crypto_pool.queue_size);
        node.running = true;
        // A started node joins the cluster state afresh.
        node.removed = false;
        let name = node.name.clone();
        self.events
            .record(now, i, EventKind::NodeStarted, CacheId::None, &name, "");
        Ok(())
    }

    pub fn set_partitioned(&mut self, i: NodeIndex, partitioned: bool) -> Result<(), EsError> {
        let now = self.clock.now();
        let node = self
            .nodes
            .get_mut(i as usize)
            .ok_or_else(|| EsError::resource_not_found("unknown node"))?;
        if node.partitioned == partitioned {
            return Ok(());
        }
        node.partitioned = partitioned;
        let name = node.name.clone();
        let kind = if partitioned {
            EventKind::NodePartitioned
        } else {
            EventKind::NodeHealed
        };
        self.events.record(now, i, kind, CacheId::None, &name, "");
        if !partitioned && self.nodes[i as usize].running && !self.nodes[i as usize].removed {
            // Healed: the node catches up with the cluster state it missed (a node fault detection
            // removed catches up when it joins again, CA-PT4).
            self.apply_index_state(i);
        }
        if !partitioned {
            // CA-PT2: the requests the partition held arrive.
            self.deliver_held();
        }
        Ok(())
    }

    /// Whether `to` can be reached from `from` over the transport layer.
    pub(crate) fn reachable(&self, from: NodeIndex, to: NodeIndex) -> bool {
        let (a, b) = (&self.nodes[from as usize], &self.nodes[to as usize]);
        a.running && b.running && (from == to || (!a.partitioned && !b.partitioned))
    }
}
