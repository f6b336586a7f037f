//! bcrypt as Elasticsearch writes and checks it (`$2a$`, jBCrypt's layout; `Hasher.java` and
//! `x-pack/plugin/core/src/main/java/org/elasticsearch/xpack/core/security/authc/support/BCrypt.java`).

use super::BcryptCost;

pub(super) const BCRYPT_PREFIX_LEN: usize = 4;

pub(super) const BCRYPT_SALT_BYTES: usize = 16;

/// bcrypt with a cost the type guarantees (4..=14) and a 16-byte salt. The `bcrypt` crate fails
/// only for costs outside 4..=31; should it ever fail, the hash is the empty string, which verifies
/// nothing (fail closed, no panic).
pub(super) fn bcrypt_hash(
    secret: &[u8],
    cost: BcryptCost,
    salt: [u8; BCRYPT_SALT_BYTES],
) -> String {
    bcrypt::hash_with_salt(secret, cost.get(), salt)
        .map(|h| h.format_for_version(bcrypt::Version::TwoA))
        .unwrap_or_default()
}

/// `$2?$` with a minor version ES's bcrypt accepts (`a`, `b`, `y`).
pub(super) fn is_bcrypt_prefix(hash: &str) -> bool {
    let b = hash.as_bytes();
    b.len() >= BCRYPT_PREFIX_LEN
        && b[0] == b'$'
        && b[1] == b'2'
        && matches!(b[2], b'a' | b'b' | b'y')
        && b[3] == b'$'
}

pub(super) fn verify_bcrypt(secret: &[u8], hash: &str) -> bool {
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
    use crate::security::hashing::test_support::*;
    use crate::security::hashing::*;

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
}
