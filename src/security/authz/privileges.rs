//! The named cluster privileges and how they relate (all in `elastic/elasticsearch`,
//! `x-pack/plugin/core/src/main/java/org/elasticsearch/xpack/core/security/authz`):
//! - `privilege/ClusterPrivilegeResolver.java` (9.x): the named cluster privileges, their
//!   action patterns, `resolve`, `findPrivilegesThatGrant` and `sortByAccessLevel`;
//! - `permission/ClusterPermission.java`: `implies` (an automaton check only implies
//!   automaton checks; `manage_own_api_key`'s request check only implies itself).

use super::actions::{
    CLUSTER_STATE, DELEGATE_PKI, GET_BUILTIN_PRIVILEGES, GET_COMPONENT_TEMPLATE,
    GET_COMPOSABLE_INDEX_TEMPLATE, GET_INDEX_TEMPLATES, GET_PROFILES, GET_REPOSITORIES,
    HAS_PRIVILEGES, INVALIDATE_TOKEN, PROFILE_HAS_PRIVILEGES, REFRESH_TOKEN, REMOTE_BAN_PARENT,
    REMOTE_CANCEL_CHILD, REMOTE_CLUSTER_HANDSHAKE, REMOTE_CLUSTER_NODES, SAML_SP_METADATA,
    SUGGEST_PROFILES, XPACK_INFO,
};
use super::request::manage_own_api_key_check;
use super::{
    wildcard_match, RequestContext, GET_API_KEY, GET_ROLES, GET_SERVICE_ACCOUNT, GET_USERS,
    QUERY_API_KEY,
};
use std::collections::BTreeSet;
use std::sync::OnceLock;

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
            GET_BUILTIN_PRIVILEGES,
            "cluster:admin/xpack/security/privilege/get",
            GET_PROFILES,
            PROFILE_HAS_PRIVILEGES,
            SUGGEST_PROFILES,
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

    /// The privilege's automaton (allowed and excluded action patterns) and whether its check is
    /// `manage_own_api_key`'s request check rather than a plain automaton check.
    pub(crate) fn language(&self) -> (Vec<&str>, Vec<&'static str>, bool) {
        match &self.kind {
            PrivilegeKind::ActionPattern(p) => (vec![p.as_str()], Vec::new(), false),
            PrivilegeKind::Named(i) => {
                let d = &DEFS[*i];
                (
                    d.allow.to_vec(),
                    d.exclude.to_vec(),
                    d.kind == CheckKind::ManageOwnApiKey,
                )
            }
        }
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

#[cfg(test)]
mod tests {
    use super::*;

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
}
