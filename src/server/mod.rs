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
pub mod reload;
pub mod summary;

pub use body::Body;
pub use reload::ReloadGate;

use std::sync::Arc;

use bytes::Bytes;
use hyper::header::{self, HeaderValue};
use hyper::{Method, StatusCode};
use tokio::sync::{mpsc, oneshot};

use crate::alerting::AlertStatus;
use crate::collector;
use crate::exposition::{Encoding, LiveSink, negotiate};
use crate::http::{Chunks, Request};
use crate::plan::status::PlanStatus;
use crate::state::Shared;
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
    // The families kept in memory, each written by its owner: the
    // exporter's own metrics, the alert sender's series, the request plan's.
    let live = |out: &mut dyn LiveSink| {
        web.shared.metrics.encode_live(format, out);
        web.alerts.encode(format, out.text());
        web.plan.encode(format, out, &web.shared.envs(), now_unix());
    };
    let rendered = web.shared.rendered();
    let scrape = || collector::scrape(format, rendered.clone(), now_unix(), live);
    let plain = |e| Body::Metrics(Box::new(e));
    let (body, gzip) = match encoding {
        Encoding::Identity => (plain(scrape()), false),
        Encoding::Gzip => {
            match collector::gzip(format, rendered.clone(), now_unix(), &web.gzip, live) {
                Ok(z) => (Chunks::new(z).into(), true),
                // Compression into memory cannot really fail; serve plain if so.
                Err(_) => (plain(scrape()), false),
            }
        }
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
