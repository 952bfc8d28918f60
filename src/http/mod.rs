//! A small hyper 1 server loop shared by the exporter and the simulator.
//!
//! It owns the parts every listener here needs and that hyper leaves to the
//! caller: a cap on concurrent connections, a header read timeout (which
//! also closes idle keep-alive connections) and a write stall timeout
//! ([`stall`]), so a slow client cannot hold a connection forever; bounded
//! request heads (a 64 KiB read buffer: a head that does not fit after the
//! read that overflows it, so at most about 128 KiB, gets 431); and a
//! graceful shutdown that lets in-flight requests finish; optionally TLS
//! ([`tls`]), with the handshake bounded by the header read timeout. A
//! handler that reads a request body bounds it itself (the simulator's
//! router does).

mod stall;
mod tls;

pub use stall::StallGuard;
pub use tls::TlsSource;

use std::convert::Infallible;
use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use hyper::body::Incoming;
use hyper::server::conn::http1;
use hyper::service::service_fn;
use hyper_util::rt::{TokioIo, TokioTimer};
use hyper_util::server::graceful::GracefulShutdown;
use tokio::net::TcpListener;
use tokio::sync::Semaphore;

use crate::shutdown::Shutdown;

/// The request type handlers receive.
pub type Request = hyper::Request<Incoming>;

/// A body made of ready buffers, sent in order without copying them into
/// one: lets a scrape send pre-rendered blocks shared with other scrapes.
#[derive(Debug, Default)]
pub struct Chunks {
    chunks: std::collections::VecDeque<Bytes>,
    remaining: u64,
}

impl Chunks {
    /// A body from buffers.
    pub fn new(chunks: Vec<Bytes>) -> Self {
        let remaining = chunks.iter().map(|c| c.len() as u64).sum();
        Self {
            chunks: chunks.into_iter().filter(|c| !c.is_empty()).collect(),
            remaining,
        }
    }
}

impl hyper::body::Body for Chunks {
    type Data = Bytes;
    type Error = Infallible;

    fn poll_frame(
        mut self: std::pin::Pin<&mut Self>,
        _cx: &mut std::task::Context<'_>,
    ) -> std::task::Poll<Option<Result<hyper::body::Frame<Bytes>, Infallible>>> {
        let next = self.chunks.pop_front();
        if let Some(c) = &next {
            self.remaining -= c.len() as u64;
        }
        std::task::Poll::Ready(next.map(|c| Ok(hyper::body::Frame::data(c))))
    }

    fn is_end_stream(&self) -> bool {
        self.chunks.is_empty()
    }

    fn size_hint(&self) -> hyper::body::SizeHint {
        hyper::body::SizeHint::with_exact(self.remaining)
    }
}

/// Limits applied to every connection.
#[derive(Clone, Debug)]
pub struct ServeOptions {
    /// Connections served at once; further clients wait in the listen backlog.
    pub max_connections: usize,
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
}

impl Default for ServeOptions {
    fn default() -> Self {
        Self {
            max_connections: 256,
            header_read_timeout: Duration::from_secs(10),
            write_stall_timeout: Duration::from_secs(10),
            shutdown_grace: Duration::from_secs(5),
            tls: None,
        }
    }
}

/// Serves `handler` on `listener` until `shutdown` fires, then waits up to
/// `opts.shutdown_grace` for in-flight requests to finish.
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
    let permits = Arc::new(Semaphore::new(opts.max_connections.max(1)));
    let graceful = GracefulShutdown::new();
    let mut builder = http1::Builder::new();
    builder
        .timer(TokioTimer::new())
        .header_read_timeout(opts.header_read_timeout)
        .max_buf_size(64 * 1024);
    loop {
        // Take a permit before accepting so that, at the cap, new clients
        // wait in the kernel backlog instead of being accepted and starved.
        let permit = tokio::select! {
            p = permits.clone().acquire_owned() => match p { Ok(p) => p, Err(_) => break },
            () = shutdown.wait() => break,
        };
        let (stream, _peer) = tokio::select! {
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
        let _ = stream.set_nodelay(true);
        let h = handler.clone();
        let svc = service_fn(move |req| {
            let h = h.clone();
            async move { Ok::<_, Infallible>(h(req).await) }
        });
        if let Some(tls) = &opts.tls {
            let (tls, builder, watcher) = (tls.clone(), builder.clone(), graceful.watcher());
            let (timeout, stall) = (opts.header_read_timeout, opts.write_stall_timeout);
            tokio::spawn(async move {
                if let Some(io) = tls.accept(stream, timeout, stall).await {
                    let conn = watcher.watch(builder.serve_connection(TokioIo::new(io), svc));
                    if let Err(e) = conn.await {
                        tracing::debug!(error = %e, "connection ended with an error");
                    }
                }
                drop(permit);
            });
            continue;
        }
        let io = StallGuard::new(stream, opts.write_stall_timeout);
        let conn = builder.serve_connection(TokioIo::new(io), svc);
        let conn = graceful.watch(conn);
        tokio::spawn(async move {
            // Client errors (resets, header timeouts) are routine here.
            if let Err(e) = conn.await {
                tracing::debug!(error = %e, "connection ended with an error");
            }
            drop(permit);
        });
    }
    drop(listener);
    if tokio::time::timeout(opts.shutdown_grace, graceful.shutdown())
        .await
        .is_err()
    {
        tracing::warn!(grace = ?opts.shutdown_grace, "in-flight requests did not finish before the shutdown grace period");
    }
}
