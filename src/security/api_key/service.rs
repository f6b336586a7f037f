//! One node's `ApiKeyService` (`SEC/authc/ApiKeyService.java`): its three caches and API key
//! authentication through them (AK-R2, AK-R3), the create pre-warm (R3.8) and the invalidators (R2.6).
//!
//! Authentication is a small state machine rather than callbacks: a request either finishes at once or
//! waits on a verification queued in the node's `security-crypto` pool; when the pool runs it,
//! [`ApiKeyService::complete_verification`] finishes the first request and every request that joined
//! the same pending cache entry (the shared `ListenableFuture` of R3.4).

use super::doc::{ApiKeyDoc, ApiKeyType, CachedApiKeyDoc, RdDigest};
use super::eviction_monitor::AuthCacheEvictionMonitor;
use crate::cache::{
    Cache, CacheBuilder, CacheStats, RemovalContext, RemovalListener, RemovalNotification,
    RemovalReason, UnitWeigher,
};
use crate::error::EsError;
use crate::events::{CacheId, EventKind};
use crate::security::crypto_pool::{CryptoPool, CryptoTask, CryptoTaskKind, Submitted};
use crate::security::hashing::{verify_hash, Hasher, Secret};
use crate::security::index::{Availability, SecurityIndex};
use crate::security::settings::ApiKeySettings;
use crate::security::{removal_event, CacheSize, Ctx, RemovalBuffer, RemovalCounts, TraceKey};
use crate::time::{epoch_millis, NANOS_PER_HOUR, NANOS_PER_MILLI};
use indexmap::IndexMap;
use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;
use std::sync::Arc;

/// `CachedApiKeyHashResult`: whether the verification succeeded, and the cache hasher's hash of the
/// secret that was presented (the wrong one, for a failure).
#[derive(Clone, PartialEq, Eq)]
pub struct CachedHashResult {
    pub success: bool,
    hash: Arc<str>,
}

impl std::fmt::Debug for CachedHashResult {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("CachedHashResult")
            .field("success", &self.success)
            .finish_non_exhaustive()
    }
}

/// The state of an auth-cache entry's future.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum FutureState {
    Pending,
    Done(CachedHashResult),
    Failed,
}

/// An auth-cache value: a future with an identity (`serial`), which is what the conditional
/// `invalidate(id, future)` compares.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AuthEntry {
    pub serial: u64,
    pub state: FutureState,
}

/// A presented `ApiKey` credential (R3.1).
#[derive(Debug, Clone)]
pub struct ApiKeyCredentials {
    pub id: String,
    pub secret: Secret,
    pub expected_type: ApiKeyType,
}

/// Who an API key authenticates as: the key's id and its document (name, type, creator, role
/// descriptors and metadata are read through `Deref`).
#[derive(Debug, Clone, PartialEq)]
pub struct ApiKeyAuthentication {
    pub id: String,
    pub doc: ApiKeyDoc,
}

impl std::ops::Deref for ApiKeyAuthentication {
    type Target = ApiKeyDoc;
    fn deref(&self) -> &ApiKeyDoc {
        &self.doc
    }
}

/// `AuthenticationResult` of the API key authenticator.
#[derive(Debug, Clone, PartialEq)]
pub enum AuthOutcome {
    Success(Box<ApiKeyAuthentication>),
    /// CONTINUE: ends as 401 unless another authenticator succeeds.
    Unsuccessful {
        message: String,
    },
    /// TERMINATE: 401, or 429 when `too_busy` (a rejection by the crypto pool or the GET).
    Terminate {
        message: String,
        too_busy: bool,
    },
    /// An exception (500-class) such as `api key hash is missing`.
    Exception(EsError),
}

impl AuthOutcome {
    fn unsuccessful(message: impl Into<String>) -> Self {
        AuthOutcome::Unsuccessful {
            message: message.into(),
        }
    }

    fn too_busy() -> Self {
        AuthOutcome::Terminate {
            message: "server is too busy to respond".into(),
            too_busy: true,
        }
    }

    pub fn message(&self) -> &str {
        match self {
            AuthOutcome::Success(_) => "",
            AuthOutcome::Unsuccessful { message } | AuthOutcome::Terminate { message, .. } => {
                message
            }
            AuthOutcome::Exception(e) => &e.reason,
        }
    }
}

/// Where an authentication stands.
#[derive(Debug, Clone, PartialEq)]
pub enum AuthStep {
    Done(AuthOutcome),
    /// Waiting for a verification in the crypto pool; `request` identifies the caller.
    Pending {
        request: u64,
    },
}

/// A request waiting on a pending verification, with what it needs to finish.
#[derive(Debug, Clone)]
struct Waiter {
    request: u64,
    credentials: ApiKeyCredentials,
    doc: ApiKeyDoc,
}

/// What a lookup of the auth cache saw, read in place.
#[derive(Debug, Clone, Copy)]
enum Seen {
    Pending,
    Failed,
    Done { success: bool, verifies: bool },
}

/// A verification queued in the crypto pool.
#[derive(Debug, Clone)]
struct PendingVerification {
    /// Whether an auth-cache entry carries this future (false when the auth cache is disabled).
    in_cache: bool,
    first: Waiter,
    joined: Vec<Waiter>,
}

/// The auth cache's listener: the R2.7 monitor, plus the removals for the trace.
#[derive(Debug)]
pub struct AuthCacheListener {
    pub monitor: AuthCacheEvictionMonitor,
    removed: Vec<(String, RemovalReason)>,
    warnings_logged: usize,
    /// Removals by reason: REPLACED, INVALIDATED, EVICTED.
    pub by_reason: RemovalCounts,
}

impl RemovalListener<String, AuthEntry> for AuthCacheListener {
    fn on_removal(&mut self, n: RemovalNotification<String, AuthEntry>, context: RemovalContext) {
        self.monitor.observe(n.reason, &n.key, context);
        self.by_reason.record(n.reason);
        self.removed.push((n.key, n.reason));
    }
}

type AuthCache = Cache<String, AuthEntry, UnitWeigher, AuthCacheListener>;

/// The doc cache and the role-descriptor bytes cache, with the invalidation counter of R2.4.
pub struct ApiKeyDocCache {
    pub docs: Cache<String, CachedApiKeyDoc, UnitWeigher, RemovalBuffer<String>>,
    pub role_descriptors: Cache<RdDigest, Arc<str>, UnitWeigher, RemovalBuffer<RdDigest>>,
    invalidation_count: u64,
}

impl ApiKeyDocCache {
    fn new(ttl_nanos: u64, max_keys: i32) -> Result<Self, EsError> {
        let build_err = |e: crate::cache::CacheBuildError| EsError::illegal_argument(e.to_string());
        let docs = CacheBuilder::new()
            .expire_after_write_nanos(ttl_nanos as i64)
            .maximum_weight(i64::from(max_keys))
            .removal_listener(RemovalBuffer::default())
            .build()
            .map_err(build_err)?;
        // R2.3: expire-after-access 1h (hard-coded), twice the weight.
        let role_descriptors = CacheBuilder::new()
            .expire_after_access_nanos(NANOS_PER_HOUR as i64)
            .maximum_weight(i64::from(max_keys) * 2)
            .removal_listener(RemovalBuffer::default())
            .build()
            .map_err(build_err)?;
        Ok(ApiKeyDocCache {
            docs,
            role_descriptors,
            invalidation_count: 0,
        })
    }

    pub fn invalidation_count(&self) -> u64 {
        self.invalidation_count
    }

    fn flush(&mut self, ctx: &mut Ctx<'_>) {
        self.docs.listener_mut().flush(ctx, CacheId::ApiKeyDoc);
        self.role_descriptors
            .listener_mut()
            .flush(ctx, CacheId::ApiKeyRoleDescriptors);
    }

    /// R2.5: the doc only if the doc entry and both byte entries are present (each `get` counts).
    fn get(&mut self, id: &str, ctx: &mut Ctx<'_>) -> Option<ApiKeyDoc> {
        let now = ctx.now;
        let existing = traced_get(&mut self.docs, id, ctx, CacheId::ApiKeyDoc);
        let doc = existing.and_then(|cached| {
            let rd = traced_get(
                &mut self.role_descriptors,
                &cached.role_descriptors_hash,
                ctx,
                CacheId::ApiKeyRoleDescriptors,
            );
            let lb = traced_get(
                &mut self.role_descriptors,
                &cached.limited_by_role_descriptors_hash,
                ctx,
                CacheId::ApiKeyRoleDescriptors,
            );
            match (rd, lb) {
                (Some(rd), Some(lb)) => Some(cached.to_doc(rd, lb)),
                _ => None,
            }
        });
        let _ = now;
        self.flush(ctx);
        doc
    }

    /// R2.4/R2.5: cache the doc only if no invalidation happened since `count` was read; then share
    /// the role-descriptor bytes through `computeIfAbsent`.
    fn put_if_no_invalidation_since(
        &mut self,
        id: &str,
        doc: &ApiKeyDoc,
        count: u64,
        ctx: &mut Ctx<'_>,
    ) -> bool {
        if count != self.invalidation_count {
            return false;
        }
        let cached = doc.to_cached();
        let (rd_hash, lb_hash) = (
            cached.role_descriptors_hash,
            cached.limited_by_role_descriptors_hash,
        );
        self.docs.put(id.to_string(), cached, ctx.now);
        ctx.record(EventKind::CachePut, CacheId::ApiKeyDoc, id, "");
        for (hash, bytes) in [
            (rd_hash, &doc.role_descriptors),
            (lb_hash, &doc.limited_by_role_descriptors),
        ] {
            let mut loaded = false;
            let _ = self.role_descriptors.compute_if_absent_borrowed(
                &hash,
                ctx.now,
                |h: &RdDigest| *h,
                |_| {
                    loaded = true;
                    Ok::<_, ()>(Some(bytes.clone()))
                },
                |_| (),
            );
            let kind = if loaded {
                EventKind::CacheMiss
            } else {
                EventKind::CacheHit
            };
            hash.with_str(|h| ctx.record(kind, CacheId::ApiKeyRoleDescriptors, h, ""));
            if loaded {
                hash.with_str(|h| {
                    ctx.record(EventKind::CachePut, CacheId::ApiKeyRoleDescriptors, h, "");
                });
            }
        }
        self.flush(ctx);
        true
    }

    /// `invalidate(ids)`: counter first, then each doc.
    fn invalidate(&mut self, ids: &[String], ctx: &mut Ctx<'_>) {
        self.invalidation_count += 1;
        for id in ids {
            self.docs.invalidate(id.as_str(), ctx.now);
        }
        self.flush(ctx);
    }

    /// `invalidateAll`: counter first, then the doc and role-descriptor caches.
    fn invalidate_all(&mut self, ctx: &mut Ctx<'_>) {
        self.invalidation_count += 1;
        self.docs.invalidate_all(ctx.now);
        self.role_descriptors.invalidate_all(ctx.now);
        self.flush(ctx);
    }
}

/// A `get` that writes its hit or miss to the trace.
fn traced_get<K, Q, V, L>(
    cache: &mut Cache<K, V, UnitWeigher, L>,
    key: &Q,
    ctx: &mut Ctx<'_>,
    id: CacheId,
) -> Option<V>
where
    K: std::hash::Hash + Eq,
    Q: ?Sized + std::hash::Hash + crate::cache::Equivalent<K> + TraceKey,
    V: Clone,
    L: RemovalListener<K, V>,
{
    let v = cache.get(key, ctx.now);
    if ctx.log.enabled() {
        let kind = if v.is_some() {
            EventKind::CacheHit
        } else {
            EventKind::CacheMiss
        };
        key.with_str(|k| ctx.record(kind, id, k, ""));
    }
    v
}

/// A node's API key service.
pub struct ApiKeyService {
    pub settings: ApiKeySettings,
    auth_cache: Option<AuthCache>,
    doc_cache: Option<ApiKeyDocCache>,
    cache_hasher: Hasher,
    next_serial: u64,
    pending: IndexMap<u64, PendingVerification, crate::cache::KeyHasher>,
    rng: ChaCha8Rng,
    /// Slow hash verifications run against stored hashes (AK-S4 counts them).
    pub verifications: u64,
}

impl std::fmt::Debug for ApiKeyService {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ApiKeyService")
            .field("auth_cache", &self.auth_cache)
            .field("pending", &self.pending.len())
            .finish_non_exhaustive()
    }
}

impl ApiKeyService {
    /// Builds the caches as the constructor does: none when `cache.ttl <= 0`; no doc cache when
    /// `doc_cache.ttl` is 0.
    pub fn new(settings: ApiKeySettings, seed: u64) -> Result<Self, EsError> {
        let build_err = |e: crate::cache::CacheBuildError| EsError::illegal_argument(e.to_string());
        let (auth_cache, doc_cache) = match settings.cache_ttl.positive_nanos() {
            Some(ttl) => {
                let monitor = AuthCacheEvictionMonitor::new(settings.max_keys.max(0) as u64);
                let auth = CacheBuilder::new()
                    .expire_after_access_nanos(ttl.min(i64::MAX as u64) as i64)
                    .maximum_weight(i64::from(settings.max_keys))
                    .removal_listener(AuthCacheListener {
                        monitor,
                        removed: Vec::new(),
                        warnings_logged: 0,
                        by_reason: RemovalCounts::default(),
                    })
                    .build()
                    .map_err(build_err)?;
                let doc = match settings.doc_cache_ttl.positive_nanos() {
                    Some(doc_ttl) => Some(ApiKeyDocCache::new(doc_ttl, settings.max_keys)?),
                    None => None,
                };
                (Some(auth), doc)
            }
            None => (None, None),
        };
        Ok(ApiKeyService {
            cache_hasher: settings.cache_hash_algo,
            settings,
            auth_cache,
            doc_cache,
            next_serial: 1,
            pending: IndexMap::default(),
            rng: ChaCha8Rng::seed_from_u64(seed),
            verifications: 0,
        })
    }

    pub fn auth_cache(&self) -> Option<&AuthCache> {
        self.auth_cache.as_ref()
    }

    pub fn doc_cache(&self) -> Option<&ApiKeyDocCache> {
        self.doc_cache.as_ref()
    }

    /// The eviction monitor of the auth cache (R2.7), when the cache is enabled.
    pub fn eviction_monitor(&self) -> Option<&AuthCacheEvictionMonitor> {
        self.auth_cache.as_ref().map(|c| &c.listener().monitor)
    }

    pub fn eviction_monitor_mut(&mut self) -> Option<&mut AuthCacheEvictionMonitor> {
        self.auth_cache
            .as_mut()
            .map(|c| &mut c.listener_mut().monitor)
    }

    /// `getFromCache`: the completed result of an auth entry, if any (no stats).
    pub fn cached_result(&self, id: &str) -> Option<&FutureState> {
        self.auth_cache.as_ref()?.peek(id).map(|e| &e.state)
    }

    /// Stats of one of the three caches.
    pub fn stats(&self, cache: CacheId) -> Option<CacheStats> {
        match cache {
            CacheId::ApiKeyAuth => self.auth_cache.as_ref().map(crate::cache::Cache::stats),
            CacheId::ApiKeyDoc => self.doc_cache.as_ref().map(|c| c.docs.stats()),
            CacheId::ApiKeyRoleDescriptors => {
                self.doc_cache.as_ref().map(|c| c.role_descriptors.stats())
            }
            _ => None,
        }
    }

    /// The hasher of the stored hash a queued verification will check (the simulator's cost model).
    pub fn pending_hasher(&self, serial: u64) -> Option<Hasher> {
        let p = self.pending.get(&serial)?;
        Hasher::resolve_from_hash(p.first.doc.hash.as_deref()?).ok()
    }

    /// Removals of one of the caches by reason; `None` when disabled.
    pub fn removals(&self, cache: CacheId) -> Option<RemovalCounts> {
        match cache {
            CacheId::ApiKeyAuth => self.auth_cache.as_ref().map(|c| c.listener().by_reason),
            CacheId::ApiKeyDoc => self.doc_cache.as_ref().map(|c| c.docs.listener().by_reason),
            CacheId::ApiKeyRoleDescriptors => self
                .doc_cache
                .as_ref()
                .map(|c| c.role_descriptors.listener().by_reason),
            _ => None,
        }
    }

    /// Requests waiting on verifications.
    pub fn pending_verifications(&self) -> usize {
        self.pending.len()
    }

    fn flush_auth(&mut self, ctx: &mut Ctx<'_>) {
        if let Some(c) = self.auth_cache.as_mut() {
            let l = c.listener_mut();
            for (key, reason) in l.removed.drain(..) {
                ctx.record(removal_event(reason), CacheId::ApiKeyAuth, &key, "");
            }
            while l.warnings_logged < l.monitor.warnings.len() {
                let (_, n) = l.monitor.warnings[l.warnings_logged];
                l.warnings_logged += 1;
                let text = super::EvictionLog::ThrashingWarning {
                    at: ctx.now,
                    evictions: n,
                }
                .message();
                ctx.record(EventKind::LogWarn, CacheId::ApiKeyAuth, "", &text);
            }
        }
    }

    fn auth_invalidate(&mut self, id: &str, ctx: &mut Ctx<'_>) {
        if let Some(c) = self.auth_cache.as_mut() {
            c.invalidate(id, ctx.now);
            self.flush_auth(ctx);
        }
    }

    /// `invalidate(id, future)`: only the entry carrying that future.
    fn auth_invalidate_future(&mut self, id: &str, serial: u64, ctx: &mut Ctx<'_>) {
        if let Some(c) = self.auth_cache.as_mut() {
            c.invalidate_if(id, ctx.now, |e| e.serial == serial);
            self.flush_auth(ctx);
        }
    }

    fn new_serial(&mut self) -> u64 {
        let s = self.next_serial;
        self.next_serial += 1;
        s
    }

    fn hash_result(&mut self, success: bool, secret: &Secret) -> CachedHashResult {
        CachedHashResult {
            success,
            hash: self
                .cache_hasher
                .hash(secret.expose(), &mut self.rng)
                .into(),
        }
    }

    fn result_verifies(&self, result: &CachedHashResult, secret: &Secret) -> bool {
        self.cache_hasher.verify(secret.expose(), &result.hash)
    }

    /// R3.8: after a key is indexed, the creating node caches a successful result for it (skipped
    /// when the cache is disabled, as PR #120483's guard does).
    pub fn on_created(&mut self, id: &str, secret: &Secret, ctx: &mut Ctx<'_>) {
        if self.auth_cache.is_none() {
            return;
        }
        let result = self.hash_result(true, secret);
        let serial = self.new_serial();
        if let Some(c) = self.auth_cache.as_mut() {
            c.put(
                id.to_string(),
                AuthEntry {
                    serial,
                    state: FutureState::Done(result),
                },
                ctx.now,
            );
            ctx.record(EventKind::CachePut, CacheId::ApiKeyAuth, id, "");
            self.flush_auth(ctx);
        }
    }

    /// `loadApiKeyAndValidateCredentials` (R3.2): the doc from the doc cache, else a GET of the
    /// index, then validation.
    pub fn authenticate(
        &mut self,
        credentials: ApiKeyCredentials,
        request: u64,
        index: &SecurityIndex,
        pool: &mut CryptoPool,
        ctx: &mut Ctx<'_>,
    ) -> AuthStep {
        self.authenticate_ref(&credentials, request, index, pool, ctx)
    }

    /// [`Self::authenticate`] without taking the credentials (they are copied only if the request
    /// has to wait).
    pub fn authenticate_ref(
        &mut self,
        credentials: &ApiKeyCredentials,
        request: u64,
        index: &SecurityIndex,
        pool: &mut CryptoPool,
        ctx: &mut Ctx<'_>,
    ) -> AuthStep {
        let id = credentials.id.as_str();
        let mut invalidation_count = None;
        if let Some(dc) = self.doc_cache.as_mut() {
            if let Some(doc) = dc.get(id, ctx) {
                return self.validate(credentials, doc, request, pool, ctx);
            }
            invalidation_count = Some(dc.invalidation_count());
        }
        if index.unavailable_reason(Availability::Get).is_some() {
            return AuthStep::Done(AuthOutcome::unsuccessful(format!(
                "apikey authentication for id {id} encountered a failure"
            )));
        }
        let Some(doc) = index.api_keys.get(id).cloned() else {
            self.auth_invalidate(id, ctx);
            return AuthStep::Done(AuthOutcome::unsuccessful(format!(
                "unable to find apikey with id {id}"
            )));
        };
        if let (Some(count), Some(dc)) = (invalidation_count, self.doc_cache.as_mut()) {
            dc.put_if_no_invalidation_since(id, &doc, count, ctx);
        }
        self.validate(credentials, doc, request, pool, ctx)
    }

    /// `validateApiKeyCredentials` (R3.3, R3.4).
    fn validate(
        &mut self,
        credentials: &ApiKeyCredentials,
        doc: ApiKeyDoc,
        request: u64,
        pool: &mut CryptoPool,
        ctx: &mut Ctx<'_>,
    ) -> AuthStep {
        let id = credentials.id.as_str();
        if doc.doc_type != "api_key" {
            return AuthStep::Done(AuthOutcome::unsuccessful(format!(
                "document [{id}] is [{}] not an api key",
                doc.doc_type
            )));
        }
        match doc.invalidated {
            None => {
                return AuthStep::Done(AuthOutcome::unsuccessful(
                    "api key document is missing invalidated field",
                ))
            }
            Some(true) => {
                self.auth_invalidate(id, ctx);
                return AuthStep::Done(AuthOutcome::unsuccessful(format!(
                    "api key [{id}] has been invalidated"
                )));
            }
            Some(false) => {}
        }
        if doc.hash.is_none() {
            return AuthStep::Done(AuthOutcome::Exception(EsError::illegal_state(
                "api key hash is missing",
            )));
        }
        if self.auth_cache.is_none() {
            let serial = self.new_serial();
            let first = Waiter {
                request,
                credentials: credentials.clone(),
                doc,
            };
            self.pending.insert(
                serial,
                PendingVerification {
                    in_cache: false,
                    first,
                    joined: Vec::new(),
                },
            );
            return self.submit(serial, request, pool, ctx);
        }
        // computeIfAbsent(id, new future): a hit returns the existing future. The cached result is
        // checked against the presented secret right where it lies (no copy).
        let serial = self.new_serial();
        let mut inserted = false;
        let cache_hasher = self.cache_hasher;
        let secret = credentials.secret.expose();
        let looked = self.auth_cache.as_mut().map(|c| {
            c.compute_if_absent_borrowed(
                id,
                ctx.now,
                str::to_string,
                |_| {
                    inserted = true;
                    Ok::<_, ()>(Some(AuthEntry {
                        serial,
                        state: FutureState::Pending,
                    }))
                },
                |e| {
                    let seen = match &e.state {
                        FutureState::Pending => Seen::Pending,
                        FutureState::Failed => Seen::Failed,
                        FutureState::Done(r) => Seen::Done {
                            success: r.success,
                            verifies: cache_hasher.verify(secret, &r.hash),
                        },
                    };
                    (e.serial, seen)
                },
            )
        });
        if ctx.log.enabled() {
            ctx.record(
                if inserted {
                    EventKind::CacheMiss
                } else {
                    EventKind::CacheHit
                },
                CacheId::ApiKeyAuth,
                id,
                "",
            );
            if inserted {
                ctx.record(EventKind::CachePut, CacheId::ApiKeyAuth, id, "");
            }
        }
        self.flush_auth(ctx);
        let (entry_serial, seen) = match looked {
            Some(Ok(x)) => x,
            // ok: the loader above always returns a value.
            _ => {
                return AuthStep::Done(AuthOutcome::Exception(EsError::illegal_state(
                    "auth cache load failed",
                )))
            }
        };
        if inserted {
            let first = Waiter {
                request,
                credentials: credentials.clone(),
                doc,
            };
            self.pending.insert(
                serial,
                PendingVerification {
                    in_cache: true,
                    first,
                    joined: Vec::new(),
                },
            );
            return self.submit(serial, request, pool, ctx);
        }
        match seen {
            Seen::Pending => match self.pending.get_mut(&entry_serial) {
                Some(p) => {
                    p.joined.push(Waiter {
                        request,
                        credentials: credentials.clone(),
                        doc,
                    });
                    AuthStep::Pending { request }
                }
                None => AuthStep::Done(AuthOutcome::too_busy()),
            },
            Seen::Failed => AuthStep::Done(AuthOutcome::too_busy()),
            Seen::Done { success, verifies } => self.on_existing_result(
                credentials,
                doc,
                request,
                success,
                verifies,
                entry_serial,
                pool,
                ctx,
            ),
        }
    }

    /// R3.4, an existing (completed) future: `success` of the cached result, and whether the
    /// presented secret `verifies` against its hash.
    #[allow(clippy::too_many_arguments)]
    fn on_existing_result(
        &mut self,
        credentials: &ApiKeyCredentials,
        doc: ApiKeyDoc,
        request: u64,
        success: bool,
        verifies: bool,
        serial: u64,
        pool: &mut CryptoPool,
        ctx: &mut Ctx<'_>,
    ) -> AuthStep {
        let id = credentials.id.as_str();
        if success {
            if verifies {
                AuthStep::Done(type_and_expiry(credentials, doc, ctx))
            } else {
                // A wrong secret against a good entry: the good entry is kept (AK-S2).
                AuthStep::Done(invalid_credentials(id))
            }
        } else if verifies {
            // The same wrong secret again: no re-hash.
            AuthStep::Done(invalid_credentials(id))
        } else {
            // A different secret against a cached failure: drop that entry and validate again (AK-S3).
            self.auth_invalidate_future(id, serial, ctx);
            self.validate(credentials, doc, request, pool, ctx)
        }
    }

    /// Offers the verification to the crypto pool. Run now, queued, or rejected (R3.4 failure path).
    fn submit(
        &mut self,
        serial: u64,
        request: u64,
        pool: &mut CryptoPool,
        ctx: &mut Ctx<'_>,
    ) -> AuthStep {
        match pool.submit(CryptoTask {
            ticket: serial,
            kind: CryptoTaskKind::ApiKeyVerification,
        }) {
            Submitted::RunNow => {
                let mut done = self.complete_verification(serial, pool, ctx);
                match done.iter().position(|(r, _)| *r == request) {
                    Some(i) => done.swap_remove(i).1,
                    None => AuthStep::Pending { request },
                }
            }
            Submitted::Queued => AuthStep::Pending { request },
            Submitted::Rejected => {
                let Some(p) = self.pending.shift_remove(&serial) else {
                    return AuthStep::Done(AuthOutcome::too_busy());
                };
                ctx.record(
                    EventKind::LogWarn,
                    CacheId::ApiKeyAuth,
                    &p.first.credentials.id,
                    "rejecting possibly valid API key authentication because the [security-crypto] threadpool is full",
                );
                if p.in_cache {
                    self.auth_invalidate_future(&p.first.credentials.id, serial, ctx);
                }
                AuthStep::Done(AuthOutcome::too_busy())
            }
        }
    }

    /// Runs a queued verification (the pool's task `serial`) and finishes every request waiting on
    /// it. Returns `(request, step)` pairs; a request may still be pending if it had to start over
    /// (a different wrong secret, R3.4).
    pub fn complete_verification(
        &mut self,
        serial: u64,
        pool: &mut CryptoPool,
        ctx: &mut Ctx<'_>,
    ) -> Vec<(u64, AuthStep)> {
        let Some(p) = self.pending.shift_remove(&serial) else {
            return Vec::new();
        };
        // A document without `api_key_hash` never verifies (ES's doc parser requires the field);
        // an empty stand-in would match an empty secret through the no-op hasher.
        let stored_hash = p.first.doc.hash.clone().unwrap_or_default();
        let verified = p.first.doc.hash.is_some()
            && verify_hash(p.first.credentials.secret.expose(), &stored_hash);
        self.verifications += 1;
        ctx.record(
            EventKind::HashVerification,
            CacheId::ApiKeyAuth,
            &p.first.credentials.id,
            Hasher::resolve_from_hash(&stored_hash)
                .map(|h| h.name())
                .as_deref()
                .unwrap_or("unknown"),
        );
        let first = if verified {
            type_and_expiry(&p.first.credentials, p.first.doc.clone(), ctx)
        } else {
            invalid_credentials(&p.first.credentials.id)
        };
        let mut out = Vec::with_capacity(1 + p.joined.len());
        if !p.in_cache {
            out.push((p.first.request, AuthStep::Done(first)));
            return out;
        }
        let result = self.hash_result(verified, &p.first.credentials.secret);
        if let Some(c) = self.auth_cache.as_mut() {
            if let Some(e) = c.peek_mut(p.first.credentials.id.as_str()) {
                if e.serial == serial {
                    e.state = FutureState::Done(result.clone());
                }
            }
        }
        out.push((p.first.request, AuthStep::Done(first)));
        for w in p.joined {
            let verifies = self.result_verifies(&result, &w.credentials.secret);
            let step = self.on_existing_result(
                &w.credentials,
                w.doc,
                w.request,
                result.success,
                verifies,
                serial,
                pool,
                ctx,
            );
            out.push((w.request, step));
        }
        out
    }

    /// The `api_key` invalidator (R2.6): by keys, the doc cache then each id from the auth cache.
    pub fn invalidate_api_key(&mut self, keys: &[String], ctx: &mut Ctx<'_>) {
        if let Some(dc) = self.doc_cache.as_mut() {
            dc.invalidate(keys, ctx);
        }
        for k in keys {
            self.auth_invalidate(k, ctx);
        }
    }

    /// The `api_key` invalidator, everything: doc, role-descriptor and auth caches.
    pub fn invalidate_all_api_key(&mut self, ctx: &mut Ctx<'_>) {
        if let Some(dc) = self.doc_cache.as_mut() {
            dc.invalidate_all(ctx);
        }
        if let Some(c) = self.auth_cache.as_mut() {
            c.invalidate_all(ctx.now);
            self.flush_auth(ctx);
        }
    }

    /// The `api_key_doc` invalidator by keys: the doc cache only.
    pub fn invalidate_api_key_doc(&mut self, keys: &[String], ctx: &mut Ctx<'_>) {
        if let Some(dc) = self.doc_cache.as_mut() {
            dc.invalidate(keys, ctx);
        }
    }

    /// The `api_key_doc` invalidator, everything: doc and role-descriptor caches.
    pub fn invalidate_all_api_key_doc(&mut self, ctx: &mut Ctx<'_>) {
        if let Some(dc) = self.doc_cache.as_mut() {
            dc.invalidate_all(ctx);
        }
    }

    /// Drops every pending verification (a stopped node loses its in-flight work).
    pub fn abandon_pending(&mut self) -> Vec<u64> {
        let mut requests = Vec::new();
        for (_, p) in self.pending.drain(..) {
            requests.push(p.first.request);
            requests.extend(p.joined.iter().map(|w| w.request));
        }
        requests
    }

    /// Keys of one of the caches, most recently used first.
    pub fn keys(&self, cache: CacheId) -> Vec<String> {
        match cache {
            CacheId::ApiKeyAuth => self
                .auth_cache
                .as_ref()
                .map(|c| c.keys().cloned().collect()),
            CacheId::ApiKeyDoc => self
                .doc_cache
                .as_ref()
                .map(|c| c.docs.keys().cloned().collect()),
            CacheId::ApiKeyRoleDescriptors => self
                .doc_cache
                .as_ref()
                .map(|c| c.role_descriptors.keys().map(RdDigest::hex).collect()),
            _ => None,
        }
        .unwrap_or_default()
    }

    /// The size of one of the caches; `None` when disabled.
    pub fn size(&self, cache: CacheId) -> Option<CacheSize> {
        match cache {
            CacheId::ApiKeyAuth => self.auth_cache.as_ref().map(CacheSize::of),
            CacheId::ApiKeyDoc => self.doc_cache.as_ref().map(|c| CacheSize::of(&c.docs)),
            CacheId::ApiKeyRoleDescriptors => self
                .doc_cache
                .as_ref()
                .map(|c| CacheSize::of(&c.role_descriptors)),
            _ => None,
        }
    }

    pub fn contains(&self, cache: CacheId, key: &str) -> bool {
        match cache {
            CacheId::ApiKeyAuth => self
                .auth_cache
                .as_ref()
                .is_some_and(|c| c.contains_key(key)),
            CacheId::ApiKeyDoc => self
                .doc_cache
                .as_ref()
                .is_some_and(|c| c.docs.contains_key(key)),
            CacheId::ApiKeyRoleDescriptors => self.doc_cache.as_ref().is_some_and(|c| {
                RdDigest::from_hex(key).is_some_and(|d| c.role_descriptors.contains_key(&d))
            }),
            _ => false,
        }
    }

    /// The shared role-descriptor bytes for a hash (S7 checks instance identity).
    pub fn role_descriptor_bytes(&self, hash: &str) -> Option<&Arc<str>> {
        self.doc_cache
            .as_ref()?
            .role_descriptors
            .peek(&RdDigest::from_hex(hash)?)
    }

    /// Test hook mirroring the Java tests' direct use of the doc cache's byte cache (test builds only).
    #[cfg(any(test, feature = "testing"))]
    pub fn invalidate_all_role_descriptors(&mut self, ctx: &mut Ctx<'_>) {
        if let Some(dc) = self.doc_cache.as_mut() {
            dc.role_descriptors.invalidate_all(ctx.now);
            dc.flush(ctx);
        }
    }
}

/// `invalid credentials for API key [<id>]` (R3.3, R3.4).
fn invalid_credentials(id: &str) -> AuthOutcome {
    AuthOutcome::unsuccessful(format!("invalid credentials for API key [{id}]"))
}

/// `validateApiKeyTypeAndExpiration` (R3.5): type first, then expiry against the clock of this
/// request, so a cached doc never extends a key's life.
fn type_and_expiry(credentials: &ApiKeyCredentials, doc: ApiKeyDoc, ctx: &Ctx<'_>) -> AuthOutcome {
    let id = &credentials.id;
    if doc.key_type != credentials.expected_type {
        return AuthOutcome::Terminate {
            message: format!(
                "authentication expected API key type of [{}], but API key [{id}] has type [{}]",
                credentials.expected_type.value(),
                doc.key_type.value()
            ),
            too_busy: false,
        };
    }
    // `Instant.ofEpochMilli(expiration).isAfter(now)`: compared at nanosecond precision.
    let now_nanos = i128::from(epoch_millis(0)) * i128::from(NANOS_PER_MILLI) + i128::from(ctx.now);
    let alive = doc.expiration_time == -1
        || i128::from(doc.expiration_time) * i128::from(NANOS_PER_MILLI) > now_nanos;
    if alive {
        AuthOutcome::Success(Box::new(ApiKeyAuthentication {
            id: id.clone(),
            doc,
        }))
    } else {
        AuthOutcome::unsuccessful("api key is expired")
    }
}
