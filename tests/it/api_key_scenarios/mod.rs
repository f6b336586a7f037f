//! The API key cache scenarios of `docs/rules.md` (AK-S1 to AK-S20), run on a simulated
//! cluster, plus rule tests for R2.4, R3.5, R3.7, R4.1, R4.3, R5.9, node restarts, the event trace and
//! secret hygiene.
//!
//! Every expectation is written out by hand from the rules (and the Elasticsearch tests they cite), never
//! computed by the model itself.

mod auth_caches;
mod clear_and_invalidate;
mod events_and_secrets;
mod eviction_and_pool;
mod issue8;
mod rules;

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
fn api_key_auth(outcome: AuthenticationOutcome) -> ApiKeyAuthentication {
    match authenticated(outcome) {
        Authentication::ApiKey(a) => *a,
        other => panic!("expected an API key authentication, got {other:?}"),
    }
}

fn assert_accepted(c: &mut Cluster, node: NodeIndex, k: &CreatedApiKey) -> ApiKeyAuthentication {
    let a = api_key_auth(auth_key(c, node, k));
    assert_eq!(&*a.id, k.id);
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
        .count
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
