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

// ---------------------------------------------------------------------------------------------
// Section 10 scenarios
// ---------------------------------------------------------------------------------------------

#[test]
fn sc1_cache_hit_skips_the_store() {
    let mut c = cluster(1);
    let t1 = create_index_token(&mut c, FLEET, "t1");
    assert_eq!(auth_source(&mut c, 0, &t1), "index");
    assert_eq!(verifications(&c, 0), 1);
    assert_eq!(keys(&c, 0, INDEX), set(&["elastic/fleet-server/t1"]));
    assert_eq!(stats(&c, 0, INDEX), (0, 1));

    let mark = c.events.len();
    assert_eq!(auth_source(&mut c, 0, &t1), "index");
    // No document GET: no store verification, a cache hit.
    assert_eq!(verifications(&c, 0), 1);
    assert!(events_since(&c, mark, EventKind::HashVerification, INDEX).is_empty());
    assert_eq!(stats(&c, 0, INDEX), (1, 1));
    assert_eq!(
        events_since(&c, mark, EventKind::CacheHit, INDEX),
        [(0, "elastic/fleet-server/t1".to_string(), String::new())]
    );
    // The cluster-level view sees the entry too.
    assert!(c.cache_contains(0, INDEX, "elastic/fleet-server/t1"));
    assert!(!c.cache_contains(0, FILE, "elastic/fleet-server/t1"));

    // Through REST: `_authenticate` reports the index store (A3).
    let r = rest(
        &mut c,
        0,
        "GET",
        "/_security/_authenticate",
        &format!("Bearer {t1}"),
        None,
    );
    assert_eq!(r.status, 200);
    assert_eq!(r.body["username"], json!(FLEET));
    assert_eq!(
        r.body["token"],
        json!({"name": "t1", "type": "_service_account_index"})
    );
    assert_eq!(
        r.body["authentication_realm"],
        json!({"name": "_service_account", "type": "_service_account"})
    );
    assert_eq!(r.body["authentication_type"], json!("token"));
    assert_eq!(verifications(&c, 0), 1);
}

#[test]
fn sc2_wrong_secret_on_a_cached_key() {
    let mut c = cluster(1);
    let t1 = create_index_token(&mut c, FLEET, "t1");
    assert_eq!(auth_source(&mut c, 0, &t1), "index");
    let before = verifications(&c, 0);
    let mark = c.events.len();

    let wrong = bearer_for(FLEET, "t1", "WRONGSECRET1");
    assert_eq!(
        auth_failure(&mut c, 0, &wrong),
        auth_failed_message(FLEET, "t1")
    );
    // The index store is not asked; the success entry stays.
    assert_eq!(verifications(&c, 0), before);
    assert!(events_since(&c, mark, EventKind::HashVerification, INDEX).is_empty());
    assert!(events_since(&c, mark, EventKind::CacheInvalidated, INDEX).is_empty());
    assert_eq!(keys(&c, 0, INDEX), set(&["elastic/fleet-server/t1"]));
    let entry = c.nodes()[0]
        .service_accounts
        .store(INDEX)
        .unwrap()
        .cached("elastic/fleet-server/t1")
        .unwrap();
    assert!(entry.result.as_ref().unwrap().success);
    // The right secret still hits.
    assert_eq!(auth_source(&mut c, 0, &t1), "index");
    assert_eq!(verifications(&c, 0), before);

    // Over REST the 401 carries the same message.
    let r = rest(
        &mut c,
        0,
        "GET",
        "/_security/_authenticate",
        &format!("Bearer {wrong}"),
        None,
    );
    assert_eq!(r.status, 401);
    assert_eq!(r.body["error"]["type"], json!("security_exception"));
    assert_eq!(
        r.body["error"]["reason"],
        json!(auth_failed_message(FLEET, "t1"))
    );
}

#[test]
fn sc3_failures_are_not_cached() {
    let mut c = cluster(1);
    let t1 = create_index_token(&mut c, FLEET, "t1");
    assert_eq!(auth_source(&mut c, 0, &t1), "index");
    let size = c.cache_size(0, INDEX).unwrap().count;
    let t2 = bearer_for(FLEET, "t2", "secret-of-t2-0001");
    let (_, misses) = stats(&c, 0, INDEX);
    let mark = c.events.len();
    for round in 1..=2u64 {
        assert_eq!(
            auth_failure(&mut c, 0, &t2),
            auth_failed_message(FLEET, "t2")
        );
        // The store was asked (a miss each time) and nothing stays.
        assert_eq!(stats(&c, 0, INDEX).1, misses + round);
        assert_eq!(c.cache_size(0, INDEX).unwrap().count, size);
        assert!(!c.cache_contains(0, INDEX, "elastic/fleet-server/t2"));
    }
    // Each attempt: a miss, a pending put, then the entry removed ("Do not cache failed attempt").
    assert_eq!(events_since(&c, mark, EventKind::CacheMiss, INDEX).len(), 2);
    assert_eq!(
        events_since(&c, mark, EventKind::CacheInvalidated, INDEX)
            .iter()
            .filter(|e| e.1 == "elastic/fleet-server/t2")
            .count(),
        2
    );
}

#[test]
fn sc4_secret_too_short() {
    let mut c = cluster(1);
    create_index_token(&mut c, FLEET, "t1");
    let mark = c.events.len();
    let short = bearer_for(FLEET, "t1", "123456789");
    assert_eq!(
        auth_failure(&mut c, 0, &short),
        auth_failed_message(FLEET, "t1")
    );
    assert_eq!(verifications(&c, 0), 0);
    assert_eq!(stats(&c, 0, INDEX), (0, 0));
    assert_eq!(stats(&c, 0, FILE), (0, 0));
    assert!(c
        .events
        .iter()
        .skip(mark)
        .all(|e| e.cache != INDEX && e.cache != FILE));
    // Ten characters reach the stores (and fail there).
    let ten = bearer_for(FLEET, "t1", "1234567890");
    assert_eq!(
        auth_failure(&mut c, 0, &ten),
        auth_failed_message(FLEET, "t1")
    );
    assert_eq!(stats(&c, 0, INDEX), (0, 1));
    assert_eq!(stats(&c, 0, FILE), (0, 1));
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

#[test]
fn sc5_clear_one_token() {
    let mut c = cluster(2);
    warm_t1_and_t1b(&mut c, 2);
    let mark = c.events.len();
    let r = rest(&mut c, 0, "POST", &clear_path(FLEET, "t1"), &admin(), None);
    assert_eq!(r.status, 200, "{}", r.body);
    assert_nodes_ok(&r.body, 2);
    for n in 0..2 {
        // Exact match only: `t1-b` stays, in both caches.
        assert_eq!(keys(&c, n, FILE), set(&["elastic/fleet-server/t1-b"]));
        assert_eq!(keys(&c, n, INDEX), set(&["elastic/fleet-server/t1-b"]));
    }
    // ST-R4: cache name `service`, the single exact key.
    assert_eq!(
        clear_events_since(&c, mark),
        [
            (
                0,
                "service".to_string(),
                "elastic/fleet-server/t1".to_string()
            ),
            (
                1,
                "service".to_string(),
                "elastic/fleet-server/t1".to_string()
            ),
        ]
    );
}

#[test]
fn sc6_clear_all_tokens_of_one_account() {
    let mut c = cluster(1);
    let a = create_index_token(&mut c, FLEET, "a");
    let b = create_index_token(&mut c, FLEET, "b");
    let kc = create_index_token(&mut c, "elastic/kibana", "c");
    for names in ["*", "_all", ""] {
        for t in [&a, &b, &kc] {
            auth_source(&mut c, 0, t);
        }
        assert_eq!(
            keys(&c, 0, INDEX),
            set(&[
                "elastic/fleet-server/a",
                "elastic/fleet-server/b",
                "elastic/kibana/c"
            ])
        );
        let mark = c.events.len();
        let r = rest(&mut c, 0, "POST", &clear_path(FLEET, names), &admin(), None);
        assert_eq!(r.status, 200, "[{names}]: {}", r.body);
        assert_nodes_ok(&r.body, 1);
        assert_eq!(
            keys(&c, 0, INDEX),
            set(&["elastic/kibana/c"]),
            "name [{names}]"
        );
        assert_eq!(
            clear_events_since(&c, mark),
            [(
                0,
                "service".to_string(),
                "elastic/fleet-server/".to_string()
            )],
            "name [{names}]"
        );
    }
}

#[test]
fn sc7_list_with_an_unknown_name() {
    let mut c = cluster(2);
    warm_t1_and_t1b(&mut c, 2);
    let r = rest(
        &mut c,
        1,
        "POST",
        &clear_path(FLEET, "t1,does-not-exist"),
        &admin(),
        None,
    );
    assert_eq!(r.status, 200);
    assert_nodes_ok(&r.body, 2);
    for n in 0..2 {
        assert_eq!(keys(&c, n, INDEX), set(&["elastic/fleet-server/t1-b"]));
        assert_eq!(keys(&c, n, FILE), set(&["elastic/fleet-server/t1-b"]));
    }
}

#[test]
fn sc8_invalid_name() {
    let mut c = cluster(2);
    warm_t1_and_t1b(&mut c, 2);
    let before: Vec<_> = (0..2)
        .map(|n| (c.cache_keys(n, FILE), c.cache_keys(n, INDEX)))
        .collect();
    for (names, first_bad) in [
        ("_bad", "_bad"),
        ("*,t1", "*"),
        ("t1,*", "*"),
        ("a,,b", ""),
        ("a%20b", "a b"),
        ("t1,_all", "_all"),
        ("t1,a%2Fb", "a/b"),
    ] {
        let mark = c.events.len();
        let r = rest(&mut c, 0, "POST", &clear_path(FLEET, names), &admin(), None);
        assert_eq!(r.status, 400, "{names}");
        assert_eq!(r.body["error"]["type"], json!("illegal_argument_exception"));
        assert_eq!(
            r.body["error"]["reason"],
            json!(v1_message(first_bad)),
            "{names}"
        );
        assert_eq!(r.body["status"], json!(400));
        assert!(clear_events_since(&c, mark).is_empty(), "{names}");
    }
    let after: Vec<_> = (0..2)
        .map(|n| (c.cache_keys(n, FILE), c.cache_keys(n, INDEX)))
        .collect();
    assert_eq!(before, after);
}

#[test]
fn sc9_same_name_in_file_and_index() {
    let mut c = cluster(1);
    write_file(&mut c, 0, &file_line(FLEET, "token1", "file-secret-F1", 7));
    let index_bearer = create_index_token(&mut c, FLEET, "token1");
    let file_bearer = bearer_for(FLEET, "token1", "file-secret-F1");
    assert_eq!(auth_source(&mut c, 0, &index_bearer), "index");
    assert_eq!(auth_source(&mut c, 0, &file_bearer), "file");
    let key = "elastic/fleet-server/token1";
    assert!(c.cache_contains(0, FILE, key));
    assert!(c.cache_contains(0, INDEX, key));
    let v = verifications(&c, 0);
    let (fh, fm) = stats(&c, 0, FILE);
    let (ih, im) = stats(&c, 0, INDEX);
    let mark = c.events.len();

    // The index bearer: the file-cache hit fails its hash check, the index-cache hit succeeds.
    assert_eq!(auth_source(&mut c, 0, &index_bearer), "index");
    assert_eq!(stats(&c, 0, FILE), (fh + 1, fm));
    assert_eq!(stats(&c, 0, INDEX), (ih + 1, im));
    assert_eq!(verifications(&c, 0), v);
    assert!(c
        .events
        .iter()
        .skip(mark)
        .all(|e| e.kind != EventKind::HashVerification));
    // Both entries stay, each a success.
    for cache in [FILE, INDEX] {
        let e = c.nodes()[0]
            .service_accounts
            .store(cache)
            .unwrap()
            .cached(key)
            .unwrap();
        assert!(e.result.as_ref().unwrap().success, "{cache:?}");
    }
    let r = rest(
        &mut c,
        0,
        "GET",
        "/_security/_authenticate",
        &format!("Bearer {index_bearer}"),
        None,
    );
    assert_eq!(
        r.body["token"],
        json!({"name": "token1", "type": "_service_account_index"})
    );
    let r = rest(
        &mut c,
        0,
        "GET",
        "/_security/_authenticate",
        &format!("Bearer {file_bearer}"),
        None,
    );
    assert_eq!(
        r.body["token"],
        json!({"name": "token1", "type": "_service_account_file"})
    );
}

#[test]
fn sc10_delete_clears_the_index_cache() {
    let mut c = cluster(3);
    let t1 = create_index_token(&mut c, FLEET, "t1");
    for n in 0..3 {
        auth_source(&mut c, n, &t1);
        assert!(c.cache_contains(n, INDEX, "elastic/fleet-server/t1"));
    }
    let mark = c.events.len();
    let r = rest(
        &mut c,
        1,
        "DELETE",
        "/_security/service/elastic/fleet-server/credential/token/t1",
        &admin(),
        None,
    );
    assert_eq!(r.status, 200);
    assert_eq!(r.body, json!({"found": true}));
    let expected: Vec<_> = (0..3)
        .map(|n| {
            (
                n,
                "index_service_account_token".to_string(),
                "elastic/fleet-server/t1".to_string(),
            )
        })
        .collect();
    assert_eq!(clear_events_since(&c, mark), expected);
    for n in 0..3 {
        assert!(keys(&c, n, INDEX).is_empty());
        let (_, misses) = stats(&c, n, INDEX);
        assert_eq!(
            auth_failure(&mut c, n, &t1),
            auth_failed_message(FLEET, "t1")
        );
        // A store miss: the document is gone, so no hash was verified.
        assert_eq!(stats(&c, n, INDEX).1, misses + 1);
        assert_eq!(verifications(&c, n), 1);
    }
    let r = rest(
        &mut c,
        0,
        "DELETE",
        "/_security/service/elastic/fleet-server/credential/token/t1",
        &admin(),
        None,
    );
    assert_eq!(r.status, 404);
    assert_eq!(r.body, json!({"found": false}));
}

#[test]
fn sc11_delete_without_index_create_errors() {
    let mut c = cluster(2);
    c.delete_security_index();
    assert!(!c.security_index.exists());
    let mark = c.events.len();
    let r = rest(
        &mut c,
        0,
        "DELETE",
        "/_security/service/elastic/fleet-server/credential/token/t1",
        &admin(),
        None,
    );
    assert_eq!(r.status, 404);
    assert_eq!(r.body, json!({"found": false}));
    assert!(clear_events_since(&c, mark).is_empty());
    assert!(!c.security_index.exists());

    let r = rest(
        &mut c,
        0,
        "POST",
        "/_security/service/elastic/foo/credential/token/t1",
        &admin(),
        None,
    );
    assert_eq!(r.status, 400);
    assert_eq!(r.body["error"]["type"], json!("illegal_argument_exception"));
    assert_eq!(
        r.body["error"]["reason"],
        json!("service account [elastic/foo] does not exist")
    );

    create_index_token(&mut c, FLEET, "t1");
    let r = rest(
        &mut c,
        1,
        "PUT",
        "/_security/service/elastic/fleet-server/credential/token/t1",
        &admin(),
        None,
    );
    assert_eq!(r.status, 409);
    assert_eq!(
        r.body["error"]["type"],
        json!("version_conflict_engine_exception")
    );
    let reason = r.body["error"]["reason"].as_str().unwrap();
    assert!(reason.contains("document already exists"), "{reason}");
    assert!(
        reason.contains("service_account_token-elastic/fleet-server/t1"),
        "{reason}"
    );
}

#[test]
fn sc12_security_index_changes_clear_the_index_cache_only() {
    type Change = fn(&mut Cluster);
    let changes: [(&str, Change); 4] = [
        ("recreated (new UUID)", |c| c.recreate_security_index()),
        ("deleted", |c| c.delete_security_index()),
        ("up-to-date flag flipped", |c| {
            c.set_security_index_up_to_date(false);
        }),
        ("RED -> GREEN", |c| {
            c.set_security_index_health(IndexHealth::Green).unwrap();
        }),
    ];
    for (what, change) in changes {
        let mut c = cluster(2);
        write_file(&mut c, 0, &file_line(FLEET, "f1", "file-secret-f1", 3));
        let t1 = create_index_token(&mut c, FLEET, "t1");
        auth_source(&mut c, 0, &t1);
        auth_source(&mut c, 1, &t1);
        assert_eq!(
            auth_source(&mut c, 0, &bearer_for(FLEET, "f1", "file-secret-f1")),
            "file"
        );
        if what == "RED -> GREEN" {
            // Going RED clears nothing (only a move to non-RED does), and a cached token still
            // authenticates from the cache while the index is RED.
            c.set_security_index_health(IndexHealth::Red).unwrap();
            assert_eq!(keys(&c, 0, INDEX), set(&["elastic/fleet-server/t1"]));
            assert_eq!(auth_source(&mut c, 0, &t1), "index");
        }
        change(&mut c);
        for n in 0..2 {
            assert!(keys(&c, n, INDEX).is_empty(), "{what}: node {n}");
        }
        assert_eq!(
            keys(&c, 0, FILE),
            set(&["elastic/fleet-server/f1"]),
            "{what}"
        );
    }
}

#[test]
fn sc13_file_edited() {
    let mut c = cluster(1);
    let f1_line = file_line(FLEET, "f1", "file-secret-f1", 4);
    let g_line = file_line(FLEET, "g", "file-secret-g1", 5);
    write_file(&mut c, 0, &format!("{f1_line}\n{g_line}\n"));
    let f1 = bearer_for(FLEET, "f1", "file-secret-f1");
    let g = bearer_for(FLEET, "g", "file-secret-g1");
    let f2 = bearer_for(FLEET, "f2", "file-secret-f2");
    auth_source(&mut c, 0, &f1);
    auth_source(&mut c, 0, &g);
    assert_eq!(keys(&c, 0, FILE).len(), 2);

    // A comment and a blank line: the map is the same, nothing is cleared.
    let same = format!("# a comment\n{f1_line}\n\n{g_line}\n\n# another:comment\n");
    let mark = c.events.len();
    write_file(&mut c, 0, &same);
    assert!(events_since(&c, mark, EventKind::FileReloaded, FILE).is_empty());
    assert_eq!(keys(&c, 0, FILE).len(), 2);

    // A new line: after the next poll (not before) the whole file cache is cleared and f2 works.
    let edited = format!("{same}{}\n", file_line(FLEET, "f2", "file-secret-f2", 6));
    c.set_service_tokens_file(0, edited.into_bytes()).unwrap();
    let now = c.now();
    let next_poll = (now / (5 * NANOS_PER_SECOND) + 1) * 5 * NANOS_PER_SECOND;
    c.advance(next_poll - now - NANOS_PER_MILLI);
    assert_eq!(keys(&c, 0, FILE).len(), 2, "not reloaded before the poll");
    assert_eq!(
        auth_failure(&mut c, 0, &f2),
        auth_failed_message(FLEET, "f2")
    );
    let mark = c.events.len();
    c.advance(NANOS_PER_MILLI);
    let reloads = events_since(&c, mark, EventKind::FileReloaded, FILE);
    assert_eq!(reloads.len(), 1);
    assert_eq!(
        reloads[0].2,
        "service tokens file [config/service_tokens] changed. updating ..."
    );
    assert!(keys(&c, 0, FILE).is_empty(), "the whole cache is cleared");
    assert_eq!(auth_source(&mut c, 0, &f2), "file");
    assert_eq!(auth_source(&mut c, 0, &f1), "file");
}

#[test]
fn sc14_malformed_file() {
    let mut c = cluster(1);
    let good = [
        file_line(FLEET, "f1", "file-secret-f1", 8),
        file_line("elastic/kibana", "k1", "file-secret-k1", 9),
    ]
    .join("\n");
    write_file(&mut c, 0, &good);
    let f1 = bearer_for(FLEET, "f1", "file-secret-f1");
    let k1 = bearer_for("elastic/kibana", "k1", "file-secret-k1");
    auth_source(&mut c, 0, &f1);
    auth_source(&mut c, 0, &k1);
    assert_eq!(keys(&c, 0, FILE).len(), 2);

    let mark = c.events.len();
    write_file(&mut c, 0, &format!("{good}\nno-colon-on-this-line\n"));
    let warns = events_since(&c, mark, EventKind::LogWarn, FILE);
    assert!(
        warns.iter().any(|w| w.2
            == "failed to parse service tokens file [config/service_tokens]. skipping/removing all tokens..."),
        "{warns:?}"
    );
    assert_eq!(
        events_since(&c, mark, EventKind::FileReloaded, FILE).len(),
        1
    );
    assert!(keys(&c, 0, FILE).is_empty());
    assert_eq!(
        auth_failure(&mut c, 0, &f1),
        auth_failed_message(FLEET, "f1")
    );
    assert_eq!(
        auth_failure(&mut c, 0, &k1),
        auth_failed_message("elastic/kibana", "k1")
    );
    assert!(c.nodes()[0].service_accounts.file_tokens().is_empty());

    write_file(&mut c, 0, &good);
    assert_eq!(auth_source(&mut c, 0, &f1), "file");
    assert_eq!(auth_source(&mut c, 0, &k1), "file");
}

#[test]
fn sc15_plaintext_and_duplicate_lines() {
    let mut c = cluster(1);
    let text = [
        "elastic/fleet-server/p:{plain}plaintext-secret".to_string(),
        file_line(FLEET, "dup", "first-secret-1", 10),
        file_line(FLEET, "dup", "second-secret-2", 11),
    ]
    .join("\n");
    let mark = c.events.len();
    write_file(&mut c, 0, &text);
    let warns: Vec<String> = events_since(&c, mark, EventKind::LogWarn, FILE)
        .into_iter()
        .map(|e| e.2)
        .collect();
    assert_eq!(
        warns,
        [
            "skipping plaintext service account token for key [elastic/fleet-server/p]",
            "found duplicated key [elastic/fleet-server/dup], earlier entries are overridden",
        ]
    );
    assert_eq!(
        c.nodes()[0].service_accounts.file_tokens(),
        ["elastic/fleet-server/dup"]
    );
    assert_eq!(
        auth_failure(&mut c, 0, &bearer_for(FLEET, "p", "plaintext-secret")),
        auth_failed_message(FLEET, "p")
    );
    assert_eq!(
        auth_failure(&mut c, 0, &bearer_for(FLEET, "dup", "first-secret-1")),
        auth_failed_message(FLEET, "dup")
    );
    assert_eq!(
        auth_source(&mut c, 0, &bearer_for(FLEET, "dup", "second-secret-2")),
        "file"
    );
}

#[test]
fn sc15_real_elasticsearch_file() {
    // Elasticsearch's own test resource: five hashed tokens and a `{plain}` line.
    let mut c = cluster(2);
    c.set_service_tokens_file(0, SERVICE_TOKENS.as_bytes().to_vec())
        .unwrap();
    let mark = c.events.len();
    c.advance(5 * NANOS_PER_SECOND);
    let warns: Vec<String> = events_since(&c, mark, EventKind::LogWarn, FILE)
        .into_iter()
        .map(|e| e.2)
        .collect();
    assert_eq!(
        warns,
        ["skipping plaintext service account token for key [elastic/fleet-server/plain]"]
    );
    assert_eq!(
        c.service_tokens_tool_list(0, None).unwrap(),
        [
            "elastic/fleet-server/bcrypt",
            "elastic/fleet-server/bcrypt10",
            "elastic/fleet-server/pbkdf2",
            "elastic/fleet-server/pbkdf2_50000",
            "elastic/fleet-server/pbkdf2_stretch",
        ]
    );
    for (name, secret) in REAL_SECRETS {
        let b = bearer_for(FLEET, name, secret);
        assert_eq!(auth_source(&mut c, 0, &b), "file", "{name}");
        // Only node-0 has the file.
        assert_eq!(
            auth_failure(&mut c, 1, &b),
            auth_failed_message(FLEET, name)
        );
    }
    // Another token's secret fails.
    assert_eq!(
        auth_failure(
            &mut c,
            0,
            &bearer_for(FLEET, "pbkdf2", "XE90eAaoT1iW1W-vJf34qw")
        ),
        auth_failed_message(FLEET, "pbkdf2")
    );
    assert_eq!(
        auth_failure(
            &mut c,
            0,
            &bearer_for(FLEET, "plain", "_By842iQQVKSCLxVcJZWvw")
        ),
        auth_failed_message(FLEET, "plain")
    );
}

#[test]
fn sc16_cache_disabled() {
    for ttl in ["0s", "-1"] {
        let mut c = cluster_with(2, &[(TTL, ttl)]);
        assert!(c.cache_size(0, INDEX).is_none());
        assert!(c.cache_size(0, FILE).is_none());
        write_file(&mut c, 0, &file_line(FLEET, "f1", "file-secret-f1", 12));
        let t1 = create_index_token(&mut c, FLEET, "t1");
        let f1 = bearer_for(FLEET, "f1", "file-secret-f1");
        for round in 1..=3u64 {
            assert_eq!(auth_source(&mut c, 0, &t1), "index");
            assert_eq!(auth_source(&mut c, 0, &f1), "file");
            // Every authentication asks the store: one verification each.
            assert_eq!(verifications(&c, 0), 2 * round, "ttl {ttl}");
        }
        assert!(c.cache_keys(0, INDEX).is_empty());
        assert!(c.events.iter().all(|e| e.cache != INDEX && e.cache != FILE
            || matches!(
                e.kind,
                EventKind::HashVerification | EventKind::LogWarn | EventKind::FileReloaded
            )));
        for names in ["*", "t1", "t1,f1"] {
            let r = rest(&mut c, 1, "POST", &clear_path(FLEET, names), &admin(), None);
            assert_eq!(r.status, 200);
            assert_nodes_ok(&r.body, 2);
        }
        let r = rest(
            &mut c,
            0,
            "DELETE",
            "/_security/service/elastic/fleet-server/credential/token/t1",
            &admin(),
            None,
        );
        assert_eq!(r.body, json!({"found": true}));
        assert_eq!(
            auth_failure(&mut c, 0, &t1),
            auth_failed_message(FLEET, "t1")
        );
    }
}

#[test]
fn sc17_ttl_counts_from_the_write() {
    let mut c = cluster_with(1, &[(TTL, "1s")]);
    let t1 = create_index_token(&mut c, FLEET, "t1");
    assert_eq!(auth_source(&mut c, 0, &t1), "index");
    assert_eq!(verifications(&c, 0), 1);
    // Accessed at 0.6 s: a hit, which must not extend the entry's life.
    c.advance(600 * NANOS_PER_MILLI);
    auth_source(&mut c, 0, &t1);
    assert_eq!(verifications(&c, 0), 1);
    // Exactly 1 s after the write: not expired yet (expiry is strictly greater than the TTL).
    c.advance(400 * NANOS_PER_MILLI);
    auth_source(&mut c, 0, &t1);
    assert_eq!(verifications(&c, 0), 1);
    // 1 s + 1 ms after the write (0.4 s after the last access): the store is asked again.
    c.advance(NANOS_PER_MILLI);
    assert_eq!(auth_source(&mut c, 0, &t1), "index");
    assert_eq!(verifications(&c, 0), 2);
    // The new entry is fresh.
    c.advance(500 * NANOS_PER_MILLI);
    auth_source(&mut c, 0, &t1);
    assert_eq!(verifications(&c, 0), 2);
}

#[test]
fn sc18_namespace_and_service_not_checked() {
    let mut c = cluster(2);
    warm_t1_and_t1b(&mut c, 2);
    let before: Vec<_> = (0..2)
        .map(|n| (keys(&c, n, FILE), keys(&c, n, INDEX)))
        .collect();
    for (principal, names, key) in [
        ("foo/bar", "*", "foo/bar/"),
        ("*/*", "*", "*/*/"),
        ("elastic/foo", "t1", "elastic/foo/t1"),
        ("other/fleet-server", "t1", "other/fleet-server/t1"),
    ] {
        let mark = c.events.len();
        let r = rest(
            &mut c,
            0,
            "POST",
            &clear_path(principal, names),
            &admin(),
            None,
        );
        assert_eq!(r.status, 200, "{principal}/{names}");
        assert_nodes_ok(&r.body, 2);
        // The keys were sent to every node, and matched nothing.
        assert_eq!(
            clear_events_since(&c, mark)
                .into_iter()
                .map(|e| e.2)
                .collect::<Vec<_>>(),
            [key, key]
        );
    }
    let after: Vec<_> = (0..2)
        .map(|n| (keys(&c, n, FILE), keys(&c, n, INDEX)))
        .collect();
    assert_eq!(before, after);
}

#[test]
fn sc19_privilege() {
    let mut c = cluster(2);
    warm_t1_and_t1b(&mut c, 2);
    for (role, privilege) in [
        ("svc", "manage_service_account"),
        ("sec", "manage_security"),
    ] {
        let r = rest(
            &mut c,
            0,
            "PUT",
            &format!("/_security/role/{role}"),
            &admin(),
            Some(json!({"cluster": [privilege]})),
        );
        assert_eq!(r.status, 200, "{}", r.body);
        let r = rest(
            &mut c,
            0,
            "PUT",
            &format!("/_security/user/u_{role}"),
            &admin(),
            Some(json!({"password": "s3cret-pass", "roles": [role]})),
        );
        assert_eq!(r.status, 200, "{}", r.body);
    }
    let svc = basic("u_svc", "s3cret-pass");
    let mark = c.events.len();
    let r = rest(&mut c, 0, "POST", &clear_path(FLEET, "t1"), &svc, None);
    assert_eq!(r.status, 403);
    assert_eq!(r.body["error"]["type"], json!("security_exception"));
    assert_eq!(
        r.body["error"]["reason"],
        json!(format!(
            "action [{CLEAR_ACTION}] is unauthorized for user [u_svc] with effective roles [svc], \
             this action is granted by the cluster privileges [manage_security,all]"
        ))
    );
    assert!(clear_events_since(&c, mark).is_empty());
    assert!(c.cache_contains(0, INDEX, "elastic/fleet-server/t1"));
    // `manage_service_account` does cover the token APIs themselves.
    let r = rest(
        &mut c,
        0,
        "GET",
        "/_security/service/elastic/fleet-server/credential",
        &svc,
        None,
    );
    assert_eq!(r.status, 200);

    let r = rest(
        &mut c,
        1,
        "POST",
        &clear_path(FLEET, "t1"),
        &basic("u_sec", "s3cret-pass"),
        None,
    );
    assert_eq!(r.status, 200);
    assert_nodes_ok(&r.body, 2);
    for n in 0..2 {
        assert!(!c.cache_contains(n, INDEX, "elastic/fleet-server/t1"));
        assert!(!c.cache_contains(n, FILE, "elastic/fleet-server/t1"));
    }
}

#[test]
fn sc20_get_credentials() {
    let mut c = cluster_named(&["n0", "n1", "n2"], &[]);
    create_index_token(&mut c, FLEET, "api-token-2");
    create_index_token(&mut c, FLEET, "api-token-1");
    create_index_token(&mut c, "elastic/kibana", "kibana-token");
    c.service_tokens_tool_create(0, FLEET, "token1").unwrap();
    let file = c.nodes()[0].service_tokens_file().to_vec();
    c.set_service_tokens_file(1, file).unwrap();
    c.service_tokens_tool_create(2, "elastic/kibana", "token1")
        .unwrap();
    c.advance(5 * NANOS_PER_SECOND);
    let r = rest(
        &mut c,
        2,
        "GET",
        "/_security/service/elastic/fleet-server/credential",
        &admin(),
        None,
    );
    assert_eq!(r.status, 200);
    assert_eq!(
        r.body,
        json!({
            "service_account": "elastic/fleet-server",
            "count": 3,
            "tokens": {"api-token-1": {}, "api-token-2": {}},
            "nodes_credentials": {
                "_nodes": {"total": 3, "successful": 3, "failed": 0},
                "file_tokens": {"token1": {"nodes": ["n0", "n1"]}}
            }
        })
    );
    // Sorted by name in the JSON as well.
    let names: Vec<&String> = r.body["tokens"].as_object().unwrap().keys().collect();
    assert_eq!(names, ["api-token-1", "api-token-2"]);

    // A partitioned node is a failure, and its file tokens are not reported.
    c.set_partitioned(1, true).unwrap();
    let r = rest(
        &mut c,
        0,
        "GET",
        "/_security/service/elastic/fleet-server/credential",
        &admin(),
        None,
    );
    assert_eq!(r.status, 200);
    let nodes = &r.body["nodes_credentials"]["_nodes"];
    assert_eq!(nodes["total"], json!(3));
    assert_eq!(nodes["successful"], json!(2));
    assert_eq!(nodes["failed"], json!(1));
    assert_eq!(nodes["failures"].as_array().unwrap().len(), 1);
    assert_eq!(
        r.body["nodes_credentials"]["file_tokens"],
        json!({"token1": {"nodes": ["n0"]}})
    );
    assert_eq!(r.body["count"], json!(3));
}

// ---------------------------------------------------------------------------------------------
// Rules beyond the scenarios
// ---------------------------------------------------------------------------------------------

#[test]
fn i1_partitioned_node_catches_up_when_healed() {
    let mut c = cluster(3);
    let files: String = file_line(FLEET, "f1", "file-secret-f1", 13);
    for n in 0..3 {
        c.set_service_tokens_file(n, files.clone().into_bytes())
            .unwrap();
    }
    c.advance(5 * NANOS_PER_SECOND);
    let t1 = create_index_token(&mut c, FLEET, "t1");
    let f1 = bearer_for(FLEET, "f1", "file-secret-f1");
    for n in 0..3 {
        auth_source(&mut c, n, &t1);
        auth_source(&mut c, n, &f1);
    }
    c.set_partitioned(1, true).unwrap();
    c.recreate_security_index();
    assert!(keys(&c, 0, INDEX).is_empty());
    assert!(keys(&c, 2, INDEX).is_empty());
    // The partitioned node missed the cluster-state update: its entry is stale and still accepted.
    assert_eq!(keys(&c, 1, INDEX), set(&["elastic/fleet-server/t1"]));
    assert_eq!(auth_source(&mut c, 1, &t1), "index");
    assert_eq!(
        auth_failure(&mut c, 0, &t1),
        auth_failed_message(FLEET, "t1")
    );
    c.set_partitioned(1, false).unwrap();
    assert!(keys(&c, 1, INDEX).is_empty());
    assert_eq!(
        auth_failure(&mut c, 1, &t1),
        auth_failed_message(FLEET, "t1")
    );
    // The file caches were never touched.
    for n in 0..3 {
        assert_eq!(keys(&c, n, FILE), set(&["elastic/fleet-server/f1"]));
    }
}

#[test]
fn i1_index_changes_that_do_not_clear() {
    let mut c = cluster(1);
    let t1 = create_index_token(&mut c, FLEET, "t1");
    auth_source(&mut c, 0, &t1);
    // GREEN -> YELLOW and GREEN -> RED: no rule applies.
    c.set_security_index_health(IndexHealth::Yellow).unwrap();
    assert_eq!(keys(&c, 0, INDEX), set(&["elastic/fleet-server/t1"]));
    c.set_security_index_health(IndexHealth::Red).unwrap();
    assert_eq!(keys(&c, 0, INDEX), set(&["elastic/fleet-server/t1"]));
    // Creating a token (I4) clears nothing either.
    c.set_security_index_health(IndexHealth::Green).unwrap();
    auth_source(&mut c, 0, &t1);
    create_index_token(&mut c, FLEET, "t2");
    assert_eq!(keys(&c, 0, INDEX), set(&["elastic/fleet-server/t1"]));
}

#[test]
fn s4_no_security_index_is_an_exception_and_not_cached() {
    let mut c = cluster(1);
    let t1 = create_index_token(&mut c, FLEET, "t1");
    auth_source(&mut c, 0, &t1);
    c.delete_security_index();
    let r = rest(
        &mut c,
        0,
        "GET",
        "/_security/_authenticate",
        &format!("Bearer {t1}"),
        None,
    );
    assert_eq!(r.status, 401);
    let body = r.body.to_string();
    assert!(body.contains("no such index [.security]"), "{body}");
    assert!(c.cache_keys(0, INDEX).is_empty());
}

#[test]
fn i2_delete_broadcasts_an_exact_key_clear_to_every_node() {
    let mut c = cluster(3);
    write_file(&mut c, 0, &file_line(FLEET, "t1", "file-secret-t1", 14));
    let t1 = create_index_token(&mut c, FLEET, "t1");
    let t1b = create_index_token(&mut c, FLEET, "t1-b");
    for n in 0..3 {
        auth_source(&mut c, n, &t1);
        auth_source(&mut c, n, &t1b);
    }
    auth_source(&mut c, 0, &bearer_for(FLEET, "t1", "file-secret-t1"));
    let r = rest(
        &mut c,
        2,
        "DELETE",
        "/_security/service/elastic/fleet-server/credential/token/t1",
        &admin(),
        None,
    );
    assert_eq!(r.body, json!({"found": true}));
    for n in 0..3 {
        // `…/t1` does not clear `…/t1-b`.
        assert_eq!(keys(&c, n, INDEX), set(&["elastic/fleet-server/t1-b"]));
    }
    // The file cache is not touched by a delete.
    assert_eq!(keys(&c, 0, FILE), set(&["elastic/fleet-server/t1"]));
    assert_eq!(
        auth_source(&mut c, 0, &bearer_for(FLEET, "t1", "file-secret-t1")),
        "file"
    );

    // A delete of a token that does not exist still broadcasts the clear (then answers 404).
    let mark = c.events.len();
    let r = rest(
        &mut c,
        0,
        "DELETE",
        "/_security/service/elastic/fleet-server/credential/token/nope",
        &admin(),
        None,
    );
    assert_eq!(r.status, 404);
    assert_eq!(
        clear_events_since(&c, mark),
        (0..3)
            .map(|n| (
                n,
                "index_service_account_token".to_string(),
                "elastic/fleet-server/nope".to_string()
            ))
            .collect::<Vec<_>>()
    );
    // Unknown account: found:false and no clear.
    let mark = c.events.len();
    let r = rest(
        &mut c,
        0,
        "DELETE",
        "/_security/service/elastic/foo/credential/token/t1",
        &admin(),
        None,
    );
    assert_eq!((r.status, r.body.clone()), (404, json!({"found": false})));
    assert!(clear_events_since(&c, mark).is_empty());
}

#[test]
fn i2_delete_with_a_partitioned_node_leaves_its_entry() {
    let mut c = cluster(3);
    let t1 = create_index_token(&mut c, FLEET, "t1");
    for n in 0..3 {
        auth_source(&mut c, n, &t1);
    }
    c.set_partitioned(2, true).unwrap();
    let r = rest(
        &mut c,
        0,
        "DELETE",
        "/_security/service/elastic/fleet-server/credential/token/t1",
        &admin(),
        None,
    );
    // Node failures are inside a successful clear response: the delete succeeds.
    assert_eq!((r.status, r.body.clone()), (200, json!({"found": true})));
    assert!(keys(&c, 0, INDEX).is_empty());
    assert!(keys(&c, 1, INDEX).is_empty());
    assert_eq!(keys(&c, 2, INDEX), set(&["elastic/fleet-server/t1"]));
    // The missed clear is not replayed: the deleted token is still accepted there from the cache.
    c.set_partitioned(2, false).unwrap();
    assert_eq!(auth_source(&mut c, 2, &t1), "index");
    assert_eq!(
        auth_failure(&mut c, 0, &t1),
        auth_failed_message(FLEET, "t1")
    );
}

#[test]
fn i3_reload_only_when_the_map_changes() {
    let mut c = cluster(1);
    let a = file_line(FLEET, "a", "file-secret-a1", 15);
    let b = file_line(FLEET, "b", "file-secret-b1", 16);
    write_file(&mut c, 0, &format!("{a}\n{b}\n"));
    let ba = bearer_for(FLEET, "a", "file-secret-a1");
    let bb = bearer_for(FLEET, "b", "file-secret-b1");
    let t1 = create_index_token(&mut c, FLEET, "t1");
    auth_source(&mut c, 0, &ba);
    auth_source(&mut c, 0, &bb);
    auth_source(&mut c, 0, &t1);
    let both = set(&["elastic/fleet-server/a", "elastic/fleet-server/b"]);

    // Same map in other clothes: reordered lines, CRLF, indentation, comments.
    for same in [
        format!("{b}\n{a}\n"),
        format!("{a}\r\n{b}\r\n"),
        format!("   {a}  \n#x\n{b}"),
        format!("{a}\n{b}\n{a}\n"),
    ] {
        let mark = c.events.len();
        write_file(&mut c, 0, &same);
        assert!(
            events_since(&c, mark, EventKind::FileReloaded, FILE).is_empty(),
            "{same:?}"
        );
        assert_eq!(keys(&c, 0, FILE), both, "{same:?}");
    }
    // Touching the file (rewriting the same bytes) changes nothing either.
    let current = c.nodes()[0].service_tokens_file().to_vec();
    c.set_service_tokens_file(0, current).unwrap();
    c.advance(10 * NANOS_PER_SECOND);
    assert_eq!(keys(&c, 0, FILE), both);

    // Changing one hash clears the whole file cache (not only that key); the index cache stays.
    let b2 = file_line(FLEET, "b", "file-secret-b2", 17);
    write_file(&mut c, 0, &format!("{a}\n{b2}\n"));
    assert!(keys(&c, 0, FILE).is_empty());
    assert_eq!(keys(&c, 0, INDEX), set(&["elastic/fleet-server/t1"]));
    assert_eq!(auth_source(&mut c, 0, &ba), "file");
    assert_eq!(
        auth_failure(&mut c, 0, &bb),
        auth_failed_message(FLEET, "b")
    );
    assert_eq!(
        auth_source(&mut c, 0, &bearer_for(FLEET, "b", "file-secret-b2")),
        "file"
    );

    // Deleting the file (empty) drops every file token.
    write_file(&mut c, 0, "");
    assert!(keys(&c, 0, FILE).is_empty());
    assert_eq!(
        auth_failure(&mut c, 0, &ba),
        auth_failed_message(FLEET, "a")
    );
    // Bad UTF-8 fails the whole file as well; fixing it brings the tokens back.
    write_file(&mut c, 0, &format!("{a}\n"));
    auth_source(&mut c, 0, &ba);
    let mut bad = format!("{a}\n").into_bytes();
    bad.extend_from_slice(b"\xff\xfe\n");
    c.set_service_tokens_file(0, bad).unwrap();
    c.advance(5 * NANOS_PER_SECOND);
    assert!(keys(&c, 0, FILE).is_empty());
    assert_eq!(
        auth_failure(&mut c, 0, &ba),
        auth_failed_message(FLEET, "a")
    );
    write_file(&mut c, 0, &format!("{a}\n"));
    assert_eq!(auth_source(&mut c, 0, &ba), "file");
}

#[test]
fn i3_cli_writes_are_picked_up_at_the_next_poll() {
    let mut c = cluster(2);
    let bearer = c.service_tokens_tool_create(1, FLEET, "cli-token").unwrap();
    assert!(bearer.expose().starts_with("AAEAA"));
    assert_eq!(
        auth_failure(&mut c, 1, bearer.expose()),
        auth_failed_message(FLEET, "cli-token")
    );
    c.advance(5 * NANOS_PER_SECOND);
    assert_eq!(auth_source(&mut c, 1, bearer.expose()), "file");
    assert!(c.cache_contains(1, FILE, "elastic/fleet-server/cli-token"));
    // Nodes can disagree: the token works only on the node whose file has it.
    assert_eq!(
        auth_failure(&mut c, 0, bearer.expose()),
        auth_failed_message(FLEET, "cli-token")
    );
    c.service_tokens_tool_delete(1, FLEET, "cli-token").unwrap();
    c.advance(5 * NANOS_PER_SECOND);
    assert!(keys(&c, 1, FILE).is_empty());
    assert_eq!(
        auth_failure(&mut c, 1, bearer.expose()),
        auth_failed_message(FLEET, "cli-token")
    );
}

#[test]
fn c1_settings_errors() {
    let parse = |k: &str, v: &str| SecuritySettings::from_pairs([(k, v)]);
    let e = parse("xpack.security.authc.service_token.cache.hash_algo", "x").unwrap_err();
    assert_eq!(e.reason, "unknown hash function [x]");
    let e = parse(TTL, "1x").unwrap_err();
    assert_eq!(
        e.reason,
        "failed to parse setting [xpack.security.authc.service_token.cache.ttl] with value [1x] as a time value: unit is missing or unrecognized"
    );
    let e = parse(
        "xpack.security.authc.service_token.cache.max_tokens",
        "many",
    )
    .unwrap_err();
    assert_eq!(
        e.reason,
        "Failed to parse value [many] for setting [xpack.security.authc.service_token.cache.max_tokens]"
    );
    // The stored-hash algorithm takes the bcrypt and PBKDF2 families only.
    for bad in ["ssha256", "sha256", "noop", "md5"] {
        let e = parse(HASHING, bad).unwrap_err();
        assert!(
            e.reason.starts_with(&format!(
                "Invalid algorithm: {bad}. Valid values for password hashing are ["
            )),
            "{}",
            e.reason
        );
    }
    for ok in [
        "bcrypt",
        "bcrypt4",
        "pbkdf2",
        "pbkdf2_stretch_1000",
        "PBKDF2",
    ] {
        assert!(parse(HASHING, ok).is_ok(), "{ok}");
    }
    // A negative max_tokens parses, and fails when the node builds its caches.
    let mut config = ClusterConfig::new(1);
    config.settings = SecuritySettings::from_pairs([(
        "xpack.security.authc.service_token.cache.max_tokens",
        "-1",
    )])
    .unwrap();
    assert!(Cluster::new(config).is_err());
    // Unknown setting names are refused.
    assert!(parse("xpack.security.authc.service_token.cache.tll", "1s").is_err());
}

#[test]
fn c1_max_tokens_evicts_least_recently_used() {
    let mut c = cluster_with(
        1,
        &[("xpack.security.authc.service_token.cache.max_tokens", "2")],
    );
    let a = create_index_token(&mut c, FLEET, "a");
    let b = create_index_token(&mut c, FLEET, "b");
    let d = create_index_token(&mut c, FLEET, "d");
    auth_source(&mut c, 0, &a);
    auth_source(&mut c, 0, &b);
    auth_source(&mut c, 0, &a); // a is now the most recently used
    auth_source(&mut c, 0, &d);
    assert_eq!(
        keys(&c, 0, INDEX),
        set(&["elastic/fleet-server/a", "elastic/fleet-server/d"])
    );
    assert_eq!(c.cache_stats(0, INDEX).unwrap().evictions, 1);
}

#[test]
fn c1_cache_hash_algo_is_used_for_the_cached_hash() {
    // Any Hasher name works for the in-memory hash, e.g. a cheap bcrypt or pbkdf2.
    for algo in ["bcrypt4", "pbkdf2_1000", "ssha256", "noop"] {
        let mut c = cluster_with(
            1,
            &[("xpack.security.authc.service_token.cache.hash_algo", algo)],
        );
        let t1 = create_index_token(&mut c, FLEET, "t1");
        auth_source(&mut c, 0, &t1);
        assert_eq!(auth_source(&mut c, 0, &t1), "index", "{algo}");
        assert_eq!(verifications(&c, 0), 1, "{algo}");
        assert_eq!(
            auth_failure(&mut c, 0, &bearer_for(FLEET, "t1", "WRONGSECRET1")),
            auth_failed_message(FLEET, "t1"),
            "{algo}"
        );
        assert_eq!(verifications(&c, 0), 1, "{algo}");
    }
}

#[test]
fn a2_checks_touch_no_cache_and_do_not_fall_through() {
    let mut c = cluster(1);
    create_index_token(&mut c, FLEET, "t1");
    let mark = c.events.len();
    for (principal, name, secret) in [
        (FLEET, "t1", "123456789"),                     // secret too short
        ("other/fleet-server", "t1", "secret-0123456"), // namespace is not `elastic`
        ("elastic/foo", "t1", "secret-0123456"),        // not a known account
    ] {
        let r = rest(
            &mut c,
            0,
            "GET",
            "/_security/_authenticate",
            &format!("Bearer {}", bearer_for(principal, name, secret)),
            None,
        );
        assert_eq!(r.status, 401);
        // The service account message, not the generic one of the next authenticators.
        assert_eq!(
            r.body["error"]["reason"],
            json!(auth_failed_message(principal, name))
        );
        let challenges: Vec<&str> = r.header_values("WWW-Authenticate").collect();
        assert!(
            challenges.contains(&"Bearer realm=\"security\""),
            "{challenges:?}"
        );
    }
    assert_eq!(stats(&c, 0, INDEX), (0, 0));
    assert_eq!(stats(&c, 0, FILE), (0, 0));
    assert_eq!(verifications(&c, 0), 0);
    assert!(c
        .events
        .iter()
        .skip(mark)
        .all(|e| e.cache != INDEX && e.cache != FILE));
    // A bearer that does not parse as a service token goes to the other bearer handlers (T4).
    let r = rest(
        &mut c,
        0,
        "GET",
        "/_security/_authenticate",
        "Bearer not-a-service-token",
        None,
    );
    assert_eq!(r.status, 401);
    assert_eq!(
        r.body["error"]["reason"],
        json!("unable to authenticate with provided credentials and anonymous access is not allowed for this request")
    );
}

#[test]
fn m5_same_name_in_file_and_index_both_work() {
    let mut c = cluster(2);
    write_file(&mut c, 1, &file_line(FLEET, "shared", "file-secret-sh", 18));
    let index_bearer = create_index_token(&mut c, FLEET, "shared");
    let file_bearer = bearer_for(FLEET, "shared", "file-secret-sh");
    for _ in 0..2 {
        assert_eq!(auth_source(&mut c, 1, &file_bearer), "file");
        assert_eq!(auth_source(&mut c, 1, &index_bearer), "index");
    }
    // The index token works everywhere; the file token only where the file has it.
    assert_eq!(auth_source(&mut c, 0, &index_bearer), "index");
    assert_eq!(
        auth_failure(&mut c, 0, &file_bearer),
        auth_failed_message(FLEET, "shared")
    );
    let r = rest(
        &mut c,
        0,
        "GET",
        "/_security/service/elastic/fleet-server/credential",
        &admin(),
        None,
    );
    assert_eq!(r.body["count"], json!(2));
    assert_eq!(r.body["tokens"], json!({"shared": {}}));
    assert_eq!(
        r.body["nodes_credentials"]["file_tokens"],
        json!({"shared": {"nodes": ["node-1"]}})
    );
}

#[test]
fn file_tokens_work_only_on_the_nodes_that_have_them() {
    let mut c = cluster(3);
    let line = file_line("elastic/kibana", "k", "kibana-secret-1", 19);
    c.set_service_tokens_file(0, line.clone().into_bytes())
        .unwrap();
    c.set_service_tokens_file(2, line.into_bytes()).unwrap();
    c.advance(5 * NANOS_PER_SECOND);
    let k = bearer_for("elastic/kibana", "k", "kibana-secret-1");
    assert_eq!(auth_source(&mut c, 0, &k), "file");
    assert_eq!(auth_source(&mut c, 2, &k), "file");
    // node-1 has no such file token (and the index has no such document).
    assert_eq!(
        auth_failure(&mut c, 1, &k),
        auth_failed_message("elastic/kibana", "k")
    );
    assert!(keys(&c, 1, FILE).is_empty());
    assert!(keys(&c, 1, INDEX).is_empty());
    // A clear from node-1 reaches the others and removes their entries.
    let r = rest(
        &mut c,
        1,
        "POST",
        &clear_path("elastic/kibana", "k"),
        &admin(),
        None,
    );
    assert_nodes_ok(&r.body, 3);
    assert!(keys(&c, 0, FILE).is_empty());
    assert!(keys(&c, 2, FILE).is_empty());
}

#[test]
fn clear_cache_with_a_partitioned_node() {
    let mut c = cluster(3);
    warm_t1_and_t1b(&mut c, 3);
    c.set_partitioned(1, true).unwrap();
    let r = rest(&mut c, 0, "POST", &clear_path(FLEET, "t1"), &admin(), None);
    assert_eq!(r.status, 200);
    let nodes = &r.body["_nodes"];
    assert_eq!(
        (&nodes["total"], &nodes["successful"], &nodes["failed"]),
        (&json!(3), &json!(2), &json!(1))
    );
    let failures = nodes["failures"].as_array().unwrap();
    assert_eq!(failures.len(), 1);
    let node1_id = c.nodes()[1].id.clone();
    assert_eq!(failures[0]["type"], json!("failed_node_exception"));
    assert_eq!(
        failures[0]["reason"],
        json!(format!("Failed node [{node1_id}]"))
    );
    let listed: Vec<&String> = r.body["nodes"].as_object().unwrap().keys().collect();
    assert_eq!(listed, [&c.nodes()[0].id, &c.nodes()[2].id]);
    assert!(!c.cache_contains(0, INDEX, "elastic/fleet-server/t1"));
    assert!(!c.cache_contains(2, FILE, "elastic/fleet-server/t1"));
    assert!(c.cache_contains(1, INDEX, "elastic/fleet-server/t1"));
    assert!(c.cache_contains(1, FILE, "elastic/fleet-server/t1"));

    // Coordinated by the partitioned node itself: only it is reached.
    let r = rest(&mut c, 1, "POST", &clear_path(FLEET, "t1"), &admin(), None);
    assert_eq!(r.status, 200);
    assert_eq!(r.body["_nodes"]["successful"], json!(1));
    assert_eq!(r.body["_nodes"]["failed"], json!(2));
    assert!(!c.cache_contains(1, INDEX, "elastic/fleet-server/t1"));
    assert!(!c.cache_contains(1, FILE, "elastic/fleet-server/t1"));
}

#[test]
fn node_restart_empties_the_caches_and_rereads_the_file() {
    let mut c = cluster(2);
    write_file(&mut c, 0, &file_line(FLEET, "f1", "file-secret-f1", 20));
    let f1 = bearer_for(FLEET, "f1", "file-secret-f1");
    auth_source(&mut c, 0, &f1);
    c.stop_node(0).unwrap();
    c.start_node(0).unwrap();
    assert!(keys(&c, 0, FILE).is_empty());
    assert_eq!(auth_source(&mut c, 0, &f1), "file");

    // F3: a node whose file does not parse does not start.
    c.stop_node(1).unwrap();
    c.set_service_tokens_file(1, b"broken-line\n".to_vec())
        .unwrap();
    let e = c.start_node(1).unwrap_err();
    assert_eq!(e.reason, "Missing ':' character at line #1");
    assert!(!c.nodes()[1].running());
}

#[test]
fn r2_bad_name_is_reported_before_an_unknown_parameter() {
    // `RestClearServiceAccountTokenStoreCacheAction.innerPrepareRequest` throws for a bad name, and
    // `BaseRestHandler` only then checks for unconsumed parameters.
    let mut c = cluster(1);
    let r = rest(
        &mut c,
        0,
        "POST",
        &format!("{}?foo=1", clear_path(FLEET, "_bad")),
        &admin(),
        None,
    );
    assert_eq!(r.status, 400);
    assert_eq!(r.body["error"]["reason"], json!(v1_message("_bad")));
    // With valid names the unknown parameter is refused and nothing is sent to the nodes.
    let mark = c.events.len();
    let r = rest(
        &mut c,
        0,
        "POST",
        &format!("{}?foo=1", clear_path(FLEET, "t1")),
        &admin(),
        None,
    );
    assert_eq!(r.status, 400);
    assert_eq!(r.body["error"]["type"], json!("illegal_argument_exception"));
    let reason = r.body["error"]["reason"].as_str().unwrap();
    assert!(
        reason.contains("contains unrecognized parameter: [foo]"),
        "{reason}"
    );
    assert!(clear_events_since(&c, mark).is_empty());
}

/// Issue 8, point 16: each node's `service_tokens` watcher polls every 5 s from that node's own
/// start (`ResourceWatcherService`, `Frequency.HIGH`), not on one cluster-wide grid: node-1,
/// restarted at 3 s, polls at 8 s and 13 s while node-0 polls at 5 s and 10 s.
#[test]
fn issue8_d16_restarted_node_polls_from_its_own_start() {
    let mut c = cluster(2);
    c.advance(NANOS_PER_SECOND);
    c.stop_node(1).unwrap();
    c.advance(2 * NANOS_PER_SECOND);
    c.start_node(1).unwrap();
    assert_eq!(c.node(1).unwrap().started_at(), 3 * NANOS_PER_SECOND);
    assert_eq!(c.node(0).unwrap().started_at(), 0);
    c.advance(NANOS_PER_SECOND); // 4 s
    let mark = c.events.len();
    let reloads = |c: &Cluster| -> Vec<(NodeIndex, u64)> {
        c.events
            .iter()
            .skip(mark)
            .filter(|e| e.kind == EventKind::FileReloaded && e.cache == FILE)
            .map(|e| (e.node, e.time / NANOS_PER_MILLI))
            .collect()
    };
    let text = file_line(FLEET, "f1", "file-secret-f1", 1) + "\n";
    for node in [0, 1] {
        c.set_service_tokens_file(node, text.clone().into_bytes())
            .unwrap();
    }
    c.advance(NANOS_PER_SECOND); // 5 s: node-0's poll
    assert_eq!(reloads(&c), [(0, 5_000)]);
    c.advance(3 * NANOS_PER_SECOND - 1); // just before 8 s
    assert_eq!(reloads(&c), [(0, 5_000)], "node-1 has not polled yet");
    c.advance(1); // 8 s: node-1's first poll since its restart
    assert_eq!(reloads(&c), [(0, 5_000), (1, 8_000)]);
    assert_eq!(
        auth_source(&mut c, 1, &bearer_for(FLEET, "f1", "file-secret-f1")),
        "file"
    );
    // A later edit at 9 s: node-0 sees it at 10 s, node-1 at 13 s.
    let text = format!("{text}{}\n", file_line(FLEET, "f2", "file-secret-f2", 2));
    c.advance(NANOS_PER_SECOND);
    for node in [0, 1] {
        c.set_service_tokens_file(node, text.clone().into_bytes())
            .unwrap();
    }
    c.advance(4 * NANOS_PER_SECOND);
    assert_eq!(
        reloads(&c),
        [(0, 5_000), (1, 8_000), (0, 10_000), (1, 13_000)]
    );
}
