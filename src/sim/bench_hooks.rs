//! The simulator's hot-path steps, one at a time, for the microbenchmarks in `benches/simulator.rs`
//! (built with the `testing` feature only, like the other test hooks).

use super::simulation::{Ev, Simulation};
use crate::cluster::Cluster;
use crate::events::{CacheId, EventKind, EventLog, NodeIndex};
use crate::time::Nanos;
use std::cmp::Reverse;

impl Simulation {
    /// One event through the queue: pushed at `at`, then the earliest popped (its time).
    pub fn bench_queue_cycle(&mut self, at: Nanos) -> Option<Nanos> {
        self.push(at, Ev::Sample);
        self.queue.pop().map(|Reverse((t, _, _))| t)
    }

    /// The credential a request of workload `w` presents (the popularity draw).
    pub fn bench_pick_credential(&mut self, w: usize) -> Option<usize> {
        self.pick_credential(w)
    }

    /// The node a request of workload `w` for `credential` goes to.
    pub fn bench_pick_node(&mut self, cluster: &Cluster, w: usize, credential: usize) -> NodeIndex {
        self.pick_node(cluster, w, credential)
    }
}

impl EventLog {
    /// One authentication event appended to the trace (the per-request append).
    pub fn bench_record(&mut self, time: Nanos, node: NodeIndex, key: &str) {
        self.record(time, node, EventKind::AuthSuccess, CacheId::None, key, "");
    }
}
