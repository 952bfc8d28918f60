//! Starts, keeps and stops the per-environment poll tasks as the
//! configuration changes (start-up and reload).
//!
//! On reload an environment whose settings did not change keeps its task,
//! its token and its data; a changed one is restarted (its last data stays
//! served until the new task's first poll); a removed one stops and its
//! series go. The request budget is shared and reconfigured in place; a
//! change of the client settings (request timeout, per-environment share
//! of the concurrency) rebuilds the client and restarts every poller, whose
//! last data stays served meanwhile. An environment in user-detail mode also
//! runs a walk task, started, kept and stopped with its poll task, on a
//! request budget of its own. A restarted environment keeps its failing
//! tracker (what the poller observed across polls), so a reload does not
//! reset "failing since".

use std::sync::{Arc, Mutex};

use tokio::task::JoinHandle;

use crate::config::{Config, Environment};
use crate::pingone::budget::Budget;
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
}

/// What a (re)started environment runs with: its poll client and, in
/// user-detail mode, the walk's client (its own budget, shared tokens).
struct Clients {
    poll: Arc<EnvClient>,
    detail: Option<Arc<EnvClient>>,
}

/// Owns the poll tasks.
pub struct Supervisor {
    shared: Arc<Shared>,
    budget: Arc<Budget>,
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
}

impl Supervisor {
    /// Starts polling every environment of `config`.
    pub fn start(config: &Config, shared: Arc<Shared>) -> Result<Self, SupervisorError> {
        let budget = Budget::new(
            config.global.max_requests_per_second,
            config.global.max_concurrent_requests,
        );
        let settings = ClientSettings::for_config(config);
        let client = Client::new(
            Arc::clone(&budget),
            Arc::clone(&shared.metrics),
            settings.clone(),
        )?;
        let mut s = Self {
            shared,
            budget,
            client,
            settings,
            tasks: Vec::new(),
        };
        s.apply(config)?;
        Ok(s)
    }

    /// Applies a (re)loaded configuration. On error nothing has changed.
    pub fn apply(&mut self, config: &Config) -> Result<(), SupervisorError> {
        let settings = ClientSettings::for_config(config);
        let rebuild = settings != self.settings;
        let client = if rebuild {
            Client::new(
                Arc::clone(&self.budget),
                Arc::clone(&self.shared.metrics),
                settings.clone(),
            )?
        } else {
            Arc::clone(&self.client)
        };
        // Build every new client first so a bad URL changes nothing.
        let mut planned = Vec::new();
        for env in &config.environments {
            let keep = !rebuild
                && self
                    .tasks
                    .iter()
                    .any(|t| t.env.id == env.id && same_env(&t.env, env));
            let clients = if keep {
                None
            } else {
                Some(self.clients_for(&client, env, config)?)
            };
            planned.push((env.clone(), clients));
        }

        self.budget.reconfigure(
            config.global.max_requests_per_second,
            config.global.max_concurrent_requests,
        );
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
                                config.global.max_concurrent_requests,
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
                    });
                }
            }
        }
        for t in old {
            t.stop.trigger();
        }
        Ok(())
    }

    /// An environment's poll client on the shared `client`: the one each
    /// poll task reads with, and each one-shot command.
    pub fn poll_client(
        client: &Arc<Client>,
        env: &Environment,
    ) -> Result<Arc<EnvClient>, SupervisorError> {
        EnvClient::new(Arc::clone(client), env)
            .map(Arc::new)
            .map_err(|source| SupervisorError::Env {
                name: env.name.clone(),
                source,
            })
    }

    /// Builds an environment's clients. The walk's client has a request
    /// budget of its own (`user_detail.max_requests_per_second`, at most
    /// `global.max_concurrent_requests` in flight), separate from and
    /// additional to the shared one, and shares the poll client's tokens.
    fn clients_for(
        &self,
        client: &Arc<Client>,
        env: &Environment,
        config: &Config,
    ) -> Result<Clients, SupervisorError> {
        let poll = Self::poll_client(client, env)?;
        let detail = match &env.user_detail {
            None => None,
            Some(d) => {
                let budget = Budget::new(
                    d.max_requests_per_second,
                    config.global.max_concurrent_requests,
                );
                let own = Client::new(
                    budget,
                    Arc::clone(&self.shared.metrics),
                    ClientSettings::for_config(config),
                )?;
                Some(Arc::new(poll.with_client(own)))
            }
        };
        Ok(Clients { poll, detail })
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
