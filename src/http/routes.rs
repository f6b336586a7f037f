//! What the HTTP layer answers besides the REST layer's routes: `POST /_escache/advance` (escache's
//! own, moving virtual time; the superuser only). Everything else goes to the REST layer with the
//! listeners' addresses, which `GET /_nodes` (the official clients' sniffing) reports.

use crate::cluster::{Authentication, Cluster};
use crate::error::EsError;
use crate::events::NodeIndex;
use crate::rest::handlers::{handle_on, Listeners};
use crate::rest::{Request, Response};
use serde_json::json;
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
    if (method, path) != ("POST", "/_escache/advance") {
        // `GET /_nodes` is the core router's; it reports these listeners' bound addresses.
        return handle_on(
            c,
            node,
            Listeners::Http(addresses),
            method,
            target,
            headers,
            body,
        );
    }
    let req = match Request::new(method, target, headers, None) {
        Ok(r) => r,
        Err(e) => return Response::from_error(&EsError::illegal_argument(e.to_string())),
    };
    let auth = match crate::rest::handlers::authenticate(c, node, &req) {
        Ok(a) => a,
        Err(e) => return Response::from_error(&e),
    };
    advance(c, &req, &auth)
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
