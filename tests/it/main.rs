//! Every Rust integration test, in one binary: each former `tests/*.rs` file is a module here, so
//! `cargo test` links the crate once instead of once per file (issue 9, point 5).
//! `tests/issue8_body_memory.rs` stays a binary of its own: it installs a counting global allocator.

mod common;

mod api_key_properties;
mod api_key_scenarios;
mod authz;
mod cache_model;
mod cache_rules;
mod hashing;
mod secrets_never_leak;
mod service_account;
mod service_token_properties;
mod service_token_scenarios;
mod sim;
