//! The conditions of `alerts/pingone-sync-exporter.rules.yml`, evaluated
//! over the daemon's own snapshots and self-metrics instead of PromQL.
//!
//! | alert | holds for a subject when (PromQL it mirrors) |
//! |---|---|
//! | SyncFailing | `increase(failure events[window]) / increase(all events[window]) > threshold`, rule not disabled; the increases come from the sender's own samples ([`EventWindows`]); no value (0 / 0, fewer than two samples) never holds |
//! | FailuresOutstanding | failure events since the latest revision `> threshold`, rule not disabled, unless user-detail mode counted 0 failed users for the rule |
//! | GroupsFailing | `groups{failed} > threshold`, rule not disabled |
//! | WritebackFailing | `writeback_failures > threshold`, rule not disabled; silent while absent |
//! | RuleFailed | status `failed`, rule not disabled |
//! | SyncStale | status `active` and `now - (last_poll or last_sync) >` the kind's threshold |
//! | PollFailing | the environment's last poll failed (`pingone_exporter_up == 0`, once it polled) |
//! | DataStale | `now - last_success > threshold` (silent before a first success) |
//! | RateLimited | `increase(rate_limited_total[window]) > 0` |
//! | AuthFailing | `increase` of token 4xx answers plus 401/403 poll failures over `window` `> 0` |
//!
//! "Not disabled" is `unless rule_enabled == 0`: a rule whose `active` flag
//! is unknown counts as enabled. The event counters exist on a store's
//! owner rule only, so the two event conditions hold for owners only, as
//! the rule file's do.

use std::collections::HashSet;
use std::sync::Arc;

use super::catalog::{AlertKind, Subject, description};
use super::counters::{CounterWindows, Counts};
use super::events::EventWindows;
use super::lifecycle::{Candidate, Labels};
use crate::config::{AlertConditions, SyncStaleThresholds};
use crate::selfmetrics::SelfMetrics;
use crate::snapshot::{Direction, EnvKey, EnvSnapshot, RuleStatus, RuleSummary};
use crate::state::EnvState;

/// Evaluates every enabled condition at `now` (Unix seconds) over `envs`,
/// recording the counters the windowed conditions need into `windows`
/// (the daemon's own counters) and `events` (every rule's event counters).
pub fn evaluate(
    envs: &[Arc<EnvState>],
    metrics: &SelfMetrics,
    conditions: &AlertConditions,
    windows: &mut CounterWindows,
    events: &mut EventWindows,
    now: f64,
) -> Vec<Candidate> {
    let mut out = Vec::new();
    let mut rules = HashSet::new();
    for env in envs {
        if let Some(snap) = &env.snapshot {
            for rule in &snap.rules {
                let key = EventWindows::key(&env.key, &rule.id);
                events.record(&key, now, rule.events);
                let ctx = RuleContext {
                    env: &env.key,
                    snap,
                    events,
                    now,
                };
                rule_conditions(&ctx, rule, conditions, &mut out);
                rules.insert(key);
            }
        }
        let counts = Counts::read(metrics, &env.key);
        windows.record(&env.key, now, counts, env.last_poll.is_none());
        env_conditions(env, metrics, conditions, windows, now, &mut out);
    }
    let keys: Vec<EnvKey> = envs.iter().map(|e| e.key.clone()).collect();
    let longest = conditions
        .rate_limited
        .params
        .max(conditions.auth_failing.params);
    windows.prune(&keys, now, longest);
    events.prune(&rules, now, conditions.sync_failing.params.window);
    out
}

fn labels(kind: AlertKind, key: &EnvKey) -> Labels {
    let mut l = Labels::new();
    l.insert("alertname", kind.name().to_string());
    l.insert("severity", kind.severity().to_string());
    l.insert("environment_id", key.id.to_string());
    l.insert("environment_name", key.name.to_string());
    l
}

/// What the per-rule conditions read besides the rule.
struct RuleContext<'a> {
    env: &'a EnvKey,
    snap: &'a EnvSnapshot,
    events: &'a EventWindows,
    now: f64,
}

impl RuleContext<'_> {
    fn push(
        &self,
        out: &mut Vec<Candidate>,
        c: &AlertConditions,
        kind: AlertKind,
        r: &RuleSummary,
        value: f64,
    ) {
        let mut l = labels(kind, self.env);
        l.insert("rule_id", r.id.clone());
        l.insert("rule_name", r.name.clone());
        l.insert("direction", r.direction.as_str().to_string());
        let subject = Subject {
            environment: &self.env.name,
            rule: &r.name,
            direction: r.direction.as_str(),
            failing_for: r.failing_since.map(|t| self.now - t),
            details: r.sync_error.as_deref(),
            revision_age: self.snap.revision_created.map(|t| self.now - t),
        };
        out.push(Candidate {
            kind,
            labels: l,
            description: description(kind, subject, value, c.sync_failing.params.window),
        });
    }
}

/// The longest `rule` may go without syncing (the first matching kind).
pub fn sync_threshold(rule: &RuleSummary, t: &SyncStaleThresholds) -> std::time::Duration {
    match (rule.direction, rule.source.kind.as_str()) {
        (Direction::Inbound, "LdapGateway") => t.ldap_inbound,
        (Direction::Inbound, "Workday") => t.workday_inbound,
        (Direction::Inbound, _) => t.other_inbound,
        _ => t.default,
    }
}

fn rule_conditions(
    ctx: &RuleContext<'_>,
    r: &RuleSummary,
    c: &AlertConditions,
    out: &mut Vec<Candidate>,
) {
    let not_disabled = r.enabled != Some(false);
    let mut push = |kind, value| ctx.push(out, c, kind, r, value);
    let sync = &c.sync_failing;
    if sync.enabled
        && not_disabled
        && let Some(ratio) = ctx
            .events
            .failure_ratio(
                &EventWindows::key(ctx.env, &r.id),
                ctx.now,
                sync.params.window,
            )
            .filter(|v| *v > sync.params.threshold)
    {
        push(AlertKind::SyncFailing, ratio);
    }
    // `unless users{state="failed"} == 0`: user-detail mode saw every
    // user of the rule out of the failed state, so the events are history.
    let users_recovered = r.users.failed == Some(0);
    if c.failures_outstanding.enabled
        && not_disabled
        && !users_recovered
        && let Some(n) = r
            .events
            .failure
            .filter(|n| *n > c.failures_outstanding.params)
    {
        push(AlertKind::FailuresOutstanding, n as f64);
    }
    if c.groups_failing.enabled
        && not_disabled
        && let Some(n) = r.groups.failed.filter(|n| *n > c.groups_failing.params)
    {
        push(AlertKind::GroupsFailing, n as f64);
    }
    if c.writeback_failing.enabled
        && not_disabled
        && let Some(n) = r
            .writeback_failures
            .filter(|n| *n > c.writeback_failing.params)
    {
        push(AlertKind::WritebackFailing, n as f64);
    }
    if c.rule_failed.enabled && not_disabled && r.status == Some(RuleStatus::Failed) {
        push(AlertKind::RuleFailed, 1.0);
    }
    let threshold = sync_threshold(r, &c.sync_stale.params).as_secs_f64();
    if c.sync_stale.enabled
        && r.status == Some(RuleStatus::Active)
        && let Some(age) = r
            .last_poll
            .or(r.last_sync)
            .map(|ts| ctx.now - ts)
            .filter(|age| *age > threshold)
    {
        push(AlertKind::SyncStale, age);
    }
}

fn env_conditions(
    env: &EnvState,
    metrics: &SelfMetrics,
    c: &AlertConditions,
    windows: &CounterWindows,
    now: f64,
    out: &mut Vec<Candidate>,
) {
    let key = &env.key;
    let mut push = |kind: AlertKind, value: f64| {
        let subject = Subject {
            environment: &key.name,
            ..Subject::default()
        };
        out.push(Candidate {
            kind,
            labels: labels(kind, key),
            description: description(kind, subject, value, c.rate_limited.params),
        });
    };
    // `pingone_exporter_up == 0`: the last poll did not fully succeed (the
    // gauge is also 0 before the first poll, which no `for` outlasts).
    let last_failed = env.last_poll.as_ref().is_some_and(|p| p.error.is_some());
    if c.poll_failing.enabled && last_failed {
        push(AlertKind::PollFailing, 0.0);
    }
    if c.data_stale.enabled
        && let Some(age) = metrics
            .last_success(key)
            .map(|ts| now - ts)
            .filter(|age| *age > c.data_stale.params.as_secs_f64())
    {
        push(AlertKind::DataStale, age);
    }
    if c.rate_limited.enabled {
        let n = windows.increase(key, now, c.rate_limited.params, |c| c.rate_limited);
        if let Some(n) = n.filter(|n| *n > 0) {
            push(AlertKind::RateLimited, n as f64);
        }
    }
    if c.auth_failing.enabled {
        let n = windows.increase(key, now, c.auth_failing.params, |c| c.auth_failures);
        if n.is_some_and(|n| n > 0) {
            push(AlertKind::AuthFailing, 0.0);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::snapshot::{EnvSnapshot, StateCounts, StoreInfo};
    use crate::state::PollReport;

    const NOW: f64 = 1_800_000_000.0;

    fn rule(id: &str, direction: Direction) -> RuleSummary {
        RuleSummary {
            id: id.into(),
            name: format!("rule {id}"),
            direction,
            source: StoreInfo::default(),
            target: StoreInfo::default(),
            parent_rule_id: String::new(),
            enabled: Some(true),
            status: Some(RuleStatus::Active),
            users_impacted: Some(100),
            users: StateCounts {
                success: Some(100),
                failed: Some(0),
            },
            groups_impacted: None,
            groups: StateCounts::default(),
            writeback_failures: None,
            events: crate::snapshot::SyncEvents {
                failed_deprovision: None,
                ..Default::default()
            },
            store_status: None,
            sync_error: None,
            failing_since: None,
            failing_polls: None,
            failed_users: Vec::new(),
            last_sync: Some(NOW - 60.0),
            last_poll: None,
            last_writeback: None,
        }
    }

    fn env(rules: Vec<RuleSummary>, error: Option<&str>) -> Arc<EnvState> {
        Arc::new(EnvState {
            key: EnvKey::new("env-id", "prod"),
            snapshot: Some(Arc::new(EnvSnapshot {
                rules,
                ..EnvSnapshot::default()
            })),
            rendered: None,
            last_poll: Some(PollReport {
                finished_at: NOW - 10.0,
                duration: 1.0,
                error: error.map(str::to_string),
            }),
            reads: Default::default(),
        })
    }

    /// `(alertname, rule_id or "")` of every candidate, sorted.
    fn fired(
        envs: &[Arc<EnvState>],
        m: &SelfMetrics,
        c: &AlertConditions,
    ) -> Vec<(String, String)> {
        let mut w = CounterWindows::default();
        names(evaluate(
            envs,
            m,
            c,
            &mut w,
            &mut EventWindows::default(),
            NOW,
        ))
    }

    fn names(cands: Vec<Candidate>) -> Vec<(String, String)> {
        let mut v: Vec<_> = cands
            .iter()
            .map(|c| {
                let get = |k| c.labels.get(k).cloned().unwrap_or_default();
                (get("alertname"), get("rule_id"))
            })
            .collect();
        v.sort();
        v
    }

    fn pair(kind: AlertKind, rule: &str) -> (String, String) {
        (kind.name().to_string(), rule.to_string())
    }

    #[test]
    fn per_rule_conditions_mirror_the_rule_file() {
        let m = SelfMetrics::new("0", "x");
        let c = AlertConditions::default();
        let mut outstanding = rule("outstanding", Direction::Outbound);
        outstanding.events.failure = Some(3);
        outstanding.users.failed = None; // no user-detail count
        let mut recovered = rule("recovered", Direction::Outbound);
        recovered.events.failure = Some(3); // user-detail: 0 failed users
        let mut none_failed = rule("clean", Direction::Outbound);
        none_failed.events.failure = Some(0);
        let mut groups = rule("groups", Direction::Outbound);
        groups.groups.failed = Some(1);
        let mut failed = rule("failed", Direction::Outbound);
        failed.status = Some(RuleStatus::Failed);
        let mut disabled = rule("disabled", Direction::Outbound);
        (disabled.enabled, disabled.status) = (Some(false), Some(RuleStatus::Failed));
        disabled.events.failure = Some(50);
        disabled.users.failed = Some(50);
        disabled.groups.failed = Some(3);
        disabled.writeback_failures = Some(3);
        let mut writeback = rule("wb", Direction::Writeback);
        writeback.writeback_failures = Some(2);
        let envs = [env(
            vec![
                outstanding,
                recovered,
                none_failed,
                groups,
                failed,
                disabled,
                writeback,
            ],
            None,
        )];
        assert_eq!(
            fired(&envs, &m, &c),
            [
                pair(AlertKind::GroupsFailing, "groups"),
                pair(AlertKind::RuleFailed, "failed"),
                pair(AlertKind::FailuresOutstanding, "outstanding"),
                pair(AlertKind::WritebackFailing, "wb"),
            ]
        );
        let mut off = c.clone();
        off.failures_outstanding.params = 3;
        off.groups_failing.params = 1;
        assert_eq!(
            fired(&envs, &m, &off),
            [
                pair(AlertKind::RuleFailed, "failed"),
                pair(AlertKind::WritebackFailing, "wb"),
            ]
        );
    }

    /// Evaluates `rules` with their event counters at `minute` (after
    /// `NOW`), keeping `events` as the engine does.
    fn at_minute(
        events: &mut EventWindows,
        minute: u32,
        rules: Vec<RuleSummary>,
    ) -> Vec<(String, String)> {
        let m = SelfMetrics::new("0", "x");
        let mut w = CounterWindows::default();
        let now = NOW + f64::from(minute) * 60.0;
        let envs = [env(rules, None)];
        let c = AlertConditions::default();
        names(evaluate(&envs, &m, &c, &mut w, events, now))
            .into_iter()
            .filter(|(n, _)| n == AlertKind::SyncFailing.name())
            .collect()
    }

    fn counting(id: &str, success: u64, failure: u64) -> RuleSummary {
        let mut r = rule(id, Direction::Outbound);
        r.events.success = Some(success);
        r.events.failure = Some(failure);
        r
    }

    #[test]
    fn sync_failing_follows_the_failure_share_of_the_window() {
        let mut ev = EventWindows::default();
        // (minute, burst (success, failure), at5 (success, failure))
        let step = |ev: &mut EventWindows, minute, burst: (u64, u64), at5: (u64, u64)| {
            let mut disabled = counting("off", burst.0, burst.0 * 10);
            disabled.enabled = Some(false);
            at_minute(
                ev,
                minute,
                vec![
                    counting("burst", burst.0, burst.1),
                    counting("never", burst.0 * 2, 0),
                    counting("at5", at5.0, at5.1),
                    disabled,
                ],
            )
        };
        let burst = vec![pair(AlertKind::SyncFailing, "burst")];
        // One sample: no value yet (a fresh process).
        assert!(step(&mut ev, 0, (0, 0), (0, 0)).is_empty());
        // 20 of 210 failed; at5: 10 of 200 is 5 %, not above it.
        assert_eq!(step(&mut ev, 1, (190, 20), (190, 10)), burst);
        assert_eq!(step(&mut ev, 20, (300, 20), (380, 20)), burst);
        // The failures stop; the window slides past them: resolved.
        assert!(step(&mut ev, 32, (600, 20), (570, 30)).is_empty());
        // A revision resets the counters: no burst.
        assert!(step(&mut ev, 33, (0, 0), (0, 0)).is_empty());
        assert!(step(&mut ev, 34, (50, 0), (19, 1)).is_empty());
    }

    #[test]
    fn labels_and_description_of_a_per_rule_alert() {
        let mut ev = EventWindows::default();
        let mut r = counting("r1", 0, 0);
        r.direction = Direction::Inbound;
        at_minute(&mut ev, 0, vec![r.clone()]);
        (r.events.success, r.events.failure) = (Some(75), Some(25));
        r.failing_since = Some(NOW - 3600.0);
        r.sync_error = Some("HTTP 500 from the target".into());
        let m = SelfMetrics::new("0", "x");
        let mut w = CounterWindows::default();
        let c = AlertConditions::default();
        let cands = evaluate(&[env(vec![r], None)], &m, &c, &mut w, &mut ev, NOW + 60.0);
        let [c] = cands.as_slice() else {
            panic!("one alert expected: {cands:?}");
        };
        let labels: Vec<(&str, &str)> = c.labels.iter().map(|(k, v)| (*k, v.as_str())).collect();
        assert_eq!(
            labels,
            [
                ("alertname", "PingOneProvisioningSyncFailing"),
                ("direction", "inbound"),
                ("environment_id", "env-id"),
                ("environment_name", "prod"),
                ("rule_id", "r1"),
                ("rule_name", "rule r1"),
                ("severity", "critical"),
            ]
        );
        assert_eq!(
            c.description,
            "25% of the sync attempts of rule \"rule r1\" (inbound) in PingOne environment \"prod\" failed in the last 30 minutes. Failing for 1h 1m 0s (as seen by the exporter). PingOne says: HTTP 500 from the target"
        );
    }

    #[test]
    fn sync_stale_uses_the_kind_threshold_and_last_poll_first() {
        let m = SelfMetrics::new("0", "x");
        let kind = |id: &str, direction, source: &str, age_min: f64| {
            let mut r = rule(id, direction);
            r.source.kind = source.to_string();
            r.last_sync = Some(NOW - age_min * 60.0);
            r
        };
        let mut polled = kind("polled", Direction::Inbound, "LdapGateway", 600.0);
        polled.last_poll = Some(NOW - 60.0);
        let mut inactive = kind("inactive", Direction::Outbound, "", 3000.0);
        inactive.status = Some(RuleStatus::Inactive);
        let rules = vec![
            kind("ldap31", Direction::Inbound, "LdapGateway", 31.0),
            kind("ldap29", Direction::Inbound, "LdapGateway", 29.0),
            kind("wd3h", Direction::Inbound, "Workday", 180.0),
            kind("wd1h", Direction::Inbound, "Workday", 60.0),
            kind("in9h", Direction::Inbound, "scim", 540.0),
            kind("out23h", Direction::Outbound, "directory", 23.0 * 60.0),
            kind("wb25h", Direction::Writeback, "directory", 25.0 * 60.0),
            polled,
            inactive,
        ];
        let got: Vec<String> = fired(&[env(rules, None)], &m, &AlertConditions::default())
            .into_iter()
            .map(|(_, id)| id)
            .collect();
        assert_eq!(got, ["in9h", "ldap31", "wb25h", "wd3h"]);
    }

    #[test]
    fn exporter_conditions_follow_the_self_metrics() {
        let m = SelfMetrics::new("0", "x");
        let c = AlertConditions::default();
        let key = EnvKey::new("env-id", "prod");
        let mut w = CounterWindows::default();
        // Before the first poll: nothing, although `up` is 0.
        let waiting = Arc::new(EnvState {
            key: key.clone(),
            snapshot: None,
            rendered: None,
            last_poll: None,
            reads: Default::default(),
        });
        let ev = &mut EventWindows::default();
        assert!(
            evaluate(
                std::slice::from_ref(&waiting),
                &m,
                &c,
                &mut w,
                ev,
                NOW - 100.0
            )
            .is_empty()
        );
        // A success an hour ago, then failing polls with 429s and a 401.
        m.poll_finished(&key, Ok(NOW - 3600.0), 1.0);
        m.poll_finished(&key, Err("unauthorized"), 1.0);
        m.rate_limited(&key);
        let envs = [env(vec![], Some("HTTP 401"))];
        let got = names(evaluate(&envs, &m, &c, &mut w, ev, NOW));
        assert_eq!(
            got,
            [
                pair(AlertKind::AuthFailing, ""),
                pair(AlertKind::DataStale, ""),
                pair(AlertKind::PollFailing, ""),
                pair(AlertKind::RateLimited, ""),
            ]
        );
        // Six minutes later without new 429s or refusals, and a success.
        m.poll_finished(&key, Ok(NOW + 360.0), 1.0);
        let envs = [env(vec![], None)];
        assert!(evaluate(&envs, &m, &c, &mut w, ev, NOW + 360.0).is_empty());
    }
}
