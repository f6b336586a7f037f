//! What the HTTP layer answers besides the REST layer's routes: `POST /_escache/advance` (escache's
//! own, moving virtual time; the superuser only) and `GET /_nodes/http` (Elasticsearch's
//! `RestNodesInfoAction` with the `http` metric, what the official clients' sniffing reads: each
//! node's `http.publish_address`), which needs the listeners' addresses.

use crate::cluster::{Authentication, Cluster};
use crate::error::EsError;
use crate::events::NodeIndex;
use crate::rest::{handle as rest_handle, Request, Response};
use serde_json::{json, Map, Value};
use std::net::SocketAddr;

pub(super) fn handle(
    c: &mut Cluster,
    addresses: &[SocketAddr],
    node: NodeIndex,
    method: &str,
    target: &str,
    headers: Vec<(String, String)>,
    body: Option<Vec<u8>>,
) -> Response {
    let path = target.split('?').next().unwrap_or("");
    let own = match (method, path) {
        ("POST", "/_escache/advance") => Own::Advance,
        ("GET", "/_nodes/http" | "/_nodes/_all/http") => Own::NodesHttp,
        _ => return rest_handle(c, node, method, target, headers, body),
    };
    let req = match Request::new(method, target, headers, None) {
        Ok(r) => r,
        Err(e) => return Response::from_error(&EsError::illegal_argument(e.to_string())),
    };
    let auth = match crate::rest::handlers::authenticate(c, node, &req) {
        Ok(a) => a,
        Err(e) => return Response::from_error(&e),
    };
    match own {
        Own::Advance => advance(c, &req, &auth),
        Own::NodesHttp => Response::ok(nodes_http(c, addresses)),
    }
}

enum Own {
    Advance,
    NodesHttp,
}

/// `POST /_escache/advance?by=5m`: `{"now": seconds}`. Moving the cluster's clock is the superuser's.
fn advance(c: &mut Cluster, req: &Request, auth: &Authentication) -> Response {
    let superuser = matches!(auth, Authentication::Realm { roles, .. } if roles.iter().any(|r| r == "superuser"));
    if !superuser {
        let e = EsError::security(
            format!(
                "action [escache:advance] is unauthorized for user [{}], only the superuser may move virtual time",
                auth.principal()
            ),
            403,
        );
        return Response::from_error(&e);
    }
    let by = req.param("by").unwrap_or("0s");
    match crate::time::parse_duration(by, "by") {
        Ok(nanos) => {
            let now = c.advance(nanos);
            Response::ok(json!({ "now": now as f64 / crate::time::NANOS_PER_SECOND as f64 }))
        }
        Err(e) => Response::from_error(&EsError::illegal_argument(e.to_string())),
    }
}

/// The running nodes with their HTTP addresses (`NodesInfoResponse` with `HttpInfo`); a stopped
/// node has left the cluster.
fn nodes_http(c: &Cluster, addresses: &[SocketAddr]) -> Value {
    let mut nodes = Map::new();
    for (n, addr) in c.nodes().iter().zip(addresses) {
        if !n.running() {
            continue;
        }
        let addr = addr.to_string();
        nodes.insert(
            n.id.clone(),
            json!({
                "name": n.name,
                "transport_address": addr,
                "host": addr.rsplit_once(':').map_or("", |(h, _)| h),
                "ip": addr.rsplit_once(':').map_or("", |(h, _)| h),
                "version": crate::rest::handlers::VERSION_NUMBER,
                "roles": ["data", "ingest", "master"],
                "http": {
                    "bound_address": [addr],
                    "publish_address": addr,
                    "max_content_length_in_bytes": super::MAX_CONTENT_LENGTH,
                },
            }),
        );
    }
    let total = nodes.len();
    json!({
        "_nodes": {"total": total, "successful": total, "failed": 0},
        "cluster_name": c.name,
        "nodes": nodes,
    })
}
