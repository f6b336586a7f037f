//! The simulator layer: seeded workloads, a cost model, metrics, and the event-driven simulation.

pub mod cost;
pub mod metrics;
pub mod report;
pub mod simulation;
pub mod spec;
pub mod workload;

pub use cost::CostModel;
pub use metrics::{LatencyHistogram, Metrics, Outcome};
pub use simulation::{
    Action, AuthorizationHeader, NodeChoice, Popularity, Selection, Simulation, Stop,
    TokenSourceSpec, WorkloadKind, WorkloadSpec, MAX_POPULATION, MAX_RATE,
};
