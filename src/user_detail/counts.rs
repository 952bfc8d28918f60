//! User-detail mode's part of the mapping (docs/metrics.md): per-user
//! `syncedRules` records counted per rule, and how those counts enter a
//! rule's summary.
//!
//! | summary field | source | how |
//! |---|---|---|
//! | `users_impacted` | `GET /users/{id}/syncedRules/{ruleId}` for every user | users with a record; a 404 (no record) means the user is not in the rule's scope and is not counted |
//! | `users{state}` | record `status` | `SUCCESS` → success, `FAILED` → failed ([`crate::mapping::StateTally`]); other or missing values are impacted but in no state, and reported as unknown; a state is served when it counts a record, or as 0 when every record had an accepted status |
//! | `writeback_failures` | write-back rules: records in `FAILED` | equal to the rule's `users{state="failed"}` |
//! | `last_writeback_timestamp_seconds` | write-back rules: latest record `lastSyncAt` | RFC 3339 to Unix seconds |
//!
//! When a walk has counted a rule, these counts **replace** the
//! store-derived `users_impacted` of that rule and fill its two `users`
//! states: they are exact for the rule, whereas a store's counts
//! mix every rule sharing the store. The store's events, last sync and
//! rule status keep their store sources. Last poll has no source here
//! either: a record says when a user was synced, not when the source was
//! polled.

use std::collections::HashMap;

use crate::mapping::{StateTally, UnknownValue};
use crate::pingone::model::SyncedRule;
use crate::snapshot::{Direction, EnvSnapshot, StateCounts};
use crate::timefmt::parse_rfc3339;

/// One rule's users, as counted by a walk.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct RuleUsers {
    /// Users with a record for the rule: the impacted users.
    pub impacted: u64,
    /// Records in `SUCCESS`.
    pub success: u64,
    /// Records in `FAILED`.
    pub failed: u64,
    /// Records with any other status (`UNSYNCED`, `PARTIALLY_SYNCED`, ...)
    /// or none readable: impacted, in no state, reported as unknown.
    pub other: u64,
    /// Users without a record (404): not in the rule's scope.
    pub without_record: u64,
    /// The latest record `lastSyncAt`, Unix seconds.
    pub last_sync: Option<f64>,
}

impl RuleUsers {
    /// Counts one user's answer: `None` when the user has no record (404).
    /// Records in no state are appended to `unknown` (a missing status as
    /// `(missing)`).
    pub fn add(&mut self, record: Option<&SyncedRule>, unknown: &mut Vec<UnknownValue>) {
        let Some(record) = record else {
            self.without_record += 1;
            return;
        };
        let mut tally = self.tally();
        tally.add("syncedRules.status", record.status.as_deref(), unknown);
        (self.impacted, self.success, self.failed, self.other) =
            (tally.total, tally.success, tally.failed, tally.other);
        if let Some(t) = record.last_sync_at.as_deref().and_then(parse_rfc3339) {
            self.last_sync = Some(self.last_sync.map_or(t, |l| l.max(t)));
        }
    }

    fn tally(&self) -> StateTally {
        StateTally {
            total: self.impacted,
            success: self.success,
            failed: self.failed,
            other: self.other,
        }
    }

    /// The served states: a state with a record, or 0 when every record
    /// had an accepted status ([`StateTally::states`]).
    pub fn states(&self) -> StateCounts {
        self.tally().states()
    }
}

/// The result of one complete walk of an environment.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct WalkCounts {
    /// When the walk finished, Unix seconds.
    pub finished_at: f64,
    /// Users listed in the environment.
    pub users: u64,
    /// Counts per walked rule id (enabled rules the filter keeps).
    pub rules: HashMap<String, RuleUsers>,
}

/// Puts a walk's counts into a snapshot (see the module table). Rules the
/// walk did not count keep their store-derived values.
pub fn apply(snap: &mut EnvSnapshot, walk: &WalkCounts) {
    snap.user_detail_finished = Some(walk.finished_at);
    for rule in &mut snap.rules {
        let Some(counted) = walk.rules.get(&rule.id) else {
            continue;
        };
        rule.users_impacted = Some(counted.impacted);
        rule.users = counted.states();
        if rule.direction == Direction::Writeback {
            rule.writeback_failures = counted.states().failed;
            rule.last_writeback = counted.last_sync;
        }
    }
}
