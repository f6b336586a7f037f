//! Fault actions: nodes stopping, starting, partitioned or healed, dropped clear-cache broadcasts,
//! and the security index's health and lifecycle.

use super::metrics::Outcome;
use super::simulation::{Ev, Simulation};
use crate::cluster::Cluster;
use crate::error::EsError;
use crate::events::NodeIndex;
use crate::security::crypto_pool::CryptoPoolMode;
use crate::security::index::IndexHealth;

impl Simulation {
    /// Stops node `n`; its requests waiting for a hash verification or a document GET end as
    /// unavailable.
    pub(super) fn stop_node(&mut self, cluster: &mut Cluster, n: NodeIndex) -> Result<(), EsError> {
        let mut abandoned = cluster
            .node_mut(n)
            .map(|node| node.api_keys.abandon_pending())
            .unwrap_or_default();
        // CA-TM2: and its requests waiting for a document GET.
        abandoned.extend(self.abandon_fetches(n));
        cluster.stop_node(n)?;
        for r in abandoned {
            self.finish(cluster, r, Outcome::Unavailable, "node stopped");
        }
        // A stopped node leaves the cluster state at once (its connections close): pending fault
        // detection is moot.
        if let Some(fd) = self.fd_nodes.get_mut(n as usize) {
            fd.epoch += 1;
            fd.removed_at = None;
        }
        Ok(())
    }

    /// Starts node `n` again, its crypto pool held by the simulation as at the start of a run. It
    /// joins the cluster state: its follower checks count from now.
    pub(super) fn start_node(
        &mut self,
        cluster: &mut Cluster,
        n: NodeIndex,
    ) -> Result<(), EsError> {
        let was_running = cluster.node(n).is_some_and(crate::cluster::Node::running);
        cluster.start_node(n)?;
        if let Some(node) = cluster.node_mut(n) {
            node.crypto_pool.mode = CryptoPoolMode::Held;
            node.service_accounts.collect_verified = true;
            node.stores.collect_verified = true;
        }
        let now = cluster.now();
        if let (false, Some(fd)) = (was_running, self.fd_nodes.get_mut(n as usize)) {
            fd.epoch += 1;
            fd.origin = now;
            fd.removed_at = None;
        }
        // A started node that is still partitioned is checked like any other (CA-PT1).
        if !was_running && cluster.node(n).is_some_and(|x| x.partitioned) {
            self.schedule_removal(cluster, n);
        }
        Ok(())
    }

    /// Cuts node `n` off the others (`partitioned`) or heals it. With fault detection, a partition
    /// starts the master's failing follower checks (CA-PT1) and a heal either delivers the requests
    /// the partition held (CA-PT2) or, for a node already removed, leads to its rejoining (CA-PT4).
    pub(super) fn partition(
        &mut self,
        cluster: &mut Cluster,
        n: NodeIndex,
        partitioned: bool,
    ) -> Result<(), EsError> {
        let was = cluster.node(n).map(|x| x.partitioned);
        cluster.set_partitioned(n, partitioned)?;
        if was == Some(partitioned) {
            return Ok(());
        }
        let (Some(fd), Some(state)) = (self.fault_detection, self.fd_nodes.get_mut(n as usize))
        else {
            return Ok(());
        };
        state.epoch += 1;
        let epoch = state.epoch;
        let now = cluster.now();
        if partitioned {
            self.schedule_removal(cluster, n);
        } else if let Some(removed) = state.removed_at {
            self.push(fd.rejoin_time(removed, now), Ev::Rejoin { node: n, epoch });
        }
        // The requests a heal delivered are collected after the action (`run_scheduled`).
        Ok(())
    }

    /// CA-PT1: schedules the removal of partitioned node `n` when its follower checks will have
    /// failed.
    fn schedule_removal(&mut self, cluster: &Cluster, n: NodeIndex) {
        let (Some(fd), Some(state)) = (self.fault_detection, self.fd_nodes.get(n as usize)) else {
            return;
        };
        if !cluster.in_cluster_state(n) {
            return;
        }
        let at = fd.removal_time(state.origin, cluster.now());
        let epoch = state.epoch;
        self.push(at, Ev::FollowerChecksFailed { node: n, epoch });
    }

    /// CA-PT3: the follower checks of `n` failed: the master removes it, if it is still the
    /// partition they started in.
    pub(super) fn follower_checks_failed(
        &mut self,
        cluster: &mut Cluster,
        n: NodeIndex,
        epoch: u32,
    ) {
        let now = cluster.now();
        let Some(state) = self.fd_nodes.get_mut(n as usize) else {
            return;
        };
        if state.epoch != epoch || !cluster.in_cluster_state(n) {
            return;
        }
        state.removed_at = Some(now);
        self.membership_changes.push((now, n, false));
        let retry_count = self.fault_detection.map_or(0, |fd| fd.retry_count);
        // `FollowersChecker`: every check of a partitioned node times out.
        cluster.remove_from_cluster_state(
            n,
            &format!("followers check retry count exceeded [timeouts={retry_count}, failures=0]"),
        );
        self.collect_clears(cluster);
    }

    /// CA-PT4: `n` joins the cluster again; its follower checks count from now.
    pub(super) fn rejoin(&mut self, cluster: &mut Cluster, n: NodeIndex, epoch: u32) {
        let now = cluster.now();
        let Some(state) = self.fd_nodes.get_mut(n as usize) else {
            return;
        };
        if state.epoch != epoch || state.removed_at.is_none() {
            return;
        }
        state.removed_at = None;
        state.origin = now;
        self.membership_changes.push((now, n, true));
        cluster.rejoin_cluster_state(n);
        self.collect_clears(cluster);
    }
}

/// Drops the next clear-cache broadcast to each of `nodes`.
pub(super) fn drop_clear_cache(cluster: &mut Cluster, nodes: &[NodeIndex]) {
    cluster.drop_clear_cache_to.extend(nodes.iter().copied());
}

/// Sets the security index's health.
pub(super) fn index_health(cluster: &mut Cluster, health: IndexHealth) -> Result<(), EsError> {
    cluster.set_security_index_health(health)
}
