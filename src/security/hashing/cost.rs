//! The bcrypt costs and PBKDF2 iteration counts Elasticsearch has hashers for (`BCRYPT4` ..
//! `BCRYPT14`, `PBKDF2_1000` .. `PBKDF2_1000000` in
//! `x-pack/plugin/core/src/main/java/org/elasticsearch/xpack/core/security/authc/support/Hasher.java`).

use super::HashError;

/// bcrypt cost that `Hasher.resolve("bcrypt")` gives.
pub(crate) const BCRYPT_DEFAULT_COST: u32 = 10;

/// PBKDF2 iterations that `Hasher.resolve("pbkdf2")` and `"pbkdf2_stretch"` give.
pub(crate) const PBKDF2_DEFAULT_ITERATIONS: u32 = 10_000;

/// `BCRYPT4` .. `BCRYPT14`.
const BCRYPT_MIN_COST: u32 = 4;

const BCRYPT_MAX_COST: u32 = 14;

const PBKDF2_ITERATION_CHOICES: [u32; 6] = [1_000, 10_000, 50_000, 100_000, 500_000, 1_000_000];

/// A bcrypt cost Elasticsearch has a hasher for: 4..=14 (`BCRYPT4` .. `BCRYPT14`, `Hasher.java`).
/// Only [`BcryptCost::new`] builds one, so every [`Hasher::Bcrypt`] can hash:
///
/// ```compile_fail
/// use escache::security::hashing::{BcryptCost, Hasher};
/// let _ = Hasher::Bcrypt { cost: BcryptCost(40) }; // the field is private
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct BcryptCost(u32);

impl BcryptCost {
    /// The cost of `bcrypt` (and `bcrypt10`).
    pub(crate) const DEFAULT: BcryptCost = BcryptCost(BCRYPT_DEFAULT_COST);

    /// # Errors
    /// `unknown hash function [bcrypt<cost>]` (what `Hasher.resolve` says) outside 4..=14.
    pub fn new(cost: u32) -> Result<Self, HashError> {
        if (BCRYPT_MIN_COST..=BCRYPT_MAX_COST).contains(&cost) {
            Ok(BcryptCost(cost))
        } else {
            Err(HashError::UnknownHashFunction(format!("bcrypt{cost}")))
        }
    }

    pub(crate) const fn get(self) -> u32 {
        self.0
    }
}

/// A PBKDF2 iteration count Elasticsearch has a hasher for: 1000, 10000, 50000, 100000, 500000 or
/// 1000000 (`PBKDF2_1000` .. `PBKDF2_1000000`, `Hasher.java`). Only [`Pbkdf2Iterations::new`] builds
/// one, so every [`Hasher::Pbkdf2`] / [`Hasher::Pbkdf2Stretch`] can hash:
///
/// ```compile_fail
/// use escache::security::hashing::{Hasher, Pbkdf2Iterations};
/// let _ = Hasher::Pbkdf2 { iterations: Pbkdf2Iterations(0) }; // the field is private
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Pbkdf2Iterations(u32);

impl Pbkdf2Iterations {
    /// The count of `pbkdf2` and `pbkdf2_stretch`.
    pub(crate) const DEFAULT: Pbkdf2Iterations = Pbkdf2Iterations(PBKDF2_DEFAULT_ITERATIONS);

    /// # Errors
    /// `unknown hash function [pbkdf2_<n>]` for any other count.
    pub fn new(iterations: u32) -> Result<Self, HashError> {
        if PBKDF2_ITERATION_CHOICES.contains(&iterations) {
            Ok(Pbkdf2Iterations(iterations))
        } else {
            Err(HashError::UnknownHashFunction(format!(
                "pbkdf2_{iterations}"
            )))
        }
    }

    pub(crate) const fn get(self) -> u32 {
        self.0
    }
}

/// `pbkdf2_<n>` / `pbkdf2_stretch_<n>` suffixes that have a hasher. Only the exact decimal
/// spellings Elasticsearch lists match (no sign, no leading zeros).
pub(super) fn parse_iteration_choice(suffix: &str) -> Option<Pbkdf2Iterations> {
    PBKDF2_ITERATION_CHOICES
        .into_iter()
        .find(|n| n.to_string() == suffix)
        .map(Pbkdf2Iterations)
}

/// `bcrypt<cost>` suffixes with a hasher: `4`..`14`, exact decimal spellings.
pub(super) fn parse_bcrypt_cost(suffix: &str) -> Option<BcryptCost> {
    (BCRYPT_MIN_COST..=BCRYPT_MAX_COST)
        .find(|c: &u32| c.to_string() == suffix)
        .map(BcryptCost)
}
