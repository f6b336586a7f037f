//! The replay's rules (CA-RP1 to CA-RP4), each expected value derived by hand from the log written
//! in the test.

use super::*;
use crate::cluster::{Cluster, ClusterConfig};
use crate::sim::{spec, Simulation};
use crate::time::NANOS_PER_SECOND;
use serde_json::json;

const KEY_A: &str = "VuaCfGcBCdbkQm-e5aOx";
const KEY_B: &str = "f5bH9JUBq1mC2mKM3tQa";
const NEVER: &str = "ZZZZZZZZZZZZZZZZZZZZ";

/// One line of the audit layout (`log4j2.properties`), flat dotted keys.
fn line(ts: &str, node: &str, action: &str, extra: &Value) -> String {
    let mut m = serde_json::Map::new();
    m.insert("type".into(), json!("audit"));
    m.insert(
        "timestamp".into(),
        json!(format!("2026-03-02T10:00:{ts}+0000")),
    );
    m.insert("node.name".into(), json!(node));
    m.insert("event.type".into(), json!("rest"));
    m.insert("event.action".into(), json!(action));
    if let Value::Object(e) = extra {
        m.extend(e.clone());
    }
    Value::Object(m).to_string()
}

fn api_key_ok(ts: &str, node: &str, id: &str) -> String {
    line(
        ts,
        node,
        "authentication_success",
        &json!({"authentication.type": "API_KEY", "user.name": "elastic", "user.realm": "reserved",
                "apikey.id": id, "apikey.name": format!("name of {id}"), "realm": "_es_api_key"}),
    )
}

/// The log of the hand-counted tests: 9 lines, 6 replayed requests over 4 credentials.
fn sample_log() -> String {
    [
        api_key_ok("00,000", "es-a", KEY_A),
        api_key_ok("01,000", "es-b", KEY_B),
        // A wrong secret for A: `user.name` is the API key's id (its token's principal).
        line("02,000", "es-c", "authentication_failed", &json!({"user.name": KEY_A})),
        line(
            "03,000",
            "es-a",
            "authentication_success",
            &json!({"authentication.type": "TOKEN", "user.name": "elastic/fleet-server",
                    "authentication.token.name": "t1", "authentication.token.type": "_service_account_index"}),
        ),
        // An id that never authenticated.
        line("04,000", "es-b", "authentication_failed", &json!({"user.name": NEVER})),
        line("05,000", "es-c", "access_granted", &json!({"user.name": "elastic", "action": "indices:data/read/search"})),
        line("06,000", "es-a", "authentication_success", &json!({"authentication.type": "REALM", "user.name": "alice", "user.realm": "native1"})),
        api_key_ok("07,000", "es-b", KEY_B),
        line("08,000", "es-c", "authentication_failed", &json!({"user.name": "alice"})),
    ]
    .join("\n")
}

/// A file of its own per call (tests run in parallel).
fn temp_file(name: &str, text: &str) -> String {
    static N: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);
    let n = N.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    let dir = std::env::temp_dir().join(format!("escache-replay-{}-{n}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let p = dir.join(name);
    std::fs::write(&p, text).unwrap();
    p.to_string_lossy().into_owned()
}

fn desc(format: ReplayFormat, path: Option<String>, records: Option<Vec<Value>>) -> ReplayDesc {
    ReplayDesc {
        format,
        path,
        records,
        origin: None,
        speed: 1.0,
        node_map: IndexMap::new(),
    }
}

fn cluster(nodes: usize) -> Cluster {
    Cluster::new(ClusterConfig::new(nodes)).unwrap()
}

#[test]
fn rule_ca_rp1_audit_events_fields_skips_and_malformed_lines() {
    let path = temp_file("audit.json", &sample_log());
    let log = read_log(&desc(ReplayFormat::EsAudit, Some(path.clone()), None), "w").unwrap();
    // access_granted is another event type; the realm success and the failed `alice` are
    // authentications of a kind not replayed (the latter only once mapped, CA-RP2).
    assert_eq!((log.skipped, log.unmodelled), (1, 1));
    assert_eq!(log.events.len(), 7);
    let e = &log.events[0];
    assert_eq!(e.at, parse_iso("2026-03-02T10:00:00Z"));
    assert_eq!(e.node, "es-a");
    assert!(e.success);
    assert_eq!(
        e.presented,
        Presented::ApiKey {
            id: KEY_A.into(),
            name: Some(format!("name of {KEY_A}"))
        }
    );
    assert_eq!(log.events[2].presented, Presented::Principal(KEY_A.into()));
    assert!(!log.events[2].success);
    assert_eq!(
        log.events[3].presented,
        Presented::Token {
            account: "elastic/fleet-server".into(),
            name: "t1".into(),
            file: false
        }
    );
    // `node.id` stands in for `node.name` (emitted by default); `@timestamp` for `timestamp`.
    let shipped = json!({"@timestamp": "2026-03-02T10:00:00.500Z", "node.id": "Xa1", "event.action": "authentication_success",
                         "authentication.type": "TOKEN", "user.name": "elastic/kibana",
                         "authentication.token.name": "k", "authentication.token.type": "_service_account_file"});
    let log = read_log(&desc(ReplayFormat::EsAudit, None, Some(vec![shipped])), "w").unwrap();
    assert_eq!(log.events[0].node, "Xa1");
    assert_eq!(
        log.events[0].at,
        parse_iso("2026-03-02T10:00:00Z") + 500_000_000
    );
    assert!(matches!(
        log.events[0].presented,
        Presented::Token { file: true, .. }
    ));

    // A malformed line fails the whole log, naming the file and the line.
    let mut lines: Vec<String> = sample_log().lines().map(str::to_string).collect();
    lines.insert(
        2,
        "{\"timestamp\": \"2026-03-02T10:00:01,500+0000\", \"event.action\": ".into(),
    );
    let bad = temp_file("bad.json", &lines.join("\n"));
    let e = read_log(
        &desc(ReplayFormat::EsAudit, Some(bad.clone()), None),
        "workload [w]",
    )
    .unwrap_err();
    assert!(
        e.reason.starts_with(&format!(
            "[workload [w].path]: malformed audit event at {bad}:3: "
        )),
        "{}",
        e.reason
    );
    let no_time = line("xx", "es-a", "authentication_success", &json!({}));
    let bad = temp_file("bad2.json", &no_time);
    let e = read_log(&desc(ReplayFormat::EsAudit, Some(bad.clone()), None), "w").unwrap_err();
    assert_eq!(
        e.reason,
        format!("[w.path]: malformed audit event at {bad}:1: [timestamp] [2026-03-02T10:00:xx+0000] is not an ISO-8601 date-time")
    );
    let api_key_without_id = line(
        "00,000",
        "es-a",
        "authentication_success",
        &json!({"authentication.type": "API_KEY"}),
    );
    let e = read_log(
        &desc(
            ReplayFormat::EsAudit,
            None,
            Some(vec![serde_json::from_str(&api_key_without_id).unwrap()]),
        ),
        "w",
    )
    .unwrap_err();
    assert_eq!(
        e.reason,
        "[w.records[0]]: an API_KEY authentication without [apikey.id]"
    );
}

fn parse_iso(s: &str) -> i64 {
    timestamp::parse_iso8601(s).unwrap()
}

#[test]
fn rule_ca_rp1_csv_columns_times_kinds_outcomes_and_errors() {
    let text = "time,node,credential,outcome,kind\n\
                2026-03-02T10:00:00Z,es-a,VuaCfGcBCdbkQm-e5aOx,,\n\
                \"2026-03-02T10:00:01,250+0000\",\"es,b\",elastic/fleet-server/t1,success,\n\
                2.5,es-a,VuaCfGcBCdbkQm-e5aOx,failure,api_key\n";
    let path = temp_file("log.csv", text);
    let log = read_log(&desc(ReplayFormat::Csv, Some(path.clone()), None), "w").unwrap();
    assert_eq!(log.events.len(), 3);
    assert_eq!(log.events[1].node, "es,b");
    assert_eq!(log.events[1].at - log.events[0].at, 1_250_000_000);
    assert_eq!(log.events[2].at, 2_500_000_000);
    assert_eq!(
        log.events[1].presented,
        Presented::Token {
            account: "elastic/fleet-server".into(),
            name: "t1".into(),
            file: false
        }
    );
    assert_eq!(log.events[2].presented, Presented::Principal(KEY_A.into()));
    for (text, line, msg) in [
        ("time,node\n1,a\n", 1, "malformed CSV header at {f}:1: no [credential] column (the header is time,node,credential[,kind][,outcome])"),
        ("time,node,credential\n1,a,k\n2,a\n", 3, "malformed CSV row at {f}:3: 2 fields, the header has 3"),
        ("time,node,credential\nnoon,a,k\n", 2, "malformed CSV row at {f}:2: [time] [noon] is neither an ISO-8601 date-time nor a number of seconds"),
        ("time,node,credential,outcome\n1,a,k,maybe\n", 2, "malformed CSV row at {f}:2: [outcome] must be success or failure, got [maybe]"),
    ] {
        let f = temp_file(&format!("bad{line}.csv"), text);
        let e = read_log(&desc(ReplayFormat::Csv, Some(f.clone()), None), "w").unwrap_err();
        assert_eq!(e.reason, format!("[w.path]: {}", msg.replace("{f}", &f)));
    }
    let rows = vec![json!({"time": 1, "node": "a", "credential": "k", "outcome": "failure"})];
    let log = read_log(&desc(ReplayFormat::Csv, None, Some(rows)), "w").unwrap();
    assert!(!log.events[0].success);
}

#[test]
fn rule_ca_rp2_credentials_by_kind_in_order_of_first_appearance() {
    let path = temp_file("audit2.json", &sample_log());
    let plan = plan(
        &desc(ReplayFormat::EsAudit, Some(path), None),
        &cluster(3),
        None,
        0,
        "w",
    )
    .unwrap();
    let kinds: Vec<(&str, &ReplayCredentialKind)> = plan
        .credentials
        .iter()
        .map(|c| (c.real.as_str(), &c.kind))
        .collect();
    assert_eq!(
        kinds,
        [
            (KEY_A, &ReplayCredentialKind::ApiKey),
            (KEY_B, &ReplayCredentialKind::ApiKey),
            (
                "elastic/fleet-server/t1",
                &ReplayCredentialKind::ServiceToken { file: false }
            ),
            (NEVER, &ReplayCredentialKind::UnknownApiKey),
        ]
    );
    // The failed `alice` (a user name, not an API key id) is not replayed.
    assert_eq!(plan.unmodelled, 2);
    let wrong: Vec<bool> = plan.records.iter().map(|r| r.wrong).collect();
    // A's failure presents A's wrong secret; NEVER presents an id that does not exist.
    assert_eq!(wrong, [false, false, true, false, false, false]);
    // A failure naming a key before its first success is still that key.
    let rows = vec![
        json!({"time": 0, "node": "a", "credential": KEY_B, "outcome": "failure"}),
        json!({"time": 1, "node": "a", "credential": KEY_B}),
    ];
    let p = plan_of(ReplayFormat::Csv, rows, 1);
    assert_eq!(p.credentials[0].kind, ReplayCredentialKind::ApiKey);
    assert!(p.records[0].wrong);
}

fn plan_of(format: ReplayFormat, rows: Vec<Value>, nodes: usize) -> ReplayPlan {
    plan(
        &desc(format, None, Some(rows)),
        &cluster(nodes),
        None,
        0,
        "w",
    )
    .unwrap()
}

#[test]
fn rule_ca_rp3_nodes_round_robin_by_first_appearance_unless_mapped() {
    let rows: Vec<Value> = ["e", "d", "c", "b", "a", "e"]
        .iter()
        .enumerate()
        .map(|(i, n)| json!({"time": i, "node": n, "credential": KEY_A}))
        .collect();
    let p = plan_of(ReplayFormat::Csv, rows.clone(), 3);
    let nodes: Vec<(&str, NodeIndex)> = p.nodes.iter().map(|(r, s)| (r.as_str(), *s)).collect();
    assert_eq!(nodes, [("e", 0), ("d", 1), ("c", 2), ("b", 0), ("a", 1)]);
    assert_eq!(
        p.records.iter().map(|r| r.node).collect::<Vec<_>>(),
        [0, 1, 2, 0, 1, 0]
    );
    let mut d = desc(ReplayFormat::Csv, None, Some(rows));
    d.node_map.insert("c".into(), "node-0".into());
    let p = plan(&d, &cluster(3), None, 0, "w").unwrap();
    let nodes: Vec<NodeIndex> = p.nodes.iter().map(|(_, s)| *s).collect();
    // Mapped `c` goes to node-0; the others share the round-robin in their order: e, d, b, a.
    assert_eq!(nodes, [0, 1, 0, 2, 0]);
    d.node_map.insert("b".into(), "node-9".into());
    let e = plan(&d, &cluster(3), None, 0, "workload [w]").unwrap_err();
    assert_eq!(e.reason, "[workload [w].node_map]: unknown node [node-9]");
}

#[test]
fn rule_ca_rp4_time_shifted_to_start_scaled_by_speed_and_clipped() {
    let rows: Vec<Value> = [10.0, 12.0, 11.0, 20.0, 30.0]
        .iter()
        .map(|t| json!({"time": t, "node": "a", "credential": KEY_A}))
        .collect();
    let p = plan_of(ReplayFormat::Csv, rows.clone(), 1);
    // Sorted; the first event plays at the start.
    let at: Vec<Nanos> = p.records.iter().map(|r| r.at / NANOS_PER_SECOND).collect();
    assert_eq!(at, [0, 1, 2, 10, 20]);
    let mut d = desc(ReplayFormat::Csv, None, Some(rows));
    d.speed = 2.0;
    d.origin = Some("11".into());
    // Twice as fast from real second 11; the event at 10 is before the origin; with the workload
    // starting at 5 s and stopping at 14 s, real 30 (simulated 5 + 9.5) is dropped too.
    let p = plan(
        &d,
        &cluster(1),
        Some(14 * NANOS_PER_SECOND),
        5 * NANOS_PER_SECOND,
        "w",
    )
    .unwrap();
    let at: Vec<Nanos> = p.records.iter().map(|r| r.at).collect();
    assert_eq!(at, [0, NANOS_PER_SECOND / 2, 4_500_000_000]);
    assert_eq!(p.outside, 2);
    d.speed = 0.0;
    let e = plan(&d, &cluster(1), None, 0, "w").unwrap_err();
    assert_eq!(e.reason, "[w.speed]: must be a positive number, got [0]");
}

/// Runs the sample log as a workload of a 3-node cluster for 20 s, with `actions`.
fn run_sample(actions: &[Value]) -> (Cluster, Simulation) {
    let path = temp_file("run.json", &sample_log());
    let mut c = cluster(3);
    let mut sim = Simulation::new(&c, 1);
    let w = spec::workload(
        &c,
        &json!({"name": "replay", "kind": "replay", "path": path, "start": 1}),
    )
    .unwrap();
    sim.add_workload(&c, w).unwrap();
    for a in actions {
        let at = spec::duration(&a["at"], "at").unwrap();
        let mut a = a.clone();
        a.as_object_mut().unwrap().remove("at");
        let action = spec::action(&c, &sim.workload_names(), &a).unwrap();
        sim.schedule(at, None, action).unwrap();
    }
    let end = c.now() + 20 * NANOS_PER_SECOND;
    sim.run_until(&mut c, end);
    (c, sim)
}

#[test]
fn rule_ca_rp2_replayed_outcomes_equal_the_logs_counts() {
    let (_, sim) = run_sample(&[]);
    // Six requests: A, B, t1 and B again succeed (four successes in the log); A's wrong secret
    // and the id that never existed fail (two failures in the log).
    assert_eq!(sim.metrics.requests[0], 6);
    assert_eq!(sim.metrics.workload_outcomes[0], [4, 2, 0, 0]);
    assert_eq!(sim.credential_ids(0).len(), 4);
    assert_eq!(sim.credentials_created(0), 3);
    // "What if I had revoked key B at 5 s (real 10:00:04)?": B's second success (real 10:00:07,
    // simulated 1 s + 7 s) now fails; nothing is accepted stale.
    let revoke = json!({"at": 5, "action": "invalidate_api_keys", "workload": "replay", "indices": [1], "node": "node-0"});
    let (_, sim) = run_sample(&[revoke]);
    assert_eq!(sim.metrics.workload_outcomes[0], [3, 3, 0, 0]);
    assert_eq!(
        sim.metrics
            .nodes
            .iter()
            .map(|n| n.stale_acceptances)
            .sum::<u64>(),
        0
    );
}

fn trace_bytes(c: &Cluster) -> String {
    use std::fmt::Write;
    let mut out = String::new();
    for e in c.events.iter() {
        // ok: writing into a String cannot fail.
        let _ = writeln!(
            out,
            "{} {} {:?} {:?} {} {}",
            e.time, e.node, e.kind, e.cache, e.key, e.detail
        );
    }
    out
}

#[test]
fn rule_ca_rp4_a_replay_is_deterministic() {
    let (a, _) = run_sample(&[]);
    let (b, _) = run_sample(&[]);
    let bytes = trace_bytes(&a);
    assert!(
        bytes.contains(NEVER),
        "the trace names the credentials it presented"
    );
    assert_eq!(bytes, trace_bytes(&b));
    // Each request arrives at 1 s (the start) plus its real offset: the first at 1 s exactly.
    let first = a.events.iter().find(|e| e.key == NEVER).map(|e| e.time);
    assert_eq!(first, Some(5 * NANOS_PER_SECOND));
}
