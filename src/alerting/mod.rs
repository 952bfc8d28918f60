//! The built-in alert sender (SPEC 7): the daemon evaluates the bundled
//! alert rules' conditions over its own snapshots and posts the alerts to
//! Alertmanager like Prometheus does. `docs/alerting.md` is the user's
//! view; this is how it is built.
//!
//! One long-lived task ([`Alerter`]) owns the alert state, so pending
//! alerts keep their `for` clock across polls and config reloads. It
//! evaluates after every poll (the pollers bump a `watch` in
//! [`Shared`](crate::state::Shared)) and every `evaluation_interval` (for
//! time-based conditions and re-sends), then hands what is due to one
//! [`sender::Sender`] per Alertmanager, each with its own queue and task.
//!
//! - `catalog`: names, severities, summaries, runbook links, descriptions;
//! - `conditions`: the conditions over snapshots and self-metrics;
//! - `counters`: `increase()` windows over the daemon's own counters;
//! - `state`: pending / firing / resolved, and what is due for sending;
//! - `payload`: the Alertmanager API v2 JSON;
//! - `sender`: queues, retries and backoff per Alertmanager;
//! - `status`: self-metrics and the firing list for the landing page;
//! - `humanize`: Prometheus' template functions for descriptions.

pub mod catalog;
pub mod conditions;
pub mod counters;
pub mod humanize;
pub mod payload;
pub mod sender;
pub mod state;
pub mod status;

pub use catalog::AlertKind;
pub use sender::SenderError;
pub use status::{AlertStatus, FiringAlert};

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use tokio::sync::mpsc;
use tokio::task::JoinHandle;

use crate::config::{AlertConditions, Alerting};
use crate::shutdown::Shutdown;
use crate::state::Shared;
use crate::timefmt::now_unix;
use counters::CounterWindows;
use sender::Sender;
use state::{AlertStates, Phase};

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
                client: sender::client(c)?,
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
    /// Starts the task. `generator_url` is the landing page's URL, sent as
    /// every alert's `generatorURL`. It runs until `stop` fires.
    pub fn start(
        shared: Arc<Shared>,
        generator_url: String,
        initial: Option<Plan>,
        stop: Shutdown,
    ) -> Alerter {
        let (tx, rx) = mpsc::unbounded_channel();
        let _ = tx.send(initial);
        let engine = Engine {
            status: Arc::clone(&shared.metrics.alerts),
            shared,
            generator_url,
            running: None,
            states: AlertStates::default(),
            windows: CounterWindows::default(),
            force: false,
        };
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
        AlertKind::UsersFailing => (c.users_failing.enabled, c.users_failing.hold),
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

fn hostname() -> String {
    ["/proc/sys/kernel/hostname", "/etc/hostname"]
        .iter()
        .find_map(|p| std::fs::read_to_string(p).ok())
        .map(|s| s.trim().to_string())
        .filter(|s| !s.is_empty())
        .unwrap_or_else(|| "localhost".to_string())
}

struct Running {
    config: Alerting,
    senders: Vec<Sender>,
}

struct Engine {
    shared: Arc<Shared>,
    status: Arc<AlertStatus>,
    generator_url: String,
    running: Option<Running>,
    states: AlertStates,
    windows: CounterWindows,
    /// Send every firing and resolved alert at the next evaluation (new
    /// Alertmanagers, new external labels).
    force: bool,
}

/// True when two configs deliver the same way (same senders would do).
fn same_delivery(a: &Alerting, b: &Alerting) -> bool {
    a.alertmanager_urls == b.alertmanager_urls
        && a.timeout == b.timeout
        && a.auth == b.auth
        && a.tls == b.tls
}

impl Engine {
    async fn run(mut self, mut rx: mpsc::UnboundedReceiver<Option<Plan>>, stop: Shutdown) {
        let mut published = self.shared.subscribe();
        loop {
            let interval = self
                .running
                .as_ref()
                .map_or(Duration::from_secs(3600), |r| r.config.evaluation_interval);
            tokio::select! {
                () = stop.wait() => break,
                plan = rx.recv() => match plan {
                    Some(plan) => self.configure(plan).await,
                    None => break,
                },
                changed = published.changed() => if changed.is_err() { break },
                () = tokio::time::sleep(interval) => {}
            }
            self.evaluate();
        }
        if let Some(r) = self.running.take() {
            for s in r.senders {
                s.stop().await;
            }
        }
    }

    async fn configure(&mut self, plan: Option<Plan>) {
        let old = self.running.take();
        let Some(plan) = plan else {
            if let Some(r) = old {
                tracing::info!("alerting switched off");
                for s in r.senders {
                    s.stop().await;
                }
            }
            self.states.clear();
            self.windows = CounterWindows::default();
            self.status.configure(None);
            return;
        };
        let config = plan.config;
        let senders = match old {
            Some(r) if same_delivery(&r.config, &config) => {
                if r.config.external_labels != config.external_labels {
                    self.force = true;
                }
                r.senders
            }
            old => {
                if let Some(r) = old {
                    for s in r.senders {
                        s.stop().await;
                    }
                }
                self.force = true;
                config
                    .alertmanager_urls
                    .iter()
                    .map(|u| {
                        Sender::spawn(
                            u.clone(),
                            plan.client.clone(),
                            config.auth.clone(),
                            Arc::clone(&self.status),
                        )
                    })
                    .collect()
            }
        };
        let enabled = AlertKind::ALL
            .into_iter()
            .filter(|k| setting(&config.alerts, *k).0)
            .collect();
        self.status
            .configure(Some((&config.alertmanager_urls, enabled)));
        tracing::info!(urls = %config.alertmanager_urls.join(","), "alerting configured");
        self.running = Some(Running { config, senders });
    }

    fn evaluate(&mut self) {
        let Some(run) = &self.running else { return };
        let c = &run.config;
        let now = now_unix();
        let envs = self.shared.envs();
        let candidates = conditions::evaluate(
            &envs,
            &self.shared.metrics,
            &c.alerts,
            &mut self.windows,
            now,
        );
        self.states
            .update(now, candidates, |k| setting(&c.alerts, k).1);
        let due = self
            .states
            .take_due(now, c.resend_interval, std::mem::take(&mut self.force));
        for a in &due {
            let first = |t: Option<f64>| a.last_sent.is_none_or(|s| t.is_some_and(|t| t > s));
            let what = match a.phase {
                Phase::Firing if first(a.fired_at) => "alert firing",
                Phase::Resolved if first(a.resolved_at) => "alert resolved",
                _ => continue,
            };
            let label = |k| a.labels.get(k).map_or("", String::as_str);
            tracing::info!(
                alertname = label("alertname"),
                environment = label("environment_name"),
                rule = label("rule_name"),
                "{what}"
            );
        }
        if !due.is_empty() {
            let valid_for = c.resend_interval.max(c.evaluation_interval) * 4;
            let payload: Vec<_> = due
                .iter()
                .map(|a| payload::build(a, &c.external_labels, &self.generator_url, valid_for, now))
                .collect();
            for s in &run.senders {
                s.send(&payload);
            }
        }
        let firing = self
            .states
            .iter()
            .filter(|a| a.phase == Phase::Firing)
            .map(|a| FiringAlert {
                labels: a.labels.clone(),
                description: a.description.clone(),
                fired_at: a.fired_at.unwrap_or(a.active_at),
            })
            .collect();
        self.status.set_firing(firing);
    }
}
