//! The invalidation simulator: one event queue in virtual time where workloads, scheduled actions,
//! faults, the nodes' `security-crypto` pools and periodic samples interleave deterministically.
//!
//! Requests authenticate straight through the node's services (the same code the REST layer calls),
//! so a simulated request sees exactly the caches, rules and failures a REST request would. Hash
//! verifications are queued on each node's crypto pool (threads and queue from the settings) and
//! take the virtual CPU time of the [`CostModel`]; a full pool rejects with 429.

use super::cost::CostModel;
use super::metrics::{Metrics, NodeSample, Outcome};
use crate::cluster::{Authentication, Cluster, InvalidateApiKeyRequest, RealmRef};
use crate::error::EsError;
use crate::events::{CacheId, EventKind, NodeIndex};
use crate::security::api_key::{ApiKeyCredentials, ApiKeyType, AuthOutcome, AuthStep};
use crate::security::crypto_pool::CryptoPoolMode;
use crate::security::hashing::{Hasher, Secret};
use crate::security::index::IndexHealth;
use crate::security::service_account::{
    ServiceAccountAuthOutcome, ServiceAccountId, ServiceAccountToken,
};
use crate::time::{epoch_millis, Nanos, TimeValue, NANOS_PER_SECOND};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use rand_distr::{Distribution, Exp, Zipf};
use std::cmp::Reverse;
use std::collections::{BinaryHeap, HashMap};

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
pub const MAX_POPULATION: usize = 10_000_000;

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
}

/// Which credentials an action targets.
#[derive(Debug, Clone, PartialEq)]
pub enum Selection {
    /// By index in the workload's population.
    Indices(Vec<usize>),
    /// `n` drawn at random (distinct, deterministic).
    Random(usize),
    /// The first `n` (the most popular under Zipf).
    Top(usize),
    All,
}

/// The `Authorization` header of a REST action. It carries credentials, so it shows (`Debug`,
/// `Display`) as its scheme only: `Basic <redacted>`; a value without a known scheme shows as
/// `<redacted>` (its first word could be the secret itself).
#[derive(Clone, PartialEq, Eq)]
pub struct AuthorizationHeader(String);

impl AuthorizationHeader {
    pub fn new(value: impl Into<String>) -> Self {
        AuthorizationHeader(value.into())
    }

    /// The header value, to send it.
    pub fn expose(&self) -> &str {
        &self.0
    }

    /// The scheme, when it is one Elasticsearch knows (`Basic`, `Bearer`, `ApiKey`).
    pub fn scheme(&self) -> Option<&'static str> {
        let first = self.0.split(' ').next().unwrap_or("");
        ["Basic", "Bearer", "ApiKey"]
            .into_iter()
            .find(|s| s.eq_ignore_ascii_case(first))
    }
}

impl std::fmt::Display for AuthorizationHeader {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self.scheme() {
            Some(s) => write!(f, "{s} <redacted>"),
            None => f.write_str("<redacted>"),
        }
    }
}

impl std::fmt::Debug for AuthorizationHeader {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        std::fmt::Display::fmt(self, f)
    }
}

/// A scheduled action or fault.
#[derive(Clone, PartialEq)]
pub enum Action {
    /// Any REST request, with the given `Authorization` header.
    Rest {
        method: String,
        path: String,
        body: Option<String>,
        node: Option<NodeIndex>,
        authorization: Option<AuthorizationHeader>,
    },
    /// `DELETE /_security/api_key` for some of a workload's keys, coordinated by `node`.
    InvalidateApiKeys {
        workload: usize,
        selection: Selection,
        node: NodeIndex,
    },
    /// Delete some of a workload's index tokens.
    DeleteServiceTokens {
        workload: usize,
        selection: Selection,
        node: NodeIndex,
    },
    /// Remove some of a file-token workload's tokens from the files of these nodes.
    RemoveFileTokens {
        workload: usize,
        selection: Selection,
        nodes: Vec<NodeIndex>,
    },
    /// Write a `service_tokens` file on these nodes.
    SetServiceTokensFile {
        nodes: Vec<NodeIndex>,
        content: Vec<u8>,
    },
    /// A clear-cache request (`ClearSecurityCacheRequest`) with a cache name and keys (empty: all).
    ClearCache {
        cache: String,
        keys: Vec<String>,
        node: NodeIndex,
    },
    StopNode(NodeIndex),
    StartNode(NodeIndex),
    Partition(NodeIndex),
    Heal(NodeIndex),
    /// Drop the next clear-cache broadcast to these nodes.
    DropClearCache(Vec<NodeIndex>),
    IndexHealth(IndexHealth),
    IndexDelete,
    IndexClose,
    IndexOpen,
    IndexRecreate,
    IndexUpToDate(bool),
}

impl Action {
    /// The action's name, as scenarios and `Simulation.schedule` spell it.
    pub fn name(&self) -> &'static str {
        match self {
            Action::Rest { .. } => "rest",
            Action::InvalidateApiKeys { .. } => "invalidate_api_keys",
            Action::DeleteServiceTokens { .. } => "delete_service_tokens",
            Action::RemoveFileTokens { .. } => "remove_file_tokens",
            Action::SetServiceTokensFile { .. } => "set_service_tokens_file",
            Action::ClearCache { .. } => "clear_cache",
            Action::StopNode(_) => "stop_node",
            Action::StartNode(_) => "start_node",
            Action::Partition(_) => "partition",
            Action::Heal(_) => "heal",
            Action::DropClearCache(_) => "drop_clear_cache",
            Action::IndexHealth(_) => "index_health",
            Action::IndexDelete => "index_delete",
            Action::IndexClose => "index_close",
            Action::IndexOpen => "index_open",
            Action::IndexRecreate => "index_recreate",
            Action::IndexUpToDate(_) => "index_up_to_date",
        }
    }

    /// A readable description for reports and errors: the name and the parameters, nodes and
    /// workloads by name. It never carries a credential: a REST action shows its method, path, node
    /// and the scheme of its `Authorization` header, not the header's credentials nor its body (which
    /// may hold a password); a service tokens file shows its size, not its lines.
    pub fn describe(
        &self,
        node: &dyn Fn(NodeIndex) -> String,
        workload: &dyn Fn(usize) -> String,
    ) -> String {
        let nodes = |ns: &[NodeIndex]| ns.iter().map(|n| node(*n)).collect::<Vec<_>>().join(", ");
        let selection = |s: &Selection| match s {
            Selection::Indices(v) => format!(
                "indices [{}]",
                v.iter()
                    .map(|i| i.to_string())
                    .collect::<Vec<_>>()
                    .join(", ")
            ),
            Selection::Random(n) => format!("random {n}"),
            Selection::Top(n) => format!("top {n}"),
            Selection::All => "all".to_string(),
        };
        let name = self.name();
        match self {
            Action::Rest {
                method,
                path,
                body,
                node: n,
                authorization,
            } => {
                let mut s = format!("{name} {method} {path}");
                if let Some(n) = n {
                    s.push_str(&format!(" on {}", node(*n)));
                }
                if let Some(a) = authorization {
                    s.push_str(&format!(" (Authorization: {a})"));
                }
                if let Some(b) = body {
                    s.push_str(&format!(" with a {}-byte body", b.len()));
                }
                s
            }
            Action::InvalidateApiKeys {
                workload: w,
                selection: sel,
                node: n,
            }
            | Action::DeleteServiceTokens {
                workload: w,
                selection: sel,
                node: n,
            } => format!(
                "{name} of workload [{}] ({}) on {}",
                workload(*w),
                selection(sel),
                node(*n)
            ),
            Action::RemoveFileTokens {
                workload: w,
                selection: sel,
                nodes: ns,
            } => format!(
                "{name} of workload [{}] ({}) on {}",
                workload(*w),
                selection(sel),
                nodes(ns)
            ),
            Action::SetServiceTokensFile { nodes: ns, content } => {
                format!("{name} ({} bytes) on {}", content.len(), nodes(ns))
            }
            Action::ClearCache {
                cache,
                keys,
                node: n,
            } => {
                let keys = if keys.is_empty() {
                    "all keys".to_string()
                } else {
                    format!("keys [{}]", keys.join(", "))
                };
                format!("{name} [{cache}] ({keys}) on {}", node(*n))
            }
            Action::StopNode(n) | Action::StartNode(n) | Action::Partition(n) | Action::Heal(n) => {
                format!("{name} {}", node(*n))
            }
            Action::DropClearCache(ns) => format!("{name} to {}", nodes(ns)),
            Action::IndexHealth(h) => format!("{name} {}", h.as_str()),
            Action::IndexUpToDate(b) => format!("{name} {b}"),
            Action::IndexDelete
            | Action::IndexClose
            | Action::IndexOpen
            | Action::IndexRecreate => name.to_string(),
        }
    }
}

/// Nodes and workloads by index; the same credential-free form as [`Action::describe`].
impl std::fmt::Debug for Action {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.describe(&|n| format!("node #{n}"), &|w| format!("#{w}")))
    }
}

#[derive(Debug, Clone)]
enum Presented {
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
struct Credential {
    /// API key id or qualified token name.
    id: String,
    /// What requests present, built once (the right secret and a wrong one).
    presented: Presented,
    created: bool,
    /// When the credential stopped being valid (invalidated, deleted); expiry is checked separately.
    invalid_since: Option<Nanos>,
    expires_at: Option<Nanos>,
    /// For file tokens: the nodes whose file holds it now, and since when it was removed from each.
    removed_from_file: HashMap<NodeIndex, Nanos, crate::cache::KeyHasher>,
}

#[derive(Debug)]
struct Workload {
    spec: WorkloadSpec,
    credentials: Vec<Credential>,
    zipf: Option<Zipf<f64>>,
    round_robin: usize,
    created: usize,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
enum Ev {
    Arrival { workload: usize },
    CreateCredential { workload: usize },
    CryptoDone { node: NodeIndex, ticket: u64 },
    Action { index: usize },
    External { key: usize, every: Option<Nanos> },
    Sample,
}

#[derive(Debug, Clone, Copy)]
struct InFlight {
    arrival: Nanos,
    node: NodeIndex,
    workload: usize,
    credential: usize,
}

#[derive(Debug, Clone)]
struct Scheduled {
    action: Action,
    every: Option<Nanos>,
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
    rng: ChaCha8Rng,
    queue: BinaryHeap<Reverse<(Nanos, u64, Ev)>>,
    seq: u64,
    workloads: Vec<Workload>,
    actions: Vec<Scheduled>,
    in_flight: HashMap<u64, InFlight, crate::cache::KeyHasher>,
    pub cost: CostModel,
    pub metrics: Metrics,
    pub sample_interval: Nanos,
    started: bool,
    next_request: u64,
    /// Errors of scheduled actions (time, action, error reason): a simulation does not stop for them.
    pub action_errors: Vec<(Nanos, String, String)>,
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

fn sim_err(msg: impl Into<String>) -> EsError {
    EsError::illegal_argument(msg)
}

/// The `elastic` superuser, as the simulation's own actions run.
fn elastic() -> Authentication {
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
            seq: 0,
            workloads: Vec::new(),
            actions: Vec::new(),
            in_flight: HashMap::with_hasher(crate::cache::KeyHasher),
            cost: CostModel::default(),
            metrics: Metrics::new(cluster.nodes().len(), 0),
            sample_interval: 10 * NANOS_PER_SECOND,
            started: false,
            next_request: 1 << 40,
            action_errors: Vec::new(),
        }
    }

    fn push(&mut self, at: Nanos, ev: Ev) {
        self.seq += 1;
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
            WorkloadKind::ServiceToken { account, source } => {
                if crate::security::service_account::find_account(account).is_none() {
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
            Popularity::Zipf { s } => Some(Zipf::new(spec.population as f64, s).map_err(|_| {
                sim_err(format!(
                    "workload [{}]: zipf exponent must be >= 0, got [{s}]",
                    spec.name
                ))
            })?),
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
        });
        self.metrics.requests.push(0);
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
        for n in 0..cluster.nodes().len() {
            if let Some(node) = cluster.node_mut(n as NodeIndex) {
                node.crypto_pool.mode = CryptoPoolMode::Held;
                node.service_accounts.collect_verified = true;
            }
        }
        if self.metrics.nodes.len() < cluster.nodes().len() {
            self.metrics
                .nodes
                .resize(cluster.nodes().len(), Default::default());
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
        }
        self.push(now, Ev::Sample);
    }

    fn exp_gap(&mut self, rate: f64) -> Nanos {
        match Exp::new(rate) {
            Ok(e) => (e.sample(&mut self.rng) * NANOS_PER_SECOND as f64)
                .round()
                .max(1.0) as Nanos,
            Err(_) => Nanos::MAX / 4,
        }
    }

    /// Creates the next credential of a workload (through the same code paths as the APIs).
    fn create_credential(&mut self, cluster: &mut Cluster, w: usize) {
        let i = self.workloads[w].created;
        if i >= self.workloads[w].spec.population {
            return;
        }
        self.workloads[w].created += 1;
        let spec = self.workloads[w].spec.clone();
        let auth = elastic();
        let name = format!("{}-{i}", spec.name);
        let cred = match &spec.kind {
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
                        let right = ApiKeyCredentials {
                            id: k.id.clone(),
                            secret: k.api_key.clone(),
                            expected_type: ApiKeyType::Rest,
                        };
                        let wrong = ApiKeyCredentials {
                            id: k.id.clone(),
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
                            format!("create api key [{}]", spec.name),
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
                let token_name = format!("{}-{i}", spec.name);
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
        };
        self.workloads[w].credentials.push(cred);
    }

    fn pick_credential(&mut self, w: usize) -> Option<usize> {
        let Simulation { rng, workloads, .. } = self;
        let wl = &workloads[w];
        let n = wl.credentials.len();
        if n == 0 {
            return None;
        }
        let pop = wl.spec.population;
        let i = match &wl.spec.popularity {
            Popularity::Uniform => rng.random_range(0..pop),
            Popularity::Zipf { .. } => {
                let z = wl.zipf.as_ref()?;
                (z.sample(rng) as usize).clamp(1, pop) - 1
            }
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

    fn pick_node(&mut self, cluster: &Cluster, w: usize, credential: usize) -> NodeIndex {
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

    fn finish(&mut self, cluster: &mut Cluster, request: u64, outcome: Outcome, message: &str) {
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

    fn arrival(&mut self, cluster: &mut Cluster, w: usize) {
        let now = cluster.now();
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
        let node = self.pick_node(cluster, w, c);
        let wrong = share > 0.0 && self.rng.random::<f64>() < share;
        let request = self.next_request;
        self.next_request += 1;
        self.metrics.requests[w] += 1;
        let flight = InFlight {
            arrival: now,
            node,
            workload: w,
            credential: c,
        };
        if !cluster.node(node).is_some_and(|n| n.running()) {
            self.finish_flight(cluster, flight, Outcome::Unavailable, "");
            return;
        }
        match &self.workloads[w].credentials[c].presented {
            Presented::ApiKey { right, wrong: bad } => {
                let creds = if wrong { bad } else { right };
                match cluster.authenticate_api_key_ref(node, creds, request) {
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
                        self.finish_flight(cluster, flight, Outcome::Success, "")
                    }
                    ServiceAccountAuthOutcome::Failure(e)
                    | ServiceAccountAuthOutcome::Exception(e) => {
                        self.finish_flight(cluster, flight, Outcome::Unauthorized, &e.reason)
                    }
                }
            }
        }
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

    fn crypto_done(&mut self, cluster: &mut Cluster, node: NodeIndex, ticket: u64) {
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

    fn sample(&mut self, cluster: &mut Cluster) {
        let now = cluster.now();
        for (i, n) in cluster.nodes().iter().enumerate() {
            let mut caches = [None; 5];
            for (j, c) in CacheId::ALL.iter().enumerate() {
                caches[j] = match (
                    cluster.cache_stats(i as NodeIndex, *c),
                    cluster.cache_size(i as NodeIndex, *c),
                ) {
                    (Some(s), Some(sz)) => Some((s.hits, s.misses, s.evictions, sz.count)),
                    _ => None,
                };
            }
            let m = &self.metrics.nodes[i];
            self.metrics.samples.push(NodeSample {
                time: now,
                node: i as u16,
                caches,
                queue_depth: n.crypto_pool.queued() as u32 + n.crypto_pool.running,
                hashing_cpu: m.hashing_cpu,
                outcomes: m.outcomes,
            });
        }
        let next = now + self.sample_interval.max(1);
        self.push(next, Ev::Sample);
    }

    /// (`namespace/service`, token name) of a token credential's qualified name.
    fn token_parts(&self, w: usize, c: usize) -> (String, String) {
        let id = &self.workloads[w].credentials[c].id;
        match id.rsplit_once('/') {
            Some((principal, name)) => (principal.to_string(), name.to_string()),
            None => (String::new(), id.clone()),
        }
    }

    fn select(&mut self, w: usize, sel: &Selection) -> Vec<usize> {
        let n = self.workloads.get(w).map_or(0, |w| w.credentials.len());
        match sel {
            Selection::All => (0..n).collect(),
            Selection::Top(k) => (0..(*k).min(n)).collect(),
            Selection::Indices(v) => v.iter().copied().filter(|&i| i < n).collect(),
            Selection::Random(k) => {
                let k = (*k).min(n);
                let mut picked: Vec<usize> = Vec::with_capacity(k);
                let mut pool: Vec<usize> = (0..n).collect();
                for j in 0..k {
                    let r = self.rng.random_range(j..n);
                    pool.swap(j, r);
                    picked.push(pool[j]);
                }
                picked
            }
        }
    }

    fn run_action(&mut self, cluster: &mut Cluster, index: usize) -> Result<(), EsError> {
        let action = self.actions[index].action.clone();
        let now = cluster.now();
        match action {
            Action::Rest {
                method,
                path,
                body,
                node,
                authorization,
            } => {
                let node = node
                    .or_else(|| cluster.first_running())
                    .ok_or_else(|| sim_err("every node is stopped"))?;
                let mut headers = Vec::new();
                if let Some(a) = authorization {
                    headers.push(("Authorization".to_string(), a.expose().to_string()));
                }
                if body.is_some() {
                    headers.push(("Content-Type".to_string(), "application/json".to_string()));
                }
                let resp = crate::rest::handle(
                    cluster,
                    node,
                    &method,
                    &path,
                    headers,
                    body.map(String::into_bytes),
                );
                if resp.status >= 400 {
                    let name = cluster.node(node).map_or("", |n| n.name.as_str());
                    return Err(sim_err(format!(
                        "[{name}] answered {}: {}",
                        resp.status,
                        error_summary(&resp.body)
                    )));
                }
            }
            Action::InvalidateApiKeys {
                workload,
                selection,
                node,
            } => {
                let picked = self.select(workload, &selection);
                let ids: Vec<String> = picked
                    .iter()
                    .map(|&c| self.workloads[workload].credentials[c].id.clone())
                    .collect();
                if ids.is_empty() {
                    return Ok(());
                }
                let req = InvalidateApiKeyRequest {
                    ids: Some(ids),
                    ..Default::default()
                };
                let res = cluster.invalidate_api_keys(node, &elastic(), &req)?;
                for c in picked {
                    let cred = &mut self.workloads[workload].credentials[c];
                    if res.invalidated.contains(&cred.id) {
                        cred.invalid_since.get_or_insert(now);
                    }
                }
            }
            Action::DeleteServiceTokens {
                workload,
                selection,
                node,
            } => {
                let picked = self.select(workload, &selection);
                for c in picked {
                    let (principal, name) = self.token_parts(workload, c);
                    let acc = ServiceAccountId::from_principal(&principal)?;
                    if cluster.delete_service_token(node, &acc, &name)? {
                        self.workloads[workload].credentials[c]
                            .invalid_since
                            .get_or_insert(now);
                    }
                }
            }
            Action::RemoveFileTokens {
                workload,
                selection,
                nodes,
            } => {
                let picked = self.select(workload, &selection);
                for c in picked {
                    let (principal, name) = self.token_parts(workload, c);
                    for &n in &nodes {
                        if cluster
                            .service_tokens_tool_delete(n, &principal, &name)
                            .is_ok()
                        {
                            self.workloads[workload].credentials[c]
                                .removed_from_file
                                .entry(n)
                                .or_insert(now);
                        }
                    }
                }
            }
            Action::SetServiceTokensFile { nodes, content } => {
                for n in nodes {
                    cluster.set_service_tokens_file(n, content.clone())?;
                }
            }
            Action::ClearCache { cache, keys, node } => {
                let resp = cluster.clear_security_cache(node, &cache, &keys);
                // A node that could not clear (unreachable, a dropped broadcast, an unknown cache
                // name) is a `_nodes.failures` entry in Elasticsearch's answer: record it.
                if let Some(f) = resp.failures.first() {
                    let name = cluster
                        .nodes()
                        .iter()
                        .find(|n| n.id == f.node_id)
                        .map_or(f.node_id.as_str(), |n| n.name.as_str());
                    return Err(sim_err(format!(
                        "{} of {} nodes failed; first failure on [{name}]: {}",
                        resp.failures.len(),
                        resp.failures.len() + resp.successes.len(),
                        f.cause.reason
                    )));
                }
            }
            Action::StopNode(n) => {
                let abandoned = cluster
                    .node_mut(n)
                    .map(|node| node.api_keys.abandon_pending())
                    .unwrap_or_default();
                cluster.stop_node(n)?;
                for r in abandoned {
                    self.finish(cluster, r, Outcome::Unavailable, "node stopped");
                }
            }
            Action::StartNode(n) => {
                cluster.start_node(n)?;
                if let Some(node) = cluster.node_mut(n) {
                    node.crypto_pool.mode = CryptoPoolMode::Held;
                    node.service_accounts.collect_verified = true;
                }
            }
            Action::Partition(n) => cluster.set_partitioned(n, true)?,
            Action::Heal(n) => cluster.set_partitioned(n, false)?,
            Action::DropClearCache(nodes) => cluster.drop_clear_cache_to.extend(nodes),
            Action::IndexHealth(h) => cluster.set_security_index_health(h)?,
            Action::IndexDelete => cluster.delete_security_index(),
            Action::IndexClose => cluster.close_security_index(),
            Action::IndexOpen => cluster.open_security_index(),
            Action::IndexRecreate => cluster.recreate_security_index(),
            Action::IndexUpToDate(b) => cluster.set_security_index_up_to_date(b),
        }
        Ok(())
    }

    /// Runs every event up to and including `until` (virtual nanoseconds); the clock then stands at
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
        while let Some(Reverse((at, _, _))) = self.queue.peek() {
            if *at > until {
                break;
            }
            if ran >= budget {
                return Stop::Budget;
            }
            let Some(Reverse((at, _, ev))) = self.queue.pop() else {
                break;
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
                Ev::Action { index } => {
                    if let Err(e) = self.run_action(cluster, index) {
                        let what = self.describe_action(cluster, &self.actions[index].action);
                        self.action_errors
                            .push((cluster.now(), what, e.into_reason()));
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

    /// [`Action::describe`] with this cluster's node names and this simulation's workload names.
    pub fn describe_action(&self, cluster: &Cluster, action: &Action) -> String {
        action.describe(
            &|n| {
                cluster
                    .node(n)
                    .map_or_else(|| format!("node #{n}"), |x| x.name.clone())
            },
            &|w| {
                self.workloads
                    .get(w)
                    .map_or_else(|| format!("#{w}"), |x| x.spec.name.clone())
            },
        )
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

    /// When a workload's credential became invalid (invalidated or deleted), if it did.
    pub fn invalidated_at(&self, w: usize, c: usize) -> Option<Nanos> {
        self.workloads.get(w)?.credentials.get(c)?.invalid_since
    }

    /// Whether the credentials were all created (for reports).
    pub fn credentials_created(&self, w: usize) -> usize {
        self.workloads
            .get(w)
            .map_or(0, |w| w.credentials.iter().filter(|c| c.created).count())
    }
}

/// An Elasticsearch error body in one line: `type: reason`; any other body as JSON.
fn error_summary(body: &serde_json::Value) -> String {
    let e = &body["error"];
    match (e["type"].as_str(), e["reason"].as_str()) {
        (Some(t), Some(r)) => format!("{t}: {r}"),
        _ => body.to_string(),
    }
}

fn cluster_complete(cluster: &mut Cluster, node: NodeIndex, ticket: u64) -> Vec<(u64, AuthStep)> {
    cluster.complete_api_key_verification(node, ticket)
}
