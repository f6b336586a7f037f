//! The node settings escache models, with their names, defaults, bounds and Elasticsearch's errors.
//!
//! Sources: `SEC/authc/ApiKeyService.java` (the `xpack.security.authc.api_key.*` settings),
//! `SEC/authc/service/CachingServiceAccountTokenStore.java` (`xpack.security.authc.service_token.cache.*`),
//! `XPackSettings.java` (hashing algorithms), `server/.../common/settings/Setting.java` and
//! `AbstractScopedSettings.java` (parse and unknown-setting errors). All are node-scope and static:
//! they are fixed when a cluster is built.

use crate::error::EsError;
use crate::security::hashing::{available_algo_stored_hash, Hasher};
use crate::time::{TimeUnit, TimeValue};
use indexmap::IndexMap;

pub(crate) const API_KEY_ENABLED: &str = "xpack.security.authc.api_key.enabled";
pub(crate) const API_KEY_CACHE_TTL: &str = "xpack.security.authc.api_key.cache.ttl";
pub(crate) const API_KEY_CACHE_MAX_KEYS: &str = "xpack.security.authc.api_key.cache.max_keys";
/// [`API_KEY_CACHE_TTL`]'s default (`ApiKeyService.CACHE_TTL_SETTING`).
pub(crate) const API_KEY_CACHE_TTL_DEFAULT: TimeValue = TimeValue {
    duration: 24,
    unit: TimeUnit::Hours,
};
/// [`API_KEY_CACHE_MAX_KEYS`]'s default (`ApiKeyService.CACHE_MAX_KEYS_SETTING`).
pub(crate) const API_KEY_CACHE_MAX_KEYS_DEFAULT: i32 = 25_000;
pub(crate) const API_KEY_CACHE_HASH_ALGO: &str = "xpack.security.authc.api_key.cache.hash_algo";
pub(crate) const API_KEY_DOC_CACHE_TTL: &str = "xpack.security.authc.api_key.doc_cache.ttl";
pub(crate) const API_KEY_HASHING_ALGORITHM: &str = "xpack.security.authc.api_key.hashing.algorithm";
pub(crate) const SERVICE_TOKEN_CACHE_TTL: &str = "xpack.security.authc.service_token.cache.ttl";
pub(crate) const SERVICE_TOKEN_CACHE_MAX_TOKENS: &str =
    "xpack.security.authc.service_token.cache.max_tokens";
pub(crate) const SERVICE_TOKEN_CACHE_HASH_ALGO: &str =
    "xpack.security.authc.service_token.cache.hash_algo";
pub(crate) const SERVICE_TOKEN_HASHING_ALGORITHM: &str =
    "xpack.security.authc.service_token_hashing.algorithm";
pub(crate) const CRYPTO_POOL_SIZE: &str = "xpack.security.crypto.thread_pool.size";
pub(crate) const CRYPTO_POOL_QUEUE_SIZE: &str = "xpack.security.crypto.thread_pool.queue_size";
pub(crate) const NODE_PROCESSORS: &str = "node.processors";

/// Every setting name escache knows. Anything else is refused, as Elasticsearch refuses an unknown
/// setting at startup.
pub(crate) const KNOWN_SETTINGS: [&str; 13] = [
    API_KEY_ENABLED,
    API_KEY_CACHE_TTL,
    API_KEY_CACHE_MAX_KEYS,
    API_KEY_CACHE_HASH_ALGO,
    API_KEY_DOC_CACHE_TTL,
    API_KEY_HASHING_ALGORITHM,
    SERVICE_TOKEN_CACHE_TTL,
    SERVICE_TOKEN_CACHE_MAX_TOKENS,
    SERVICE_TOKEN_CACHE_HASH_ALGO,
    SERVICE_TOKEN_HASHING_ALGORITHM,
    CRYPTO_POOL_SIZE,
    CRYPTO_POOL_QUEUE_SIZE,
    NODE_PROCESSORS,
];

/// The API key service's settings (AK-R1).
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct ApiKeySettings {
    pub(crate) enabled: bool,
    /// ≤ 0 disables all three caches.
    pub(crate) cache_ttl: TimeValue,
    /// Max weight of the auth and doc caches; the role-descriptor cache gets twice this.
    pub(crate) max_keys: i32,
    /// The hasher of the in-memory auth cache.
    pub(crate) cache_hash_algo: Hasher,
    /// In [0m, 15m]; 0 disables the doc and role-descriptor caches.
    pub(crate) doc_cache_ttl: TimeValue,
    /// The hasher of the stored `api_key_hash`.
    pub(crate) hashing_algorithm: Hasher,
}

/// The service token caches' settings (C1) and the token hashing algorithm.
#[derive(Debug, Clone, PartialEq)]
pub struct ServiceTokenSettings {
    /// Expire-after-write; ≤ 0 means no cache.
    pub cache_ttl: TimeValue,
    pub max_tokens: i32,
    pub cache_hash_algo: Hasher,
    pub hashing_algorithm: Hasher,
}

/// The `security-crypto` thread pool: `(processors + 1) / 2` threads, queue 1000
/// (`Security.getExecutorBuilders`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CryptoPoolSettings {
    pub(crate) processors: u32,
    pub size: u32,
    pub queue_size: u32,
}

/// All settings of a node, parsed and validated.
#[derive(Debug, Clone, PartialEq)]
pub struct SecuritySettings {
    pub(crate) api_key: ApiKeySettings,
    pub(crate) service_token: ServiceTokenSettings,
    pub crypto_pool: CryptoPoolSettings,
    /// The realm, role and privilege caches and the password hasher.
    pub(crate) stores: super::store_settings::StoreSettings,
    /// The Elasticsearch version whose defaults and behaviours apply.
    pub(crate) version: super::version::EsVersion,
    /// The settings as given (names and raw values), in order.
    pub(crate) given: IndexMap<String, String>,
}

impl Default for SecuritySettings {
    fn default() -> Self {
        // ok: the defaults are valid by construction (covered by a test).
        Self::from_pairs(std::iter::empty::<(String, String)>()).expect("defaults are valid")
    }
}

fn get<'a>(given: &'a IndexMap<String, String>, key: &str) -> Option<&'a str> {
    given.get(key).map(String::as_str)
}

pub(crate) fn time_setting(
    given: &IndexMap<String, String>,
    key: &str,
    default: TimeValue,
) -> Result<TimeValue, EsError> {
    match get(given, key) {
        None => Ok(default),
        Some(v) => TimeValue::parse(v, key).map_err(|e| EsError::illegal_argument(e.to_string())),
    }
}

/// `Setting.timeSetting(key, default, min, max)`: bounds in the declared unit.
fn bounded_time_setting(
    given: &IndexMap<String, String>,
    key: &str,
    default: TimeValue,
    min: TimeValue,
    max: TimeValue,
) -> Result<TimeValue, EsError> {
    let v = time_setting(given, key, default)?;
    let raw = get(given, key).unwrap_or("");
    if v.nanos() < min.nanos() {
        return Err(EsError::illegal_argument(format!(
            "failed to parse value [{raw}] for setting [{key}], must be >= [{min}]"
        )));
    }
    if v.nanos() > max.nanos() {
        return Err(EsError::illegal_argument(format!(
            "failed to parse value [{raw}] for setting [{key}], must be <= [{max}]"
        )));
    }
    Ok(v)
}

/// `Setting.intSetting`: a Java `int`.
pub(crate) fn int_setting(
    given: &IndexMap<String, String>,
    key: &str,
    default: i32,
    min: Option<i32>,
) -> Result<i32, EsError> {
    let Some(raw) = get(given, key) else {
        return Ok(default);
    };
    let digits = raw.strip_prefix(['+', '-']).unwrap_or(raw);
    let parsed = if !digits.is_empty() && digits.bytes().all(|b| b.is_ascii_digit()) {
        raw.parse::<i32>().ok()
    } else {
        None
    };
    let v = parsed.ok_or_else(|| {
        EsError::illegal_argument(format!("Failed to parse value [{raw}] for setting [{key}]"))
    })?;
    if let Some(min) = min {
        if v < min {
            return Err(EsError::illegal_argument(format!(
                "Failed to parse value [{raw}] for setting [{key}] must be >= {min}"
            )));
        }
    }
    Ok(v)
}

/// `Booleans.parseBoolean`: exactly `true` or `false`.
pub(crate) fn bool_setting(
    given: &IndexMap<String, String>,
    key: &str,
    default: bool,
) -> Result<bool, EsError> {
    match get(given, key) {
        None => Ok(default),
        Some("true") => Ok(true),
        Some("false") => Ok(false),
        Some(other) => Err(EsError::illegal_argument(format!(
            "Failed to parse value [{other}] as only [true] or [false] are allowed."
        ))),
    }
}

/// A hash algorithm setting validated as `XPackSettings` validates password hashing settings: only the
/// bcrypt and PBKDF2 families (and `ssha256` where `allow_ssha256`).
pub(crate) fn stored_hash_setting(
    given: &IndexMap<String, String>,
    key: &str,
    default: &str,
    allow_ssha256: bool,
) -> Result<Hasher, EsError> {
    let raw = get(given, key).unwrap_or(default);
    let lower = raw.to_lowercase();
    let family_ok = lower.starts_with("pbkdf2")
        || lower.starts_with("bcrypt")
        || (allow_ssha256 && lower == "ssha256");
    let resolved = if family_ok {
        Hasher::resolve(raw).ok()
    } else {
        None
    };
    resolved.ok_or_else(|| {
        let mut valid: Vec<&str> = available_algo_stored_hash();
        if allow_ssha256 {
            valid.push("ssha256");
        }
        EsError::illegal_argument(format!(
            "Invalid algorithm: {raw}. Valid values for password hashing are [{}]",
            valid.join(", ")
        ))
    })
}

/// A cache hasher setting (`simpleString`): resolved when the node starts.
pub(crate) fn cache_hash_setting(
    given: &IndexMap<String, String>,
    key: &str,
) -> Result<Hasher, EsError> {
    let raw = get(given, key).unwrap_or("ssha256");
    Hasher::resolve(raw).map_err(|e| EsError::illegal_argument(e.to_string()))
}

impl SecuritySettings {
    /// Parses settings given as (name, value) pairs. An unknown name or a bad value is Elasticsearch's
    /// `IllegalArgumentException`, with its text.
    pub fn from_pairs<K, V>(pairs: impl IntoIterator<Item = (K, V)>) -> Result<Self, EsError>
    where
        K: Into<String>,
        V: Into<String>,
    {
        Self::from_pairs_for(super::version::EsVersion::default(), pairs)
    }

    /// [`Self::from_pairs`] with the defaults of an Elasticsearch version's profile.
    pub fn from_pairs_for<K, V>(
        version: super::version::EsVersion,
        pairs: impl IntoIterator<Item = (K, V)>,
    ) -> Result<Self, EsError>
    where
        K: Into<String>,
        V: Into<String>,
    {
        let mut given = IndexMap::new();
        for (k, v) in pairs {
            let k = k.into();
            if !KNOWN_SETTINGS.contains(&k.as_str()) && !super::store_settings::is_known(&k) {
                return Err(unknown_setting(&k));
            }
            given.insert(k, v.into());
        }
        let api_key = ApiKeySettings {
            enabled: bool_setting(&given, API_KEY_ENABLED, true)?,
            cache_ttl: time_setting(&given, API_KEY_CACHE_TTL, API_KEY_CACHE_TTL_DEFAULT)?,
            max_keys: int_setting(
                &given,
                API_KEY_CACHE_MAX_KEYS,
                version.api_key_cache_max_keys_default(),
                None,
            )?,
            cache_hash_algo: cache_hash_setting(&given, API_KEY_CACHE_HASH_ALGO)?,
            doc_cache_ttl: bounded_time_setting(
                &given,
                API_KEY_DOC_CACHE_TTL,
                TimeValue::new(5, TimeUnit::Minutes),
                TimeValue::new(0, TimeUnit::Minutes),
                TimeValue::new(15, TimeUnit::Minutes),
            )?,
            // The newest Elasticsearch (PR #120997) stores API key hashes with ssha256 by default; the
            // 8.x releases used pbkdf2 (AK-R1). The real system wins.
            hashing_algorithm: stored_hash_setting(
                &given,
                API_KEY_HASHING_ALGORITHM,
                version.api_key_hashing_algorithm_default(),
                version.api_key_hashing_allows_ssha256(),
            )?,
        };
        let service_token = ServiceTokenSettings {
            cache_ttl: time_setting(
                &given,
                SERVICE_TOKEN_CACHE_TTL,
                TimeValue::new(20, TimeUnit::Minutes),
            )?,
            max_tokens: int_setting(&given, SERVICE_TOKEN_CACHE_MAX_TOKENS, 100_000, None)?,
            cache_hash_algo: cache_hash_setting(&given, SERVICE_TOKEN_CACHE_HASH_ALGO)?,
            hashing_algorithm: stored_hash_setting(
                &given,
                SERVICE_TOKEN_HASHING_ALGORITHM,
                "pbkdf2_stretch",
                false,
            )?,
        };
        let processors = int_setting(&given, NODE_PROCESSORS, 2, Some(1))? as u32;
        // `security-crypto` (`Security.getExecutorBuilders`): a fixed pool of
        // `(allocatedProcessors + 1) / 2` threads (half, rounded up), queue 1000, its settings under
        // the prefix `xpack.security.crypto.thread_pool` (`FixedExecutorBuilder`).
        let default_size = processors.div_ceil(2) as i32;
        let crypto_pool = CryptoPoolSettings {
            processors,
            size: int_setting(&given, CRYPTO_POOL_SIZE, default_size, Some(1))? as u32,
            // A negative queue size is an unbounded queue (`EsExecutors.newFixed`).
            queue_size: u32::try_from(int_setting(&given, CRYPTO_POOL_QUEUE_SIZE, 1000, None)?)
                .unwrap_or(u32::MAX),
        };
        let stores = super::store_settings::StoreSettings::parse(&given)?;
        Ok(SecuritySettings {
            api_key,
            service_token,
            crypto_pool,
            stores,
            version,
            given,
        })
    }
}

/// `AbstractScopedSettings.validate`: with suggestions when a known name is close (Lucene's
/// Levenshtein similarity above 0.7), else the plugins hint.
pub(crate) fn unknown_setting(key: &str) -> EsError {
    let mut scored: Vec<(f64, &str)> = KNOWN_SETTINGS
        .iter()
        .map(|k| (levenshtein_similarity(key, k), *k))
        .filter(|(s, _)| *s > 0.7)
        .collect();
    scored.sort_by(|a, b| b.0.total_cmp(&a.0).then_with(|| a.1.cmp(b.1)));
    let mut msg = format!("unknown setting [{key}]");
    match scored.len() {
        0 => msg.push_str(
            " please check that any required plugins are installed, or check the breaking changes documentation for removed settings",
        ),
        1 => msg.push_str(&format!(" did you mean [{}]?", scored[0].1)),
        _ => {
            let names: Vec<&str> = scored.iter().map(|(_, k)| *k).collect();
            msg.push_str(&format!(" did you mean any of [{}]?", names.join(", ")));
        }
    }
    EsError::illegal_argument(msg)
}

/// Lucene's `LevenshteinDistance.getDistance`: 1 - edits / max(len).
fn levenshtein_similarity(a: &str, b: &str) -> f64 {
    let a: Vec<char> = a.chars().collect();
    let b: Vec<char> = b.chars().collect();
    if a.is_empty() || b.is_empty() {
        return if a == b { 1.0 } else { 0.0 };
    }
    let mut prev: Vec<usize> = (0..=b.len()).collect();
    let mut cur = vec![0; b.len() + 1];
    for i in 1..=a.len() {
        cur[0] = i;
        for j in 1..=b.len() {
            let cost = usize::from(a[i - 1] != b[j - 1]);
            cur[j] = (prev[j] + 1).min(cur[j - 1] + 1).min(prev[j - 1] + cost);
        }
        std::mem::swap(&mut prev, &mut cur);
    }
    1.0 - prev[b.len()] as f64 / a.len().max(b.len()) as f64
}

/// A setting's value as a user gives it (a Python argument, a value in a scenario file), before it
/// becomes the string Elasticsearch's `Settings` hold: text as is, a bool as `true`/`false`, a number
/// as its text.
#[derive(Debug, Clone, PartialEq, serde::Deserialize)]
#[serde(untagged)]
pub(crate) enum SettingValue {
    Text(String),
    Bool(bool),
    Int(i64),
    Float(f64),
}

impl From<SettingValue> for String {
    fn from(v: SettingValue) -> String {
        match v {
            SettingValue::Text(s) => s,
            SettingValue::Bool(b) => b.to_string(),
            SettingValue::Int(i) => i.to_string(),
            SettingValue::Float(f) => f.to_string(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(pairs: &[(&str, &str)]) -> Result<SecuritySettings, EsError> {
        SecuritySettings::from_pairs(pairs.iter().map(|(k, v)| (*k, *v)))
    }

    #[test]
    fn defaults_follow_elasticsearch() {
        let s = SecuritySettings::default();
        assert_eq!(s.api_key.cache_ttl.string_rep(), "24h");
        assert_eq!(s.api_key.max_keys, 25_000);
        assert_eq!(s.api_key.doc_cache_ttl.string_rep(), "5m");
        assert_eq!(s.service_token.cache_ttl.string_rep(), "20m");
        assert_eq!(s.service_token.max_tokens, 100_000);
        assert_eq!(s.crypto_pool.size, 1);
        assert_eq!(s.crypto_pool.queue_size, 1000);
    }

    /// `Security.getExecutorBuilders` names the pool's settings under `xpack.security.crypto.thread_pool`,
    /// and `EsExecutors.newFixed` makes a negative queue size unbounded.
    #[test]
    fn crypto_pool_settings_use_elasticsearch_names_and_negative_queue_is_unbounded() {
        let s = parse(&[(CRYPTO_POOL_SIZE, "3"), (CRYPTO_POOL_QUEUE_SIZE, "-1")]).unwrap();
        assert_eq!(CRYPTO_POOL_SIZE, "xpack.security.crypto.thread_pool.size");
        assert_eq!(s.crypto_pool.size, 3);
        assert_eq!(s.crypto_pool.queue_size, u32::MAX);
        assert_eq!(
            parse(&[(CRYPTO_POOL_QUEUE_SIZE, "0")])
                .unwrap()
                .crypto_pool
                .queue_size,
            0
        );
        assert!(parse(&[("thread_pool.security-crypto.size", "3")]).is_err());
    }

    #[test]
    fn doc_cache_ttl_is_bounded() {
        assert_eq!(
            parse(&[(API_KEY_DOC_CACHE_TTL, "20m")]).unwrap_err().reason,
            "failed to parse value [20m] for setting [xpack.security.authc.api_key.doc_cache.ttl], must be <= [15m]"
        );
        assert_eq!(
            parse(&[(API_KEY_DOC_CACHE_TTL, "-1")]).unwrap_err().reason,
            "failed to parse value [-1] for setting [xpack.security.authc.api_key.doc_cache.ttl], must be >= [0m]"
        );
        assert!(parse(&[(API_KEY_DOC_CACHE_TTL, "15m")]).is_ok());
        assert!(parse(&[(API_KEY_DOC_CACHE_TTL, "0s")]).is_ok());
    }

    #[test]
    fn cache_ttl_accepts_zero_and_minus_one() {
        assert!(!parse(&[(API_KEY_CACHE_TTL, "0s")])
            .unwrap()
            .api_key
            .cache_ttl
            .is_positive());
        assert!(!parse(&[(API_KEY_CACHE_TTL, "-1")])
            .unwrap()
            .api_key
            .cache_ttl
            .is_positive());
        assert_eq!(
            parse(&[(API_KEY_CACHE_TTL, "1x")]).unwrap_err().reason,
            "failed to parse setting [xpack.security.authc.api_key.cache.ttl] with value [1x] as a time value: unit is missing or unrecognized"
        );
    }

    #[test]
    fn int_and_bool_errors() {
        assert_eq!(
            parse(&[(API_KEY_CACHE_MAX_KEYS, "many")]).unwrap_err().reason,
            "Failed to parse value [many] for setting [xpack.security.authc.api_key.cache.max_keys]"
        );
        // No minimum: a negative max_keys parses and fails later in the cache builder.
        assert_eq!(
            parse(&[(API_KEY_CACHE_MAX_KEYS, "-1")])
                .unwrap()
                .api_key
                .max_keys,
            -1
        );
        assert_eq!(
            parse(&[(API_KEY_ENABLED, "yes")]).unwrap_err().reason,
            "Failed to parse value [yes] as only [true] or [false] are allowed."
        );
    }

    #[test]
    fn unknown_settings_are_refused_with_suggestions() {
        let e = parse(&[("xpack.security.authc.api_key.cache.tll", "1h")]).unwrap_err();
        // Every known name within Lucene similarity 0.7 is offered, the closest first.
        assert!(
            e.reason.starts_with(
                "unknown setting [xpack.security.authc.api_key.cache.tll] did you mean any of [xpack.security.authc.api_key.cache.ttl, "
            ),
            "{}",
            e.reason
        );
        let e = parse(&[("node.processor", "2")]).unwrap_err();
        assert_eq!(
            e.reason,
            "unknown setting [node.processor] did you mean [node.processors]?"
        );
        let e = parse(&[("cluster.name", "x")]).unwrap_err();
        assert!(e.reason.ends_with("please check that any required plugins are installed, or check the breaking changes documentation for removed settings"));
        assert_eq!(e.kind, "illegal_argument_exception");
    }

    #[test]
    fn hash_settings_are_validated() {
        assert!(parse(&[(API_KEY_CACHE_HASH_ALGO, "nope")])
            .unwrap_err()
            .reason
            .contains("unknown hash function [nope]"));
        assert!(parse(&[(API_KEY_HASHING_ALGORITHM, "sha1")])
            .unwrap_err()
            .reason
            .starts_with("Invalid algorithm: sha1."));
        assert!(parse(&[(API_KEY_HASHING_ALGORITHM, "pbkdf2")]).is_ok());
        assert!(parse(&[(SERVICE_TOKEN_HASHING_ALGORITHM, "bcrypt")]).is_ok());
    }

    #[test]
    fn setting_values_become_elasticsearch_strings() {
        let s = |v: SettingValue| String::from(v);
        assert_eq!(s(SettingValue::Text("1h".into())), "1h");
        assert_eq!(s(SettingValue::Bool(false)), "false");
        assert_eq!(s(SettingValue::Int(-25_000)), "-25000");
        assert_eq!(s(SettingValue::Float(0.5)), "0.5");
        assert_eq!(s(SettingValue::Float(2.0)), "2");
        let parsed = SecuritySettings::from_pairs([
            (API_KEY_ENABLED, SettingValue::Bool(false)),
            (API_KEY_CACHE_MAX_KEYS, SettingValue::Int(10)),
        ])
        .unwrap();
        assert!(!parsed.api_key.enabled);
        assert_eq!(parsed.api_key.max_keys, 10);
        assert_eq!(parsed.given[API_KEY_ENABLED], "false");
        // A scenario file's values deserialize to the same kinds.
        let v: Vec<SettingValue> = serde_json::from_str(r#"["5m", true, 3, 1.5]"#).unwrap();
        assert_eq!(
            v,
            [
                SettingValue::Text("5m".into()),
                SettingValue::Bool(true),
                SettingValue::Int(3),
                SettingValue::Float(1.5)
            ]
        );
    }
}
