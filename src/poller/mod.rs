//! Polling every configured environment on its own schedule.
//!
//! Each environment has one task: poll, publish the snapshot, sleep
//! `poll_interval` (±10% jitter, measured from the poll's start) and again.
//! The first poll starts at once so `/-/ready` comes quickly; the shared
//! request budget spreads the requests. One environment's failures or slow
//! answers never delay another's: they only share the budget.
//!
//! An environment with `user_detail` enabled has a second task ([`walk_loop`])
//! that walks its users on its own cadence and budget; the poll task merges
//! the last complete walk into each snapshot it builds.

pub mod failing;
mod poll;
mod supervisor;
pub mod walk_loop;

pub use failing::FailingTracker;
pub use poll::{Outcome, PollError, poll_once};
pub use supervisor::{Supervisor, SupervisorError};

use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use crate::collector;
use crate::config::Environment;
use crate::mapping::UnknownValue;
use crate::pingone::EnvClient;
use crate::selfmetrics::SelfMetrics;
use crate::shutdown::Shutdown;
use crate::snapshot::EnvKey;
use crate::state::{EnvState, PollReport, Shared};
use crate::timefmt::now_unix;
use crate::user_detail::{self, Latest};

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

/// Runs one environment's poll loop until `stop` fires. `detail` is the
/// environment's user-detail slot, when that mode is on: its last complete
/// walk is merged into every new snapshot. `failing` observes every new
/// snapshot; the supervisor hands it to the next task on a reload.
pub async fn run(
    env: Environment,
    client: Arc<EnvClient>,
    shared: Arc<Shared>,
    detail: Option<Arc<Latest>>,
    failing: Arc<Mutex<FailingTracker>>,
    stop: Shutdown,
) {
    let key = client.key().clone();
    let mut last_error: Option<String> = None;
    let mut schedule = Schedule::new(env.poll_interval);
    while let Some(started) = schedule.tick(&stop).await {
        let previous = shared
            .envs()
            .iter()
            .find(|e| e.key == key)
            .and_then(|e| e.snapshot.clone());
        // The poll runs as its own task so that a bug that panics in it
        // costs one poll, not the environment's polling for good.
        let task = {
            let (client, env) = (Arc::clone(&client), env.clone());
            tokio::spawn(async move { poll_once(&client, &env, previous.as_deref()).await })
        };
        let abort = task.abort_handle();
        let joined = tokio::select! {
            j = task => j,
            () = stop.wait() => {
                abort.abort();
                return;
            }
        };
        let outcome = match joined {
            Ok(o) => o,
            Err(e) => {
                internal_failure(&shared, &key, started, &e.to_string());
                continue;
            }
        };
        let seconds = started.elapsed().as_secs_f64();
        let finished = now_unix();
        report_unknown(
            &shared.metrics,
            &key.name,
            outcome.unknown.iter().map(|u| (u, 1)),
        );
        if outcome.skipped_items > 0 {
            tracing::debug!(environment = %key.name, skipped = outcome.skipped_items, "skipped list items that were not objects");
        }
        let error = outcome.error.as_ref().map(ToString::to_string);
        let reason = outcome.error.as_ref().map(|e| e.reason());
        shared
            .metrics
            .poll_finished(&key, reason.map_or(Ok(finished), Err), seconds);
        log_change(&key.name, &mut last_error, seconds, &outcome);
        let fresh = outcome.snapshot.map(|mut s| {
            // A panic elsewhere cannot leave the tracker half-updated in a
            // way that matters more than losing one poll's observation.
            failing
                .lock()
                .unwrap_or_else(|p| p.into_inner())
                .observe(&key.name, &mut s, finished);
            if let Some(walked) = detail.as_ref().and_then(|d| d.get()) {
                user_detail::apply(&mut s, &walked);
            }
            let rendered = collector::render(&key, &s);
            (Arc::new(s), Arc::new(rendered))
        });
        let report = PollReport {
            finished_at: finished,
            duration: seconds,
            error,
        };
        shared.update(&key, |cur| {
            let (snapshot, rendered) = match &fresh {
                Some((s, r)) => (Some(Arc::clone(s)), Some(Arc::clone(r))),
                None => (cur.snapshot.clone(), cur.rendered.clone()),
            };
            EnvState {
                key: cur.key.clone(),
                snapshot,
                rendered,
                last_poll: Some(report.clone()),
            }
        });
    }
}

/// Logs a poll outcome: at warn/info only when what failed (endpoint and
/// reason) changes, so a persistent failure is logged once, not once per
/// poll, even when PingOne's message text varies between answers.
fn log_change(env: &str, last: &mut Option<String>, seconds: f64, o: &poll::Outcome) {
    let rules = o.snapshot.as_ref().map(|s| s.rules.len());
    let now = o
        .error
        .as_ref()
        .map(|e| format!("{} {}", e.endpoint(), e.reason()));
    let message = o.error.as_ref().map(ToString::to_string);
    match (last.as_deref(), now.as_deref()) {
        (_, Some(what)) if last.as_deref() != Some(what) => {
            tracing::warn!(
                environment = env,
                error = message.as_deref().unwrap_or(what),
                kept_last_good = o.snapshot.is_none(),
                "poll failed"
            );
        }
        (Some(_), None) => tracing::info!(
            environment = env,
            duration_s = seconds,
            rules,
            "poll recovered"
        ),
        _ => tracing::debug!(
            environment = env,
            duration_s = seconds,
            rules,
            error = message.as_deref(),
            "poll finished"
        ),
    }
    *last = now;
}

#[cfg(test)]
mod tests {
    use super::*;

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
