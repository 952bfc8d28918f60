//! The worker app's token request (OAuth 2 client credentials, HTTP Basic
//! client authentication), sent through the shared client on the lane of
//! the environment whose call needed it, so it spends from that
//! environment's budget (environments sharing a worker app may be on
//! different budgets; the one that needs the token first pays for it). The cache that decides when to
//! send it is [`crate::pingone::auth::TokenCache`].

use std::time::Duration;

use crate::pingone::auth::{Credential, lifetime};
use crate::pingone::client::{Client, Lane};
use crate::pingone::model::TokenResponse;
use crate::pingone::{ApiError, Endpoint};
use crate::secret::Secret;

/// Fetches a token for `credential`: the token and its lifetime. The request
/// and, on success, the refresh are counted against `lane`'s environment.
pub(super) async fn fetch(
    client: &Client,
    lane: &Lane,
    credential: &Credential,
) -> Result<(Secret, Duration), ApiError> {
    let body = client
        .execute(
            lane,
            Endpoint::Token,
            &[credential.client_secret.expose()],
            |http| {
                http.post(&credential.token_url)
                    .basic_auth(
                        &credential.client_id,
                        Some(credential.client_secret.expose()),
                    )
                    .header(
                        reqwest::header::CONTENT_TYPE,
                        "application/x-www-form-urlencoded",
                    )
                    .header(reqwest::header::ACCEPT, "application/json")
                    .body("grant_type=client_credentials")
            },
        )
        .await?;
    // Parse errors must not echo the body: it holds the token.
    let parsed: TokenResponse = serde_json::from_slice(&body).map_err(|e| ApiError::Malformed {
        endpoint: Endpoint::Token,
        message: format!(
            "token answer is not the expected JSON (line {}, column {})",
            e.line(),
            e.column()
        ),
    })?;
    if parsed.access_token.is_empty() {
        return Err(ApiError::Malformed {
            endpoint: Endpoint::Token,
            message: "token answer has an empty access_token".into(),
        });
    }
    client.metrics().token_refreshed(&lane.key);
    Ok((
        Secret::new(parsed.access_token),
        lifetime(parsed.expires_in),
    ))
}
