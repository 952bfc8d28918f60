//! The client-side request budget shared by every environment:
//! at most `max_requests_per_second` request starts per second, spaced
//! evenly, and at most `max_concurrent_requests` in flight, granted by
//! [`Priority`].
//!
//! Evenly spaced starts (a leaky bucket with a burst of one) keep every
//! one-second window within the budget, which is what PingOne's per-licence
//! rate limits measure. Retries and token requests draw from the same
//! budget.
//!
//! When more requests wait than the budget lets start, the next start goes
//! to the highest-priority waiter *at the moment it is granted* (ties in
//! arrival order), not at the moment it arrived: a stores read (the failure
//! signal) that arrives behind a hundred queued `syncedGroups` reads starts
//! next. A waiter that is dropped before its grant (a cancelled poll) leaves
//! the queue and takes nothing with it.

use std::collections::BTreeSet;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

use tokio::sync::Notify;
use tokio::time::Instant;

/// How urgent a request is. Ordered: `Signal` first.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Priority {
    /// The failure signal and what it needs: tokens, stores, resyncs.
    Signal,
    /// The structure the signal is mapped onto: rules, latest revision.
    Structure,
    /// Bulk detail: rules' `syncedGroups`, user-detail reads.
    Bulk,
}

/// The shared budget.
#[derive(Debug)]
pub struct Budget {
    inner: Arc<Inner>,
}

#[derive(Debug)]
struct Inner {
    state: Mutex<Pace>,
    /// Notified whenever who may be granted next can change: a grant, a
    /// finished request, a waiter leaving, a reconfiguration.
    changed: Notify,
}

#[derive(Debug)]
struct Pace {
    rps: f64,
    interval: Duration,
    /// The earliest start of the next request.
    next: Instant,
    concurrent: usize,
    in_flight: usize,
    /// Waiting requests by (priority, arrival number): the first is next.
    waiters: BTreeSet<(Priority, u64)>,
    arrivals: u64,
    granted: u64,
}

/// What a waiter should do after looking at the queue.
enum Turn {
    Granted,
    /// First in line with a free slot: the start time is not there yet.
    Until(Instant),
    /// Someone else is first, or every slot is in flight.
    Wait,
}

/// Held while a request is in flight; dropping it frees a concurrency slot.
#[derive(Debug)]
pub struct Permit {
    inner: Arc<Inner>,
}

impl Drop for Permit {
    fn drop(&mut self) {
        self.inner.pace().in_flight -= 1;
        self.inner.changed.notify_waiters();
    }
}

/// A place in the queue; dropping it before the grant leaves the queue.
struct Ticket<'a> {
    inner: &'a Arc<Inner>,
    key: (Priority, u64),
    granted: bool,
}

impl Drop for Ticket<'_> {
    fn drop(&mut self) {
        if !self.granted {
            self.inner.pace().waiters.remove(&self.key);
            // It may have been first in line: let the next one look.
            self.inner.changed.notify_waiters();
        }
    }
}

fn interval_for(rps: f64) -> Duration {
    // Validation guarantees rps > 0; guard anyway against a zero divisor.
    Duration::from_secs_f64(1.0 / rps.max(1e-3))
}

impl Inner {
    fn pace(&self) -> MutexGuard<'_, Pace> {
        // The guarded data stays consistent even if a holder panicked.
        self.state.lock().unwrap_or_else(|p| p.into_inner())
    }
}

impl Pace {
    fn turn(&mut self, key: (Priority, u64)) -> Turn {
        if self.waiters.first() != Some(&key) || self.in_flight >= self.concurrent {
            return Turn::Wait;
        }
        let now = Instant::now();
        if now < self.next {
            return Turn::Until(self.next);
        }
        self.waiters.remove(&key);
        self.in_flight += 1;
        self.granted += 1;
        self.next = now + self.interval;
        Turn::Granted
    }
}

impl Budget {
    /// A budget of `rps` request starts per second (> 0) and `concurrent`
    /// requests in flight (>= 1).
    pub fn new(rps: f64, concurrent: usize) -> Arc<Self> {
        Arc::new(Self {
            inner: Arc::new(Inner {
                state: Mutex::new(Pace {
                    rps,
                    interval: interval_for(rps),
                    next: Instant::now(),
                    concurrent: concurrent.max(1),
                    in_flight: 0,
                    waiters: BTreeSet::new(),
                    arrivals: 0,
                    granted: 0,
                }),
                changed: Notify::new(),
            }),
        })
    }

    /// Waits until this request is the highest-priority waiter (earliest
    /// arrival among equals), a concurrency slot is free and the next
    /// start time has come. Cancel-safe: dropping the future before it
    /// returns leaves the queue.
    pub async fn acquire(&self, priority: Priority) -> Permit {
        let mut ticket = {
            let mut pace = self.inner.pace();
            pace.arrivals += 1;
            let key = (priority, pace.arrivals);
            pace.waiters.insert(key);
            Ticket {
                inner: &self.inner,
                key,
                granted: false,
            }
        };
        loop {
            // Registered before looking, so no change between the look and
            // the wait is missed.
            let changed = self.inner.changed.notified();
            tokio::pin!(changed);
            changed.as_mut().enable();
            let turn = self.inner.pace().turn(ticket.key);
            match turn {
                Turn::Granted => {
                    ticket.granted = true;
                    // Whoever is first in line now starts its own wait.
                    self.inner.changed.notify_waiters();
                    return Permit {
                        inner: Arc::clone(&self.inner),
                    };
                }
                Turn::Until(at) => {
                    tokio::select! {
                        () = tokio::time::sleep_until(at) => {}
                        () = &mut changed => {}
                    }
                }
                Turn::Wait => changed.await,
            }
        }
    }

    /// Request starts granted since this budget was created.
    pub fn granted(&self) -> u64 {
        self.inner.pace().granted
    }

    /// The current limits: request starts per second and requests in
    /// flight at once.
    pub fn limits(&self) -> (f64, usize) {
        let pace = self.inner.pace();
        (pace.rps, pace.concurrent)
    }

    /// Applies new limits (config reload). Requests in flight keep their
    /// slots; a lower concurrency takes effect as they finish.
    pub fn reconfigure(&self, rps: f64, concurrent: usize) {
        {
            let mut pace = self.inner.pace();
            pace.rps = rps;
            pace.interval = interval_for(rps);
            pace.concurrent = concurrent.max(1);
        }
        self.inner.changed.notify_waiters();
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
            let _p = b.acquire(Priority::Bulk).await;
            starts.push(Instant::now() - t0);
        }
        let ms: Vec<u128> = starts.iter().map(|d| d.as_millis()).collect();
        assert_eq!(ms, vec![0, 250, 500, 750, 1000]);
        assert_eq!(b.granted(), 5);
        assert_eq!(b.limits(), (4.0, 8));
    }

    #[tokio::test(start_paused = true)]
    async fn concurrency_is_capped() {
        let b = Budget::new(1000.0, 2);
        let p1 = b.acquire(Priority::Bulk).await;
        let _p2 = b.acquire(Priority::Signal).await;
        let third = tokio::time::timeout(Duration::from_secs(5), b.acquire(Priority::Signal)).await;
        assert!(third.is_err(), "a third request must wait for a slot");
        drop(p1);
        let third = tokio::time::timeout(Duration::from_secs(5), b.acquire(Priority::Bulk)).await;
        assert!(third.is_ok());
    }

    #[tokio::test(start_paused = true)]
    async fn reconfigure_changes_rate_and_slots() {
        let b = Budget::new(1.0, 1);
        b.reconfigure(10.0, 3);
        let t0 = Instant::now();
        let first = b.acquire(Priority::Bulk).await;
        let second = b.acquire(Priority::Bulk).await;
        let third = b.acquire(Priority::Bulk).await;
        assert_eq!(Instant::now() - t0, Duration::from_millis(200));
        assert_eq!(b.limits(), (10.0, 3));
        // Down to one slot: the next waits until two of the three finish.
        b.reconfigure(10.0, 1);
        let mut d = tokio::spawn({
            let b = Arc::clone(&b);
            async move { b.acquire(Priority::Signal).await }
        });
        drop(first);
        assert!(
            tokio::time::timeout(Duration::from_secs(5), &mut d)
                .await
                .is_err(),
            "still two in flight for one slot"
        );
        drop(second);
        assert!(
            tokio::time::timeout(Duration::from_secs(5), &mut d)
                .await
                .is_err()
        );
        drop(third);
        assert!(
            tokio::time::timeout(Duration::from_secs(5), d)
                .await
                .is_ok()
        );
    }

    /// Spawns one waiter that records `label` in `order` when granted and
    /// holds its permit for 10 ms.
    fn waiter(
        b: &Arc<Budget>,
        p: Priority,
        label: usize,
        order: &Arc<Mutex<Vec<usize>>>,
    ) -> tokio::task::JoinHandle<()> {
        let (b, order) = (Arc::clone(b), Arc::clone(order));
        tokio::spawn(async move {
            let _permit = b.acquire(p).await;
            order.lock().unwrap().push(label);
            tokio::time::sleep(Duration::from_millis(10)).await;
        })
    }

    #[tokio::test(start_paused = true)]
    async fn a_signal_request_behind_a_hundred_bulk_reads_starts_next() {
        let b = Budget::new(10.0, 2);
        let order = Arc::new(Mutex::new(Vec::new()));
        let bulk: Vec<_> = (0..100)
            .map(|i| waiter(&b, Priority::Bulk, i, &order))
            .collect();
        // Let the first bulk read start and the rest queue up.
        tokio::time::sleep(Duration::from_millis(50)).await;
        assert_eq!(*order.lock().unwrap(), vec![0]);
        let structure = waiter(&b, Priority::Structure, 1000, &order);
        tokio::task::yield_now().await;
        let signal = waiter(&b, Priority::Signal, 999, &order);
        signal.await.unwrap();
        structure.await.unwrap();
        assert_eq!(
            *order.lock().unwrap(),
            vec![0, 999, 1000],
            "granted by priority at grant time, not by arrival"
        );
        for t in bulk {
            t.await.unwrap();
        }
        let order = order.lock().unwrap();
        assert_eq!(order.len(), 102);
        assert_eq!(
            order[3..],
            (1..100).collect::<Vec<_>>(),
            "FIFO among equals"
        );
        assert_eq!(b.granted(), 102);
    }

    #[tokio::test(start_paused = true)]
    async fn a_cancelled_waiter_frees_its_turn() {
        let b = Budget::new(1000.0, 1);
        let held = b.acquire(Priority::Bulk).await;
        let order = Arc::new(Mutex::new(Vec::new()));
        // A signal waiter first in line is cancelled (its poll stopped).
        let cancelled = waiter(&b, Priority::Signal, 0, &order);
        tokio::task::yield_now().await;
        let later = waiter(&b, Priority::Bulk, 1, &order);
        tokio::time::sleep(Duration::from_millis(5)).await;
        cancelled.abort();
        assert!(cancelled.await.unwrap_err().is_cancelled());
        drop(held);
        later.await.unwrap();
        assert_eq!(*order.lock().unwrap(), vec![1]);
        // A waiter that times out while a slot is held leaves nothing
        // behind: once the slot is free, the next is granted at once.
        let held = b.acquire(Priority::Bulk).await;
        let gave_up =
            tokio::time::timeout(Duration::from_secs(1), b.acquire(Priority::Signal)).await;
        assert!(gave_up.is_err());
        drop(held);
        let t0 = Instant::now();
        let again = tokio::time::timeout(Duration::from_secs(1), b.acquire(Priority::Bulk)).await;
        assert!(again.is_ok());
        assert!(Instant::now() - t0 < Duration::from_millis(2));
        assert_eq!(b.granted(), 4, "held, later, held again, again");
    }

    #[tokio::test(start_paused = true)]
    async fn priority_never_lifts_the_concurrency_cap() {
        let b = Budget::new(1000.0, 3);
        let in_flight = Arc::new(Mutex::new((0usize, 0usize)));
        let tasks: Vec<_> = (0..60)
            .map(|i| {
                let (b, n) = (Arc::clone(&b), Arc::clone(&in_flight));
                let p = [Priority::Signal, Priority::Structure, Priority::Bulk][i % 3];
                tokio::spawn(async move {
                    let _permit = b.acquire(p).await;
                    {
                        let mut n = n.lock().unwrap();
                        n.0 += 1;
                        n.1 = n.1.max(n.0);
                    }
                    tokio::time::sleep(Duration::from_millis(20)).await;
                    n.lock().unwrap().0 -= 1;
                })
            })
            .collect();
        for t in tasks {
            t.await.unwrap();
        }
        assert_eq!(in_flight.lock().unwrap().1, 3);
    }
}
