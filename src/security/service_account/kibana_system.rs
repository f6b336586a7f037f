//! The role descriptor of `elastic/kibana`: `kibana_system`, transcribed from
//! `x-pack/plugin/core/src/main/java/org/elasticsearch/xpack/core/security/authz/store/KibanaOwnedReservedRoleDescriptors.java`
//! (`kibanaSystem`), in the JSON form described in `accounts.rs`.

use super::accounts::{ip, remote_read, Rd};
use crate::security::authz::{
    ACTIVATE_PROFILE, GET_BUILTIN_PRIVILEGES, GET_PROFILES, INVALIDATE_API_KEY,
    PROFILE_HAS_PRIVILEGES, SUGGEST_PROFILES,
};
use serde_json::{json, Value};

// Action names behind the Java constants used by the kibana_system descriptor.
const MONITORING_BULK: &str = "cluster:admin/xpack/monitoring/bulk";
const UPDATE_SETTINGS: &str = "indices:admin/settings/update";
const PUT_MAPPING: &str = "indices:admin/mapping/put";
const AUTO_PUT_MAPPING: &str = "indices:admin/mapping/auto_put";
const ROLLOVER: &str = "indices:admin/rollover";
const DELETE_INDEX: &str = "indices:admin/delete";
const INDICES_ALIASES: &str = "indices:admin/aliases";

const KIBANA_SYSTEM_DESCRIPTION: &str = "Grants access necessary for the Kibana system user to read from and write to the Kibana indices, manage index templates and tokens, and check the availability of the Elasticsearch cluster. It also permits activating, searching, and retrieving user profiles, as well as updating user profile data for the kibana-* namespace. Additionally, this role grants read access to the .monitoring-* indices and read and write access to the .reporting-* indices. Note: This role should not be assigned to users as the granted permissions may change between releases.";

/// `ReservedRolesStore.kibanaSystemRoleDescriptor("elastic/kibana")`.
pub(super) fn kibana_system() -> Value {
    let rr = &["read", "read_cross_cluster"];
    let mut indices = vec![
        ip(&[".kibana*", ".reporting-*"], &["all"], true),
        ip(&[".monitoring-*"], rr, false),
        ip(
            &[".management-beats"],
            &["create_index", "read", "write"],
            false,
        ),
        ip(&[".ml-anomalies*", ".ml-stats-*"], &["read"], false),
        ip(
            &[".ml-annotations*", ".ml-notifications*"],
            &["read", "write"],
            false,
        ),
        ip(
            &[
                ".reindexed-v8-ml-annotations*",
                ".reindexed-v8-ml-notifications*",
            ],
            &["read", "write"],
            false,
        ),
        ip(&[".apm-agent-configuration"], &["all"], true),
        ip(&[".apm-custom-link"], &["all"], true),
        ip(&[".apm-source-map"], &["all"], true),
        ip(&["apm-*"], rr, false),
        ip(&["logs-apm.*"], rr, false),
        ip(&["metrics-apm.*"], rr, false),
        ip(&["traces-apm.*"], rr, false),
        ip(&["traces-apm-*"], rr, false),
        ip(&["metrics-logstash.*"], &["read"], false),
        ip(&["*"], &["view_index_metadata", "monitor"], false),
        ip(
            &[".logs-endpoint.diagnostic.collection-*"],
            &["read", "create_index"],
            false,
        ),
        ip(
            &[".fleet-secrets*"],
            &["write", "delete", "create_index"],
            true,
        ),
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
        ".fleet-file-data-*",
        ".fleet-files-*",
        ".fleet-filedelivery-data-*",
        ".fleet-filedelivery-meta-*",
    ] {
        indices.push(ip(&[pattern], &["all"], true));
    }
    indices.extend([
        ip(&["logs-elastic_agent*"], &["read"], false),
        ip(&["metrics-fleet_server*"], &["all"], false),
        ip(&["logs-fleet_server*"], &["read", "delete_index"], false),
        ip(
            &[
                "fleet-synced-integrations",
                "fleet-synced-integrations-ccr*",
            ],
            &["create_index", "manage", "read", "write"],
            false,
        ),
        // ALERTS_LEGACY_INDEX, ALERTS_LEGACY_INDEX_REINDEXED_V8
        ip(
            &[".siem-signals*", ".reindexed-v8-siem-signals*"],
            &["all"],
            false,
        ),
        // LISTS_INDEX, LISTS_ITEMS_INDEX and their v8 reindexed names
        ip(
            &[
                ".lists-*",
                ".items-*",
                ".reindexed-v8-lists-*",
                ".reindexed-v8-items-*",
            ],
            &["all"],
            false,
        ),
        // ALERTS_BACKING_INDEX, ALERTS_BACKING_INDEX_REINDEXED
        ip(
            &[".internal.alerts*", ".reindexed-v8-internal.alerts*"],
            &["all"],
            false,
        ),
        ip(&[".alerts*"], &["all"], false),
        ip(&[".preview.alerts*"], &["all"], false),
        // PREVIEW_ALERTS_BACKING_INDEX, PREVIEW_ALERTS_BACKING_INDEX_REINDEXED
        ip(
            &[
                ".internal.preview.alerts*",
                ".reindexed-v8-internal.preview.alerts*",
            ],
            &["all"],
            false,
        ),
        ip(&["metrics-endpoint.policy-*"], &["read"], false),
        ip(&["metrics-endpoint.metrics-*"], &["read"], false),
        ip(&["logs-endpoint.events.*"], &["read"], false),
        ip(
            &[
                "logs-*",
                "synthetics-*",
                "traces-*",
                r"/metrics-.*&~(metrics-endpoint\.metadata_current_default.*)/",
                ".logs-endpoint.action.responses-*",
                ".logs-endpoint.diagnostic.collection-*",
                ".logs-endpoint.actions-*",
                ".logs-endpoint.heartbeat-*",
                ".logs-osquery_manager.actions-*",
                ".logs-osquery_manager.action.responses-*",
                "logs-osquery_manager.action.responses-*",
                "profiling-*",
            ],
            &[
                UPDATE_SETTINGS,
                PUT_MAPPING,
                ROLLOVER,
                "indices:admin/data_stream/lifecycle/put",
            ],
            false,
        ),
        ip(
            &[".logs-endpoint.action.responses-*"],
            &["auto_configure", "read", "write", "create_index"],
            false,
        ),
        ip(
            &[".logs-endpoint.actions-*"],
            &["auto_configure", "read", "write", "create_index"],
            false,
        ),
        ip(
            &[".logs-osquery_manager.action.responses-*"],
            &["auto_configure", "create_index", "read", "index", "delete"],
            false,
        ),
        ip(
            &["logs-osquery_manager.action.responses-*"],
            &["read", "view_index_metadata"],
            false,
        ),
        ip(
            &[".logs-osquery_manager.actions-*"],
            &[
                "auto_configure",
                "create_index",
                "read",
                "index",
                "write",
                "delete",
            ],
            false,
        ),
        ip(
            &[
                "logs-sentinel_one.*",
                "logs-crowdstrike.*",
                "logs-microsoft_defender_endpoint.*",
                "logs-m365_defender.*",
            ],
            &["read"],
            false,
        ),
        ip(
            &[
                ".logs-endpoint.diagnostic.collection-*",
                "logs-apm-*",
                "logs-apm.*-*",
                "logs-cloud_security_posture.findings-*",
                "logs-cloud_security_posture.vulnerabilities-*",
                "metrics-apm-*",
                "metrics-apm.*-*",
                "traces-apm-*",
                "traces-apm.*-*",
                "synthetics-http-*",
                "synthetics-icmp-*",
                "synthetics-tcp-*",
                "synthetics-browser-*",
                "synthetics-browser.network-*",
                "synthetics-browser.screenshot-*",
            ],
            &[DELETE_INDEX],
            false,
        ),
        ip(
            &["metrics-endpoint.metadata*"],
            &["read", "view_index_metadata"],
            false,
        ),
        ip(
            &[
                "metrics-endpoint.metadata_current_default*",
                ".metrics-endpoint.metadata_current_default*",
                ".metrics-endpoint.metadata_united_default*",
            ],
            &[
                "create_index",
                "delete_index",
                "read",
                "index",
                INDICES_ALIASES,
                UPDATE_SETTINGS,
            ],
            false,
        ),
        ip(
            &["logs-ti_*_latest.*"],
            &[
                "create_index",
                "delete_index",
                "read",
                "index",
                "delete",
                "manage",
                INDICES_ALIASES,
                UPDATE_SETTINGS,
            ],
            false,
        ),
        ip(
            &["logs-ti_*.*-*"],
            &[DELETE_INDEX, "read", "view_index_metadata"],
            false,
        ),
        ip(
            &["kibana_sample_data_*"],
            &[
                "create_index",
                "delete_index",
                "read",
                "index",
                "view_index_metadata",
                INDICES_ALIASES,
                UPDATE_SETTINGS,
            ],
            false,
        ),
        ip(
            &[
                "logs-cloud_security_posture.findings-*",
                "logs-cloud_security_posture.vulnerabilities-*",
            ],
            &["read", "view_index_metadata"],
            false,
        ),
        ip(
            &[
                "logs-cloud_security_posture.findings_latest-default*",
                "logs-cloud_security_posture.vulnerabilities_latest-default*",
            ],
            &[
                "create_index",
                "read",
                "index",
                "delete",
                INDICES_ALIASES,
                UPDATE_SETTINGS,
            ],
            false,
        ),
        ip(
            &["logs-cloud_security_posture.scores-default*"],
            &[
                "create_index",
                "read",
                "index",
                "delete",
                INDICES_ALIASES,
                UPDATE_SETTINGS,
                AUTO_PUT_MAPPING,
            ],
            false,
        ),
        ip(
            &[
                "logs-wiz.vulnerability-*",
                "logs-wiz.cloud_configuration_finding-*",
                "logs-wiz.cloud_configuration_finding_full_posture-*",
                "logs-google_scc.finding-*",
                "logs-aws.securityhub_findings-*",
                "logs-aws.securityhub_findings_full_posture-*",
                "logs-aws.inspector-*",
                "logs-aws.config-*",
                "logs-amazon_security_lake.findings-*",
                "logs-qualys_vmdr.asset_host_detection-*",
                "logs-tenable_sc.vulnerability-*",
                "logs-tenable_io.vulnerability-*",
                "logs-rapid7_insightvm.vulnerability-*",
                "logs-carbon_black_cloud.asset_vulnerability_summary-*",
            ],
            &["read", "view_index_metadata"],
            false,
        ),
        ip(
            &[
                "security_solution-*.vulnerability_latest",
                "security_solution-*.misconfiguration_latest",
            ],
            &["manage", "read", INDICES_ALIASES, UPDATE_SETTINGS],
            false,
        ),
        ip(
            &[
                "security_solution-*.vulnerability_latest-*",
                "security_solution-*.misconfiguration_latest-*",
            ],
            &[
                "create_index",
                "index",
                "manage",
                "read",
                "delete",
                INDICES_ALIASES,
                UPDATE_SETTINGS,
            ],
            false,
        ),
        ip(&["risk-score.risk-*"], &["all"], false),
        ip(&[".entity_analytics.*"], &["all"], false),
        ip(
            &[".asset-criticality.asset-criticality-*"],
            &["create_index", "manage", "read", "write"],
            false,
        ),
        ip(&[".entities.v1.latest.security*"], &["read"], false),
        ip(
            &["logs-cloud_defend.*", "metrics-cloud_defend.*"],
            &["read", "view_index_metadata"],
            false,
        ),
        ip(&[".slo-observability.*"], &["all"], false),
        ip(
            &[".logs-endpoint.heartbeat-*"],
            &["read", "create_index"],
            false,
        ),
        ip(
            &[".edr-workflow-insights-*"],
            &[
                "create_index",
                "auto_configure",
                "manage",
                "read",
                "write",
                "delete",
                UPDATE_SETTINGS,
                PUT_MAPPING,
                ROLLOVER,
            ],
            false,
        ),
        ip(&[".elastic-connectors*"], &["read"], false),
    ]);
    let mut rd = Rd::new(
        &[
            "monitor",
            "manage_index_templates",
            "manage_inference",
            MONITORING_BULK,
            "manage_saml",
            "manage_token",
            "manage_oidc",
            "manage_enrich",
            "manage_pipeline",
            "manage_ilm",
            "monitor_connector",
            "manage_transform",
            INVALIDATE_API_KEY,
            "grant_api_key",
            "manage_own_api_key",
            GET_BUILTIN_PRIVILEGES,
            "delegate_pki",
            GET_PROFILES,
            ACTIVATE_PROFILE,
            SUGGEST_PROFILES,
            PROFILE_HAS_PRIVILEGES,
            "write_fleet_secrets",
            "manage_ml",
            "cluster:admin/analyze",
            "monitor_text_structure",
            "cancel_task",
        ],
        indices,
    );
    // ConfigurableClusterPrivileges.toXContent writes every category, in enum order.
    rd.global = Some(json!({
        "application": {"manage": {"applications": ["kibana-*"]}},
        "profile": {"write": {"applications": ["kibana*"]}},
        "role": {},
    }));
    rd.metadata = json!({"_reserved": true});
    rd.remote_indices = [
        ".monitoring-*",
        "apm-*",
        "logs-apm.*",
        "metrics-apm.*",
        "traces-apm.*",
        "traces-apm-*",
    ]
    .into_iter()
    .map(remote_read)
    .collect();
    rd.remote_cluster = vec![json!({"privileges": ["monitor_stats"], "clusters": ["*"]})];
    rd.description = Some(KIBANA_SYSTEM_DESCRIPTION);
    rd.into_json()
}
