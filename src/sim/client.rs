//! Client models (issue 16.3): how the official Elasticsearch clients retry, back off and mark nodes
//! dead, so that a workload's traffic amplifies the way a real client's does.
//!
//! What was read (rules CA-CL1 to CA-CL5 in `docs/rules.md`):
//! - elasticsearch-py's transport, `elastic_transport` 9.4 (`_transport.py`,
//!   `Transport.perform_request`; `_node_pool.py`, `NodePool.mark_dead`/`mark_live`/`get`):
//!   `max_retries=3`, `retry_on_status=(429, 502, 503, 504)`, connection errors always retried, no
//!   delay between attempts (`retry_backoff_base=0`), a response outside 2xx and
//!   `NOT_DEAD_NODE_HTTP_STATUSES` (400-404, 409) marks the node dead (so a 429 does), for
//!   `min(dead_node_backoff_factor * 2^(n-1), max_dead_node_backoff)` = 1 s doubling up to 30 s.
//! - elasticsearch-java's low-level `RestClient` (`client/rest/.../RestClient.java`,
//!   `DeadHostState.java` in `elastic/elasticsearch`): retries only 502, 503, 504 and I/O errors,
//!   once on each other node (the host iterator), no delay; those mark the host dead for
//!   1 min x 2^((n-1)/2), at most 30 min; any other response marks it alive.
//! - go-elasticsearch (`estransport/doc.go`, `connection.go`): retries network errors and 502, 503,
//!   504, `MaxRetries` 3, no delay; network errors mark the connection dead, resurrected after
//!   60 s x 2^min(n-1, 5).
//! - elasticsearch-js (`lib/Transport.js`): 502, 503, 504 mark the connection dead and are retried,
//!   "we should not retry on 429"; `maxRetries` 3.

use super::spec::{err, field_err};
use crate::error::EsError;
use crate::events::NodeIndex;
use crate::time::{parse_duration, Nanos, NANOS_PER_SECOND};
use rand::Rng;
use serde::{Deserialize, Serialize};

/// A delay that depends on how many times something happened before (CA-CL2, CA-CL3).
#[derive(Debug, Clone, PartialEq)]
pub enum Backoff {
    /// No delay (a retry) or never (a dead-node timeout: the node is never marked dead).
    None,
    Constant(Nanos),
    /// `min(max, base * factor^(n-1))` for the n-th time; with `equal_jitter`, half of it plus a
    /// uniform draw over the other half (`elastic_transport`'s `backoff_time`).
    Exponential {
        base: Nanos,
        factor: f64,
        max: Nanos,
        equal_jitter: bool,
    },
}

impl Backoff {
    /// The delay for the `n`-th occurrence (1-based).
    pub(crate) fn delay(&self, n: u32, rng: &mut impl Rng) -> Nanos {
        match *self {
            Backoff::None => 0,
            Backoff::Constant(d) => d,
            Backoff::Exponential {
                base,
                factor,
                max,
                equal_jitter,
            } => {
                let exp = factor.powi(n.saturating_sub(1).min(1000) as i32);
                let d = ((base as f64) * exp).min(max as f64) as Nanos;
                if equal_jitter {
                    let half = d / 2;
                    half + rng.random_range(0..=half)
                } else {
                    d
                }
            }
        }
    }

    /// Parses `none`, a duration, `constant:D` or `exponential:BASE[,max=D][,factor=F][,jitter=equal]`.
    pub(crate) fn parse(s: &str, what: &str) -> Result<Backoff, EsError> {
        let s = s.trim();
        if s == "none" {
            return Ok(Backoff::None);
        }
        if let Some(d) = s.strip_prefix("constant:") {
            return Ok(Backoff::Constant(dur(d, what)?));
        }
        let Some(rest) = s.strip_prefix("exponential:") else {
            return Ok(Backoff::Constant(dur(s, what)?));
        };
        let mut parts = rest.split(',');
        let base = dur(parts.next().unwrap_or(""), what)?;
        let (mut max, mut factor, mut equal_jitter) = (Nanos::MAX, 2.0, false);
        for p in parts {
            match p.trim().split_once('=') {
                Some(("max", v)) => max = dur(v, what)?,
                Some(("factor", v)) => {
                    factor = v
                        .trim()
                        .parse::<f64>()
                        .ok()
                        .filter(|f| f.is_finite() && *f >= 1.0)
                        .ok_or_else(|| {
                            err(format!(
                                "[{what}]: factor must be a number of at least 1, got [{v}]"
                            ))
                        })?;
                }
                Some(("jitter", "equal")) => equal_jitter = true,
                Some(("jitter", "none")) => equal_jitter = false,
                _ => {
                    return Err(err(format!(
                        "[{what}]: unknown back-off option [{p}]; expected max=D, factor=F or jitter=equal|none"
                    )))
                }
            }
        }
        Ok(Backoff::Exponential {
            base,
            factor,
            max,
            equal_jitter,
        })
    }
}

fn dur(s: &str, what: &str) -> Result<Nanos, EsError> {
    parse_duration(s.trim(), what).map_err(|e| field_err(what, e))
}

/// The official clients' behaviours by name (CA-CL5).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum ClientPreset {
    /// No client model: one attempt, no retry, no node marking (the behaviour before issue 16).
    #[default]
    None,
    ElasticsearchPy,
    ElasticsearchJava,
    GoElasticsearch,
    /// Fleet Server talks to Elasticsearch through go-elasticsearch (assumed with its defaults).
    FleetServer,
    /// Kibana's elasticsearch-js with its defaults (assumed kept by Kibana): retries 502, 503, 504
    /// three times and marks the connection dead on them; resurrection like the Go client.
    Kibana,
}

/// A workload's client: how many attempts a logical request may make, on which statuses, after
/// which delay, and how long a failed node is avoided.
#[derive(Debug, Clone, PartialEq)]
pub struct ClientModel {
    pub preset: ClientPreset,
    /// Retries after the first attempt.
    pub retries: u32,
    pub backoff: Backoff,
    /// HTTP statuses retried (a connection error, an unreachable node, is always retried).
    pub retry_on: Vec<u16>,
    /// HTTP statuses that mark the node dead (a connection error always does).
    pub mark_dead_on: Vec<u16>,
    /// How long a node stays dead after its n-th consecutive failure; `None` never marks it.
    pub dead_node_timeout: Backoff,
}

const SEC: Nanos = NANOS_PER_SECOND;

impl ClientModel {
    /// The preset's model on a cluster of `nodes` nodes.
    pub fn preset(preset: ClientPreset, nodes: usize) -> ClientModel {
        let go = || ClientModel {
            preset,
            retries: 3,
            backoff: Backoff::None,
            retry_on: vec![502, 503, 504],
            mark_dead_on: vec![],
            dead_node_timeout: Backoff::Exponential {
                base: 60 * SEC,
                factor: 2.0,
                max: 60 * SEC * 32,
                equal_jitter: false,
            },
        };
        match preset {
            ClientPreset::None => ClientModel {
                preset,
                retries: 0,
                backoff: Backoff::None,
                retry_on: vec![],
                mark_dead_on: vec![],
                dead_node_timeout: Backoff::None,
            },
            ClientPreset::ElasticsearchPy => ClientModel {
                preset,
                retries: 3,
                backoff: Backoff::None,
                retry_on: vec![429, 502, 503, 504],
                mark_dead_on: vec![429, 500, 502, 503, 504],
                dead_node_timeout: Backoff::Exponential {
                    base: SEC,
                    factor: 2.0,
                    max: 30 * SEC,
                    equal_jitter: false,
                },
            },
            ClientPreset::ElasticsearchJava => ClientModel {
                preset,
                retries: nodes.saturating_sub(1) as u32,
                backoff: Backoff::None,
                retry_on: vec![502, 503, 504],
                mark_dead_on: vec![502, 503, 504],
                dead_node_timeout: Backoff::Exponential {
                    base: 60 * SEC,
                    factor: std::f64::consts::SQRT_2,
                    max: 30 * 60 * SEC,
                    equal_jitter: false,
                },
            },
            ClientPreset::GoElasticsearch | ClientPreset::FleetServer => go(),
            // elasticsearch-js marks the connection dead on 502, 503, 504 too.
            ClientPreset::Kibana => ClientModel {
                mark_dead_on: vec![502, 503, 504],
                ..go()
            },
        }
    }

    /// Whether an attempt that ended with `status` (`None`: connection error) is retried (CA-CL1).
    pub(crate) fn retries_on(&self, status: Option<u16>) -> bool {
        status.is_none_or(|s| self.retry_on.contains(&s))
    }

    /// Whether an attempt that ended with `status` marks its node dead (CA-CL3).
    pub(crate) fn marks_dead(&self, status: Option<u16>) -> bool {
        self.dead_node_timeout != Backoff::None
            && status.is_none_or(|s| self.mark_dead_on.contains(&s))
    }
}

/// A client's view of the nodes (CA-CL3): consecutive failures and until when each is dead.
#[derive(Debug, Clone, Default)]
pub(crate) struct NodePool {
    failures: Vec<u32>,
    dead_until: Vec<Option<Nanos>>,
}

impl NodePool {
    pub(crate) fn new(nodes: usize) -> NodePool {
        NodePool {
            failures: vec![0; nodes],
            dead_until: vec![None; nodes],
        }
    }

    pub(crate) fn is_dead(&self, node: NodeIndex, now: Nanos) -> bool {
        self.dead_until
            .get(node as usize)
            .copied()
            .flatten()
            .is_some_and(|t| now < t)
    }

    pub(crate) fn mark_dead(
        &mut self,
        node: NodeIndex,
        now: Nanos,
        timeout: &Backoff,
        rng: &mut impl Rng,
    ) {
        let i = node as usize;
        if i >= self.failures.len() {
            return;
        }
        self.failures[i] += 1;
        let d = timeout.delay(self.failures[i], rng);
        self.dead_until[i] = Some(now.saturating_add(d));
    }

    pub(crate) fn mark_live(&mut self, node: NodeIndex) {
        let i = node as usize;
        if i < self.failures.len() {
            self.failures[i] = 0;
            self.dead_until[i] = None;
        }
    }

    /// The node to use when `wanted` is the pick: `wanted` if alive, else the next live node after
    /// it in node order, else (every node dead) the one closest to revival (`elastic_transport`
    /// `NodePool.get`, `RestClient.nextHostsOneTime`).
    pub(crate) fn choose(&self, wanted: NodeIndex, now: Nanos) -> NodeIndex {
        let n = self.failures.len();
        if n == 0 {
            return wanted;
        }
        for k in 0..n {
            let i = ((wanted as usize) + k) % n;
            if !self.is_dead(i as NodeIndex, now) {
                return i as NodeIndex;
            }
        }
        (0..n)
            .min_by_key(|&i| (self.dead_until[i].unwrap_or(0), i))
            .map_or(wanted, |i| i as NodeIndex)
    }
}

/// A client as a workload describes it: `client = "elasticsearch-py"` or a table whose fields
/// override the preset's.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(untagged, expecting = "a client preset name or a table")]
pub(crate) enum ClientDesc {
    Preset(ClientPreset),
    Table(ClientTable),
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct ClientTable {
    pub(crate) preset: Option<ClientPreset>,
    pub(crate) retries: Option<u32>,
    pub(crate) backoff: Option<String>,
    pub(crate) retry_on: Option<Vec<u16>>,
    pub(crate) mark_dead_on: Option<Vec<u16>>,
    pub(crate) dead_node_timeout: Option<String>,
}

/// Retries above this are refused: each is an event, and no client retries so often.
pub const MAX_RETRIES: u32 = 100;

impl ClientDesc {
    /// The model; `None` for the preset `none` without overrides (today's behaviour, untouched).
    pub(crate) fn resolve(&self, nodes: usize, what: &str) -> Result<Option<ClientModel>, EsError> {
        let t = match self {
            ClientDesc::Preset(ClientPreset::None) => return Ok(None),
            ClientDesc::Preset(p) => return Ok(Some(ClientModel::preset(*p, nodes))),
            ClientDesc::Table(t) => t,
        };
        let mut m = ClientModel::preset(t.preset.unwrap_or_default(), nodes);
        if let Some(r) = t.retries {
            if r > MAX_RETRIES {
                return Err(err(format!(
                    "[{what}.retries] must be at most {MAX_RETRIES}, got [{r}]"
                )));
            }
            m.retries = r;
        }
        if let Some(b) = &t.backoff {
            m.backoff = Backoff::parse(b, &format!("{what}.backoff"))?;
        }
        for (given, slot, name) in [
            (&t.retry_on, &mut m.retry_on, "retry_on"),
            (&t.mark_dead_on, &mut m.mark_dead_on, "mark_dead_on"),
        ] {
            if let Some(v) = given {
                if let Some(bad) = v.iter().find(|s| !(100..=599).contains(*s)) {
                    return Err(err(format!(
                        "[{what}.{name}]: [{bad}] is not an HTTP status"
                    )));
                }
                slot.clone_from(v);
            }
        }
        if let Some(d) = &t.dead_node_timeout {
            m.dead_node_timeout = Backoff::parse(d, &format!("{what}.dead_node_timeout"))?;
        }
        if m == ClientModel::preset(ClientPreset::None, nodes) {
            return Ok(None);
        }
        Ok(Some(m))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::SeedableRng;
    use rand_chacha::ChaCha8Rng;

    fn rng() -> ChaCha8Rng {
        ChaCha8Rng::seed_from_u64(1)
    }

    /// CA-CL3: `elastic_transport`'s dead-node timeout is min(1 s * 2^(n-1), 30 s): 1, 2, 4, 8, 16,
    /// 30, 30 s for the 1st to 7th consecutive failure.
    #[test]
    fn rule_ca_cl3_python_dead_node_timeouts_double_up_to_30s() {
        let m = ClientModel::preset(ClientPreset::ElasticsearchPy, 3);
        let got: Vec<Nanos> = (1..=7)
            .map(|n| m.dead_node_timeout.delay(n, &mut rng()) / SEC)
            .collect();
        assert_eq!(got, [1, 2, 4, 8, 16, 30, 30]);
    }

    /// CA-CL3: `RestClient`'s `DeadHostState`: 60 s for the first failure, then
    /// 60 s * 2 * 2^(0.5 * (n-1) - 1) = 60 s * 2^((n-1)/2): 84.85 s, 120 s, ..., capped at 30 min.
    #[test]
    fn rule_ca_cl3_java_dead_host_timeouts_grow_by_root_two() {
        let m = ClientModel::preset(ClientPreset::ElasticsearchJava, 3);
        let t = |n| m.dead_node_timeout.delay(n, &mut rng());
        assert_eq!(t(1), 60 * SEC);
        assert!((t(2) as f64 / SEC as f64 - 84.852_8).abs() < 1e-3);
        assert_eq!(t(3) / SEC, 120);
        assert_eq!(t(30), 30 * 60 * SEC);
        // Java retries each other node once: 2 retries on 3 nodes.
        assert_eq!(m.retries, 2);
    }

    /// CA-CL2: the back-off grammar.
    #[test]
    fn rule_ca_cl2_backoff_grammar() {
        let b = Backoff::parse("exponential:100ms,max=10s", "b").unwrap();
        let ms = |n| b.delay(n, &mut rng()) / 1_000_000;
        assert_eq!(
            [ms(1), ms(2), ms(3), ms(7), ms(8)],
            [100, 200, 400, 6400, 10_000]
        );
        assert_eq!(Backoff::parse("none", "b").unwrap(), Backoff::None);
        assert_eq!(
            Backoff::parse("250ms", "b").unwrap(),
            Backoff::Constant(250_000_000)
        );
        assert_eq!(
            Backoff::parse("constant:2s", "b").unwrap(),
            Backoff::Constant(2 * SEC)
        );
        // Equal jitter stays within [d/2, d].
        let j = Backoff::parse("exponential:1s,jitter=equal", "b").unwrap();
        let mut r = rng();
        for _ in 0..100 {
            let d = j.delay(2, &mut r);
            assert!((SEC..=2 * SEC).contains(&d), "{d}");
        }
        for bad in [
            "exponential:1s,foo=2",
            "exponential:1s,factor=0.5",
            "fast",
            "-1s",
        ] {
            assert!(Backoff::parse(bad, "b").is_err(), "{bad}");
        }
    }

    /// CA-CL3: a dead node is skipped for the next live one; with every node dead the one closest
    /// to revival is used; a success marks the node alive again.
    #[test]
    fn rule_ca_cl3_node_pool_skips_dead_nodes() {
        let timeout = Backoff::Constant(10);
        let mut p = NodePool::new(3);
        assert_eq!(p.choose(1, 0), 1);
        p.mark_dead(1, 0, &timeout, &mut rng());
        assert_eq!(p.choose(1, 5), 2);
        assert_eq!(p.choose(1, 10), 1, "revived once the timeout passed");
        p.mark_dead(2, 1, &timeout, &mut rng());
        p.mark_dead(0, 2, &timeout, &mut rng());
        assert_eq!(
            p.choose(2, 5),
            1,
            "node-1 is dead until 10, node-2 until 11, node-0 until 12"
        );
        p.mark_live(1);
        assert_eq!(p.choose(0, 5), 1);
    }

    /// CA-CL5: `none`, spelled or as an empty table, is no client model at all.
    #[test]
    fn rule_ca_cl5_none_is_no_model() {
        let none = ClientDesc::Preset(ClientPreset::None);
        assert_eq!(none.resolve(3, "c").unwrap(), None);
        assert_eq!(
            ClientDesc::Table(ClientTable::default())
                .resolve(3, "c")
                .unwrap(),
            None
        );
        let t = ClientTable {
            preset: Some(ClientPreset::GoElasticsearch),
            retries: Some(5),
            retry_on: Some(vec![429]),
            ..ClientTable::default()
        };
        let m = ClientDesc::Table(t).resolve(3, "c").unwrap().unwrap();
        assert_eq!((m.retries, m.retry_on.as_slice()), (5, &[429u16][..]));
        let bad = ClientTable {
            retry_on: Some(vec![42]),
            ..ClientTable::default()
        };
        assert!(ClientDesc::Table(bad).resolve(3, "c").is_err());
    }
}
