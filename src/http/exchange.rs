//! One HTTP request, from hyper's parts to hyper's response: the body read within
//! `http.max_content_length` (Elasticsearch's 413, `Netty4HttpContentSizeHandler`), a gzip body
//! decoded (`Netty4HttpServerTransport` adds an `HttpContentDecompressor`), the REST layer run on the
//! shared cluster, and the answer compressed when the client accepts gzip (`http.compression`).

use super::clock::Follower;
use super::{routes, NODE_HEADER};
use crate::cluster::Cluster;
use crate::error::EsError;
use crate::events::NodeIndex;
use crate::rest::Response as RestResponse;
use flate2::read::GzDecoder;
use flate2::write::GzEncoder;
use flate2::Compression;
use http_body_util::{BodyExt, Full, LengthLimitError, Limited};
use hyper::body::{Bytes, Incoming};
use hyper::header::{HeaderName, HeaderValue};
use hyper::{Request, Response};
use std::io::{Read, Write};
use std::net::SocketAddr;
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::sync::{Arc, Mutex};

/// What every connection of a server shares.
pub(super) struct Context {
    pub cluster: Arc<Mutex<Cluster>>,
    pub addresses: Vec<SocketAddr>,
    pub max_content_length: usize,
    pub follower: Option<Follower>,
    #[cfg(feature = "tls")]
    pub acceptor: Option<tokio_rustls::TlsAcceptor>,
}

impl Context {
    /// Moves a realtime clock to the wall clock (nothing for virtual time).
    pub fn catch_up(&self) {
        if let Some(f) = &self.follower {
            locked(&self.cluster, |c| f.catch_up(c));
        }
    }

    /// Whether `node` runs. A broken cluster (poisoned lock) keeps its ports open: each request gets
    /// a 500 (reading a node's flag from it changes nothing).
    pub fn node_running(&self, node: NodeIndex) -> bool {
        self.cluster
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .node(node)
            .is_some_and(crate::cluster::Node::running)
    }
}

/// The connection is dropped without an answer: its node stopped (a stopped node answers nothing).

#[derive(Debug, thiserror::Error)]
#[error("connection closed without an answer")]
pub(super) struct Dropped;

pub(super) async fn answer(
    ctx: &Context,
    node: NodeIndex,
    req: Request<Incoming>,
) -> Result<Response<Full<Bytes>>, Dropped> {
    let (parts, body) = req.into_parts();
    let limit = ctx.max_content_length;
    // Netty4HttpContentSizeHandler answers an expectation it does not know with 417 and closes; hyper
    // answers `100-continue` itself when the body is read.
    let expect = parts.headers.get(hyper::header::EXPECT);
    if expect.is_some_and(|v| !v.as_bytes().eq_ignore_ascii_case(b"100-continue")) {
        return Ok(bare(hyper::StatusCode::EXPECTATION_FAILED));
    }
    let declared = parts
        .headers
        .get(hyper::header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<u64>().ok());
    // Refused before it is read, as Netty4HttpContentSizeHandler does.
    if declared.is_some_and(|n| n > limit as u64) {
        return Ok(bare(hyper::StatusCode::PAYLOAD_TOO_LARGE));
    }
    let body = match Limited::new(body, limit).collect().await {
        Ok(b) => b.to_bytes(),
        Err(e) if e.downcast_ref::<LengthLimitError>().is_some() => {
            return Ok(bare(hyper::StatusCode::PAYLOAD_TOO_LARGE))
        }
        // A bad chunk (or a client gone mid-body, which will not read this answer anyway).
        Err(e) => {
            let err = EsError::illegal_argument(format!("cannot read the request body: {e}"));
            let mut r = finish(&parts, RestResponse::from_error(&err));
            r.headers_mut()
                .insert("connection", HeaderValue::from_static("close"));
            return Ok(r);
        }
    };
    let gzipped = header_has(&parts.headers, "content-encoding", "gzip");
    let body = if gzipped && !body.is_empty() {
        match gunzip(&body, limit) {
            Ok(Some(b)) => b,
            Ok(None) => return Ok(bare(hyper::StatusCode::PAYLOAD_TOO_LARGE)),
            Err(reason) => {
                let err = EsError::illegal_argument(reason);
                return Ok(finish(&parts, RestResponse::from_error(&err)));
            }
        }
    } else {
        body.to_vec()
    };
    let mut headers = Vec::with_capacity(parts.headers.len());
    let mut target_node = None;
    for (name, value) in &parts.headers {
        let value = String::from_utf8_lossy(value.as_bytes()).into_owned();
        match name.as_str() {
            NODE_HEADER => target_node = Some(value),
            // Decoded above: the REST layer sees the plain body.
            "content-encoding" | "content-length" if gzipped => {}
            n => headers.push((n.to_string(), value)),
        }
    }
    let target = parts
        .uri
        .path_and_query()
        .map_or("/", hyper::http::uri::PathAndQuery::as_str);
    let body = (!body.is_empty()).then_some(body);
    let response = locked(&ctx.cluster, |c| {
        if let Some(f) = &ctx.follower {
            f.catch_up(c);
        }
        // A stopped node answers nothing, even on a connection opened before it stopped.
        if !c.node(node).is_some_and(crate::cluster::Node::running) {
            return Err(Dropped);
        }
        let index = match target_node {
            None => node,
            Some(name) => match c.node_index(&name) {
                Ok(i) if c.nodes()[i as usize].running() => i,
                Ok(_) => {
                    let e = EsError::illegal_argument(format!("node [{name}] is stopped"));
                    return Ok(RestResponse::from_error(&e));
                }
                Err(_) => {
                    let e = EsError::illegal_argument(format!(
                        "[{NODE_HEADER}]: no node named [{name}] in this cluster"
                    ));
                    return Ok(RestResponse::from_error(&e));
                }
            },
        };
        let method = parts.method.as_str();
        Ok(routes::handle(
            c,
            &ctx.addresses,
            index,
            method,
            target,
            headers,
            body,
        ))
    })
    .unwrap_or_else(|| {
        Ok(RestResponse::from_error(&EsError::exception(
            "internal error: the cluster is broken",
        )))
    })?;
    Ok(finish(&parts, response))
}

/// Runs `f` with the cluster locked; `None` when the lock is poisoned or `f` panicked (a bug: the
/// client gets a 500, never a dropped connection, and the cluster is left broken for everyone).
fn locked<R>(cluster: &Mutex<Cluster>, f: impl FnOnce(&mut Cluster) -> R) -> Option<R> {
    // AssertUnwindSafe: after a panic the cluster is never used again (the poisoned lock says so).
    catch_unwind(AssertUnwindSafe(|| {
        cluster.lock().ok().map(|mut c| f(&mut c))
    }))
    .ok()
    .flatten()
}

/// Netty's fixed answers (`TOO_LARGE_CLOSE`, `EXPECTATION_FAILED_CLOSE`): no body; the connection is
/// closed (the rest of the body is never read).
fn bare(status: hyper::StatusCode) -> Response<Full<Bytes>> {
    let mut r = Response::new(Full::new(Bytes::new()));
    *r.status_mut() = status;
    let h = r.headers_mut();
    h.insert(
        "x-elastic-product",
        HeaderValue::from_static("Elasticsearch"),
    );
    h.insert("connection", HeaderValue::from_static("close"));
    r
}

/// A gzip body decoded; `Ok(None)` when it decodes to more than `limit` bytes.
fn gunzip(body: &[u8], limit: usize) -> Result<Option<Vec<u8>>, String> {
    let mut out = Vec::new();
    GzDecoder::new(body)
        .take(limit as u64 + 1)
        .read_to_end(&mut out)
        .map_err(|e| format!("request body is not valid gzip: {e}"))?;
    Ok((out.len() <= limit).then_some(out))
}

/// Whether a comma-separated header holds `token` (case-insensitive).
fn header_has(headers: &hyper::HeaderMap, name: &str, token: &str) -> bool {
    headers.get_all(name).iter().any(|v| {
        v.to_str().is_ok_and(|v| {
            v.split(',').any(|t| {
                t.split(';')
                    .next()
                    .unwrap_or("")
                    .trim()
                    .eq_ignore_ascii_case(token)
            })
        })
    })
}

/// The REST response as hyper's, with what Elasticsearch adds on the way out: `X-Elastic-Product`
/// on every answer, the request's `X-Opaque-Id` echoed (`Task.X_OPAQUE_ID_HTTP_HEADER`), gzip when
/// accepted.
fn finish(parts: &hyper::http::request::Parts, rest: RestResponse) -> Response<Full<Bytes>> {
    let mut body = rest.body_bytes();
    let mut out = Response::new(Full::new(Bytes::new()));
    *out.status_mut() = hyper::StatusCode::from_u16(rest.status)
        .unwrap_or(hyper::StatusCode::INTERNAL_SERVER_ERROR);
    let h = out.headers_mut();
    for (name, value) in &rest.headers {
        let lower = name.to_ascii_lowercase();
        if matches!(
            lower.as_str(),
            "content-length" | "connection" | "transfer-encoding"
        ) {
            continue;
        }
        // Header values never carry CR or LF (no response splitting): they are sent as spaces.
        let clean = value.replace(['\r', '\n'], " ");
        if let (Ok(n), Ok(v)) = (
            HeaderName::from_bytes(lower.as_bytes()),
            HeaderValue::from_str(&clean),
        ) {
            h.append(n, v);
        }
    }
    if !h.contains_key("x-elastic-product") {
        h.insert(
            "x-elastic-product",
            HeaderValue::from_static("Elasticsearch"),
        );
    }
    if !h.contains_key("x-opaque-id") {
        if let Some(id) = parts.headers.get("x-opaque-id") {
            h.insert("x-opaque-id", id.clone());
        }
    }
    if !body.is_empty() && header_has(&parts.headers, "accept-encoding", "gzip") {
        let mut enc = GzEncoder::new(Vec::with_capacity(body.len() / 2), Compression::fast());
        if enc.write_all(&body).is_ok() {
            if let Ok(zipped) = enc.finish() {
                body = zipped;
                h.insert("content-encoding", HeaderValue::from_static("gzip"));
                h.append("vary", HeaderValue::from_static("Accept-Encoding"));
            }
        }
    }
    *out.body_mut() = Full::new(Bytes::from(body));
    out
}
