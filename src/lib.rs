//! escache: Elasticsearch's security credential caches, modelled rule by rule and simulated in
//! virtual time.
//!
//! Layers depend downward only: `python -> http -> sim -> rest -> cluster -> security -> cache -> time`
//! (`error` and `events` are shared vocabulary under all of them; `trace` exports `events`). The rule ids cited in comments
//! (R6.4, C3, ...) are those of `docs/rules.md`.

pub mod cache;
pub mod cluster;
pub mod error;
pub mod events;
#[cfg(feature = "http")]
pub mod http;
pub mod rest;
pub mod security;
pub mod sim;
pub mod time;
pub mod trace;

#[cfg(feature = "python")]
mod python;
