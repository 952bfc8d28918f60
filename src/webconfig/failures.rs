//! A failure budget per client address for basic auth: each address may
//! make [`BURST`] unverified attempts at once, then one more every
//! [`REFILL`]. An attempt is taken before bcrypt runs and given back when
//! the password was right, so attempts in flight count. Over
//! budget, a request is answered `429` at once, without running bcrypt, so
//! a flood of wrong passwords from one address cannot fill the bcrypt queue
//! in front of the real scraper. Cached credentials pass before the budget
//! is consulted: a scraper that already authenticated is never refused.

use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::Mutex;
use std::time::Duration;

use tokio::time::Instant;

use crate::http::PeerKey;

/// Failures an address may make back to back.
pub const BURST: u32 = 10;
/// Time in which an address earns one more failure (so 10 a minute).
pub const REFILL: Duration = Duration::from_secs(6);
/// Addresses tracked at most; when full, addresses whose budget refilled
/// are forgotten, and if none has, new addresses go untracked (the bounded
/// bcrypt queue still protects the scraper).
pub const MAX_PEERS: usize = 4096;

#[derive(Clone, Copy, Debug)]
struct Bucket {
    /// Failures still allowed at `at`.
    left: f64,
    at: Instant,
}

impl Bucket {
    fn now(self, now: Instant) -> f64 {
        let earned = now.saturating_duration_since(self.at).as_secs_f64() / REFILL.as_secs_f64();
        (self.left + earned).min(f64::from(BURST))
    }
}

/// The budgets; see the module documentation.
#[derive(Debug, Default)]
pub struct Failures {
    peers: Mutex<HashMap<PeerKey, Bucket>>,
}

impl Failures {
    /// Takes one attempt from `ip`'s budget before its check runs (so
    /// checks in flight count too), or says how long until it may try.
    pub fn take(&self, ip: IpAddr) -> Result<(), Duration> {
        let now = Instant::now();
        let Ok(mut peers) = self.peers.lock() else {
            return Ok(());
        };
        if peers.len() >= MAX_PEERS {
            peers.retain(|_, b| b.now(now) < f64::from(BURST));
        }
        let key = PeerKey::of(ip);
        let left = match peers.get(&key) {
            Some(b) => b.now(now),
            None if peers.len() >= MAX_PEERS => return Ok(()),
            None => f64::from(BURST),
        };
        if left < 1.0 {
            return Err(REFILL.mul_f64(1.0 - left));
        }
        peers.insert(
            key,
            Bucket {
                left: left - 1.0,
                at: now,
            },
        );
        Ok(())
    }

    /// Gives back the attempt taken for a check that succeeded.
    pub fn refund(&self, ip: IpAddr) {
        let now = Instant::now();
        let Ok(mut peers) = self.peers.lock() else {
            return;
        };
        let key = PeerKey::of(ip);
        if let Some(b) = peers.get(&key).copied() {
            let left = b.now(now) + 1.0;
            if left >= f64::from(BURST) {
                peers.remove(&key);
            } else {
                peers.insert(key, Bucket { left, at: now });
            }
        }
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[tokio::test(start_paused = true)]
    async fn an_address_gets_its_burst_then_one_more_per_refill() {
        let f = Failures::default();
        let (a, b): (IpAddr, IpAddr) = ("192.0.2.1".parse().unwrap(), "192.0.2.2".parse().unwrap());
        for _ in 0..BURST {
            assert_eq!(f.take(a), Ok(()));
        }
        let wait = f.take(a).unwrap_err();
        assert!(wait > Duration::ZERO && wait <= REFILL, "{wait:?}");
        assert_eq!(f.take(b), Ok(()), "another address has its own budget");
        tokio::time::advance(REFILL).await;
        assert_eq!(f.take(a), Ok(()), "one more after a refill");
        assert!(f.take(a).is_err());
        f.refund(a);
        assert_eq!(f.take(a), Ok(()), "a success gives its attempt back");
    }

    #[tokio::test(start_paused = true)]
    async fn the_table_is_bounded() {
        let f = Failures::default();
        for i in 0..(MAX_PEERS as u32 + 100) {
            let _ = f.take(IpAddr::from(i.to_be_bytes()));
        }
        assert_eq!(f.peers.lock().unwrap().len(), MAX_PEERS);
        // Once budgets refill, new addresses are tracked again.
        tokio::time::advance(REFILL * BURST).await;
        f.take("198.51.100.1".parse().unwrap()).unwrap();
        assert_eq!(f.peers.lock().unwrap().len(), 1);
    }
}
