//! `pingone-sync-exporter status`: poll every configured environment once,
//! with the daemon's client and mapping, and print the sync summary of every
//! rule like the admin console's Provisioning page: a table ([`table`]) or
//! JSON for scripts ([`json`]).
//!
//! Exit codes ([`super::Exit`]): 0 when every environment was read and no
//! rule has failures ([`has_failures`]); 1 when every environment was read
//! and some rule has failures; 2 when some environment could not be read
//! completely (its error is printed on stderr and in the JSON), which wins
//! over 1. User-detail mode is not used: `status` makes the main poll's
//! requests only, so its users per state are absent; `status --failures`
//! ([`failures`]) walks the environments that enable user-detail mode and
//! lists the failing users instead of the summary.

pub mod failures;
pub mod json;
pub mod plan;
pub mod table;

use std::io::Write;
use std::sync::Arc;

use tokio::task::JoinSet;

use super::Exit;
use crate::config::{Config, Environment};
use crate::pingone::EnvClient;
use crate::poller::poll_once;
use crate::snapshot::{EnvSnapshot, RuleStatus, RuleSummary};

/// `--output` of `status`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Output {
    /// A table for people; colours only when `colour` is on.
    Table {
        /// Use ANSI colours (the caller decides: a terminal, no `NO_COLOR`).
        colour: bool,
    },
    /// One JSON document for scripts; never coloured.
    Json,
}

/// What one environment's poll gave.
#[derive(Clone, Debug)]
pub struct EnvStatus {
    /// The configured name (`environment_name`).
    pub name: String,
    /// The environment id.
    pub id: String,
    /// The rules read; `None` when the core reads (stores, rules) failed.
    pub snapshot: Option<EnvSnapshot>,
    /// The first error of the poll, when any call failed after retries.
    pub error: Option<String>,
}

/// True when a rule shows a failure the console would show: status
/// `failed`, or failed users, failed groups, write-back failures or failed
/// deprovisionings above 0.
pub fn has_failures(rule: &RuleSummary) -> bool {
    rule.status == Some(RuleStatus::Failed)
        || [
            rule.users.failed,
            rule.events.failure,
            rule.groups.failed,
            rule.writeback_failures,
            rule.events.failed_deprovision,
        ]
        .iter()
        .any(|n| n.is_some_and(|n| n > 0))
}

/// The exit status for a set of results (see the module docs).
pub fn exit_for(envs: &[EnvStatus]) -> Exit {
    if envs
        .iter()
        .any(|e| e.error.is_some() || e.snapshot.is_none())
    {
        Exit::Error
    } else if envs
        .iter()
        .filter_map(|e| e.snapshot.as_ref())
        .any(|s| s.rules.iter().any(has_failures))
    {
        Exit::Failures
    } else {
        Exit::Ok
    }
}

/// Polls every environment once, all at once (each on its budget, which
/// environments may share), and returns the results in config order.
pub async fn collect(clients: Vec<(Environment, Arc<EnvClient>)>) -> Vec<EnvStatus> {
    let mut polls = JoinSet::new();
    let mut results: Vec<Option<EnvStatus>> = vec![None; clients.len()];
    for (i, (env, client)) in clients.into_iter().enumerate() {
        polls.spawn(async move {
            let outcome = poll_once(&client, &env, None).await;
            let status = EnvStatus {
                name: env.name.clone(),
                id: env.id.clone(),
                snapshot: outcome.snapshot,
                error: outcome.error.map(|e| e.to_string()),
            };
            (i, status)
        });
    }
    while let Some(joined) = polls.join_next().await {
        match joined {
            Ok((i, status)) => results[i] = Some(status),
            Err(e) => tracing::error!(error = %e, "a status poll task ended without an answer"),
        }
    }
    results.into_iter().flatten().collect()
}

/// What `status` prints.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Report {
    /// The sync summary of every rule.
    Summary,
    /// The failing users of every rule (`--failures`, user-detail mode).
    Failures,
}

/// Polls (or walks, for [`Report::Failures`]), prints the report on `out`
/// and every environment's error on `err`, and returns the exit status.
/// `now` is the Unix time ages are computed against.
pub async fn run(
    config: &Config,
    output: Output,
    report: Report,
    now: impl FnOnce() -> f64,
    out: &mut dyn Write,
    err: &mut dyn Write,
) -> Exit {
    let clients = match super::clients(config) {
        Ok(c) => c,
        Err(e) => {
            let _ = writeln!(err, "pingone-sync-exporter status: {e}");
            return Exit::Error;
        }
    };
    if report == Report::Failures {
        let envs = failures::collect(config, clients).await;
        return failures::print(&envs, output, now(), out, err);
    }
    let envs = collect(clients).await;
    let now = now();
    let text = match output {
        Output::Table { colour } => table::render(&envs, now, colour),
        Output::Json => json::render(&envs, now),
    };
    let mut exit = exit_for(&envs);
    if out
        .write_all(text.as_bytes())
        .and_then(|()| out.flush())
        .is_err()
    {
        exit = Exit::Error;
    }
    for e in &envs {
        if let Some(error) = &e.error {
            let kept = if e.snapshot.is_some() {
                "the other answers are shown"
            } else {
                "nothing could be shown"
            };
            let _ = writeln!(
                err,
                "{}: could not read the API ({kept}): {}",
                crate::printable::printable(&e.name),
                crate::printable::printable(&error.to_string())
            );
        }
    }
    exit
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use crate::snapshot::{Direction, StateCounts, StoreInfo, StoreStatus, SyncEvents};

    /// A fixed snapshot: an outbound rule with failures, a clean inbound
    /// rule, its write-back rule without store numbers, a disabled rule.
    pub(crate) fn sample() -> Vec<EnvStatus> {
        let base = RuleSummary {
            id: "r1".into(),
            name: "Directory to SCIM".into(),
            direction: Direction::Outbound,
            source: StoreInfo::default(),
            target: StoreInfo {
                id: "s1".into(),
                name: "SCIM".into(),
                kind: "scim".into(),
            },
            parent_rule_id: String::new(),
            enabled: Some(true),
            status: Some(RuleStatus::Active),
            users_impacted: Some(1523),
            users: StateCounts::default(),
            groups_impacted: Some(5),
            groups: StateCounts {
                success: Some(4),
                failed: Some(1),
            },
            writeback_failures: None,
            events: SyncEvents {
                success: Some(1520),
                failure: Some(3),
                failed_deprovision: Some(0),
            },
            store_status: Some(StoreStatus::Active),
            sync_error: Some("SCIM answered 500:\tInternal Server Error".into()),
            failing_since: Some(1_000_000.0 - 7800.0),
            failing_polls: Some(13),
            failed_users: Vec::new(),
            last_sync: Some(1_000_000.0 - 300.0),
            last_poll: None,
            last_writeback: None,
        };
        let inbound = RuleSummary {
            id: "r2".into(),
            name: "Workday inbound".into(),
            direction: Direction::Inbound,
            users_impacted: Some(850),
            events: SyncEvents {
                success: Some(800),
                failure: Some(0),
                failed_deprovision: Some(0),
            },
            sync_error: None,
            failing_since: None,
            failing_polls: Some(0),
            failed_users: Vec::new(),
            groups_impacted: Some(0),
            groups: StateCounts::default(),
            last_sync: Some(1_000_000.0 - 2.0 * 86_400.0 - 4.0 * 3600.0),
            ..base.clone()
        };
        let writeback = RuleSummary {
            id: "r3".into(),
            name: "Workday write-back".into(),
            direction: Direction::Writeback,
            parent_rule_id: "r2".into(),
            users_impacted: None,
            events: SyncEvents::default(),
            failing_polls: None,
            failed_users: Vec::new(),
            ..inbound.clone()
        };
        let disabled = RuleSummary {
            id: "r4".into(),
            name: "Zoom".into(),
            enabled: Some(false),
            status: Some(RuleStatus::Inactive),
            users_impacted: None,
            users: StateCounts::default(),
            groups_impacted: None,
            groups: StateCounts::default(),
            events: SyncEvents::default(),
            store_status: Some(StoreStatus::Inactive),
            sync_error: None,
            failing_since: None,
            failing_polls: None,
            failed_users: Vec::new(),
            last_sync: None,
            ..base.clone()
        };
        vec![EnvStatus {
            name: "prod-eu".into(),
            id: "e1".into(),
            snapshot: Some(EnvSnapshot {
                rules: vec![base, inbound, writeback, disabled],
                revision_created: Some(900_000.0),
                user_detail_finished: None,
                user_detail_walk_requests: None,
            }),
            error: None,
        }]
    }

    #[test]
    fn failures_decide_the_exit_status() {
        let mut envs = sample();
        assert_eq!(exit_for(&envs), Exit::Failures);
        let rules = &mut envs[0].snapshot.as_mut().unwrap().rules;
        assert!(has_failures(&rules[0]));
        assert!(!has_failures(&rules[1]));
        rules.remove(0);
        assert_eq!(exit_for(&envs), Exit::Ok);
        envs[0].snapshot.as_mut().unwrap().rules[0].status = Some(RuleStatus::Failed);
        assert_eq!(exit_for(&envs), Exit::Failures);
        envs[0].error = Some("synced_groups: HTTP 503".into());
        assert_eq!(exit_for(&envs), Exit::Error, "an unread API wins");
        envs[0].error = None;
        envs[0].snapshot = None;
        assert_eq!(exit_for(&envs), Exit::Error);
        assert_eq!(
            [Exit::Ok, Exit::Failures, Exit::Error].map(Exit::code),
            [0, 1, 2]
        );
    }
}
