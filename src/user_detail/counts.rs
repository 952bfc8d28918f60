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
use crate::redact::clean_details;
use crate::selfmetrics::MAX_UNKNOWN_VALUES;
use crate::snapshot::{Direction, EnvSnapshot, FailedUser, StateCounts};
use crate::timefmt::parse_rfc3339;

/// How many failed records a walk keeps per rule for `status --failures`
/// (the ones with the smallest user ids); the count of all of them is
/// [`RuleUsers::failed`].
pub const FAILED_KEPT: usize = 20;

/// A user's record in `FAILED`, as read (not yet scrubbed: its `details`
/// is PingOne's free text).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct FailedRecord {
    /// The user's id.
    pub user_id: String,
    /// The record's `lastSyncAt`, as sent.
    pub last_sync_at: Option<String>,
    /// The record's `details`, as sent; `None` when absent or empty.
    pub details: Option<String>,
}

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
    /// Up to [`FAILED_KEPT`] records in `FAILED`, by user id.
    pub failed_records: Vec<FailedRecord>,
}

impl RuleUsers {
    /// Counts one user's answer: `None` when the user has no record (404).
    /// Records in no state are tallied in `unknown` (a missing status as
    /// `(missing)`).
    pub fn add(&mut self, record: Option<&SyncedRule>, unknown: &mut UnknownTally) {
        let Some(record) = record else {
            self.without_record += 1;
            return;
        };
        let mut tally = self.tally();
        let mut seen = Vec::new();
        tally.add("syncedRules.status", record.status.as_deref(), &mut seen);
        for u in seen {
            unknown.note(u.field, &u.value);
        }
        (self.impacted, self.success, self.failed, self.other) =
            (tally.total, tally.success, tally.failed, tally.other);
        if let Some(t) = record.last_sync_at.as_deref().and_then(parse_rfc3339) {
            self.last_sync = Some(self.last_sync.map_or(t, |l| l.max(t)));
        }
    }

    /// Keeps `user`'s record if it is `FAILED` and among the
    /// [`FAILED_KEPT`] smallest user ids so far (a walk's answers come in
    /// any order; this keeps the choice independent of it).
    pub fn keep_failed(&mut self, user: &str, record: Option<&SyncedRule>) {
        let Some(r) = record.filter(|r| r.status.as_deref() == Some("FAILED")) else {
            return;
        };
        self.failed_records.push(FailedRecord {
            user_id: user.to_string(),
            last_sync_at: r.last_sync_at.clone(),
            details: r.details.clone().filter(|d| !d.trim().is_empty()),
        });
        self.failed_records
            .sort_by(|a, b| a.user_id.cmp(&b.user_id));
        self.failed_records.truncate(FAILED_KEPT);
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

/// The unknown values a walk saw, each once with how often: a walk reads
/// one record per user and rule, so keeping one string per record would
/// grow without bound. At most [`MAX_UNKNOWN_VALUES`] distinct values are
/// kept, each cut to [`MAX_VALUE_CHARS`] characters; later ones are counted
/// under `other`, as the self-metrics do.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct UnknownTally {
    seen: Vec<(UnknownValue, u64)>,
}

/// The longest unknown value kept, in characters.
pub const MAX_VALUE_CHARS: usize = 100;

impl UnknownTally {
    /// Counts one sighting of `value` in `field`.
    pub fn note(&mut self, field: &'static str, value: &str) {
        let value = match value.char_indices().nth(MAX_VALUE_CHARS) {
            Some((cut, _)) => &value[..cut],
            None => value,
        };
        let distinct = self.seen.iter().filter(|(u, _)| u.value != "other").count();
        let value = if distinct >= MAX_UNKNOWN_VALUES && !self.has(field, value) {
            "other"
        } else {
            value
        };
        match self
            .seen
            .iter_mut()
            .find(|(u, _)| u.field == field && u.value == value)
        {
            Some((_, n)) => *n = n.saturating_add(1),
            None => self.seen.push((
                UnknownValue {
                    field,
                    value: value.to_string(),
                },
                1,
            )),
        }
    }

    fn has(&self, field: &str, value: &str) -> bool {
        self.seen
            .iter()
            .any(|(u, _)| u.field == field && u.value == value)
    }

    /// Each distinct value, in the order first seen, with its count.
    pub fn iter(&self) -> impl Iterator<Item = (&UnknownValue, u64)> {
        self.seen.iter().map(|(u, n)| (u, *n))
    }

    /// True when nothing unknown was seen.
    pub fn is_empty(&self) -> bool {
        self.seen.is_empty()
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
    /// Requests the walk made, retries left out: the rules list, the
    /// users list's pages, one `syncedRules` read per user and walked rule
    /// (docs/metrics.md, "API calls per poll"); the walk's size for the
    /// request plan.
    pub requests: u64,
}

/// Puts a walk's counts into a snapshot (see the module table). Rules the
/// walk did not count keep their store-derived values.
pub fn apply(snap: &mut EnvSnapshot, walk: &WalkCounts) {
    snap.user_detail_finished = Some(walk.finished_at);
    snap.user_detail_walk_requests = Some(walk.requests);
    for rule in &mut snap.rules {
        let Some(counted) = walk.rules.get(&rule.id) else {
            continue;
        };
        rule.users_impacted = Some(counted.impacted);
        rule.users = counted.states();
        rule.failed_users = counted
            .failed_records
            .iter()
            .map(|f| FailedUser {
                user_id: f.user_id.clone(),
                last_sync: f.last_sync_at.as_deref().and_then(parse_rfc3339),
                details: f.details.as_deref().and_then(|d| clean_details(d, &[])),
            })
            .collect();
        if rule.direction == Direction::Writeback {
            rule.writeback_failures = counted.states().failed;
            rule.last_writeback = counted.last_sync;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_merged_walk_gives_the_snapshot_its_request_count() {
        let walk = WalkCounts {
            users: 250,
            requests: 504,
            ..WalkCounts::default()
        };
        let mut snap = EnvSnapshot::default();
        apply(&mut snap, &walk);
        assert_eq!(snap.user_detail_walk_requests, Some(504));
    }

    fn record(status: &str, details: Option<&str>) -> SyncedRule {
        SyncedRule {
            status: Some(status.into()),
            last_sync_at: Some("2026-01-01T00:00:00Z".into()),
            details: details.map(str::to_string),
            ..SyncedRule::default()
        }
    }

    #[test]
    fn failed_records_are_kept_bounded_and_in_user_order() {
        let mut users = RuleUsers::default();
        let mut unknown = UnknownTally::default();
        for i in (0..30).rev() {
            let r = record("FAILED", Some("SCIM 500"));
            users.add(Some(&r), &mut unknown);
            users.keep_failed(&format!("u{i:02}"), Some(&r));
        }
        let ok = record("SUCCESS", None);
        users.add(Some(&ok), &mut unknown);
        users.keep_failed("u-ok", Some(&ok));
        users.keep_failed("u-none", None);
        let blank = record("FAILED", Some("  "));
        users.keep_failed("a-blank", Some(&blank));
        assert_eq!(users.failed, 30);
        assert_eq!(users.failed_records.len(), FAILED_KEPT);
        assert_eq!(users.failed_records[0].user_id, "a-blank");
        assert_eq!(users.failed_records[0].details, None, "empty is absent");
        assert_eq!(users.failed_records[1].user_id, "u00");
        assert_eq!(users.failed_records[1].details.as_deref(), Some("SCIM 500"));
        assert_eq!(users.failed_records[19].user_id, "u18");
    }

    fn parsed(status: &str) -> SyncedRule {
        crate::pingone::model::parse_one(
            serde_json::json!({ "status": status })
                .to_string()
                .as_bytes(),
        )
        .unwrap_or_else(|e| panic!("{e}"))
    }

    #[test]
    fn unknown_statuses_are_tallied_not_stored_per_record() {
        let mut users = RuleUsers::default();
        let mut unknown = UnknownTally::default();
        users.add(Some(&parsed(&"X".repeat(10_000))), &mut unknown);
        for i in 0..10_000 {
            users.add(Some(&parsed(&format!("ODD-{}", i % 500))), &mut unknown);
            users.add(Some(&parsed("UNSYNCED")), &mut unknown);
        }
        assert_eq!(users.other, 20_001);
        let kept: Vec<(&UnknownValue, u64)> = unknown.iter().collect();
        assert_eq!(kept.len(), MAX_UNKNOWN_VALUES + 1, "50 values and other");
        assert_eq!(kept[0].0.value, "X".repeat(MAX_VALUE_CHARS), "cut");
        assert_eq!(kept[1].0.value, "ODD-0");
        assert_eq!(kept[1].1, 20, "ODD-0 every 500 records");
        let unsynced = kept.iter().find(|(u, _)| u.value == "UNSYNCED");
        assert_eq!(unsynced.map(|(_, n)| *n), Some(10_000));
        let other = kept.iter().find(|(u, _)| u.value == "other");
        let total: u64 = kept.iter().map(|(_, n)| n).sum();
        assert_eq!(total, 20_001, "every sighting is counted once");
        assert!(other.is_some_and(|(_, n)| *n > 0));
        assert!(
            kept.iter()
                .all(|(u, _)| u.value.chars().count() <= MAX_VALUE_CHARS)
        );
    }
}
