//! What the alert sender shows of itself: its own metric series (written
//! into `/metrics` by the server's scrape, after the self-metrics) and the
//! alerts currently firing (for the landing page). The app creates one
//! [`AlertStatus`] and hands it to the alerting task and to the server.
//!
//! | metric | labels | meaning |
//! |---|---|---|
//! | `pingone_exporter_alerts_firing` | `alertname`, `severity` | alerts firing now, one series per enabled condition |
//! | `pingone_exporter_alerts_sent_total` | `alertmanager` | alerts Alertmanager accepted (each re-send counts) |
//! | `pingone_exporter_alert_send_errors_total` | `alertmanager` | alerts in POSTs that failed (each retry counts) |
//! | `pingone_exporter_alerts_dropped_total` | `alertmanager` | alerts given up on: refused with a 4xx, or queue full |
//! | `pingone_exporter_alert_queue_length` | `alertmanager` | alerts waiting to be sent |
//!
//! `alertmanager` is a configured URL (no credentials: URLs with user
//! info are refused), so the series count is bounded by the config. All
//! of them are absent while alerting is off.

use std::collections::BTreeMap;
use std::sync::{Mutex, MutexGuard};

use super::catalog::AlertKind;
use super::lifecycle::Labels;
use crate::exposition::{Desc, Format, Kind, write_counter, write_sample, write_u64};

const FIRING: Desc = Desc {
    name: "pingone_exporter_alerts_firing",
    help: "Alerts the built-in alert sender has firing now, by alert name and severity.",
    kind: Kind::Gauge,
};
const SENT: Desc = Desc {
    name: "pingone_exporter_alerts_sent",
    help: "Alerts accepted by an Alertmanager (firing, re-sent and resolved).",
    kind: Kind::Counter,
};
const ERRORS: Desc = Desc {
    name: "pingone_exporter_alert_send_errors",
    help: "Alerts in POSTs to an Alertmanager that failed; failed POSTs are retried with backoff.",
    kind: Kind::Counter,
};
const DROPPED: Desc = Desc {
    name: "pingone_exporter_alerts_dropped",
    help: "Alerts given up on for an Alertmanager: refused with a 4xx status, or its queue was full.",
    kind: Kind::Counter,
};
const QUEUE: Desc = Desc {
    name: "pingone_exporter_alert_queue_length",
    help: "Alerts waiting to be sent to an Alertmanager.",
    kind: Kind::Gauge,
};

/// A firing alert, as the landing page lists it.
#[derive(Clone, Debug, PartialEq)]
pub struct FiringAlert {
    /// Its labels (without external labels).
    pub labels: Labels,
    /// Its `description` annotation.
    pub description: String,
    /// When it started firing, Unix seconds.
    pub fired_at: f64,
}

#[derive(Clone, Copy, Debug, Default)]
struct PerAm {
    sent: u64,
    errors: u64,
    dropped: u64,
    queued: u64,
}

#[derive(Debug, Default)]
struct Inner {
    enabled: Vec<AlertKind>,
    on: bool,
    firing: Vec<FiringAlert>,
    ams: BTreeMap<String, PerAm>,
}

/// The sender's status. Shared behind an `Arc`; cheap to update.
#[derive(Debug, Default)]
pub struct AlertStatus {
    inner: Mutex<Inner>,
}

impl AlertStatus {
    fn lock(&self) -> MutexGuard<'_, Inner> {
        self.inner.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Alerting on with these Alertmanagers and enabled conditions
    /// (counters of URLs that stay are kept), or off (`None`).
    pub fn configure(&self, on: Option<(&[String], Vec<AlertKind>)>) {
        let mut inner = self.lock();
        match on {
            None => *inner = Inner::default(),
            Some((urls, kinds)) => {
                inner.on = true;
                inner.enabled = kinds;
                inner.ams.retain(|u, _| urls.contains(u));
                for u in urls {
                    inner.ams.entry(u.clone()).or_default();
                }
            }
        }
    }

    /// Replaces the list of firing alerts.
    pub fn set_firing(&self, firing: Vec<FiringAlert>) {
        self.lock().firing = firing;
    }

    /// The alerts firing now, in label order.
    pub fn firing(&self) -> Vec<FiringAlert> {
        self.lock().firing.clone()
    }

    /// True while alerting is configured.
    pub fn is_on(&self) -> bool {
        self.lock().on
    }

    fn am(&self, url: &str, f: impl FnOnce(&mut PerAm)) {
        if let Some(m) = self.lock().ams.get_mut(url) {
            f(m);
        }
    }

    /// Counts `n` alerts accepted by `url`.
    pub fn sent(&self, url: &str, n: usize) {
        self.am(url, |m| m.sent += n as u64);
    }

    /// Counts `n` alerts in a failed POST to `url`.
    pub fn errors(&self, url: &str, n: usize) {
        self.am(url, |m| m.errors += n as u64);
    }

    /// Counts `n` alerts given up on for `url`.
    pub fn dropped(&self, url: &str, n: usize) {
        self.am(url, |m| m.dropped += n as u64);
    }

    /// Sets the queue length of `url`.
    pub fn queued(&self, url: &str, n: usize) {
        self.am(url, |m| m.queued = n as u64);
    }

    /// Writes the alerting families (nothing while alerting is off).
    pub fn encode(&self, format: Format, out: &mut Vec<u8>) {
        let inner = self.lock();
        if !inner.on {
            return;
        }
        FIRING.write_header(format, out);
        for kind in &inner.enabled {
            let n = inner
                .firing
                .iter()
                .filter(|a| a.labels.get("alertname").map(String::as_str) == Some(kind.name()))
                .count();
            let labels = [("alertname", kind.name()), ("severity", kind.severity())];
            write_sample(out, FIRING.name, "", &labels, &[], |o| {
                write_u64(o, n as u64)
            });
        }
        type Pick = fn(&PerAm) -> u64;
        let per_am: [(Desc, Pick); 4] = [
            (SENT, |m| m.sent),
            (ERRORS, |m| m.errors),
            (DROPPED, |m| m.dropped),
            (QUEUE, |m| m.queued),
        ];
        for (desc, value) in per_am {
            desc.write_header(format, out);
            for (url, m) in &inner.ams {
                let labels = [("alertmanager", url.as_str())];
                if desc.kind == Kind::Counter {
                    write_counter(out, desc.name, &labels, &[], value(m));
                } else {
                    write_sample(out, desc.name, "", &labels, &[], |o| write_u64(o, value(m)));
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn text(s: &AlertStatus) -> String {
        let mut out = Vec::new();
        s.encode(Format::Text, &mut out);
        String::from_utf8(out).unwrap_or_default()
    }

    #[test]
    fn silent_while_off_and_bounded_by_the_configured_urls() {
        let s = AlertStatus::default();
        assert_eq!(text(&s), "");
        let urls = vec!["http://a:9093".to_string(), "http://b:9093".to_string()];
        s.configure(Some((
            &urls,
            vec![AlertKind::RuleFailed, AlertKind::DataStale],
        )));
        s.sent("http://a:9093", 3);
        s.errors("http://b:9093", 2);
        s.errors("http://unknown:9093", 2);
        let mut labels = Labels::new();
        labels.insert("alertname", "PingOneProvisioningRuleFailed".into());
        s.set_firing(vec![FiringAlert {
            labels,
            description: String::new(),
            fired_at: 0.0,
        }]);
        let t = text(&s);
        assert!(t.contains("pingone_exporter_alerts_firing{alertname=\"PingOneProvisioningRuleFailed\",severity=\"critical\"} 1\n"), "{t}");
        assert!(t.contains("pingone_exporter_alerts_firing{alertname=\"PingOneExporterDataStale\",severity=\"critical\"} 0\n"), "{t}");
        assert!(
            t.contains("pingone_exporter_alerts_sent_total{alertmanager=\"http://a:9093\"} 3\n"),
            "{t}"
        );
        assert!(
            t.contains(
                "pingone_exporter_alert_send_errors_total{alertmanager=\"http://b:9093\"} 2\n"
            ),
            "{t}"
        );
        assert!(!t.contains("unknown"), "{t}");
        let urls = vec!["http://b:9093".to_string()];
        s.configure(Some((&urls, vec![])));
        let t = text(&s);
        assert!(
            !t.contains("http://a:9093"),
            "a removed URL's series go: {t}"
        );
        assert!(
            t.contains("errors_total{alertmanager=\"http://b:9093\"} 2"),
            "{t}"
        );
        s.configure(None);
        assert_eq!(text(&s), "");
    }
}
