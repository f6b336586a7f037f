//! The settings of the realm, role and privilege caches, and the password hashing algorithm:
//! - `CORE/authc/support/CachingUsernamePasswordRealmSettings.java`: the realm affix settings
//!   `xpack.security.authc.realms.<type>.<name>.cache.ttl` (20m, expire-after-write; ≤ 0 disables),
//!   `.cache.max_users` (100000) and `.cache.hash_algo` (ssha256);
//! - `SEC/authz/store/CompositeRolesStore.java`: `xpack.security.authz.store.roles.cache.max_size` and
//!   `xpack.security.authz.store.roles.negative_lookup_cache.max_size` (10000 each; negative means
//!   unbounded);
//! - `SEC/authz/store/NativePrivilegeStore.java`: `xpack.security.authz.store.privileges.cache.ttl`
//!   (24h; 0 disables) and `.max_size` (10000);
//! - `CORE/XPackSettings.java`: `xpack.security.authc.password_hashing.algorithm` (bcrypt).
//!
//! Only the `native` and `file` realm types are modelled, one realm of each (Elasticsearch allows one
//! realm per internal type, `RealmSettings`); without settings they are `default_native` and
//! `default_file`.

use super::settings::{cache_hash_setting, int_setting, stored_hash_setting, time_setting};
use crate::error::EsError;
use crate::security::hashing::Hasher;
use crate::time::{TimeUnit, TimeValue};
use indexmap::IndexMap;

pub(crate) const ROLES_CACHE_MAX_SIZE: &str = "xpack.security.authz.store.roles.cache.max_size";
pub(crate) const ROLES_NEGATIVE_LOOKUP_MAX_SIZE: &str =
    "xpack.security.authz.store.roles.negative_lookup_cache.max_size";
pub(crate) const PRIVILEGES_CACHE_TTL: &str = "xpack.security.authz.store.privileges.cache.ttl";
pub(crate) const PRIVILEGES_CACHE_MAX_SIZE: &str =
    "xpack.security.authz.store.privileges.cache.max_size";
pub(crate) const PASSWORD_HASHING_ALGORITHM: &str =
    "xpack.security.authc.password_hashing.algorithm";

const FIXED: [&str; 5] = [
    ROLES_CACHE_MAX_SIZE,
    ROLES_NEGATIVE_LOOKUP_MAX_SIZE,
    PRIVILEGES_CACHE_TTL,
    PRIVILEGES_CACHE_MAX_SIZE,
    PASSWORD_HASHING_ALGORITHM,
];

const REALMS_PREFIX: &str = "xpack.security.authc.realms.";
const REALM_SUFFIXES: [&str; 4] = ["cache.ttl", "cache.max_users", "cache.hash_algo", "order"];
/// The realm types escache models.
const REALM_TYPES: [&str; 2] = ["file", "native"];

/// `(type, name, suffix)` of a realm affix setting escache models.
fn realm_setting(key: &str) -> Option<(&str, &str, &str)> {
    let rest = key.strip_prefix(REALMS_PREFIX)?;
    let (type_, rest) = rest.split_once('.')?;
    if !REALM_TYPES.contains(&type_) {
        return None;
    }
    let suffix = REALM_SUFFIXES.iter().find(|s| {
        rest.strip_suffix(**s)
            .and_then(|n| n.strip_suffix('.'))
            .is_some_and(|n| !n.is_empty() && !n.contains('.'))
    })?;
    let name = &rest[..rest.len() - suffix.len() - 1];
    Some((type_, name, suffix))
}

/// Whether `key` is one of the settings this file models.
pub(crate) fn is_known(key: &str) -> bool {
    FIXED.contains(&key) || realm_setting(key).is_some()
}

/// One caching realm's settings.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct RealmCacheSettings {
    pub(crate) type_: &'static str,
    pub(crate) name: String,
    /// Expire-after-write; ≤ 0 disables the cache.
    pub(crate) ttl: TimeValue,
    pub(crate) max_users: i32,
    pub(crate) hash_algo: Hasher,
}

/// The settings of the user, role and privilege caches.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct StoreSettings {
    pub(crate) reserved_realm: RealmCacheSettings,
    pub(crate) native_realm: RealmCacheSettings,
    pub(crate) file_realm: RealmCacheSettings,
    pub(crate) roles_cache_max_size: i32,
    pub(crate) negative_lookup_max_size: i32,
    pub(crate) privileges_cache_ttl: TimeValue,
    pub(crate) privileges_cache_max_size: i32,
    /// The hasher of stored user passwords (and of the `elastic` bootstrap password).
    pub(crate) password_hashing: Hasher,
}

fn realm(
    given: &IndexMap<String, String>,
    type_: &'static str,
    name: &str,
) -> Result<RealmCacheSettings, EsError> {
    let key = |suffix: &str| format!("{REALMS_PREFIX}{type_}.{name}.{suffix}");
    Ok(RealmCacheSettings {
        type_,
        name: name.to_string(),
        ttl: time_setting(
            given,
            &key("cache.ttl"),
            TimeValue::new(20, TimeUnit::Minutes),
        )?,
        max_users: int_setting(given, &key("cache.max_users"), 100_000, None)?,
        hash_algo: cache_hash_setting(given, &key("cache.hash_algo"))?,
    })
}

/// The one configured realm of `type_`, or `default_<type>`.
///
/// # Errors
/// Two realm names for one internal type: `multiple [<type>] realms are configured. [<type>] is an
/// internal realm and therefore there can only be one such realm configured` (`Realms`).
fn realm_of_type(
    given: &IndexMap<String, String>,
    type_: &'static str,
) -> Result<RealmCacheSettings, EsError> {
    let mut names: Vec<&str> = given
        .keys()
        .filter_map(|k| realm_setting(k))
        .filter(|(t, _, _)| *t == type_)
        .map(|(_, n, _)| n)
        .collect();
    names.dedup();
    names.sort_unstable();
    names.dedup();
    match names.as_slice() {
        [] => realm(given, type_, &format!("default_{type_}")),
        [one] => realm(given, type_, one),
        _ => Err(EsError::illegal_argument(format!(
            "multiple [{type_}] realms are configured. [{type_}] is an internal realm and therefore there can only be one such realm configured"
        ))),
    }
}

impl StoreSettings {
    pub(crate) fn parse(given: &IndexMap<String, String>) -> Result<Self, EsError> {
        Ok(StoreSettings {
            // `ReservedRealm` is a caching realm built with the default cache settings.
            reserved_realm: realm(&IndexMap::new(), "reserved", "reserved")?,
            native_realm: realm_of_type(given, "native")?,
            file_realm: realm_of_type(given, "file")?,
            roles_cache_max_size: int_setting(given, ROLES_CACHE_MAX_SIZE, 10_000, None)?,
            negative_lookup_max_size: int_setting(
                given,
                ROLES_NEGATIVE_LOOKUP_MAX_SIZE,
                10_000,
                None,
            )?,
            privileges_cache_ttl: time_setting(
                given,
                PRIVILEGES_CACHE_TTL,
                TimeValue::new(24, TimeUnit::Hours),
            )?,
            privileges_cache_max_size: int_setting(given, PRIVILEGES_CACHE_MAX_SIZE, 10_000, None)?,
            password_hashing: stored_hash_setting(
                given,
                PASSWORD_HASHING_ALGORITHM,
                "bcrypt",
                false,
            )?,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(pairs: &[(&str, &str)]) -> Result<StoreSettings, EsError> {
        let given = pairs
            .iter()
            .map(|(k, v)| ((*k).to_string(), (*v).to_string()))
            .collect();
        StoreSettings::parse(&given)
    }

    #[test]
    fn defaults_follow_elasticsearch() {
        let s = parse(&[]).unwrap();
        assert_eq!(s.native_realm.name, "default_native");
        assert_eq!(s.file_realm.name, "default_file");
        assert_eq!(s.native_realm.ttl.string_rep(), "20m");
        assert_eq!(s.native_realm.max_users, 100_000);
        assert_eq!(s.native_realm.hash_algo, Hasher::Ssha256);
        assert_eq!(s.roles_cache_max_size, 10_000);
        assert_eq!(s.negative_lookup_max_size, 10_000);
        assert_eq!(s.privileges_cache_ttl.string_rep(), "24h");
        assert_eq!(s.privileges_cache_max_size, 10_000);
        assert_eq!(s.password_hashing.name(), "bcrypt");
    }

    #[test]
    fn realm_affix_settings_name_the_realm() {
        let s = parse(&[
            ("xpack.security.authc.realms.native.native1.cache.ttl", "5m"),
            ("xpack.security.authc.realms.native.native1.order", "0"),
        ])
        .unwrap();
        assert_eq!(s.native_realm.name, "native1");
        assert_eq!(s.native_realm.ttl.string_rep(), "5m");
        assert!(is_known(
            "xpack.security.authc.realms.file.f.cache.max_users"
        ));
        assert!(!is_known("xpack.security.authc.realms.ldap.l.cache.ttl"));
        assert!(!is_known("xpack.security.authc.realms.native.cache.ttl"));
        let e = parse(&[
            ("xpack.security.authc.realms.native.a.cache.ttl", "5m"),
            ("xpack.security.authc.realms.native.b.cache.ttl", "5m"),
        ])
        .unwrap_err();
        assert_eq!(e.reason, "multiple [native] realms are configured. [native] is an internal realm and therefore there can only be one such realm configured");
    }
}
