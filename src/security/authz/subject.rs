//! Who is asking: a realm user, an API key or a service account, with the cluster permission
//! each has (`x-pack/plugin/core/src/main/java/org/elasticsearch/xpack/core/security/authc/Subject.java`,
//! `x-pack/plugin/security/src/main/java/org/elasticsearch/xpack/security/authz/RBACEngine.java`
//! `checkSameUserPermissions`).

use super::{
    Caller, RequestContext, RoleDescriptor, AUTHENTICATE, CHANGE_PASSWORD, GET_USER_PRIVILEGES,
    HAS_PRIVILEGES,
};
use std::collections::BTreeSet;
use std::sync::Arc;

/// A user authenticated by a realm, with its assigned role names and the descriptors they resolved to.
#[derive(Debug, Clone, PartialEq)]
pub struct UserSubject {
    pub(crate) username: String,
    /// The realm's name, e.g. `default_native`, `reserved`.
    pub(crate) realm_name: String,
    /// The realm's type, e.g. `native`, `reserved`, `file`.
    pub(crate) realm_type: String,
    /// The roles the user is assigned.
    pub(crate) roles: Vec<String>,
    /// The descriptors that were found for them (missing ones are reported in the 403).
    pub(crate) descriptors: Vec<RoleDescriptor>,
    /// The 403 names the assigned roles (`with roles [..]`, before PR #89680) instead of the
    /// effective ones (version profile CA-VP4).
    pub(crate) assigned_roles_wording: bool,
}

/// A request authenticated with an API key.
#[derive(Debug, Clone, PartialEq)]
pub struct ApiKeySubject {
    pub(crate) id: String,
    /// The owner's principal.
    pub(crate) owner: String,
    /// The owner's realm name.
    pub(crate) owner_realm: String,
    /// The key's own role descriptors; empty means "the owner's privileges" (the limited-by set).
    /// Shared: a stored blob is parsed once and every request on the key reads the same set.
    pub(crate) role_descriptors: Arc<[RoleDescriptor]>,
    /// The owner's role descriptors as of the key's creation or last update.
    pub(crate) limited_by: Arc<[RoleDescriptor]>,
}

/// A service account authenticated with a token.
#[derive(Debug, Clone, PartialEq)]
pub struct ServiceAccountSubject {
    /// `namespace/service`.
    pub(crate) principal: String,
    /// Its built-in role descriptor.
    pub(crate) role: RoleDescriptor,
}

/// Who is asking.
#[derive(Debug, Clone, PartialEq)]
#[allow(clippy::large_enum_variant)] // built once per request, never stored in bulk
pub enum Subject {
    User(UserSubject),
    ApiKey(ApiKeySubject),
    ServiceAccount(ServiceAccountSubject),
}

impl Subject {
    /// A native-realm user (`default_native`/`native`).
    pub fn native_user(
        username: impl Into<String>,
        roles: &[&str],
        descriptors: Vec<RoleDescriptor>,
    ) -> Self {
        Subject::User(UserSubject {
            username: username.into(),
            realm_name: "default_native".into(),
            realm_type: "native".into(),
            roles: roles.iter().map(std::string::ToString::to_string).collect(),
            descriptors,
            assigned_roles_wording: false,
        })
    }

    /// A reserved-realm user (`reserved`/`reserved`), e.g. `elastic` with `superuser`.
    pub fn reserved_user(
        username: impl Into<String>,
        roles: &[&str],
        descriptors: Vec<RoleDescriptor>,
    ) -> Self {
        Subject::User(UserSubject {
            username: username.into(),
            realm_name: "reserved".into(),
            realm_type: "reserved".into(),
            roles: roles.iter().map(std::string::ToString::to_string).collect(),
            descriptors,
            assigned_roles_wording: false,
        })
    }

    pub fn api_key(
        id: impl Into<String>,
        owner: impl Into<String>,
        owner_realm: impl Into<String>,
        role_descriptors: impl Into<Arc<[RoleDescriptor]>>,
        limited_by: impl Into<Arc<[RoleDescriptor]>>,
    ) -> Self {
        Subject::ApiKey(ApiKeySubject {
            id: id.into(),
            owner: owner.into(),
            owner_realm: owner_realm.into(),
            role_descriptors: role_descriptors.into(),
            limited_by: limited_by.into(),
        })
    }

    pub fn service_account(principal: impl Into<String>, role: RoleDescriptor) -> Self {
        Subject::ServiceAccount(ServiceAccountSubject {
            principal: principal.into(),
            role,
        })
    }

    /// The identity API-key ownership checks compare with.
    pub(crate) fn caller(&self) -> Caller {
        match self {
            Subject::User(u) => Caller {
                principal: u.username.clone(),
                realm: u.realm_name.clone(),
                api_key_id: None,
            },
            Subject::ApiKey(k) => Caller {
                principal: k.owner.clone(),
                realm: k.owner_realm.clone(),
                api_key_id: Some(k.id.clone()),
            },
            Subject::ServiceAccount(s) => Caller {
                principal: s.principal.clone(),
                realm: "_service_account".into(),
                api_key_id: None,
            },
        }
    }

    /// Whether the subject's cluster permission grants `action` (no same-user rules).
    pub(crate) fn cluster_permission_grants(&self, action: &str, ctx: &RequestContext) -> bool {
        let any = |set: &[RoleDescriptor]| set.iter().any(|d| d.grants_cluster_action(action, ctx));
        match self {
            Subject::User(u) => any(&u.descriptors),
            Subject::ServiceAccount(s) => s.role.grants_cluster_action(action, ctx),
            Subject::ApiKey(k) => {
                let own = if k.role_descriptors.is_empty() {
                    &k.limited_by
                } else {
                    &k.role_descriptors
                };
                any(own) && any(&k.limited_by)
            }
        }
    }

    /// `RBACEngine.checkSameUserPermissions`: `authenticate` always; `change_password` for the
    /// user's own password when it comes from the native or reserved realm.
    pub(super) fn same_user_allows(&self, action: &str, ctx: &RequestContext) -> bool {
        if action == AUTHENTICATE {
            return true;
        }
        // Has-privileges and get-user-privileges for the caller's own principal (the handlers
        // refuse any other user; an API key's principal is its owner's).
        if action == HAS_PRIVILEGES || action == GET_USER_PRIVILEGES {
            return ctx.target_username.as_deref() == Some(self.caller().principal.as_str());
        }
        if action == CHANGE_PASSWORD {
            if let Subject::User(u) = self {
                return ctx.target_username.as_deref() == Some(u.username.as_str())
                    && (u.realm_type == "native" || u.realm_type == "reserved");
            }
        }
        false
    }

    /// `AuthorizationDenialMessages.successfulAuthenticationDescription`.
    pub(crate) fn description(&self) -> String {
        match self {
            Subject::User(u) if u.assigned_roles_wording => {
                format!("user [{}] with roles [{}]", u.username, u.roles.join(","))
            }
            Subject::User(u) => {
                let mut effective: Vec<&str> =
                    u.descriptors.iter().map(|d| d.name.as_str()).collect();
                effective.sort_unstable();
                effective.dedup();
                let mut s = format!(
                    "user [{}] with effective roles [{}]",
                    u.username,
                    effective.join(",")
                );
                let missing: BTreeSet<&str> = u
                    .roles
                    .iter()
                    .map(String::as_str)
                    .filter(|r| !effective.contains(r))
                    .collect();
                if !missing.is_empty() {
                    s.push_str(&format!(
                        " (assigned roles [{}] were not found)",
                        missing.into_iter().collect::<Vec<_>>().join(",")
                    ));
                }
                s
            }
            Subject::ApiKey(k) => format!("API key id [{}] of user [{}]", k.id, k.owner),
            Subject::ServiceAccount(s) => format!("service account [{}]", s.principal),
        }
    }
}
