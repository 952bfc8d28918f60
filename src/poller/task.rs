//! One environment's poll loop: a poll at every tick of its schedule, and
//! in between, the group reads the polls started in the background. When
//! a round of them has ended, the snapshot is built again from the cache
//! (no request) so new group counts show without waiting for a poll; their
//! failures are reported with the next poll.

use std::sync::{Arc, Mutex};
use std::time::Instant;

use super::PollError;
use super::cache::EnvCache;
use super::groups::{GroupAnswer, GroupReads};
use super::poll::{self, Outcome};
use super::{FailingTracker, Schedule, internal_failure, report_unknown};
use crate::collector;
use crate::config::Environment;
use crate::pingone::EnvClient;
use crate::shutdown::Shutdown;
use crate::snapshot::{EnvKey, EnvSnapshot};
use crate::state::{EnvState, PollReport, ReadTimes, Shared};
use crate::timefmt::now_unix;
use crate::user_detail::{self, Latest};

/// What woke the loop.
enum Event {
    Tick(Option<Instant>),
    Groups(String, GroupAnswer),
}

/// What one environment's loop shares with its helpers.
struct Env {
    env: Environment,
    client: Arc<EnvClient>,
    shared: Arc<Shared>,
    detail: Option<Arc<Latest>>,
    failing: Arc<Mutex<FailingTracker>>,
    key: EnvKey,
}

/// Runs one environment's poll loop until `stop` fires. `detail` is the
/// environment's user-detail slot, when that mode is on: its last complete
/// walk is merged into every new snapshot. `failing` observes every poll's
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
    let me = Env {
        env,
        client,
        shared,
        detail,
        failing,
        key,
    };
    let mut last_error: Option<String> = None;
    let mut schedule = Schedule::new(me.env.poll_interval);
    let mut cache = EnvCache::new();
    // Dropped with the loop: the reads under way end with it.
    let mut reads = GroupReads::new();
    // The first failure of a background group read, reported with the
    // next poll, as it was when the poll read the groups itself.
    let mut carried: Option<PollError> = None;
    loop {
        let event = tokio::select! {
            tick = schedule.tick(&stop) => Event::Tick(tick),
            Some((id, answer)) = reads.next(), if !reads.is_empty() => Event::Groups(id, answer),
        };
        let started = match event {
            Event::Tick(None) => return,
            Event::Tick(Some(started)) => started,
            Event::Groups(id, answer) => {
                poll::record_groups(&mut cache, id, answer, &mut carried);
                if reads.is_empty() {
                    me.republish(&cache).await;
                }
                continue;
            }
        };
        let previous = me.current().and_then(|e| e.snapshot.clone());
        // The poll runs as its own task so that a bug that panics in it
        // costs one poll, not the environment's polling for good.
        let task = {
            let (client, env) = (Arc::clone(&me.client), me.env.clone());
            let mut owned = std::mem::take(&mut cache);
            let pending = reads.pending();
            tokio::spawn(async move {
                let polled = poll::poll_cached(
                    &client,
                    &env,
                    &mut owned,
                    &pending,
                    previous.as_deref(),
                    started,
                )
                .await;
                (polled, owned)
            })
        };
        let abort = task.abort_handle();
        let joined = tokio::select! {
            j = task => j,
            () = stop.wait() => {
                abort.abort();
                return;
            }
        };
        let (polled, owned) = match joined {
            Ok(done) => done,
            Err(e) => {
                // The cache went with the task: the next poll reads all.
                internal_failure(&me.shared, &me.key, started, &e.to_string());
                continue;
            }
        };
        cache = owned;
        reads.start(&me.client, polled.groups_due);
        let mut outcome = polled.outcome;
        if let Some(e) = carried.take() {
            outcome.error.get_or_insert(e);
        }
        me.publish_poll(started, outcome, cache.read_times(&me.env), &mut last_error);
    }
}

impl Env {
    fn current(&self) -> Option<Arc<EnvState>> {
        self.shared
            .envs()
            .iter()
            .find(|e| e.key == self.key)
            .cloned()
    }

    /// Merges the last complete walk into `snap` and renders it.
    fn finish(&self, mut snap: EnvSnapshot) -> (Arc<EnvSnapshot>, Arc<collector::Rendered>) {
        if let Some(walked) = self.detail.as_ref().and_then(|d| d.get()) {
            user_detail::apply(&mut snap, &walked);
        }
        let rendered = collector::render(&self.key, &snap);
        (Arc::new(snap), Arc::new(rendered))
    }

    /// Counts and logs one poll, and publishes its snapshot (if any) with
    /// its report and read times.
    fn publish_poll(
        &self,
        started: Instant,
        outcome: Outcome,
        reads: ReadTimes,
        last_error: &mut Option<String>,
    ) {
        let key = &self.key;
        let seconds = started.elapsed().as_secs_f64();
        let finished = now_unix();
        report_unknown(
            &self.shared.metrics,
            &key.name,
            outcome.unknown.iter().map(|u| (u, 1)),
        );
        if outcome.skipped_items > 0 {
            tracing::debug!(environment = %key.name, skipped = outcome.skipped_items, "skipped list items that were not objects");
        }
        let error = outcome.error.as_ref().map(ToString::to_string);
        let reason = outcome.error.as_ref().map(|e| e.reason());
        log_change(&key.name, last_error, seconds, &outcome);
        let fresh = outcome.snapshot.map(|mut s| {
            // A panic elsewhere cannot leave the tracker half-updated in a
            // way that matters more than losing one poll's observation.
            self.failing
                .lock()
                .unwrap_or_else(|p| p.into_inner())
                .observe(&key.name, &mut s, finished);
            self.finish(s)
        });
        let report = PollReport {
            finished_at: finished,
            duration: seconds,
            error,
        };
        self.shared.update(key, |cur| {
            let (snapshot, rendered) = match &fresh {
                Some((s, r)) => (Some(Arc::clone(s)), Some(Arc::clone(r))),
                None => (cur.snapshot.clone(), cur.rendered.clone()),
            };
            EnvState {
                key: cur.key.clone(),
                snapshot,
                rendered,
                last_poll: Some(report.clone()),
                reads,
            }
        });
        // Counted once its snapshot is served: a scrape that sees the poll
        // counted (its duration count, `up`, the success time) also sees
        // what it read. Rendering takes milliseconds at 50 rules, and
        // counting first let a scrape in between pair the new count with
        // the old values.
        self.shared
            .metrics
            .poll_finished(key, reason.map_or(Ok(finished), Err), seconds);
    }

    /// Publishes the snapshot built again from `cache` after a round of
    /// group reads ended: no request, no poll counted. What the failing
    /// tracker found at the last poll stays as it was (it observes polls).
    async fn republish(&self, cache: &EnvCache) {
        let Some(current) = self.current() else {
            return;
        };
        let previous = current.snapshot.clone();
        let built = poll::build(
            &self.client,
            &self.env,
            cache,
            previous.as_deref(),
            &mut Vec::new(),
        )
        .await;
        let Some(mut snap) = built else {
            return;
        };
        if let Some(prev) = &previous {
            for rule in &mut snap.rules {
                if let Some(old) = prev.rules.iter().find(|p| p.id == rule.id) {
                    rule.failing_since = old.failing_since;
                    rule.failing_polls = old.failing_polls;
                }
            }
        }
        let (snapshot, rendered) = self.finish(snap);
        let reads = cache.read_times(&self.env);
        self.shared.update(&self.key, |cur| EnvState {
            snapshot: Some(Arc::clone(&snapshot)),
            rendered: Some(Arc::clone(&rendered)),
            reads,
            ..cur.clone()
        });
    }
}

/// Logs a poll outcome: at warn/info only when what failed (endpoint and
/// reason) changes, so a persistent failure is logged once, not once per
/// poll, even when PingOne's message text varies between answers.
fn log_change(env: &str, last: &mut Option<String>, seconds: f64, o: &Outcome) {
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
