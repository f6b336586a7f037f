//! Secrets stay secret (issue 8, point 3), from the Rust side: for random seeds, passwords and REST
//! traffic (right and wrong credentials, malformed headers, failing calls, scheduled REST actions), no
//! password, API key secret or service token secret appears in a REST answer other than the create
//! response that hands it out, in the simulation's report, timeline, action errors or `Debug`, or in
//! the event trace: not raw, not as `id:secret`, not in standard or URL-safe base64 (padded or not).

use crate::common::{basic, FLEET};
use base64::engine::general_purpose::{STANDARD, URL_SAFE};
use base64::Engine;
use escache::cluster::{Cluster, ClusterConfig};
use escache::rest;
use escache::sim::{report, spec, Simulation};
use proptest::prelude::*;
use serde_json::{json, Value};

const S: u64 = 1_000_000_000;

/// The secret, `principal:secret`, and their base64 forms.
fn forms(secret: &str, principals: &[&str]) -> Vec<String> {
    let mut plain = vec![secret.to_string()];
    plain.extend(principals.iter().map(|p| format!("{p}:{secret}")));
    let mut all = plain.clone();
    for p in &plain {
        for e in [STANDARD.encode(p), URL_SAFE.encode(p)] {
            all.push(e.trim_end_matches('=').to_string());
            all.push(e);
        }
    }
    all
}

fn request(
    c: &mut Cluster,
    node: u16,
    method: &str,
    path: &str,
    auth: &str,
    body: Option<Value>,
) -> rest::Response {
    let mut headers = vec![("Authorization".to_string(), auth.to_string())];
    if body.is_some() {
        headers.push(("Content-Type".into(), "application/json".into()));
    }
    rest::handle(
        c,
        node,
        method,
        path,
        headers,
        body.map(|b| b.to_string().into_bytes()),
    )
}

fn run(seed: u64, password: &str, traffic: &[usize]) -> Result<(), TestCaseError> {
    let mut config = ClusterConfig::new(2);
    config.seed = seed;
    config.password = password.to_string();
    let mut c = Cluster::new(config).map_err(|e| TestCaseError::fail(e.into_reason()))?;
    let admin = basic("elastic", password);
    let key = request(
        &mut c,
        0,
        "POST",
        "/_security/api_key",
        &admin,
        Some(json!({"name": "k"})),
    )
    .body;
    let (id, secret) = (
        key["id"].as_str().unwrap_or(""),
        key["api_key"].as_str().unwrap_or(""),
    );
    let (id, secret) = (id.to_string(), secret.to_string());
    let token = request(
        &mut c,
        0,
        "POST",
        &format!("/_security/service/{FLEET}/credential/token/t1"),
        &admin,
        None,
    )
    .body;
    let bearer = token["token"]["value"].as_str().unwrap_or("").to_string();
    prop_assert!(!id.is_empty() && !secret.is_empty() && !bearer.is_empty());
    let token_secret = {
        let raw = STANDARD
            .decode(bearer.as_bytes())
            .or_else(|_| base64::engine::general_purpose::STANDARD_NO_PAD.decode(bearer.as_bytes()))
            .unwrap_or_default();
        let text = String::from_utf8_lossy(raw.get(4..).unwrap_or_default()).to_string();
        text.split_once(':')
            .map(|(_, s)| s.to_string())
            .unwrap_or_default()
    };
    prop_assert!(token_secret.len() >= 16);
    let secrets: Vec<(&str, Vec<String>)> = vec![
        ("password", forms(password, &["elastic"])),
        ("API key secret", forms(&secret, &[&id])),
        (
            "token secret",
            forms(&token_secret, &[&format!("{FLEET}/t1")]),
        ),
        ("token bearer", forms(&bearer, &[])),
    ];

    let headers = [
        admin.clone(),
        format!("ApiKey {}", STANDARD.encode(format!("{id}:{secret}"))),
        format!("ApiKey {}", STANDARD.encode(format!("{id}:{secret}x"))),
        format!("ApiKey {id}:{secret}"),
        format!("Bearer {bearer}"),
        format!("Bearer {bearer}x"),
        basic("elastic", &format!("{password}x")),
        format!("Basic {password}"),
        password.to_string(),
    ];
    let calls = [
        ("GET", "/_security/_authenticate"),
        ("GET", "/_nope"),
        ("POST", "/_security/api_key/_clear_cache"),
        ("GET", "/_security/api_key"),
        ("GET", "/_security/service/elastic/fleet-server/credential"),
        ("DELETE", "/_security/api_key"),
    ];
    let mut outputs: Vec<(String, String)> = Vec::new();
    for (i, n) in traffic.iter().enumerate() {
        let (method, path) = calls[n % calls.len()];
        let auth = &headers[(n / calls.len()) % headers.len()];
        let body = (method == "DELETE").then(|| json!({"ids": [id]}));
        let r = request(&mut c, (n % 2) as u16, method, path, auth, body);
        outputs.push((
            format!("request {i} {method} {path}"),
            format!("{} {:?} {}", r.status, r.headers, r.body),
        ));
    }

    let mut sim = Simulation::new(&c, seed);
    let w = spec::workload(
        &c,
        &json!({"name": "w", "population": 3, "rate": 20, "wrong_secret_share": 0.3}),
    )
    .map_err(|e| TestCaseError::fail(e.into_reason()))?;
    sim.add_workload(&c, w)
        .map_err(|e| TestCaseError::fail(e.into_reason()))?;
    for (j, auth) in headers.iter().enumerate() {
        let path = if j % 2 == 0 {
            "/_nope"
        } else {
            "/_security/_authenticate"
        };
        let a = spec::action(
            &c,
            &["w".to_string()],
            &json!({"action": "rest", "method": "GET", "path": path, "authorization": auth,
                    "body": {"password": password}}),
        )
        .map_err(|e| TestCaseError::fail(e.into_reason()))?;
        outputs.push((format!("action {j} Debug"), format!("{a:?}")));
        sim.schedule(S / 2 + j as u64 * S / 4, None, a)
            .map_err(|e| TestCaseError::fail(e.into_reason()))?;
    }
    sim.run_until(&mut c, 4 * S);
    prop_assert!(!sim.action_errors.is_empty());
    outputs.push(("report".into(), report::report(&sim, &c).to_string()));
    outputs.push(("timeline".into(), report::timeline(&sim, &c).to_string()));
    outputs.push(("action errors".into(), format!("{:?}", sim.action_errors)));
    outputs.push(("simulation Debug".into(), format!("{sim:?}")));
    for e in c.events.iter() {
        outputs.push((
            "event".into(),
            format!("{} {} {}", e.kind.name(), e.key, e.detail),
        ));
    }
    for (where_, text) in &outputs {
        for (name, fs) in &secrets {
            for f in fs {
                prop_assert!(
                    !text.contains(f.as_str()),
                    "{name} ({f}) in {where_}: {text}"
                );
            }
        }
    }
    Ok(())
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(12))]
    #[test]
    fn issue8_d03_no_secret_appears_in_any_rust_output(
        seed in any::<u64>(),
        password in "Pw[A-Za-z0-9_.!-]{10,20}!",
        traffic in proptest::collection::vec(0usize..1000, 4..20),
    ) {
        run(seed, &password, &traffic)?;
    }
}
