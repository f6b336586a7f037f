//! `SEC/authz/store/CompositeRolesStore.java` and `RoleDescriptorStore.java`: the roles cache and the
//! negative lookup cache (rules CA-RL1-RL4).
//!
//! CA-RL1: `roles` maps a set of role names to the role built from them, at most
//! `xpack.security.authz.store.roles.cache.max_size` (10000) entries, no expiry;
//! `roles_negative_lookup` remembers role names that were not found, at most
//! `...roles.negative_lookup_cache.max_size` (10000). A negative size means unbounded.
//! CA-RL2: `buildRoleFromRoleReference`: the exact set `{superuser}` and the empty set are answered
//! without the cache; otherwise a hit is the cached role, and a miss resolves each name (skipping
//! those in the negative lookup cache; reserved roles first, then the `.security` index), builds the
//! role (asking the privilege store for the applications it names) and caches it together with the
//! missing names, unless the index could not be read.
//! CA-RL3: `invalidate(role)` removes every cached set containing the name and its negative lookup
//! entry; `invalidateAll` empties both.

use super::authz::{reserved_role_descriptor, RoleDescriptor};
use super::named_cache::NamedCache;
use super::store_settings::StoreSettings;
use crate::error::EsError;
use crate::events::CacheId;
use crate::security::Ctx;

/// A built role: the descriptors found for its names (missing names are left out).
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct CachedRole {
    pub(crate) descriptors: Vec<RoleDescriptor>,
}

/// The roles store's two caches.
#[derive(Debug)]
pub struct RolesCache {
    roles: NamedCache<CachedRole>,
    negative: NamedCache<bool>,
}

/// What the role source answers for one name: found, not found, or the index could not be read.
pub(crate) enum RoleLookup {
    Found(Box<RoleDescriptor>),
    NotFound,
    Unavailable,
}

/// The cache key of a set of role names: sorted, without duplicates, as a JSON array (role names
/// may contain commas, so a joined string could make two sets share a key).
fn role_key(names: &[String]) -> (Vec<String>, String) {
    let mut v = names.to_vec();
    v.sort_unstable();
    v.dedup();
    let key = serde_json::to_string(&v).unwrap_or_default();
    (v, key)
}

/// Whether the set a key encodes contains `name`; a key that does not decode counts as containing
/// it, so invalidation errs towards removing.
fn key_contains(key: &str, name: &str) -> bool {
    serde_json::from_str::<Vec<String>>(key).map_or(true, |v| v.iter().any(|n| n == name))
}

impl RolesCache {
    /// CA-RL1.
    ///
    /// # Errors
    /// Never in practice: negative sizes mean unbounded.
    pub(crate) fn new(settings: &StoreSettings) -> Result<Self, EsError> {
        Ok(RolesCache {
            roles: NamedCache::build(CacheId::Roles, None, settings.roles_cache_max_size, false)?,
            negative: NamedCache::build(
                CacheId::RolesNegativeLookup,
                None,
                settings.negative_lookup_max_size,
                false,
            )?,
        })
    }

    /// CA-RL2: the descriptors of the role built from `names`. `lookup` reads one role from the
    /// `.security` index; `on_build` runs once per role actually built (the privilege store load).
    pub(crate) fn resolve(
        &mut self,
        names: &[String],
        ctx: &mut Ctx<'_>,
        mut lookup: impl FnMut(&str) -> RoleLookup,
        on_build: impl FnOnce(&[RoleDescriptor], &mut Ctx<'_>),
    ) -> Vec<RoleDescriptor> {
        let (set, key) = role_key(names);
        let bypass = set.is_empty() || set == ["superuser"];
        if !bypass {
            if let Some(hit) = self.roles.get(&key, ctx) {
                return hit.descriptors;
            }
        }
        let mut descriptors = Vec::new();
        let mut missing = Vec::new();
        let mut success = true;
        for name in &set {
            if self.negative.get(name, ctx).is_some() {
                continue;
            }
            if let Some(d) = reserved_role_descriptor(name) {
                descriptors.push(d);
                continue;
            }
            match lookup(name) {
                RoleLookup::Found(d) => descriptors.push(*d),
                RoleLookup::NotFound => missing.push(name.clone()),
                RoleLookup::Unavailable => success = false,
            }
        }
        if bypass {
            return descriptors;
        }
        on_build(&descriptors, ctx);
        if success {
            self.roles.put(
                &key,
                CachedRole {
                    descriptors: descriptors.clone(),
                },
                ctx,
            );
            for m in &missing {
                self.negative.put(m, true, ctx);
            }
        }
        descriptors
    }

    /// CA-RL3: `invalidate(role)` for each name, or `invalidateAll` when `names` is empty.
    pub(crate) fn invalidate(&mut self, names: &[String], ctx: &mut Ctx<'_>) {
        if names.is_empty() {
            self.roles.invalidate_all(ctx);
            self.negative.invalidate_all(ctx);
            return;
        }
        for name in names {
            self.roles
                .invalidate_matching(ctx, |k| key_contains(k, name));
        }
        self.negative.invalidate(names, ctx);
    }

    pub(crate) fn cache(&self, id: CacheId) -> Option<CacheRef<'_>> {
        match id {
            CacheId::Roles => Some(CacheRef::Roles(&self.roles)),
            CacheId::RolesNegativeLookup => Some(CacheRef::Negative(&self.negative)),
            _ => None,
        }
    }
}

/// One of the two caches, for observers.
pub(crate) enum CacheRef<'a> {
    Roles(&'a NamedCache<CachedRole>),
    Negative(&'a NamedCache<bool>),
}
