//! Starts, keeps and stops the per-environment poll tasks as the
//! configuration changes (start-up and reload).
//!
//! On reload an environment whose settings did not change keeps its task,
//! its token and its data; a changed one is restarted (its last data stays
//! served until the new task's first poll); a removed one stops and its
//! series go. The named request budgets ([`Budgets`]) are reconfigured in
//! place: a changed rate applies to the running pollers' next requests; an
//! environment moved to another budget, or whose budget's concurrency
//! changed (its share of the slots), is restarted. A change of the client
//! settings (request timeout) rebuilds the client and restarts every
//! poller, whose last data stays served meanwhile. An environment in
//! user-detail mode also runs a walk task, started, kept and stopped with
//! its poll task, spending from the environment's budget under a cap of its
//! own. A restarted environment keeps its failing tracker (what the poller
//! observed across polls), so a reload does not reset "failing since".

use std::sync::{Arc, Mutex};

use tokio::task::JoinHandle;

use crate::config::{Config, Environment};
use crate::pingone::budget::Budget;
use crate::pingone::budgets::Budgets;
use crate::pingone::{ApiError, Client, ClientSettings, EnvClient};
use crate::shutdown::Shutdown;
use crate::snapshot::EnvKey;
use crate::state::Shared;
use crate::user_detail::Latest;

use super::FailingTracker;

struct Task {
    env: Environment,
    stop: Shutdown,
    handle: JoinHandle<()>,
    /// The user-detail walk task and its last complete walk, when that
    /// mode is on.
    detail: Option<(JoinHandle<()>, Arc<Latest>)>,
    /// What the poll task observed across polls (failing spells); handed
    /// to the next task when a reload restarts the environment.
    failing: Arc<Mutex<FailingTracker>>,
    /// The `max_concurrent_requests` of its budget when it started: the
    /// lanes' share of slots was cut from it.
    concurrency: usize,
}

/// What a (re)started environment runs with: its poll client and, in
/// user-detail mode, the walk's client (capped, same budget, shared
/// tokens), and its budget's `max_concurrent_requests`.
struct Clients {
    poll: Arc<EnvClient>,
    detail: Option<Arc<EnvClient>>,
    concurrency: usize,
}

/// Owns the poll tasks.
pub struct Supervisor {
    shared: Arc<Shared>,
    budgets: Budgets,
    client: Arc<Client>,
    settings: ClientSettings,
    tasks: Vec<Task>,
}

/// Why the clients for a configuration could not be built (the
/// supervisor's, and the one-shot commands').
#[derive(Debug, thiserror::Error)]
pub enum SupervisorError {
    /// The HTTP client could not be built (TLS set-up).
    #[error("building the HTTP client: {0}")]
    Client(#[from] reqwest::Error),
    /// An environment's URLs could not be used.
    #[error("environment {name}: {source}")]
    Env {
        /// Environment name.
        name: String,
        /// The problem.
        source: ApiError,
    },
    /// An environment names a budget the configuration does not define
    /// (validation prevents it; a configuration built in code may not).
    #[error("environment {name}: no budget named {budget:?}")]
    UnknownBudget {
        /// Environment name.
        name: String,
        /// The budget it names.
        budget: String,
    },
}

/// True when two environment configs would poll identically. Compares the
/// secret too: a rotated secret must restart the poller.
fn same_env(a: &Environment, b: &Environment) -> bool {
    let rx = |r: &Option<regex::Regex>| r.as_ref().map(|r| r.as_str().to_string());
    a.name == b.name
        && a.id == b.id
        && a.api_url == b.api_url
        && a.auth_url == b.auth_url
        && a.poll_interval == b.poll_interval
        && a.rules_interval == b.rules_interval
        && a.groups_interval == b.groups_interval
        && a.credentials.client_id == b.credentials.client_id
        && a.credentials.client_secret == b.credentials.client_secret
        && a.credentials.worker_environment_id == b.credentials.worker_environment_id
        && rx(&a.rules.include) == rx(&b.rules.include)
        && rx(&a.rules.exclude) == rx(&b.rules.exclude)
        && a.user_detail == b.user_detail
        && a.budget == b.budget
}

impl Supervisor {
    /// Starts polling every environment of `config`.
    pub fn start(config: &Config, shared: Arc<Shared>) -> Result<Self, SupervisorError> {
        let settings = ClientSettings::for_config(config);
        let client = Client::new(Arc::clone(&shared.metrics), settings.clone())?;
        let mut s = Self {
            shared,
            budgets: Budgets::default(),
            client,
            settings,
            tasks: Vec::new(),
        };
        s.apply(config)?;
        Ok(s)
    }

    /// The request budgets, as of the last applied configuration.
    pub fn budgets(&self) -> &Budgets {
        &self.budgets
    }

    /// Applies a (re)loaded configuration. On error nothing has changed.
    pub fn apply(&mut self, config: &Config) -> Result<(), SupervisorError> {
        let settings = ClientSettings::for_config(config);
        let rebuild = settings != self.settings;
        let client = if rebuild {
            Client::new(Arc::clone(&self.shared.metrics), settings.clone())?
        } else {
            Arc::clone(&self.client)
        };
        // Build every new client first, on the budgets as they will be, so
        // a bad URL changes nothing (not even a budget's rate).
        let budgets = self.budgets.staged(&config.budgets);
        let mut planned = Vec::new();
        for env in &config.environments {
            let concurrency = budgets
                .settings(&env.budget)
                .map(|b| b.max_concurrent_requests);
            let keep = !rebuild
                && self.tasks.iter().any(|t| {
                    t.env.id == env.id
                        && same_env(&t.env, env)
                        && Some(t.concurrency) == concurrency
                });
            let clients = if keep {
                None
            } else {
                Some(clients_for(&client, &budgets, env)?)
            };
            planned.push((env.clone(), clients));
        }

        budgets.apply();
        self.budgets = budgets;
        self.client = client;
        self.settings = settings;
        let keys: Vec<EnvKey> = config
            .environments
            .iter()
            .map(|e| EnvKey::new(&e.id, &e.name))
            .collect();
        self.shared.set_envs(&keys);

        let mut old = std::mem::take(&mut self.tasks);
        for (env, clients) in planned {
            match clients {
                None => {
                    if let Some(pos) = old.iter().position(|t| t.env.id == env.id) {
                        self.tasks.push(old.swap_remove(pos));
                    }
                }
                Some(c) => {
                    // A restarted environment keeps its last walk until a new
                    // one finishes, so its exact counts do not flap.
                    // So does what it observed across polls.
                    let mut previous_walk = None;
                    let mut failing = None;
                    if let Some(pos) = old.iter().position(|t| t.env.id == env.id) {
                        let t = old.swap_remove(pos);
                        t.stop.trigger();
                        previous_walk = t.detail.map(|(_, latest)| latest);
                        failing = Some(t.failing);
                    }
                    let failing =
                        failing.unwrap_or_else(|| Arc::new(Mutex::new(FailingTracker::new())));
                    let stop = Shutdown::new();
                    let detail = match (&env.user_detail, c.detail) {
                        (Some(settings), Some(dc)) => {
                            let latest = previous_walk.unwrap_or_else(Latest::new);
                            let handle = tokio::spawn(super::walk_loop::run(
                                env.clone(),
                                settings.clone(),
                                dc,
                                Arc::clone(&latest),
                                Arc::clone(&self.shared.metrics),
                                c.concurrency,
                                stop.clone(),
                            ));
                            Some((handle, latest))
                        }
                        _ => None,
                    };
                    let handle = tokio::spawn(super::run(
                        env.clone(),
                        c.poll,
                        Arc::clone(&self.shared),
                        detail.as_ref().map(|(_, latest)| Arc::clone(latest)),
                        Arc::clone(&failing),
                        stop.clone(),
                    ));
                    self.tasks.push(Task {
                        env,
                        stop,
                        handle,
                        detail,
                        failing,
                        concurrency: c.concurrency,
                    });
                }
            }
        }
        for t in old {
            t.stop.trigger();
        }
        Ok(())
    }

    /// An environment's poll client on the shared `client`, spending from
    /// its budget in `budgets`: the one each poll task reads with, and each
    /// one-shot command.
    pub fn poll_client(
        client: &Arc<Client>,
        budgets: &Budgets,
        env: &Environment,
    ) -> Result<Arc<EnvClient>, SupervisorError> {
        let allotment =
            budgets
                .allotment(&env.budget)
                .ok_or_else(|| SupervisorError::UnknownBudget {
                    name: env.name.clone(),
                    budget: env.budget.clone(),
                })?;
        EnvClient::new(Arc::clone(client), env, allotment)
            .map(Arc::new)
            .map_err(|source| SupervisorError::Env {
                name: env.name.clone(),
                source,
            })
    }

    /// Stops every poll and walk task and waits for them.
    pub async fn stop(self) {
        for t in &self.tasks {
            t.stop.trigger();
        }
        for t in self.tasks {
            let _ = t.handle.await;
            if let Some((d, _)) = t.detail {
                let _ = d.await;
            }
        }
    }
}

/// Builds an environment's clients. The walk's client spends from the
/// environment's budget too, under a cap of its own
/// (`user_detail.max_requests_per_second`, at most the budget's
/// `max_concurrent_requests` in flight) acquired first, and shares the poll
/// client's tokens.
fn clients_for(
    client: &Arc<Client>,
    budgets: &Budgets,
    env: &Environment,
) -> Result<Clients, SupervisorError> {
    let poll = Supervisor::poll_client(client, budgets, env)?;
    let concurrency = budgets
        .settings(&env.budget)
        .map_or(1, |b| b.max_concurrent_requests);
    let detail = env.user_detail.as_ref().map(|d| {
        let cap = Budget::new(d.max_requests_per_second, concurrency);
        Arc::new(poll.with_cap(cap))
    });
    Ok(Clients {
        poll,
        detail,
        concurrency,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::selfmetrics::SelfMetrics;

    /// Two environments on an unreachable loopback API: `a` on `org-a`
    /// (`rate`, `concurrency`), `b` on `b_budget`.
    fn config(rate: &str, concurrency: u32, b_budget: &str) -> Config {
        let env = |name: &str, id: &str, budget: &str| {
            format!(
                "  - name: {name}\n    id: {id}\n    api_url: http://127.0.0.1:9/v1\n    auth_url: http://127.0.0.1:9\n    budget: {budget}\n    credentials:\n      client_id: c\n      client_secret_env: S\n"
            )
        };
        let text = format!(
            "budgets:\n  org-a:\n    max_requests_per_second: {rate}\n    max_concurrent_requests: {concurrency}\n  org-b: {{}}\nenvironments:\n{}{}",
            env("a", "3f0b6a1e-0000-4000-8000-00000000000a", "org-a"),
            env("b", "3f0b6a1e-0000-4000-8000-00000000000b", b_budget),
        );
        crate::config::load_str(&text, "config.yml", &|_| Some("s".into()))
            .unwrap_or_else(|e| panic!("{e}"))
    }

    /// The poll task of each environment, by name.
    fn tasks(s: &Supervisor) -> Vec<(String, tokio::task::Id)> {
        s.tasks
            .iter()
            .map(|t| (t.env.name.clone(), t.handle.id()))
            .collect()
    }

    #[tokio::test]
    async fn a_new_rate_keeps_the_pollers_and_a_moved_environment_restarts() {
        let shared = Shared::new(SelfMetrics::new("0", "test"));
        let mut s = Supervisor::start(&config("1", 4, "org-b"), shared).unwrap();
        let before = tasks(&s);
        let org_a = Arc::clone(s.budgets().get("org-a").unwrap());

        s.apply(&config("5", 4, "org-b")).unwrap();
        assert_eq!(tasks(&s), before, "a rate change restarts nothing");
        assert!(Arc::ptr_eq(s.budgets().get("org-a").unwrap(), &org_a));
        let rate = s
            .budgets()
            .settings("org-a")
            .unwrap()
            .max_requests_per_second;
        assert_eq!(rate, 5.0);

        s.apply(&config("5", 4, "org-a")).unwrap();
        let moved = tasks(&s);
        assert_eq!(moved[0], before[0], "a stays on org-a");
        assert_ne!(moved[1], before[1], "b moved from org-b to org-a");

        s.apply(&config("5", 8, "org-a")).unwrap();
        let resized = tasks(&s);
        assert_ne!(resized[0], moved[0], "org-a's concurrency share changed");
        assert_ne!(resized[1], moved[1]);
        s.stop().await;
    }

    #[tokio::test]
    async fn a_configuration_that_fails_changes_no_budget() {
        let shared = Shared::new(SelfMetrics::new("0", "test"));
        let mut s = Supervisor::start(&config("1", 4, "org-b"), shared).unwrap();
        let mut bad = config("7", 4, "org-b");
        bad.environments[1].budget = "nowhere".into();
        let err = s.apply(&bad).unwrap_err();
        assert!(
            err.to_string().contains("no budget named \"nowhere\""),
            "{err}"
        );
        let rate = s
            .budgets()
            .settings("org-a")
            .unwrap()
            .max_requests_per_second;
        assert_eq!(rate, 1.0, "the failed reload left the budgets alone");
        s.stop().await;
    }
}
