//! Seeded request streams. Every draw comes from one `ChaCha8` generator seeded by the caller, so the
//! same seed gives the same stream on every machine.

use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;
use rand_distr::{Distribution, Zipf};

/// Why a workload could not be built.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum WorkloadError {
    #[error("[{name}] must be at least [{min}], got [{value}]")]
    TooSmall {
        name: &'static str,
        min: f64,
        value: f64,
    },
    #[error("[{name}] must be a finite number, got [{value}]")]
    NotFinite { name: &'static str, value: f64 },
}

/// `requests` draws of key ranks `0..keys` from a Zipf law with exponent `alpha` (rank 0 the most
/// popular). `alpha = 0` is uniform.
pub fn zipf_trace(
    keys: u64,
    requests: usize,
    alpha: f64,
    seed: u64,
) -> Result<Vec<u64>, WorkloadError> {
    if keys < 1 {
        return Err(WorkloadError::TooSmall {
            name: "keys",
            min: 1.0,
            value: keys as f64,
        });
    }
    if !alpha.is_finite() {
        return Err(WorkloadError::NotFinite {
            name: "alpha",
            value: alpha,
        });
    }
    if alpha < 0.0 {
        return Err(WorkloadError::TooSmall {
            name: "alpha",
            min: 0.0,
            value: alpha,
        });
    }
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let dist = Zipf::new(keys as f64, alpha).map_err(|_| WorkloadError::TooSmall {
        name: "alpha",
        min: 0.0,
        value: alpha,
    })?;
    Ok((0..requests)
        .map(|_| {
            // Zipf yields 1..=keys as a float; clamp guards the float edge.
            let rank = dist.sample(&mut rng) as u64;
            rank.clamp(1, keys) - 1
        })
        .collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn same_seed_same_trace_other_seed_other_trace() {
        let a = zipf_trace(1000, 10_000, 1.0, 7).unwrap();
        assert_eq!(a, zipf_trace(1000, 10_000, 1.0, 7).unwrap());
        assert_ne!(a, zipf_trace(1000, 10_000, 1.0, 8).unwrap());
        assert!(a.iter().all(|&k| k < 1000));
    }

    #[test]
    fn zipf_favours_low_ranks() {
        let t = zipf_trace(1000, 100_000, 1.0, 1).unwrap();
        let top = t.iter().filter(|&&k| k == 0).count();
        let tail = t.iter().filter(|&&k| k == 999).count();
        assert!(
            top > 50 * tail.max(1),
            "rank 0 drawn {top} times, rank 999 {tail} times"
        );
    }

    #[test]
    fn bad_parameters_are_errors() {
        assert!(zipf_trace(0, 10, 1.0, 0).is_err());
        assert!(zipf_trace(10, 10, -0.5, 0).is_err());
        assert!(zipf_trace(10, 10, f64::NAN, 0).is_err());
    }
}
