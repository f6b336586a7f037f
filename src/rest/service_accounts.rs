//! Service account routes (ST-R1 to ST-R5 and M1-M4): create, delete, get credentials,
//! get service accounts, and `POST /_security/service/{namespace}/{service}/credential/token/{name}/_clear_cache`.

use super::{check_unconsumed_params, reject_unconsumed_body, Request, Response, RouteId};
use crate::cluster::{Authentication, Cluster};
use crate::error::EsError;
use crate::events::NodeIndex;
use crate::security::authz::{self, ApiKeyRequest, RequestContext, Subject};
use crate::security::service_account::{
    get_service_accounts_json_in, validate_token_name, ServiceAccountId,
};
use indexmap::IndexSet;
use serde_json::json;

pub(crate) fn handle(
    cluster: &mut Cluster,
    node: NodeIndex,
    route: RouteId,
    req: &Request,
    auth: &Authentication,
    subject: &Subject,
) -> Result<Response, EsError> {
    let authorize = || {
        authz::authorize(
            subject,
            route.action(),
            &RequestContext::new(ApiKeyRequest::Other),
        )
    };
    let namespace = req.param("namespace").unwrap_or("").to_string();
    let service = req.param("service").unwrap_or("").to_string();
    match route {
        RouteId::CreateServiceAccountToken => {
            check_unconsumed_params(req, &["namespace", "service", "name", "refresh"])?;
            let name = req.param("name").map(str::to_string);
            validate_request(&namespace, &service, name.as_deref())?;
            authorize()?;
            let account = ServiceAccountId {
                namespace,
                service_name: service,
            };
            let (name, value) =
                cluster.create_service_token(node, auth, &account, name.as_deref())?;
            Ok(Response::ok(
                json!({"created": true, "token": {"name": name, "value": value.expose()}}),
            ))
        }
        RouteId::DeleteServiceAccountToken => {
            check_unconsumed_params(req, &["namespace", "service", "name", "refresh"])?;
            reject_unconsumed_body(req)?;
            let name = req.param("name").unwrap_or("").to_string();
            validate_request(&namespace, &service, Some(&name))?;
            authorize()?;
            let account = ServiceAccountId {
                namespace,
                service_name: service,
            };
            let found = cluster.delete_service_token(node, &account, &name)?;
            Ok(Response::new(
                if found { 200 } else { 404 },
                json!({ "found": found }),
            ))
        }
        RouteId::GetServiceAccountCredentials => {
            check_unconsumed_params(req, &["namespace", "service"])?;
            reject_unconsumed_body(req)?;
            validate_request(&namespace, &service, None)?;
            authorize()?;
            let account = ServiceAccountId {
                namespace,
                service_name: service,
            };
            Ok(Response::ok(cluster.service_credentials(node, &account)?))
        }
        RouteId::GetServiceAccount => {
            check_unconsumed_params(req, &["namespace", "service"])?;
            reject_unconsumed_body(req)?;
            authorize()?;
            let ns = req.param("namespace");
            let svc = req.param("service");
            // CA-VP8: the profile's accounts.
            Ok(Response::ok(get_service_accounts_json_in(
                cluster.settings.version,
                ns,
                svc,
            )))
        }
        RouteId::ClearServiceAccountTokenStoreCache => {
            // `innerPrepareRequest` rejects a bad name before `BaseRestHandler` checks for unconsumed
            // parameters and body.
            let keys = clear_cache_keys(&namespace, &service, req.param("name"))?;
            check_unconsumed_params(req, &["namespace", "service", "name"])?;
            reject_unconsumed_body(req)?;
            authorize()?;
            let resp = cluster.clear_security_cache(node, "service", &keys);
            Ok(Response::ok(resp.to_json()))
        }
        _ => Err(EsError::illegal_state(format!(
            "route [{}] is not a service account route",
            route.handler_name()
        ))),
    }
}

/// `CreateServiceAccountTokenRequest.validate` / `DeleteServiceAccountTokenRequest.validate` (M1).
fn validate_request(namespace: &str, service: &str, name: Option<&str>) -> Result<(), EsError> {
    let mut errors = Vec::new();
    if namespace.trim().is_empty() {
        errors.push("service account namespace is required".to_string());
    }
    if service.trim().is_empty() {
        errors.push("service account service-name is required".to_string());
    }
    if let Some(name) = name {
        if let Err(e) = validate_token_name(name) {
            errors.push(e.into_reason());
        }
    }
    if errors.is_empty() {
        Ok(())
    } else {
        Err(EsError::validation(&errors))
    }
}

/// ST-R2: `*`, `_all` or nothing mean the account's prefix `ns/svc/`; otherwise every name must pass V1
/// (the first bad one is a 400 and nothing is cleared); duplicates are dropped. ST-R3: namespace and
/// service are not checked.
pub fn clear_cache_keys(
    namespace: &str,
    service: &str,
    names: Option<&str>,
) -> Result<Vec<String>, EsError> {
    let names = crate::rest::param_as_string_array_or_empty_if_all(names);
    if names.is_empty() {
        return Ok(vec![format!("{namespace}/{service}/")]);
    }
    let mut keys = IndexSet::new();
    for n in &names {
        validate_token_name(n)?;
        keys.insert(format!("{namespace}/{service}/{n}"));
    }
    Ok(keys.into_iter().collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn r2_name_parsing() {
        assert_eq!(
            clear_cache_keys("elastic", "fleet-server", Some("*")).unwrap(),
            ["elastic/fleet-server/"]
        );
        assert_eq!(
            clear_cache_keys("elastic", "fleet-server", Some("_all")).unwrap(),
            ["elastic/fleet-server/"]
        );
        assert_eq!(
            clear_cache_keys("elastic", "fleet-server", Some("")).unwrap(),
            ["elastic/fleet-server/"]
        );
        assert_eq!(
            clear_cache_keys("elastic", "fleet-server", None).unwrap(),
            ["elastic/fleet-server/"]
        );
        assert_eq!(
            clear_cache_keys("elastic", "fleet-server", Some("t1,t2,t1")).unwrap(),
            ["elastic/fleet-server/t1", "elastic/fleet-server/t2"]
        );
        for bad in ["_bad", "*,t1", "a,,b", "a b"] {
            let e = clear_cache_keys("elastic", "fleet-server", Some(bad)).unwrap_err();
            assert_eq!(e.kind, "illegal_argument_exception");
            assert!(
                e.reason.starts_with("invalid service token name ["),
                "{}",
                e.reason
            );
        }
        // ST-R3: namespace and service are taken literally.
        assert_eq!(clear_cache_keys("*", "*", Some("*")).unwrap(), ["*/*/"]);
    }
}
