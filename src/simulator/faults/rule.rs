//! A fault rule: what it does, where (endpoint, environment), how often
//! (count, duration, probability), and its checks.

use std::time::Duration;

use serde::{Deserialize, Serialize};

/// What a fault does.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Deserialize, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum FaultKind {
    /// Answer `status` (default 503) with PingOne's error body.
    Status,
    /// 429 `REQUEST_LIMITED` with `Retry-After: <seconds>`.
    RetryAfter,
    /// 429 `REQUEST_LIMITED` with `Retry-After: <HTTP date seconds ahead>`.
    RetryAfterDate,
    /// Wait `delay_ms` before answering.
    Slow,
    /// Send half the answer, wait `delay_ms`, send the rest.
    SlowBody,
    /// Send half the answer, then drop the connection.
    ResetMidBody,
    /// Replace the answer with broken JSON (status kept).
    MalformedJson,
    /// Send only the first half of the answer, as a complete HTTP message.
    TruncatedJson,
    /// Revoke the bearer token presented (its 401 comes from the model).
    RevokeTokens,
    /// The token endpoint answers 503.
    TokenEndpointDown,
    /// Add fields nobody documented to every JSON object.
    UnknownFields,
    /// Replace `syncState` and synced-group `status` values with new ones.
    UnknownEnums,
    /// Drop optional fields (`userTotal`, `lastSyncAt`, `active`, ...).
    MissingFields,
    /// Point `_links.next.href` back at the page itself.
    PagingLoop,
    /// Pad the answer to `bytes` (default 64 MiB), generated as it is sent.
    Huge,
    /// Answer with an error whose text quotes the credential presented: the
    /// client secret (token endpoint, 401 `invalid_client`) or the bearer
    /// token (API, 400 `INVALID_DATA`). For leak tests.
    EchoCredentials,
    /// Announce `expires_in: seconds` (default 2^64−1) in the token answer,
    /// whatever the token really lives (only on `token`).
    TokenExpiresIn,
}

/// One fault rule. Everything but `kind` is optional.
#[derive(Clone, Debug, PartialEq, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct FaultRule {
    /// What happens.
    pub kind: FaultKind,
    /// Endpoint template (`stores`, `token`, `synced_groups`, ... as in
    /// `/_sim/requests`); every endpoint when absent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub endpoint: Option<String>,
    /// Environment id or name (the path's environment; for `token`, the
    /// worker environment); every environment when absent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub environment: Option<String>,
    /// HTTP status of `status` (400–599, default 503).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub status: Option<u16>,
    /// `Retry-After` delay in seconds (default 1).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub seconds: Option<u64>,
    /// Delay of `slow` and `slow_body`, milliseconds (default 1000).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub delay_ms: Option<u64>,
    /// Size of a `huge` answer in bytes (default 64 MiB).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub bytes: Option<u64>,
    /// `huge`: announce the size in `Content-Length` (default: chunked).
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub content_length: bool,
    /// Affect this many matching requests, then expire.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub count: Option<u64>,
    /// Expire this many milliseconds after being set.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub duration_ms: Option<u64>,
    /// Affect each matching request with this probability (default 1).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub probability: Option<f64>,
}

const TEMPLATES: [&str; 11] = [
    "token",
    "plans",
    "stores",
    "store",
    "rules",
    "rule",
    "synced_groups",
    "revision_latest",
    "revision_create",
    "users",
    "user_synced_rule",
];
const MAX_DELAY_MS: u64 = 600_000;
const MAX_BYTES: u64 = 16 << 30;

impl FaultRule {
    /// Checks bounds and resolves `environment` (id or name, from `envs` as
    /// `(id, name)`) to an id.
    pub(crate) fn check(&self, envs: &[(String, String)]) -> Result<Option<String>, String> {
        use FaultKind as K;
        if let Some(e) = &self.endpoint
            && !TEMPLATES.contains(&e.as_str())
        {
            return Err(format!("endpoint {e:?}: one of {}", TEMPLATES.join(", ")));
        }
        let on_token = self.endpoint.as_deref() == Some("token");
        let bad = match self.kind {
            K::Status => self.status.is_some_and(|s| !(400..=599).contains(&s)),
            K::RetryAfter | K::RetryAfterDate => self.seconds.is_some_and(|s| s > 86_400),
            K::Slow | K::SlowBody => self.delay_ms.is_some_and(|d| d > MAX_DELAY_MS),
            K::Huge => self.bytes.is_some_and(|b| b > MAX_BYTES),
            K::TokenEndpointDown | K::TokenExpiresIn => self.endpoint.is_some() && !on_token,
            K::RevokeTokens => on_token,
            _ => false,
        };
        if bad || self.probability.is_some_and(|p| !(0.0..=1.0).contains(&p)) {
            return Err(format!(
                "{:?}: status 400-599, seconds <= 86400, delay_ms <= {MAX_DELAY_MS}, bytes <= {MAX_BYTES}, \
                 probability in [0, 1]; token_endpoint_down and token_expires_in only on token, \
                 revoke_tokens never on token",
                self.kind
            ));
        }
        match &self.environment {
            None => Ok(None),
            Some(r) => envs
                .iter()
                .find(|(id, name)| id == r || name == r)
                .map(|(id, _)| Some(id.clone()))
                .ok_or_else(|| format!("environment {r:?}: no environment with that id or name")),
        }
    }

    pub(super) fn applies_to(&self, template: &str) -> bool {
        match self.kind {
            FaultKind::TokenEndpointDown | FaultKind::TokenExpiresIn => template == "token",
            FaultKind::RevokeTokens => template != "token",
            _ => self.endpoint.as_deref().is_none_or(|e| e == template),
        }
    }

    /// Answers instead of the model: nothing after it fires.
    pub(super) fn answers(&self) -> bool {
        use FaultKind as K;
        matches!(
            self.kind,
            K::Status
                | K::RetryAfter
                | K::RetryAfterDate
                | K::TokenEndpointDown
                | K::EchoCredentials
        )
    }

    /// Decides how the body is sent: one such rule per request.
    pub(super) fn shapes(&self) -> bool {
        matches!(
            self.kind,
            FaultKind::Huge | FaultKind::ResetMidBody | FaultKind::SlowBody
        )
    }

    pub(super) fn delay(&self) -> Duration {
        Duration::from_millis(self.delay_ms.unwrap_or(1000))
    }
}
