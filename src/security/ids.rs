//! Identifiers as Elasticsearch makes them, from a seeded generator.
//!
//! * `UUIDs.randomBase64UUID()`: 16 random bytes with the version-4 and variant bits set, URL-safe
//!   Base64 without padding: 22 characters (node ids, index UUIDs; API key and token secrets before
//!   PR #120997 used the same shape).
//! * `UUIDs.base64UUID()`: the time-based "flake" id of `TimeBasedUUIDGenerator`: a 24-bit sequence
//!   number, the millisecond timestamp and a 6-byte address, laid out as Elasticsearch lays them out,
//!   15 bytes, 20 characters (API key ids).

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use rand::RngCore;

/// `UUIDs.randomBase64UUID`.
pub(crate) fn random_base64_uuid(rng: &mut impl RngCore) -> String {
    let mut b = [0u8; 16];
    rng.fill_bytes(&mut b);
    b[6] = (b[6] & 0x0f) | 0x40; // version 4
    b[8] = (b[8] & 0x3f) | 0x80; // IETF variant
    URL_SAFE_NO_PAD.encode(b)
}

/// `SecureRandomUtils.getBase64SecureRandomString(16)`: 16 random bytes, URL-safe, no padding (the
/// API key secret since PR #120997): 22 characters.
pub(crate) fn random_secret(rng: &mut impl RngCore) -> String {
    let mut b = [0u8; 16];
    rng.fill_bytes(&mut b);
    URL_SAFE_NO_PAD.encode(b)
}

/// `TimeBasedUUIDGenerator`: sequence and timestamp interleaved with a per-generator address.
#[derive(Debug, Clone)]
pub(crate) struct TimeBasedUuidGenerator {
    sequence: u32,
    last_timestamp: i64,
    address: [u8; 6],
}

impl TimeBasedUuidGenerator {
    pub(crate) fn new(rng: &mut impl RngCore) -> Self {
        let mut address = [0u8; 6];
        rng.fill_bytes(&mut address);
        TimeBasedUuidGenerator {
            sequence: rng.next_u32() & 0x00ff_ffff,
            last_timestamp: 0,
            address,
        }
    }

    /// The next id at `epoch_millis`. Like Elasticsearch, the timestamp never goes backwards and is
    /// bumped when the sequence wraps within one millisecond.
    pub(crate) fn next(&mut self, epoch_millis: i64) -> String {
        self.sequence = (self.sequence + 1) & 0x00ff_ffff;
        let mut ts = epoch_millis.max(self.last_timestamp);
        if self.sequence == 0 && ts == self.last_timestamp {
            ts += 1;
        }
        self.last_timestamp = ts;
        let seq = self.sequence;
        let mut b = [0u8; 15];
        b[0] = seq as u8;
        b[1] = (seq >> 16) as u8;
        b[2] = (ts >> 16) as u8;
        b[3] = (ts >> 24) as u8;
        b[4] = (ts >> 32) as u8;
        b[5] = (ts >> 40) as u8;
        b[6..12].copy_from_slice(&self.address);
        b[12] = (ts >> 8) as u8;
        b[13] = (seq >> 8) as u8;
        b[14] = ts as u8;
        URL_SAFE_NO_PAD.encode(b)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::SeedableRng;
    use rand_chacha::ChaCha8Rng;

    #[test]
    fn shapes_match_elasticsearch() {
        let mut rng = ChaCha8Rng::seed_from_u64(1);
        let u = random_base64_uuid(&mut rng);
        assert_eq!(u.len(), 22);
        assert!(u
            .bytes()
            .all(|c| c.is_ascii_alphanumeric() || c == b'-' || c == b'_'));
        assert_eq!(random_secret(&mut rng).len(), 22);
        let mut g = TimeBasedUuidGenerator::new(&mut rng);
        let a = g.next(1_767_225_600_000);
        let b = g.next(1_767_225_600_000);
        assert_eq!(a.len(), 20);
        assert_ne!(a, b);
    }

    #[test]
    fn seeded_generators_repeat() {
        let mut r1 = ChaCha8Rng::seed_from_u64(9);
        let mut r2 = ChaCha8Rng::seed_from_u64(9);
        assert_eq!(random_base64_uuid(&mut r1), random_base64_uuid(&mut r2));
        let mut g1 = TimeBasedUuidGenerator::new(&mut r1);
        let mut g2 = TimeBasedUuidGenerator::new(&mut r2);
        assert_eq!(g1.next(5), g2.next(5));
    }
}
