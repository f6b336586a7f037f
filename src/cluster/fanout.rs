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
        let detail = if keys.is_empty() {
            "*".to_string()
        } else {
            keys.join(",")
        };
        let cleared = if keys.is_empty() { None } else { Some(keys) };
        self.nodes_action(
            coordinator,
            crate::security::authz::CLEAR_SECURITY_CACHE,
            cache_name,
            cleared,
            |node, ctx| {
                let invalidators = node.registry.resolve(cache_name)?;
                ctx.record(EventKind::ClearCache, CacheId::None, cache_name, &detail);
                let mut caches = Vec::new();
                for inv in invalidators {
                    Cluster::run_invalidator(node, inv, cleared, ctx);
                    caches
                        .extend_from_slice(super::requests::caches_cleared(inv, cleared.is_none()));
                }
                Ok(caches)
            },
        )
    }

    /// A `TransportNodesAction` from `coordinator`: runs `node_operation` on every running node it
    /// can reach and gathers the nodes response. `label` names the request in the trace. Unreachable
    /// nodes, a dropped broadcast (the `drop_clear_cache` fault, for `ClearSecurityCacheAction`) and
    /// a failing node operation are failures of the response, never of the request. The operation
    /// answers the caches it cleared, of `cleared_keys` (`None`: all), for `cluster.requests`.
    pub(crate) fn nodes_action(
        &mut self,
        coordinator: NodeIndex,
        action: &str,
        label: &str,
        cleared_keys: Option<&[String]>,
        mut node_operation: impl FnMut(
            &mut super::Node,
            &mut crate::security::Ctx<'_>,
        ) -> Result<Vec<CacheId>, EsError>,
    ) -> NodesResponse {
        let mut resp = NodesResponse {
            cluster_name: self.name.clone(),
            successes: Vec::new(),
            failures: Vec::new(),
        };
        for i in 0..self.nodes.len() {
            let idx = i as NodeIndex;
            if !self.nodes[i].running {
                continue;
            }
            let (id, name) = (self.nodes[i].id.clone(), self.nodes[i].name.clone());
            let now = self.clock.now();
            if !self.reachable(coordinator, idx) {
                self.events.record(
                    now,
                    idx,
                    EventKind::NodeUnreachable,
                    CacheId::None,
                    label,
                    action,
                );
                resp.failures.push(NodeFailure {
                    node_id: id,
                    cause: node_not_connected(&name, idx),
                });
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
                    label,
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
            match self.with_node(idx, |node, _, ctx| node_operation(node, ctx)) {
                Err(e) => resp.failures.push(NodeFailure {
                    node_id: id,
                    cause: e,
                }),
                Ok(caches) => {
                    self.requests.note_cleared(idx, &caches, cleared_keys);
                    resp.successes.push((id, name));
                }
            }
        }
        resp
    }
}
