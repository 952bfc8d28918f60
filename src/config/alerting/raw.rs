//! `alerting:` as written. As everywhere in the config, unknown keys are
//! rejected and every scalar is read as text, checked in `validate.rs`.

use std::collections::BTreeMap;

use serde::Deserialize;

/// `alerting:`.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawAlerting {
    pub alertmanager: Option<RawAlertmanager>,
    pub evaluation_interval: Option<String>,
    pub resend_interval: Option<String>,
    pub external_labels: Option<BTreeMap<String, Option<String>>>,
    pub alerts: Option<RawAlerts>,
}

/// `alerting.alertmanager:`.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawAlertmanager {
    pub urls: Option<Vec<Option<String>>>,
    pub timeout: Option<String>,
    pub basic_auth: Option<RawBasicAuth>,
    pub bearer_token_file: Option<String>,
    pub allow_insecure_http: Option<String>,
    pub tls: Option<RawTls>,
}

/// `basic_auth:`. Holds paths only, no secret.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawBasicAuth {
    pub username: Option<String>,
    pub password_file: Option<String>,
}

/// `tls:`.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawTls {
    pub ca_file: Option<String>,
    pub cert_file: Option<String>,
    pub key_file: Option<String>,
    pub insecure_skip_verify: Option<String>,
}

/// `alerts:`, keyed by alert name.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawAlerts {
    #[serde(rename = "PingOneProvisioningSyncFailing")]
    pub sync_failing: Option<RawRatioWindow>,
    #[serde(rename = "PingOneProvisioningSyncFailuresOutstanding")]
    pub failures_outstanding: Option<RawThreshold>,
    #[serde(rename = "PingOneProvisioningGroupsFailing")]
    pub groups_failing: Option<RawThreshold>,
    #[serde(rename = "PingOneProvisioningWritebackFailing")]
    pub writeback_failing: Option<RawThreshold>,
    #[serde(rename = "PingOneProvisioningRuleFailed")]
    pub rule_failed: Option<RawPlain>,
    #[serde(rename = "PingOneProvisioningSyncStale")]
    pub sync_stale: Option<RawSyncStale>,
    #[serde(rename = "PingOneExporterPollFailing")]
    pub poll_failing: Option<RawPlain>,
    #[serde(rename = "PingOneExporterDataStale")]
    pub data_stale: Option<RawThreshold>,
    #[serde(rename = "PingOneExporterRateLimited")]
    pub rate_limited: Option<RawWindow>,
    #[serde(rename = "PingOneExporterAuthFailing")]
    pub auth_failing: Option<RawWindow>,
}

/// A condition with only `enabled` and `for`.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawPlain {
    pub enabled: Option<String>,
    #[serde(rename = "for")]
    pub hold: Option<String>,
}

/// A condition with one `threshold`.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawThreshold {
    pub enabled: Option<String>,
    #[serde(rename = "for")]
    pub hold: Option<String>,
    pub threshold: Option<String>,
}

/// A condition over a look-back `window`.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawWindow {
    pub enabled: Option<String>,
    #[serde(rename = "for")]
    pub hold: Option<String>,
    pub window: Option<String>,
}

/// A ratio `threshold` over a look-back `window` (SyncFailing).
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawRatioWindow {
    pub enabled: Option<String>,
    #[serde(rename = "for")]
    pub hold: Option<String>,
    pub threshold: Option<String>,
    pub window: Option<String>,
}

/// PingOneProvisioningSyncStale.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawSyncStale {
    pub enabled: Option<String>,
    #[serde(rename = "for")]
    pub hold: Option<String>,
    pub thresholds: Option<RawSyncStaleThresholds>,
}

/// `thresholds:` of PingOneProvisioningSyncStale.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawSyncStaleThresholds {
    pub ldap_inbound: Option<String>,
    pub workday_inbound: Option<String>,
    pub other_inbound: Option<String>,
    pub default: Option<String>,
}
