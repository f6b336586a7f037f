//! `POST /_security/realm/{realms}/_clear_cache` (`RestClearRealmCacheAction`, CA-RC6): `realms` and
//! the `usernames` query parameter as `paramAsStringArrayOrEmptyIfAll` (`*` and `_all` mean every
//! realm, every user).

use crate::cluster::Cluster;
use crate::error::EsError;
use crate::events::NodeIndex;
use crate::rest::{check_unconsumed_params, reject_unconsumed_body, Request, Response, RouteId};
use crate::security::authz::{self, ApiKeyRequest, RequestContext, Subject};

pub(crate) fn clear_realm_cache(
    cluster: &mut Cluster,
    node: NodeIndex,
    req: &Request,
    subject: &Subject,
) -> Result<Response, EsError> {
    check_unconsumed_params(req, &["realms", "usernames"])?;
    reject_unconsumed_body(req)?;
    let realms = req.param_as_string_array_or_empty_if_all("realms");
    let usernames = req.param_as_string_array_or_empty_if_all("usernames");
    authz::authorize(
        subject,
        RouteId::ClearRealmCache.action(),
        &RequestContext::new(ApiKeyRequest::Other),
    )?;
    Ok(Response::ok(
        cluster
            .clear_realm_cache(node, &realms, &usernames)
            .to_json(),
    ))
}
