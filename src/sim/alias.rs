//! Zipf popularity by Walker's alias method (Vose's construction): one 64-bit draw and at most two
//! table reads per sample, where `rand_distr::Zipf`'s rejection sampler takes a `pow`, a logarithm
//! and a retry loop (about a fifth of a simulated authentication's instructions before).
//!
//! Exact up to the float rounding of the weights: rank `k` (0-based) is drawn with probability
//! `(k + 1)^-s / H(n, s)`. The draw is split as in Lemire's "nearly divisionless" method: the high
//! 64 bits of `r * n` are the column (unbiased to within `n / 2^64`), the low 64 bits are the coin
//! that decides between the column and its alias.

use rand::RngCore;

/// The most ranks a table is built for (12 bytes each: 48 MB); larger populations keep
/// `rand_distr::Zipf`.
pub(crate) const MAX_ALIAS_RANKS: usize = 1 << 22;

/// A Zipf law over ranks `0..n` as an alias table.
#[derive(Debug, Clone)]
pub(crate) struct ZipfAlias {
    /// Column `i` keeps itself when the coin is below `keep[i]` (`u64::MAX`: always).
    keep: Vec<u64>,
    alias: Vec<u32>,
}

impl ZipfAlias {
    /// The table of Zipf(`s`) over `n` ranks; `None` when `n` is 0, above [`MAX_ALIAS_RANKS`], or
    /// `s` is not a finite non-negative number.
    pub(crate) fn new(n: usize, s: f64) -> Option<ZipfAlias> {
        if n == 0 || n > MAX_ALIAS_RANKS || !s.is_finite() || s < 0.0 {
            return None;
        }
        let weights: Vec<f64> = (1..=n).map(|k| (k as f64).powf(-s)).collect();
        let total: f64 = weights.iter().sum();
        // Scaled so that the mean column holds exactly 1.
        let mut scaled: Vec<f64> = weights.iter().map(|w| w * n as f64 / total).collect();
        let mut keep = vec![u64::MAX; n];
        let mut alias: Vec<u32> = (0..n as u32).collect();
        let (mut small, mut large): (Vec<usize>, Vec<usize>) =
            (0..n).partition(|&i| scaled[i] < 1.0);
        while let (Some(&l), Some(g)) = (small.last(), large.last().copied()) {
            small.pop();
            keep[l] = to_threshold(scaled[l]);
            alias[l] = g as u32;
            scaled[g] -= 1.0 - scaled[l];
            if scaled[g] < 1.0 {
                large.pop();
                small.push(g);
            }
        }
        // What is left holds 1 up to rounding: it keeps itself (`keep` is already `u64::MAX`).
        Some(ZipfAlias { keep, alias })
    }

    /// A rank in `0..n`.
    #[inline]
    pub(crate) fn sample<R: RngCore + ?Sized>(&self, rng: &mut R) -> usize {
        let n = self.keep.len() as u128;
        let m = u128::from(rng.next_u64()) * n;
        let column = (m >> 64) as usize;
        let coin = m as u64;
        match (self.keep.get(column), self.alias.get(column)) {
            (Some(&keep), _) if coin < keep || keep == u64::MAX => column,
            (Some(_), Some(&a)) => a as usize,
            // ok: `column` < n by the multiply-high above.
            _ => 0,
        }
    }
}

/// A probability in [0, 1) as a coin threshold out of 2^64.
fn to_threshold(p: f64) -> u64 {
    (p.clamp(0.0, 1.0) * 18_446_744_073_709_551_616.0) as u64
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::SeedableRng;
    use rand_chacha::ChaCha8Rng;

    /// The table's probabilities (each column's keep share plus what aliases hand it) are the Zipf
    /// law's, computed directly.
    #[test]
    fn table_probabilities_are_zipfs() {
        for (n, s) in [
            (1, 1.0),
            (2, 1.0),
            (10, 0.0),
            (1000, 1.0),
            (777, 1.3),
            (5000, 0.6),
        ] {
            let t = ZipfAlias::new(n, s).unwrap();
            let mut p = vec![0.0f64; n];
            for i in 0..n {
                let keep = if t.keep[i] == u64::MAX {
                    1.0
                } else {
                    t.keep[i] as f64 / 18_446_744_073_709_551_616.0
                };
                p[i] += keep / n as f64;
                p[t.alias[i] as usize] += (1.0 - keep) / n as f64;
            }
            let h: f64 = (1..=n).map(|k| (k as f64).powf(-s)).sum();
            for (k, got) in p.iter().enumerate() {
                let want = ((k + 1) as f64).powf(-s) / h;
                assert!(
                    (got - want).abs() < 1e-9,
                    "n={n} s={s} k={k}: {got} vs {want}"
                );
            }
        }
    }

    /// Draws follow the law: rank frequencies against the expected counts, and the same seed draws
    /// the same ranks.
    #[test]
    fn draws_follow_the_law_and_repeat_by_seed() {
        let (n, draws) = (50usize, 200_000usize);
        let t = ZipfAlias::new(n, 1.0).unwrap();
        let mut rng = ChaCha8Rng::seed_from_u64(3);
        let mut counts = vec![0usize; n];
        for _ in 0..draws {
            counts[t.sample(&mut rng)] += 1;
        }
        let h: f64 = (1..=n).map(|k| 1.0 / k as f64).sum();
        for (k, &c) in counts.iter().enumerate() {
            let want = draws as f64 / ((k + 1) as f64 * h);
            // Five standard deviations of a binomial count.
            let sd = (want * (1.0 - want / draws as f64)).sqrt();
            assert!(
                (c as f64 - want).abs() < 5.0 * sd + 1.0,
                "rank {k}: {c} vs {want}"
            );
        }
        let again: Vec<usize> = {
            let mut a = ChaCha8Rng::seed_from_u64(3);
            (0..100).map(|_| t.sample(&mut a)).collect()
        };
        let mut b = ChaCha8Rng::seed_from_u64(3);
        assert_eq!(
            again,
            (0..100).map(|_| t.sample(&mut b)).collect::<Vec<_>>()
        );
    }

    #[test]
    fn refuses_what_it_cannot_build() {
        assert!(ZipfAlias::new(0, 1.0).is_none());
        assert!(ZipfAlias::new(10, -1.0).is_none());
        assert!(ZipfAlias::new(10, f64::NAN).is_none());
        assert!(ZipfAlias::new(MAX_ALIAS_RANKS + 1, 1.0).is_none());
    }
}
