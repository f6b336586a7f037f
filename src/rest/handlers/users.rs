//! User management: put, get, delete, enable/disable and change-password (`RestPutUserAction`,
//! `RestGetUsersAction`, `RestDeleteUserAction`, `RestSetEnabledAction`, `RestChangePasswordAction`
//! and their `Transport*Action`s in `SEC/action/user/`, `SEC/authc/esnative/NativeUsersStore.java`).
//!
//! Every write clears the user from the realm caches on every node, as `NativeUsersStore`'s
//! `clearRealmCache(username)` runs `ClearRealmCacheAction` with that username (CA-UM1).

use crate::cluster::{Authentication, Cluster};
use crate::error::EsError;
use crate::events::NodeIndex;
use crate::rest::{
    check_unconsumed_params, parse_json_body_with_locations, reject_unconsumed_body, Request,
    Response, RouteId,
};
use crate::security::authz::{
    self, is_reserved_user, token_name, validation_exception, ApiKeyRequest, RequestContext,
    Subject, User, INTERNAL_USERNAMES,
};
use crate::security::hashing::{Hasher, Secret};
use crate::security::index::UserDoc;
use serde_json::{json, Map, Value};

fn authorize(
    subject: &Subject,
    route: RouteId,
    target_username: Option<&str>,
) -> Result<(), EsError> {
    let mut ctx = RequestContext::new(ApiKeyRequest::Other);
    ctx.target_username = target_username.map(str::to_string);
    authz::authorize(subject, route.action(), &ctx)
}

/// `clearRealmCache(username)`: every realm on every node forgets the user (CA-UM1).
fn clear_user_from_realm_caches(cluster: &mut Cluster, node: NodeIndex, username: &str) {
    cluster.clear_realm_cache(node, &[], &[username.to_string()]);
}

/// `PUT|POST /_security/user/{username}`.
pub(crate) fn put_user(
    cluster: &mut Cluster,
    node: NodeIndex,
    req: &Request,
    subject: &Subject,
) -> Result<Response, EsError> {
    check_unconsumed_params(req, &["username", "refresh"])?;
    let username = req.param("username").unwrap_or("").to_string();
    let body = parse_json_body_with_locations(req, "put_user")?;
    let hasher = cluster.settings.stores.password_hashing;
    let put = authz::parse_put_user(&username, &body.value, &hasher)?;
    authorize(subject, RouteId::PutUser, None)?;
    let exists =
        cluster.security_index.exists() && cluster.security_index.users.contains_key(&username);
    put.check_create(exists)?;
    cluster.prepare_index_for_write()?;
    let user = put.to_user();
    let previous_hash = cluster
        .security_index
        .users
        .get(&username)
        .map(|u| u.password_hash.clone());
    let password_hash = match (&put.password, &put.password_hash, previous_hash) {
        (Some(p), _, _) => cluster.hash_password(p.expose()),
        (None, Some(h), _) => h.expose().to_string(),
        (None, None, Some(previous)) => previous,
        // `check_create` refused this already; never store an empty hash.
        (None, None, None) => return Err(authz::new_user_without_password_error()),
    };
    cluster.security_index.users.insert(
        username.clone(),
        UserDoc {
            username: username.clone(),
            password_hash,
            roles: user.roles,
            full_name: user.full_name,
            email: user.email,
            metadata: Value::Object(user.metadata),
            enabled: user.enabled,
        },
    );
    clear_user_from_realm_caches(cluster, node, &username);
    Ok(Response::ok(json!({ "created": !exists })))
}

/// A reserved user as `GET /_security/user` shows it (`ReservedRealm.users`).
fn reserved_user_json(cluster: &Cluster, username: &str) -> Value {
    let user = crate::cluster::reserved_user(username);
    let mut metadata = match user.metadata {
        Value::Object(m) => m,
        _ => Map::new(),
    };
    if username == "kibana" {
        metadata.insert("_deprecated".into(), json!(true));
        metadata.insert(
            "_deprecated_reason".into(),
            json!("Please use the [kibana_system] user instead."),
        );
    }
    User {
        username: user.username,
        roles: user.roles,
        full_name: None,
        email: None,
        metadata,
        enabled: cluster.reserved_user_enabled(username),
    }
    .to_json()
}

fn native_user_json(doc: &UserDoc) -> Value {
    json!({
        "username": doc.username,
        "roles": doc.roles,
        "full_name": doc.full_name,
        "email": doc.email,
        "metadata": doc.metadata,
        "enabled": doc.enabled,
    })
}

/// `GET /_security/user[/{username}]` (CA-UM2): reserved users, then native users; an internal name is
/// `user [<u>] is internal`; named users none of which exist answer 404 with `{}`.
pub(crate) fn get_users(
    cluster: &mut Cluster,
    req: &Request,
    subject: &Subject,
) -> Result<Response, EsError> {
    check_unconsumed_params(req, &["username", "with_profile_uid"])?;
    reject_unconsumed_body(req)?;
    req.param_as_boolean("with_profile_uid", false)?;
    let names: Vec<String> = req
        .param("username")
        .map(crate::rest::params::split_string_by_comma_to_array)
        .unwrap_or_default();
    authorize(subject, RouteId::GetUsers, None)?;
    if let Some(internal) = names
        .iter()
        .find(|n| INTERNAL_USERNAMES.contains(&n.as_str()))
    {
        return Err(EsError::illegal_argument(format!(
            "user [{internal}] is internal"
        )));
    }
    let mut out = Map::new();
    let reserved = crate::security::authz::RESERVED_USERNAMES;
    for r in reserved {
        if names.is_empty() || names.iter().any(|n| n == r) {
            out.insert((*r).to_string(), reserved_user_json(cluster, r));
        }
    }
    if !names.is_empty() || cluster.security_index.exists() {
        if cluster
            .security_index
            .unavailable_reason(crate::security::index::Availability::SearchShards)
            .is_none()
        {
            for doc in cluster.security_index.users.values() {
                if names.is_empty() || names.contains(&doc.username) {
                    out.insert(doc.username.clone(), native_user_json(doc));
                }
            }
        } else if cluster.security_index.exists() {
            if let Some(e) = cluster
                .security_index
                .unavailable_reason(crate::security::index::Availability::SearchShards)
            {
                return Err(e);
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

/// Refuses reserved (`... is reserved and cannot be deleted`) and internal users.
fn check_deletable(username: &str) -> Result<(), EsError> {
    if is_reserved_user(username) {
        return Err(EsError::illegal_argument(format!(
            "user [{username}] is reserved and cannot be deleted"
        )));
    }
    if INTERNAL_USERNAMES.contains(&username) {
        return Err(EsError::illegal_argument(format!(
            "user [{username}] is internal"
        )));
    }
    Ok(())
}

/// `DELETE /_security/user/{username}` (CA-UM3): `{"found": bool}`, 404 when there was no such user.
pub(crate) fn delete_user(
    cluster: &mut Cluster,
    node: NodeIndex,
    req: &Request,
    subject: &Subject,
) -> Result<Response, EsError> {
    check_unconsumed_params(req, &["username", "refresh"])?;
    reject_unconsumed_body(req)?;
    let username = req.param("username").unwrap_or("").to_string();
    authorize(subject, RouteId::DeleteUser, None)?;
    check_deletable(&username)?;
    let found = delete_from_index(cluster, |index| {
        index.users.shift_remove(&username).is_some()
    })?;
    clear_user_from_realm_caches(cluster, node, &username);
    Ok(found_response(found))
}

/// A delete on the `.security` index: nothing to find when it does not exist, ES's error when its
/// primary shards are not available, else whether `remove` found the document.
pub(super) fn delete_from_index(
    cluster: &mut Cluster,
    remove: impl FnOnce(&mut crate::security::index::SecurityIndex) -> bool,
) -> Result<bool, EsError> {
    if !cluster.security_index.exists() {
        return Ok(false);
    }
    if let Some(e) = cluster
        .security_index
        .unavailable_reason(crate::security::index::Availability::PrimaryShards)
    {
        return Err(e);
    }
    Ok(remove(&mut cluster.security_index))
}

/// A delete's answer: `{"found": bool}`, 404 when nothing was found.
pub(super) fn found_response(found: bool) -> Response {
    let status = if found { 200 } else { 404 };
    Response::new(status, json!({ "found": found }))
}

/// `PUT|POST /_security/user/{username}/_enable|_disable` (CA-UM4).
pub(crate) fn set_enabled(
    cluster: &mut Cluster,
    node: NodeIndex,
    req: &Request,
    auth: &Authentication,
    subject: &Subject,
    enabled: bool,
) -> Result<Response, EsError> {
    check_unconsumed_params(req, &["username", "refresh"])?;
    reject_unconsumed_body(req)?;
    let username = req.param("username").unwrap_or("").to_string();
    let route = if enabled {
        RouteId::EnableUser
    } else {
        RouteId::DisableUser
    };
    authorize(subject, route, None)?;
    if matches!(auth, Authentication::Realm { username: me, .. } if *me == username) {
        return Err(EsError::illegal_argument(
            "users may not update the enabled status of their own account",
        ));
    }
    if INTERNAL_USERNAMES.contains(&username.as_str()) {
        return Err(EsError::illegal_argument(format!(
            "user [{username}] is internal"
        )));
    }
    if is_reserved_user(&username) {
        cluster.prepare_index_for_write()?;
        cluster.update_reserved_user(&username, None, Some(enabled));
    } else {
        let exists =
            cluster.security_index.exists() && cluster.security_index.users.contains_key(&username);
        if !exists {
            return Err(validation_exception(&[format!(
                "only existing users can be {}",
                if enabled { "enabled" } else { "disabled" }
            )]));
        }
        cluster.prepare_index_for_write()?;
        if let Some(doc) = cluster.security_index.users.get_mut(&username) {
            doc.enabled = enabled;
        }
    }
    clear_user_from_realm_caches(cluster, node, &username);
    Ok(Response::ok(json!({})))
}

/// The new password of a change-password request: in clear (hashed by the store) or already hashed.
enum NewPassword {
    Clear(Secret),
    Hash(Secret),
}

/// `ChangePasswordRequestBuilder.source`: `password` or `password_hash`, nothing else.
fn parse_change_password(body: &Value, hasher: Hasher) -> Result<NewPassword, EsError> {
    let Value::Object(obj) = body else {
        return Err(EsError::parse(format!(
            "expected an object, but found token [{}]",
            token_name(body)
        )));
    };
    let mut hash: Option<Secret> = None;
    let mut password: Option<Secret> = None;
    for (f, v) in obj {
        let Value::String(text) = v else {
            if f == "password" || f == "password_hash" {
                return Err(EsError::parse(format!(
                    "expected field [{f}] to be of type string, but found [{}] instead",
                    token_name(v)
                )));
            }
            return Err(EsError::parse(format!(
                "failed to parse change password request. unexpected field [{f}]"
            )));
        };
        match f.as_str() {
            "password" => {
                if text.encode_utf16().count() < 6 {
                    return Err(validation_exception(&[
                        "passwords must be at least [6] characters long",
                    ]));
                }
                password = Some(Secret::new(text.as_str()));
            }
            "password_hash" => {
                let resolved = Hasher::resolve_from_hash(text)
                    .map_err(|e| EsError::illegal_argument(e.to_string()))?;
                if resolved != hasher {
                    return Err(EsError::illegal_argument(format!(
                        "Provided password hash uses [{}] but the configured hashing algorithm is [{}]",
                        resolved.name().to_uppercase(),
                        hasher.name().to_uppercase()
                    )));
                }
                hash = Some(Secret::new(text.as_str()));
            }
            other => {
                return Err(EsError::parse(format!(
                    "failed to parse change password request. unexpected field [{other}]"
                )))
            }
        }
    }
    match (password, hash) {
        (Some(p), _) => Ok(NewPassword::Clear(p)),
        (None, Some(h)) => Ok(NewPassword::Hash(h)),
        (None, None) => Err(EsError::validation(&["password is missing"])),
    }
}

/// `PUT|POST /_security/user[/{username}]/_password` (CA-UM5). Without a username, the caller's own
/// password; `change_password` is always allowed on one's own native or reserved user.
pub(crate) fn change_password(
    cluster: &mut Cluster,
    node: NodeIndex,
    req: &Request,
    auth: &Authentication,
    subject: &Subject,
) -> Result<Response, EsError> {
    check_unconsumed_params(req, &["username", "refresh"])?;
    let username = match req.param("username") {
        Some(u) => u.to_string(),
        None => auth.principal().to_string(),
    };
    let body = parse_json_body_with_locations(req, "change_password")?;
    let hasher = cluster.settings.stores.password_hashing;
    let new_password = parse_change_password(&body.value, hasher)?;
    authorize(subject, RouteId::ChangePassword, Some(&username))?;
    if INTERNAL_USERNAMES.contains(&username.as_str()) {
        return Err(EsError::illegal_argument(format!(
            "user [{username}] is internal"
        )));
    }
    let new_hash = match &new_password {
        NewPassword::Hash(h) => h.expose().to_string(),
        NewPassword::Clear(p) => cluster.hash_password(p.expose()),
    };
    if is_reserved_user(&username) {
        cluster.prepare_index_for_write()?;
        cluster.update_reserved_user(&username, Some(new_hash), None);
    } else {
        let exists =
            cluster.security_index.exists() && cluster.security_index.users.contains_key(&username);
        if !exists {
            return Err(validation_exception(&[
                "user must exist in order to change password",
            ]));
        }
        cluster.prepare_index_for_write()?;
        if let Some(doc) = cluster.security_index.users.get_mut(&username) {
            doc.password_hash = new_hash;
        }
    }
    clear_user_from_realm_caches(cluster, node, &username);
    Ok(Response::ok(json!({})))
}
