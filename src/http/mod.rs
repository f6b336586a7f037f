//! `escache serve`: the REST layer ([`crate::rest`]) behind real HTTP/1.1 listeners, one per node, as
//! a real cluster has (`http.port` 9200, 9201, ... on one host). hyper serves each connection on a
//! tokio runtime that runs on the server's own thread; a request locks the shared cluster only while
//! the REST layer runs (never while reading or writing the network), the same lock Python's
//! `Cluster` takes, so Python code keeps using the cluster while the server runs.
//!
//! - `listen.rs`: the listeners and connections: a stopped node's port refuses connections and its
//!   open connections are closed; a started node's port listens again; a partitioned node still answers.
//! - `exchange.rs`: one request: body limits and decoding (`Content-Encoding: gzip`), dispatch, the
//!   headers Elasticsearch puts on every answer, `Accept-Encoding: gzip`.
//! - `tls.rs`: `--tls`, a CA and a node certificate made at start, served by rustls.
//! - `clock.rs`: `--clock realtime[:SPEED]`, virtual time following the wall clock.
//! - `malformed.rs`: hyper's own answers to unparsable requests, given Elasticsearch's JSON body.
//! - `routes.rs`: escache's own route (`POST /_escache/advance`); every other request goes to the
//!   REST layer with the listeners' addresses (which `GET /_nodes` reports).

mod clock;
mod exchange;
mod listen;
mod malformed;
mod routes;
#[cfg(feature = "tls")]
mod tls;

pub use clock::Clock;
pub use listen::Server;

/// Elasticsearch's `http.max_content_length` default, 100mb (`HttpTransportSettings`).
pub const MAX_CONTENT_LENGTH: usize = 100 * 1024 * 1024;

/// The request header naming the node that answers, instead of the one whose port was called.
pub const NODE_HEADER: &str = "x-escache-node";
