//! The route table: one [`RouteId`] per Elasticsearch REST handler, the transport action each runs,
//! and the (method, path) pairs of each handler's `routes()` (the `Rest*Action` classes in
//! `x-pack/plugin/security/src/main/java/org/elasticsearch/xpack/security/rest/action/` and
//! `server/src/main/java/org/elasticsearch/rest/action/RestMainAction.java`).

use crate::rest::request::Method;
use crate::security::authz;
use crate::security::version::EsVersion;

/// One variant per Elasticsearch REST handler (class). A handler registered for several methods (create
/// API key: POST and PUT; main: GET and HEAD) is one variant; the method is on the request.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub(crate) enum RouteId {
    /// `GET /`, `HEAD /` (`RestMainAction`).
    Main,
    /// `POST|PUT /_security/api_key` (`RestCreateApiKeyAction`).
    CreateApiKey,
    /// `GET /_security/api_key` (`RestGetApiKeyAction`).
    GetApiKey,
    /// `DELETE /_security/api_key` (`RestInvalidateApiKeyAction`).
    InvalidateApiKey,
    /// `PUT /_security/api_key/{ids}` (`RestUpdateApiKeyAction`; ES names the placeholder `ids` because
    /// `PathTrie` forbids two names at one position; the update takes a single id).
    UpdateApiKey,
    /// `POST /_security/api_key/{ids}/_clear_cache` (`RestClearApiKeyCacheAction`).
    ClearApiKeyCache,
    /// `GET /_security/_authenticate` (`RestAuthenticateAction`).
    Authenticate,
    /// `PUT|POST /_security/user/{username}` (`RestPutUserAction`).
    PutUser,
    /// `PUT|POST /_security/role/{name}` (`RestPutRoleAction`).
    PutRole,
    /// `POST|PUT /_security/service/{namespace}/{service}/credential/token/{name}` and
    /// `POST /_security/service/{namespace}/{service}/credential/token` (`RestCreateServiceAccountTokenAction`).
    CreateServiceAccountToken,
    /// `DELETE /_security/service/{namespace}/{service}/credential/token/{name}`.
    DeleteServiceAccountToken,
    /// `GET /_security/service/{namespace}/{service}/credential`.
    GetServiceAccountCredentials,
    /// `GET /_security/service`, `GET /_security/service/{namespace}`,
    /// `GET /_security/service/{namespace}/{service}` (`RestGetServiceAccountAction`).
    GetServiceAccount,
    /// `POST /_security/service/{namespace}/{service}/credential/token/{name}/_clear_cache`.
    ClearServiceAccountTokenStoreCache,
    // ---- realm, role and privilege caches and the user/role APIs that clear them (issue 15) ----
    /// `POST /_security/realm/{realms}/_clear_cache` (`RestClearRealmCacheAction`).
    ClearRealmCache,
    /// `POST /_security/role/{name}/_clear_cache` (`RestClearRolesCacheAction`).
    ClearRolesCache,
    /// `POST /_security/privilege/{application}/_clear_cache` (`RestClearPrivilegesCacheAction`).
    ClearPrivilegesCache,
    /// `GET /_security/user`, `GET /_security/user/{username}` (`RestGetUsersAction`).
    GetUsers,
    /// `DELETE /_security/user/{username}` (`RestDeleteUserAction`).
    DeleteUser,
    /// `PUT|POST /_security/user/{username}/_enable` (`RestSetEnabledAction`).
    EnableUser,
    /// `PUT|POST /_security/user/{username}/_disable` (`RestSetEnabledAction`).
    DisableUser,
    /// `PUT|POST /_security/user/{username}/_password`, `PUT|POST /_security/user/_password`
    /// (`RestChangePasswordAction`).
    ChangePassword,
    /// `GET /_security/role`, `GET /_security/role/{name}` (`RestGetRolesAction`).
    GetRoles,
    /// `DELETE /_security/role/{name}` (`RestDeleteRoleAction`).
    DeleteRole,
    // -- issue 15, part 2: what tooling calls around the caches (`rest/handlers/apis.rs`) --
    /// `GET|POST /_security/user[/{username}]/_has_privileges` (`RestHasPrivilegesAction`).
    HasPrivileges,
    /// `GET /_security/user/_privileges` (`RestGetUserPrivilegesAction`).
    GetUserPrivileges,
    /// `GET|POST /_security/_query/api_key` (`RestQueryApiKeyAction`).
    QueryApiKey,
    /// `POST /_security/api_key/_bulk_update` (`RestBulkUpdateApiKeyAction`).
    BulkUpdateApiKey,
    /// `POST|PUT /_security/api_key/grant` (`RestGrantApiKeyAction`).
    GrantApiKey,
    /// `GET /_cluster/health[/{index}]` (`RestClusterHealthAction`).
    ClusterHealth,
    /// `GET /_nodes[/{nodeId}[/{metrics}]]`, `GET /_nodes/{nodeId}/info/{metrics}` (`RestNodesInfoAction`).
    NodesInfo,
}

impl RouteId {
    #[cfg(test)]
    pub(crate) const ALL: [RouteId; 31] = [
        RouteId::Main,
        RouteId::CreateApiKey,
        RouteId::GetApiKey,
        RouteId::InvalidateApiKey,
        RouteId::UpdateApiKey,
        RouteId::ClearApiKeyCache,
        RouteId::Authenticate,
        RouteId::PutUser,
        RouteId::PutRole,
        RouteId::CreateServiceAccountToken,
        RouteId::DeleteServiceAccountToken,
        RouteId::GetServiceAccountCredentials,
        RouteId::GetServiceAccount,
        RouteId::ClearServiceAccountTokenStoreCache,
        RouteId::ClearRealmCache,
        RouteId::ClearRolesCache,
        RouteId::ClearPrivilegesCache,
        RouteId::GetUsers,
        RouteId::DeleteUser,
        RouteId::EnableUser,
        RouteId::DisableUser,
        RouteId::ChangePassword,
        RouteId::GetRoles,
        RouteId::DeleteRole,
        RouteId::HasPrivileges,
        RouteId::GetUserPrivileges,
        RouteId::QueryApiKey,
        RouteId::BulkUpdateApiKey,
        RouteId::GrantApiKey,
        RouteId::ClusterHealth,
        RouteId::NodesInfo,
    ];

    /// CA-VP7: the oldest version profile that has this REST handler. Update API key appeared in 8.4
    /// (PR #88186) and bulk update in 8.5 (PR #88856); every other route is older than 7.17.
    pub(crate) fn since(self) -> EsVersion {
        match self {
            RouteId::UpdateApiKey | RouteId::BulkUpdateApiKey => EsVersion::V8_19,
            _ => EsVersion::V7_17,
        }
    }

    /// The handler's `getName()`. The two clear-cache names come from AK-R5.6 and ST-R1;
    /// the others follow ES's naming and were not all re-read.
    pub(crate) fn handler_name(self) -> &'static str {
        match self {
            RouteId::Main => "main_action",
            RouteId::CreateApiKey => "xpack_security_create_api_key",
            RouteId::GetApiKey => "xpack_security_get_api_key",
            RouteId::InvalidateApiKey => "xpack_security_invalidate_api_key",
            RouteId::UpdateApiKey => "xpack_security_update_api_key",
            RouteId::ClearApiKeyCache => "security_clear_api_key_cache_action",
            RouteId::Authenticate => "security_authenticate_action",
            RouteId::PutUser => "security_put_user_action",
            RouteId::PutRole => "security_put_role_action",
            RouteId::CreateServiceAccountToken => "xpack_security_create_service_account_token",
            RouteId::DeleteServiceAccountToken => "xpack_security_delete_service_account_token",
            RouteId::GetServiceAccountCredentials => {
                "xpack_security_get_service_account_credentials"
            }
            RouteId::GetServiceAccount => "xpack_security_get_service_account",
            RouteId::ClearServiceAccountTokenStoreCache => {
                "xpack_security_clear_service_account_token_store_cache"
            }
            RouteId::ClearRealmCache => "security_clear_realm_cache_action",
            RouteId::ClearRolesCache => "security_clear_roles_cache_action",
            RouteId::ClearPrivilegesCache => "security_clear_privileges_cache_action",
            RouteId::GetUsers => "security_get_users_action",
            RouteId::DeleteUser => "security_delete_user_action",
            RouteId::EnableUser | RouteId::DisableUser => "security_set_enabled_action",
            RouteId::ChangePassword => "security_change_password_action",
            RouteId::GetRoles => "security_get_roles_action",
            RouteId::DeleteRole => "security_delete_role_action",
            RouteId::HasPrivileges => "security_has_privileges_action",
            RouteId::GetUserPrivileges => "security_user_privileges_action",
            RouteId::QueryApiKey => "xpack_security_query_api_key",
            RouteId::BulkUpdateApiKey => "xpack_security_bulk_update_api_key",
            RouteId::GrantApiKey => "xpack_security_grant_api_key",
            RouteId::ClusterHealth => "cluster_health_action",
            RouteId::NodesInfo => "nodes_info_action",
        }
    }

    /// The API's name as the official clients spell it (`security.clear_api_key_cache`): the
    /// `rest-api-spec` endpoint name, which the Python client's `Elasticsearch.<namespace>.<method>`
    /// follows. What `cluster.requests` records as `api` and the served-APIs page lists.
    pub(crate) fn api_name(self) -> &'static str {
        match self {
            RouteId::Main => "info",
            RouteId::CreateApiKey => "security.create_api_key",
            RouteId::GetApiKey => "security.get_api_key",
            RouteId::InvalidateApiKey => "security.invalidate_api_key",
            RouteId::UpdateApiKey => "security.update_api_key",
            RouteId::ClearApiKeyCache => "security.clear_api_key_cache",
            RouteId::Authenticate => "security.authenticate",
            RouteId::PutUser => "security.put_user",
            RouteId::PutRole => "security.put_role",
            RouteId::CreateServiceAccountToken => "security.create_service_token",
            RouteId::DeleteServiceAccountToken => "security.delete_service_token",
            RouteId::GetServiceAccountCredentials => "security.get_service_credentials",
            RouteId::GetServiceAccount => "security.get_service_accounts",
            RouteId::ClearServiceAccountTokenStoreCache => "security.clear_cached_service_tokens",
            RouteId::ClearRealmCache => "security.clear_cached_realms",
            RouteId::ClearRolesCache => "security.clear_cached_roles",
            RouteId::ClearPrivilegesCache => "security.clear_cached_privileges",
            RouteId::GetUsers => "security.get_user",
            RouteId::DeleteUser => "security.delete_user",
            RouteId::EnableUser => "security.enable_user",
            RouteId::DisableUser => "security.disable_user",
            RouteId::ChangePassword => "security.change_password",
            RouteId::GetRoles => "security.get_role",
            RouteId::DeleteRole => "security.delete_role",
            RouteId::HasPrivileges => "security.has_privileges",
            RouteId::GetUserPrivileges => "security.get_user_privileges",
            RouteId::QueryApiKey => "security.query_api_keys",
            RouteId::BulkUpdateApiKey => "security.bulk_update_api_keys",
            RouteId::GrantApiKey => "security.grant_api_key",
            RouteId::ClusterHealth => "cluster.health",
            RouteId::NodesInfo => "nodes.info",
        }
    }

    /// The transport action the handler runs (what authorization checks: AK-R5.7, ST-R4).
    pub(crate) fn action(self) -> &'static str {
        match self {
            RouteId::Main => authz::CLUSTER_MAIN,
            RouteId::CreateApiKey => authz::CREATE_API_KEY,
            RouteId::GetApiKey => authz::GET_API_KEY,
            RouteId::InvalidateApiKey => authz::INVALIDATE_API_KEY,
            RouteId::UpdateApiKey => authz::UPDATE_API_KEY,
            RouteId::ClearApiKeyCache
            | RouteId::ClearServiceAccountTokenStoreCache
            | RouteId::ClearPrivilegesCache => authz::CLEAR_SECURITY_CACHE,
            RouteId::ClearRealmCache => authz::CLEAR_REALM_CACHE,
            RouteId::ClearRolesCache => authz::CLEAR_ROLES_CACHE,
            RouteId::GetUsers => authz::GET_USERS,
            RouteId::DeleteUser => authz::DELETE_USER,
            RouteId::EnableUser | RouteId::DisableUser => authz::SET_ENABLED,
            RouteId::ChangePassword => authz::CHANGE_PASSWORD,
            RouteId::GetRoles => authz::GET_ROLES,
            RouteId::DeleteRole => authz::DELETE_ROLE,
            RouteId::Authenticate => authz::AUTHENTICATE,
            RouteId::PutUser => authz::PUT_USER,
            RouteId::PutRole => authz::PUT_ROLE,
            RouteId::CreateServiceAccountToken => authz::CREATE_SERVICE_ACCOUNT_TOKEN,
            RouteId::DeleteServiceAccountToken => authz::DELETE_SERVICE_ACCOUNT_TOKEN,
            RouteId::GetServiceAccountCredentials => authz::GET_SERVICE_ACCOUNT_CREDENTIALS,
            RouteId::GetServiceAccount => authz::GET_SERVICE_ACCOUNT,
            RouteId::HasPrivileges => authz::HAS_PRIVILEGES,
            RouteId::GetUserPrivileges => authz::GET_USER_PRIVILEGES,
            RouteId::QueryApiKey => authz::QUERY_API_KEY,
            RouteId::BulkUpdateApiKey => authz::BULK_UPDATE_API_KEY,
            RouteId::GrantApiKey => authz::GRANT_API_KEY,
            RouteId::ClusterHealth => authz::CLUSTER_HEALTH,
            RouteId::NodesInfo => authz::NODES_INFO,
        }
    }
}

/// Every (method, path pattern, handler) the router serves.
pub(crate) const ROUTES: &[(Method, &str, RouteId)] = &[
    (Method::Get, "/", RouteId::Main),
    (Method::Head, "/", RouteId::Main),
    (Method::Post, "/_security/api_key", RouteId::CreateApiKey),
    (Method::Put, "/_security/api_key", RouteId::CreateApiKey),
    (Method::Get, "/_security/api_key", RouteId::GetApiKey),
    (
        Method::Delete,
        "/_security/api_key",
        RouteId::InvalidateApiKey,
    ),
    (
        Method::Put,
        "/_security/api_key/{ids}",
        RouteId::UpdateApiKey,
    ),
    (
        Method::Post,
        "/_security/api_key/{ids}/_clear_cache",
        RouteId::ClearApiKeyCache,
    ),
    (
        Method::Get,
        "/_security/_authenticate",
        RouteId::Authenticate,
    ),
    (Method::Put, "/_security/user/{username}", RouteId::PutUser),
    (Method::Post, "/_security/user/{username}", RouteId::PutUser),
    (Method::Put, "/_security/role/{name}", RouteId::PutRole),
    (Method::Post, "/_security/role/{name}", RouteId::PutRole),
    (
        Method::Post,
        "/_security/service/{namespace}/{service}/credential/token/{name}",
        RouteId::CreateServiceAccountToken,
    ),
    (
        Method::Put,
        "/_security/service/{namespace}/{service}/credential/token/{name}",
        RouteId::CreateServiceAccountToken,
    ),
    (
        Method::Post,
        "/_security/service/{namespace}/{service}/credential/token",
        RouteId::CreateServiceAccountToken,
    ),
    (
        Method::Delete,
        "/_security/service/{namespace}/{service}/credential/token/{name}",
        RouteId::DeleteServiceAccountToken,
    ),
    (
        Method::Get,
        "/_security/service/{namespace}/{service}/credential",
        RouteId::GetServiceAccountCredentials,
    ),
    (
        Method::Get,
        "/_security/service",
        RouteId::GetServiceAccount,
    ),
    (
        Method::Get,
        "/_security/service/{namespace}",
        RouteId::GetServiceAccount,
    ),
    (
        Method::Get,
        "/_security/service/{namespace}/{service}",
        RouteId::GetServiceAccount,
    ),
    (
        Method::Post,
        "/_security/service/{namespace}/{service}/credential/token/{name}/_clear_cache",
        RouteId::ClearServiceAccountTokenStoreCache,
    ),
    // ---- issue 15: realm, role and privilege caches; user and role management ----
    (
        Method::Post,
        "/_security/realm/{realms}/_clear_cache",
        RouteId::ClearRealmCache,
    ),
    (
        Method::Post,
        "/_security/role/{name}/_clear_cache",
        RouteId::ClearRolesCache,
    ),
    (
        Method::Post,
        "/_security/privilege/{application}/_clear_cache",
        RouteId::ClearPrivilegesCache,
    ),
    (Method::Get, "/_security/user", RouteId::GetUsers),
    (Method::Get, "/_security/user/{username}", RouteId::GetUsers),
    (
        Method::Delete,
        "/_security/user/{username}",
        RouteId::DeleteUser,
    ),
    (
        Method::Put,
        "/_security/user/{username}/_enable",
        RouteId::EnableUser,
    ),
    (
        Method::Post,
        "/_security/user/{username}/_enable",
        RouteId::EnableUser,
    ),
    (
        Method::Put,
        "/_security/user/{username}/_disable",
        RouteId::DisableUser,
    ),
    (
        Method::Post,
        "/_security/user/{username}/_disable",
        RouteId::DisableUser,
    ),
    (
        Method::Put,
        "/_security/user/{username}/_password",
        RouteId::ChangePassword,
    ),
    (
        Method::Post,
        "/_security/user/{username}/_password",
        RouteId::ChangePassword,
    ),
    (
        Method::Put,
        "/_security/user/_password",
        RouteId::ChangePassword,
    ),
    (
        Method::Post,
        "/_security/user/_password",
        RouteId::ChangePassword,
    ),
    (Method::Get, "/_security/role", RouteId::GetRoles),
    (Method::Get, "/_security/role/{name}", RouteId::GetRoles),
    (
        Method::Delete,
        "/_security/role/{name}",
        RouteId::DeleteRole,
    ),
    // -- issue 15, part 2 --
    (
        Method::Get,
        "/_security/user/{username}/_has_privileges",
        RouteId::HasPrivileges,
    ),
    (
        Method::Post,
        "/_security/user/{username}/_has_privileges",
        RouteId::HasPrivileges,
    ),
    (
        Method::Get,
        "/_security/user/_has_privileges",
        RouteId::HasPrivileges,
    ),
    (
        Method::Post,
        "/_security/user/_has_privileges",
        RouteId::HasPrivileges,
    ),
    (
        Method::Get,
        "/_security/user/_privileges",
        RouteId::GetUserPrivileges,
    ),
    (
        Method::Get,
        "/_security/_query/api_key",
        RouteId::QueryApiKey,
    ),
    (
        Method::Post,
        "/_security/_query/api_key",
        RouteId::QueryApiKey,
    ),
    (
        Method::Post,
        "/_security/api_key/_bulk_update",
        RouteId::BulkUpdateApiKey,
    ),
    (
        Method::Post,
        "/_security/api_key/grant",
        RouteId::GrantApiKey,
    ),
    (
        Method::Put,
        "/_security/api_key/grant",
        RouteId::GrantApiKey,
    ),
    (Method::Get, "/_cluster/health", RouteId::ClusterHealth),
    (
        Method::Get,
        "/_cluster/health/{index}",
        RouteId::ClusterHealth,
    ),
    (Method::Get, "/_nodes", RouteId::NodesInfo),
    (Method::Get, "/_nodes/{nodeId}", RouteId::NodesInfo),
    (
        Method::Get,
        "/_nodes/{nodeId}/{metrics}",
        RouteId::NodesInfo,
    ),
    (
        Method::Get,
        "/_nodes/{nodeId}/info/{metrics}",
        RouteId::NodesInfo,
    ),
];

/// Elasticsearch's own routes under `/_security/user/`, `/_security/role/` and `/_security/api_key/`
/// that escache does not implement (from the `Rest*Action.routes()` of
/// `x-pack/plugin/security/src/main/java/org/elasticsearch/xpack/security/rest/action/`). They are in
/// the trie so that, as in ES's `PathTrie`, their literal segments win over the placeholders of the
/// routes escache does serve: `POST /_security/user/_has_privileges` must never reach put-user
/// (issue 8 point 11). A request that lands on one is answered like a path with no handler (400
/// `no handler found for uri [..] and method [..]`), and the methods they declare count for 405/`Allow`
/// as they do in ES.
pub(crate) const UNIMPLEMENTED_ROUTES: &[(Method, &str)] = &[
    // RestBulkPutRolesAction, RestBulkDeleteRolesAction
    (Method::Post, "/_security/role"),
    (Method::Delete, "/_security/role"),
    // Under `/_nodes/`, ES's literal segments that win over nodes info's `{nodeId}`/`{metrics}`:
    // RestNodesStatsAction, RestNodesUsageAction, RestNodesHotThreadsAction,
    // RestReloadSecureSettingsAction, the shutdown plugin and repositories metering.
    (Method::Get, "/_nodes/stats"),
    (Method::Get, "/_nodes/{nodeId}/stats"),
    (Method::Get, "/_nodes/stats/{metric}"),
    (Method::Get, "/_nodes/{nodeId}/stats/{metric}"),
    (Method::Get, "/_nodes/stats/{metric}/{index_metric}"),
    (
        Method::Get,
        "/_nodes/{nodeId}/stats/{metric}/{index_metric}",
    ),
    (Method::Get, "/_nodes/usage"),
    (Method::Get, "/_nodes/{nodeId}/usage"),
    (Method::Get, "/_nodes/usage/{metric}"),
    (Method::Get, "/_nodes/{nodeId}/usage/{metric}"),
    (Method::Get, "/_nodes/hot_threads"),
    (Method::Get, "/_nodes/{nodeId}/hot_threads"),
    (Method::Post, "/_nodes/reload_secure_settings"),
    (Method::Post, "/_nodes/{nodeId}/reload_secure_settings"),
    (Method::Get, "/_nodes/shutdown"),
    (Method::Get, "/_nodes/{nodeId}/shutdown"),
    (Method::Put, "/_nodes/{nodeId}/shutdown"),
    (Method::Delete, "/_nodes/{nodeId}/shutdown"),
    (Method::Get, "/_nodes/{nodeId}/_repositories_metering"),
    (
        Method::Delete,
        "/_nodes/{nodeId}/_repositories_metering/{maxVersionToClear}",
    ),
];
