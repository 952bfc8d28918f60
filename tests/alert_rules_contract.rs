//! The built-in alert sender and the bundled Prometheus rules are one
//! contract (docs/runbook.md's table): the same alert names, severities,
//! summaries, runbook links, `for` and default thresholds. This reads
//! `alerts/pingone-sync-exporter.rules.yml` and compares.

#![allow(clippy::unwrap_used, clippy::expect_used)] // test code: a panic is a test failure

use std::time::Duration;

use pingone_sync_exporter::alerting::{AlertKind, setting};
use pingone_sync_exporter::config::AlertConditions;
use pingone_sync_exporter::config::duration::format_duration;
use serde_json::Value;

fn rules() -> Vec<Value> {
    let path = "alerts/pingone-sync-exporter.rules.yml";
    let text = std::fs::read_to_string(path).unwrap();
    let doc: Value = pingone_sync_exporter::config::yaml::parse(&text, path).unwrap();
    doc["groups"]
        .as_array()
        .unwrap()
        .iter()
        .flat_map(|g| g["rules"].as_array().cloned().unwrap_or_default())
        .collect()
}

fn alert<'a>(rules: &'a [Value], name: &str) -> &'a Value {
    rules
        .iter()
        .find(|r| r["alert"] == name)
        .unwrap_or_else(|| panic!("{name} is not in the rule file"))
}

#[test]
fn every_built_in_alert_matches_its_prometheus_rule() {
    let rules = rules();
    let d = AlertConditions::default();
    for kind in AlertKind::ALL {
        let r = alert(&rules, kind.name());
        let name = kind.name();
        assert_eq!(r["labels"]["severity"], kind.severity(), "{name}");
        assert_eq!(r["annotations"]["summary"], kind.summary(), "{name}");
        assert_eq!(
            r["annotations"]["runbook_url"],
            kind.runbook_url(),
            "{name}"
        );
        let (enabled, hold) = setting(&d, kind);
        assert!(enabled, "{name} is on by default");
        assert_eq!(r["for"], format_duration(hold), "{name}");
    }
}

#[test]
fn default_thresholds_are_the_rule_files() {
    let rules = rules();
    let d = AlertConditions::default();
    let expr = |name: &str| alert(&rules, name)["expr"].as_str().unwrap().to_string();
    let has = |name: &str, needle: String| {
        let e = expr(name);
        assert!(e.contains(&needle), "{name}: {needle:?} not in\n{e}");
    };
    let sync = d.sync_failing.params;
    has(
        "PingOneProvisioningSyncFailing",
        format!(") > {}", sync.threshold),
    );
    has(
        "PingOneProvisioningSyncFailing",
        format!("[{}]))", format_duration(sync.window)),
    );
    has(
        "PingOneProvisioningSyncFailuresOutstanding",
        format!(
            "{{result=\"failure\"}}) > {}",
            d.failures_outstanding.params
        ),
    );
    has(
        "PingOneProvisioningGroupsFailing",
        format!(") > {}", d.groups_failing.params),
    );
    has(
        "PingOneProvisioningWritebackFailing",
        format!(
            "pingone_provisioning_writeback_failures > {}",
            d.writeback_failing.params
        ),
    );
    has(
        "PingOneExporterDataStale",
        format!("> {}", d.data_stale.params.as_secs()),
    );
    let window = |w: Duration| format!("[{}])", format_duration(w));
    has("PingOneExporterRateLimited", window(d.rate_limited.params));
    has("PingOneExporterAuthFailing", window(d.auth_failing.params));
    // The per-kind sync thresholds are a recording rule, in this order.
    let rec = rules
        .iter()
        .find(|r| r["record"] == "pingone:provisioning_sync_age_threshold_seconds")
        .and_then(|r| r["expr"].as_str())
        .unwrap();
    let t = d.sync_stale.params;
    let lines = [
        format!(
            "source_type=\"LdapGateway\"}} * {})",
            t.ldap_inbound.as_secs()
        ),
        format!(
            "source_type=\"Workday\"}} * {})",
            t.workday_inbound.as_secs()
        ),
        format!("{{direction=\"inbound\"}} * {})", t.other_inbound.as_secs()),
        format!("(pingone_provisioning_rule_info * {})", t.default.as_secs()),
    ];
    let mut at = 0;
    for l in &lines {
        let i = rec[at..]
            .find(l.as_str())
            .unwrap_or_else(|| panic!("{l:?} not in order in\n{rec}"));
        at += i + l.len();
    }
}

#[test]
fn only_the_exporter_down_and_budget_alerts_are_not_built_in() {
    let names: Vec<String> = rules()
        .iter()
        .filter_map(|r| r["alert"].as_str().map(str::to_string))
        .filter(|n| AlertKind::from_name(n).is_none())
        .collect();
    // The daemon cannot see that its own scrape target is down; the budget
    // alerts are the exporter's capacity, which it logs (docs/alerting.md).
    assert_eq!(
        names,
        [
            "PingOneExporterBudgetOverSubscribed",
            "PingOneExporterDataBehindCadence",
            "PingOneExporterDown"
        ]
    );
}
