//! Test setup: `Cluster::reset` (the cluster as it was built, in place, for test suites that share
//! one cluster, and the servers and clients wired to it, and start each test from a clean state) and
//! `Cluster::load_service_tokens_file` (a node's `service_tokens` file in force at once, as if it had
//! been on disk when the node started).

use super::Cluster;
use crate::error::EsError;
use crate::events::NodeIndex;

impl Cluster {
    /// Rebuilds the cluster from the configuration it was built with: same name, nodes (names and
    /// ids), seed, settings and password; virtual time 0, no security index, empty caches,
    /// `service_tokens` files and logs. Whether the trace and the request log record, and the
    /// request log's capacity, are kept. The same seed gives the same ids as the first time.
    pub fn reset(&mut self) -> Result<(), EsError> {
        let mut fresh = Cluster::new(self.config.clone())?;
        fresh.events.set_enabled(self.events.enabled());
        fresh.requests.set_enabled(self.requests.enabled());
        fresh.requests.set_capacity(self.requests.capacity());
        *self = fresh;
        Ok(())
    }

    /// Writes node `i`'s `service_tokens` file and has its watcher read it now (not at its next
    /// poll, I3): the pytest plugin's `service_tokens={node: contents}`.
    pub fn load_service_tokens_file(
        &mut self,
        i: NodeIndex,
        bytes: Vec<u8>,
    ) -> Result<(), EsError> {
        self.set_service_tokens_file(i, bytes)?;
        // ok: set_service_tokens_file checked the index.
        let node = &mut self.nodes[i as usize];
        if node.file_changed_at.take().is_some() && node.running {
            let bytes = node.service_tokens_file.clone();
            self.with_node(i, |node, _, ctx| {
                node.service_accounts.poll_file(&bytes, ctx)
            });
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cluster::ClusterConfig;

    #[test]
    fn reset_returns_to_the_built_state() {
        let Ok(mut c) = Cluster::new(ClusterConfig::new(2)) else {
            panic!("a two-node cluster builds")
        };
        let ids: Vec<String> = c.nodes().iter().map(|n| n.id.clone()).collect();
        c.requests.set_enabled(true);
        c.advance(5);
        c.create_security_index();
        assert!(c.stop_node(1).is_ok());
        assert!(c.reset().is_ok());
        assert_eq!(c.now(), 0);
        assert!(!c.security_index.exists());
        assert!(c.nodes().iter().all(super::super::Node::running));
        let again: Vec<String> = c.nodes().iter().map(|n| n.id.clone()).collect();
        assert_eq!(ids, again);
        assert!(c.requests.enabled());
    }
}
