//! `SEC/support/CacheInvalidatorRegistry.java`: the named caches a clear-cache request can target, their
//! aliases, and which of them a security-index state change clears (R2.6, R5.4, I1).
//!
//! The registry only names things; the node owns the caches and runs the invalidation the registry
//! resolves to.

use crate::error::{EsError, ExceptionType};
use indexmap::IndexMap;

/// A registered invalidator: what a name resolves to on a node.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Invalidator {
    /// `api_key`: doc cache then auth cache by key; all three caches on clear-all.
    ApiKey,
    /// `api_key_doc`: the doc cache (and the role-descriptor cache on clear-all).
    ApiKeyDoc,
    /// `application_privileges`: the native privilege store's two caches (CA-AP3); registered only
    /// when `xpack.security.authz.store.privileges.cache.ttl` > 0 (CA-AP1).
    ApplicationPrivileges,
    FileServiceAccountToken,
    IndexServiceAccountToken,
}

#[derive(Debug, Clone, PartialEq, Eq)]
struct Entry {
    invalidator: Invalidator,
    clear_on_security_index_change: bool,
}

/// One node's registry.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct CacheInvalidatorRegistry {
    entries: IndexMap<String, Entry>,
    aliases: IndexMap<String, Vec<String>>,
}

impl CacheInvalidatorRegistry {
    pub fn new() -> Self {
        Self::default()
    }

    /// `registerCacheInvalidator`; a second registration under a name is refused.
    pub fn register(
        &mut self,
        name: &str,
        invalidator: Invalidator,
        clear_on_security_index_change: bool,
    ) -> Result<(), EsError> {
        if self.entries.contains_key(name) {
            return Err(EsError::illegal_argument(format!(
                "Cache invalidator registry already has an entry with name: [{name}]"
            )));
        }
        self.entries.insert(
            name.to_string(),
            Entry {
                invalidator,
                clear_on_security_index_change,
            },
        );
        Ok(())
    }

    /// `registerAlias`.
    pub(crate) fn register_alias(
        &mut self,
        alias: Option<&str>,
        names: &[&str],
    ) -> Result<(), EsError> {
        let Some(alias) = alias else {
            return Err(EsError::new(
                ExceptionType::NullPointer,
                "cache alias cannot be null",
                500,
            ));
        };
        if names.is_empty() {
            return Err(EsError::illegal_argument(
                "cache names cannot be empty for aliasing",
            ));
        }
        if self.aliases.contains_key(alias) {
            return Err(EsError::illegal_argument(format!(
                "cache alias already exists: [{alias}]"
            )));
        }
        self.aliases.insert(
            alias.to_string(),
            names.iter().map(std::string::ToString::to_string).collect(),
        );
        Ok(())
    }

    /// `validate`: aliases may not shadow names, and must name registered caches.
    pub fn validate(&self) -> Result<(), EsError> {
        for (alias, names) in &self.aliases {
            if self.entries.contains_key(alias) {
                return Err(EsError::illegal_state(format!(
                    "cache alias cannot clash with cache name: [{alias}]"
                )));
            }
            let missing: Vec<&str> = names
                .iter()
                .filter(|n| !self.entries.contains_key(*n))
                .map(String::as_str)
                .collect();
            if !missing.is_empty() {
                return Err(EsError::illegal_state(format!(
                    "cache names not found: [{}]",
                    missing.join(", ")
                )));
            }
        }
        Ok(())
    }

    /// What a clear-cache request for `name` runs, aliases expanded; an unknown name is
    /// `No cache named [<n>] is found`.
    pub fn resolve(&self, name: &str) -> Result<Vec<Invalidator>, EsError> {
        let names: Vec<&str> = match self.aliases.get(name) {
            Some(names) => names.iter().map(String::as_str).collect(),
            None => vec![name],
        };
        names
            .into_iter()
            .map(|n| {
                self.entries.get(n).map(|e| e.invalidator).ok_or_else(|| {
                    EsError::illegal_argument(format!("No cache named [{n}] is found"))
                })
            })
            .collect()
    }

    /// The invalidators a security-index state change clears (`shouldClearOnSecurityIndexStateChange`).
    pub fn cleared_on_security_index_change(&self) -> Vec<Invalidator> {
        self.entries
            .values()
            .filter(|e| e.clear_on_security_index_change)
            .map(|e| e.invalidator)
            .collect()
    }

    /// The registry of a node as `Security.java` builds it: `api_key` and `api_key_doc` only when the
    /// API key cache is enabled (R1.1), the two token stores (the file one not cleared by the index,
    /// I1), `application_privileges`, and the alias `service` for both token caches.
    #[cfg(test)]
    pub(crate) fn for_node(api_key_cache_enabled: bool) -> Self {
        Self::build(api_key_cache_enabled, true, true)
    }

    /// [`Self::for_node`] as a node's settings and version profile decide: `application_privileges`
    /// only with a privileges cache (CA-AP1), `api_key_doc` only from 8.x (CA-VP3).
    pub(crate) fn for_settings(settings: &crate::security::settings::SecuritySettings) -> Self {
        Self::build(
            settings.api_key.cache_ttl.is_positive(),
            settings.stores.privileges_cache_ttl.is_positive(),
            settings.version.registers_api_key_doc_invalidator(),
        )
    }

    fn build(
        api_key_cache_enabled: bool,
        privileges_cache_enabled: bool,
        api_key_doc: bool,
    ) -> Self {
        let mut r = CacheInvalidatorRegistry::new();
        let mut reg = |name: &str, inv, clear| {
            // ok: the names below are distinct, so registration cannot fail.
            r.register(name, inv, clear).expect("distinct names");
        };
        if privileges_cache_enabled {
            reg(
                "application_privileges",
                Invalidator::ApplicationPrivileges,
                true,
            );
        }
        if api_key_cache_enabled {
            reg("api_key", Invalidator::ApiKey, true);
            if api_key_doc {
                reg("api_key_doc", Invalidator::ApiKeyDoc, true);
            }
        }
        reg(
            "file_service_account_token",
            Invalidator::FileServiceAccountToken,
            false,
        );
        reg(
            "index_service_account_token",
            Invalidator::IndexServiceAccountToken,
            true,
        );
        // ok: a fresh alias over names registered just above.
        r.register_alias(
            Some("service"),
            &["file_service_account_token", "index_service_account_token"],
        )
        .expect("fresh alias"); // ok: a fresh alias over names registered just above
        r
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn r5_4_registry_errors() {
        let mut r = CacheInvalidatorRegistry::new();
        r.register("a", Invalidator::ApiKey, true).unwrap();
        assert_eq!(
            r.register("a", Invalidator::ApiKeyDoc, true)
                .unwrap_err()
                .reason,
            "Cache invalidator registry already has an entry with name: [a]"
        );
        assert_eq!(
            r.register_alias(None, &["a"]).unwrap_err().reason,
            "cache alias cannot be null"
        );
        assert_eq!(
            r.register_alias(Some("x"), &[]).unwrap_err().reason,
            "cache names cannot be empty for aliasing"
        );
        r.register_alias(Some("x"), &["a"]).unwrap();
        assert_eq!(
            r.register_alias(Some("x"), &["a"]).unwrap_err().reason,
            "cache alias already exists: [x]"
        );
        r.register_alias(Some("a"), &["a"]).unwrap();
        assert_eq!(
            r.validate().unwrap_err().reason,
            "cache alias cannot clash with cache name: [a]"
        );
        let mut r2 = CacheInvalidatorRegistry::new();
        r2.register_alias(Some("y"), &["p", "q"]).unwrap();
        assert_eq!(
            r2.validate().unwrap_err().reason,
            "cache names not found: [p, q]"
        );
        assert_eq!(
            r.resolve("non-exist").unwrap_err().reason,
            "No cache named [non-exist] is found"
        );
    }

    #[test]
    fn node_registry_follows_security_java() {
        let r = CacheInvalidatorRegistry::for_node(true);
        assert!(r.validate().is_ok());
        assert_eq!(
            r.resolve("service").unwrap(),
            vec![
                Invalidator::FileServiceAccountToken,
                Invalidator::IndexServiceAccountToken
            ]
        );
        let on_change = r.cleared_on_security_index_change();
        assert!(on_change.contains(&Invalidator::ApiKey));
        assert!(on_change.contains(&Invalidator::IndexServiceAccountToken));
        assert!(!on_change.contains(&Invalidator::FileServiceAccountToken));
        // R1.1 / R5.9: with cache.ttl = 0 the api_key names are not registered.
        let off = CacheInvalidatorRegistry::for_node(false);
        assert_eq!(
            off.resolve("api_key").unwrap_err().reason,
            "No cache named [api_key] is found"
        );
    }
}
