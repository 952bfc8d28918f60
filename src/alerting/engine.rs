//! The alerting task: applies configurations, evaluates the conditions
//! after every poll and every `evaluation_interval`, keeps the alert state,
//! and hands what is due to the senders.

use std::sync::Arc;
use std::time::Duration;

use tokio::sync::mpsc;

use super::counters::CounterWindows;
use super::events::EventWindows;
use super::lifecycle::{AlertStates, Phase};
use super::sender::Sender;
use super::{AlertKind, AlertStatus, FiringAlert, Plan, conditions, payload, setting};
use crate::config::Alerting;
use crate::shutdown::Shutdown;
use crate::state::Shared;
use crate::timefmt::now_unix;

struct Running {
    config: Alerting,
    senders: Vec<Sender>,
}

/// The task's state; see the module docs.
pub(super) struct Engine {
    shared: Arc<Shared>,
    status: Arc<AlertStatus>,
    generator_url: String,
    running: Option<Running>,
    states: AlertStates,
    windows: CounterWindows,
    /// Samples of every rule's sync event counters (SyncFailing).
    events: EventWindows,
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
    /// A task with alerting off until the first configuration arrives.
    pub(super) fn new(
        shared: Arc<Shared>,
        status: Arc<AlertStatus>,
        generator_url: String,
    ) -> Self {
        Self {
            shared,
            status,
            generator_url,
            running: None,
            states: AlertStates::default(),
            windows: CounterWindows::default(),
            events: EventWindows::default(),
            force: false,
        }
    }

    /// Runs until `stop` fires or the handle is dropped, then stops the
    /// senders.
    pub(super) async fn run(
        mut self,
        mut rx: mpsc::UnboundedReceiver<Option<Plan>>,
        stop: Shutdown,
    ) {
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
            self.events = EventWindows::default();
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
            &mut self.events,
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
