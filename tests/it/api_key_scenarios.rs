//! The API key cache scenarios of `docs/rules.md` (AK-S1 to AK-S20), run on a simulated
//! cluster, plus rule tests for R2.4, R3.5, R3.7, R4.1, R4.3, R5.9, node restarts, the event trace and
//! secret hygiene.
//!
//! Every expectation is written out by hand from the rules (and the Elasticsearch tests they cite), never
//! computed by the model itself.

use crate::common::{basic, DOC_TTL};
use base64::engine::general_purpose::STANDARD;
use base64::Engine;
use escache::cache::CacheStats;
use escache::cluster::{
    Authentication, AuthenticationOutcome, Cluster, ClusterConfig, CreateApiKeyRequest,
    CreatedApiKey, InvalidateApiKeyRequest, UpdateApiKeyRequest,
};
use escache::events::{CacheId, EventKind, EventLog, NodeIndex};
use escache::security::api_key::{
    role_descriptors_hash, ApiKeyAuthentication, ApiKeyService, AuthOutcome, AuthStep, FutureState,
    EVICTION_WARNING_THRESHOLD,
};
use escache::security::crypto_pool::CryptoPoolMode;
use escache::security::hashing::{Hasher, Secret};
use escache::security::index::{should_clear_caches, IndexHealth, IndexState, UserDoc};
use escache::security::registry::{CacheInvalidatorRegistry, Invalidator};
use escache::security::settings::SecuritySettings;
use escache::security::Ctx;
use escache::time::{TimeUnit, TimeValue, NANOS_PER_MILLI, NANOS_PER_SECOND};
use rand::SeedableRng;
use serde_json::{json, Map, Value};
use std::sync::Arc;

// ---------------------------------------------------------------------------------------------
// Helpers
// ---------------------------------------------------------------------------------------------

fn cluster_with(nodes: usize, settings: &[(&str, &str)]) -> Cluster {
    let mut config = ClusterConfig::new(nodes);
    config.settings = SecuritySettings::from_pairs(settings.iter().copied()).unwrap();
    Cluster::new(config).unwrap()
}

fn cluster(nodes: usize) -> Cluster {
    cluster_with(nodes, &[])
}

fn authenticated(outcome: AuthenticationOutcome) -> Authentication {
    match outcome {
        AuthenticationOutcome::Authenticated(a) => a,
        other => panic!("expected success, got {other:?}"),
    }
}

fn elastic(c: &mut Cluster) -> Authentication {
    authenticated(c.authenticate_request(0, Some(&basic("elastic", "changeme")), "/"))
}

fn create_as(
    c: &mut Cluster,
    node: NodeIndex,
    auth: &Authentication,
    name: &str,
    roles: Value,
) -> CreatedApiKey {
    let role_descriptors = match roles {
        Value::Object(m) => m,
        _ => Map::new(),
    };
    c.create_api_key(
        node,
        auth,
        CreateApiKeyRequest {
            name: name.into(),
            role_descriptors,
            ..Default::default()
        },
    )
    .unwrap()
}

/// A key created by `elastic` on `node` with no role descriptors (roles `{}`, limited by superuser).
fn create(c: &mut Cluster, node: NodeIndex, name: &str) -> CreatedApiKey {
    let auth = elastic(c);
    create_as(c, node, &auth, name, json!({}))
}

fn header(id: &str, secret: &str) -> String {
    format!("ApiKey {}", STANDARD.encode(format!("{id}:{secret}")))
}

fn auth_secret(c: &mut Cluster, node: NodeIndex, id: &str, secret: &str) -> AuthenticationOutcome {
    c.authenticate_request(node, Some(&header(id, secret)), "/_security/_authenticate")
}

fn auth_key(c: &mut Cluster, node: NodeIndex, k: &CreatedApiKey) -> AuthenticationOutcome {
    c.authenticate_request(
        node,
        Some(&format!("ApiKey {}", k.encoded.expose())),
        "/_security/_authenticate",
    )
}

/// The API key authentication of a success; panics otherwise.
fn api_key_auth(outcome: AuthenticationOutcome) -> Box<ApiKeyAuthentication> {
    match authenticated(outcome) {
        Authentication::ApiKey(a) => a,
        other => panic!("expected an API key authentication, got {other:?}"),
    }
}

fn assert_accepted(
    c: &mut Cluster,
    node: NodeIndex,
    k: &CreatedApiKey,
) -> Box<ApiKeyAuthentication> {
    let a = api_key_auth(auth_key(c, node, k));
    assert_eq!(a.id, k.id);
    a
}

/// The API key authenticator's own message of a 401 (`additional_unsuccessful_credentials` without
/// its `API key: ` prefix), or the reason of any other failure.
fn failure_message(outcome: &AuthenticationOutcome) -> String {
    match outcome {
        AuthenticationOutcome::Failed(e) => match e
            .metadata
            .get("additional_unsuccessful_credentials")
            .and_then(Value::as_str)
        {
            Some(m) => m.strip_prefix("API key: ").unwrap_or(m).to_string(),
            None => e.reason.clone(),
        },
        other => panic!("expected a failure, got {other:?}"),
    }
}

fn assert_rejected(c: &mut Cluster, node: NodeIndex, k: &CreatedApiKey, message: &str) {
    let outcome = auth_key(c, node, k);
    assert_eq!(failure_message(&outcome), message, "node {node}");
    if let AuthenticationOutcome::Failed(e) = &outcome {
        assert_eq!(e.status, 401);
    }
}

fn svc(c: &Cluster, node: NodeIndex) -> &ApiKeyService {
    &c.nodes()[node as usize].api_keys
}

fn count(c: &Cluster, node: NodeIndex, cache: CacheId) -> usize {
    svc(c, node)
        .size(cache)
        .unwrap_or_else(|| panic!("{cache:?} disabled"))
        .0
}

/// (auth, doc, role descriptors) entry counts of a node.
fn counts(c: &Cluster, node: NodeIndex) -> (usize, usize, usize) {
    (
        count(c, node, CacheId::ApiKeyAuth),
        count(c, node, CacheId::ApiKeyDoc),
        count(c, node, CacheId::ApiKeyRoleDescriptors),
    )
}

fn stats(c: &Cluster, node: NodeIndex, cache: CacheId) -> CacheStats {
    svc(c, node).stats(cache).unwrap()
}

fn cs(hits: u64, misses: u64, evictions: u64) -> CacheStats {
    CacheStats {
        hits,
        misses,
        evictions,
    }
}

fn serial(c: &Cluster, node: NodeIndex, id: &str) -> u64 {
    svc(c, node).auth_cache().unwrap().peek(id).unwrap().serial
}

fn cached_success(c: &Cluster, node: NodeIndex, id: &str) -> Option<bool> {
    match svc(c, node).cached_result(id) {
        Some(FutureState::Done(r)) => Some(r.success),
        None => None,
        other => panic!("unexpected auth entry {other:?}"),
    }
}

fn invalidate(
    c: &mut Cluster,
    coordinator: NodeIndex,
    ids: &[&str],
) -> escache::cluster::InvalidateApiKeyResult {
    let auth = elastic(c);
    let req = InvalidateApiKeyRequest {
        ids: Some(ids.iter().map(std::string::ToString::to_string).collect()),
        ..Default::default()
    };
    c.invalidate_api_keys(coordinator, &auth, &req).unwrap()
}

fn strings(ids: &[&str]) -> Vec<String> {
    ids.iter().map(std::string::ToString::to_string).collect()
}

/// The `{ids}` path parameter as `RestRequest.paramAsStringArrayOrEmptyIfAll` reads it (R5.6): Java's
/// `split(",")` (trailing empties dropped), then one `*` or `_all` (or nothing) means all.
fn ids_param(ids: &str) -> Vec<String> {
    let mut parts: Vec<String> = ids.split(',').map(str::to_string).collect();
    while parts.last().is_some_and(std::string::String::is_empty) {
        parts.pop();
    }
    if parts.is_empty() || (parts.len() == 1 && (parts[0] == "*" || parts[0] == "_all")) {
        Vec::new()
    } else {
        parts
    }
}

fn events_since(c: &Cluster, mark: usize) -> Vec<(NodeIndex, EventKind, CacheId, String, String)> {
    c.events
        .iter()
        .skip(mark)
        .map(|e| {
            (
                e.node,
                e.kind,
                e.cache,
                e.key.to_string(),
                e.detail.to_string(),
            )
        })
        .collect()
}

fn count_events(
    c: &Cluster,
    mark: usize,
    f: impl Fn(&(NodeIndex, EventKind, CacheId, String, String)) -> bool,
) -> usize {
    events_since(c, mark).iter().filter(|e| f(e)).count()
}

/// A separate trace for the few direct service calls the Java tests also make.
fn with_ctx<R>(
    c: &mut Cluster,
    node: NodeIndex,
    f: impl FnOnce(&mut ApiKeyService, &mut Ctx<'_>) -> R,
) -> R {
    let now = c.now();
    let mut log = EventLog::new(true);
    let mut ctx = Ctx {
        log: &mut log,
        node,
        now,
    };
    f(&mut c.node_mut(node).unwrap().api_keys, &mut ctx)
}

/// A native user with one native role, stored in the index (for keys limited by other roles).
fn native_user(
    c: &mut Cluster,
    user: &str,
    password: &str,
    role: &str,
    descriptor: Value,
) -> Authentication {
    let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(7);
    c.security_index.roles.insert(role.into(), descriptor);
    c.security_index.users.insert(
        user.into(),
        UserDoc {
            username: user.into(),
            password_hash: Hasher::Ssha256.hash(password, &mut rng),
            roles: vec![role.into()],
            full_name: None,
            email: None,
            metadata: json!({}),
            enabled: true,
        },
    );
    authenticated(c.authenticate_request(0, Some(&basic(user, password)), "/"))
}

fn green(uuid: &str) -> IndexState {
    IndexState {
        exists: true,
        open: true,
        health_when_open: IndexHealth::Green,
        uuid: Some(uuid.into()),
        format_up_to_date: true,
    }
}

// ---------------------------------------------------------------------------------------------
// Section 7 scenarios
// ---------------------------------------------------------------------------------------------

/// AK-S1 (R3.8): the creating node, and only it, caches `(true, hash(secret))`; the doc cache is empty.
#[test]
fn s1_create_prewarms_auth_cache() {
    let mut c = cluster(3);
    let k = create(&mut c, 0, "k1");
    assert_eq!(cached_success(&c, 0, &k.id), Some(true));
    assert_eq!(counts(&c, 0), (1, 0, 0));
    for n in 1..3 {
        assert_eq!(cached_success(&c, n, &k.id), None);
        assert_eq!(counts(&c, n), (0, 0, 0));
    }
    // The cached hash verifies the returned secret: authenticating on the creating node needs no slow
    // verification, and the auth-cache lookup is a hit.
    assert_eq!(svc(&c, 0).verifications, 0);
    assert_accepted(&mut c, 0, &k);
    assert_eq!(svc(&c, 0).verifications, 0);
    assert_eq!(stats(&c, 0, CacheId::ApiKeyAuth), cs(1, 0, 0));
    // Another node has nothing pre-warmed: one slow verification.
    assert_accepted(&mut c, 1, &k);
    assert_eq!(svc(&c, 1).verifications, 1);
}

/// AK-S2: a wrong secret against a good cached entry fails and keeps the very same entry.
#[test]
fn s2_wrong_secret_keeps_good_entry() {
    let mut c = cluster(2);
    let k = create(&mut c, 0, "k");
    assert_accepted(&mut c, 1, &k);
    let before = serial(&c, 1, &k.id);
    assert_eq!(svc(&c, 1).verifications, 1);
    let outcome = auth_secret(&mut c, 1, &k.id, "not-the-secret-at-all!");
    assert_eq!(
        failure_message(&outcome),
        format!("invalid credentials for API key [{}]", k.id)
    );
    assert_eq!(
        serial(&c, 1, &k.id),
        before,
        "the cached object is the same instance"
    );
    assert_eq!(cached_success(&c, 1, &k.id), Some(true));
    assert_eq!(
        svc(&c, 1).verifications,
        1,
        "no slow hash for a wrong secret against a good entry"
    );
    assert_accepted(&mut c, 1, &k);
    assert_eq!(serial(&c, 1, &k.id), before);
    // Same on the creating node's pre-warmed entry.
    let pre = serial(&c, 0, &k.id);
    assert_eq!(
        failure_message(&auth_secret(&mut c, 0, &k.id, "wrong")),
        format!("invalid credentials for API key [{}]", k.id)
    );
    assert_eq!(serial(&c, 0, &k.id), pre);
}

/// AK-S3: failures are cached; a different wrong secret replaces the entry; the right one replaces it
/// with a success; then alternating wrong/right gives CONTINUE then SUCCESS.
#[test]
fn s3_failed_verifications_are_cached() {
    let mut c = cluster(2);
    let k = create(&mut c, 0, "k");
    let a = k.api_key.expose().to_string();
    let invalid = format!("invalid credentials for API key [{}]", k.id);
    // B
    assert_eq!(
        failure_message(&auth_secret(&mut c, 1, &k.id, "secret-B-xxxxxxxxxxxx")),
        invalid
    );
    assert_eq!(cached_success(&c, 1, &k.id), Some(false));
    let s_b = serial(&c, 1, &k.id);
    assert_eq!(svc(&c, 1).verifications, 1);
    // B again: the cached failure answers, no re-hash.
    assert_eq!(
        failure_message(&auth_secret(&mut c, 1, &k.id, "secret-B-xxxxxxxxxxxx")),
        invalid
    );
    assert_eq!(serial(&c, 1, &k.id), s_b);
    assert_eq!(svc(&c, 1).verifications, 1);
    // C: still failing, with a new entry object.
    assert_eq!(
        failure_message(&auth_secret(&mut c, 1, &k.id, "secret-C-yyyyyyyyyyyy")),
        invalid
    );
    assert_eq!(cached_success(&c, 1, &k.id), Some(false));
    let s_c = serial(&c, 1, &k.id);
    assert_ne!(s_c, s_b);
    assert_eq!(svc(&c, 1).verifications, 2);
    // A: success, with a new entry object.
    let ok = api_key_auth(auth_secret(&mut c, 1, &k.id, &a));
    assert_eq!(ok.id, k.id);
    assert_eq!(cached_success(&c, 1, &k.id), Some(true));
    let s_a = serial(&c, 1, &k.id);
    assert_ne!(s_a, s_c);
    assert_eq!(svc(&c, 1).verifications, 3);
    // Alternating wrong and right three times: CONTINUE (401 with the message), then SUCCESS.
    for i in 0..3 {
        let wrong = format!("wrong-secret-number-{i}");
        let outcome = auth_secret(&mut c, 1, &k.id, &wrong);
        assert_eq!(failure_message(&outcome), invalid);
        assert!(matches!(&outcome, AuthenticationOutcome::Failed(e) if e.status == 401));
        api_key_auth(auth_secret(&mut c, 1, &k.id, &a));
    }
    assert_eq!(serial(&c, 1, &k.id), s_a);
    assert_eq!(svc(&c, 1).verifications, 3);
    // On a node that starts from the failures the same happens (mixing from scratch).
    for i in 0..3 {
        let outcome = auth_secret(&mut c, 0, &k.id, &format!("wrong-{i}"));
        assert_eq!(failure_message(&outcome), invalid);
        api_key_auth(auth_secret(&mut c, 0, &k.id, &a));
    }
}

/// AK-S4: with the first verification held in the crypto pool, a second authentication joins the same
/// pending entry; one verification serves both.
#[test]
fn s4_concurrent_first_use_shares_one_verification() {
    let mut c = cluster(2);
    let k = create(&mut c, 0, "k");
    c.node_mut(1).unwrap().crypto_pool.mode = CryptoPoolMode::Held;
    let r1 = match auth_key(&mut c, 1, &k) {
        AuthenticationOutcome::Pending { request } => request,
        other => panic!("expected pending, got {other:?}"),
    };
    assert_eq!(svc(&c, 1).cached_result(&k.id), Some(&FutureState::Pending));
    let r2 = match auth_key(&mut c, 1, &k) {
        AuthenticationOutcome::Pending { request } => request,
        other => panic!("expected pending, got {other:?}"),
    };
    assert_ne!(r1, r2);
    assert_eq!(svc(&c, 1).verifications, 0);
    assert_eq!(
        c.nodes()[1].crypto_pool.queued(),
        1,
        "one verification queued for both"
    );
    assert_eq!(svc(&c, 1).pending_verifications(), 1);
    let done = c.drain_crypto_pool(1);
    assert_eq!(svc(&c, 1).verifications, 1);
    assert_eq!(done.len(), 2);
    for r in [r1, r2] {
        let step = &done.iter().find(|(req, _)| *req == r).unwrap().1;
        match step {
            AuthStep::Done(AuthOutcome::Success(a)) => assert_eq!(a.id, k.id),
            other => panic!("request {r}: {other:?}"),
        }
    }
    assert_eq!(cached_success(&c, 1, &k.id), Some(true));
    assert_eq!(svc(&c, 1).pending_verifications(), 0);
    // A third request is a plain hit.
    c.node_mut(1).unwrap().crypto_pool.mode = CryptoPoolMode::Immediate;
    assert_accepted(&mut c, 1, &k);
    assert_eq!(svc(&c, 1).verifications, 1);
}

/// S5: `cache.ttl=0s` disables all three caches; creation caches nothing and authentication works.
#[test]
fn s5_ttl_zero_disables_every_cache() {
    let mut c = cluster_with(2, &[("xpack.security.authc.api_key.cache.ttl", "0s")]);
    let k = create(&mut c, 0, "k");
    for n in 0..2 {
        let s = svc(&c, n);
        assert!(s.auth_cache().is_none());
        assert!(s.doc_cache().is_none());
        for cache in [
            CacheId::ApiKeyAuth,
            CacheId::ApiKeyDoc,
            CacheId::ApiKeyRoleDescriptors,
        ] {
            assert_eq!(s.size(cache), None);
            assert_eq!(s.stats(cache), None);
        }
        assert_eq!(s.cached_result(&k.id), None);
    }
    for n in 0..2 {
        assert_accepted(&mut c, n, &k);
        assert_accepted(&mut c, n, &k);
        assert_eq!(svc(&c, n).cached_result(&k.id), None);
        // Nothing is cached: every authentication verifies.
        assert_eq!(svc(&c, n).verifications, 2);
    }
    assert_eq!(count_events(&c, 0, |e| e.1 == EventKind::CachePut), 0);
}

/// S6: `doc_cache.ttl=0s` disables only the doc and role-descriptor caches.
#[test]
fn s6_doc_cache_ttl_zero_disables_doc_caches_only() {
    let mut c = cluster_with(2, &[("xpack.security.authc.api_key.doc_cache.ttl", "0s")]);
    let k = create(&mut c, 0, "k");
    assert_accepted(&mut c, 1, &k);
    assert_eq!(cached_success(&c, 1, &k.id), Some(true));
    assert_eq!(count(&c, 1, CacheId::ApiKeyAuth), 1);
    let s = svc(&c, 1);
    assert!(s.doc_cache().is_none());
    assert_eq!(s.size(CacheId::ApiKeyDoc), None);
    assert_eq!(s.size(CacheId::ApiKeyRoleDescriptors), None);
    assert_eq!(s.stats(CacheId::ApiKeyDoc), None);
    // Without a doc cache, a GET failure is an authentication failure even with a cached hash.
    c.set_security_index_health(IndexHealth::Red).unwrap();
    assert_rejected(
        &mut c,
        1,
        &k,
        &format!(
            "apikey authentication for id {} encountered a failure",
            k.id
        ),
    );
}

/// S7: doc cache and role-descriptor dedup (ST `testApiKeyDocCache`).
#[test]
fn s7_doc_cache_and_role_descriptor_dedup() {
    let mut c = cluster(3);
    let k1 = create(&mut c, 0, "k1");
    let k2 = create(&mut c, 0, "k2");
    let elastic = elastic(&mut c);
    let k3 = create_as(
        &mut c,
        0,
        &elastic,
        "k3",
        json!({"r1": {"cluster": ["monitor"]}}),
    );
    let empty_hash = role_descriptors_hash("{}");
    let superuser_bytes = c.security_index.api_keys()[&k1.id]
        .limited_by_role_descriptors
        .clone();
    let superuser_hash = role_descriptors_hash(&superuser_bytes);
    assert!(superuser_bytes.contains("superuser"));

    // 1. K1 cached: the byte cache holds `{}` and superuser.
    assert_accepted(&mut c, 1, &k1);
    assert_eq!(count(&c, 1, CacheId::ApiKeyDoc), 1);
    assert_eq!(count(&c, 1, CacheId::ApiKeyRoleDescriptors), 2);
    let rd1 = svc(&c, 1)
        .role_descriptor_bytes(&empty_hash)
        .unwrap()
        .clone();
    let lb1 = svc(&c, 1)
        .role_descriptor_bytes(&superuser_hash)
        .unwrap()
        .clone();
    assert_eq!(&*rd1, "{}");
    assert_eq!(&*lb1, &*superuser_bytes);

    // 2. K2, same roles: a new doc entry, the same byte instances.
    assert_accepted(&mut c, 1, &k2);
    assert_eq!(count(&c, 1, CacheId::ApiKeyDoc), 2);
    assert_eq!(count(&c, 1, CacheId::ApiKeyRoleDescriptors), 2);
    assert!(Arc::ptr_eq(
        svc(&c, 1).role_descriptor_bytes(&empty_hash).unwrap(),
        &rd1
    ));
    assert!(Arc::ptr_eq(
        svc(&c, 1).role_descriptor_bytes(&superuser_hash).unwrap(),
        &lb1
    ));
    // K2's own document carries other instances; the cache hands out the shared ones.
    assert!(!Arc::ptr_eq(
        &c.security_index.api_keys()[&k2.id].role_descriptors,
        &rd1
    ));
    for k in [&k1, &k2] {
        let a = assert_accepted(&mut c, 1, k);
        assert!(Arc::ptr_eq(&a.role_descriptors, &rd1), "{}", k.name);
        assert!(
            Arc::ptr_eq(&a.limited_by_role_descriptors, &lb1),
            "{}",
            k.name
        );
    }

    // 3. K3, another role: three byte entries.
    assert_accepted(&mut c, 1, &k3);
    assert_eq!(count(&c, 1, CacheId::ApiKeyDoc), 3);
    assert_eq!(count(&c, 1, CacheId::ApiKeyRoleDescriptors), 3);

    // 4. Clear the byte cache, then K1: exactly one GET (one doc put, replacing the doc entry) and
    //    two byte entries again.
    with_ctx(
        &mut c,
        1,
        escache::security::api_key::ApiKeyService::invalidate_all_role_descriptors,
    );
    assert_eq!(count(&c, 1, CacheId::ApiKeyRoleDescriptors), 0);
    let mark = c.events.len();
    assert_accepted(&mut c, 1, &k1);
    let doc_puts = count_events(&c, mark, |e| {
        e.1 == EventKind::CachePut && e.2 == CacheId::ApiKeyDoc
    });
    assert_eq!(doc_puts, 1, "exactly one GET");
    assert_eq!(
        count_events(&c, mark, |e| e.1 == EventKind::CacheReplaced
            && e.2 == CacheId::ApiKeyDoc
            && e.3 == k1.id),
        1
    );
    assert_eq!(count(&c, 1, CacheId::ApiKeyRoleDescriptors), 2);
    assert_eq!(count(&c, 1, CacheId::ApiKeyDoc), 3);

    // 5. GETs fail (a red index, which does not clear caches): K1 still authenticates from the doc
    //    cache; a node without the doc fails.
    c.set_security_index_health(IndexHealth::Red).unwrap();
    assert_eq!(count(&c, 1, CacheId::ApiKeyDoc), 3);
    let hits = stats(&c, 1, CacheId::ApiKeyDoc).hits;
    let mark = c.events.len();
    assert_accepted(&mut c, 1, &k1);
    assert_eq!(stats(&c, 1, CacheId::ApiKeyDoc).hits, hits + 1);
    assert_eq!(
        count_events(&c, mark, |e| e.1 == EventKind::CachePut
            && e.2 == CacheId::ApiKeyDoc),
        0
    );
    assert_rejected(
        &mut c,
        2,
        &k1,
        &format!(
            "apikey authentication for id {} encountered a failure",
            k1.id
        ),
    );
}

/// S8: a GET that finds no document removes the auth entry.
#[test]
fn s8_doc_not_found_removes_auth_entry() {
    let mut c = cluster(2);
    let k = create(&mut c, 0, "k");
    assert!(svc(&c, 0).contains(CacheId::ApiKeyAuth, &k.id));
    c.security_index.api_keys_mut().shift_remove(&k.id);
    assert_rejected(
        &mut c,
        0,
        &k,
        &format!("unable to find apikey with id {}", k.id),
    );
    assert!(!svc(&c, 0).contains(CacheId::ApiKeyAuth, &k.id));
    assert_eq!(count(&c, 0, CacheId::ApiKeyAuth), 0);
}

/// S9: clear one key on every node, then everything.
#[test]
fn s9_clear_one_key_then_all() {
    let mut c = cluster(3);
    let k1 = create(&mut c, 0, "k1");
    let k2 = create(&mut c, 0, "k2");
    for n in 0..3 {
        assert_accepted(&mut c, n, &k1);
        assert_accepted(&mut c, n, &k2);
        assert_eq!(counts(&c, n), (2, 2, 2));
    }
    let resp = c.clear_security_cache(1, "api_key", &strings(&[&k1.id]));
    assert!(resp.failures.is_empty());
    assert_eq!(resp.successes.len(), 3);
    for n in 0..3 {
        let s = svc(&c, n);
        assert!(!s.contains(CacheId::ApiKeyAuth, &k1.id));
        assert!(!s.contains(CacheId::ApiKeyDoc, &k1.id));
        assert!(s.contains(CacheId::ApiKeyAuth, &k2.id));
        assert!(s.contains(CacheId::ApiKeyDoc, &k2.id));
        assert_eq!(
            counts(&c, n),
            (1, 1, 2),
            "node {n}: the role-descriptor cache is untouched"
        );
    }
    let resp = c.clear_security_cache(2, "api_key", &[]);
    assert!(resp.failures.is_empty());
    assert_eq!(resp.to_json()["_nodes"]["failed"], json!(0));
    for n in 0..3 {
        assert_eq!(counts(&c, n), (0, 0, 0));
    }
    // And everything still works afterwards, from the index.
    assert_accepted(&mut c, 2, &k1);
}

/// S10 (cluster level): clearing one id and clearing all both answer with every node successful and
/// no `failures` field (R5.5).
#[test]
fn s10_clear_cache_response_has_no_failures() {
    let mut c = cluster(3);
    let k = create(&mut c, 0, "k");
    assert_accepted(&mut c, 1, &k);
    for keys in [ids_param(&k.id), ids_param("*")] {
        let body = c.clear_security_cache(0, "api_key", &keys).to_json();
        assert_eq!(
            body["_nodes"],
            json!({"total": 3, "successful": 3, "failed": 0})
        );
        assert_eq!(body["cluster_name"], json!("escache"));
        let nodes = body["nodes"].as_object().unwrap();
        assert_eq!(nodes.len(), 3);
        for n in c.nodes() {
            assert_eq!(nodes[&n.id], json!({"name": n.name}));
        }
    }
    assert_eq!(counts(&c, 1), (0, 0, 0));
}

/// S11 (cluster level, with the ids parsed as R5.6 parses them): `*` and `_all` clear everything,
/// `abc*` is a literal no-op, `K1,K2` clears exactly two keys.
#[test]
fn s11_ids_parsing() {
    assert_eq!(ids_param("*"), Vec::<String>::new());
    assert_eq!(ids_param("_all"), Vec::<String>::new());
    assert_eq!(ids_param("abc*"), strings(&["abc*"]));
    assert_eq!(ids_param("a,*"), strings(&["a", "*"]));
    assert_eq!(ids_param("a,,b,,"), strings(&["a", "", "b"]));

    let mut c = cluster(2);
    let keys: Vec<CreatedApiKey> = (0..3)
        .map(|i| create(&mut c, 0, &format!("k{i}")))
        .collect();
    let populate = |c: &mut Cluster| {
        for n in 0..2 {
            for k in &keys {
                assert_accepted(c, n, k);
            }
            assert_eq!(counts(c, n), (3, 3, 2));
        }
    };
    for all in ["*", "_all"] {
        populate(&mut c);
        let resp = c.clear_security_cache(0, "api_key", &ids_param(all));
        assert!(resp.failures.is_empty());
        for n in 0..2 {
            assert_eq!(counts(&c, n), (0, 0, 0), "{all}");
        }
    }
    populate(&mut c);
    let resp = c.clear_security_cache(0, "api_key", &ids_param("abc*"));
    assert!(resp.failures.is_empty());
    assert_eq!(resp.successes.len(), 2);
    for n in 0..2 {
        assert_eq!(
            counts(&c, n),
            (3, 3, 2),
            "abc* is a literal key: nothing cleared"
        );
    }
    let two = format!("{},{}", keys[0].id, keys[1].id);
    c.clear_security_cache(1, "api_key", &ids_param(&two));
    for n in 0..2 {
        assert_eq!(counts(&c, n), (1, 1, 2));
        assert!(svc(&c, n).contains(CacheId::ApiKeyAuth, &keys[2].id));
        assert!(svc(&c, n).contains(CacheId::ApiKeyDoc, &keys[2].id));
    }
}

/// S12: closing `.security-7` clears all three caches on every node (R4.1 (b)).
#[test]
fn s12_closing_security_index_clears_caches() {
    let mut c = cluster(3);
    let k = create(&mut c, 0, "k");
    for n in 0..3 {
        assert_accepted(&mut c, n, &k);
        assert_eq!(counts(&c, n), (1, 1, 2));
    }
    let mark = c.events.len();
    c.close_security_index();
    for n in 0..3 {
        assert_eq!(counts(&c, n), (0, 0, 0));
    }
    let change = events_since(&c, mark)
        .into_iter()
        .find(|e| e.1 == EventKind::SecurityIndexChange)
        .unwrap();
    assert_eq!(change.4, "green -> closed (caches cleared)");
    assert_rejected(
        &mut c,
        0,
        &k,
        &format!(
            "apikey authentication for id {} encountered a failure",
            k.id
        ),
    );
}

/// S13: the registry resolves names to invalidators, refuses unknown names, and an
/// UNRECOVERED -> GREEN transition clears only the invalidators registered with shouldClear=true.
#[test]
fn s13_registry() {
    let mut r = CacheInvalidatorRegistry::new();
    r.register("service1", Invalidator::ApiKey, true).unwrap();
    r.register("service2", Invalidator::ApiKeyDoc, true)
        .unwrap();
    r.register("service3", Invalidator::FileServiceAccountToken, false)
        .unwrap();
    assert_eq!(r.resolve("service2").unwrap(), vec![Invalidator::ApiKeyDoc]);
    assert_eq!(
        r.resolve("non-exist").unwrap_err().reason,
        "No cache named [non-exist] is found"
    );
    assert_eq!(
        r.resolve("non-exist").unwrap_err().kind,
        "illegal_argument_exception"
    );
    assert_eq!(
        r.cleared_on_security_index_change(),
        vec![Invalidator::ApiKey, Invalidator::ApiKeyDoc]
    );
    assert!(should_clear_caches(
        &IndexState::absent(),
        &green("my_uuid")
    ));

    // On a cluster: entries put while the index has never been recovered are cleared when it turns
    // GREEN with uuid `my_uuid`.
    let mut c = cluster(2);
    for n in 0..2 {
        with_ctx(&mut c, n, |s, ctx| {
            s.on_created("some-key", &Secret::new("some-secret"), ctx);
        });
        assert_eq!(count(&c, n, CacheId::ApiKeyAuth), 1);
    }
    let mark = c.events.len();
    c.set_security_index_state(green("my_uuid"));
    for n in 0..2 {
        assert_eq!(counts(&c, n), (0, 0, 0));
        assert!(!c.nodes()[n as usize]
            .registry
            .cleared_on_security_index_change()
            .contains(&Invalidator::FileServiceAccountToken));
    }
    assert_eq!(
        count_events(&c, mark, |e| e.1 == EventKind::SecurityIndexChange
            && e.4 == "absent -> green (caches cleared)"),
        1
    );
}

/// S14: an update clears the updated key's doc entry only (every node); an identical repeat is a
/// noop that clears nothing.
#[test]
fn s14_update_clears_only_that_doc() {
    let mut c = cluster(3);
    let k1 = create(&mut c, 0, "k1");
    let k2 = create(&mut c, 0, "k2");
    for n in 0..3 {
        assert_accepted(&mut c, n, &k1);
        assert_accepted(&mut c, n, &k2);
    }
    let before: Vec<_> = (0..3).map(|n| counts(&c, n)).collect();
    let auth_stats: Vec<_> = (0..3).map(|n| stats(&c, n, CacheId::ApiKeyAuth)).collect();
    let elastic = elastic(&mut c);
    let mut metadata = Map::new();
    metadata.insert("tag".into(), json!("v2"));
    let req = || UpdateApiKeyRequest {
        metadata: Some(metadata.clone()),
        ..Default::default()
    };
    assert!(c.update_api_key(1, &elastic, &k1.id, req()).unwrap());
    for n in 0..3 {
        let s = svc(&c, n);
        assert!(!s.contains(CacheId::ApiKeyDoc, &k1.id));
        assert!(s.contains(CacheId::ApiKeyDoc, &k2.id));
        assert!(s.contains(CacheId::ApiKeyAuth, &k1.id));
        let (a, d, r) = before[n as usize];
        assert_eq!(counts(&c, n), (a, d - 1, r));
        assert_eq!(stats(&c, n, CacheId::ApiKeyAuth), auth_stats[n as usize]);
    }
    let mark = c.events.len();
    assert!(
        !c.update_api_key(1, &elastic, &k1.id, req()).unwrap(),
        "an identical update is a noop"
    );
    assert_eq!(count_events(&c, mark, |e| e.1 == EventKind::ClearCache), 0);
    for n in 0..3 {
        let (a, d, r) = before[n as usize];
        assert_eq!(counts(&c, n), (a, d - 1, r));
    }
    for n in 0..3 {
        assert_eq!(
            assert_accepted(&mut c, n, &k1).metadata_flattened.clone(),
            Some(json!({"tag": "v2"}))
        );
    }
}

/// S15: invalidation broadcasts `api_key` [K]; the next authentication says the key is invalidated,
/// and a node that missed the broadcast drops its auth entry on that authentication (R3.3).
#[test]
fn s15_invalidate_then_authenticate() {
    let mut c = cluster(3);
    let k = create(&mut c, 0, "k");
    for n in 0..3 {
        assert_accepted(&mut c, n, &k);
    }
    let mark = c.events.len();
    let result = invalidate(&mut c, 1, &[&k.id]);
    assert_eq!(
        result.to_json(),
        json!({"invalidated_api_keys": [k.id], "previously_invalidated_api_keys": [], "error_count": 0})
    );
    let clears: Vec<_> = events_since(&c, mark)
        .into_iter()
        .filter(|e| e.1 == EventKind::ClearCache)
        .map(|e| (e.0, e.3, e.4))
        .collect();
    assert_eq!(
        clears,
        (0..3)
            .map(|n| (n, "api_key".to_string(), k.id.clone()))
            .collect::<Vec<_>>()
    );
    let invalidated = format!("api key [{}] has been invalidated", k.id);
    for n in 0..3 {
        assert!(!svc(&c, n).contains(CacheId::ApiKeyAuth, &k.id));
        assert_rejected(&mut c, n, &k, &invalidated);
        assert!(!svc(&c, n).contains(CacheId::ApiKeyAuth, &k.id));
    }
    // Invalidating again finds nothing (already invalidated keys are excluded): no broadcast.
    let mark = c.events.len();
    assert_eq!(invalidate(&mut c, 1, &[&k.id]), Default::default());
    assert_eq!(count_events(&c, mark, |e| e.1 == EventKind::ClearCache), 0);

    // The creating node holds a pre-warmed hash and no doc; partitioned, it misses the broadcast, and
    // its next authentication reads the invalidated doc and removes the auth entry.
    let k2 = create(&mut c, 0, "k2");
    c.set_partitioned(0, true).unwrap();
    let result = invalidate(&mut c, 1, &[&k2.id]);
    assert_eq!(result.invalidated, vec![k2.id.clone()]);
    assert!(svc(&c, 0).contains(CacheId::ApiKeyAuth, &k2.id));
    let mark = c.events.len();
    assert_rejected(
        &mut c,
        0,
        &k2,
        &format!("api key [{}] has been invalidated", k2.id),
    );
    assert!(!svc(&c, 0).contains(CacheId::ApiKeyAuth, &k2.id));
    assert_eq!(
        count_events(&c, mark, |e| e.1 == EventKind::CacheInvalidated
            && e.2 == CacheId::ApiKeyAuth
            && e.3 == k2.id),
        1
    );
}

/// S16 (cluster level): with `max_keys=3`, size evictions are counted and traced; a re-put and
/// invalidations are not traced; `invalidateAll` leaves the eviction counter alone.
#[test]
fn s16_eviction_statistics() {
    let mut c = cluster_with(2, &[("xpack.security.authc.api_key.cache.max_keys", "3")]);
    c.node_mut(0)
        .unwrap()
        .api_keys
        .eviction_monitor_mut()
        .unwrap()
        .keep_trace = true;
    let keys: Vec<CreatedApiKey> = (0..3)
        .map(|i| create(&mut c, 0, &format!("k{i}")))
        .collect();
    assert_eq!(count(&c, 0, CacheId::ApiKeyAuth), 3);
    assert_eq!(stats(&c, 0, CacheId::ApiKeyAuth).evictions, 0);
    let k3 = create(&mut c, 0, "k3");
    assert_eq!(count(&c, 0, CacheId::ApiKeyAuth), 3);
    assert_eq!(stats(&c, 0, CacheId::ApiKeyAuth).evictions, 1);
    let k4 = create(&mut c, 0, "k4");
    assert_eq!(count(&c, 0, CacheId::ApiKeyAuth), 3);
    assert_eq!(stats(&c, 0, CacheId::ApiKeyAuth).evictions, 2);
    assert!(!svc(&c, 0).contains(CacheId::ApiKeyAuth, &keys[0].id));
    assert!(!svc(&c, 0).contains(CacheId::ApiKeyAuth, &keys[1].id));
    // Re-put and a hit: no change.
    with_ctx(&mut c, 0, |s, ctx| s.on_created(&k4.id, &k4.api_key, ctx));
    assert_accepted(&mut c, 0, &k3);
    assert_eq!(count(&c, 0, CacheId::ApiKeyAuth), 3);
    assert_eq!(stats(&c, 0, CacheId::ApiKeyAuth).evictions, 2);
    let monitor = svc(&c, 0).eviction_monitor().unwrap();
    assert_eq!(monitor.size_evictions, 2);
    let trace: Vec<String> = monitor
        .trace
        .iter()
        .map(escache::security::api_key::EvictionLog::message)
        .collect();
    assert_eq!(
        trace,
        [&keys[0].id, &keys[1].id]
            .iter()
            .map(|id| format!(
                "API key with ID [{id}] was evicted from the authentication cache, possibly due to cache size limit"
            ))
            .collect::<Vec<_>>()
    );
    // invalidate(k) counts an eviction (R6.8) but is not a size eviction: not traced.
    c.clear_security_cache(0, "api_key", &strings(&[&k3.id]));
    assert_eq!(stats(&c, 0, CacheId::ApiKeyAuth).evictions, 3);
    assert_eq!(svc(&c, 0).eviction_monitor().unwrap().size_evictions, 2);
    // invalidateAll: count 0, evictions unchanged.
    c.clear_security_cache(0, "api_key", &[]);
    assert_eq!(count(&c, 0, CacheId::ApiKeyAuth), 0);
    assert_eq!(stats(&c, 0, CacheId::ApiKeyAuth).evictions, 3);
    assert_eq!(svc(&c, 0).eviction_monitor().unwrap().size_evictions, 2);
    assert_eq!(svc(&c, 0).eviction_monitor().unwrap().trace.len(), 2);
}

/// S17 (cluster level): with `cache.ttl=100ms`, an entry not used for 200 ms is a miss; the new put
/// leaves one entry, and TTL expiry is not traced.
#[test]
fn s17_ttl_expiry_is_a_miss_and_not_traced() {
    let mut c = cluster_with(1, &[("xpack.security.authc.api_key.cache.ttl", "100ms")]);
    let k = create(&mut c, 0, "k");
    assert_eq!(count(&c, 0, CacheId::ApiKeyAuth), 1);
    c.advance(200 * NANOS_PER_MILLI);
    let before = stats(&c, 0, CacheId::ApiKeyAuth);
    assert_accepted(&mut c, 0, &k);
    let after = stats(&c, 0, CacheId::ApiKeyAuth);
    assert_eq!(after.hits, before.hits);
    assert_eq!(after.misses, before.misses + 1);
    assert_eq!(
        svc(&c, 0).verifications,
        1,
        "the expired pre-warmed hash was not used"
    );
    assert_eq!(count(&c, 0, CacheId::ApiKeyAuth), 1);
    assert_eq!(cached_success(&c, 0, &k.id), Some(true));
    let monitor = svc(&c, 0).eviction_monitor().unwrap();
    assert_eq!(monitor.size_evictions, 0);
    assert_eq!(monitor.eviction_counter(), 0);
    assert!(monitor.warnings.is_empty());
    // Exactly at the TTL an entry is still alive (strictly greater expires).
    c.advance(100 * NANOS_PER_MILLI);
    assert_accepted(&mut c, 0, &k);
    assert_eq!(svc(&c, 0).verifications, 1);
}

/// S18: with the counter at 4500 and the last check 311 s ago, one size eviction logs TRACE and one
/// WARN and resets the counter; the next eviction does not warn.
#[test]
fn s18_thrashing_warning() {
    let mut c = cluster_with(1, &[("xpack.security.authc.api_key.cache.max_keys", "1")]);
    create(&mut c, 0, "k0");
    c.advance(311 * NANOS_PER_SECOND);
    {
        let m = c
            .node_mut(0)
            .unwrap()
            .api_keys
            .eviction_monitor_mut()
            .unwrap();
        m.set_eviction_counter(EVICTION_WARNING_THRESHOLD);
        m.set_last_checked_at(0);
    }
    let mark = c.events.len();
    create(&mut c, 0, "k1");
    let m = svc(&c, 0).eviction_monitor().unwrap();
    assert_eq!(m.size_evictions, 1);
    assert_eq!(m.warnings, vec![(311 * NANOS_PER_SECOND, 4501)]);
    assert_eq!(m.eviction_counter(), 0);
    let warns: Vec<String> = events_since(&c, mark)
        .into_iter()
        .filter(|e| e.1 == EventKind::LogWarn)
        .map(|e| e.4)
        .collect();
    assert_eq!(
        warns,
        vec!["Possible thrashing for API key authentication cache, [4501] eviction due to cache size within last [300] seconds"]
    );
    let mark = c.events.len();
    create(&mut c, 0, "k2");
    let m = svc(&c, 0).eviction_monitor().unwrap();
    assert_eq!(m.size_evictions, 2);
    assert_eq!(m.warnings.len(), 1);
    assert_eq!(m.eviction_counter(), 1);
    assert_eq!(count_events(&c, mark, |e| e.1 == EventKind::LogWarn), 0);
}

/// S19: doc and role-descriptor cache stats with `max_keys=1`, exactly as the table.
#[test]
fn s19_doc_and_role_descriptor_metrics() {
    let mut c = cluster_with(2, &[("xpack.security.authc.api_key.cache.max_keys", "1")]);
    let elastic = elastic(&mut c);
    let k1 = create_as(
        &mut c,
        0,
        &elastic,
        "k1",
        json!({"r1": {"cluster": ["monitor"]}}),
    );
    // First authentication.
    assert_accepted(&mut c, 1, &k1);
    assert_eq!(count(&c, 1, CacheId::ApiKeyDoc), 1);
    assert_eq!(stats(&c, 1, CacheId::ApiKeyDoc), cs(0, 1, 0));
    assert_eq!(count(&c, 1, CacheId::ApiKeyRoleDescriptors), 2);
    assert_eq!(stats(&c, 1, CacheId::ApiKeyRoleDescriptors), cs(0, 2, 0));
    // Gets.
    assert_accepted(&mut c, 1, &k1);
    assert_eq!(stats(&c, 1, CacheId::ApiKeyDoc), cs(1, 1, 0));
    assert_eq!(stats(&c, 1, CacheId::ApiKeyRoleDescriptors), cs(2, 2, 0));
    // A second key with other roles (its own and its limited-by both differ from K1's).
    let reader = native_user(
        &mut c,
        "reader",
        "reader-password",
        "reader",
        json!({"cluster": ["monitor"], "indices": []}),
    );
    let k2 = create_as(
        &mut c,
        0,
        &reader,
        "k2",
        json!({"r2": {"cluster": ["manage_api_key"]}}),
    );
    assert_accepted(&mut c, 1, &k2);
    assert_eq!(count(&c, 1, CacheId::ApiKeyDoc), 1);
    assert_eq!(stats(&c, 1, CacheId::ApiKeyDoc), cs(1, 2, 1));
    assert_eq!(count(&c, 1, CacheId::ApiKeyRoleDescriptors), 2);
    assert_eq!(stats(&c, 1, CacheId::ApiKeyRoleDescriptors), cs(2, 4, 2));
}

/// S20: a saturated crypto pool answers 429 and leaves no (toxic) auth entry behind.
#[test]
fn s20_crypto_pool_full_gives_429() {
    let mut c = cluster(2);
    let k = create(&mut c, 0, "k");
    c.node_mut(1).unwrap().crypto_pool.mode = CryptoPoolMode::Saturated;
    let mark = c.events.len();
    match auth_key(&mut c, 1, &k) {
        AuthenticationOutcome::Failed(e) => {
            assert_eq!(e.kind, "es_rejected_execution_exception");
            assert_eq!(e.status, 429);
        }
        other => panic!("expected 429, got {other:?}"),
    }
    assert!(!svc(&c, 1).contains(CacheId::ApiKeyAuth, &k.id));
    assert_eq!(count(&c, 1, CacheId::ApiKeyAuth), 0);
    let ev = events_since(&c, mark);
    assert!(ev.iter().any(|e| e.1 == EventKind::LogWarn
        && e.4 == "rejecting possibly valid API key authentication because the [security-crypto] threadpool is full"));
    assert!(ev.iter().any(|e| e.1 == EventKind::AuthRejected));
    assert!(ev
        .iter()
        .any(|e| e.1 == EventKind::CacheInvalidated && e.2 == CacheId::ApiKeyAuth && e.3 == k.id));
    // A pre-warmed key still authenticates on a saturated pool: no verification needed.
    c.node_mut(0).unwrap().crypto_pool.mode = CryptoPoolMode::Saturated;
    assert_accepted(&mut c, 0, &k);
    // Once the pool has room, the key works again: nothing toxic was cached.
    c.node_mut(1).unwrap().crypto_pool.mode = CryptoPoolMode::Immediate;
    assert_accepted(&mut c, 1, &k);
    assert_eq!(cached_success(&c, 1, &k.id), Some(true));
}

// ---------------------------------------------------------------------------------------------
// Rules
// ---------------------------------------------------------------------------------------------

/// R3.5: expiry is checked against the clock on every request, even when the doc comes from the doc
/// cache and the hash from the auth cache.
#[test]
fn r3_5_expiry_checked_on_every_request_with_cached_doc() {
    let mut c = cluster(2);
    let elastic = elastic(&mut c);
    let k = c
        .create_api_key(
            0,
            &elastic,
            CreateApiKeyRequest {
                name: "short".into(),
                expiration: Some(TimeValue::new(1, TimeUnit::Minutes)),
                ..Default::default()
            },
        )
        .unwrap();
    assert_eq!(k.expiration, Some(escache::time::epoch_millis(0) + 60_000));
    assert_accepted(&mut c, 1, &k);
    assert!(svc(&c, 1).contains(CacheId::ApiKeyDoc, &k.id));
    c.advance(60 * NANOS_PER_SECOND - 1);
    assert_accepted(&mut c, 1, &k);
    assert_accepted(&mut c, 0, &k);
    c.advance(1);
    let doc_hits = stats(&c, 1, CacheId::ApiKeyDoc).hits;
    let auth_hits = stats(&c, 1, CacheId::ApiKeyAuth).hits;
    assert_rejected(&mut c, 1, &k, "api key is expired");
    assert_eq!(
        stats(&c, 1, CacheId::ApiKeyDoc).hits,
        doc_hits + 1,
        "served from the doc cache"
    );
    assert_eq!(
        stats(&c, 1, CacheId::ApiKeyAuth).hits,
        auth_hits + 1,
        "and the auth cache"
    );
    assert_rejected(&mut c, 0, &k, "api key is expired");
}

/// R3.5: expiration is whole seconds (`now.plusSeconds(expiration.getSeconds())`).
#[test]
fn r3_5_expiration_is_whole_seconds() {
    let mut c = cluster(1);
    let elastic = elastic(&mut c);
    let k = c
        .create_api_key(
            0,
            &elastic,
            CreateApiKeyRequest {
                name: "k".into(),
                expiration: Some(TimeValue::new(1999, TimeUnit::Millis)),
                ..Default::default()
            },
        )
        .unwrap();
    assert_eq!(k.expiration, Some(escache::time::epoch_millis(0) + 1000));
    c.advance(NANOS_PER_SECOND - 1);
    assert_accepted(&mut c, 0, &k);
    c.advance(1);
    assert_rejected(&mut c, 0, &k, "api key is expired");
}

/// R3.7: a partitioned node keeps accepting an invalidated key from its doc cache until
/// `doc_cache.ttl` (5m) has strictly elapsed since the doc was cached; a node that got the broadcast
/// rejects at once.
#[test]
fn r3_7_partitioned_node_serves_stale_doc_until_doc_ttl() {
    let mut c = cluster(3);
    let k = create(&mut c, 0, "k");
    // Node 2 caches the doc at t=0; node 1 too.
    assert_accepted(&mut c, 2, &k);
    assert_accepted(&mut c, 1, &k);
    c.advance(NANOS_PER_SECOND);
    c.set_partitioned(2, true).unwrap();
    let mark = c.events.len();
    let result = invalidate(&mut c, 0, &[&k.id]);
    assert_eq!(result.invalidated, vec![k.id.clone()]);
    assert!(
        result.errors.is_empty(),
        "per-node broadcast failures are ignored (R4.4)"
    );
    assert_eq!(
        count_events(&c, mark, |e| e.1 == EventKind::NodeUnreachable && e.0 == 2),
        1
    );
    let invalidated = format!("api key [{}] has been invalidated", k.id);
    // Healthy nodes reject immediately.
    assert_rejected(&mut c, 1, &k, &invalidated);
    assert_rejected(&mut c, 0, &k, &invalidated);
    // The partitioned node still accepts, up to and including exactly doc_cache.ttl after the put.
    assert_accepted(&mut c, 2, &k);
    c.advance(DOC_TTL - NANOS_PER_SECOND);
    assert_eq!(c.now(), DOC_TTL);
    assert_accepted(&mut c, 2, &k);
    // Healing alone does not help: the broadcast was lost.
    c.set_partitioned(2, false).unwrap();
    assert_accepted(&mut c, 2, &k);
    c.advance(1);
    assert_rejected(&mut c, 2, &k, &invalidated);
    assert!(!svc(&c, 2).contains(CacheId::ApiKeyAuth, &k.id));
    // The re-fetched (invalidated) doc is what the doc cache holds now.
    assert_rejected(&mut c, 2, &k, &invalidated);
}

/// R3.7: a stale partitioned node stops accepting as soon as a later clear reaches it.
#[test]
fn r3_7_later_clear_ends_staleness() {
    let mut c = cluster(3);
    let k = create(&mut c, 0, "k");
    assert_accepted(&mut c, 2, &k);
    c.set_partitioned(2, true).unwrap();
    invalidate(&mut c, 0, &[&k.id]);
    assert_accepted(&mut c, 2, &k);
    c.set_partitioned(2, false).unwrap();
    let resp = c.clear_security_cache(0, "api_key", std::slice::from_ref(&k.id));
    assert!(resp.failures.is_empty());
    assert_rejected(
        &mut c,
        2,
        &k,
        &format!("api key [{}] has been invalidated", k.id),
    );
}

/// R4.1: which security-index transitions clear the caches.
#[test]
fn r4_1_security_index_transitions() {
    let mut c = cluster(2);
    let k = create(&mut c, 0, "k");
    let populate = |c: &mut Cluster| {
        for n in 0..2 {
            assert_accepted(c, n, &k);
            assert_eq!(counts(c, n), (1, 1, 2));
        }
    };
    let cleared = |c: &Cluster| (0..2).all(|n| counts(c, n) == (0, 0, 0));
    let kept = |c: &Cluster| (0..2).all(|n| counts(c, n) == (1, 1, 2));

    populate(&mut c);
    c.set_security_index_health(IndexHealth::Yellow).unwrap();
    assert!(kept(&c), "GREEN -> YELLOW does not clear");
    c.set_security_index_health(IndexHealth::Green).unwrap();
    assert!(kept(&c), "YELLOW -> GREEN does not clear");
    c.set_security_index_health(IndexHealth::Red).unwrap();
    assert!(kept(&c), "GREEN -> RED does not clear");
    c.set_security_index_health(IndexHealth::Green).unwrap();
    assert!(cleared(&c), "RED -> GREEN clears");

    populate(&mut c);
    c.set_security_index_health(IndexHealth::Red).unwrap();
    c.set_security_index_health(IndexHealth::Yellow).unwrap();
    assert!(cleared(&c), "RED -> YELLOW clears");

    populate(&mut c);
    let mut s = c.security_index.state().clone();
    s.uuid = Some("another-uuid".into());
    c.set_security_index_state(s);
    assert!(cleared(&c), "a UUID change clears");

    populate(&mut c);
    let same = c.security_index.state().clone();
    c.set_security_index_state(same);
    assert!(kept(&c), "no change, no clear");

    c.set_security_index_up_to_date(false);
    assert!(cleared(&c), "up-to-date true -> false clears");
    // Reads still work (authentication GETs do not check the format).
    populate(&mut c);
    c.set_security_index_up_to_date(true);
    assert!(cleared(&c), "up-to-date false -> true clears");

    populate(&mut c);
    c.close_security_index();
    assert!(cleared(&c), "closing clears");
    c.open_security_index();
    populate(&mut c);
    c.recreate_security_index();
    assert!(cleared(&c), "recreating clears");
    assert_rejected(
        &mut c,
        0,
        &k,
        &format!("unable to find apikey with id {}", k.id),
    );
}

/// R4.3: an update re-reads on every node (doc cache entry of that key dropped), leaves every auth
/// cache untouched, and a noop update sends nothing.
#[test]
fn r4_3_update_clears_only_that_doc_on_every_node() {
    let mut c = cluster(3);
    let k1 = create(&mut c, 0, "k1");
    let k2 = create(&mut c, 0, "k2");
    for n in 0..3 {
        assert_accepted(&mut c, n, &k1);
        assert_accepted(&mut c, n, &k2);
    }
    let serials: Vec<u64> = (0..3).map(|n| serial(&c, n, &k1.id)).collect();
    let elastic = elastic(&mut c);
    let roles = json!({"narrow": {"cluster": ["monitor"]}});
    let req = UpdateApiKeyRequest {
        role_descriptors: Some(roles.as_object().unwrap().clone()),
        ..Default::default()
    };
    let mark = c.events.len();
    assert!(c.update_api_key(2, &elastic, &k1.id, req.clone()).unwrap());
    let clears: Vec<_> = events_since(&c, mark)
        .into_iter()
        .filter(|e| e.1 == EventKind::ClearCache)
        .map(|e| (e.0, e.3, e.4))
        .collect();
    assert_eq!(
        clears,
        (0..3)
            .map(|n| (n, "api_key_doc".to_string(), k1.id.clone()))
            .collect::<Vec<_>>()
    );
    for n in 0..3 {
        assert!(!svc(&c, n).contains(CacheId::ApiKeyDoc, &k1.id));
        assert!(svc(&c, n).contains(CacheId::ApiKeyDoc, &k2.id));
        assert_eq!(
            serial(&c, n, &k1.id),
            serials[n as usize],
            "the auth cache is untouched"
        );
        let a = assert_accepted(&mut c, n, &k1);
        assert_eq!(
            serde_json::from_str::<Value>(&a.role_descriptors).unwrap(),
            roles
        );
        assert_eq!(count(&c, n, CacheId::ApiKeyRoleDescriptors), 3);
    }
    let mark = c.events.len();
    assert!(!c.update_api_key(2, &elastic, &k1.id, req).unwrap());
    assert_eq!(count_events(&c, mark, |e| e.1 == EventKind::ClearCache), 0);
    for n in 0..3 {
        assert!(svc(&c, n).contains(CacheId::ApiKeyDoc, &k1.id));
    }
}

/// R2.4: every doc-cache invalidation, by key or all, bumps the node's invalidation counter. The race
/// the counter guards (an invalidation between reading the count and the put) cannot be produced
/// through the public API, where a GET and its put run in one step.
#[test]
fn r2_4_invalidation_counter() {
    let mut c = cluster(2);
    let k = create(&mut c, 0, "k");
    let counter = |c: &Cluster, n: NodeIndex| svc(c, n).doc_cache().unwrap().invalidation_count();
    let start = [counter(&c, 0), counter(&c, 1)];
    // A cache miss with its put changes nothing.
    assert_accepted(&mut c, 1, &k);
    assert_eq!(counter(&c, 1), start[1]);
    // By key (even a key that is not cached), `api_key` and `api_key_doc`.
    c.clear_security_cache(0, "api_key", &strings(&["not-cached"]));
    c.clear_security_cache(0, "api_key_doc", &strings(&[&k.id]));
    // All.
    c.clear_security_cache(0, "api_key", &[]);
    for n in 0..2 {
        assert_eq!(counter(&c, n), start[n as usize] + 3);
    }
    // A clearing index change runs both `api_key` and `api_key_doc` invalidateAll: +2.
    c.set_security_index_up_to_date(false);
    for n in 0..2 {
        assert_eq!(counter(&c, n), start[n as usize] + 5);
    }
    // A partitioned node does not see the broadcast.
    c.set_partitioned(1, true).unwrap();
    c.clear_security_cache(0, "api_key", &[]);
    assert_eq!(counter(&c, 0), start[0] + 6);
    assert_eq!(counter(&c, 1), start[1] + 5);
}

/// R5.9: with `cache.ttl=0` no `api_key` invalidator is registered: the clear answers with every
/// node failed (`No cache named [api_key] is found`), and invalidation still succeeds.
#[test]
fn r5_9_ttl_zero_clear_fails_on_every_node_and_invalidate_succeeds() {
    let mut c = cluster_with(3, &[("xpack.security.authc.api_key.cache.ttl", "0s")]);
    let k = create(&mut c, 0, "k");
    assert_accepted(&mut c, 1, &k);
    let resp = c.clear_security_cache(0, "api_key", &[]);
    assert!(resp.successes.is_empty());
    assert_eq!(resp.failures.len(), 3);
    let body = resp.to_json();
    assert_eq!(body["_nodes"]["total"], json!(3));
    assert_eq!(body["_nodes"]["successful"], json!(0));
    assert_eq!(body["_nodes"]["failed"], json!(3));
    assert_eq!(body["nodes"], json!({}));
    let failures = body["_nodes"]["failures"].as_array().unwrap();
    for (f, n) in failures.iter().zip(c.nodes()) {
        let fields: Vec<&str> = f.as_object().unwrap().keys().map(String::as_str).collect();
        assert_eq!(fields, ["type", "reason", "node_id", "caused_by"]);
        assert_eq!(f["type"], json!("failed_node_exception"));
        assert_eq!(f["reason"], json!(format!("Failed node [{}]", n.id)));
        assert_eq!(f["node_id"], json!(n.id));
        assert_eq!(f["caused_by"]["type"], json!("illegal_argument_exception"));
        assert_eq!(
            f["caused_by"]["reason"],
            json!("No cache named [api_key] is found")
        );
    }
    let result = invalidate(&mut c, 0, &[&k.id]);
    assert_eq!(result.invalidated, vec![k.id.clone()]);
    assert!(result.errors.is_empty());
    for n in 0..3 {
        assert_rejected(
            &mut c,
            n,
            &k,
            &format!("api key [{}] has been invalidated", k.id),
        );
    }
}

/// A stopped node leaves the cluster (not counted by fan-outs) and comes back with empty caches.
#[test]
fn stopped_node_loses_caches() {
    let mut c = cluster(3);
    let k = create(&mut c, 0, "k");
    assert_accepted(&mut c, 1, &k);
    assert_eq!(counts(&c, 1), (1, 1, 2));
    c.stop_node(1).unwrap();
    let resp = c.clear_security_cache(0, "api_key", &strings(&["x"]));
    assert_eq!(
        resp.to_json()["_nodes"],
        json!({"total": 2, "successful": 2, "failed": 0})
    );
    c.start_node(1).unwrap();
    assert_eq!(counts(&c, 1), (0, 0, 0));
    assert_eq!(svc(&c, 1).verifications, 0);
    assert_accepted(&mut c, 1, &k);
    assert_eq!(svc(&c, 1).verifications, 1);
    // The creating node loses its pre-warmed entry too.
    c.stop_node(0).unwrap();
    c.start_node(0).unwrap();
    assert_eq!(counts(&c, 0), (0, 0, 0));
    let kinds: Vec<EventKind> = c
        .events
        .iter()
        .filter(|e| e.cache == CacheId::None && e.node == 0)
        .map(|e| e.kind)
        .collect();
    assert!(kinds.ends_with(&[EventKind::NodeStopped, EventKind::NodeStarted]));
}

/// The trace records cache hits, misses, puts and removals (with their reasons) and authentication
/// outcomes.
#[test]
fn events_record_cache_activity_and_outcomes() {
    let mut c = cluster_with(2, &[("xpack.security.authc.api_key.cache.max_keys", "2")]);
    let k = create(&mut c, 0, "k");
    let mark = c.events.len();
    assert_accepted(&mut c, 1, &k);
    let ev = events_since(&c, mark);
    let has = |ev: &[(NodeIndex, EventKind, CacheId, String, String)], kind, cache, key: &str| {
        ev.iter()
            .any(|e| e.0 == 1 && e.1 == kind && e.2 == cache && e.3 == key)
    };
    assert!(has(&ev, EventKind::CacheMiss, CacheId::ApiKeyDoc, &k.id));
    assert!(has(&ev, EventKind::CachePut, CacheId::ApiKeyDoc, &k.id));
    assert!(has(
        &ev,
        EventKind::CacheMiss,
        CacheId::ApiKeyRoleDescriptors,
        &role_descriptors_hash("{}")
    ));
    assert!(has(
        &ev,
        EventKind::CachePut,
        CacheId::ApiKeyRoleDescriptors,
        &role_descriptors_hash("{}")
    ));
    assert!(has(&ev, EventKind::CacheMiss, CacheId::ApiKeyAuth, &k.id));
    assert!(has(&ev, EventKind::CachePut, CacheId::ApiKeyAuth, &k.id));
    assert!(has(
        &ev,
        EventKind::HashVerification,
        CacheId::ApiKeyAuth,
        &k.id
    ));
    assert!(ev
        .iter()
        .any(|e| e.1 == EventKind::HashVerification && e.4 == "ssha256"));
    assert!(ev
        .iter()
        .any(|e| e.0 == 1 && e.1 == EventKind::AuthSuccess && e.3 == k.id && e.4 == "api_key"));
    // Hits.
    let mark = c.events.len();
    assert_accepted(&mut c, 1, &k);
    let ev = events_since(&c, mark);
    assert!(has(&ev, EventKind::CacheHit, CacheId::ApiKeyDoc, &k.id));
    assert!(has(&ev, EventKind::CacheHit, CacheId::ApiKeyAuth, &k.id));
    assert!(!ev.iter().any(|e| e.1 == EventKind::CacheMiss));
    // A failure carries the message.
    let mark = c.events.len();
    auth_secret(&mut c, 1, &k.id, "wrong-secret");
    let ev = events_since(&c, mark);
    assert!(ev.iter().any(|e| e.1 == EventKind::AuthFailure
        && e.4 == format!("API key: invalid credentials for API key [{}]", k.id)));
    // Removals: EVICTED (size), INVALIDATED (clear), REPLACED (re-put).
    let k2 = create(&mut c, 0, "k2");
    let mark = c.events.len();
    create(&mut c, 0, "k3");
    assert!(events_since(&c, mark).iter().any(|e| e.0 == 0
        && e.1 == EventKind::CacheEvicted
        && e.2 == CacheId::ApiKeyAuth
        && e.3 == k.id));
    let mark = c.events.len();
    c.clear_security_cache(0, "api_key", &strings(&[&k.id]));
    let ev = events_since(&c, mark);
    assert!(ev.iter().any(|e| e.0 == 1
        && e.1 == EventKind::CacheInvalidated
        && e.2 == CacheId::ApiKeyDoc
        && e.3 == k.id));
    assert!(ev.iter().any(|e| e.0 == 1
        && e.1 == EventKind::CacheInvalidated
        && e.2 == CacheId::ApiKeyAuth
        && e.3 == k.id));
    assert!(ev
        .iter()
        .any(|e| e.1 == EventKind::ClearCache && e.3 == "api_key" && e.4 == k.id));
    // A doc put over an existing doc entry is REPLACED (its byte entries had gone).
    assert_accepted(&mut c, 1, &k2);
    with_ctx(
        &mut c,
        1,
        escache::security::api_key::ApiKeyService::invalidate_all_role_descriptors,
    );
    let mark = c.events.len();
    assert_accepted(&mut c, 1, &k2);
    assert!(events_since(&c, mark)
        .iter()
        .any(|e| e.1 == EventKind::CacheReplaced && e.2 == CacheId::ApiKeyDoc && e.3 == k2.id));
    // 429s are their own kind.
    c.node_mut(1).unwrap().crypto_pool.mode = CryptoPoolMode::Saturated;
    let k4 = create(&mut c, 0, "k4");
    let mark = c.events.len();
    auth_key(&mut c, 1, &k4);
    assert!(events_since(&c, mark)
        .iter()
        .any(|e| e.1 == EventKind::AuthRejected && e.0 == 1));
}

/// No secret, encoded credential or stored hash ever appears in the trace, in Debug output of the
/// cluster, its services, documents and responses, or in error reasons.
#[test]
fn no_secret_in_events_debug_or_errors() {
    let mut c = cluster(3);
    // The `elastic` password is a secret too.
    let mut secrets: Vec<String> = vec!["changeme".to_string()];
    let mut keys = Vec::new();
    let mut errors: Vec<String> = Vec::new();
    for i in 0..8u16 {
        let node = i % 3;
        let k = create(&mut c, node, &format!("key-{i}"));
        secrets.push(k.api_key.expose().to_string());
        secrets.push(k.encoded.expose().to_string());
        secrets.push(c.security_index.api_keys()[&k.id].hash.clone().unwrap());
        assert!(!format!("{k:?}").contains(k.api_key.expose()));
        assert!(!format!("{k:?}").contains(k.encoded.expose()));
        keys.push(k);
    }
    for (i, k) in keys.iter().enumerate() {
        for n in 0..3u16 {
            let wrong = format!("wrong-{i}-{n}-{}", "z".repeat(12));
            secrets.push(wrong.clone());
            let outcome = auth_secret(&mut c, n, &k.id, &wrong);
            if let AuthenticationOutcome::Failed(e) = &outcome {
                errors.push(format!("{e:?}"));
                errors.push(e.to_body().to_string());
            }
            errors.push(format!("{outcome:?}"));
            let ok = auth_key(&mut c, n, k);
            errors.push(format!("{ok:?}"));
            // A secret of another key.
            let other = &keys[(i + 1) % keys.len()];
            let outcome = auth_secret(&mut c, n, &k.id, other.api_key.expose());
            errors.push(format!("{outcome:?}"));
        }
    }
    c.node_mut(1).unwrap().crypto_pool.mode = CryptoPoolMode::Held;
    c.clear_security_cache(0, "api_key", &[]);
    errors.push(format!("{:?}", auth_key(&mut c, 1, &keys[0])));
    errors.push(format!("{:?}", c.nodes()[1].api_keys));
    errors.push(format!("{:?}", c.drain_crypto_pool(1)));
    c.node_mut(2).unwrap().crypto_pool.mode = CryptoPoolMode::Saturated;
    errors.push(format!("{:?}", auth_key(&mut c, 2, &keys[1])));
    let half: Vec<&str> = keys[..4].iter().map(|k| k.id.as_str()).collect();
    let inv = invalidate(&mut c, 0, &half);
    errors.push(format!("{inv:?}"));
    for k in &keys {
        for n in 0..3 {
            errors.push(format!("{:?}", auth_key(&mut c, n, k)));
        }
    }
    let mut debug = vec![format!("{c:?}"), format!("{:?}", c.security_index)];
    for n in c.nodes() {
        debug.push(format!("{n:?}"));
        debug.push(format!("{:?}", n.api_keys));
        debug.push(format!("{:?}", n.api_keys.auth_cache()));
        debug.push(format!("{:?}", n.api_keys.doc_cache().map(|d| &d.docs)));
        for k in &keys {
            debug.push(format!("{:?}", n.api_keys.cached_result(&k.id)));
        }
    }
    for d in c.security_index.api_keys().values() {
        debug.push(format!("{d:?}"));
        debug.push(format!("{:?}", d.to_cached()));
    }
    assert!(c.events.len() > 100);
    for s in &secrets {
        for e in c.events.iter() {
            assert!(
                !e.key.contains(s.as_str()) && !e.detail.contains(s.as_str()),
                "secret in event {e:?}"
            );
        }
        for text in debug.iter().chain(&errors) {
            assert!(!text.contains(s.as_str()), "secret in {text}");
        }
    }
}

/// A negative `max_keys` fails the cache builder when the node is built.
#[test]
fn negative_max_keys_fails_the_builder() {
    let mut config = ClusterConfig::new(1);
    config.settings =
        SecuritySettings::from_pairs([("xpack.security.authc.api_key.cache.max_keys", "-1")])
            .unwrap();
    let err = Cluster::new(config).unwrap_err();
    assert_eq!(err.reason, "maximumWeight < 0");
}

/// R3.4: a request that joined a pending verification with a *different* secret than the one being
/// verified finds a failed result, drops that entry and starts over with its own verification.
#[test]
fn r3_4_joined_request_with_other_secret_starts_over() {
    let mut c = cluster(2);
    let k = create(&mut c, 0, "k");
    c.node_mut(1).unwrap().crypto_pool.mode = CryptoPoolMode::Held;
    let wrong = match auth_secret(&mut c, 1, &k.id, "wrong-secret-wrong-secret") {
        AuthenticationOutcome::Pending { request } => request,
        other => panic!("{other:?}"),
    };
    let right = match auth_key(&mut c, 1, &k) {
        AuthenticationOutcome::Pending { request } => request,
        other => panic!("{other:?}"),
    };
    let first = c.drain_crypto_pool(1);
    assert_eq!(svc(&c, 1).verifications, 1);
    let step =
        |done: &[(u64, AuthStep)], r: u64| done.iter().find(|(q, _)| *q == r).unwrap().1.clone();
    assert_eq!(
        step(&first, wrong),
        AuthStep::Done(AuthOutcome::Unsuccessful {
            message: format!("invalid credentials for API key [{}]", k.id)
        })
    );
    assert_eq!(step(&first, right), AuthStep::Pending { request: right });
    assert_eq!(svc(&c, 1).cached_result(&k.id), Some(&FutureState::Pending));
    let second = c.drain_crypto_pool(1);
    assert_eq!(svc(&c, 1).verifications, 2);
    assert!(
        matches!(step(&second, right), AuthStep::Done(AuthOutcome::Success(a)) if a.id == k.id)
    );
    assert_eq!(cached_success(&c, 1, &k.id), Some(true));
}

/// R3.4 (PR #111369) with a held pool whose threads and queue are full: the rejected verification's
/// entry is removed (conditionally, its own future only), and the request gets 429; the key that is
/// already pending is unaffected.
#[test]
fn r3_4_rejection_when_held_pool_is_full() {
    let mut c = cluster_with(
        2,
        &[
            ("xpack.security.crypto.thread_pool.size", "1"),
            ("xpack.security.crypto.thread_pool.queue_size", "0"),
        ],
    );
    let k1 = create(&mut c, 0, "k1");
    let k2 = create(&mut c, 0, "k2");
    c.node_mut(1).unwrap().crypto_pool.mode = CryptoPoolMode::Held;
    let r1 = match auth_key(&mut c, 1, &k1) {
        AuthenticationOutcome::Pending { request } => request,
        other => panic!("{other:?}"),
    };
    match auth_key(&mut c, 1, &k2) {
        AuthenticationOutcome::Failed(e) => {
            assert_eq!(e.kind, "es_rejected_execution_exception");
            assert_eq!(e.status, 429);
        }
        other => panic!("{other:?}"),
    }
    assert!(!svc(&c, 1).contains(CacheId::ApiKeyAuth, &k2.id));
    assert_eq!(
        svc(&c, 1).cached_result(&k1.id),
        Some(&FutureState::Pending)
    );
    let done = c.drain_crypto_pool(1);
    assert!(matches!(&done[..], [(r, AuthStep::Done(AuthOutcome::Success(_)))] if *r == r1));
    let r2 = match auth_key(&mut c, 1, &k2) {
        AuthenticationOutcome::Pending { request } => request,
        other => panic!("{other:?}"),
    };
    let done = c.drain_crypto_pool(1);
    assert!(matches!(&done[..], [(r, AuthStep::Done(AuthOutcome::Success(_)))] if *r == r2));
}

/// R5.9 / R1.1 with updates: `api_key_doc` is not registered either, so the update's clear fails on
/// every node, and the update still succeeds.
#[test]
fn r5_9_ttl_zero_update_still_succeeds() {
    let mut c = cluster_with(2, &[("xpack.security.authc.api_key.cache.ttl", "-1")]);
    let k = create(&mut c, 0, "k");
    let elastic = elastic(&mut c);
    let mut metadata = Map::new();
    metadata.insert("v".into(), json!(2));
    let mark = c.events.len();
    assert!(c
        .update_api_key(
            0,
            &elastic,
            &k.id,
            UpdateApiKeyRequest {
                metadata: Some(metadata),
                ..Default::default()
            }
        )
        .unwrap());
    assert_eq!(count_events(&c, mark, |e| e.1 == EventKind::ClearCache), 0);
    let resp = c.clear_security_cache(1, "api_key_doc", &[]);
    assert_eq!(resp.failures.len(), 2);
    assert_eq!(
        resp.failures[0].cause.reason,
        "No cache named [api_key_doc] is found"
    );
    assert_eq!(
        assert_accepted(&mut c, 1, &k).metadata_flattened.clone(),
        Some(json!({"v": 2}))
    );
}

/// R3.3: validation order on malformed documents (edited in the index), each read fresh on a node
/// that has no doc cached.
#[test]
fn r3_3_validation_order() {
    let mut c = cluster(4);
    let k = create(&mut c, 0, "k");
    // Wrong doc type (checked before the invalidated flag).
    {
        let d = c.security_index.api_keys_mut().get_mut(&k.id).unwrap();
        d.doc_type = "token".into();
        d.invalidated = None;
    }
    assert_rejected(
        &mut c,
        1,
        &k,
        &format!("document [{}] is [token] not an api key", k.id),
    );
    // Missing invalidated flag.
    c.security_index
        .api_keys_mut()
        .get_mut(&k.id)
        .unwrap()
        .doc_type = "api_key".into();
    assert_rejected(
        &mut c,
        2,
        &k,
        "api key document is missing invalidated field",
    );
    // Missing hash: an exception, wrapped by the authentication failure handler.
    {
        let d = c.security_index.api_keys_mut().get_mut(&k.id).unwrap();
        d.invalidated = Some(false);
        d.hash = None;
    }
    match auth_key(&mut c, 3, &k) {
        AuthenticationOutcome::Failed(e) => {
            assert_eq!(e.reason, "error attempting to authenticate request");
            assert_eq!(
                e.caused_by.as_ref().unwrap().reason,
                "api key hash is missing"
            );
        }
        other => panic!("{other:?}"),
    }
    // R3.5: a type mismatch terminates (401, the message as the reason), checked after the hash.
    let k2 = create(&mut c, 0, "k2");
    c.security_index
        .api_keys_mut()
        .get_mut(&k2.id)
        .unwrap()
        .key_type = escache::security::api_key::ApiKeyType::CrossCluster;
    match auth_key(&mut c, 1, &k2) {
        AuthenticationOutcome::Failed(e) => {
            assert_eq!(e.status, 401);
            assert_eq!(
                e.reason,
                format!(
                    "authentication expected API key type of [rest], but API key [{}] has type [cross_cluster]",
                    k2.id
                )
            );
        }
        other => panic!("{other:?}"),
    }
    // Invalidated is checked before the hash, and drops the pre-warmed auth entry on node 0.
    c.security_index
        .api_keys_mut()
        .get_mut(&k.id)
        .unwrap()
        .invalidated = Some(true);
    assert!(svc(&c, 0).contains(CacheId::ApiKeyAuth, &k.id));
    assert_rejected(
        &mut c,
        0,
        &k,
        &format!("api key [{}] has been invalidated", k.id),
    );
    assert!(!svc(&c, 0).contains(CacheId::ApiKeyAuth, &k.id));
}

// ---------------------------------------------------------------------------------------------
// Issue 8: request input that must never panic, malformed ApiKey headers, the crypto pool size
// ---------------------------------------------------------------------------------------------

const GENERIC_401: &str =
    "unable to authenticate with provided credentials and anonymous access is not allowed for this request";
const CHALLENGES: [&str; 3] = [
    "Basic realm=\"security\", charset=\"UTF-8\"",
    "Bearer realm=\"security\"",
    "ApiKey",
];

fn get_authenticate(c: &mut Cluster, authorization: &str) -> escache::rest::Response {
    escache::rest::handle(
        c,
        0,
        "GET",
        "/_security/_authenticate",
        vec![("Authorization".into(), authorization.into())],
        None,
    )
}

/// Issue 8, point 2: the exact report (`é` at bytes 4..6 of the Authorization header sliced the
/// header inside a char) and its neighbours answer Elasticsearch's 401, never a panic.
#[test]
fn issue8_d02_non_ascii_authorization_header_is_a_401() {
    let mut c = cluster(1);
    for header in [
        "abcdéx",
        "abcdé",
        "Basiéx",
        "ApiKeé x",
        "Beareré x",
        "é",
        "ééééééé",
    ] {
        let r = escache::rest::handle(
            &mut c,
            0,
            "GET",
            "/",
            vec![("Authorization".into(), header.into())],
            None,
        );
        assert_eq!(r.status, 401, "{header}");
        assert_eq!(
            r.body["error"]["reason"],
            json!("missing authentication credentials for REST request [/]"),
            "{header}"
        );
        assert_eq!(
            r.header_values("WWW-Authenticate").collect::<Vec<_>>(),
            CHALLENGES
        );
    }
    // Java's case-insensitive scheme match: `Baſic` (long s) is `Basic`.
    let r = get_authenticate(
        &mut c,
        &basic("elastic", "changeme").replacen("Basic", "Baſic", 1),
    );
    assert_eq!(r.status, 200);
    assert_eq!(r.body["username"], json!("elastic"));
}

/// Issue 8, point 12: a malformed `ApiKey` credential is not a 400: `AuthenticatorChain` records
/// `API key: <IllegalArgumentException message>` and ends with the generic 401, the message under
/// `additional_unsuccessful_credentials` and the three challenges.
#[test]
fn issue8_d12_malformed_api_key_header_is_a_401_with_the_message() {
    let mut c = cluster(1);
    let cases = [
        (
            format!("ApiKey {}", STANDARD.encode("nocolon")),
            "invalid ApiKey value",
        ),
        (
            format!("ApiKey {}", STANDARD.encode(":secret")),
            "invalid ApiKey value",
        ),
        ("ApiKey a-b".to_string(), "Illegal base64 character 2d"),
        ("apikey abcé".to_string(), "Illegal base64 character -3d"),
    ];
    for (header, message) in cases {
        let mark = c.events.len();
        let r = get_authenticate(&mut c, &header);
        assert_eq!(r.status, 401, "{header}");
        let error = &r.body["error"];
        assert_eq!(error["type"], json!("security_exception"));
        assert_eq!(error["reason"], json!(GENERIC_401));
        assert_eq!(
            error["additional_unsuccessful_credentials"],
            json!(format!("API key: {message}"))
        );
        assert_eq!(error["root_cause"][0]["reason"], json!(GENERIC_401));
        assert_eq!(error["header"]["WWW-Authenticate"], json!(CHALLENGES));
        assert_eq!(
            r.header_values("WWW-Authenticate").collect::<Vec<_>>(),
            CHALLENGES
        );
        // Recorded as an authentication failure with the message; no key is looked up.
        let failures: Vec<String> = events_since(&c, mark)
            .into_iter()
            .filter(|e| e.1 == EventKind::AuthFailure)
            .map(|e| e.4)
            .collect();
        assert_eq!(failures, [format!("API key: {message}")]);
        assert_eq!(svc(&c, 0).verifications, 0);
    }
    // With API keys disabled the header is ignored: no credentials at all.
    let mut off = cluster_with(1, &[("xpack.security.authc.api_key.enabled", "false")]);
    let r = get_authenticate(&mut off, "ApiKey a-b");
    assert_eq!(
        r.body["error"]["reason"],
        json!("missing authentication credentials for REST request [/_security/_authenticate]")
    );
}

/// Issue 8, point 14: the `security-crypto` pool has `(allocatedProcessors + 1) / 2` threads
/// (`Security.getExecutorBuilders`): odd processor counts round up.
#[test]
fn issue8_d14_crypto_pool_size_rounds_half_the_processors_up() {
    for (processors, threads) in [
        (1, 1),
        (2, 1),
        (3, 2),
        (4, 2),
        (5, 3),
        (7, 4),
        (8, 4),
        (33, 17),
    ] {
        let p = processors.to_string();
        let s = SecuritySettings::from_pairs([("node.processors", p.as_str())]).unwrap();
        assert_eq!(
            (s.crypto_pool.size, s.crypto_pool.queue_size),
            (threads, 1000),
            "{p}"
        );
        let c = cluster_with(1, &[("node.processors", p.as_str())]);
        assert_eq!(c.node(0).unwrap().crypto_pool.size, threads, "{p}");
    }
    // An explicit size still wins.
    let s = SecuritySettings::from_pairs([
        ("node.processors", "3"),
        ("xpack.security.crypto.thread_pool.size", "5"),
    ])
    .unwrap();
    assert_eq!(s.crypto_pool.size, 5);
}

mod issue8_d02_no_request_panics {
    //! Issue 8, point 2: any bytes in the Authorization header, other headers, the method, the path,
    //! the query string and the body give an HTTP answer (a panic fails the test) that never carries
    //! the cluster password in any encoding.
    use super::*;
    use proptest::prelude::*;

    /// Arbitrary bytes read as lossy UTF-8, plus strings built from non-ASCII chars.
    fn text() -> impl Strategy<Value = String> {
        prop_oneof![
            proptest::collection::vec(any::<u8>(), 0..40)
                .prop_map(|b| String::from_utf8_lossy(&b).into_owned()),
            "[é☃ıſ\u{212A}İ\u{a0}\u{0}\u{1F600}a-zA-Z0-9:=+/ %?&#;]{0,30}",
            any::<String>(),
        ]
    }

    fn authorization() -> impl Strategy<Value = Option<String>> {
        let scheme = prop_oneof![
            Just(""),
            Just("Basic "),
            Just("ApiKey "),
            Just("Bearer "),
            Just("basic"),
            Just("APIKEY "),
            Just("Baſic "),
            // Cut schemes, so that the next char straddles the scheme's end.
            Just("Basi"),
            Just("ApiKe"),
            Just("Beare"),
            Just("abcd"),
            Just("Basic"),
            Just("Bearer"),
        ];
        let credential = prop_oneof![
            text(),
            proptest::collection::vec(any::<u8>(), 0..48).prop_map(|b| STANDARD.encode(b)),
            text().prop_map(|t| STANDARD.encode(format!("elastic:{t}"))),
            Just(STANDARD.encode("elastic:changeme")),
        ];
        proptest::option::weighted(
            0.9,
            (scheme, credential).prop_map(|(s, c)| format!("{s}{c}")),
        )
    }

    fn target() -> impl Strategy<Value = String> {
        let path = prop_oneof![
            text().prop_map(|t| format!("/{t}")),
            text().prop_map(|t| format!("/_security/api_key/{t}/_clear_cache")),
            text().prop_map(|t| format!("/_security/service/elastic/{t}/credential/token/{t}")),
            text().prop_map(|t| format!("/_security/api_key?id={t}&name={t}")),
            Just("/_security/_authenticate".to_string()),
            Just("/_security/api_key".to_string()),
            text(),
        ];
        (path, proptest::option::of(text()))
            .prop_map(|(p, q)| q.map_or(p.clone(), |q| format!("{p}?{q}")))
    }

    fn method() -> impl Strategy<Value = String> {
        prop_oneof![
            Just("GET".to_string()),
            Just("POST".to_string()),
            Just("PUT".to_string()),
            Just("DELETE".to_string()),
            Just("HEAD".to_string()),
            Just("OPTIONS".to_string()),
            text(),
        ]
    }

    fn body() -> impl Strategy<Value = Option<Vec<u8>>> {
        proptest::option::of(prop_oneof![
            proptest::collection::vec(any::<u8>(), 0..64),
            text().prop_map(|t| format!("{{\"ids\":[\"{t}\"],\"name\":\"{t}\"}}").into_bytes()),
            text().prop_map(String::into_bytes),
        ])
    }

    proptest! {
        #![proptest_config(ProptestConfig { cases: 512, ..ProptestConfig::default() })]

        #[test]
        fn issue8_d02_arbitrary_requests_never_panic(
            method in method(),
            target in target(),
            authorization in authorization(),
            extra in proptest::collection::vec((text(), text()), 0..3),
            content_type in proptest::option::of(prop_oneof![Just("application/json".to_string()), text()]),
            body in body(),
        ) {
            let mut c = cluster(2);
            let mut headers: Vec<(String, String)> = extra;
            if let Some(a) = &authorization {
                headers.push(("Authorization".into(), a.clone()));
            }
            if let Some(t) = content_type {
                headers.push(("Content-Type".into(), t));
            }
            let r = escache::rest::handle(&mut c, 1, &method, &target, headers, body);
            prop_assert!((200..600).contains(&r.status), "{}", r.status);
            let wire = String::from_utf8_lossy(&r.body_bytes()).into_owned()
                + &r.headers.iter().map(|(k, v)| format!("{k}: {v}\n")).collect::<String>();
            for secret in ["changeme", "ZWxhc3RpYzpjaGFuZ2VtZQ"] {
                prop_assert!(!wire.contains(secret) || target.contains(secret));
            }
        }
    }
}

// ---------------------------------------------------------------------------------------------
// Issue 8 point 1: stored role descriptors are read back or deny, never dropped
// ---------------------------------------------------------------------------------------------

fn rest(
    c: &mut Cluster,
    method: &str,
    path: &str,
    authorization: &str,
    body: Option<String>,
) -> escache::rest::Response {
    let mut headers = vec![("Authorization".to_string(), authorization.to_string())];
    if body.is_some() {
        headers.push(("Content-Type".into(), "application/json".into()));
    }
    escache::rest::handle(c, 0, method, path, headers, body.map(String::into_bytes))
}

/// `depth` nested objects: `{"a":{"a":...{}}}`.
fn nested(depth: usize) -> String {
    format!(
        "{}{{}}{}",
        "{\"a\":".repeat(depth - 1),
        "}".repeat(depth - 1)
    )
}

/// A create-key body whose one role grants `monitor` only and carries metadata nested so that the
/// whole body is `depth` levels deep (root, `role_descriptors`, the role, metadata, then the rest).
fn restricted_key_body(depth: usize) -> String {
    format!(
        r#"{{"name":"restricted","role_descriptors":{{"r":{{"cluster":["monitor"],"metadata":{{"m":{}}}}}}}}}"#,
        nested(depth - 4)
    )
}

fn api_key_header(created: &Value) -> String {
    format!("ApiKey {}", created["encoded"].as_str().unwrap())
}

const SUPERUSER_BODY: &str = r#"{"password":"s3cr3t-pass","roles":["superuser"]}"#;

/// A key limited to `monitor` can read `/` and its own identity, and cannot create a superuser.
fn assert_only_monitor(c: &mut Cluster, key: &str, user: &str) {
    assert_eq!(rest(c, "GET", "/", key, None).status, 200);
    assert_eq!(
        rest(c, "GET", "/_security/_authenticate", key, None).status,
        200
    );
    let r = rest(
        c,
        "PUT",
        &format!("/_security/user/{user}"),
        key,
        Some(SUPERUSER_BODY.into()),
    );
    assert_eq!(r.status, 403, "{}", r.body);
    assert_eq!(r.body["error"]["type"], "security_exception");
    assert!(!c.security_index.users.contains_key(user));
}

#[test]
fn issue8_d01_deep_metadata_key_cannot_create_a_superuser() {
    let mut c = cluster(1);
    let admin = basic("elastic", "changeme");
    // 130 levels: past serde_json's recursion limit, which used to turn the stored descriptors into
    // the empty set ("inherit the owner", here superuser).
    let r = rest(
        &mut c,
        "POST",
        "/_security/api_key",
        &admin,
        Some(restricted_key_body(130)),
    );
    assert_eq!(r.status, 200, "{}", r.body);
    let key = api_key_header(&r.body);
    assert_only_monitor(&mut c, &key, "evil");
    // The same through an update of a harmless key (PUT /_security/api_key/{id}) made by the
    // key's owner.
    let r = rest(
        &mut c,
        "POST",
        "/_security/api_key",
        &admin,
        Some(r#"{"name":"later","role_descriptors":{"r":{"cluster":["monitor"]}}}"#.into()),
    );
    let id = r.body["id"].as_str().unwrap().to_string();
    let later = api_key_header(&r.body);
    let update = format!(
        r#"{{"role_descriptors":{{"r":{{"cluster":["monitor"],"metadata":{{"m":{}}}}}}}}}"#,
        nested(200)
    );
    let r = rest(
        &mut c,
        "PUT",
        &format!("/_security/api_key/{id}"),
        &admin,
        Some(update),
    );
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(r.body, json!({"updated": true}));
    assert_only_monitor(&mut c, &later, "evil2");
}

#[test]
fn issue8_d01_accepted_at_creation_authenticates_with_exactly_its_restrictions() {
    // Around serde_json's old limit and around Elasticsearch's (Jackson's) nesting limit of 1000.
    for depth in (120..=132).chain(995..=1002) {
        let mut c = cluster(1);
        let admin = basic("elastic", "changeme");
        let r = rest(
            &mut c,
            "POST",
            "/_security/api_key",
            &admin,
            Some(restricted_key_body(depth)),
        );
        if depth <= 1000 {
            assert_eq!(r.status, 200, "depth {depth}: {}", r.body);
            let key = api_key_header(&r.body);
            assert_only_monitor(&mut c, &key, "evil");
            // And the stored descriptors read back through the get API, metadata intact.
            let id = r.body["id"].as_str().unwrap();
            let r = rest(
                &mut c,
                "GET",
                &format!("/_security/api_key?id={id}"),
                &admin,
                None,
            );
            assert_eq!(r.status, 200, "depth {depth}");
            let mut m = &r.body["api_keys"][0]["role_descriptors"]["r"]["metadata"]["m"];
            for _ in 0..depth - 5 {
                m = &m["a"];
            }
            assert_eq!(*m, json!({}), "depth {depth}");
        } else {
            assert_eq!(r.status, 400, "depth {depth}: {}", r.body);
            assert_eq!(r.body["error"]["type"], "x_content_parse_exception");
            assert_eq!(
                r.body["error"]["caused_by"]["type"],
                "stream_constraints_exception"
            );
            assert!(r.body["error"]["reason"]
                .as_str()
                .unwrap()
                .contains("Document nesting depth (1001) exceeds the maximum allowed (1000"));
            assert!(c.security_index.api_keys().is_empty(), "depth {depth}");
        }
    }
}

#[test]
fn issue8_d01_corrupt_stored_descriptors_deny() {
    for (blob, kind, status) in [
        // The blob does not parse: ES's `UncheckedIOException` around the parser's error.
        (
            r#"{"r":{"cluster":["monitor"]"#,
            "unchecked_i_o_exception",
            500,
        ),
        // A descriptor that does not parse: `RoleDescriptor.parse`'s error.
        (r#"{"r":{"cluster":5}}"#, "parse_exception", 400),
    ] {
        let mut c = cluster(1);
        let auth = elastic(&mut c);
        let k = create_as(
            &mut c,
            0,
            &auth,
            "k",
            json!({"r": {"cluster": ["monitor"]}}),
        );
        let key = header(&k.id, k.api_key.expose());
        c.security_index
            .api_keys_mut()
            .get_mut(&k.id)
            .unwrap()
            .role_descriptors = Arc::from(blob);
        c.clear_security_cache(0, "api_key", &[]);
        for (method, path, body) in [
            ("GET", "/", None),
            ("GET", "/_security/_authenticate", None),
            (
                "PUT",
                "/_security/user/evil",
                Some(SUPERUSER_BODY.to_string()),
            ),
        ] {
            let r = rest(&mut c, method, path, &key, body);
            assert_eq!(r.status, status, "{blob} {method} {path}: {}", r.body);
            assert_eq!(r.body["error"]["type"], kind, "{blob}");
        }
        assert!(!c.security_index.users.contains_key("evil"));
        // The get API reads the same blob: it fails too, rather than showing `{}`.
        let admin = basic("elastic", "changeme");
        let r = rest(
            &mut c,
            "GET",
            &format!("/_security/api_key?id={}", k.id),
            &admin,
            None,
        );
        assert_eq!(r.status, status, "{blob}: {}", r.body);
    }
    // The limited-by blob is read the same way.
    let mut c = cluster(1);
    let auth = elastic(&mut c);
    let k = create_as(&mut c, 0, &auth, "k", json!({}));
    let key = header(&k.id, k.api_key.expose());
    c.security_index
        .api_keys_mut()
        .get_mut(&k.id)
        .unwrap()
        .limited_by_role_descriptors = Arc::from("not json");
    c.clear_security_cache(0, "api_key", &[]);
    let r = rest(
        &mut c,
        "PUT",
        "/_security/user/evil",
        &key,
        Some(SUPERUSER_BODY.into()),
    );
    assert_eq!(r.status, 500, "{}", r.body);
    assert_eq!(r.body["error"]["type"], "unchecked_i_o_exception");
    assert!(!r.body.to_string().contains(k.api_key.expose()));
    assert!(!c.security_index.users.contains_key("evil"));
}

#[test]
fn issue8_d01_blob_reader_fails_closed() {
    use escache::security::api_key::{parse_role_descriptors_blob, role_descriptors_blob};
    assert!(parse_role_descriptors_blob("{}").unwrap().is_empty());
    for bad in ["", "[]", "{", "{\"r\":}", "null"] {
        let e = parse_role_descriptors_blob(bad).unwrap_err();
        assert_eq!(e.kind, "unchecked_i_o_exception", "{bad}");
        assert_eq!(e.status, 500);
    }
    // What the writer accepts, the reader reads; one level more cannot be written.
    let deep = |d: usize| -> Map<String, Value> {
        let v: Value = serde_json::from_str::<Value>("{}").unwrap();
        let mut v = v;
        for _ in 0..d {
            v = json!({ "a": v });
        }
        match v {
            Value::Object(m) => m,
            _ => unreachable!(),
        }
    };
    // `deep(d)` is d + 1 levels deep; the document around it adds one.
    let blob = role_descriptors_blob(deep(997)).unwrap();
    assert_eq!(parse_role_descriptors_blob(&blob).unwrap(), deep(997));
    let e = role_descriptors_blob(deep(999)).unwrap_err();
    assert_eq!(e.kind, "stream_constraints_exception");
    assert_eq!(e.status, 500);
}

#[test]
fn issue8_d01_owner_role_that_does_not_parse_is_left_out_of_limited_by() {
    let mut c = cluster(1);
    let admin = basic("elastic", "changeme");
    let r = rest(
        &mut c,
        "PUT",
        "/_security/role/monitoring",
        &admin,
        Some(r#"{"cluster":["monitor","manage_own_api_key"]}"#.into()),
    );
    assert_eq!(r.status, 200, "{}", r.body);
    let r = rest(
        &mut c,
        "PUT",
        "/_security/user/ops",
        &admin,
        Some(r#"{"password":"s3cr3t-pass","roles":["monitoring","broken"]}"#.into()),
    );
    assert_eq!(r.status, 200, "{}", r.body);
    // A role document that no longer parses (ES logs it and resolves the user without it).
    c.security_index
        .roles
        .insert("broken".into(), json!({"cluster": 5}));
    let ops = basic("ops", "s3cr3t-pass");
    let r = rest(
        &mut c,
        "POST",
        "/_security/api_key",
        &ops,
        Some(r#"{"name":"k"}"#.into()),
    );
    assert_eq!(r.status, 200, "{}", r.body);
    let key = api_key_header(&r.body);
    // The key works with the owner's parsable roles only, and gains nothing.
    assert_only_monitor(&mut c, &key, "evil");
    let id = r.body["id"].as_str().unwrap().to_string();
    let r = rest(
        &mut c,
        "GET",
        &format!("/_security/api_key?id={id}&with_limited_by=true"),
        &admin,
        None,
    );
    assert_eq!(r.status, 200, "{}", r.body);
    let limited_by = &r.body["api_keys"][0]["limited_by"][0];
    assert!(limited_by.get("monitoring").is_some(), "{limited_by}");
    assert!(limited_by.get("broken").is_none(), "{limited_by}");
}

/// Found by the `rest_request` fuzz target: a HEAD request that fails routing (405, or 400 no
/// handler) got the JSON error body; Elasticsearch's HTTP layer never sends a body to a HEAD request.
#[test]
fn head_request_that_fails_routing_has_no_body() {
    let mut c = cluster(1);
    for target in [
        "/_security/role/r1/_nope",
        "/_no/such/route",
        "/_security/api_key/*/_clear_cache",
    ] {
        let r = escache::rest::handle(&mut c, 0, "HEAD", target, vec![], None);
        assert!(matches!(r.status, 400 | 405), "{target}: {}", r.status);
        assert!(r.body_bytes().is_empty(), "{target}");
    }
    let r = escache::rest::handle(&mut c, 0, "GET", "/_no/such/route", vec![], None);
    assert!(!r.body_bytes().is_empty());
}
