//! The status page's view model: what every page (summary, rule, JSON)
//! shows, built on request from the environments' last snapshots, their
//! last poll and the page settings. Nothing here calls PingOne.
//!
//! Absent numbers stay absent ([`Cell::Absent`], with the reason a person
//! sees in a tooltip); they are never shown as 0.

use std::sync::Arc;

use super::settings::{EnvPage, PageSettings};
use crate::commands::status::has_failures;
use crate::snapshot::{Direction, EnvSnapshot, RuleStatus, RuleSummary};
use crate::state::EnvState;
use crate::timefmt::format_age;

/// A number, or why there is none.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Cell {
    /// The value PingOne (or the user-detail walk) gave.
    Count(u64),
    /// No value; the text says why, for a tooltip.
    Absent(&'static str),
}

impl Cell {
    fn of(value: Option<u64>, why: &'static str) -> Cell {
        value.map_or(Cell::Absent(why), Cell::Count)
    }
}

/// A number with the metric that exports it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Metric {
    /// The value.
    pub cell: Cell,
    /// The series, e.g. `pingone_provisioning_users{state="failed"}`.
    pub metric: &'static str,
}

/// Why a store number of a rule is absent.
fn store_absent(rule: &RuleSummary) -> &'static str {
    if rule.direction == Direction::Writeback {
        "no documented source: a write-back rule shares its store with the inbound rule, which carries the store's numbers"
    } else {
        "PingOne sent no value for this rule (no sync status on its connection store)"
    }
}

/// The success and failure event counts of a rule: PingOne's
/// `successCount` and `failedCount`, counts of sync events since the last
/// revision. The one place the page reads them, so renaming their fields
/// or metrics changes only this function.
pub fn event_counts(rule: &RuleSummary) -> (Metric, Metric) {
    let why = store_absent(rule);
    (
        Metric {
            cell: Cell::of(rule.events.success, why),
            metric: "pingone_provisioning_sync_events_total{result=\"success\"}",
        },
        Metric {
            cell: Cell::of(rule.events.failure, why),
            metric: "pingone_provisioning_sync_events_total{result=\"failure\"}",
        },
    )
}

/// The rule's users in each state, counted per user by user-detail mode
/// (absent otherwise, with `mode`'s reason).
pub fn user_counts(rule: &RuleSummary, mode: UserDetailMode) -> (Metric, Metric) {
    let why = mode.absent_reason();
    (
        Metric {
            cell: Cell::of(rule.users.success, why),
            metric: "pingone_provisioning_users{state=\"success\"}",
        },
        Metric {
            cell: Cell::of(rule.users.failed, why),
            metric: "pingone_provisioning_users{state=\"failed\"}",
        },
    )
}

/// Why a rule needs attention, in words, or `None` when it does not:
/// PingOne's own words first (`syncStatus.details`, cleaned and scrubbed
/// when mapped), then what the numbers show. The one place the page reads
/// a failure reason.
pub fn failure_reason(rule: &RuleSummary) -> Option<String> {
    let mut parts = Vec::new();
    if let Some(details) = &rule.sync_error {
        parts.push(format!("PingOne says: {details}"));
    }
    if rule.status == Some(RuleStatus::Failed) {
        parts.push("the connection store's sync state is FAILED".to_string());
    }
    let positive = |c: Cell| match c {
        Cell::Count(n) if n > 0 => Some(n),
        _ => None,
    };
    if let Some(n) = positive(event_counts(rule).1.cell) {
        let events = plural(n, "event");
        parts.push(format!("{n} failed sync {events} since the last revision"));
    }
    let more = [
        (rule.groups.failed, "group", " failed to sync"),
        (
            rule.writeback_failures,
            "user",
            " not written back to the source",
        ),
    ];
    for (n, noun, rest) in more {
        if let Some(n) = n.filter(|n| *n > 0) {
            parts.push(format!("{n} {}{rest}", plural(n, noun)));
        }
    }
    if let Some(n) = rule.events.failed_deprovision.filter(|n| *n > 0) {
        let events = plural(n, "event");
        parts.push(format!("{n} failed deprovisioning {events}"));
    }
    (!parts.is_empty()).then(|| parts.join("; "))
}

/// Since when this exporter has seen the rule failing, in words ("failing
/// for 2h10m, 13 polls in a row, as seen by this exporter"), or `None` while
/// it is not failing. PingOne documents no such time: it is the exporter's
/// own observation, lost on restart.
pub fn failing_for(rule: &RuleSummary, now: f64) -> Option<String> {
    let since = rule.failing_since?;
    let polls = rule.failing_polls.unwrap_or(0);
    Some(format!(
        "failing for {} ({polls} {} in a row, as seen by this exporter)",
        format_age(now - since),
        plural(polls, "poll")
    ))
}

/// `word` or `words`.
pub(super) fn plural(n: u64, word: &str) -> String {
    if n == 1 {
        word.to_string()
    } else {
        format!("{word}s")
    }
}

/// Where user-detail mode stands for an environment.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum UserDetailMode {
    /// Not configured.
    Off,
    /// Configured; no walk merged into the snapshot yet.
    Waiting,
    /// A walk that finished at this Unix time is merged.
    Merged(f64),
}

impl UserDetailMode {
    /// Why a per-state user count is absent.
    pub fn absent_reason(self) -> &'static str {
        match self {
            UserDetailMode::Off => {
                "user-detail mode off: PingOne documents these counts only per user, which that mode walks"
            }
            UserDetailMode::Waiting => "user-detail mode on; its first walk has not finished",
            UserDetailMode::Merged(_) => "the user-detail walk did not count this rule",
        }
    }
}

/// One rule's row.
#[derive(Clone, Debug)]
pub struct RuleRow<'a> {
    /// The rule.
    pub rule: &'a RuleSummary,
    /// Shows a failure (status `failed` or a failure count above 0).
    pub attention: bool,
    /// Users the rule targets.
    pub impacted: Cell,
    /// Success and failure events ([`event_counts`]).
    pub events: (Metric, Metric),
    /// Synced and failed users ([`user_counts`], user-detail mode only).
    pub users: (Metric, Metric),
    /// [`failure_reason`].
    pub reason: Option<String>,
}

impl<'a> RuleRow<'a> {
    /// The row of `rule` in an environment whose user-detail mode is `mode`.
    pub fn new(rule: &'a RuleSummary, mode: UserDetailMode) -> Self {
        Self {
            rule,
            attention: has_failures(rule),
            impacted: Cell::of(rule.users_impacted, store_absent(rule)),
            events: event_counts(rule),
            users: user_counts(rule, mode),
            reason: failure_reason(rule),
        }
    }
}

/// One environment: its state, settings and rows, failing rules first.
#[derive(Clone, Debug)]
pub struct EnvView<'a> {
    /// The slot: labels, snapshot, last poll.
    pub state: &'a EnvState,
    /// Its page settings; `None` only for a moment during a reload.
    pub page: Option<EnvPage>,
    /// User-detail mode.
    pub mode: UserDetailMode,
    /// The rows: status `failed` first, then other rules needing
    /// attention, then the rest; API order within each group.
    pub rows: Vec<RuleRow<'a>>,
}

fn mode_of(page: Option<&EnvPage>, snapshot: Option<&EnvSnapshot>) -> UserDetailMode {
    match (
        page.is_some_and(|p| p.user_detail),
        snapshot.and_then(|s| s.user_detail_finished),
    ) {
        (_, Some(t)) => UserDetailMode::Merged(t),
        (true, None) => UserDetailMode::Waiting,
        (false, None) => UserDetailMode::Off,
    }
}

impl<'a> EnvView<'a> {
    /// The view of one environment.
    pub fn new(state: &'a EnvState, settings: &PageSettings) -> Self {
        let page = settings.envs().get(&*state.key.id).cloned();
        let snapshot = state.snapshot.as_deref();
        let mode = mode_of(page.as_ref(), snapshot);
        let mut rows: Vec<RuleRow<'a>> = snapshot
            .map(|s| s.rules.iter().map(|r| RuleRow::new(r, mode)).collect())
            .unwrap_or_default();
        rows.sort_by_key(|r| (r.rule.status != Some(RuleStatus::Failed), !r.attention));
        Self {
            state,
            page,
            mode,
            rows,
        }
    }

    /// Rows needing attention.
    pub fn attention(&self) -> usize {
        self.rows.iter().filter(|r| r.attention).count()
    }
}

/// Every environment's view, in config order.
pub fn environments<'a>(envs: &'a [Arc<EnvState>], settings: &PageSettings) -> Vec<EnvView<'a>> {
    envs.iter().map(|e| EnvView::new(e, settings)).collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::commands::status::tests::sample;

    #[test]
    fn rows_put_failures_first_and_say_why() {
        let envs = sample();
        let snap = envs[0].snapshot.as_ref().unwrap();
        let mut rules = snap.rules.clone();
        rules[1].status = Some(RuleStatus::Failed);
        let mut rows: Vec<RuleRow<'_>> = rules
            .iter()
            .map(|r| RuleRow::new(r, UserDetailMode::Off))
            .collect();
        rows.sort_by_key(|r| (r.rule.status != Some(RuleStatus::Failed), !r.attention));
        let order: Vec<&str> = rows.iter().map(|r| r.rule.id.as_str()).collect();
        assert_eq!(order, ["r2", "r1", "r3", "r4"]);
        assert_eq!(
            rows[1].reason.as_deref(),
            Some(
                "PingOne says: SCIM answered 500:\tInternal Server Error; \
                 3 failed sync events since the last revision; 1 group failed to sync"
            ),
            "PingOne's words first, then what the numbers show"
        );
        assert_eq!(rows[3].reason, None);
        assert_eq!(rows[1].events.1.cell, Cell::Count(3));
        assert!(
            matches!(rows[1].users.0.cell, Cell::Absent(w) if w.starts_with("user-detail mode off"))
        );
        assert!(matches!(rows[2].impacted, Cell::Absent(w) if w.contains("write-back")));
        let waiting = RuleRow::new(&rules[0], UserDetailMode::Waiting);
        assert!(matches!(waiting.users.1.cell, Cell::Absent(w) if w.contains("first walk")));
    }
}
