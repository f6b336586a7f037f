//! The REST layer's infrastructure: requests, responses, parameter parsing, body parsing and routing,
//! all following Elasticsearch's `RestController`, `RestRequest`, `RestUtils`, `PathTrie`,
//! `BaseRestHandler`, `Strings` and `Booleans` (each module cites what it ports). Handlers live
//! elsewhere and are written against [`RouteId`].
//!
//! A request goes: [`Request::new`] (query decoding, method) -> [`Router::dispatch`] (`error_trace`
//! check, route match, path parameters, Content-Type check) -> the handler for the [`RouteId`], which
//! reads parameters ([`Request::param`], [`Request::param_as_boolean`],
//! [`Request::param_as_string_array_or_empty_if_all`]), checks unknown ones
//! ([`check_unconsumed_params`]), parses the body ([`parse_json_body_with_locations`]) and answers a [`Response`]
//! (`Response::ok`, or `Response::from_error` for an [`EsError`](crate::error::EsError)).
//! [`Router::route`] does the first two steps from raw parts.

pub mod body;
pub mod handlers;
pub mod params;
pub(crate) mod render;
pub mod request;
pub mod response;
pub(crate) mod router;
pub mod service_accounts;

pub(crate) use body::parse_json_body_with_locations;
pub use body::parse_json_object;
pub use handlers::handle;
pub(crate) use params::param_as_string_array_or_empty_if_all;
pub(crate) use request::{check_unconsumed_params, reject_unconsumed_body, Method, Request};
pub use response::Response;
pub(crate) use router::{RouteId, Router};
