//! Connection threads: accepted connections are handed to a few threads,
//! each running a single-threaded runtime that serves its connections from
//! the first request to the close, as nginx's worker processes do.
//!
//! Why not the daemon's work-stealing runtime: under concurrent scrapes its
//! workers kept waking each other for work, and the kernel ran a worker
//! woken that way beside the one that woke it, so both took turns on one
//! core while the other core went to whatever else ran (docs/performance.md,
//! change 17). A connection that stays on one thread, registered with that
//! thread's own reactor, needs no other thread to be woken.
//!
//! Each connection goes to the thread serving the fewest connections at the
//! time, so concurrent scrapers are spread evenly instead of as the kernel's
//! wake-ups fall.

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use tokio::net::TcpStream;
use tokio::sync::mpsc;

/// What serves one connection: given the stream registered with the
/// serving thread's reactor, the future that serves it to the end.
pub(super) type Serve =
    Box<dyn FnOnce(TcpStream) -> Pin<Box<dyn Future<Output = ()> + Send>> + Send>;

/// One connection thread: where to send it connections, and how many it
/// serves now.
#[derive(Debug)]
struct Worker {
    tx: mpsc::UnboundedSender<(std::net::TcpStream, Serve)>,
    live: Arc<AtomicUsize>,
}

/// The connection threads of one listener. Dropping it ends them: each
/// thread's runtime is dropped with the connections still on it (the
/// caller's graceful shutdown has waited for those it waits for).
#[derive(Debug)]
pub(super) struct ConnThreads {
    workers: Vec<Worker>,
    /// Where the search for the least busy thread starts, so that ties go
    /// round the threads.
    next: usize,
}

/// Counts a connection as served by its thread until dropped (when it ends,
/// or is dropped with the thread's runtime).
struct Live(Arc<AtomicUsize>);

impl Drop for Live {
    fn drop(&mut self) {
        self.0.fetch_sub(1, Ordering::Relaxed);
    }
}

impl ConnThreads {
    /// Starts `n` ≥ 1 threads named `{name}-{i}`.
    pub(super) fn start(n: usize, name: &str) -> std::io::Result<Self> {
        let mut workers = Vec::with_capacity(n);
        for i in 0..n.max(1) {
            let runtime = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()?;
            let (tx, mut rx) = mpsc::unbounded_channel::<(std::net::TcpStream, Serve)>();
            let live = Arc::new(AtomicUsize::new(0));
            std::thread::Builder::new()
                .name(format!("{name}-{i}"))
                .spawn(move || {
                    runtime.block_on(async move {
                        while let Some((stream, serve)) = rx.recv().await {
                            spawn_here(stream, serve);
                        }
                    });
                })?;
            workers.push(Worker { tx, live });
        }
        Ok(Self { workers, next: 0 })
    }

    /// Hands `stream` to the thread serving the fewest connections, to be
    /// served by `serve` there. If the stream cannot be moved (it could
    /// not be taken off this runtime's reactor) the connection is dropped;
    /// if the thread is gone, it is served on the caller's runtime.
    pub(super) fn dispatch(&mut self, stream: TcpStream, serve: Serve) {
        let n = self.workers.len();
        let Some(i) = (0..n)
            .map(|k| (self.next + k) % n)
            .min_by_key(|&i| self.workers[i].live.load(Ordering::Relaxed))
        else {
            tokio::spawn(serve(stream));
            return;
        };
        self.next = (i + 1) % n;
        let w = &self.workers[i];
        let stream = match stream.into_std() {
            Ok(s) => s,
            Err(e) => {
                tracing::debug!(error = %e, "connection dropped: it could not be moved to a connection thread");
                return;
            }
        };
        w.live.fetch_add(1, Ordering::Relaxed);
        let live = Live(Arc::clone(&w.live));
        let item = (stream, wrap(serve, live));
        if let Err(mpsc::error::SendError((stream, serve))) = w.tx.send(item) {
            spawn_here(stream, serve);
        }
    }
}

/// `serve`, counting its connection in `live` until it ends.
fn wrap(serve: Serve, live: Live) -> Serve {
    Box::new(move |stream| {
        Box::pin(async move {
            let _live = live;
            serve(stream).await;
        })
    })
}

/// Registers `stream` with the current runtime's reactor and serves it on
/// that runtime.
fn spawn_here(stream: std::net::TcpStream, serve: Serve) {
    match TcpStream::from_std(stream) {
        Ok(s) => {
            tokio::spawn(serve(s));
        }
        Err(e) => tracing::debug!(error = %e, "connection dropped: it could not be registered"),
    }
}
