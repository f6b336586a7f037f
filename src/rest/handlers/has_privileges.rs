//! `GET|POST /_security/user[/{username}]/_has_privileges` (`RestHasPrivilegesAction`,
//! `TransportHasPrivilegesAction`, `RoleDescriptor.parsePrivilegesToCheck`,
//! `HasPrivilegesRequest.validate`, `HasPrivilegesResponse.toXContent`). Rules API-HP1 to API-HP5.

use crate::error::EsError;
use crate::rest::body::parse_json_object;
use crate::rest::{check_unconsumed_params, Request, Response, RouteId};
use crate::security::authz::{
    self, check_privileges, parse_applications, parse_indices, role_string_array,
    PrivilegesToCheck, RequestContext, Subject,
};
use serde_json::{json, Map, Value};

/// The username a has-privileges or get-user-privileges request is about: the path's, or the
/// caller's principal (an API key's owner).
pub(super) fn target_username(req: &Request, subject: &Subject) -> String {
    req.param("username")
        .map_or_else(|| subject.caller().principal, str::to_owned)
}

/// `RestRequest.contentOrSourceParam`: the body, or the `source` parameter.
pub(super) fn content_or_source(req: &Request) -> Result<Vec<u8>, EsError> {
    match (&req.body, req.param("source")) {
        (Some(b), _) if !b.is_empty() => Ok(b.clone()),
        (_, Some(s)) => Ok(s.as_bytes().to_vec()),
        _ => Err(EsError::parse(
            "request body or source parameter is required",
        )),
    }
}

fn parse_check(description: &str, body: &Value) -> Result<PrivilegesToCheck, EsError> {
    let prefix = format!("failed to parse privileges check [{description}].");
    let Value::Object(obj) = body else {
        return Err(EsError::parse(format!(
            "{prefix} expected an object but found [{}] instead",
            crate::security::authz::token_name(body)
        )));
    };
    let (mut cluster, mut index, mut application) = (None, None, None);
    for (field, v) in obj {
        match field.as_str() {
            "index" | "indices" => index = Some(parse_indices(description, field, v)?),
            "cluster" => cluster = role_string_array(description, field, v, true)?,
            "application" | "applications" => {
                application = Some(parse_applications(description, field, v)?);
            }
            _ => {
                return Err(EsError::parse(format!(
                    "{prefix} unexpected field [{field}]"
                )))
            }
        }
    }
    if cluster.is_none() && index.is_none() && application.is_none() {
        return Err(EsError::parse(format!(
            "{prefix} All privilege fields [cluster,index,applications] are missing"
        )));
    }
    let index = index.unwrap_or_default();
    if index
        .iter()
        .any(|i| i.grant_fields.is_some() || i.except_fields.is_some())
    {
        return Err(EsError::parse(
            "Field [field_security] is not supported in a has_privileges request",
        ));
    }
    if index.iter().any(|i| i.query.is_some()) {
        return Err(EsError::parse(
            "Field [query] is not supported in a has_privileges request",
        ));
    }
    let check = PrivilegesToCheck {
        cluster: cluster.unwrap_or_default(),
        index,
        application: application.unwrap_or_default(),
    };
    let mut errors = Vec::new();
    for a in &check.application {
        if let Err(e) = validate_application_name(&a.application) {
            errors.push(e);
        }
    }
    if check.cluster.is_empty() && check.index.is_empty() && check.application.is_empty() {
        errors.push("must specify at least one privilege".to_string());
    }
    if !errors.is_empty() {
        return Err(EsError::validation(&errors));
    }
    Ok(check)
}

/// `Strings.INVALID_FILENAME_CHARS`.
const INVALID: &str = "\\/*?\"<>| ,";

/// `ApplicationPrivilege.validateApplicationName` (no wildcard in a check): a prefix of 3+ chars
/// matching `^[a-z][A-Za-z0-9]*$`, then an optional `-suffix` that is a valid file name.
fn validate_application_name(app: &str) -> Result<(), String> {
    if app.is_empty() {
        return Err("Application names cannot be blank".into());
    }
    if app.contains('*') {
        return Err(format!(
            "Application names may not contain '*' (found '{app}')"
        ));
    }
    let (prefix, suffix) = match app.split_once('-') {
        Some((p, s)) => (p, Some(s)),
        None => (app, None),
    };
    if prefix.chars().count() < 3 {
        return Err(format!(
            "An application name prefix must be at least 3 characters long (found '{prefix}')"
        ));
    }
    let valid_prefix = prefix
        .chars()
        .next()
        .is_some_and(|c| c.is_ascii_lowercase())
        && prefix.chars().all(|c| c.is_ascii_alphanumeric());
    if !valid_prefix {
        return Err(format!(
            "An application name prefix must match the pattern ^[a-z][A-Za-z0-9]*$ (found '{prefix}')"
        ));
    }
    if let Some(suffix) = suffix {
        if suffix.chars().any(|c| INVALID.contains(c)) {
            return Err(format!(
                "An application name suffix may not contain any of the characters '{INVALID}' (found '{suffix}')"
            ));
        }
    }
    Ok(())
}

fn resources_json(map: &authz::PrivilegesCheckResult) -> Value {
    let index: Map<String, Value> = map
        .index
        .iter()
        .map(|(r, p)| (r.clone(), json!(p)))
        .collect();
    let application: Map<String, Value> = map
        .application
        .iter()
        .map(|(app, res)| {
            let inner: Map<String, Value> =
                res.iter().map(|(r, p)| (r.clone(), json!(p))).collect();
            (app.clone(), Value::Object(inner))
        })
        .collect();
    json!({
        "has_all_requested": map.all_match,
        "cluster": map.cluster,
        "index": index,
        "application": application,
    })
}

pub(super) fn handle(req: &Request, subject: &Subject) -> Result<Response, EsError> {
    check_unconsumed_params(req, &["username", "source", "source_content_type"])?;
    let username = target_username(req, subject);
    let source = content_or_source(req)?;
    let body = match parse_json_object(&source, "has_privileges") {
        Ok(b) => b.value,
        // JSON that is not an object gets the privileges-check message; anything else the parser's.
        Err(e) => match serde_json::from_slice::<Value>(&source) {
            Ok(v) if !v.is_object() => v,
            _ => return Err(e),
        },
    };
    let check = parse_check(&format!("{username}/has_privileges"), &body)?;
    authz::authorize(
        subject,
        RouteId::HasPrivileges.action(),
        &RequestContext::none().with_target_username(&username),
    )?;
    if username != subject.caller().principal {
        return Err(EsError::illegal_argument(
            "users may only check the privileges of their own account",
        ));
    }
    let result = check_privileges(subject, &check)?;
    let mut body = json!({ "username": username });
    if let (Value::Object(out), Value::Object(rest)) = (&mut body, resources_json(&result)) {
        out.extend(rest);
    }
    Ok(Response::ok(body))
}
