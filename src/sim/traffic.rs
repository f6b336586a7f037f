//! Workload traffic: the workloads' descriptions, their credentials (created through the same code
//! paths as the APIs), Poisson arrivals, popularity and node choice, and how each request ends
//! (outcome, latency, stale acceptances against the ground truth).

use super::alias::ZipfAlias;
use super::client::{ClientModel, NodePool};
use super::metrics::Outcome;
use super::simulation::{elastic, Ev, InFlight, Simulation};
use crate::cluster::Cluster;
use crate::events::{CacheId, EventKind, NodeIndex};
use crate::security::api_key::{
    ApiKeyCredentials, ApiKeyType, AuthOutcome, AuthStep, Begin, DocFetch,
};
use crate::security::crypto_pool::CryptoPoolMode;
use crate::security::hashing::{Hasher, Secret};
use crate::security::service_account::{
    ServiceAccountAuthOutcome, ServiceAccountId, ServiceAccountToken,
};
use crate::time::{epoch_millis, Nanos, TimeValue, NANOS_PER_SECOND};
use rand::Rng;
use rand_distr::{Distribution, Exp, Zipf};
use std::collections::HashMap;

/// Which credential a request presents.
#[derive(Debug, Clone, PartialEq)]
pub enum Popularity {
    Uniform,
    /// Zipf with exponent `s` (rank 0 most popular).
    Zipf {
        s: f64,
    },
    /// `probability` of the requests go to the first `fraction` of the credentials.
    Hotspot {
        fraction: f64,
        probability: f64,
    },
}

/// Which node receives a request.
#[derive(Debug, Clone, PartialEq)]
pub enum NodeChoice {
    RoundRobin,
    Random,
    /// Each credential always goes to the same node.
    Sticky,
    /// Weights per node (in node order).
    Weighted(Vec<f64>),
}

/// Where a service token workload's tokens live.
#[derive(Debug, Clone, PartialEq)]
pub enum TokenSourceSpec {
    /// Index tokens, created through the token API.
    Index,
    /// File tokens written by the `elasticsearch-service-tokens` tool on these nodes.
    File { nodes: Vec<NodeIndex> },
}

/// The most requests per virtual second one workload may ask for. Each request is one event, and the
/// simulator runs about half a million of them per second of wall time: a million per virtual second
/// already takes about two seconds of wall time per virtual second.
pub const MAX_RATE: f64 = 1_000_000.0;

/// The most credentials one workload may hold. They are all created (each an API key or token, its
/// secret hashed) when the run starts or over `create_over`.
pub(crate) const MAX_POPULATION: usize = 10_000_000;

/// A stream of authentications.
#[derive(Debug, Clone)]
pub struct WorkloadSpec {
    pub name: String,
    pub kind: WorkloadKind,
    /// How many credentials.
    pub population: usize,
    /// Requests per virtual second (Poisson arrivals).
    pub rate: f64,
    pub popularity: Popularity,
    pub node_choice: NodeChoice,
    /// Share of requests presenting a wrong secret.
    pub wrong_secret_share: f64,
    /// Credentials created over this long from the start (0: all up front).
    pub create_over: Nanos,
    pub start: Nanos,
    pub stop: Option<Nanos>,
    /// The client's retries, back-off and dead-node marking (CA-CL1 to CA-CL5); `None`: one
    /// attempt per request (the preset `none`).
    pub client: Option<ClientModel>,
}

#[derive(Debug, Clone, PartialEq)]
pub enum WorkloadKind {
    ApiKey {
        creator_node: NodeIndex,
        expiration: Option<TimeValue>,
    },
    ServiceToken {
        account: String,
        source: TokenSourceSpec,
    },
    /// Real traffic replayed from a log (`replay/`): its credentials and arrivals come from the plan.
    Replay(std::sync::Arc<super::replay::ReplayPlan>),
}

#[derive(Debug, Clone)]
pub(super) enum Presented {
    ApiKey {
        right: ApiKeyCredentials,
        wrong: ApiKeyCredentials,
    },
    Token {
        right: ServiceAccountToken,
        wrong: ServiceAccountToken,
    },
}

#[derive(Debug, Clone)]
pub(super) struct Credential {
    /// API key id or qualified token name.
    pub(super) id: String,
    /// What requests present, built once (the right secret and a wrong one).
    pub(super) presented: Presented,
    pub(super) created: bool,
    /// When the credential stopped being valid (invalidated, deleted); expiry is checked separately.
    pub(super) invalid_since: Option<Nanos>,
    pub(super) expires_at: Option<Nanos>,
    /// For file tokens: the nodes whose file holds it now, and since when it was removed from each.
    pub(super) removed_from_file: HashMap<NodeIndex, Nanos, crate::cache::KeyHasher>,
}

/// How a Zipf workload draws its ranks (0-based, rank 0 the most popular).
#[derive(Debug, Clone)]
pub(super) enum ZipfSampler {
    Alias(ZipfAlias),
    Rejection(Zipf<f64>),
}

impl ZipfSampler {
    /// The sampler of Zipf(`s`) over `population` ranks; `None` for an exponent below 0 (or NaN).
    pub(super) fn new(population: usize, s: f64) -> Option<ZipfSampler> {
        if let Some(t) = ZipfAlias::new(population, s) {
            return Some(ZipfSampler::Alias(t));
        }
        Zipf::new(population as f64, s)
            .ok()
            .map(ZipfSampler::Rejection)
    }
}

/// An API key document GET in flight (CA-TM2), like a verification waiting in the crypto pool.
#[derive(Debug, Clone)]
pub(crate) struct PendingFetch {
    node: NodeIndex,
    /// The request presented the wrong secret.
    wrong: bool,
    started: Nanos,
    fetch: DocFetch,
}

#[derive(Debug)]
pub(super) struct Workload {
    pub(super) spec: WorkloadSpec,
    pub(super) credentials: Vec<Credential>,
    /// Zipf popularity: the alias table up to [`MAX_ALIAS_RANKS`](super::alias::MAX_ALIAS_RANKS)
    /// ranks, `rand_distr`'s rejection sampler beyond.
    pub(super) zipf: Option<ZipfSampler>,
    pub(super) round_robin: usize,
    pub(super) created: usize,
    /// The client's view of the nodes (CA-CL3); empty without a client model.
    pub(super) pool: NodePool,
    /// Replay workloads: the index of the next record to play.
    pub(super) replay_next: usize,
}

impl Simulation {
    pub(super) fn exp_gap(&mut self, rate: f64) -> Nanos {
        match Exp::new(rate) {
            Ok(e) => (e.sample(&mut self.rng) * NANOS_PER_SECOND as f64)
                .round()
                .max(1.0) as Nanos,
            Err(_) => Nanos::MAX / 4,
        }
    }

    /// Creates the next credential of a workload (through the same code paths as the APIs).
    pub(super) fn create_credential(&mut self, cluster: &mut Cluster, w: usize) {
        let i = self.workloads[w].created;
        if i >= self.workloads[w].spec.population {
            return;
        }
        self.workloads[w].created += 1;
        let spec = self.workloads[w].spec.clone();
        // CA-RP2: a replay creates each distinct real credential as one of its kind, named after it;
        // one that never authenticated is only presented.
        let (kind, name) = match &spec.kind {
            WorkloadKind::Replay(plan) => {
                let real = &plan.credentials[i];
                let Some(k) = super::replay::creation(real, cluster.nodes().len()) else {
                    let cred = super::replay::never_created(real);
                    self.workloads[w].credentials.push(cred);
                    return;
                };
                k
            }
            k => (k.clone(), format!("{}-{i}", spec.name)),
        };
        let before = self.workloads[w].credentials.len();
        self.create_credential_as(cluster, w, &kind, name);
        if let (WorkloadKind::Replay(plan), true) =
            (&spec.kind, self.workloads[w].credentials.len() == before)
        {
            // Creation failed (recorded as an action error): the requests still present it.
            let cred = super::replay::never_created(&plan.credentials[i]);
            self.workloads[w].credentials.push(cred);
        }
    }

    /// Creates one credential of `kind` named `name` for workload `w`.
    fn create_credential_as(
        &mut self,
        cluster: &mut Cluster,
        w: usize,
        kind: &WorkloadKind,
        name: String,
    ) {
        let spec_name = self.workloads[w].spec.name.clone();
        let auth = elastic();
        let cred = match kind {
            WorkloadKind::ApiKey {
                creator_node,
                expiration,
            } => {
                let req = crate::cluster::CreateApiKeyRequest {
                    name,
                    expiration: *expiration,
                    ..Default::default()
                };
                // The creating node hashes on its pool; the simulation's pool is held, so create in
                // immediate mode (creation is not the load being studied).
                let mode = cluster.node(*creator_node).map(|n| n.crypto_pool.mode);
                if let Some(n) = cluster.node_mut(*creator_node) {
                    n.crypto_pool.mode = CryptoPoolMode::Immediate;
                }
                let created = cluster.create_api_key(*creator_node, &auth, req);
                if let (Some(n), Some(m)) = (cluster.node_mut(*creator_node), mode) {
                    n.crypto_pool.mode = m;
                }
                match created {
                    Ok(k) => {
                        let expires_at = k.expiration.map(|ms| {
                            let off = ms - epoch_millis(0);
                            (off.max(0) as u64).saturating_mul(1_000_000)
                        });
                        let shared_id: std::sync::Arc<str> = k.id.as_str().into();
                        let right = ApiKeyCredentials {
                            id: shared_id.clone(),
                            secret: k.api_key.clone(),
                            expected_type: ApiKeyType::Rest,
                        };
                        let wrong = ApiKeyCredentials {
                            id: shared_id,
                            secret: Secret::new(format!("{}x", &k.api_key.expose()[1..])),
                            expected_type: ApiKeyType::Rest,
                        };
                        Credential {
                            id: k.id,
                            presented: Presented::ApiKey { right, wrong },
                            created: true,
                            invalid_since: None,
                            expires_at,
                            removed_from_file: HashMap::default(),
                        }
                    }
                    Err(e) => {
                        self.action_errors.push((
                            cluster.now(),
                            format!("create api key [{spec_name}]"),
                            e.into_reason(),
                        ));
                        return;
                    }
                }
            }
            WorkloadKind::ServiceToken { account, source } => {
                let Ok(acc) = ServiceAccountId::from_principal(account) else {
                    return;
                };
                let token_name = name;
                let bearer = match source {
                    TokenSourceSpec::Index => {
                        match cluster.create_service_token(0, &auth, &acc, Some(&token_name)) {
                            Ok((_, v)) => v,
                            Err(e) => {
                                self.action_errors.push((
                                    cluster.now(),
                                    "create service token".into(),
                                    e.into_reason(),
                                ));
                                return;
                            }
                        }
                    }
                    TokenSourceSpec::File { nodes } => {
                        // One token value on every listed node: the tool on the first, the same line
                        // copied to the others (operators copy the file around).
                        let Some(&first) = nodes.first() else { return };
                        let bearer =
                            match cluster.service_tokens_tool_create(first, account, &token_name) {
                                Ok(b) => b,
                                Err(e) => {
                                    self.action_errors.push((
                                        cluster.now(),
                                        "service tokens tool".into(),
                                        e.message,
                                    ));
                                    return;
                                }
                            };
                        let content = cluster
                            .node(first)
                            .map(|n| n.service_tokens_file().to_vec())
                            .unwrap_or_default();
                        for &n in &nodes[1..] {
                            let _ = cluster.set_service_tokens_file(n, content.clone());
                        }
                        bearer
                    }
                };
                let Some(token) = ServiceAccountToken::try_parse(bearer.expose()) else {
                    return;
                };
                let wrong = ServiceAccountToken {
                    account: token.account.clone(),
                    name: token.name.clone(),
                    secret: Secret::new(format!("{}x", &token.secret.expose()[1..])),
                };
                Credential {
                    id: token.qualified_name(),
                    presented: Presented::Token {
                        right: token,
                        wrong,
                    },
                    created: true,
                    invalid_since: None,
                    expires_at: None,
                    removed_from_file: HashMap::default(),
                }
            }
            // Replay credentials are created as one of the kinds above (`create_credential`).
            WorkloadKind::Replay(_) => return,
        };
        self.workloads[w].credentials.push(cred);
    }

    pub(super) fn pick_credential(&mut self, w: usize) -> Option<usize> {
        let Simulation { rng, workloads, .. } = self;
        let wl = &workloads[w];
        let n = wl.credentials.len();
        if n == 0 {
            return None;
        }
        let pop = wl.spec.population;
        let i = match &wl.spec.popularity {
            Popularity::Uniform => rng.random_range(0..pop),
            Popularity::Zipf { .. } => match wl.zipf.as_ref()? {
                ZipfSampler::Alias(t) => t.sample(rng),
                ZipfSampler::Rejection(z) => (z.sample(rng) as usize).clamp(1, pop) - 1,
            },
            Popularity::Hotspot {
                fraction,
                probability,
            } => {
                let hot = ((pop as f64 * fraction).ceil() as usize).clamp(1, pop);
                if rng.random::<f64>() < *probability || hot == pop {
                    rng.random_range(0..hot)
                } else {
                    rng.random_range(hot..pop)
                }
            }
        };
        // Credentials not created yet fall back onto the created ones.
        Some(i % n)
    }

    pub(super) fn pick_node(
        &mut self,
        cluster: &Cluster,
        w: usize,
        credential: usize,
    ) -> NodeIndex {
        let nodes = cluster.nodes().len();
        let Simulation { rng, workloads, .. } = self;
        let wl = &mut workloads[w];
        let i = match &wl.spec.node_choice {
            NodeChoice::RoundRobin => {
                let r = wl.round_robin;
                wl.round_robin = r.wrapping_add(1);
                r % nodes
            }
            NodeChoice::Random => rng.random_range(0..nodes),
            NodeChoice::Sticky => {
                // A fixed, seed-independent spread of credentials over nodes.
                let h = (credential as u64).wrapping_mul(0x9E37_79B9_7F4A_7C15) >> 32;
                (h as usize) % nodes
            }
            NodeChoice::Weighted(ws) => {
                let total: f64 = ws.iter().sum();
                let mut x = rng.random::<f64>() * total;
                let mut pick = nodes - 1;
                for (j, wt) in ws.iter().enumerate() {
                    if x < *wt {
                        pick = j;
                        break;
                    }
                    x -= wt;
                }
                pick
            }
        };
        i as NodeIndex
    }

    /// Whether a credential is valid for `node` at `now` (ground truth), and since when it is not.
    fn invalid_since(&self, w: usize, c: usize, node: NodeIndex, now: Nanos) -> Option<Nanos> {
        let cred = &self.workloads[w].credentials[c];
        let mut since = cred.invalid_since;
        if let Some(exp) = cred.expires_at {
            if now >= exp {
                since = Some(since.map_or(exp, |s| s.min(exp)));
            }
        }
        if let Some(&t) = cred.removed_from_file.get(&node) {
            since = Some(since.map_or(t, |s| s.min(t)));
        }
        since
    }

    pub(super) fn finish(
        &mut self,
        cluster: &mut Cluster,
        request: u64,
        outcome: Outcome,
        message: &str,
    ) {
        if let Some(f) = self.in_flight.remove(&request) {
            self.finish_flight(cluster, f, outcome, message);
        }
    }

    /// Records how a request ended: its outcome, latency, a stale acceptance if the credential was
    /// no longer valid on that node (ground truth), and the trace event.
    fn finish_flight(
        &mut self,
        cluster: &mut Cluster,
        f: InFlight,
        outcome: Outcome,
        message: &str,
    ) {
        let now = cluster.now();
        if self.client_step(cluster, f, outcome, message) {
            return;
        }
        let latency = now - f.arrival;
        self.metrics
            .record_outcome(f.node as usize, f.workload, outcome, Some(latency));
        let (kind, detail) = match outcome {
            Outcome::Success => {
                let stale = self.invalid_since(f.workload, f.credential, f.node, now);
                if let Some(since) = stale {
                    let m = &mut self.metrics.nodes[f.node as usize];
                    m.stale_acceptances += 1;
                    m.longest_stale_window = m.longest_stale_window.max(now - since);
                }
                (
                    EventKind::AuthSuccess,
                    if stale.is_some() { "stale" } else { "" },
                )
            }
            Outcome::Unauthorized => (EventKind::AuthFailure, message),
            Outcome::TooBusy => (EventKind::AuthRejected, message),
            Outcome::Unavailable => (EventKind::NodeUnreachable, "node stopped"),
        };
        if cluster.events.enabled() {
            let id = &self.workloads[f.workload].credentials[f.credential].id;
            cluster
                .events
                .record(now, f.node, kind, CacheId::None, id, detail);
        }
    }

    /// The client's part of an attempt's end (CA-CL1 to CA-CL4): marks the node dead or alive in
    /// its pool and, when the outcome is retried and attempts are left, records this attempt (its
    /// trace event says so) and schedules the next one after the back-off. Returns whether it did;
    /// otherwise the attempt ends the logical request. Without a client model it does nothing.
    fn client_step(
        &mut self,
        cluster: &mut Cluster,
        f: InFlight,
        outcome: Outcome,
        message: &str,
    ) -> bool {
        let Simulation { workloads, rng, .. } = self;
        let wl = &mut workloads[f.workload];
        let Some(client) = &wl.spec.client else {
            return false;
        };
        let now = cluster.now();
        // What the client sees: a status, or a connection error (`None`) from a stopped node.
        let status = match outcome {
            Outcome::Success => Some(200),
            Outcome::Unauthorized => Some(401),
            Outcome::TooBusy => Some(429),
            Outcome::Unavailable => None,
        };
        if client.marks_dead(status) {
            wl.pool
                .mark_dead(f.node, now, &client.dead_node_timeout, rng);
        } else if status.is_some_and(|s| !client.mark_dead_on.contains(&s)) {
            wl.pool.mark_live(f.node);
        }
        if !(client.retries_on(status) && f.attempt < client.retries) {
            return false;
        }
        let delay = client.backoff.delay(f.attempt + 1, rng);
        let retries = client.retries;
        self.metrics
            .record_retried(f.node as usize, f.workload, outcome);
        if cluster.events.enabled() {
            let kind = match outcome {
                Outcome::TooBusy => EventKind::AuthRejected,
                Outcome::Unavailable => EventKind::NodeUnreachable,
                Outcome::Success | Outcome::Unauthorized => EventKind::AuthFailure,
            };
            let detail = format!(
                "{} (retry {}/{retries} in {} ms)",
                if message.is_empty() {
                    "node stopped"
                } else {
                    message
                },
                f.attempt + 1,
                delay / 1_000_000
            );
            let id = &self.workloads[f.workload].credentials[f.credential].id;
            cluster
                .events
                .record(now, f.node, kind, CacheId::None, id, &detail);
        }
        let request = self.next_request;
        self.next_request += 1;
        self.in_flight.insert(
            request,
            InFlight {
                attempt: f.attempt + 1,
                ..f
            },
        );
        self.push(now.saturating_add(delay), Ev::Retry { request });
        true
    }

    fn api_key_outcome(outcome: &AuthOutcome) -> (Outcome, String) {
        match outcome {
            AuthOutcome::Success(_) => (Outcome::Success, String::new()),
            AuthOutcome::Unsuccessful { message } => {
                (Outcome::Unauthorized, format!("API key: {message}"))
            }
            AuthOutcome::Terminate {
                too_busy: true,
                message,
            } => (Outcome::TooBusy, message.clone()),
            AuthOutcome::Terminate { message, .. } => (Outcome::Unauthorized, message.clone()),
            AuthOutcome::Exception(e) => (Outcome::Unauthorized, e.reason.clone()),
        }
    }

    pub(super) fn arrival(&mut self, cluster: &mut Cluster, w: usize) {
        let now = cluster.now();
        if matches!(self.workloads[w].spec.kind, WorkloadKind::Replay(_)) {
            // The second arrival source: the replayed log (CA-RP4), not a Poisson draw.
            if let Some((c, node, wrong)) = self.replay_arrival(now, w) {
                self.present(cluster, w, c, node, wrong);
            }
            return;
        }
        let (spec_rate, stop, share) = {
            let spec = &self.workloads[w].spec;
            (spec.rate, spec.stop, spec.wrong_secret_share)
        };
        let next = now + self.exp_gap(spec_rate);
        if stop.is_none_or(|s| next < s) {
            self.push(next, Ev::Arrival { workload: w });
        }
        let Some(c) = self.pick_credential(w) else {
            return;
        };
        let picked = self.pick_node(cluster, w, c);
        let wrong = share > 0.0 && self.rng.random::<f64>() < share;
        self.present(cluster, w, c, picked, wrong);
    }

    /// A logical request of workload `w` presenting credential `c` (its wrong secret if `wrong`),
    /// now, to `picked` or, when its client holds that node dead, to the node the client chooses.
    fn present(
        &mut self,
        cluster: &mut Cluster,
        w: usize,
        c: usize,
        picked: NodeIndex,
        wrong: bool,
    ) {
        let now = cluster.now();
        // CA-CL3: a client avoids the nodes it marked dead (without a client the pool is empty of
        // marks and the pick stands).
        let node = self.workloads[w].pool.choose(picked, now);
        self.metrics.requests[w] += 1;
        let flight = InFlight {
            arrival: now,
            node,
            workload: w,
            credential: c,
            wrong,
            attempt: 0,
        };
        self.attempt(cluster, flight);
    }

    /// A client's next attempt (CA-CL1): on the node its pool chooses, the same credential and
    /// secret, the logical request's start kept for its end-to-end latency.
    pub(super) fn retry(&mut self, cluster: &mut Cluster, request: u64) {
        let Some(f) = self.in_flight.remove(&request) else {
            return;
        };
        let now = cluster.now();
        let nodes = cluster.nodes().len().max(1);
        // elastic_transport and RestClient go round the live nodes: the one after the node that
        // failed, unless it is dead too.
        let next = ((f.node as usize + 1) % nodes) as NodeIndex;
        let node = self.workloads[f.workload].pool.choose(next, now);
        self.attempt(cluster, InFlight { node, ..f });
    }

    /// One attempt of a request on `flight.node`.
    fn attempt(&mut self, cluster: &mut Cluster, flight: InFlight) {
        let node = flight.node;
        let (w, c, wrong) = (flight.workload, flight.credential, flight.wrong);
        let request = self.next_request;
        self.next_request += 1;
        if !cluster
            .node(node)
            .is_some_and(crate::cluster::Node::running)
        {
            self.finish_flight(cluster, flight, Outcome::Unavailable, "");
            return;
        }
        match &self.workloads[w].credentials[c].presented {
            Presented::ApiKey { right, wrong: bad } => {
                let creds = if wrong { bad } else { right };
                let step = if self.latency.has("index_get") {
                    match cluster.begin_api_key_authentication(node, creds, request) {
                        Begin::Step(step) => step,
                        Begin::Fetch(fetch) => {
                            self.start_fetch(cluster, flight, request, wrong, fetch);
                            return;
                        }
                    }
                } else {
                    cluster.authenticate_api_key_ref(node, creds, request)
                };
                match step {
                    AuthStep::Done(o) => {
                        let (outcome, msg) = Self::api_key_outcome(&o);
                        self.finish_flight(cluster, flight, outcome, &msg);
                    }
                    AuthStep::Pending { .. } => {
                        self.in_flight.insert(request, flight);
                    }
                }
                self.pump(cluster, node);
            }
            Presented::Token { right, wrong: bad } => {
                let token = if wrong { bad } else { right };
                let outcome = cluster.authenticate_service_token_direct(node, token);
                // Service token verifications run on the request's own thread: they add latency and
                // CPU, not pool queueing.
                let hashers = cluster
                    .node_mut(node)
                    .map(|n| std::mem::take(&mut n.service_accounts.verified))
                    .unwrap_or_default();
                let cost: Nanos = hashers.iter().map(|h| self.cost.verification(*h)).sum();
                let m = &mut self.metrics.nodes[node as usize];
                m.hashing_cpu += cost;
                m.verifications += hashers.len() as u64;
                // Charged as if the request started `cost` earlier: the latency it adds.
                let flight = InFlight {
                    arrival: flight.arrival.saturating_sub(cost),
                    ..flight
                };
                match outcome {
                    ServiceAccountAuthOutcome::Success(_) => {
                        self.finish_flight(cluster, flight, Outcome::Success, "");
                    }
                    ServiceAccountAuthOutcome::Failure(e)
                    | ServiceAccountAuthOutcome::Exception(e) => {
                        self.finish_flight(cluster, flight, Outcome::Unauthorized, &e.reason);
                    }
                }
            }
        }
    }

    /// CA-TM2: a doc-cache miss whose GET takes `index_get`: the request waits for the response.
    fn start_fetch(
        &mut self,
        cluster: &mut Cluster,
        flight: InFlight,
        request: u64,
        wrong: bool,
        fetch: DocFetch,
    ) {
        let now = cluster.now();
        let delay = self.latency.sample("index_get");
        self.in_flight.insert(request, flight);
        self.fetches.insert(
            request,
            PendingFetch {
                node: flight.node,
                wrong,
                started: now,
                fetch,
            },
        );
        if cluster.events.enabled() {
            let id = &self.workloads[flight.workload].credentials[flight.credential].id;
            cluster.events.record(
                now,
                flight.node,
                EventKind::IndexGet,
                CacheId::ApiKeyDoc,
                id,
                "started",
            );
        }
        self.push(now + delay, Ev::IndexGetDone { request });
    }

    /// CA-TM2: the GET's response arrives: the document is cached if no invalidation happened
    /// since the fetch started (AK-R2.4), then validated.
    pub(super) fn index_get_done(&mut self, cluster: &mut Cluster, request: u64) {
        let Some(p) = self.fetches.remove(&request) else {
            return;
        };
        let Some(f) = self.in_flight.get(&request).copied() else {
            return;
        };
        let now = cluster.now();
        self.metrics.index_get.record(now - p.started);
        let Presented::ApiKey { right, wrong: bad } =
            &self.workloads[f.workload].credentials[f.credential].presented
        else {
            return;
        };
        let creds = if p.wrong { bad } else { right };
        let (step, end) =
            cluster.finish_api_key_fetch(p.node, creds, p.fetch, self.doc_cache_counter, request);
        if cluster.events.enabled() {
            cluster.events.record(
                now,
                p.node,
                EventKind::IndexGet,
                CacheId::ApiKeyDoc,
                &creds.id,
                end.detail(),
            );
        }
        self.on_step(cluster, request, step);
        self.pump(cluster, p.node);
    }

    /// The requests of node `n` waiting for a document GET, which a stop abandons (in request
    /// order).
    pub(super) fn abandon_fetches(&mut self, n: NodeIndex) -> Vec<u64> {
        let mut requests: Vec<u64> = self
            .fetches
            .iter()
            .filter(|(_, p)| p.node == n)
            .map(|(r, _)| *r)
            .collect();
        requests.sort_unstable();
        for r in &requests {
            self.fetches.remove(r);
        }
        requests
    }

    fn on_step(&mut self, cluster: &mut Cluster, request: u64, step: AuthStep) {
        if let AuthStep::Done(o) = step {
            let (outcome, msg) = Self::api_key_outcome(&o);
            self.finish(cluster, request, outcome, &msg);
        }
    }

    /// Starts queued verifications on free virtual threads of a node.
    fn pump(&mut self, cluster: &mut Cluster, node: NodeIndex) {
        let now = cluster.now();
        loop {
            let Some(n) = cluster.node_mut(node) else {
                return;
            };
            let depth = n.crypto_pool.queued() as u32;
            let m = &mut self.metrics.nodes[node as usize];
            m.max_queue_depth = m.max_queue_depth.max(depth);
            m.interval_max_queue_depth = m.interval_max_queue_depth.max(depth);
            let Some(task) = n.crypto_pool.start_next() else {
                return;
            };
            let hasher = n
                .api_keys
                .pending_hasher(task.ticket)
                .unwrap_or(Hasher::Ssha256);
            let cost = self.cost.verification(hasher);
            let m = &mut self.metrics.nodes[node as usize];
            m.hashing_cpu += cost;
            m.verifications += 1;
            self.push(
                now + cost,
                Ev::CryptoDone {
                    node,
                    ticket: task.ticket,
                },
            );
        }
    }

    pub(super) fn crypto_done(&mut self, cluster: &mut Cluster, node: NodeIndex, ticket: u64) {
        let Some(n) = cluster.node_mut(node) else {
            return;
        };
        if !n.running() {
            return;
        }
        n.crypto_pool.finish();
        let done = cluster_complete(cluster, node, ticket);
        for (request, step) in done {
            self.on_step(cluster, request, step);
        }
        self.pump(cluster, node);
    }
}

fn cluster_complete(cluster: &mut Cluster, node: NodeIndex, ticket: u64) -> Vec<(u64, AuthStep)> {
    cluster.complete_api_key_verification(node, ticket)
}
