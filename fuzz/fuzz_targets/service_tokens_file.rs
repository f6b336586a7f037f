//! The `service_tokens` file parser (`security::service_account::file`, F1-F3).
//!
//! Oracle, for any bytes:
//! - the strict and the lenient parse agree (lenient = strict, or empty with Elasticsearch's error line);
//! - every token kept has a hash whose prefix resolves to a hasher other than NOOP, and a key without
//!   `:`; the `Debug` form of the parsed file shows no hash;
//! - writing the parsed tokens back (`to_file_bytes`, the CLI's `writeFile`) and parsing again gives the
//!   same tokens (except for keys that start with `#`, which Elasticsearch also writes as comments);
//! - for cheap hashers: verifying the key as a secret against the stored hash does not panic, and a
//!   fresh hash of the key by the resolved hasher verifies and resolves back to that hasher.
#![no_main]

use escache::security::hashing::Hasher;
use escache::security::service_account::file::{
    parse_service_tokens_file, parse_service_tokens_file_lenient,
};
use libfuzzer_sys::fuzz_target;
use rand::rngs::SmallRng;
use rand::SeedableRng;

/// Hashers cheap enough to run per input (bcrypt reads its cost from the hash itself).
fn cheap(hasher: &Hasher, hash: &str) -> bool {
    let name = hasher.name();
    match name.as_str() {
        "sha1" | "md5" | "ssha256" | "pbkdf2_1000" | "pbkdf2_stretch_1000" => true,
        n if n.starts_with("bcrypt") => {
            let cost: Option<u32> = hash.get(4..6).and_then(|c| c.parse().ok());
            matches!(n, "bcrypt4" | "bcrypt5" | "bcrypt6") && cost.is_some_and(|c| c <= 6)
        }
        _ => false,
    }
}

fuzz_target!(|data: &[u8]| {
    let strict = parse_service_tokens_file(data);
    let (lenient, log) = parse_service_tokens_file_lenient(data);
    match &strict {
        Ok(p) => {
            assert!(log.is_none());
            assert!(lenient.same_tokens(p) && lenient.len() == p.len());
        }
        Err(_) => {
            assert!(lenient.is_empty());
            assert!(log.is_some_and(|l| l.starts_with("failed to parse service tokens file")));
        }
    }
    let Ok(parsed) = strict else { return };
    let debug = format!("{parsed:?}");
    let keys: Vec<&str> = parsed.keys().collect();
    // Keys and warnings are shown on purpose; a hash that is also part of one proves nothing.
    let shown: Vec<&str> = keys
        .iter()
        .copied()
        .chain(parsed.warnings().iter().map(String::as_str))
        .collect();
    let mut hashed_one = false;
    for (key, hash) in parsed.iter() {
        assert!(!key.contains(':'), "key with a colon: {key:?}");
        let hasher = Hasher::resolve_from_hash(hash).expect("a kept hash resolves");
        assert_ne!(hasher, Hasher::Noop, "a plaintext line was kept");
        if !shown.iter().any(|s| s.contains(hash)) {
            assert!(!debug.contains(hash), "Debug shows a hash: {debug}");
        }
        // One verification per file keeps the target fast (PBKDF2 costs 1000 rounds at least).
        if !hashed_one && cheap(&hasher, hash) {
            hashed_one = true;
            let _ = hasher.verify(key, hash);
            let mut rng = SmallRng::seed_from_u64(data.len() as u64);
            let fresh = hasher.hash(key, &mut rng);
            assert!(
                hasher.verify(key, &fresh),
                "{hasher} does not verify its own hash"
            );
            assert_eq!(Hasher::resolve_from_hash(&fresh).ok(), Some(hasher));
        }
    }
    if keys.iter().all(|k| !k.starts_with('#')) {
        let written = parsed.to_file_bytes();
        let reread = parse_service_tokens_file(&written).expect("a written file parses");
        assert!(
            reread.same_tokens(&parsed),
            "write/read changed the tokens: {:?}",
            String::from_utf8_lossy(&written)
        );
    }
});
