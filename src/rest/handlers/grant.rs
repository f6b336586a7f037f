//! `POST|PUT /_security/api_key/grant` (`RestGrantApiKeyAction`, `TransportGrantApiKeyAction`,
//! `GrantApiKeyRequest.validate`, `Grant.validate`). Rule API-GR1: the caller (holding
//! `grant_api_key`) creates a key owned by another user, authenticated here with the password
//! grant (a failure to authenticate it is a 403 `Failed to authenticate api key grant`); the
//! response is create-API-key's. Access tokens are not modelled (no token service):
//! every one fails to authenticate. With `run_as` the key is the named native user's, when the
//! grant's user may run as them (its roles' `run_as` patterns).

use super::{object_field, parse_expiration, parse_role_descriptors, str_field, validate_metadata};
use crate::cluster::{Authentication, Cluster, CreateApiKeyRequest, RealmRef};
use crate::error::EsError;
use crate::events::NodeIndex;
use crate::rest::body::x_content_parse_error;
use crate::rest::{Request, Response, RouteId};
use crate::security::authz::{
    self, wildcard_match, ApiKeyRequest, RequestContext, Subject, AUTHENTICATE,
};
use base64::Engine;
use serde_json::Map;

const PARSER: &str = "grant_api_key_request";

/// `Grant.validate` and `CreateApiKeyRequest.validate`, one line per problem.
fn grant_errors(
    grant_type: Option<&str>,
    username: Option<&str>,
    password: Option<&str>,
    access_token: Option<&str>,
) -> Vec<String> {
    let mut errors = Vec::new();
    match grant_type {
        None => errors.push("[grant_type] is required".to_string()),
        Some("password") => {
            if username.is_none() {
                errors.push("[username] is required for grant_type [password]".into());
            }
            if password.is_none() {
                errors.push("[password] is required for grant_type [password]".into());
            }
            if access_token.is_some() {
                errors.push("[access_token] is not supported for grant_type [password]".into());
            }
        }
        Some("access_token") => {
            if username.is_some() {
                errors.push("[username] is not supported for grant_type [access_token]".into());
            }
            if password.is_some() {
                errors.push("[password] is not supported for grant_type [access_token]".into());
            }
            if access_token.is_none() {
                errors.push("[access_token] is required for grant_type [access_token]".into());
            }
        }
        Some(other) => errors.push(format!("grant_type [{other}] is not supported")),
    }
    errors
}

pub(super) fn handle(
    cluster: &mut Cluster,
    node: NodeIndex,
    req: &Request,
    subject: &Subject,
) -> Result<Response, EsError> {
    let (body, obj) = super::apis::object_body(
        req,
        PARSER,
        &[
            "grant_type",
            "username",
            "password",
            "access_token",
            "run_as",
            "client_authentication",
            "api_key",
        ],
    )?;
    let grant_type = str_field(&body, &obj, "grant_type", PARSER)?;
    let username = str_field(&body, &obj, "username", PARSER)?;
    let password = str_field(&body, &obj, "password", PARSER)?;
    let access_token = str_field(&body, &obj, "access_token", PARSER)?;
    let run_as = str_field(&body, &obj, "run_as", PARSER)?;
    let api_key = object_field(&body, &obj, "api_key", PARSER)?.unwrap_or_default();
    // The `api_key` object is create-API-key's own parser.
    if let Some(k) = api_key.keys().find(|k| {
        !matches!(
            k.as_str(),
            "name" | "role_descriptors" | "expiration" | "metadata"
        )
    }) {
        return Err(x_content_parse_error(
            body.key_location(&format!("/api_key/{k}")),
            &format!("[api_key_request] unknown field [{k}]"),
        ));
    }
    let key_name = api_key
        .get("name")
        .and_then(|v| v.as_str())
        .map(str::to_owned);
    let role_descriptors = match api_key.get("role_descriptors").and_then(|v| v.as_object()) {
        Some(m) => parse_role_descriptors(m)?,
        None => Map::new(),
    };
    let expiration = parse_expiration(
        api_key
            .get("expiration")
            .and_then(|v| v.as_str())
            .map(str::to_owned),
    )?;
    let metadata = api_key.get("metadata").and_then(|v| v.as_object()).cloned();
    let mut errors = grant_errors(
        grant_type.as_deref(),
        username.as_deref(),
        password.as_deref(),
        access_token.as_deref(),
    );
    match key_name.as_deref() {
        None | Some("") => errors.push("api key name is required".into()),
        Some(n) if n.chars().count() > 256 => {
            errors.push("api key name may not be more than 256 characters long".into());
        }
        Some(n) if n != n.trim() => {
            errors.push("api key name may not begin or end with whitespace".into());
        }
        Some(n) if n.starts_with('_') => {
            errors.push("api key name may not begin with an underscore".into());
        }
        Some(_) => {}
    }
    validate_metadata(metadata.as_ref(), &mut errors);
    if !errors.is_empty() {
        return Err(EsError::validation(&errors));
    }
    authz::authorize(
        subject,
        RouteId::GrantApiKey.action(),
        &RequestContext::new(ApiKeyRequest::Grant),
    )?;
    // `RestGrantApiKeyAction`: a 401 while authenticating the grant is answered as a 403.
    let failed = |cause: EsError| {
        EsError::security("Failed to authenticate api key grant", 403).with_cause(cause)
    };
    let (Some(user), Some(pw)) = (username, password) else {
        // An access token: escache has no token service, so no token authenticates.
        return Err(failed(EsError::security(
            "unable to authenticate with provided access token",
            401,
        )));
    };
    // The grant's user authenticates as a Basic request would, through the same realms.
    let header = format!(
        "Basic {}",
        base64::engine::general_purpose::STANDARD.encode(format!("{user}:{pw}"))
    );
    let grant_req = Request::new(
        "POST",
        req.uri(),
        vec![("Authorization".into(), header)],
        None,
    )
    .map_err(|e| EsError::illegal_argument(e.to_string()))?;
    let granted = super::authenticate(cluster, node, &grant_req).map_err(|e| {
        if e.status == 401 {
            failed(e)
        } else {
            e
        }
    })?;
    let owner = match run_as {
        Some(target) => run_as_user(cluster, &granted, &target)?,
        None => granted,
    };
    let created = cluster.create_api_key(
        node,
        &owner,
        CreateApiKeyRequest {
            // ok: validated above to be present and non-empty.
            name: key_name.unwrap_or_default(),
            role_descriptors,
            expiration,
            metadata,
        },
    )?;
    Ok(Response::ok(created.to_json()))
}

/// The grant's `run_as` user (`AuthorizationService` checks the run-as privilege of the
/// authenticated user with the authenticate action): a native user the granter's roles may run as.
fn run_as_user(
    cluster: &Cluster,
    granter: &Authentication,
    target: &str,
) -> Result<Authentication, EsError> {
    let subject = super::subject_of(cluster, granter)?;
    let may = match &subject {
        Subject::User(u) => u
            .descriptors
            .iter()
            .flat_map(|d| d.run_as.iter())
            .any(|p| wildcard_match(p, target)),
        _ => false,
    };
    let user = cluster
        .security_index
        .users
        .get(target)
        .filter(|u| u.enabled);
    match (may, user) {
        (true, Some(u)) => Ok(Authentication::Realm {
            username: u.username.clone(),
            roles: u.roles.clone(),
            full_name: u.full_name.clone(),
            email: u.email.clone(),
            metadata: u.metadata.clone(),
            realm: RealmRef {
                name: "default_native".into(),
                type_: "native".into(),
            },
        }),
        // `AuthorizationDenialMessages.runAsDenied`.
        _ => Err(EsError::security(
            format!(
                "action [{AUTHENTICATE}] is unauthorized for {}, because user [{}] is unauthorized to run as [{target}]",
                subject.description(),
                granter.principal()
            ),
            403,
        )),
    }
}
