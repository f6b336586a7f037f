//! Action names: the transport action each security API runs as, and the further action names
//! the cluster privilege patterns spell out (the `*Action.NAME` constants of
//! `x-pack/plugin/core/src/main/java/org/elasticsearch/xpack/core/security/action/`).

/// `ClearSecurityCacheAction` (API key cache, service token cache, realm caches...).
pub const CLEAR_SECURITY_CACHE: &str = "cluster:admin/xpack/security/cache/clear";
pub const CREATE_API_KEY: &str = "cluster:admin/xpack/security/api_key/create";
pub const GET_API_KEY: &str = "cluster:admin/xpack/security/api_key/get";
pub const INVALIDATE_API_KEY: &str = "cluster:admin/xpack/security/api_key/invalidate";
pub const UPDATE_API_KEY: &str = "cluster:admin/xpack/security/api_key/update";
pub(crate) const BULK_UPDATE_API_KEY: &str = "cluster:admin/xpack/security/api_key/bulk_update";
pub const QUERY_API_KEY: &str = "cluster:admin/xpack/security/api_key/query";
pub const GRANT_API_KEY: &str = "cluster:admin/xpack/security/api_key/grant";
pub const CREATE_SERVICE_ACCOUNT_TOKEN: &str =
    "cluster:admin/xpack/security/service_account/token/create";
pub const DELETE_SERVICE_ACCOUNT_TOKEN: &str =
    "cluster:admin/xpack/security/service_account/token/delete";
pub const GET_SERVICE_ACCOUNT_CREDENTIALS: &str =
    "cluster:admin/xpack/security/service_account/credential/get";
/// The per-node sub-action that gathers file tokens.
pub const GET_SERVICE_ACCOUNT_CREDENTIALS_NODES: &str =
    "cluster:admin/xpack/security/service_account/credential/get[n]";
pub const GET_SERVICE_ACCOUNT: &str = "cluster:admin/xpack/security/service_account/get";
pub const PUT_USER: &str = "cluster:admin/xpack/security/user/put";
pub(crate) const GET_USERS: &str = "cluster:admin/xpack/security/user/get";
pub(crate) const DELETE_USER: &str = "cluster:admin/xpack/security/user/delete";
pub(crate) const SET_ENABLED: &str = "cluster:admin/xpack/security/user/set_enabled";
pub(crate) const DELETE_ROLE: &str = "cluster:admin/xpack/security/role/delete";
/// `ClearRealmCacheAction`.
pub(crate) const CLEAR_REALM_CACHE: &str = "cluster:admin/xpack/security/realm/cache/clear";
/// `ClearRolesCacheAction`.
pub(crate) const CLEAR_ROLES_CACHE: &str = "cluster:admin/xpack/security/roles/cache/clear";
pub const CHANGE_PASSWORD: &str = "cluster:admin/xpack/security/user/change_password";
pub const PUT_ROLE: &str = "cluster:admin/xpack/security/role/put";
pub(crate) const GET_ROLES: &str = "cluster:admin/xpack/security/role/get";
pub const AUTHENTICATE: &str = "cluster:admin/xpack/security/user/authenticate";
pub(crate) const GET_BUILTIN_PRIVILEGES: &str =
    "cluster:admin/xpack/security/privilege/builtin/get";
pub(crate) const GET_PROFILES: &str = "cluster:admin/xpack/security/profile/get";
pub(crate) const ACTIVATE_PROFILE: &str = "cluster:admin/xpack/security/profile/activate";
pub(crate) const SUGGEST_PROFILES: &str = "cluster:admin/xpack/security/profile/suggest";
pub(crate) const PROFILE_HAS_PRIVILEGES: &str =
    "cluster:admin/xpack/security/profile/has_privileges";
/// `GET /` (cluster info).
pub const CLUSTER_MAIN: &str = "cluster:monitor/main";
// Issue 15, part 2.
/// `GetUserPrivilegesAction.NAME`.
pub(crate) const GET_USER_PRIVILEGES: &str = "cluster:admin/xpack/security/user/list_privileges";
/// `TransportClusterHealthAction.NAME`.
pub(crate) const CLUSTER_HEALTH: &str = "cluster:monitor/health";
/// `TransportNodesInfoAction.TYPE`.
pub(crate) const NODES_INFO: &str = "cluster:monitor/nodes/info";

// Further action names used only inside the privilege patterns below.
/// `HasPrivilegesAction.NAME`.
pub(crate) const HAS_PRIVILEGES: &str = "cluster:admin/xpack/security/user/has_privileges";
pub(super) const CLUSTER_STATE: &str = "cluster:monitor/state";
pub(super) const INVALIDATE_TOKEN: &str = "cluster:admin/xpack/security/token/invalidate";
pub(super) const REFRESH_TOKEN: &str = "cluster:admin/xpack/security/token/refresh";
pub(super) const SAML_SP_METADATA: &str = "cluster:monitor/xpack/security/saml/metadata";
pub(super) const DELEGATE_PKI: &str = "cluster:admin/xpack/security/delegate_pki";
pub(super) const GET_INDEX_TEMPLATES: &str = "indices:admin/template/get";
pub(super) const GET_COMPONENT_TEMPLATE: &str = "cluster:admin/component_template/get";
pub(super) const GET_COMPOSABLE_INDEX_TEMPLATE: &str = "indices:admin/index_template/get";
pub(super) const GET_REPOSITORIES: &str = "cluster:admin/repository/get";
pub(super) const XPACK_INFO: &str = "cluster:monitor/xpack/info";
pub(super) const REMOTE_CLUSTER_HANDSHAKE: &str = "cluster:internal/remote_cluster/handshake";
pub(super) const REMOTE_CLUSTER_NODES: &str = "cluster:internal/remote_cluster/nodes";
pub(super) const REMOTE_BAN_PARENT: &str = "cluster:internal/admin/tasks/ban";
pub(super) const REMOTE_CANCEL_CHILD: &str = "cluster:internal/admin/tasks/cancel_child";
