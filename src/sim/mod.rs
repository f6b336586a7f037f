//! The simulator layer. For now: seeded workload generators used by the demo and the benchmarks.

pub mod workload;
