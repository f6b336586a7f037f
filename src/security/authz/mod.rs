//! Authorization: cluster privileges, role descriptors, native users and the 403 that
//! Elasticsearch answers when a subject may not run an action.
//!
//! Sources (all in `elastic/elasticsearch`; `CORE` = `x-pack/plugin/core/.../xpack/core/security`,
//! `SEC` = `x-pack/plugin/security/.../xpack/security`):
//! - `CORE/authz/privilege/ClusterPrivilegeResolver.java` (9.x): the named cluster privileges, their
//!   action patterns, `resolve`, `findPrivilegesThatGrant` and `sortByAccessLevel`;
//! - `CORE/authz/permission/ClusterPermission.java`: `implies` (an automaton check only implies
//!   automaton checks; `manage_own_api_key`'s request check only implies itself);
//! - `CORE/authz/privilege/ManageOwnApiKeyClusterPrivilege.java` (8.x): which API key requests count
//!   as "own";
//! - `SEC/authz/AuthorizationDenialMessages.java` and `SEC/authz/AuthorizationService.java` (the
//!   query-API-key retry with `filterForCurrentUser`);
//! - `CORE/authz/RoleDescriptor.java` (`parse`, `toXContent`), `CORE/authz/store/ReservedRolesStore.java`,
//!   `CORE/support/Validation.java`, `CORE/action/user/PutUserRequestBuilder.java`,
//!   `CORE/action/role/RoleDescriptorRequestValidator.java`, `SEC/action/role/TransportPutRoleAction.java`,
//!   `SEC/action/user/TransportPutUserAction.java`.
//!
//! One file per responsibility, as Elasticsearch splits them:
//! - `actions.rs`: action names;
//! - `wildcard.rs`: wildcard patterns (`Automatons`);
//! - `privileges.rs`: named cluster privileges, `implies`, `findPrivilegesThatGrant`;
//! - `index_privileges.rs`: index privilege names;
//! - `request.rs`: the request context `manage_own_api_key` checks;
//! - `xcontent.rs`: x-content style JSON reading and `ValidationException`;
//! - `validation.rs`: user and role name rules (`Validation`);
//! - `reserved.rs`: reserved roles and users;
//! - `role_descriptor.rs`: `RoleDescriptor` parsing and validation, `PUT /_security/role`;
//! - `users.rs`: native users, `PUT /_security/user`;
//! - `subject.rs`: who is asking and its cluster permission;
//! - `denial.rs`: the authorization decision and its 403.
//!
//! Everything here is pure data and logic: no I/O, no clock.

mod actions;
mod check;
mod denial;
mod globs;
mod index_privileges;
mod privileges;
mod request;
mod reserved;
mod role_descriptor;
mod subject;
mod users;
mod validation;
mod wildcard;
mod xcontent;
pub(crate) use xcontent::{token_name, validation_exception};
// Issue 15, part 2: has-privileges and get-user-privileges.
pub(crate) use check::{check_privileges, PrivilegesCheckResult, PrivilegesToCheck};
pub(crate) use role_descriptor::{parse_applications, parse_indices};
pub(crate) use xcontent::role_string_array;

pub(crate) use actions::{
    ACTIVATE_PROFILE, BULK_UPDATE_API_KEY, GET_BUILTIN_PRIVILEGES, GET_PROFILES, GET_ROLES,
    GET_USERS, PROFILE_HAS_PRIVILEGES, SUGGEST_PROFILES,
};
pub use actions::{
    AUTHENTICATE, CHANGE_PASSWORD, CLEAR_SECURITY_CACHE, CLUSTER_MAIN, CREATE_API_KEY,
    CREATE_SERVICE_ACCOUNT_TOKEN, DELETE_SERVICE_ACCOUNT_TOKEN, GET_API_KEY, GET_SERVICE_ACCOUNT,
    GET_SERVICE_ACCOUNT_CREDENTIALS, GET_SERVICE_ACCOUNT_CREDENTIALS_NODES, GRANT_API_KEY,
    INVALIDATE_API_KEY, PUT_ROLE, PUT_USER, QUERY_API_KEY, UPDATE_API_KEY,
};
pub(crate) use actions::{
    CLEAR_REALM_CACHE, CLEAR_ROLES_CACHE, DELETE_ROLE, DELETE_USER, SET_ENABLED,
};
pub(crate) use actions::{CLUSTER_HEALTH, GET_USER_PRIVILEGES, HAS_PRIVILEGES, NODES_INFO};
pub use denial::Authorized;
pub use denial::{authorize, authorize_with_outcome};
pub use privileges::{
    cluster_privilege_names, find_privileges_that_grant, grants, is_cluster_action,
    ClusterPrivilege,
};
pub use request::Caller;
pub use request::{ApiKeyRequest, RequestContext};
pub use reserved::{is_reserved_role, reserved_role_descriptor, superuser_role_descriptor};
pub(crate) use reserved::{
    is_reserved_user, reserved_user_roles, INTERNAL_USERNAMES, RESERVED_ROLE_NAMES,
    RESERVED_USERNAMES,
};
pub use role_descriptor::{parse_put_role, RoleDescriptor};
pub(crate) use role_descriptor::{ApplicationPrivileges, IndicesPrivileges};
pub use subject::Subject;
pub use subject::{ApiKeySubject, ServiceAccountSubject, UserSubject};
pub(crate) use users::new_user_without_password_error;
pub use users::{parse_put_user, PutUserRequest, User};
pub(crate) use validation::{validate_role_name, validate_username};
pub(crate) use wildcard::wildcard_match;
