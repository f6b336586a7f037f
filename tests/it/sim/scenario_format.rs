//! The scenario format: serde types, paths in errors, and its documentation.

use super::*;

/// The field names a `deny_unknown_fields` type (or the variant names an enum) expects, from the
/// error serde gives for a field it does not know.
fn expected_names<T: serde::de::DeserializeOwned + std::fmt::Debug>(
    probe: serde_json::Value,
) -> Vec<String> {
    let e = serde_json::from_value::<T>(probe).unwrap_err().to_string();
    let (_, list) = e.split_once("expected").unwrap_or(("", ""));
    list.split('`')
        .skip(1)
        .step_by(2)
        .map(str::to_string)
        .collect()
}

#[test]
fn docs_scenarios_md_names_every_field_and_action() {
    use escache::sim::scenario::{ClusterDesc, Scenario, SimulationDesc};
    use escache::sim::spec::{
        ActionDesc, ClearCacheDesc, CostModelDesc, CredentialsDesc, FileTokensDesc, HealthDesc,
        NodeChoiceName, NodeDesc, NodesDesc, PopularityLaw, PopularityName, RestDesc,
        TokenSourceName, TokensFileDesc, UpToDateDesc, WorkloadDesc, WorkloadKindName,
    };
    let doc =
        std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/docs/scenarios.md")).unwrap();
    let unknown = json!({"__not_a_field__": 1});
    let variant = json!("__not_a_variant__");
    let mut names = Vec::new();
    names.extend(expected_names::<Scenario>(unknown.clone()));
    names.extend(expected_names::<ClusterDesc>(unknown.clone()));
    names.extend(expected_names::<SimulationDesc>(unknown.clone()));
    names.extend(expected_names::<CostModelDesc>(unknown.clone()));
    names.extend(expected_names::<WorkloadDesc>(unknown.clone()));
    names.extend(expected_names::<PopularityLaw>(unknown.clone()));
    names.extend(expected_names::<RestDesc>(unknown.clone()));
    names.extend(expected_names::<CredentialsDesc>(unknown.clone()));
    names.extend(expected_names::<FileTokensDesc>(unknown.clone()));
    names.extend(expected_names::<TokensFileDesc>(unknown.clone()));
    names.extend(expected_names::<ClearCacheDesc>(unknown.clone()));
    names.extend(expected_names::<NodeDesc>(unknown.clone()));
    names.extend(expected_names::<NodesDesc>(unknown.clone()));
    names.extend(expected_names::<HealthDesc>(unknown.clone()));
    names.extend(expected_names::<UpToDateDesc>(unknown.clone()));
    names.extend(expected_names::<WorkloadKindName>(variant.clone()));
    names.extend(expected_names::<TokenSourceName>(variant.clone()));
    names.extend(expected_names::<PopularityName>(variant.clone()));
    names.extend(expected_names::<NodeChoiceName>(variant.clone()));
    names.extend(expected_names::<escache::sim::latency::DistributionTable>(
        unknown.clone(),
    ));
    names.extend(expected_names::<escache::sim::latency::DistributionName>(
        variant.clone(),
    ));
    names.extend(
        escache::sim::latency::OPERATIONS
            .iter()
            .map(|s| (*s).to_string()),
    );
    names.extend(expected_names::<escache::sim::replay::ReplayFormat>(
        variant,
    ));
    names.extend(expected_names::<
        escache::sim::fault_detection::FaultDetectionDesc,
    >(unknown.clone()));
    names.extend(expected_names::<
        escache::sim::fault_detection::FollowerCheckDesc,
    >(unknown.clone()));
    names.extend(ActionDesc::NAMES.iter().map(|s| (*s).to_string()));
    names.extend(["at", "every", "action", "keys", "tokens"].map(String::from));
    assert!(names.len() > 60, "{names:?}");
    for name in names {
        assert!(
            doc.contains(&format!("`{name}`")),
            "docs/scenarios.md does not name `{name}`"
        );
    }
}

#[test]
fn scenario_errors_name_their_table_and_field() {
    use escache::sim::scenario::Scenario;
    let reason = |text: &str| Scenario::from_toml(text).unwrap_err().into_reason();
    assert_eq!(
        reason("[[workloads]]\nname = 'a'\n[[workloads]]\nname = 'b'\nrate = 'x'\n"),
        "workloads[1].rate: invalid type: string \"x\", expected f64"
    );
    assert!(reason("[cluster]\nnodes = 3\ncolour = 'red'\n")
        .starts_with("cluster.colour: unknown field `colour`, expected one of `nodes`"));
    assert!(reason("[simulation.cost_model]\nargon2 = '1ms'\n")
        .starts_with("simulation.cost_model.argon2: unknown field `argon2`"));
    assert!(
        reason("[[workloads]]\nname = 'w'\npopularity = {zipf = 'x'}\n")
            .starts_with("workloads[0].popularity: ")
    );
    assert_eq!(
        reason("[[actions]]\nat = '1s'\naction = 'heal'\nnode = 3\n"),
        "actions[0]: [action [heal].node]: invalid type: integer `3`, expected a string"
    );
    assert!(reason("[cluster\n").starts_with("invalid scenario file: "));
    assert!(reason("[cluster\n").ends_with(" at line 1, column 9"));
    // Past 64 bits: no JSON number holds it, and the error still names the field.
    let big = reason("[simulation]\nseed = 18446744073709551616\n");
    assert!(big.starts_with("simulation.seed: "), "{big}");
    // The same scenario as a JSON value reads the same.
    let text =
        "[cluster]\nnodes = 2\n[[workloads]]\nname = 'w'\nrate = 5\npopularity = {zipf = 1.1}\n\
                [[actions]]\nat = '1s'\naction = 'partition'\nnode = 'node-1'\n";
    let (from_toml, doc) = Scenario::from_toml(text).unwrap();
    assert_eq!(Scenario::from_value(&doc).unwrap(), from_toml);
    assert_eq!(from_toml.workloads[0].rate, Some(5.0));
}
