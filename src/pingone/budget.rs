//! The client-side request budget shared by every environment:
//! at most `max_requests_per_second` request starts per second, spaced
//! evenly, and at most `max_concurrent_requests` in flight.
//!
//! Evenly spaced starts (a leaky bucket with a burst of one) keep every
//! one-second window within the budget, which is what PingOne's per-licence
//! rate limits measure. Retries and token requests draw from the same
//! budget.

use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

use tokio::sync::{OwnedSemaphorePermit, Semaphore};
use tokio::time::Instant;

/// The shared budget.
#[derive(Debug)]
pub struct Budget {
    slots: Arc<Semaphore>,
    state: Mutex<Pace>,
}

#[derive(Debug)]
struct Pace {
    interval: Duration,
    next: Instant,
    concurrent: usize,
}

/// Held while a request is in flight; dropping it frees a concurrency slot.
#[derive(Debug)]
pub struct Permit {
    _slot: OwnedSemaphorePermit,
}

fn interval_for(rps: f64) -> Duration {
    // Validation guarantees rps > 0; guard anyway against a zero divisor.
    Duration::from_secs_f64(1.0 / rps.max(1e-3))
}

impl Budget {
    /// A budget of `rps` request starts per second (> 0) and `concurrent`
    /// requests in flight (>= 1).
    pub fn new(rps: f64, concurrent: usize) -> Arc<Self> {
        let concurrent = concurrent.max(1);
        Arc::new(Self {
            slots: Arc::new(Semaphore::new(concurrent)),
            state: Mutex::new(Pace {
                interval: interval_for(rps),
                next: Instant::now(),
                concurrent,
            }),
        })
    }

    fn pace(&self) -> MutexGuard<'_, Pace> {
        // The guarded data stays consistent even if a holder panicked.
        self.state.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Waits for a concurrency slot, then for the next start time.
    pub async fn acquire(&self) -> Permit {
        let slot = loop {
            // The semaphore is never closed; the loop only satisfies the type.
            if let Ok(p) = Arc::clone(&self.slots).acquire_owned().await {
                break p;
            }
        };
        let at = {
            let mut pace = self.pace();
            let at = pace.next.max(Instant::now());
            pace.next = at + pace.interval;
            at
        };
        tokio::time::sleep_until(at).await;
        Permit { _slot: slot }
    }

    /// Applies new limits (config reload). Requests in flight keep their
    /// slots; a lower concurrency takes effect as they finish.
    pub fn reconfigure(&self, rps: f64, concurrent: usize) {
        let concurrent = concurrent.max(1);
        let mut pace = self.pace();
        pace.interval = interval_for(rps);
        if concurrent > pace.concurrent {
            self.slots.add_permits(concurrent - pace.concurrent);
        } else {
            let excess = pace.concurrent - concurrent;
            let forgotten = self.slots.forget_permits(excess);
            // Permits held by in-flight requests cannot be forgotten now;
            // shrink by taking them as they come back.
            if forgotten < excess {
                let slots = Arc::clone(&self.slots);
                let rest = (excess - forgotten) as u32;
                tokio::spawn(async move {
                    if let Ok(p) = slots.acquire_many_owned(rest).await {
                        p.forget();
                    }
                });
            }
        }
        pace.concurrent = concurrent;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test(start_paused = true)]
    async fn starts_are_spaced_by_the_rate() {
        let b = Budget::new(4.0, 8);
        let t0 = Instant::now();
        let mut starts = Vec::new();
        for _ in 0..5 {
            let _p = b.acquire().await;
            starts.push(Instant::now() - t0);
        }
        let ms: Vec<u128> = starts.iter().map(|d| d.as_millis()).collect();
        assert_eq!(ms, vec![0, 250, 500, 750, 1000]);
    }

    #[tokio::test(start_paused = true)]
    async fn concurrency_is_capped() {
        let b = Budget::new(1000.0, 2);
        let p1 = b.acquire().await;
        let _p2 = b.acquire().await;
        let third = tokio::time::timeout(Duration::from_secs(5), b.acquire()).await;
        assert!(third.is_err(), "a third request must wait for a slot");
        drop(p1);
        let third = tokio::time::timeout(Duration::from_secs(5), b.acquire()).await;
        assert!(third.is_ok());
    }

    #[tokio::test(start_paused = true)]
    async fn reconfigure_changes_rate_and_slots() {
        let b = Budget::new(1.0, 1);
        b.reconfigure(10.0, 3);
        let t0 = Instant::now();
        let _a = b.acquire().await;
        let _b = b.acquire().await;
        let _c = b.acquire().await;
        assert!(Instant::now() - t0 <= Duration::from_millis(200));
    }
}
