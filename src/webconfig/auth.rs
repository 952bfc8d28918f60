//! HTTP basic authentication against `basic_auth_users` (bcrypt hashes).
//!
//! - bcrypt's comparison is constant-time over the hash; a user name that
//!   is not configured is checked against a dummy hash with the cost of the
//!   *cheapest* configured one, so an unknown user takes as long as a wrong
//!   password for that user and user names cannot be found by timing.
//! - bcrypt is slow on purpose (cost 10 is about 50-100 ms of CPU), and a
//!   scraper sends its credentials with every scrape. Like the exporter
//!   toolkit, successful checks are cached: the key is an HMAC-SHA-256,
//!   under a random key made at start-up, of user, hash and password (the
//!   password itself is never kept, and a memory dump does not give a fast
//!   offline test of passwords), at most [`CACHE_ENTRIES`] entries, each for
//!   [`CACHE_TTL`]. A changed hash or a removed user misses the cache, so it
//!   cannot keep an old password working.
//! - One bcrypt computation runs at a time, on a blocking thread, so a
//!   flood of wrong passwords costs at most one core and never stalls the
//!   async workers serving scrapes with cached credentials. At most
//!   [`QUEUE`] checks wait for it, each at most [`MAX_WAIT`]; others are
//!   answered [`Verdict::Busy`] (`503`) at once.
//! - Each client address has a failure budget ([`super::failures`]); over
//!   it, [`Verdict::TooManyFailures`] (`429`) without bcrypt.
//!
//! Neither the password nor the `Authorization` header is ever logged.

use std::collections::{BTreeMap, HashMap, VecDeque};
use std::net::IpAddr;
use std::str::FromStr;
use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::time::Duration;

use base64::Engine;
use hyper::header::HeaderValue;
use ring::hmac;
use tokio::time::Instant;

use super::failures::Failures;

/// Cached successful checks kept at most.
pub const CACHE_ENTRIES: usize = 256;
/// How long a successful check is cached.
pub const CACHE_TTL: Duration = Duration::from_secs(300);
/// Checks that may wait for the bcrypt thread (one more runs).
pub const QUEUE: usize = 8;
/// The longest a check waits for the bcrypt thread.
pub const MAX_WAIT: Duration = Duration::from_secs(5);

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
            .min()
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

/// The outcome of a check.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Verdict {
    /// The credentials are a configured user's.
    Allowed,
    /// Missing, malformed or wrong credentials: `401`.
    Denied,
    /// The bcrypt queue is full, or the wait for it ran out: `503`.
    Busy,
    /// The client address spent its failure budget: `429`, retry after this.
    TooManyFailures(Duration),
}

/// Verifies credentials, with the cache, queue and budget described in
/// the module docs.
#[derive(Debug)]
pub struct Authenticator {
    /// `None` when no random key could be made: then nothing is cached.
    key: Option<hmac::Key>,
    cache: Mutex<Cache>,
    gate: tokio::sync::Semaphore,
    waiting: AtomicUsize,
    failures: Failures,
    bcrypt_runs: AtomicU64,
}

#[derive(Debug, Default)]
struct Cache {
    expiry: HashMap<[u8; 32], Instant>,
    order: VecDeque<[u8; 32]>,
}

impl Authenticator {
    /// An authenticator with an empty cache and a fresh cache key.
    pub fn new() -> Self {
        let mut secret = [0u8; 32];
        let key = ring::rand::SecureRandom::fill(&ring::rand::SystemRandom::new(), &mut secret)
            .ok()
            .map(|()| hmac::Key::new(hmac::HMAC_SHA256, &secret));
        Self {
            key,
            cache: Mutex::default(),
            gate: tokio::sync::Semaphore::new(1),
            waiting: AtomicUsize::new(0),
            failures: Failures::default(),
            bcrypt_runs: AtomicU64::new(0),
        }
    }
}

impl Default for Authenticator {
    fn default() -> Self {
        Self::new()
    }
}

/// Counts a check waiting for the bcrypt thread while it lives.
struct Waiting<'a>(&'a AtomicUsize);

impl Drop for Waiting<'_> {
    fn drop(&mut self) {
        self.0.fetch_sub(1, Ordering::Relaxed);
    }
}

impl Authenticator {
    /// How many bcrypt comparisons ran (cache hits run none): for tests.
    pub fn bcrypt_runs(&self) -> u64 {
        self.bcrypt_runs.load(Ordering::Relaxed)
    }

    /// Checks the `Authorization` header against `users`, for a request
    /// from `peer` (its failure budget; `None`: no budget).
    pub async fn check(
        &self,
        users: &Users,
        header: Option<&HeaderValue>,
        peer: Option<IpAddr>,
    ) -> Verdict {
        let Some((user, password)) = header.and_then(basic_credentials) else {
            return Verdict::Denied;
        };
        let (hash, known) = match users.hashes.get(&user) {
            Some(h) => (h.clone(), true),
            None => (users.dummy.clone(), false),
        };
        let key = self.cache_key(&user, &hash, &password);
        if known && key.is_some_and(|k| self.cached(&k)) {
            return Verdict::Allowed;
        }
        if let Some(ip) = peer
            && let Err(wait) = self.failures.take(ip)
        {
            return Verdict::TooManyFailures(wait);
        }
        if self.waiting.fetch_add(1, Ordering::Relaxed) > QUEUE {
            self.waiting.fetch_sub(1, Ordering::Relaxed);
            return Verdict::Busy;
        }
        let waiting = Waiting(&self.waiting);
        let permit = match tokio::time::timeout(MAX_WAIT, self.gate.acquire()).await {
            Ok(Ok(p)) => p,
            _ => return Verdict::Busy,
        };
        self.bcrypt_runs.fetch_add(1, Ordering::Relaxed);
        let matched = tokio::task::spawn_blocking(move || bcrypt::verify(password, &hash))
            .await
            .is_ok_and(|r| r.unwrap_or(false));
        drop((permit, waiting));
        if !(known && matched) {
            return Verdict::Denied;
        }
        if let Some(k) = key {
            self.remember(k);
        }
        if let Some(ip) = peer {
            self.failures.refund(ip);
        }
        Verdict::Allowed
    }

    fn cached(&self, key: &[u8; 32]) -> bool {
        self.cache
            .lock()
            .is_ok_and(|c| c.expiry.get(key).is_some_and(|t| *t > Instant::now()))
    }

    fn remember(&self, key: [u8; 32]) {
        let Ok(mut c) = self.cache.lock() else { return };
        let now = Instant::now();
        if c.expiry.insert(key, now + CACHE_TTL).is_none() {
            c.order.push_back(key);
        }
        // Drop expired entries from the front, then the oldest over the cap.
        while let Some(old) = c.order.front().copied() {
            let expired = c.expiry.get(&old).is_none_or(|t| *t <= now);
            if !expired && c.order.len() <= CACHE_ENTRIES {
                break;
            }
            c.order.pop_front();
            c.expiry.remove(&old);
        }
    }

    /// HMAC of user, hash and password, each length-prefixed.
    fn cache_key(&self, user: &str, hash: &str, password: &str) -> Option<[u8; 32]> {
        let mut ctx = hmac::Context::with_key(self.key.as_ref()?);
        for part in [user, hash, password] {
            ctx.update(&(part.len() as u64).to_be_bytes());
            ctx.update(part.as_bytes());
        }
        let mut out = [0u8; 32];
        out.copy_from_slice(ctx.sign().as_ref());
        Some(out)
    }
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

    async fn check(auth: &Authenticator, users: &Users, user: &str, password: &str) -> Verdict {
        auth.check(users, Some(&header(user, password)), None).await
    }

    const PEER: Option<IpAddr> = Some(IpAddr::V4(std::net::Ipv4Addr::new(192, 0, 2, 7)));

    #[tokio::test]
    async fn right_password_passes_and_is_cached() {
        let (auth, users) = (Authenticator::new(), users());
        assert_eq!(
            check(&auth, &users, "prometheus", "right").await,
            Verdict::Allowed
        );
        assert_eq!(
            check(&auth, &users, "prometheus", "right").await,
            Verdict::Allowed
        );
        assert_eq!(auth.bcrypt_runs(), 1, "the second check is a cache hit");
    }

    #[tokio::test(start_paused = true)]
    async fn the_cache_forgets_after_its_ttl() {
        let (auth, users) = (Authenticator::new(), users());
        assert_eq!(
            check(&auth, &users, "prometheus", "right").await,
            Verdict::Allowed
        );
        tokio::time::advance(CACHE_TTL - Duration::from_secs(1)).await;
        assert_eq!(
            check(&auth, &users, "prometheus", "right").await,
            Verdict::Allowed
        );
        assert_eq!(auth.bcrypt_runs(), 1);
        tokio::time::advance(Duration::from_secs(1)).await;
        assert_eq!(
            check(&auth, &users, "prometheus", "right").await,
            Verdict::Allowed
        );
        assert_eq!(auth.bcrypt_runs(), 2, "expired: bcrypt again");
    }

    #[tokio::test]
    async fn wrong_password_fails_every_time_through_bcrypt() {
        let (auth, users) = (Authenticator::new(), users());
        for _ in 0..2 {
            assert_eq!(
                check(&auth, &users, "prometheus", "wrong").await,
                Verdict::Denied
            );
        }
        assert_eq!(auth.bcrypt_runs(), 2, "failures are never cached");
    }

    #[tokio::test]
    async fn an_unknown_user_runs_bcrypt_at_the_cheapest_cost() {
        let (auth, mut users) = (Authenticator::new(), users());
        users.insert("costly".into(), bcrypt::hash("x", 5).unwrap());
        assert_eq!(
            check(&auth, &users, "nobody", "right").await,
            Verdict::Denied
        );
        assert_eq!(
            auth.bcrypt_runs(),
            1,
            "unknown users are compared against the dummy hash"
        );
        assert!(
            users.dummy.starts_with("$2y$04$"),
            "the dummy has the cheapest user's cost: {}",
            users.dummy
        );
        check_hash(&users.dummy).unwrap();
    }

    #[tokio::test]
    async fn a_changed_hash_misses_the_cache() {
        let auth = Authenticator::new();
        let mut users = users();
        assert_eq!(
            check(&auth, &users, "prometheus", "right").await,
            Verdict::Allowed
        );
        users.insert("prometheus".into(), bcrypt::hash("new", 4).unwrap());
        assert_eq!(
            check(&auth, &users, "prometheus", "right").await,
            Verdict::Denied
        );
        assert_eq!(
            check(&auth, &users, "prometheus", "new").await,
            Verdict::Allowed
        );
    }

    #[tokio::test]
    async fn malformed_headers_fail_without_bcrypt() {
        let (auth, users) = (Authenticator::new(), users());
        for h in ["Bearer abc", "Basic !!!", "Basic cHJvbWV0aGV1cw==", ""] {
            let h = HeaderValue::from_str(h).unwrap();
            assert_eq!(
                auth.check(&users, Some(&h), PEER).await,
                Verdict::Denied,
                "{h:?}"
            );
        }
        assert_eq!(auth.check(&users, None, PEER).await, Verdict::Denied);
        assert_eq!(auth.bcrypt_runs(), 0);
    }

    #[tokio::test]
    async fn an_address_over_its_failure_budget_gets_429_without_bcrypt() {
        let (auth, users) = (Authenticator::new(), users());
        let right = header("prometheus", "right");
        // The real scraper authenticated once: its credentials are cached.
        assert_eq!(
            auth.check(&users, Some(&right), PEER).await,
            Verdict::Allowed
        );
        let wrong = header("prometheus", "wrong");
        for _ in 0..super::super::failures::BURST {
            assert_eq!(
                auth.check(&users, Some(&wrong), PEER).await,
                Verdict::Denied
            );
        }
        let runs = auth.bcrypt_runs();
        assert!(matches!(
            auth.check(&users, Some(&wrong), PEER).await,
            Verdict::TooManyFailures(d) if d > Duration::ZERO
        ));
        assert!(matches!(
            auth.check(&users, Some(&header("nobody", "x")), PEER).await,
            Verdict::TooManyFailures(_)
        ));
        assert_eq!(auth.bcrypt_runs(), runs, "no bcrypt over the budget");
        assert_eq!(
            auth.check(&users, Some(&right), PEER).await,
            Verdict::Allowed,
            "cached credentials pass"
        );
        let other = Some(IpAddr::from([192, 0, 2, 8]));
        assert_eq!(
            auth.check(&users, Some(&wrong), other).await,
            Verdict::Denied
        );
    }

    #[tokio::test(start_paused = true)]
    async fn the_bcrypt_queue_and_the_wait_for_it_are_bounded() {
        let auth = std::sync::Arc::new(Authenticator::new());
        let users = std::sync::Arc::new(users());
        // A bcrypt check that does not end (the gate held here).
        let running = auth.gate.acquire().await.unwrap();
        let queued: Vec<_> = (0..=QUEUE)
            .map(|_| {
                let (auth, users) = (auth.clone(), users.clone());
                tokio::spawn(async move {
                    auth.check(&users, Some(&header("prometheus", "wrong")), None)
                        .await
                })
            })
            .collect();
        tokio::task::yield_now().await;
        while auth.waiting.load(Ordering::Relaxed) < QUEUE + 1 {
            tokio::task::yield_now().await;
        }
        assert_eq!(
            check(&auth, &users, "prometheus", "right").await,
            Verdict::Busy,
            "queue full"
        );
        tokio::time::advance(MAX_WAIT).await;
        for q in queued {
            assert_eq!(q.await.unwrap(), Verdict::Busy, "waited too long");
        }
        assert_eq!(auth.bcrypt_runs(), 0);
        drop(running);
        assert_eq!(
            check(&auth, &users, "prometheus", "right").await,
            Verdict::Allowed
        );
    }

    #[test]
    fn the_cache_is_bounded() {
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_time()
            .build()
            .unwrap();
        let _guard = rt.enter();
        let auth = Authenticator::new();
        let key = |i: usize| auth.cache_key("u", "h", &i.to_string()).unwrap();
        for i in 0..(CACHE_ENTRIES + 10) {
            auth.remember(key(i));
        }
        let c = auth.cache.lock().unwrap();
        assert_eq!(
            (c.expiry.len(), c.order.len()),
            (CACHE_ENTRIES, CACHE_ENTRIES)
        );
        assert!(!c.expiry.contains_key(&key(0)));
    }

    #[test]
    fn cache_keys_depend_on_a_per_process_secret() {
        let (a, b) = (Authenticator::new(), Authenticator::new());
        assert_ne!(a.cache_key("u", "h", "p"), b.cache_key("u", "h", "p"));
        assert_eq!(a.cache_key("u", "h", "p"), a.cache_key("u", "h", "p"));
        assert_ne!(a.cache_key("u", "hp", ""), a.cache_key("u", "h", "p"));
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
