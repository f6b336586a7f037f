//! The authorization decision and the 403 that denies it
//! (`x-pack/plugin/security/src/main/java/org/elasticsearch/xpack/security/authz/AuthorizationService.java`,
//! with the query-API-key retry with `filterForCurrentUser`;
//! `x-pack/plugin/security/src/main/java/org/elasticsearch/xpack/security/authz/AuthorizationDenialMessages.java`).

use super::{
    find_privileges_that_grant, is_cluster_action, ApiKeyRequest, RequestContext, Subject,
    QUERY_API_KEY,
};
use crate::error::EsError;

/// What a successful authorization decided beyond "yes".
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Authorized {
    /// For `api_key/query`: the request was only allowed once restricted to the caller's own
    /// keys (`AuthorizationService` sets `filterForCurrentUser` and checks again).
    pub query_filtered_to_owner: bool,
}

/// The 403 `security_exception` for a denied action (`AuthorizationDenialMessages.actionDenied`).
pub(crate) fn action_denied(subject: &Subject, action: &str, ctx: &RequestContext) -> EsError {
    let mut msg = format!(
        "action [{action}] is unauthorized for {}",
        subject.description()
    );
    if is_cluster_action(action) {
        let privileges = find_privileges_that_grant(action, ctx);
        if !privileges.is_empty() {
            msg.push_str(&format!(
                ", this action is granted by the cluster privileges [{}]",
                privileges.join(",")
            ));
        }
    }
    EsError::security(msg, 403)
}

/// Authorizes `action` for `subject`, and says whether an API key query had to be narrowed to the
/// caller's own keys.
///
/// # Errors
/// The 403 of [`action_denied`].
pub fn authorize_with_outcome(
    subject: &Subject,
    action: &str,
    ctx: &RequestContext,
) -> Result<Authorized, EsError> {
    let mut ctx = ctx.clone();
    if ctx.caller.is_none() {
        ctx.caller = Some(subject.caller());
    }
    // `RBACEngine.authorizeClusterAction` checks the role, then `checkSameUserPermissions`; both are
    // pure, so the cheap one goes first (it decides `_authenticate` without matching privileges).
    if subject.same_user_allows(action, &ctx) || subject.cluster_permission_grants(action, &ctx) {
        return Ok(Authorized::default());
    }
    if action == QUERY_API_KEY {
        if let ApiKeyRequest::Query {
            filter_for_current_user: filter @ false,
            ..
        } = &mut ctx.request
        {
            *filter = true;
            if subject.cluster_permission_grants(action, &ctx) {
                return Ok(Authorized {
                    query_filtered_to_owner: true,
                });
            }
        }
    }
    Err(action_denied(subject, action, &ctx))
}

/// Authorizes `action` for `subject` with the request described by `ctx`.
///
/// # Errors
/// 403 `security_exception`: `action [<a>] is unauthorized for user [<u>] with effective roles
/// [<r1,r2>], this action is granted by the cluster privileges [<p1,p2>]` (API key: `for API key id
/// [<id>] of user [<owner>]`; service account: `for service account [<principal>]`).
pub fn authorize(subject: &Subject, action: &str, ctx: &RequestContext) -> Result<(), EsError> {
    authorize_with_outcome(subject, action, ctx).map(|_| ())
}
