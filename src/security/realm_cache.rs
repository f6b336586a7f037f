//! `SEC/authc/support/CachingUsernamePasswordRealm.java`: the user cache in front of a username and
//! password realm (reserved, native, file), rules CA-RC1-RC4.
//!
//! The cache (`latestValidCredentialsCache`) maps a username to the user and the cache hasher's hash
//! of the password that last authenticated it (CA-RC1): expire-after-write `cache.ttl`, at most
//! `cache.max_users` entries, no cache when the TTL is ≤ 0. A lookup whose password matches the
//! cached hash is served from the cache (CA-RC2); anything else goes to the realm's own check (the
//! stored hash: bcrypt by default, the expensive part) and, on success with an enabled user, replaces
//! the entry (CA-RC3). `expire(username)` and `expireAll()` are what the clear-realm-cache action and the
//! user management APIs call (CA-RC4).
//!
//! Single-threaded model: the `authenticationStallCache` that lets one request per user through to
//! the realm is not observable here (a lookup completes inside the call), so it is not modelled.

use super::named_cache::NamedCache;
use super::store_settings::RealmCacheSettings;
use crate::cache::CacheStats;
use crate::error::EsError;
use crate::events::CacheId;
use crate::security::hashing::{Hasher, Secret};
use crate::security::{CacheSize, Ctx, RemovalCounts};
use rand::RngCore;
use serde_json::Value;

/// A user as a realm returns it.
#[derive(Debug, Clone, PartialEq)]
pub struct RealmUser {
    pub username: String,
    pub roles: Vec<String>,
    pub full_name: Option<String>,
    pub email: Option<String>,
    pub metadata: Value,
    pub enabled: bool,
}

/// `CachedResult`: the user and the cache hasher's hash of the password that authenticated it.
/// `Debug` leaves the hash out.
#[derive(Clone)]
pub(crate) struct CachedUser {
    user: RealmUser,
    hash: String,
}

impl std::fmt::Debug for CachedUser {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("CachedUser")
            .field("user", &self.user.username)
            .finish_non_exhaustive()
    }
}

/// One caching realm: its name and type, its cache and the cache hasher.
#[derive(Debug)]
pub struct CachingRealm {
    pub(crate) name: String,
    pub(crate) type_: &'static str,
    cache: NamedCache<CachedUser>,
    hasher: Hasher,
}

impl CachingRealm {
    /// CA-RC1: the cache exists when `cache.ttl` > 0.
    ///
    /// # Errors
    /// `maximumWeight < 0` for a negative `cache.max_users` (`CacheBuilder`).
    pub(crate) fn new(id: CacheId, settings: &RealmCacheSettings) -> Result<Self, EsError> {
        let cache = if settings.ttl.is_positive() {
            NamedCache::build(id, Some(settings.ttl), settings.max_users, true)?
        } else {
            NamedCache::disabled(id)
        };
        Ok(CachingRealm {
            name: settings.name.clone(),
            type_: settings.type_,
            cache,
            hasher: settings.hash_algo,
        })
    }

    /// CA-RC2/CA-RC3: `authenticateWithCache`. `do_authenticate` is the realm's own check (it records the
    /// stored-hash verification it runs); `None` is a failed authentication.
    pub(crate) fn authenticate<R: RngCore + ?Sized>(
        &mut self,
        username: &str,
        password: &Secret,
        ctx: &mut Ctx<'_>,
        rng: &mut R,
        do_authenticate: impl FnOnce(&mut Ctx<'_>) -> Option<RealmUser>,
    ) -> Option<RealmUser> {
        if !self.cache.enabled() {
            return do_authenticate(ctx);
        }
        if let Some(cached) = self.cache.get(username, ctx) {
            if self.hasher.verify(password.expose(), &cached.hash) {
                return Some(cached.user);
            }
        }
        let user = do_authenticate(ctx)?;
        if user.enabled {
            let hash = self.hasher.hash(password.expose(), rng);
            self.cache.put(
                username,
                CachedUser {
                    user: user.clone(),
                    hash,
                },
                ctx,
            );
        }
        Some(user)
    }

    /// The realm's cache (`native_realm_users`, ...).
    pub(crate) fn cache_id(&self) -> CacheId {
        self.cache.id()
    }

    /// CA-RC4: `expire(username)` for each name, or `expireAll()` when `usernames` is empty.
    pub(crate) fn expire(&mut self, usernames: &[String], ctx: &mut Ctx<'_>) {
        if usernames.is_empty() {
            self.cache.invalidate_all(ctx);
        } else {
            self.cache.invalidate(usernames, ctx);
        }
    }

    pub(crate) fn size(&self) -> Option<CacheSize> {
        self.cache.size()
    }
    pub(crate) fn keys(&self) -> Vec<String> {
        self.cache.keys()
    }
    pub(crate) fn contains(&self, key: &str) -> bool {
        self.cache.contains(key)
    }
    pub(crate) fn stats(&self) -> Option<CacheStats> {
        self.cache.stats()
    }
    pub(crate) fn removals(&self) -> Option<RemovalCounts> {
        self.cache.removals()
    }
}
