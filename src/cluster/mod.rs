//! A simulated cluster: nodes, each with its own security services and caches, one `.security` index,
//! one virtual clock, one seeded generator, and the node fan-out of cluster actions.
//!
//! Faults: a node can be stopped (it leaves the cluster and loses its caches) and started again (empty
//! caches), or partitioned (it stays in the cluster but no other node can reach it: it shows up in
//! `_nodes.failures` of a fan-out, and a fan-out it coordinates reaches only itself). The `.security`
//! index stays readable from every node: the partition model is about node-to-node transport, which
//! is what the clear-cache broadcast travels on.

mod api_keys;
pub(crate) mod authn;
mod doc_fetch;
mod fanout;
pub(crate) mod membership;
mod realms;
pub mod requests;
mod reset;
mod roles;
mod service_tokens;

pub(crate) use api_keys::api_key_info;
pub use api_keys::{
    CreateApiKeyRequest, CreatedApiKey, InvalidateApiKeyRequest, InvalidateApiKeyResult,
    UpdateApiKeyRequest,
};
pub(crate) use authn::api_key_step_to_outcome;
pub use authn::RealmRef;
pub use authn::{Authentication, AuthenticationOutcome};
pub use fanout::{NodeFailure, NodesResponse};
pub(crate) use realms::reserved_user;

use crate::error::EsError;
use crate::events::{CacheId, EventKind, EventLog, NodeIndex};
use crate::security::api_key::ApiKeyService;
use crate::security::crypto_pool::CryptoPool;
use crate::security::ids::{random_base64_uuid, TimeBasedUuidGenerator};
use crate::security::index::{should_clear_caches, IndexHealth, IndexState, SecurityIndex};
use crate::security::registry::{CacheInvalidatorRegistry, Invalidator};
use crate::security::service_account::ServiceAccountService;
use crate::security::settings::SecuritySettings;
use crate::security::{CacheSize, CacheViews, Ctx, RemovalCounts};
use crate::time::{Nanos, VirtualClock};
use rand::{RngCore, SeedableRng};
use rand_chacha::ChaCha8Rng;

/// One node.
pub struct Node {
    pub name: String,
    pub id: String,
    running: bool,
    pub(crate) partitioned: bool,
    /// Removed from the cluster state by fault detection (CA-PT3) and not joined again yet.
    pub(crate) removed: bool,
    pub api_keys: ApiKeyService,
    pub service_accounts: ServiceAccountService,
    /// The realm, role and privilege caches.
    pub stores: crate::security::stores::SecurityStores,
    pub registry: CacheInvalidatorRegistry,
    /// The node's `config/service_tokens` file as it is on disk now (F1). Each node has its own.
    service_tokens_file: Vec<u8>,
    /// When the file was last changed without the watcher having reloaded it yet (I3).
    file_changed_at: Option<Nanos>,
    /// When this node (last) started: its `ResourceWatcherService` polls from here (I3).
    started_at: Nanos,
    pub crypto_pool: CryptoPool,
    pub(crate) uuids: TimeBasedUuidGenerator,
    pub(crate) rng: ChaCha8Rng,
    /// How many times this node has been started (seeds fresh services deterministically).
    generation: u64,
    /// The security index state this node's `SecurityIndexManager` last applied. A partitioned node
    /// misses cluster-state updates and applies the difference when it is healed.
    index_state_seen: IndexState,
}

impl std::fmt::Debug for Node {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Node")
            .field("name", &self.name)
            .field("id", &self.id)
            .field("running", &self.running)
            .field("partitioned", &self.partitioned)
            .finish_non_exhaustive()
    }
}

impl Node {
    pub fn running(&self) -> bool {
        self.running
    }

    /// In the cluster state: running and not removed by the simulator's fault detection (CA-PT3).
    pub fn in_cluster_state(&self) -> bool {
        self.running && !self.removed
    }

    fn build_services(
        settings: &SecuritySettings,
        seed: u64,
        service_tokens_file: &[u8],
    ) -> Result<
        (
            ApiKeyService,
            ServiceAccountService,
            CacheInvalidatorRegistry,
        ),
        EsError,
    > {
        let api_keys = ApiKeyService::new(settings.api_key.clone(), seed)?;
        // F3: a file that does not parse stops the node from starting.
        let mut service_accounts = ServiceAccountService::new(
            &settings.service_token,
            seed ^ 0x5eed,
            service_tokens_file,
        )?;
        service_accounts.version = settings.version;
        let registry = CacheInvalidatorRegistry::for_settings(settings);
        Ok((api_keys, service_accounts, registry))
    }

    /// The node's `service_tokens` file as it is on disk.
    pub fn service_tokens_file(&self) -> &[u8] {
        &self.service_tokens_file
    }

    /// Virtual time at which this node last started (0 for a node up since the cluster started).
    pub fn started_at(&self) -> Nanos {
        self.started_at
    }
}

/// `resource.reload.interval.high`: how often the file watcher looks at `service_tokens` (I3).
pub(crate) const FILE_WATCH_INTERVAL: Nanos = 5 * crate::time::NANOS_PER_SECOND;

/// The first poll of a node's file watcher strictly after `changed_at`. `ResourceWatcherService`
/// schedules its `Frequency.HIGH` monitor with a fixed delay from the node's start, so the polls of a
/// node started at `started_at` fall at `started_at + k * 5 s` (k >= 1): a node restarted at 3 s
/// polls at 8 s, 13 s, ...
pub(crate) fn next_file_poll(started_at: Nanos, changed_at: Nanos) -> Nanos {
    let since_start = changed_at.saturating_sub(started_at);
    let polls = since_start / FILE_WATCH_INTERVAL + 1;
    started_at.saturating_add(polls.saturating_mul(FILE_WATCH_INTERVAL))
}

/// A cluster of nodes in virtual time.
pub struct Cluster {
    pub(crate) name: String,
    pub(crate) uuid: String,
    nodes: Vec<Node>,
    pub security_index: SecurityIndex,
    pub(crate) clock: VirtualClock,
    pub events: EventLog,
    /// What tooling did: every REST request answered (`cluster.requests`); off until enabled.
    pub requests: requests::RequestLog,
    /// What it was built from, for [`Cluster::reset`].
    config: ClusterConfig,
    pub(crate) settings: SecuritySettings,
    rng: ChaCha8Rng,
    seed: u64,
    elastic_password_hash: String,
    /// Reserved users' documents (a changed password, the enabled flag).
    reserved_users: indexmap::IndexMap<String, realms::ReservedUserDoc>,
    next_request: u64,
    /// Nodes whose next clear-cache broadcasts are dropped (a fault; see `fanout`).
    pub(crate) drop_clear_cache_to: Vec<NodeIndex>,
    /// Fan-outs held up by partitions and transport hops, and their records (the simulator's).
    pub(crate) fanout: membership::FanoutState,
    /// Whether some node may have a changed `service_tokens` file its watcher has not polled yet:
    /// set with each change, so that advancing the clock (once per simulated event) skips the scan
    /// of every node otherwise.
    files_changed: bool,
}

impl std::fmt::Debug for Cluster {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Cluster")
            .field("name", &self.name)
            .field("nodes", &self.nodes)
            .field("now", &self.clock.now())
            .finish_non_exhaustive()
    }
}

/// How to build a cluster.
#[derive(Debug, Clone)]
pub struct ClusterConfig {
    pub node_names: Vec<String>,
    pub(crate) cluster_name: String,
    pub seed: u64,
    pub settings: SecuritySettings,
    /// The `elastic` superuser's password (its bootstrap password).
    pub password: String,
}

impl ClusterConfig {
    /// How many nodes a cluster has unless told (`Cluster()` in Python).
    pub const DEFAULT_NODE_COUNT: i64 = 3;
    /// The most nodes a cluster may be asked for by count (`Cluster(nodes=n)`).
    pub const MAX_NODE_COUNT: i64 = 1000;

    pub fn new(nodes: usize) -> Self {
        ClusterConfig {
            node_names: (0..nodes).map(default_node_name).collect(),
            cluster_name: "escache".into(),
            seed: 0,
            settings: SecuritySettings::default(),
            password: "changeme".into(),
        }
    }

    /// The names of `count` nodes, `node-0` to `node-{count-1}`, for a count from 1 to
    /// [`Self::MAX_NODE_COUNT`].
    pub fn node_names(count: i64) -> Result<Vec<String>, EsError> {
        if !(1..=Self::MAX_NODE_COUNT).contains(&count) {
            return Err(EsError::illegal_argument(format!(
                "nodes must be between 1 and {}, got [{count}]",
                Self::MAX_NODE_COUNT
            )));
        }
        // ok: 1 <= count <= 1000.
        Ok((0..count as usize).map(default_node_name).collect())
    }
}

/// The name of the `i`-th node of a cluster built from a node count.
fn default_node_name(i: usize) -> String {
    format!("node-{i}")
}

impl Cluster {
    pub fn new(config: ClusterConfig) -> Result<Cluster, EsError> {
        if config.node_names.is_empty() {
            return Err(EsError::illegal_argument(
                "a cluster needs at least one node",
            ));
        }
        if config.node_names.len() > NodeIndex::MAX as usize {
            return Err(EsError::illegal_argument(format!(
                "a cluster has at most {} nodes",
                NodeIndex::MAX
            )));
        }
        let mut seen = std::collections::HashSet::new();
        for n in &config.node_names {
            if n.is_empty() {
                return Err(EsError::illegal_argument("node names must not be empty"));
            }
            if !seen.insert(n.as_str()) {
                return Err(EsError::illegal_argument(format!(
                    "duplicate node name [{n}]"
                )));
            }
        }
        if config.password.chars().count() < 6 {
            return Err(EsError::illegal_argument(
                "passwords must be at least [6] characters long",
            ));
        }
        let original = config.clone();
        let mut rng = ChaCha8Rng::seed_from_u64(config.seed);
        let uuid = random_base64_uuid(&mut rng);
        let elastic_password_hash = realms::bootstrap_password_hash(&config, &mut rng);
        let mut nodes = Vec::with_capacity(config.node_names.len());
        for name in &config.node_names {
            let id = random_base64_uuid(&mut rng);
            let node_seed = rng.next_u64();
            let mut node_rng = ChaCha8Rng::seed_from_u64(node_seed);
            let uuids = TimeBasedUuidGenerator::new(&mut node_rng);
            let (api_keys, service_accounts, registry) =
                Node::build_services(&config.settings, node_rng.next_u64(), &[])?;
            let pool = CryptoPool::new(
                config.settings.crypto_pool.size,
                config.settings.crypto_pool.queue_size,
            );
            nodes.push(Node {
                name: name.clone(),
                id,
                running: true,
                partitioned: false,
                removed: false,
                api_keys,
                service_accounts,
                stores: crate::security::stores::SecurityStores::new(&config.settings.stores)?,
                registry,
                service_tokens_file: Vec::new(),
                file_changed_at: None,
                started_at: 0,
                crypto_pool: pool,
                uuids,
                rng: node_rng,
                generation: 0,
                index_state_seen: IndexState::absent(),
            });
        }
        Ok(Cluster {
            name: config.cluster_name,
            uuid,
            nodes,
            security_index: SecurityIndex::new(),
            clock: VirtualClock::new(),
            events: EventLog::new(true),
            requests: requests::RequestLog::default(),
            config: original,
            settings: config.settings,
            rng,
            seed: config.seed,
            elastic_password_hash,
            reserved_users: indexmap::IndexMap::new(),
            next_request: 1,
            drop_clear_cache_to: Vec::new(),
            fanout: membership::FanoutState::default(),
            files_changed: false,
        })
    }

    pub fn now(&self) -> Nanos {
        self.clock.now()
    }

    pub fn seed(&self) -> u64 {
        self.seed
    }

    pub fn nodes(&self) -> &[Node] {
        &self.nodes
    }

    pub fn node(&self, i: NodeIndex) -> Option<&Node> {
        self.nodes.get(i as usize)
    }

    /// Node `i`'s name, or `node #i` for an index the cluster does not have (reports, messages).
    pub(crate) fn node_label(&self, i: NodeIndex) -> String {
        self.node(i)
            .map_or_else(|| format!("node #{i}"), |n| n.name.clone())
    }

    pub fn node_mut(&mut self, i: NodeIndex) -> Option<&mut Node> {
        self.nodes.get_mut(i as usize)
    }

    /// A node by name (`unknown node [<name>]`, as a 404-style error, otherwise).
    pub(crate) fn node_index(&self, name: &str) -> Result<NodeIndex, EsError> {
        self.nodes
            .iter()
            .position(|n| n.name == name)
            .map(|i| i as NodeIndex)
            .ok_or_else(|| EsError::resource_not_found(format!("unknown node [{name}]")))
    }

    /// The first running node (the default coordinating node).
    pub(crate) fn first_running(&self) -> Option<NodeIndex> {
        self.nodes
            .iter()
            .position(|n| n.running)
            .map(|i| i as NodeIndex)
    }

    pub(crate) fn next_request_id(&mut self) -> u64 {
        let r = self.next_request;
        self.next_request += 1;
        r
    }

    /// Moves virtual time forward. Expiry is lazy in Elasticsearch's caches, so nothing is pruned here.
    /// Moves virtual time forward, running what falls due on the way (the `service_tokens` file
    /// watchers). Cache expiry is lazy in Elasticsearch, so nothing is pruned here.
    pub fn advance(&mut self, by: Nanos) -> Nanos {
        let target = self.clock.now().saturating_add(by);
        self.run_file_watchers(target);
        self.clock.advance_to(target).ok();
        self.clock.now()
    }

    /// Borrows a node's services together with the event context.
    pub(crate) fn with_node<R>(
        &mut self,
        i: NodeIndex,
        f: impl FnOnce(&mut Node, &SecurityIndex, &mut Ctx<'_>) -> R,
    ) -> R {
        let now = self.clock.now();
        let mut ctx = Ctx {
            log: &mut self.events,
            node: i,
            now,
        };
        f(&mut self.nodes[i as usize], &self.security_index, &mut ctx)
    }

    /// Runs one registry invalidator on a node.
    pub(crate) fn run_invalidator(
        node: &mut Node,
        inv: Invalidator,
        keys: Option<&[String]>,
        ctx: &mut Ctx<'_>,
    ) {
        match (inv, keys) {
            (Invalidator::ApiKey, Some(k)) => node.api_keys.invalidate_api_key(k, ctx),
            (Invalidator::ApiKey, None) => node.api_keys.invalidate_all_api_key(ctx),
            (Invalidator::ApiKeyDoc, Some(k)) => node.api_keys.invalidate_api_key_doc(k, ctx),
            (Invalidator::ApiKeyDoc, None) => node.api_keys.invalidate_all_api_key_doc(ctx),
            (Invalidator::FileServiceAccountToken, k) => {
                Self::invalidate_token_cache(node, CacheId::FileServiceAccountToken, k, ctx);
            }
            (Invalidator::IndexServiceAccountToken, k) => {
                Self::invalidate_token_cache(node, CacheId::IndexServiceAccountToken, k, ctx);
            }
            (Invalidator::ApplicationPrivileges, k) => node.stores.privileges.invalidate(k, ctx),
        }
    }

    fn invalidate_token_cache(
        node: &mut Node,
        cache: CacheId,
        keys: Option<&[String]>,
        ctx: &mut Ctx<'_>,
    ) {
        match keys {
            Some(k) => {
                node.service_accounts.invalidate(cache, k, ctx);
            }
            None => {
                node.service_accounts.invalidate_all(cache, ctx);
            }
        }
    }

    // ---- the service_tokens files and the watcher (I3) ---------------------------------------

    /// Replaces a node's `service_tokens` file. The node's watcher notices at its next poll.
    pub fn set_service_tokens_file(&mut self, i: NodeIndex, bytes: Vec<u8>) -> Result<(), EsError> {
        let now = self.clock.now();
        let node = self
            .nodes
            .get_mut(i as usize)
            .ok_or_else(|| EsError::resource_not_found("unknown node"))?;
        if node.service_tokens_file != bytes {
            node.service_tokens_file = bytes;
            node.file_changed_at.get_or_insert(now);
            self.files_changed = true;
        }
        Ok(())
    }

    /// Runs the file watchers that fall due up to `target`, in time order: a node whose file changed
    /// at `t` re-reads it at its first poll after `t` ([`next_file_poll`]: every 5 s of virtual time
    /// from the node's own start).
    fn run_file_watchers(&mut self, target: Nanos) {
        if !self.files_changed {
            return;
        }
        loop {
            let due = self
                .nodes
                .iter()
                .enumerate()
                .filter(|(_, n)| n.running)
                .filter_map(|(i, n)| {
                    n.file_changed_at
                        .map(|t| (next_file_poll(n.started_at, t), i))
                })
                .filter(|&(at, _)| at <= target)
                .min();
            let Some((at, i)) = due else { break };
            if at > self.clock.now() {
                self.clock.advance_to(at).ok();
            }
            self.nodes[i].file_changed_at = None;
            let bytes = self.nodes[i].service_tokens_file.clone();
            self.with_node(i as NodeIndex, |node, _, ctx| {
                node.service_accounts.poll_file(&bytes, ctx);
            });
        }
        self.files_changed = self.nodes.iter().any(|n| n.file_changed_at.is_some());
    }

    // ---- cache views ---------------------------------------------------------------------------

    /// The service that owns a cache on a running node.
    fn cache_owner(&self, node: NodeIndex, cache: CacheId) -> Option<&dyn CacheViews> {
        let n = self.nodes.get(node as usize).filter(|n| n.running)?;
        Some(match cache {
            CacheId::FileServiceAccountToken | CacheId::IndexServiceAccountToken => {
                &n.service_accounts
            }
            CacheId::ApiKeyAuth | CacheId::ApiKeyDoc | CacheId::ApiKeyRoleDescriptors => {
                &n.api_keys
            }
            _ => &n.stores,
        })
    }

    /// The size of a node's cache; `None` when the settings disable it.
    pub fn cache_size(&self, node: NodeIndex, cache: CacheId) -> Option<CacheSize> {
        self.cache_owner(node, cache)?.size(cache)
    }

    pub fn cache_contains(&self, node: NodeIndex, cache: CacheId, key: &str) -> bool {
        self.cache_owner(node, cache)
            .is_some_and(|o| o.contains(cache, key))
    }

    /// Keys, most recently used first.
    pub fn cache_keys(&self, node: NodeIndex, cache: CacheId) -> Vec<String> {
        self.cache_owner(node, cache)
            .map(|o| o.keys(cache))
            .unwrap_or_default()
    }

    pub fn cache_stats(&self, node: NodeIndex, cache: CacheId) -> Option<crate::cache::CacheStats> {
        self.cache_owner(node, cache)?.stats(cache)
    }

    /// Removals of a node's cache by reason; `None` when disabled.
    pub(crate) fn cache_removals(&self, node: NodeIndex, cache: CacheId) -> Option<RemovalCounts> {
        self.cache_owner(node, cache)?.removals(cache)
    }

    // ---- the security index ------------------------------------------------------------------

    /// Applies a new index state and, if `SecurityIndexManager` would notify and the registry's rule
    /// says so (R4.1), runs every opted-in invalidator on every running node.
    pub fn set_security_index_state(&mut self, state: IndexState) {
        let previous = self.security_index.set_state(state);
        let current = self.security_index.state().clone();
        if previous == current {
            return;
        }
        let now = self.clock.now();
        let detail = format!(
            "{previous} -> {current}{}",
            if should_clear_caches(&previous, &current) {
                " (caches cleared)"
            } else {
                ""
            }
        );
        self.events.record(
            now,
            NodeIndex::MAX,
            EventKind::SecurityIndexChange,
            CacheId::None,
            ".security",
            &detail,
        );
        for i in 0..self.nodes.len() {
            let n = &self.nodes[i];
            if n.running && !n.partitioned {
                self.apply_index_state(i as NodeIndex);
            }
        }
    }

    /// A node applies the current index state against the one it last saw (`clusterChanged`), and
    /// clears the opted-in caches when R4.1 says so.
    fn apply_index_state(&mut self, i: NodeIndex) {
        let current = self.security_index.state().clone();
        let seen = std::mem::replace(
            &mut self.nodes[i as usize].index_state_seen,
            current.clone(),
        );
        if seen == current || !should_clear_caches(&seen, &current) {
            return;
        }
        let invalidators = self.nodes[i as usize]
            .registry
            .cleared_on_security_index_change();
        self.with_node(i, |node, _, ctx| {
            node.stores.on_security_index_change(&seen, &current, ctx);
            for inv in invalidators {
                Self::run_invalidator(node, inv, None, ctx);
            }
        });
    }

    fn new_index_uuid(&mut self) -> String {
        random_base64_uuid(&mut self.rng)
    }

    /// Creates the index if it is absent (green, a new UUID).
    pub fn create_security_index(&mut self) {
        if self.security_index.exists() {
            return;
        }
        let uuid = self.new_index_uuid();
        self.set_security_index_state(IndexState {
            exists: true,
            open: true,
            health_when_open: IndexHealth::Green,
            uuid: Some(uuid),
            format_up_to_date: true,
        });
    }

    pub fn delete_security_index(&mut self) {
        self.set_security_index_state(IndexState::absent());
    }

    /// Deletes and creates the index again: empty, with a new UUID.
    pub fn recreate_security_index(&mut self) {
        self.delete_security_index();
        self.create_security_index();
    }

    pub fn close_security_index(&mut self) {
        let mut s = self.security_index.state().clone();
        if s.exists {
            s.open = false;
            self.set_security_index_state(s);
        }
    }

    pub fn open_security_index(&mut self) {
        let mut s = self.security_index.state().clone();
        if s.exists {
            s.open = true;
            self.set_security_index_state(s);
        }
    }

    pub fn set_security_index_health(&mut self, health: IndexHealth) -> Result<(), EsError> {
        let mut s = self.security_index.state().clone();
        if !s.exists {
            return Err(EsError::illegal_argument(
                "the security index does not exist: create() it first",
            ));
        }
        if !s.open {
            return Err(EsError::illegal_argument(
                "the security index is closed: open() it first",
            ));
        }
        s.health_when_open = health;
        self.set_security_index_state(s);
        Ok(())
    }

    pub fn set_security_index_up_to_date(&mut self, up_to_date: bool) {
        let mut s = self.security_index.state().clone();
        s.format_up_to_date = up_to_date;
        self.set_security_index_state(s);
    }

    /// `prepareIndexIfNeededThenExecute`: creates a missing index, and refuses a write the index
    /// cannot take.
    pub(crate) fn prepare_index_for_write(&mut self) -> Result<(), EsError> {
        if !self.security_index.exists() {
            self.create_security_index();
        }
        if !self.security_index.state().is_up_to_date() {
            return Err(SecurityIndex::not_up_to_date_error(true));
        }
        if let Some(e) = self
            .security_index
            .unavailable_reason(crate::security::index::Availability::PrimaryShards)
        {
            return Err(e);
        }
        Ok(())
    }

    /// Node `i`'s API key service and crypto pool, borrowed together (the service queues its hash
    /// verifications on the pool), with the security index and a trace context.
    pub(crate) fn with_api_keys<R>(
        &mut self,
        i: NodeIndex,
        f: impl FnOnce(&mut ApiKeyService, &mut CryptoPool, &SecurityIndex, &mut Ctx<'_>) -> R,
    ) -> R {
        self.with_node(i, |n, index, ctx| {
            f(&mut n.api_keys, &mut n.crypto_pool, index, ctx)
        })
    }

    /// API key authentication on a node without the REST layer (the simulator's request path).
    pub(crate) fn authenticate_api_key_ref(
        &mut self,
        node: NodeIndex,
        credentials: &crate::security::api_key::ApiKeyCredentials,
        request: u64,
    ) -> crate::security::api_key::AuthStep {
        self.with_api_keys(node, |api_keys, crypto_pool, index, ctx| {
            api_keys.authenticate_ref(credentials, request, index, crypto_pool, ctx)
        })
    }

    /// Service account token authentication on a node without the REST layer.
    pub(crate) fn authenticate_service_token_direct(
        &mut self,
        node: NodeIndex,
        token: &crate::security::service_account::ServiceAccountToken,
    ) -> crate::security::service_account::ServiceAccountAuthOutcome {
        self.with_node(node, |n, index, ctx| {
            n.service_accounts.authenticate(token, index, ctx)
        })
    }

    /// Finishes one verification the crypto pool ran (the simulator's virtual threads).
    pub(crate) fn complete_api_key_verification(
        &mut self,
        node: NodeIndex,
        ticket: u64,
    ) -> Vec<(u64, crate::security::api_key::AuthStep)> {
        self.with_api_keys(node, |api_keys, crypto_pool, _, ctx| {
            api_keys.complete_verification(ticket, crypto_pool, ctx)
        })
    }

    /// Runs every queued verification of a node's crypto pool; returns the requests finished.
    pub fn drain_crypto_pool(
        &mut self,
        i: NodeIndex,
    ) -> Vec<(u64, crate::security::api_key::AuthStep)> {
        let tasks = self.nodes[i as usize].crypto_pool.drain();
        let mut out = Vec::new();
        for t in tasks {
            out.extend(self.complete_api_key_verification(i, t.ticket));
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn node_counts_name_nodes_within_bounds() {
        assert_eq!(
            ClusterConfig::node_names(ClusterConfig::DEFAULT_NODE_COUNT).unwrap(),
            ["node-0", "node-1", "node-2"]
        );
        assert_eq!(ClusterConfig::node_names(1000).unwrap().len(), 1000);
        assert_eq!(ClusterConfig::new(2).node_names, ["node-0", "node-1"]);
        for bad in [0, -1, 1001, i64::MIN, i64::MAX] {
            let e = ClusterConfig::node_names(bad).unwrap_err();
            assert_eq!(
                e.reason,
                format!("nodes must be between 1 and 1000, got [{bad}]")
            );
        }
    }
}
