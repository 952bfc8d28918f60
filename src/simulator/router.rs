//! The simulator's HTTP entry point: reads a request into a [`Call`],
//! sends `/_sim/...` to the control endpoints and everything else through
//! routing ([`Endpoint::parse`]), the fault layer and the API handlers,
//! counting every API request.

use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::time::Duration;

use bytes::Bytes;
use http_body_util::{BodyExt, Limited};
use hyper::Method;

use super::api::{self, Endpoint};
use super::auth::Auth;
use super::control;
use super::faults::{self, Faults, SimResponse, Step};
use super::model::Tenant;
use super::query;
use super::reply::{self, Response};
use super::stats::Stats;
use crate::http::Request;

/// Largest request body accepted (token forms are tiny).
const MAX_BODY: usize = 64 * 1024;
const BODY_TIMEOUT: Duration = Duration::from_secs(10);

/// State shared by every request.
pub(crate) struct Shared {
    tenant: Mutex<Tenant>,
    pub auth: Auth,
    pub stats: Stats,
    pub faults: Faults,
    /// `host:port` used in links when a request has no usable `Host`.
    pub fallback_host: String,
}

impl Shared {
    /// Wraps a built tenant.
    pub fn new(tenant: Tenant, auth: Auth, fallback_host: String) -> Self {
        Self {
            tenant: Mutex::new(tenant),
            auth,
            stats: Stats::default(),
            faults: Faults::default(),
            fallback_host,
        }
    }

    /// The model. A panic while it was held cannot leave it half-updated in
    /// a way that matters to a simulator, so poisoning is ignored.
    pub fn tenant(&self) -> MutexGuard<'_, Tenant> {
        self.tenant.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

/// A request, read whole.
pub(crate) struct Call {
    pub method: Method,
    pub path: String,
    raw_query: Option<String>,
    /// Decoded query parameters.
    pub query: Vec<(String, String)>,
    /// `http://host[:port]` as the client addressed us.
    pub origin: String,
    pub authorization: Option<String>,
    pub body: Bytes,
}

impl Call {
    /// Reads the request head and, for POST, the body.
    pub async fn read(req: Request, fallback_host: &str) -> Result<Call, Box<Response>> {
        let method = req.method().clone();
        let path = req.uri().path().to_owned();
        let raw_query = req.uri().query().map(str::to_owned);
        let header = |name: hyper::header::HeaderName| {
            req.headers()
                .get(name)
                .and_then(|v| v.to_str().ok())
                .map(str::to_owned)
        };
        let host = header(hyper::header::HOST)
            .filter(|h| {
                !h.is_empty()
                    && h.bytes()
                        .all(|b| b.is_ascii_alphanumeric() || b".-:[]".contains(&b))
            })
            .unwrap_or_else(|| fallback_host.to_owned());
        let authorization = header(hyper::header::AUTHORIZATION);
        let body = if method == Method::POST {
            read_body(req, MAX_BODY, BODY_TIMEOUT).await.map_err(|e| {
                let status = if matches!(e, BodyError::TooLarge(_)) {
                    413
                } else {
                    400
                };
                Box::new(reply::error(status, "INVALID_DATA", &e.to_string(), None))
            })?
        } else {
            Bytes::new()
        };
        Ok(Call {
            method,
            path,
            query: raw_query.as_deref().map(query::pairs).unwrap_or_default(),
            raw_query,
            origin: format!("http://{host}"),
            authorization,
            body,
        })
    }

    /// Root of absolute API links: `{origin}/v1`.
    pub fn api_base(&self) -> String {
        format!("{}/v1", self.origin)
    }

    /// The absolute URL of this request, for `_links.self`.
    pub fn self_href(&self) -> String {
        match &self.raw_query {
            Some(q) => format!("{}{}?{q}", self.origin, self.path),
            None => format!("{}{}", self.origin, self.path),
        }
    }
}

/// Why reading a request body failed.
#[derive(Debug, thiserror::Error)]
enum BodyError {
    /// The body was larger than allowed.
    #[error("request body larger than {0} bytes")]
    TooLarge(usize),
    /// The client did not send the body in time.
    #[error("request body not received within {0:?}")]
    Timeout(Duration),
    /// The connection failed while reading.
    #[error("reading request body: {0}")]
    Read(String),
}

/// Reads a request body of at most `limit` bytes within `timeout`.
async fn read_body(req: Request, limit: usize, timeout: Duration) -> Result<Bytes, BodyError> {
    let body = Limited::new(req.into_body(), limit);
    match tokio::time::timeout(timeout, body.collect()).await {
        Err(_) => Err(BodyError::Timeout(timeout)),
        Ok(Ok(collected)) => Ok(collected.to_bytes()),
        Ok(Err(e)) => {
            if e.downcast_ref::<http_body_util::LengthLimitError>()
                .is_some()
            {
                Err(BodyError::TooLarge(limit))
            } else {
                Err(BodyError::Read(e.to_string()))
            }
        }
    }
}

/// Answers one request.
pub(crate) async fn handle(shared: Arc<Shared>, req: Request) -> SimResponse {
    let call = match Call::read(req, &shared.fallback_host).await {
        Ok(c) => c,
        Err(r) => return faults::plain(*r).await,
    };
    if let Some(rest) = call.path.strip_prefix("/_sim/") {
        return faults::plain(control::handle(&shared, rest, &call)).await;
    }
    let Some(endpoint) = Endpoint::parse(&call.path) else {
        let r = reply::not_found("the resource");
        shared.stats.record("unknown", r.status().as_u16());
        return faults::plain(r).await;
    };
    let response = match shared.faults.before(&shared.auth, &endpoint, &call).await {
        Step::Answer(r) => faults::plain(r).await,
        Step::Continue(rules) => {
            let answer = api::handle(&shared, &endpoint, &call);
            shared.faults.after(rules, &call, answer).await
        }
    };
    shared
        .stats
        .record(endpoint.template(), response.status().as_u16());
    response
}
