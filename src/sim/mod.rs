//! The simulator layer: seeded workloads, a cost model, metrics, and the event-driven simulation.

pub mod action;
mod action_spec;
mod actions;
mod alias;
#[cfg(any(test, feature = "testing"))]
mod bench_hooks;
mod clears;
pub mod client;
pub mod cost;
pub mod explain;
pub mod fault_detection;
mod faults;
pub mod latency;
pub mod metrics;
pub mod replay;
pub mod report;
pub mod scenario;
pub mod simulation;
pub mod spec;
pub mod timeline;
#[cfg(test)]
mod timing_tests;
pub mod traffic;
pub mod workload;

pub use action::{Action, AuthorizationHeader, Selection};
pub use client::{Backoff, ClientModel, ClientPreset};
pub use cost::CostModel;
pub use metrics::{LatencyHistogram, Metrics, Outcome};
pub use simulation::{Simulation, Stop};
pub use traffic::{NodeChoice, Popularity, TokenSourceSpec, WorkloadKind, WorkloadSpec, MAX_RATE};
