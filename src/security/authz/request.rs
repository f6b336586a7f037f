//! What a request asks for and who asks, as `ManageOwnApiKeyClusterPrivilege` (8.x,
//! `x-pack/plugin/core/src/main/java/org/elasticsearch/xpack/core/security/authz/privilege/ManageOwnApiKeyClusterPrivilege.java`)
//! inspects it to decide which API key requests count as "own".

use super::{
    BULK_UPDATE_API_KEY, CREATE_API_KEY, GET_API_KEY, GRANT_API_KEY, INVALIDATE_API_KEY,
    QUERY_API_KEY, UPDATE_API_KEY,
};

/// The identity `ManageOwnApiKeyClusterPrivilege` compares a request with.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Caller {
    /// The effective user's principal (for an API key: the owner).
    pub(crate) principal: String,
    /// The effective user's realm name (for an API key: the owner's realm).
    pub(crate) realm: String,
    /// Set when the caller authenticated with an API key: that key's id.
    pub(crate) api_key_id: Option<String>,
}

/// The API key request shapes `ManageOwnApiKeyClusterPrivilege` inspects.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub enum ApiKeyRequest {
    /// Not an API key request (any other action).
    #[default]
    Other,
    /// `CreateApiKeyRequest`: always the caller's own key.
    Create,
    /// `UpdateApiKeyRequest` / `BulkUpdateApiKeyRequest`: ownership is enforced later, by the service.
    Update,
    /// `GetApiKeyRequest` (`GET /_security/api_key?id=&name=&username=&realm_name=&owner=&with_limited_by=`).
    Get {
        id: Option<String>,
        username: Option<String>,
        realm_name: Option<String>,
        owner: bool,
        with_limited_by: bool,
    },
    /// `InvalidateApiKeyRequest` (`DELETE /_security/api_key`); `ids` is `None` when the body has
    /// neither `id` nor `ids`.
    Invalidate {
        ids: Option<Vec<String>>,
        username: Option<String>,
        realm_name: Option<String>,
        owner: bool,
    },
    /// `QueryApiKeyRequest`.
    Query {
        filter_for_current_user: bool,
        with_limited_by: bool,
    },
    /// `GrantApiKeyRequest`: never "own".
    Grant,
}

/// Everything about a request that privilege checks look at besides the action name.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct RequestContext {
    pub(crate) request: ApiKeyRequest,
    /// Who asks. [`authorize`] fills it from the subject when it is `None`; a bare [`grants`]
    /// call without it treats the caller as a user that no username/realm pair matches.
    pub(crate) caller: Option<Caller>,
    /// For user requests (`change_password`, ...): the user named in the request.
    pub(crate) target_username: Option<String>,
}

impl RequestContext {
    /// A request that is not about API keys.
    pub fn none() -> Self {
        Self::default()
    }

    pub fn new(request: ApiKeyRequest) -> Self {
        RequestContext {
            request,
            caller: None,
            target_username: None,
        }
    }

    /// The plain request shape for an API key action (`get` and `invalidate` without any filter,
    /// `query` unfiltered); [`ApiKeyRequest::Other`] for any other action.
    pub fn for_action(action: &str) -> Self {
        let request = match action {
            CREATE_API_KEY => ApiKeyRequest::Create,
            UPDATE_API_KEY | BULK_UPDATE_API_KEY => ApiKeyRequest::Update,
            GET_API_KEY => ApiKeyRequest::Get {
                id: None,
                username: None,
                realm_name: None,
                owner: false,
                with_limited_by: false,
            },
            INVALIDATE_API_KEY => ApiKeyRequest::Invalidate {
                ids: None,
                username: None,
                realm_name: None,
                owner: false,
            },
            QUERY_API_KEY => ApiKeyRequest::Query {
                filter_for_current_user: false,
                with_limited_by: false,
            },
            GRANT_API_KEY => ApiKeyRequest::Grant,
            _ => ApiKeyRequest::Other,
        };
        Self::new(request)
    }

    /// The request shape for an API key action restricted to the caller's own keys (`owner=true`,
    /// or a query filtered to the current user).
    pub fn owned_by_caller(action: &str) -> Self {
        let mut ctx = Self::for_action(action);
        match &mut ctx.request {
            ApiKeyRequest::Get { owner, .. } | ApiKeyRequest::Invalidate { owner, .. } => {
                *owner = true;
            }
            ApiKeyRequest::Query {
                filter_for_current_user,
                ..
            } => *filter_for_current_user = true,
            _ => {}
        }
        ctx
    }

    #[must_use]
    pub fn with_caller(mut self, caller: Caller) -> Self {
        self.caller = Some(caller);
        self
    }

    #[must_use]
    pub fn with_target_username(mut self, username: impl Into<String>) -> Self {
        self.target_username = Some(username.into());
        self
    }
}

fn has_text(s: Option<&str>) -> Option<&str> {
    s.filter(|s| !s.trim().is_empty())
}

/// `checkIfUserIsOwnerOfApiKeys`.
fn owns_api_keys(
    caller: Option<&Caller>,
    api_key_id: Option<&str>,
    username: Option<&str>,
    realm_name: Option<&str>,
    owner: bool,
) -> bool {
    if let Some(key_id) = caller.and_then(|c| c.api_key_id.as_deref()) {
        // An API key may only act on itself, and only when the request names its id.
        return matches!(api_key_id, Some(id) if !id.trim().is_empty() && id == key_id);
    }
    if owner {
        return true;
    }
    match (has_text(username), has_text(realm_name), caller) {
        (Some(u), Some(r), Some(c)) => u == c.principal && r == c.realm,
        _ => false,
    }
}

/// `ManageOwnClusterPermissionCheck.extendedCheck`.
pub(super) fn manage_own_api_key_check(ctx: &RequestContext) -> bool {
    let caller = ctx.caller.as_ref();
    let is_api_key = caller.is_some_and(|c| c.api_key_id.is_some());
    match &ctx.request {
        ApiKeyRequest::Create | ApiKeyRequest::Update => true,
        ApiKeyRequest::Get {
            id,
            username,
            realm_name,
            owner,
            with_limited_by,
        } => {
            if is_api_key && *with_limited_by {
                return false;
            }
            owns_api_keys(
                caller,
                id.as_deref(),
                username.as_deref(),
                realm_name.as_deref(),
                *owner,
            )
        }
        ApiKeyRequest::Invalidate {
            ids,
            username,
            realm_name,
            owner,
        } => match ids {
            None => owns_api_keys(
                caller,
                None,
                username.as_deref(),
                realm_name.as_deref(),
                *owner,
            ),
            Some(ids) => ids.iter().all(|id| {
                owns_api_keys(
                    caller,
                    Some(id),
                    username.as_deref(),
                    realm_name.as_deref(),
                    *owner,
                )
            }),
        },
        ApiKeyRequest::Query {
            filter_for_current_user,
            with_limited_by,
        } => {
            if is_api_key && *with_limited_by {
                return false;
            }
            *filter_for_current_user
        }
        // Elasticsearch throws for other request types; nothing is granted.
        ApiKeyRequest::Grant | ApiKeyRequest::Other => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::security::authz::{grants, GET_API_KEY};

    #[test]
    fn manage_own_api_key_owner_rules() {
        let user = Caller {
            principal: "bob".into(),
            realm: "default_native".into(),
            api_key_id: None,
        };
        let key = Caller {
            principal: "bob".into(),
            realm: "default_native".into(),
            api_key_id: Some("k1".into()),
        };
        let get = |id: Option<&str>, u: Option<&str>, r: Option<&str>, owner: bool| {
            RequestContext::new(ApiKeyRequest::Get {
                id: id.map(Into::into),
                username: u.map(Into::into),
                realm_name: r.map(Into::into),
                owner,
                with_limited_by: false,
            })
        };
        let g = |ctx: RequestContext, c: &Caller| {
            grants(
                "manage_own_api_key",
                GET_API_KEY,
                &ctx.with_caller(c.clone()),
            )
        };
        assert!(g(get(None, None, None, true), &user));
        assert!(!g(get(None, None, None, false), &user));
        assert!(g(
            get(None, Some("bob"), Some("default_native"), false),
            &user
        ));
        assert!(!g(get(None, Some("bob"), Some("file"), false), &user));
        assert!(!g(get(None, Some("bob"), None, false), &user));
        // An API key: only its own id, even with owner=true.
        assert!(g(get(Some("k1"), None, None, false), &key));
        assert!(!g(get(Some("k2"), None, None, true), &key));
        assert!(!g(get(None, None, None, true), &key));
    }
}
