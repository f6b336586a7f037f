//! The predefined index privilege names, used to validate role descriptors
//! (`x-pack/plugin/core/src/main/java/org/elasticsearch/xpack/core/security/authz/privilege/IndexPrivilege.java`).

use super::wildcard_match;

/// The predefined index privilege names, sorted (the order of the newest `IndexPrivilege` message).
pub(crate) const INDEX_PRIVILEGE_NAMES: &[&str] = &[
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

pub(super) fn validate_index_privileges(privileges: &[String]) -> Result<(), String> {
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
