//! `increase(counter[window])` for the daemon's own counters, which the
//! RateLimited and AuthFailing conditions need: every evaluation records
//! each environment's counters, and the increase over a window is the sum
//! of the rises between consecutive records (a drop is a counter reset,
//! counted from 0, as Prometheus does). Which self-metric counters those
//! are is decided here ([`Counts::read`]), not in the self-metrics.

use std::collections::{HashMap, VecDeque};
use std::time::Duration;

use crate::selfmetrics::SelfMetrics;
use crate::snapshot::EnvKey;

/// Records closer together than this are merged.
pub const RESOLUTION: Duration = Duration::from_secs(1);

/// The counters of one environment at one evaluation.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Counts {
    /// `pingone_exporter_rate_limited_total`.
    pub rate_limited: u64,
    /// Token requests answered 4xx plus polls failed with 401/403.
    pub auth_failures: u64,
}

/// The poll failure reasons that mean PingOne refused the credentials.
const REFUSED: [&str; 2] = ["unauthorized", "forbidden"];

impl Counts {
    /// The counters of `key` now: 429 answers, and token requests answered
    /// 4xx plus polls that failed with 401/403.
    pub fn read(metrics: &SelfMetrics, key: &EnvKey) -> Self {
        let is_4xx = |code: &str| code.len() == 3 && code.starts_with('4');
        let token_4xx = metrics.requests_where(key, "token", is_4xx);
        let refused: u64 = REFUSED.iter().map(|r| metrics.poll_failures(key, r)).sum();
        Self {
            rate_limited: metrics.rate_limited_total(key),
            auth_failures: token_4xx + refused,
        }
    }
}

/// Recorded counters per environment, Unix seconds.
#[derive(Debug, Default)]
pub struct CounterWindows {
    envs: HashMap<EnvKey, VecDeque<(f64, Counts)>>,
}

impl CounterWindows {
    /// Records `counts` of `key` at `now`. `from_zero` says the counters
    /// started at 0 since the environment was set up (it has not finished
    /// a poll yet), so an environment's very first record is not taken as
    /// its baseline.
    ///
    /// Records closer than [`RESOLUTION`] to the previous one replace its
    /// counts (evaluations after every poll of many environments come in
    /// bursts; one record per second is plenty for minute-long windows).
    pub fn record(&mut self, key: &EnvKey, now: f64, counts: Counts, from_zero: bool) {
        let samples = self.envs.entry(key.clone()).or_default();
        if samples.is_empty() && from_zero {
            samples.push_back((now, Counts::default()));
        }
        let len = samples.len();
        match samples.back_mut() {
            // Never merge into an environment's first record: it may be
            // the from-zero baseline.
            Some((t, c)) if len >= 2 && now - *t < RESOLUTION.as_secs_f64() => *c = counts,
            _ => samples.push_back((now, counts)),
        }
    }

    /// The increase of the counter `pick` of `key` over the `window` that
    /// ends at `now`; `None` without records.
    pub fn increase(
        &self,
        key: &EnvKey,
        now: f64,
        window: Duration,
        pick: fn(&Counts) -> u64,
    ) -> Option<u64> {
        let samples = self.envs.get(key)?;
        let start = now - window.as_secs_f64();
        // The baseline: the last record at or before the window's start,
        // else the first one.
        let first = samples.iter().rposition(|(t, _)| *t <= start).unwrap_or(0);
        let mut total = 0u64;
        let mut prev = pick(&samples.get(first)?.1);
        for (_, c) in samples.iter().skip(first + 1) {
            let v = pick(c);
            total = total.saturating_add(if v >= prev { v - prev } else { v });
            prev = v;
        }
        Some(total)
    }

    /// Drops environments not in `keys` and records older than needed for
    /// a `longest` window ending at `now` (one older record is kept as the
    /// baseline).
    pub fn prune(&mut self, keys: &[EnvKey], now: f64, longest: Duration) {
        self.envs.retain(|k, _| keys.contains(k));
        let start = now - longest.as_secs_f64();
        for samples in self.envs.values_mut() {
            while samples.len() > 1 && samples.get(1).is_some_and(|(t, _)| *t <= start) {
                samples.pop_front();
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rl(c: &Counts) -> u64 {
        c.rate_limited
    }

    fn counts(rate_limited: u64) -> Counts {
        Counts {
            rate_limited,
            auth_failures: 0,
        }
    }

    #[test]
    fn increase_over_a_sliding_window() {
        let k = EnvKey::new("id", "prod");
        let mut w = CounterWindows::default();
        let five = Duration::from_secs(300);
        assert_eq!(w.increase(&k, 0.0, five, rl), None);
        w.record(&k, 0.0, counts(2), false);
        assert_eq!(
            w.increase(&k, 0.0, five, rl),
            Some(0),
            "first record is the baseline"
        );
        w.record(&k, 60.0, counts(3), false);
        w.record(&k, 120.0, counts(3), false);
        assert_eq!(w.increase(&k, 120.0, five, rl), Some(1));
        w.record(&k, 420.0, counts(3), false);
        assert_eq!(
            w.increase(&k, 420.0, five, rl),
            Some(0),
            "the rise left the window"
        );
        w.record(&k, 480.0, counts(1), false);
        assert_eq!(
            w.increase(&k, 480.0, five, rl),
            Some(1),
            "a reset counts from 0"
        );
        w.prune(std::slice::from_ref(&k), 480.0, five);
        assert_eq!(w.increase(&k, 480.0, five, rl), Some(1));
        w.prune(&[], 480.0, five);
        assert_eq!(w.increase(&k, 480.0, five, rl), None);
    }

    #[test]
    fn bursts_of_records_are_merged_without_losing_a_rise() {
        let k = EnvKey::new("id", "prod");
        let mut w = CounterWindows::default();
        let five = Duration::from_secs(300);
        w.record(&k, 0.0, counts(0), false);
        for i in 0..100 {
            w.record(
                &k,
                10.0 + f64::from(i) * 0.01,
                counts(u64::from(i > 50)),
                false,
            );
        }
        assert_eq!(w.envs.get(&k).map(|s| s.len()), Some(2));
        assert_eq!(w.increase(&k, 11.0, five, rl), Some(1));
    }

    #[test]
    fn an_environment_that_never_polled_counts_from_zero() {
        let k = EnvKey::new("id", "prod");
        let mut w = CounterWindows::default();
        w.record(&k, 10.0, counts(1), true);
        assert_eq!(w.increase(&k, 10.0, Duration::from_secs(300), rl), Some(1));
    }
}
