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
        || r.users.success.is_some()
        || r.users.failed.is_some()
        || r.deprovision_failures.is_some()
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
    assert_eq!(inbound.users.success, Some(90));
    assert_eq!(inbound.users.failed, Some(10));
    assert_eq!(inbound.deprovision_failures, Some(2));
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
    assert_eq!(rule(&snap, WRITEBACK).users.failed, Some(10));
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
