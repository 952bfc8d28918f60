//! The fixed mapping from PingOne API objects to per-rule sync summaries
//! (docs/metrics.md). Other checks rely on this table; change it only with that page.
//!
//! | summary field | source | how |
//! |---|---|---|
//! | direction | rule `parentRule`, target store `type` | `writeback` if `parentRule` is set, else `inbound` if the target store is PingOne's own directory (`directory` or `PingOne`), else `outbound` |
//! | connection store | rule + direction | the source store of an inbound rule, the target store otherwise |
//! | `rule_info` labels, `rule_enabled` | rule `name`, `active`, `sourceStore.id`, `targetStore.id`, `parentRule.id`; store `name`, `type` | direct |
//! | `users_impacted` | connection store `syncStatus.userTotal` | direct, on the store's owner only |
//! | `events.success` / `events.failure` (`sync_events_total{result}`) | connection store `syncStatus.successCount` / `failedCount` (sync events since the latest revision, not users) | direct, on the store's owner only |
//! | `events.failed_deprovision` (`deprovision_failure_events_total`) | connection store `syncStatus.failedDeprovisionCount` | direct, on the store's owner only |
//! | `store_status` | connection store `status` | `ACTIVE` → active, `INACTIVE` → inactive; anything else or missing: absent and reported as unknown |
//! | `sync_error` (`sync_error_info{details}`) | connection store `syncStatus.details` | cleaned and scrubbed ([`crate::redact::clean_details`]); absent when empty |
//! | `last_sync_timestamp_seconds` | connection store `syncStatus.lastSyncAt` | RFC 3339 to Unix seconds |
//! | `rule_status` | `syncState`, `active` | `failed` if `syncState` is `FAILED`, else `active` if `active`, else `inactive` |
//! | `groups_impacted`, `groups{state}` | the rule's `syncedGroups` | count of entries, and per `status` by the status rule ([`StateTally`]: `SUCCESS`, `FAILED` only) |
//! | `revision_timestamp_seconds` | `revisions/id:latest` `createdAt` | RFC 3339 to Unix seconds |
//! | (none) | any other field of a store's `syncStatus` | never read under a guessed meaning; its name is counted in `pingone_exporter_unknown_fields_total{field="stores.syncStatus.<name>"}` by the client's key-only scan (`pingone::fields`) |
//!
//! `users{state}` (users, not events), last poll, last write-back and
//! write-back failures have no documented per-rule source: they stay absent
//! here (user-detail mode fills them: `user_detail::apply`). The
//! exporter-observed `failing_since` / `failing_polls` are filled by the
//! poller (`poller::failing`); here `failing_polls` is 0 for a rule whose
//! connection store has a `syncStatus`, `None` otherwise.
//!
//! **Shared stores.** A store's `syncStatus` counts every rule whose
//! connection store it is (a Workday store serves an inbound rule and its
//! write-back rule). Its summable numbers (`users_impacted`, `events`)
//! are reported on exactly one exported rule, the
//! store's *owner* ([`store_owners`]): enabled rules before disabled ones,
//! then rules that are not write-back rules (the inbound rule of a Workday
//! pair) before write-back rules, then the lowest id. The other rules sharing
//! the store get no store-derived user series, so a sum over rules counts
//! each store once. `last_sync_timestamp_seconds`, `rule_status`,
//! `store_status` and `sync_error` are not summed and stay on every rule
//! sharing the store.

//!
//! Where the parts are: [`summarize`] (below) runs the steps in order;
//! `stores` finds a rule's direction, connection store and store labels;
//! `states` maps status values to states and reports the unknown ones;
//! `owners` decides which rule carries a shared store's numbers; `rules`
//! picks the rules a snapshot carries and builds each one's summary.

mod owners;
mod rules;
mod states;
mod stores;

pub use owners::{OwnerCandidate, store_owners};
pub use states::{EntryState, MISSING, StateTally, UnknownValue, group_state};
pub use stores::{connection_id, direction, is_pingone_directory};

use std::collections::HashMap;

use crate::pingone::model::{Revision, Rule, Store, SyncedGroup};
use crate::snapshot::EnvSnapshot;
use crate::timefmt::parse_rfc3339;

/// Everything one poll read from the API for one environment.
#[derive(Debug, Default)]
pub struct Answers {
    /// `/propagation/stores`.
    pub stores: Vec<Store>,
    /// `/propagation/rules`.
    pub rules: Vec<Rule>,
    /// `syncedGroups` per rule id; a rule missing here was not read
    /// (inactive, or its read failed), so its group series are absent.
    pub groups: HashMap<String, Vec<SyncedGroup>>,
    /// `/propagation/revisions/id:latest`, when read.
    pub revision: Option<Revision>,
}

/// Builds the environment snapshot from one poll's answers. Rules without an
/// id, repeated ids and rules the filter rejects are left out. Unknown enum
/// values are appended to `unknown`: the stores' sync states first, then the
/// statuses of the kept rules' connection stores, then each kept rule's
/// group statuses, in the order of the answers.
/// Store `details` are scrubbed by shape only ([`summarize_with`] also
/// removes known secrets).
pub fn summarize(
    answers: &Answers,
    keep: &dyn Fn(&str) -> bool,
    unknown: &mut Vec<UnknownValue>,
) -> EnvSnapshot {
    summarize_with(answers, keep, &[], unknown)
}

/// [`summarize`], removing the literal `secrets` (the environment's client
/// secret and access token) from store `details` as well.
pub fn summarize_with(
    answers: &Answers,
    keep: &dyn Fn(&str) -> bool,
    secrets: &[&str],
    unknown: &mut Vec<UnknownValue>,
) -> EnvSnapshot {
    let stores = stores::by_id(&answers.stores);
    states::report_unknown_sync_states(&answers.stores, unknown);
    let kept = rules::kept(&answers.rules, &stores, keep);
    // A store's status matters where it is served: on the rules using it.
    let mut reported = std::collections::HashSet::new();
    for k in &kept {
        if let Some(store) = stores.get(k.connection())
            && reported.insert(k.connection())
        {
            states::report_unknown_store_status(store, unknown);
        }
    }
    let owners = store_owners(kept.iter().map(rules::Kept::owner_candidate));
    let rules = kept
        .iter()
        .map(|k| {
            k.summary(
                &stores,
                &owners,
                answers.groups.get(k.id).map(Vec::as_slice),
                secrets,
                unknown,
            )
        })
        .collect();
    EnvSnapshot {
        rules,
        revision_created: answers
            .revision
            .as_ref()
            .and_then(|r| r.created_at.as_deref())
            .and_then(parse_rfc3339),
        user_detail_finished: None,
        user_detail_walk_requests: None,
    }
}
