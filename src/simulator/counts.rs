//! Counts derived from the model. Both the API and the ground truth take
//! their numbers from here, so they always agree.
//!
//! A store's `syncStatus` sums over every rule whose connection store it is
//! (the target of an outbound or write-back rule, the source of an inbound
//! rule), counting each (rule, user in scope) pair. So a Workday store
//! shared by an inbound rule and its write-back rule counts each user
//! twice: once per rule. Whether the real service counts that way is not
//! documented; the choice is recorded in `docs/simulator.md`.

use super::model::{Env, Millis, Rule, UserState};

/// Users of one rule by state.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub(crate) struct UserCounts {
    /// Users in scope.
    pub impacted: u64,
    pub success: u64,
    pub unsynced: u64,
    pub partial: u64,
    pub failed: u64,
}

/// Groups of one rule by status.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub(crate) struct GroupCounts {
    /// Groups synced by the rule.
    pub impacted: u64,
    pub success: u64,
    pub failed: u64,
    pub partial: u64,
    pub unsynced: u64,
    /// Any other status (injected unknown values).
    pub other: u64,
}

/// A store's `syncStatus`, as served. `success`, `failed` and
/// `failed_deprovision` are event counts since the latest revision (the sum
/// of its rules' [`super::model::Events`]); `user_total` counts users.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct SyncStatus {
    pub sync_state: String,
    pub last_sync_ms: Millis,
    pub success: u64,
    pub failed: u64,
    pub failed_deprovision: u64,
    pub user_total: u64,
    pub details: String,
}

/// Counts a rule's users by state.
pub(crate) fn users(rule: &Rule) -> UserCounts {
    let mut c = UserCounts {
        impacted: rule.members.len() as u64,
        ..UserCounts::default()
    };
    for m in &rule.members {
        match m.state {
            UserState::Success => c.success += 1,
            UserState::Unsynced => c.unsynced += 1,
            UserState::Partial => c.partial += 1,
            UserState::Failed => c.failed += 1,
        }
    }
    c
}

/// Counts a rule's groups by status.
pub(crate) fn groups(rule: &Rule) -> GroupCounts {
    let mut c = GroupCounts {
        impacted: rule.groups.len() as u64,
        ..GroupCounts::default()
    };
    for g in &rule.groups {
        match g.status.as_str() {
            "SUCCESS" => c.success += 1,
            "FAILED" => c.failed += 1,
            "PARTIALLY_SYNCED" => c.partial += 1,
            "UNSYNCED" => c.unsynced += 1,
            _ => c.other += 1,
        }
    }
    c
}

/// The `syncStatus` of every store, by store index, in one pass over the
/// rules; `None` (field omitted) for a store no sync has gone through yet.
pub(crate) fn sync_statuses(env: &Env) -> Vec<Option<SyncStatus>> {
    let mut out: Vec<Option<SyncStatus>> = env
        .stores
        .iter()
        .map(|s| {
            s.last_sync_ms.map(|last_sync_ms| SyncStatus {
                sync_state: "SYNCING".into(),
                last_sync_ms,
                success: 0,
                failed: 0,
                failed_deprovision: 0,
                user_total: 0,
                details: String::new(),
            })
        })
        .collect();
    let mut forced: Vec<Option<&str>> = vec![None; out.len()];
    let mut failed_users = vec![0_u64; out.len()];
    for r in &env.rules {
        let i = r.connection_store();
        if let Some(Some(st)) = out.get_mut(i) {
            st.success += r.events.success;
            st.failed += r.events.failed;
            let c = users(r);
            st.user_total += c.impacted;
            if let Some(f) = failed_users.get_mut(i) {
                *f += c.failed;
            }
            st.failed_deprovision += r.events.failed_deprovision;
            forced[i] = forced[i].or(r.forced_state.as_deref());
        }
    }
    let per_store = env.stores.iter().zip(forced).zip(failed_users);
    for (st, ((s, f), failed_users)) in out.iter_mut().zip(per_store) {
        let Some(st) = st else { continue };
        if s.failing {
            st.sync_state = "FAILED".into();
            st.details = format!("Connection to {} failed: the target did not answer", s.name);
        } else {
            if let Some(f) = f {
                st.sync_state = f.to_owned();
            }
            // `details` speaks of users in a failed state now, not of the
            // failure events since the revision.
            if failed_users > 0 {
                st.details = format!("{failed_users} users failed to sync");
            }
        }
    }
    out
}

/// The `details` served for one (rule, user) sync record.
pub(crate) fn user_details(state: UserState, pending: bool, failing: bool) -> &'static str {
    match state {
        UserState::Success => "",
        UserState::Unsynced if pending => "Waiting for the next sync after a new revision",
        UserState::Unsynced => "User was not created at the target: user creation is disabled",
        UserState::Partial => "Some attributes could not be updated at the target",
        UserState::Failed if failing => "Connection to the target failed",
        UserState::Failed => "The target returned an error: 500 Internal Server Error",
    }
}
