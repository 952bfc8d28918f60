//! `POST /-/reload` (and `PUT`, as in Prometheus): the lifecycle endpoint.
//!
//! - Off unless `--web.enable-lifecycle`: then `403 Lifecycle API is not
//!   enabled.`, Prometheus' answer. `SIGHUP` reloads either way.
//! - A browser request from another site (`Sec-Fetch-Site` other than
//!   `same-origin`/`none`, or an `Origin` that is not the `Host`) is refused
//!   with `403`: a web page cannot make a visitor's browser reload the
//!   exporter. Command-line clients send neither header.
//! - At most one reload per [`MIN_INTERVAL`]; others get `429` with
//!   `Retry-After`, and the refusals are logged once per interval, so
//!   repeated calls can flood neither the daemon nor its log.
//! - A refused config shows its problems (which name files) only to a
//!   caller that passed basic auth; anyone else gets a generic answer, and
//!   the problems are in the log.

use std::sync::Mutex;
use std::time::Duration;

use hyper::StatusCode;
use hyper::header::{self, HeaderValue};
use tokio::sync::oneshot;
use tokio::time::Instant;

use super::{Response, Web, text};
use crate::http::Request;
use crate::webconfig::Authenticated;

/// The shortest time between two reloads through the endpoint.
pub const MIN_INTERVAL: Duration = Duration::from_secs(1);

/// Prometheus' answer when the lifecycle endpoints are off.
pub const DISABLED: &str = "Lifecycle API is not enabled.";

/// The endpoint's rate limit.
#[derive(Debug, Default)]
pub struct ReloadGate {
    state: Mutex<GateState>,
}

#[derive(Debug, Default)]
struct GateState {
    /// When the last reload through the endpoint started.
    last: Option<Instant>,
    /// True once a refusal in the current interval was logged.
    logged: bool,
}

impl ReloadGate {
    /// `Ok` when a reload may start now (and records it), else how long
    /// until one may.
    fn try_start(&self) -> Result<(), Duration> {
        let now = Instant::now();
        let Ok(mut s) = self.state.lock() else {
            return Err(MIN_INTERVAL);
        };
        match s.last {
            Some(t) if now.saturating_duration_since(t) < MIN_INTERVAL => {
                if !s.logged {
                    s.logged = true;
                    tracing::warn!(interval = ?MIN_INTERVAL, "reload requests refused: at most one reload per interval through /-/reload");
                }
                Err(MIN_INTERVAL - now.saturating_duration_since(t))
            }
            _ => {
                *s = GateState {
                    last: Some(now),
                    logged: false,
                };
                Ok(())
            }
        }
    }
}

/// Answers `POST`/`PUT /-/reload`.
pub async fn handle(web: &Web, req: &Request) -> Response {
    if !web.lifecycle {
        return text(StatusCode::FORBIDDEN, DISABLED);
    }
    if cross_site(req) {
        tracing::warn!("reload request from another site refused");
        return text(
            StatusCode::FORBIDDEN,
            "reload refused: the request comes from another site\n",
        );
    }
    if let Err(wait) = web.reload_gate.try_start() {
        let mut r = text(
            StatusCode::TOO_MANY_REQUESTS,
            "reload refused: at most one reload per second\n",
        );
        let secs = wait.as_secs_f64().ceil().max(1.0) as u64;
        r.headers_mut()
            .insert(header::RETRY_AFTER, HeaderValue::from(secs));
        return r;
    }
    let (tx, rx) = oneshot::channel();
    if web.reload.send(tx).await.is_err() {
        return shutting_down();
    }
    match rx.await {
        Ok(Ok(())) => text(StatusCode::OK, "config reloaded\n"),
        Ok(Err(problems)) if req.extensions().get::<Authenticated>().is_some() => text(
            StatusCode::INTERNAL_SERVER_ERROR,
            format!("config not reloaded; the previous config keeps running:\n{problems}\n"),
        ),
        Ok(Err(_)) => text(
            StatusCode::INTERNAL_SERVER_ERROR,
            "config not reloaded; the previous config keeps running. \
             The problems are in the exporter's log.\n",
        ),
        Err(_) => shutting_down(),
    }
}

fn shutting_down() -> Response {
    text(
        StatusCode::SERVICE_UNAVAILABLE,
        "reload is not available: shutting down\n",
    )
}

/// True for a browser request made by a page of another site.
fn cross_site(req: &Request) -> bool {
    let h = req.headers();
    let value = |name: &str| h.get(name).and_then(|v| v.to_str().ok());
    if let Some(site) = value("sec-fetch-site") {
        return !matches!(site, "same-origin" | "none");
    }
    match (value("origin"), value("host")) {
        (None, _) => false,
        (Some(origin), Some(host)) => origin.split_once("://").map(|(_, rest)| rest) != Some(host),
        (Some(_), None) => true,
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[tokio::test(start_paused = true)]
    async fn one_reload_per_interval() {
        let gate = ReloadGate::default();
        assert_eq!(gate.try_start(), Ok(()));
        assert_eq!(gate.try_start(), Err(MIN_INTERVAL));
        tokio::time::advance(MIN_INTERVAL / 4).await;
        assert_eq!(gate.try_start(), Err(MIN_INTERVAL * 3 / 4));
        tokio::time::advance(MIN_INTERVAL).await;
        assert_eq!(gate.try_start(), Ok(()));
    }
}
