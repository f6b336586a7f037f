//! Test helpers shared by the hashing modules' unit tests.

use super::Hasher;
use rand::{RngCore, SeedableRng};
use rand_chacha::ChaCha8Rng;

/// An RNG whose bytes are 0, 1, 2, ... so salts are known (vectors computed with Python's
/// hashlib).
pub(super) struct CountingRng(pub(super) u8);

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

pub(super) fn rng() -> ChaCha8Rng {
    ChaCha8Rng::seed_from_u64(7)
}

/// One of each kind, cheap costs.
pub(super) fn cheap_hashers() -> Vec<Hasher> {
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
