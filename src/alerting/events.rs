//! `increase(pingone_provisioning_sync_events_total[window])` per rule,
//! which PingOneProvisioningSyncFailing needs: the sender keeps its own
//! samples of every rule's event counters (success, failure), one per
//! evaluation, as Prometheus keeps one per scrape.
//!
//! The increase over a window is the sum of the rises between consecutive
//! samples inside it; a drop is a counter reset (a PingOne revision), and
//! the new value counts from 0, as Prometheus' `increase()` does. Unlike
//! Prometheus, the result is not extrapolated to the window's edges: both
//! counters come from the same samples, so their ratio is the same either
//! way. Fewer than two samples in the window give no value.
//!
//! The samples live as long as the alerting task: they survive config
//! reloads, not a restart (a restarted exporter needs two samples within
//! the window before it has a value again).

use std::collections::{HashMap, HashSet, VecDeque};
use std::sync::Arc;
use std::time::Duration;

use crate::snapshot::{EnvKey, SyncEvents};

/// Samples closer together than this are merged into the later one
/// (evaluations after the polls of many environments come in bursts).
pub const RESOLUTION: Duration = Duration::from_secs(1);

/// A rule's identity across polls: environment id and rule id.
pub type RuleKey = (Arc<str>, String);

/// One evaluation's values of a rule's event counters, Unix seconds.
#[derive(Clone, Copy, Debug, PartialEq)]
struct Sample {
    at: f64,
    success: Option<u64>,
    failure: Option<u64>,
}

/// Samples of every rule's event counters.
#[derive(Debug, Default)]
pub struct EventWindows {
    rules: HashMap<RuleKey, VecDeque<Sample>>,
}

impl EventWindows {
    /// The key of `rule` in `env`.
    pub fn key(env: &EnvKey, rule: &str) -> RuleKey {
        (Arc::clone(&env.id), rule.to_string())
    }

    /// Records `events` of `key` at `now`. A rule without event counters
    /// (not a store's owner, or PingOne gave none) records nothing.
    pub fn record(&mut self, key: &RuleKey, now: f64, events: SyncEvents) {
        if events.success.is_none() && events.failure.is_none() {
            return;
        }
        let sample = Sample {
            at: now,
            success: events.success,
            failure: events.failure,
        };
        let samples = self.rules.entry(key.clone()).or_default();
        match samples.back_mut() {
            Some(last) if now - last.at < RESOLUTION.as_secs_f64() => *last = sample,
            _ => samples.push_back(sample),
        }
    }

    /// The increase of one counter of `key` over the `window` ending at
    /// `now`; `None` with fewer than two samples of it in the window.
    fn increase(
        &self,
        key: &RuleKey,
        now: f64,
        window: Duration,
        pick: fn(&Sample) -> Option<u64>,
    ) -> Option<u64> {
        let start = now - window.as_secs_f64();
        let mut values = self
            .rules
            .get(key)?
            .iter()
            .filter(|s| s.at > start && s.at <= now)
            .filter_map(pick);
        let mut prev = values.next()?;
        let mut total = 0u64;
        let mut seen = 1;
        for v in values {
            total = total.saturating_add(if v >= prev { v - prev } else { v });
            prev = v;
            seen += 1;
        }
        (seen >= 2).then_some(total)
    }

    /// Failure events / all events of `key` within the `window` ending at
    /// `now` (the rule file's ratio); `None` when there were no events in
    /// the window (0 / 0) or too few samples.
    pub fn failure_ratio(&self, key: &RuleKey, now: f64, window: Duration) -> Option<f64> {
        let failed = self.increase(key, now, window, |s| s.failure)?;
        let succeeded = self.increase(key, now, window, |s| s.success).unwrap_or(0);
        let all = failed.saturating_add(succeeded);
        (all > 0).then(|| failed as f64 / all as f64)
    }

    /// Drops rules not in `keep` and samples that left the `window`
    /// ending at `now`.
    pub fn prune(&mut self, keep: &HashSet<RuleKey>, now: f64, window: Duration) {
        self.rules.retain(|k, _| keep.contains(k));
        let start = now - window.as_secs_f64();
        for samples in self.rules.values_mut() {
            while samples.front().is_some_and(|s| s.at <= start) {
                samples.pop_front();
            }
        }
        self.rules.retain(|_, s| !s.is_empty());
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const HALF_HOUR: Duration = Duration::from_secs(1800);

    fn events(success: u64, failure: u64) -> SyncEvents {
        SyncEvents {
            success: Some(success),
            failure: Some(failure),
            failed_deprovision: None,
        }
    }

    fn key() -> RuleKey {
        EventWindows::key(&EnvKey::new("env", "prod"), "r1")
    }

    /// Records `(minute, success, failure)` samples, pruning as the
    /// engine does.
    fn play(w: &mut EventWindows, samples: &[(u64, u64, u64)]) {
        let keep = HashSet::from([key()]);
        for &(minute, s, f) in samples {
            let now = (minute * 60) as f64;
            w.record(&key(), now, events(s, f));
            w.prune(&keep, now, HALF_HOUR);
        }
    }

    #[test]
    fn a_burst_of_failures_that_stops_resolves() {
        let mut w = EventWindows::default();
        // 10 attempts per minute; minutes 5..10 have 5 failures each.
        let mut samples = Vec::new();
        let (mut s, mut f) = (0, 0);
        for minute in 0..=60 {
            samples.push((minute, s, f));
            if (5..10).contains(&minute) {
                (s, f) = (s + 5, f + 5);
            } else {
                s += 10;
            }
        }
        play(&mut w, &samples[..=10]);
        assert_eq!(w.failure_ratio(&key(), 600.0, HALF_HOUR), Some(0.25));
        play(&mut w, &samples[11..=30]);
        let at_30 = w.failure_ratio(&key(), 1800.0, HALF_HOUR);
        assert!(at_30.is_some_and(|r| r > 0.05 && r < 0.1), "{at_30:?}");
        play(&mut w, &samples[31..]);
        assert_eq!(
            w.failure_ratio(&key(), 3600.0, HALF_HOUR),
            Some(0.0),
            "the burst left the window"
        );
    }

    #[test]
    fn a_revision_that_resets_the_counters_is_not_a_burst() {
        let mut w = EventWindows::default();
        // 500 failures since an old revision, none new; the revision at
        // minute 3 resets both counters, then only successes.
        play(
            &mut w,
            &[
                (0, 1000, 500),
                (1, 1010, 500),
                (2, 1020, 500),
                (3, 0, 0),
                (4, 10, 0),
            ],
        );
        assert_eq!(w.failure_ratio(&key(), 240.0, HALF_HOUR), Some(0.0));
        // A reset with failures after it counts them from 0.
        play(&mut w, &[(5, 0, 2)]);
        let r = w.failure_ratio(&key(), 300.0, HALF_HOUR);
        assert_eq!(r, Some(2.0 / 32.0));
    }

    #[test]
    fn a_rule_that_never_failed_has_a_zero_ratio_and_an_idle_one_none() {
        let mut w = EventWindows::default();
        play(&mut w, &[(0, 100, 0), (1, 110, 0), (2, 120, 0)]);
        assert_eq!(w.failure_ratio(&key(), 120.0, HALF_HOUR), Some(0.0));
        let mut idle = EventWindows::default();
        play(&mut idle, &[(0, 100, 3), (1, 100, 3), (2, 100, 3)]);
        assert_eq!(
            idle.failure_ratio(&key(), 120.0, HALF_HOUR),
            None,
            "no events in the window: 0 / 0"
        );
    }

    #[test]
    fn after_a_restart_there_is_no_history() {
        // A new process has one sample of counters that already hold
        // failures: no value until a second sample.
        let mut w = EventWindows::default();
        play(&mut w, &[(100, 900, 100)]);
        assert_eq!(w.failure_ratio(&key(), 6000.0, HALF_HOUR), None);
        play(&mut w, &[(101, 910, 100)]);
        assert_eq!(w.failure_ratio(&key(), 6060.0, HALF_HOUR), Some(0.0));
    }

    #[test]
    fn samples_merge_prune_and_skip_rules_without_counters() {
        let mut w = EventWindows::default();
        w.record(&key(), 0.0, events(0, 0));
        w.record(&key(), 0.5, events(0, 1));
        assert_eq!(w.rules.get(&key()).map(VecDeque::len), Some(1));
        w.record(&key(), 60.0, events(0, 2));
        assert_eq!(w.failure_ratio(&key(), 60.0, HALF_HOUR), Some(1.0));
        let other = EventWindows::key(&EnvKey::new("env", "prod"), "r2");
        w.record(&other, 60.0, SyncEvents::default());
        assert!(!w.rules.contains_key(&other));
        w.prune(&HashSet::new(), 60.0, HALF_HOUR);
        assert_eq!(w.failure_ratio(&key(), 60.0, HALF_HOUR), None);
    }
}
