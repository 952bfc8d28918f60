//! API clients and access tokens: the token endpoint
//! (`POST /{envId}/as/token`, client credentials) and the bearer check in
//! front of every `/v1` call.
//!
//! Tokens are opaque random strings kept in memory with their expiry
//! (wall-clock `Instant`, whatever the scenario clock).

use std::collections::{HashMap, HashSet};
use std::sync::Mutex;
use std::time::{Duration, Instant};

use base64::Engine as _;
use serde_json::json;

use super::model::Env;
use super::query;
use super::reply::{self, Response};
use super::scenario::ClientSpec;
use super::{DEMO_CLIENT_ID, DEMO_CLIENT_SECRET};

/// An API client (worker app) from the scenario.
#[derive(Clone, Debug)]
pub(crate) struct Client {
    pub id: String,
    pub secret: String,
    /// The environment the app lives in: its token path.
    pub worker_env: String,
    /// Environments it may read; `None` means all.
    pub allowed: Option<Vec<String>>,
}

/// The outcome of the bearer check.
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum Access {
    /// Valid token, allowed on the environment.
    Granted,
    /// Missing, unknown or expired token (401).
    Unauthenticated(&'static str),
    /// Valid token of a client not allowed on the environment (403).
    Forbidden,
}

struct Issued {
    client: usize,
    expires: Instant,
}

/// Clients and the tokens issued to them.
pub(crate) struct Auth {
    clients: Vec<Client>,
    lifetime: Duration,
    prefix: String,
    tokens: Mutex<HashMap<String, Issued>>,
}

impl Auth {
    /// Clients from the scenario; tokens live `lifetime`.
    pub fn new(clients: Vec<Client>, lifetime: Duration) -> Self {
        Self {
            clients,
            lifetime,
            prefix: String::new(),
            tokens: Mutex::new(HashMap::new()),
        }
    }

    /// Starts every issued token with `prefix` (a recognisable token for
    /// leak tests).
    pub fn with_token_prefix(mut self, prefix: &str) -> Self {
        self.prefix = prefix.to_owned();
        self
    }

    /// Revokes the bearer token in an `Authorization` header, if any: the
    /// next call with it gets 401 although it has not expired.
    pub fn revoke(&self, authorization: Option<&str>) {
        if let Some(token) = authorization.and_then(|h| strip_scheme(h, "Bearer")) {
            self.tokens
                .lock()
                .unwrap_or_else(std::sync::PoisonError::into_inner)
                .remove(token);
        }
    }

    /// The clients, for start-up messages.
    pub fn clients(&self) -> &[Client] {
        &self.clients
    }

    /// Answers `POST /{env}/as/token` with this `Authorization` header and
    /// form body.
    pub fn token(&self, env: &str, authorization: Option<&str>, body: &[u8]) -> Response {
        let form = query::pairs(&String::from_utf8_lossy(body));
        match query::get(&form, "grant_type") {
            Some("client_credentials") => {}
            None => return reply::oauth_error(400, "invalid_request", "grant_type is required"),
            Some(_) => {
                return reply::oauth_error(
                    400,
                    "unsupported_grant_type",
                    "Only client_credentials is supported",
                );
            }
        }
        let presented = authorization.and_then(basic_credentials).or_else(|| {
            Some((
                query::get(&form, "client_id")?.to_owned(),
                query::get(&form, "client_secret")?.to_owned(),
            ))
        });
        let Some((id, secret)) = presented else {
            return reply::oauth_error(401, "invalid_client", "Client authentication is required");
        };
        let found = self
            .clients
            .iter()
            .position(|c| c.id == id && c.secret == secret && c.worker_env == env);
        let Some(client) = found else {
            return reply::oauth_error(
                401,
                "invalid_client",
                "Request denied: unsupported authentication method or invalid client credentials",
            );
        };
        let token: String = self
            .prefix
            .chars()
            .chain(std::iter::repeat_with(fastrand::alphanumeric).take(48))
            .collect();
        let now = Instant::now();
        let mut tokens = self
            .tokens
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        if tokens.len() >= 1024 {
            tokens.retain(|_, t| t.expires > now);
        }
        tokens.insert(
            token.clone(),
            Issued {
                client,
                expires: now + self.lifetime,
            },
        );
        drop(tokens);
        let mut r = reply::json(
            200,
            &json!({"access_token": token, "token_type": "Bearer", "expires_in": self.lifetime.as_secs()}),
        );
        r.headers_mut().insert(
            hyper::header::CACHE_CONTROL,
            hyper::header::HeaderValue::from_static("no-store"),
        );
        r
    }

    /// Checks `Authorization: Bearer ...` for a call on environment `env`.
    pub fn check(&self, authorization: Option<&str>, env: &str) -> Access {
        let Some(token) = authorization.and_then(|h| strip_scheme(h, "Bearer")) else {
            return Access::Unauthenticated("No access token was provided");
        };
        let tokens = self
            .tokens
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        let Some(issued) = tokens.get(token) else {
            return Access::Unauthenticated("The access token is not valid");
        };
        if issued.expires <= Instant::now() {
            return Access::Unauthenticated("The access token has expired");
        }
        let allowed = self.clients.get(issued.client).is_some_and(|c| {
            c.allowed
                .as_ref()
                .is_none_or(|a| a.iter().any(|e| e == env))
        });
        if allowed {
            Access::Granted
        } else {
            Access::Forbidden
        }
    }
}

/// The scenario's clients with environment names resolved to ids; with
/// none listed, the demo client, allowed everywhere.
pub(crate) fn resolve_clients(specs: &[ClientSpec], envs: &[Env]) -> Result<Vec<Client>, String> {
    let first = envs.first().map(|e| e.id.clone()).unwrap_or_default();
    if specs.is_empty() {
        return Ok(vec![Client {
            id: DEMO_CLIENT_ID.into(),
            secret: DEMO_CLIENT_SECRET.into(),
            worker_env: first,
            allowed: None,
        }]);
    }
    let resolve = |what: &str, r: &str| {
        envs.iter()
            .find(|e| e.id == r || e.name == r)
            .map(|e| e.id.clone())
            .ok_or_else(|| format!("{what}: no environment with id or name {r:?}"))
    };
    let mut seen = HashSet::new();
    specs
        .iter()
        .enumerate()
        .map(|(i, c)| {
            if c.client_id.is_empty() || !seen.insert(c.client_id.as_str()) {
                return Err(format!("clients[{i}].client_id: empty or duplicate"));
            }
            let worker_env = match &c.environment_id {
                Some(r) => resolve(&format!("clients[{i}].environment_id"), r)?,
                None => first.clone(),
            };
            let allowed = match &c.environments {
                Some(list) => Some(
                    list.iter()
                        .map(|r| resolve(&format!("clients[{i}].environments"), r))
                        .collect::<Result<Vec<_>, _>>()?,
                ),
                None => None,
            };
            Ok(Client {
                id: c.client_id.clone(),
                secret: c.client_secret.clone(),
                worker_env,
                allowed,
            })
        })
        .collect()
}

/// The value after `scheme ` in an `Authorization` header (scheme matched
/// case-insensitively).
fn strip_scheme<'a>(header: &'a str, scheme: &str) -> Option<&'a str> {
    let (s, rest) = header.trim().split_once(' ')?;
    let rest = rest.trim();
    (s.eq_ignore_ascii_case(scheme) && !rest.is_empty()).then_some(rest)
}

/// `(client_id, client_secret)` from HTTP Basic, form-decoded as RFC 6749
/// section 2.3.1 asks.
pub(crate) fn basic_credentials(header: &str) -> Option<(String, String)> {
    let raw = base64::engine::general_purpose::STANDARD
        .decode(strip_scheme(header, "Basic")?)
        .ok()?;
    let text = String::from_utf8(raw).ok()?;
    let (id, secret) = text.split_once(':')?;
    Some((query::decode(id), query::decode(secret)))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn auth(lifetime: Duration) -> Auth {
        let c = |id: &str, allowed: Option<Vec<String>>| Client {
            id: id.into(),
            secret: "s3cret".into(),
            worker_env: "w".into(),
            allowed,
        };
        Auth::new(
            vec![c("all", None), c("only-a", Some(vec!["a".into()]))],
            lifetime,
        )
    }

    fn issue(a: &Auth, id: &str) -> String {
        let basic = base64::engine::general_purpose::STANDARD.encode(format!("{id}:s3cret"));
        let r = a.token(
            "w",
            Some(&format!("Basic {basic}")),
            b"grant_type=client_credentials",
        );
        assert_eq!(r.status(), 200);
        let tokens = a.tokens.lock().unwrap();
        tokens
            .iter()
            .find(|(_, t)| a.clients[t.client].id == id)
            .unwrap()
            .0
            .clone()
    }

    #[test]
    fn token_errors() {
        let a = auth(Duration::from_secs(60));
        assert_eq!(a.token("w", None, b"grant_type=password").status(), 400);
        assert_eq!(a.token("w", None, b"").status(), 400);
        assert_eq!(
            a.token("w", None, b"grant_type=client_credentials")
                .status(),
            401
        );
        let post = b"grant_type=client_credentials&client_id=all&client_secret=s3cret";
        assert_eq!(a.token("w", None, post).status(), 200);
        assert_eq!(a.token("other-env", None, post).status(), 401);
        let wrong = b"grant_type=client_credentials&client_id=all&client_secret=nope";
        assert_eq!(a.token("w", None, wrong).status(), 401);
    }

    #[test]
    fn bearer_checks() {
        let a = auth(Duration::from_secs(60));
        let t = issue(&a, "only-a");
        assert_eq!(a.check(Some(&format!("Bearer {t}")), "a"), Access::Granted);
        assert_eq!(
            a.check(Some(&format!("bearer {t}")), "b"),
            Access::Forbidden
        );
        assert!(matches!(a.check(None, "a"), Access::Unauthenticated(_)));
        assert!(matches!(
            a.check(Some("Bearer nope"), "a"),
            Access::Unauthenticated(_)
        ));
        let expired = auth(Duration::from_millis(1));
        let t = issue(&expired, "all");
        std::thread::sleep(Duration::from_millis(5));
        assert_eq!(
            expired.check(Some(&format!("Bearer {t}")), "a"),
            Access::Unauthenticated("The access token has expired")
        );
    }
}
