//! Reserved roles and the reserved and internal users
//! (`x-pack/plugin/core/src/main/java/org/elasticsearch/xpack/core/security/authz/store/ReservedRolesStore.java`,
//! `x-pack/plugin/core/src/main/java/org/elasticsearch/xpack/core/security/user/InternalUsers.java`).

use super::{ApplicationPrivileges, IndicesPrivileges, RoleDescriptor};
use serde_json::{Map, Value};

/// `ReservedRolesStore` role names (8.x).
pub(crate) const RESERVED_ROLE_NAMES: &[&str] = &[
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
pub(crate) const RESERVED_USERNAMES: &[&str] = &[
    "elastic",
    "kibana",
    "kibana_system",
    "logstash_system",
    "beats_system",
    "apm_system",
    "remote_monitoring_user",
];

/// The roles of a reserved user (`ElasticUser`, `KibanaSystemUser`, `KibanaUser` (deprecated, the
/// same role), `LogstashSystemUser`, `BeatsSystemUser`, `APMSystemUser`, `RemoteMonitoringUser`).
pub(crate) fn reserved_user_roles(username: &str) -> &'static [&'static str] {
    match username {
        "elastic" => &["superuser"],
        "kibana" | "kibana_system" => &["kibana_system"],
        "logstash_system" => &["logstash_system"],
        "beats_system" => &["beats_system"],
        "apm_system" => &["apm_system"],
        "remote_monitoring_user" => &["remote_monitoring_collector", "remote_monitoring_agent"],
        _ => &[],
    }
}

/// Internal users (`InternalUsers`): `user [<u>] is internal`.
pub(crate) const INTERNAL_USERNAMES: &[&str] = &[
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

pub(crate) fn is_reserved_user(name: &str) -> bool {
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
