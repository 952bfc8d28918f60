//! Polling every configured environment on its own schedule.
//!
//! Each environment has one task: poll, publish the snapshot, sleep
//! `poll_interval` (±10% jitter, measured from the poll's start) and again.
//! The first poll starts at once so `/-/ready` comes quickly; the shared
//! request budget spreads the requests. One environment's failures or slow
//! answers never delay another's: they only share the budget.

mod poll;
mod supervisor;

pub use poll::{Outcome, poll_once};
pub use supervisor::Supervisor;

use std::sync::Arc;
use std::time::{Duration, Instant};

use crate::collector;
use crate::config::Environment;
use crate::pingone::EnvClient;
use crate::shutdown::Shutdown;
use crate::state::{EnvState, PollReport, Shared};
use crate::timefmt::now_unix;

/// Jitter applied to each interval, as a fraction.
const JITTER: f64 = 0.1;

/// The wait after a poll that started at `started`.
fn next_start(started: Instant, interval: Duration) -> Instant {
    let factor = 1.0 + (fastrand::f64() * 2.0 - 1.0) * JITTER;
    started + interval.mul_f64(factor)
}

/// Runs one environment's poll loop until `stop` fires.
pub async fn run(env: Environment, client: Arc<EnvClient>, shared: Arc<Shared>, stop: Shutdown) {
    let key = client.key().clone();
    let mut last_error: Option<String> = None;
    let mut next = Instant::now();
    loop {
        tokio::select! {
            () = tokio::time::sleep_until(next.into()) => {}
            () = stop.wait() => return,
        }
        let started = Instant::now();
        let previous = shared
            .envs()
            .iter()
            .find(|e| e.key == key)
            .and_then(|e| e.snapshot.clone());
        let outcome = tokio::select! {
            o = poll_once(&client, &env, previous.as_deref()) => o,
            () = stop.wait() => return,
        };
        let seconds = started.elapsed().as_secs_f64();
        let finished = now_unix();
        for u in &outcome.unknown {
            if shared.metrics.unknown_value(u.field, &u.value) {
                tracing::warn!(environment = %key.name, field = u.field, value = %u.value,
                    "PingOne sent a value this exporter does not know; it is ignored and counted in pingone_exporter_unknown_values_total");
            }
        }
        if outcome.skipped_items > 0 {
            tracing::debug!(environment = %key.name, skipped = outcome.skipped_items, "skipped list items that were not objects");
        }
        let error = outcome.error.as_ref().map(ToString::to_string);
        let reason = outcome.error.as_ref().map(|e| e.reason());
        shared
            .metrics
            .poll_finished(&key, reason.map_or(Ok(finished), Err), seconds);
        log_change(&key.name, &mut last_error, seconds, &outcome);
        let fresh = outcome.snapshot.map(|s| {
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
        next = next_start(started, env.poll_interval).max(Instant::now());
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
