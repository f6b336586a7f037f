//! The auth cache's entries and listener (`ApiKeyService`'s `apiKeyAuthCache` of
//! `ListenableFuture<CachedApiKeyHashResult>`, in `SEC/authc/ApiKeyService.java`).

use super::eviction_monitor::AuthCacheEvictionMonitor;
use crate::cache::{
    Cache, RemovalContext, RemovalListener, RemovalNotification, RemovalReason, UnitWeigher,
};
use crate::security::hashing::{Hasher, Secret};
use crate::security::RemovalCounts;
use rand::{RngCore, SeedableRng};
use rand_chacha::ChaCha8Rng;
use std::sync::{Arc, OnceLock};

/// `CachedApiKeyHashResult`: whether the verification succeeded, and the cache hasher's hash of the
/// secret that was presented (the wrong one, for a failure).
#[derive(Clone)]
pub struct CachedHashResult {
    pub success: bool,
    pub(super) hash: Arc<CachedHash>,
}

/// Two results are equal when they hold the same hash instance (each `Hasher.hash` draws its own
/// salt, so two hashes made apart are different strings).
impl PartialEq for CachedHashResult {
    fn eq(&self, other: &Self) -> bool {
        self.success == other.success && Arc::ptr_eq(&self.hash, &other.hash)
    }
}

impl Eq for CachedHashResult {}

impl std::fmt::Debug for CachedHashResult {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("CachedHashResult")
            .field("success", &self.success)
            .finish_non_exhaustive()
    }
}

/// The cache hasher's hash of a presented secret (`cacheHasher.hash(credentials.getKey())`), made
/// when first needed.
///
/// Elasticsearch hashes the secret when it caches a result, and checks each later request's secret
/// against that hash. Checking the very secret a hash was made from always succeeds (`Hasher.verify`
/// of `Hasher.hash(x)` with `x`, for every hasher), so a request presenting that same secret
/// instance is answered without the hash; the hash is made (with the salt drawn when the result was
/// cached, so it is the same string whenever it is made) only when another secret is checked
/// against it. The answers are those of the eager hash; only the work is saved (the simulator's
/// cost model charges the verifications the crypto pool runs, not this).
pub(crate) struct CachedHash {
    hasher: Hasher,
    /// Seeds the salt of the hash.
    salt_seed: u64,
    made_from: Secret,
    hash: OnceLock<Box<str>>,
}

impl CachedHash {
    /// The result of `hasher.hash(secret)`, the salt drawn from `rng` now.
    pub(super) fn new<R: RngCore + ?Sized>(hasher: Hasher, secret: &Secret, rng: &mut R) -> Self {
        CachedHash {
            hasher,
            salt_seed: rng.next_u64(),
            made_from: secret.clone(),
            hash: OnceLock::new(),
        }
    }

    /// The hash string (made on first use).
    fn hash(&self) -> &str {
        self.hash.get_or_init(|| {
            let mut salt = ChaCha8Rng::seed_from_u64(self.salt_seed);
            self.hasher
                .hash(self.made_from.expose(), &mut salt)
                .into_boxed_str()
        })
    }

    /// Whether `secret` is the instance this hash was made from by `hasher` (then it verifies,
    /// with no hashing).
    pub(super) fn made_from(&self, hasher: Hasher, secret: &Secret) -> bool {
        hasher == self.hasher && secret.same_instance(&self.made_from)
    }

    /// `hasher.verify(secret, hash)`, the real check (the hash made first if it was not yet).
    pub(super) fn verify(&self, hasher: Hasher, secret: &Secret) -> bool {
        hasher.verify(secret.expose(), self.hash())
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
    pub(crate) state: FutureState,
}

/// The auth cache's listener: the R2.7 monitor, plus the removals for the trace.
#[derive(Debug)]
pub struct AuthCacheListener {
    pub(crate) monitor: AuthCacheEvictionMonitor,
    pub(super) removed: Vec<(String, RemovalReason)>,
    pub(super) warnings_logged: usize,
    /// Removals by reason.
    pub(crate) by_reason: RemovalCounts,
}

impl RemovalListener<String, AuthEntry> for AuthCacheListener {
    fn on_removal(&mut self, n: RemovalNotification<String, AuthEntry>, context: RemovalContext) {
        self.monitor.observe(n.reason, &n.key, context);
        self.by_reason.record(n.reason);
        self.removed.push((n.key, n.reason));
    }
}

pub(super) type AuthCache = Cache<String, AuthEntry, UnitWeigher, AuthCacheListener>;

#[cfg(test)]
mod cached_hash_tests {
    use super::*;
    use rand::SeedableRng;

    fn rng() -> ChaCha8Rng {
        ChaCha8Rng::seed_from_u64(7)
    }

    /// The lazy hash answers as the eager one: its own secret instance at once, an equal secret in
    /// another instance and a wrong one by the real check, and the hash made is a real hash of the
    /// secret by that hasher, the same string every time it is made.
    #[test]
    fn answers_as_the_eager_hash() {
        for hasher in [Hasher::Ssha256, Hasher::Sha256, Hasher::Noop] {
            let secret = Secret::new("right-secret");
            let h = CachedHash::new(hasher, &secret, &mut rng());
            assert!(h.made_from(hasher, &secret));
            assert!(h.hash.get().is_none(), "no hash made for its own secret");
            assert!(!h.made_from(hasher, &Secret::new("right-secret")));
            assert!(h.verify(hasher, &Secret::new("right-secret")));
            assert!(!h.verify(hasher, &Secret::new("wrong-secret")));
            assert!(hasher.verify(secret.expose(), h.hash()));
            let again = CachedHash::new(hasher, &secret, &mut rng());
            assert_eq!(again.hash(), h.hash());
        }
    }
}
