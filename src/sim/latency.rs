//! Time inside a request (CA-TM1): seeded latency distributions per operation, the
//! `[simulation.latency]` table. A table maps an operation name to a distribution:
//!
//! - `index_get`: the security index GET of an API key doc-cache miss (CA-TM2);
//! - `index_write`: the index write of an action that changes credentials (`invalidate_api_keys`,
//!   `delete_service_tokens`): the write, and the clear-cache that follows its response, land this
//!   much later (CA-TM4);
//! - `transport_hop`: one transport message between two nodes: a clear-cache fan-out's request to
//!   another node arrives one draw after it was sent, and its answer one more draw later (CA-TM5).
//!
//! Other parts of the simulator add their operation names to [`OPERATIONS`]. An operation not in
//! the table takes no time, which is how every scenario ran before: nothing is drawn, no event is
//! added, and the run is byte-identical.
//!
//! Draws come from their own `ChaCha8` stream of the simulation's seed (stream 1; the arrivals and
//! choices use stream 0), so adding or changing a latency never moves an arrival, a credential or
//! a node choice.

use super::action::Action;
use super::spec::{err, typed, DurationValue};
use crate::error::EsError;
use crate::time::Nanos;
use indexmap::IndexMap;
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use serde::{Deserialize, Serialize};
use serde_json::Value;

/// The operations a latency can be given to.
pub const OPERATIONS: &[&str] = &["index_get", "index_write", "transport_hop"];

/// The standard normal quantile at 0.99 (`Φ⁻¹(0.99)`): a lognormal's p99 is `median · e^(σ·z99)`.
const Z99: f64 = 2.326_347_874_040_840_8;

/// The longest latency a draw may give (a day): a heavy tail stays a finite virtual time.
const MAX_LATENCY: Nanos = 86_400 * 1_000_000_000;

/// A latency distribution, in nanoseconds.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Distribution {
    Fixed(Nanos),
    /// Uniform over `[low, high]`.
    Uniform {
        low: Nanos,
        high: Nanos,
    },
    /// Exponential with this mean.
    Exponential {
        mean: Nanos,
    },
    /// Lognormal: `e^(mu + sigma·N(0,1))` nanoseconds, from its median and p99.
    LogNormal {
        mu: f64,
        sigma: f64,
    },
}

impl Distribution {
    /// One draw, rounded to the nanosecond and capped at a day.
    pub fn sample(&self, rng: &mut ChaCha8Rng) -> Nanos {
        let x = match *self {
            Distribution::Fixed(v) => return v,
            Distribution::Uniform { low, high } => return rng.random_range(low..=high),
            Distribution::Exponential { mean } => {
                // Inverse transform: -mean · ln(1 - U), U in [0, 1).
                -(mean as f64) * (1.0 - rng.random::<f64>()).ln()
            }
            Distribution::LogNormal { mu, sigma } => {
                let z: f64 = rand_distr::Distribution::sample(&rand_distr::StandardNormal, rng);
                (mu + sigma * z).exp()
            }
        };
        if x.is_finite() {
            (x.round().max(0.0) as Nanos).min(MAX_LATENCY)
        } else {
            MAX_LATENCY
        }
    }

    /// Whether every draw is 0 (the operation takes no time).
    pub fn is_zero(&self) -> bool {
        matches!(
            self,
            Distribution::Fixed(0) | Distribution::Uniform { high: 0, .. }
        ) || matches!(self, Distribution::Exponential { mean: 0 })
    }
}

/// A distribution's name in a scenario.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum DistributionName {
    Fixed,
    Uniform,
    Exponential,
    Lognormal,
}

/// A distribution as scenarios write it: `{distribution = "lognormal", median = "2ms", p99 =
/// "20ms"}`, `{distribution = "fixed", value = "5ms"}`, `{distribution = "uniform", low = "1ms",
/// high = "3ms"}`, `{distribution = "exponential", mean = "2ms"}`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DistributionTable {
    pub(crate) distribution: DistributionName,
    pub(crate) value: Option<DurationValue>,
    pub(crate) low: Option<DurationValue>,
    pub(crate) high: Option<DurationValue>,
    pub(crate) mean: Option<DurationValue>,
    pub(crate) median: Option<DurationValue>,
    pub(crate) p99: Option<DurationValue>,
}

/// A distribution, or a bare duration for a fixed latency (`index_get = "5ms"`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(
    untagged,
    expecting = "a duration or a table {distribution = \"fixed\" | \"uniform\" | \"exponential\" | \"lognormal\", ...}"
)]
pub(crate) enum DistributionDesc {
    Fixed(DurationValue),
    Table(DistributionTable),
}

/// `[simulation.latency]`: operation name → distribution.
pub(crate) type LatencyDesc = IndexMap<String, DistributionDesc>;

impl DistributionDesc {
    /// The distribution; errors name `what` (`simulation.latency.index_get`) and the field.
    pub(crate) fn resolve(&self, what: &str) -> Result<Distribution, EsError> {
        let t = match self {
            DistributionDesc::Fixed(d) => return Ok(Distribution::Fixed(d.nanos(what)?)),
            DistributionDesc::Table(t) => t,
        };
        let name = match t.distribution {
            DistributionName::Fixed => "fixed",
            DistributionName::Uniform => "uniform",
            DistributionName::Exponential => "exponential",
            DistributionName::Lognormal => "lognormal",
        };
        let allowed: &[&str] = match t.distribution {
            DistributionName::Fixed => &["value"],
            DistributionName::Uniform => &["low", "high"],
            DistributionName::Exponential => &["mean"],
            DistributionName::Lognormal => &["median", "p99"],
        };
        let fields = [
            ("value", &t.value),
            ("low", &t.low),
            ("high", &t.high),
            ("mean", &t.mean),
            ("median", &t.median),
            ("p99", &t.p99),
        ];
        for (f, v) in fields {
            if v.is_some() && !allowed.contains(&f) {
                return Err(err(format!(
                    "[{what}.{f}]: a {name} distribution takes {}",
                    allowed.join(" and ")
                )));
            }
        }
        let get = |f: &str, v: &Option<DurationValue>| -> Result<Nanos, EsError> {
            match v {
                Some(d) => d.nanos(&format!("{what}.{f}")),
                None => Err(err(format!(
                    "[{what}.{f}] is required by a {name} distribution"
                ))),
            }
        };
        match t.distribution {
            DistributionName::Fixed => Ok(Distribution::Fixed(get("value", &t.value)?)),
            DistributionName::Uniform => {
                let (low, high) = (get("low", &t.low)?, get("high", &t.high)?);
                if low > high {
                    return Err(err(format!("[{what}.low] must not be above [{what}.high]")));
                }
                Ok(Distribution::Uniform { low, high })
            }
            DistributionName::Exponential => Ok(Distribution::Exponential {
                mean: get("mean", &t.mean)?,
            }),
            DistributionName::Lognormal => {
                let (median, p99) = (get("median", &t.median)?, get("p99", &t.p99)?);
                if median == 0 || p99 < median {
                    return Err(err(format!(
                        "[{what}]: a lognormal distribution needs 0 < median <= p99"
                    )));
                }
                let mu = (median as f64).ln();
                Ok(Distribution::LogNormal {
                    mu,
                    sigma: ((p99 as f64).ln() - mu) / Z99,
                })
            }
        }
    }
}

/// The latencies of a simulation and their random stream.
#[derive(Debug, Clone)]
pub struct Latencies {
    dists: IndexMap<String, Distribution>,
    rng: ChaCha8Rng,
}

impl Latencies {
    /// No latency anywhere; draws from stream 1 of `seed`.
    pub fn new(seed: u64) -> Self {
        let mut rng = ChaCha8Rng::seed_from_u64(seed);
        rng.set_stream(1);
        Latencies {
            dists: IndexMap::new(),
            rng,
        }
    }

    /// Sets the distributions (replacing any). An operation with a zero distribution is left out.
    pub fn set(&mut self, dists: IndexMap<String, Distribution>) {
        self.dists = dists.into_iter().filter(|(_, d)| !d.is_zero()).collect();
    }

    /// Whether `op` may take time.
    pub fn has(&self, op: &str) -> bool {
        self.dists.contains_key(op)
    }

    /// One draw of `op`'s latency (0, drawing nothing, when it has none).
    pub fn sample(&mut self, op: &str) -> Nanos {
        match self.dists.get(op) {
            Some(d) => d.sample(&mut self.rng),
            None => 0,
        }
    }
}

/// CA-TM4: whether an action is an index write whose effect `index_write` delays: invalidating
/// API keys (`TransportInvalidateApiKeyAction`: a bulk update, then the clear-cache on its
/// response) and deleting service tokens (a delete, then the clear-cache).
pub(crate) fn writes_index(action: &Action) -> bool {
    matches!(
        action,
        Action::InvalidateApiKeys { .. } | Action::DeleteServiceTokens { .. }
    )
}

/// The distributions of a `[simulation.latency]` table; an unknown operation is refused naming
/// the known ones.
pub fn latencies(v: &Value) -> Result<IndexMap<String, Distribution>, EsError> {
    let desc: LatencyDesc = typed(v, "simulation.latency")?;
    resolve(&desc)
}

pub(crate) fn resolve(desc: &LatencyDesc) -> Result<IndexMap<String, Distribution>, EsError> {
    let mut out = IndexMap::new();
    for (op, d) in desc {
        if !OPERATIONS.contains(&op.as_str()) {
            return Err(err(format!(
                "[simulation.latency]: unknown operation [{op}]; known: {}",
                OPERATIONS.join(", ")
            )));
        }
        out.insert(op.clone(), d.resolve(&format!("simulation.latency.{op}"))?);
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    const MS: Nanos = 1_000_000;

    fn one(v: Value) -> Result<Distribution, EsError> {
        latencies(&json!({ "index_get": v })).map(|m| m["index_get"])
    }

    #[test]
    fn rule_ca_tm1_shapes_parse() {
        assert_eq!(one(json!("5ms")).unwrap(), Distribution::Fixed(5 * MS));
        assert_eq!(one(json!(0.002)).unwrap(), Distribution::Fixed(2 * MS));
        assert_eq!(
            one(json!({"distribution": "uniform", "low": "1ms", "high": "3ms"})).unwrap(),
            Distribution::Uniform {
                low: MS,
                high: 3 * MS
            }
        );
        assert_eq!(
            one(json!({"distribution": "exponential", "mean": "2ms"})).unwrap(),
            Distribution::Exponential { mean: 2 * MS }
        );
        // median 2 ms, p99 20 ms: mu = ln(2e6), sigma = ln(10) / z99.
        let Distribution::LogNormal { mu, sigma } =
            one(json!({"distribution": "lognormal", "median": "2ms", "p99": "20ms"})).unwrap()
        else {
            panic!("not lognormal")
        };
        assert!((mu - (2e6f64).ln()).abs() < 1e-12);
        assert!((sigma - 10f64.ln() / Z99).abs() < 1e-12);
    }

    #[test]
    fn rule_ca_tm1_errors_name_the_field() {
        let e = |v: Value| one(v).unwrap_err().into_reason();
        assert!(e(json!({"distribution": "fixed"}))
            .contains("[simulation.latency.index_get.value] is required"));
        assert!(
            e(json!({"distribution": "fixed", "value": "1ms", "p99": "2ms"}))
                .contains("[simulation.latency.index_get.p99]: a fixed distribution takes value")
        );
        assert!(
            e(json!({"distribution": "uniform", "low": "3ms", "high": "1ms"}))
                .contains("must not be above")
        );
        assert!(
            e(json!({"distribution": "lognormal", "median": "3ms", "p99": "1ms"}))
                .contains("0 < median <= p99")
        );
        assert!(e(json!({"distribution": "gamma"})).contains("simulation.latency"));
        assert!(e(json!("-1ms")).contains("simulation.latency.index_get"));
        let unknown = latencies(&json!({"index_gte": "1ms"}))
            .unwrap_err()
            .into_reason();
        assert!(
            unknown.contains("unknown operation [index_gte]"),
            "{unknown}"
        );
        assert!(unknown.contains("index_get, index_write"), "{unknown}");
    }

    /// Fixed gives its value; uniform stays in its bounds; the exponential's and the lognormal's
    /// sample statistics match their parameters (mean 2 ms; median 2 ms and p99 20 ms).
    #[test]
    fn rule_ca_tm1_draws_follow_the_distribution() {
        let mut lat = Latencies::new(7);
        let draw = |lat: &mut Latencies, dist: Distribution, count: usize| -> Vec<Nanos> {
            lat.set(IndexMap::from([("index_get".to_string(), dist)]));
            let mut v: Vec<Nanos> = (0..count).map(|_| lat.sample("index_get")).collect();
            v.sort_unstable();
            v
        };
        assert!(draw(&mut lat, Distribution::Fixed(5), 10)
            .iter()
            .all(|&x| x == 5));
        let uniform = draw(&mut lat, Distribution::Uniform { low: 10, high: 20 }, 1000);
        assert!(uniform[0] >= 10 && uniform[999] <= 20 && uniform[0] < 12 && uniform[999] > 18);
        let count = 100_000;
        let exp = draw(&mut lat, Distribution::Exponential { mean: 2 * MS }, count);
        let mean = exp.iter().sum::<u64>() as f64 / count as f64;
        assert!((mean / (2 * MS) as f64 - 1.0).abs() < 0.02, "{mean}");
        let dist =
            one(json!({"distribution": "lognormal", "median": "2ms", "p99": "20ms"})).unwrap();
        let ln = draw(&mut lat, dist, count);
        let (median, p99) = (ln[count / 2] as f64, ln[count * 99 / 100] as f64);
        assert!((median / (2 * MS) as f64 - 1.0).abs() < 0.03, "{median}");
        assert!((p99 / (20 * MS) as f64 - 1.0).abs() < 0.06, "{p99}");
        // No latency: nothing drawn, 0.
        lat.set(IndexMap::from([(
            "index_get".to_string(),
            Distribution::Fixed(0),
        )]));
        assert!(!lat.has("index_get"));
        assert_eq!(lat.sample("index_get"), 0);
    }

    /// Stream 1 of the seed: the same seed gives the same draws, and the draws are not the
    /// simulation's stream-0 numbers.
    #[test]
    fn rule_ca_tm1_draws_are_seeded_on_their_own_stream() {
        let d = Distribution::Uniform {
            low: 0,
            high: u64::MAX / 2,
        };
        let draws = |seed| {
            let mut l = Latencies::new(seed);
            l.set(IndexMap::from([("index_get".to_string(), d)]));
            (0..4).map(|_| l.sample("index_get")).collect::<Vec<_>>()
        };
        assert_eq!(draws(3), draws(3));
        assert_ne!(draws(3), draws(4));
        let mut stream0 = ChaCha8Rng::seed_from_u64(3);
        let main: Vec<Nanos> = (0..4)
            .map(|_| stream0.random_range(0..=u64::MAX / 2))
            .collect();
        assert_ne!(draws(3), main);
    }
}
