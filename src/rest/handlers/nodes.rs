//! `GET /_nodes[/{nodeId}[/{metrics}]]` (`RestNodesInfoAction`, `TransportNodesInfoAction`,
//! `NodesInfoResponse.toXContent`): what the official clients' sniffing reads
//! (`/_nodes/_all/http`, each node's `http.publish_address`). Rules API-N1 to API-N3.
//!
//! The HTTP server passes its listeners' bound addresses ([`Listeners::Http`]); in-process a node
//! publishes `<node name>/127.0.0.1:<9200 + index>`, the `host/ip:port` form a node with
//! `http.publish_host` set answers, so a sniffing client learns each node's name as its host.

use crate::cluster::Cluster;
use crate::error::EsError;
use crate::events::NodeIndex;
use crate::rest::params::java_split_comma;
use crate::rest::{check_unconsumed_params, reject_unconsumed_body, Request, Response, RouteId};
use crate::security::authz::{self, wildcard_match, RequestContext, Subject};
use serde_json::{json, Map, Value};
use std::net::SocketAddr;

/// Where the nodes' HTTP listeners are.
#[derive(Debug, Clone, Copy, Default)]
pub enum Listeners<'a> {
    /// No socket: `perform_request` and the in-process client.
    #[default]
    InProcess,
    /// The HTTP server's bound addresses, one per node in node order.
    Http(&'a [SocketAddr]),
}

/// `NodesInfoRequest.Metric.allMetrics()`.
const METRICS: &[&str] = &[
    "settings",
    "os",
    "process",
    "jvm",
    "thread_pool",
    "transport",
    "http",
    "remote_cluster_server",
    "plugins",
    "ingest",
    "aggregations",
    "indices",
];

/// `Strings.tokenizeToStringArray(s, ",")`: trimmed, empty tokens dropped.
fn tokens(s: &str) -> Vec<String> {
    java_split_comma(s)
        .into_iter()
        .map(|t| t.trim().to_string())
        .filter(|t| !t.is_empty())
        .collect()
}

/// `RestNodesInfoAction.prepareRequest`: node ids and metrics (`/_nodes/http` names a metric).
fn node_ids_and_metrics(req: &Request) -> (Vec<String>, Vec<String>) {
    let node_id = req.param("nodeId");
    match (node_id, req.param("metrics")) {
        (Some(ids), None) => {
            let items = tokens(ids);
            if !items.is_empty() && items.iter().all(|m| METRICS.contains(&m.as_str())) {
                (vec!["_all".into()], items)
            } else {
                (items, vec!["_all".into()])
            }
        }
        (ids, metrics) => (
            tokens(ids.unwrap_or("_all")),
            tokens(metrics.unwrap_or("_all")),
        ),
    }
}

/// `DiscoveryNodes.resolveNodes`: `_all`, `_local`, `_master`, ids, names, wildcards; no ids
/// means every node.
fn selected(cluster: &Cluster, local: NodeIndex, ids: &[String]) -> Vec<bool> {
    let nodes = cluster.nodes();
    if ids.is_empty() {
        return vec![true; nodes.len()];
    }
    let master = cluster.first_running();
    let mut out = vec![false; nodes.len()];
    for id in ids {
        for (i, n) in nodes.iter().enumerate() {
            let hit = match id.as_str() {
                "_all" => true,
                "_local" => i == local as usize,
                "_master" => master == Some(i as NodeIndex),
                pattern => wildcard_match(pattern, &n.id) || wildcard_match(pattern, &n.name),
            };
            out[i] |= hit;
        }
    }
    out
}

fn address(listeners: Listeners<'_>, i: usize, name: &str) -> (String, String, String) {
    match listeners {
        Listeners::Http(addrs) => addrs.get(i).map_or_else(
            || {
                (
                    "127.0.0.1".into(),
                    "127.0.0.1:0".into(),
                    "127.0.0.1:0".into(),
                )
            },
            |a| (a.ip().to_string(), a.to_string(), a.to_string()),
        ),
        Listeners::InProcess => {
            let bound = format!("127.0.0.1:{}", 9200 + i);
            (name.to_string(), bound.clone(), format!("{name}/{bound}"))
        }
    }
}

pub(super) fn handle(
    cluster: &Cluster,
    node: NodeIndex,
    listeners: Listeners<'_>,
    req: &Request,
    subject: &Subject,
) -> Result<Response, EsError> {
    check_unconsumed_params(
        req,
        &[
            "nodeId",
            "metrics",
            "timeout",
            "flat_settings",
            "settings_filter",
        ],
    )?;
    reject_unconsumed_body(req)?;
    let (ids, metrics) = node_ids_and_metrics(req);
    let all = metrics.len() == 1 && metrics[0] == "_all";
    let http = all || metrics.iter().any(|m| m == "http");
    authz::authorize(
        subject,
        RouteId::NodesInfo.action(),
        &RequestContext::none(),
    )?;
    let chosen = selected(cluster, node, &ids);
    let mut nodes = Map::new();
    let mut failures = Vec::new();
    for (i, n) in cluster.nodes().iter().enumerate() {
        // A stopped node has left the cluster, and so has one fault detection removed (CA-PT3); an
        // unreachable one fails its part of the fan-out.
        if !chosen[i] || !n.running() || (n.removed && i as NodeIndex != node) {
            continue;
        }
        if !cluster.reachable(node, i as NodeIndex) {
            failures.push(json!({
                "type": "failed_node_exception",
                "reason": format!("Failed node [{}]", n.id),
                "node_id": n.id,
                "caused_by": {"type": "node_not_connected_exception",
                              "reason": format!("[{}][{}] Node not connected", n.name, address(listeners, i, &n.name).1)},
            }));
            continue;
        }
        let (host, bound, publish) = address(listeners, i, &n.name);
        let ip = bound.rsplit_once(':').map_or("", |(h, _)| h).to_string();
        let mut info = Map::new();
        info.insert("name".into(), json!(n.name));
        info.insert("transport_address".into(), json!(bound));
        info.insert("host".into(), json!(host));
        info.insert("ip".into(), json!(ip));
        // CA-VP6: the profile's release, as `GET /` reports it.
        info.insert(
            "version".into(),
            json!(cluster.settings.version.main_info().number),
        );
        info.insert("build_flavor".into(), json!("default"));
        info.insert("build_type".into(), json!("escache"));
        info.insert(
            "build_hash".into(),
            json!("0000000000000000000000000000000000000000"),
        );
        info.insert("roles".into(), json!(["data", "ingest", "master"]));
        info.insert("attributes".into(), json!({}));
        if http {
            info.insert(
                "http".into(),
                json!({
                    "bound_address": [bound],
                    "publish_address": publish,
                    "max_content_length_in_bytes": 100 * 1024 * 1024,
                }),
            );
        }
        nodes.insert(n.id.clone(), Value::Object(info));
    }
    let mut header = json!({
        "total": nodes.len() + failures.len(),
        "successful": nodes.len(),
        "failed": failures.len(),
    });
    if !failures.is_empty() {
        header["failures"] = Value::Array(failures);
    }
    Ok(Response::ok(json!({
        "_nodes": header,
        "cluster_name": cluster.name,
        "nodes": nodes,
    })))
}
