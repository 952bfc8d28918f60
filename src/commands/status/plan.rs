//! `status --plan`: the request plan of a configuration, before deploying
//! it: per budget, the requests one cycle of each cadence needs and whether
//! the configured cadences fit (the same plan the daemon logs and serves;
//! [`crate::plan`]).
//!
//! To size each environment it reads only the rules list (one request,
//! plus the token): each enabled rule the filter keeps costs at least one
//! `syncedGroups` request a cycle, more with over 1,000 groups, so the
//! groups figures are lower bounds ("≥"). Exit codes: 0 when every budget
//! fits, 1 when one is over-subscribed, 2 when an environment's rules could
//! not be read (its error is printed on stderr; the plan is still printed,
//! with that environment's size unknown).

use std::collections::HashMap;
use std::io::Write;

use tokio::task::JoinSet;

use super::Output;
use crate::commands::Exit;
use crate::config::Config;
use crate::plan::{self, TenantSize, inputs, render};
use crate::printable::printable;

/// Reads every environment's rules, prints the plan on `out` and read
/// errors on `err`, and returns the exit status.
pub async fn run(
    config: &Config,
    output: Output,
    out: &mut dyn Write,
    err: &mut dyn Write,
) -> Exit {
    let clients = match crate::commands::clients(config) {
        Ok(c) => c,
        Err(e) => {
            let _ = writeln!(err, "pingone-sync-exporter status --plan: {e}");
            return Exit::Error;
        }
    };
    let mut reads = JoinSet::new();
    for (env, client) in clients {
        reads.spawn(async move {
            let size = client.rules().await.map(|(rules, _)| {
                let enabled = rules
                    .iter()
                    .filter(|r| r.active == Some(true))
                    .filter(|r| env.rules.matches(r.name.as_deref().unwrap_or("")))
                    .count() as u64;
                TenantSize {
                    group_requests: enabled,
                    walk_requests: None,
                    groups_exact: false,
                }
            });
            (env, size)
        });
    }
    let mut sizes = HashMap::new();
    let mut failed = false;
    while let Some(joined) = reads.join_next().await {
        match joined {
            Ok((env, Ok(size))) => {
                sizes.insert(env.id.clone(), size);
            }
            Ok((env, Err(e))) => {
                failed = true;
                let _ = writeln!(
                    err,
                    "{}: could not read the rules (its size is unknown in the plan): {}",
                    printable(&env.name),
                    printable(&e.to_string())
                );
            }
            Err(e) => {
                failed = true;
                let _ = writeln!(err, "a rules read ended without an answer: {e}");
            }
        }
    }
    let plans = plan::compute(
        &inputs::budgets(config),
        &inputs::environments(config, &sizes),
    );
    let text = match output {
        Output::Table { .. } => render::table(&plans),
        Output::Json => format!("{:#}\n", render::json(&plans)),
    };
    if out
        .write_all(text.as_bytes())
        .and_then(|()| out.flush())
        .is_err()
        || failed
    {
        Exit::Error
    } else if plans.iter().all(plan::BudgetPlan::fits) {
        Exit::Ok
    } else {
        Exit::Failures
    }
}
