//! What a simulation measures: authentications by outcome, stale acceptances and their windows, hashing
//! CPU, queueing, latencies, and per-node cache statistics over time.

use crate::time::Nanos;

/// How a simulated request ended. Every request ends in exactly one outcome (or is still in flight).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Outcome {
    Success,
    /// HTTP 401.
    Unauthorized,
    /// HTTP 429: the `security-crypto` pool rejected the verification.
    TooBusy,
    /// The chosen node was stopped: nothing answered.
    Unavailable,
}

impl Outcome {
    pub const ALL: [Outcome; 4] = [
        Outcome::Success,
        Outcome::Unauthorized,
        Outcome::TooBusy,
        Outcome::Unavailable,
    ];

    pub fn name(self) -> &'static str {
        match self {
            Outcome::Success => "success",
            Outcome::Unauthorized => "401",
            Outcome::TooBusy => "429",
            Outcome::Unavailable => "unavailable",
        }
    }

    fn index(self) -> usize {
        self as usize
    }
}

/// A log-linear latency histogram (16 sub-buckets per power of two: about 6% resolution) in
/// nanoseconds.
#[derive(Debug, Clone, Default)]
pub struct LatencyHistogram {
    buckets: Vec<u64>,
    count: u64,
    max: Nanos,
    sum: u128,
}

const SUB: u32 = 16;

fn bucket_of(v: Nanos) -> usize {
    if v < u64::from(SUB) {
        return v as usize;
    }
    let msb = v.ilog2();
    let shift = msb - 4;
    let sub = ((v >> shift) & (u64::from(SUB) - 1)) as u32;
    ((msb - 3) * SUB + sub) as usize
}

fn bucket_upper(b: usize) -> Nanos {
    let b = b as u32;
    if b < SUB {
        return u64::from(b);
    }
    let msb = b / SUB + 3;
    let sub = u64::from(b % SUB);
    let shift = msb - 4;
    ((u64::from(SUB) + sub) << shift) + (1u64 << shift) - 1
}

impl LatencyHistogram {
    pub(crate) fn record(&mut self, v: Nanos) {
        let b = bucket_of(v);
        if self.buckets.len() <= b {
            self.buckets.resize(b + 1, 0);
        }
        self.buckets[b] += 1;
        self.count += 1;
        self.max = self.max.max(v);
        self.sum += u128::from(v);
    }

    pub fn count(&self) -> u64 {
        self.count
    }

    pub fn max(&self) -> Nanos {
        self.max
    }

    pub(crate) fn mean(&self) -> f64 {
        if self.count == 0 {
            0.0
        } else {
            self.sum as f64 / self.count as f64
        }
    }

    /// The value at quantile `q` (upper edge of its bucket, never above the maximum seen).
    /// (p50, p90, p99, max), `None` when nothing was recorded: a timeline sample's latency.
    pub(crate) fn summary(&self) -> Option<[Nanos; 4]> {
        (self.count != 0).then(|| {
            [
                self.quantile(0.5),
                self.quantile(0.9),
                self.quantile(0.99),
                self.max,
            ]
        })
    }

    pub(crate) fn quantile(&self, q: f64) -> Nanos {
        if self.count == 0 {
            return 0;
        }
        let rank = ((q.clamp(0.0, 1.0) * self.count as f64).ceil() as u64).max(1);
        let mut seen = 0;
        for (b, &n) in self.buckets.iter().enumerate() {
            seen += n;
            if seen >= rank {
                return bucket_upper(b).min(self.max);
            }
        }
        self.max
    }
}

/// Counters of one node.
#[derive(Debug, Clone, Default)]
pub struct NodeMetrics {
    pub outcomes: [u64; 4],
    pub(crate) stale_acceptances: u64,
    /// The longest time a credential was accepted after it stopped being valid.
    pub(crate) longest_stale_window: Nanos,
    pub hashing_cpu: Nanos,
    pub verifications: u64,
    /// Outcomes of the attempts a client retried (CA-CL4); `outcomes` counts each logical request's
    /// last attempt only.
    pub retried: [u64; 4],
    pub max_queue_depth: u32,
    /// The largest `security-crypto` queue since the last periodic sample (the timeline's
    /// `max_queue_depth`: a burst shorter than the sample interval still shows).
    pub(crate) interval_max_queue_depth: u32,
    /// Latencies of the requests that finished since the last periodic sample (the timeline's
    /// per-interval latency).
    pub(crate) interval_latency: LatencyHistogram,
}

/// A periodic sample of one node.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct NodeSample {
    pub(crate) time: Nanos,
    pub(crate) node: u16,
    /// Per cache (in `CacheId::ALL` order): (hits, misses, evictions, count) cumulative, or `None` when
    /// the cache is disabled or the node stopped.
    pub(crate) caches: [Option<(u64, u64, u64, usize)>; crate::events::CacheId::ALL.len()],
    pub(crate) queue_depth: u32,
    pub(crate) hashing_cpu: Nanos,
    pub(crate) outcomes: [u64; 4],
    /// The largest queue since the previous sample.
    pub(crate) max_queue_depth: u32,
    /// Stale acceptances so far (cumulative).
    pub(crate) stale_acceptances: u64,
    /// Latency of the requests finished since the previous sample: (p50, p90, p99, max), `None`
    /// when none finished.
    pub(crate) latency: Option<[Nanos; 4]>,
}

/// Everything a simulation measured.
#[derive(Debug, Clone, Default)]
pub struct Metrics {
    pub nodes: Vec<NodeMetrics>,
    pub latency: LatencyHistogram,
    pub(crate) samples: Vec<NodeSample>,
    /// Requests started, per workload.
    pub requests: Vec<u64>,
    /// Outcomes per workload.
    pub workload_outcomes: Vec<[u64; 4]>,
    /// How long API key document GETs took, start to response (CA-TM2; empty without an
    /// `index_get` latency).
    pub index_get: LatencyHistogram,
    /// Retries per workload: attempts beyond each logical request's first (CA-CL4).
    pub retries: Vec<u64>,
}

impl Metrics {
    pub(crate) fn new(nodes: usize, workloads: usize) -> Self {
        Metrics {
            nodes: vec![NodeMetrics::default(); nodes],
            latency: LatencyHistogram::default(),
            samples: Vec::new(),
            requests: vec![0; workloads],
            workload_outcomes: vec![[0; 4]; workloads],
            index_get: LatencyHistogram::default(),
            retries: vec![0; workloads],
        }
    }

    pub(crate) fn record_outcome(
        &mut self,
        node: usize,
        workload: usize,
        outcome: Outcome,
        latency: Option<Nanos>,
    ) {
        let n = &mut self.nodes[node];
        n.outcomes[outcome.index()] += 1;
        if let Some(l) = latency {
            n.interval_latency.record(l);
        }
        if let Some(w) = self.workload_outcomes.get_mut(workload) {
            w[outcome.index()] += 1;
        }
        if let Some(l) = latency {
            self.latency.record(l);
        }
    }

    /// Attempts over logical requests (CA-CL4): 1 without retries; `None` before any request.
    pub fn amplification(&self, workload: Option<usize>) -> Option<f64> {
        let (req, ret) = match workload {
            Some(w) => (
                self.requests.get(w).copied().unwrap_or(0),
                self.retries.get(w).copied().unwrap_or(0),
            ),
            None => (self.requests.iter().sum(), self.retries.iter().sum()),
        };
        (req != 0).then(|| (req + ret) as f64 / req as f64)
    }

    pub(crate) fn record_retried(&mut self, node: usize, workload: usize, outcome: Outcome) {
        self.nodes[node].retried[outcome.index()] += 1;
        if let Some(r) = self.retries.get_mut(workload) {
            *r += 1;
        }
    }

    pub fn total_outcomes(&self) -> [u64; 4] {
        let mut t = [0; 4];
        for n in &self.nodes {
            for (i, v) in n.outcomes.iter().enumerate() {
                t[i] += v;
            }
        }
        t
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn histogram_quantiles_are_close() {
        let mut h = LatencyHistogram::default();
        for v in 1..=10_000u64 {
            h.record(v * 1000);
        }
        let p50 = h.quantile(0.5) as f64;
        assert!((p50 - 5_000_000.0).abs() / 5_000_000.0 < 0.07, "{p50}");
        let p99 = h.quantile(0.99) as f64;
        assert!((p99 - 9_900_000.0).abs() / 9_900_000.0 < 0.07, "{p99}");
        assert_eq!(h.quantile(1.0), 10_000_000);
        assert_eq!(h.count(), 10_000);
    }

    #[test]
    fn buckets_are_monotonic() {
        let mut last = 0;
        for v in [0u64, 1, 15, 16, 17, 31, 32, 1000, 1 << 20, u64::MAX >> 1] {
            let b = bucket_of(v);
            assert!(b >= last);
            assert!(bucket_upper(b) >= v);
            last = b;
        }
    }
}
