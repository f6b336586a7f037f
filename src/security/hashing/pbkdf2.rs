//! PBKDF2-HMAC-SHA512 (`{PBKDF2}`, `{PBKDF2_STRETCH}`) as Elasticsearch writes and checks it
//! (`x-pack/plugin/core/src/main/java/org/elasticsearch/xpack/core/security/authc/support/Hasher.java`).

use super::encoding::{char_offset, ct_eq_str, JAVA_DECODER};
use base64::engine::general_purpose::STANDARD;
use base64::Engine as _;
use rand::RngCore;
use sha2::Digest;
use sha2::Sha512;

pub(super) const PBKDF2_PREFIX: &str = "{PBKDF2}";

pub(super) const PBKDF2_STRETCH_PREFIX: &str = "{PBKDF2_STRETCH}";

/// Length of the salt and derived key that `hash` writes for PBKDF2 (Elasticsearch's 256 bits).
const PBKDF2_KEY_BYTES: usize = 32;

const PBKDF2_SALT_BYTES: usize = 32;

const PBKDF2_MIN_SALT_BYTES: usize = 8;

/// Verification derives the key length from the stored hash, rounded down to this many bits.
const PBKDF2_KEY_BLOCK_BITS: usize = 128;

/// Lowercase hex of SHA-512(data): the `PBKDF2_STRETCH` password (128 ASCII chars).
pub(super) fn sha512_hex(data: &[u8]) -> String {
    const HEX: &[u8; 16] = b"0123456789abcdef";
    let digest = Sha512::digest(data);
    let mut out = String::with_capacity(digest.len() * 2);
    for byte in digest {
        out.push(char::from(HEX[usize::from(byte >> 4)]));
        out.push(char::from(HEX[usize::from(byte & 0x0f)]));
    }
    out
}

pub(super) fn pbkdf2_hash<R: RngCore + ?Sized>(
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

pub(super) fn verify_pbkdf2(password: &[u8], hash: &str, iterations: u32, prefix: &str) -> bool {
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

#[cfg(test)]
mod tests {
    use crate::security::hashing::test_support::*;
    use crate::security::hashing::*;

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
}
