//! One environment's API access: its URLs, token cache and one method per
//! endpoint, with HAL paging (`_links.next.href` followed verbatim, page cap
//! and loop detection).

mod pages;
mod token;

use std::sync::Arc;

use bytes::Bytes;
use reqwest::{Method, Url};
use serde::de::DeserializeOwned;

use super::auth::TokenCache;
use super::budget::Budget;
use super::budgets::Allotment;
use super::client::{Client, Lane};
use super::fields::{self, DocumentedKeys};
use super::hal::parse_page;
use super::model;
use super::{ApiError, Endpoint};
use crate::config::Environment;
use crate::secret::Secret;
use crate::snapshot::EnvKey;

/// One environment's API access.
#[derive(Debug)]
pub struct EnvClient {
    client: Arc<Client>,
    lane: Lane,
    api_url: Url,
    env_id: String,
    tokens: Arc<TokenCache>,
}

impl EnvClient {
    /// Builds the client for one configured environment, spending from
    /// `allotment` (its budget, [`Environment::budget`]). Its calls stop
    /// retrying after half its poll interval: by then the next poll is the
    /// better retry.
    pub fn new(
        client: Arc<Client>,
        env: &Environment,
        allotment: Allotment,
    ) -> Result<Self, ApiError> {
        let api_url =
            Url::parse(&format!("{}/", env.api_url.trim_end_matches('/'))).map_err(|e| {
                ApiError::BadLink {
                    endpoint: Endpoint::Stores,
                    message: format!("api_url: {e}"),
                }
            })?;
        // Environments sharing a worker app share its token (one token
        // request per credential, not per environment).
        let tokens = client.tokens().shared(
            format!(
                "{}/{}/as/token",
                env.auth_url.trim_end_matches('/'),
                env.credentials.worker_environment_id
            ),
            env.credentials.client_id.clone(),
            env.credentials.client_secret.clone(),
        );
        let lane = Lane::new(
            EnvKey::new(&env.id, &env.name),
            allotment,
            env.poll_interval / 2,
        );
        Ok(Self {
            client,
            lane,
            api_url,
            env_id: env.id.clone(),
            tokens,
        })
    }

    /// The same environment with its requests capped by `cap` as well as
    /// spent from the environment's budget, sharing this one's client and
    /// token cache: user-detail mode's view. Its calls get a lane of their
    /// own (the same share of the budget's concurrency, the same retry
    /// window), so the walk cannot take the poll's slots.
    pub fn with_cap(&self, cap: Arc<Budget>) -> Self {
        let lane = Lane::new(
            self.lane.key.clone(),
            self.lane.allotment(),
            self.lane.window(),
        )
        .with_cap(cap);
        Self {
            client: Arc::clone(&self.client),
            lane,
            api_url: self.api_url.clone(),
            env_id: self.env_id.clone(),
            tokens: Arc::clone(&self.tokens),
        }
    }

    /// The secrets a text from PingOne could quote: the client secret and
    /// the current access token (never fetches one), for
    /// [`crate::redact::scrub`].
    pub async fn secrets(&self) -> Vec<Secret> {
        let mut secrets = vec![self.tokens.client_secret().clone()];
        secrets.extend(self.tokens.cached().await);
        secrets
    }

    /// The environment's metric labels.
    pub fn key(&self) -> &EnvKey {
        &self.lane.key
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
            let token: Secret = self
                .tokens
                .get(async |c| token::fetch(&self.client, &self.lane, c).await)
                .await?;
            let secrets = [token.expose(), self.tokens.client_secret().expose()];
            let result = self
                .client
                .execute(&self.lane, endpoint, &secrets, |http| {
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
                    self.client.metrics().api_retry(
                        &self.lane.key,
                        endpoint.as_str(),
                        "unauthorized",
                    );
                }
                other => return other,
            }
        }
    }

    /// Reads every page of a collection ([`Self::pages`]) and parses the
    /// items under `_embedded.<key>`; with a field `model`, also counts the
    /// fields PingOne's documentation does not list.
    async fn collection<T: DeserializeOwned>(
        &self,
        endpoint: Endpoint,
        first: Url,
        key: &str,
        model: Option<&'static DocumentedKeys>,
    ) -> Result<(Vec<T>, usize), ApiError> {
        let mut items = Vec::new();
        let mut skipped = 0;
        self.pages(endpoint, first, |body| {
            let page = parse_page::<T>(body, key).map_err(|e| self.parse_error(endpoint, e))?;
            if let Some(model) = model {
                self.note_unknown(endpoint, fields::unknown_in_page(body, key, model));
            }
            items.extend(page.items);
            skipped += page.skipped;
            Ok(page.next)
        })
        .await?;
        Ok((items, skipped))
    }

    /// Counts undocumented fields; logs each the first time it is seen.
    fn note_unknown(&self, endpoint: Endpoint, names: Vec<String>) {
        for field in names {
            if self.client.metrics().unknown_field(&field) {
                tracing::info!(environment = %self.lane.key.name, %endpoint, field = %field,
                    "PingOne sent a field its documentation does not list; it is ignored and counted in pingone_exporter_unknown_fields_total");
            }
        }
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

    /// A parser's complaint about an answer. It may quote the answer, so it
    /// is scrubbed like PingOne's own error texts.
    pub(super) fn parse_error(&self, endpoint: Endpoint, e: impl std::fmt::Display) -> ApiError {
        ApiError::Malformed {
            endpoint,
            message: e.to_string(),
        }
        .scrubbed(&[self.tokens.client_secret().expose()])
    }

    fn malformed(&self, endpoint: Endpoint) -> impl Fn(serde_json::Error) -> ApiError + '_ {
        move |e| self.parse_error(endpoint, e)
    }

    /// `GET .../propagation/plans`.
    pub async fn plans(&self) -> Result<(Vec<model::Plan>, usize), ApiError> {
        let url = self.url("propagation/plans")?;
        self.collection(Endpoint::Plans, url, "plans", Some(&fields::PLANS))
            .await
    }

    /// `GET .../propagation/stores`.
    pub async fn stores(&self) -> Result<(Vec<model::Store>, usize), ApiError> {
        let url = self.url("propagation/stores")?;
        self.collection(Endpoint::Stores, url, "stores", Some(&fields::STORES))
            .await
    }

    /// `GET .../propagation/rules`.
    pub async fn rules(&self) -> Result<(Vec<model::Rule>, usize), ApiError> {
        let url = self.url("propagation/rules")?;
        self.collection(Endpoint::Rules, url, "rules", Some(&fields::RULES))
            .await
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
        self.collection(
            Endpoint::SyncedGroups,
            url,
            "syncedGroups",
            Some(&fields::SYNCED_GROUPS),
        )
        .await
    }

    /// `GET .../propagation/revisions/id:latest`.
    pub async fn latest_revision(&self) -> Result<model::Revision, ApiError> {
        let url = self.url("propagation/revisions/id%3Alatest")?;
        let body = self
            .call(Endpoint::LatestRevision, Method::GET, url)
            .await?;
        let revision = model::parse_one(&body).map_err(self.malformed(Endpoint::LatestRevision))?;
        let unknown = fields::unknown_in_object(&body, &fields::REVISION);
        self.note_unknown(Endpoint::LatestRevision, unknown);
        Ok(revision)
    }

    /// `POST .../propagation/revisions`: starts a resync of the whole
    /// environment. Never retried automatically beyond the client policy.
    pub async fn create_revision(&self) -> Result<model::Revision, ApiError> {
        let url = self.url("propagation/revisions")?;
        let body = self
            .call(Endpoint::CreateRevision, Method::POST, url)
            .await?;
        model::parse_one(&body).map_err(self.malformed(Endpoint::CreateRevision))
    }

    /// `GET .../users?limit=N`, all pages; only ids are kept.
    pub async fn users(&self, limit: u32) -> Result<(Vec<model::User>, usize), ApiError> {
        let mut url = self.url("users")?;
        url.query_pairs_mut()
            .append_pair("limit", &limit.to_string());
        self.collection(Endpoint::Users, url, "users", None).await
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
                .map_err(self.malformed(Endpoint::UserSyncedRule)),
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
pub(crate) fn encode_segment(s: &str) -> String {
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
