//! One node's `ApiKeyService` (`SEC/authc/ApiKeyService.java`): its three caches and API key
//! authentication through them (AK-R2, AK-R3), the create pre-warm (R3.8) and the invalidators (R2.6).
//!
//! Authentication is a small state machine rather than callbacks: a request either finishes at once or
//! waits on a verification queued in the node's `security-crypto` pool; when the pool runs it,
//! [`ApiKeyService::complete_verification`] finishes the first request and every request that joined
//! the same pending cache entry (the shared `ListenableFuture` of R3.4).

use super::auth_cache::{AuthCache, AuthCacheListener, CachedHash};
use super::doc::ApiKeyDoc;
use super::eviction_monitor::AuthCacheEvictionMonitor;
use super::{
    ApiKeyAuthentication, ApiKeyCredentials, ApiKeyDocCache, ApiKeyDocFields, AuthEntry,
    AuthOutcome, AuthStep, CachedHashResult, FutureState,
};
use crate::cache::CacheBuilder;
use crate::error::EsError;
use crate::events::{CacheId, EventKind};
use crate::security::crypto_pool::{CryptoPool, CryptoTask, CryptoTaskKind, Submitted};
use crate::security::hashing::{verify_hash, Hasher, Secret, VerifyMemo};
use crate::security::index::{Availability, SecurityIndex};
use crate::security::settings::ApiKeySettings;
use crate::security::{removal_event, Ctx, RemovalCounts};
use crate::time::{epoch_millis, NANOS_PER_MILLI};
use indexmap::IndexMap;
use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;
use std::sync::Arc;

/// A request waiting on a pending verification, with what it needs to finish.
#[derive(Debug, Clone)]
pub(super) struct Waiter {
    pub(super) request: u64,
    credentials: ApiKeyCredentials,
    pub(super) doc: ApiKeyDoc,
}

/// What a lookup of the auth cache saw, read in place.
#[derive(Debug, Clone, Copy)]
enum Seen {
    Pending,
    Failed,
    Done { success: bool, verifies: bool },
}

/// What the index GET of a doc-cache miss read (at the fetch's start, CA-TM2).
#[derive(Debug, Clone)]
pub(crate) enum DocRead {
    Found(ApiKeyDoc),
    NotFound,
    /// The security index could not serve the GET.
    Failed,
}

/// A document fetch in flight: the invalidation count noted before the GET (`None` without a doc
/// cache) and what the GET read.
#[derive(Debug, Clone)]
pub(crate) struct DocFetch {
    pub(crate) invalidation_count: Option<u64>,
    pub(crate) read: DocRead,
}

/// Where an authentication stands after its doc-cache lookup.
#[derive(Debug, Clone)]
pub(crate) enum Begin {
    Step(AuthStep),
    /// A doc-cache miss: the document comes from the index.
    Fetch(DocFetch),
}

/// What became of a fetched document.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum FetchEnd {
    Cached,
    /// The invalidation count moved since the fetch started (AK-R2.4): not cached.
    NotCached,
    NoDocCache,
    NotFound,
    Failed,
}

impl FetchEnd {
    /// The trace's detail of the fetch's `index_get` completion event.
    pub(crate) fn detail(self) -> &'static str {
        match self {
            FetchEnd::Cached => "done: cached",
            FetchEnd::NotCached => "done: not cached, invalidated since the fetch started",
            FetchEnd::NoDocCache => "done",
            FetchEnd::NotFound => "done: not found",
            FetchEnd::Failed => "done: failed",
        }
    }
}

/// A verification queued in the crypto pool.
#[derive(Debug, Clone)]
pub(super) struct PendingVerification {
    /// Whether an auth-cache entry carries this future (false when the auth cache is disabled).
    in_cache: bool,
    pub(super) first: Waiter,
    pub(super) joined: Vec<Waiter>,
}

/// A node's API key service.
pub struct ApiKeyService {
    pub(super) auth_cache: Option<AuthCache>,
    pub(super) doc_cache: Option<ApiKeyDocCache>,
    cache_hasher: Hasher,
    next_serial: u64,
    pub(super) pending: IndexMap<u64, PendingVerification, crate::cache::KeyHasher>,
    rng: ChaCha8Rng,
    /// Slow hash verifications run against stored hashes (AK-S4 counts them).
    pub verifications: u64,
    /// Answers of the auth cache's check of a presented secret against a cached result's hash.
    cached_memo: VerifyMemo<CachedHash>,
    /// Answers of the verification against a document's stored hash (by document instance).
    stored_memo: VerifyMemo<ApiKeyDocFields>,
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
    pub(crate) fn new(settings: ApiKeySettings, seed: u64) -> Result<Self, EsError> {
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
            auth_cache,
            doc_cache,
            next_serial: 1,
            pending: IndexMap::default(),
            rng: ChaCha8Rng::seed_from_u64(seed),
            verifications: 0,
            cached_memo: VerifyMemo::default(),
            stored_memo: VerifyMemo::default(),
        })
    }

    pub(super) fn flush_auth(&mut self, ctx: &mut Ctx<'_>) {
        if let Some(c) = self.auth_cache.as_mut() {
            let l = c.listener_mut();
            // Called after every lookup: most find nothing buffered.
            if l.removed.is_empty() && l.warnings_logged >= l.monitor.warnings.len() {
                return;
            }
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

    pub(super) fn auth_invalidate(&mut self, id: &str, ctx: &mut Ctx<'_>) {
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
            hash: Arc::new(CachedHash::new(self.cache_hasher, secret, &mut self.rng)),
        }
    }

    fn result_verifies(&mut self, result: &CachedHashResult, secret: &Secret) -> bool {
        let hasher = self.cache_hasher;
        cached_verifies(&mut self.cached_memo, &result.hash, hasher, secret)
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
    pub(crate) fn authenticate(
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
    /// has to wait). The index read and the doc-cache put happen at the same instant.
    pub(crate) fn authenticate_ref(
        &mut self,
        credentials: &ApiKeyCredentials,
        request: u64,
        index: &SecurityIndex,
        pool: &mut CryptoPool,
        ctx: &mut Ctx<'_>,
    ) -> AuthStep {
        match self.begin_authentication(credentials, request, index, pool, ctx) {
            Begin::Step(step) => step,
            Begin::Fetch(fetch) => {
                self.finish_fetch(credentials, fetch, true, request, pool, ctx)
                    .0
            }
        }
    }

    /// The first half of `loadApiKeyAndValidateCredentials` (R3.2): a doc-cache hit validates at
    /// once; a miss notes the invalidation count (`apiKeyDocCache.getInvalidationCount()`, AK-R2.4)
    /// and reads the document from the index, to be delivered by [`Self::finish_fetch`] when the
    /// GET's response arrives (CA-TM2: the shard reads at the start, the response comes later).
    pub(crate) fn begin_authentication(
        &mut self,
        credentials: &ApiKeyCredentials,
        request: u64,
        index: &SecurityIndex,
        pool: &mut CryptoPool,
        ctx: &mut Ctx<'_>,
    ) -> Begin {
        let id: &str = &credentials.id;
        let mut invalidation_count = None;
        if let Some(dc) = self.doc_cache.as_mut() {
            if let Some(doc) = dc.get(id, ctx) {
                return Begin::Step(self.validate(credentials, doc, request, pool, ctx));
            }
            invalidation_count = Some(dc.invalidation_count());
        }
        let read = if index.unavailable_reason(Availability::Get).is_some() {
            DocRead::Failed
        } else {
            match index.api_keys.get(id) {
                Some(doc) => DocRead::Found(doc.clone()),
                None => DocRead::NotFound,
            }
        };
        Begin::Fetch(DocFetch {
            invalidation_count,
            read,
        })
    }

    /// The GET's response (R3.2): a failure or a missing document fails the authentication; a
    /// document is cached only if no invalidation happened since the fetch started
    /// (`putIfNoInvalidationSince` with the count noted at the start, AK-R2.4), then validated.
    /// `counter = false` is the what-if of a doc cache without the counter (CA-TM3): the put
    /// compares against the count at completion, so it always stores. Returns the step and what
    /// became of the document (for the trace).
    pub(crate) fn finish_fetch(
        &mut self,
        credentials: &ApiKeyCredentials,
        fetch: DocFetch,
        counter: bool,
        request: u64,
        pool: &mut CryptoPool,
        ctx: &mut Ctx<'_>,
    ) -> (AuthStep, FetchEnd) {
        let id: &str = &credentials.id;
        let doc = match fetch.read {
            DocRead::Failed => {
                return (
                    AuthStep::Done(AuthOutcome::unsuccessful(format!(
                        "apikey authentication for id {id} encountered a failure"
                    ))),
                    FetchEnd::Failed,
                )
            }
            DocRead::NotFound => {
                self.auth_invalidate(id, ctx);
                return (
                    AuthStep::Done(AuthOutcome::unsuccessful(format!(
                        "unable to find apikey with id {id}"
                    ))),
                    FetchEnd::NotFound,
                );
            }
            DocRead::Found(doc) => doc,
        };
        let mut end = FetchEnd::NoDocCache;
        if let (Some(count), Some(dc)) = (fetch.invalidation_count, self.doc_cache.as_mut()) {
            let since = if counter {
                count
            } else {
                dc.invalidation_count()
            };
            end = if dc.put_if_no_invalidation_since(id, &doc, since, ctx) {
                FetchEnd::Cached
            } else {
                FetchEnd::NotCached
            };
        }
        (self.validate(credentials, doc, request, pool, ctx), end)
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
        let id: &str = &credentials.id;
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
        let secret = &credentials.secret;
        let memo = &mut self.cached_memo;
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
                            verifies: cached_verifies(memo, &r.hash, cache_hasher, secret),
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
        // ok: the loader above always returns a value.
        let Some(Ok((entry_serial, seen))) = looked else {
            return AuthStep::Done(AuthOutcome::Exception(EsError::illegal_state(
                "auth cache load failed",
            )));
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
        let id: &str = &credentials.id;
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
    pub(crate) fn complete_verification(
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
        let secret = &p.first.credentials.secret;
        let doc = &p.first.doc;
        let verified = doc.hash.as_deref().is_some_and(|stored| {
            doc.stored_verified(secret).unwrap_or_else(|| {
                let verified = self.stored_memo.verify(doc.fields(), secret, || {
                    verify_hash(secret.expose(), stored)
                });
                doc.remember_stored(secret, verified);
                verified
            })
        });
        self.verifications += 1;
        if ctx.log.enabled() {
            let stored_hash = p.first.doc.hash.as_deref().unwrap_or_default();
            ctx.record(
                EventKind::HashVerification,
                CacheId::ApiKeyAuth,
                &p.first.credentials.id,
                Hasher::resolve_from_hash(stored_hash)
                    .map(|h| h.name())
                    .as_deref()
                    .unwrap_or("unknown"),
            );
        }
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
            if let Some(e) = c.peek_mut(&*p.first.credentials.id) {
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
}

/// Whether `secret` verifies against a cached result's hash: at once for the secret instance the
/// hash was made from, else memoised by (hash, secret) instance, else the real check.
fn cached_verifies(
    memo: &mut VerifyMemo<CachedHash>,
    hash: &Arc<CachedHash>,
    hasher: Hasher,
    secret: &Secret,
) -> bool {
    hash.made_from(hasher, secret) || memo.verify(hash, secret, || hash.verify(hasher, secret))
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
        AuthOutcome::Success(ApiKeyAuthentication {
            id: Arc::clone(id),
            doc,
        })
    } else {
        AuthOutcome::unsuccessful("api key is expired")
    }
}
