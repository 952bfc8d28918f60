//! The conditions of `alerts/pingone-sync-exporter.rules.yml`, evaluated
//! over the daemon's own snapshots and self-metrics instead of PromQL.
//!
//! | alert | holds for a subject when (PromQL it mirrors) |
//! |---|---|
//! | UsersFailing | `users{failed} / users_impacted > threshold`, rule not disabled (an impacted count of 0 with failures gives +Inf, as in PromQL) |
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
//! is unknown counts as enabled.

use std::sync::Arc;

use super::catalog::{AlertKind, Subject, description};
use super::counters::{CounterWindows, Counts};
use super::lifecycle::{Candidate, Labels};
use crate::config::{AlertConditions, SyncStaleThresholds};
use crate::selfmetrics::SelfMetrics;
use crate::snapshot::{Direction, EnvKey, RuleStatus, RuleSummary};
use crate::state::EnvState;

/// Evaluates every enabled condition at `now` (Unix seconds) over `envs`,
/// recording the counters the windowed conditions need into `windows`.
pub fn evaluate(
    envs: &[Arc<EnvState>],
    metrics: &SelfMetrics,
    conditions: &AlertConditions,
    windows: &mut CounterWindows,
    now: f64,
) -> Vec<Candidate> {
    let mut out = Vec::new();
    for env in envs {
        if let Some(snap) = &env.snapshot {
            for rule in &snap.rules {
                rule_conditions(&env.key, rule, conditions, now, &mut out);
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

fn push_rule(out: &mut Vec<Candidate>, kind: AlertKind, key: &EnvKey, r: &RuleSummary, value: f64) {
    let mut l = labels(kind, key);
    l.insert("rule_id", r.id.clone());
    l.insert("rule_name", r.name.clone());
    l.insert("direction", r.direction.as_str().to_string());
    let subject = Subject {
        environment: &key.name,
        rule: &r.name,
        direction: r.direction.as_str(),
    };
    out.push(Candidate {
        kind,
        labels: l,
        description: description(kind, subject, value, std::time::Duration::ZERO),
    });
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
    key: &EnvKey,
    r: &RuleSummary,
    c: &AlertConditions,
    now: f64,
    out: &mut Vec<Candidate>,
) {
    let not_disabled = r.enabled != Some(false);
    // As PromQL: x/0 is +Inf (fires) for x > 0, NaN (never) for 0.
    // Still the store's failed events where user-detail counted no users,
    // as before events and users were told apart; the event-based alerts
    // replace this condition.
    let users_ratio = match (r.users.failed.or(r.events.failure), r.users_impacted) {
        (Some(failed), Some(impacted)) => Some(failed as f64 / impacted as f64),
        _ => None,
    };
    if c.users_failing.enabled
        && not_disabled
        && let Some(ratio) = users_ratio.filter(|v| *v > c.users_failing.params)
    {
        push_rule(out, AlertKind::UsersFailing, key, r, ratio);
    }
    if c.groups_failing.enabled
        && not_disabled
        && let Some(n) = r.groups.failed.filter(|n| *n > c.groups_failing.params)
    {
        push_rule(out, AlertKind::GroupsFailing, key, r, n as f64);
    }
    if c.writeback_failing.enabled
        && not_disabled
        && let Some(n) = r
            .writeback_failures
            .filter(|n| *n > c.writeback_failing.params)
    {
        push_rule(out, AlertKind::WritebackFailing, key, r, n as f64);
    }
    if c.rule_failed.enabled && not_disabled && r.status == Some(RuleStatus::Failed) {
        push_rule(out, AlertKind::RuleFailed, key, r, 1.0);
    }
    let threshold = sync_threshold(r, &c.sync_stale.params).as_secs_f64();
    if c.sync_stale.enabled
        && r.status == Some(RuleStatus::Active)
        && let Some(age) = r
            .last_poll
            .or(r.last_sync)
            .map(|ts| now - ts)
            .filter(|age| *age > threshold)
    {
        push_rule(out, AlertKind::SyncStale, key, r, age);
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
            rule: "",
            direction: "",
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
        })
    }

    /// `(alertname, rule_id or "")` of every candidate, sorted.
    fn fired(
        envs: &[Arc<EnvState>],
        m: &SelfMetrics,
        c: &AlertConditions,
    ) -> Vec<(String, String)> {
        let mut w = CounterWindows::default();
        names(evaluate(envs, m, c, &mut w, NOW))
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
        let mut users = rule("users", Direction::Outbound);
        users.users.failed = Some(6); // 6 % > 5 %
        let mut at_threshold = rule("at5", Direction::Outbound);
        at_threshold.users.failed = Some(5); // 5 % is not > 5 %
        let mut no_impacted = rule("inf", Direction::Outbound);
        (no_impacted.users_impacted, no_impacted.users.failed) = (Some(0), Some(1));
        let mut nan = rule("nan", Direction::Outbound);
        (nan.users_impacted, nan.users.failed) = (Some(0), Some(0));
        let mut groups = rule("groups", Direction::Outbound);
        groups.groups.failed = Some(1);
        let mut failed = rule("failed", Direction::Outbound);
        failed.status = Some(RuleStatus::Failed);
        let mut disabled = rule("disabled", Direction::Outbound);
        (disabled.enabled, disabled.status) = (Some(false), Some(RuleStatus::Failed));
        disabled.users.failed = Some(50);
        disabled.groups.failed = Some(3);
        disabled.writeback_failures = Some(3);
        let mut writeback = rule("wb", Direction::Writeback);
        writeback.writeback_failures = Some(2);
        let envs = [env(
            vec![
                users,
                at_threshold,
                no_impacted,
                nan,
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
                pair(AlertKind::UsersFailing, "inf"),
                pair(AlertKind::UsersFailing, "users"),
                pair(AlertKind::WritebackFailing, "wb"),
            ]
        );
        let mut off = c.clone();
        off.users_failing.enabled = false;
        off.groups_failing.params = 1;
        assert_eq!(
            fired(&envs, &m, &off),
            [
                pair(AlertKind::RuleFailed, "failed"),
                pair(AlertKind::WritebackFailing, "wb"),
            ]
        );
    }

    #[test]
    fn labels_and_description_of_a_per_rule_alert() {
        let m = SelfMetrics::new("0", "x");
        let mut r = rule("r1", Direction::Inbound);
        r.users.failed = Some(25);
        let mut w = CounterWindows::default();
        let cands = evaluate(
            &[env(vec![r], None)],
            &m,
            &AlertConditions::default(),
            &mut w,
            NOW,
        );
        let [c] = cands.as_slice() else {
            panic!("one alert expected: {cands:?}");
        };
        let labels: Vec<(&str, &str)> = c.labels.iter().map(|(k, v)| (*k, v.as_str())).collect();
        assert_eq!(
            labels,
            [
                ("alertname", "PingOneProvisioningUsersFailing"),
                ("direction", "inbound"),
                ("environment_id", "env-id"),
                ("environment_name", "prod"),
                ("rule_id", "r1"),
                ("rule_name", "rule r1"),
                ("severity", "warning"),
            ]
        );
        assert_eq!(
            c.description,
            "25% of the users of rule \"rule r1\" (inbound) in PingOne environment \"prod\" failed to sync."
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
        });
        assert!(evaluate(std::slice::from_ref(&waiting), &m, &c, &mut w, NOW - 100.0).is_empty());
        // A success an hour ago, then failing polls with 429s and a 401.
        m.poll_finished(&key, Ok(NOW - 3600.0), 1.0);
        m.poll_finished(&key, Err("unauthorized"), 1.0);
        m.rate_limited(&key);
        let envs = [env(vec![], Some("HTTP 401"))];
        let got = names(evaluate(&envs, &m, &c, &mut w, NOW));
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
        assert!(evaluate(&envs, &m, &c, &mut w, NOW + 360.0).is_empty());
    }
}
