//! Property tests of the service token clear-cache API (ST-R2 to ST-R5, C4, V1).
//!
//! A random cluster (three nodes, random `service_tokens` files, random authentications, random
//! partitions and stopped nodes) receives
//! `POST /_security/service/{ns}/{svc}/credential/token/{names}/_clear_cache` with a random name list:
//! valid names, `*`, `_all`, empty names, duplicates, trailing commas, names with spaces, slashes,
//! non-ASCII letters, over-long names, and commas sent raw or as `%2C`. The expected outcome comes from a
//! small model written here from the rules (Java `String.split`, `Strings.isAllOrWildcard`, the V1
//! regex, C4's prefix/exact matching), never from escache's own helpers:
//!
//! * accepted (200): on every node the coordinator reaches, both caches lose exactly the keys the
//!   request matches, and nothing else changes (order of the others, hits, misses; the evictions
//!   counter grows by the entries removed, as `Cache.invalidate(key)` counts one); unreachable nodes
//!   change in nothing; the `_nodes` header counts them;
//! * rejected (400, V1 message of the first bad name): nothing changes on any node.

use crate::common::{admin, v1_message, FILE, INDEX};
use escache::cache::CacheStats;
use escache::cluster::{Authentication, AuthenticationOutcome, Cluster, ClusterConfig};
use escache::events::{EventKind, NodeIndex};
use escache::security::hashing::{Hasher, Secret};
use escache::security::service_account::{ServiceAccountId, ServiceAccountToken};
use escache::security::settings::SecuritySettings;
use escache::time::NANOS_PER_SECOND;
use proptest::prelude::*;
use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;
use serde_json::{json, Value};
use std::collections::BTreeSet;

const NODES: usize = 3;
const ACCOUNTS: [&str; 3] = [
    "elastic/fleet-server",
    "elastic/kibana",
    "elastic/fleet-server-remote",
];
/// Token names used in the files (all valid, V1).
const NAMES: [&str; 8] = ["t1", "t1-b", "a", "b", "A", "x_y", "-z", "tok"];
/// Index tokens: (account, name).
const INDEX_TOKENS: [(usize, &str); 6] = [
    (0, "t1"),
    (0, "t1-b"),
    (0, "a"),
    (0, "x_y"),
    (1, "c"),
    (1, "t1"),
];
/// The principals a request names: real accounts, and unchecked ones (ST-R3).
const PRINCIPALS: [&str; 6] = [
    "elastic/fleet-server",
    "elastic/fleet-server",
    "elastic/kibana",
    "elastic/fleet-server-remote",
    "foo/bar",
    "*/*",
];

// ---- the model ------------------------------------------------------------------------------

/// V1: `^[a-zA-Z0-9-][a-zA-Z0-9_-]{0,255}$`.
fn model_v1(name: &str) -> bool {
    let ok_rest = |c: char| c.is_ascii_alphanumeric() || c == '-' || c == '_';
    let mut chars = name.chars();
    match chars.next() {
        Some(first) => {
            (first.is_ascii_alphanumeric() || first == '-')
                && name.chars().count() <= 256
                && chars.all(ok_rest)
        }
        None => false,
    }
}

/// `Strings.splitStringByCommaToArray`: empty → `[]`; otherwise Java's `String.split(",")`, which
/// keeps leading and inner empty strings and drops the trailing ones.
fn model_split(s: &str) -> Vec<String> {
    if s.is_empty() {
        return Vec::new();
    }
    let mut parts: Vec<String> = s.split(',').map(str::to_string).collect();
    while parts.last().is_some_and(std::string::String::is_empty) {
        parts.pop();
    }
    parts
}

/// ST-R2: the keys of the request, or the first bad name.
fn model_keys(principal: &str, names: &str) -> Result<Vec<String>, String> {
    let list = model_split(names);
    if list.is_empty() || (list.len() == 1 && (list[0] == "*" || list[0] == "_all")) {
        return Ok(vec![format!("{principal}/")]);
    }
    let mut keys = Vec::new();
    for n in &list {
        if !model_v1(n) {
            return Err(n.clone());
        }
        keys.push(format!("{principal}/{n}"));
    }
    Ok(keys)
}

/// C4: whether a cached key is removed by the request keys.
fn model_matches(cached: &str, keys: &[String]) -> bool {
    keys.iter().any(|k| {
        if k.ends_with('/') {
            cached.starts_with(k.as_str())
        } else {
            cached == k
        }
    })
}

// ---- the cluster ----------------------------------------------------------------------------

#[derive(Debug, Clone)]
struct Topology {
    /// Per node: bitmask over ACCOUNTS × NAMES of the tokens in its `service_tokens` file.
    file_tokens: [u32; NODES],
    /// Per node: bitmask over ACCOUNTS × NAMES of the file tokens it authenticates.
    file_auths: [u32; NODES],
    /// Per node: bitmask over `INDEX_TOKENS` of the index tokens it authenticates.
    index_auths: [u8; NODES],
    partitioned: [bool; NODES],
    stopped: [bool; NODES],
    coordinator: usize,
}

fn topology() -> impl Strategy<Value = Topology> {
    let universe = (ACCOUNTS.len() * NAMES.len()) as u32;
    let mask = (1u32 << universe) - 1;
    (
        proptest::array::uniform3(0..=mask),
        proptest::array::uniform3(0..=mask),
        proptest::array::uniform3(0u8..64),
        proptest::array::uniform3(proptest::bool::weighted(0.25)),
        proptest::array::uniform3(proptest::bool::weighted(0.15)),
        0..NODES,
    )
        .prop_map(
            |(file_tokens, file_auths, index_auths, partitioned, mut stopped, coordinator)| {
                stopped[coordinator] = false;
                Topology {
                    file_tokens,
                    file_auths,
                    index_auths,
                    partitioned,
                    stopped,
                    coordinator,
                }
            },
        )
}

fn file_secret(account: usize, name: &str) -> String {
    format!("file-secret-{account}-{name}")
}

fn bearer(principal: &str, name: &str, secret: &str) -> String {
    ServiceAccountToken::new(
        ServiceAccountId::from_principal(principal).unwrap(),
        name,
        Secret::new(secret),
    )
    .unwrap()
    .as_bearer_string()
}

fn authenticated(c: &mut Cluster, node: NodeIndex, bearer: &str) {
    match c.authenticate_request(node, Some(&format!("Bearer {bearer}")), "/") {
        AuthenticationOutcome::Authenticated(Authentication::ServiceAccount { .. }) => {}
        other => panic!("setup: expected a success, got {other:?}"),
    }
}

/// Builds the cluster: index tokens, each node's file, the authentications that fill the caches, then
/// the partitions and stopped nodes.
fn build(t: &Topology) -> Cluster {
    let mut config = ClusterConfig::new(NODES);
    config.settings = SecuritySettings::from_pairs([(
        "xpack.security.authc.service_token_hashing.algorithm",
        "bcrypt4",
    )])
    .unwrap();
    let mut c = Cluster::new(config).unwrap();
    let auth = match c.authenticate_request(0, Some(&admin()), "/") {
        AuthenticationOutcome::Authenticated(a) => a,
        other => panic!("{other:?}"),
    };
    let mut index_bearers = Vec::new();
    for (account, name) in INDEX_TOKENS {
        let id = ServiceAccountId::from_principal(ACCOUNTS[account]).unwrap();
        let (_, value) = c.create_service_token(0, &auth, &id, Some(name)).unwrap();
        index_bearers.push(value.expose().to_string());
    }
    let mut rng = ChaCha8Rng::seed_from_u64(7);
    for n in 0..NODES {
        let mut text = String::new();
        for (i, (account, name)) in universe().enumerate() {
            if t.file_tokens[n] & (1 << i) != 0 {
                let hash = Hasher::Ssha256.hash(&file_secret(account, name), &mut rng);
                text.push_str(&format!("{}/{name}:{hash}\n", ACCOUNTS[account]));
            }
        }
        c.set_service_tokens_file(n as NodeIndex, text.into_bytes())
            .unwrap();
    }
    c.advance(5 * NANOS_PER_SECOND);
    for n in 0..NODES {
        let node = n as NodeIndex;
        for (i, (account, name)) in universe().enumerate() {
            let bit = 1 << i;
            if t.file_tokens[n] & bit != 0 && t.file_auths[n] & bit != 0 {
                let b = bearer(ACCOUNTS[account], name, &file_secret(account, name));
                authenticated(&mut c, node, &b);
            }
        }
        for (i, b) in index_bearers.iter().enumerate() {
            if t.index_auths[n] & (1 << i) != 0 {
                authenticated(&mut c, node, b);
            }
        }
    }
    for n in 0..NODES {
        if t.stopped[n] {
            c.stop_node(n as NodeIndex).unwrap();
        }
        if t.partitioned[n] {
            c.set_partitioned(n as NodeIndex, true).unwrap();
        }
    }
    c
}

fn universe() -> impl Iterator<Item = (usize, &'static str)> {
    (0..ACCOUNTS.len()).flat_map(|a| NAMES.iter().map(move |n| (a, *n)))
}

/// Per running node and cache: keys in LRU order and stats.
type Snapshot = Vec<Option<[(Vec<String>, CacheStats); 2]>>;

fn snapshot(c: &Cluster) -> Snapshot {
    (0..NODES)
        .map(|n| {
            let node = n as NodeIndex;
            c.nodes()[n].running().then(|| {
                [FILE, INDEX].map(|cache| {
                    (
                        c.cache_keys(node, cache),
                        c.cache_stats(node, cache).unwrap(),
                    )
                })
            })
        })
        .collect()
}

fn reachable(t: &Topology, n: usize) -> bool {
    !t.stopped[n] && (n == t.coordinator || (!t.partitioned[t.coordinator] && !t.partitioned[n]))
}

// ---- the request ----------------------------------------------------------------------------

#[derive(Debug, Clone)]
struct NameList {
    /// The `name` parameter as Elasticsearch sees it, after URL decoding.
    decoded: String,
    /// The path segment as sent.
    encoded: String,
}

fn name_item() -> impl Strategy<Value = String> {
    prop_oneof![
        6 => proptest::sample::select(&NAMES[..]).prop_map(str::to_string),
        2 => proptest::sample::select(&["c", "does-not-exist", "T1", "9"][..]).prop_map(str::to_string),
        1 => Just("*".to_string()),
        1 => Just("_all".to_string()),
        1 => Just(String::new()),
        1 => proptest::sample::select(
            &["_bad", "a b", "a/b", "é", "a*", "a.b", "t1\u{0}", "+x", "a%b", "?", "#x"][..]
        )
        .prop_map(str::to_string),
        1 => Just("x".repeat(256)),
        1 => Just("y".repeat(257)),
        1 => "[a-zA-Z0-9_-]{1,6}",
    ]
}

/// Percent-encodes a `name` value for the path; commas either raw or `%2C`, `*` either raw or `%2A`.
fn encode(decoded: &str, raw_commas: bool, raw_stars: bool) -> String {
    let mut out = String::new();
    for b in decoded.bytes() {
        match b {
            b',' if raw_commas => out.push(','),
            b'*' if raw_stars => out.push('*'),
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => {
                out.push(b as char);
            }
            _ => out.push_str(&format!("%{b:02X}")),
        }
    }
    out
}

fn name_list() -> impl Strategy<Value = NameList> {
    (
        proptest::collection::vec(name_item(), 0..6),
        0usize..3,
        any::<bool>(),
        any::<bool>(),
        any::<bool>(),
    )
        .prop_map(|(items, trailing, dup, raw_commas, raw_stars)| {
            let mut items = items;
            if dup && !items.is_empty() {
                items.push(items[0].clone());
            }
            let mut decoded = items.join(",");
            decoded.push_str(&",".repeat(trailing));
            let encoded = encode(&decoded, raw_commas, raw_stars);
            NameList { decoded, encoded }
        })
}

fn clear(c: &mut Cluster, coordinator: usize, principal: &str, names: &NameList) -> (u16, Value) {
    let target = format!(
        "/_security/service/{principal}/credential/token/{}/_clear_cache",
        names.encoded
    );
    let r = escache::rest::handle(
        c,
        coordinator as NodeIndex,
        "POST",
        &target,
        vec![("Authorization".into(), admin())],
        None,
    );
    (r.status, r.body.into_value())
}

fn clear_events(c: &Cluster, since: usize) -> usize {
    c.events
        .iter()
        .skip(since)
        .filter(|e| e.kind == EventKind::ClearCache)
        .count()
}

// ---- properties -----------------------------------------------------------------------------

proptest! {
    #![proptest_config(ProptestConfig { cases: 256, ..ProptestConfig::default() })]

    /// ST-R2 parsing alone, against the model (cheap, so many cases).
    #[test]
    fn r2_keys_follow_the_model(principal in proptest::sample::select(&PRINCIPALS[..]), names in name_list()) {
        let got = escache::rest::service_accounts::clear_cache_keys(
            principal.split('/').next().unwrap(),
            principal.split('/').nth(1).unwrap(),
            Some(&names.decoded),
        );
        match model_keys(principal, &names.decoded) {
            Ok(keys) => {
                let got: BTreeSet<String> = got.unwrap().into_iter().collect();
                prop_assert_eq!(got, keys.into_iter().collect::<BTreeSet<_>>());
            }
            Err(bad) => {
                let e = got.unwrap_err();
                prop_assert_eq!(e.status, 400);
                prop_assert_eq!(e.kind.as_str(), "illegal_argument_exception");
                prop_assert_eq!(&e.reason, &v1_message(&bad));
            }
        }
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 128, ..ProptestConfig::default() })]

    /// An accepted request removes exactly the matching keys from both caches on every reachable node,
    /// and nothing else; a rejected one changes nothing anywhere.
    #[test]
    fn clear_cache_removes_exactly_the_matching_keys(
        t in topology(),
        principal in proptest::sample::select(&PRINCIPALS[..]),
        names in name_list(),
    ) {
        let mut c = build(&t);
        let before = snapshot(&c);
        let mark = c.events.len();
        let (status, body) = clear(&mut c, t.coordinator, principal, &names);
        let after = snapshot(&c);
        match model_keys(principal, &names.decoded) {
            Err(bad) => {
                prop_assert_eq!(status, 400, "{}", body);
                prop_assert_eq!(&body["error"]["type"], &json!("illegal_argument_exception"));
                prop_assert_eq!(&body["error"]["reason"], &json!(v1_message(&bad)));
                prop_assert_eq!(&after, &before);
                prop_assert_eq!(clear_events(&c, mark), 0);
            }
            Ok(keys) => {
                prop_assert_eq!(status, 200, "{}", body);
                for n in 0..NODES {
                    let (Some(b), Some(a)) = (&before[n], &after[n]) else {
                        prop_assert!(t.stopped[n]);
                        prop_assert!(after[n].is_none());
                        continue;
                    };
                    for (cache, ((bk, bs), (ak, as_))) in b.iter().zip(a.iter()).enumerate() {
                        let expected: Vec<String> = if reachable(&t, n) {
                            bk.iter().filter(|k| !model_matches(k, &keys)).cloned().collect()
                        } else {
                            bk.clone()
                        };
                        prop_assert_eq!(ak, &expected, "node {} cache {} keys {:?}", n, cache, keys);
                        prop_assert_eq!(as_.hits, bs.hits);
                        prop_assert_eq!(as_.misses, bs.misses);
                        // `Cache.invalidate(key)` counts an eviction (R6.8), and C4
                        // removes prefix matches one `invalidate(key)` at a time.
                        let removed = (bk.len() - expected.len()) as u64;
                        prop_assert_eq!(as_.evictions, bs.evictions + removed);
                    }
                }
                let running: Vec<usize> = (0..NODES).filter(|&n| !t.stopped[n]).collect();
                let ok: Vec<usize> = running.iter().copied().filter(|&n| reachable(&t, n)).collect();
                prop_assert_eq!(&body["_nodes"]["total"], &json!(running.len()));
                prop_assert_eq!(&body["_nodes"]["successful"], &json!(ok.len()));
                prop_assert_eq!(&body["_nodes"]["failed"], &json!(running.len() - ok.len()));
                let failures = body["_nodes"].get("failures").and_then(Value::as_array).map_or(0, Vec::len);
                prop_assert_eq!(failures, running.len() - ok.len());
                let listed: Vec<String> = body["nodes"].as_object().unwrap().keys().cloned().collect();
                let ids: Vec<String> = ok.iter().map(|&n| c.nodes()[n].id.clone()).collect();
                prop_assert_eq!(listed, ids);
                prop_assert_eq!(clear_events(&c, mark), ok.len());
            }
        }
    }

    /// `ClearSecurityCacheRequest` sent directly (keys REST cannot produce, such as `elastic/`): the
    /// `service` alias applies C4 to both caches, a single cache name only to that cache.
    #[test]
    fn c4_invalidation_by_cache_name(
        t in topology(),
        cache_name in proptest::sample::select(&["service", "file_service_account_token", "index_service_account_token"][..]),
        keys in proptest::collection::vec(
            prop_oneof![
                proptest::sample::select(&[
                    "elastic/", "elastic/fleet-server/", "elastic/fleet-server", "elastic/kibana/",
                    "elastic/fleet-server/t", "elastic/fleet-server/t1", "elastic/fleet-server/t1-b",
                    "elastic/fleet-server/t1/", "elastic/kibana/t1", "elastic/fleet-server-remote/",
                    "elastic/fleet-server/A", "e", "/", "",
                ][..]).prop_map(str::to_string),
                "elastic/(fleet-server|kibana)/[a-zA-Z_-]{0,3}/?",
            ],
            1..4,
        ),
    ) {
        let mut c = build(&t);
        let before = snapshot(&c);
        let resp = c.clear_security_cache(t.coordinator as NodeIndex, cache_name, &keys);
        let after = snapshot(&c);
        let applies = |cache: usize| match cache_name {
            "service" => true,
            "file_service_account_token" => cache == 0,
            _ => cache == 1,
        };
        for n in 0..NODES {
            let (Some(b), Some(a)) = (&before[n], &after[n]) else { continue };
            for cache in 0..2 {
                let expected: Vec<String> = if reachable(&t, n) && applies(cache) {
                    b[cache].0.iter().filter(|k| !model_matches(k, &keys)).cloned().collect()
                } else {
                    b[cache].0.clone()
                };
                prop_assert_eq!(&a[cache].0, &expected, "node {} cache {} keys {:?}", n, cache, keys);
            }
        }
        let ok = (0..NODES).filter(|&n| reachable(&t, n)).count();
        prop_assert_eq!(resp.successes.len(), ok);
        prop_assert_eq!(resp.failures.len(), (0..NODES).filter(|&n| !t.stopped[n]).count() - ok);
    }
}

#[test]
fn model_sanity() {
    // The model itself, on the examples of docs/rules.md.
    assert_eq!(model_split(""), Vec::<String>::new());
    assert_eq!(model_split(","), Vec::<String>::new());
    assert_eq!(model_split("a,,b,,"), ["a", "", "b"]);
    assert_eq!(model_split(",a"), ["", "a"]);
    assert_eq!(
        model_keys("elastic/fleet-server", "*"),
        Ok(vec!["elastic/fleet-server/".to_string()])
    );
    assert_eq!(
        model_keys("elastic/fleet-server", "_all,"),
        Ok(vec!["elastic/fleet-server/".to_string()])
    );
    assert_eq!(model_keys("e/f", "*,t1"), Err("*".to_string()));
    assert_eq!(model_keys("e/f", "a,,b"), Err(String::new()));
    assert_eq!(model_keys("e/f", "a b"), Err("a b".to_string()));
    assert!(model_v1(&"x".repeat(256)));
    assert!(!model_v1(&"x".repeat(257)));
    assert!(!model_v1("_a"));
    assert!(model_v1("-a"));
    assert!(!model_v1("é"));
    assert!(model_matches("a/b/c", &["a/b/".to_string()]));
    assert!(!model_matches("a/b/c-2", &["a/b/c".to_string()]));
}
