//! Workload and action descriptions: bad ones are refused with Elasticsearch-style errors and
//! change nothing.

use super::*;

#[test]
fn bad_descriptions_are_refused_with_elasticsearch_style_errors() {
    let c = cluster(3, 0, &[]);
    let names = vec!["agents".to_string()];
    let bad_actions = [
        (
            json!({"action": "partition", "noed": "node-1"}),
            "[action [partition].noed]: unknown field `noed`",
        ),
        (
            json!({"action": "partition", "node": "node-7"}),
            "unknown node [node-7]",
        ),
        (json!({"action": "explode"}), "unknown action [explode]"),
        (
            json!({"action": "invalidate_api_keys", "workload": "nobody"}),
            "unknown workload [nobody]",
        ),
        (
            json!({"action": "invalidate_api_keys", "workload": "agents", "top": 2, "all": true}),
            "takes one of",
        ),
        (
            json!({"action": "invalidate_api_keys", "workload": "agents", "top": -1}),
            "[action [invalidate_api_keys].top]: invalid value: integer `-1`",
        ),
        (
            json!({"action": "invalidate_api_keys", "workload": "agents", "indices": [1, "x"]}),
            "indices",
        ),
        (
            json!({"action": "clear_cache", "keys": [1], "node": "node-0"}),
            "[action [clear_cache].keys]: ",
        ),
        (
            json!({"action": "index_health", "health": "purple"}),
            "must be green, yellow or red",
        ),
        (
            json!({"action": "index_up_to_date", "value": "yes"}),
            "[action [index_up_to_date].value]: invalid type: string \"yes\", expected a boolean",
        ),
        (
            json!({"action": "drop_clear_cache", "node": "node-1", "nodes": ["node-2"]}),
            "not both",
        ),
    ];
    for (v, msg) in bad_actions {
        let e = spec::action(&c, &names, &v).unwrap_err();
        assert_eq!(e.kind, "illegal_argument_exception");
        assert!(e.reason.contains(msg), "{v}: {}", e.reason);
    }
    let bad_workloads = [
        (
            json!({"name": "w", "rate": 1, "colour": "red"}),
            "[workload [w].colour]: unknown field `colour`",
        ),
        (json!({"name": "w", "start": "5 minutes"}), "5 minutes"),
        (
            json!({"name": "w", "start": "1m", "stop": "30s"}),
            "must be later than",
        ),
        (
            json!({"name": "w", "kind": "password"}),
            "[workload [w].kind]: unknown variant `password`, expected one of `api_key`, `service_token`, `replay`",
        ),
        (
            json!({"name": "w", "creator_node": "node-9"}),
            "unknown node [node-9]",
        ),
        (
            json!({"name": "w", "node_choice": {"node-5": 1}}),
            "unknown node [node-5]",
        ),
        (json!({"name": "w", "popularity": "pareto"}), "popularity"),
    ];
    for (v, msg) in bad_workloads {
        let e = spec::workload(&c, &v).unwrap_err();
        assert!(e.reason.contains(msg), "{v}: {}", e.reason);
    }
    let e = spec::cost_model(&json!({"argon2": "1ms"})).unwrap_err();
    assert!(
        e.reason
            .contains("[cost_model.argon2]: unknown field `argon2`"),
        "{}",
        e.reason
    );
    // Good descriptions parse.
    assert_eq!(
        spec::action(
            &c,
            &names,
            &json!({"action": "drop_clear_cache", "nodes": ["node-2"]})
        )
        .unwrap(),
        Action::DropClearCache(vec![2])
    );
    let w = spec::workload(
        &c,
        &json!({"name": "w", "start": "10s", "stop": 60, "popularity": {"zipf": 1.1}}),
    )
    .unwrap();
    assert_eq!((w.start, w.stop), (10 * S, Some(60 * S)));
    assert_eq!(w.popularity, Popularity::Zipf { s: 1.1 });
}

#[test]
fn a_refused_workload_or_action_changes_nothing() {
    let c = cluster(2, 0, &[]);
    let mut sim = Simulation::new(&c, 0);
    let mut bad = api_keys("bad", 0, 10.0);
    assert!(sim.add_workload(&c, bad.clone()).is_err());
    bad.population = 10;
    bad.rate = -1.0;
    assert!(sim.add_workload(&c, bad).is_err());
    assert!(sim.workload_names().is_empty());
    assert!(sim.schedule(0, Some(0), Action::IndexDelete).is_err());
    let mut c = c;
    sim.run_until(&mut c, 5 * S);
    let r = report::report(&sim, &c);
    assert_eq!(r["requests"], 0);
    assert_eq!(r["action_errors"], json!([]));
}
