//! Sending requests: budget, timeout, size cap, retries and metrics. Each
//! environment's calls go through [`super::EnvClient`] on its [`Lane`],
//! which holds the environment's request budget.

use std::sync::Arc;
use std::time::{Duration, SystemTime};

use bytes::{Bytes, BytesMut};
use tokio::sync::{Semaphore, SemaphorePermit};
use tokio::time::Instant;

use super::auth::TokenCaches;
use super::budget::{Budget, Permit, Priority};
use super::budgets::Allotment;
use super::model::{self, ApiErrorBody};
use super::retry::{RetryPolicy, is_retryable_status, parse_retry_after};
use super::{ApiError, Endpoint};
use crate::selfmetrics::SelfMetrics;
use crate::snapshot::EnvKey;

/// Settings shared by all environments.
#[derive(Clone, Debug, PartialEq)]
pub struct ClientSettings {
    /// Whole-request timeout: connect to last body byte.
    pub request_timeout: Duration,
    /// Answers larger than this many bytes are refused.
    pub max_body_bytes: usize,
    /// Retry limits.
    pub retry: RetryPolicy,
    /// Most pages read from one collection.
    pub page_cap: usize,
}

impl Default for ClientSettings {
    fn default() -> Self {
        Self {
            request_timeout: Duration::from_secs(10),
            max_body_bytes: 16 * 1024 * 1024,
            retry: RetryPolicy::default(),
            page_cap: 1000,
        }
    }
}

impl ClientSettings {
    /// The defaults with the configuration's `global.request_timeout`.
    pub fn for_config(config: &crate::config::Config) -> Self {
        Self {
            request_timeout: config.global.request_timeout,
            ..Self::default()
        }
    }
}

/// What the calls of one environment share: metric labels, the request
/// budget they spend from, concurrency slots and the retry window.
#[derive(Debug)]
pub struct Lane {
    /// The environment's metric labels.
    pub key: EnvKey,
    /// The environment's budget (its licence's); every attempt, retry and
    /// token request of the lane takes a start from it.
    budget: Arc<Budget>,
    /// A tighter budget of the lane's own, acquired before `budget`: the
    /// user-detail walk's `max_requests_per_second`.
    cap: Option<Arc<Budget>>,
    /// One set of `concurrency` slots per [`Priority`] (the environment's
    /// share of the budget's), so that the environment's own bulk reads
    /// never hold the slots its stores read needs.
    slots: [Semaphore; 3],
    concurrency: usize,
    window: Duration,
}

impl Lane {
    /// How long after a call's first attempt it may still retry.
    pub fn window(&self) -> Duration {
        self.window
    }

    /// A lane spending from `allotment`'s budget, allowing its
    /// `concurrency` (>= 1) requests of each priority in flight at once, in
    /// which a call stops retrying when the next wait would end more than
    /// `window` after its first attempt started.
    pub fn new(key: EnvKey, allotment: Allotment, window: Duration) -> Self {
        let concurrency = allotment.concurrency.max(1);
        let slots = || Semaphore::new(concurrency);
        Self {
            key,
            budget: allotment.budget,
            cap: None,
            slots: [slots(), slots(), slots()],
            concurrency,
            window,
        }
    }

    fn slots(&self, priority: Priority) -> &Semaphore {
        match priority {
            Priority::Signal => &self.slots[0],
            Priority::Structure => &self.slots[1],
            Priority::Bulk => &self.slots[2],
        }
    }

    /// The same lane with `cap` acquired before the environment's budget:
    /// the lane's requests stay within `cap` and within the budget.
    pub fn with_cap(mut self, cap: Arc<Budget>) -> Self {
        self.cap = Some(cap);
        self
    }

    /// Waits for a slot of the lane at `priority`, for its cap if it has
    /// one, then for the environment's budget at `priority`; the request
    /// may start when this returns and holds what it returns while in
    /// flight.
    async fn admit(&self, priority: Priority) -> Admitted<'_> {
        // The semaphore is never closed; without a slot we would still be
        // bounded by the budget.
        let slot = self.slots(priority).acquire().await.ok();
        // The cap first: a walk request waiting on its cap must not hold a
        // place in the environment's budget meanwhile.
        let capped = match &self.cap {
            Some(cap) => Some(cap.acquire(priority).await),
            None => None,
        };
        let permit = self.budget.acquire(priority).await;
        Admitted {
            _slot: slot,
            _capped: capped,
            _permit: permit,
        }
    }

    /// The environment's budget and the lane's concurrency, for a lane of
    /// the same environment.
    pub fn allotment(&self) -> Allotment {
        Allotment {
            budget: Arc::clone(&self.budget),
            concurrency: self.concurrency,
        }
    }
}

/// What a request in flight holds: its lane slot, its cap's and its
/// budget's permits.
struct Admitted<'a> {
    _slot: Option<SemaphorePermit<'a>>,
    _capped: Option<Permit>,
    _permit: Permit,
}

/// The HTTP client shared by all environments.
#[derive(Debug)]
pub struct Client {
    http: reqwest::Client,
    metrics: Arc<SelfMetrics>,
    settings: ClientSettings,
    /// Token caches shared by environments with the same credential.
    tokens: TokenCaches,
}

/// What one HTTP attempt produced.
enum Attempt {
    Ok(Bytes),
    Status {
        status: u16,
        retry_after: Option<Duration>,
        body: Bytes,
    },
}

impl Client {
    /// Builds the shared client.
    pub fn new(
        metrics: Arc<SelfMetrics>,
        settings: ClientSettings,
    ) -> Result<Arc<Self>, reqwest::Error> {
        crate::outbound::install_crypto_provider();
        let http = reqwest::Client::builder()
            .user_agent(concat!("pingone-sync-exporter/", env!("CARGO_PKG_VERSION")))
            .connect_timeout(settings.request_timeout)
            // A redirect could carry the bearer token somewhere unexpected;
            // the API does not redirect, so refuse.
            .redirect(reqwest::redirect::Policy::none())
            .pool_idle_timeout(Duration::from_secs(90))
            .build()?;
        Ok(Arc::new(Self {
            http,
            metrics,
            settings,
            tokens: TokenCaches::default(),
        }))
    }

    /// The token caches of this client, one per credential.
    pub(super) fn tokens(&self) -> &TokenCaches {
        &self.tokens
    }

    /// The self-metrics this client records into.
    pub fn metrics(&self) -> &Arc<SelfMetrics> {
        &self.metrics
    }

    /// The settings it was built with.
    pub fn settings(&self) -> &ClientSettings {
        &self.settings
    }

    /// One attempt: waits for a slot of the environment's lane, for the
    /// lane's cap if it has one, and for the environment's budget, all at
    /// the endpoint's priority, sends, reads the body with the size cap, all within
    /// the request timeout (which does not include the waits). Counts the
    /// request.
    async fn attempt(
        &self,
        lane: &Lane,
        endpoint: Endpoint,
        request: reqwest::RequestBuilder,
    ) -> Result<Attempt, ApiError> {
        let _admitted = lane.admit(endpoint.priority()).await;
        let timeout = self.settings.request_timeout;
        let limit = self.settings.max_body_bytes;
        let run = async {
            let mut resp = request
                .send()
                .await
                .map_err(|e| transport(endpoint, timeout, &e))?;
            let status = resp.status().as_u16();
            let retry_after = resp
                .headers()
                .get(reqwest::header::RETRY_AFTER)
                .and_then(|v| v.to_str().ok())
                .and_then(|v| parse_retry_after(v, SystemTime::now()));
            if resp.content_length().is_some_and(|n| n > limit as u64) {
                return Err(ApiError::TooLarge { endpoint, limit });
            }
            let mut body = BytesMut::new();
            while let Some(chunk) = resp
                .chunk()
                .await
                .map_err(|e| transport(endpoint, timeout, &e))?
            {
                if body.len() + chunk.len() > limit {
                    return Err(ApiError::TooLarge { endpoint, limit });
                }
                body.extend_from_slice(&chunk);
            }
            let body = body.freeze();
            Ok(if (200..300).contains(&status) {
                Attempt::Ok(body)
            } else {
                Attempt::Status {
                    status,
                    retry_after,
                    body,
                }
            })
        };
        let result = match tokio::time::timeout(timeout, run).await {
            Ok(r) => r,
            Err(_) => Err(ApiError::Timeout {
                endpoint,
                seconds: timeout.as_secs_f64(),
            }),
        };
        let code = match &result {
            Ok(Attempt::Ok(_)) => "200".to_string(),
            Ok(Attempt::Status { status, .. }) => status.to_string(),
            Err(e) => e.reason().to_string(),
        };
        self.metrics
            .api_request(&lane.key, endpoint.as_str(), &code);
        result
    }

    /// Sends the request `build` makes (called again for each retry) and
    /// returns the body of a 2xx answer. Retries 408/429/5xx, timeouts and
    /// connection failures per the policy; every retry waits for the lane
    /// and the budget again. Gives up instead of retrying when `Retry-After`
    /// exceeds the policy's cap or the wait would end outside the lane's
    /// retry window. `secrets` (the client secret, the token sent) are
    /// removed from every error text built from PingOne's answer, before it
    /// is logged or stored ([`crate::redact::scrub`]).
    pub(super) async fn execute(
        &self,
        lane: &Lane,
        endpoint: Endpoint,
        secrets: &[&str],
        build: impl Fn(&reqwest::Client) -> reqwest::RequestBuilder,
    ) -> Result<Bytes, ApiError> {
        let policy = self.settings.retry;
        let started = Instant::now();
        let env = &lane.key;
        let mut retries = 0;
        loop {
            let outcome = self.attempt(lane, endpoint, build(&self.http)).await;
            let (err, retry_after, retryable) = match outcome {
                Ok(Attempt::Ok(body)) => return Ok(body),
                Ok(Attempt::Status {
                    status,
                    retry_after,
                    body,
                }) => {
                    if status == 429 {
                        self.metrics.rate_limited(env);
                    }
                    let err = status_error(endpoint, status, &body, secrets);
                    // A create may have happened before a 5xx or 408 came
                    // back; only a 429 says for sure it was not processed.
                    let retryable = if endpoint.is_idempotent() {
                        is_retryable_status(status)
                    } else {
                        status == 429
                    };
                    (err, retry_after, retryable)
                }
                Err(e @ (ApiError::Timeout { .. } | ApiError::Transport { .. })) => {
                    // The request may have reached PingOne: never repeat a create.
                    let retryable = endpoint.is_idempotent();
                    (e.scrubbed(secrets), None, retryable)
                }
                Err(e) => return Err(e.scrubbed(secrets)),
            };
            if !retryable || retries >= policy.max_retries {
                return Err(err);
            }
            let wait = match policy.delay(retries, retry_after) {
                Some(w) if started.elapsed() + w <= lane.window => w,
                _ => {
                    tracing::debug!(environment = %env.name, %endpoint, error = %err,
                        retry_after_s = retry_after.map(|d| d.as_secs()),
                        "not retrying: Retry-After exceeds the cap, or the wait would end after this call's retry window");
                    return Err(err);
                }
            };
            self.metrics.api_retry(env, endpoint.as_str(), err.reason());
            tracing::debug!(environment = %env.name, %endpoint, error = %err, wait_ms = wait.as_millis() as u64, "retrying");
            tokio::time::sleep(wait).await;
            retries += 1;
        }
    }
}

/// Maps a reqwest error; a timeout reports `timeout`, the limit that ran
/// out (reqwest's connect timeout is set to the request timeout).
fn transport(endpoint: Endpoint, timeout: Duration, e: &reqwest::Error) -> ApiError {
    // reqwest's Display names the URL, never headers: no token or secret.
    let message = crate::outbound::error_chain(e);
    if e.is_timeout() {
        return ApiError::Timeout {
            endpoint,
            seconds: timeout.as_secs_f64(),
        };
    }
    ApiError::Transport { endpoint, message }
}

/// `s` scrubbed of `secrets` and credential-shaped text, then cut to 200
/// bytes: scrubbing first, so a cut never leaves half a token behind.
fn shorten(s: &str, secrets: &[&str]) -> String {
    const MAX: usize = 200;
    let s = &crate::redact::scrub(s, secrets);
    if s.len() <= MAX {
        return s.to_string();
    }
    let mut end = MAX;
    while !s.is_char_boundary(end) {
        end -= 1;
    }
    format!("{}...", &s[..end])
}

/// Builds the error for a non-2xx answer from PingOne's or OAuth's error
/// body. PingOne may quote what it was sent (the token, the client secret):
/// both texts are scrubbed of `secrets` and of anything shaped like a
/// credential here, the one place such text enters the exporter.
fn status_error(endpoint: Endpoint, status: u16, body: &[u8], secrets: &[&str]) -> ApiError {
    let (code, message) = if endpoint == Endpoint::Token {
        let e: model::OAuthError = serde_json::from_slice(body).unwrap_or_default();
        (e.error, e.error_description)
    } else {
        let e: ApiErrorBody = serde_json::from_slice(body).unwrap_or_default();
        (e.code, e.message)
    };
    ApiError::Status {
        endpoint,
        status,
        code: code.map(|c| shorten(&c, secrets)),
        message: message.map(|m| shorten(&m, secrets)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn error_texts_from_pingone_are_scrubbed_before_they_are_stored() {
        let body = br#"{"code":"INVALID_TOKEN","message":"token tok-123456 of client s3cret-xyz rejected; Authorization: Bearer abc.def"}"#;
        let e = status_error(Endpoint::Stores, 400, body, &["tok-123456", "s3cret-xyz"]);
        let text = e.to_string();
        for leak in ["tok-123456", "s3cret-xyz", "abc.def"] {
            assert!(!text.contains(leak), "{text}");
        }
        assert!(
            text.contains("token [redacted] of client [redacted]"),
            "{text}"
        );
        let oauth = br#"{"error":"invalid_client","error_description":"client_secret=s3cret-xyz is wrong"}"#;
        let e = status_error(Endpoint::Token, 401, oauth, &[]);
        assert_eq!(
            e.to_string(),
            "token: HTTP 401 invalid_client: client_secret=[redacted] is wrong"
        );
    }

    /// Milliseconds after `t0` of `n` admissions through `lane`, each
    /// released at once.
    async fn starts(lane: &Lane, n: usize, t0: Instant) -> Vec<u128> {
        let mut out = Vec::new();
        for _ in 0..n {
            drop(lane.admit(Priority::Bulk).await);
            out.push((Instant::now() - t0).as_millis());
        }
        out
    }

    fn lane(budget: &Arc<Budget>) -> Lane {
        let key = EnvKey::new("3f0b6a1e-0000-4000-8000-000000000001", "a");
        Lane::new(
            key,
            Allotment::new(Arc::clone(budget), 4),
            Duration::from_secs(5),
        )
    }

    #[tokio::test(start_paused = true)]
    async fn a_capped_lane_spends_from_the_environments_budget_too() {
        // The budget binds when it is the tighter one ...
        let budget = Budget::new(2.0, 4);
        let walk = lane(&budget).with_cap(Budget::new(100.0, 4));
        let t0 = Instant::now();
        assert_eq!(starts(&walk, 3, t0).await, [0, 500, 1000]);
        // ... the cap when it is.
        let budget = Budget::new(100.0, 4);
        let walk = lane(&budget).with_cap(Budget::new(4.0, 4));
        let t0 = Instant::now();
        assert_eq!(starts(&walk, 3, t0).await, [0, 250, 500]);
    }

    #[tokio::test(start_paused = true)]
    async fn the_poll_and_the_walk_of_an_environment_share_its_budget() {
        let budget = Budget::new(10.0, 4);
        let poll = lane(&budget);
        let walk = lane(&budget).with_cap(Budget::new(1000.0, 4));
        let t0 = Instant::now();
        let walked = async { starts(&walk, 3, t0).await };
        let polled = async { starts(&poll, 3, t0).await };
        let (walked, polled) = tokio::join!(walked, polled);
        let mut all: Vec<u128> = walked.into_iter().chain(polled).collect();
        all.sort_unstable();
        assert_eq!(all, [0, 100, 200, 300, 400, 500], "six starts at 10/s");
    }

    #[test]
    fn a_long_message_is_cut_after_scrubbing() {
        let message = format!("{} tok-abcdefgh", "x".repeat(195));
        let body = serde_json::json!({ "message": message }).to_string();
        let e = status_error(Endpoint::Stores, 500, body.as_bytes(), &["tok-abcdefgh"]);
        assert!(!e.to_string().contains("tok-ab"), "{e}");
    }
}
