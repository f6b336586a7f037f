//! Authorization: cluster privileges (R5.7, ST-R4), the 403 message, role and user
//! request parsing, and API key privilege intersection.
//!
//! Expectations are written out by hand from Elasticsearch's sources (`ClusterPrivilegeResolver`,
//! `AuthorizationDenialMessages`, `RoleDescriptor`, `PutUserRequestBuilder`, `Validation`) and the
//! Elasticsearch test evidence cited in docs/rules.md, never computed by the module itself.

mod privileges;
mod roles;
mod users;

use escache::security::authz::*;
use escache::security::hashing::Hasher;
use rand::SeedableRng;
use serde_json::{json, Value};

fn ctx(action: &str) -> RequestContext {
    RequestContext::for_action(action)
}

fn bcrypt() -> Hasher {
    Hasher::resolve("bcrypt").unwrap()
}

fn role(name: &str, cluster: &[&str]) -> RoleDescriptor {
    RoleDescriptor::with_cluster(name, cluster)
}

fn user_with(name: &str, privileges: &[&str]) -> Subject {
    Subject::native_user(name, &["r1"], vec![role("r1", privileges)])
}

const PREDEFINED: &str = "manage_own_api_key,manage_data_stream_global_retention,monitor_data_stream_global_retention,\
none,cancel_task,cross_cluster_replication,cross_cluster_search,delegate_pki,grant_api_key,manage_autoscaling,\
manage_index_templates,manage_logstash_pipelines,manage_oidc,manage_saml,manage_search_application,\
manage_search_query_rules,manage_search_synonyms,manage_service_account,manage_token,manage_user_profile,\
monitor_connector,monitor_enrich,monitor_inference,monitor_ml,monitor_rollup,monitor_snapshot,\
monitor_text_structure,monitor_watcher,post_behavioral_analytics_event,read_ccr,read_connector_secrets,\
read_fleet_secrets,read_ilm,read_pipeline,read_security,read_slm,transport_client,write_connector_secrets,\
write_fleet_secrets,create_snapshot,manage_api_key,manage_behavioral_analytics,manage_ccr,manage_connector,\
manage_enrich,manage_ilm,manage_inference,manage_ml,manage_rollup,manage_slm,manage_watcher,\
monitor_data_frame_transforms,monitor_transform,manage_ingest_pipelines,manage_pipeline,\
manage_data_frame_transforms,manage_transform,manage_security,monitor,manage,all";
