//! Worker-app access tokens: OAuth 2 client credentials with HTTP Basic
//! client authentication, cached until shortly before expiry.
//!
//! One cache per credential: environments with the same token URL, client
//! id and secret (one worker app reading many environments) share it through
//! [`TokenCaches`], so they cost one token request per token lifetime, not
//! one each. One fetch at a time per cache (callers queue on the cache lock,
//! so a burst of requests after expiry costs one token request). A token
//! that PingOne rejects with 401 before its expiry is dropped by
//! [`TokenCache::invalidate`] and fetched again once by the caller.
//!
//! The cache does not send requests itself: [`TokenCache::get`] takes the
//! fetch as an argument (the environment client's token request, in
//! `env/token.rs`), so this module stays below the HTTP client.

use std::sync::{Arc, Weak};
use std::time::Duration;

use tokio::sync::Mutex;
use tokio::time::Instant;

use super::ApiError;
use crate::secret::Secret;

/// Refresh this long before expiry, or a tenth of the lifetime for short
/// tokens, so a token never expires between being read and being used.
const REFRESH_MARGIN: Duration = Duration::from_secs(60);

/// PingOne worker tokens last an hour; assume that when `expires_in` is
/// missing.
const DEFAULT_LIFETIME: Duration = Duration::from_secs(3600);

/// The longest lifetime believed from `expires_in`: an absurd value
/// (`u64::MAX`) would overflow `Instant + Duration`, and a token is worth
/// re-fetching at least daily anyway.
pub const MAX_LIFETIME: Duration = Duration::from_secs(24 * 3600);

/// A failed token fetch is remembered this long, so the calls of one poll
/// that were waiting for the token share the failure instead of each asking
/// again with the same bad credentials. Shorter than any poll interval.
const FAILURE_MEMORY: Duration = Duration::from_secs(5);

#[derive(Debug)]
enum Cached {
    Token { token: Secret, refresh_at: Instant },
    Failed { error: ApiError, until: Instant },
}

/// The credential a token is fetched with.
#[derive(Debug)]
pub struct Credential {
    /// `{auth_url}/{worker_env_id}/as/token`.
    pub token_url: String,
    /// The worker app's client id.
    pub client_id: String,
    /// The worker app's client secret.
    pub client_secret: Secret,
}

/// The token cache of one credential.
#[derive(Debug)]
pub struct TokenCache {
    credential: Credential,
    cached: Mutex<Option<Cached>>,
}

impl TokenCache {
    /// A cache for `token_url` (`{auth_url}/{worker_env_id}/as/token`).
    pub fn new(token_url: String, client_id: String, client_secret: Secret) -> Self {
        Self {
            credential: Credential {
                token_url,
                client_id,
                client_secret,
            },
            cached: Mutex::new(None),
        }
    }

    /// A token valid for at least the refresh margin, fetching one with
    /// `fetch` if needed. `fetch` returns the token and its lifetime; it is
    /// called at most once, and only while no valid token is cached.
    pub async fn get<F>(&self, fetch: F) -> Result<Secret, ApiError>
    where
        F: AsyncFnOnce(&Credential) -> Result<(Secret, Duration), ApiError>,
    {
        let mut cached = self.cached.lock().await;
        let now = Instant::now();
        match cached.as_ref() {
            Some(Cached::Token { token, refresh_at }) if now < *refresh_at => {
                return Ok(token.clone());
            }
            Some(Cached::Failed { error, until }) if now < *until => return Err(error.clone()),
            _ => {}
        }
        match fetch(&self.credential).await {
            Ok((token, lifetime)) => {
                *cached = Some(Cached::Token {
                    token: token.clone(),
                    refresh_at: refresh_at(Instant::now(), lifetime),
                });
                Ok(token)
            }
            Err(error) => {
                *cached = Some(Cached::Failed {
                    error: error.clone(),
                    until: Instant::now()
                        .checked_add(FAILURE_MEMORY)
                        .unwrap_or_else(Instant::now),
                });
                Err(error)
            }
        }
    }

    /// The cached token, if one is held (never fetches): what text from
    /// PingOne must not quote back (see `redact`).
    pub async fn cached(&self) -> Option<Secret> {
        match self.cached.lock().await.as_ref() {
            Some(Cached::Token { token, .. }) => Some(token.clone()),
            _ => None,
        }
    }

    /// Drops `token` if it is still the cached one (another caller may have
    /// replaced it already).
    pub async fn invalidate(&self, token: &Secret) {
        let mut cached = self.cached.lock().await;
        if matches!(cached.as_ref(), Some(Cached::Token { token: t, .. }) if t == token) {
            *cached = None;
        }
    }

    /// The client secret, for scrubbing error texts of the calls made with
    /// this cache's tokens.
    pub(super) fn client_secret(&self) -> &Secret {
        &self.credential.client_secret
    }

    fn is_for(&self, token_url: &str, client_id: &str, client_secret: &Secret) -> bool {
        let c = &self.credential;
        c.token_url == token_url && c.client_id == client_id && &c.client_secret == client_secret
    }
}

/// The lifetime `expires_in` announces, at most [`MAX_LIFETIME`];
/// [`DEFAULT_LIFETIME`] when absent.
pub(super) fn lifetime(expires_in: Option<u64>) -> Duration {
    expires_in
        .map(Duration::from_secs)
        .unwrap_or(DEFAULT_LIFETIME)
        .min(MAX_LIFETIME)
}

/// When a token fetched `now` with `lifetime` is refreshed: the refresh
/// margin before expiry, with checked arithmetic (never a panic, whatever
/// the clock and the lifetime).
fn refresh_at(now: Instant, lifetime: Duration) -> Instant {
    let lifetime = lifetime.min(MAX_LIFETIME);
    let margin = REFRESH_MARGIN.min(lifetime / 10);
    now.checked_add(lifetime.saturating_sub(margin))
        .unwrap_or(now)
}

/// The token caches in use, one per credential (token URL, client id,
/// secret). Holds them weakly: a cache lives as long as an environment
/// client uses it, so a rotated secret or a removed environment does not
/// keep an old token around.
#[derive(Debug, Default)]
pub struct TokenCaches {
    caches: std::sync::Mutex<Vec<Weak<TokenCache>>>,
}

impl TokenCaches {
    /// The cache for this credential, shared with every other environment
    /// client that uses the same one.
    pub fn shared(
        &self,
        token_url: String,
        client_id: String,
        client_secret: Secret,
    ) -> Arc<TokenCache> {
        // The list stays consistent even if a holder panicked.
        let mut caches = self.caches.lock().unwrap_or_else(|p| p.into_inner());
        caches.retain(|c| c.strong_count() > 0);
        let found = caches
            .iter()
            .filter_map(Weak::upgrade)
            .find(|c| c.is_for(&token_url, &client_id, &client_secret));
        found.unwrap_or_else(|| {
            let cache = Arc::new(TokenCache::new(token_url, client_id, client_secret));
            caches.push(Arc::downgrade(&cache));
            cache
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn get(caches: &TokenCaches, url: &str, id: &str, secret: &str) -> Arc<TokenCache> {
        caches.shared(url.into(), id.into(), Secret::new(secret))
    }

    #[test]
    fn one_cache_per_credential() {
        let caches = TokenCaches::default();
        let a = get(&caches, "http://a/w/as/token", "client", "s1");
        let b = get(&caches, "http://a/w/as/token", "client", "s1");
        assert!(Arc::ptr_eq(&a, &b), "same credential, same cache");
        for other in [
            get(&caches, "http://a/other/as/token", "client", "s1"),
            get(&caches, "http://a/w/as/token", "client2", "s1"),
            get(&caches, "http://a/w/as/token", "client", "rotated"),
        ] {
            assert!(
                !Arc::ptr_eq(&a, &other),
                "a different credential has its own cache"
            );
        }
    }

    #[test]
    fn an_absurd_expires_in_is_clamped_without_overflow() {
        assert_eq!(lifetime(Some(u64::MAX)), MAX_LIFETIME);
        assert_eq!(lifetime(Some(300)), Duration::from_secs(300));
        assert_eq!(lifetime(None), DEFAULT_LIFETIME);
        let now = Instant::now();
        // Before the clamp, `now + Duration::MAX` panicked here.
        let at = refresh_at(now, Duration::MAX);
        assert_eq!(at, now + MAX_LIFETIME - REFRESH_MARGIN);
        assert_eq!(
            refresh_at(now, Duration::from_secs(100)),
            now + Duration::from_secs(90)
        );
    }

    #[test]
    fn an_unused_cache_is_dropped() {
        let caches = TokenCaches::default();
        let a = get(&caches, "http://a/w/as/token", "client", "s1");
        let weak = Arc::downgrade(&a);
        drop(a);
        assert!(weak.upgrade().is_none());
        let _b = get(&caches, "http://a/w/as/token", "client", "s1");
        let live = caches.caches.lock().unwrap().len();
        assert_eq!(live, 1, "the dead entry was pruned");
    }
}
