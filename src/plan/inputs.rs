//! The plan's inputs from a configuration and what is known of each
//! environment's size.

use std::collections::HashMap;

use super::{BudgetInput, EnvInput, TenantSize};
use crate::config::{Config, Environment};

/// The budgets of `config`, the default one first.
pub fn budgets(config: &Config) -> Vec<BudgetInput> {
    config
        .budgets
        .iter()
        .map(|b| BudgetInput {
            name: b.name.clone(),
            rate: b.max_requests_per_second,
            concurrency: b.max_concurrent_requests,
        })
        .collect()
}

/// Which worker app an environment's token comes from: environments with
/// the same token URL and client id share one token.
fn credential(env: &Environment) -> String {
    format!(
        "{} {} {}",
        env.auth_url, env.credentials.worker_environment_id, env.credentials.client_id
    )
}

/// The environments of `config` with their sizes from `sizes` (by
/// environment id; absent: not known yet).
pub fn environments(config: &Config, sizes: &HashMap<String, TenantSize>) -> Vec<EnvInput> {
    config
        .environments
        .iter()
        .map(|env| EnvInput {
            budget: env.budget.clone(),
            poll_interval: env.poll_interval,
            rules_interval: env.rules_interval,
            groups_interval: env.groups_interval,
            user_detail: env
                .user_detail
                .as_ref()
                .map(|d| (d.interval, d.max_requests_per_second)),
            credential: credential(env),
            size: sizes.get(&env.id).copied(),
        })
        .collect()
}
