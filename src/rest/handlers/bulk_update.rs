//! `POST /_security/api_key/_bulk_update` (`RestBulkUpdateApiKeyAction`,
//! `TransportBulkUpdateApiKeyAction`, `BulkUpdateApiKeyRequest.validate`,
//! `BulkUpdateApiKeyResponse.toXContent`). Rule API-BU1: each id is updated as the single update does
//! (and its `api_key_doc` entry cleared on every node); per-id failures are listed, not thrown.

use super::{object_field, parse_expiration, parse_role_descriptors, str_field, validate_metadata};
use crate::cluster::{Authentication, Cluster, UpdateApiKeyRequest};
use crate::error::EsError;
use crate::events::NodeIndex;
use crate::rest::body::x_content_parse_error;
use crate::rest::RouteId;
use crate::rest::{Request, Response};
use crate::security::authz::{self, token_name, ApiKeyRequest, RequestContext, Subject};
use serde_json::{json, Map, Value};

const PARSER: &str = "bulk_update_api_key_request";

pub(super) fn handle(
    cluster: &mut Cluster,
    node: NodeIndex,
    req: &Request,
    auth: &Authentication,
    subject: &Subject,
) -> Result<Response, EsError> {
    let (body, obj) = super::apis::object_body(
        req,
        PARSER,
        &["ids", "role_descriptors", "metadata", "expiration"],
    )?;
    let ids: Vec<String> = match obj.get("ids") {
        None | Some(Value::Null) => Vec::new(),
        Some(Value::String(s)) => vec![s.clone()],
        Some(Value::Array(a)) => a
            .iter()
            .map(|v| match v {
                Value::String(s) => Ok(s.clone()),
                other => Err(x_content_parse_error(
                    body.value_location("/ids"),
                    &format!(
                        "[{PARSER}] ids doesn't support values of type: {}",
                        token_name(other)
                    ),
                )),
            })
            .collect::<Result<_, _>>()?,
        Some(other) => {
            return Err(x_content_parse_error(
                body.value_location("/ids"),
                &format!(
                    "[{PARSER}] ids doesn't support values of type: {}",
                    token_name(other)
                ),
            ))
        }
    };
    let role_descriptors = match object_field(&body, &obj, "role_descriptors", PARSER)? {
        Some(m) => Some(parse_role_descriptors(&m)?),
        None => None,
    };
    let metadata = object_field(&body, &obj, "metadata", PARSER)?;
    let expiration = parse_expiration(str_field(&body, &obj, "expiration", PARSER)?)?;
    let mut errors = Vec::new();
    if ids.is_empty() {
        errors.push("Field [ids] cannot be empty".to_string());
    }
    validate_metadata(metadata.as_ref(), &mut errors);
    if !errors.is_empty() {
        return Err(EsError::validation(&errors));
    }
    authz::authorize(
        subject,
        RouteId::BulkUpdateApiKey.action(),
        &RequestContext::new(ApiKeyRequest::Update),
    )?;
    if matches!(auth, Authentication::ApiKey(_)) {
        return Err(EsError::illegal_argument(
            "authentication via API key not supported: only the owner user can update an API key",
        ));
    }
    let (mut updated, mut noops, mut details) = (Vec::new(), Vec::new(), Map::new());
    let mut seen = std::collections::HashSet::new();
    for id in ids.iter().filter(|id| seen.insert(id.as_str())) {
        let update = UpdateApiKeyRequest {
            role_descriptors: role_descriptors.clone(),
            metadata: metadata.clone(),
            expiration,
        };
        match cluster.update_api_key(node, auth, id, update) {
            Ok(true) => updated.push(id.clone()),
            Ok(false) => noops.push(id.clone()),
            Err(e) => {
                details.insert(id.clone(), e.to_body()["error"].clone());
            }
        }
    }
    let mut out = json!({ "updated": updated, "noops": noops });
    if !details.is_empty() {
        out["errors"] = json!({ "count": details.len(), "details": details });
    }
    Ok(Response::ok(out))
}
