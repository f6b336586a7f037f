//! `POST /_security/privilege/{application}/_clear_cache` (`RestClearPrivilegesCacheAction`, CA-AP3):
//! a `ClearSecurityCacheRequest` for the `application_privileges` invalidator, with `application`
//! as `paramAsStringArrayOrEmptyIfAll`. A node whose privilege cache is disabled has no such
//! invalidator and answers `No cache named [application_privileges] is found`.

use crate::cluster::Cluster;
use crate::error::EsError;
use crate::events::NodeIndex;
use crate::rest::{check_unconsumed_params, reject_unconsumed_body, Request, Response, RouteId};
use crate::security::authz::{self, ApiKeyRequest, RequestContext, Subject};

pub(crate) fn clear_privileges_cache(
    cluster: &mut Cluster,
    node: NodeIndex,
    req: &Request,
    subject: &Subject,
) -> Result<Response, EsError> {
    check_unconsumed_params(req, &["application"])?;
    reject_unconsumed_body(req)?;
    let applications = req.param_as_string_array_or_empty_if_all("application");
    authz::authorize(
        subject,
        RouteId::ClearPrivilegesCache.action(),
        &RequestContext::new(ApiKeyRequest::Other),
    )?;
    Ok(Response::ok(
        cluster
            .clear_security_cache(node, "application_privileges", &applications)
            .to_json(),
    ))
}
