//! Checks of `alerting:`, reporting every problem at the offending key or
//! value, in the style of the rest of the config (see `docs/configuration.md`).

use std::collections::{BTreeMap, HashMap};
use std::time::Duration;

use super::raw::{
    RawAlertmanager, RawAlerts, RawBasicAuth, RawPlain, RawSyncStale, RawThreshold, RawTls,
    RawWindow,
};
use super::{
    AlertConditions, Alerting, AlertmanagerAuth, AlertmanagerTls, ClientCert, Condition, PemFile,
    SyncStaleThresholds, files,
};
use crate::config::checks;
use crate::config::context::Context;
use crate::config::positions::join;
use crate::config::problem::quote;

/// An example Alertmanager URL list, for messages.
const ALERTMANAGER_EXAMPLE: &str = "[http://127.0.0.1:9093]";

/// Label names every alert sets itself; external labels may not use them.
pub(crate) const ALERT_LABELS: [&str; 7] = [
    "alertname",
    "severity",
    "environment_id",
    "environment_name",
    "rule_id",
    "rule_name",
    "direction",
];

/// Resolves `alerting:`, reporting every problem; `None` when there was one.
pub(crate) fn alerting(raw: super::RawAlerting, ctx: &mut Context<'_>) -> Option<Alerting> {
    let am = match raw.alertmanager {
        Some(am) => alertmanager(am, ctx),
        None => {
            let accepted = format!("expected alertmanager: {{urls: {ALERTMANAGER_EXAMPLE}}}");
            let _ = ctx.required("alerting", "alertmanager", &None, &accepted);
            None
        }
    };
    let evaluation_interval = ctx.duration(
        "alerting.evaluation_interval",
        &raw.evaluation_interval,
        Alerting::DEFAULT_EVALUATION_INTERVAL,
        Some(Alerting::MIN_EVALUATION_INTERVAL),
    );
    let resend_interval = ctx.duration(
        "alerting.resend_interval",
        &raw.resend_interval,
        Alerting::DEFAULT_RESEND_INTERVAL,
        None,
    );
    let external_labels = external_labels(raw.external_labels.unwrap_or_default(), ctx);
    let alerts = alerts(raw.alerts.unwrap_or_default(), ctx);
    let (urls, timeout, auth, tls) = am?;
    Some(Alerting {
        alertmanager_urls: urls,
        timeout,
        auth,
        tls,
        evaluation_interval: evaluation_interval?,
        resend_interval: resend_interval?,
        external_labels: external_labels?,
        alerts: alerts?,
    })
}

type Am = (
    Vec<String>,
    Duration,
    Option<AlertmanagerAuth>,
    AlertmanagerTls,
);

fn alertmanager(raw: RawAlertmanager, ctx: &mut Context<'_>) -> Option<Am> {
    let base = "alerting.alertmanager";
    let urls = urls(raw.urls, ctx);
    let timeout = ctx.duration(
        &join(base, "timeout"),
        &raw.timeout,
        Alerting::DEFAULT_TIMEOUT,
        None,
    );
    let auth = match (raw.basic_auth, raw.bearer_token_file) {
        (Some(_), Some(_)) => {
            ctx.problem(
                base,
                "set at most one of basic_auth and bearer_token_file; found both",
            );
            None
        }
        (Some(basic), None) => basic_auth(basic, ctx).map(Some),
        (None, Some(file)) => {
            let path = join(base, "bearer_token_file");
            ctx.report(&path, files::secret(&file, ctx.base_dir, "bearer token"))
                .map(|(token, token_file)| Some(AlertmanagerAuth::Bearer { token, token_file }))
        }
        (None, None) => Some(None),
    };
    let tls = tls(raw.tls.unwrap_or_default(), ctx);
    Some((urls?, timeout?, auth?, tls?))
}

fn urls(raw: Option<Vec<Option<String>>>, ctx: &mut Context<'_>) -> Option<Vec<String>> {
    let path = "alerting.alertmanager.urls";
    let url_accepted =
        format!("expected a list of Alertmanager URLs such as {ALERTMANAGER_EXAMPLE}");
    let Some(urls) = raw else {
        let _ = ctx.required("alerting.alertmanager", "urls", &None, &url_accepted);
        return None;
    };
    if urls.is_empty() {
        ctx.problem(path, format!("the list is empty; {url_accepted}"));
        return None;
    }
    let mut seen: HashMap<String, usize> = HashMap::new();
    let mut out = Vec::new();
    for (i, url) in urls.iter().enumerate() {
        let item = format!("{path}[{i}]");
        let Some(url) = url.as_deref() else {
            ctx.problem(&item, format!("no value given; {url_accepted}"));
            continue;
        };
        let Some(url) = ctx.report(&item, checks::base_url(url, "http://127.0.0.1:9093")) else {
            continue;
        };
        if let Some(first) = seen.get(&url) {
            ctx.problem(
                &item,
                format!(
                    "duplicate URL {}; {path}[{first}] already lists it",
                    quote(&url)
                ),
            );
            continue;
        }
        seen.insert(url.clone(), i);
        out.push(url);
    }
    (out.len() == urls.len()).then_some(out)
}

fn basic_auth(raw: RawBasicAuth, ctx: &mut Context<'_>) -> Option<AlertmanagerAuth> {
    let base = "alerting.alertmanager.basic_auth";
    let username = ctx
        .required(base, "username", &raw.username, "expected the user name")
        .and_then(|u| {
            let checked = if u.contains(':') {
                Err(format!(
                    "the user name {} contains \":\", which basic authentication cannot carry; expected a name without \":\"",
                    quote(u)
                ))
            } else {
                Ok(u.to_string())
            };
            ctx.report(&join(base, "username"), checked)
        });
    let password = ctx
        .required(
            base,
            "password_file",
            &raw.password_file,
            "expected the path of a file holding the password",
        )
        .map(str::to_string)
        .and_then(|file| {
            ctx.report(
                &join(base, "password_file"),
                files::secret(&file, ctx.base_dir, "password"),
            )
        });
    let (password, password_file) = password?;
    Some(AlertmanagerAuth::Basic {
        username: username?,
        password,
        password_file,
    })
}

fn tls(raw: RawTls, ctx: &mut Context<'_>) -> Option<AlertmanagerTls> {
    let base = "alerting.alertmanager.tls";
    let ca = match raw.ca_file.as_deref() {
        None => Some(None),
        Some(file) => {
            let read = files::pem(file, ctx.base_dir, "CA").and_then(|(pem, path)| {
                files::check_ca(&pem, &path).map(|()| PemFile { path, pem })
            });
            ctx.report(&join(base, "ca_file"), read).map(Some)
        }
    };
    let client = match (raw.cert_file.as_deref(), raw.key_file.as_deref()) {
        (None, None) => Some(None),
        (Some(_), None) | (None, Some(_)) => {
            let (given, missing) = if raw.cert_file.is_some() {
                ("cert_file", "key_file")
            } else {
                ("key_file", "cert_file")
            };
            ctx.problem(
                &join(base, given),
                format!("{given} is set without {missing}; expected both (a client certificate and its key) or neither"),
            );
            None
        }
        (Some(cert), Some(key)) => {
            let cert_path = join(base, "cert_file");
            match ctx.report(&cert_path, files::pem(cert, ctx.base_dir, "certificate")) {
                None => None,
                Some((cert_pem, cert_file)) => ctx
                    .report(
                        &join(base, "key_file"),
                        files::client_identity(&cert_pem, key, ctx.base_dir),
                    )
                    .map(|(pem, key_file)| {
                        Some(ClientCert {
                            cert_file,
                            key_file,
                            pem,
                        })
                    }),
            }
        }
    };
    let insecure_skip_verify = match raw.insecure_skip_verify.as_deref() {
        None => Some(false),
        Some(text) => ctx.report(&join(base, "insecure_skip_verify"), boolean(text)),
    };
    Some(AlertmanagerTls {
        ca: ca?,
        client: client?,
        insecure_skip_verify: insecure_skip_verify?,
    })
}

fn external_labels(
    raw: BTreeMap<String, Option<String>>,
    ctx: &mut Context<'_>,
) -> Option<BTreeMap<String, String>> {
    let base = "alerting.external_labels";
    let mut out = BTreeMap::new();
    let mut ok = true;
    for (name, value) in raw {
        let path = if crate::config::yaml::is_identifier(&name) {
            join(base, &name)
        } else {
            format!("{base}[{}]", quote(&name))
        };
        let valid_name = name
            .bytes()
            .next()
            .is_some_and(|b| b.is_ascii_alphabetic() || b == b'_')
            && name.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_');
        if !valid_name || name.starts_with("__") {
            ctx.problem(
                &path,
                format!(
                    "{} is not a label name; expected letters, digits and _, not starting with a digit or __, such as cluster",
                    quote(&name)
                ),
            );
            ok = false;
            continue;
        }
        if ALERT_LABELS.contains(&name.as_str()) {
            ctx.problem(
                &path,
                format!(
                    "{} is a label every alert sets itself; expected another name (the alerts use {})",
                    quote(&name),
                    ALERT_LABELS.join(", ")
                ),
            );
            ok = false;
            continue;
        }
        match value {
            Some(v) if !v.is_empty() => {
                out.insert(name, v);
            }
            _ => {
                ctx.problem(
                    &path,
                    "the value is empty; expected a label value such as eu-1",
                );
                ok = false;
            }
        }
    }
    ok.then_some(out)
}

fn alerts(raw: RawAlerts, ctx: &mut Context<'_>) -> Option<AlertConditions> {
    let d = AlertConditions::default();
    let path = |name: &str| format!("alerting.alerts.{name}");
    let users_failing = threshold(
        ctx,
        &path("PingOneProvisioningUsersFailing"),
        raw.users_failing,
        &d.users_failing,
        ratio,
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
        users_failing: users_failing?,
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
        Some(text) => ctx.report(&join(path, "enabled"), boolean(text)),
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

/// `true` or `false`.
fn boolean(text: &str) -> Result<bool, String> {
    match text.trim() {
        "true" => Ok(true),
        "false" => Ok(false),
        _ => Err(format!(
            "{} is not true or false; expected true or false",
            quote(text)
        )),
    }
}

/// A ratio from 0 to 1 (UsersFailing).
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

/// A whole number >= 0 (groups, write-back failures).
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
        assert_eq!(boolean("true"), Ok(true));
        assert_eq!(boolean("false"), Ok(false));
        assert!(boolean("yes").is_err_and(|e| e.starts_with("\"yes\" is not true or false")));
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
