//! Status values to states: a rule's `syncedGroups` counted per state, and
//! the values whose meaning is not known, reported rather than guessed.

use crate::pingone::model::{Store, SyncedGroup};
use crate::snapshot::StateCounts;

/// An enum value the mapping does not know: reported so it can be logged
/// once and counted in `pingone_exporter_unknown_values_total`.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct UnknownValue {
    /// The API field, e.g. `syncedGroups.status`.
    pub field: &'static str,
    /// The value seen.
    pub value: String,
}

/// Maps a `syncedGroups` or `syncedRules` `status` to a state, or `None`
/// when its meaning is not clear.
pub fn group_state(status: &str) -> Option<&'static str> {
    match status.to_ascii_uppercase().as_str() {
        "SUCCESS" | "SYNCED" => Some("success"),
        "FAILED" | "FAILURE" | "ERROR" => Some("failed"),
        _ => None,
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

/// A rule's groups per state ([`group_state`]); a group without a status
/// is in no state, and one with an unknown status is appended to `unknown`.
pub(super) fn count_groups(groups: &[SyncedGroup], unknown: &mut Vec<UnknownValue>) -> StateCounts {
    let mut c = [0u64; 2];
    for g in groups {
        let Some(status) = g.status.as_deref() else {
            continue;
        };
        match group_state(status) {
            Some("success") => c[0] += 1,
            Some(_) => c[1] += 1,
            None => unknown.push(UnknownValue {
                field: "syncedGroups.status",
                value: status.to_string(),
            }),
        }
    }
    StateCounts {
        success: Some(c[0]),
        failed: Some(c[1]),
    }
}
