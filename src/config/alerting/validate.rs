//! Checks of `alerting:`, reporting every problem at the offending key or
//! value, in the style of the rest of the config (see `docs/configuration.md`).

use std::collections::{BTreeMap, HashMap};
use std::time::Duration;

use super::raw::{RawAlertmanager, RawBasicAuth, RawTls};
use super::{Alerting, AlertmanagerAuth, AlertmanagerTls, ClientCert, PemFile, conditions, files};
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
    let alerts = conditions::alerts(raw.alerts.unwrap_or_default(), ctx);
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
    let insecure = match raw.allow_insecure_http.as_deref() {
        None => Some(false),
        Some(t) => ctx.report(&join(base, "allow_insecure_http"), checks::boolean(t)),
    };
    // Without credentials nothing secret travels: plain HTTP stays allowed.
    if let (Some(urls), Some(Some(auth)), Some(allowed)) = (&urls, &auth, insecure) {
        let sends = match auth {
            AlertmanagerAuth::Basic { .. } => "the basic-auth password",
            AlertmanagerAuth::Bearer { .. } => "the bearer token",
        };
        for (i, url) in urls.iter().enumerate() {
            let _ = ctx.report(
                &format!("{base}.urls[{i}]"),
                checks::cleartext(
                    url,
                    sends,
                    allowed,
                    "alerting.alertmanager.allow_insecure_http",
                ),
            );
        }
    }
    let tls = tls(raw.tls.unwrap_or_default(), ctx);
    // An invalid allow_insecure_http was reported above; it fails the block.
    insecure?;
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
        Some(text) => ctx.report(&join(base, "insecure_skip_verify"), checks::boolean(text)),
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
        let path = if crate::config::positions::is_identifier(&name) {
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
