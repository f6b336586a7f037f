//! The `Hasher` enum and its names: `resolve`, `resolveFromHash`, the lists the settings accept
//! (`x-pack/plugin/core/src/main/java/org/elasticsearch/xpack/core/security/authc/support/Hasher.java`).

use super::bcrypt::{is_bcrypt_prefix, BCRYPT_PREFIX_LEN};
use super::cost::{parse_bcrypt_cost, parse_iteration_choice};
use super::pbkdf2::{PBKDF2_PREFIX, PBKDF2_STRETCH_PREFIX};
use super::sha::{MD5_PREFIX, SHA1_PREFIX, SSHA256_PREFIX};
use super::{
    BcryptCost, HashError, Pbkdf2Iterations, BCRYPT_DEFAULT_COST, PBKDF2_DEFAULT_ITERATIONS,
};
use std::fmt;

/// Every name of Elasticsearch's `Hasher` enum, lower-cased, in declaration order
/// (`Hasher.values()`). Some are aliases here: `bcrypt10` is [`Hasher::Bcrypt`] with cost 10, and
/// `pbkdf2_10000` / `pbkdf2_stretch_10000` are the 10000-iteration variants.
pub(crate) const ES_HASHER_NAMES: [&str; 31] = [
    "bcrypt",
    "bcrypt4",
    "bcrypt5",
    "bcrypt6",
    "bcrypt7",
    "bcrypt8",
    "bcrypt9",
    "bcrypt10",
    "bcrypt11",
    "bcrypt12",
    "bcrypt13",
    "bcrypt14",
    "pbkdf2",
    "pbkdf2_1000",
    "pbkdf2_10000",
    "pbkdf2_50000",
    "pbkdf2_100000",
    "pbkdf2_500000",
    "pbkdf2_1000000",
    "pbkdf2_stretch",
    "pbkdf2_stretch_1000",
    "pbkdf2_stretch_10000",
    "pbkdf2_stretch_50000",
    "pbkdf2_stretch_100000",
    "pbkdf2_stretch_500000",
    "pbkdf2_stretch_1000000",
    "sha1",
    "md5",
    "ssha256",
    "sha256",
    "noop",
];

/// Names allowed for the stored-hash settings (`...hashing.algorithm`): those starting with
/// `pbkdf2` or `bcrypt`, in enum order (`Hasher.getAvailableAlgoStoredHash`).
pub(crate) fn available_algo_stored_hash() -> Vec<&'static str> {
    ES_HASHER_NAMES
        .iter()
        .copied()
        .filter(|n| n.starts_with("pbkdf2") || n.starts_with("bcrypt"))
        .collect()
}

/// Names allowed for the cache settings (`...cache.hash_algo`): every name except `sha256`
/// (`Hasher.getAvailableAlgoCacheHash`).
pub fn available_algo_cache_hash() -> Vec<&'static str> {
    ES_HASHER_NAMES
        .iter()
        .copied()
        .filter(|n| *n != "sha256")
        .collect()
}

/// A hashing algorithm with its cost, as Elasticsearch's `Hasher` enum.
///
/// Costs and iteration counts are [`BcryptCost`] and [`Pbkdf2Iterations`], which only hold the
/// values Elasticsearch has hashers for, so neither [`Hasher::hash`] nor [`Hasher::verify`] can
/// panic. Build the costed variants with [`Hasher::bcrypt`], [`Hasher::pbkdf2`],
/// [`Hasher::pbkdf2_stretch`] or [`Hasher::resolve`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Hasher {
    /// bcrypt (`$2a$`). Verification takes the cost from the stored hash, as jBCrypt does.
    Bcrypt { cost: BcryptCost },
    /// `{PBKDF2}`: PBKDF2-HMAC-SHA512 of the secret. Verification uses **this** hasher's
    /// iteration count, not the number written in the stored hash (Elasticsearch skips it).
    Pbkdf2 { iterations: Pbkdf2Iterations },
    /// `{PBKDF2_STRETCH}`: PBKDF2-HMAC-SHA512 of the lowercase hex of SHA-512(secret).
    Pbkdf2Stretch { iterations: Pbkdf2Iterations },
    /// `{SSHA256}`: salted SHA-256; the default cache hasher (`cache.hash_algo: ssha256`).
    Ssha256,
    /// `{SHA}`: unsalted SHA-1.
    Sha1,
    /// `{MD5}`: unsalted MD5.
    Md5,
    /// Plaintext. See the module docs: escache only meets it through the `service_tokens`
    /// plaintext rule (F2) and `hash_algo: noop`.
    Noop,
    /// Unsalted SHA-256, URL-safe Base64 without padding and without prefix. Elasticsearch uses
    /// it for non-password data; `resolve` does not accept its name.
    Sha256,
}

impl Hasher {
    /// `bcrypt<cost>`.
    ///
    /// # Errors
    /// `unknown hash function [bcrypt<cost>]` outside 4..=14.
    pub fn bcrypt(cost: u32) -> Result<Hasher, HashError> {
        Ok(Hasher::Bcrypt {
            cost: BcryptCost::new(cost)?,
        })
    }

    /// `pbkdf2_<iterations>`.
    ///
    /// # Errors
    /// `unknown hash function [pbkdf2_<iterations>]` for a count without a hasher.
    pub fn pbkdf2(iterations: u32) -> Result<Hasher, HashError> {
        Ok(Hasher::Pbkdf2 {
            iterations: Pbkdf2Iterations::new(iterations)?,
        })
    }

    /// `pbkdf2_stretch_<iterations>`.
    ///
    /// # Errors
    /// `unknown hash function [pbkdf2_stretch_<iterations>]` for a count without a hasher.
    pub fn pbkdf2_stretch(iterations: u32) -> Result<Hasher, HashError> {
        let iterations = Pbkdf2Iterations::new(iterations)
            .map_err(|_| HashError::UnknownHashFunction(format!("pbkdf2_stretch_{iterations}")))?;
        Ok(Hasher::Pbkdf2Stretch { iterations })
    }

    /// `Hasher.resolve(name)`: Elasticsearch's names, case-insensitively (`bcrypt10` is `bcrypt`,
    /// `pbkdf2_10000` is `pbkdf2`, `clear_text` is `noop`).
    ///
    /// # Errors
    /// [`HashError::UnknownHashFunction`] (`unknown hash function [<name>]`) for any other name,
    /// including `sha256`.
    pub fn resolve(name: &str) -> Result<Hasher, HashError> {
        // `str::to_lowercase` applies the same Unicode lower-case mapping as Java's
        // `toLowerCase(Locale.ROOT)` (so the Kelvin sign becomes `k`, as in Java).
        let lower = name.to_lowercase();
        let hasher = match lower.as_str() {
            "bcrypt" => Hasher::Bcrypt {
                cost: BcryptCost::DEFAULT,
            },
            "sha1" => Hasher::Sha1,
            "md5" => Hasher::Md5,
            "ssha256" => Hasher::Ssha256,
            "noop" | "clear_text" => Hasher::Noop,
            "pbkdf2" => Hasher::Pbkdf2 {
                iterations: Pbkdf2Iterations::DEFAULT,
            },
            "pbkdf2_stretch" => Hasher::Pbkdf2Stretch {
                iterations: Pbkdf2Iterations::DEFAULT,
            },
            other => {
                if let Some(iterations) = other
                    .strip_prefix("pbkdf2_stretch_")
                    .and_then(parse_iteration_choice)
                {
                    Hasher::Pbkdf2Stretch { iterations }
                } else if let Some(iterations) = other
                    .strip_prefix("pbkdf2_")
                    .and_then(parse_iteration_choice)
                {
                    Hasher::Pbkdf2 { iterations }
                } else if let Some(cost) = other.strip_prefix("bcrypt").and_then(parse_bcrypt_cost)
                {
                    Hasher::Bcrypt { cost }
                } else {
                    return Err(HashError::UnknownHashFunction(name.to_owned()));
                }
            }
        };
        Ok(hasher)
    }

    /// `Hasher.resolveFromHash(hash)`: the hasher that can verify `hash`, from its prefix.
    ///
    /// 1. `$2a$`, `$2b$`, `$2y$`: bcrypt; the cost is the text from index 4 to `len - 54`
    ///    (chars), so `bcrypt<cost>` (cost 10 is `bcrypt`).
    /// 2. `{PBKDF2_STRETCH}<n>$`: `pbkdf2_stretch_<n>` (10000 is `pbkdf2_stretch`).
    /// 3. `{PBKDF2}<n>$`: `pbkdf2_<n>` (10000 is `pbkdf2`).
    /// 4. `{SHA}`, `{MD5}`, `{SSHA256}`: SHA1, MD5, SSHA256.
    /// 5. Anything else (including SHA256 hashes): [`Hasher::Noop`], i.e. plaintext.
    ///
    /// # Errors
    /// `unknown hash function [bcrypt<cost>]` / `[pbkdf2_<n>]` / `[pbkdf2_stretch_<n>]` for a
    /// cost or count without a hasher; `The number of iterations could not be determined from the
    /// provided PBKDF2 hash.` for a PBKDF2 hash without a `$` or a number before it; Java's
    /// messages for a bcrypt-prefixed hash that is too short or has a non-numeric cost.
    pub fn resolve_from_hash(hash: &str) -> Result<Hasher, HashError> {
        if is_bcrypt_prefix(hash) {
            let to = hash.chars().count() as i64 - 54;
            if to < BCRYPT_PREFIX_LEN as i64 {
                return Err(HashError::BcryptTooShort(to));
            }
            let cost_text: String = hash
                .chars()
                .skip(BCRYPT_PREFIX_LEN)
                .take(to as usize - BCRYPT_PREFIX_LEN)
                .collect();
            let cost: i32 = cost_text
                .parse()
                .map_err(|_| HashError::BcryptCost(cost_text.clone()))?;
            if cost == BCRYPT_DEFAULT_COST as i32 {
                return Ok(Hasher::Bcrypt {
                    cost: BcryptCost::DEFAULT,
                });
            }
            Hasher::resolve(&format!("bcrypt{cost}"))
        } else if hash.starts_with(PBKDF2_STRETCH_PREFIX) {
            let n = parse_pbkdf2_iterations(hash, PBKDF2_STRETCH_PREFIX)?;
            if n == PBKDF2_DEFAULT_ITERATIONS as i32 {
                return Ok(Hasher::Pbkdf2Stretch {
                    iterations: Pbkdf2Iterations::DEFAULT,
                });
            }
            Hasher::resolve(&format!("pbkdf2_stretch_{n}"))
        } else if hash.starts_with(PBKDF2_PREFIX) {
            let n = parse_pbkdf2_iterations(hash, PBKDF2_PREFIX)?;
            if n == PBKDF2_DEFAULT_ITERATIONS as i32 {
                return Ok(Hasher::Pbkdf2 {
                    iterations: Pbkdf2Iterations::DEFAULT,
                });
            }
            Hasher::resolve(&format!("pbkdf2_{n}"))
        } else if hash.starts_with(SHA1_PREFIX) {
            Ok(Hasher::Sha1)
        } else if hash.starts_with(MD5_PREFIX) {
            Ok(Hasher::Md5)
        } else if hash.starts_with(SSHA256_PREFIX) {
            Ok(Hasher::Ssha256)
        } else {
            // A plaintext secret, or a corrupted hash.
            Ok(Hasher::Noop)
        }
    }

    /// The canonical lower-case name, which [`Hasher::resolve`] maps back to `self`: `bcrypt`
    /// for cost 10, `pbkdf2` / `pbkdf2_stretch` for 10000 iterations.
    ///
    /// Elasticsearch keeps `PBKDF2_STRETCH_10000` as its own enum constant (it hashes and verifies
    /// exactly like `PBKDF2_STRETCH`); here both are `Pbkdf2Stretch` with 10000 iterations, named
    /// `pbkdf2_stretch`.
    pub fn name(&self) -> String {
        match *self {
            Hasher::Bcrypt { cost } if cost == BcryptCost::DEFAULT => "bcrypt".to_owned(),
            Hasher::Bcrypt { cost } => format!("bcrypt{}", cost.get()),
            Hasher::Pbkdf2 { iterations } if iterations == Pbkdf2Iterations::DEFAULT => {
                "pbkdf2".to_owned()
            }
            Hasher::Pbkdf2 { iterations } => format!("pbkdf2_{}", iterations.get()),
            Hasher::Pbkdf2Stretch { iterations } if iterations == Pbkdf2Iterations::DEFAULT => {
                "pbkdf2_stretch".to_owned()
            }
            Hasher::Pbkdf2Stretch { iterations } => {
                format!("pbkdf2_stretch_{}", iterations.get())
            }
            Hasher::Ssha256 => "ssha256".to_owned(),
            Hasher::Sha1 => "sha1".to_owned(),
            Hasher::Md5 => "md5".to_owned(),
            Hasher::Noop => "noop".to_owned(),
            Hasher::Sha256 => "sha256".to_owned(),
        }
    }
}

impl fmt::Display for Hasher {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.name())
    }
}

/// The integer between `prefix` and the first `$` after it (Java `Integer.parseInt` rules:
/// optional sign, ASCII digits, fits in an `i32`).
fn parse_pbkdf2_iterations(hash: &str, prefix: &str) -> Result<i32, HashError> {
    let rest = &hash[prefix.len()..];
    let end = rest.find('$').ok_or(HashError::Pbkdf2Iterations)?;
    rest[..end]
        .parse::<i32>()
        .map_err(|_| HashError::Pbkdf2Iterations)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::security::hashing::*;

    #[test]
    fn resolve_accepts_exactly_the_elasticsearch_names() {
        let cases: &[(&str, Hasher)] = &[
            ("bcrypt", Hasher::bcrypt(10).unwrap()),
            ("bcrypt4", Hasher::bcrypt(4).unwrap()),
            ("bcrypt9", Hasher::bcrypt(9).unwrap()),
            ("bcrypt10", Hasher::bcrypt(10).unwrap()),
            ("bcrypt14", Hasher::bcrypt(14).unwrap()),
            ("pbkdf2", Hasher::pbkdf2(10_000).unwrap()),
            ("pbkdf2_1000", Hasher::pbkdf2(1000).unwrap()),
            ("pbkdf2_10000", Hasher::pbkdf2(10_000).unwrap()),
            ("pbkdf2_50000", Hasher::pbkdf2(50_000).unwrap()),
            ("pbkdf2_100000", Hasher::pbkdf2(100_000).unwrap()),
            ("pbkdf2_500000", Hasher::pbkdf2(500_000).unwrap()),
            ("pbkdf2_1000000", Hasher::pbkdf2(1_000_000).unwrap()),
            ("pbkdf2_stretch", Hasher::pbkdf2_stretch(10_000).unwrap()),
            ("pbkdf2_stretch_1000", Hasher::pbkdf2_stretch(1000).unwrap()),
            (
                "pbkdf2_stretch_10000",
                Hasher::pbkdf2_stretch(10_000).unwrap(),
            ),
            (
                "pbkdf2_stretch_1000000",
                Hasher::pbkdf2_stretch(1_000_000).unwrap(),
            ),
            ("sha1", Hasher::Sha1),
            ("md5", Hasher::Md5),
            ("ssha256", Hasher::Ssha256),
            ("noop", Hasher::Noop),
            ("clear_text", Hasher::Noop),
            // Case-insensitive.
            ("BCRYPT", Hasher::bcrypt(10).unwrap()),
            ("BCrypt12", Hasher::bcrypt(12).unwrap()),
            (
                "PBKDF2_Stretch_50000",
                Hasher::pbkdf2_stretch(50_000).unwrap(),
            ),
            ("SSHA256", Hasher::Ssha256),
            ("Clear_Text", Hasher::Noop),
            // Java's toLowerCase(Locale.ROOT) maps the Kelvin sign to `k`; so does Rust.
            ("PB\u{212A}DF2", Hasher::pbkdf2(10_000).unwrap()),
        ];
        for (name, want) in cases {
            assert_eq!(Hasher::resolve(name).as_ref(), Ok(want), "{name}");
        }
        for bad in [
            "sha256",
            "bcrypt3",
            "bcrypt15",
            "bcrypt04",
            "bcrypt+5",
            "pbkdf2_2000",
            "pbkdf2_01000",
            "pbkdf2_",
            "pbkdf2_stretch_",
            "pbkdf2_stretch_2000",
            "pbkdf2stretch",
            " bcrypt",
            "",
            "Foo",
        ] {
            let err = Hasher::resolve(bad).unwrap_err();
            assert_eq!(err.to_string(), format!("unknown hash function [{bad}]"));
        }
    }

    #[test]
    fn names_are_canonical_and_resolve_back() {
        for name in ES_HASHER_NAMES {
            if name == "sha256" {
                assert!(Hasher::resolve(name).is_err());
                continue;
            }
            let h = Hasher::resolve(name).unwrap();
            assert_eq!(Hasher::resolve(&h.name()), Ok(h), "{name}");
            assert_eq!(h.to_string(), h.name());
        }
        assert_eq!(Hasher::resolve("bcrypt10").unwrap().name(), "bcrypt");
        assert_eq!(Hasher::resolve("pbkdf2_10000").unwrap().name(), "pbkdf2");
        assert_eq!(
            Hasher::resolve("pbkdf2_stretch_10000").unwrap().name(),
            "pbkdf2_stretch"
        );
        assert_eq!(Hasher::bcrypt(4).unwrap().name(), "bcrypt4");
        assert_eq!(Hasher::pbkdf2(1000).unwrap().name(), "pbkdf2_1000");
        assert_eq!(Hasher::Sha256.name(), "sha256");
        assert_eq!(Hasher::Noop.name(), "noop");
    }

    #[test]
    fn available_algorithm_lists() {
        let stored = available_algo_stored_hash();
        assert_eq!(stored.len(), 26);
        assert_eq!(stored.first(), Some(&"bcrypt"));
        assert_eq!(stored.last(), Some(&"pbkdf2_stretch_1000000"));
        let cache = available_algo_cache_hash();
        assert_eq!(cache.len(), 30);
        assert!(cache.contains(&"noop") && cache.contains(&"ssha256"));
        assert!(!cache.contains(&"sha256"));
    }

    #[test]
    fn resolve_from_hash_rules() {
        let tail53 = "A".repeat(53);
        let ok: Vec<(String, Hasher)> = vec![
            (format!("$2a$10${tail53}"), Hasher::bcrypt(10).unwrap()),
            (format!("$2b$04${tail53}"), Hasher::bcrypt(4).unwrap()),
            (format!("$2y$14${tail53}"), Hasher::bcrypt(14).unwrap()),
            // The cost is whatever lies between index 4 and len - 54, parsed as a Java int.
            (format!("$2a$+7${tail53}"), Hasher::bcrypt(7).unwrap()),
            // `$2x$` is not a minor ES accepts: plaintext.
            (format!("$2x$10${tail53}"), Hasher::Noop),
            ("{PBKDF2}10000$a$b".into(), Hasher::pbkdf2(10_000).unwrap()),
            ("{PBKDF2}+10000$".into(), Hasher::pbkdf2(10_000).unwrap()),
            ("{PBKDF2}010000$".into(), Hasher::pbkdf2(10_000).unwrap()),
            ("{PBKDF2}50000$x$y".into(), Hasher::pbkdf2(50_000).unwrap()),
            (
                "{PBKDF2}1000000$".into(),
                Hasher::pbkdf2(1_000_000).unwrap(),
            ),
            (
                "{PBKDF2_STRETCH}10000$".into(),
                Hasher::pbkdf2_stretch(10_000).unwrap(),
            ),
            (
                "{PBKDF2_STRETCH}1000$s$k".into(),
                Hasher::pbkdf2_stretch(1000).unwrap(),
            ),
            ("{SHA}anything".into(), Hasher::Sha1),
            ("{MD5}".into(), Hasher::Md5),
            ("{SSHA256}x".into(), Hasher::Ssha256),
            ("{plain}_By842iQQVKSCLxVcJZWvw".into(), Hasher::Noop),
            ("{sha}lower-case prefix".into(), Hasher::Noop),
            ("{PBKDF2".into(), Hasher::Noop),
            (String::new(), Hasher::Noop),
            ("$2a".into(), Hasher::Noop),
            (
                "QQTTb42iwlQ0n4WDZ5Pr4CngyVcGOjTJHC6SAxh7VjE".into(),
                Hasher::Noop,
            ),
        ];
        for (hash, want) in ok {
            assert_eq!(Hasher::resolve_from_hash(&hash), Ok(want), "{hash}");
        }
        let iter_msg =
            "The number of iterations could not be determined from the provided PBKDF2 hash.";
        let err: Vec<(String, &str)> = vec![
            (
                format!("$2a$15${tail53}"),
                "unknown hash function [bcrypt15]",
            ),
            (
                format!("$2a$03${tail53}"),
                "unknown hash function [bcrypt3]",
            ),
            (
                format!("$2a$-4${tail53}"),
                "unknown hash function [bcrypt-4]",
            ),
            (format!("$2a$xy${tail53}"), "For input string: \"xy\""),
            (format!("$2a$10$${tail53}"), "For input string: \"10$\""),
            ("$2a$".into(), "4 > -50"),
            (format!("$2a$1{}", "A".repeat(52)), "4 > 3"),
            (
                "{PBKDF2}1234$abc".into(),
                "unknown hash function [pbkdf2_1234]",
            ),
            ("{PBKDF2}-1$".into(), "unknown hash function [pbkdf2_-1]"),
            (
                "{PBKDF2_STRETCH}7$".into(),
                "unknown hash function [pbkdf2_stretch_7]",
            ),
            ("{PBKDF2}10000".into(), iter_msg),
            ("{PBKDF2}$".into(), iter_msg),
            ("{PBKDF2}ten$".into(), iter_msg),
            ("{PBKDF2}99999999999$".into(), iter_msg),
            ("{PBKDF2_STRETCH}".into(), iter_msg),
        ];
        for (hash, msg) in err {
            let e = Hasher::resolve_from_hash(&hash).unwrap_err();
            assert_eq!(e.to_string(), msg, "{hash}");
        }
        assert_eq!(
            Hasher::resolve_from_hash("{PBKDF2}ten$"),
            Err(HashError::Pbkdf2Iterations)
        );
    }
}
