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
//! | `PBKDF2_STRETCH` | as PBKDF2 with the prefix `{PBKDF2_STRETCH}`; the PBKDF2 password is the lowercase hex of SHA-512(secret) |
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
//!
//! Files: `algorithm.rs` (the `Hasher` enum, its names, `resolve`, `resolveFromHash`), `cost.rs`
//! (bcrypt costs and PBKDF2 iteration counts), `hash.rs` (`hash`, `verify`, `verifyHash`, the SHA
//! and MD5 digests), `bcrypt.rs`, `pbkdf2.rs`, `sha.rs` (salted SHA-256), `encoding.rs` (Java's Base64
//! decoder, char offsets, constant-time comparison), `secret.rs` ([`Secret`]), `error.rs`
//! ([`HashError`]), `memo.rs` (memoised verification by instance, for the simulator's hot path).

mod algorithm;
mod bcrypt;
mod cost;
mod encoding;
mod error;
mod hash;
mod memo;
mod pbkdf2;
mod secret;
mod sha;
#[cfg(test)]
mod test_support;

pub use algorithm::available_algo_cache_hash;
pub(crate) use algorithm::available_algo_stored_hash;
pub use algorithm::Hasher;
pub use cost::{BcryptCost, Pbkdf2Iterations};
pub(crate) use cost::{BCRYPT_DEFAULT_COST, PBKDF2_DEFAULT_ITERATIONS};
pub use error::HashError;
pub use hash::verify_hash;
pub(crate) use memo::VerifyMemo;
pub use secret::Secret;
