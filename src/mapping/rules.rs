//! The rules a snapshot carries, and each one's summary: the rule's own
//! fields, its connection store's status (its counts on the store's owner
//! only) and its groups.

use std::collections::{HashMap, HashSet};

use crate::pingone::model::{Rule, Store, SyncedGroup};
use crate::redact::clean_details;
use crate::snapshot::{
    Direction, RuleStatus, RuleSummary, StateCounts, StoreInfo, StoreStatus, SyncEvents,
};
use crate::timefmt::parse_rfc3339;

use super::owners::OwnerCandidate;
use super::states::{UnknownValue, count_groups};
use super::stores::{connection_id, direction, store_info};

/// A rule the snapshot carries, with what its summary is built from.
pub(super) struct Kept<'a> {
    rule: &'a Rule,
    /// The rule's id (never empty: rules without one are not kept).
    pub(super) id: &'a str,
    name: String,
    direction: Direction,
    source: StoreInfo,
    target: StoreInfo,
}

/// The rules with an id that `keep` accepts by name, each id once (the
/// first wins), in the order of the answer.
pub(super) fn kept<'a>(
    rules: &'a [Rule],
    stores: &HashMap<&str, &Store>,
    keep: &dyn Fn(&str) -> bool,
) -> Vec<Kept<'a>> {
    let mut seen = HashSet::new();
    let mut kept = Vec::with_capacity(rules.len());
    for rule in rules {
        let Some(id) = rule.id.as_deref() else {
            continue;
        };
        let name = rule.name.clone().unwrap_or_default();
        if !keep(&name) || !seen.insert(id) {
            continue;
        }
        kept.push(Kept {
            rule,
            id,
            name,
            direction: direction(rule, stores),
            source: store_info(rule.source_store.as_ref(), stores),
            target: store_info(rule.target_store.as_ref(), stores),
        });
    }
    kept
}

impl<'a> Kept<'a> {
    /// The rule's connection store id; empty when it names none.
    pub(super) fn connection(&self) -> &str {
        connection_id(self.direction, &self.source, &self.target)
    }

    /// The rule as the shared-store ranking sees it.
    pub(super) fn owner_candidate(&self) -> OwnerCandidate<'_> {
        OwnerCandidate {
            rule_id: self.id,
            direction: self.direction,
            enabled: self.rule.active,
            store_id: self.connection(),
        }
    }

    /// The rule's summary. `owners` maps each connection store to the rule
    /// that carries its summable numbers; `groups` is the rule's
    /// `syncedGroups`, `None` when they were not read (their series stay
    /// absent). Group entries in no state are appended to `unknown`;
    /// `secrets` are removed from the store's `details`.
    pub(super) fn summary(
        &self,
        stores: &HashMap<&str, &Store>,
        owners: &HashMap<&str, &str>,
        groups: Option<&[SyncedGroup]>,
        secrets: &[&str],
        unknown: &mut Vec<UnknownValue>,
    ) -> RuleSummary {
        let (rule, id) = (self.rule, self.id);
        let conn = self.connection();
        let sync = stores.get(conn).and_then(|s| s.sync_status.as_ref());
        // Summable store numbers go to the store's owner only.
        let counts = sync.filter(|_| owners.get(conn) == Some(&id));
        let failed = sync.and_then(|s| s.sync_state.as_deref()) == Some("FAILED");
        let status = match (failed, rule.active) {
            (true, _) => Some(RuleStatus::Failed),
            (false, Some(true)) => Some(RuleStatus::Active),
            (false, Some(false)) => Some(RuleStatus::Inactive),
            (false, None) => None,
        };
        let groups = groups.map(|g| count_groups(g, unknown));
        RuleSummary {
            id: id.to_string(),
            name: self.name.clone(),
            direction: self.direction,
            parent_rule_id: rule
                .parent_rule
                .as_ref()
                .and_then(|p| p.id.clone())
                .unwrap_or_default(),
            enabled: rule.active,
            status,
            users_impacted: counts.and_then(|s| s.user_total),
            // A store's counts are events, not users: users per state come
            // from user-detail mode only.
            users: StateCounts::default(),
            groups_impacted: groups.map(|g| g.0),
            groups: groups.map(|g| g.1).unwrap_or_default(),
            writeback_failures: None,
            events: SyncEvents {
                success: counts.and_then(|s| s.success_count),
                failure: counts.and_then(|s| s.failed_count),
                failed_deprovision: counts.and_then(|s| s.failed_deprovision_count),
            },
            store_status: stores
                .get(conn)
                .and_then(|s| s.status.as_deref())
                .and_then(StoreStatus::from_api),
            sync_error: sync
                .and_then(|s| s.details.as_deref())
                .and_then(|d| clean_details(d, secrets)),
            // Filled by the poller's failing tracker; a 0 until then marks a
            // rule whose connection store has a syncStatus to watch.
            failing_since: None,
            failing_polls: sync.map(|_| 0),
            failed_users: Vec::new(),
            last_sync: sync
                .and_then(|s| s.last_sync_at.as_deref())
                .and_then(parse_rfc3339),
            last_poll: None,
            last_writeback: None,
            source: self.source.clone(),
            target: self.target.clone(),
        }
    }
}
