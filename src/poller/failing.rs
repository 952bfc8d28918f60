//! Since when a rule is failing, as this exporter observed it: PingOne has no
//! such field, but the poller sees every poll (docs/metrics.md, "Since when").
//!
//! A rule is *failing* at a poll when its connection store's `syncState` is
//! `FAILED` (the rule's status is `failed`) or the store's failure events
//! (`failedCount`) grew within the last [`GROWTH_WINDOW_SECONDS`] across
//! this tracker's polls; a fall is a revision (a reset), not growth. A
//! *spell* starts at the first failing poll after a non-failing one and ends
//! at the first poll that sees the rule not failing. Only polls that
//! produced a snapshot are observed: a failed poll changes nothing.
//!
//! The tracker lives as long as the environment's poll task and is handed
//! over when a reload restarts the task, so spells survive reloads (for
//! rules still exported) but not a restart of the process. It also logs one
//! line when a spell starts or ends, and one when a store's `details`
//! change.

use std::collections::{HashMap, HashSet, VecDeque};

use crate::mapping::connection_id;
use crate::snapshot::{EnvSnapshot, RuleStatus, RuleSummary};

/// How far back growth of the failure events makes a rule failing: the
/// window of the bundled PingOneProvisioningSyncFailing alert.
pub const GROWTH_WINDOW_SECONDS: f64 = 1800.0;

/// A rule's current failing spell.
#[derive(Clone, Copy, Debug, PartialEq)]
struct Spell {
    since: f64,
    polls: u64,
}

/// One environment's observations across polls. See the module docs.
#[derive(Debug, Default)]
pub struct FailingTracker {
    /// Per connection store id: `(poll time, failedCount)` samples within
    /// the window, plus the newest older one as the baseline.
    samples: HashMap<String, VecDeque<(f64, u64)>>,
    /// Per rule id: the open spell.
    spells: HashMap<String, Spell>,
    /// Per connection store id: the cleaned `details` last seen.
    details: HashMap<String, Option<String>>,
}

impl FailingTracker {
    /// A tracker that has seen nothing (a start, or a new environment).
    pub fn new() -> Self {
        Self::default()
    }

    /// Observes one poll's snapshot taken at `now` (Unix seconds) and fills
    /// every rule's `failing_since` and `failing_polls`. A rule whose
    /// `failing_polls` the mapping left `None` has no connection-store
    /// `syncStatus`: it is never failing and both stay `None`. `env` names
    /// the environment in log lines.
    pub fn observe(&mut self, env: &str, snap: &mut EnvSnapshot, now: f64) {
        let grew = self.record_failures(&snap.rules, now);
        self.log_details(env, &snap.rules);
        let mut seen = HashSet::new();
        for rule in &mut snap.rules {
            seen.insert(rule.id.clone());
            let watched = rule.failing_polls.is_some();
            let store = connection_id(rule.direction, &rule.source, &rule.target);
            let failing =
                watched && (rule.status == Some(RuleStatus::Failed) || grew.contains(store));
            if failing {
                let spell = self.spells.entry(rule.id.clone()).or_insert_with(|| {
                    tracing::warn!(
                        environment = env,
                        rule = %rule.name,
                        details = rule.sync_error.as_deref(),
                        "rule started failing (as seen by this exporter)"
                    );
                    Spell {
                        since: now,
                        polls: 0,
                    }
                });
                spell.polls += 1;
                rule.failing_since = Some(spell.since);
                rule.failing_polls = Some(spell.polls);
            } else {
                if let Some(spell) = self.spells.remove(&rule.id) {
                    tracing::info!(
                        environment = env,
                        rule = %rule.name,
                        failed_for_s = now - spell.since,
                        polls = spell.polls,
                        "rule no longer failing"
                    );
                }
                rule.failing_since = None;
                rule.failing_polls = watched.then_some(0);
            }
        }
        // Rules no longer exported (deleted, filtered out) are forgotten.
        self.spells.retain(|id, _| seen.contains(id));
    }

    /// Records the owners' `failedCount` per store and returns the stores
    /// whose count grew within the window.
    fn record_failures(&mut self, rules: &[RuleSummary], now: f64) -> HashSet<String> {
        let mut grew = HashSet::new();
        let mut stores = HashSet::new();
        for rule in rules {
            let store = connection_id(rule.direction, &rule.source, &rule.target);
            stores.insert(store.to_string());
            // The store's events are on its owner rule only: one sample per store.
            let Some(failed) = rule.events.failure else {
                continue;
            };
            let samples = self.samples.entry(store.to_string()).or_default();
            samples.push_back((now, failed));
            // Keep the newest sample older than the window as a baseline, so
            // a poll interval longer than the window still sees growth.
            while samples
                .get(1)
                .is_some_and(|(t, _)| *t < now - GROWTH_WINDOW_SECONDS)
            {
                samples.pop_front();
            }
            let increased = samples
                .iter()
                .zip(samples.iter().skip(1))
                .any(|((_, a), (_, b))| b > a);
            if increased {
                grew.insert(store.to_string());
            }
        }
        self.samples.retain(|id, _| stores.contains(id));
        grew
    }

    /// Logs each store whose cleaned `details` changed since the last poll
    /// (or are non-empty at the first), once per store, naming its rules.
    fn log_details(&mut self, env: &str, rules: &[RuleSummary]) {
        let mut by_store: HashMap<&str, (Option<&str>, Vec<&str>, &str)> = HashMap::new();
        for rule in rules {
            let store = connection_id(rule.direction, &rule.source, &rule.target);
            let store_name = match rule.direction {
                crate::snapshot::Direction::Inbound => rule.source.name.as_str(),
                _ => rule.target.name.as_str(),
            };
            let entry = by_store.entry(store).or_insert((
                rule.sync_error.as_deref(),
                Vec::new(),
                store_name,
            ));
            entry.1.push(rule.name.as_str());
        }
        for (store, (details, rule_names, store_name)) in &by_store {
            let before = self.details.get(*store);
            if before.is_some_and(|b| b.as_deref() == *details)
                || (before.is_none() && details.is_none())
            {
                continue;
            }
            match details {
                Some(d) => tracing::info!(
                    environment = env,
                    store = store_name,
                    rules = rule_names.join(", "),
                    details = d,
                    "PingOne sync error details"
                ),
                None => tracing::info!(
                    environment = env,
                    store = store_name,
                    rules = rule_names.join(", "),
                    "PingOne sync error details cleared"
                ),
            }
            self.details
                .insert((*store).to_string(), details.map(str::to_string));
        }
        self.details
            .retain(|id, _| by_store.contains_key(id.as_str()));
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::snapshot::{Direction, StateCounts, StoreInfo, SyncEvents};

    fn rule(id: &str, store: &str, failed: Option<u64>, status: RuleStatus) -> RuleSummary {
        RuleSummary {
            id: id.into(),
            name: id.into(),
            direction: Direction::Outbound,
            source: StoreInfo::default(),
            target: StoreInfo {
                id: store.into(),
                ..StoreInfo::default()
            },
            parent_rule_id: String::new(),
            enabled: Some(true),
            status: Some(status),
            users_impacted: None,
            users: StateCounts::default(),
            groups_impacted: None,
            groups: StateCounts::default(),
            writeback_failures: None,
            events: SyncEvents {
                failure: failed,
                ..SyncEvents::default()
            },
            store_status: None,
            sync_error: None,
            failing_since: None,
            failing_polls: Some(0),
            failed_users: Vec::new(),
            last_sync: None,
            last_poll: None,
            last_writeback: None,
        }
    }

    fn poll(
        t: &mut FailingTracker,
        now: f64,
        rules: Vec<RuleSummary>,
    ) -> Vec<(Option<f64>, Option<u64>)> {
        let mut snap = EnvSnapshot {
            rules,
            ..EnvSnapshot::default()
        };
        t.observe("env", &mut snap, now);
        snap.rules
            .iter()
            .map(|r| (r.failing_since, r.failing_polls))
            .collect()
    }

    #[test]
    fn a_failed_state_opens_a_spell_at_once_and_counts_polls_until_it_ends() {
        let mut t = FailingTracker::new();
        let failed = || vec![rule("r", "s", None, RuleStatus::Failed)];
        assert_eq!(poll(&mut t, 100.0, failed()), [(Some(100.0), Some(1))]);
        assert_eq!(poll(&mut t, 160.0, failed()), [(Some(100.0), Some(2))]);
        let ok = vec![rule("r", "s", None, RuleStatus::Active)];
        assert_eq!(poll(&mut t, 220.0, ok), [(None, Some(0))]);
        assert_eq!(
            poll(&mut t, 280.0, failed()),
            [(Some(280.0), Some(1))],
            "a new spell"
        );
    }

    #[test]
    fn growth_needs_two_polls_and_ends_after_the_window() {
        let mut t = FailingTracker::new();
        let at = |n| vec![rule("r", "s", Some(n), RuleStatus::Active)];
        assert_eq!(
            poll(&mut t, 0.0, at(5)),
            [(None, Some(0))],
            "one sample: no growth yet"
        );
        assert_eq!(poll(&mut t, 60.0, at(6)), [(Some(60.0), Some(1))]);
        assert_eq!(
            poll(&mut t, 120.0, at(6)),
            [(Some(60.0), Some(2))],
            "grew within 30 min"
        );
        assert_eq!(
            poll(&mut t, 60.0 + GROWTH_WINDOW_SECONDS + 1.0, at(6)),
            [(None, Some(0))]
        );
    }

    #[test]
    fn a_revision_is_not_growth() {
        let mut t = FailingTracker::new();
        let at = |n| vec![rule("r", "s", Some(n), RuleStatus::Active)];
        poll(&mut t, 0.0, at(9));
        assert_eq!(poll(&mut t, 60.0, at(0)), [(None, Some(0))]);
    }

    #[test]
    fn a_shared_store_fails_every_rule_using_it_and_unwatched_rules_stay_absent() {
        let mut t = FailingTracker::new();
        let rules = |n| {
            let mut other = rule("b", "s", None, RuleStatus::Active);
            other.events.failure = None;
            let mut bare = rule("c", "t", None, RuleStatus::Active);
            bare.failing_polls = None;
            vec![rule("a", "s", Some(n), RuleStatus::Active), other, bare]
        };
        poll(&mut t, 0.0, rules(1));
        assert_eq!(
            poll(&mut t, 60.0, rules(2)),
            [(Some(60.0), Some(1)), (Some(60.0), Some(1)), (None, None)]
        );
    }

    #[test]
    fn rules_no_longer_exported_are_forgotten() {
        let mut t = FailingTracker::new();
        poll(&mut t, 0.0, vec![rule("r", "s", None, RuleStatus::Failed)]);
        poll(&mut t, 60.0, vec![]);
        assert_eq!(
            poll(
                &mut t,
                120.0,
                vec![rule("r", "s", None, RuleStatus::Failed)]
            ),
            [(Some(120.0), Some(1))]
        );
    }
}
