//! The alerts the daemon can raise: name, severity, summary and runbook
//! anchor, as in `alerts/pingone-sync-exporter.rules.yml` (a test keeps
//! them equal), and their descriptions, worded as the rule file's
//! templates render them.
//!
//! The rule file's exporter alerts name `{{ $labels.instance }}`, a target
//! label the daemon does not have (see `docs/alerting.md`); their
//! descriptions here say "the exporter" instead.

use crate::config::duration::format_duration;
use std::time::Duration;

use super::humanize;

/// Where every `runbook_url` starts (the rule file's base).
pub const RUNBOOK_BASE: &str =
    "https://github.com/pingone-sync-exporter/pingone-sync-exporter/blob/main/docs/runbook.md";

/// Which alert, with its static parts.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum AlertKind {
    /// Failure events / all events of the window above the threshold.
    SyncFailing,
    /// Failure events since the latest revision above the threshold.
    FailuresOutstanding,
    /// Failed groups above the threshold.
    GroupsFailing,
    /// Write-back failures above the threshold.
    WritebackFailing,
    /// Rule status `failed`.
    RuleFailed,
    /// Last Poll / Last Sync older than the rule's kind allows.
    SyncStale,
    /// The environment's last poll failed.
    PollFailing,
    /// No successful poll for longer than the threshold.
    DataStale,
    /// 429 answers within the window.
    RateLimited,
    /// Token 4xx or 401/403 poll failures within the window.
    AuthFailing,
}

impl AlertKind {
    /// Every kind, in the runbook table's order.
    pub const ALL: [AlertKind; 10] = [
        AlertKind::SyncFailing,
        AlertKind::FailuresOutstanding,
        AlertKind::GroupsFailing,
        AlertKind::WritebackFailing,
        AlertKind::RuleFailed,
        AlertKind::SyncStale,
        AlertKind::PollFailing,
        AlertKind::DataStale,
        AlertKind::RateLimited,
        AlertKind::AuthFailing,
    ];

    /// The `alertname` label.
    pub fn name(self) -> &'static str {
        match self {
            AlertKind::SyncFailing => "PingOneProvisioningSyncFailing",
            AlertKind::FailuresOutstanding => "PingOneProvisioningSyncFailuresOutstanding",
            AlertKind::GroupsFailing => "PingOneProvisioningGroupsFailing",
            AlertKind::WritebackFailing => "PingOneProvisioningWritebackFailing",
            AlertKind::RuleFailed => "PingOneProvisioningRuleFailed",
            AlertKind::SyncStale => "PingOneProvisioningSyncStale",
            AlertKind::PollFailing => "PingOneExporterPollFailing",
            AlertKind::DataStale => "PingOneExporterDataStale",
            AlertKind::RateLimited => "PingOneExporterRateLimited",
            AlertKind::AuthFailing => "PingOneExporterAuthFailing",
        }
    }

    /// The kind with this `alertname`.
    pub fn from_name(name: &str) -> Option<AlertKind> {
        Self::ALL.into_iter().find(|k| k.name() == name)
    }

    /// The `severity` label: `critical` pages, `warning` opens a ticket.
    pub fn severity(self) -> &'static str {
        match self {
            AlertKind::SyncFailing | AlertKind::RuleFailed | AlertKind::DataStale => "critical",
            _ => "warning",
        }
    }

    /// The `summary` annotation (static).
    pub fn summary(self) -> &'static str {
        match self {
            AlertKind::SyncFailing => "Sync attempts are failing in a PingOne provisioning rule.",
            AlertKind::FailuresOutstanding => {
                "Failed sync attempts are outstanding since the last PingOne revision."
            }
            AlertKind::GroupsFailing => {
                "Groups are failing to sync in a PingOne provisioning rule."
            }
            AlertKind::WritebackFailing => {
                "Write-back to the HR source is failing for a PingOne provisioning rule."
            }
            AlertKind::RuleFailed => "A PingOne provisioning rule is in failed status.",
            AlertKind::SyncStale => {
                "A PingOne provisioning rule has not synced within its expected cadence."
            }
            AlertKind::PollFailing => "The exporter cannot read provisioning status from PingOne.",
            AlertKind::DataStale => "PingOne provisioning data is stale.",
            AlertKind::RateLimited => "PingOne is rate limiting the exporter.",
            AlertKind::AuthFailing => "The exporter cannot authenticate to PingOne.",
        }
    }

    /// The `runbook_url` annotation: the runbook section of the alert.
    pub fn runbook_url(self) -> String {
        format!("{RUNBOOK_BASE}#{}", self.name().to_lowercase())
    }

    /// True for the per-rule alerts (labels name the rule).
    pub fn per_rule(self) -> bool {
        self.name().starts_with("PingOneProvisioning")
    }
}

/// What a description may mention about the subject of an alert: what
/// the rule file's templates read with `$labels` and their `query` calls.
#[derive(Clone, Copy, Debug, Default)]
pub struct Subject<'a> {
    /// `environment_name`.
    pub environment: &'a str,
    /// `rule_name`, for per-rule alerts.
    pub rule: &'a str,
    /// `direction`, for per-rule alerts.
    pub direction: &'a str,
    /// Seconds since the exporter first saw the rule failing
    /// (`time() - pingone_provisioning_failing_since_timestamp_seconds`);
    /// `None` when it does not see it failing.
    pub failing_for: Option<f64>,
    /// PingOne's `syncStatus.details`, cleaned
    /// (`pingone_provisioning_sync_error_info`'s `details`).
    pub details: Option<&'a str>,
    /// Seconds since the latest revision
    /// (`time() - pingone_provisioning_revision_timestamp_seconds`).
    pub revision_age: Option<f64>,
}

impl Subject<'_> {
    /// ` Failing for 2h 10m 0s (as seen by the exporter).` when known.
    fn failing_for(&self) -> String {
        self.failing_for.map_or_else(String::new, |s| {
            format!(
                " Failing for {} (as seen by the exporter).",
                humanize::duration(s)
            )
        })
    }

    /// ` PingOne says: <details>` when PingOne gave details.
    fn says(&self) -> String {
        self.details
            .map_or_else(String::new, |d| format!(" PingOne says: {d}"))
    }
}

/// A look-back in words, as the rule file writes its windows: `30
/// minutes`, `5 minutes`, `1 hour`, else the duration's own form.
pub fn window_words(window: Duration) -> String {
    let s = window.as_secs();
    let plural = |n: u64, unit: &str| format!("{n} {unit}{}", if n == 1 { "" } else { "s" });
    if window.subsec_nanos() != 0 || s == 0 {
        format_duration(window)
    } else if s.is_multiple_of(3600) {
        plural(s / 3600, "hour")
    } else if s.is_multiple_of(60) {
        plural(s / 60, "minute")
    } else {
        plural(s, "second")
    }
}

/// The `description` annotation of `kind` for `subject` with the
/// condition's value (`$value` in the rule file); `window` is the
/// look-back of SyncFailing and RateLimited.
pub fn description(kind: AlertKind, s: Subject<'_>, value: f64, window: Duration) -> String {
    let (env, rule, dir) = (s.environment, s.rule, s.direction);
    match kind {
        AlertKind::SyncFailing => format!(
            "{} of the sync attempts of rule \"{rule}\" ({dir}) in PingOne environment \"{env}\" failed in the last {}.{}{}",
            humanize::percentage(value),
            window_words(window),
            s.failing_for(),
            s.says()
        ),
        AlertKind::FailuresOutstanding => format!(
            "{} sync attempt(s) of rule \"{rule}\" ({dir}) in PingOne environment \"{env}\" failed since the latest revision{}; the users behind them may still be unprovisioned.{}",
            humanize::g4_plain(value),
            s.revision_age
                .map_or_else(String::new, |a| format!(" ({} ago)", humanize::duration(a))),
            s.says()
        ),
        AlertKind::GroupsFailing => format!(
            "Rule \"{rule}\" ({dir}) in PingOne environment \"{env}\" has {} group(s) that failed to sync.",
            humanize::g4_plain(value)
        ),
        AlertKind::WritebackFailing => format!(
            "Write-back rule \"{rule}\" in PingOne environment \"{env}\" could not write {} user(s) back to its source.",
            humanize::g4_plain(value)
        ),
        AlertKind::RuleFailed => format!(
            "Rule \"{rule}\" ({dir}) in PingOne environment \"{env}\" is in failed status: its connection reports a sync failure and users are not being provisioned through it.{}{}",
            s.failing_for(),
            s.says()
        ),
        AlertKind::SyncStale => format!(
            "Rule \"{rule}\" ({dir}) in PingOne environment \"{env}\" last synced {} ago, longer than expected for this kind of rule.",
            humanize::duration(value)
        ),
        AlertKind::PollFailing => format!(
            "The PingOne sync exporter keeps failing to poll PingOne environment \"{env}\"; the provisioning metrics of that environment are not refreshed."
        ),
        AlertKind::DataStale => format!(
            "The provisioning data of PingOne environment \"{env}\" served by the exporter was last refreshed {} ago; provisioning alerts for it are based on old data.",
            humanize::duration(value)
        ),
        AlertKind::RateLimited => format!(
            "PingOne answered about {value:.0} requests of the exporter for environment \"{env}\" with HTTP 429 (rate limited) in the last {}.",
            window_words(window)
        ),
        AlertKind::AuthFailing => format!(
            "PingOne refuses the credentials the exporter uses for environment \"{env}\" (token request rejected, or 401/403 answers); check the worker application, its secret and its role."
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_round_trip_and_anchors_are_lower_case() {
        for k in AlertKind::ALL {
            assert_eq!(AlertKind::from_name(k.name()), Some(k));
            assert!(
                k.runbook_url()
                    .ends_with(&format!("#{}", k.name().to_lowercase()))
            );
        }
        assert_eq!(AlertKind::from_name("PingOneExporterDown"), None);
    }

    #[test]
    fn descriptions_render_values_like_the_rule_templates() {
        let s = Subject {
            environment: "prod",
            rule: "SCIM",
            direction: "outbound",
            ..Subject::default()
        };
        let w = Duration::from_secs(300);
        let half_hour = Duration::from_secs(1800);
        assert_eq!(
            description(AlertKind::SyncFailing, s, 0.125, half_hour),
            "12.5% of the sync attempts of rule \"SCIM\" (outbound) in PingOne environment \"prod\" failed in the last 30 minutes."
        );
        // As alerts/tests/provisioning.test.yml expects them.
        let known = Subject {
            environment: "prod-eu",
            rule: "Directory to SCIM",
            failing_for: Some(34.0 * 60.0),
            details: Some("The target returned an error: 500 Internal Server Error"),
            revision_age: Some(7.0 * 3600.0),
            ..s
        };
        assert_eq!(
            description(AlertKind::SyncFailing, known, 0.25, half_hour),
            "25% of the sync attempts of rule \"Directory to SCIM\" (outbound) in PingOne environment \"prod-eu\" failed in the last 30 minutes. Failing for 34m 0s (as seen by the exporter). PingOne says: The target returned an error: 500 Internal Server Error"
        );
        let outstanding = Subject {
            details: Some("2 users failed to sync"),
            ..known
        };
        assert_eq!(
            description(AlertKind::FailuresOutstanding, outstanding, 5.0, w),
            "5 sync attempt(s) of rule \"Directory to SCIM\" (outbound) in PingOne environment \"prod-eu\" failed since the latest revision (7h 0m 0s ago); the users behind them may still be unprovisioned. PingOne says: 2 users failed to sync"
        );
        assert_eq!(
            description(AlertKind::FailuresOutstanding, s, 5.0, w),
            "5 sync attempt(s) of rule \"SCIM\" (outbound) in PingOne environment \"prod\" failed since the latest revision; the users behind them may still be unprovisioned."
        );
        let failed = Subject {
            failing_for: Some(900.0),
            details: Some("Connection to SCIM app failed: the target did not answer"),
            ..known
        };
        assert_eq!(
            description(AlertKind::RuleFailed, failed, 1.0, w),
            "Rule \"Directory to SCIM\" (outbound) in PingOne environment \"prod-eu\" is in failed status: its connection reports a sync failure and users are not being provisioned through it. Failing for 15m 0s (as seen by the exporter). PingOne says: Connection to SCIM app failed: the target did not answer"
        );
        assert!(description(AlertKind::GroupsFailing, s, 3.0, w).contains("has 3 group(s)"));
        assert!(description(AlertKind::SyncStale, s, 90_061.0, w).contains("1d 1h 1m 1s ago"));
        assert!(
            description(AlertKind::RateLimited, s, 4.0, w)
                .contains("about 4 requests of the exporter for environment \"prod\"")
        );
        assert!(description(AlertKind::RateLimited, s, 4.0, w).ends_with("in the last 5 minutes."));
        assert_eq!(window_words(Duration::from_secs(3600)), "1 hour");
        assert_eq!(window_words(Duration::from_secs(90)), "90 seconds");
    }
}
