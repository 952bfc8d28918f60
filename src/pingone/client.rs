//! Sending requests: budget, timeout, size cap, retries, token handling,
//! metrics, and HAL paging.

use std::collections::HashSet;
use std::sync::Arc;
use std::time::{Duration, SystemTime};

use bytes::{Bytes, BytesMut};
use reqwest::{Method, Url};
use serde::de::DeserializeOwned;

use super::auth::{TokenCache, TokenCaches};
use super::budget::Budget;
use super::hal::parse_page;
use super::model::{self, ApiErrorBody};
use super::retry::{RetryPolicy, is_retryable_status, parse_retry_after};
use super::{ApiError, Endpoint};
use crate::config::Environment;
use crate::secret::Secret;
use crate::selfmetrics::{EnvKey, SelfMetrics};

/// Settings shared by all environments.
#[derive(Clone, Debug)]
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

/// The HTTP client shared by all environments.
#[derive(Debug)]
pub struct Client {
    http: reqwest::Client,
    budget: Arc<Budget>,
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
        budget: Arc<Budget>,
        metrics: Arc<SelfMetrics>,
        settings: ClientSettings,
    ) -> Result<Arc<Self>, reqwest::Error> {
        super::install_crypto_provider();
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
            budget,
            metrics,
            settings,
            tokens: TokenCaches::default(),
        }))
    }

    /// The self-metrics this client records into.
    pub fn metrics(&self) -> &Arc<SelfMetrics> {
        &self.metrics
    }

    /// One attempt: waits for the budget, sends, reads the body with the
    /// size cap, all within the request timeout. Counts the request.
    async fn attempt(
        &self,
        env: &EnvKey,
        endpoint: Endpoint,
        request: reqwest::RequestBuilder,
    ) -> Result<Attempt, ApiError> {
        let _permit = self.budget.acquire().await;
        let timeout = self.settings.request_timeout;
        let limit = self.settings.max_body_bytes;
        let run = async {
            let mut resp = request.send().await.map_err(|e| transport(endpoint, &e))?;
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
            while let Some(chunk) = resp.chunk().await.map_err(|e| transport(endpoint, &e))? {
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
        self.metrics.api_request(env, endpoint.as_str(), &code);
        result
    }

    /// Sends the request `build` makes (called again for each retry) and
    /// returns the body of a 2xx answer. Retries 408/429/5xx, timeouts and
    /// connection failures per the policy; every retry waits for the budget
    /// again.
    pub(super) async fn execute(
        &self,
        env: &EnvKey,
        endpoint: Endpoint,
        build: impl Fn(&reqwest::Client) -> reqwest::RequestBuilder,
    ) -> Result<Bytes, ApiError> {
        let policy = self.settings.retry;
        let mut retries = 0;
        loop {
            let outcome = self.attempt(env, endpoint, build(&self.http)).await;
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
                    let err = status_error(endpoint, status, &body);
                    (err, retry_after, is_retryable_status(status))
                }
                Err(e @ (ApiError::Timeout { .. } | ApiError::Transport { .. })) => (e, None, true),
                Err(e) => return Err(e),
            };
            if !retryable || retries >= policy.max_retries {
                return Err(err);
            }
            self.metrics.api_retry(env, endpoint.as_str(), err.reason());
            let wait = policy.delay(retries, retry_after);
            tracing::debug!(environment = %env.name, %endpoint, error = %err, wait_ms = wait.as_millis() as u64, "retrying");
            tokio::time::sleep(wait).await;
            retries += 1;
        }
    }
}

fn transport(endpoint: Endpoint, e: &reqwest::Error) -> ApiError {
    // reqwest's Display names the URL, never headers: no token or secret.
    let mut message = e.to_string();
    let mut source = std::error::Error::source(e);
    while let Some(s) = source {
        message.push_str(": ");
        message.push_str(&s.to_string());
        source = s.source();
    }
    if e.is_timeout() {
        return ApiError::Timeout {
            endpoint,
            seconds: 0.0,
        };
    }
    ApiError::Transport { endpoint, message }
}

fn shorten(s: &str) -> String {
    const MAX: usize = 200;
    if s.len() <= MAX {
        return s.to_string();
    }
    let mut end = MAX;
    while !s.is_char_boundary(end) {
        end -= 1;
    }
    format!("{}...", &s[..end])
}

/// Builds the error for a non-2xx answer from PingOne's or OAuth's error body.
fn status_error(endpoint: Endpoint, status: u16, body: &[u8]) -> ApiError {
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
        code: code.map(|c| shorten(&c)),
        message: message.map(|m| shorten(&m)),
    }
}

/// One environment's API access.
#[derive(Debug)]
pub struct EnvClient {
    client: Arc<Client>,
    key: EnvKey,
    api_url: Url,
    env_id: String,
    tokens: Arc<TokenCache>,
}

impl EnvClient {
    /// Builds the client for one configured environment.
    pub fn new(client: Arc<Client>, env: &Environment) -> Result<Self, ApiError> {
        let api_url =
            Url::parse(&format!("{}/", env.api_url.trim_end_matches('/'))).map_err(|e| {
                ApiError::BadLink {
                    endpoint: Endpoint::Stores,
                    message: format!("api_url: {e}"),
                }
            })?;
        let tokens = client.tokens.shared(
            format!(
                "{}/{}/as/token",
                env.auth_url.trim_end_matches('/'),
                env.credentials.worker_environment_id
            ),
            env.credentials.client_id.clone(),
            env.credentials.client_secret.clone(),
        );
        Ok(Self {
            client,
            key: EnvKey::new(&env.id, &env.name),
            api_url,
            env_id: env.id.clone(),
            tokens,
        })
    }

    /// The environment's metric labels.
    pub fn key(&self) -> &EnvKey {
        &self.key
    }

    fn url(&self, path: &str) -> Result<Url, ApiError> {
        self.api_url
            .join(&format!("environments/{}/{}", self.env_id, path))
            .map_err(|e| ApiError::BadLink {
                endpoint: Endpoint::Stores,
                message: e.to_string(),
            })
    }

    /// Sends one authorised request and returns the 2xx body. A 401 with a
    /// token that looked valid (revoked early) drops the token and retries
    /// once with a fresh one.
    async fn call(&self, endpoint: Endpoint, method: Method, url: Url) -> Result<Bytes, ApiError> {
        let mut reauthorised = false;
        loop {
            let token: Secret = self.tokens.get(&self.client, &self.key).await?;
            let result = self
                .client
                .execute(&self.key, endpoint, |http| {
                    let rb = http
                        .request(method.clone(), url.clone())
                        .bearer_auth(token.expose())
                        .header(reqwest::header::ACCEPT, "application/json");
                    if method == Method::POST {
                        rb.header(reqwest::header::CONTENT_TYPE, "application/json")
                    } else {
                        rb
                    }
                })
                .await;
            match result {
                Err(ApiError::Status { status: 401, .. }) if !reauthorised => {
                    reauthorised = true;
                    self.tokens.invalidate(&token).await;
                    self.client
                        .metrics
                        .api_retry(&self.key, endpoint.as_str(), "unauthorized");
                }
                other => return other,
            }
        }
    }

    /// Reads every page of a collection, following `_links.next.href`
    /// verbatim (relative links resolved against the page's URL). A link to
    /// another origin is re-based onto the configured `api_url` so the token
    /// only ever goes to the configured host.
    async fn collection<T: DeserializeOwned>(
        &self,
        endpoint: Endpoint,
        first: Url,
        key: &str,
    ) -> Result<(Vec<T>, usize), ApiError> {
        let cap = self.client.settings.page_cap;
        let mut seen = HashSet::new();
        let mut items = Vec::new();
        let mut skipped = 0;
        let mut url = first;
        for _ in 0..cap {
            if !seen.insert(url.as_str().to_string()) {
                return Err(ApiError::PagingLoop { endpoint });
            }
            let body = self.call(endpoint, Method::GET, url.clone()).await?;
            let page = parse_page::<T>(&body, key).map_err(|e| ApiError::Malformed {
                endpoint,
                message: e.to_string(),
            })?;
            items.extend(page.items);
            skipped += page.skipped;
            let Some(next) = page.next else {
                return Ok((items, skipped));
            };
            url = self.follow(endpoint, &url, &next)?;
        }
        Err(ApiError::PageCap {
            endpoint,
            pages: cap,
        })
    }

    fn follow(&self, endpoint: Endpoint, current: &Url, href: &str) -> Result<Url, ApiError> {
        let mut next = current.join(href).map_err(|e| ApiError::BadLink {
            endpoint,
            message: e.to_string(),
        })?;
        if next.origin() != self.api_url.origin() {
            tracing::debug!(%endpoint, "next link points at another origin; re-basing onto api_url");
            let ok = next.set_scheme(self.api_url.scheme()).is_ok()
                && next.set_host(self.api_url.host_str()).is_ok()
                && next.set_port(self.api_url.port()).is_ok();
            if !ok {
                return Err(ApiError::BadLink {
                    endpoint,
                    message: "cannot re-base the next link onto api_url".into(),
                });
            }
        }
        Ok(next)
    }

    fn malformed(endpoint: Endpoint) -> impl Fn(serde_json::Error) -> ApiError {
        move |e| ApiError::Malformed {
            endpoint,
            message: e.to_string(),
        }
    }

    /// `GET .../propagation/plans`.
    pub async fn plans(&self) -> Result<(Vec<model::Plan>, usize), ApiError> {
        let url = self.url("propagation/plans")?;
        self.collection(Endpoint::Plans, url, "plans").await
    }

    /// `GET .../propagation/stores`.
    pub async fn stores(&self) -> Result<(Vec<model::Store>, usize), ApiError> {
        let url = self.url("propagation/stores")?;
        self.collection(Endpoint::Stores, url, "stores").await
    }

    /// `GET .../propagation/rules`.
    pub async fn rules(&self) -> Result<(Vec<model::Rule>, usize), ApiError> {
        let url = self.url("propagation/rules")?;
        self.collection(Endpoint::Rules, url, "rules").await
    }

    /// `GET .../propagation/rules/{id}/syncedGroups?limit=1000`, all pages.
    pub async fn synced_groups(
        &self,
        rule_id: &str,
    ) -> Result<(Vec<model::SyncedGroup>, usize), ApiError> {
        let mut url = self.url(&format!(
            "propagation/rules/{}/syncedGroups",
            encode_segment(rule_id)
        ))?;
        url.query_pairs_mut().append_pair("limit", "1000");
        self.collection(Endpoint::SyncedGroups, url, "syncedGroups")
            .await
    }

    /// `GET .../propagation/revisions/id:latest`.
    pub async fn latest_revision(&self) -> Result<model::Revision, ApiError> {
        let url = self.url("propagation/revisions/id%3Alatest")?;
        let body = self
            .call(Endpoint::LatestRevision, Method::GET, url)
            .await?;
        model::parse_one(&body).map_err(Self::malformed(Endpoint::LatestRevision))
    }

    /// `POST .../propagation/revisions`: starts a resync of the whole
    /// environment. Never retried automatically beyond the client policy.
    pub async fn create_revision(&self) -> Result<model::Revision, ApiError> {
        let url = self.url("propagation/revisions")?;
        let body = self
            .call(Endpoint::CreateRevision, Method::POST, url)
            .await?;
        model::parse_one(&body).map_err(Self::malformed(Endpoint::CreateRevision))
    }

    /// `GET .../users?limit=N`, all pages; only ids are kept.
    pub async fn users(&self, limit: u32) -> Result<(Vec<model::User>, usize), ApiError> {
        let mut url = self.url("users")?;
        url.query_pairs_mut()
            .append_pair("limit", &limit.to_string());
        self.collection(Endpoint::Users, url, "users").await
    }

    /// `GET .../users/{id}/syncedRules/{ruleId}`; `Ok(None)` on 404 (the
    /// user has no record for the rule).
    pub async fn user_synced_rule(
        &self,
        user_id: &str,
        rule_id: &str,
    ) -> Result<Option<model::SyncedRule>, ApiError> {
        let url = self.url(&format!(
            "users/{}/syncedRules/{}",
            encode_segment(user_id),
            encode_segment(rule_id)
        ))?;
        match self.call(Endpoint::UserSyncedRule, Method::GET, url).await {
            Ok(body) => model::parse_one(&body)
                .map(Some)
                .map_err(Self::malformed(Endpoint::UserSyncedRule)),
            Err(ApiError::Status { status: 404, .. }) => Ok(None),
            Err(e) => Err(e),
        }
    }

    /// The raw body of a GET on an API path below the environment (for
    /// `dump`): `path` like `propagation/stores`.
    pub async fn get_raw(&self, endpoint: Endpoint, url: Url) -> Result<Bytes, ApiError> {
        self.call(endpoint, Method::GET, url).await
    }

    /// The URL of a path below the environment.
    pub fn env_url(&self, path: &str) -> Result<Url, ApiError> {
        self.url(path)
    }
}

/// Percent-encodes an id for use as one path segment. PingOne ids are UUIDs,
/// but an id from an answer must not be able to change the path.
fn encode_segment(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.' | b'~') {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}
