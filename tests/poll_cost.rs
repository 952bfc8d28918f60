//! The API requests one poll cycle costs, counted by the simulator
//! (`/_sim/requests`): exactly the documented minimum per cadence
//! (docs/metrics.md, "API calls per poll"): the first poll reads everything,
//! with one token for environments that share a worker app; a poll between
//! the slower cadences reads the stores only. Counts only; timings belong in
//! the benchmark (scripts/bench.sh).

#![allow(clippy::unwrap_used, clippy::expect_used)] // test code: a panic is a test failure

mod common;

use std::time::Duration;

use common::*;
use serde_json::Value;

/// Per environment, when every cadence is due (the first poll): stores +
/// rules + latest revision, and ⌈groups/1000⌉ (at least one) syncedGroups
/// pages per enabled rule.
fn minimum_without_tokens(truth: &Value) -> u64 {
    let mut n = 0;
    for env in truth["environments"].as_array().unwrap() {
        n += 3;
        for rule in env["rules"].as_array().unwrap() {
            if rule["active"] == true {
                let groups = rule["groups"]["impacted"].as_u64().unwrap();
                n += groups.div_ceil(1000).max(1);
            }
        }
    }
    n
}

#[test]
fn one_cycle_costs_the_documented_minimum_and_one_token() {
    let sim = Sim::start(&small_scenario());
    let dir = Dir::new();
    let cfg = dir.demo_config(&sim.base, &[("small-a", SMALL_A), ("small-b", SMALL_B)], "");
    let exp = Exporter::start(&["--config.file", cfg.to_str().unwrap()]);
    exp.wait_ready(Duration::from_secs(30));
    // The poll interval (10 s) is far off: this is the first cycle only.
    let counts: Value =
        serde_json::from_slice(&get(&format!("{}/_sim/requests", sim.base)).body).unwrap();
    let truth = sim.truth();
    assert_eq!(
        counts["token"], 1,
        "both environments share one worker app: {counts}"
    );
    assert_eq!(
        counts["total"].as_u64().unwrap(),
        minimum_without_tokens(&truth) + 1,
        "{counts}"
    );
    let m = exp.metrics();
    let refreshes: f64 = m
        .find("pingone_exporter_token_refreshes_total", &[])
        .iter()
        .sum();
    assert_eq!(refreshes, 1.0);
}

#[test]
fn a_poll_between_the_slower_cadences_reads_the_stores_only() {
    let sim = Sim::start(&small_scenario());
    let dir = Dir::new();
    let secret = dir.write("secret", "demo-secret\n");
    let config = with_hourly_cadences(&config_for(
        &sim.base,
        &[("small-a", SMALL_A), ("small-b", SMALL_B)],
        "demo-client",
        &secret,
        "",
    ));
    let cfg = dir.write("config.yml", &config);
    let exp = Exporter::start(&["--config.file", cfg.to_str().unwrap()]);
    exp.wait_ready(Duration::from_secs(30));
    let polls = |m: &Metrics| -> f64 {
        [SMALL_A, SMALL_B]
            .iter()
            .map(|id| {
                m.one(
                    "pingone_exporter_poll_duration_seconds_count",
                    &[("environment_id", id)],
                )
                .unwrap()
            })
            .sum()
    };
    let first: Value =
        serde_json::from_slice(&get(&format!("{}/_sim/requests", sim.base)).body).unwrap();
    assert_eq!(
        first["total"].as_u64().unwrap(),
        minimum_without_tokens(&sim.truth()) + 1,
        "{first}"
    );
    // The second poll of both environments (10 s later).
    wait_for("a second poll of each", Duration::from_secs(40), || {
        (polls(&exp.metrics()) >= 4.0).then_some(())
    });
    // Counts between two equal poll counts: no poll finished meanwhile
    // (a poll takes milliseconds, the next is 10 s away).
    let (counts, polled) = wait_for("a quiet moment", Duration::from_secs(30), || {
        let before = polls(&exp.metrics());
        let counts: Value =
            serde_json::from_slice(&get(&format!("{}/_sim/requests", sim.base)).body).unwrap();
        (polls(&exp.metrics()) == before).then_some((counts, before as u64))
    });
    assert_eq!(
        counts["total"].as_u64().unwrap() - first["total"].as_u64().unwrap(),
        polled - 2,
        "one stores read per later poll, nothing else: {first} {counts}"
    );
    assert_eq!(counts["stores"].as_u64().unwrap(), polled, "{counts}");
}
