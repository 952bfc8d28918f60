//! The body of Alertmanager's `POST /api/v2/alerts`: a JSON array of
//! `postableAlert`s, filled the way Prometheus fills them.
//!
//! - `labels`: the alert's labels plus the external labels (which never
//!   clash: the config refuses external labels named like an alert label);
//! - `annotations`: `summary`, `description`, `runbook_url`;
//! - `startsAt`: when it started firing;
//! - `endsAt`: for a firing alert, `now + 4 × max(resend_interval,
//!   evaluation_interval)`, so Alertmanager resolves it by itself if this
//!   daemon stops sending (dies, loses the network); for a resolved alert,
//!   when it was resolved;
//! - `generatorURL`: the daemon's landing page, which lists firing alerts.
//!   It is not a label, so two daemons with different URLs still send
//!   alerts Alertmanager deduplicates.

use std::collections::BTreeMap;
use std::time::Duration;

use serde::Serialize;

use super::lifecycle::{Alert, Phase};
use crate::timefmt::format_rfc3339;

/// One alert as Alertmanager's API v2 takes it.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct PostableAlert {
    /// Identity labels, external labels included.
    pub labels: BTreeMap<String, String>,
    /// `summary`, `description`, `runbook_url`.
    pub annotations: BTreeMap<&'static str, String>,
    /// RFC 3339.
    #[serde(rename = "startsAt")]
    pub starts_at: String,
    /// RFC 3339.
    #[serde(rename = "endsAt")]
    pub ends_at: String,
    /// The daemon's landing page.
    #[serde(rename = "generatorURL")]
    pub generator_url: String,
    /// `endsAt` in Unix seconds: a queued firing alert past it is stale.
    #[serde(skip)]
    pub ends_at_unix: f64,
    /// True for a resolution.
    #[serde(skip)]
    pub resolved: bool,
}

/// Builds the payload of `alert` at `now` (Unix seconds). `valid_for` is
/// how long a firing alert stays valid without a re-send.
pub fn build(
    alert: &Alert,
    external_labels: &BTreeMap<String, String>,
    generator_url: &str,
    valid_for: Duration,
    now: f64,
) -> PostableAlert {
    let mut labels: BTreeMap<String, String> = external_labels.clone();
    for (k, v) in &alert.labels {
        labels.insert((*k).to_string(), v.clone());
    }
    let mut annotations = BTreeMap::new();
    annotations.insert("summary", alert.kind.summary().to_string());
    annotations.insert("description", alert.description.clone());
    annotations.insert("runbook_url", alert.kind.runbook_url());
    let resolved = alert.phase == Phase::Resolved;
    let ends = match (resolved, alert.resolved_at) {
        (true, Some(r)) => r,
        _ => now + valid_for.as_secs_f64(),
    };
    PostableAlert {
        labels,
        annotations,
        starts_at: format_rfc3339(alert.fired_at.unwrap_or(alert.active_at)),
        ends_at: format_rfc3339(ends),
        generator_url: generator_url.to_string(),
        ends_at_unix: ends,
        resolved,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::alerting::catalog::AlertKind;
    use crate::alerting::lifecycle::Labels;

    #[test]
    fn json_is_what_alertmanager_takes() {
        let mut labels = Labels::new();
        labels.insert("alertname", "PingOneProvisioningRuleFailed".into());
        labels.insert("severity", "critical".into());
        let mut alert = Alert {
            kind: AlertKind::RuleFailed,
            labels,
            description: "d".into(),
            phase: Phase::Firing,
            active_at: 1_767_225_000.0,
            fired_at: Some(1_767_225_600.0),
            resolved_at: None,
            last_sent: None,
        };
        let ext = BTreeMap::from([("cluster".to_string(), "eu-1".to_string())]);
        let p = build(
            &alert,
            &ext,
            "http://h:9871/",
            Duration::from_secs(240),
            1_767_225_660.0,
        );
        let json = serde_json::to_value(vec![p]).unwrap_or_default();
        assert_eq!(
            json,
            serde_json::json!([{
                "labels": {"alertname": "PingOneProvisioningRuleFailed", "severity": "critical", "cluster": "eu-1"},
                "annotations": {
                    "summary": "A PingOne provisioning rule is in failed status.",
                    "description": "d",
                    "runbook_url": "https://github.com/pingone-sync-exporter/pingone-sync-exporter/blob/main/docs/runbook.md#pingoneprovisioningrulefailed"
                },
                "startsAt": "2026-01-01T00:00:00Z",
                "endsAt": "2026-01-01T00:05:00Z",
                "generatorURL": "http://h:9871/"
            }])
        );
        alert.phase = Phase::Resolved;
        alert.resolved_at = Some(1_767_225_630.0);
        let p = build(
            &alert,
            &ext,
            "http://h:9871/",
            Duration::from_secs(240),
            1_767_225_660.0,
        );
        assert_eq!(p.ends_at, "2026-01-01T00:00:30Z");
        assert!(p.resolved);
    }
}
