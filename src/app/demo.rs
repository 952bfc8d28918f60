//! `--demo`: start the built-in simulated tenant in-process and build a
//! configuration that points at it. No credentials or files needed.

use std::net::SocketAddr;
use std::time::Duration;

use crate::config::{
    BudgetSettings, Config, Credentials, Environment, Global, Region, RuleFilter, SecretSource,
    UserDetailSettings,
};
use crate::secret::Secret;
use crate::shutdown::Shutdown;
use crate::simulator::{self, Running, Scenario};

/// Starts the demo simulator on a free loopback port and returns a config
/// polling all of its environments every 10 s (the minimum), in user-detail
/// mode (a walk every minute).
pub async fn start(shutdown: Shutdown) -> Result<(Config, Running), simulator::SimError> {
    let listen: SocketAddr = SocketAddr::from(([127, 0, 0, 1], 0));
    let sim = simulator::start(Scenario::demo(), listen, shutdown).await?;
    let envs = sim.environments();
    // The demo client lives in the first environment (the scenario default).
    let worker = envs.first().map(|(id, _)| id.clone()).unwrap_or_default();
    let environments = envs
        .into_iter()
        .map(|(id, name)| Environment {
            name,
            id: id.clone(),
            region: Region::Com,
            api_url: sim.api_url(),
            auth_url: sim.auth_url(),
            credentials: Credentials {
                client_id: simulator::DEMO_CLIENT_ID.to_string(),
                client_secret: Secret::new(simulator::DEMO_CLIENT_SECRET),
                secret_source: SecretSource::Inline,
                worker_environment_id: worker.clone(),
            },
            rules: RuleFilter::default(),
            poll_interval: Duration::from_secs(10),
            // The tenant is small and in-process: the demo reads
            // everything every poll, so its changes show at once.
            rules_interval: Duration::from_secs(10),
            groups_interval: Duration::from_secs(10),
            // The demo shows the whole product: exact per-state counts and
            // write-back failures too. The tenant is in-process, so the walk
            // may be fast: about 15 s for demo-prod's 400 users x 6 rules.
            user_detail: Some(UserDetailSettings {
                interval: UserDetailSettings::MIN_INTERVAL,
                max_requests_per_second: 200.0,
            }),
            // The simulator has no console: the documented link of the
            // region shows what a real environment's page would offer.
            console_url: None,
            budget: BudgetSettings::DEFAULT.to_string(),
        })
        .collect();
    // The walks spend from the one budget too: room for them and the polls.
    let global = Global {
        poll_interval: Duration::from_secs(10),
        request_timeout: Duration::from_secs(5),
        rules_interval: Duration::from_secs(10),
        groups_interval: Duration::from_secs(10),
        max_requests_per_second: 500.0,
        max_concurrent_requests: 4,
    };
    let config = Config {
        budgets: vec![BudgetSettings::default_for(&global)],
        global,
        environments,
        alerting: None,
        warnings: Vec::new(),
    };
    tracing::info!(simulator = %sim.base_url(), "demo mode: polling the built-in simulated tenant");
    Ok((config, sim))
}
