//! Fixture tests of the mapping rules that go beyond the golden file: how
//! stores shared by several rules are reported, so a dashboard sum over
//! rules counts each store once.

#![allow(clippy::unwrap_used, clippy::expect_used)] // test code: a panic is a test failure

use std::collections::HashMap;
use std::path::Path;

use pingone_sync_exporter::mapping::{self, Answers};
use pingone_sync_exporter::pingone::hal::parse_page;
use pingone_sync_exporter::pingone::model;
use pingone_sync_exporter::snapshot::{Direction, EnvSnapshot, RuleStatus, RuleSummary};
use pingone_sync_exporter::user_detail;

const WRITEBACK: &str = "c0000000-0000-4000-8000-000000000001";
const INBOUND: &str = "c0000000-0000-4000-8000-000000000002";
const SCIM_A: &str = "c0000000-0000-4000-8000-000000000003";
const SCIM_B: &str = "c0000000-0000-4000-8000-000000000004";

fn fixture(name: &str) -> Vec<u8> {
    std::fs::read(Path::new("tests/fixtures/api/shared").join(name)).unwrap()
}

fn answers() -> Answers {
    Answers {
        stores: parse_page::<model::Store>(&fixture("stores.json"), "stores")
            .unwrap()
            .items,
        rules: parse_page::<model::Rule>(&fixture("rules.json"), "rules")
            .unwrap()
            .items,
        groups: HashMap::new(),
        revision: None,
    }
}

fn summarize(keep: &dyn Fn(&str) -> bool) -> EnvSnapshot {
    mapping::summarize(&answers(), keep, &mut Vec::new())
}

fn rule<'a>(snap: &'a EnvSnapshot, id: &str) -> &'a RuleSummary {
    snap.rules.iter().find(|r| r.id == id).unwrap()
}

fn has_store_numbers(r: &RuleSummary) -> bool {
    r.users_impacted.is_some()
        || r.events.success.is_some()
        || r.events.failure.is_some()
        || r.events.failed_deprovision.is_some()
}

#[test]
fn a_workday_store_is_counted_on_the_inbound_rule_only() {
    let snap = summarize(&|_| true);
    let inbound = rule(&snap, INBOUND);
    let writeback = rule(&snap, WRITEBACK);
    assert_eq!(inbound.direction, Direction::Inbound);
    assert_eq!(writeback.direction, Direction::Writeback);
    // The write-back rule's id sorts first, but the inbound rule owns the store.
    assert_eq!(inbound.users_impacted, Some(100));
    assert_eq!(inbound.events.success, Some(90));
    assert_eq!(inbound.events.failure, Some(10));
    assert_eq!(inbound.events.failed_deprovision, Some(2));
    assert!(!has_store_numbers(writeback), "{writeback:?}");
    // Values that are not summed stay on both rules.
    assert_eq!(writeback.last_sync, inbound.last_sync);
    assert!(inbound.last_sync.is_some());
    assert_eq!(writeback.status, Some(RuleStatus::Failed));
    assert_eq!(inbound.status, Some(RuleStatus::Failed));
}

#[test]
fn enabled_rules_own_a_shared_store_before_disabled_ones() {
    let snap = summarize(&|_| true);
    // SCIM A has the lower id but is disabled: SCIM B carries the numbers.
    assert_eq!(rule(&snap, SCIM_B).users_impacted, Some(50));
    assert!(!has_store_numbers(rule(&snap, SCIM_A)));
    assert_eq!(rule(&snap, SCIM_A).last_sync, rule(&snap, SCIM_B).last_sync);
}

#[test]
fn a_rule_the_filter_drops_owns_nothing() {
    let snap = summarize(&|name| name != "SCIM B" && name != "Workday inbound");
    assert_eq!(rule(&snap, SCIM_A).users_impacted, Some(50));
    assert_eq!(rule(&snap, WRITEBACK).users_impacted, Some(100));
    assert_eq!(rule(&snap, WRITEBACK).events.failure, Some(10));
}

#[test]
fn a_sum_over_rules_counts_each_store_once() {
    let store_total: u64 = answers()
        .stores
        .iter()
        .filter_map(|s| s.sync_status.as_ref()?.user_total)
        .sum();
    for keep in [&(|_: &str| true) as &dyn Fn(&str) -> bool, &|n: &str| {
        n.starts_with("Workday") || n == "SCIM A"
    }] {
        let snap = summarize(keep);
        let sum: u64 = snap.rules.iter().filter_map(|r| r.users_impacted).sum();
        assert_eq!(sum, store_total);
    }
}

/// The walk's counts for the fixture rules, as `RuleUsers::add` counts the
/// per-user answers in `synced-rules.json`.
fn walked() -> (user_detail::WalkCounts, user_detail::UnknownTally) {
    let answers: serde_json::Map<String, serde_json::Value> =
        serde_json::from_slice(&fixture("synced-rules.json")).unwrap();
    let mut unknown = user_detail::UnknownTally::default();
    let mut rules = HashMap::new();
    for (rule_id, records) in answers.iter().filter(|(k, _)| !k.starts_with('_')) {
        let mut counted = user_detail::RuleUsers::default();
        for answer in records.as_array().unwrap() {
            let record: Option<model::SyncedRule> = (!answer.is_null())
                .then(|| model::parse_one(answer.to_string().as_bytes()).unwrap());
            counted.add(record.as_ref(), &mut unknown);
        }
        rules.insert(rule_id.clone(), counted);
    }
    let detail = user_detail::WalkCounts {
        finished_at: 1_772_370_000.0,
        requests: 0,
        users: 7,
        rules,
    };
    (detail, unknown)
}

#[test]
fn user_detail_counts_every_record_state_and_404s() {
    let (detail, unknown) = walked();
    let inbound = &detail.rules[INBOUND];
    assert_eq!(
        (inbound.impacted, inbound.success, inbound.failed),
        (6, 2, 0)
    );
    assert_eq!(
        inbound.other, 4,
        "UNSYNCED, PARTIALLY_SYNCED, QUARANTINED and a non-string status"
    );
    assert_eq!(inbound.without_record, 1);
    assert_eq!(
        inbound.last_sync,
        Some(1_772_366_400.0),
        "bad times are skipped"
    );
    let values: Vec<(&str, u64)> = unknown.iter().map(|(u, n)| (u.value.as_str(), n)).collect();
    assert_eq!(
        values,
        [
            ("UNSYNCED", 1),
            ("PARTIALLY_SYNCED", 1),
            ("QUARANTINED", 1),
            ("(missing)", 1)
        ],
        "no accepted spelling, or no readable status"
    );
    assert!(unknown.iter().all(|(u, _)| u.field == "syncedRules.status"));
}

#[test]
fn user_detail_replaces_store_user_numbers_and_fills_writeback() {
    let (detail, _) = walked();
    let mut snap = summarize(&|_| true);
    user_detail::apply(&mut snap, &detail);
    assert_eq!(snap.user_detail_finished, Some(1_772_370_000.0));

    let wb = rule(&snap, WRITEBACK);
    assert_eq!(wb.users_impacted, Some(3));
    assert_eq!(wb.users.labelled().map(|(_, n)| n), [Some(1), Some(2)]);
    assert_eq!(
        wb.writeback_failures,
        Some(2),
        "write-back failures = FAILED records"
    );
    assert_eq!(
        wb.last_writeback,
        Some(1_772_364_600.25),
        "latest record lastSyncAt"
    );
    assert_eq!(
        wb.events.failed_deprovision, None,
        "store-derived, owner only"
    );
    assert_eq!(wb.last_poll, None, "no source, even in user-detail mode");

    let inbound = rule(&snap, INBOUND);
    assert_eq!(
        inbound.users_impacted,
        Some(6),
        "exact, not the store's 100"
    );
    // Four records are in no state: a 0 failed would be made up.
    assert_eq!(inbound.users.labelled().map(|(_, n)| n), [Some(2), None]);
    assert_eq!(
        inbound.writeback_failures, None,
        "inbound rules write nothing back"
    );
    assert_eq!(inbound.last_writeback, None);
    assert_eq!(
        inbound.events.failed_deprovision,
        Some(2),
        "still the store's"
    );
    assert!(
        inbound.last_sync.is_some(),
        "last sync keeps its store source"
    );

    // Rules the walk did not count keep their store-derived values.
    assert_eq!(rule(&snap, SCIM_B).users_impacted, Some(50));
    assert_eq!(rule(&snap, SCIM_B).users.success, None);
}

/// docs/metrics.md, "Undocumented fields": fields a tenant's `syncStatus` carries beyond the
/// documented ones (here made up: `lastPollAt`, `writebackFailedCount`) are
/// never read under a guessed meaning; the client's key-only scan reports
/// their names (`pingone_exporter_unknown_fields_total`), so a user can show
/// them to us with `dump`.
#[test]
fn undocumented_sync_status_fields_are_reported_not_guessed() {
    let mut unknown = Vec::new();
    let snap = mapping::summarize(&answers(), &|_| true, &mut unknown);
    assert!(unknown.is_empty(), "no enum value is unknown: {unknown:?}");
    for r in &snap.rules {
        assert_eq!(r.last_poll, None, "{}", r.name);
        assert_eq!(r.writeback_failures, None, "{}", r.name);
    }
    let names = pingone_sync_exporter::pingone::fields::unknown_in_page(
        &fixture("stores.json"),
        "stores",
        &pingone_sync_exporter::pingone::fields::documented::STORES,
    );
    assert_eq!(
        names,
        [
            "stores.syncStatus.lastPollAt",
            "stores.syncStatus.writebackFailedCount"
        ]
    );
}
