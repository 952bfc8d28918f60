//! The read cadences, end to end (the real binary against the simulator):
//! the stores, the failure signal, are read at every poll, while the rules
//! and the rules' `syncedGroups` are read on their own, slower cadences
//! (docs/configuration.md, "Cadences"). Counts and poll order only, no
//! timing bound; the time to show a failure is in the benchmark
//! (scripts/bench.sh --freshness).

#![allow(clippy::unwrap_used, clippy::expect_used)] // test code: a panic is a test failure

mod common;

use std::time::Duration;

use common::*;
use serde_json::Value;

fn requests(sim: &Sim) -> Value {
    serde_json::from_slice(&get(&format!("{}/_sim/requests", sim.base)).body).unwrap()
}

fn count(v: &Value, endpoint: &str) -> u64 {
    v[endpoint].as_u64().unwrap_or(0)
}

fn polls(m: &Metrics) -> f64 {
    m.one(
        "pingone_exporter_poll_duration_seconds_count",
        &[("environment_id", SMALL_A)],
    )
    .unwrap()
}

#[test]
fn a_failed_store_shows_at_the_next_poll_while_rules_and_groups_wait_their_cadence() {
    let sim = Sim::start(&small_scenario());
    let dir = Dir::new();
    let secret = dir.write("secret", "demo-secret\n");
    // A tiny budget, and rules and groups read once an hour.
    let config = with_hourly_cadences(&config_for(
        &sim.base,
        &[("small-a", SMALL_A), ("small-b", SMALL_B)],
        "demo-client",
        &secret,
        "",
    ))
    .replace("max_requests_per_second: 50", "max_requests_per_second: 2");
    let cfg = dir.write("config.yml", &config);
    let exp = Exporter::start(&["--config.file", cfg.to_str().unwrap()]);
    // The first poll reads everything before the exporter is ready.
    exp.wait_ready(Duration::from_secs(60));
    let first = requests(&sim);
    assert!(count(&first, "synced_groups") >= 3, "{first}");
    assert_eq!(count(&first, "rules"), 2, "{first}");

    let truth = sim.truth();
    let env = env_truth(&truth, SMALL_A);
    let scim = env["rules"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["name"] == "SCIM outbound")
        .unwrap();
    let (rule, store) = (
        scim["id"].as_str().unwrap(),
        scim["connection_store_id"].as_str().unwrap(),
    );
    let status = |m: &Metrics, s: &str| {
        m.one(
            "pingone_provisioning_rule_status",
            &[("rule_id", rule), ("status", s)],
        )
    };
    let before = exp.metrics();
    assert_eq!(
        status(&before, "failed"),
        Some(0.0),
        "SCIM app works at first"
    );
    let polled = polls(&before);

    let r = post(&format!(
        "{}/_sim/stores/{store}/status?value=FAILED",
        sim.base
    ));
    assert_eq!(r.status, 200, "{}", r.text());
    // The first poll that started after the flip (one in flight may have
    // read the stores before it) shows it.
    let after = wait_for("the next poll", Duration::from_secs(60), || {
        let m = exp.metrics();
        (polls(&m) > polled + 1.0).then_some(m)
    });
    assert_eq!(
        status(&after, "failed"),
        Some(1.0),
        "the FAILED store shows at the next poll"
    );
    // Nothing but stores was read since the first poll, an hour away from
    // the rules and groups being due again.
    let now = requests(&sim);
    assert!(
        count(&now, "stores") >= count(&first, "stores") + 2,
        "two more polls of small-a read the stores: {first} {now}"
    );
    for slow in ["rules", "revision_latest", "synced_groups"] {
        assert_eq!(
            count(&now, slow),
            count(&first, slow),
            "{slow} waits for its cadence: {first} {now}"
        );
    }
    // The groups read by the first poll are still served.
    assert!(
        !after
            .find("pingone_provisioning_groups", &[("rule_id", rule)])
            .is_empty(),
        "the last good groups stay"
    );
}
