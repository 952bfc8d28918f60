//! A small hyper 1 server loop shared by the exporter and the simulator.
//!
//! It owns the parts every listener here needs and that hyper leaves to the
//! caller: a cap on concurrent connections, with a per-peer share and a
//! probe reserve ([`admission`]); limits on the requests and age of one
//! keep-alive connection ([`conn`]); a header read timeout (which
//! also closes idle keep-alive connections) and a write stall timeout
//! ([`stall`]), so a slow client cannot hold a connection forever; bounded
//! request heads (64 KiB: a head not complete by the read that passes that
//! bound gets 431; the read buffer grows by powers of two from 8 KiB, so at
//! most about 192 KiB is read); and a
//! graceful shutdown that lets in-flight requests finish; optionally TLS
//! ([`tls`]), with the handshake bounded by the header read timeout; and
//! optionally threads of its own that serve the connections ([`threads`]). A
//! handler that reads a request body bounds it itself (the simulator's
//! router does).

mod admission;
mod chunks;
mod conn;
mod stall;
mod threads;
mod tls;

pub use admission::{Admission, Lane, PeerKey, Ticket};
pub use chunks::Chunks;
pub use conn::PeerAddr;
pub use stall::StallGuard;
pub use tls::TlsSource;

use std::convert::Infallible;
use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use http_body_util::Either;
use hyper::body::Incoming;
use hyper::server::conn::http1;
use hyper::service::service_fn;
use hyper_util::rt::{TokioIo, TokioTimer};
use hyper_util::server::graceful::GracefulShutdown;
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::Semaphore;

use crate::shutdown::Shutdown;

/// The longest request head served; a longer one gets `431`.
const MAX_HEAD: usize = 64 * 1024;
/// Bytes of an answer queued (shared, not copied) before they are written:
/// hyper writes what it has queued whenever it reaches this, so a gzip
/// scrape of 20 environments (about 210 KB) goes out in one `writev`
/// instead of four, and the client is woken once per answer, not four
/// times. Also the read buffer's bound; request heads are bounded by
/// [`MAX_HEAD`].
const WRITE_QUEUE: usize = 256 * 1024;

/// The request type handlers receive.
pub type Request = hyper::Request<Incoming>;

/// Limits applied to every connection.
#[derive(Clone, Debug)]
pub struct ServeOptions {
    /// Normal connections served at once; when they and the probe reserve
    /// are taken, further clients wait in the listen backlog.
    pub max_connections: usize,
    /// Normal connections one peer ([`PeerKey`]) may hold; over it, its
    /// new connections go to the probe reserve or are refused with `503`.
    /// `None`: no per-peer share.
    pub max_connections_per_peer: Option<usize>,
    /// Extra slots for probe-lane connections: one request each, only on
    /// `probe_paths` (others get `503`), the head read within
    /// [`PROBE_READ_TIMEOUT`] at most.
    pub probe_reserve: usize,
    /// The paths the probe lane serves (health, readiness, metrics).
    pub probe_paths: Vec<String>,
    /// Requests served on one keep-alive connection; the last answer
    /// carries `Connection: close`. `None`: unlimited.
    pub max_requests_per_connection: Option<u64>,
    /// A connection's first answer after this age closes it. `None`: no limit.
    pub max_connection_age: Option<Duration>,
    /// Time a client has to send a complete request head (the next one, on
    /// an idle keep-alive connection).
    pub header_read_timeout: Duration,
    /// Longest a response write may wait for a client that stopped reading.
    pub write_stall_timeout: Duration,
    /// How long shutdown waits for in-flight requests before dropping them.
    pub shutdown_grace: Duration,
    /// TLS: every connection must complete a handshake (within
    /// `header_read_timeout`) first. `None`: plain HTTP.
    pub tls: Option<TlsSource>,
    /// Connection threads, each serving the connections it is given on a
    /// single-threaded runtime of its own ([`threads`]); 0 serves them on
    /// the caller's runtime.
    pub threads: usize,
}

/// The longest a probe-lane connection may take to send its request head
/// (and finish a TLS handshake), when the read timeout is longer: a probe
/// sends at once, so a silent client cannot sit on a reserve slot.
pub const PROBE_READ_TIMEOUT: Duration = Duration::from_secs(3);

impl Default for ServeOptions {
    fn default() -> Self {
        Self {
            max_connections: 256,
            max_connections_per_peer: None,
            probe_reserve: 0,
            probe_paths: Vec::new(),
            max_requests_per_connection: None,
            max_connection_age: None,
            header_read_timeout: Duration::from_secs(10),
            write_stall_timeout: Duration::from_secs(10),
            shutdown_grace: Duration::from_secs(5),
            tls: None,
            threads: 0,
        }
    }
}

/// Serves `handler` on `listener` until `shutdown` fires, then waits up to
/// `opts.shutdown_grace` for in-flight requests to finish. Every request
/// carries its connection's [`PeerAddr`] as an extension.
pub async fn serve<H, F, B>(
    listener: TcpListener,
    opts: ServeOptions,
    shutdown: Shutdown,
    handler: H,
) where
    H: Fn(Request) -> F + Clone + Send + Sync + 'static,
    F: Future<Output = hyper::Response<B>> + Send + 'static,
    B: hyper::body::Body<Data = Bytes> + Send + 'static,
    B::Error: Into<Box<dyn std::error::Error + Send + Sync>>,
{
    let admission = Admission::new(
        opts.max_connections,
        opts.max_connections_per_peer.unwrap_or(usize::MAX),
        opts.probe_reserve,
    );
    let permits = Arc::new(Semaphore::new(admission.capacity()));
    let limits = Arc::new(conn::Limits {
        max_requests: opts.max_requests_per_connection,
        max_age: opts.max_connection_age,
        probe_paths: opts.probe_paths.clone(),
    });
    let graceful = GracefulShutdown::new();
    let mut builder = http1::Builder::new();
    builder
        .timer(TokioTimer::new())
        .header_read_timeout(opts.header_read_timeout)
        .max_header_size(MAX_HEAD)
        .max_buf_size(WRITE_QUEUE);
    let probe_timeout = opts.header_read_timeout.min(PROBE_READ_TIMEOUT);
    let mut threads = match opts.threads {
        0 => None,
        n => match threads::ConnThreads::start(n, "http") {
            Ok(t) => Some(t),
            Err(e) => {
                tracing::warn!(error = %e, "cannot start connection threads; serving on the main runtime");
                None
            }
        },
    };
    let mut probe_builder = builder.clone();
    probe_builder
        .header_read_timeout(probe_timeout)
        .keep_alive(false);
    loop {
        // Take a permit before accepting so that, with every slot taken,
        // new clients wait in the kernel backlog instead of being accepted
        // and starved.
        let permit = tokio::select! {
            p = permits.clone().acquire_owned() => match p { Ok(p) => p, Err(_) => break },
            () = shutdown.wait() => break,
        };
        let (stream, peer) = tokio::select! {
            r = listener.accept() => match r {
                Ok(s) => s,
                Err(e) => {
                    // EMFILE and friends: back off briefly rather than spin.
                    tracing::warn!(error = %e, "accept failed");
                    tokio::time::sleep(Duration::from_millis(50)).await;
                    continue;
                }
            },
            () = shutdown.wait() => break,
        };
        let Some(ticket) = admission.admit(peer.ip()) else {
            tracing::debug!(%peer, "connection refused: the peer holds its share and the probe reserve is full");
            let tls = opts.tls.is_some();
            tokio::spawn(async move {
                conn::refuse(stream, tls).await;
                drop(permit);
            });
            continue;
        };
        let _ = stream.set_nodelay(true);
        let lane = ticket.lane();
        let state = Arc::new(conn::Conn::new(peer, lane, Arc::clone(&limits)));
        let h = handler.clone();
        let svc = service_fn(move |mut req: Request| {
            let (h, state) = (h.clone(), Arc::clone(&state));
            async move {
                req.extensions_mut().insert(state.peer());
                if !state.allows(req.uri().path()) {
                    return Ok::<_, Infallible>(conn::busy().map(Either::Right));
                }
                let last = state.last_request();
                let mut resp = h(req).await.map(Either::Left);
                if last {
                    conn::close_after(&mut resp);
                }
                Ok(resp)
            }
        });
        let (builder, timeout) = match lane {
            Lane::Normal => (builder.clone(), opts.header_read_timeout),
            Lane::Reserve => (probe_builder.clone(), probe_timeout),
        };
        let (stall, watcher) = (opts.write_stall_timeout, graceful.watcher());
        let tls = opts.tls.clone();
        let serve_conn = move |stream: TcpStream| async move {
            // Client errors (resets, header timeouts) are routine here.
            let ended = match tls {
                Some(tls) => match tls.accept(stream, timeout, stall).await {
                    Some(io) => {
                        watcher
                            .watch(builder.serve_connection(TokioIo::new(io), svc))
                            .await
                    }
                    None => Ok(()),
                },
                None => {
                    let io = StallGuard::new(stream, stall);
                    watcher
                        .watch(builder.serve_connection(TokioIo::new(io), svc))
                        .await
                }
            };
            if let Err(e) = ended {
                tracing::debug!(error = %e, "connection ended with an error");
            }
            drop((ticket, permit));
        };
        match threads.as_mut() {
            Some(t) => t.dispatch(stream, Box::new(move |s| Box::pin(serve_conn(s)))),
            None => {
                tokio::spawn(serve_conn(stream));
            }
        }
    }
    drop(listener);
    if tokio::time::timeout(opts.shutdown_grace, graceful.shutdown())
        .await
        .is_err()
    {
        tracing::warn!(grace = ?opts.shutdown_grace, "in-flight requests did not finish before the shutdown grace period");
    }
    // Ends the connection threads, with what is left on them.
    drop(threads);
}

#[cfg(test)]
mod tests;
