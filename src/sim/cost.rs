//! The cost model: virtual CPU charged for each hash verification, by algorithm and cost parameter.
//!
//! Defaults come from measurements reported in Elasticsearch's issues rather than from this machine, so
//! that simulations describe an Elasticsearch node, not escache: a PBKDF2 verification with 10,000
//! iterations takes about 65 ms of a core (#86740: "about 15 auth/s per core"; #58088: "~70 ms"), and
//! bcrypt at cost 10 is of the same order. Salted SHA-256 takes microseconds. Every figure can be
//! overridden.

use crate::security::hashing::Hasher;
use crate::time::{Nanos, NANOS_PER_MICRO, NANOS_PER_MILLI};

#[derive(Debug, Clone, Copy, PartialEq)]
pub struct CostModel {
    /// PBKDF2 (and `PBKDF2_STRETCH`) cost per 1,000 iterations.
    pub pbkdf2_per_1000_iterations: Nanos,
    /// bcrypt cost at cost factor 10; each factor doubles it.
    pub bcrypt_cost_10: Nanos,
    /// Salted SHA-256 (`ssha256`), the default cache hasher and API key hasher.
    pub ssha256: Nanos,
    /// Unsalted digests (`sha1`, `md5`, `sha256`).
    pub digest: Nanos,
}

impl Default for CostModel {
    fn default() -> Self {
        CostModel {
            pbkdf2_per_1000_iterations: 6_500 * NANOS_PER_MICRO,
            bcrypt_cost_10: 65 * NANOS_PER_MILLI,
            ssha256: 2 * NANOS_PER_MICRO,
            digest: NANOS_PER_MICRO,
        }
    }
}

impl CostModel {
    /// Virtual CPU time of one verification with `hasher`.
    pub fn verification(&self, hasher: Hasher) -> Nanos {
        match hasher {
            Hasher::Pbkdf2 { iterations } | Hasher::Pbkdf2Stretch { iterations } => {
                self.pbkdf2_per_1000_iterations
                    .saturating_mul(u64::from(iterations.get()))
                    / 1000
            }
            Hasher::Bcrypt { cost } => {
                let cost = cost.get();
                if cost >= 10 {
                    self.bcrypt_cost_10
                        .saturating_mul(1u64 << (cost - 10).min(40))
                } else {
                    self.bcrypt_cost_10 >> (10 - cost)
                }
            }
            Hasher::Ssha256 => self.ssha256,
            Hasher::Sha1 | Hasher::Md5 | Hasher::Sha256 => self.digest,
            Hasher::Noop => 0,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn costs_scale_with_parameters() {
        let m = CostModel::default();
        assert_eq!(
            m.verification(Hasher::pbkdf2(10_000).unwrap()),
            65 * NANOS_PER_MILLI
        );
        assert_eq!(
            m.verification(Hasher::pbkdf2(1_000).unwrap()),
            6_500 * NANOS_PER_MICRO
        );
        assert_eq!(
            m.verification(Hasher::bcrypt(11).unwrap()),
            130 * NANOS_PER_MILLI
        );
        assert_eq!(
            m.verification(Hasher::bcrypt(4).unwrap()),
            (65 * NANOS_PER_MILLI) >> 6
        );
        assert_eq!(m.verification(Hasher::Ssha256), 2 * NANOS_PER_MICRO);
        assert_eq!(m.verification(Hasher::Noop), 0);
    }
}
