//! The exporter's own metrics: poll outcomes, API calls, retries, rate
//! limiting, token refreshes, config reloads, unknown API values, build info.
//!
//! Stored as plain numbers behind one mutex (updates are rare: a few per API
//! call) and written at every scrape ([`SelfMetrics::encode`], in
//! `encode`). Series of an environment removed by a config reload are
//! dropped with it. The alert sender's own series are not here: the
//! alerting module owns and writes them.

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex, MutexGuard};

mod encode;

use crate::snapshot::EnvKey;

/// Upper bounds of the poll-duration histogram, in seconds.
pub const POLL_BUCKETS: [f64; 11] = [
    0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0, 120.0, 300.0,
];

/// The `le` labels of [`POLL_BUCKETS`] as `{:?}` writes them, spelled out
/// so a scrape does not format them for every environment.
const POLL_BUCKET_LABELS: [&str; POLL_BUCKETS.len()] = [
    "0.1", "0.25", "0.5", "1.0", "2.5", "5.0", "10.0", "30.0", "60.0", "120.0", "300.0",
];

/// Distinct `(field, value)` pairs kept for unknown API values; later ones
/// are counted under `value="other"` so a misbehaving API cannot grow the
/// series count without bound.
pub const MAX_UNKNOWN_VALUES: usize = 50;

#[derive(Debug, Default)]
struct EnvMetrics {
    /// Changes with every update of these metrics; never reused, not even
    /// by an environment removed and added again (see `Inner::generations`).
    generation: u64,
    up: bool,
    last_success: Option<f64>,
    poll_buckets: [u64; POLL_BUCKETS.len()],
    poll_sum: f64,
    poll_count: u64,
    requests: BTreeMap<(&'static str, String), u64>,
    retries: BTreeMap<(&'static str, &'static str), u64>,
    failures: BTreeMap<&'static str, u64>,
    rate_limited: u64,
    token_refreshes: u64,
}

#[derive(Debug, Default)]
struct Inner {
    envs: BTreeMap<EnvKey, EnvMetrics>,
    reload_ok: bool,
    reload_success_ts: f64,
    unknown: BTreeMap<(&'static str, String), u64>,
    unknown_fields: BTreeMap<String, u64>,
    /// The last generation handed out (to any environment).
    generations: u64,
}

/// The exporter's own metrics. Share it behind an `Arc`.
#[derive(Debug)]
pub struct SelfMetrics {
    inner: Mutex<Inner>,
    version: String,
    revision: String,
}

impl SelfMetrics {
    /// Empty metrics for a build.
    pub fn new(version: &str, revision: &str) -> Arc<Self> {
        Arc::new(Self {
            inner: Mutex::new(Inner::default()),
            version: version.to_string(),
            revision: revision.to_string(),
        })
    }

    fn lock(&self) -> MutexGuard<'_, Inner> {
        // Counters stay meaningful even if a holder panicked mid-update.
        self.inner.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Updates an environment's metrics (created at 0 if new) and gives
    /// them a new generation.
    fn env<R>(&self, key: &EnvKey, f: impl FnOnce(&mut EnvMetrics) -> R) -> R {
        let mut inner = self.lock();
        inner.generations += 1;
        let generation = inner.generations;
        let m = inner.envs.entry(key.clone()).or_default();
        m.generation = generation;
        f(m)
    }

    /// Makes an environment's always-present series appear (at 0).
    pub fn add_env(&self, key: &EnvKey) {
        self.env(key, |_| ());
    }

    /// Drops every series of an environment (removed by a reload).
    pub fn remove_env(&self, key: &EnvKey) {
        self.lock().envs.remove(key);
    }

    /// Records a finished poll: its outcome, its duration in seconds and,
    /// on success, its finish time (Unix seconds).
    pub fn poll_finished(&self, key: &EnvKey, ok: Result<f64, &'static str>, seconds: f64) {
        self.env(key, |m| {
            match ok {
                Ok(now) => {
                    m.up = true;
                    m.last_success = Some(now);
                }
                Err(reason) => {
                    m.up = false;
                    *m.failures.entry(reason).or_default() += 1;
                }
            }
            for (i, bound) in POLL_BUCKETS.iter().enumerate() {
                if seconds <= *bound {
                    m.poll_buckets[i] += 1;
                }
            }
            m.poll_sum += seconds;
            m.poll_count += 1;
        });
    }

    /// Counts one HTTP request and its status code (or a transport reason).
    pub fn api_request(&self, key: &EnvKey, endpoint: &'static str, code: &str) {
        self.env(key, |m| {
            *m.requests.entry((endpoint, code.to_string())).or_default() += 1;
        });
    }

    /// Counts one retry.
    pub fn api_retry(&self, key: &EnvKey, endpoint: &'static str, reason: &'static str) {
        self.env(key, |m| {
            *m.retries.entry((endpoint, reason)).or_default() += 1
        });
    }

    /// Counts one 429 answer.
    pub fn rate_limited(&self, key: &EnvKey) {
        self.env(key, |m| m.rate_limited += 1);
    }

    /// Counts one token fetched.
    pub fn token_refreshed(&self, key: &EnvKey) {
        self.env(key, |m| m.token_refreshes += 1);
    }

    /// Records a config load/reload outcome at `now` (Unix seconds).
    pub fn config_loaded(&self, ok: bool, now: f64) {
        let mut inner = self.lock();
        inner.reload_ok = ok;
        if ok {
            inner.reload_success_ts = now;
        }
    }

    /// Counts an unknown API value; returns true the first time this pair is
    /// seen, so the caller logs it once.
    pub fn unknown_value(&self, field: &'static str, value: &str) -> bool {
        self.unknown_values(field, value, 1)
    }

    /// Counts `times` sightings of an unknown API value at once (a walk's
    /// tally); returns true the first time this pair is seen.
    pub fn unknown_values(&self, field: &'static str, value: &str, times: u64) -> bool {
        let mut inner = self.lock();
        let key = (field, value.to_string());
        if let Some(n) = inner.unknown.get_mut(&key) {
            *n = n.saturating_add(times);
            return false;
        }
        let distinct = inner.unknown.keys().filter(|(_, v)| v != "other").count();
        let key = if distinct >= MAX_UNKNOWN_VALUES {
            (field, "other".to_string())
        } else {
            key
        };
        let n = inner.unknown.entry(key).or_default();
        let first = *n == 0;
        *n = n.saturating_add(times);
        first
    }

    /// Counts an answer carrying an undocumented field (`stores.newField`);
    /// returns true the first time the field is seen, so the caller logs it
    /// once. Bounded like [`SelfMetrics::unknown_value`].
    pub fn unknown_field(&self, field: &str) -> bool {
        let mut inner = self.lock();
        if let Some(n) = inner.unknown_fields.get_mut(field) {
            *n += 1;
            return false;
        }
        let distinct = inner
            .unknown_fields
            .keys()
            .filter(|k| *k != "other")
            .count();
        let key = if distinct >= MAX_UNKNOWN_VALUES {
            "other".to_string()
        } else {
            field.to_string()
        };
        let n = inner.unknown_fields.entry(key).or_default();
        *n += 1;
        *n == 1
    }

    /// Whether the last poll of an environment fully succeeded.
    pub fn is_up(&self, key: &EnvKey) -> bool {
        self.lock().envs.get(key).is_some_and(|m| m.up)
    }

    /// Unix time of the environment's last fully successful poll.
    pub fn last_success(&self, key: &EnvKey) -> Option<f64> {
        self.lock().envs.get(key).and_then(|m| m.last_success)
    }

    /// `pingone_exporter_rate_limited_total` of an environment.
    pub fn rate_limited_total(&self, key: &EnvKey) -> u64 {
        self.lock().envs.get(key).map_or(0, |m| m.rate_limited)
    }

    /// Requests of an environment to `endpoint` whose `code` label matches.
    pub fn requests_where(&self, key: &EnvKey, endpoint: &str, code: impl Fn(&str) -> bool) -> u64 {
        let inner = self.lock();
        let Some(m) = inner.envs.get(key) else {
            return 0;
        };
        m.requests
            .iter()
            .filter(|((e, c), _)| *e == endpoint && code(c))
            .map(|(_, n)| n)
            .sum()
    }

    /// Polls of an environment that failed for `reason`.
    pub fn poll_failures(&self, key: &EnvKey, reason: &str) -> u64 {
        let inner = self.lock();
        inner
            .envs
            .get(key)
            .and_then(|m| m.failures.get(reason).copied())
            .unwrap_or(0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::exposition::Format;

    #[test]
    fn unknown_values_are_bounded() {
        let m = SelfMetrics::new("0", "x");
        assert!(m.unknown_value("f", "A"));
        assert!(!m.unknown_value("f", "A"));
        for i in 0..(MAX_UNKNOWN_VALUES + 10) {
            m.unknown_value("f", &format!("v{i}"));
        }
        let mut out = Vec::new();
        m.encode(Format::Text, &mut out);
        let text = String::from_utf8(out).unwrap();
        let series = text
            .lines()
            .filter(|l| l.starts_with("pingone_exporter_unknown_values_total"))
            .count();
        assert_eq!(series, MAX_UNKNOWN_VALUES + 1, "{text}");
        assert!(text.contains(r#"value="other"} 11"#));
    }

    #[test]
    fn unknown_fields_are_bounded() {
        let m = SelfMetrics::new("0", "x");
        assert!(m.unknown_field("stores.a"));
        assert!(!m.unknown_field("stores.a"));
        for i in 0..(MAX_UNKNOWN_VALUES + 5) {
            m.unknown_field(&format!("rules.f{i}"));
        }
        let mut out = Vec::new();
        m.encode(Format::Text, &mut out);
        let text = String::from_utf8(out).unwrap();
        let series: Vec<&str> = text
            .lines()
            .filter(|l| l.starts_with("pingone_exporter_unknown_fields_total"))
            .collect();
        assert_eq!(series.len(), MAX_UNKNOWN_VALUES + 1, "{text}");
        assert!(text.contains(r#"{field="other"} 6"#), "{text}");
        assert!(text.contains(r#"pingone_exporter_unknown_fields_total{field="stores.a"} 2"#));
    }

    #[test]
    fn bucket_labels_match_the_buckets() {
        let formatted: Vec<String> = POLL_BUCKETS.iter().map(|b| format!("{b:?}")).collect();
        assert_eq!(formatted, POLL_BUCKET_LABELS);
    }

    #[test]
    fn removed_environments_lose_their_series() {
        let m = SelfMetrics::new("0", "x");
        let k = EnvKey::new("id1", "prod");
        m.api_request(&k, "stores", "200");
        m.remove_env(&k);
        let mut out = Vec::new();
        m.encode(Format::OpenMetrics, &mut out);
        assert!(!String::from_utf8(out).unwrap().contains("id1"));
    }
}
