//! One-shot commands (README, "Commands"): `status`, `dump` and `resync`. Each talks to
//! PingOne with the daemon's client (same budget, retries and token
//! handling), prints what it did, and maps the result to an [`Exit`] code.
//! Loading the configuration and printing its problems is the caller's job
//! (`app`).

pub mod dump;
pub mod resync;
pub mod status;

use std::sync::Arc;

use crate::config::{Config, Environment};
use crate::pingone::budgets::Budgets;
use crate::pingone::{Client, ClientSettings, EnvClient};
use crate::poller::{Supervisor, SupervisorError};
use crate::selfmetrics::SelfMetrics;

/// A command's exit status, the same for every command.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Exit {
    /// 0: done; for `status`, every rule was read and none has failures.
    Ok,
    /// 1: `status` only: the API was read and some rule has failures.
    Failures,
    /// 2: the command could not do its job: an invalid configuration, an
    /// API that could not be read, a refused `resync`, an unwritable
    /// output directory.
    Error,
}

impl Exit {
    /// The process exit code.
    pub fn code(self) -> u8 {
        match self {
            Exit::Ok => 0,
            Exit::Failures => 1,
            Exit::Error => 2,
        }
    }
}

/// The index of the configured environment named `name`, or the message
/// saying there is none and which names there are.
pub fn find_environment(config: &Config, name: &str) -> Result<usize, String> {
    config
        .environments
        .iter()
        .position(|e| e.name == name)
        .ok_or_else(|| {
            let names: Vec<&str> = config
                .environments
                .iter()
                .map(|e| e.name.as_str())
                .collect();
            format!(
                "no environment named {name:?} in the configuration; configured: {}",
                names.join(", ")
            )
        })
}

/// One client per configured environment, in config order, each spending
/// from its budget (`budget:`, else `default`) as the daemon's pollers do;
/// environments naming the same budget share it.
pub fn clients(config: &Config) -> Result<Vec<(Environment, Arc<EnvClient>)>, SupervisorError> {
    let budgets = Budgets::from_config(config);
    let metrics = SelfMetrics::new(crate::VERSION, "command");
    let client = Client::new(metrics, ClientSettings::for_config(config))?;
    config
        .environments
        .iter()
        .map(|env| Supervisor::poll_client(&client, &budgets, env).map(|c| (env.clone(), c)))
        .collect()
}

/// The `max_concurrent_requests` of `env`'s budget: how many requests a
/// command keeps going at once for it.
pub fn concurrency(config: &Config, env: &Environment) -> usize {
    config
        .budget(&env.budget)
        .map_or(config.global.max_concurrent_requests, |b| {
            b.max_concurrent_requests
        })
}
