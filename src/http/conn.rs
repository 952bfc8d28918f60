//! Per-connection rules applied around the handler: the peer address as a
//! request extension, the probe lane's path filter, and the request and
//! age limits that close a keep-alive connection (`Connection: close` on
//! its last answer) so no client holds a slot for ever.

use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use bytes::Bytes;
use hyper::StatusCode;
use hyper::header::{self, HeaderValue};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use tokio::time::Instant;

use super::Chunks;
use super::admission::Lane;

/// The address of the peer a request came from: a request extension the
/// server loop adds to every request.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct PeerAddr(pub SocketAddr);

/// The limits every connection shares.
#[derive(Debug)]
pub(super) struct Limits {
    /// Requests served on one connection before it is closed.
    pub max_requests: Option<u64>,
    /// Age after which a connection's next answer closes it.
    pub max_age: Option<Duration>,
    /// The only paths the probe lane serves.
    pub probe_paths: Vec<String>,
}

/// One connection's state.
#[derive(Debug)]
pub(super) struct Conn {
    peer: SocketAddr,
    lane: Lane,
    started: Instant,
    served: AtomicU64,
    limits: Arc<Limits>,
}

impl Conn {
    pub(super) fn new(peer: SocketAddr, lane: Lane, limits: Arc<Limits>) -> Self {
        Self {
            peer,
            lane,
            started: Instant::now(),
            served: AtomicU64::new(0),
            limits,
        }
    }

    pub(super) fn peer(&self) -> PeerAddr {
        PeerAddr(self.peer)
    }

    /// False when this is a probe-lane connection and `path` is no probe.
    pub(super) fn allows(&self, path: &str) -> bool {
        self.lane == Lane::Normal || self.limits.probe_paths.iter().any(|p| p == path)
    }

    /// Counts a request; true when its answer must close the connection.
    pub(super) fn last_request(&self) -> bool {
        let n = self.served.fetch_add(1, Ordering::Relaxed) + 1;
        self.lane == Lane::Reserve
            || self.limits.max_requests.is_some_and(|max| n >= max)
            || self
                .limits
                .max_age
                .is_some_and(|age| self.started.elapsed() >= age)
    }
}

/// Marks `resp` as the connection's last answer.
pub(super) fn close_after<B>(resp: &mut hyper::Response<B>) {
    resp.headers_mut()
        .insert(header::CONNECTION, HeaderValue::from_static("close"));
}

const BUSY: &str = "Too many connections from your address; only health, readiness and \
                    metrics requests are served on a new connection now. Retry later.\n";

/// The probe lane's answer to any other path: `503` with `Retry-After`.
pub(super) fn busy() -> hyper::Response<Chunks> {
    let mut r = hyper::Response::new(Chunks::new(vec![Bytes::from_static(BUSY.as_bytes())]));
    *r.status_mut() = StatusCode::SERVICE_UNAVAILABLE;
    let h = r.headers_mut();
    h.insert(header::RETRY_AFTER, HeaderValue::from_static("1"));
    h.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("text/plain; charset=utf-8"),
    );
    close_after(&mut r);
    r
}

/// Answers a connection no lane took with a plain `503` and closes it,
/// within a second. Over TLS it is only closed: no handshake is spent.
pub(super) async fn refuse(stream: TcpStream, tls: bool) {
    if tls {
        return;
    }
    answer_and_close(
        stream,
        "503 Service Unavailable",
        "Retry-After: 1\r\n",
        "Too many connections from your address. Retry later.\n",
    )
    .await;
}

/// Writes one plain-text HTTP/1.1 answer (`status`, then `headers`, each
/// line ending in CRLF, then `body`) straight to a connection hyper never
/// saw, and closes it, within a second.
pub(super) async fn answer_and_close(
    mut stream: TcpStream,
    status: &str,
    headers: &str,
    body: &str,
) {
    let answer = format!(
        "HTTP/1.1 {status}\r\nContent-Type: text/plain; charset=utf-8\r\n\
         {headers}Content-Length: {}\r\nConnection: close\r\n\r\n{body}",
        body.len()
    );
    let _ = tokio::time::timeout(Duration::from_secs(1), async {
        stream.write_all(answer.as_bytes()).await?;
        stream.shutdown().await?;
        // Read what the client sent before closing: closing with unread
        // data resets the connection, and the client could lose the answer.
        let mut sink = [0u8; 4096];
        while stream.read(&mut sink).await? > 0 {}
        Ok::<_, std::io::Error>(())
    })
    .await;
}
