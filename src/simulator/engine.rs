//! The provisioning engine: moves the tenant one tick at a time, and
//! applies revisions and rule changes.
//!
//! A tick, for every active rule:
//! - each user in scope re-syncs with probability `rates.churn` (users not
//!   synced since the latest revision with probability [`CATCH_UP`]); the
//!   outcome is `FAILED`, `PARTIALLY_SYNCED` or `UNSYNCED` with the rule's
//!   rates, else `SUCCESS`; every attempt through a failing store fails;
//! - each synced group re-syncs with probability `rates.group_churn`
//!   (`FAILED` with `rates.group_failure`); injected statuses never move;
//! - every attempt is also a sync event: `SUCCESS` and `FAILED` outcomes add
//!   to the rule's success and failure event counts (so a user who keeps
//!   failing adds a failure per attempt), which only a revision resets;
//! - one failed deprovisioning is recorded with probability `rates.deprovision`;
//! - inbound rules record a poll of their source; rules that synced anyone
//!   advance their last sync (and write-back rules their last write-back),
//!   and so does their connection store.
//!
//! The randomness of one rule in one tick comes from
//! `Rng::with_seed(mix(mix(seed, rule key), tick))`, so the same scenario,
//! seed and number of ticks give the same state, whatever other rules were
//! deleted or how requests interleaved.

use super::model::{
    Direction, Env, Events, Millis, Revision, Rule, Store, Tenant, UserState, mix, uuid,
};
use super::scenario::Rates;

/// Probability that a user not synced since the latest revision is synced
/// in a tick: a resync catches up within a few ticks.
pub(crate) const CATCH_UP: f64 = 0.5;

/// Initial history is spread over the day before start.
pub(crate) const HISTORY_SPAN_MS: u64 = 86_400_000;

/// Runs `ticks` ticks.
pub(crate) fn advance(t: &mut Tenant, ticks: u64) {
    for _ in 0..ticks {
        t.clock.ticks += 1;
        let at = t.clock.tick_time(t.clock.ticks);
        let (seed, n) = (t.seed, t.clock.ticks);
        for env in &mut t.envs {
            let Env { rules, stores, .. } = env;
            for rule in rules.iter_mut().filter(|r| r.active) {
                step(rule, stores, mix(mix(seed, rule.key), n), at);
            }
        }
    }
}

/// The outcome of one sync attempt.
pub(crate) fn outcome(rng: &mut fastrand::Rng, rates: &Rates, failing: bool) -> UserState {
    let r = rng.f64();
    if failing || r < rates.failure {
        UserState::Failed
    } else if r < rates.failure + rates.partial {
        UserState::Partial
    } else if r < rates.failure + rates.partial + rates.unsynced {
        UserState::Unsynced
    } else {
        UserState::Success
    }
}

/// Gives an active rule a sync history from before start: every user and
/// group already synced once, at a random time during the previous day.
/// Inactive rules start with none (their store shows no `syncStatus`).
pub(crate) fn history(rule: &mut Rule, rng: &mut fastrand::Rng, start_ms: i64) {
    if !rule.active {
        return;
    }
    let when = |rng: &mut fastrand::Rng| start_ms - rng.u64(1..HISTORY_SPAN_MS) as i64;
    // The history is one sync of everyone since the latest revision; it
    // replaces any earlier history (a write-back rule gets its parent's
    // users after being built, and its history again).
    rule.events = Events::default();
    for m in &mut rule.members {
        m.state = outcome(rng, &rule.rates, false);
        rule.events.record(m.state);
        m.pending = false;
        m.last_sync_ms = Some(when(rng));
    }
    for g in &mut rule.groups {
        if !g.fixed {
            let failed = rng.f64() < rule.rates.group_failure;
            g.status = if failed { "FAILED" } else { "SUCCESS" }.into();
        }
        g.last_sync_ms = Some(when(rng));
    }
    rule.last_sync_ms = rule.members.iter().filter_map(|m| m.last_sync_ms).max();
    if rule.direction == Direction::Writeback {
        rule.last_writeback_ms = rule.last_sync_ms;
    }
}

fn step(rule: &mut Rule, stores: &mut [Store], seed: u64, at: Millis) {
    let mut rng = fastrand::Rng::with_seed(seed);
    let conn = rule.connection_store();
    let failing = stores.get(conn).is_some_and(|s| s.failing);
    let mut synced = false;
    for m in &mut rule.members {
        let p = if m.pending {
            CATCH_UP
        } else {
            rule.rates.churn
        };
        if rng.f64() < p {
            m.state = outcome(&mut rng, &rule.rates, failing);
            rule.events.record(m.state);
            m.pending = false;
            m.last_sync_ms = Some(at);
            synced = true;
        }
    }
    for g in rule.groups.iter_mut().filter(|g| !g.fixed) {
        if rng.f64() < rule.rates.group_churn {
            let failed = failing || rng.f64() < rule.rates.group_failure;
            g.status = if failed { "FAILED" } else { "SUCCESS" }.into();
            g.last_sync_ms = Some(at);
        }
    }
    if rng.f64() < rule.rates.deprovision {
        rule.events.failed_deprovision += 1;
    }
    if rule.direction == Direction::Inbound {
        rule.last_poll_ms = Some(at);
    }
    if synced {
        rule.last_sync_ms = Some(at);
        if rule.direction == Direction::Writeback {
            rule.last_writeback_ms = Some(at);
        }
        if let Some(s) = stores.get_mut(conn) {
            s.last_sync_ms = Some(at);
        }
    }
}

/// Creates a new revision, as `POST .../propagation/revisions` does: every
/// user in scope of every rule goes back to `UNSYNCED` (pending), the
/// event counts (success, failure, failed deprovisioning) reset to 0, and
/// the following ticks re-sync everyone. Group
/// statuses and last-sync times are kept.
pub(crate) fn new_revision(env: &mut Env, at: Millis) -> &Revision {
    let previous = std::mem::take(&mut env.revision.id);
    env.revision = Revision {
        id: uuid(&mut env.ids),
        created_ms: at,
        previous: Some(previous),
    };
    env.resyncs += 1;
    for rule in &mut env.rules {
        rule.events = Events::default();
        for m in &mut rule.members {
            m.state = UserState::Unsynced;
            m.pending = true;
        }
    }
    &env.revision
}

/// What `/_sim/rules/{id}/{action}` does.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum RuleAction {
    /// Remove the rule (its series must vanish from the exporter).
    Delete,
    /// Set `active: true`.
    Activate,
    /// Set `active: false`.
    Deactivate,
}

/// Applies `action` to the rule with this id in any environment; false when
/// there is no such rule.
pub(crate) fn rule_action(t: &mut Tenant, rule_id: &str, action: RuleAction) -> bool {
    for env in &mut t.envs {
        if let Some(i) = env.rules.iter().position(|r| r.id == rule_id) {
            match action {
                RuleAction::Delete => {
                    env.rules.remove(i);
                }
                RuleAction::Activate => env.rules[i].active = true,
                RuleAction::Deactivate => env.rules[i].active = false,
            }
            return true;
        }
    }
    false
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::simulator::counts;
    use crate::simulator::scenario::Scenario;
    use crate::simulator::setup;

    const SMALL: &str = "
seed: 9
clock: manual
environments:
  - name: e
    users: 200
    groups: 5
    stores:
      - { name: dir, type: directory }
      - { name: p1, type: PingOne }
      - { name: app, type: scim }
      - { name: wd, type: Workday }
    rules:
      - { name: out, source: dir, target: app, population: 0.5, groups: 3, rates: { failure: 0.1 } }
      - { name: in, source: wd, target: p1, population: 0.4 }
      - { name: wb, source: dir, target: wd, parent: in }
      - { name: off, source: dir, target: app, active: false, population: 0.2 }
";

    fn tenant(ticks: u64) -> Tenant {
        let s = Scenario::from_yaml(SMALL).unwrap();
        let (mut t, _) = setup::build(&s).unwrap();
        advance(&mut t, ticks);
        t
    }

    fn all_counts(t: &Tenant) -> Vec<counts::UserCounts> {
        t.envs[0].rules.iter().map(counts::users).collect()
    }

    fn fingerprint(t: &Tenant) -> Vec<(u32, UserState, Option<Millis>)> {
        let members = t.envs[0].rules.iter().flat_map(|r| &r.members);
        members.map(|m| (m.user, m.state, m.last_sync_ms)).collect()
    }

    #[test]
    fn same_seed_same_ticks_same_state() {
        assert_eq!(all_counts(&tenant(7)), all_counts(&tenant(7)));
        assert_eq!(fingerprint(&tenant(7)), fingerprint(&tenant(7)));
        assert_ne!(fingerprint(&tenant(7)), fingerprint(&tenant(8)));
    }

    #[test]
    fn inactive_rules_do_not_move_and_writeback_shares_parent_scope() {
        let t = tenant(10);
        let rules = &t.envs[0].rules;
        let off = counts::users(&rules[3]);
        assert_eq!(off.unsynced, off.impacted);
        assert!(rules[3].last_sync_ms.is_none());
        let ids = |r: &Rule| r.members.iter().map(|m| m.user).collect::<Vec<_>>();
        assert_eq!(ids(&rules[1]), ids(&rules[2]));
        assert_eq!(rules[2].parent_id.as_deref(), Some(rules[1].id.as_str()));
        assert!(rules[1].last_poll_ms.is_some() && rules[2].last_writeback_ms.is_some());
    }

    #[test]
    fn revision_resets_then_ticks_catch_up() {
        let mut t = tenant(3);
        let at = t.clock.now();
        let old = t.envs[0].revision.id.clone();
        let rev = new_revision(&mut t.envs[0], at);
        assert_eq!(rev.previous.as_deref(), Some(old.as_str()));
        let c = counts::users(&t.envs[0].rules[0]);
        assert_eq!((c.success, c.unsynced), (0, c.impacted));
        advance(&mut t, 12);
        let c = counts::users(&t.envs[0].rules[0]);
        assert!(c.success > c.impacted / 2, "{c:?}");
        assert_eq!(t.envs[0].resyncs, 1);
    }

    #[test]
    fn events_accumulate_per_attempt_and_differ_from_users() {
        let mut t = tenant(0);
        let out = &t.envs[0].rules[0];
        // Every attempt through a failing store fails and adds an event;
        // the users stay failed, counted once each.
        let conn = out.connection_store();
        t.envs[0].stores[conn].failing = true;
        advance(&mut t, 30);
        let out = &t.envs[0].rules[0];
        let c = counts::users(out);
        assert!(out.events.failed > c.failed, "{:?} {c:?}", out.events);
        assert!(c.failed > c.impacted / 2, "{c:?}");
        // Healed: users re-sync to success, the failure events stay until a revision.
        t.envs[0].stores[conn].failing = false;
        let failed_before = t.envs[0].rules[0].events.failed;
        advance(&mut t, 60);
        let out = &t.envs[0].rules[0];
        let c = counts::users(out);
        assert!(out.events.failed >= failed_before);
        assert!(out.events.success > c.success, "synced twice counts twice");
        assert!(c.failed < out.events.failed);
    }

    #[test]
    fn revision_resets_events_and_the_store_sums_its_rules() {
        let mut t = tenant(20);
        let at = t.clock.now();
        new_revision(&mut t.envs[0], at);
        assert!(
            t.envs[0]
                .rules
                .iter()
                .all(|r| r.events == Events::default())
        );
        let statuses = counts::sync_statuses(&t.envs[0]);
        let out = &t.envs[0].rules[0];
        let st = statuses[out.connection_store()].as_ref().unwrap();
        assert_eq!((st.success, st.failed, st.failed_deprovision), (0, 0, 0));
        assert_eq!(
            st.user_total,
            100 + counts::users(&t.envs[0].rules[3]).impacted
        );
        advance(&mut t, 5);
        let statuses = counts::sync_statuses(&t.envs[0]);
        let rules = &t.envs[0].rules;
        let st = statuses[rules[0].connection_store()].as_ref().unwrap();
        let sum = |f: fn(&Events) -> u64| {
            rules
                .iter()
                .filter(|r| r.connection_store() == rules[0].connection_store())
                .map(|r| f(&r.events))
                .sum::<u64>()
        };
        assert_eq!(st.success, sum(|e| e.success));
        assert_eq!(st.failed, sum(|e| e.failed));
    }

    #[test]
    fn rule_actions() {
        let mut t = tenant(1);
        let id = t.envs[0].rules[3].id.clone();
        assert!(rule_action(&mut t, &id, RuleAction::Activate));
        assert!(t.envs[0].rules[3].active);
        assert!(rule_action(&mut t, &id, RuleAction::Delete));
        assert!(!rule_action(&mut t, &id, RuleAction::Deactivate));
        assert_eq!(t.envs[0].rules.len(), 3);
    }
}
