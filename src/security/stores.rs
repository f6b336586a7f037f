//! A node's user, role and privilege caches (beside the API key and service token caches), and the
//! security-index transitions that clear them:
//! - `NativeRealm.onSecurityIndexStateChange` clears the native realm's cache when the index moved
//!   from red (or none) to non-red, was deleted, or got a new UUID (CA-RC5; not when only the up-to-date
//!   flag flips);
//! - `CompositeRolesStore.onSecurityIndexStateChange` clears both role caches on the same changes and
//!   on an up-to-date flip (CA-RL4);
//! - the privilege store's caches are cleared through the invalidator registry (R4.1).

use super::index::{IndexHealth, IndexState};
use super::privileges_cache::PrivilegeCaches;
use super::realm_cache::CachingRealm;
use super::roles_cache::{CacheRef, RolesCache};
use super::store_settings::StoreSettings;
use super::{CacheSize, CacheViews, Ctx, RemovalCounts};
use crate::cache::CacheStats;
use crate::error::EsError;
use crate::events::CacheId;

/// The caches of the realms, the roles store and the privilege store on one node.
#[derive(Debug)]
pub struct SecurityStores {
    pub reserved_realm: CachingRealm,
    pub native_realm: CachingRealm,
    pub file_realm: CachingRealm,
    pub roles: RolesCache,
    pub privileges: PrivilegeCaches,
    /// Whether stored-password verifications are collected in `verified` (a simulation turns it on
    /// and charges each one's cost, CA-RC3).
    pub(crate) collect_verified: bool,
    /// The hashers of the stored-password verifications since the simulation last took them.
    pub(crate) verified: Vec<crate::security::hashing::Hasher>,
}

/// `isMoveFromRedToNonRed || isIndexDeleted || uuid changed` (`SecurityIndexManager`).
fn red_to_non_red_deleted_or_new_uuid(previous: &IndexState, current: &IndexState) -> bool {
    let (prev, cur) = (previous.health(), current.health());
    let red_to_non_red = matches!(prev, None | Some(IndexHealth::Red))
        && matches!(cur, Some(h) if h != IndexHealth::Red);
    let deleted = prev.is_some() && cur.is_none();
    red_to_non_red || deleted || previous.uuid != current.uuid
}

impl SecurityStores {
    /// # Errors
    /// A cache the settings cannot build (`maximumWeight < 0`).
    pub(crate) fn new(settings: &StoreSettings) -> Result<Self, EsError> {
        Ok(SecurityStores {
            reserved_realm: CachingRealm::new(
                CacheId::ReservedRealmUsers,
                &settings.reserved_realm,
            )?,
            native_realm: CachingRealm::new(CacheId::NativeRealmUsers, &settings.native_realm)?,
            file_realm: CachingRealm::new(CacheId::FileRealmUsers, &settings.file_realm)?,
            roles: RolesCache::new(settings)?,
            privileges: PrivilegeCaches::new(settings)?,
            collect_verified: false,
            verified: Vec::new(),
        })
    }

    /// The reserved realm and where its verifications are collected (`None` unless collecting).
    pub(crate) fn reserved_realm_and_sink(
        &mut self,
    ) -> (
        &mut CachingRealm,
        Option<&mut Vec<crate::security::hashing::Hasher>>,
    ) {
        let sink = self.collect_verified.then_some(&mut self.verified);
        (&mut self.reserved_realm, sink)
    }

    /// The native realm and where its verifications are collected (`None` unless collecting).
    pub(crate) fn native_realm_and_sink(
        &mut self,
    ) -> (
        &mut CachingRealm,
        Option<&mut Vec<crate::security::hashing::Hasher>>,
    ) {
        let sink = self.collect_verified.then_some(&mut self.verified);
        (&mut self.native_realm, sink)
    }

    /// The realms in `Realms` order (reserved first, then file, then native).
    pub(crate) fn realms_mut(&mut self) -> [&mut CachingRealm; 3] {
        [
            &mut self.reserved_realm,
            &mut self.file_realm,
            &mut self.native_realm,
        ]
    }

    /// A realm by name (`Realms.realm(name)`).
    pub(crate) fn realm_mut(&mut self, name: &str) -> Option<&mut CachingRealm> {
        self.realms_mut().into_iter().find(|r| r.name == name)
    }

    /// CA-RC5 and CA-RL4.
    pub(crate) fn on_security_index_change(
        &mut self,
        previous: &IndexState,
        current: &IndexState,
        ctx: &mut Ctx<'_>,
    ) {
        if red_to_non_red_deleted_or_new_uuid(previous, current) {
            self.native_realm.expire(&[], ctx);
        }
        if red_to_non_red_deleted_or_new_uuid(previous, current)
            || previous.is_up_to_date() != current.is_up_to_date()
        {
            self.roles.invalidate(&[], ctx);
        }
    }

    fn realm(&self, cache: CacheId) -> Option<&CachingRealm> {
        match cache {
            CacheId::ReservedRealmUsers => Some(&self.reserved_realm),
            CacheId::NativeRealmUsers => Some(&self.native_realm),
            CacheId::FileRealmUsers => Some(&self.file_realm),
            _ => None,
        }
    }

    fn privileges(&self, cache: CacheId) -> Option<&super::named_cache::NamedCache<Vec<String>>> {
        match cache {
            CacheId::ApplicationPrivileges => Some(&self.privileges.descriptors),
            CacheId::ApplicationNames => Some(&self.privileges.names),
            _ => None,
        }
    }
}

/// Reads one of the caches through whichever store owns it.
macro_rules! read {
    ($self:ident, $cache:ident, $op:ident $(, $arg:expr)*) => {
        if let Some(r) = $self.realm($cache) {
            r.$op($($arg),*)
        } else if let Some(p) = $self.privileges($cache) {
            p.$op($($arg),*)
        } else {
            match $self.roles.cache($cache) {
                Some(CacheRef::Roles(c)) => c.$op($($arg),*),
                Some(CacheRef::Negative(c)) => c.$op($($arg),*),
                None => Default::default(),
            }
        }
    };
}

impl CacheViews for SecurityStores {
    fn size(&self, cache: CacheId) -> Option<CacheSize> {
        read!(self, cache, size)
    }
    fn keys(&self, cache: CacheId) -> Vec<String> {
        read!(self, cache, keys)
    }
    fn contains(&self, cache: CacheId, key: &str) -> bool {
        read!(self, cache, contains, key)
    }
    fn stats(&self, cache: CacheId) -> Option<CacheStats> {
        read!(self, cache, stats)
    }
    fn removals(&self, cache: CacheId) -> Option<RemovalCounts> {
        read!(self, cache, removals)
    }
}
