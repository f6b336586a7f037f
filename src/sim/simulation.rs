//! The invalidation simulator: one event queue in virtual time where workloads, scheduled actions,
//! faults, the nodes' `security-crypto` pools and periodic samples interleave deterministically.
//!
//! Requests authenticate straight through the node's services (the same code the REST layer calls),
//! so a simulated request sees exactly the caches, rules and failures a REST request would. Hash
//! verifications are queued on each node's crypto pool (threads and queue from the settings) and
//! take the virtual CPU time of the [`CostModel`]; a full pool rejects with 429.

use super::action::Action;
use super::cost::CostModel;
use super::latency::Latencies;
use super::metrics::{Metrics, NodeSample};
use super::traffic::{
    NodeChoice, Popularity, TokenSourceSpec, Workload, WorkloadKind, WorkloadSpec, ZipfSampler,
    MAX_POPULATION, MAX_RATE,
};
use crate::cluster::{Authentication, Cluster, RealmRef};
use crate::error::EsError;
use crate::events::{CacheId, NodeIndex};
use crate::security::crypto_pool::CryptoPoolMode;
use crate::time::{Nanos, NANOS_PER_SECOND};
use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;
use std::cmp::Reverse;
use std::collections::{BinaryHeap, HashMap};

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub(super) enum Ev {
    Arrival {
        workload: usize,
    },
    CreateCredential {
        workload: usize,
    },
    CryptoDone {
        node: NodeIndex,
        ticket: u64,
    },
    Action {
        index: usize,
    },
    External {
        key: usize,
        every: Option<Nanos>,
    },
    Sample,
    /// The response of an API key document GET started by `request` arrives (CA-TM2).
    IndexGetDone {
        request: u64,
    },
    /// An action's index write lands, `index_write` after it was issued (CA-TM4).
    DelayedAction {
        index: usize,
    },
    /// A client's next attempt of the logical request waiting under `request` (CA-CL1).
    Retry {
        request: u64,
    },
    /// The master's follower checks of `node`, partitioned, have failed `retry_count` times
    /// (CA-PT1); `epoch` tells whether the partition is still the one they started in.
    FollowerChecksFailed {
        node: NodeIndex,
        epoch: u32,
    },
    /// `node`, removed and healed, finds the master and joins again (CA-PT4).
    Rejoin {
        node: NodeIndex,
        epoch: u32,
    },
    /// The request of fan-out `fanout` to `target` arrives, a `transport_hop` after it was sent
    /// (CA-TM5).
    TransportArrive {
        fanout: u64,
        target: NodeIndex,
    },
}

#[derive(Debug, Clone, Copy)]
pub(super) struct InFlight {
    pub(super) arrival: Nanos,
    pub(super) node: NodeIndex,
    pub(super) workload: usize,
    pub(super) credential: usize,
    /// Whether the request presents the wrong secret (a retry presents the same one).
    pub(super) wrong: bool,
    /// Attempts made before this one (CA-CL1).
    pub(super) attempt: u32,
}

#[derive(Debug, Clone)]
pub(super) struct Scheduled {
    pub(super) action: Action,
    pub(super) every: Option<Nanos>,
}

/// Where [`Simulation::run_slice`] stopped.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Stop {
    /// Every event up to the target ran; the clock stands at the target.
    Reached,
    /// The event budget ran out first. The state is consistent: calling again goes on exactly where
    /// this call stopped, so a run cut into slices is the same run.
    Budget,
    /// The external action `key` is due and the clock stands at its time `at`: the caller runs it
    /// (and reports a failure with [`Simulation::external_failed`]), then calls again. If it repeats,
    /// its next occurrence is already queued.
    External { key: usize, at: Nanos },
}

/// A simulation over a cluster. The cluster is passed to [`Simulation::run_until`], so that callers
/// can inspect or change it between runs.
pub struct Simulation {
    pub(super) rng: ChaCha8Rng,
    pub(super) queue: BinaryHeap<Reverse<(Nanos, u64, Ev)>>,
    /// One arrival `(time, seq, workload)` kept beside the heap: each arrival schedules the next
    /// one, so the busiest event skips the heap's push and pop. Events still run in `(time, seq)`
    /// order across the slot and the heap.
    pub(super) next_arrival: Option<(Nanos, u64, usize)>,
    pub(super) seq: u64,
    pub(super) workloads: Vec<Workload>,
    pub(super) actions: Vec<Scheduled>,
    pub(super) in_flight: HashMap<u64, InFlight, crate::cache::KeyHasher>,
    /// API key document GETs in flight, by request (CA-TM2).
    pub(super) fetches: HashMap<u64, super::traffic::PendingFetch, crate::cache::KeyHasher>,
    /// The latency of each timed operation (CA-TM1).
    pub latency: Latencies,
    /// Whether the doc cache checks its invalidation counter (AK-R2.4); `false` is the what-if of
    /// CA-TM3.
    pub doc_cache_counter: bool,
    pub cost: CostModel,
    pub metrics: Metrics,
    pub(crate) sample_interval: Nanos,
    pub(super) started: bool,
    pub(super) next_request: u64,
    /// Errors of scheduled actions (time, action, error reason): a simulation does not stop for them.
    pub action_errors: Vec<(Nanos, String, String)>,
    /// `[simulation.fault_detection]` (CA-PT1 to CA-PT5); `None`: a partitioned node stays in the
    /// cluster state and fan-outs to it fail at once.
    pub fault_detection: Option<super::fault_detection::FaultDetection>,
    /// Per node: its partition epoch (cancels stale follower check and rejoin events), the origin
    /// of its follower checks and when fault detection removed it.
    pub(super) fd_nodes: Vec<FdNode>,
    /// The clear-cache fan-outs (with fault detection).
    pub(super) clears: Vec<super::clears::Clear>,
    /// Fault detection's removals and rejoins: (time, node, joined).
    pub(super) membership_changes: Vec<(Nanos, NodeIndex, bool)>,
}

/// A node's fault detection state in a simulation.
#[derive(Debug, Clone, Copy, Default)]
pub(super) struct FdNode {
    pub(super) epoch: u32,
    pub(super) origin: Nanos,
    pub(super) removed_at: Option<Nanos>,
}

impl std::fmt::Debug for Simulation {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Simulation")
            .field("workloads", &self.workloads.len())
            .field("actions", &self.actions.len())
            .field("in_flight", &self.in_flight.len())
            .finish_non_exhaustive()
    }
}

pub(super) fn sim_err(msg: impl Into<String>) -> EsError {
    EsError::illegal_argument(msg)
}

/// The `elastic` superuser, as the simulation's own actions run.
pub(super) fn elastic() -> Authentication {
    Authentication::Realm {
        username: "elastic".into(),
        roles: vec!["superuser".into()],
        full_name: None,
        email: None,
        metadata: serde_json::json!({"_reserved": true}),
        realm: RealmRef {
            name: "reserved".into(),
            type_: "reserved".into(),
        },
    }
}

impl Simulation {
    pub fn new(cluster: &Cluster, seed: u64) -> Simulation {
        Simulation {
            rng: ChaCha8Rng::seed_from_u64(seed),
            queue: BinaryHeap::new(),
            next_arrival: None,
            seq: 0,
            workloads: Vec::new(),
            actions: Vec::new(),
            in_flight: HashMap::with_hasher(crate::cache::KeyHasher),
            fetches: HashMap::with_hasher(crate::cache::KeyHasher),
            latency: Latencies::new(seed),
            doc_cache_counter: true,
            cost: CostModel::default(),
            metrics: Metrics::new(cluster.nodes().len(), 0),
            sample_interval: 10 * NANOS_PER_SECOND,
            started: false,
            next_request: 1 << 40,
            action_errors: Vec::new(),
            fault_detection: None,
            fd_nodes: Vec::new(),
            clears: Vec::new(),
            membership_changes: Vec::new(),
        }
    }

    pub(super) fn push(&mut self, at: Nanos, ev: Ev) {
        self.seq += 1;
        if let (Ev::Arrival { workload }, None) = (ev, self.next_arrival) {
            self.next_arrival = Some((at, self.seq, workload));
            return;
        }
        self.queue.push(Reverse((at, self.seq, ev)));
    }

    /// Adds a workload; returns its index.
    pub fn add_workload(
        &mut self,
        cluster: &Cluster,
        spec: WorkloadSpec,
    ) -> Result<usize, EsError> {
        if !(spec.rate.is_finite() && (0.0..=MAX_RATE).contains(&spec.rate)) {
            return Err(sim_err(format!(
                "workload [{}]: rate must be a non-negative number of at most {MAX_RATE} requests per virtual second, got [{}]",
                spec.name,
                // 1e300, not three hundred digits.
                if spec.rate.abs() < 1e15 { spec.rate.to_string() } else { format!("{:e}", spec.rate) }
            )));
        }
        if self.workloads.iter().any(|w| w.spec.name == spec.name) {
            // Actions name their workload: two workloads of one name would be ambiguous.
            return Err(sim_err(format!(
                "a workload named [{}] already exists",
                spec.name
            )));
        }
        if spec.population == 0 || spec.population > MAX_POPULATION {
            return Err(sim_err(format!(
                "workload [{}]: population must be at least 1 and at most {MAX_POPULATION}, got [{}]",
                spec.name, spec.population
            )));
        }
        if !(0.0..=1.0).contains(&spec.wrong_secret_share) {
            return Err(sim_err(format!(
                "workload [{}]: wrong_secret_share must be in [0, 1]",
                spec.name
            )));
        }
        let nodes = cluster.nodes().len();
        let check_node = |n: NodeIndex| -> Result<(), EsError> {
            if (n as usize) < nodes {
                Ok(())
            } else {
                Err(sim_err(format!(
                    "workload [{}]: no node with index [{n}]",
                    spec.name
                )))
            }
        };
        match &spec.kind {
            WorkloadKind::ApiKey { creator_node, .. } => check_node(*creator_node)?,
            // Checked when the log was mapped (`replay::plan`).
            WorkloadKind::Replay(_) => {}
            WorkloadKind::ServiceToken { account, source } => {
                if crate::security::service_account::find_account_in(
                    account,
                    cluster.settings.version,
                )
                .is_none()
                {
                    return Err(sim_err(format!(
                        "workload [{}]: service account [{account}] does not exist",
                        spec.name
                    )));
                }
                if let TokenSourceSpec::File { nodes: ns } = source {
                    for n in ns {
                        check_node(*n)?;
                    }
                }
            }
        }
        if let NodeChoice::Weighted(w) = &spec.node_choice {
            if w.len() != nodes
                || w.iter().any(|x| !x.is_finite() || *x < 0.0)
                || w.iter().sum::<f64>() <= 0.0
            {
                return Err(sim_err(format!(
                    "workload [{}]: weighted node choice needs {nodes} non-negative weights with a positive sum",
                    spec.name
                )));
            }
        }
        let zipf = match spec.popularity {
            Popularity::Zipf { s } => {
                Some(ZipfSampler::new(spec.population, s).ok_or_else(|| {
                    sim_err(format!(
                        "workload [{}]: zipf exponent must be >= 0, got [{s}]",
                        spec.name
                    ))
                })?)
            }
            Popularity::Hotspot {
                fraction,
                probability,
            } => {
                if !(0.0..=1.0).contains(&fraction) || !(0.0..=1.0).contains(&probability) {
                    return Err(sim_err(format!(
                        "workload [{}]: hotspot fraction and probability must be in [0, 1]",
                        spec.name
                    )));
                }
                None
            }
            Popularity::Uniform => None,
        };
        let idx = self.workloads.len();
        self.workloads.push(Workload {
            spec,
            credentials: Vec::new(),
            zipf,
            round_robin: 0,
            created: 0,
            pool: super::client::NodePool::new(nodes),
            replay_next: 0,
        });
        self.metrics.requests.push(0);
        self.metrics.retries.push(0);
        self.metrics.workload_outcomes.push([0; 4]);
        Ok(idx)
    }

    /// Schedules an action at `at`, and then every `every` if given.
    pub fn schedule(
        &mut self,
        at: Nanos,
        every: Option<Nanos>,
        action: Action,
    ) -> Result<(), EsError> {
        if every == Some(0) {
            return Err(sim_err("a repeating action needs a positive interval"));
        }
        let index = self.actions.len();
        self.actions.push(Scheduled { action, every });
        self.push(at, Ev::Action { index });
        Ok(())
    }

    /// Schedules an action the caller runs itself, known by the caller's `key` (the Python glue's
    /// callables, which must not run while the cluster is locked): [`Simulation::run_slice`] stops
    /// before it.
    pub fn schedule_external(
        &mut self,
        at: Nanos,
        every: Option<Nanos>,
        key: usize,
    ) -> Result<(), EsError> {
        if every == Some(0) {
            return Err(sim_err("a repeating action needs a positive interval"));
        }
        self.push(at, Ev::External { key, every });
        Ok(())
    }

    /// Records that an external action (described by `action`), run at `at`, failed: like any
    /// action error, the run goes on.
    pub fn external_failed(&mut self, at: Nanos, action: String, error: String) {
        self.action_errors.push((at, action, error));
    }

    fn start(&mut self, cluster: &mut Cluster) {
        self.started = true;
        let now = cluster.now();
        cluster.set_fanout_model(
            self.fault_detection.is_some(),
            self.latency.has("transport_hop"),
        );
        self.fd_nodes = vec![
            FdNode {
                origin: now,
                ..FdNode::default()
            };
            cluster.nodes().len()
        ];
        for n in 0..cluster.nodes().len() {
            if let Some(node) = cluster.node_mut(n as NodeIndex) {
                node.crypto_pool.mode = CryptoPoolMode::Held;
                node.service_accounts.collect_verified = true;
                node.stores.collect_verified = true;
            }
        }
        if self.metrics.nodes.len() < cluster.nodes().len() {
            self.metrics.nodes.resize(
                cluster.nodes().len(),
                super::metrics::NodeMetrics::default(),
            );
        }
        for w in 0..self.workloads.len() {
            let spec = self.workloads[w].spec.clone();
            let pop = spec.population;
            if spec.create_over == 0 {
                for _ in 0..pop {
                    self.create_credential(cluster, w);
                }
            } else {
                let step = spec.create_over / pop as u64;
                for i in 0..pop {
                    self.push(
                        now + spec.start + step * i as u64,
                        Ev::CreateCredential { workload: w },
                    );
                }
            }
            if spec.rate > 0.0 {
                let first = now + spec.start + self.exp_gap(spec.rate);
                self.push(first, Ev::Arrival { workload: w });
            }
            if let Some(at) = self.replay_first(w) {
                self.push(now + spec.start + at, Ev::Arrival { workload: w });
            }
        }
        self.push(now, Ev::Sample);
    }

    /// CA-RC3: the stored-password verifications (bcrypt by default) of the realms, on a realm cache
    /// miss of a REST action's Basic authentication, charged as hashing CPU.
    fn charge_realm_verifications(&mut self, cluster: &mut Cluster) {
        for n in 0..cluster.nodes().len() {
            let Some(node) = cluster.node_mut(n as NodeIndex) else {
                continue;
            };
            let hashers = std::mem::take(&mut node.stores.verified);
            let cost: Nanos = hashers.iter().map(|h| self.cost.verification(*h)).sum();
            if let Some(m) = self.metrics.nodes.get_mut(n) {
                m.hashing_cpu += cost;
                m.verifications += hashers.len() as u64;
            }
        }
    }

    fn sample(&mut self, cluster: &mut Cluster) {
        let now = cluster.now();
        for (i, n) in cluster.nodes().iter().enumerate() {
            let mut caches = [None; CacheId::ALL.len()];
            for (j, c) in CacheId::ALL.iter().enumerate() {
                caches[j] = match (
                    cluster.cache_stats(i as NodeIndex, *c),
                    cluster.cache_size(i as NodeIndex, *c),
                ) {
                    (Some(s), Some(sz)) => Some((s.hits, s.misses, s.evictions, sz.count)),
                    _ => None,
                };
            }
            let m = &mut self.metrics.nodes[i];
            let latency = std::mem::take(&mut m.interval_latency).summary();
            self.metrics.samples.push(NodeSample {
                time: now,
                node: i as u16,
                caches,
                queue_depth: n.crypto_pool.queued() as u32 + n.crypto_pool.running,
                hashing_cpu: m.hashing_cpu,
                outcomes: m.outcomes,
                max_queue_depth: std::mem::take(&mut m.interval_max_queue_depth),
                stale_acceptances: m.stale_acceptances,
                latency,
            });
        }
        let next = now + self.sample_interval.max(1);
        self.push(next, Ev::Sample);
    }

    /// `until`. External actions have no runner here and are skipped; see [`Simulation::run_slice`].
    pub fn run_until(&mut self, cluster: &mut Cluster, until: Nanos) {
        while self.run_slice(cluster, until, usize::MAX) != Stop::Reached {}
    }

    /// Runs at most `budget` events up to and including `until`, stopping early before an external
    /// action (see [`Stop`]). Only [`Stop::Reached`] moves the clock past the last event run.
    pub fn run_slice(&mut self, cluster: &mut Cluster, until: Nanos, budget: usize) -> Stop {
        if !self.started {
            self.start(cluster);
        }
        let mut ran = 0usize;
        loop {
            let top = self.queue.peek().map(|Reverse((at, seq, _))| (*at, *seq));
            let slot_first = match (self.next_arrival, top) {
                (Some((at, seq, _)), Some(top)) => (at, seq) < top,
                (Some(_), None) => true,
                (None, _) => false,
            };
            let Some(at) = (if slot_first {
                self.next_arrival.map(|(at, _, _)| at)
            } else {
                top.map(|(at, _)| at)
            }) else {
                break;
            };
            if at > until {
                break;
            }
            if ran >= budget {
                return Stop::Budget;
            }
            let ev = match (slot_first, self.next_arrival.take()) {
                (true, Some((_, _, workload))) => Ev::Arrival { workload },
                (_, slot) => {
                    self.next_arrival = slot;
                    let Some(Reverse((_, _, ev))) = self.queue.pop() else {
                        break;
                    };
                    ev
                }
            };
            ran += 1;
            if at > cluster.now() {
                cluster.advance(at - cluster.now());
            }
            match ev {
                Ev::Arrival { workload } => self.arrival(cluster, workload),
                Ev::CreateCredential { workload } => self.create_credential(cluster, workload),
                Ev::CryptoDone { node, ticket } => self.crypto_done(cluster, node, ticket),
                Ev::Sample => self.sample(cluster),
                Ev::IndexGetDone { request } => self.index_get_done(cluster, request),
                Ev::DelayedAction { index } => self.run_scheduled(cluster, index),
                Ev::Retry { request } => self.retry(cluster, request),
                Ev::FollowerChecksFailed { node, epoch } => {
                    self.follower_checks_failed(cluster, node, epoch);
                }
                Ev::Rejoin { node, epoch } => self.rejoin(cluster, node, epoch),
                Ev::TransportArrive { fanout, target } => {
                    cluster.arrive(fanout, target);
                    self.collect_clears(cluster);
                }
                Ev::Action { index } => {
                    // CA-TM4: an index write lands `index_write` later.
                    let delay = if super::latency::writes_index(&self.actions[index].action) {
                        self.latency.sample("index_write")
                    } else {
                        0
                    };
                    if delay > 0 {
                        self.push(cluster.now() + delay, Ev::DelayedAction { index });
                    } else {
                        self.run_scheduled(cluster, index);
                    }
                    if let Some(every) = self.actions[index].every {
                        let next = cluster.now().saturating_add(every);
                        self.push(next, Ev::Action { index });
                    }
                }
                Ev::External { key, every } => {
                    let now = cluster.now();
                    if let Some(e) = every {
                        self.push(now.saturating_add(e), Ev::External { key, every });
                    }
                    return Stop::External { key, at: now };
                }
            }
        }
        if until > cluster.now() {
            cluster.advance(until - cluster.now());
        }
        Stop::Reached
    }

    /// Runs scheduled action `index` now; an error is recorded and the run goes on.
    fn run_scheduled(&mut self, cluster: &mut Cluster, index: usize) {
        if let Err(e) = self.run_action(cluster, index) {
            let what = self.describe_action(cluster, &self.actions[index].action);
            self.action_errors
                .push((cluster.now(), what, e.into_reason()));
        }
        self.charge_realm_verifications(cluster);
        self.collect_clears(cluster);
    }

    /// [`Action::describe`] with this cluster's node names and this simulation's workload names.
    pub(crate) fn describe_action(&self, cluster: &Cluster, action: &Action) -> String {
        action.describe(&|n| cluster.node_label(n), &|w| {
            self.workloads
                .get(w)
                .map_or_else(|| format!("#{w}"), |x| x.spec.name.clone())
        })
    }

    /// Whether the run records its clear-cache fan-outs (`report.clears`): with fault detection or
    /// a `transport_hop` latency (CA-PT5, CA-TM5).
    pub(crate) fn records_clears(&self) -> bool {
        self.fault_detection.is_some() || self.latency.has("transport_hop")
    }

    /// Requests started and not finished yet.
    pub fn in_flight(&self) -> usize {
        self.in_flight.len()
    }

    pub fn workload_names(&self) -> Vec<String> {
        self.workloads.iter().map(|w| w.spec.name.clone()).collect()
    }

    /// Ids (API key ids or qualified token names) of a workload's credentials.
    pub fn credential_ids(&self, w: usize) -> Vec<String> {
        self.workloads
            .get(w)
            .map(|w| w.credentials.iter().map(|c| c.id.clone()).collect())
            .unwrap_or_default()
    }

    /// Whether the credentials were all created (for reports).
    pub(crate) fn credentials_created(&self, w: usize) -> usize {
        self.workloads
            .get(w)
            .map_or(0, |w| w.credentials.iter().filter(|c| c.created).count())
    }
}
