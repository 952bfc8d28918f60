//! The fixed mapping from PingOne API objects to per-rule sync summaries
//! (SPEC 6). Other checks rely on this table; change it only with the spec.
//!
//! | summary field | source | how |
//! |---|---|---|
//! | direction | rule `parentRule`, target store `type` | `writeback` if `parentRule` is set, else `inbound` if the target store is PingOne's own directory (`directory` or `PingOne`), else `outbound` |
//! | connection store | rule + direction | the source store of an inbound rule, the target store otherwise |
//! | `rule_info` labels, `rule_enabled` | rule `name`, `active`, `sourceStore.id`, `targetStore.id`, `parentRule.id`; store `name`, `type` | direct |
//! | `users_impacted` | connection store `syncStatus.userTotal` | direct, on the store's owner only |
//! | `users{state="success"}` | connection store `syncStatus.successCount` | direct, on the store's owner only |
//! | `users{state="failed"}` | connection store `syncStatus.failedCount` | direct, on the store's owner only |
//! | `deprovision_failures` | connection store `syncStatus.failedDeprovisionCount` | direct, on the store's owner only |
//! | `last_sync_timestamp_seconds` | connection store `syncStatus.lastSyncAt` | RFC 3339 to Unix seconds |
//! | `rule_status` | `syncState`, `active` | `failed` if `syncState` is `FAILED`, else `active` if `active`, else `inactive` |
//! | `groups_impacted`, `groups{state}` | the rule's `syncedGroups` | count of entries, and per `status` ([`group_state`]) |
//! | `revision_timestamp_seconds` | `revisions/id:latest` `createdAt` | RFC 3339 to Unix seconds |
//! | (none) | any other field of a store's `syncStatus` | never read under a guessed meaning; its name is counted in `pingone_exporter_unknown_fields_total{field="stores.syncStatus.<name>"}` by the client's key-only scan (`pingone::fields`) |
//!
//! `users{state="unsynced"|"partial"}`, last poll, last write-back and
//! write-back failures have no documented per-rule source: they stay absent
//! here (user-detail mode fills some of them: `user_detail::apply`).
//!
//! **Shared stores.** A store's `syncStatus` counts every rule whose
//! connection store it is (a Workday store serves an inbound rule and its
//! write-back rule). Its summable numbers (`users_impacted`, `users`,
//! `deprovision_failures`) are reported on exactly one exported rule, the
//! store's *owner* ([`store_owners`]): enabled rules before disabled ones,
//! then rules that are not write-back rules (the inbound rule of a Workday
//! pair) before write-back rules, then the lowest id. The other rules sharing
//! the store get no store-derived user series, so a sum over rules counts
//! each store once. `last_sync_timestamp_seconds` and `rule_status` are not
//! summed and stay on every rule sharing the store.

use std::collections::{HashMap, HashSet};

use crate::pingone::model::{Revision, Rule, Store, SyncedGroup};
use crate::snapshot::{Direction, EnvSnapshot, RuleStatus, RuleSummary, StateCounts, StoreInfo};
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

/// An enum value the mapping does not know: reported so it can be logged
/// once and counted in `pingone_exporter_unknown_values_total`.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct UnknownValue {
    /// The API field, e.g. `syncedGroups.status`.
    pub field: &'static str,
    /// The value seen.
    pub value: String,
}

/// True for PingOne's own directory store types.
pub fn is_pingone_directory(kind: Option<&str>) -> bool {
    matches!(kind, Some("directory" | "PingOne"))
}

/// The direction of `rule`, looking its target store up in `stores`.
pub fn direction(rule: &Rule, stores: &HashMap<&str, &Store>) -> Direction {
    if rule.parent_rule.is_some() {
        return Direction::Writeback;
    }
    let target_kind = rule.target_store.as_ref().and_then(|r| {
        r.id.as_deref()
            .and_then(|id| stores.get(id))
            .and_then(|s| s.kind.as_deref())
            .or(r.kind.as_deref())
    });
    if is_pingone_directory(target_kind) {
        Direction::Inbound
    } else {
        Direction::Outbound
    }
}

/// Maps a `syncedGroups` or `syncedRules` `status` to a state, or `None`
/// when its meaning is not clear.
pub fn group_state(status: &str) -> Option<&'static str> {
    match status.to_ascii_uppercase().as_str() {
        "SUCCESS" | "SYNCED" => Some("success"),
        "FAILED" | "FAILURE" | "ERROR" => Some("failed"),
        "PARTIALLY_SYNCED" | "PARTIAL_SYNCED" | "PARTIAL" => Some("partial"),
        "UNSYNCED" | "NOT_SYNCED" => Some("unsynced"),
        _ => None,
    }
}

fn store_info(r: Option<&crate::pingone::model::Ref>, stores: &HashMap<&str, &Store>) -> StoreInfo {
    let id = r.and_then(|r| r.id.clone()).unwrap_or_default();
    let found = stores.get(id.as_str());
    StoreInfo {
        name: found
            .and_then(|s| s.name.clone())
            .or_else(|| r.and_then(|r| r.name.clone()))
            .unwrap_or_default(),
        kind: found
            .and_then(|s| s.kind.clone())
            .or_else(|| r.and_then(|r| r.kind.clone()))
            .unwrap_or_default(),
        id,
    }
}

fn count_groups(groups: &[SyncedGroup], unknown: &mut Vec<UnknownValue>) -> StateCounts {
    let mut c = [0u64; 4];
    for g in groups {
        let Some(status) = g.status.as_deref() else {
            continue;
        };
        match group_state(status) {
            Some("success") => c[0] += 1,
            Some("unsynced") => c[1] += 1,
            Some("partial") => c[2] += 1,
            Some(_) => c[3] += 1,
            None => unknown.push(UnknownValue {
                field: "syncedGroups.status",
                value: status.to_string(),
            }),
        }
    }
    StateCounts {
        success: Some(c[0]),
        unsynced: Some(c[1]),
        partial: Some(c[2]),
        failed: Some(c[3]),
    }
}

/// The id of a rule's connection store (SPEC 6): the source store of an
/// inbound rule, the target store otherwise; empty when the rule names none.
pub fn connection_id<'a>(
    direction: Direction,
    source: &'a StoreInfo,
    target: &'a StoreInfo,
) -> &'a str {
    match direction {
        Direction::Inbound => &source.id,
        Direction::Outbound | Direction::Writeback => &target.id,
    }
}

/// One rule as [`store_owners`] ranks it.
#[derive(Clone, Copy, Debug)]
pub struct OwnerCandidate<'a> {
    /// Rule id.
    pub rule_id: &'a str,
    /// The rule's direction.
    pub direction: Direction,
    /// The rule's `active` flag (`None` counts as disabled).
    pub enabled: Option<bool>,
    /// The rule's connection store id; empty when it names none.
    pub store_id: &'a str,
}

/// The owner of each connection store: the rule that carries the store's
/// summable numbers, so they are reported once. Among the rules sharing a
/// store, enabled rules come before disabled ones, then rules that are not
/// write-back rules (the inbound rule of a Workday pair) before write-back
/// rules, then the lowest id. Rules without a connection store own nothing.
pub fn store_owners<'a>(
    rules: impl IntoIterator<Item = OwnerCandidate<'a>>,
) -> HashMap<&'a str, &'a str> {
    let mut best: HashMap<&'a str, (bool, bool, &'a str)> = HashMap::new();
    for c in rules {
        if c.store_id.is_empty() {
            continue;
        }
        let rank = (
            c.enabled != Some(true),
            c.direction == Direction::Writeback,
            c.rule_id,
        );
        best.entry(c.store_id)
            .and_modify(|b| *b = (*b).min(rank))
            .or_insert(rank);
    }
    best.into_iter().map(|(s, (_, _, id))| (s, id)).collect()
}

/// Builds the environment snapshot from one poll's answers. Rules without an
/// id, repeated ids and rules the filter rejects are left out. Unknown enum
/// values are appended to `unknown`.
pub fn summarize(
    answers: &Answers,
    keep: &dyn Fn(&str) -> bool,
    unknown: &mut Vec<UnknownValue>,
) -> EnvSnapshot {
    let stores: HashMap<&str, &Store> = answers
        .stores
        .iter()
        .filter_map(|s| s.id.as_deref().map(|id| (id, s)))
        .collect();
    for ss in answers.stores.iter().filter_map(|s| s.sync_status.as_ref()) {
        if let Some(state) = ss.sync_state.as_deref()
            && !matches!(state, "SYNCING" | "FAILED")
        {
            unknown.push(UnknownValue {
                field: "syncStatus.syncState",
                value: state.to_string(),
            });
        }
    }
    let mut seen = HashSet::new();
    let mut kept = Vec::with_capacity(answers.rules.len());
    for rule in &answers.rules {
        let Some(id) = rule.id.as_deref() else {
            continue;
        };
        let name = rule.name.clone().unwrap_or_default();
        if !keep(&name) || !seen.insert(id) {
            continue;
        }
        let direction = direction(rule, &stores);
        let source = store_info(rule.source_store.as_ref(), &stores);
        let target = store_info(rule.target_store.as_ref(), &stores);
        kept.push((rule, id, name, direction, source, target));
    }
    let owners = store_owners(
        kept.iter()
            .map(|(rule, id, _, dir, src, tgt)| OwnerCandidate {
                rule_id: id,
                direction: *dir,
                enabled: rule.active,
                store_id: connection_id(*dir, src, tgt),
            }),
    );
    let mut rules = Vec::with_capacity(kept.len());
    for (rule, id, name, direction, source, target) in &kept {
        let (rule, id, direction) = (*rule, *id, *direction);
        let conn = connection_id(direction, source, target);
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
        let groups = answers
            .groups
            .get(id)
            .map(|g| (g.len() as u64, count_groups(g, unknown)));
        rules.push(RuleSummary {
            id: id.to_string(),
            name: name.clone(),
            direction,
            parent_rule_id: rule
                .parent_rule
                .as_ref()
                .and_then(|p| p.id.clone())
                .unwrap_or_default(),
            enabled: rule.active,
            status,
            users_impacted: counts.and_then(|s| s.user_total),
            users: StateCounts {
                success: counts.and_then(|s| s.success_count),
                failed: counts.and_then(|s| s.failed_count),
                unsynced: None,
                partial: None,
            },
            groups_impacted: groups.map(|g| g.0),
            groups: groups.map(|g| g.1).unwrap_or_default(),
            writeback_failures: None,
            deprovision_failures: counts.and_then(|s| s.failed_deprovision_count),
            last_sync: sync
                .and_then(|s| s.last_sync_at.as_deref())
                .and_then(parse_rfc3339),
            last_poll: None,
            last_writeback: None,
            source: source.clone(),
            target: target.clone(),
        });
    }
    EnvSnapshot {
        rules,
        revision_created: answers
            .revision
            .as_ref()
            .and_then(|r| r.created_at.as_deref())
            .and_then(parse_rfc3339),
        user_detail_finished: None,
    }
}
