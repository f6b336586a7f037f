//! Fault actions: nodes stopping, starting, partitioned or healed, dropped clear-cache broadcasts,
//! and the security index's health and lifecycle.

use super::metrics::Outcome;
use super::simulation::Simulation;
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
        Ok(())
    }
}

/// Starts node `n` again, its crypto pool held by the simulation as at the start of a run.
pub(super) fn start_node(cluster: &mut Cluster, n: NodeIndex) -> Result<(), EsError> {
    cluster.start_node(n)?;
    if let Some(node) = cluster.node_mut(n) {
        node.crypto_pool.mode = CryptoPoolMode::Held;
        node.service_accounts.collect_verified = true;
        node.stores.collect_verified = true;
    }
    Ok(())
}

/// Cuts node `n` off the others (`partitioned`) or heals it.
pub(super) fn partition(
    cluster: &mut Cluster,
    n: NodeIndex,
    partitioned: bool,
) -> Result<(), EsError> {
    cluster.set_partitioned(n, partitioned)
}

/// Drops the next clear-cache broadcast to each of `nodes`.
pub(super) fn drop_clear_cache(cluster: &mut Cluster, nodes: &[NodeIndex]) {
    cluster.drop_clear_cache_to.extend(nodes.iter().copied());
}

/// Sets the security index's health.
pub(super) fn index_health(cluster: &mut Cluster, health: IndexHealth) -> Result<(), EsError> {
    cluster.set_security_index_health(health)
}
