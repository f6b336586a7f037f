//! Credential hashing, byte-compatible with Elasticsearch's `Hasher`
//! (`CORE/authc/support/Hasher.java`; C1 and F2 in docs/rules.md).
//!
//! Every hash this module writes has exactly the layout Elasticsearch writes, so a hash made here
//! verifies in Elasticsearch and the other way round. The unit and integration tests check this
//! against the real `service_tokens` test resource of `elastic/elasticsearch`
//! (`tests/data/service_tokens`).
//!
//! | hasher | stored form |
//! |---|---|
//! | bcrypt (cost 4..=14) | `$2a$<cost, 2 digits>$<22 salt><31 hash>`, 60 chars |
//! | PBKDF2 | `{PBKDF2}<iterations>$<b64 32-byte salt>$<b64 32-byte PBKDF2-HMAC-SHA512 key>` |
//! | PBKDF2_STRETCH | as PBKDF2 with the prefix `{PBKDF2_STRETCH}`; the PBKDF2 password is the lowercase hex of SHA-512(secret) |
//! | SSHA256 | `{SSHA256}` + b64(8-byte salt) (12 chars) + b64(SHA-256(secret ‖ salt)) (44 chars), 65 chars |
//! | SHA1 | `{SHA}` + b64(SHA-1(secret)) |
//! | MD5 | `{MD5}` + b64(MD5(secret)) |
//! | SHA256 | URL-safe, unpadded b64(SHA-256(secret)), no prefix and no salt |
//! | NOOP | the secret itself (plaintext) |
//!
//! "b64" is standard Base64 (`+/`) with `=` padding (Java's `Base64.getEncoder()`), except for
//! SHA256. Secrets are hashed as their UTF-8 bytes, as Elasticsearch does with its `char[]`s.
//!
//! **Randomness.** Salts come only from the RNG the caller passes, never from the OS, so a seeded
//! RNG gives reproducible hashes (the simulator's runs are deterministic).
//!
//! **NOOP stores plaintext.** It exists because Elasticsearch's `resolveFromHash` answers NOOP for
//! any string without a known prefix. escache uses it only for the `service_tokens` file rule F2
//! (a line whose hash resolves to NOOP is plaintext and is skipped) and for the cache setting
//! `hash_algo: noop`, which Elasticsearch allows.
//!
//! **Errors versus `false`.** Elasticsearch throws from `verify` on some malformed stored hashes
//! (a PBKDF2 key shorter than 16 bytes, a salt shorter than 8 bytes, bad Base64, an SSHA256 hash
//! shorter than its salt, bad bcrypt salts). Here `verify` never panics and answers `false` for all
//! of them. `resolve_from_hash` does keep Elasticsearch's errors, with the same messages.

use std::fmt;

use base64::alphabet;
use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use base64::engine::{DecodePaddingMode, GeneralPurpose, GeneralPurposeConfig};
use base64::Engine as _;
use md5::Md5;
use rand::RngCore;
use sha1::Sha1;
use sha2::{Digest, Sha256, Sha512};
use subtle::ConstantTimeEq;

/// bcrypt cost that `Hasher.resolve("bcrypt")` gives.
pub const BCRYPT_DEFAULT_COST: u32 = 10;
/// PBKDF2 iterations that `Hasher.resolve("pbkdf2")` and `"pbkdf2_stretch"` give.
pub const PBKDF2_DEFAULT_ITERATIONS: u32 = 10_000;

const BCRYPT_PREFIX_LEN: usize = 4;
const SHA1_PREFIX: &str = "{SHA}";
const MD5_PREFIX: &str = "{MD5}";
const SSHA256_PREFIX: &str = "{SSHA256}";
const PBKDF2_PREFIX: &str = "{PBKDF2}";
const PBKDF2_STRETCH_PREFIX: &str = "{PBKDF2_STRETCH}";
/// Length of the salt and derived key that `hash` writes for PBKDF2 (Elasticsearch's 256 bits).
const PBKDF2_KEY_BYTES: usize = 32;
const PBKDF2_SALT_BYTES: usize = 32;
const PBKDF2_MIN_SALT_BYTES: usize = 8;
/// Verification derives the key length from the stored hash, rounded down to this many bits.
const PBKDF2_KEY_BLOCK_BITS: usize = 128;
const SSHA256_SALT_BYTES: usize = 8;
/// Base64 length of the 8-byte SSHA256 salt.
const SSHA256_SALT_CHARS: usize = 12;
const BCRYPT_SALT_BYTES: usize = 16;
/// `BCRYPT4` .. `BCRYPT14`.
const BCRYPT_MIN_COST: u32 = 4;
const BCRYPT_MAX_COST: u32 = 14;
const PBKDF2_ITERATION_CHOICES: [u32; 6] = [1_000, 10_000, 50_000, 100_000, 500_000, 1_000_000];

/// Standard-alphabet decoder that accepts what `java.util.Base64.getDecoder()` accepts: padding
/// optional, non-zero trailing bits ignored.
const JAVA_DECODER: GeneralPurpose = GeneralPurpose::new(
    &alphabet::STANDARD,
    GeneralPurposeConfig::new()
        .with_decode_padding_mode(DecodePaddingMode::Indifferent)
        .with_decode_allow_trailing_bits(true),
);

/// Every name of Elasticsearch's `Hasher` enum, lower-cased, in declaration order
/// (`Hasher.values()`). Some are aliases here: `bcrypt10` is [`Hasher::Bcrypt`] with cost 10, and
/// `pbkdf2_10000` / `pbkdf2_stretch_10000` are the 10000-iteration variants.
pub const ES_HASHER_NAMES: [&str; 31] = [
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
pub fn available_algo_stored_hash() -> Vec<&'static str> {
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

/// Why a hasher could not be chosen. The `Display` text is Elasticsearch's exception message.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum HashError {
    /// `Hasher.resolve` got a name it does not know (also reached from `resolveFromHash` for
    /// bcrypt costs and PBKDF2 iteration counts without a hasher).
    #[error("unknown hash function [{0}]")]
    UnknownHashFunction(String),
    /// A `{PBKDF2}`/`{PBKDF2_STRETCH}` hash without a `$`, or with a non-integer iteration count.
    #[error("The number of iterations could not be determined from the provided PBKDF2 hash.")]
    Pbkdf2Iterations,
    /// A bcrypt-prefixed hash shorter than 58 chars: Java's `Arrays.copyOfRange(hash, 4, len - 54)`
    /// fails with `4 > <len - 54>`.
    #[error("4 > {0}")]
    BcryptTooShort(i64),
    /// A bcrypt-prefixed hash whose cost is not an integer (Java's `NumberFormatException`).
    #[error("For input string: \"{0}\"")]
    BcryptCost(String),
}

/// A bcrypt cost Elasticsearch has a hasher for: 4..=14 (`BCRYPT4` .. `BCRYPT14`, `Hasher.java`).
/// Only [`BcryptCost::new`] builds one, so every [`Hasher::Bcrypt`] can hash:
///
/// ```compile_fail
/// use escache::security::hashing::{BcryptCost, Hasher};
/// let _ = Hasher::Bcrypt { cost: BcryptCost(40) }; // the field is private
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct BcryptCost(u32);

impl BcryptCost {
    /// The cost of `bcrypt` (and `bcrypt10`).
    pub const DEFAULT: BcryptCost = BcryptCost(BCRYPT_DEFAULT_COST);

    /// # Errors
    /// `unknown hash function [bcrypt<cost>]` (what `Hasher.resolve` says) outside 4..=14.
    pub fn new(cost: u32) -> Result<Self, HashError> {
        if (BCRYPT_MIN_COST..=BCRYPT_MAX_COST).contains(&cost) {
            Ok(BcryptCost(cost))
        } else {
            Err(HashError::UnknownHashFunction(format!("bcrypt{cost}")))
        }
    }

    pub const fn get(self) -> u32 {
        self.0
    }
}

/// A PBKDF2 iteration count Elasticsearch has a hasher for: 1000, 10000, 50000, 100000, 500000 or
/// 1000000 (`PBKDF2_1000` .. `PBKDF2_1000000`, `Hasher.java`). Only [`Pbkdf2Iterations::new`] builds
/// one, so every [`Hasher::Pbkdf2`] / [`Hasher::Pbkdf2Stretch`] can hash:
///
/// ```compile_fail
/// use escache::security::hashing::{Hasher, Pbkdf2Iterations};
/// let _ = Hasher::Pbkdf2 { iterations: Pbkdf2Iterations(0) }; // the field is private
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Pbkdf2Iterations(u32);

impl Pbkdf2Iterations {
    /// The count of `pbkdf2` and `pbkdf2_stretch`.
    pub const DEFAULT: Pbkdf2Iterations = Pbkdf2Iterations(PBKDF2_DEFAULT_ITERATIONS);

    /// # Errors
    /// `unknown hash function [pbkdf2_<n>]` for any other count.
    pub fn new(iterations: u32) -> Result<Self, HashError> {
        if PBKDF2_ITERATION_CHOICES.contains(&iterations) {
            Ok(Pbkdf2Iterations(iterations))
        } else {
            Err(HashError::UnknownHashFunction(format!(
                "pbkdf2_{iterations}"
            )))
        }
    }

    pub const fn get(self) -> u32 {
        self.0
    }
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

    /// Hashes `secret` in Elasticsearch's format for this hasher. Salts (bcrypt 16 bytes,
    /// PBKDF2 32 bytes, SSHA256 8 bytes) are drawn from `rng`, so a seeded RNG gives the same hash
    /// every time; the unsalted hashers do not touch `rng`.
    ///
    /// [`Hasher::Noop`] returns the secret itself (plaintext).
    pub fn hash<R: RngCore + ?Sized>(&self, secret: &str, rng: &mut R) -> String {
        let bytes = secret.as_bytes();
        match *self {
            Hasher::Bcrypt { cost } => {
                let mut salt = [0u8; BCRYPT_SALT_BYTES];
                rng.fill_bytes(&mut salt);
                bcrypt_hash(bytes, cost, salt)
            }
            Hasher::Pbkdf2 { iterations } => {
                pbkdf2_hash(bytes, iterations.get(), PBKDF2_PREFIX, rng)
            }
            Hasher::Pbkdf2Stretch { iterations } => {
                let stretched = sha512_hex(bytes);
                pbkdf2_hash(
                    stretched.as_bytes(),
                    iterations.get(),
                    PBKDF2_STRETCH_PREFIX,
                    rng,
                )
            }
            Hasher::Ssha256 => {
                let mut salt = [0u8; SSHA256_SALT_BYTES];
                rng.fill_bytes(&mut salt);
                let digest = Sha256::new()
                    .chain_update(bytes)
                    .chain_update(salt)
                    .finalize();
                let mut out = String::with_capacity(65);
                out.push_str(SSHA256_PREFIX);
                STANDARD.encode_string(salt, &mut out);
                STANDARD.encode_string(digest, &mut out);
                out
            }
            Hasher::Sha1 => format!("{SHA1_PREFIX}{}", STANDARD.encode(Sha1::digest(bytes))),
            Hasher::Md5 => format!("{MD5_PREFIX}{}", STANDARD.encode(Md5::digest(bytes))),
            Hasher::Sha256 => URL_SAFE_NO_PAD.encode(Sha256::digest(bytes)),
            Hasher::Noop => secret.to_owned(),
        }
    }

    /// Checks `bytes` against `stored_hash` as this hasher (`Hasher.verify`). Digests are
    /// compared in constant time. A hash in another hasher's format, or a malformed one, gives
    /// `false` (never a panic).
    ///
    /// * bcrypt: any of `$2a$`/`$2b$`/`$2y$`, with the cost written in the hash (4..=30).
    /// * PBKDF2: the key length is derived from the stored key's Base64 length,
    ///   `len * 3 / 64 * 128` bits, and must be positive; the salt must decode to at least 8
    ///   bytes. The iteration count is this hasher's; the number in the hash is skipped.
    /// * SSHA256: the 12 chars after the prefix are the salt.
    /// * NOOP: `stored_hash` is the plaintext, compared in constant time.
    pub fn verify(&self, secret: &str, stored_hash: &str) -> bool {
        let bytes = secret.as_bytes();
        match *self {
            Hasher::Bcrypt { .. } => verify_bcrypt(bytes, stored_hash),
            Hasher::Pbkdf2 { iterations } => {
                verify_pbkdf2(bytes, stored_hash, iterations.get(), PBKDF2_PREFIX)
            }
            Hasher::Pbkdf2Stretch { iterations } => {
                let stretched = sha512_hex(bytes);
                verify_pbkdf2(
                    stretched.as_bytes(),
                    stored_hash,
                    iterations.get(),
                    PBKDF2_STRETCH_PREFIX,
                )
            }
            Hasher::Ssha256 => verify_ssha256(bytes, stored_hash),
            Hasher::Sha1 => stored_hash
                .strip_prefix(SHA1_PREFIX)
                .is_some_and(|b64| ct_eq_str(&STANDARD.encode(Sha1::digest(bytes)), b64)),
            Hasher::Md5 => stored_hash
                .strip_prefix(MD5_PREFIX)
                .is_some_and(|b64| ct_eq_str(&STANDARD.encode(Md5::digest(bytes)), b64)),
            Hasher::Sha256 => {
                ct_eq_str(&URL_SAFE_NO_PAD.encode(Sha256::digest(bytes)), stored_hash)
            }
            Hasher::Noop => bool::from(bytes.ct_eq(stored_hash.as_bytes())),
        }
    }
}

impl fmt::Display for Hasher {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.name())
    }
}

/// `Hasher.verifyHash(data, hash)`: [`Hasher::resolve_from_hash`] then [`Hasher::verify`].
///
/// A stored value without a known prefix resolves to NOOP, so it is compared as plaintext (in
/// constant time), as in Elasticsearch. Where Elasticsearch would throw from `resolveFromHash`
/// (an unknown bcrypt cost or PBKDF2 count, an unparseable count), this answers `false`; call
/// `resolve_from_hash` first to see the error.
pub fn verify_hash(secret: &str, stored_hash: &str) -> bool {
    Hasher::resolve_from_hash(stored_hash).is_ok_and(|h| h.verify(secret, stored_hash))
}

/// A presented secret (a token or API-key secret) that never shows in logs: `Debug` and
/// `Display` print `Secret(**redacted**)`. Read it with [`Secret::expose`]. Equality is
/// constant-time. On drop the bytes are overwritten with zeros (best effort, without `unsafe`).
#[derive(Clone, Default)]
pub struct Secret(Box<str>);

impl Secret {
    /// What `Debug` and `Display` print.
    pub const REDACTED: &'static str = "Secret(**redacted**)";

    pub fn new(secret: impl Into<Box<str>>) -> Self {
        Secret(secret.into())
    }

    /// The secret in clear. Do not log the result.
    pub fn expose(&self) -> &str {
        &self.0
    }

    /// Length in bytes (UTF-8).
    pub fn len(&self) -> usize {
        self.0.len()
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// Length in chars, as Elasticsearch counts a `SecureString` (for ASCII secrets, the same
    /// as [`Secret::len`]).
    pub fn char_count(&self) -> usize {
        self.0.chars().count()
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(Self::REDACTED)
    }
}

impl fmt::Display for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(Self::REDACTED)
    }
}

impl PartialEq for Secret {
    fn eq(&self, other: &Self) -> bool {
        bool::from(self.0.as_bytes().ct_eq(other.0.as_bytes()))
    }
}

impl Eq for Secret {}

impl From<&str> for Secret {
    fn from(s: &str) -> Self {
        Secret::new(s)
    }
}

impl From<String> for Secret {
    fn from(s: String) -> Self {
        Secret::new(s)
    }
}

impl Drop for Secret {
    fn drop(&mut self) {
        let mut bytes = std::mem::take(&mut self.0).into_boxed_bytes();
        bytes.fill(0);
        std::hint::black_box(&bytes);
    }
}

// ---------------------------------------------------------------------------------------------
// Helpers

/// `pbkdf2_<n>` / `pbkdf2_stretch_<n>` suffixes that have a hasher. Only the exact decimal
/// spellings Elasticsearch lists match (no sign, no leading zeros).
fn parse_iteration_choice(suffix: &str) -> Option<Pbkdf2Iterations> {
    PBKDF2_ITERATION_CHOICES
        .into_iter()
        .find(|n| n.to_string() == suffix)
        .map(Pbkdf2Iterations)
}

/// `bcrypt<cost>` suffixes with a hasher: `4`..`14`, exact decimal spellings.
fn parse_bcrypt_cost(suffix: &str) -> Option<BcryptCost> {
    (BCRYPT_MIN_COST..=BCRYPT_MAX_COST)
        .find(|c: &u32| c.to_string() == suffix)
        .map(BcryptCost)
}

/// bcrypt with a cost the type guarantees (4..=14) and a 16-byte salt. The `bcrypt` crate fails
/// only for costs outside 4..=31; should it ever fail, the hash is the empty string, which verifies
/// nothing (fail closed, no panic).
fn bcrypt_hash(secret: &[u8], cost: BcryptCost, salt: [u8; BCRYPT_SALT_BYTES]) -> String {
    bcrypt::hash_with_salt(secret, cost.get(), salt)
        .map(|h| h.format_for_version(bcrypt::Version::TwoA))
        .unwrap_or_default()
}

/// `$2?$` with a minor version ES's bcrypt accepts (`a`, `b`, `y`).
fn is_bcrypt_prefix(hash: &str) -> bool {
    let b = hash.as_bytes();
    b.len() >= BCRYPT_PREFIX_LEN
        && b[0] == b'$'
        && b[1] == b'2'
        && matches!(b[2], b'a' | b'b' | b'y')
        && b[3] == b'$'
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

/// Byte offset of char number `n` of `s` (`s.len()` for `n` = the char count), or `None` past
/// the end. Elasticsearch indexes its `char[]` hashes by char.
fn char_offset(s: &str, n: usize) -> Option<usize> {
    s.char_indices()
        .map(|(i, _)| i)
        .chain(std::iter::once(s.len()))
        .nth(n)
}

fn ct_eq_str(a: &str, b: &str) -> bool {
    bool::from(a.as_bytes().ct_eq(b.as_bytes()))
}

/// Lowercase hex of SHA-512(data): the PBKDF2_STRETCH password (128 ASCII chars).
fn sha512_hex(data: &[u8]) -> String {
    const HEX: &[u8; 16] = b"0123456789abcdef";
    let digest = Sha512::digest(data);
    let mut out = String::with_capacity(digest.len() * 2);
    for byte in digest {
        out.push(char::from(HEX[usize::from(byte >> 4)]));
        out.push(char::from(HEX[usize::from(byte & 0x0f)]));
    }
    out
}

fn pbkdf2_hash<R: RngCore + ?Sized>(
    password: &[u8],
    iterations: u32,
    prefix: &str,
    rng: &mut R,
) -> String {
    let mut salt = [0u8; PBKDF2_SALT_BYTES];
    rng.fill_bytes(&mut salt);
    let mut key = [0u8; PBKDF2_KEY_BYTES];
    pbkdf2::pbkdf2_hmac::<Sha512>(password, &salt, iterations, &mut key);
    let mut out = String::with_capacity(prefix.len() + 10 + 2 + 44 + 44);
    out.push_str(prefix);
    out.push_str(&iterations.to_string());
    out.push('$');
    STANDARD.encode_string(salt, &mut out);
    out.push('$');
    STANDARD.encode_string(key, &mut out);
    out
}

fn verify_pbkdf2(password: &[u8], hash: &str, iterations: u32, prefix: &str) -> bool {
    if iterations == 0 || !hash.starts_with(prefix) {
        return false;
    }
    // Elasticsearch starts looking for the first `$` after the prefix plus as many chars as this
    // hasher's iteration count has digits; the number written in the hash is not read.
    let skip = prefix.len() + iterations.to_string().len();
    let Some(start) = char_offset(hash, skip) else {
        return false;
    };
    let Some(sep1) = hash[start..].find('$').map(|i| start + i) else {
        return false;
    };
    let Some(sep2) = hash[sep1 + 1..].find('$').map(|i| sep1 + 1 + i) else {
        return false;
    };
    let salt_b64 = &hash[sep1 + 1..sep2];
    let key_b64 = &hash[sep2 + 1..];
    // Base64 length -> bytes (n * 3/4), rounded down to whole 16-byte blocks, in bits.
    let key_bits = key_b64.chars().count() * 3 / 64 * PBKDF2_KEY_BLOCK_BITS;
    if key_bits == 0 {
        return false; // ES: "PBKDF2 key length must be positive and multiple of [128 bits]"
    }
    let Ok(salt) = JAVA_DECODER.decode(salt_b64) else {
        return false;
    };
    if salt.len() < PBKDF2_MIN_SALT_BYTES {
        return false; // ES: "PBKDF2 salt must be at least [8 bytes] long"
    }
    let mut key = vec![0u8; key_bits / 8];
    pbkdf2::pbkdf2_hmac::<Sha512>(password, &salt, iterations, &mut key);
    ct_eq_str(&STANDARD.encode(&key), key_b64)
}

fn verify_ssha256(secret: &[u8], hash: &str) -> bool {
    let Some(salt_and_hash) = hash.strip_prefix(SSHA256_PREFIX) else {
        return false;
    };
    let Some(split) = char_offset(salt_and_hash, SSHA256_SALT_CHARS) else {
        return false;
    };
    // Decode and encode on the stack: this runs on every auth-cache hit.
    let mut salt = [0u8; 16];
    let Ok(salt_len) = JAVA_DECODER.decode_slice(&salt_and_hash[..split], &mut salt) else {
        return false;
    };
    let digest = Sha256::new()
        .chain_update(secret)
        .chain_update(&salt[..salt_len])
        .finalize();
    let mut encoded = [0u8; 44];
    let Ok(n) = STANDARD.encode_slice(digest, &mut encoded) else {
        return false;
    };
    let stored = salt_and_hash.as_bytes().get(split..).unwrap_or_default(); // `split` is a char offset
    bool::from(encoded[..n].ct_eq(stored))
}

fn verify_bcrypt(secret: &[u8], hash: &str) -> bool {
    if !is_bcrypt_prefix(hash) {
        return false;
    }
    // jBCrypt: two decimal digits of cost in 4..=30, then `$`, 22 salt and 31 hash chars.
    let b = hash.as_bytes();
    if b.len() != 60 || !b[4].is_ascii_digit() || !b[5].is_ascii_digit() || b[6] != b'$' {
        return false;
    }
    let cost = u32::from(b[4] - b'0') * 10 + u32::from(b[5] - b'0');
    if !(4..=30).contains(&cost) {
        return false;
    }
    bcrypt::verify(secret, hash).unwrap_or(false)
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;
    use rand::RngCore;
    use rand::SeedableRng;
    use rand_chacha::ChaCha8Rng;

    /// An RNG whose bytes are 0, 1, 2, ... so salts are known (vectors computed with Python's
    /// hashlib).
    struct CountingRng(u8);

    impl RngCore for CountingRng {
        fn next_u32(&mut self) -> u32 {
            let mut b = [0u8; 4];
            self.fill_bytes(&mut b);
            u32::from_le_bytes(b)
        }
        fn next_u64(&mut self) -> u64 {
            let mut b = [0u8; 8];
            self.fill_bytes(&mut b);
            u64::from_le_bytes(b)
        }
        fn fill_bytes(&mut self, dst: &mut [u8]) {
            for b in dst {
                *b = self.0;
                self.0 = self.0.wrapping_add(1);
            }
        }
    }

    fn rng() -> ChaCha8Rng {
        ChaCha8Rng::seed_from_u64(7)
    }

    /// One of each kind, cheap costs.
    fn cheap_hashers() -> Vec<Hasher> {
        vec![
            Hasher::bcrypt(4).unwrap(),
            Hasher::pbkdf2(1000).unwrap(),
            Hasher::pbkdf2_stretch(1000).unwrap(),
            Hasher::Ssha256,
            Hasher::Sha1,
            Hasher::Md5,
            Hasher::Noop,
            Hasher::Sha256,
        ]
    }

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
            ("".into(), Hasher::Noop),
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

    #[test]
    fn every_hasher_round_trips() {
        let mut rng = rng();
        let mut all = cheap_hashers();
        all.push(Hasher::pbkdf2(10_000).unwrap());
        all.push(Hasher::pbkdf2_stretch(10_000).unwrap());
        for h in all {
            for secret in ["r5wdbdboQSe9vGOKwaJGAw", "", "pässwörd ☃ with spaces"] {
                let hash = h.hash(secret, &mut rng);
                assert!(h.verify(secret, &hash), "{h} {secret:?} {hash}");
                assert!(!h.verify("wrong-secret", &hash), "{h} {hash}");
                assert!(!h.verify(&format!("{secret}x"), &hash), "{h} {hash}");
                // Everything but unsalted SHA-256 (no prefix) is found again from the hash.
                if h == Hasher::Sha256 {
                    assert_eq!(Hasher::resolve_from_hash(&hash), Ok(Hasher::Noop));
                    assert!(!verify_hash(secret, &hash) || hash == secret);
                } else {
                    assert_eq!(Hasher::resolve_from_hash(&hash), Ok(h), "{hash}");
                    assert!(verify_hash(secret, &hash), "{h} {hash}");
                    assert!(!verify_hash("wrong-secret", &hash), "{h} {hash}");
                }
            }
        }
    }

    #[test]
    fn formats_and_lengths() {
        let mut rng = rng();
        let s = "some-secret";
        let ssha = Hasher::Ssha256.hash(s, &mut rng);
        assert_eq!(ssha.len(), 65);
        assert!(ssha.starts_with("{SSHA256}"));
        assert_eq!(
            &ssha[20..21],
            "=",
            "8-byte salt is 12 Base64 chars ending in '='"
        );

        let pbkdf2 = Hasher::resolve("pbkdf2").unwrap().hash(s, &mut rng);
        assert_eq!(pbkdf2.len(), 103);
        let parts: Vec<&str> = pbkdf2.split('$').collect();
        assert_eq!(parts[0], "{PBKDF2}10000");
        assert_eq!((parts[1].len(), parts[2].len()), (44, 44));
        assert_eq!(STANDARD.decode(parts[1]).unwrap().len(), 32);

        let stretch = Hasher::resolve("pbkdf2_stretch").unwrap().hash(s, &mut rng);
        assert_eq!(stretch.len(), 111);
        assert!(stretch.starts_with("{PBKDF2_STRETCH}10000$"));

        let p1000 = Hasher::pbkdf2(1000).unwrap().hash(s, &mut rng);
        assert_eq!(p1000.len(), 102);

        for cost in [4u32, 5] {
            let b = Hasher::bcrypt(cost).unwrap().hash(s, &mut rng);
            assert_eq!(b.len(), 60);
            assert!(b.starts_with(&format!("$2a$0{cost}$")), "{b}");
        }

        let sha1 = Hasher::Sha1.hash(s, &mut rng);
        assert_eq!(sha1.len(), 5 + 28);
        let md5 = Hasher::Md5.hash(s, &mut rng);
        assert_eq!(md5.len(), 5 + 24);
        let sha256 = Hasher::Sha256.hash(s, &mut rng);
        assert_eq!(sha256.len(), 43);
        assert!(!sha256.contains(['=', '+', '/']));
        assert_eq!(Hasher::Noop.hash(s, &mut rng), s);
    }

    #[test]
    fn known_vectors_with_a_known_salt() {
        // Expected values from Python's hashlib with the same salts (bytes 0, 1, 2, ...).
        let s = "correct horse";
        let cases = [
            (
                Hasher::pbkdf2(1000).unwrap(),
                "{PBKDF2}1000$AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=$ezTXKzrtu3uRVUVG5Asx+GIToYvZs6A8p9VT93h5rTQ=",
            ),
            (
                Hasher::pbkdf2_stretch(1000).unwrap(),
                "{PBKDF2_STRETCH}1000$AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=$HKRFKrPRtVNq/SVO785eSYx7xrG5JmhNyfulOpNSWhc=",
            ),
            (
                Hasher::Ssha256,
                "{SSHA256}AAECAwQFBgc=Y5vD+Iq3CpVfgnuNwvKU1Ho4qGx15uzJc99ko3CD7h8=",
            ),
            (Hasher::Sha1, "{SHA}L55TUjtiq8FBorTWAZ0jy6g129A="),
            (Hasher::Md5, "{MD5}PLTnMmMfR+brlh80VUt83g=="),
            (Hasher::Sha256, "QQTTb42iwlQ0n4WDZ5Pr4CngyVcGOjTJHC6SAxh7VjE"),
        ];
        for (h, want) in cases {
            assert_eq!(h.hash(s, &mut CountingRng(0)), want, "{h}");
            assert!(h.verify(s, want));
        }
        assert_eq!(
            Hasher::Sha1.hash("password", &mut CountingRng(0)),
            "{SHA}W6ph5Mm5Pz8GgiULbPgzG37mj9g="
        );
        // Secrets are hashed as UTF-8.
        assert_eq!(
            Hasher::Ssha256.hash("pässwörd☃", &mut CountingRng(0)),
            "{SSHA256}AAECAwQFBgc=OtGQP5ctEGU7ephKsld8m/8ttbWLrDyhzWMtmC9OrMg="
        );
    }

    #[test]
    fn pbkdf2_key_and_salt_lengths_come_from_the_stored_hash() {
        let h = Hasher::pbkdf2(1000).unwrap();
        let s = "correct horse";
        // 16-byte and 64-byte keys with an 8-byte salt (Python vectors).
        let k16 = "{PBKDF2}1000$c2FsdHNhbHQ=$+sUSD8jw4f8ns7m9b7kj8A==";
        let k64 = "{PBKDF2}1000$c2FsdHNhbHQ=$+sUSD8jw4f8ns7m9b7kj8PeJLe8lJXO8Am09BLgO79kST9D/Ija5aKINGF5Xg7hkKXw1+fNhBzzJP3eIXcWXww==";
        assert!(h.verify(s, k16));
        assert!(h.verify(s, k64));
        assert!(verify_hash(s, k16) && verify_hash(s, k64));
        assert!(!h.verify("wrong", k16));
        // A 7-byte salt is refused even though the key matches.
        let s7 = "{PBKDF2}1000$c2FsdHNhbA==$nj9X5Fbw+ry9d/9csXIMaufcR1+VWpiRul36Pqx6km0=";
        assert!(!h.verify(s, s7));
        // A key shorter than 16 bytes (fewer than 22 Base64 chars) is refused.
        assert!(!h.verify(s, "{PBKDF2}1000$c2FsdHNhbHQ=$+sUSD8jw4f8ns7m9b7kj"));
        // Salt padding is optional for Java's decoder.
        assert!(h.verify(s, "{PBKDF2}1000$c2FsdHNhbHQ$+sUSD8jw4f8ns7m9b7kj8A=="));
    }

    #[test]
    fn pbkdf2_verify_uses_the_hashers_iteration_count() {
        let mut rng = rng();
        let hash = Hasher::pbkdf2(1000).unwrap().hash("secret-1", &mut rng);
        assert!(Hasher::pbkdf2(1000).unwrap().verify("secret-1", &hash));
        assert!(!Hasher::pbkdf2(10_000).unwrap().verify("secret-1", &hash));
        // Wrong family.
        assert!(!Hasher::pbkdf2_stretch(1000)
            .unwrap()
            .verify("secret-1", &hash));
        assert!(!Hasher::Ssha256.verify("secret-1", &hash));
        assert!(!Hasher::bcrypt(4).unwrap().verify("secret-1", &hash));
        assert!(!Hasher::Noop.verify("secret-1", &hash));
        assert!(Hasher::Noop.verify(&hash, &hash));
    }

    #[test]
    fn bcrypt_verify_takes_the_cost_from_the_hash_and_accepts_2b_2y() {
        let mut rng = rng();
        let hash = Hasher::bcrypt(5).unwrap().hash("secret-2", &mut rng);
        assert!(Hasher::bcrypt(4).unwrap().verify("secret-2", &hash));
        assert!(Hasher::bcrypt(10).unwrap().verify("secret-2", &hash));
        for minor in ["2b", "2y"] {
            let other = format!("${minor}{}", &hash[3..]);
            assert!(verify_hash("secret-2", &other), "{other}");
        }
        let x = format!("$2x{}", &hash[3..]);
        assert!(!Hasher::bcrypt(5).unwrap().verify("secret-2", &x));
        // Cost 31 would be accepted by the crate but not by jBCrypt (4..=30).
        let c31 = format!("$2a$31{}", &hash[6..]);
        assert!(!Hasher::bcrypt(4).unwrap().verify("secret-2", &c31));
    }

    #[test]
    fn same_seed_same_hash() {
        for h in cheap_hashers() {
            let a = h.hash("determinism", &mut ChaCha8Rng::seed_from_u64(99));
            let b = h.hash("determinism", &mut ChaCha8Rng::seed_from_u64(99));
            assert_eq!(a, b, "{h}");
            let c = h.hash("determinism", &mut ChaCha8Rng::seed_from_u64(100));
            let salted = !matches!(
                h,
                Hasher::Sha1 | Hasher::Md5 | Hasher::Noop | Hasher::Sha256
            );
            assert_eq!(a != c, salted, "{h}");
        }
        // A sequence of hashes from one seeded RNG is reproducible too.
        let run = || {
            let mut rng = ChaCha8Rng::seed_from_u64(5);
            (0..3)
                .map(|i| Hasher::Ssha256.hash(&format!("s{i}"), &mut rng))
                .collect::<Vec<_>>()
        };
        assert_eq!(run(), run());
        // `&mut dyn RngCore` works as well.
        let mut boxed: Box<dyn RngCore> = Box::new(ChaCha8Rng::seed_from_u64(99));
        assert_eq!(
            Hasher::Ssha256.hash("determinism", boxed.as_mut()),
            Hasher::Ssha256.hash("determinism", &mut ChaCha8Rng::seed_from_u64(99))
        );
    }

    #[test]
    fn malformed_hashes_are_false_not_panics() {
        let bad = [
            "",
            "$",
            "$2a$",
            "$2a$10$",
            "$2a$10$short",
            "$2a$1é$AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA",
            "$2a$10$ééééééééééééééééééééééééééééééééééééééééééééééééééééé",
            "$2a$99$AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA",
            "$2a$10$!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!",
            "{PBKDF2}",
            "{PBKDF2}1000",
            "{PBKDF2}1000$",
            "{PBKDF2}1000$$",
            "{PBKDF2}1000$$$",
            "{PBKDF2}1000$!!!!!!!!!!!!$AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=",
            "{PBKDF2}1000$c2FsdHNhbHQ=$",
            "{PBKDF2}1000$c2FsdHNhbHQ=$é",
            "{PBKDF2}1é$c2FsdHNhbHQ=$AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=",
            "{PBKDF2}é",
            "{PBKDF2_STRETCH}1000$c2FsdHNhbHQ=$AAAA",
            "{SSHA256}",
            "{SSHA256}short",
            "{SSHA256}AAAAAAAAAAA",
            "{SSHA256}éééééééééééééé",
            "{SSHA256}!!!!!!!!!!!!AAAA",
            "{SHA}",
            "{MD5}é",
        ];
        let hashers = cheap_hashers();
        for hash in bad {
            for h in &hashers {
                assert!(!h.verify("secret", hash), "{h} {hash}");
            }
            assert!(!verify_hash("secret", hash), "{hash}");
            let _ = Hasher::resolve_from_hash(hash);
        }
    }

    #[test]
    fn noop_compares_plaintext() {
        assert!(Hasher::Noop.verify("abc", "abc"));
        assert!(!Hasher::Noop.verify("abc", "abcd"));
        assert!(!Hasher::Noop.verify("abc", "abd"));
        assert!(verify_hash("{plain}x", "{plain}x"));
        assert!(!verify_hash("x", "{plain}x"));
    }

    #[test]
    fn secret_is_redacted() {
        let s = Secret::new("r5wdbdboQSe9vGOKwaJGAw");
        assert_eq!(format!("{s:?}"), "Secret(**redacted**)");
        assert_eq!(format!("{s}"), "Secret(**redacted**)");
        assert_eq!(format!("{:?}", Some(&s)), "Some(Secret(**redacted**))");
        assert_eq!(format!("{s:#?}"), "Secret(**redacted**)");
        assert_eq!(s.expose(), "r5wdbdboQSe9vGOKwaJGAw");
        assert_eq!((s.len(), s.char_count(), s.is_empty()), (22, 22, false));
        assert_eq!(s, Secret::from(String::from("r5wdbdboQSe9vGOKwaJGAw")));
        assert_ne!(s, Secret::from("r5wdbdboQSe9vGOKwaJGAx"));
        assert!(Secret::default().is_empty());
        assert_eq!(Secret::new("é").char_count(), 1);
        let hash = Hasher::Ssha256.hash(s.expose(), &mut rng());
        assert!(Hasher::Ssha256.verify(s.expose(), &hash));
        drop(s.clone());
    }

    fn hash_like() -> impl Strategy<Value = String> {
        prop_oneof![
            any::<String>(),
            "\\$2[abxy]\\$.{0,70}",
            "\\$2[aby]\\$0[0-5]\\$[./A-Za-z0-9]{53}",
            "\\{PBKDF2\\}[0-9+-]{0,8}\\$.{0,60}",
            "\\{PBKDF2\\}1000\\$[A-Za-z0-9+/=]{0,16}\\$[A-Za-z0-9+/=]{0,48}",
            "\\{PBKDF2_STRETCH\\}1000\\$[A-Za-z0-9+/=]{0,16}\\$[A-Za-z0-9+/=]{0,48}",
            "\\{PBKDF2_STRETCH\\}.{0,40}",
            "\\{SSHA256\\}.{0,70}",
            "\\{SSHA256\\}[A-Za-z0-9+/=]{0,60}",
            "\\{(SHA|MD5)\\}.{0,40}",
        ]
    }

    proptest! {
        #![proptest_config(ProptestConfig { cases: 400, ..ProptestConfig::default() })]

        #[test]
        fn arbitrary_hashes_never_panic(hash in hash_like(), secret in ".{0,24}") {
            let resolved = Hasher::resolve_from_hash(&hash);
            let verified = verify_hash(&secret, &hash);
            if resolved.is_err() {
                prop_assert!(!verified);
            }
            for h in cheap_hashers() {
                let _ = h.verify(&secret, &hash);
            }
        }

        #[test]
        fn arbitrary_names_never_panic(name in any::<String>()) {
            if let Ok(h) = Hasher::resolve(&name) {
                prop_assert_eq!(Hasher::resolve(&h.name()), Ok(h));
            }
        }

        #[test]
        fn ssha256_round_trips(secret in any::<String>(), seed in any::<u64>()) {
            let mut rng = ChaCha8Rng::seed_from_u64(seed);
            let hash = Hasher::Ssha256.hash(&secret, &mut rng);
            prop_assert_eq!(hash.len(), 65);
            prop_assert!(verify_hash(&secret, &hash));
            let other = format!("{secret}!");
            prop_assert!(!verify_hash(&other, &hash));
        }
    }
}
