//! `alerting.alerts`: each condition's `enabled`, `for` and threshold(s),
//! defaulting to the bundled rules' values ([`AlertConditions::default`]).

use std::time::Duration;

use super::raw::{RawAlerts, RawPlain, RawRatioWindow, RawSyncStale, RawThreshold, RawWindow};
use super::{AlertConditions, Condition, SyncFailingParams, SyncStaleThresholds};
use crate::config::checks;
use crate::config::context::Context;
use crate::config::positions::join;
use crate::config::problem::quote;

/// Resolves `alerting.alerts`, reporting every problem.
pub(super) fn alerts(raw: RawAlerts, ctx: &mut Context<'_>) -> Option<AlertConditions> {
    let d = AlertConditions::default();
    let path = |name: &str| format!("alerting.alerts.{name}");
    let sync_failing = sync_failing(
        ctx,
        &path("PingOneProvisioningSyncFailing"),
        raw.sync_failing,
        &d.sync_failing,
    );
    let failures_outstanding = threshold(
        ctx,
        &path("PingOneProvisioningSyncFailuresOutstanding"),
        raw.failures_outstanding,
        &d.failures_outstanding,
        count,
    );
    let groups_failing = threshold(
        ctx,
        &path("PingOneProvisioningGroupsFailing"),
        raw.groups_failing,
        &d.groups_failing,
        count,
    );
    let writeback_failing = threshold(
        ctx,
        &path("PingOneProvisioningWritebackFailing"),
        raw.writeback_failing,
        &d.writeback_failing,
        count,
    );
    let rule_failed = plain(
        ctx,
        &path("PingOneProvisioningRuleFailed"),
        raw.rule_failed,
        &d.rule_failed,
    );
    let sync_stale = sync_stale(
        ctx,
        &path("PingOneProvisioningSyncStale"),
        raw.sync_stale,
        &d.sync_stale,
    );
    let poll_failing = plain(
        ctx,
        &path("PingOneExporterPollFailing"),
        raw.poll_failing,
        &d.poll_failing,
    );
    let data_stale = threshold(
        ctx,
        &path("PingOneExporterDataStale"),
        raw.data_stale,
        &d.data_stale,
        positive_duration,
    );
    let rate_limited = window(
        ctx,
        &path("PingOneExporterRateLimited"),
        raw.rate_limited,
        &d.rate_limited,
    );
    let auth_failing = window(
        ctx,
        &path("PingOneExporterAuthFailing"),
        raw.auth_failing,
        &d.auth_failing,
    );
    Some(AlertConditions {
        sync_failing: sync_failing?,
        failures_outstanding: failures_outstanding?,
        groups_failing: groups_failing?,
        writeback_failing: writeback_failing?,
        rule_failed: rule_failed?,
        sync_stale: sync_stale?,
        poll_failing: poll_failing?,
        data_stale: data_stale?,
        rate_limited: rate_limited?,
        auth_failing: auth_failing?,
    })
}

/// `enabled` and `for` of the condition at `path`.
fn common(
    ctx: &mut Context<'_>,
    path: &str,
    enabled: Option<&str>,
    hold: &Option<String>,
    default_hold: Duration,
) -> Option<(bool, Duration)> {
    let enabled = match enabled {
        None => Some(true),
        Some(text) => ctx.report(&join(path, "enabled"), checks::boolean(text)),
    };
    let hold = ctx.duration(&join(path, "for"), hold, default_hold, Some(Duration::ZERO));
    Some((enabled?, hold?))
}

fn plain(
    ctx: &mut Context<'_>,
    path: &str,
    raw: Option<RawPlain>,
    d: &Condition<()>,
) -> Option<Condition<()>> {
    let raw = raw.unwrap_or_default();
    let (enabled, hold) = common(ctx, path, raw.enabled.as_deref(), &raw.hold, d.hold)?;
    Some(Condition {
        enabled,
        hold,
        params: (),
    })
}

fn threshold<P: Clone>(
    ctx: &mut Context<'_>,
    path: &str,
    raw: Option<RawThreshold>,
    d: &Condition<P>,
    parse: fn(&str) -> Result<P, String>,
) -> Option<Condition<P>> {
    let raw = raw.unwrap_or_default();
    let common = common(ctx, path, raw.enabled.as_deref(), &raw.hold, d.hold);
    let params = match raw.threshold.as_deref() {
        None => Some(d.params.clone()),
        Some(text) => ctx.report(&join(path, "threshold"), parse(text)),
    };
    let (enabled, hold) = common?;
    Some(Condition {
        enabled,
        hold,
        params: params?,
    })
}

fn window(
    ctx: &mut Context<'_>,
    path: &str,
    raw: Option<RawWindow>,
    d: &Condition<Duration>,
) -> Option<Condition<Duration>> {
    let raw = raw.unwrap_or_default();
    let common = common(ctx, path, raw.enabled.as_deref(), &raw.hold, d.hold);
    let window = ctx.duration(&join(path, "window"), &raw.window, d.params, None);
    let (enabled, hold) = common?;
    Some(Condition {
        enabled,
        hold,
        params: window?,
    })
}

fn sync_failing(
    ctx: &mut Context<'_>,
    path: &str,
    raw: Option<RawRatioWindow>,
    d: &Condition<SyncFailingParams>,
) -> Option<Condition<SyncFailingParams>> {
    let raw = raw.unwrap_or_default();
    let common = common(ctx, path, raw.enabled.as_deref(), &raw.hold, d.hold);
    let threshold = match raw.threshold.as_deref() {
        None => Some(d.params.threshold),
        Some(text) => ctx.report(&join(path, "threshold"), ratio(text)),
    };
    let window = ctx.duration(&join(path, "window"), &raw.window, d.params.window, None);
    let (enabled, hold) = common?;
    Some(Condition {
        enabled,
        hold,
        params: SyncFailingParams {
            threshold: threshold?,
            window: window?,
        },
    })
}

fn sync_stale(
    ctx: &mut Context<'_>,
    path: &str,
    raw: Option<RawSyncStale>,
    d: &Condition<SyncStaleThresholds>,
) -> Option<Condition<SyncStaleThresholds>> {
    let raw = raw.unwrap_or_default();
    let common = common(ctx, path, raw.enabled.as_deref(), &raw.hold, d.hold);
    let t = raw.thresholds.unwrap_or_default();
    let base = join(path, "thresholds");
    let mut one = |key: &str, value: &Option<String>, default: Duration| {
        ctx.duration(&join(&base, key), value, default, None)
    };
    let ldap_inbound = one("ldap_inbound", &t.ldap_inbound, d.params.ldap_inbound);
    let workday_inbound = one(
        "workday_inbound",
        &t.workday_inbound,
        d.params.workday_inbound,
    );
    let other_inbound = one("other_inbound", &t.other_inbound, d.params.other_inbound);
    let default = one("default", &t.default, d.params.default);
    let (enabled, hold) = common?;
    Some(Condition {
        enabled,
        hold,
        params: SyncStaleThresholds {
            ldap_inbound: ldap_inbound?,
            workday_inbound: workday_inbound?,
            other_inbound: other_inbound?,
            default: default?,
        },
    })
}

/// A ratio from 0 to 1 (SyncFailing).
fn ratio(text: &str) -> Result<f64, String> {
    const ACCEPTED: &str = "expected a ratio from 0 to 1, such as 0.05 for 5 %";
    let value: f64 = text
        .trim()
        .parse()
        .map_err(|_| format!("{} is not a number; {ACCEPTED}", quote(text)))?;
    if !(0.0..=1.0).contains(&value) {
        return Err(format!(
            "{} is not between 0 and 1; {ACCEPTED}",
            text.trim()
        ));
    }
    Ok(value)
}

/// A whole number >= 0 (outstanding failure events, groups, write-back
/// failures).
fn count(text: &str) -> Result<u64, String> {
    checks::count(text, 0).map(|n| n as u64)
}

/// A duration > 0 (DataStale's age threshold).
fn positive_duration(text: &str) -> Result<Duration, String> {
    crate::config::duration::parse_duration(text).and_then(|d| checks::positive(text, d))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scalars() {
        assert_eq!(ratio("0.05"), Ok(0.05));
        assert_eq!(ratio("0"), Ok(0.0));
        assert!(ratio("1.5").is_err_and(|e| e.starts_with("1.5 is not between 0 and 1")));
        assert!(ratio("5%").is_err_and(|e| e.contains("is not a number")));
        assert!(ratio("NaN").is_err());
        assert_eq!(count("3"), Ok(3));
        assert!(count("-1").is_err());
        assert_eq!(positive_duration("30m"), Ok(Duration::from_secs(1800)));
        assert!(positive_duration("0s").is_err());
    }
}
