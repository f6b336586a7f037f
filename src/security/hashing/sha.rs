//! The SHA and MD5 hashers' prefixes, and salted SHA-256 (`{SSHA256}`) verification
//! (`x-pack/plugin/core/src/main/java/org/elasticsearch/xpack/core/security/authc/support/Hasher.java`).

use super::encoding::{char_offset, JAVA_DECODER};
use base64::engine::general_purpose::STANDARD;
use base64::Engine as _;
use sha2::Digest;
use sha2::Sha256;
use subtle::ConstantTimeEq;

pub(super) const SHA1_PREFIX: &str = "{SHA}";

pub(super) const MD5_PREFIX: &str = "{MD5}";

pub(super) const SSHA256_PREFIX: &str = "{SSHA256}";

pub(super) const SSHA256_SALT_BYTES: usize = 8;

/// Base64 length of the 8-byte SSHA256 salt.
const SSHA256_SALT_CHARS: usize = 12;

pub(super) fn verify_ssha256(secret: &[u8], hash: &str) -> bool {
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
