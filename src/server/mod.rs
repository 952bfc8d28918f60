//! The exporter's HTTP endpoints (README, "Endpoints").
//!
//! | path | methods | answer |
//! |---|---|---|
//! | telemetry path (`/metrics`) | GET, HEAD | the cached metrics; never calls PingOne |
//! | `/-/healthy` | GET, HEAD | 200 while the process runs |
//! | `/-/ready` | GET, HEAD | 200 once every environment finished its first poll, else 503 |
//! | `/-/reload` | POST, PUT | with `--web.enable-lifecycle`, re-reads the config file: 200, or 500 ([`reload`]); else 403 |
//! | `/` | GET, HEAD | the sync summary page ([`summary`]) |
//! | `/environments/{environment id}` | GET, HEAD | one environment's table; 404 for an unknown one |
//! | `/rules/{environment id}/{rule id}` | GET, HEAD | one rule's page; 404 for an unknown rule |
//! | `/api/v1/status` | GET, HEAD | the sync summary as JSON |
//!
//! Other methods on these paths get 405 with `Allow`; other paths 404.

mod body;
pub mod landing;
mod recent;
pub mod reload;
pub mod summary;
#[cfg(test)]
pub(crate) mod testing;

pub use body::Body;
pub use recent::RecentAnswers;
pub use reload::ReloadGate;

use std::sync::Arc;

use bytes::Bytes;
use hyper::header::{self, HeaderValue};
use hyper::{Method, StatusCode};
use tokio::sync::{mpsc, oneshot};

use crate::alerting::AlertStatus;
use crate::collector;
use crate::exposition::{Encoding, Format, LiveSink, negotiate};
use crate::http::{Chunks, Request};
use crate::plan::status::PlanStatus;
use crate::state::{EnvState, Shared};
use crate::timefmt::now_unix;

/// A reload request from `POST /-/reload`: the answer channel gets `Ok` or
/// the config problems as text.
pub type ReloadRequest = oneshot::Sender<Result<(), String>>;

/// What the handlers need.
#[derive(Debug)]
pub struct Web {
    /// Snapshots and self-metrics.
    pub shared: Arc<Shared>,
    /// The alert sender's series and firing alerts (the same one the
    /// alerting task writes).
    pub alerts: Arc<AlertStatus>,
    /// Where metrics are served, e.g. `/metrics`.
    pub telemetry_path: String,
    /// Sends reload requests to the daemon.
    pub reload: mpsc::Sender<ReloadRequest>,
    /// `--web.enable-lifecycle`: `/-/reload` reloads (else it answers 403).
    pub lifecycle: bool,
    /// The reload endpoint's rate limit.
    pub reload_gate: ReloadGate,
    /// Extra lines for the landing page (mode, config file).
    pub about: Vec<(String, String)>,
    /// What the status pages know beyond the snapshots (links, refresh).
    pub page: Arc<summary::PageSettings>,
    /// The request plan's series (the same one the daemon's planner sets).
    pub plan: Arc<PlanStatus>,
    /// What gzip scrapes keep between them.
    pub gzip: collector::GzipCache,
    /// The last gzip answer of each format, for the scrapes of the same
    /// millisecond.
    pub recent: RecentAnswers<Vec<Arc<EnvState>>>,
}

/// The response type of this server.
pub type Response = hyper::Response<Body>;

fn text(status: StatusCode, body: impl Into<Bytes>) -> Response {
    let mut r = hyper::Response::new(Chunks::new(vec![body.into()]).into());
    *r.status_mut() = status;
    r.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("text/plain; charset=utf-8"),
    );
    r
}

fn method_not_allowed(allow: &'static str) -> Response {
    let mut r = text(
        StatusCode::METHOD_NOT_ALLOWED,
        format!("method not allowed; use {allow}\n"),
    );
    r.headers_mut()
        .insert(header::ALLOW, HeaderValue::from_static(allow));
    r
}

fn strip_body(mut r: Response) -> Response {
    // HEAD: same headers, no body. Content-Length stays as for GET.
    let len = hyper::body::Body::size_hint(r.body()).exact().unwrap_or(0);
    *r.body_mut() = Body::default();
    r.headers_mut()
        .insert(header::CONTENT_LENGTH, HeaderValue::from(len));
    r
}

/// Routes one request.
pub async fn handle(web: Arc<Web>, req: Request) -> Response {
    let path = req.uri().path().to_string();
    let method = req.method().clone();
    let is_read = method == Method::GET || method == Method::HEAD;
    let resp = if path == web.telemetry_path {
        if is_read {
            metrics(&web, &req)
        } else {
            method_not_allowed("GET, HEAD")
        }
    } else {
        match path.as_str() {
            "/-/healthy" if is_read => text(StatusCode::OK, "Healthy\n"),
            "/-/ready" if is_read => ready(&web),
            "/-/reload" if method == Method::POST || method == Method::PUT => {
                reload::handle(&web, &req).await
            }
            "/" if is_read => summary::offload(Arc::clone(&web), summary::summary).await,
            "/api/v1/status" if is_read => {
                summary::offload(Arc::clone(&web), summary::status_json).await
            }
            "/-/healthy" | "/-/ready" | "/" | "/api/v1/status" => method_not_allowed("GET, HEAD"),
            p if p.starts_with("/rules/") || p.starts_with("/environments/") => {
                if !is_read {
                    method_not_allowed("GET, HEAD")
                } else if let Some(rest) = p.strip_prefix("/rules/") {
                    let rest = rest.to_string();
                    summary::offload(Arc::clone(&web), move |w| summary::rule_page(w, &rest)).await
                } else {
                    let rest = p["/environments/".len()..].to_string();
                    summary::offload(Arc::clone(&web), move |w| {
                        summary::environment_page(w, &rest)
                    })
                    .await
                }
            }
            "/-/reload" => method_not_allowed("POST, PUT"),
            _ => text(StatusCode::NOT_FOUND, "not found\n"),
        }
    };
    if method == Method::HEAD {
        strip_body(resp)
    } else {
        resp
    }
}

fn ready(web: &Web) -> Response {
    let r = web.shared.readiness();
    if r.is_ready() {
        text(StatusCode::OK, "Ready\n")
    } else {
        text(
            StatusCode::SERVICE_UNAVAILABLE,
            format!(
                "Not ready: waiting for the first poll of {} of {} environment(s)\n",
                r.waiting, r.configured
            ),
        )
    }
}

fn metrics(web: &Web, req: &Request) -> Response {
    let header_str = |h: header::HeaderName| req.headers().get(h).and_then(|v| v.to_str().ok());
    let (format, encoding) = negotiate(
        header_str(header::ACCEPT),
        header_str(header::ACCEPT_ENCODING),
    );
    // Every answer is as of its millisecond (the ages' last digit), so
    // that the scrapes of one millisecond may share a gzip answer.
    let ms = recent::millisecond(now_unix());
    let now = ms as f64 / 1000.0;
    let (body, gzip) = match encoding {
        Encoding::Identity => (plain_answer(web, format, now), false),
        Encoding::Gzip => match gzip_answer(web, format, ms, || recent::millisecond(now_unix())) {
            Some(z) => (Chunks::new(z).into(), true),
            // Compression into memory cannot really fail; serve plain if so.
            None => (plain_answer(web, format, now), false),
        },
    };
    let mut r = hyper::Response::new(body);
    let h = r.headers_mut();
    h.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static(format.content_type()),
    );
    h.insert(
        header::VARY,
        HeaderValue::from_static("Accept, Accept-Encoding"),
    );
    if gzip {
        h.insert(header::CONTENT_ENCODING, HeaderValue::from_static("gzip"));
    }
    r
}

/// Writes the families kept in memory at time `now`, each by its owner:
/// the exporter's own metrics, the alert sender's series, the request
/// plan's (whose ages are taken against `envs`).
fn live<'a>(
    web: &'a Web,
    format: Format,
    envs: &'a [Arc<EnvState>],
    now: f64,
) -> impl FnOnce(&mut dyn LiveSink) + 'a {
    move |out: &mut dyn LiveSink| {
        web.shared.metrics.encode_live(format, out);
        web.alerts.encode(format, out.text());
        web.plan.encode(format, out, envs, now);
    }
}

/// The plain `/metrics` answer at time `now` (Unix seconds), written as
/// the connection takes it.
fn plain_answer(web: &Web, format: Format, now: f64) -> Body {
    let envs = web.shared.envs();
    let rendered = Shared::rendered_of(&envs);
    Body::Metrics(Box::new(collector::scrape(
        format,
        rendered,
        now,
        live(web, format, &envs, now),
    )))
}

/// The gzip `/metrics` answer as of Unix time `ms` (whole milliseconds):
/// the one another scrape made in that millisecond from the same
/// snapshots, or a new one ([`recent`]), kept if `clock` (the time in
/// whole milliseconds) says it was finished within `ms`. `None` if
/// compression failed.
fn gzip_answer(
    web: &Web,
    format: Format,
    ms: u64,
    clock: impl FnOnce() -> u64,
) -> Option<Vec<Bytes>> {
    let envs = web.shared.envs();
    let miss = match web.recent.get(format, ms, &envs) {
        Ok(kept) => return Some(kept),
        Err(miss) => miss,
    };
    let now = ms as f64 / 1000.0;
    let rendered = Shared::rendered_of(&envs);
    let answer = collector::gzip(
        format,
        rendered,
        now,
        &web.gzip,
        live(web, format, &envs, now),
    )
    .ok()?;
    web.recent.keep(format, miss, (ms, clock()), &envs, &answer);
    Some(answer)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::server::testing::{keys, set_rules, web};

    fn gunzip(parts: &[Bytes]) -> String {
        let mut text = String::new();
        std::io::Read::read_to_string(
            &mut flate2::read::GzDecoder::new(&parts.concat()[..]),
            &mut text,
        )
        .unwrap();
        text
    }

    fn plain(web: &Web, format: Format, ms: u64) -> String {
        let Body::Metrics(e) = plain_answer(web, format, ms as f64 / 1000.0) else {
            panic!("a plain answer is written as sent");
        };
        String::from_utf8(e.collect::<Vec<_>>().concat()).unwrap()
    }

    fn same(a: &[Bytes], b: &[Bytes]) -> bool {
        a.len() == b.len() && a.iter().zip(b).all(|(x, y)| x.as_ptr() == y.as_ptr())
    }

    #[test]
    fn gzip_scrapes_of_one_millisecond_share_its_answer() {
        let web = web(3);
        let ms = 1_000_000_123;
        let first = gzip_answer(&web, Format::Text, ms, || ms).unwrap();
        let text = gunzip(&first);
        assert!(text.contains("_age_seconds{"), "{text}");
        assert_eq!(
            text,
            plain(&web, Format::Text, ms),
            "as a plain answer of that ms"
        );
        let again = gzip_answer(&web, Format::Text, ms, || ms).unwrap();
        assert!(same(&first, &again), "the same buffers, not made again");

        let om = gzip_answer(&web, Format::OpenMetrics, ms, || ms).unwrap();
        assert_eq!(gunzip(&om), plain(&web, Format::OpenMetrics, ms));

        // The next millisecond's ages are a millisecond older.
        let next = gzip_answer(&web, Format::Text, ms + 1, || ms + 1).unwrap();
        assert!(!same(&first, &next));
        assert_ne!(gunzip(&next), text);
        assert_eq!(gunzip(&next), plain(&web, Format::Text, ms + 1));

        // A poll that lands within the millisecond is served at once.
        set_rules(&web.shared, &keys()[0], 4);
        let polled = gzip_answer(&web, Format::Text, ms + 1, || ms + 1).unwrap();
        let polled = gunzip(&polled);
        assert!(polled.contains("rule_id=\"r3\"") && !text.contains("rule_id=\"r3\""));
        assert_eq!(polled, plain(&web, Format::Text, ms + 1));

        // An answer finished after its millisecond serves no other scrape.
        let late = gzip_answer(&web, Format::Text, ms + 2, || ms + 3).unwrap();
        let after = gzip_answer(&web, Format::Text, ms + 2, || ms + 2).unwrap();
        assert!(!same(&late, &after));
        assert_eq!(gunzip(&late), gunzip(&after));
    }
}
