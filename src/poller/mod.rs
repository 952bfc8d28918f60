//! Polling every configured environment on its own schedule.
//!
//! Each environment has one task ([`run`]): poll, publish the snapshot,
//! sleep `poll_interval` (±10% jitter, measured from the poll's start) and
//! again. Each poll reads the stores; the rules and revision, and the
//! rules' groups, are read on slower cadences of their own ([`cache`]), the
//! group reads in the background at the lowest request priority, so that
//! a long round of them never holds up the next stores read. The first
//! poll starts at once and reads everything so `/-/ready` means full data;
//! the shared request budget spreads the requests. One environment's
//! failures or slow answers never delay another's: they only share the
//! budget.
//!
//! An environment with `user_detail` enabled has a second task ([`walk_loop`])
//! that walks its users on its own cadence and budget; the poll task merges
//! the last complete walk into each snapshot it builds.

mod cache;
mod error;
pub mod failing;
mod groups;
mod poll;
mod supervisor;
mod task;
pub mod walk_loop;

pub use error::PollError;
pub use failing::FailingTracker;
pub use poll::{Outcome, poll_once};
pub use supervisor::{Supervisor, SupervisorError};
pub use task::run;

use std::time::{Duration, Instant};

use crate::mapping::UnknownValue;
use crate::selfmetrics::SelfMetrics;
use crate::shutdown::Shutdown;
use crate::snapshot::EnvKey;
use crate::state::{EnvState, PollReport, Shared};
use crate::timefmt::now_unix;

/// Jitter applied to each interval, as a fraction.
const JITTER: f64 = 0.1;

/// The start of the run after one that started at `started`.
fn next_start(started: Instant, interval: Duration) -> Instant {
    let factor = 1.0 + (fastrand::f64() * 2.0 - 1.0) * JITTER;
    started + interval.mul_f64(factor)
}

/// A run every `interval` (±10% jitter) from the start of the previous
/// run, the first at once; a run that takes longer than the interval is
/// followed by the next at once, so runs never overlap. The schedule of
/// both the poll and the user-detail walk.
struct Schedule {
    interval: Duration,
    next: Instant,
}

impl Schedule {
    fn new(interval: Duration) -> Self {
        Self {
            interval,
            next: Instant::now(),
        }
    }

    /// Waits for the next run and returns its start, or `None` once `stop`
    /// fired.
    async fn tick(&mut self, stop: &Shutdown) -> Option<Instant> {
        tokio::select! {
            () = tokio::time::sleep_until(self.next.max(Instant::now()).into()) => {}
            () = stop.wait() => return None,
        }
        let started = Instant::now();
        self.next = next_start(started, self.interval);
        Some(started)
    }
}

/// Records a poll that died inside the exporter (a bug): logged at error,
/// counted as a failure with reason `internal`; the last good data stays.
fn internal_failure(shared: &Shared, key: &EnvKey, started: Instant, what: &str) {
    let seconds = started.elapsed().as_secs_f64();
    let finished = now_unix();
    tracing::error!(environment = %key.name, error = what, "poll task failed inside the exporter; keeping the last good data");
    shared.metrics.poll_finished(key, Err("internal"), seconds);
    let report = PollReport {
        finished_at: finished,
        duration: seconds,
        error: Some("internal error in the exporter; see its log".to_string()),
    };
    shared.update(key, |cur| EnvState {
        last_poll: Some(report.clone()),
        ..cur.clone()
    });
}

/// Logs (once per distinct value, as the self-metrics decide) and counts
/// API values the exporter does not know.
fn report_unknown<'a>(
    metrics: &SelfMetrics,
    env: &str,
    unknown: impl IntoIterator<Item = (&'a UnknownValue, u64)>,
) {
    for (u, times) in unknown {
        if metrics.unknown_values(u.field, &u.value, times) {
            tracing::warn!(environment = %env, field = u.field, value = %u.value,
                "PingOne sent a value this exporter does not know; it is ignored and counted in pingone_exporter_unknown_values_total");
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::Arc;

    #[tokio::test]
    async fn a_poll_that_dies_inside_the_exporter_keeps_data_and_counts_a_failure() {
        let shared = Shared::new(SelfMetrics::new("t", "t"));
        let key = EnvKey::new("id", "prod");
        shared.set_envs(std::slice::from_ref(&key));
        let snap = Arc::new(crate::snapshot::EnvSnapshot::default());
        shared.update(&key, |e| EnvState {
            snapshot: Some(Arc::clone(&snap)),
            ..e.clone()
        });
        // A panic in a spawned poll, caught the way `run` catches it.
        let e = tokio::spawn(async { std::panic::panic_any::<&str>("boom") })
            .await
            .unwrap_err();
        internal_failure(&shared, &key, Instant::now(), &e.to_string());
        let env = &shared.envs()[0];
        assert!(env.snapshot.is_some(), "the last good data stays");
        let report = env.last_poll.clone().unwrap();
        assert!(report.error.unwrap().contains("internal error"));
        assert!(!shared.metrics.is_up(&key));
        let mut out = Vec::new();
        shared
            .metrics
            .encode(crate::exposition::Format::Text, &mut out);
        let text = String::from_utf8(out).unwrap();
        assert!(text.contains(r#"reason="internal"} 1"#), "{text}");
    }

    #[tokio::test]
    async fn schedule_runs_at_once_then_every_interval_never_overlapping() {
        // "At once" is told apart from "after an interval" with a 30 s
        // interval and a 15 s bound: room for a loaded machine, no timing
        // assertion.
        let stop = Shutdown::new();
        let long = Duration::from_secs(30);
        let t0 = Instant::now();
        let mut s = Schedule::new(long);
        let first = s.tick(&stop).await.unwrap();
        assert!(first - t0 < long / 2, "the first run starts at once");
        let planned = s.next - first;
        assert!(
            planned >= long.mul_f64(0.9) && planned <= long.mul_f64(1.1),
            "the next run one interval (±10%) after this one started: {planned:?}"
        );
        // A run that took longer than the interval: the next starts at once.
        s.next = first;
        let before = Instant::now();
        let next = s.tick(&stop).await.unwrap();
        assert!(next - before < long / 2, "an overdue run starts at once");
        // The wait itself: at least the interval minus 10%.
        let mut short = Schedule::new(Duration::from_millis(200));
        let a = short.tick(&stop).await.unwrap();
        let b = short.tick(&stop).await.unwrap();
        assert!(b - a >= Duration::from_millis(180), "{:?}", b - a);
        stop.trigger();
        assert_eq!(s.tick(&stop).await, None);
    }
}
