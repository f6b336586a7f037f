//! `escache._core.HttpServer`: the core's HTTP server ([`crate::http::Server`]) for a Python
//! `Cluster`, sharing its state. Glue only. Starting and stopping run detached: the server's thread
//! takes the cluster lock and never the GIL.

use super::cluster::PyCluster;
use super::convert;
use super::errors;
use crate::http::{Clock, Server, MAX_CONTENT_LENGTH};
use pyo3::prelude::*;
use std::net::{IpAddr, ToSocketAddrs};
use std::sync::Mutex;

#[pyclass(frozen, module = "escache._core", name = "HttpServer")]
pub struct PyHttpServer {
    server: Mutex<Option<Server>>,
    addresses: Vec<(String, u16)>,
    ca_pem: Option<String>,
    ca_fingerprint: Option<String>,
}

#[pymethods]
impl PyHttpServer {
    /// Listens on `host`, ports `port`, `port + 1`, ... (one per node; 0: ephemeral ports) and serves
    /// until `stop()`, time moving as `clock` says (`virtual`, `realtime`, `realtime:SPEED`), over HTTPS when `tls` (a CA and a certificate made now). A body above `max_content_length` bytes (`http.max_content_length`) gets a 413.
    #[new]
    #[pyo3(signature = (cluster, host=None, port=0, *, max_content_length=None, tls=false, clock=None))]
    fn new(
        py: Python<'_>,
        cluster: PyRef<'_, PyCluster>,
        host: Option<&Bound<'_, PyAny>>,
        port: u16,
        max_content_length: Option<usize>,
        tls: bool,
        clock: Option<&Bound<'_, PyAny>>,
    ) -> PyResult<Self> {
        let host = convert::opt_text(host, "host")?.unwrap_or("127.0.0.1");
        // An address, or a name resolved to its first address (`localhost`).
        let ip = match host.parse::<IpAddr>() {
            Ok(ip) => Some(ip),
            Err(_) => py.detach(|| {
                (host, 0)
                    .to_socket_addrs()
                    .ok()
                    .and_then(|mut a| a.next())
                    .map(|a| a.ip())
            }),
        }
        .ok_or_else(|| {
            errors::illegal_argument(
                py,
                format!("[host] must be an IP address or a name that resolves, not [{host}]"),
            )
        })?;
        let clock = Clock::parse(convert::opt_text(clock, "clock")?.unwrap_or("virtual"))?;
        let shared = cluster.shared();
        let limit = max_content_length.unwrap_or(MAX_CONTENT_LENGTH);
        let server = py.detach(|| Server::start(shared, ip, port, limit, tls, clock))?;
        let addresses = server
            .addresses()
            .iter()
            .map(|a| (a.ip().to_string(), a.port()))
            .collect();
        Ok(PyHttpServer {
            ca_pem: server.ca_pem().map(str::to_string),
            ca_fingerprint: server.ca_fingerprint().map(str::to_string),
            server: Mutex::new(Some(server)),
            addresses,
        })
    }

    /// `(host, port)` of each node's listener, in node order.
    #[getter]
    fn addresses(&self) -> Vec<(String, u16)> {
        self.addresses.clone()
    }

    /// The CA certificate (PEM) when serving HTTPS (`tls=True`), else `None`.
    #[getter]
    fn ca_pem(&self) -> Option<String> {
        self.ca_pem.clone()
    }

    /// The CA certificate's SHA-256 fingerprint (hex) when serving HTTPS, else `None`.
    #[getter]
    fn ca_fingerprint(&self) -> Option<String> {
        self.ca_fingerprint.clone()
    }

    /// Closes every listener and connection; idempotent.
    fn stop(&self, py: Python<'_>) {
        py.detach(|| {
            let server = self.server.lock().ok().and_then(|mut s| s.take());
            if let Some(mut s) = server {
                s.stop();
            }
        });
    }
}

pub fn register(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add_class::<PyHttpServer>()
}
