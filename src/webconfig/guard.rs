//! [`WebGuard`]: the web configuration in force, reloaded when its files
//! change, and the request wrapper that enforces it.

use std::future::Future;
use std::os::unix::fs::MetadataExt;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::SystemTime;

use arc_swap::ArcSwap;
use bytes::Bytes;
use hyper::StatusCode;
use hyper::header::{self, HeaderValue};

use super::{Authenticator, Verdict, WebConfig};
use crate::config::ConfigError;
use crate::http::{Chunks, PeerAddr, Request, TlsSource};

/// What `stat` says about each watched file (`None`: missing).
type Stamp = Vec<Option<(SystemTime, u64, u64)>>;

struct Active {
    config: Arc<WebConfig>,
    stamp: Stamp,
}

/// The web configuration in force; see the module documentation.
pub struct WebGuard {
    path: PathBuf,
    current: ArcSwap<Active>,
    /// Held while reloading; also remembers the last stamp that failed to
    /// load, so a bad file is read and logged once, not on every request.
    reload: Mutex<Option<Stamp>>,
    auth: Authenticator,
}

impl std::fmt::Debug for WebGuard {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("WebGuard")
            .field("path", &self.path)
            .field("config", &self.current.load().config)
            .finish_non_exhaustive()
    }
}

fn stamp(path: &Path, files: &[PathBuf]) -> Stamp {
    std::iter::once(path)
        .chain(files.iter().map(PathBuf::as_path))
        .map(|p| {
            std::fs::metadata(p).ok().map(|m| {
                (
                    m.modified().unwrap_or(SystemTime::UNIX_EPOCH),
                    m.len(),
                    m.ino(),
                )
            })
        })
        .collect()
}

impl WebGuard {
    /// Loads the web config file at `path`; its problems are the error.
    pub fn load(path: &Path) -> Result<Arc<Self>, ConfigError> {
        let config = super::load(path)?;
        let stamp = stamp(path, &config.files);
        Ok(Arc::new(Self {
            path: path.to_path_buf(),
            current: ArcSwap::from_pointee(Active {
                config: Arc::new(config),
                stamp,
            }),
            reload: Mutex::new(None),
            auth: Authenticator::new(),
        }))
    }

    /// The configuration in force, after loading the files again if one
    /// of them changed since they were last read.
    pub fn current(&self) -> Arc<WebConfig> {
        let active = self.current.load();
        let now = stamp(&self.path, &active.config.files);
        if now == active.stamp {
            return Arc::clone(&active.config);
        }
        // Another request is reloading: use what is in force meanwhile.
        let Ok(mut rejected) = self.reload.try_lock() else {
            return Arc::clone(&active.config);
        };
        if rejected.as_ref() == Some(&now) {
            return Arc::clone(&active.config);
        }
        match super::load(&self.path)
            .map_err(|e| e.to_string())
            .and_then(|c| {
                if c.tls.is_some() == active.config.tls.is_some() {
                    Ok(c)
                } else {
                    Err("switching between plain HTTP and TLS needs a restart".to_string())
                }
            }) {
            Ok(config) => {
                let stamp = if config.files == active.config.files {
                    now // taken before reading: a change during the read shows next time
                } else {
                    stamp(&self.path, &config.files)
                };
                for w in &config.warnings {
                    tracing::warn!(warning = %w, "web configuration");
                }
                tracing::info!(web_config = %config.summary(), "web configuration reloaded");
                let config = Arc::new(config);
                self.current.store(Arc::new(Active {
                    config: Arc::clone(&config),
                    stamp,
                }));
                *rejected = None;
                config
            }
            Err(problems) => {
                tracing::error!(problems = %problems, "web configuration reload failed; the previous web configuration stays in force");
                *rejected = Some(now);
                Arc::clone(&active.config)
            }
        }
    }

    /// The TLS configuration source for the server, `None` for plain HTTP.
    pub fn tls_source(self: &Arc<Self>) -> Option<TlsSource> {
        let initial = self.current.load().config.tls.as_ref()?.server.clone();
        let guard = Arc::clone(self);
        Some(TlsSource::new(move || {
            guard
                .current()
                .tls
                .as_ref()
                .map_or_else(|| Arc::clone(&initial), |t| Arc::clone(&t.server))
        }))
    }

    /// The credential checker (its counters are for tests).
    pub fn authenticator(&self) -> &Authenticator {
        &self.auth
    }

    /// Serves `req` with `next` when it passes basic auth (if users are
    /// configured), adding the configured headers to the answer either
    /// way. Refusals: `401` with `WWW-Authenticate`, `429` (the address's
    /// failure budget is spent) or `503` (the bcrypt queue is full), the
    /// last two with `Retry-After`; each closes the connection.
    pub async fn handle<F, Fut, B>(&self, mut req: Request, next: F) -> hyper::Response<B>
    where
        F: FnOnce(Request) -> Fut,
        Fut: Future<Output = hyper::Response<B>>,
        B: From<Chunks>,
    {
        let config = self.current();
        let verdict = if config.users.is_empty() {
            None
        } else {
            let peer = req.extensions().get::<PeerAddr>().map(|p| p.0.ip());
            let header = req.headers().get(header::AUTHORIZATION);
            Some(self.auth.check(&config.users, header, peer).await)
        };
        let mut resp = match verdict {
            None => next(req).await,
            Some(Verdict::Allowed) => {
                req.extensions_mut().insert(Authenticated);
                next(req).await
            }
            Some(refused) => {
                tracing::debug!(path = %req.uri().path(), verdict = ?refused, "request refused: basic auth");
                refusal(refused).map(B::from)
            }
        };
        for (name, value) in &config.headers {
            resp.headers_mut().insert(name.clone(), value.clone());
        }
        resp
    }
}

/// Marks a request whose basic-auth credentials were checked and valid (a
/// request extension). Absent when no users are configured: then the
/// caller is anonymous, and answers must not show it internals.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Authenticated;

fn refusal(verdict: Verdict) -> hyper::Response<Chunks> {
    let (status, body, retry_after) = match verdict {
        Verdict::TooManyFailures(wait) => (
            StatusCode::TOO_MANY_REQUESTS,
            "Too many failed logins from your address\n",
            Some(wait.as_secs().max(1)),
        ),
        Verdict::Busy => (
            StatusCode::SERVICE_UNAVAILABLE,
            "Too many logins being checked; retry later\n",
            Some(1),
        ),
        Verdict::Allowed | Verdict::Denied => (StatusCode::UNAUTHORIZED, "Unauthorized\n", None),
    };
    let mut r = hyper::Response::new(Chunks::new(vec![Bytes::from_static(body.as_bytes())]));
    *r.status_mut() = status;
    let h = r.headers_mut();
    if status == StatusCode::UNAUTHORIZED {
        h.insert(
            header::WWW_AUTHENTICATE,
            HeaderValue::from_static("Basic realm=\"pingone-sync-exporter\", charset=\"UTF-8\""),
        );
    }
    if let Some(secs) = retry_after {
        h.insert(header::RETRY_AFTER, HeaderValue::from(secs));
    }
    h.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("text/plain; charset=utf-8"),
    );
    // A client refused here does not keep its connection.
    h.insert(header::CONNECTION, HeaderValue::from_static("close"));
    r
}

/// Serves `req` through `guard` when there is one, else straight to `next`.
pub async fn guarded<F, Fut, B>(
    guard: Option<Arc<WebGuard>>,
    req: Request,
    next: F,
) -> hyper::Response<B>
where
    F: FnOnce(Request) -> Fut,
    Fut: Future<Output = hyper::Response<B>>,
    B: From<Chunks>,
{
    match guard {
        Some(g) => g.handle(req, next).await,
        None => next(req).await,
    }
}
