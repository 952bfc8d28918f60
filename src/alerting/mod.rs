//! The built-in alert sender: the daemon evaluates the bundled
//! alert rules' conditions over its own snapshots and posts the alerts to
//! Alertmanager like Prometheus does. `docs/alerting.md` is the user's
//! view; this is how it is built.
//!
//! One long-lived task ([`Alerter`]) owns the alert state, so pending
//! alerts keep their `for` clock, and the windowed conditions their
//! samples, across polls and config reloads (not across restarts). It
//! reports through one [`AlertStatus`] that the app creates and also hands
//! to the server (landing page, `/metrics`). It
//! evaluates after every poll (the pollers bump a `watch` in
//! [`Shared`](crate::state::Shared)) and every `evaluation_interval` (for
//! time-based conditions and re-sends), then hands what is due to one
//! [`sender::Sender`] per Alertmanager, each with its own queue and task.
//!
//! - `engine`: the task: configure, evaluate, hand out what is due;
//! - `catalog`: names, severities, summaries, runbook links, descriptions;
//! - `conditions`: the conditions over snapshots and self-metrics;
//! - `counters`: `increase()` windows over the daemon's own counters;
//! - `events`: `increase()` windows over every rule's sync event counters,
//!   from the sender's own samples;
//! - `lifecycle`: pending / firing / resolved, and what is due for sending;
//! - `payload`: the Alertmanager API v2 JSON;
//! - `sender`: queues, retries and backoff per Alertmanager (`client`: its
//!   HTTP client);
//! - `status`: the sender's own metric series (written into `/metrics` by
//!   the server's scrape) and the firing list for the landing page;
//! - `humanize`: Prometheus' template functions for descriptions.

pub mod catalog;
pub mod client;
pub mod conditions;
pub mod counters;
mod engine;
pub mod events;
pub mod humanize;
pub mod lifecycle;
pub mod payload;
pub mod refusal;
pub mod sender;
pub mod status;

pub use catalog::AlertKind;
pub use client::SenderError;
pub use status::{AlertStatus, FiringAlert};

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use tokio::sync::mpsc;
use tokio::task::JoinHandle;

use crate::config::{AlertConditions, Alerting};
use crate::shutdown::Shutdown;
use crate::state::Shared;

/// A validated alerting configuration with its HTTP client, ready to be
/// applied; building it is the part of a reload that can fail.
#[derive(Debug)]
pub struct Plan {
    config: Alerting,
    client: reqwest::Client,
}

/// Builds the plan for `config` (`None`: alerting off).
pub fn plan(config: Option<&Alerting>) -> Result<Option<Plan>, SenderError> {
    config
        .map(|c| {
            Ok(Plan {
                config: c.clone(),
                client: client::client(c)?,
            })
        })
        .transpose()
}

/// Handle to the alerting task. Owned by the daemon for its whole life.
#[derive(Debug)]
pub struct Alerter {
    tx: mpsc::UnboundedSender<Option<Plan>>,
    handle: JoinHandle<()>,
}

impl Alerter {
    /// Starts the task. It reports into `status` (shared with the server);
    /// `generator_url` is the landing page's URL, sent as every alert's
    /// `generatorURL`. It runs until `stop` fires.
    pub fn start(
        shared: Arc<Shared>,
        status: Arc<AlertStatus>,
        generator_url: String,
        initial: Option<Plan>,
        stop: Shutdown,
    ) -> Alerter {
        let (tx, rx) = mpsc::unbounded_channel();
        let _ = tx.send(initial);
        let engine = engine::Engine::new(shared, status, generator_url);
        let handle = tokio::spawn(engine.run(rx, stop));
        Alerter { tx, handle }
    }

    /// Applies a (re)loaded configuration; the alert state carries over.
    pub fn apply(&self, plan: Option<Plan>) {
        let _ = self.tx.send(plan);
    }

    /// Waits for the task to finish (after the stop signal).
    pub async fn join(self) {
        drop(self.tx);
        let _ = self.handle.await;
    }
}

/// The `for` of `kind` and whether it is evaluated at all.
pub fn setting(c: &AlertConditions, kind: AlertKind) -> (bool, Duration) {
    match kind {
        AlertKind::SyncFailing => (c.sync_failing.enabled, c.sync_failing.hold),
        AlertKind::FailuresOutstanding => {
            (c.failures_outstanding.enabled, c.failures_outstanding.hold)
        }
        AlertKind::GroupsFailing => (c.groups_failing.enabled, c.groups_failing.hold),
        AlertKind::WritebackFailing => (c.writeback_failing.enabled, c.writeback_failing.hold),
        AlertKind::RuleFailed => (c.rule_failed.enabled, c.rule_failed.hold),
        AlertKind::SyncStale => (c.sync_stale.enabled, c.sync_stale.hold),
        AlertKind::PollFailing => (c.poll_failing.enabled, c.poll_failing.hold),
        AlertKind::DataStale => (c.data_stale.enabled, c.data_stale.hold),
        AlertKind::RateLimited => (c.rate_limited.enabled, c.rate_limited.hold),
        AlertKind::AuthFailing => (c.auth_failing.enabled, c.auth_failing.hold),
    }
}

/// The landing page URL for `generatorURL`: `external_url` when given
/// (`--web.external-url`, with a trailing `/`), else `http://HOST:PORT/`
/// from the bound address, with this machine's host name when bound to
/// every interface (as Prometheus does).
pub fn landing_url(external_url: Option<&str>, bound: SocketAddr) -> String {
    if let Some(u) = external_url.filter(|u| !u.is_empty()) {
        return format!("{}/", u.trim_end_matches('/'));
    }
    let host = if bound.ip().is_unspecified() {
        hostname()
    } else {
        match bound.ip() {
            std::net::IpAddr::V6(ip) => format!("[{ip}]"),
            ip => ip.to_string(),
        }
    };
    format!("http://{host}:{}/", bound.port())
}

/// This machine's host name (the kernel's), or `localhost` when it cannot
/// be read.
pub fn hostname() -> String {
    ["/proc/sys/kernel/hostname", "/etc/hostname"]
        .iter()
        .find_map(|p| std::fs::read_to_string(p).ok())
        .map(|s| s.trim().to_string())
        .filter(|s| !s.is_empty())
        .unwrap_or_else(|| "localhost".to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn generator_url_is_the_landing_page() {
        let addr = |s: &str| {
            s.parse::<SocketAddr>()
                .unwrap_or_else(|e| panic!("{s}: {e}"))
        };
        assert_eq!(
            landing_url(
                Some("https://exporter.example.com/pingone"),
                addr("0.0.0.0:9871")
            ),
            "https://exporter.example.com/pingone/"
        );
        assert_eq!(
            landing_url(Some("https://e.example.com/"), addr("0.0.0.0:9871")),
            "https://e.example.com/"
        );
        assert_eq!(
            landing_url(None, addr("127.0.0.1:9871")),
            "http://127.0.0.1:9871/"
        );
        assert_eq!(landing_url(None, addr("[::1]:9871")), "http://[::1]:9871/");
        let any = landing_url(None, addr("[::]:9871"));
        assert!(
            any.starts_with("http://") && any.ends_with(":9871/"),
            "{any}"
        );
        assert!(!any.contains("[::]") && !any.contains("0.0.0.0"), "{any}");
    }
}
