//! TLS for [`serve`](super::serve): an optional handshake between accept
//! and hyper.
//!
//! Each connection takes the rustls configuration its [`TlsSource`] returns
//! at that moment (so rotated certificates apply to new connections), and
//! must finish its handshake within the read timeout: a client that opens
//! a connection and sends nothing, or trickles a handshake, loses its slot
//! like a slow request head does. A client that speaks plain HTTP to the
//! TLS port gets a plain `400` saying so (as Go's servers answer) and the
//! connection is closed: it never reaches a route.

use std::sync::Arc;
use std::time::Duration;

use tokio::net::TcpStream;
use tokio_rustls::TlsAcceptor;
use tokio_rustls::server::TlsStream;

use super::StallGuard;
use super::conn::answer_and_close;

/// Where each new connection gets its TLS configuration.
#[derive(Clone)]
pub struct TlsSource(Arc<dyn Fn() -> Arc<rustls::ServerConfig> + Send + Sync>);

impl TlsSource {
    /// A source calling `f` once per connection.
    pub fn new(f: impl Fn() -> Arc<rustls::ServerConfig> + Send + Sync + 'static) -> Self {
        Self(Arc::new(f))
    }

    /// Completes the server side of a handshake on `stream` within
    /// `timeout`; `None` (after answering a plain HTTP request with 400)
    /// when it fails.
    pub(super) async fn accept(
        &self,
        stream: TcpStream,
        timeout: Duration,
        stall: Duration,
    ) -> Option<TlsStream<StallGuard<TcpStream>>> {
        let peer = stream.peer_addr().ok();
        let deadline = tokio::time::Instant::now() + timeout;
        let mut first = [0u8; 1];
        match tokio::time::timeout_at(deadline, stream.peek(&mut first)).await {
            Ok(Ok(1)) if first[0] == 0x16 => {} // a TLS handshake record
            Ok(Ok(1)) if first[0].is_ascii_uppercase() => {
                plain_http_refused(stream).await;
                tracing::debug!(peer = ?peer, "plain HTTP request on the TLS port refused");
                return None;
            }
            _ => {
                tracing::debug!(peer = ?peer, "connection closed: no TLS handshake");
                return None;
            }
        }
        let acceptor = TlsAcceptor::from((self.0)());
        let io = StallGuard::new(stream, stall);
        match tokio::time::timeout_at(deadline, acceptor.accept(io)).await {
            Ok(Ok(tls)) => Some(tls),
            Ok(Err(e)) => {
                tracing::debug!(peer = ?peer, error = %e, "TLS handshake failed");
                None
            }
            Err(_) => {
                tracing::debug!(peer = ?peer, ?timeout, "TLS handshake timed out");
                None
            }
        }
    }
}

impl std::fmt::Debug for TlsSource {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("TlsSource")
    }
}

async fn plain_http_refused(stream: TcpStream) {
    answer_and_close(
        stream,
        "400 Bad Request",
        "",
        "Client sent an HTTP request to an HTTPS server.\n",
    )
    .await;
}
