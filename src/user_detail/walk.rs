//! One walk of an environment: list the rules and keep the enabled ones the
//! filter keeps, list every user, then read the `syncedRules` record of
//! every (user, rule) pair, a bounded number at a time.
//!
//! Cost: 1 `rules` request, ⌈N / [`USERS_PAGE`]⌉ `users` requests and
//! N × R `user_synced_rule` requests for N users and R walked rules, plus
//! retries, all drawn from the client's budget.

use std::collections::{HashMap, HashSet};
use std::sync::Arc;

use tokio::task::JoinSet;

use crate::config::RuleFilter;
use crate::pingone::{ApiError, EnvClient};
use crate::timefmt::now_unix;

use super::counts::{RuleUsers, UnknownTally, WalkCounts};

/// Users requested per page of `GET /users` (PingOne's default page size).
pub const USERS_PAGE: u32 = 100;

/// Why a walk stopped. A walk that stops yields nothing: partial counts
/// would be wrong counts.
#[derive(Debug, thiserror::Error)]
pub enum WalkError {
    /// A request failed after retries.
    #[error(transparent)]
    Api(#[from] ApiError),
    /// A request task ended without an answer (it panicked).
    #[error("a user-detail request task ended without an answer: {0}")]
    Task(String),
}

/// What a walk produced.
#[derive(Debug)]
pub struct Walked {
    /// The counts.
    pub counts: WalkCounts,
    /// Unknown record statuses seen.
    pub unknown: UnknownTally,
}

/// The ids of the rules a walk reads: enabled, kept by `filter`, each once.
fn walked_rules(rules: Vec<crate::pingone::model::Rule>, filter: &RuleFilter) -> Vec<String> {
    let mut seen = HashSet::new();
    rules
        .into_iter()
        .filter(|r| r.active == Some(true) && filter.matches(r.name.as_deref().unwrap_or("")))
        .filter_map(|r| r.id)
        .filter(|id| seen.insert(id.clone()))
        .collect()
}

/// Walks the environment once with at most `concurrency` (>= 1) record
/// requests in flight.
pub async fn walk(
    client: &Arc<EnvClient>,
    filter: &RuleFilter,
    concurrency: usize,
) -> Result<Walked, WalkError> {
    let (rules, _) = client.rules().await?;
    let rule_ids = walked_rules(rules, filter);
    let (users, _) = client.users(USERS_PAGE).await?;
    let mut seen = HashSet::new();
    let user_ids: Vec<String> = users
        .into_iter()
        .filter_map(|u| u.id)
        .filter(|id| seen.insert(id.clone()))
        .collect();

    let mut counts: Vec<RuleUsers> = vec![RuleUsers::default(); rule_ids.len()];
    let mut unknown = UnknownTally::default();
    let mut pairs = (0..rule_ids.len()).flat_map(|r| (0..user_ids.len()).map(move |u| (r, u)));
    let mut in_flight = JoinSet::new();
    loop {
        while in_flight.len() < concurrency.max(1) {
            let Some((r, u)) = pairs.next() else { break };
            let (c, rule, user) = (Arc::clone(client), rule_ids[r].clone(), user_ids[u].clone());
            in_flight.spawn(async move {
                let record = c.user_synced_rule(&user, &rule).await;
                (r, user, record)
            });
        }
        let Some(joined) = in_flight.join_next().await else {
            break;
        };
        // An error drops `in_flight`, which aborts the requests still running.
        let (r, user, record) = joined.map_err(|e| WalkError::Task(e.to_string()))?;
        let record = record?;
        counts[r].add(record.as_ref(), &mut unknown);
        counts[r].keep_failed(&user, record.as_ref());
    }
    let users = user_ids.len() as u64;
    Ok(Walked {
        counts: WalkCounts {
            finished_at: now_unix(),
            users,
            requests: 1
                + users.div_ceil(u64::from(USERS_PAGE)).max(1)
                + users * rule_ids.len() as u64,
            rules: rule_ids.into_iter().zip(counts).collect::<HashMap<_, _>>(),
        },
        unknown,
    })
}
