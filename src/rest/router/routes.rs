//! The route table: one [`RouteId`] per Elasticsearch REST handler, the transport action each runs,
//! and the (method, path) pairs of each handler's `routes()` (the `Rest*Action` classes in
//! `x-pack/plugin/security/src/main/java/org/elasticsearch/xpack/security/rest/action/` and
//! `server/src/main/java/org/elasticsearch/rest/action/RestMainAction.java`).

use crate::rest::request::Method;
use crate::security::authz;

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
    pub(crate) const ALL: [RouteId; 21] = [
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
        RouteId::HasPrivileges,
        RouteId::GetUserPrivileges,
        RouteId::QueryApiKey,
        RouteId::BulkUpdateApiKey,
        RouteId::GrantApiKey,
        RouteId::ClusterHealth,
        RouteId::NodesInfo,
    ];

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
            RouteId::ClearApiKeyCache | RouteId::ClearServiceAccountTokenStoreCache => {
                authz::CLEAR_SECURITY_CACHE
            }
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
    // RestGetUsersAction, RestDeleteUserAction
    (Method::Get, "/_security/user"),
    (Method::Get, "/_security/user/{username}"),
    (Method::Delete, "/_security/user/{username}"),
    // RestChangePasswordAction
    (Method::Put, "/_security/user/{username}/_password"),
    (Method::Post, "/_security/user/{username}/_password"),
    (Method::Put, "/_security/user/_password"),
    (Method::Post, "/_security/user/_password"),
    // RestSetEnabledAction
    (Method::Put, "/_security/user/{username}/_enable"),
    (Method::Post, "/_security/user/{username}/_enable"),
    (Method::Put, "/_security/user/{username}/_disable"),
    (Method::Post, "/_security/user/{username}/_disable"),
    // RestGetRolesAction, RestDeleteRoleAction, RestClearRolesCacheAction, bulk put/delete roles
    (Method::Get, "/_security/role"),
    (Method::Get, "/_security/role/{name}"),
    (Method::Delete, "/_security/role/{name}"),
    (Method::Post, "/_security/role/{name}/_clear_cache"),
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
