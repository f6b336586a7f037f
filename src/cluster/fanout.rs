//! The node fan-out of `ClearSecurityCacheAction` (`cluster:admin/xpack/security/cache/clear`):
//! `SEC/action/TransportClearSecurityCacheAction.java` on every node, and the response of
//! `ClearSecurityCacheResponse` / `RestActions.nodesResponse` (R5.2-R5.5).

use super::Cluster;
use crate::error::{EsError, ExceptionType};
use crate::events::{CacheId, EventKind, NodeIndex};
use serde_json::{json, Map, Value};

/// One node that did not answer or failed.
#[derive(Debug, Clone, PartialEq)]
pub struct NodeFailure {
    pub node_id: String,
    pub cause: EsError,
}

impl NodeFailure {
    /// `FailedNodeException(nodeId, "Failed node [<id>]", cause)`.
    pub(crate) fn to_error(&self) -> EsError {
        EsError::new(
            ExceptionType::FailedNode,
            format!("Failed node [{}]", self.node_id),
            500,
        )
        .with_metadata("node_id", self.node_id.clone())
        .with_cause(self.cause.clone())
    }
}

/// A nodes response: the nodes that ran the action and those that failed.
#[derive(Debug, Clone, PartialEq)]
pub struct NodesResponse {
    pub(crate) cluster_name: String,
    /// (node id, node name) of the nodes that succeeded, in node order.
    pub successes: Vec<(String, String)>,
    pub failures: Vec<NodeFailure>,
}

impl NodesResponse {
    /// R5.5: `_nodes` (with `failures` only when there are some), `cluster_name`, `nodes`.
    pub fn to_json(&self) -> Value {
        let mut header = Map::new();
        header.insert(
            "total".into(),
            json!(self.successes.len() + self.failures.len()),
        );
        header.insert("successful".into(), json!(self.successes.len()));
        header.insert("failed".into(), json!(self.failures.len()));
        if !self.failures.is_empty() {
            let failures: Vec<Value> = self
                .failures
                .iter()
                .map(|f| f.to_error().to_xcontent(true))
                .collect();
            header.insert("failures".into(), Value::Array(failures));
        }
        let mut nodes = Map::new();
        for (id, name) in &self.successes {
            nodes.insert(id.clone(), json!({ "name": name }));
        }
        json!({
            "_nodes": Value::Object(header),
            "cluster_name": self.cluster_name,
            "nodes": Value::Object(nodes),
        })
    }
}

/// `[<name>][<address>] Node not connected`.
pub(crate) fn node_not_connected(name: &str, index: NodeIndex) -> EsError {
    EsError::new(
        ExceptionType::NodeNotConnected,
        format!(
            "[{name}][127.0.0.1:{}] Node not connected",
            9300 + u32::from(index)
        ),
        500,
    )
}

/// What a nodes action runs on each node, kept as data so that a request a partition holds up can
/// run when it finally arrives (CA-PT2).
#[derive(Debug, Clone, PartialEq)]
// The variants are Elasticsearch's three clear actions, named as it names them.
#[allow(clippy::enum_variant_names)]
pub(crate) enum NodeOperation {
    /// `ClearSecurityCacheRequest(cacheName, keys)`; empty `keys` clears the whole cache (R5.3).
    ClearSecurityCache {
        cache_name: String,
        keys: Vec<String>,
    },
    /// CA-RC6: the named realms (all when empty) expire `usernames` (everything when empty).
    ClearRealmCache {
        realms: Vec<String>,
        usernames: Vec<String>,
    },
    /// CA-RL5: the named roles (all when empty).
    ClearRolesCache { names: Vec<String> },
}

fn joined_or_all(items: &[String]) -> String {
    if items.is_empty() {
        "*".to_string()
    } else {
        items.join(",")
    }
}

impl NodeOperation {
    /// The transport action's name.
    pub(crate) fn action(&self) -> &'static str {
        match self {
            NodeOperation::ClearSecurityCache { .. } => {
                crate::security::authz::CLEAR_SECURITY_CACHE
            }
            NodeOperation::ClearRealmCache { .. } => crate::security::authz::CLEAR_REALM_CACHE,
            NodeOperation::ClearRolesCache { .. } => crate::security::authz::CLEAR_ROLES_CACHE,
        }
    }

    /// What the trace names the request by: the cache, the realms, or `roles`.
    pub(crate) fn label(&self) -> String {
        match self {
            NodeOperation::ClearSecurityCache { cache_name, .. } => cache_name.clone(),
            NodeOperation::ClearRealmCache { realms, .. } => joined_or_all(realms),
            NodeOperation::ClearRolesCache { .. } => "roles".to_string(),
        }
    }

    /// The keys cleared, `None` for everything (for `cluster.requests`).
    fn cleared_keys(&self) -> Option<&[String]> {
        let keys = match self {
            NodeOperation::ClearSecurityCache { keys, .. } => keys,
            NodeOperation::ClearRealmCache { usernames, .. } => usernames,
            NodeOperation::ClearRolesCache { names } => names,
        };
        (!keys.is_empty()).then_some(keys.as_slice())
    }

    /// Runs on one node; answers the caches it cleared.
    fn run(
        &self,
        node: &mut super::Node,
        ctx: &mut crate::security::Ctx<'_>,
    ) -> Result<Vec<CacheId>, EsError> {
        match self {
            NodeOperation::ClearSecurityCache { cache_name, keys } => {
                let invalidators = node.registry.resolve(cache_name)?;
                ctx.record(
                    EventKind::ClearCache,
                    CacheId::None,
                    cache_name,
                    &joined_or_all(keys),
                );
                let cleared = self.cleared_keys();
                let mut caches = Vec::new();
                for inv in invalidators {
                    Cluster::run_invalidator(node, inv, cleared, ctx);
                    caches
                        .extend_from_slice(super::requests::caches_cleared(inv, cleared.is_none()));
                }
                Ok(caches)
            }
            NodeOperation::ClearRealmCache { realms, usernames } => {
                if let Some(missing) = realms.iter().find(|r| node.stores.realm_mut(r).is_none()) {
                    return Err(EsError::illegal_argument(format!(
                        "could not find active realm [{missing}]"
                    )));
                }
                ctx.record(
                    EventKind::ClearCache,
                    CacheId::None,
                    "realm",
                    &joined_or_all(usernames),
                );
                let mut cleared = Vec::new();
                if realms.is_empty() {
                    for realm in node.stores.realms_mut() {
                        realm.expire(usernames, ctx);
                        cleared.push(realm.cache_id());
                    }
                } else {
                    for r in realms {
                        if let Some(realm) = node.stores.realm_mut(r) {
                            realm.expire(usernames, ctx);
                            cleared.push(realm.cache_id());
                        }
                    }
                }
                Ok(cleared)
            }
            NodeOperation::ClearRolesCache { names } => {
                ctx.record(
                    EventKind::ClearCache,
                    CacheId::None,
                    "roles",
                    &joined_or_all(names),
                );
                node.stores.roles.invalidate(names, ctx);
                // CA-RL3: a named role also leaves the negative lookup cache; all empties both.
                Ok(vec![CacheId::Roles, CacheId::RolesNegativeLookup])
            }
        }
    }
}

impl Cluster {
    /// Sends `ClearSecurityCacheRequest(cacheName, keys)` to every node of the cluster from
    /// `coordinator`. Empty `keys` clears the whole cache (R5.3). An unknown cache name fails on each
    /// node (`No cache named [...] is found`) inside a successful response; unreachable nodes are
    /// failures too. Stopped nodes are not in the cluster and are not counted.
    pub fn clear_security_cache(
        &mut self,
        coordinator: NodeIndex,
        cache_name: &str,
        keys: &[String],
    ) -> NodesResponse {
        self.nodes_action(
            coordinator,
            NodeOperation::ClearSecurityCache {
                cache_name: cache_name.to_string(),
                keys: keys.to_vec(),
            },
        )
    }

    /// A `TransportNodesAction` from `coordinator`: runs `operation` on every node of the cluster
    /// state it can reach and gathers the nodes response. With `delay_remote` (the
    /// simulator's `transport_hop` latency, CA-TM5), the requests to other nodes are held in transit
    /// instead, and run when the simulator has them arrive. Unreachable nodes, a dropped broadcast
    /// (the `drop_clear_cache` fault, for `ClearSecurityCacheAction`) and a failing node operation
    /// are failures of the response, never of the request. Nodes fault detection removed from the
    /// cluster state are not sent to and not counted (CA-PT3). With `hold_partitioned`
    /// (the simulator's fault detection), a request across a partition is not failed at once: it
    /// waits, and is held in the held requests until the partition heals or the node is removed
    /// (CA-PT2); the response returned leaves it out and the fan-out is recorded in
    /// the fan-out records.
    pub(crate) fn nodes_action(
        &mut self,
        coordinator: NodeIndex,
        operation: NodeOperation,
    ) -> NodesResponse {
        let action = operation.action();
        let label = operation.label();
        let mut resp = NodesResponse {
            cluster_name: self.name.clone(),
            successes: Vec::new(),
            failures: Vec::new(),
        };
        let fanout = self.fanout.seq;
        self.fanout.seq += 1;
        let mut held = Vec::new();
        let mut in_transit = Vec::new();
        for i in 0..self.nodes.len() {
            let idx = i as NodeIndex;
            if !self.nodes[i].running || (self.nodes[i].removed && idx != coordinator) {
                continue;
            }
            let (id, name) = (self.nodes[i].id.clone(), self.nodes[i].name.clone());
            let now = self.clock.now();
            if !self.reachable(coordinator, idx) {
                let waits =
                    self.fanout.hold_partitioned && self.nodes[coordinator as usize].running;
                self.events.record(
                    now,
                    idx,
                    EventKind::NodeUnreachable,
                    CacheId::None,
                    &label,
                    if waits { "waiting" } else { action },
                );
                if waits {
                    held.push(idx);
                    self.fanout.held.push(super::membership::HeldNodeRequest {
                        fanout,
                        coordinator,
                        target: idx,
                        operation: operation.clone(),
                        in_transit: false,
                    });
                } else {
                    resp.failures.push(NodeFailure {
                        node_id: id,
                        cause: node_not_connected(&name, idx),
                    });
                }
                continue;
            }
            // The `drop_clear_cache` fault drops `ClearSecurityCacheAction` broadcasts only.
            let droppable = action == crate::security::authz::CLEAR_SECURITY_CACHE;
            if let Some(pos) = self
                .drop_clear_cache_to
                .iter()
                .position(|&d| droppable && d == idx)
            {
                // A fault: the request never arrives; the coordinator times out waiting for it.
                self.drop_clear_cache_to.remove(pos);
                self.events.record(
                    now,
                    idx,
                    EventKind::NodeUnreachable,
                    CacheId::None,
                    &label,
                    "dropped",
                );
                resp.failures.push(NodeFailure {
                    node_id: id,
                    cause: EsError::new(
                        ExceptionType::ReceiveTimeoutTransport,
                        format!("[{name}][127.0.0.1:{}][{action}[n]] request_id [0] timed out after [0ms]", 9300 + i),
                        500,
                    ),
                });
                continue;
            }
            if self.fanout.delay_remote && idx != coordinator {
                // CA-TM5: the request travels; the simulator has it arrive a hop later.
                held.push(idx);
                in_transit.push(idx);
                self.fanout.held.push(super::membership::HeldNodeRequest {
                    fanout,
                    coordinator,
                    target: idx,
                    operation: operation.clone(),
                    in_transit: true,
                });
                continue;
            }
            match self.run_node_operation(idx, &operation) {
                Err(e) => resp.failures.push(NodeFailure {
                    node_id: id,
                    cause: e,
                }),
                Ok(()) => resp.successes.push((id, name)),
            }
        }
        if self.fanout.records() {
            self.fanout.records.push(super::membership::FanoutRecord {
                id: fanout,
                time: self.clock.now(),
                coordinator,
                action,
                label,
                response: resp.clone(),
                held,
                in_transit,
            });
        }
        resp
    }

    /// Runs `operation` on node `idx` and notes what it cleared.
    pub(crate) fn run_node_operation(
        &mut self,
        idx: NodeIndex,
        operation: &NodeOperation,
    ) -> Result<(), EsError> {
        let caches = self.with_node(idx, |node, _, ctx| operation.run(node, ctx))?;
        self.requests
            .note_cleared(idx, &caches, operation.cleared_keys());
        Ok(())
    }
}
