//! Fault injection: the layer between routing and the model.
//!
//! Every API call (token and `/v1`) passes [`Faults::before`] once it has
//! been routed and before the model answers: a fault may answer instead
//! (5xx, 429 with `Retry-After`, token endpoint down), delay the answer, or
//! revoke the presented token. The model's answer then passes
//! [`Faults::after`], where a fault may rewrite it (malformed, truncated,
//! unknown fields or enum values, missing fields, a paging loop) or shape
//! how it is sent (huge, reset mid-body, stalled mid-body).
//!
//! Rules come from the scenario's `faults:` and from `POST /_sim/faults`;
//! each is scoped by endpoint and environment and limited by a count, a
//! duration and a probability. Reference: `docs/simulator.md`.

mod rewrite;
mod rule;

pub use rule::{FaultKind, FaultRule};

use std::sync::{Mutex, MutexGuard, PoisonError};
use std::time::{Duration, Instant, SystemTime};

use http_body_util::BodyExt;
use serde_json::{Value, json};

use super::api::Endpoint;
use super::auth::Auth;
use super::body::SimBody;
use super::reply::{self, Response};
use super::router::Call;

/// A simulator answer, after faults.
pub(crate) type SimResponse = hyper::Response<SimBody>;

struct Active {
    id: u64,
    rule: FaultRule,
    env_id: Option<String>,
    remaining: Option<u64>,
    until: Option<Instant>,
    hits: u64,
}

#[derive(Default)]
struct State {
    next_id: u64,
    rules: Vec<Active>,
}

/// The fault rules in force.
#[derive(Default)]
pub(crate) struct Faults {
    state: Mutex<State>,
}

/// What [`Faults::before`] decided.
pub(crate) enum Step {
    /// Answer this instead of the model.
    Answer(Response),
    /// Let the model answer, then apply these rules to it.
    Continue(Vec<FaultRule>),
}

impl Faults {
    fn lock(&self) -> MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Adds a checked rule (see [`FaultRule::check`]); returns its id.
    pub fn add(&self, rule: FaultRule, env_id: Option<String>) -> u64 {
        let mut s = self.lock();
        s.next_id += 1;
        let id = s.next_id;
        let until = rule
            .duration_ms
            .map(|ms| Instant::now() + Duration::from_millis(ms));
        let remaining = rule.count;
        s.rules.push(Active {
            id,
            rule,
            env_id,
            remaining,
            until,
            hits: 0,
        });
        id
    }

    /// Removes every rule.
    pub fn clear(&self) {
        self.lock().rules.clear();
    }

    /// The rules in force, for `GET /_sim/faults`.
    pub fn to_json(&self) -> Value {
        let mut s = self.lock();
        expire(&mut s);
        let now = Instant::now();
        let list: Vec<Value> = s
            .rules
            .iter()
            .map(|a| {
                json!({"id": a.id, "rule": a.rule, "hits": a.hits, "remaining": a.remaining,
                       "expires_in_ms": a.until.map(|u| u.saturating_duration_since(now).as_millis() as u64)})
            })
            .collect();
        json!({ "faults": list })
    }

    /// The rules that fire for one request, in the order they were added;
    /// each firing uses up one of its count. Rules after one that answers
    /// do not fire, nor does a second rule that shapes the body.
    fn fire(&self, template: &str, env: &str) -> Vec<FaultRule> {
        let mut s = self.lock();
        expire(&mut s);
        let mut fired: Vec<FaultRule> = Vec::new();
        for a in &mut s.rules {
            let matches = a.rule.applies_to(template)
                && a.env_id.as_deref().is_none_or(|e| e == env)
                && a.remaining.is_none_or(|n| n > 0)
                && !(a.rule.shapes() && fired.iter().any(FaultRule::shapes))
                && a.rule.probability.is_none_or(|p| fastrand::f64() < p);
            if matches {
                a.hits += 1;
                a.remaining = a.remaining.map(|n| n - 1);
                fired.push(a.rule.clone());
                if a.rule.answers() {
                    break;
                }
            }
        }
        fired
    }

    /// Runs the rules that fire before the model answers.
    pub async fn before(&self, auth: &Auth, ep: &Endpoint, call: &Call) -> Step {
        let mut later = Vec::new();
        for rule in self.fire(ep.template(), ep.env()) {
            match rule.kind {
                FaultKind::Status => return Step::Answer(status(rule.status.unwrap_or(503))),
                FaultKind::RetryAfter => {
                    return Step::Answer(rate_limited(&rule.seconds.unwrap_or(1).to_string()));
                }
                FaultKind::RetryAfterDate => {
                    let at = SystemTime::now() + Duration::from_secs(rule.seconds.unwrap_or(1));
                    return Step::Answer(rate_limited(&httpdate::fmt_http_date(at)));
                }
                FaultKind::TokenEndpointDown => {
                    return Step::Answer(reply::oauth_error(
                        503,
                        "temporarily_unavailable",
                        "The token service is down (simulated)",
                    ));
                }
                FaultKind::EchoCredentials => return Step::Answer(echo(ep.template(), call)),
                FaultKind::RevokeTokens => auth.revoke(call.authorization.as_deref()),
                FaultKind::Slow => tokio::time::sleep(rule.delay()).await,
                _ => later.push(rule),
            }
        }
        Step::Continue(later)
    }

    /// Applies the rules [`Faults::before`] deferred to the model's answer.
    pub async fn after(&self, rules: Vec<FaultRule>, call: &Call, r: Response) -> SimResponse {
        let (parts, mut bytes) = split(r).await;
        let mut shape = None;
        for rule in rules {
            match rule.kind {
                FaultKind::Huge | FaultKind::ResetMidBody | FaultKind::SlowBody => {
                    shape = Some(rule)
                }
                FaultKind::TokenExpiresIn => {
                    bytes = rewrite::expires_in(bytes, rule.seconds.unwrap_or(u64::MAX))
                }
                kind => bytes = rewrite::body(kind, bytes, &call.self_href()),
            }
        }
        let body = match shape {
            None => SimBody::whole(bytes),
            Some(rule) => rewrite::shape(&rule, bytes),
        };
        hyper::Response::from_parts(parts, body)
    }
}

fn expire(s: &mut State) {
    let now = Instant::now();
    s.rules
        .retain(|a| a.remaining != Some(0) && a.until.is_none_or(|u| u > now));
}

/// A plain answer as a simulator response.
pub(crate) async fn plain(r: Response) -> SimResponse {
    let (parts, bytes) = split(r).await;
    hyper::Response::from_parts(parts, SimBody::whole(bytes))
}

async fn split(r: Response) -> (hyper::http::response::Parts, bytes::Bytes) {
    let (parts, body) = r.into_parts();
    let bytes = match body.collect().await {
        Ok(c) => c.to_bytes(),
        Err(never) => match never {},
    };
    (parts, bytes)
}

fn status(code: u16) -> Response {
    let name = match code {
        400 => "INVALID_DATA",
        401 | 403 => "ACCESS_FAILED",
        404 => "NOT_FOUND",
        408 => "REQUEST_TIMEOUT",
        429 => "REQUEST_LIMITED",
        500 => "UNEXPECTED_ERROR",
        _ => "SERVICE_UNAVAILABLE",
    };
    reply::error(code, name, "Simulated failure", None)
}

/// An error answer quoting the credential the request presented, the way
/// a careless server might: the client secret of a token request, the
/// bearer token of an API call, without any `Bearer` or `secret=` around
/// it, so only the literal secret tells it apart.
fn echo(template: &str, call: &Call) -> Response {
    let header = call.authorization.as_deref().unwrap_or_default();
    if template == "token" {
        let (id, secret) = super::auth::basic_credentials(header).unwrap_or_default();
        return reply::oauth_error(
            401,
            "invalid_client",
            &format!("Client {id} presented {secret}, which does not match"),
        );
    }
    let token = header
        .split_once(' ')
        .map(|(_, t)| t.trim())
        .unwrap_or_default();
    reply::error(
        400,
        "INVALID_DATA",
        &format!("Access with {token} is not allowed here"),
        None,
    )
}

fn rate_limited(retry_after: &str) -> Response {
    let mut r = reply::error(
        429,
        "REQUEST_LIMITED",
        "The request was rate limited.",
        Some(("LIMIT_EXCEEDED", "request", "Too many requests (simulated)")),
    );
    if let Ok(v) = hyper::header::HeaderValue::from_str(retry_after) {
        r.headers_mut().insert(hyper::header::RETRY_AFTER, v);
    }
    r
}
