//! `escache::security::hashing` against real Elasticsearch output.
//!
//! `tests/data/service_tokens` is Elasticsearch's own test resource (see `tests/data/README.md`
//! for its source and commit); the secrets are those of `FileServiceAccountTokenStoreTests`.

use crate::common::{SERVICE_TOKENS, SERVICE_TOKEN_SECRETS as SECRETS};
use escache::security::hashing::{verify_hash, Hasher};
use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;

/// `key -> hash` pairs of the file, split at the first `:` (F2; no comments or blank lines
/// in this file).
fn lines() -> Vec<(&'static str, &'static str)> {
    SERVICE_TOKENS
        .lines()
        .map(|l| l.trim().split_once(':').expect("every line has a ':'"))
        .collect()
}

fn hash_of(token: &str) -> &'static str {
    let key = format!("elastic/fleet-server/{token}");
    lines()
        .into_iter()
        .find(|(k, _)| *k == key)
        .map_or_else(|| panic!("{key} not in the file"), |(_, h)| h)
}

#[test]
fn the_file_has_the_six_expected_lines() {
    let keys: Vec<&str> = lines().into_iter().map(|(k, _)| k).collect();
    assert_eq!(
        keys,
        [
            "elastic/fleet-server/pbkdf2",
            "elastic/fleet-server/bcrypt10",
            "elastic/fleet-server/pbkdf2_stretch",
            "elastic/fleet-server/pbkdf2_50000",
            "elastic/fleet-server/bcrypt",
            "elastic/fleet-server/plain",
        ]
    );
}

#[test]
fn real_elasticsearch_hashes_resolve_to_the_named_hasher() {
    for (token, _) in SECRETS {
        let hasher = Hasher::resolve_from_hash(hash_of(token)).unwrap();
        // The token names are the hasher names Elasticsearch used to write them.
        assert_eq!(hasher, Hasher::resolve(token).unwrap(), "{token}");
    }
    assert_eq!(
        Hasher::resolve_from_hash(hash_of("pbkdf2_50000")),
        Ok(Hasher::pbkdf2(50_000).unwrap())
    );
    assert_eq!(
        Hasher::resolve_from_hash(hash_of("pbkdf2_stretch")),
        Ok(Hasher::pbkdf2_stretch(10_000).unwrap())
    );
    assert_eq!(
        Hasher::resolve_from_hash(hash_of("bcrypt10")),
        Ok(Hasher::bcrypt(10).unwrap())
    );
}

#[test]
fn real_elasticsearch_hashes_verify_with_their_secrets_only() {
    for (i, (token, secret)) in SECRETS.into_iter().enumerate() {
        let hash = hash_of(token);
        assert!(verify_hash(secret, hash), "{token} must verify");
        let hasher = Hasher::resolve(token).unwrap();
        assert!(hasher.verify(secret, hash), "{token} via resolve({token})");
        // Another token's secret (the next one in the table) must not verify.
        let (other, other_secret) = SECRETS[(i + 1) % SECRETS.len()];
        assert!(
            !verify_hash(other_secret, hash),
            "{token} must not verify with {other}'s secret"
        );
        assert!(
            !verify_hash(&secret[1..], hash),
            "{token}: truncated secret"
        );
    }
}

#[test]
fn the_plaintext_line_resolves_to_noop() {
    let plain = hash_of("plain");
    assert_eq!(plain, "{plain}_By842iQQVKSCLxVcJZWvw");
    assert_eq!(Hasher::resolve_from_hash(plain), Ok(Hasher::Noop));
    // Elasticsearch's file loader skips it; the hashed lines are all non-NOOP.
    let skipped: Vec<&str> = lines()
        .into_iter()
        .filter(|(_, h)| Hasher::resolve_from_hash(h) == Ok(Hasher::Noop))
        .map(|(k, _)| k)
        .collect();
    assert_eq!(skipped, ["elastic/fleet-server/plain"]);
}

/// `x-pack/plugin/security/qa/service-account/src/javaRestTest/resources/service_tokens`
/// @416613a3 and the secrets of `ServiceAccountIT.VALID_SERVICE_TOKEN` /
/// `INVALID_SERVICE_TOKEN` (`elastic/fleet-server/token1`).
#[test]
fn service_account_it_token_verifies() {
    let line = "elastic/fleet-server/token1:{PBKDF2_STRETCH}10000$8QN+eThJEaCd18sCP0nfzxJq2D9yhmSZgI20TDooYcE=$+0ELfqW4D2+/SlHvm/885dzv67qO2SMJg32Mv/9epXk=";
    let (key, hash) = line.split_once(':').unwrap();
    assert_eq!(key, "elastic/fleet-server/token1");
    assert_eq!(
        Hasher::resolve_from_hash(hash),
        Ok(Hasher::pbkdf2_stretch(10_000).unwrap())
    );
    assert!(verify_hash("r5wdbdboQSe9vGOKwaJGAw", hash));
    assert!(!verify_hash("3aJCLaQWRN2sXlOdtxA0SQ", hash));
}

#[test]
fn our_hashes_have_the_same_shape_as_elasticsearch_hashes() {
    let mut rng = ChaCha8Rng::seed_from_u64(1);
    for (token, secret) in SECRETS {
        let real = hash_of(token);
        let hasher = Hasher::resolve(token).unwrap();
        let ours = hasher.hash(secret, &mut rng);
        assert_eq!(ours.len(), real.len(), "{token}: {ours} vs {real}");
        let cut = if real.starts_with('$') {
            7
        } else {
            real.find('$').unwrap() + 1
        };
        assert_eq!(ours[..cut], real[..cut], "{token}");
        assert!(verify_hash(secret, &ours));
    }
}

/// Issue 8, point 10: a bcrypt cost or PBKDF2 count without an Elasticsearch hasher cannot be built
/// (it used to make `hash` panic); the constructors answer `Hasher.resolve`'s error instead, and
/// every value they accept hashes and verifies.
#[test]
fn issue8_d10_invalid_costs_are_refused_not_panicking() {
    use escache::security::hashing::{BcryptCost, Pbkdf2Iterations};
    assert_eq!(
        Hasher::bcrypt(40).unwrap_err().to_string(),
        "unknown hash function [bcrypt40]"
    );
    assert_eq!(
        Hasher::pbkdf2(0).unwrap_err().to_string(),
        "unknown hash function [pbkdf2_0]"
    );
    assert_eq!(
        Hasher::pbkdf2_stretch(0).unwrap_err().to_string(),
        "unknown hash function [pbkdf2_stretch_0]"
    );
    // Exactly Elasticsearch's BCRYPT4..BCRYPT14 and PBKDF2_{1000,...,1000000}.
    for cost in 0..=64u32 {
        assert_eq!(
            BcryptCost::new(cost).is_ok(),
            (4..=14).contains(&cost),
            "{cost}"
        );
        assert_eq!(
            Hasher::bcrypt(cost).ok(),
            Hasher::resolve(&format!("bcrypt{cost}")).ok(),
            "{cost}"
        );
    }
    let choices = [1_000, 10_000, 50_000, 100_000, 500_000, 1_000_000];
    for n in [
        0,
        1,
        999,
        1_000,
        2_000,
        10_000,
        50_000,
        100_000,
        500_000,
        1_000_000,
        u32::MAX,
    ] {
        assert_eq!(
            Pbkdf2Iterations::new(n).is_ok(),
            choices.contains(&n),
            "{n}"
        );
        assert_eq!(
            Hasher::pbkdf2(n).ok(),
            Hasher::resolve(&format!("pbkdf2_{n}")).ok()
        );
        assert_eq!(
            Hasher::pbkdf2_stretch(n).ok(),
            Hasher::resolve(&format!("pbkdf2_stretch_{n}")).ok()
        );
    }
    // The cheapest accepted values hash and verify (the others only cost more time).
    let mut rng = ChaCha8Rng::seed_from_u64(1);
    for h in [
        Hasher::bcrypt(4).unwrap(),
        Hasher::pbkdf2(1_000).unwrap(),
        Hasher::pbkdf2_stretch(1_000).unwrap(),
    ] {
        let hash = h.hash("s3cret", &mut rng);
        assert!(h.verify("s3cret", &hash), "{h}");
        assert_eq!(Hasher::resolve_from_hash(&hash), Ok(h));
    }
}
