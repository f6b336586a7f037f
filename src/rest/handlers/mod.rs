//! The REST handlers: one function per [`RouteId`], run after routing, authentication and
//! authorization. [`handle`] is the whole pipeline that `perform_request`, the in-process client and
//! the HTTP server share.

mod apis;
mod bulk_update;
mod cluster_health;
mod grant;
mod has_privileges;
mod nodes;
mod query_api_keys;
mod user_privileges;

pub use nodes::Listeners;

use super::body::{parse_optional_json_body, x_content_parse_error, ParsedBody};
use super::render::Rendering;
use super::{
    check_unconsumed_params, parse_json_body_with_locations, reject_unconsumed_body, Method,
    Request, Response, RouteId, Router,
};
use crate::cluster::authn::authenticate_body_bytes;
use crate::cluster::{
    Authentication, AuthenticationOutcome, Cluster, CreateApiKeyRequest, InvalidateApiKeyRequest,
    UpdateApiKeyRequest,
};
use crate::error::{EsError, ExceptionType};
use crate::events::{CacheId, EventKind, NodeIndex};
use crate::security::api_key::parse_role_descriptors_blob;
use crate::security::authz::{
    self, token_name, ApiKeyRequest, RequestContext, RoleDescriptor, Subject,
};
use crate::time::TimeValue;
use serde_json::{json, Map, Value};

mod api_key_roles;
mod privileges;
mod realms;
mod roles;
mod users;

/// Runs one REST request on `node`: route, authenticate, authorize, handle. Never panics on input;
/// every failure is Elasticsearch's error response.
pub fn handle(
    cluster: &mut Cluster,
    node: NodeIndex,
    method: &str,
    target: &str,
    headers: Vec<(String, String)>,
    body: Option<Vec<u8>>,
) -> Response {
    handle_on(
        cluster,
        node,
        Listeners::InProcess,
        method,
        target,
        headers,
        body,
    )
}

/// [`handle`] on a node whose HTTP listeners are known (the HTTP server's bound addresses, which
/// `GET /_nodes` reports). The answer is rendered as the REST channel renders it
/// (`X-Opaque-Id`, `?pretty`, `filter_path`: [`crate::rest::render`]).
pub fn handle_on(
    cluster: &mut Cluster,
    node: NodeIndex,
    listeners: Listeners<'_>,
    method: &str,
    target: &str,
    headers: Vec<(String, String)>,
    body: Option<Vec<u8>>,
) -> Response {
    // `cluster.requests`: one flag check when not recording (crate::cluster::requests).
    let recording = cluster.requests.begin();
    let plain = Rendering::of_headers(&headers);
    let router = Router::global();
    let mut req = match Request::new(method, target, headers, body) {
        Ok(r) => r,
        Err(e) => {
            let resp = router.error_response(&e);
            if recording {
                cluster.record_request(node, method, target, None, None, resp.status);
            }
            // A routing failure (400 no handler, 405) to a HEAD request goes without its body too.
            return plain.apply(match Method::parse(method) {
                Ok(m) => resp.for_method(m),
                Err(_) => resp,
            });
        }
    };
    let (rendering, refused) = Rendering::of(&req);
    if let Some(resp) = refused {
        if recording {
            cluster.record_request(node, method, target, None, None, resp.status);
        }
        return rendering.apply(resp.for_method(req.method));
    }
    // CA-VP7: a route the profile's release did not have answers as a path without a handler.
    let dispatched = router.dispatch(&mut req).and_then(|route| {
        if cluster.settings.version >= route.since() {
            Ok(route)
        } else {
            Err(crate::rest::router::route_failure_response(
                &crate::rest::router::RouteMatch::NoHandler,
                req.uri(),
                req.method,
            ))
        }
    });
    let route = match dispatched {
        Ok(route) => route,
        Err(resp) => {
            if recording {
                cluster.record_request(node, method, target, None, None, resp.status);
            }
            return rendering.apply(resp.for_method(req.method));
        }
    };
    let authenticated = authenticate(cluster, node, &req);
    let resp = match &authenticated {
        Ok(auth) => match roles::subject_of_cached(cluster, node, auth)
            .and_then(|subject| run(cluster, node, listeners, route, &req, auth, &subject))
        {
            Ok(r) => r,
            Err(e) => Response::from_error(&e),
        },
        Err(e) => Response::from_error(e),
    };
    if cluster.events.enabled() {
        // The key and detail are formatted only when the trace records.
        let now = cluster.now();
        cluster.events.record(
            now,
            node,
            EventKind::RestRequest,
            CacheId::None,
            &format!("{} {}", req.method.as_str(), req.raw_path()),
            &resp.status.to_string(),
        );
    }
    if recording {
        let auth = authenticated.as_ref().ok();
        cluster.record_request(node, method, target, Some((&req, route)), auth, resp.status);
    }
    // CA-VP5: the profile's `Basic` challenge.
    rendering.apply(
        cluster
            .settings
            .version
            .adapt_response(resp)
            .for_method(req.method),
    )
}

/// Authenticates, finishing a verification the node's crypto pool queued (a REST request waits for
/// its own authentication).
pub(crate) fn authenticate(
    cluster: &mut Cluster,
    node: NodeIndex,
    req: &Request,
) -> Result<Authentication, EsError> {
    let mut outcome = cluster.authenticate_request(node, req.header("Authorization"), req.uri());
    for _ in 0..8 {
        let AuthenticationOutcome::Pending { request } = outcome else {
            break;
        };
        let done = cluster.drain_crypto_pool(node);
        let node_name = cluster.nodes()[node as usize].name.clone();
        outcome = match done.into_iter().find(|(r, _)| *r == request) {
            Some((_, step)) => crate::cluster::api_key_step_to_outcome(step, &node_name),
            None => AuthenticationOutcome::Pending { request },
        };
    }
    match outcome {
        AuthenticationOutcome::Authenticated(a) => Ok(a),
        AuthenticationOutcome::Failed(e) => Err(e),
        AuthenticationOutcome::Pending { .. } => {
            Err(EsError::security("authentication did not complete", 401))
        }
    }
}

/// The authorization subject of an authentication, with role descriptors resolved.
///
/// An API key's stored descriptors are parsed as ES's `ApiKeyService.parseRoleDescriptorsBytes` does
/// when roles are resolved: a blob or a descriptor that does not parse fails the request with that
/// error. It never becomes an empty set, which would mean "inherit the owner" (issue 8 point 1).
pub(crate) fn subject_of(cluster: &Cluster, auth: &Authentication) -> Result<Subject, EsError> {
    let parse_map = api_key_roles::role_descriptors;
    match auth {
        Authentication::Realm {
            username,
            roles,
            realm,
            ..
        } => {
            // A stored role that does not parse is skipped, as ES's `NativeRolesStore.transformRole`
            // logs and drops it: a user's privileges are the union of its roles, so a dropped role
            // can only take privileges away.
            let descriptors: Vec<RoleDescriptor> = roles
                .iter()
                .filter_map(|r| {
                    authz::reserved_role_descriptor(r).or_else(|| {
                        cluster
                            .security_index
                            .roles
                            .get(r)
                            .and_then(|v| RoleDescriptor::parse(r, v).ok())
                    })
                })
                .collect();
            let role_names: Vec<&str> = roles.iter().map(String::as_str).collect();
            Ok(if realm.type_ == "reserved" {
                Subject::reserved_user(username.clone(), &role_names, descriptors)
            } else {
                Subject::native_user(username.clone(), &role_names, descriptors)
            })
        }
        Authentication::ApiKey(k) => Ok(Subject::api_key(
            k.id.to_string(),
            k.creator.principal.clone(),
            k.creator.realm.clone(),
            parse_map(&k.role_descriptors)?,
            parse_map(&k.limited_by_role_descriptors)?,
        )),
        Authentication::ServiceAccount { principal, .. } => Ok(Subject::service_account(
            principal.clone(),
            RoleDescriptor::with_cluster(principal, &[]),
        )),
    }
}

fn run(
    cluster: &mut Cluster,
    node: NodeIndex,
    listeners: Listeners<'_>,
    route: RouteId,
    req: &Request,
    auth: &Authentication,
    subject: &Subject,
) -> Result<Response, EsError> {
    match route {
        RouteId::Main => main_action(cluster, node, req, subject),
        RouteId::CreateApiKey => create_api_key(cluster, node, req, auth, subject),
        RouteId::GetApiKey => get_api_key(cluster, req, auth, subject),
        RouteId::InvalidateApiKey => invalidate_api_key(cluster, node, req, auth, subject),
        RouteId::UpdateApiKey => update_api_key(cluster, node, req, auth, subject),
        RouteId::ClearApiKeyCache => clear_api_key_cache(cluster, node, req, subject),
        RouteId::Authenticate => {
            check_unconsumed_params(req, &[])?;
            reject_unconsumed_body(req)?;
            authz::authorize(
                subject,
                route.action(),
                &RequestContext::for_action(route.action()),
            )?;
            Ok(Response::ok_rendered(authenticate_body_bytes(auth)))
        }
        RouteId::PutUser => users::put_user(cluster, node, req, subject),
        RouteId::PutRole => roles::put_role(cluster, node, req, subject),
        RouteId::GetUsers => users::get_users(cluster, req, subject),
        RouteId::DeleteUser => users::delete_user(cluster, node, req, subject),
        RouteId::EnableUser => users::set_enabled(cluster, node, req, auth, subject, true),
        RouteId::DisableUser => users::set_enabled(cluster, node, req, auth, subject, false),
        RouteId::ChangePassword => users::change_password(cluster, node, req, auth, subject),
        RouteId::GetRoles => roles::get_roles(cluster, req, subject),
        RouteId::DeleteRole => roles::delete_role(cluster, node, req, subject),
        RouteId::ClearRolesCache => roles::clear_roles_cache(cluster, node, req, subject),
        RouteId::ClearRealmCache => realms::clear_realm_cache(cluster, node, req, subject),
        RouteId::ClearPrivilegesCache => {
            privileges::clear_privileges_cache(cluster, node, req, subject)
        }
        RouteId::CreateServiceAccountToken
        | RouteId::DeleteServiceAccountToken
        | RouteId::GetServiceAccountCredentials
        | RouteId::GetServiceAccount
        | RouteId::ClearServiceAccountTokenStoreCache => {
            crate::rest::service_accounts::handle(cluster, node, route, req, auth, subject)
        }
        _ => apis::run(cluster, node, listeners, route, req, auth, subject),
    }
}

fn authorize(subject: &Subject, route: RouteId, request: ApiKeyRequest) -> Result<(), EsError> {
    authz::authorize(subject, route.action(), &RequestContext::new(request))
}

fn main_action(
    cluster: &Cluster,
    node: NodeIndex,
    req: &Request,
    subject: &Subject,
) -> Result<Response, EsError> {
    check_unconsumed_params(req, &[])?;
    reject_unconsumed_body(req)?;
    authorize(subject, RouteId::Main, ApiKeyRequest::Other)?;
    let n = &cluster.nodes()[node as usize];
    // CA-VP6: the version block of the profile's release.
    let v = cluster.settings.version.main_info();
    Ok(Response::ok(json!({
        "name": n.name,
        "cluster_name": cluster.name,
        "cluster_uuid": cluster.uuid,
        "version": {
            "number": v.number,
            "build_flavor": "default",
            "build_type": "escache",
            "build_hash": "0000000000000000000000000000000000000000",
            "build_date": "2026-01-01T00:00:00.000000000Z",
            "build_snapshot": false,
            "lucene_version": v.lucene_version,
            "minimum_wire_compatibility_version": v.minimum_wire_compatibility_version,
            "minimum_index_compatibility_version": v.minimum_index_compatibility_version
        },
        "tagline": "You Know, for Search"
    })))
}

// ---- API keys --------------------------------------------------------------------------------

fn str_field(
    body: &ParsedBody,
    obj: &Map<String, Value>,
    field: &str,
    parser: &str,
) -> Result<Option<String>, EsError> {
    match obj.get(field) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(s)) => Ok(Some(s.clone())),
        Some(Value::Number(n)) => Ok(Some(n.to_string())),
        Some(other) => Err(x_content_parse_error(
            body.value_location(&format!("/{field}")),
            &format!(
                "[{parser}] {field} doesn't support values of type: {}",
                token_name(other)
            ),
        )),
    }
}

fn object_field(
    body: &ParsedBody,
    obj: &Map<String, Value>,
    field: &str,
    parser: &str,
) -> Result<Option<Map<String, Value>>, EsError> {
    match obj.get(field) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::Object(m)) => Ok(Some(m.clone())),
        Some(other) => Err(x_content_parse_error(
            body.value_location(&format!("/{field}")),
            &format!(
                "[{parser}] {field} doesn't support values of type: {}",
                token_name(other)
            ),
        )),
    }
}

fn reject_unknown_fields(
    body: &ParsedBody,
    obj: &Map<String, Value>,
    known: &[&str],
    parser: &str,
) -> Result<(), EsError> {
    for key in obj.keys() {
        if !known.contains(&key.as_str()) {
            return Err(x_content_parse_error(
                body.key_location(&format!("/{key}")),
                &format!("[{parser}] unknown field [{key}]"),
            ));
        }
    }
    Ok(())
}

/// Role descriptors of an API key request: each parsed and validated as a role.
fn parse_role_descriptors(map: &Map<String, Value>) -> Result<Map<String, Value>, EsError> {
    let mut out = Map::new();
    let mut errors = Vec::new();
    for (name, v) in map {
        let rd = RoleDescriptor::parse(name, v)?;
        if let Err(e) = rd.validate() {
            errors.push(
                e.reason
                    .trim_start_matches("Validation Failed: ")
                    .trim_start_matches("1: ")
                    .trim_end_matches(';')
                    .to_string(),
            );
            continue;
        }
        out.insert(name.clone(), rd.to_json());
    }
    if !errors.is_empty() {
        return Err(EsError::validation(&errors));
    }
    Ok(out)
}

fn validate_metadata(metadata: Option<&Map<String, Value>>, errors: &mut Vec<String>) {
    if metadata.is_some_and(|m| m.keys().any(|k| k.starts_with('_'))) {
        errors.push("API key metadata keys may not start with [_]".into());
    }
}

fn parse_expiration(raw: Option<String>) -> Result<Option<TimeValue>, EsError> {
    raw.map(|v| {
        TimeValue::parse(&v, "expiration").map_err(|e| {
            EsError::new(
                ExceptionType::XContentParse,
                "Failed to build [api_key_request] after last required field arrived",
                400,
            )
            .with_cause(EsError::illegal_argument(e.to_string()))
        })
    })
    .transpose()
}

fn create_api_key(
    cluster: &mut Cluster,
    node: NodeIndex,
    req: &Request,
    auth: &Authentication,
    subject: &Subject,
) -> Result<Response, EsError> {
    check_unconsumed_params(req, &["refresh"])?;
    let body = parse_json_body_with_locations(req, "api_key_request")?;
    // ok: `parse_json_body_with_locations` only returns an object.
    let obj = body.value.as_object().cloned().unwrap_or_default();
    reject_unknown_fields(
        &body,
        &obj,
        &["name", "role_descriptors", "expiration", "metadata"],
        "api_key_request",
    )?;
    let name = str_field(&body, &obj, "name", "api_key_request")?;
    let role_descriptors =
        object_field(&body, &obj, "role_descriptors", "api_key_request")?.unwrap_or_default();
    let expiration = parse_expiration(str_field(&body, &obj, "expiration", "api_key_request")?)?;
    let metadata = object_field(&body, &obj, "metadata", "api_key_request")?;
    let Some(name) = name else {
        return Err(EsError::illegal_argument("Required [name]"));
    };
    let role_descriptors = parse_role_descriptors(&role_descriptors)?;
    let mut errors = Vec::new();
    if name.is_empty() {
        errors.push("api key name is required".to_string());
    } else {
        if name.chars().count() > 256 {
            errors.push("api key name may not be more than 256 characters long".into());
        }
        if name != name.trim() {
            errors.push("api key name may not begin or end with whitespace".into());
        }
        if name.starts_with('_') {
            errors.push("api key name may not begin with an underscore".into());
        }
    }
    validate_metadata(metadata.as_ref(), &mut errors);
    if !errors.is_empty() {
        return Err(EsError::validation(&errors));
    }
    authorize(subject, RouteId::CreateApiKey, ApiKeyRequest::Create)?;
    let created = cluster.create_api_key(
        node,
        auth,
        CreateApiKeyRequest {
            name,
            role_descriptors,
            expiration,
            metadata,
        },
    )?;
    Ok(Response::ok(created.to_json()))
}

fn non_blank(s: Option<&str>) -> Option<String> {
    s.filter(|v| !v.trim().is_empty()).map(str::to_string)
}

fn get_api_key(
    cluster: &mut Cluster,
    req: &Request,
    auth: &Authentication,
    subject: &Subject,
) -> Result<Response, EsError> {
    check_unconsumed_params(
        req,
        &[
            "id",
            "name",
            "username",
            "realm_name",
            "owner",
            "with_limited_by",
            "active_only",
            "with_profile_uid",
        ],
    )?;
    reject_unconsumed_body(req)?;
    let id = non_blank(req.param("id"));
    let name = non_blank(req.param("name"));
    let username = non_blank(req.param("username"));
    let realm_name = non_blank(req.param("realm_name"));
    let owner = req.param_as_boolean("owner", false)?;
    let with_limited_by = req.param_as_boolean("with_limited_by", false)?;
    let active_only = req.param_as_boolean("active_only", false)?;
    let _ = req.param_as_boolean("with_profile_uid", false)?;
    let mut errors = Vec::new();
    if (id.is_some() || name.is_some()) && (realm_name.is_some() || username.is_some()) {
        errors.push("username or realm name must not be specified when the api key id or api key name is specified");
    }
    if owner && (realm_name.is_some() || username.is_some()) {
        errors.push(
            "neither username nor realm-name may be specified when retrieving owned API keys",
        );
    }
    if id.is_some() && name.is_some() {
        errors.push("only one of [api key id, api key name] can be specified");
    }
    if !errors.is_empty() {
        return Err(EsError::validation(&errors));
    }
    authorize(
        subject,
        RouteId::GetApiKey,
        ApiKeyRequest::Get {
            id: id.clone(),
            username: username.clone(),
            realm_name: realm_name.clone(),
            owner,
            with_limited_by,
        },
    )?;
    let (keys, not_found) = cluster.get_api_keys(
        auth,
        id.as_deref(),
        name.as_deref(),
        username.as_deref(),
        realm_name.as_deref(),
        owner,
        with_limited_by,
        active_only,
    )?;
    let status = if not_found { 404 } else { 200 };
    Ok(Response::new(status, json!({ "api_keys": keys })))
}

fn invalidate_api_key(
    cluster: &mut Cluster,
    node: NodeIndex,
    req: &Request,
    auth: &Authentication,
    subject: &Subject,
) -> Result<Response, EsError> {
    check_unconsumed_params(req, &["refresh"])?;
    let body = parse_json_body_with_locations(req, "invalidate_api_key")?;
    // ok: `parse_json_body_with_locations` only returns an object.
    let obj = body.value.as_object().cloned().unwrap_or_default();
    reject_unknown_fields(
        &body,
        &obj,
        &["ids", "name", "username", "realm_name", "owner"],
        "invalidate_api_key",
    )?;
    let name = non_blank(str_field(&body, &obj, "name", "invalidate_api_key")?.as_deref());
    let username = non_blank(str_field(&body, &obj, "username", "invalidate_api_key")?.as_deref());
    let realm_name =
        non_blank(str_field(&body, &obj, "realm_name", "invalidate_api_key")?.as_deref());
    let owner = match obj.get("owner") {
        None | Some(Value::Null) => false,
        Some(Value::Bool(b)) => *b,
        Some(other) => {
            return Err(x_content_parse_error(
                body.value_location("/owner"),
                &format!(
                    "[invalidate_api_key] owner doesn't support values of type: {}",
                    token_name(other)
                ),
            ))
        }
    };
    let ids: Option<Vec<String>> = match obj.get("ids") {
        None | Some(Value::Null) => None,
        Some(Value::Array(a)) => Some(
            a.iter()
                .map(|v| match v {
                    Value::String(s) => Ok(s.clone()),
                    other => Err(x_content_parse_error(
                        body.value_location("/ids"),
                        &format!(
                            "[invalidate_api_key] ids doesn't support values of type: {}",
                            token_name(other)
                        ),
                    )),
                })
                .collect::<Result<_, _>>()?,
        ),
        Some(Value::String(s)) => Some(vec![s.clone()]),
        Some(other) => {
            return Err(x_content_parse_error(
                body.value_location("/ids"),
                &format!(
                    "[invalidate_api_key] ids doesn't support values of type: {}",
                    token_name(other)
                ),
            ))
        }
    };
    if let Some(ids) = &ids {
        if ids.is_empty() {
            return Err(EsError::validation(&[
                "Field [ids] cannot be an empty array",
            ]));
        }
        let blanks: Vec<usize> = ids
            .iter()
            .enumerate()
            .filter(|(_, s)| s.trim().is_empty())
            .map(|(i, _)| i)
            .collect();
        if !blanks.is_empty() {
            let positions = blanks
                .iter()
                .map(std::string::ToString::to_string)
                .collect::<Vec<_>>()
                .join(", ");
            let msg = if blanks.len() == 1 {
                format!("Field [ids] must not contain blank id, but got blank id at index position: [{positions}]")
            } else {
                format!("Field [ids] must not contain blank id, but got blank ids at index positions: [{positions}]")
            };
            return Err(EsError::validation(&[msg]));
        }
    }
    let mut errors = Vec::new();
    if ids.is_none() && name.is_none() && username.is_none() && realm_name.is_none() && !owner {
        errors.push("One of [api key id(s), api key name, username, realm name] must be specified if [owner] flag is false");
    }
    if (ids.is_some() || name.is_some()) && (realm_name.is_some() || username.is_some()) {
        errors.push("username or realm name must not be specified when the api key id(s) or api key name are specified");
    }
    if owner && (realm_name.is_some() || username.is_some()) {
        errors.push(
            "neither username nor realm-name may be specified when invalidating owned API keys",
        );
    }
    if ids.is_some() && name.is_some() {
        errors.push("only one of [api key id(s), api key name] can be specified");
    }
    if !errors.is_empty() {
        return Err(EsError::validation(&errors));
    }
    authorize(
        subject,
        RouteId::InvalidateApiKey,
        ApiKeyRequest::Invalidate {
            ids: ids.clone(),
            username: username.clone(),
            realm_name: realm_name.clone(),
            owner,
        },
    )?;
    let result = cluster.invalidate_api_keys(
        node,
        auth,
        &InvalidateApiKeyRequest {
            ids,
            name,
            username,
            realm_name,
            owner,
        },
    )?;
    Ok(Response::ok(result.to_json()))
}

fn update_api_key(
    cluster: &mut Cluster,
    node: NodeIndex,
    req: &Request,
    auth: &Authentication,
    subject: &Subject,
) -> Result<Response, EsError> {
    check_unconsumed_params(req, &["ids", "refresh"])?;
    let id = req.param("ids").unwrap_or("").to_string();
    let parsed = parse_optional_json_body(req, "update_api_key_request_payload")?;
    let mut update = UpdateApiKeyRequest::default();
    if let Some(body) = &parsed {
        // ok: `parse_optional_json_body` only returns an object.
        let obj = body.value.as_object().cloned().unwrap_or_default();
        reject_unknown_fields(
            body,
            &obj,
            &["role_descriptors", "metadata", "expiration"],
            "update_api_key_request_payload",
        )?;
        update.role_descriptors = match object_field(
            body,
            &obj,
            "role_descriptors",
            "update_api_key_request_payload",
        )? {
            Some(m) => Some(parse_role_descriptors(&m)?),
            None => None,
        };
        update.metadata = object_field(body, &obj, "metadata", "update_api_key_request_payload")?;
        update.expiration = parse_expiration(str_field(
            body,
            &obj,
            "expiration",
            "update_api_key_request_payload",
        )?)?;
    }
    let mut errors = Vec::new();
    validate_metadata(update.metadata.as_ref(), &mut errors);
    if !errors.is_empty() {
        return Err(EsError::validation(&errors));
    }
    authorize(subject, RouteId::UpdateApiKey, ApiKeyRequest::Update)?;
    let updated = cluster.update_api_key(node, auth, &id, update)?;
    Ok(Response::ok(json!({ "updated": updated })))
}

/// `POST /_security/api_key/{ids}/_clear_cache` (R5.6): the cache name is always `api_key`.
fn clear_api_key_cache(
    cluster: &mut Cluster,
    node: NodeIndex,
    req: &Request,
    subject: &Subject,
) -> Result<Response, EsError> {
    check_unconsumed_params(req, &["ids"])?;
    // BaseRestHandler: the handler reads no body, so a request carrying one is refused before the
    // action runs (`request [POST <path>] does not support having a body`), and nothing is cleared.
    reject_unconsumed_body(req)?;
    let keys = req.param_as_string_array_or_empty_if_all("ids");
    authorize(subject, RouteId::ClearApiKeyCache, ApiKeyRequest::Other)?;
    let resp = cluster.clear_security_cache(node, "api_key", &keys);
    Ok(Response::ok(resp.to_json()))
}
