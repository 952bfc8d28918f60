//! Status values to states: a rule's `syncedGroups` (and, in user-detail
//! mode, its `syncedRules` records) counted per state, and the values whose
//! meaning is not known, reported rather than guessed.
//!
//! Only the spellings PingOne documents or that were seen in real answers
//! have a state (docs/metrics.md, "Accepted status spellings"): `SUCCESS`
//! and `FAILED`. Any other spelling and a missing or unreadable status puts
//! the entry in no state and is reported as an [`UnknownValue`]
//! ([`MISSING`] for no readable status).

use crate::pingone::model::{Store, SyncedGroup};
use crate::snapshot::{StateCounts, StoreStatus};

/// The `value` reported for an entry without a readable status (missing,
/// `null` or not a string).
pub const MISSING: &str = "(missing)";

/// An enum value the mapping does not know: reported so it can be logged
/// once and counted in `pingone_exporter_unknown_values_total`.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct UnknownValue {
    /// The API field, e.g. `syncedGroups.status`.
    pub field: &'static str,
    /// The value seen, or [`MISSING`].
    pub value: String,
}

/// A `syncedGroups` or `syncedRules` state.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum EntryState {
    /// `SUCCESS`.
    Success,
    /// `FAILED`.
    Failed,
}

/// Maps a `syncedGroups` or `syncedRules` `status` to a state: exactly the
/// accepted spellings, case-sensitive as PingOne spells them; `None` for
/// anything else.
pub fn group_state(status: &str) -> Option<EntryState> {
    match status {
        "SUCCESS" => Some(EntryState::Success),
        "FAILED" => Some(EntryState::Failed),
        _ => None,
    }
}

/// Counts entries per state by the status rule: every entry is counted in
/// `total`; accepted ones in their state; others are reported in `unknown`
/// under `field`. A state's count is `Some` when it counts at least one
/// entry, or `Some(0)` when every entry had an accepted spelling; otherwise
/// `None`, so no made-up 0 is served next to entries of unknown state.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct StateTally {
    /// Entries seen.
    pub total: u64,
    /// Entries in `SUCCESS`.
    pub success: u64,
    /// Entries in `FAILED`.
    pub failed: u64,
    /// Entries in no state (other spelling or no readable status).
    pub other: u64,
}

impl StateTally {
    /// Counts one entry with `status` (`None`: no readable status); an
    /// entry in no state is appended to `unknown` under `field`.
    pub fn add(
        &mut self,
        field: &'static str,
        status: Option<&str>,
        unknown: &mut Vec<UnknownValue>,
    ) -> Option<EntryState> {
        self.total += 1;
        let state = status.and_then(group_state);
        match state {
            Some(EntryState::Success) => self.success += 1,
            Some(EntryState::Failed) => self.failed += 1,
            None => {
                self.other += 1;
                unknown.push(UnknownValue {
                    field,
                    value: status.unwrap_or(MISSING).to_string(),
                });
            }
        }
        state
    }

    /// The state counts served (see the type docs for when a 0 is served).
    pub fn states(&self) -> StateCounts {
        let all_known = self.other == 0;
        let served = |n: u64| (n > 0 || all_known).then_some(n);
        StateCounts {
            success: served(self.success),
            failed: served(self.failed),
        }
    }
}

/// Appends each store `syncStatus.syncState` other than the two known ones
/// (`SYNCING`, `FAILED`) to `unknown`, in store order.
pub(super) fn report_unknown_sync_states(stores: &[Store], unknown: &mut Vec<UnknownValue>) {
    for ss in stores.iter().filter_map(|s| s.sync_status.as_ref()) {
        if let Some(state) = ss.sync_state.as_deref()
            && !matches!(state, "SYNCING" | "FAILED")
        {
            unknown.push(UnknownValue {
                field: "syncStatus.syncState",
                value: state.to_string(),
            });
        }
    }
}

/// Appends a connection store's `status` to `unknown` when it is not
/// `ACTIVE` or `INACTIVE` (a missing one as [`MISSING`]): its
/// `store_status` series are then absent.
pub(super) fn report_unknown_store_status(store: &Store, unknown: &mut Vec<UnknownValue>) {
    let status = store.status.as_deref();
    if status.and_then(StoreStatus::from_api).is_none() {
        unknown.push(UnknownValue {
            field: "stores.status",
            value: status.unwrap_or(MISSING).to_string(),
        });
    }
}

/// A rule's groups: the number of entries and their states
/// ([`StateTally`]); entries in no state are appended to `unknown`.
pub(super) fn count_groups(
    groups: &[SyncedGroup],
    unknown: &mut Vec<UnknownValue>,
) -> (u64, StateCounts) {
    let mut tally = StateTally::default();
    for g in groups {
        tally.add("syncedGroups.status", g.status.as_deref(), unknown);
    }
    (tally.total, tally.states())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tally(statuses: &[Option<&str>]) -> (StateCounts, Vec<String>) {
        let (mut t, mut unknown) = (StateTally::default(), Vec::new());
        for s in statuses {
            t.add("syncedGroups.status", *s, &mut unknown);
        }
        (t.states(), unknown.into_iter().map(|u| u.value).collect())
    }

    #[test]
    fn only_documented_spellings_have_a_state() {
        for s in [
            "SYNCED",
            "ERROR",
            "NOT_SYNCED",
            "UNSYNCED",
            "PARTIALLY_SYNCED",
            "success",
        ] {
            assert_eq!(group_state(s), None, "{s}");
        }
        assert_eq!(group_state("SUCCESS"), Some(EntryState::Success));
        assert_eq!(group_state("FAILED"), Some(EntryState::Failed));
    }

    #[test]
    fn a_zero_is_served_only_when_every_entry_was_read() {
        let all = tally(&[Some("SUCCESS"), Some("SUCCESS")]);
        assert_eq!(all.0.labelled().map(|l| l.1), [Some(2), Some(0)]);
        assert!(all.1.is_empty());
        let mixed = tally(&[Some("SUCCESS"), None, Some("UNSYNCED")]);
        assert_eq!(mixed.0.labelled().map(|l| l.1), [Some(1), None]);
        assert_eq!(mixed.1, ["(missing)", "UNSYNCED"]);
        let none = tally(&[None, None]);
        assert_eq!(none.0, StateCounts::default());
        // No entries at all: every (no) entry was read, so both are 0.
        assert_eq!(tally(&[]).0.labelled().map(|l| l.1), [Some(0), Some(0)]);
    }
}
