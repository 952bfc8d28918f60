//! HTTP basic authentication against `basic_auth_users` (bcrypt hashes).
//!
//! - bcrypt's comparison is constant-time over the hash; a user name that
//!   is not configured is checked against a dummy hash of the same cost as
//!   the most expensive configured one, so an unknown user takes as long as
//!   a wrong password and user names cannot be found by timing.
//! - bcrypt is slow on purpose (cost 10 is about 50-100 ms of CPU), and a
//!   scraper sends its credentials with every scrape. Like the exporter
//!   toolkit, successful checks are cached: the key is a SHA-256 of user,
//!   hash and password (the password itself is never kept), at most
//!   [`CACHE_ENTRIES`] entries. A changed hash or a removed user misses the
//!   cache, so it cannot keep an old password working.
//! - One bcrypt computation runs at a time, on a blocking thread, so a
//!   flood of wrong passwords costs at most one core and never stalls the
//!   async workers serving scrapes with cached credentials.
//!
//! Neither the password nor the `Authorization` header is ever logged.

use std::collections::{BTreeMap, HashSet, VecDeque};
use std::str::FromStr;
use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, Ordering};

use base64::Engine;
use hyper::header::HeaderValue;

/// Cached successful checks kept at most.
pub const CACHE_ENTRIES: usize = 256;

/// A valid bcrypt hash with a cost put in: its salt and hash are from an
/// arbitrary password, so nothing verifies against it.
const DUMMY_TAIL: &str = "QOauhQNbBCuQDKes6eFzPeMqBSjb7Mr5DUmpZ/VcEd00UAV/LDeSi";

/// Configured users: name → bcrypt hash (checked by [`check_hash`]).
#[derive(Clone, Default, PartialEq, Eq)]
pub struct Users {
    hashes: BTreeMap<String, String>,
    dummy: String,
}

impl std::fmt::Debug for Users {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // Hashes are not secrets, but they can be attacked offline.
        f.debug_list().entries(self.hashes.keys()).finish()
    }
}

impl Users {
    /// Adds a user; `hash` must have passed [`check_hash`].
    pub fn insert(&mut self, name: String, hash: String) {
        self.hashes.insert(name, hash);
        let cost = self
            .hashes
            .values()
            .filter_map(|h| bcrypt::HashParts::from_str(h).ok())
            .map(|p| p.get_cost())
            .max()
            .unwrap_or(10);
        self.dummy = format!("$2y${cost:02}${DUMMY_TAIL}");
    }

    /// True when no user is configured: authentication is off.
    pub fn is_empty(&self) -> bool {
        self.hashes.is_empty()
    }

    /// Number of users.
    pub fn len(&self) -> usize {
        self.hashes.len()
    }
}

/// Checks that `hash` is a bcrypt hash bcrypt can verify with; the error
/// says what is wrong without quoting the hash.
pub fn check_hash(hash: &str) -> Result<(), String> {
    let parts = bcrypt::HashParts::from_str(hash).map_err(|_| {
        "not a bcrypt hash ($2a$, $2b$ or $2y$, a cost, then 53 characters)".to_string()
    })?;
    match parts.get_cost() {
        4..=31 => Ok(()),
        cost => Err(format!("bcrypt cost {cost} is out of range 4 to 31")),
    }
}

/// Verifies credentials, with the cache described in the module docs.
#[derive(Debug)]
pub struct Authenticator {
    cache: Mutex<Cache>,
    gate: tokio::sync::Semaphore,
    bcrypt_runs: AtomicU64,
}

#[derive(Debug, Default)]
struct Cache {
    keys: HashSet<[u8; 32]>,
    order: VecDeque<[u8; 32]>,
}

impl Authenticator {
    /// An authenticator with an empty cache.
    pub fn new() -> Self {
        Self {
            cache: Mutex::default(),
            gate: tokio::sync::Semaphore::new(1),
            bcrypt_runs: AtomicU64::new(0),
        }
    }
}

impl Default for Authenticator {
    fn default() -> Self {
        Self::new()
    }
}

impl Authenticator {
    /// How many bcrypt comparisons ran (cache hits run none): for tests.
    pub fn bcrypt_runs(&self) -> u64 {
        self.bcrypt_runs.load(Ordering::Relaxed)
    }

    /// True when the `Authorization` header holds the basic-auth
    /// credentials of a user in `users`.
    pub async fn check(&self, users: &Users, header: Option<&HeaderValue>) -> bool {
        let Some((user, password)) = header.and_then(basic_credentials) else {
            return false;
        };
        let (hash, known) = match users.hashes.get(&user) {
            Some(h) => (h.clone(), true),
            None => (users.dummy.clone(), false),
        };
        let key = cache_key(&user, &hash, &password);
        if known && self.cached(&key) {
            return true;
        }
        let Ok(_permit) = self.gate.acquire().await else {
            return false;
        };
        self.bcrypt_runs.fetch_add(1, Ordering::Relaxed);
        let matched = tokio::task::spawn_blocking(move || bcrypt::verify(password, &hash))
            .await
            .is_ok_and(|r| r.unwrap_or(false));
        let ok = known && matched;
        if ok {
            self.remember(key);
        }
        ok
    }

    fn cached(&self, key: &[u8; 32]) -> bool {
        self.cache.lock().is_ok_and(|c| c.keys.contains(key))
    }

    fn remember(&self, key: [u8; 32]) {
        if let Ok(mut c) = self.cache.lock()
            && c.keys.insert(key)
        {
            c.order.push_back(key);
            while c.order.len() > CACHE_ENTRIES {
                if let Some(old) = c.order.pop_front() {
                    c.keys.remove(&old);
                }
            }
        }
    }
}

fn cache_key(user: &str, hash: &str, password: &str) -> [u8; 32] {
    let mut ctx = ring::digest::Context::new(&ring::digest::SHA256);
    for part in [user, hash, password] {
        ctx.update(&(part.len() as u64).to_be_bytes());
        ctx.update(part.as_bytes());
    }
    let mut out = [0u8; 32];
    out.copy_from_slice(ctx.finish().as_ref());
    out
}

/// `Basic base64(user:password)` → (user, password).
fn basic_credentials(header: &HeaderValue) -> Option<(String, String)> {
    let text = header.to_str().ok()?;
    let (scheme, encoded) = text.trim().split_once(' ')?;
    if !scheme.eq_ignore_ascii_case("basic") {
        return None;
    }
    let decoded = base64::engine::general_purpose::STANDARD
        .decode(encoded.trim())
        .ok()?;
    let decoded = String::from_utf8(decoded).ok()?;
    let (user, password) = decoded.split_once(':')?;
    Some((user.to_string(), password.to_string()))
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    fn header(user: &str, password: &str) -> HeaderValue {
        let b = base64::engine::general_purpose::STANDARD.encode(format!("{user}:{password}"));
        HeaderValue::from_str(&format!("Basic {b}")).unwrap()
    }

    fn users() -> Users {
        let mut u = Users::default();
        u.insert("prometheus".into(), bcrypt::hash("right", 4).unwrap());
        u
    }

    #[tokio::test]
    async fn right_password_passes_and_is_cached() {
        let (auth, users) = (Authenticator::new(), users());
        assert!(
            auth.check(&users, Some(&header("prometheus", "right")))
                .await
        );
        assert!(
            auth.check(&users, Some(&header("prometheus", "right")))
                .await
        );
        assert_eq!(auth.bcrypt_runs(), 1, "the second check is a cache hit");
    }

    #[tokio::test]
    async fn wrong_password_fails_every_time_through_bcrypt() {
        let (auth, users) = (Authenticator::new(), users());
        for _ in 0..2 {
            assert!(
                !auth
                    .check(&users, Some(&header("prometheus", "wrong")))
                    .await
            );
        }
        assert_eq!(auth.bcrypt_runs(), 2, "failures are never cached");
    }

    #[tokio::test]
    async fn an_unknown_user_runs_bcrypt_too() {
        let (auth, users) = (Authenticator::new(), users());
        assert!(!auth.check(&users, Some(&header("nobody", "right"))).await);
        assert_eq!(
            auth.bcrypt_runs(),
            1,
            "unknown users are compared against the dummy hash"
        );
        assert!(
            users.dummy.starts_with("$2y$04$"),
            "the dummy has the users' cost"
        );
        check_hash(&users.dummy).unwrap();
    }

    #[tokio::test]
    async fn a_changed_hash_misses_the_cache() {
        let auth = Authenticator::new();
        let mut users = users();
        assert!(
            auth.check(&users, Some(&header("prometheus", "right")))
                .await
        );
        users.insert("prometheus".into(), bcrypt::hash("new", 4).unwrap());
        assert!(
            !auth
                .check(&users, Some(&header("prometheus", "right")))
                .await
        );
        assert!(auth.check(&users, Some(&header("prometheus", "new"))).await);
    }

    #[tokio::test]
    async fn malformed_headers_fail() {
        let (auth, users) = (Authenticator::new(), users());
        for h in ["Bearer abc", "Basic !!!", "Basic cHJvbWV0aGV1cw==", ""] {
            let h = HeaderValue::from_str(h).unwrap();
            assert!(!auth.check(&users, Some(&h)).await, "{h:?}");
        }
        assert!(!auth.check(&users, None).await);
    }

    #[test]
    fn the_cache_is_bounded() {
        let auth = Authenticator::new();
        for i in 0..(CACHE_ENTRIES + 10) {
            auth.remember(cache_key("u", "h", &i.to_string()));
        }
        let c = auth.cache.lock().unwrap();
        assert_eq!(
            (c.keys.len(), c.order.len()),
            (CACHE_ENTRIES, CACHE_ENTRIES)
        );
        assert!(!c.keys.contains(&cache_key("u", "h", "0")));
    }

    #[test]
    fn hashes_are_checked() {
        assert!(check_hash("$2y$10$QOauhQNbBCuQDKes6eFzPeMqBSjb7Mr5DUmpZ/VcEd00UAV/LDeSi").is_ok());
        assert!(check_hash("plain-password").is_err());
        assert!(
            check_hash("$2y$99$QOauhQNbBCuQDKes6eFzPeMqBSjb7Mr5DUmpZ/VcEd00UAV/LDeSi").is_err()
        );
        assert!(check_hash("$1$abc").is_err());
    }
}
