//! `alerting:`: the built-in alert sender's settings (docs/alerting.md), resolved.
//!
//! Layout: this file holds the model and its defaults (the bundled alert
//! rules' thresholds and `for`, see `docs/runbook.md`); `raw` the file as
//! written; `validate` the checks and their messages (`conditions` those
//! of `alerting.alerts`); `files` the password, token and TLS files, read
//! at load time so a missing one is a config error, not a failed
//! notification later; `summary` the log line.

mod conditions;
mod files;
mod raw;
mod summary;
mod validate;

pub(crate) use raw::RawAlerting;
pub(crate) use validate::alerting as validate;

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::time::Duration;

use crate::secret::Secret;

/// `alerting:` settings (built-in alert sender).
#[derive(Clone, Debug, PartialEq)]
pub struct Alerting {
    /// Alertmanager base URLs (at least one; http(s), unique, no trailing
    /// slash), e.g. `http://127.0.0.1:9093`. Alerts go to
    /// `{url}/api/v2/alerts`.
    pub alertmanager_urls: Vec<String>,
    /// Timeout of one POST to an Alertmanager, connect to last byte (> 0).
    /// Default 10 s.
    pub timeout: Duration,
    /// How requests to Alertmanager authenticate, if at all.
    pub auth: Option<AlertmanagerAuth>,
    /// TLS settings for `https` Alertmanager URLs.
    pub tls: AlertmanagerTls,
    /// Time between two evaluations when no poll finished meanwhile
    /// (>= 1 s). Conditions are also evaluated after every poll. Default 30 s.
    pub evaluation_interval: Duration,
    /// Firing (and recently resolved) alerts are sent again this often
    /// (> 0). Default 1 m, as Prometheus' `--rules.alert.resend-delay`.
    pub resend_interval: Duration,
    /// Labels added to every alert sent (name → non-empty value); never one
    /// of the alerts' own label names.
    pub external_labels: BTreeMap<String, String>,
    /// The conditions evaluated, with their thresholds and `for`.
    pub alerts: AlertConditions,
}

impl Alerting {
    /// Default POST timeout.
    pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(10);
    /// Default evaluation interval.
    pub const DEFAULT_EVALUATION_INTERVAL: Duration = Duration::from_secs(30);
    /// Smallest accepted evaluation interval.
    pub const MIN_EVALUATION_INTERVAL: Duration = Duration::from_secs(1);
    /// Default re-send interval.
    pub const DEFAULT_RESEND_INTERVAL: Duration = Duration::from_secs(60);

    /// Settings for `urls` with every other key at its default.
    pub fn new(urls: Vec<String>) -> Self {
        Self {
            alertmanager_urls: urls,
            timeout: Self::DEFAULT_TIMEOUT,
            auth: None,
            tls: AlertmanagerTls::default(),
            evaluation_interval: Self::DEFAULT_EVALUATION_INTERVAL,
            resend_interval: Self::DEFAULT_RESEND_INTERVAL,
            external_labels: BTreeMap::new(),
            alerts: AlertConditions::default(),
        }
    }
}

/// Authentication of requests to Alertmanager. Secrets are read from
/// files at load (and reload) time and never printed.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum AlertmanagerAuth {
    /// `basic_auth: {username, password_file}`.
    Basic {
        /// User name (not a secret; non-empty, no `:`).
        username: String,
        /// The password, trimmed of surrounding whitespace; never empty.
        password: Secret,
        /// Where it was read from (relative paths joined to the config
        /// file's directory).
        password_file: PathBuf,
    },
    /// `bearer_token_file: PATH`: `Authorization: Bearer <token>`.
    Bearer {
        /// The token, trimmed; never empty.
        token: Secret,
        /// Where it was read from.
        token_file: PathBuf,
    },
}

impl AlertmanagerAuth {
    /// `basic (user "u", password file "...")` or `bearer (token file
    /// "...")`: safe to log.
    pub fn describe(&self) -> String {
        match self {
            AlertmanagerAuth::Basic {
                username,
                password_file,
                ..
            } => format!(
                "basic (user {username:?}, password file {:?})",
                password_file.display().to_string()
            ),
            AlertmanagerAuth::Bearer { token_file, .. } => {
                format!("bearer (token file {:?})", token_file.display().to_string())
            }
        }
    }
}

/// `tls:` for `https` Alertmanager URLs.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct AlertmanagerTls {
    /// Extra CA certificates (PEM), added to the system's roots.
    pub ca: Option<PemFile>,
    /// Client certificate and key for mutual TLS.
    pub client: Option<ClientCert>,
    /// Accept any server certificate (testing only).
    pub insecure_skip_verify: bool,
}

/// A PEM file as read at load time.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PemFile {
    /// Where it was read from.
    pub path: PathBuf,
    /// Its content, checked to hold at least one certificate.
    pub pem: Vec<u8>,
}

/// A client certificate and its private key.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ClientCert {
    /// Certificate file.
    pub cert_file: PathBuf,
    /// Key file.
    pub key_file: PathBuf,
    /// Certificate chain then key, PEM, checked to parse; the key makes it
    /// secret.
    pub pem: Secret,
}

/// One condition: on or off, how long it must hold before it fires
/// (`for`), and its threshold(s) `P`.
#[derive(Clone, Debug, PartialEq)]
pub struct Condition<P> {
    /// Evaluated at all. Default true.
    pub enabled: bool,
    /// `for`: how long the condition must hold before the alert fires;
    /// 0 fires at the first evaluation where it holds.
    pub hold: Duration,
    /// The condition's threshold(s); see [`AlertConditions`].
    pub params: P,
}

impl<P> Condition<P> {
    fn on(hold_minutes: u64, params: P) -> Self {
        Self {
            enabled: true,
            hold: Duration::from_secs(hold_minutes * 60),
            params,
        }
    }
}

/// PingOneProvisioningSyncFailing's parameters.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct SyncFailingParams {
    /// Failure events / all events within `window` above this (0..=1).
    /// Default 0.05.
    pub threshold: f64,
    /// The look-back of the `increase()` of the event counters (the rule
    /// file's `[30m]`). Default 30 m.
    pub window: Duration,
}

/// The longest a rule may go without syncing, per kind of rule
/// (PingOneProvisioningSyncStale); the first matching kind wins.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct SyncStaleThresholds {
    /// Inbound rules whose source store type is `LdapGateway`. Default 30 m.
    pub ldap_inbound: Duration,
    /// Inbound rules whose source store type is `Workday`. Default 2 h.
    pub workday_inbound: Duration,
    /// Other inbound rules. Default 8 h.
    pub other_inbound: Duration,
    /// Outbound and write-back rules. Default 24 h.
    pub default: Duration,
}

/// Every condition of the bundled alert rules the daemon can evaluate
/// itself, keyed in the file by alert name. Defaults are those of
/// `alerts/pingone-sync-exporter.rules.yml` (checked by a test).
#[derive(Clone, Debug, PartialEq)]
pub struct AlertConditions {
    /// PingOneProvisioningSyncFailing: failure events / all events of the
    /// rule within the window > ratio. Default 0.05 over 30 m, `for` 15 m.
    pub sync_failing: Condition<SyncFailingParams>,
    /// PingOneProvisioningSyncFailuresOutstanding: failure events since the
    /// latest revision > count. Default 0, `for` 6 h.
    pub failures_outstanding: Condition<u64>,
    /// PingOneProvisioningGroupsFailing: failed groups > count. Default 0, 30 m.
    pub groups_failing: Condition<u64>,
    /// PingOneProvisioningWritebackFailing: write-back failures > count.
    /// Default 0, 30 m.
    pub writeback_failing: Condition<u64>,
    /// PingOneProvisioningRuleFailed: status `failed`. `for` 10 m.
    pub rule_failed: Condition<()>,
    /// PingOneProvisioningSyncStale: age of Last Poll or Last Sync above
    /// the kind's threshold. `for` 15 m.
    pub sync_stale: Condition<SyncStaleThresholds>,
    /// PingOneExporterPollFailing: the environment's last poll failed.
    /// `for` 15 m.
    pub poll_failing: Condition<()>,
    /// PingOneExporterDataStale: time since the last successful poll above
    /// this. Default 30 m, `for` 5 m.
    pub data_stale: Condition<Duration>,
    /// PingOneExporterRateLimited: a 429 within this window. Default 5 m,
    /// `for` 15 m.
    pub rate_limited: Condition<Duration>,
    /// PingOneExporterAuthFailing: a token 4xx or a 401/403 poll failure
    /// within this window. Default 5 m, `for` 10 m.
    pub auth_failing: Condition<Duration>,
}

impl Default for AlertConditions {
    /// The bundled rules' defaults.
    fn default() -> Self {
        let hours = |h: u64| Duration::from_secs(h * 3600);
        let minutes = |m: u64| Duration::from_secs(m * 60);
        Self {
            sync_failing: Condition::on(
                15,
                SyncFailingParams {
                    threshold: 0.05,
                    window: minutes(30),
                },
            ),
            failures_outstanding: Condition::on(6 * 60, 0),
            groups_failing: Condition::on(30, 0),
            writeback_failing: Condition::on(30, 0),
            rule_failed: Condition::on(10, ()),
            sync_stale: Condition::on(
                15,
                SyncStaleThresholds {
                    ldap_inbound: minutes(30),
                    workday_inbound: hours(2),
                    other_inbound: hours(8),
                    default: hours(24),
                },
            ),
            poll_failing: Condition::on(15, ()),
            data_stale: Condition::on(5, minutes(30)),
            rate_limited: Condition::on(15, minutes(5)),
            auth_failing: Condition::on(10, minutes(5)),
        }
    }
}
