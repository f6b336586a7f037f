//! Hashing and verification for every hasher (`Hasher.hash`, `Hasher.verify`, `Hasher.verifyHash`
//! in `x-pack/plugin/core/src/main/java/org/elasticsearch/xpack/core/security/authc/support/Hasher.java`);
//! the salted and unsalted SHA and MD5 digests are written here, bcrypt and PBKDF2 in their own files.

use super::bcrypt::{bcrypt_hash, verify_bcrypt, BCRYPT_SALT_BYTES};
use super::encoding::ct_eq_str;
use super::pbkdf2::{pbkdf2_hash, sha512_hex, verify_pbkdf2, PBKDF2_PREFIX, PBKDF2_STRETCH_PREFIX};
use super::sha::{verify_ssha256, MD5_PREFIX, SHA1_PREFIX, SSHA256_PREFIX, SSHA256_SALT_BYTES};
use super::Hasher;
use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use base64::Engine as _;
use md5::Md5;
use rand::RngCore;
use sha1::Sha1;
use sha2::Digest;
use sha2::Sha256;
use subtle::ConstantTimeEq;

impl Hasher {
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

/// `Hasher.verifyHash(data, hash)`: [`Hasher::resolve_from_hash`] then [`Hasher::verify`].
///
/// A stored value without a known prefix resolves to NOOP, so it is compared as plaintext (in
/// constant time), as in Elasticsearch. Where Elasticsearch would throw from `resolveFromHash`
/// (an unknown bcrypt cost or PBKDF2 count, an unparseable count), this answers `false`; call
/// `resolve_from_hash` first to see the error.
pub fn verify_hash(secret: &str, stored_hash: &str) -> bool {
    Hasher::resolve_from_hash(stored_hash).is_ok_and(|h| h.verify(secret, stored_hash))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::security::hashing::test_support::*;
    use crate::security::hashing::*;
    use proptest::prelude::*;
    use rand::RngCore;
    use rand::SeedableRng;
    use rand_chacha::ChaCha8Rng;

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
