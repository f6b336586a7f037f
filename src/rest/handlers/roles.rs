//! Roles: put, get, delete and clear-cache (`RestPutRoleAction`, `RestGetRolesAction`,
//! `RestDeleteRoleAction`, `RestClearRolesCacheAction`; `SEC/authz/store/NativeRolesStore.java`), and
//! the authorization subject of a realm user built through the node's roles cache (CA-RL2).
//!
//! Every role write clears that role from the roles cache on every node, as `NativeRolesStore`'s
//! `clearRoleCache(role)` runs `ClearRolesCacheAction` with that name (CA-RL5).

use crate::cluster::{Authentication, Cluster};
use crate::error::EsError;
use crate::events::NodeIndex;
use crate::rest::{
    check_unconsumed_params, parse_json_body_with_locations, reject_unconsumed_body, Request,
    Response, RouteId,
};
use crate::security::authz::{
    self, is_reserved_role, reserved_role_descriptor, ApiKeyRequest, RequestContext, Subject,
};
use crate::security::index::Availability;
use serde_json::{json, Map, Value};

fn authorize(subject: &Subject, route: RouteId) -> Result<(), EsError> {
    authz::authorize(
        subject,
        route.action(),
        &RequestContext::new(ApiKeyRequest::Other),
    )
}

/// The subject of an authentication on `node`: a realm user's roles come from the node's roles
/// cache (CA-RL2); API keys and service accounts as [`super::subject_of`]. Under a profile before
/// 8.5 the 403 names the assigned roles (CA-VP4).
pub(crate) fn subject_of_cached(
    cluster: &mut Cluster,
    node: NodeIndex,
    auth: &Authentication,
) -> Result<Subject, EsError> {
    let Authentication::Realm {
        username,
        roles,
        realm,
        ..
    } = auth
    else {
        return super::subject_of(cluster, auth);
    };
    let descriptors = cluster.resolve_roles(node, roles);
    let names: Vec<&str> = roles.iter().map(String::as_str).collect();
    let mut subject = if realm.type_ == "reserved" {
        Subject::reserved_user(username.clone(), &names, descriptors)
    } else {
        Subject::native_user(username.clone(), &names, descriptors)
    };
    if let Subject::User(u) = &mut subject {
        u.realm_name.clone_from(&realm.name);
        u.assigned_roles_wording = !cluster.settings.version.denial_names_effective_roles();
    }
    Ok(subject)
}

/// `PUT|POST /_security/role/{name}`, then `clearRoleCache(name)`.
pub(crate) fn put_role(
    cluster: &mut Cluster,
    node: NodeIndex,
    req: &Request,
    subject: &Subject,
) -> Result<Response, EsError> {
    check_unconsumed_params(req, &["name", "refresh"])?;
    let name = req.param("name").unwrap_or("").to_string();
    let body = parse_json_body_with_locations(req, "role")?;
    let role = authz::parse_put_role(&name, &body.value)?;
    authorize(subject, RouteId::PutRole)?;
    cluster.prepare_index_for_write()?;
    let created = cluster
        .security_index
        .roles
        .insert(name.clone(), role.to_json())
        .is_none();
    cluster.clear_roles_cache(node, &[name]);
    Ok(Response::ok(json!({ "role": { "created": created } })))
}

/// `GET /_security/role[/{name}]` (CA-RM1): reserved roles escache defines, then native roles; named
/// roles none of which exist answer 404 with `{}`.
pub(crate) fn get_roles(
    cluster: &mut Cluster,
    req: &Request,
    subject: &Subject,
) -> Result<Response, EsError> {
    check_unconsumed_params(req, &["name"])?;
    reject_unconsumed_body(req)?;
    let names: Vec<String> = req
        .param("name")
        .map(crate::rest::params::split_string_by_comma_to_array)
        .unwrap_or_default();
    authorize(subject, RouteId::GetRoles)?;
    let mut out = Map::new();
    for r in crate::security::authz::RESERVED_ROLE_NAMES {
        if names.is_empty() || names.iter().any(|n| n == r) {
            if let Some(d) = reserved_role_descriptor(r) {
                out.insert((*r).to_string(), d.to_json());
            }
        }
    }
    let index = &cluster.security_index;
    if index.exists() {
        if let Some(e) = index.unavailable_reason(Availability::SearchShards) {
            return Err(e);
        }
        for (name, role) in &index.roles {
            if names.is_empty() || names.contains(name) {
                out.insert(name.clone(), role.clone());
            }
        }
    }
    let status = if out.is_empty() && !names.is_empty() {
        404
    } else {
        200
    };
    Ok(Response::new(status, Value::Object(out)))
}

/// `DELETE /_security/role/{name}` (CA-RM2): `{"found": bool}` (404 when absent), then
/// `clearRoleCache(name)`; a reserved role is `role [<r>] is reserved and cannot be deleted`.
pub(crate) fn delete_role(
    cluster: &mut Cluster,
    node: NodeIndex,
    req: &Request,
    subject: &Subject,
) -> Result<Response, EsError> {
    check_unconsumed_params(req, &["name", "refresh"])?;
    reject_unconsumed_body(req)?;
    let name = req.param("name").unwrap_or("").to_string();
    authorize(subject, RouteId::DeleteRole)?;
    if is_reserved_role(&name) {
        return Err(EsError::illegal_argument(format!(
            "role [{name}] is reserved and cannot be deleted"
        )));
    }
    let found = super::users::delete_from_index(cluster, |index| {
        index.roles.shift_remove(&name).is_some()
    })?;
    cluster.clear_roles_cache(node, &[name]);
    Ok(super::users::found_response(found))
}

/// `POST /_security/role/{name}/_clear_cache` (CA-RL5): `name` as
/// `paramAsStringArrayOrEmptyIfAll` (`*` and `_all` clear every role).
pub(crate) fn clear_roles_cache(
    cluster: &mut Cluster,
    node: NodeIndex,
    req: &Request,
    subject: &Subject,
) -> Result<Response, EsError> {
    check_unconsumed_params(req, &["name"])?;
    reject_unconsumed_body(req)?;
    let names = req.param_as_string_array_or_empty_if_all("name");
    authorize(subject, RouteId::ClearRolesCache)?;
    Ok(Response::ok(
        cluster.clear_roles_cache(node, &names).to_json(),
    ))
}
