//! `--web.listen-address` parsing, Prometheus style: `:PORT` means every
//! interface; `HOST:PORT` and `[IPv6]:PORT` bind there.

use std::net::SocketAddr;

use tokio::net::TcpListener;

/// Why an address could not be used.
#[derive(Debug, thiserror::Error)]
pub enum ListenError {
    /// Not `:PORT`, `HOST:PORT` or `[IPv6]:PORT`.
    #[error("listen address {0:?}: expected :PORT, HOST:PORT or [IPv6]:PORT")]
    Syntax(String),
    /// The host did not resolve.
    #[error("listen address {addr:?}: {source}")]
    Resolve {
        /// The address given.
        addr: String,
        /// The resolver's error.
        source: std::io::Error,
    },
    /// Binding failed (in use, permission).
    #[error("cannot listen on {addr}: {source}")]
    Bind {
        /// The address tried.
        addr: String,
        /// The OS error.
        source: std::io::Error,
    },
}

/// Resolves a `HOST:PORT` (or `:PORT`, meaning all IPv4 interfaces) to one
/// socket address.
pub async fn resolve(addr: &str) -> Result<SocketAddr, ListenError> {
    let full = if let Some(port) = addr.strip_prefix(':') {
        format!("0.0.0.0:{port}")
    } else {
        addr.to_string()
    };
    if let Ok(a) = full.parse::<SocketAddr>() {
        return Ok(a);
    }
    if !full.contains(':') {
        return Err(ListenError::Syntax(addr.to_string()));
    }
    tokio::net::lookup_host(&full)
        .await
        .map_err(|source| ListenError::Resolve {
            addr: addr.to_string(),
            source,
        })?
        .next()
        .ok_or_else(|| ListenError::Syntax(addr.to_string()))
}

/// Binds the listener. `:PORT` binds the IPv6 wildcard (which also takes
/// IPv4 on Linux) and falls back to `0.0.0.0` where IPv6 is off.
pub async fn bind(addr: &str) -> Result<TcpListener, ListenError> {
    if let Some(port) = addr.strip_prefix(':') {
        let port: u16 = port
            .parse()
            .map_err(|_| ListenError::Syntax(addr.to_string()))?;
        if let Ok(l) = TcpListener::bind(("::", port)).await {
            return Ok(l);
        }
        return TcpListener::bind(("0.0.0.0", port))
            .await
            .map_err(|source| ListenError::Bind {
                addr: addr.to_string(),
                source,
            });
    }
    let resolved = resolve(addr).await?;
    TcpListener::bind(resolved)
        .await
        .map_err(|source| ListenError::Bind {
            addr: resolved.to_string(),
            source,
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn accepts_prometheus_address_forms() {
        assert_eq!(resolve(":9871").await.unwrap().port(), 9871);
        assert_eq!(
            resolve("127.0.0.1:80").await.unwrap().to_string(),
            "127.0.0.1:80"
        );
        assert_eq!(resolve("[::1]:80").await.unwrap().to_string(), "[::1]:80");
        assert!(matches!(
            resolve("nonsense").await,
            Err(ListenError::Syntax(_))
        ));
        let l = bind("127.0.0.1:0").await.unwrap();
        assert!(l.local_addr().unwrap().port() > 0);
        assert!(bind(":notaport").await.is_err());
    }
}
