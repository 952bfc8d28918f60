//! What one environment's poller keeps between polls: the last good answer
//! of every read, when it was read, and which reads are due.
//!
//! The reads run on three cadences (docs/configuration.md, "Cadences"):
//! the stores every poll, the rules and the latest revision every
//! `rules_interval`, every exported rule's `syncedGroups` every
//! `groups_interval`. Each poll builds its snapshot from the fresh stores
//! and the last good rest, so a failed or skipped read keeps its last good
//! data. A read is due at the poll nearest its due time: more than half a
//! poll interval early counts as not yet, so an interval equal to the poll
//! interval reads at every poll despite the schedule's jitter.

use std::collections::{HashMap, HashSet};
use std::time::{Duration, Instant};

use crate::config::Environment;
use crate::mapping::Answers;
use crate::pingone::model::{Revision, Rule, Store, SyncedGroup};
use crate::state::ReadTimes;

/// One rule's last good groups.
#[derive(Clone, Debug)]
struct GroupsRead {
    groups: Vec<SyncedGroup>,
    /// When they were read, Unix seconds.
    at: f64,
}

/// One environment's last good answers; see the module docs.
#[derive(Clone, Debug, Default)]
pub struct EnvCache {
    stores: Option<Vec<Store>>,
    stores_at: Option<f64>,
    rules: Option<Vec<Rule>>,
    /// The start of the poll whose rules read succeeded, and its Unix time.
    rules_at: Option<(Instant, f64)>,
    revision: Option<Revision>,
    groups: HashMap<String, GroupsRead>,
    /// The start of the poll that began the last full round of group reads.
    groups_round: Option<Instant>,
    /// Rules whose last group read failed: read again at the next poll.
    groups_failed: HashSet<String>,
}

/// Whether `interval` has passed since `last` at a poll that started at
/// `now`, to the nearest poll (see the module docs).
fn due(last: Option<Instant>, now: Instant, interval: Duration, poll: Duration) -> bool {
    last.is_none_or(|at| now.saturating_duration_since(at) + poll / 2 >= interval)
}

impl EnvCache {
    /// An empty cache: the first poll reads everything.
    pub fn new() -> Self {
        Self::default()
    }

    /// True until a rules read succeeded: the first poll reads everything
    /// before it publishes.
    pub fn is_empty(&self) -> bool {
        self.rules.is_none()
    }

    /// Whether a poll starting at `now` reads the rules and the revision.
    pub fn rules_due(&self, env: &Environment, now: Instant) -> bool {
        due(
            self.rules_at.map(|(at, _)| at),
            now,
            env.rules_interval,
            env.poll_interval,
        )
    }

    /// Records a successful stores read at `at` (Unix seconds).
    pub fn set_stores(&mut self, stores: Vec<Store>, at: f64) {
        self.stores = Some(stores);
        self.stores_at = Some(at);
    }

    /// Records a successful rules read by the poll that started at
    /// `started`, finished at `at` (Unix seconds); drops the groups of rules
    /// that are gone.
    pub fn set_rules(&mut self, rules: Vec<Rule>, started: Instant, at: f64) {
        let ids: HashSet<&str> = rules.iter().filter_map(|r| r.id.as_deref()).collect();
        self.groups.retain(|id, _| ids.contains(id.as_str()));
        self.groups_failed.retain(|id| ids.contains(id.as_str()));
        self.rules = Some(rules);
        self.rules_at = Some((started, at));
    }

    /// Records a successful latest-revision read.
    pub fn set_revision(&mut self, revision: Revision) {
        self.revision = Some(revision);
    }

    /// The rules whose groups are exported: enabled, with an id, kept by the
    /// environment's filter. The console shows no sync summary for a
    /// disabled rule, and each read costs requests.
    pub fn exported(&self, env: &Environment) -> Vec<String> {
        self.rules
            .iter()
            .flatten()
            .filter(|r| r.active == Some(true))
            .filter(|r| env.rules.matches(r.name.as_deref().unwrap_or("")))
            .filter_map(|r| r.id.clone())
            .collect()
    }

    /// The rules whose groups a poll starting at `now` reads: all exported
    /// rules when a round of `groups_interval` is due (which starts a
    /// round), else the ones never read or whose last read failed. Rules in
    /// `pending` (a read still under way) are left out.
    pub fn groups_due(
        &mut self,
        env: &Environment,
        now: Instant,
        pending: &HashSet<String>,
    ) -> Vec<String> {
        let round = due(
            self.groups_round,
            now,
            env.groups_interval,
            env.poll_interval,
        );
        if round && self.rules.is_some() {
            self.groups_round = Some(now);
        }
        self.exported(env)
            .into_iter()
            .filter(|id| !pending.contains(id))
            .filter(|id| round || !self.groups.contains_key(id) || self.groups_failed.contains(id))
            .collect()
    }

    /// Records one rule's group read, finished at `at` (Unix seconds):
    /// `None` when it failed, which keeps the last good groups. A read for
    /// a rule that is gone meanwhile is dropped.
    pub fn set_groups(&mut self, rule: String, groups: Option<Vec<SyncedGroup>>, at: f64) {
        let known = self
            .rules
            .iter()
            .flatten()
            .any(|r| r.id.as_deref() == Some(rule.as_str()));
        if !known {
            return;
        }
        match groups {
            Some(groups) => {
                self.groups_failed.remove(&rule);
                self.groups.insert(rule, GroupsRead { groups, at });
            }
            None => {
                self.groups_failed.insert(rule);
            }
        }
    }

    /// The answers a snapshot is built from: the last good of each read.
    /// `None` until both the stores and the rules were read once.
    pub fn answers(&self) -> Option<Answers> {
        Some(Answers {
            stores: self.stores.clone()?,
            rules: self.rules.clone()?,
            groups: self
                .groups
                .iter()
                .map(|(id, g)| (id.clone(), g.groups.clone()))
                .collect(),
            revision: self.revision.clone(),
        })
    }

    /// Exported rules without groups (never read, or dropped): a snapshot
    /// may carry their counts over from the previous one.
    pub fn without_groups(&self, env: &Environment) -> Vec<String> {
        self.exported(env)
            .into_iter()
            .filter(|id| !self.groups.contains_key(id))
            .collect()
    }

    /// When each kind of data was last read successfully.
    pub fn read_times(&self, env: &Environment) -> ReadTimes {
        let exported = self.exported(env);
        let groups = exported
            .iter()
            .map(|id| self.groups.get(id).map(|g| g.at))
            .collect::<Option<Vec<f64>>>()
            .and_then(|at| at.into_iter().reduce(f64::min));
        ReadTimes {
            stores: self.stores_at,
            rules: self.rules_at.map(|(_, at)| at),
            groups,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn env(poll: u64, rules: u64, groups: u64) -> Environment {
        let mut c = crate::config::load_str(
            "environments:\n  - name: a\n    id: 11111111-1111-4111-8111-111111111111\n    credentials:\n      client_id: c\n      client_secret: s\n",
            "t.yml",
            &|_| None,
        )
        .unwrap();
        let mut e = c.environments.remove(0);
        e.poll_interval = Duration::from_secs(poll);
        e.rules_interval = Duration::from_secs(rules);
        e.groups_interval = Duration::from_secs(groups);
        e
    }

    fn rule(id: &str, active: bool) -> Rule {
        Rule {
            id: Some(id.into()),
            active: Some(active),
            ..Rule::default()
        }
    }

    #[test]
    fn each_read_comes_due_on_its_own_cadence() {
        let e = env(60, 300, 900);
        let t0 = Instant::now();
        let at = |s: u64| t0 + Duration::from_secs(s);
        let mut c = EnvCache::new();
        let none = HashSet::new();
        assert!(c.is_empty() && c.rules_due(&e, t0));
        c.set_stores(Vec::new(), 1.0);
        c.set_rules(vec![rule("a", true), rule("off", false)], t0, 1.0);
        assert_eq!(c.groups_due(&e, t0, &none), vec!["a"], "enabled rules only");
        c.set_groups("a".into(), Some(Vec::new()), 2.0);
        // The next polls: nothing slow is due until its interval (to the
        // nearest poll) has passed.
        assert!(!c.rules_due(&e, at(60)) && !c.rules_due(&e, at(269)));
        assert!(c.rules_due(&e, at(270)), "within half a poll of 5 min");
        assert!(c.groups_due(&e, at(240), &none).is_empty());
        // A new rule is read at once, without waiting for the round.
        c.set_rules(vec![rule("a", true), rule("b", true)], at(300), 3.0);
        assert_eq!(c.groups_due(&e, at(300), &none), vec!["b"]);
        assert!(
            c.groups_due(&e, at(300), &HashSet::from(["b".to_string()]))
                .is_empty(),
            "not twice while its read is under way"
        );
        // A failed read is read again at the next poll; its groups stay.
        c.set_groups("b".into(), None, 4.0);
        assert_eq!(c.groups_due(&e, at(360), &none), vec!["b"]);
        assert_eq!(c.read_times(&e).groups, None, "b was never read");
        c.set_groups("b".into(), Some(Vec::new()), 5.0);
        assert_eq!(c.read_times(&e).groups, Some(2.0), "the oldest: a's");
        // The round comes due: every exported rule.
        assert_eq!(c.groups_due(&e, at(870), &none), vec!["a", "b"]);
        assert!(c.groups_due(&e, at(930), &none).is_empty());
        let times = c.read_times(&e);
        assert_eq!((times.stores, times.rules), (Some(1.0), Some(3.0)));
    }

    #[test]
    fn intervals_equal_to_the_poll_read_at_every_jittered_poll() {
        let e = env(60, 60, 60);
        let t0 = Instant::now();
        let mut c = EnvCache::new();
        c.set_rules(vec![rule("a", true)], t0, 1.0);
        c.set_groups("a".into(), Some(Vec::new()), 1.0);
        let _ = c.groups_due(&e, t0, &HashSet::new());
        // 10% early, as the jitter may start it.
        let early = t0 + Duration::from_secs(54);
        assert!(c.rules_due(&e, early));
        assert_eq!(c.groups_due(&e, early, &HashSet::new()), vec!["a"]);
    }

    #[test]
    fn a_deleted_rule_takes_its_groups_along() {
        let e = env(60, 60, 60);
        let t0 = Instant::now();
        let mut c = EnvCache::new();
        c.set_stores(Vec::new(), 1.0);
        c.set_rules(vec![rule("a", true), rule("b", true)], t0, 1.0);
        c.set_groups("a".into(), Some(Vec::new()), 1.0);
        c.set_rules(vec![rule("b", true)], t0, 2.0);
        // A read that was under way when `a` went is dropped.
        c.set_groups("a".into(), Some(Vec::new()), 3.0);
        let answers = c.answers().unwrap();
        assert!(answers.groups.is_empty(), "{:?}", answers.groups);
        assert_eq!(c.without_groups(&e), vec!["b"]);
    }
}
