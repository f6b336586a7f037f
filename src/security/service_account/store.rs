//! `CachingServiceAccountTokenStore` (C1-C4): the cache in front of a token store.
//!
//! One [`CachingTokenStore`] per store (the file store and the index store each own one, ST-S1). Its
//! cache maps the qualified token name to a result slot: pending while the store lookup runs, then
//! `{success, hash}` where `hash` is the cache hasher's hash of the secret presented (C2). The
//! plaintext secret is never stored.
//!
//! **Single-threaded model.** In Elasticsearch the slot is a `ListenableFuture` and other requests
//! for the same key may join it while the lookup runs. Here a lookup runs synchronously inside
//! [`CachingTokenStore::authenticate_with_cache`], so a pending slot never outlives the call that
//! created it and no other caller can observe it. The "hit on a failure entry" branch of C3 is kept
//! anyway (a failure entry is removed before the call returns, so it cannot be met in practice), and a
//! pending slot met by a hit is treated as if the cache were absent for that call.

use crate::cache::{Cache, CacheBuilder, CacheStats, UnitWeigher};
use crate::error::EsError;
use crate::events::{CacheId, EventKind};
use crate::security::hashing::Hasher;
use crate::security::settings::ServiceTokenSettings;
use crate::security::{CacheSize, Ctx, RemovalBuffer, RemovalCounts};
use rand::RngCore;

use super::token::ServiceAccountToken;

/// `CachedResult`: whether the store accepted the token, and the cache hasher's hash of the secret
/// that was presented. `Debug` leaves the hash out.
#[derive(Clone, PartialEq, Eq)]
pub struct CachedResult {
    pub success: bool,
    hash: String,
}

impl std::fmt::Debug for CachedResult {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("CachedResult")
            .field("success", &self.success)
            .finish_non_exhaustive()
    }
}

/// A cache value: the future's identity (`serial`, what the conditional `invalidate(key, future)`
/// compares) and its result, `None` while pending.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CachedTokenResult {
    pub(crate) serial: u64,
    pub result: Option<CachedResult>,
}

type TokenCache = Cache<String, CachedTokenResult, UnitWeigher, RemovalBuffer<String>>;

/// The cache of one token store, with its hasher and the trace id of its events.
pub struct CachingTokenStore {
    id: CacheId,
    cache: Option<TokenCache>,
    hasher: Hasher,
    next_serial: u64,
}

impl std::fmt::Debug for CachingTokenStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("CachingTokenStore")
            .field("id", &self.id)
            .field("cache", &self.cache)
            .field("hasher", &self.hasher)
            .finish()
    }
}

impl CachingTokenStore {
    /// The constructor (C1): expire-after-**write** = `cache.ttl`, maximum weight = `max_tokens`
    /// (each entry weighs 1); no cache when the TTL is ≤ 0. The hasher is `cache.hash_algo`.
    ///
    /// # Errors
    /// `maximumWeight < 0` (400 `illegal_argument_exception`) for a negative `max_tokens` when the
    /// cache is enabled.
    pub fn new(id: CacheId, settings: &ServiceTokenSettings) -> Result<Self, EsError> {
        let cache = match settings.cache_ttl.positive_nanos() {
            Some(ttl) => Some(
                CacheBuilder::new()
                    .expire_after_write_nanos(ttl.min(i64::MAX as u64) as i64)
                    .maximum_weight(i64::from(settings.max_tokens))
                    .removal_listener(RemovalBuffer::default())
                    .build()
                    .map_err(|e| EsError::illegal_argument(e.to_string()))?,
            ),
            None => None,
        };
        Ok(CachingTokenStore {
            id,
            cache,
            hasher: settings.cache_hash_algo,
            next_serial: 1,
        })
    }

    pub fn enabled(&self) -> bool {
        self.cache.is_some()
    }

    fn flush(&mut self, ctx: &mut Ctx<'_>) {
        let id = self.id;
        if let Some(c) = self.cache.as_mut() {
            c.listener_mut().flush(ctx, id);
        }
    }

    /// `invalidate(key, future)`: removes the entry only if it still carries that future.
    fn invalidate_serial(&mut self, key: &str, serial: u64, ctx: &mut Ctx<'_>) {
        if let Some(c) = self.cache.as_mut() {
            c.invalidate_if(key, ctx.now, |e| e.serial == serial);
        }
        self.flush(ctx);
    }

    /// `authenticate` through the cache (C3), with a lookup that does not write to the trace.
    ///
    /// `lookup` is the store's own check (ST-S3/ST-S4): `Ok(true)` success, `Ok(false)` failure, `Err` an
    /// exception.
    ///
    /// # Errors
    /// The lookup's exception (the entry it was loading is removed first; errors are not cached).
    pub fn authenticate_with_cache<R: RngCore + ?Sized>(
        &mut self,
        token: &ServiceAccountToken,
        ctx: &mut Ctx<'_>,
        rng: &mut R,
        lookup: impl FnOnce(&ServiceAccountToken) -> Result<bool, EsError>,
    ) -> Result<bool, EsError> {
        self.authenticate_traced(token, ctx, rng, |t, _| lookup(t))
    }

    /// As [`Self::authenticate_with_cache`], with a lookup that may write to the trace (the
    /// services record their hash verifications through it, in order with the cache events).
    ///
    /// * Cache disabled: the lookup, directly.
    /// * Miss (`computeIfAbsent` inserts a pending entry; trace: miss, put): run the lookup.
    ///   Success: the entry completes as `{true, hash(secret)}`. Failure: the entry is removed ("Do
    ///   not cache failed attempt") and the result is `false`. Exception: the entry is removed and
    ///   the error returned.
    /// * Hit on a success entry (trace: hit): the presented secret is checked against the cached
    ///   hash; a mismatch is `false` and the store is **not** asked.
    /// * Hit on a failure entry: the same wrong secret is `false`; a different secret removes that
    ///   entry (if it is still the same one) and the whole path is retried.
    ///
    /// # Errors
    /// The lookup's exception.
    pub(crate) fn authenticate_traced<R: RngCore + ?Sized>(
        &mut self,
        token: &ServiceAccountToken,
        ctx: &mut Ctx<'_>,
        rng: &mut R,
        lookup: impl FnOnce(&ServiceAccountToken, &mut Ctx<'_>) -> Result<bool, EsError>,
    ) -> Result<bool, EsError> {
        if self.cache.is_none() {
            return lookup(token, ctx);
        }
        let key = token.qualified_name();
        let mut lookup = Some(lookup);
        loop {
            let serial = self.next_serial;
            self.next_serial += 1;
            let mut inserted = false;
            let entry = match self.cache.as_mut() {
                Some(c) => c
                    .compute_if_absent_with(
                        key.clone(),
                        ctx.now,
                        |_| {
                            inserted = true;
                            Ok::<_, ()>(Some(CachedTokenResult {
                                serial,
                                result: None,
                            }))
                        },
                        CachedTokenResult::clone,
                    )
                    .ok(),
                None => None,
            };
            let kind = if inserted {
                EventKind::CacheMiss
            } else {
                EventKind::CacheHit
            };
            ctx.record(kind, self.id, &key, "");
            if inserted {
                ctx.record(EventKind::CachePut, self.id, &key, "");
            }
            self.flush(ctx);
            // ok: the loader above always gives a value; `lookup` is taken at most once because
            // every branch that takes it returns.
            let Some(entry) = entry else {
                let run = lookup.take().expect("lookup runs once"); // ok: the lookup closure is taken once per call path
                return run(token, ctx);
            };
            if inserted {
                let run = lookup.take().expect("lookup runs once"); // ok: the lookup closure is taken once per call path
                return self.complete_miss(&key, serial, token, ctx, rng, run);
            }
            match entry.result {
                None => {
                    // A pending slot cannot be met in the synchronous model (module docs).
                    let run = lookup.take().expect("lookup runs once"); // ok: the lookup closure is taken once per call path
                    return run(token, ctx);
                }
                Some(r) => {
                    let verifies = self.hasher.verify(token.secret.expose(), &r.hash);
                    if r.success {
                        return Ok(verifies);
                    }
                    if verifies {
                        // The same wrong secret again.
                        return Ok(false);
                    }
                    self.invalidate_serial(&key, entry.serial, ctx);
                }
            }
        }
    }

    fn complete_miss<R: RngCore + ?Sized>(
        &mut self,
        key: &str,
        serial: u64,
        token: &ServiceAccountToken,
        ctx: &mut Ctx<'_>,
        rng: &mut R,
        lookup: impl FnOnce(&ServiceAccountToken, &mut Ctx<'_>) -> Result<bool, EsError>,
    ) -> Result<bool, EsError> {
        match lookup(token, ctx) {
            Ok(success) => {
                if !success {
                    self.invalidate_serial(key, serial, ctx);
                }
                // `new CachedResult(hasher, success, token)`: hashed either way, so any caller that
                // joined the future can compare its secret.
                let result = CachedResult {
                    success,
                    hash: self.hasher.hash(token.secret.expose(), rng),
                };
                if success {
                    if let Some(e) = self.cache.as_mut().and_then(|c| c.peek_mut(key)) {
                        if e.serial == serial {
                            e.result = Some(result);
                        }
                    }
                }
                Ok(success)
            }
            Err(e) => {
                self.invalidate_serial(key, serial, ctx);
                Err(e)
            }
        }
    }

    /// `invalidate(Collection<String>)` (C4): each key on its own; a key ending in `/` is a prefix
    /// removing every cached key that starts with it; any other key is exact. Unknown keys are
    /// ignored; nothing happens when the cache is disabled.
    pub fn invalidate(&mut self, keys: &[String], ctx: &mut Ctx<'_>) {
        let Some(c) = self.cache.as_mut() else {
            return;
        };
        for k in keys {
            if k.ends_with('/') {
                c.invalidate_matching(ctx.now, |cached| cached.starts_with(k.as_str()));
            } else {
                c.invalidate(k.as_str(), ctx.now);
            }
        }
        self.flush(ctx);
    }

    /// `invalidateAll`: empties the cache (nothing when disabled).
    pub fn invalidate_all(&mut self, ctx: &mut Ctx<'_>) {
        if let Some(c) = self.cache.as_mut() {
            c.invalidate_all(ctx.now);
        }
        self.flush(ctx);
    }

    /// `None` when the cache is disabled.
    pub fn size(&self) -> Option<CacheSize> {
        self.cache.as_ref().map(CacheSize::of)
    }

    /// Keys, most recently used first (expired-but-unpruned entries included).
    pub fn keys(&self) -> Vec<String> {
        self.cache
            .as_ref()
            .map(|c| c.keys().cloned().collect())
            .unwrap_or_default()
    }

    pub fn contains(&self, key: &str) -> bool {
        self.cache.as_ref().is_some_and(|c| c.contains_key(key))
    }

    /// Removals by reason; `None` when disabled.
    pub(crate) fn removals(&self) -> Option<RemovalCounts> {
        self.cache.as_ref().map(|c| c.listener().by_reason)
    }

    /// Hits, misses, evictions; `None` when disabled.
    pub fn stats(&self) -> Option<CacheStats> {
        self.cache.as_ref().map(crate::cache::Cache::stats)
    }

    /// The cached result of a key, without touching stats or order.
    pub fn cached(&self, key: &str) -> Option<&CachedTokenResult> {
        self.cache.as_ref()?.peek(key)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::events::EventLog;
    use crate::security::hashing::Secret;
    use crate::security::service_account::token::ServiceAccountId;
    use crate::time::{TimeUnit, TimeValue};
    use rand::SeedableRng;
    use rand_chacha::ChaCha8Rng;
    use std::cell::Cell;

    fn settings() -> ServiceTokenSettings {
        ServiceTokenSettings {
            cache_ttl: TimeValue::new(20, TimeUnit::Minutes),
            max_tokens: 10,
            cache_hash_algo: Hasher::Ssha256,
            hashing_algorithm: Hasher::Ssha256,
        }
    }

    fn tok(secret: &str) -> ServiceAccountToken {
        ServiceAccountToken::new(
            ServiceAccountId::new("elastic", "fleet-server").unwrap(),
            "t",
            Secret::new(secret),
        )
        .unwrap()
    }

    /// Puts an entry as a joined caller would find it while another lookup runs.
    fn plant(s: &mut CachingTokenStore, result: Option<CachedResult>) {
        let serial = s.next_serial;
        s.next_serial += 1;
        if let Some(c) = s.cache.as_mut() {
            c.put(
                "elastic/fleet-server/t".to_string(),
                CachedTokenResult { serial, result },
                0,
            );
        }
    }

    #[test]
    fn c3_hit_on_a_failure_entry() {
        let mut s = CachingTokenStore::new(CacheId::FileServiceAccountToken, &settings()).unwrap();
        let mut rng = ChaCha8Rng::seed_from_u64(1);
        let mut log = EventLog::new(true);
        let mut ctx = Ctx {
            log: &mut log,
            node: 0,
            now: 0,
        };
        let wrong = CachedResult {
            success: false,
            hash: Hasher::Ssha256.hash("wrong-secret-1", &mut rng),
        };
        plant(&mut s, Some(wrong));
        let calls = Cell::new(0);
        let lookup = |t: &ServiceAccountToken| {
            calls.set(calls.get() + 1);
            Ok(t.secret.expose() == "right-secret-1")
        };
        // The same wrong secret: failure, no lookup, the entry stays.
        let r = s.authenticate_with_cache(&tok("wrong-secret-1"), &mut ctx, &mut rng, lookup);
        assert_eq!(r, Ok(false));
        assert_eq!(calls.get(), 0);
        assert!(s.contains("elastic/fleet-server/t"));
        // A different secret: that entry is dropped and the path retried as a miss.
        let r = s.authenticate_with_cache(&tok("right-secret-1"), &mut ctx, &mut rng, lookup);
        assert_eq!(r, Ok(true));
        assert_eq!(calls.get(), 1);
        let e = s.cached("elastic/fleet-server/t").unwrap();
        assert!(e.result.as_ref().unwrap().success);
        let st = s.stats().unwrap();
        assert_eq!((st.hits, st.misses, st.evictions), (2, 1, 1));
    }

    #[test]
    fn pending_entry_met_by_a_hit_runs_the_lookup_uncached() {
        let mut s = CachingTokenStore::new(CacheId::FileServiceAccountToken, &settings()).unwrap();
        let mut rng = ChaCha8Rng::seed_from_u64(2);
        let mut log = EventLog::new(true);
        let mut ctx = Ctx {
            log: &mut log,
            node: 0,
            now: 0,
        };
        plant(&mut s, None);
        let r = s.authenticate_with_cache(&tok("right-secret-1"), &mut ctx, &mut rng, |_| Ok(true));
        assert_eq!(r, Ok(true));
        assert!(s.cached("elastic/fleet-server/t").unwrap().result.is_none());
    }
}
