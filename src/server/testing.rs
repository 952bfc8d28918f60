//! A server's state for the handlers' tests.

use std::sync::Arc;

use crate::collector;
use crate::commands::status::tests::sample;
use crate::config::{BudgetSettings, Config, Global};
use crate::selfmetrics::SelfMetrics;
use crate::server::Web;
use crate::server::summary::PageSettings;
use crate::snapshot::{EnvKey, EnvSnapshot, RuleSummary};
use crate::state::{EnvState, PollReport, Shared};

/// The keys of [`web`]'s two environments.
pub(crate) fn keys() -> [EnvKey; 2] {
    [EnvKey::new("e1", "one"), EnvKey::new("e2", "two")]
}

/// Sets environment `key`'s snapshot to `per_env` rules (ids `r0`, `r1`,
/// ...), rendered for scrapes as a poll would.
pub(crate) fn set_rules(shared: &Shared, key: &EnvKey, per_env: usize) {
    let rule = sample()[0].snapshot.as_ref().unwrap().rules[0].clone();
    let rules: Vec<_> = (0..per_env)
        .map(|i| RuleSummary {
            id: format!("r{i}"),
            ..rule.clone()
        })
        .collect();
    let snap = EnvSnapshot {
        rules,
        ..EnvSnapshot::default()
    };
    let rendered = Arc::new(collector::render(key, &snap));
    let snap = Arc::new(snap);
    shared.update(key, |e| EnvState {
        snapshot: Some(Arc::clone(&snap)),
        rendered: Some(Arc::clone(&rendered)),
        last_poll: Some(PollReport {
            finished_at: 1000.0,
            duration: 1.0,
            error: None,
        }),
        ..e.clone()
    });
}

/// A server with two environments of `per_env` rules each.
pub(crate) fn web(per_env: usize) -> Web {
    let shared = Shared::new(SelfMetrics::new("0", "test"));
    let keys = keys();
    shared.set_envs(&keys);
    for key in &keys {
        set_rules(&shared, key, per_env);
    }
    let config = Config {
        budgets: vec![BudgetSettings::default_for(&Global::default())],
        global: Global::default(),
        environments: Vec::new(),
        alerting: None,
        warnings: Vec::new(),
    };
    Web {
        shared,
        alerts: Arc::default(),
        telemetry_path: "/metrics".into(),
        reload: tokio::sync::mpsc::channel(1).0,
        lifecycle: false,
        reload_gate: crate::server::ReloadGate::default(),
        about: Vec::new(),
        page: Arc::new(PageSettings::new(None, &config)),
        plan: Arc::default(),
        gzip: Default::default(),
        recent: Default::default(),
    }
}
