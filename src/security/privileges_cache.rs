//! `SEC/authz/store/NativePrivilegeStore.java`: the application privileges caches (rules CA-AP1-AP3).
//!
//! Two caches, both expire-after-write `xpack.security.authz.store.privileges.cache.ttl` (24h) with at
//! most `...privileges.cache.max_size` (10000) entries, and both absent when the TTL is 0 (CA-AP1): the
//! descriptors of each concrete application (`application_privileges`), and the concrete application
//! names a set of requested names expanded to (`application_names`; only cached when the expansion
//! differs from the request, so an application with no privileges caches an empty expansion: a
//! negative lookup). Role building asks for the privileges of the applications its descriptors name
//! (CA-AP2). The `application_privileges` invalidator clears named applications' descriptors and every
//! name expansion, or both caches entirely (CA-AP3).
//!
//! escache stores no application privilege documents (there is no put-privileges API), so a fetch
//! always finds none: the names cache fills, the descriptors cache stays empty.

use super::named_cache::NamedCache;
use super::store_settings::StoreSettings;
use crate::error::EsError;
use crate::events::CacheId;
use crate::security::Ctx;

/// The privilege store's caches.
#[derive(Debug)]
pub struct PrivilegeCaches {
    pub(crate) descriptors: NamedCache<Vec<String>>,
    pub(crate) names: NamedCache<Vec<String>>,
}

/// The names cache key: the requested names as a set (`*` when empty or containing `*`).
fn names_key(applications: &[String]) -> Vec<String> {
    if applications.is_empty() || applications.iter().any(|a| a == "*") {
        return vec!["*".to_string()];
    }
    let mut v = applications.to_vec();
    v.sort_unstable();
    v.dedup();
    v
}

impl PrivilegeCaches {
    /// CA-AP1.
    ///
    /// # Errors
    /// `maximumWeight < 0` for a negative `max_size` while the TTL is positive.
    pub(crate) fn new(settings: &StoreSettings) -> Result<Self, EsError> {
        let ttl = settings.privileges_cache_ttl;
        if !ttl.is_positive() {
            return Ok(PrivilegeCaches {
                descriptors: NamedCache::disabled(CacheId::ApplicationPrivileges),
                names: NamedCache::disabled(CacheId::ApplicationNames),
            });
        }
        let max = settings.privileges_cache_max_size;
        Ok(PrivilegeCaches {
            descriptors: NamedCache::build(CacheId::ApplicationPrivileges, Some(ttl), max, true)?,
            names: NamedCache::build(CacheId::ApplicationNames, Some(ttl), max, true)?,
        })
    }

    /// CA-AP2: `getPrivileges(applications, names)`. `fetch` reads the index: the privilege names of
    /// each application found (none in escache). Returns the privilege names.
    pub(crate) fn get_privileges(
        &mut self,
        applications: &[String],
        ctx: &mut Ctx<'_>,
        fetch: impl FnOnce(&[String]) -> Vec<(String, Vec<String>)>,
    ) -> Vec<String> {
        let key = names_key(applications);
        let joined = key.join(",");
        let concrete = self.names.get(&joined, ctx);
        if concrete.as_ref().is_some_and(Vec::is_empty) {
            return Vec::new();
        }
        let wanted = concrete.unwrap_or_else(|| key.clone());
        if let Some(found) = self.cached_descriptors(&wanted, ctx) {
            return found;
        }
        let fetched = fetch(&key);
        let fetched_names: Vec<String> = fetched.iter().map(|(a, _)| a.clone()).collect();
        if self.descriptors.enabled() {
            // `cacheFetchedDescriptors`: the expansion only when it differs from the request.
            let mut fetched_set = fetched_names.clone();
            fetched_set.sort_unstable();
            fetched_set.dedup();
            if fetched_set != key {
                self.names.put(&joined, fetched_names, ctx);
            }
            for (app, privileges) in &fetched {
                self.descriptors.put(app, privileges.clone(), ctx);
            }
        }
        fetched.into_iter().flat_map(|(_, p)| p).collect()
    }

    /// `cachedDescriptorsForApplicationNames`: all or nothing; a wildcard name is never cached.
    fn cached_descriptors(&mut self, apps: &[String], ctx: &mut Ctx<'_>) -> Option<Vec<String>> {
        if !self.descriptors.enabled() {
            return None;
        }
        let mut out = Vec::new();
        for app in apps {
            if app.ends_with('*') {
                return None;
            }
            out.extend(self.descriptors.get(app, ctx)?);
        }
        Some(out)
    }

    /// CA-AP3: the `application_privileges` invalidator.
    pub(crate) fn invalidate(&mut self, keys: Option<&[String]>, ctx: &mut Ctx<'_>) {
        if let Some(k) = keys {
            self.descriptors.invalidate(k, ctx);
        } else {
            self.descriptors.invalidate_all(ctx);
        }
        self.names.invalidate_all(ctx);
    }
}
