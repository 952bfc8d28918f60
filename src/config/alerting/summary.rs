//! The loggable summary of `alerting:` (part of [`Config::summary`](crate::config::Config::summary)).

use super::{AlertConditions, Alerting, AlertmanagerAuth};

impl Alerting {
    /// One log line: URLs, timeout, auth kind and files, TLS files,
    /// intervals, external labels and the conditions switched off. Never a
    /// secret.
    pub fn summary(&self) -> String {
        use crate::config::duration::format_duration as d;
        let mut line = format!(
            "alerting: alertmanager urls={} timeout={} auth={} evaluation_interval={} resend_interval={}",
            self.alertmanager_urls.join(","),
            d(self.timeout),
            self.auth
                .as_ref()
                .map_or("none".to_string(), AlertmanagerAuth::describe),
            d(self.evaluation_interval),
            d(self.resend_interval),
        );
        if let Some(ca) = &self.tls.ca {
            line.push_str(&format!(" tls.ca_file={:?}", ca.path.display().to_string()));
        }
        if let Some(c) = &self.tls.client {
            line.push_str(&format!(
                " tls.cert_file={:?} tls.key_file={:?}",
                c.cert_file.display().to_string(),
                c.key_file.display().to_string()
            ));
        }
        if self.tls.insecure_skip_verify {
            line.push_str(" tls.insecure_skip_verify=true");
        }
        for (k, v) in &self.external_labels {
            line.push_str(&format!(" external_labels.{k}={v:?}"));
        }
        let off = self.alerts.disabled();
        if !off.is_empty() {
            line.push_str(&format!(" disabled={}", off.join(",")));
        }
        line
    }
}

impl AlertConditions {
    /// The names of the conditions switched off, in table order.
    pub fn disabled(&self) -> Vec<&'static str> {
        let all = [
            ("PingOneProvisioningSyncFailing", self.sync_failing.enabled),
            (
                "PingOneProvisioningSyncFailuresOutstanding",
                self.failures_outstanding.enabled,
            ),
            (
                "PingOneProvisioningGroupsFailing",
                self.groups_failing.enabled,
            ),
            (
                "PingOneProvisioningWritebackFailing",
                self.writeback_failing.enabled,
            ),
            ("PingOneProvisioningRuleFailed", self.rule_failed.enabled),
            ("PingOneProvisioningSyncStale", self.sync_stale.enabled),
            ("PingOneExporterPollFailing", self.poll_failing.enabled),
            ("PingOneExporterDataStale", self.data_stale.enabled),
            ("PingOneExporterRateLimited", self.rate_limited.enabled),
            ("PingOneExporterAuthFailing", self.auth_failing.enabled),
        ];
        all.into_iter()
            .filter(|(_, on)| !on)
            .map(|(n, _)| n)
            .collect()
    }
}
