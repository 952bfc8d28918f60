//! One fixture per rule of the fixed mapping table (docs/metrics.md, src/mapping/mod.rs):
//! small API answers in, the per-rule summary out.

#![allow(clippy::unwrap_used, clippy::expect_used)] // test code: a panic is a test failure

use std::collections::HashMap;

use pingone_sync_exporter::mapping::{Answers, UnknownValue, summarize, summarize_with};
use pingone_sync_exporter::pingone::hal::parse_page;
use pingone_sync_exporter::pingone::model::{Revision, Rule, Store, SyncedGroup, parse_one};
use pingone_sync_exporter::snapshot::{
    Direction, EnvSnapshot, RuleStatus, RuleSummary, StoreStatus,
};

const STORES: &str = r#"{"_embedded":{"stores":[
  {"id":"dir","name":"PingOne Directory","type":"directory"},
  {"id":"p1","name":"PingOne Users","type":"PingOne"},
  {"id":"scim","name":"SCIM","type":"scim","status":"ACTIVE","syncStatus":{"syncState":"SYNCING","lastSyncAt":"2026-01-01T00:00:10.500Z","successCount":7,"failedCount":2,"failedDeprovisionCount":1,"userTotal":9}},
  {"id":"wd","name":"Workday","type":"Workday","status":"INACTIVE","syncStatus":{"syncState":"FAILED","successCount":3,"failedCount":4,"userTotal":8,
    "details":"  Bearer abc.def  rejected:\n client_secret=s3cr3t-value  "}},
  {"id":"bare","name":"No status yet","type":"Slack"}
]}}"#;

fn run(
    rules: &str,
    groups: &[(&str, &str)],
    revision: Option<&str>,
) -> (EnvSnapshot, Vec<UnknownValue>) {
    let answers = Answers {
        stores: parse_page::<Store>(STORES.as_bytes(), "stores")
            .unwrap()
            .items,
        rules: parse_page::<Rule>(
            format!(r#"{{"_embedded":{{"rules":[{rules}]}}}}"#).as_bytes(),
            "rules",
        )
        .unwrap()
        .items,
        groups: groups
            .iter()
            .map(|(id, body)| {
                let page = parse_page::<SyncedGroup>(body.as_bytes(), "syncedGroups").unwrap();
                (id.to_string(), page.items)
            })
            .collect::<HashMap<_, _>>(),
        revision: revision.map(|r| parse_one::<Revision>(r.as_bytes()).unwrap()),
    };
    let mut unknown = Vec::new();
    let snap = summarize(&answers, &|name| !name.starts_with("test-"), &mut unknown);
    (snap, unknown)
}

fn one(rule: &str) -> RuleSummary {
    let (snap, _) = run(rule, &[], None);
    assert_eq!(snap.rules.len(), 1);
    snap.rules.into_iter().next().unwrap()
}

#[test]
fn direction_is_writeback_when_parent_rule_is_set() {
    let r = one(
        r#"{"id":"r","sourceStore":{"id":"dir"},"targetStore":{"id":"wd"},"parentRule":{"id":"in"}}"#,
    );
    assert_eq!(r.direction, Direction::Writeback);
    assert_eq!(r.parent_rule_id, "in");
}

#[test]
fn direction_is_inbound_when_the_target_is_pingones_directory() {
    for target in ["p1", "dir"] {
        let r = one(&format!(
            r#"{{"id":"r","sourceStore":{{"id":"wd"}},"targetStore":{{"id":"{target}"}}}}"#
        ));
        assert_eq!(r.direction, Direction::Inbound, "target {target}");
    }
}

#[test]
fn direction_is_outbound_otherwise() {
    let r = one(r#"{"id":"r","sourceStore":{"id":"dir"},"targetStore":{"id":"scim"}}"#);
    assert_eq!(r.direction, Direction::Outbound);
    assert_eq!(r.parent_rule_id, "");
}

#[test]
fn users_come_from_the_target_store_of_an_outbound_rule() {
    let r =
        one(r#"{"id":"r","active":true,"sourceStore":{"id":"dir"},"targetStore":{"id":"scim"}}"#);
    assert_eq!(r.users_impacted, Some(9));
    assert_eq!(r.events.success, Some(7));
    assert_eq!(r.events.failure, Some(2));
    assert_eq!(r.events.failed_deprovision, Some(1));
    assert_eq!(r.last_sync, Some(1_767_225_610.5));
    assert_eq!(
        (r.users.success, r.users.failed),
        (None, None),
        "a store counts events, not users"
    );
    assert_eq!(
        (r.last_poll, r.last_writeback, r.writeback_failures),
        (None, None, None)
    );
}

#[test]
fn users_come_from_the_source_store_of_an_inbound_rule() {
    let r = one(r#"{"id":"r","active":true,"sourceStore":{"id":"wd"},"targetStore":{"id":"p1"}}"#);
    assert_eq!(
        (r.users_impacted, r.events.success, r.events.failure),
        (Some(8), Some(3), Some(4))
    );
    assert_eq!(r.last_sync, None, "lastSyncAt missing: absent");
}

#[test]
fn a_store_without_sync_status_gives_no_user_numbers() {
    let r =
        one(r#"{"id":"r","active":true,"sourceStore":{"id":"dir"},"targetStore":{"id":"bare"}}"#);
    assert_eq!(
        (
            r.users_impacted,
            r.events.success,
            r.events.failed_deprovision
        ),
        (None, None, None)
    );
    assert_eq!(r.status, Some(RuleStatus::Active));
}

#[test]
fn rule_status_is_failed_active_inactive_or_absent() {
    let failed =
        one(r#"{"id":"r","active":true,"sourceStore":{"id":"wd"},"targetStore":{"id":"p1"}}"#);
    assert_eq!(
        failed.status,
        Some(RuleStatus::Failed),
        "FAILED wins over active"
    );
    let inactive =
        one(r#"{"id":"r","active":false,"sourceStore":{"id":"dir"},"targetStore":{"id":"scim"}}"#);
    assert_eq!(
        (inactive.status, inactive.enabled),
        (Some(RuleStatus::Inactive), Some(false))
    );
    let unknown = one(r#"{"id":"r","sourceStore":{"id":"dir"},"targetStore":{"id":"scim"}}"#);
    assert_eq!(
        (unknown.status, unknown.enabled),
        (None, None),
        "no active flag: absent"
    );
}

#[test]
fn store_names_and_types_label_the_rule() {
    let r = one(
        r#"{"id":"r","sourceStore":{"id":"dir"},"targetStore":{"id":"missing","type":"scim"}}"#,
    );
    assert_eq!(
        (r.source.name.as_str(), r.source.kind.as_str()),
        ("PingOne Directory", "directory")
    );
    assert_eq!(
        (r.target.name.as_str(), r.target.kind.as_str()),
        ("", "scim"),
        "unlisted store: type from the reference"
    );
}

#[test]
fn groups_are_counted_by_status_and_unknown_statuses_reported() {
    let groups = r#"{"_embedded":{"syncedGroups":[{"status":"SUCCESS"},{"status":"SUCCESS"},{"status":"FAILED"},
        {"status":"PARTIALLY_SYNCED"},{"status":"UNSYNCED"},{"status":"SOMETHING_NEW"},{"group":{"id":"no-status"}}]}}"#;
    let (snap, unknown) = run(
        r#"{"id":"r","active":true,"sourceStore":{"id":"dir"},"targetStore":{"id":"scim"}}"#,
        &[("r", groups)],
        None,
    );
    let r = &snap.rules[0];
    assert_eq!(
        r.groups_impacted,
        Some(7),
        "every entry is an impacted group"
    );
    assert_eq!((r.groups.success, r.groups.failed), (Some(2), Some(1)));
    let unknown: Vec<_> = unknown
        .iter()
        .map(|u| (u.field, u.value.as_str()))
        .collect();
    assert_eq!(
        unknown,
        [
            ("syncedGroups.status", "PARTIALLY_SYNCED"),
            ("syncedGroups.status", "UNSYNCED"),
            ("syncedGroups.status", "SOMETHING_NEW"),
            ("syncedGroups.status", "(missing)")
        ]
    );
}

#[test]
fn groups_not_read_are_absent_not_zero() {
    let r =
        one(r#"{"id":"r","active":true,"sourceStore":{"id":"dir"},"targetStore":{"id":"scim"}}"#);
    assert_eq!((r.groups_impacted, r.groups.success), (None, None));
}

#[test]
fn revision_time_comes_from_created_at() {
    let (snap, _) = run(
        "",
        &[],
        Some(r#"{"id":"rev","createdAt":"2026-01-01T00:00:00Z"}"#),
    );
    assert_eq!(snap.revision_created, Some(1_767_225_600.0));
    let (snap, _) = run("", &[], Some(r#"{"id":"rev","createdAt":"not a time"}"#));
    assert_eq!(snap.revision_created, None);
}

#[test]
fn filtered_repeated_and_id_less_rules_are_left_out() {
    let (snap, _) = run(
        r#"{"id":"a","name":"keep"},{"id":"b","name":"test-skip"},{"name":"no id"},{"id":"a","name":"repeat"}"#,
        &[],
        None,
    );
    let names: Vec<&str> = snap.rules.iter().map(|r| r.name.as_str()).collect();
    assert_eq!(names, ["keep"]);
}

#[test]
fn unknown_sync_states_are_reported_and_not_failed() {
    let stores = STORES.replace(r#""syncState":"SYNCING""#, r#""syncState":"PAUSED""#);
    let answers = Answers {
        stores: parse_page::<Store>(stores.as_bytes(), "stores")
            .unwrap()
            .items,
        rules: parse_page::<Rule>(
            br#"{"_embedded":{"rules":[{"id":"r","active":true,"targetStore":{"id":"scim"}}]}}"#,
            "rules",
        )
        .unwrap()
        .items,
        ..Answers::default()
    };
    let mut unknown = Vec::new();
    let snap = summarize(&answers, &|_| true, &mut unknown);
    assert_eq!(snap.rules[0].status, Some(RuleStatus::Active));
    assert!(
        unknown
            .iter()
            .any(|u| u.field == "syncStatus.syncState" && u.value == "PAUSED")
    );
}

/// Issue 12 item 4: a `syncedGroups` item without a readable `status` is
/// impacted, in no state, and counted as an unknown value; the state series
/// are absent, never a made-up 0.
#[test]
fn groups_without_a_status_leave_the_state_series_absent() {
    let groups = r#"{"_embedded":{"syncedGroups":[{"group":{"id":"g1"}},{"group":{"id":"g2"},"status":null},{"group":{"id":"g3"},"status":7}]}}"#;
    let (snap, unknown) = run(
        r#"{"id":"r","active":true,"sourceStore":{"id":"dir"},"targetStore":{"id":"scim"}}"#,
        &[("r", groups)],
        None,
    );
    let r = &snap.rules[0];
    assert_eq!(r.groups_impacted, Some(3));
    assert_eq!((r.groups.success, r.groups.failed), (None, None));
    let unknown: Vec<_> = unknown
        .iter()
        .map(|u| (u.field, u.value.as_str()))
        .collect();
    assert_eq!(unknown, [("syncedGroups.status", "(missing)"); 3]);

    // One readable entry next to an unreadable one: its state is served,
    // the other state is not (its 0 would be made up).
    let mixed = r#"{"_embedded":{"syncedGroups":[{"status":"FAILED"},{"group":{"id":"g2"}}]}}"#;
    let (snap, _) = run(
        r#"{"id":"r","active":true,"sourceStore":{"id":"dir"},"targetStore":{"id":"scim"}}"#,
        &[("r", mixed)],
        None,
    );
    assert_eq!(
        (snap.rules[0].groups.success, snap.rules[0].groups.failed),
        (None, Some(1))
    );
}

#[test]
fn store_status_is_mapped_from_the_documented_spellings_only() {
    let outbound = one(r#"{"id":"r","sourceStore":{"id":"dir"},"targetStore":{"id":"scim"}}"#);
    assert_eq!(outbound.store_status, Some(StoreStatus::Active));
    let inbound = one(r#"{"id":"r","sourceStore":{"id":"wd"},"targetStore":{"id":"p1"}}"#);
    assert_eq!(inbound.store_status, Some(StoreStatus::Inactive));
    // No status on the connection store: absent, and reported.
    let (snap, unknown) = run(
        r#"{"id":"r","sourceStore":{"id":"dir"},"targetStore":{"id":"bare"}}"#,
        &[],
        None,
    );
    assert_eq!(snap.rules[0].store_status, None);
    assert_eq!(
        unknown,
        [UnknownValue {
            field: "stores.status",
            value: "(missing)".into()
        }]
    );
    // Another spelling: absent, and reported as seen.
    let stores = STORES.replace(r#""status":"ACTIVE""#, r#""status":"Active""#);
    let answers = Answers {
        stores: parse_page::<Store>(stores.as_bytes(), "stores")
            .unwrap()
            .items,
        rules: parse_page::<Rule>(
            br#"{"_embedded":{"rules":[{"id":"r","targetStore":{"id":"scim"}}]}}"#,
            "rules",
        )
        .unwrap()
        .items,
        ..Answers::default()
    };
    let mut unknown = Vec::new();
    let snap = summarize(&answers, &|_| true, &mut unknown);
    assert_eq!(snap.rules[0].store_status, None);
    assert_eq!(unknown[0].value, "Active");
}

#[test]
fn details_are_cleaned_and_scrubbed_of_the_credential() {
    let r = one(r#"{"id":"r","sourceStore":{"id":"wd"},"targetStore":{"id":"p1"}}"#);
    assert_eq!(
        r.sync_error.as_deref(),
        Some("Bearer [redacted] rejected: client_secret=[redacted]")
    );
    let scim = one(r#"{"id":"r","sourceStore":{"id":"dir"},"targetStore":{"id":"scim"}}"#);
    assert_eq!(scim.sync_error, None, "no details: no error");
    // The environment's own secret is removed wherever it appears.
    let stores = STORES.replace("client_secret=s3cr3t-value", "we sent s3cr3t-value");
    let answers = Answers {
        stores: parse_page::<Store>(stores.as_bytes(), "stores").unwrap().items,
        rules: parse_page::<Rule>(
            br#"{"_embedded":{"rules":[{"id":"r","sourceStore":{"id":"wd"},"targetStore":{"id":"p1"}}]}}"#,
            "rules",
        )
        .unwrap()
        .items,
        ..Answers::default()
    };
    let snap = summarize_with(&answers, &|_| true, &["s3cr3t-value"], &mut Vec::new());
    assert_eq!(
        snap.rules[0].sync_error.as_deref(),
        Some("Bearer [redacted] rejected: we sent [redacted]")
    );
}
