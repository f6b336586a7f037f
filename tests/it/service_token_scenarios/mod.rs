//! The service account token scenarios of `docs/rules.md` (ST-SC1 to ST-SC20) (one test per
//! scenario, `sc1_*` ... `sc20_*`), run on a simulated cluster, plus cluster-level tests of I1, I2, I3,
//! C1, A2, M5 and of nodes whose `service_tokens` files disagree.
//!
//! Where a scenario is about the REST API it goes through `escache::rest::handle` (routing,
//! authentication, authorization, the handler). "The store is not asked" is observed through the
//! service's `verifications` counter, the `hash_verification` events and the cache stats.
//! Expectations are written out from the rules (and the Elasticsearch tests they cite), never computed by
//! the model itself.
//!
//! Index tokens are hashed with `bcrypt4` and file tokens with `{SSHA256}` so the suite stays fast; the
//! real Elasticsearch `service_tokens` file of `tests/data` is used where its hashes are the point.

mod cache_and_clear;
mod invalidation;
mod nodes_and_settings;
mod settings_and_apis;
mod stores;

use crate::common::{
    admin, basic, v1_message, FILE, FLEET, INDEX, SERVICE_TOKENS,
    SERVICE_TOKEN_SECRETS as REAL_SECRETS,
};
use escache::cluster::{Authentication, AuthenticationOutcome, Cluster, ClusterConfig};
use escache::events::{CacheId, EventKind, NodeIndex};
use escache::rest::Response;
use escache::security::hashing::{Hasher, Secret};
use escache::security::index::IndexHealth;
use escache::security::service_account::{ServiceAccountId, ServiceAccountToken};
use escache::security::settings::SecuritySettings;
use escache::time::{NANOS_PER_MILLI, NANOS_PER_SECOND};
use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;
use serde_json::{json, Value};
use std::collections::BTreeSet;

// ---------------------------------------------------------------------------------------------
// Helpers
// ---------------------------------------------------------------------------------------------

const HASHING: &str = "xpack.security.authc.service_token_hashing.algorithm";

const TTL: &str = "xpack.security.authc.service_token.cache.ttl";

const CLEAR_ACTION: &str = "cluster:admin/xpack/security/cache/clear";

fn auth_failed_message(principal: &str, name: &str) -> String {
    format!("failed to authenticate service account [{principal}] with token name [{name}]")
}

fn cluster_named(names: &[&str], settings: &[(&str, &str)]) -> Cluster {
    let mut config = ClusterConfig::new(names.len());
    config.node_names = names.iter().map(std::string::ToString::to_string).collect();
    let mut pairs: Vec<(&str, &str)> = vec![(HASHING, "bcrypt4")];
    pairs.extend_from_slice(settings);
    config.settings = SecuritySettings::from_pairs(pairs).unwrap();
    let mut c = Cluster::new(config).unwrap();
    // The usual state of a cluster: the `.security` index exists (without it the index store raises
    // for every token the file store does not accept; see `s4_*`).
    c.create_security_index();
    c
}

fn cluster_with(nodes: usize, settings: &[(&str, &str)]) -> Cluster {
    let names: Vec<String> = (0..nodes).map(|i| format!("node-{i}")).collect();
    let refs: Vec<&str> = names.iter().map(String::as_str).collect();
    cluster_named(&refs, settings)
}

fn cluster(nodes: usize) -> Cluster {
    cluster_with(nodes, &[])
}

fn rest(
    c: &mut Cluster,
    node: NodeIndex,
    method: &str,
    target: &str,
    authorization: &str,
    body: Option<Value>,
) -> Response {
    let mut headers = vec![("Authorization".to_string(), authorization.to_string())];
    if body.is_some() {
        headers.push(("Content-Type".into(), "application/json".into()));
    }
    escache::rest::handle(
        c,
        node,
        method,
        target,
        headers,
        body.map(|b| serde_json::to_vec(&b).unwrap()),
    )
}

fn account(principal: &str) -> ServiceAccountId {
    ServiceAccountId::from_principal(principal).unwrap()
}

/// A bearer value for any `principal/name:secret` (the real format, T2).
fn bearer_for(principal: &str, name: &str, secret: &str) -> String {
    ServiceAccountToken::new(account(principal), name, Secret::new(secret))
        .unwrap()
        .as_bearer_string()
}

/// Creates an index token through `PUT /_security/service/.../credential/token/{name}`; returns its
/// bearer value.
fn create_index_token(c: &mut Cluster, principal: &str, name: &str) -> String {
    let r = rest(
        c,
        0,
        "PUT",
        &format!("/_security/service/{principal}/credential/token/{name}"),
        &admin(),
        None,
    );
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(r.body["created"], json!(true));
    assert_eq!(r.body["token"]["name"], json!(name));
    r.body["token"]["value"].as_str().unwrap().to_string()
}

/// A `service_tokens` line `principal/name:{SSHA256}...` for `secret`.
fn file_line(principal: &str, name: &str, secret: &str, seed: u64) -> String {
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    format!(
        "{principal}/{name}:{}",
        Hasher::Ssha256.hash(secret, &mut rng)
    )
}

/// Writes a node's `service_tokens` file and lets its watcher (5 s polls) pick it up.
fn write_file(c: &mut Cluster, node: NodeIndex, text: &str) {
    c.set_service_tokens_file(node, text.as_bytes().to_vec())
        .unwrap();
    c.advance(5 * NANOS_PER_SECOND);
}

fn auth(c: &mut Cluster, node: NodeIndex, bearer: &str) -> AuthenticationOutcome {
    c.authenticate_request(
        node,
        Some(&format!("Bearer {bearer}")),
        "/_security/_authenticate",
    )
}

/// Authenticates and returns the token source (`file` / `index`); panics on failure.
fn auth_source(c: &mut Cluster, node: NodeIndex, bearer: &str) -> &'static str {
    match auth(c, node, bearer) {
        AuthenticationOutcome::Authenticated(Authentication::ServiceAccount { source, .. }) => {
            source
        }
        other => panic!("expected a service account authentication, got {other:?}"),
    }
}

/// Authenticates and returns the 401's reason; panics on success.
fn auth_failure(c: &mut Cluster, node: NodeIndex, bearer: &str) -> String {
    match auth(c, node, bearer) {
        AuthenticationOutcome::Failed(e) => {
            assert_eq!(e.status, 401, "{e:?}");
            assert_eq!(e.kind, "security_exception");
            e.into_reason()
        }
        other => panic!("expected a failure, got {other:?}"),
    }
}

fn keys(c: &Cluster, node: NodeIndex, cache: CacheId) -> BTreeSet<String> {
    c.cache_keys(node, cache).into_iter().collect()
}

fn set(items: &[&str]) -> BTreeSet<String> {
    items.iter().map(std::string::ToString::to_string).collect()
}

fn verifications(c: &Cluster, node: NodeIndex) -> u64 {
    c.nodes()[node as usize].service_accounts.verifications
}

fn stats(c: &Cluster, node: NodeIndex, cache: CacheId) -> (u64, u64) {
    let s = c.cache_stats(node, cache).expect("cache enabled");
    (s.hits, s.misses)
}

/// `(node, key, detail)` of the events of one kind and cache recorded from index `since`.
fn events_since(
    c: &Cluster,
    since: usize,
    kind: EventKind,
    cache: CacheId,
) -> Vec<(NodeIndex, String, String)> {
    c.events
        .iter()
        .skip(since)
        .filter(|e| e.kind == kind && e.cache == cache)
        .map(|e| (e.node, e.key.to_string(), e.detail.to_string()))
        .collect()
}

fn clear_events_since(c: &Cluster, since: usize) -> Vec<(NodeIndex, String, String)> {
    events_since(c, since, EventKind::ClearCache, CacheId::None)
}

fn clear_path(principal: &str, names: &str) -> String {
    format!("/_security/service/{principal}/credential/token/{names}/_clear_cache")
}

fn assert_nodes_ok(body: &Value, total: usize) {
    assert_eq!(
        body["_nodes"],
        json!({"total": total, "successful": total, "failed": 0}),
        "{body}"
    );
    assert_eq!(body["cluster_name"], json!("escache"));
    assert_eq!(body["nodes"].as_object().unwrap().len(), total);
}

/// Both caches of every node hold `t1` and `t1-b`: a file token and an index token of each name.
fn warm_t1_and_t1b(c: &mut Cluster, nodes: usize) {
    let file = [
        file_line(FLEET, "t1", "file-secret-t1", 1),
        file_line(FLEET, "t1-b", "file-secret-t1b", 2),
    ]
    .join("\n");
    for n in 0..nodes as NodeIndex {
        c.set_service_tokens_file(n, file.as_bytes().to_vec())
            .unwrap();
    }
    c.advance(5 * NANOS_PER_SECOND);
    let i1 = create_index_token(c, FLEET, "t1");
    let i1b = create_index_token(c, FLEET, "t1-b");
    for n in 0..nodes as NodeIndex {
        assert_eq!(
            auth_source(c, n, &bearer_for(FLEET, "t1", "file-secret-t1")),
            "file"
        );
        assert_eq!(
            auth_source(c, n, &bearer_for(FLEET, "t1-b", "file-secret-t1b")),
            "file"
        );
        assert_eq!(auth_source(c, n, &i1), "index");
        assert_eq!(auth_source(c, n, &i1b), "index");
        let both = set(&["elastic/fleet-server/t1", "elastic/fleet-server/t1-b"]);
        assert_eq!(keys(c, n, FILE), both);
        assert_eq!(keys(c, n, INDEX), both);
    }
}
