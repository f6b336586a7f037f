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
//! Everything here is pure data and logic: no I/O, no clock.

use crate::error::{EsError, ExceptionType};
use crate::security::hashing::{Hasher, Secret};
use serde_json::{json, Map, Value};
use std::collections::BTreeSet;
use std::sync::OnceLock;

// =============================================================================================
// Action names
// =============================================================================================

/// `ClearSecurityCacheAction` (API key cache, service token cache, realm caches...).
pub const CLEAR_SECURITY_CACHE: &str = "cluster:admin/xpack/security/cache/clear";
pub const CREATE_API_KEY: &str = "cluster:admin/xpack/security/api_key/create";
pub const GET_API_KEY: &str = "cluster:admin/xpack/security/api_key/get";
pub const INVALIDATE_API_KEY: &str = "cluster:admin/xpack/security/api_key/invalidate";
pub const UPDATE_API_KEY: &str = "cluster:admin/xpack/security/api_key/update";
pub const BULK_UPDATE_API_KEY: &str = "cluster:admin/xpack/security/api_key/bulk_update";
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
pub const GET_USERS: &str = "cluster:admin/xpack/security/user/get";
pub const DELETE_USER: &str = "cluster:admin/xpack/security/user/delete";
pub const CHANGE_PASSWORD: &str = "cluster:admin/xpack/security/user/change_password";
pub const PUT_ROLE: &str = "cluster:admin/xpack/security/role/put";
pub const GET_ROLES: &str = "cluster:admin/xpack/security/role/get";
pub const DELETE_ROLE: &str = "cluster:admin/xpack/security/role/delete";
pub const AUTHENTICATE: &str = "cluster:admin/xpack/security/user/authenticate";
/// `GET /` (cluster info).
pub const CLUSTER_MAIN: &str = "cluster:monitor/main";

// Further action names used only inside the privilege patterns below.
const HAS_PRIVILEGES: &str = "cluster:admin/xpack/security/user/has_privileges";
const CLUSTER_STATE: &str = "cluster:monitor/state";
const INVALIDATE_TOKEN: &str = "cluster:admin/xpack/security/token/invalidate";
const REFRESH_TOKEN: &str = "cluster:admin/xpack/security/token/refresh";
const SAML_SP_METADATA: &str = "cluster:monitor/xpack/security/saml/metadata";
const DELEGATE_PKI: &str = "cluster:admin/xpack/security/delegate_pki";
const GET_INDEX_TEMPLATES: &str = "indices:admin/template/get";
const GET_COMPONENT_TEMPLATE: &str = "cluster:admin/component_template/get";
const GET_COMPOSABLE_INDEX_TEMPLATE: &str = "indices:admin/index_template/get";
const GET_REPOSITORIES: &str = "cluster:admin/repository/get";
const XPACK_INFO: &str = "cluster:monitor/xpack/info";
const REMOTE_CLUSTER_HANDSHAKE: &str = "cluster:internal/remote_cluster/handshake";
const REMOTE_CLUSTER_NODES: &str = "cluster:internal/remote_cluster/nodes";
const REMOTE_BAN_PARENT: &str = "cluster:internal/admin/tasks/ban";
const REMOTE_CANCEL_CHILD: &str = "cluster:internal/admin/tasks/cancel_child";

// =============================================================================================
// Wildcard patterns (`Automatons.pattern`: `*` any string, `?` one char, `\` escapes)
// =============================================================================================

/// Whether `text` matches the wildcard `pattern` (`*` any run of chars, `?` one char, `\x` the
/// literal `x`), as an `Automatons.pattern` automaton accepts it.
pub fn wildcard_match(pattern: &str, text: &str) -> bool {
    #[derive(Clone, Copy, PartialEq)]
    enum Tok {
        Star,
        Any,
        Lit(char),
    }
    let mut toks = Vec::new();
    let mut it = pattern.chars();
    while let Some(c) = it.next() {
        match c {
            '*' => toks.push(Tok::Star),
            '?' => toks.push(Tok::Any),
            '\\' => match it.next() {
                Some(n) => toks.push(Tok::Lit(n)),
                None => toks.push(Tok::Lit('\\')),
            },
            c => toks.push(Tok::Lit(c)),
        }
    }
    let chars: Vec<char> = text.chars().collect();
    // Iterative glob matching with single-star backtracking.
    let (mut p, mut t) = (0usize, 0usize);
    let mut star: Option<(usize, usize)> = None;
    while t < chars.len() {
        if p < toks.len() {
            match toks[p] {
                Tok::Star => {
                    star = Some((p, t));
                    p += 1;
                    continue;
                }
                Tok::Any => {
                    p += 1;
                    t += 1;
                    continue;
                }
                Tok::Lit(c) if c == chars[t] => {
                    p += 1;
                    t += 1;
                    continue;
                }
                Tok::Lit(_) => {}
            }
        }
        match star {
            Some((sp, st)) => {
                p = sp + 1;
                t = st + 1;
                star = Some((sp, st + 1));
            }
            None => return false,
        }
    }
    toks[p..].iter().all(|t| *t == Tok::Star)
}

// =============================================================================================
// Named cluster privileges
// =============================================================================================

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum CheckKind {
    /// `ActionClusterPrivilege`: allowed patterns minus excluded patterns.
    Automaton,
    /// `ManageOwnApiKeyClusterPrivilege`: `cluster:admin/xpack/security/api_key/*` plus a request
    /// check.
    ManageOwnApiKey,
}

struct Def {
    name: &'static str,
    allow: &'static [&'static str],
    exclude: &'static [&'static str],
    kind: CheckKind,
}

const fn def(name: &'static str, allow: &'static [&'static str]) -> Def {
    Def {
        name,
        allow,
        exclude: &[],
        kind: CheckKind::Automaton,
    }
}

const ALL_CLUSTER: &[&str] = &[
    "cluster:*",
    "indices:admin/template/*",
    "indices:admin/index_template/*",
];
const ALL_SECURITY: &[&str] = &["cluster:admin/xpack/security/*"];
const CONNECTOR_SECRETS: &[&str] = &[
    "cluster:admin/xpack/connector/secret/get",
    "cluster:admin/xpack/connector/secret/delete",
    "cluster:admin/xpack/connector/secret/post",
    "cluster:admin/xpack/connector/secret/put",
];
const MANAGE_OWN_API_KEY_PATTERN: &str = "cluster:admin/xpack/security/api_key/*";

/// `ClusterPrivilegeResolver.VALUES` before sorting (9.x), with each privilege's patterns.
static DEFS: &[Def] = &[
    Def {
        name: "none",
        allow: &[],
        exclude: &[],
        kind: CheckKind::Automaton,
    },
    def("all", ALL_CLUSTER),
    def(
        "monitor",
        &[
            "cluster:monitor/*",
            GET_INDEX_TEMPLATES,
            GET_COMPONENT_TEMPLATE,
            GET_COMPOSABLE_INDEX_TEMPLATE,
        ],
    ),
    def(
        "monitor_connector",
        &[
            "cluster:admin/xpack/connector/get",
            "cluster:admin/xpack/connector/list",
            "cluster:admin/xpack/connector/sync_job/get",
            "cluster:admin/xpack/connector/sync_job/list",
        ],
    ),
    def(
        "monitor_inference",
        &[
            "cluster:monitor/xpack/inference*",
            "cluster:monitor/xpack/ml/trained_models/deployment/infer",
        ],
    ),
    def("monitor_ml", &["cluster:monitor/xpack/ml/*"]),
    def(
        "monitor_text_structure",
        &["cluster:monitor/text_structure/*"],
    ),
    def(
        "monitor_data_frame_transforms",
        &[
            "cluster:monitor/data_frame/*",
            "cluster:monitor/transform/*",
        ],
    ),
    def(
        "monitor_transform",
        &[
            "cluster:monitor/data_frame/*",
            "cluster:monitor/transform/*",
        ],
    ),
    def("monitor_watcher", &["cluster:monitor/xpack/watcher/*"]),
    def("monitor_rollup", &["cluster:monitor/xpack/rollup/*"]),
    def(
        "monitor_enrich",
        &[
            "cluster:monitor/xpack/enrich/*",
            "cluster:admin/xpack/enrich/get",
        ],
    ),
    Def {
        name: "manage",
        allow: ALL_CLUSTER,
        exclude: ALL_SECURITY,
        kind: CheckKind::Automaton,
    },
    Def {
        name: "manage_connector",
        allow: &["cluster:admin/xpack/connector/*"],
        exclude: CONNECTOR_SECRETS,
        kind: CheckKind::Automaton,
    },
    def(
        "manage_inference",
        &[
            "cluster:admin/xpack/inference/*",
            "cluster:monitor/xpack/inference*",
            "cluster:admin/xpack/ml/trained_models/deployment/start",
            "cluster:admin/xpack/ml/trained_models/deployment/stop",
            "cluster:monitor/xpack/ml/trained_models/deployment/infer",
        ],
    ),
    def(
        "manage_ml",
        &["cluster:admin/xpack/ml/*", "cluster:monitor/xpack/ml/*"],
    ),
    def(
        "manage_data_frame_transforms",
        &[
            "cluster:admin/data_frame/*",
            "cluster:monitor/data_frame/*",
            "cluster:monitor/transform/*",
            "cluster:admin/transform/*",
        ],
    ),
    def(
        "manage_transform",
        &[
            "cluster:admin/data_frame/*",
            "cluster:monitor/data_frame/*",
            "cluster:monitor/transform/*",
            "cluster:admin/transform/*",
        ],
    ),
    def("manage_token", &["cluster:admin/xpack/security/token/*"]),
    def(
        "manage_watcher",
        &[
            "cluster:admin/xpack/watcher/*",
            "cluster:monitor/xpack/watcher/*",
        ],
    ),
    def(
        "manage_index_templates",
        &[
            "indices:admin/template/*",
            "indices:admin/index_template/*",
            "cluster:admin/component_template/*",
        ],
    ),
    def(
        "manage_ingest_pipelines",
        &["cluster:admin/ingest/pipeline/*"],
    ),
    def(
        "read_pipeline",
        &[
            "cluster:admin/ingest/pipeline/get",
            "cluster:admin/ingest/pipeline/simulate",
        ],
    ),
    def(
        "transport_client",
        &["cluster:monitor/nodes/liveness", CLUSTER_STATE],
    ),
    Def {
        name: "manage_security",
        allow: &["cluster:admin/xpack/security/*", DELEGATE_PKI],
        exclude: &[],
        kind: CheckKind::Automaton,
    },
    def(
        "read_security",
        &[
            GET_API_KEY,
            QUERY_API_KEY,
            "cluster:admin/xpack/security/privilege/builtin/get",
            "cluster:admin/xpack/security/privilege/get",
            "cluster:admin/xpack/security/profile/get",
            "cluster:admin/xpack/security/profile/has_privileges",
            "cluster:admin/xpack/security/profile/suggest",
            GET_ROLES,
            "cluster:admin/xpack/security/role/query",
            "cluster:admin/xpack/security/role_mapping/get",
            GET_SERVICE_ACCOUNT,
            "cluster:admin/xpack/security/service_account/credential/get*",
            GET_USERS,
            "cluster:admin/xpack/security/user/query",
            "cluster:admin/xpack/security/user/list_privileges",
            HAS_PRIVILEGES,
            "cluster:admin/xpack/security/settings/get",
        ],
    ),
    def(
        "manage_saml",
        &[
            "cluster:admin/xpack/security/saml/*",
            INVALIDATE_TOKEN,
            REFRESH_TOKEN,
            SAML_SP_METADATA,
        ],
    ),
    def("manage_oidc", &["cluster:admin/xpack/security/oidc/*"]),
    def(
        "manage_api_key",
        &["cluster:admin/xpack/security/api_key/*"],
    ),
    def(
        "grant_api_key",
        &["cluster:admin/xpack/security/api_key/grant*"],
    ),
    def(
        "manage_service_account",
        &["cluster:admin/xpack/security/service_account/*"],
    ),
    def(
        "manage_user_profile",
        &["cluster:admin/xpack/security/profile/*"],
    ),
    def("manage_pipeline", &["cluster:admin/ingest/pipeline/*"]),
    def(
        "manage_rollup",
        &[
            "cluster:admin/xpack/rollup/*",
            "cluster:monitor/xpack/rollup/*",
        ],
    ),
    def("manage_autoscaling", &["cluster:admin/autoscaling/*"]),
    def(
        "manage_ccr",
        &["cluster:admin/xpack/ccr/*", CLUSTER_STATE, HAS_PRIVILEGES],
    ),
    def("read_ccr", &[CLUSTER_STATE, HAS_PRIVILEGES]),
    def(
        "create_snapshot",
        &[
            "cluster:admin/snapshot/create",
            "cluster:admin/snapshot/status*",
            "cluster:admin/snapshot/get",
            "cluster:admin/snapshot/status",
            GET_REPOSITORIES,
        ],
    ),
    def(
        "monitor_snapshot",
        &[
            "cluster:admin/snapshot/status*",
            "cluster:admin/snapshot/get",
            "cluster:admin/snapshot/status",
            GET_REPOSITORIES,
        ],
    ),
    def("manage_ilm", &["cluster:admin/ilm/*"]),
    def(
        "read_ilm",
        &[
            "cluster:admin/ilm/get",
            "cluster:admin/ilm/operation_mode/get",
        ],
    ),
    def(
        "manage_slm",
        &[
            "cluster:admin/slm/*",
            "cluster:admin/ilm/start",
            "cluster:admin/ilm/stop",
            "cluster:admin/ilm/operation_mode/get",
        ],
    ),
    def(
        "read_slm",
        &[
            "cluster:admin/slm/status",
            "cluster:admin/slm/get",
            "cluster:admin/ilm/operation_mode/get",
        ],
    ),
    def("delegate_pki", &[DELEGATE_PKI, INVALIDATE_TOKEN]),
    Def {
        name: "manage_own_api_key",
        allow: &[MANAGE_OWN_API_KEY_PATTERN],
        exclude: &[],
        kind: CheckKind::ManageOwnApiKey,
    },
    def(
        "manage_enrich",
        &[
            "cluster:admin/xpack/enrich/*",
            "cluster:monitor/xpack/enrich/*",
        ],
    ),
    def(
        "manage_logstash_pipelines",
        &["cluster:admin/logstash/pipeline/*"],
    ),
    def("read_fleet_secrets", &["cluster:admin/fleet/secrets/get"]),
    def(
        "write_fleet_secrets",
        &[
            "cluster:admin/fleet/secrets/post",
            "cluster:admin/fleet/secrets/delete",
        ],
    ),
    def("cancel_task", &["cluster:admin/tasks/cancel*"]),
    def(
        "manage_search_application",
        &["cluster:admin/xpack/application/search_application/*"],
    ),
    def(
        "manage_search_synonyms",
        &[
            "cluster:admin/synonyms/*",
            "cluster:admin/synonyms_sets/*",
            "cluster:admin/synonym_rules/*",
        ],
    ),
    def(
        "manage_behavioral_analytics",
        &["cluster:admin/xpack/application/analytics/*"],
    ),
    def(
        "post_behavioral_analytics_event",
        &["cluster:admin/xpack/application/analytics/post_event"],
    ),
    def(
        "manage_search_query_rules",
        &["cluster:admin/xpack/query_rules/*"],
    ),
    def(
        "cross_cluster_search",
        &[
            REMOTE_CLUSTER_HANDSHAKE,
            REMOTE_CLUSTER_NODES,
            REMOTE_BAN_PARENT,
            REMOTE_CANCEL_CHILD,
            XPACK_INFO,
            "cluster:monitor/xpack/enrich/esql/resolve_policy",
            "cluster:internal:data/read/esql/open_exchange",
            "cluster:internal:data/read/esql/exchange",
        ],
    ),
    def(
        "cross_cluster_replication",
        &[
            REMOTE_CLUSTER_HANDSHAKE,
            REMOTE_CLUSTER_NODES,
            REMOTE_BAN_PARENT,
            REMOTE_CANCEL_CHILD,
            XPACK_INFO,
            CLUSTER_STATE,
        ],
    ),
    def(
        "read_connector_secrets",
        &["cluster:admin/xpack/connector/secret/get"],
    ),
    def(
        "write_connector_secrets",
        &[
            "cluster:admin/xpack/connector/secret/delete",
            "cluster:admin/xpack/connector/secret/post",
            "cluster:admin/xpack/connector/secret/put",
        ],
    ),
    def("monitor_data_stream_global_retention", &[]),
    def("manage_data_stream_global_retention", &[]),
];

fn automaton_matches(allow: &[&str], exclude: &[&str], action: &str) -> bool {
    allow.iter().any(|p| wildcard_match(p, action))
        && !exclude.iter().any(|p| wildcard_match(p, action))
}

/// `Operations.subsetOf(b, a)` for two languages built from literal and trailing-`*` patterns.
///
/// Such a language only distinguishes strings by which pattern prefixes they start with and which
/// literals they equal, so a finite set of witnesses decides inclusion: every literal, every
/// prefix, every prefix followed by a char that no pattern uses, and that char alone.
fn language_subset(sub: &Def, sup: &Def, witnesses: &[String]) -> bool {
    witnesses.iter().all(|w| {
        !automaton_matches(sub.allow, sub.exclude, w)
            || automaton_matches(sup.allow, sup.exclude, w)
    })
}

/// `ClusterPermission.implies`: an automaton check implies only automaton checks whose language
/// it contains; the manage-own-API-key check implies only itself.
fn def_implies(this: &Def, other: &Def, witnesses: &[String]) -> bool {
    this.kind == other.kind && language_subset(other, this, witnesses)
}

fn witnesses() -> Vec<String> {
    const FRESH: char = '\u{1}';
    let mut out = BTreeSet::new();
    out.insert(FRESH.to_string());
    for d in DEFS {
        for p in d.allow.iter().chain(d.exclude.iter()) {
            if let Some(prefix) = p.strip_suffix('*') {
                out.insert(prefix.to_string());
                out.insert(format!("{prefix}{FRESH}"));
            } else {
                out.insert((*p).to_string());
            }
        }
    }
    out.into_iter().collect()
}

/// Indices into `DEFS`, ordered as `ClusterPrivilegeResolver.sortByAccessLevel` orders them: by how
/// many other named privileges each implies (ascending), then by name.
fn sorted_defs() -> &'static [usize] {
    static SORTED: OnceLock<Vec<usize>> = OnceLock::new();
    SORTED.get_or_init(|| {
        let w = witnesses();
        let counts: Vec<usize> = DEFS
            .iter()
            .enumerate()
            .map(|(i, d)| {
                DEFS.iter()
                    .enumerate()
                    .filter(|(j, o)| *j != i && def_implies(d, o, &w))
                    .count()
            })
            .collect();
        let mut idx: Vec<usize> = (0..DEFS.len()).collect();
        idx.sort_by(|&a, &b| {
            counts[a]
                .cmp(&counts[b])
                .then_with(|| DEFS[a].name.cmp(DEFS[b].name))
        });
        idx
    })
}

/// The predefined cluster privilege names, ordered by access level (`ClusterPrivilegeResolver.names()`).
pub fn cluster_privilege_names() -> Vec<&'static str> {
    sorted_defs().iter().map(|&i| DEFS[i].name).collect()
}

/// `ClusterPrivilegeResolver.isClusterAction`: whether `name` matches `cluster:*`,
/// `indices:admin/template/*` or `indices:admin/index_template/*`.
pub fn is_cluster_action(name: &str) -> bool {
    ALL_CLUSTER.iter().any(|p| wildcard_match(p, name))
}

fn def_index(name: &str) -> Option<usize> {
    DEFS.iter().position(|d| d.name == name)
}

// =============================================================================================
// Request context (what the request asks for, who asks)
// =============================================================================================

/// The identity `ManageOwnApiKeyClusterPrivilege` compares a request with.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Caller {
    /// The effective user's principal (for an API key: the owner).
    pub principal: String,
    /// The effective user's realm name (for an API key: the owner's realm).
    pub realm: String,
    /// Set when the caller authenticated with an API key: that key's id.
    pub api_key_id: Option<String>,
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
    pub request: ApiKeyRequest,
    /// Who asks. [`authorize`] fills it from the subject when it is `None`; a bare [`grants`]
    /// call without it treats the caller as a user that no username/realm pair matches.
    pub caller: Option<Caller>,
    /// For user requests (`change_password`, ...): the user named in the request.
    pub target_username: Option<String>,
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
                *owner = true
            }
            ApiKeyRequest::Query {
                filter_for_current_user,
                ..
            } => *filter_for_current_user = true,
            _ => {}
        }
        ctx
    }

    pub fn with_caller(mut self, caller: Caller) -> Self {
        self.caller = Some(caller);
        self
    }

    pub fn with_target_username(mut self, username: impl Into<String>) -> Self {
        self.target_username = Some(username.into());
        self
    }
}

fn has_text(s: &Option<String>) -> Option<&str> {
    s.as_deref().filter(|s| !s.trim().is_empty())
}

/// `checkIfUserIsOwnerOfApiKeys`.
fn owns_api_keys(
    caller: Option<&Caller>,
    api_key_id: Option<&str>,
    username: &Option<String>,
    realm_name: &Option<String>,
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
fn manage_own_api_key_check(ctx: &RequestContext) -> bool {
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
            owns_api_keys(caller, id.as_deref(), username, realm_name, *owner)
        }
        ApiKeyRequest::Invalidate {
            ids,
            username,
            realm_name,
            owner,
        } => match ids {
            None => owns_api_keys(caller, None, username, realm_name, *owner),
            Some(ids) => ids
                .iter()
                .all(|id| owns_api_keys(caller, Some(id), username, realm_name, *owner)),
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

// =============================================================================================
// ClusterPrivilege
// =============================================================================================

#[derive(Debug, Clone, PartialEq, Eq)]
enum PrivilegeKind {
    Named(usize),
    /// A cluster action name used as a privilege: the pattern is the name plus `*`.
    ActionPattern(String),
}

/// A resolved cluster privilege: one of the named privileges, or an action pattern.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ClusterPrivilege {
    name: String,
    kind: PrivilegeKind,
}

impl ClusterPrivilege {
    /// `ClusterPrivilegeResolver.resolve`: lower-cases `name`; a cluster action (pattern) becomes
    /// the pattern `name*`; otherwise it must be a predefined name.
    ///
    /// # Errors
    /// The message Elasticsearch puts in its `IllegalArgumentException` (and then in the role
    /// validation error): `unknown cluster privilege [<name>]. a privilege must be either one of the
    /// predefined cluster privilege names [<names>] or a pattern over one of the available cluster actions`.
    pub fn resolve(name: &str) -> Result<ClusterPrivilege, String> {
        let lower = name.to_lowercase();
        if is_cluster_action(&lower) {
            let pattern = format!("{lower}*");
            return Ok(ClusterPrivilege {
                name: lower,
                kind: PrivilegeKind::ActionPattern(pattern),
            });
        }
        match def_index(&lower) {
            Some(i) => Ok(ClusterPrivilege {
                name: lower,
                kind: PrivilegeKind::Named(i),
            }),
            None => Err(format!(
                "unknown cluster privilege [{lower}]. a privilege must be either one of the predefined cluster \
                 privilege names [{}] or a pattern over one of the available cluster actions",
                cluster_privilege_names().join(",")
            )),
        }
    }

    /// The (lower-cased) name.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// Whether this privilege is an action pattern rather than a predefined name.
    pub fn is_action_pattern(&self) -> bool {
        matches!(self.kind, PrivilegeKind::ActionPattern(_))
    }

    /// `ClusterPermission.check(action, request, authentication)` for this privilege alone.
    pub fn grants(&self, action: &str, ctx: &RequestContext) -> bool {
        match &self.kind {
            PrivilegeKind::ActionPattern(p) => wildcard_match(p, action),
            PrivilegeKind::Named(i) => def_grants(&DEFS[*i], action, ctx),
        }
    }
}

fn def_grants(d: &Def, action: &str, ctx: &RequestContext) -> bool {
    if !automaton_matches(d.allow, d.exclude, action) {
        return false;
    }
    match d.kind {
        CheckKind::Automaton => true,
        CheckKind::ManageOwnApiKey => manage_own_api_key_check(ctx),
    }
}

/// Whether the cluster privilege called `privilege` (a predefined name or an action pattern)
/// grants `action` for the request in `ctx`. An unknown name grants nothing.
pub fn grants(privilege: &str, action: &str, ctx: &RequestContext) -> bool {
    ClusterPrivilege::resolve(privilege).is_ok_and(|p| p.grants(action, ctx))
}

/// `ClusterPrivilegeResolver.findPrivilegesThatGrant`: the predefined privileges that grant
/// `action` for this request, least privileged first.
pub fn find_privileges_that_grant(action: &str, ctx: &RequestContext) -> Vec<&'static str> {
    sorted_defs()
        .iter()
        .map(|&i| &DEFS[i])
        .filter(|d| def_grants(d, action, ctx))
        .map(|d| d.name)
        .collect()
}

// =============================================================================================
// Index privileges (names only; used to validate role descriptors)
// =============================================================================================

/// The predefined index privilege names, sorted (the order of the newest `IndexPrivilege` message).
pub const INDEX_PRIVILEGE_NAMES: &[&str] = &[
    "all",
    "auto_configure",
    "create",
    "create_doc",
    "create_index",
    "cross_cluster_replication",
    "cross_cluster_replication_internal",
    "delete",
    "delete_index",
    "index",
    "maintenance",
    "manage",
    "manage_data_stream_lifecycle",
    "manage_failure_store",
    "manage_follow_index",
    "manage_ilm",
    "manage_leader_index",
    "monitor",
    "none",
    "read",
    "read_cross_cluster",
    "read_failure_store",
    "view_index_metadata",
    "write",
];

fn is_index_action(name: &str) -> bool {
    wildcard_match("indices:*", name) || wildcard_match("internal:transport/proxy/indices:*", name)
}

fn validate_index_privileges(privileges: &[String]) -> Result<(), String> {
    for p in privileges {
        let lower = p.to_lowercase();
        if is_index_action(&lower) || INDEX_PRIVILEGE_NAMES.contains(&lower.as_str()) {
            continue;
        }
        return Err(format!(
            "unknown index privilege [{lower}]. a privilege must be either one of the predefined fixed indices \
             privileges [{}] or a pattern over one of the available index actions",
            INDEX_PRIVILEGE_NAMES.join(",")
        ));
    }
    Ok(())
}

// =============================================================================================
// JSON helpers
// =============================================================================================

/// The x-content token name of a JSON value as it starts (`VALUE_STRING`, `START_ARRAY`, ...).
fn token_name(v: &Value) -> &'static str {
    match v {
        Value::Null => "VALUE_NULL",
        Value::Bool(_) => "VALUE_BOOLEAN",
        Value::Number(_) => "VALUE_NUMBER",
        Value::String(_) => "VALUE_STRING",
        Value::Array(_) => "START_ARRAY",
        Value::Object(_) => "START_OBJECT",
    }
}

/// `XContentUtils.readStringArray(parser, allowNull)`. The field name inside an array is what
/// Jackson reports there: `null`.
fn read_string_array(
    field: &str,
    v: &Value,
    allow_null: bool,
) -> Result<Option<Vec<String>>, EsError> {
    match v {
        Value::Null if allow_null => Ok(None),
        Value::Null => Err(EsError::parse(format!(
            "could not parse [{field}] field. expected a string array but found null value instead"
        ))),
        Value::Array(items) => items
            .iter()
            .map(|i| match i {
                Value::String(s) => Ok(s.clone()),
                other => Err(EsError::parse(format!(
                    "could not parse [null] field. expected a string array but one of the value in the array is [{}]",
                    token_name(other)
                ))),
            })
            .collect::<Result<Vec<_>, _>>()
            .map(Some),
        other => Err(EsError::parse(format!(
            "could not parse [{field}] field. expected a string array but found [{}] value instead",
            token_name(other)
        ))),
    }
}

/// `RoleDescriptor.readStringArray`: the same, re-wrapped as `failed to parse role [<name>]`.
fn role_string_array(
    role: &str,
    field: &str,
    v: &Value,
    allow_null: bool,
) -> Result<Option<Vec<String>>, EsError> {
    read_string_array(field, v, allow_null)
        .map_err(|e| EsError::parse(format!("failed to parse role [{role}]")).with_cause(e))
}

/// `ValidationException` (an `IllegalArgumentException`): type `validation_exception`, 400.
fn validation_exception<S: AsRef<str>>(errors: &[S]) -> EsError {
    let mut reason = String::from("Validation Failed: ");
    for (i, e) in errors.iter().enumerate() {
        reason.push_str(&format!("{}: {};", i + 1, e.as_ref()));
    }
    EsError::new(ExceptionType::Validation, reason, 400)
}

// =============================================================================================
// Names (`Validation`)
// =============================================================================================

const MAX_NAME_LENGTH: usize = 1024;
const MAX_DESCRIPTION_LENGTH: usize = 1000;

/// `Validation.isValidUserOrRoleName`: 1..=1024 printable Basic Latin chars, no leading or
/// trailing space.
fn is_valid_user_or_role_name(name: &str) -> bool {
    let len = name.encode_utf16().count();
    (1..=MAX_NAME_LENGTH).contains(&len)
        && name.chars().all(|c| (' '..='~').contains(&c))
        && !name.starts_with(' ')
        && !name.ends_with(' ')
}

fn invalid_name_message(kind: &str) -> String {
    format!(
        "{kind} names must be at least 1 and no more than {MAX_NAME_LENGTH} characters. They can contain \
         alphanumeric characters (a-z, A-Z, 0-9), spaces, punctuation, and printable symbols in the Basic \
         Latin (ASCII) block. Leading or trailing whitespace is not allowed."
    )
}

/// `Validation.Roles.validateRoleName(name, allowReserved)`.
pub fn validate_role_name(name: &str, allow_reserved: bool) -> Option<String> {
    if !is_valid_user_or_role_name(name) {
        return Some(invalid_name_message("Role"));
    }
    if !allow_reserved && is_reserved_role(name) {
        return Some(format!("Role [{name}] is reserved and may not be used."));
    }
    None
}

/// `Validation.Users.validateUsername(name, allowReserved=true, ..)`: the name shape only.
pub fn validate_username(name: &str) -> Option<String> {
    if !is_valid_user_or_role_name(name) {
        return Some(invalid_name_message("User"));
    }
    None
}

// =============================================================================================
// Reserved roles and users
// =============================================================================================

/// `ReservedRolesStore` role names (8.x).
pub const RESERVED_ROLE_NAMES: &[&str] = &[
    "superuser",
    "transport_client",
    "kibana_admin",
    "kibana_user",
    "monitoring_user",
    "remote_monitoring_agent",
    "remote_monitoring_collector",
    "ingest_admin",
    "reporting_user",
    "kibana_system",
    "logstash_system",
    "beats_admin",
    "beats_system",
    "apm_system",
    "apm_user",
    "inference_admin",
    "inference_user",
    "machine_learning_user",
    "machine_learning_admin",
    "data_frame_transforms_admin",
    "data_frame_transforms_user",
    "transform_admin",
    "transform_user",
    "watcher_admin",
    "watcher_user",
    "logstash_admin",
    "rollup_user",
    "rollup_admin",
    "snapshot_user",
    "enrich_user",
    "viewer",
    "editor",
];

/// `ReservedRolesStore.isReserved`.
pub fn is_reserved_role(name: &str) -> bool {
    RESERVED_ROLE_NAMES.contains(&name)
}

/// The users of the reserved realm: only their password can be changed through the API.
pub const RESERVED_USERNAMES: &[&str] = &[
    "elastic",
    "kibana",
    "kibana_system",
    "logstash_system",
    "beats_system",
    "apm_system",
    "remote_monitoring_user",
];

/// Internal users (`InternalUsers`): `user [<u>] is internal`.
pub const INTERNAL_USERNAMES: &[&str] = &[
    "_system",
    "_xpack",
    "_xpack_security",
    "_security_profile",
    "_async_search",
    "_storage",
    "_synonyms",
    "_data_stream_lifecycle",
    "_cross_cluster_access",
];

pub fn is_reserved_user(name: &str) -> bool {
    RESERVED_USERNAMES.contains(&name)
}

/// `{"_reserved": true}` (`MetadataUtils.DEFAULT_RESERVED_METADATA`).
fn reserved_metadata() -> Map<String, Value> {
    let mut m = Map::new();
    m.insert("_reserved".into(), Value::Bool(true));
    m
}

/// `ReservedRolesStore.SUPERUSER_ROLE_DESCRIPTOR` (8.x, without the remote-cluster parts).
pub fn superuser_role_descriptor() -> RoleDescriptor {
    RoleDescriptor {
        name: "superuser".into(),
        cluster: vec!["all".into()],
        global: None,
        indices: vec![
            IndicesPrivileges::new(&["*"], &["all"]),
            IndicesPrivileges {
                allow_restricted_indices: true,
                ..IndicesPrivileges::new(
                    &["*"],
                    &[
                        "monitor",
                        "read",
                        "view_index_metadata",
                        "read_cross_cluster",
                    ],
                )
            },
        ],
        applications: vec![ApplicationPrivileges {
            application: "*".into(),
            privileges: vec!["*".into()],
            resources: vec!["*".into()],
        }],
        run_as: vec!["*".into()],
        metadata: reserved_metadata(),
        remote_indices: Vec::new(),
        remote_cluster: None,
        description: None,
    }
}

/// The built-in descriptor of a reserved role, where this model has it (only `superuser`).
pub fn reserved_role_descriptor(name: &str) -> Option<RoleDescriptor> {
    (name == "superuser").then(superuser_role_descriptor)
}

// =============================================================================================
// RoleDescriptor
// =============================================================================================

/// One entry of a role's `indices`.
#[derive(Debug, Clone, PartialEq)]
pub struct IndicesPrivileges {
    pub names: Vec<String>,
    pub privileges: Vec<String>,
    /// `field_security.grant`.
    pub grant_fields: Option<Vec<String>>,
    /// `field_security.except`.
    pub except_fields: Option<Vec<String>>,
    /// The document-level-security query, as a JSON string (an object query is kept compact).
    pub query: Option<String>,
    pub allow_restricted_indices: bool,
}

impl IndicesPrivileges {
    pub fn new(names: &[&str], privileges: &[&str]) -> Self {
        IndicesPrivileges {
            names: names.iter().map(|s| s.to_string()).collect(),
            privileges: privileges.iter().map(|s| s.to_string()).collect(),
            grant_fields: None,
            except_fields: None,
            query: None,
            allow_restricted_indices: false,
        }
    }

    /// `IndicesPrivileges.toXContent`: `names`, `privileges`, `field_security`?, `query`?,
    /// `allow_restricted_indices`.
    pub fn to_json(&self) -> Value {
        let mut m = Map::new();
        m.insert("names".into(), json!(self.names));
        m.insert("privileges".into(), json!(self.privileges));
        if self.grant_fields.is_some() || self.except_fields.is_some() {
            let mut fs = Map::new();
            if let Some(g) = &self.grant_fields {
                fs.insert("grant".into(), json!(g));
            }
            if let Some(e) = &self.except_fields {
                fs.insert("except".into(), json!(e));
            }
            m.insert("field_security".into(), Value::Object(fs));
        }
        if let Some(q) = &self.query {
            m.insert("query".into(), Value::String(q.clone()));
        }
        m.insert(
            "allow_restricted_indices".into(),
            Value::Bool(self.allow_restricted_indices),
        );
        Value::Object(m)
    }
}

/// One entry of a role's `applications`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ApplicationPrivileges {
    pub application: String,
    pub privileges: Vec<String>,
    pub resources: Vec<String>,
}

impl ApplicationPrivileges {
    pub fn to_json(&self) -> Value {
        json!({
            "application": self.application,
            "privileges": self.privileges,
            "resources": self.resources,
        })
    }
}

/// A role: what `PUT /_security/role/{name}` stores and what roles and API keys carry.
///
/// Equality compares every field (metadata maps compare without regard to key order).
#[derive(Debug, Clone, PartialEq)]
pub struct RoleDescriptor {
    pub name: String,
    pub cluster: Vec<String>,
    /// Configurable cluster privileges (`global`), kept as given.
    pub global: Option<Map<String, Value>>,
    pub indices: Vec<IndicesPrivileges>,
    pub applications: Vec<ApplicationPrivileges>,
    pub run_as: Vec<String>,
    pub metadata: Map<String, Value>,
    /// `remote_indices`, kept as given (objects).
    pub remote_indices: Vec<Value>,
    /// `remote_cluster`, kept as given.
    pub remote_cluster: Option<Value>,
    pub description: Option<String>,
}

impl RoleDescriptor {
    /// A role with only cluster privileges.
    pub fn with_cluster(name: impl Into<String>, cluster: &[&str]) -> Self {
        RoleDescriptor {
            name: name.into(),
            cluster: cluster.iter().map(|s| s.to_string()).collect(),
            global: None,
            indices: Vec::new(),
            applications: Vec::new(),
            run_as: Vec::new(),
            metadata: Map::new(),
            remote_indices: Vec::new(),
            remote_cluster: None,
            description: None,
        }
    }

    /// `RoleDescriptor.parse(name, body, allow2xFormat=false)`: the structural parse of a role body.
    ///
    /// # Errors
    /// - an invalid role name: `validation_exception` with the `Role names must be ...` text;
    /// - a body that is not an object: `failed to parse role [<n>]. expected an object but found [<T>] instead`;
    /// - an unknown top-level field: `failed to parse role [<n>]. unexpected field [<f>]`;
    /// - a wrongly typed `cluster`/`run_as`: `failed to parse role [<n>]` caused by
    ///   `could not parse [<f>] field. expected a string array but found [<T>] value instead`;
    /// - `metadata` not an object: `expected field [metadata] to be of type object, but found [<T>] instead`;
    /// - the `indices` and `applications` messages of `parseIndices`/`parseApplicationPrivileges`.
    pub fn parse(name: &str, body: &Value) -> Result<RoleDescriptor, EsError> {
        if let Some(err) = validate_role_name(name, true) {
            return Err(validation_exception(&[err]));
        }
        let obj = match body {
            Value::Object(o) => o,
            other => {
                return Err(EsError::parse(format!(
                    "failed to parse role [{name}]. expected an object but found [{}] instead",
                    token_name(other)
                )))
            }
        };
        let mut rd = RoleDescriptor::with_cluster(name, &[]);
        for (field, value) in obj {
            match field.as_str() {
                "index" | "indices" => rd.indices = parse_indices(name, field, value)?,
                "run_as" => {
                    rd.run_as = role_string_array(name, field, value, true)?.unwrap_or_default()
                }
                "cluster" => {
                    rd.cluster = role_string_array(name, field, value, true)?.unwrap_or_default()
                }
                "applications" | "application" => {
                    rd.applications = parse_applications(name, field, value)?
                }
                "global" => match value {
                    Value::Object(o) => rd.global = Some(o.clone()),
                    Value::Null => rd.global = None,
                    other => {
                        return Err(EsError::parse(format!(
                            "failed to parse role [{name}]. expected field [global] to be of type object, but found [{}] instead",
                            token_name(other)
                        )))
                    }
                },
                "metadata" => match value {
                    Value::Object(o) => rd.metadata = o.clone(),
                    other => {
                        return Err(EsError::parse(format!(
                            "expected field [metadata] to be of type object, but found [{}] instead",
                            token_name(other)
                        )))
                    }
                },
                "transient_metadata" => {
                    if !value.is_object() {
                        return Err(unexpected_role_field(name, field));
                    }
                    // Consumed and dropped.
                }
                "remote_indices" => match value {
                    Value::Array(items) => {
                        for item in items {
                            if !item.is_object() {
                                return Err(EsError::parse(format!(
                                    "failed to parse remote indices privileges for role [{name}]. expected field [null] value \
                                     to be an array of objects, but found an array element of type [{}]",
                                    token_name(item)
                                )));
                            }
                        }
                        rd.remote_indices = items.clone();
                    }
                    other => {
                        return Err(EsError::parse(format!(
                            "failed to parse remote indices privileges for role [{name}]. expected field [{field}] value \
                             to be an array, but found [{}] instead",
                            token_name(other)
                        )))
                    }
                },
                "remote_cluster" => rd.remote_cluster = Some(value.clone()),
                "description" => match value {
                    Value::String(s) => rd.description = Some(s.clone()),
                    Value::Null => rd.description = None,
                    other => {
                        return Err(EsError::parse(format!(
                            "failed to parse role [{name}]. expected field [description] to be of type string, but found [{}] instead",
                            token_name(other)
                        )))
                    }
                },
                "type" => {}
                _ => return Err(unexpected_role_field(name, field)),
            }
        }
        Ok(rd)
    }

    /// `RoleDescriptorRequestValidator.validate`: every problem, one line each.
    ///
    /// # Errors
    /// `action_request_validation_exception` listing unknown cluster privileges, unknown index
    /// privileges, `role descriptor metadata keys may not start with [_]` and
    /// `Role description must be less than 1000 characters.`.
    pub fn validate(&self) -> Result<(), EsError> {
        let errors = self.validation_errors();
        if errors.is_empty() {
            Ok(())
        } else {
            Err(EsError::validation(&errors))
        }
    }

    fn validation_errors(&self) -> Vec<String> {
        let mut errors = Vec::new();
        for p in &self.cluster {
            if let Err(e) = ClusterPrivilege::resolve(p) {
                errors.push(e);
            }
        }
        for ip in &self.indices {
            if let Err(e) = validate_index_privileges(&ip.privileges) {
                errors.push(e);
            }
        }
        if self.metadata.keys().any(|k| k.starts_with('_')) {
            errors.push("role descriptor metadata keys may not start with [_]".into());
        }
        if let Some(d) = &self.description {
            if d.encode_utf16().count() > MAX_DESCRIPTION_LENGTH {
                errors.push(format!(
                    "Role description must be less than {MAX_DESCRIPTION_LENGTH} characters."
                ));
            }
        }
        errors
    }

    /// `RoleDescriptor.toXContent` (display form): `cluster`, `global`?, `indices`,
    /// `applications`, `run_as`, `metadata`, `transient_metadata`, `remote_indices`?,
    /// `remote_cluster`?, `description`?.
    pub fn to_json(&self) -> Value {
        self.to_xcontent(false)
    }

    /// The security-index document form: `"type":"role"` in place of `transient_metadata`.
    pub fn to_doc_json(&self) -> Value {
        self.to_xcontent(true)
    }

    fn to_xcontent(&self, doc: bool) -> Value {
        let mut m = Map::new();
        m.insert("cluster".into(), json!(self.cluster));
        if let Some(g) = self.global.as_ref().filter(|g| !g.is_empty()) {
            m.insert("global".into(), Value::Object(g.clone()));
        }
        m.insert(
            "indices".into(),
            Value::Array(
                self.indices
                    .iter()
                    .map(IndicesPrivileges::to_json)
                    .collect(),
            ),
        );
        m.insert(
            "applications".into(),
            Value::Array(
                self.applications
                    .iter()
                    .map(ApplicationPrivileges::to_json)
                    .collect(),
            ),
        );
        m.insert("run_as".into(), json!(self.run_as));
        m.insert("metadata".into(), Value::Object(self.metadata.clone()));
        if doc {
            m.insert("type".into(), Value::String("role".into()));
        } else {
            m.insert("transient_metadata".into(), json!({"enabled": true}));
        }
        if !self.remote_indices.is_empty() {
            m.insert(
                "remote_indices".into(),
                Value::Array(self.remote_indices.clone()),
            );
        }
        if let Some(rc) = &self.remote_cluster {
            m.insert("remote_cluster".into(), rc.clone());
        }
        if let Some(d) = &self.description {
            m.insert("description".into(), Value::String(d.clone()));
        }
        Value::Object(m)
    }

    /// Whether any of this role's cluster privileges grants `action`.
    pub fn grants_cluster_action(&self, action: &str, ctx: &RequestContext) -> bool {
        self.cluster.iter().any(|p| grants(p, action, ctx))
    }
}

fn unexpected_role_field(role: &str, field: &str) -> EsError {
    EsError::parse(format!(
        "failed to parse role [{role}]. unexpected field [{field}]"
    ))
}

fn parse_indices(role: &str, field: &str, v: &Value) -> Result<Vec<IndicesPrivileges>, EsError> {
    let items = match v {
        Value::Array(items) => items,
        other => {
            return Err(EsError::parse(format!(
                "failed to parse indices privileges for role [{role}]. expected field [{field}] value to be an array, \
                 but found [{}] instead",
                token_name(other)
            )))
        }
    };
    items.iter().map(|i| parse_index(role, i)).collect()
}

fn parse_index(role: &str, v: &Value) -> Result<IndicesPrivileges, EsError> {
    let prefix = format!("failed to parse indices privileges for role [{role}].");
    let obj = match v {
        Value::Object(o) => o,
        other => {
            return Err(EsError::parse(format!(
                "{prefix} expected field [null] value to be an array of objects, but found an array element of type [{}]",
                token_name(other)
            )))
        }
    };
    let mut names: Option<Vec<String>> = None;
    let mut privileges: Option<Vec<String>> = None;
    let mut grant: Option<Vec<String>> = None;
    let mut except: Option<Vec<String>> = None;
    let mut query: Option<String> = None;
    let mut allow_restricted = false;
    for (f, value) in obj {
        match f.as_str() {
            "names" => match value {
                Value::String(s) => names = Some(vec![s.clone()]),
                Value::Array(_) => {
                    let n = role_string_array(role, f, value, false)?.unwrap_or_default();
                    if n.is_empty() {
                        return Err(EsError::parse(format!(
                            "{prefix} [{f}] cannot be an empty array"
                        )));
                    }
                    names = Some(n);
                }
                other => {
                    return Err(EsError::parse(format!(
                        "{prefix} expected field [{f}] value to be a string or an array of strings, but found [{}] instead",
                        token_name(other)
                    )))
                }
            },
            "allow_restricted_indices" => match value {
                Value::Bool(b) => allow_restricted = *b,
                other => {
                    return Err(EsError::parse(format!(
                        "{prefix} expected field [{f}] value to be a boolean, but found [{}] instead",
                        token_name(other)
                    )))
                }
            },
            "query" => match value {
                Value::Object(_) => query = Some(value.to_string()),
                Value::String(s) => {
                    if !s.is_empty() {
                        query = Some(s.clone())
                    }
                }
                Value::Null => {}
                other => {
                    return Err(EsError::parse(format!(
                        "{prefix} expected field [{f}] value to be null, a string, an array, or an object, but found [{}] instead",
                        token_name(other)
                    )))
                }
            },
            "field_security" => match value {
                Value::Object(fs) => {
                    if fs.is_empty() {
                        return Err(EsError::parse(format!(
                            "{prefix} \"field_security\" must not be empty."
                        )));
                    }
                    for (k, kv) in fs {
                        match k.as_str() {
                            "grant" | "except" => {
                                let arr = role_string_array(role, k, kv, true)?;
                                let Some(arr) = arr else {
                                    return Err(EsError::parse(format!(
                                        "{prefix} {k} must not be null."
                                    )));
                                };
                                if k == "grant" {
                                    grant = Some(arr);
                                } else {
                                    except = Some(arr);
                                }
                            }
                            other => {
                                return Err(EsError::parse(format!(
                                    "{prefix} \"field_security\" only accepts options grant and except, but got: {other}"
                                )))
                            }
                        }
                    }
                }
                other => {
                    return Err(EsError::parse(format!(
                        "{prefix} expected START_OBJECT but got {} in \"field_security\".",
                        token_name(other)
                    )))
                }
            },
            "privileges" => privileges = role_string_array(role, f, value, true)?,
            "fields" => {
                return Err(EsError::parse(format!(
                    "[\"fields\": [...]] format has changed for field permissions in role [{role}], use \
                     [\"field_security\": {{\"grant\":[...],\"except\":[...]}}] instead"
                )))
            }
            "transient_metadata" => {
                if !value.is_object() {
                    return Err(EsError::parse(format!(
                        "failed to parse transient metadata for role [{role}]. expected START_OBJECT but got {} in \"transient_metadata\".",
                        token_name(value)
                    )));
                }
            }
            other => {
                return Err(EsError::parse(format!(
                    "{prefix} unexpected field [{other}]"
                )))
            }
        }
    }
    let Some(names) = names else {
        return Err(EsError::parse(format!(
            "{prefix} missing required [names] field"
        )));
    };
    let Some(privileges) = privileges else {
        return Err(EsError::parse(format!(
            "{prefix} missing required [privileges] field"
        )));
    };
    if except.is_some() && grant.is_none() {
        return Err(EsError::parse(format!(
            "{prefix} field_security requires grant if except is given"
        )));
    }
    if privileges.is_empty() {
        return Err(EsError::illegal_argument(
            "indices privileges must define at least one privilege",
        ));
    }
    Ok(IndicesPrivileges {
        names,
        privileges,
        grant_fields: grant,
        except_fields: except,
        query,
        allow_restricted_indices: allow_restricted,
    })
}

fn parse_applications(
    role: &str,
    field: &str,
    v: &Value,
) -> Result<Vec<ApplicationPrivileges>, EsError> {
    let prefix = format!("failed to parse application privileges for role [{role}].");
    let items = match v {
        Value::Array(items) => items,
        other => {
            return Err(EsError::parse(format!(
                "{prefix} expected field [{field}] value to be an array, but found [{}] instead",
                token_name(other)
            )))
        }
    };
    let mut out = Vec::new();
    for item in items {
        let obj = match item {
            Value::Object(o) => o,
            other => {
                return Err(EsError::parse(format!(
                    "{prefix} expected field [null] value to be an array of objects, but found an array element of type [{}]",
                    token_name(other)
                )))
            }
        };
        let mut application = None;
        let mut privileges = None;
        let mut resources = None;
        for (f, fv) in obj {
            match f.as_str() {
                "application" => match fv {
                    Value::String(s) => application = Some(s.clone()),
                    other => return Err(object_parser_type_error(f, other)),
                },
                "privileges" | "resources" => {
                    let arr = match read_string_array(f, fv, false) {
                        Ok(a) => a.unwrap_or_default(),
                        Err(_) => return Err(object_parser_type_error(f, fv)),
                    };
                    if f == "privileges" {
                        privileges = Some(arr);
                    } else {
                        resources = Some(arr);
                    }
                }
                other => {
                    return Err(EsError::new(
                        ExceptionType::XContentParse,
                        format!("[application] unknown field [{other}]"),
                        400,
                    ))
                }
            }
        }
        let Some(resources) = resources else {
            return Err(EsError::parse(format!(
                "{prefix} missing required [resources] field"
            )));
        };
        let Some(privileges) = privileges else {
            return Err(EsError::parse(format!(
                "{prefix} missing required [privileges] field"
            )));
        };
        let application = application.unwrap_or_default();
        if application.is_empty() {
            return Err(EsError::illegal_argument(
                "application privileges must have an application name",
            ));
        }
        if privileges.is_empty() {
            return Err(EsError::illegal_argument(
                "application privileges must define at least one privilege",
            ));
        }
        if resources.is_empty() {
            return Err(EsError::illegal_argument(
                "application privileges must refer to at least one resource",
            ));
        }
        out.push(ApplicationPrivileges {
            application,
            privileges,
            resources,
        });
    }
    Ok(out)
}

/// `ObjectParser`'s wrong-type error (without the `[line:col]` location, which a parsed JSON value
/// no longer has).
fn object_parser_type_error(field: &str, v: &Value) -> EsError {
    EsError::new(
        ExceptionType::XContentParse,
        format!(
            "[application] {field} doesn't support values of type: {}",
            token_name(v)
        ),
        400,
    )
}

/// `PUT /_security/role/{name}` up to the store: parse the body, validate it, then refuse a
/// reserved name (`TransportPutRoleAction`: the reserved-name check runs only when the request
/// validated).
///
/// # Errors
/// Those of [`RoleDescriptor::parse`] and [`RoleDescriptor::validate`], then
/// `action_request_validation_exception` `Validation Failed: 1: Role [<n>] is reserved and may not be used.;`.
pub fn parse_put_role(name: &str, body: &Value) -> Result<RoleDescriptor, EsError> {
    let rd = RoleDescriptor::parse(name, body)?;
    rd.validate()?;
    if is_reserved_role(name) {
        return Err(EsError::validation(&[format!(
            "Role [{name}] is reserved and may not be used."
        )]));
    }
    Ok(rd)
}

// =============================================================================================
// Users
// =============================================================================================

/// A native (or reserved) user as `GET /_security/user` shows it.
#[derive(Debug, Clone, PartialEq)]
pub struct User {
    pub username: String,
    pub roles: Vec<String>,
    pub full_name: Option<String>,
    pub email: Option<String>,
    pub metadata: Map<String, Value>,
    pub enabled: bool,
}

impl User {
    pub fn new(username: impl Into<String>, roles: &[&str]) -> Self {
        User {
            username: username.into(),
            roles: roles.iter().map(|s| s.to_string()).collect(),
            full_name: None,
            email: None,
            metadata: Map::new(),
            enabled: true,
        }
    }

    /// `User.toXContent`: `username`, `roles`, `full_name`, `email`, `metadata`, `enabled`
    /// (absent names and emails are `null`).
    pub fn to_json(&self) -> Value {
        json!({
            "username": self.username,
            "roles": self.roles,
            "full_name": self.full_name,
            "email": self.email,
            "metadata": Value::Object(self.metadata.clone()),
            "enabled": self.enabled,
        })
    }
}

/// A parsed `PUT /_security/user/{username}` request. The password is only ever held as a
/// [`Secret`] (its `Debug` prints `Secret(**redacted**)`).
#[derive(Debug, Clone, PartialEq)]
pub struct PutUserRequest {
    pub username: String,
    /// The clear-text `password`, already checked for length; the store hashes it.
    pub password: Option<Secret>,
    /// A `password_hash` given instead of a password.
    pub password_hash: Option<Secret>,
    pub roles: Option<Vec<String>>,
    pub full_name: Option<String>,
    pub email: Option<String>,
    pub metadata: Option<Map<String, Value>>,
    pub enabled: bool,
}

/// `password must be specified unless you are updating an existing user` (`validation_exception`,
/// from `NativeUsersStore` when a user without a password does not exist yet).
pub fn new_user_without_password_error() -> EsError {
    validation_exception(&["password must be specified unless you are updating an existing user"])
}

impl PutUserRequest {
    /// `PutUserRequestBuilder.source`: parses the body field by field, failing on the first bad
    /// field. `configured_hasher` is `xpack.security.authc.password_hashing.algorithm`, which a
    /// `password_hash` must use.
    ///
    /// # Errors
    /// - `parse_exception` `expected an object, but found token [<T>]` for a non-object body;
    /// - `parse_exception` `failed to parse add user request. unexpected field [<f>]`;
    /// - `parse_exception` `expected field [<f>] to be of type string|object|boolean, but found [<T>] instead`;
    /// - `validation_exception` `Validation Failed: 1: passwords must be at least [6] characters long;`;
    /// - `validation_exception` `Validation Failed: 1: password_hash has already been set;`;
    /// - `illegal_argument_exception` `Provided password hash uses [<X>] but the configured hashing algorithm is [<Y>]`;
    /// - `illegal_argument_exception` `[username] in source does not match the username provided [<u>]`.
    pub fn parse(
        username: &str,
        body: &Value,
        configured_hasher: &Hasher,
    ) -> Result<PutUserRequest, EsError> {
        let obj = match body {
            Value::Object(o) => o,
            other => {
                return Err(EsError::parse(format!(
                    "expected an object, but found token [{}]",
                    token_name(other)
                )))
            }
        };
        let mut req = PutUserRequest {
            username: username.to_string(),
            password: None,
            password_hash: None,
            roles: None,
            full_name: None,
            email: None,
            metadata: None,
            enabled: true,
        };
        let type_error = |f: &str, kind: &str, v: &Value| {
            EsError::parse(format!(
                "expected field [{f}] to be of type {kind}, but found [{}] instead",
                token_name(v)
            ))
        };
        for (f, v) in obj {
            match f.as_str() {
                "password" => match v {
                    Value::String(p) => {
                        if p.encode_utf16().count() < MIN_PASSWORD_LENGTH {
                            return Err(validation_exception(&[format!(
                                "passwords must be at least [{MIN_PASSWORD_LENGTH}] characters long"
                            )]));
                        }
                        if req.password_hash.is_some() {
                            return Err(validation_exception(&[
                                "password_hash has already been set",
                            ]));
                        }
                        req.password = Some(Secret::new(p.as_str()));
                    }
                    other => return Err(type_error(f, "string", other)),
                },
                "password_hash" => match v {
                    Value::String(h) => {
                        let resolved = Hasher::resolve_from_hash(h)
                            .map_err(|e| EsError::illegal_argument(e.to_string()))?;
                        if resolved != *configured_hasher {
                            return Err(EsError::illegal_argument(format!(
                                "Provided password hash uses [{}] but the configured hashing algorithm is [{}]",
                                resolved.name().to_uppercase(),
                                configured_hasher.name().to_uppercase()
                            )));
                        }
                        if req.password_hash.is_some() || req.password.is_some() {
                            return Err(validation_exception(&[
                                "password_hash has already been set",
                            ]));
                        }
                        req.password_hash = Some(Secret::new(h.as_str()));
                    }
                    other => return Err(type_error(f, "string", other)),
                },
                "roles" => match v {
                    Value::String(s) => req.roles = Some(comma_delimited(s)),
                    other => req.roles = read_string_array(f, other, false)?,
                },
                "full_name" => match v {
                    Value::String(s) => req.full_name = Some(s.clone()),
                    Value::Null => {}
                    other => return Err(type_error(f, "string", other)),
                },
                "email" => match v {
                    Value::String(s) => req.email = Some(s.clone()),
                    Value::Null => {}
                    other => return Err(type_error(f, "string", other)),
                },
                "metadata" => match v {
                    Value::Object(m) => req.metadata = Some(m.clone()),
                    other => return Err(type_error(f, "object", other)),
                },
                "enabled" => match v {
                    Value::Bool(b) => req.enabled = *b,
                    other => return Err(type_error(f, "boolean", other)),
                },
                "username" => match v {
                    Value::String(s) => {
                        if s != username {
                            return Err(EsError::illegal_argument(format!(
                                "[username] in source does not match the username provided [{username}]"
                            )));
                        }
                    }
                    other => return Err(type_error(f, "string", other)),
                },
                other => {
                    return Err(EsError::parse(format!(
                        "failed to parse add user request. unexpected field [{other}]"
                    )))
                }
            }
        }
        Ok(req)
    }

    /// `PutUserRequest.validate()` (`roles are missing`, `metadata keys may not start with [_]`),
    /// then, if that passed, `TransportPutUserAction`'s checks (reserved, anonymous or internal
    /// user; user name shape; role name shapes). `anonymous_username` is the anonymous user's name
    /// when anonymous access is enabled.
    ///
    /// # Errors
    /// `action_request_validation_exception` with every message of the failing stage.
    pub fn validate(&self, anonymous_username: Option<&str>) -> Result<(), EsError> {
        let mut errors: Vec<String> = Vec::new();
        if self.roles.is_none() {
            errors.push("roles are missing".into());
        }
        if self
            .metadata
            .as_ref()
            .is_some_and(|m| m.keys().any(|k| k.starts_with('_')))
        {
            errors.push("metadata keys may not start with [_]".into());
        }
        if !errors.is_empty() {
            return Err(EsError::validation(&errors));
        }
        let u = self.username.as_str();
        if is_reserved_user(u) {
            errors.push(format!(
                "user [{u}] is reserved and only the password can be changed"
            ));
        } else if anonymous_username == Some(u) {
            errors.push(format!(
                "user [{u}] is anonymous and cannot be modified via the API"
            ));
        } else if INTERNAL_USERNAMES.contains(&u) {
            errors.push(format!("user [{u}] is internal"));
        } else if let Some(e) = validate_username(u) {
            errors.push(e);
        }
        for r in self.roles.iter().flatten() {
            if let Some(e) = validate_role_name(r, true) {
                errors.push(e);
            }
        }
        if errors.is_empty() {
            Ok(())
        } else {
            Err(EsError::validation(&errors))
        }
    }

    /// Whether the request carries a password or a password hash.
    pub fn has_password(&self) -> bool {
        self.password.is_some() || self.password_hash.is_some()
    }

    /// The check `NativeUsersStore` makes once it knows whether the user exists: a new user needs
    /// a password.
    pub fn check_create(&self, user_exists: bool) -> Result<(), EsError> {
        if !user_exists && !self.has_password() {
            return Err(new_user_without_password_error());
        }
        Ok(())
    }

    /// The user this request writes (all fields are replaced; missing metadata becomes `{}`).
    pub fn to_user(&self) -> User {
        User {
            username: self.username.clone(),
            roles: self.roles.clone().unwrap_or_default(),
            full_name: self.full_name.clone(),
            email: self.email.clone(),
            metadata: self.metadata.clone().unwrap_or_default(),
            enabled: self.enabled,
        }
    }
}

const MIN_PASSWORD_LENGTH: usize = 6;

/// `Strings.commaDelimitedListToStringArray`: no trimming; `""` gives nothing; a trailing comma
/// gives a trailing empty string.
fn comma_delimited(s: &str) -> Vec<String> {
    if s.is_empty() {
        return Vec::new();
    }
    s.split(',').map(str::to_string).collect()
}

/// `PUT /_security/user/{username}` up to the store: [`PutUserRequest::parse`] then
/// [`PutUserRequest::validate`] (no anonymous user).
pub fn parse_put_user(
    username: &str,
    body: &Value,
    configured_hasher: &Hasher,
) -> Result<PutUserRequest, EsError> {
    let req = PutUserRequest::parse(username, body, configured_hasher)?;
    req.validate(None)?;
    Ok(req)
}

// =============================================================================================
// Subjects and authorization
// =============================================================================================

/// A user authenticated by a realm, with its assigned role names and the descriptors they resolved to.
#[derive(Debug, Clone, PartialEq)]
pub struct UserSubject {
    pub username: String,
    /// The realm's name, e.g. `default_native`, `reserved`.
    pub realm_name: String,
    /// The realm's type, e.g. `native`, `reserved`, `file`.
    pub realm_type: String,
    /// The roles the user is assigned.
    pub roles: Vec<String>,
    /// The descriptors that were found for them (missing ones are reported in the 403).
    pub descriptors: Vec<RoleDescriptor>,
}

/// A request authenticated with an API key.
#[derive(Debug, Clone, PartialEq)]
pub struct ApiKeySubject {
    pub id: String,
    /// The owner's principal.
    pub owner: String,
    /// The owner's realm name.
    pub owner_realm: String,
    /// The key's own role descriptors; empty means "the owner's privileges" (the limited-by set).
    pub role_descriptors: Vec<RoleDescriptor>,
    /// The owner's role descriptors as of the key's creation or last update.
    pub limited_by: Vec<RoleDescriptor>,
}

/// A service account authenticated with a token.
#[derive(Debug, Clone, PartialEq)]
pub struct ServiceAccountSubject {
    /// `namespace/service`.
    pub principal: String,
    /// Its built-in role descriptor.
    pub role: RoleDescriptor,
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
            roles: roles.iter().map(|s| s.to_string()).collect(),
            descriptors,
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
            roles: roles.iter().map(|s| s.to_string()).collect(),
            descriptors,
        })
    }

    pub fn api_key(
        id: impl Into<String>,
        owner: impl Into<String>,
        owner_realm: impl Into<String>,
        role_descriptors: Vec<RoleDescriptor>,
        limited_by: Vec<RoleDescriptor>,
    ) -> Self {
        Subject::ApiKey(ApiKeySubject {
            id: id.into(),
            owner: owner.into(),
            owner_realm: owner_realm.into(),
            role_descriptors,
            limited_by,
        })
    }

    pub fn service_account(principal: impl Into<String>, role: RoleDescriptor) -> Self {
        Subject::ServiceAccount(ServiceAccountSubject {
            principal: principal.into(),
            role,
        })
    }

    /// The effective user's principal (an API key's owner).
    pub fn principal(&self) -> &str {
        match self {
            Subject::User(u) => &u.username,
            Subject::ApiKey(k) => &k.owner,
            Subject::ServiceAccount(s) => &s.principal,
        }
    }

    /// The identity API-key ownership checks compare with.
    pub fn caller(&self) -> Caller {
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
    pub fn cluster_permission_grants(&self, action: &str, ctx: &RequestContext) -> bool {
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
    fn same_user_allows(&self, action: &str, ctx: &RequestContext) -> bool {
        if action == AUTHENTICATE {
            return true;
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
    fn description(&self) -> String {
        match self {
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

/// What a successful authorization decided beyond "yes".
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Authorized {
    /// For `api_key/query`: the request was only allowed once restricted to the caller's own
    /// keys (`AuthorizationService` sets `filterForCurrentUser` and checks again).
    pub query_filtered_to_owner: bool,
}

/// The 403 `security_exception` for a denied action (`AuthorizationDenialMessages.actionDenied`).
pub fn action_denied(subject: &Subject, action: &str, ctx: &RequestContext) -> EsError {
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
    if subject.cluster_permission_grants(action, &ctx) || subject.same_user_allows(action, &ctx) {
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn wildcard_matching() {
        assert!(wildcard_match("cluster:*", "cluster:monitor/main"));
        assert!(wildcard_match(
            "cluster:admin/*/get",
            "cluster:admin/x/y/get"
        ));
        assert!(!wildcard_match(
            "cluster:admin/*/get",
            "cluster:admin/x/put"
        ));
        assert!(wildcard_match("a?c", "abc"));
        assert!(!wildcard_match("a?c", "ac"));
        assert!(wildcard_match("a\\*", "a*"));
        assert!(!wildcard_match("a\\*", "ab"));
        assert!(wildcard_match("*", ""));
        assert!(!wildcard_match("abc", "abcd"));
    }

    #[test]
    fn fixed_patterns_are_literal_or_trailing_star() {
        // The implies computation relies on this shape.
        for d in DEFS {
            for p in d.allow.iter().chain(d.exclude.iter()) {
                let body = p.strip_suffix('*').unwrap_or(p);
                assert!(
                    !body.contains('*') && !body.contains('?') && !body.contains('\\'),
                    "{p}"
                );
            }
        }
    }

    #[test]
    fn implies_relations_follow_cluster_permission() {
        let w = witnesses();
        let d = |n: &str| &DEFS[def_index(n).unwrap()];
        assert!(def_implies(d("all"), d("manage"), &w));
        assert!(!def_implies(d("manage"), d("all"), &w));
        assert!(def_implies(d("manage"), d("monitor"), &w));
        assert!(!def_implies(d("manage"), d("manage_security"), &w));
        assert!(def_implies(d("manage_security"), d("manage_api_key"), &w));
        assert!(def_implies(d("manage_api_key"), d("grant_api_key"), &w));
        // A request-checking privilege is implied by nothing else, and implies nothing else.
        assert!(!def_implies(d("all"), d("manage_own_api_key"), &w));
        assert!(!def_implies(d("manage_own_api_key"), d("none"), &w));
        // Empty privileges are implied by every automaton privilege.
        assert!(def_implies(
            d("none"),
            d("manage_data_stream_global_retention"),
            &w
        ));
        assert!(def_implies(d("monitor"), d("transport_client"), &w));
        assert!(!def_implies(d("manage"), d("read_ccr"), &w));
        assert!(def_implies(d("manage_ccr"), d("read_ccr"), &w));
    }

    #[test]
    fn sorted_names_start_and_end_as_access_levels_say() {
        let names = cluster_privilege_names();
        assert_eq!(names.len(), DEFS.len());
        assert_eq!(names[0], "manage_own_api_key");
        assert_eq!(
            &names[1..4],
            &[
                "manage_data_stream_global_retention",
                "monitor_data_stream_global_retention",
                "none"
            ]
        );
        assert_eq!(names[names.len() - 1], "all");
        assert_eq!(names[names.len() - 2], "manage");
    }

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
