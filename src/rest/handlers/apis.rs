//! Issue 15, part 2: the APIs tooling calls around the caches, one file each; this file only
//! dispatches their [`RouteId`]s.

use super::{bulk_update, cluster_health, grant, has_privileges, nodes, query_api_keys};
use super::{user_privileges, Listeners};
use crate::cluster::{Authentication, Cluster};
use crate::error::EsError;
use crate::events::NodeIndex;
use crate::rest::body::ParsedBody;
use crate::rest::{check_unconsumed_params, parse_json_body_with_locations};
use crate::rest::{Request, Response, RouteId};
use crate::security::authz::Subject;
use serde_json::{Map, Value};

pub(super) fn run(
    cluster: &mut Cluster,
    node: NodeIndex,
    listeners: Listeners<'_>,
    route: RouteId,
    req: &Request,
    auth: &Authentication,
    subject: &Subject,
) -> Result<Response, EsError> {
    match route {
        RouteId::HasPrivileges => has_privileges::handle(req, subject),
        RouteId::GetUserPrivileges => user_privileges::handle(req, auth, subject),
        RouteId::QueryApiKey => query_api_keys::handle(cluster, req, auth, subject),
        RouteId::BulkUpdateApiKey => bulk_update::handle(cluster, node, req, auth, subject),
        RouteId::GrantApiKey => grant::handle(cluster, node, req, subject),
        RouteId::ClusterHealth => cluster_health::handle(cluster, req, subject),
        RouteId::NodesInfo => nodes::handle(cluster, node, listeners, req, subject),
        // Every other route has its handler in `handlers/mod.rs`, which calls this only for these.
        other => Err(EsError::exception(format!(
            "no handler for [{}]",
            other.handler_name()
        ))),
    }
}

/// A write request's body: `?refresh` the only parameter, a required JSON object holding only the
/// `known` fields of the `ObjectParser` named `parser`.
pub(super) fn object_body(
    req: &Request,
    parser: &str,
    known: &[&str],
) -> Result<(ParsedBody, Map<String, Value>), EsError> {
    check_unconsumed_params(req, &["refresh"])?;
    let body = parse_json_body_with_locations(req, parser)?;
    // ok: `parse_json_body_with_locations` only returns an object.
    let obj = body.value.as_object().cloned().unwrap_or_default();
    super::reject_unknown_fields(&body, &obj, known, parser)?;
    Ok((body, obj))
}
