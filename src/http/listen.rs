//! Listeners (one per node) and connections, on a current-thread tokio runtime owned by [`Server`].

use super::clock::{Clock, Follower};
use super::exchange::{answer, Context};
use super::malformed::Answered;
use crate::cluster::Cluster;
use crate::events::NodeIndex;
use hyper::server::conn::http1;
use hyper::service::service_fn;
use hyper_util::rt::{TokioIo, TokioTimer};
use std::future::{poll_fn, Future};
use std::io;
use std::net::{IpAddr, SocketAddr, TcpListener as StdListener};
use std::pin::pin;
use std::sync::{Arc, Mutex};
use std::task::Poll;
use std::thread::JoinHandle;
use std::time::Duration;
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::watch;

/// How often a listener looks at its node's state (stopped, started). A connection accepted in
/// between is checked again before it is served, so a stopped node never answers.
const NODE_STATE_POLL: Duration = Duration::from_millis(20);
/// A request's head must arrive within this (slow or silent clients do not hold a connection forever).
const HEADER_READ_TIMEOUT: Duration = Duration::from_secs(30);

/// A running server: one listener per node, served until [`Server::stop`] (or drop).
pub struct Server {
    addresses: Vec<SocketAddr>,
    /// The CA certificate (PEM) and its SHA-256 fingerprint, when serving HTTPS.
    ca: Option<(String, String)>,
    shutdown: watch::Sender<bool>,
    thread: Option<JoinHandle<()>>,
}

impl std::fmt::Debug for Server {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Server")
            .field("addresses", &self.addresses)
            .finish_non_exhaustive()
    }
}

impl Server {
    /// Listens on `host`, port `port + i` for node `i` (port 0: an ephemeral port each), and serves
    /// on a thread of its own, with time moving as `clock` says; over TLS (a CA and a certificate made now) when `tls`. Fails (with
    /// nothing left listening) when a port cannot be bound.
    pub fn start(
        cluster: Arc<Mutex<Cluster>>,
        host: IpAddr,
        port: u16,
        max_content_length: usize,
        tls: bool,
        clock: Clock,
    ) -> io::Result<Server> {
        #[cfg(feature = "tls")]
        let tls = tls.then(|| super::tls::generate(host)).transpose()?;
        #[cfg(not(feature = "tls"))]
        if tls {
            return Err(io::Error::other(
                "this build of escache has no TLS (the `tls` feature)",
            ));
        }
        let count = cluster
            .lock()
            .map_err(|_| io::Error::other("the cluster is broken"))?
            .nodes()
            .len();
        let mut listeners = Vec::with_capacity(count);
        for i in 0..count {
            let p = if port == 0 {
                0
            } else {
                u16::try_from(i)
                    .ok()
                    .and_then(|i| port.checked_add(i))
                    .ok_or_else(|| {
                        io::Error::new(
                            io::ErrorKind::InvalidInput,
                            format!("ports [{port}] to [{port} + {count} - 1] go past 65535"),
                        )
                    })?
            };
            listeners.push(bind(SocketAddr::new(host, p))?);
        }
        let addresses = listeners
            .iter()
            .map(StdListener::local_addr)
            .collect::<io::Result<Vec<_>>>()?;
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_io()
            .enable_time()
            .build()?;
        let (shutdown, stopping) = watch::channel(false);
        #[cfg(feature = "tls")]
        let (ca, acceptor) = match tls {
            Some(t) => (Some((t.ca_pem, t.ca_fingerprint)), Some(t.acceptor)),
            None => (None, None),
        };
        #[cfg(not(feature = "tls"))]
        let ca = None;
        let ctx = Arc::new(Context {
            cluster,
            addresses: addresses.clone(),
            max_content_length,
            follower: Follower::new(clock),
            #[cfg(feature = "tls")]
            acceptor,
        });
        let thread = std::thread::Builder::new()
            .name("escache-http".into())
            .spawn(move || {
                runtime.block_on(async move {
                    let mut tasks = Vec::new();
                    for (i, l) in listeners.into_iter().enumerate() {
                        let task = node_listener(ctx.clone(), i as NodeIndex, l, stopping.clone());
                        tasks.push(tokio::spawn(task));
                    }
                    for t in tasks {
                        let _ = t.await;
                    }
                });
                // Dropping the runtime drops every connection still open.
            })?;
        Ok(Server {
            addresses,
            ca,
            shutdown,
            thread: Some(thread),
        })
    }

    /// The address each node listens on, in node order.
    pub fn addresses(&self) -> &[SocketAddr] {
        &self.addresses
    }

    /// The CA certificate (PEM) clients trust (`ca_certs`), when serving HTTPS.
    pub fn ca_pem(&self) -> Option<&str> {
        self.ca.as_ref().map(|(pem, _)| pem.as_str())
    }

    /// The CA certificate's SHA-256 fingerprint (hex; `ssl_assert_fingerprint`), when serving HTTPS.
    pub fn ca_fingerprint(&self) -> Option<&str> {
        self.ca.as_ref().map(|(_, f)| f.as_str())
    }

    /// Closes every listener and connection and waits for the server's thread to end. Idempotent.
    pub fn stop(&mut self) {
        let _ = self.shutdown.send(true);
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        self.stop();
    }
}

fn bind(addr: SocketAddr) -> io::Result<StdListener> {
    // std sets SO_REUSEADDR on Unix, so a node's port can be bound again after a stop.
    let l = StdListener::bind(addr)
        .map_err(|e| io::Error::new(e.kind(), format!("cannot listen on [{addr}]: {e}")))?;
    l.set_nonblocking(true)?;
    Ok(l)
}

/// Serves one node's port: listening while the node runs, closed (connections refused, open ones
/// closed) while it is stopped.
async fn node_listener(
    ctx: Arc<Context>,
    node: NodeIndex,
    listening: StdListener,
    mut stopping: watch::Receiver<bool>,
) {
    let addr = ctx.addresses[node as usize];
    let mut listener = TcpListener::from_std(listening).ok();
    let (up_tx, _) = watch::channel(true);
    loop {
        // A realtime clock moves even while no request comes (in-process users see it move too).
        if node == 0 {
            ctx.catch_up();
        }
        if ctx.node_running(node) {
            if listener.is_none() {
                listener = bind(addr).and_then(TcpListener::from_std).ok();
            }
            up_tx.send_replace(true);
        } else {
            listener = None;
            up_tx.send_replace(false);
        }
        let accept = async {
            match &listener {
                Some(l) => l.accept().await.ok(),
                None => std::future::pending().await,
            }
        };
        let stop = stopping.changed();
        let tick = tokio::time::sleep(NODE_STATE_POLL);
        match first(stop, accept, tick).await {
            First::A(_) => return,
            First::B(Some((stream, _))) => {
                if ctx.node_running(node) {
                    let conn = connection(
                        ctx.clone(),
                        node,
                        stream,
                        up_tx.subscribe(),
                        stopping.clone(),
                    );
                    tokio::spawn(conn);
                }
            }
            First::B(None) | First::C(()) => {}
        }
    }
}

/// One keep-alive connection: requests answered in order (pipelined ones too) until the client
/// closes, the node stops or the server stops. Over TLS, the handshake comes first (within the
/// header read timeout).
async fn connection(
    ctx: Arc<Context>,
    node: NodeIndex,
    stream: TcpStream,
    up: watch::Receiver<bool>,
    stopping: watch::Receiver<bool>,
) {
    // Without TCP_NODELAY each keep-alive answer would wait for the client's delayed ACK.
    let _ = stream.set_nodelay(true);
    #[cfg(feature = "tls")]
    if let Some(acceptor) = ctx.acceptor.clone() {
        if let Ok(Ok(stream)) =
            tokio::time::timeout(HEADER_READ_TIMEOUT, acceptor.accept(stream)).await
        {
            serve(ctx, node, stream, up, stopping).await;
        }
        return;
    }
    serve(ctx, node, stream, up, stopping).await;
}

async fn serve<S>(
    ctx: Arc<Context>,
    node: NodeIndex,
    stream: S,
    mut up: watch::Receiver<bool>,
    mut stopping: watch::Receiver<bool>,
) where
    S: tokio::io::AsyncRead + tokio::io::AsyncWrite + Unpin + Send + 'static,
{
    let service = service_fn(move |req| {
        let ctx = ctx.clone();
        async move { answer(&ctx, node, req).await }
    });
    let conn = http1::Builder::new()
        .timer(TokioTimer::new())
        .header_read_timeout(HEADER_READ_TIMEOUT)
        // Elasticsearch sends no Date header (and the simulation's time is virtual).
        .auto_date_header(false)
        .serve_connection(TokioIo::new(Answered::new(stream)), service);
    // Whichever comes first ends the connection (dropping it closes the socket).
    let _ = first(conn, up.wait_for(|up| !*up), stopping.changed()).await;
}

/// Which of three futures finished first.
enum First<A, B, C> {
    A(A),
    B(B),
    C(C),
}

/// Runs three futures until the first finishes, polled in order (tokio's `select!` without the
/// `macros` feature, which would add a proc-macro crate to the build).
async fn first<A: Future, B: Future, C: Future>(
    a: A,
    b: B,
    c: C,
) -> First<A::Output, B::Output, C::Output> {
    let (mut a, mut b, mut c) = (pin!(a), pin!(b), pin!(c));
    poll_fn(|cx| {
        if let Poll::Ready(x) = a.as_mut().poll(cx) {
            return Poll::Ready(First::A(x));
        }
        if let Poll::Ready(x) = b.as_mut().poll(cx) {
            return Poll::Ready(First::B(x));
        }
        if let Poll::Ready(x) = c.as_mut().poll(cx) {
            return Poll::Ready(First::C(x));
        }
        Poll::Pending
    })
    .await
}
