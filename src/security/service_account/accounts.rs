//! The built-in service accounts (A1; `SEC/authc/service/ElasticServiceAccounts.java`) and their
//! role descriptors, in the JSON form `RoleDescriptor.toXContent` writes for
//! `GET /_security/service[/{ns}[/{svc}]]` (M4).
//!
//! The privileges were transcribed from `ElasticServiceAccounts.java` (the version with
//! `auto-ops` and `fleet-server-remote`) and, for `elastic/kibana`, from
//! `KibanaOwnedReservedRoleDescriptors.kibanaSystem` (core `authz/store`). Java constants were
//! resolved to their string values (action names such as `MonitoringBulkAction.NAME`, index patterns
//! such as `ReservedRolesStore.ALERTS_LEGACY_INDEX`).
//!
//! JSON layout (`RoleDescriptor.toXContent`, display form): `cluster`, `global` (only when there are
//! configurable cluster privileges; every category is written, empty ones as `{}`), `indices`
//! (`names`, `privileges`, `allow_restricted_indices`), `applications` (`application`, `privileges`,
//! `resources`), `run_as` (a null array becomes `[]`), `metadata` (`{}` when null),
//! `transient_metadata` (`{"enabled":true}` when null), then `remote_indices`, `remote_cluster` and
//! `description` when present.

use super::kibana_system::kibana_system;
use super::token::ServiceAccountId;
use serde_json::{json, Map, Value};
use std::sync::OnceLock;

/// The only namespace (`ElasticServiceAccounts.NAMESPACE`).
pub(crate) const ELASTIC_NAMESPACE: &str = "elastic";

/// A built-in service account: it acts as an enabled user with no roles, full name
/// `Service account - <principal>`, metadata `{"_elastic_service_account": true}`, and its own role
/// descriptor named after the principal.
#[derive(Debug, Clone, PartialEq)]
pub struct ServiceAccount {
    pub(crate) id: ServiceAccountId,
    /// The role descriptor in `toXContent` form (its name, the principal, is not part of it).
    pub(crate) role_descriptor: Value,
}

impl ServiceAccount {
    pub fn principal(&self) -> String {
        self.id.as_principal()
    }

    /// `Service account - <principal>`.
    pub fn full_name(&self) -> String {
        format!("Service account - {}", self.id)
    }

    /// `{"role_descriptor": {...}}`, the value of this account in the GET accounts response.
    pub(crate) fn info_json(&self) -> Value {
        json!({"role_descriptor": self.role_descriptor.clone()})
    }
}

/// The accounts in the iteration order of Elasticsearch's `ACCOUNTS` map (`Collectors.toMap`, a
/// `HashMap` of 16 buckets): `String.hashCode` spread puts `elastic/fleet-server` in bucket 6,
/// `elastic/fleet-server-remote` in 7, and `elastic/auto-ops` and `elastic/kibana` both in 11, in
/// insertion order. This is the order of `GET /_security/service`.
pub fn elastic_service_accounts() -> &'static [ServiceAccount] {
    static ACCOUNTS: OnceLock<Vec<ServiceAccount>> = OnceLock::new();
    ACCOUNTS.get_or_init(|| {
        vec![
            account("fleet-server", fleet_server()),
            account("fleet-server-remote", fleet_server_remote()),
            account("auto-ops", auto_ops()),
            account("kibana", kibana_system()),
        ]
    })
}

fn account(service: &str, role_descriptor: Value) -> ServiceAccount {
    ServiceAccount {
        id: ServiceAccountId {
            namespace: ELASTIC_NAMESPACE.to_string(),
            service_name: service.to_string(),
        },
        role_descriptor,
    }
}

/// `ServiceAccountService.getServiceAccounts().get(principal)`.
pub(crate) fn find_account(principal: &str) -> Option<&'static ServiceAccount> {
    let (ns, svc) = principal.split_once('/')?;
    elastic_service_accounts()
        .iter()
        .find(|a| a.id.namespace == ns && a.id.service_name == svc)
}

/// [`find_account`] among the accounts of a version profile (CA-VP8).
pub(crate) fn find_account_in(
    principal: &str,
    version: crate::security::version::EsVersion,
) -> Option<&'static ServiceAccount> {
    find_account(principal).filter(|a| version.has_service_account(&a.id.service_name))
}

/// `isServiceAccountPrincipal`.
pub(crate) fn is_service_account_principal(principal: &str) -> bool {
    find_account(principal).is_some()
}

/// `ServiceAccountService.getServiceAccountPrincipals()`: `ACCOUNTS.keySet()`, in the map's own
/// iteration order (that of [`elastic_service_accounts`]), not sorted.
pub fn service_account_principals() -> Vec<String> {
    elastic_service_accounts()
        .iter()
        .map(ServiceAccount::principal)
        .collect()
}

/// `TransportGetServiceAccountAction`'s filter: namespace, then service name, in map order.
pub fn accounts_in(namespace: Option<&str>, service: Option<&str>) -> Vec<&'static ServiceAccount> {
    elastic_service_accounts()
        .iter()
        .filter(|a| namespace.is_none_or(|ns| a.id.namespace == ns))
        .filter(|a| service.is_none_or(|s| a.id.service_name == s))
        .collect()
}

/// The body of `GET /_security/service[/{ns}[/{svc}]]`: `{"<principal>":{"role_descriptor":{...}}}`;
/// `{}` when nothing matches (still 200).
pub fn get_service_accounts_json(namespace: Option<&str>, service: Option<&str>) -> Value {
    get_service_accounts_json_in(
        crate::security::version::EsVersion::default(),
        namespace,
        service,
    )
}

/// [`get_service_accounts_json`] with the accounts of a version profile (CA-VP8).
pub(crate) fn get_service_accounts_json_in(
    version: crate::security::version::EsVersion,
    namespace: Option<&str>,
    service: Option<&str>,
) -> Value {
    let mut m = Map::new();
    for a in accounts_in(namespace, service)
        .into_iter()
        .filter(|a| version.has_service_account(&a.id.service_name))
    {
        m.insert(a.principal(), a.info_json());
    }
    Value::Object(m)
}

// ----- role descriptor builders -------------------------------------------------------------

/// One `IndicesPrivileges` entry.
pub(super) fn ip(names: &[&str], privileges: &[&str], allow_restricted_indices: bool) -> Value {
    json!({
        "names": names,
        "privileges": privileges,
        "allow_restricted_indices": allow_restricted_indices,
    })
}

/// One `RemoteIndicesPrivileges` entry of `ReservedRolesStore.getRemoteIndicesReadPrivileges`.
pub(super) fn remote_read(pattern: &str) -> Value {
    json!({
        "names": [pattern],
        "privileges": ["read", "read_cross_cluster"],
        "allow_restricted_indices": false,
        "clusters": ["*"],
    })
}

pub(super) struct Rd<'a> {
    pub(super) cluster: &'a [&'a str],
    pub(super) global: Option<Value>,
    pub(super) indices: Vec<Value>,
    pub(super) applications: Vec<Value>,
    pub(super) metadata: Value,
    pub(super) remote_indices: Vec<Value>,
    pub(super) remote_cluster: Vec<Value>,
    pub(super) description: Option<&'a str>,
}

impl<'a> Rd<'a> {
    pub(super) fn new(cluster: &'a [&'a str], indices: Vec<Value>) -> Self {
        Rd {
            cluster,
            global: None,
            indices,
            applications: Vec::new(),
            metadata: json!({}),
            remote_indices: Vec::new(),
            remote_cluster: Vec::new(),
            description: None,
        }
    }

    pub(super) fn into_json(self) -> Value {
        let mut m = Map::new();
        m.insert("cluster".into(), json!(self.cluster));
        if let Some(g) = self.global {
            m.insert("global".into(), g);
        }
        m.insert("indices".into(), Value::Array(self.indices));
        m.insert("applications".into(), Value::Array(self.applications));
        m.insert("run_as".into(), json!([]));
        m.insert("metadata".into(), self.metadata);
        m.insert("transient_metadata".into(), json!({"enabled": true}));
        if !self.remote_indices.is_empty() {
            m.insert("remote_indices".into(), Value::Array(self.remote_indices));
        }
        if !self.remote_cluster.is_empty() {
            m.insert("remote_cluster".into(), Value::Array(self.remote_cluster));
        }
        if let Some(d) = self.description {
            m.insert("description".into(), json!(d));
        }
        Value::Object(m)
    }
}

fn auto_ops() -> Value {
    Rd::new(
        &["monitor", "read_ilm", "read_slm"],
        vec![ip(&["*"], &["monitor", "view_index_metadata"], true)],
    )
    .into_json()
}

const FLEET_MANAGED: &[&str] = &[
    "read",
    "write",
    "monitor",
    "create_index",
    "auto_configure",
    "maintenance",
];

const CONNECTORS: &[&str] = &[
    "read",
    "write",
    "monitor",
    "create_index",
    "auto_configure",
    "maintenance",
    "view_index_metadata",
];

fn fleet_server() -> Value {
    let mut indices = vec![
        ip(
            &[
                "logs-*",
                "metrics-*",
                "traces-*",
                ".logs-endpoint.diagnostic.collection-*",
                ".logs-endpoint.action.responses-*",
                ".logs-endpoint.heartbeat-*",
            ],
            &["write", "create_index", "auto_configure"],
            false,
        ),
        ip(&["profiling-*"], &["read", "write"], false),
        ip(
            &["traces-apm.sampled-*"],
            &["read", "monitor", "maintenance"],
            false,
        ),
        ip(&[".fleet-secrets*"], &["read"], true),
    ];
    for pattern in [
        ".fleet-actions*",
        ".fleet-agents*",
        ".fleet-artifacts*",
        ".fleet-enrollment-api-keys*",
        ".fleet-policies*",
        ".fleet-policies-leader*",
        ".fleet-servers*",
        ".fleet-fileds*",
    ] {
        indices.push(ip(&[pattern], FLEET_MANAGED, true));
    }
    indices.push(ip(
        &["synthetics-*"],
        &["read", "write", "create_index", "auto_configure"],
        false,
    ));
    indices.push(ip(&[".elastic-connectors*"], CONNECTORS, false));
    indices.push(ip(
        &["content-*", ".search-acl-filter-*"],
        CONNECTORS,
        false,
    ));
    indices.push(ip(&["agentless-*"], CONNECTORS, false));
    let mut rd = Rd::new(
        &[
            "monitor",
            "manage_own_api_key",
            "read_fleet_secrets",
            "cluster:admin/xpack/connector/*",
        ],
        indices,
    );
    rd.applications = vec![json!({
        "application": "kibana-*",
        "privileges": ["reserved_fleet-setup"],
        "resources": ["*"],
    })];
    rd.into_json()
}

fn fleet_server_remote() -> Value {
    Rd::new(
        &["monitor", "manage_own_api_key"],
        vec![ip(
            &["logs-*", "metrics-*", "traces-*"],
            &["write", "create_index", "auto_configure"],
            false,
        )],
    )
    .into_json()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a1_accounts_and_order() {
        let principals: Vec<String> = elastic_service_accounts()
            .iter()
            .map(ServiceAccount::principal)
            .collect();
        assert_eq!(
            principals,
            [
                "elastic/fleet-server",
                "elastic/fleet-server-remote",
                "elastic/auto-ops",
                "elastic/kibana"
            ]
        );
        assert_eq!(service_account_principals(), principals);
        assert!(find_account("elastic/kibana").is_some());
        assert!(find_account("elastic/enterprise-search-server").is_none());
        assert!(find_account("elastic/foo").is_none());
        let a = find_account("elastic/fleet-server").unwrap();
        assert_eq!(a.full_name(), "Service account - elastic/fleet-server");
    }

    #[test]
    fn m4_get_accounts_filters() {
        assert_eq!(
            get_service_accounts_json(Some("elastic"), None)
                .as_object()
                .unwrap()
                .len(),
            4
        );
        assert_eq!(get_service_accounts_json(Some("foo"), None), json!({}));
        let one = get_service_accounts_json(Some("elastic"), Some("fleet-server-remote"));
        let rd = &one["elastic/fleet-server-remote"]["role_descriptor"];
        let keys: Vec<&String> = rd.as_object().unwrap().keys().collect();
        assert_eq!(
            keys,
            [
                "cluster",
                "indices",
                "applications",
                "run_as",
                "metadata",
                "transient_metadata"
            ]
        );
        assert_eq!(rd["cluster"], json!(["monitor", "manage_own_api_key"]));
        let fleet = &find_account("elastic/fleet-server")
            .unwrap()
            .role_descriptor;
        assert_eq!(fleet["indices"].as_array().unwrap().len(), 16);
        assert_eq!(
            fleet["applications"][0]["privileges"],
            json!(["reserved_fleet-setup"])
        );
        let kibana = &find_account("elastic/kibana").unwrap().role_descriptor;
        assert_eq!(kibana["metadata"], json!({"_reserved": true}));
        assert_eq!(kibana["indices"].as_array().unwrap().len(), 71);
        assert_eq!(kibana["remote_indices"].as_array().unwrap().len(), 6);
        let keys: Vec<&String> = kibana.as_object().unwrap().keys().collect();
        assert_eq!(
            keys,
            [
                "cluster",
                "global",
                "indices",
                "applications",
                "run_as",
                "metadata",
                "transient_metadata",
                "remote_indices",
                "remote_cluster",
                "description"
            ]
        );
    }
}
