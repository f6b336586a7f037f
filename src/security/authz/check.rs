//! Has-privileges: whether a subject's roles grant cluster, index and application privileges
//! (`x-pack/plugin/security/src/main/java/org/elasticsearch/xpack/security/authz/RBACEngine.java`
//! `checkPrivileges`; `CORE/authz/permission/ClusterPermission.java` `implies`;
//! `CORE/authz/permission/IndicesPermission.java` `checkResourcePrivileges`;
//! `CORE/authz/permission/LimitedRole.java`: an API key's answer is its own roles' AND its
//! owner's; `CORE/authz/privilege/IndexPrivilege.java` for the index privileges' action patterns).
//! Rules API-HP1 to API-HP5.

use super::globs::{is_empty, subset_of, Globs};
use super::index_privileges::validate_index_privileges;
use super::{ApplicationPrivileges, ClusterPrivilege, IndicesPrivileges, RoleDescriptor, Subject};
use crate::error::EsError;
use indexmap::IndexMap;
use std::collections::BTreeMap;

/// The restricted (system) indices escache knows: the security index family. A role pattern
/// covers them only with `allow_restricted_indices: true` (`RestrictedIndices`).
const RESTRICTED: &[&str] = &[".security", ".security-*"];

const RESOLVE_INDEX: &str = "indices:admin/resolve/index";
const RESOLVE_CLUSTER: &str = "indices:admin/resolve/cluster";
const AUTO_PUT_MAPPING: &str = "indices:admin/mapping/auto_put";
const FIELD_CAPS: &str = "indices:data/read/field_caps*";
const ROLLUP_CAPS: &str = "indices:data/read/xpack/rollup/get/index/caps*";
const SEARCH_SHARDS: &[&str] = &[
    "indices:admin/shards/search_shards",
    "indices:admin/search/search_shards",
];

/// `IndexPrivilege`'s named automata (9.x). Failure-store privileges hold their own language here,
/// as they apply to another selector.
fn index_privilege_patterns(name: &str) -> Option<Vec<&'static str>> {
    let v: Vec<&'static str> = match name {
        "none" => vec![],
        "all" => vec!["indices:*", "internal:transport/proxy/indices:*"],
        "read" => vec!["indices:data/read/*", RESOLVE_INDEX, RESOLVE_CLUSTER],
        "read_cross_cluster" => {
            let mut v = vec!["internal:transport/proxy/indices:data/read/*"];
            v.extend(SEARCH_SHARDS);
            v.extend([
                RESOLVE_CLUSTER,
                "indices:data/read/esql",
                "indices:data/read/esql/compute",
            ]);
            v
        }
        "create" => vec![
            "indices:data/write/index*",
            "indices:data/write/bulk*",
            "indices:data/write/simulate/bulk*",
        ],
        "create_doc" => vec![
            "indices:data/write/index",
            "indices:data/write/index[*",
            "indices:data/write/index:op_type/create",
            "indices:data/write/bulk*",
            "indices:data/write/simulate/bulk*",
        ],
        "index" => vec![
            "indices:data/write/index*",
            "indices:data/write/bulk*",
            "indices:data/write/update*",
            "indices:data/write/simulate/bulk*",
        ],
        "delete" => vec!["indices:data/write/delete*", "indices:data/write/bulk*"],
        "write" => vec!["indices:data/write/*", AUTO_PUT_MAPPING],
        "monitor" => vec!["indices:monitor/*"],
        "manage" => vec![
            "indices:monitor/*",
            "indices:admin/*",
            FIELD_CAPS,
            ROLLUP_CAPS,
        ],
        "create_index" => vec![
            "indices:admin/create",
            "indices:admin/auto_create",
            "indices:admin/data_stream/create",
        ],
        "delete_index" => vec!["indices:admin/delete", "indices:admin/data_stream/delete"],
        "view_index_metadata" => {
            let mut v = vec![
                "indices:admin/aliases/get",
                "indices:admin/get",
                "indices:admin/mappings/fields/get*",
                "indices:admin/mappings/get",
            ];
            v.extend(SEARCH_SHARDS);
            v.extend([
                "indices:admin/validate/query*",
                "indices:monitor/settings/get",
                "indices:admin/ilm/explain",
                "indices:admin/data_stream/lifecycle/get",
                "indices:admin/data_stream/lifecycle/explain",
                "indices:admin/data_stream/get",
                RESOLVE_INDEX,
                RESOLVE_CLUSTER,
                FIELD_CAPS,
                ROLLUP_CAPS,
                "indices:internal/transform/checkpoint*",
                "indices:monitor/get/metering/stats",
                "indices:admin/get/metering/stats",
            ]);
            v
        }
        "manage_follow_index" => vec![
            "indices:admin/xpack/ccr/put_follow",
            "indices:admin/xpack/ccr/unfollow",
            "indices:admin/close*",
            "indices:admin/data_stream/promote",
            "indices:admin/rollover",
        ],
        "manage_leader_index" => vec!["indices:admin/xpack/ccr/forget_follower*"],
        "manage_ilm" => vec!["indices:admin/ilm/*"],
        "manage_data_stream_lifecycle" => vec!["indices:admin/data_stream/lifecycle/*"],
        "maintenance" => vec![
            "indices:admin/refresh*",
            "indices:admin/flush*",
            "indices:admin/synced_flush",
            "indices:admin/forcemerge*",
        ],
        "auto_configure" => vec![AUTO_PUT_MAPPING, "indices:admin/auto_create"],
        "cross_cluster_replication" => vec![
            "indices:data/read/xpack/ccr/shard_changes*",
            "indices:monitor/stats*",
            "indices:admin/seq_no/add_retention_lease*",
            "indices:admin/seq_no/remove_retention_lease*",
            "indices:admin/seq_no/renew_retention_lease*",
        ],
        "cross_cluster_replication_internal" => vec![
            "indices:internal/admin/ccr/restore/session/clear*",
            "indices:internal/admin/ccr/restore/file_chunk/get*",
            "indices:internal/admin/ccr/restore/session/put*",
            "internal:transport/proxy/indices:internal/admin/ccr/restore/session/clear*",
            "internal:transport/proxy/indices:internal/admin/ccr/restore/file_chunk/get*",
        ],
        // Another selector (`::failures`): a language no data privilege reaches.
        "read_failure_store" => vec!["\u{1}failures:indices:data/read/*"],
        "manage_failure_store" => vec!["\u{1}failures:indices:*"],
        _ => return None,
    };
    Some(v)
}

/// The action patterns an index privilege (a name or an action) stands for.
fn index_privilege_language(privilege: &str) -> Result<Vec<String>, EsError> {
    let lower = privilege.to_lowercase();
    validate_index_privileges(std::slice::from_ref(&lower)).map_err(EsError::illegal_argument)?;
    Ok(index_privilege_patterns(&lower).map_or_else(
        || vec![lower.clone()],
        |v| v.into_iter().map(str::to_owned).collect(),
    ))
}

/// What a has-privileges request asks (`AuthorizationEngine.PrivilegesToCheck`).
#[derive(Debug, Clone, Default)]
pub(crate) struct PrivilegesToCheck {
    pub(crate) cluster: Vec<String>,
    pub(crate) index: Vec<IndicesPrivileges>,
    pub(crate) application: Vec<ApplicationPrivileges>,
}

/// Resource -> privilege -> granted, resources sorted (`HasPrivilegesResponse` sorts them).
pub(crate) type ResourcePrivileges = BTreeMap<String, IndexMap<String, bool>>;

/// `HasPrivilegesResponse`'s content.
#[derive(Debug, Clone, Default, PartialEq)]
pub(crate) struct PrivilegesCheckResult {
    pub(crate) all_match: bool,
    pub(crate) cluster: IndexMap<String, bool>,
    pub(crate) index: ResourcePrivileges,
    pub(crate) application: BTreeMap<String, ResourcePrivileges>,
}

/// The role sets whose answers must all agree: one for a user or service account; an API key's own
/// roles (its owner's when it has none) and its owner's.
fn role_sets(subject: &Subject) -> Vec<&[RoleDescriptor]> {
    match subject {
        Subject::User(u) => vec![&u.descriptors],
        Subject::ServiceAccount(s) => vec![std::slice::from_ref(&s.role)],
        Subject::ApiKey(k) => {
            let own = if k.role_descriptors.is_empty() {
                &k.limited_by
            } else {
                &k.role_descriptors
            };
            vec![own.as_slice(), k.limited_by.as_slice()]
        }
    }
}

/// `Role.grants(ClusterPrivilege)`: the role's cluster permission implies the privilege's.
///
/// The role's automaton checks merge into one (`ClusterPermission.Builder.build`), which implies
/// any check whose automaton it contains, `manage_own_api_key`'s request check included: an API
/// key holding `all` whose owner holds `manage_own_api_key` has `manage_own_api_key`
/// (`api_key/30_update.yml` in Elasticsearch's YAML tests asserts it). A request check implies only
/// a request check of its own kind.
fn cluster_grants(roles: &[RoleDescriptor], check: &ClusterPrivilege) -> bool {
    let held: Vec<ClusterPrivilege> = roles
        .iter()
        .flat_map(|r| r.cluster.iter())
        .filter_map(|n| ClusterPrivilege::resolve(n).ok())
        .collect();
    let (allow, except, own) = check.language();
    let wanted = Globs { allow, except };
    let languages: Vec<(Globs<'_>, bool)> = held
        .iter()
        .map(ClusterPrivilege::language)
        .map(|(allow, except, own)| (Globs { allow, except }, own))
        .collect();
    let merged: Vec<Globs<'_>> = languages
        .iter()
        .filter(|(_, own)| !own)
        .map(|(g, _)| g.clone())
        .collect();
    if subset_of(&wanted, &merged) {
        return true;
    }
    own && languages
        .iter()
        .any(|(g, h_own)| *h_own && subset_of(&wanted, std::slice::from_ref(g)))
}

fn restricted_concrete(pattern: &str) -> bool {
    !pattern.contains(['*', '?']) && RESTRICTED.iter().any(|r| super::wildcard_match(r, pattern))
}

/// `IndicesPermission.checkResourcePrivileges` for one requested pattern.
fn index_grants(
    roles: &[RoleDescriptor],
    pattern: &str,
    allow_restricted: bool,
    privileges: &[Vec<String>],
) -> Vec<bool> {
    let mut check = Globs::of(&[pattern]);
    if !allow_restricted && !restricted_concrete(pattern) {
        check.except = RESTRICTED.to_vec();
    }
    if is_empty(&check) {
        // The pattern only names restricted indices the request excluded: nothing to deny.
        return vec![true; privileges.len()];
    }
    let groups: Vec<&IndicesPrivileges> = roles.iter().flat_map(|r| r.indices.iter()).collect();
    let mut allowed: Vec<String> = Vec::new();
    for g in groups {
        let names: Vec<&str> = g.names.iter().map(String::as_str).collect();
        let group = Globs {
            allow: names,
            except: if g.allow_restricted_indices {
                Vec::new()
            } else {
                RESTRICTED.to_vec()
            },
        };
        if subset_of(&check, &[group]) {
            for p in &g.privileges {
                allowed.extend(index_privilege_language(p).unwrap_or_default());
            }
        }
    }
    let allowed: Vec<&str> = allowed.iter().map(String::as_str).collect();
    privileges
        .iter()
        .map(|lang| {
            let wanted: Vec<&str> = lang.iter().map(String::as_str).collect();
            !allowed.is_empty() && subset_of(&Globs::of(&wanted), &[Globs::of(&allowed)])
        })
        .collect()
}

/// An application privilege, simply: a role entry for a matching application that names the
/// privilege (or `*`) on resources covering the requested one. Stored application privilege
/// definitions (their actions) are not modelled.
fn application_grants(
    roles: &[RoleDescriptor],
    app: &str,
    resource: &str,
    privilege: &str,
) -> bool {
    roles.iter().flat_map(|r| r.applications.iter()).any(|a| {
        super::wildcard_match(&a.application, app)
            && a.privileges.iter().any(|p| p == privilege || p == "*")
            && {
                let res: Vec<&str> = a.resources.iter().map(String::as_str).collect();
                subset_of(&Globs::of(&[resource]), &[Globs::of(&res)])
            }
    })
}

/// `RBACEngine.checkPrivileges`.
///
/// # Errors
/// An unknown cluster or index privilege: ES's `illegal_argument_exception` texts.
pub(crate) fn check_privileges(
    subject: &Subject,
    req: &PrivilegesToCheck,
) -> Result<PrivilegesCheckResult, EsError> {
    let sets = role_sets(subject);
    let mut out = PrivilegesCheckResult {
        all_match: true,
        ..PrivilegesCheckResult::default()
    };
    for name in &req.cluster {
        let check = ClusterPrivilege::resolve(name).map_err(EsError::illegal_argument)?;
        let granted = sets.iter().all(|s| cluster_grants(s, &check));
        out.all_match &= granted;
        out.cluster.insert(name.clone(), granted);
    }
    for entry in &req.index {
        let langs: Vec<Vec<String>> = entry
            .privileges
            .iter()
            .map(|p| index_privilege_language(p))
            .collect::<Result<_, _>>()?;
        for pattern in &entry.names {
            let mut granted = vec![true; langs.len()];
            for s in &sets {
                let g = index_grants(s, pattern, entry.allow_restricted_indices, &langs);
                granted.iter_mut().zip(g).for_each(|(a, b)| *a &= b);
            }
            let slot = out.index.entry(pattern.clone()).or_default();
            for (p, g) in entry.privileges.iter().zip(granted) {
                out.all_match &= g;
                slot.insert(p.clone(), g);
            }
        }
    }
    for entry in &req.application {
        let app = out
            .application
            .entry(entry.application.clone())
            .or_default();
        for resource in &entry.resources {
            let slot = app.entry(resource.clone()).or_default();
            for p in &entry.privileges {
                let g = sets
                    .iter()
                    .all(|s| application_grants(s, &entry.application, resource, p));
                out.all_match &= g;
                slot.insert(p.clone(), g);
            }
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::security::authz::RoleDescriptor;
    use serde_json::json;

    fn user(role: serde_json::Value) -> Subject {
        let rd = RoleDescriptor::parse("r", &role).unwrap();
        Subject::native_user("u", &["r"], vec![rd])
    }

    fn cluster(subject: &Subject, names: &[&str]) -> Vec<bool> {
        let req = PrivilegesToCheck {
            cluster: names.iter().map(|s| (*s).to_string()).collect(),
            ..Default::default()
        };
        let r = check_privileges(subject, &req).unwrap();
        r.cluster.values().copied().collect()
    }

    fn index(subject: &Subject, names: &[&str], privs: &[&str]) -> Vec<bool> {
        let req = PrivilegesToCheck {
            index: vec![IndicesPrivileges::new(names, privs)],
            ..Default::default()
        };
        let r = check_privileges(subject, &req).unwrap();
        r.index.values().flat_map(|m| m.values().copied()).collect()
    }

    #[test]
    fn hp2_cluster_privileges_by_implication() {
        let s = user(json!({"cluster": ["manage_security"]}));
        assert_eq!(
            cluster(
                &s,
                &["manage_api_key", "manage_security", "monitor", "manage"]
            ),
            [true, true, false, false]
        );
        // The merged automaton check implies manage_own_api_key's request check...
        assert_eq!(cluster(&s, &["manage_own_api_key"]), [true]);
        // ... but a request check implies no automaton check.
        let own = user(json!({"cluster": ["manage_own_api_key"]}));
        assert_eq!(
            cluster(
                &own,
                &[
                    "manage_own_api_key",
                    "manage_api_key",
                    "cluster:admin/xpack/security/api_key/get"
                ]
            ),
            [true, false, false]
        );
        let monitor = user(json!({"cluster": ["monitor"]}));
        assert_eq!(cluster(&monitor, &["manage_own_api_key"]), [false]);
        let all = user(json!({"cluster": ["all"]}));
        assert_eq!(
            cluster(
                &all,
                &["cluster:admin/xpack/security/api_key/create", "monitor"]
            ),
            [true, true]
        );
        // A union covers what no single privilege does.
        let two = user(
            json!({"cluster": ["cluster:admin/xpack/security/api_key/*", "cluster:admin/xpack/security/service_account/*"]}),
        );
        assert_eq!(
            cluster(&two, &["manage_api_key", "manage_service_account"]),
            [true, true]
        );
        let err = check_privileges(
            &s,
            &PrivilegesToCheck {
                cluster: vec!["nope".into()],
                ..Default::default()
            },
        )
        .unwrap_err();
        assert!(
            err.reason.starts_with("unknown cluster privilege [nope]"),
            "{}",
            err.reason
        );
    }

    #[test]
    fn hp3_index_privileges_on_patterns() {
        let s = user(
            json!({"indices": [{"names": ["logs-*"], "privileges": ["read", "write"]},
                                         {"names": ["metrics-*"], "privileges": ["all"]}]}),
        );
        assert_eq!(
            index(
                &s,
                &["logs-2024"],
                &["read", "index", "create_doc", "manage"]
            ),
            [true, true, true, false]
        );
        assert_eq!(index(&s, &["logs-*"], &["read"]), [true]);
        assert_eq!(index(&s, &["*"], &["read"]), [false]);
        assert_eq!(
            index(&s, &["metrics-1"], &["manage", "indices:admin/refresh"]),
            [true, true]
        );
        assert_eq!(index(&s, &["other"], &["none"]), [false]);
        let all = user(json!({"indices": [{"names": ["*"], "privileges": ["all"]}]}));
        // Restricted indices need allow_restricted_indices on the role.
        assert_eq!(index(&all, &[".security-7"], &["read"]), [false]);
        assert_eq!(index(&all, &["*"], &["read"]), [true]);
        let restricted = user(
            json!({"indices": [{"names": ["*"], "privileges": ["all"], "allow_restricted_indices": true}]}),
        );
        assert_eq!(index(&restricted, &[".security-7"], &["read"]), [true]);
    }

    #[test]
    fn hp4_api_key_is_limited_by_its_owner() {
        let own = RoleDescriptor::parse(
            "k",
            &json!({"cluster": ["all"], "indices": [{"names": ["*"], "privileges": ["all"]}]}),
        )
        .unwrap();
        let owner = RoleDescriptor::parse("o", &json!({"cluster": ["monitor"], "indices": [{"names": ["a*"], "privileges": ["read"]}]})).unwrap();
        let key = Subject::api_key("id", "bob", "default_native", vec![own], vec![owner]);
        assert_eq!(cluster(&key, &["monitor", "manage"]), [true, false]);
        assert_eq!(index(&key, &["ab"], &["read", "write"]), [true, false]);
    }
}
