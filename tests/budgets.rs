//! Named request budgets (`budgets:`, an environment's `budget:`), with
//! the real binary and the simulator: an environment on a fast budget is
//! not held up by environments on a slow one, and a reload that raises a
//! budget's rate speeds up its environments' running polls without
//! restarting them. Event order and request counts only, no timings.

#![allow(clippy::unwrap_used, clippy::expect_used)] // test code: a panic is a test failure

mod common;

use std::time::Duration;

use common::{Dir, Exporter, Metrics, Sim, wait_for};

/// Three environments of 10 rules each (9 enabled, one group each): one
/// poll costs 3 + 9 = 12 requests besides the token.
const SCENARIO: &str = "seed: 7\nclock: manual\nwarmup_ticks: 2\ngenerate:\n  environments: 3\n  rules_per_environment: 10\n  users_per_environment: 10\n  groups_per_rule: 1\n";

/// Requests of one poll of one environment of [`SCENARIO`], token aside.
const POLL_COST: f64 = 12.0;

/// `slow` and `steady` at 0.5 requests per second (a poll takes over 20 s),
/// `fast` at `fast_rate`; environment `a` on `slow`, `b` on `fast`, `c` on
/// `steady`. `slow_rate` is `slow`'s rate.
fn config(dir: &Dir, sim: &Sim, ids: &[String], slow_rate: &str) -> String {
    let secret = dir.write("secret", "demo-secret\n");
    let mut c = format!(
        "global:\n  poll_interval: 10s\n  request_timeout: 5s\nbudgets:\n  slow:\n    max_requests_per_second: {slow_rate}\n    max_concurrent_requests: 2\n  fast:\n    max_requests_per_second: 200\n  steady:\n    max_requests_per_second: 0.5\n    max_concurrent_requests: 2\nenvironments:\n"
    );
    for ((name, budget), id) in [("a", "slow"), ("b", "fast"), ("c", "steady")]
        .iter()
        .zip(ids)
    {
        c.push_str(&format!(
            "  - name: {name}\n    id: {id}\n    budget: {budget}\n    api_url: {base}/v1\n    auth_url: {base}\n    credentials:\n      client_id: demo-client\n      client_secret_file: {secret}\n      worker_environment_id: {worker}\n",
            base = sim.base,
            secret = secret.display(),
            worker = ids[0],
        ));
    }
    dir.write("config.yml", &c).display().to_string()
}

/// The API requests the exporter made for environment `env`, token aside.
fn requests(m: &Metrics, env: &str) -> f64 {
    m.samples
        .iter()
        .filter(|(n, l, _)| {
            n == "pingone_exporter_api_requests_total"
                && l.get("environment_name").map(String::as_str) == Some(env)
                && l.get("endpoint").map(String::as_str) != Some("token")
        })
        .map(|(_, _, v)| v)
        .sum()
}

/// True once environment `env` finished a fully successful poll.
fn polled(m: &Metrics, env: &str) -> bool {
    m.one(
        "pingone_exporter_last_success_timestamp_seconds",
        &[("environment_name", env)],
    )
    .is_some()
}

#[test]
fn a_fast_budget_is_not_slowed_by_a_slow_one_and_a_reload_changes_a_rate_in_place() {
    let dir = Dir::new();
    let sim = Sim::start(&dir.write("tenant.yml", SCENARIO));
    let ids = sim.env_ids();
    assert_eq!(ids.len(), 3);
    let cfg = config(&dir, &sim, &ids, "0.5");
    let exp = Exporter::start(&["--config.file", &cfg]);

    // b's whole poll goes through while a and c, on their 0.5/s budgets,
    // are still in their first one.
    let m = wait_for("b's first poll", Duration::from_secs(60), || {
        let m = exp.metrics();
        polled(&m, "b").then_some(m)
    });
    assert!(requests(&m, "b") >= POLL_COST, "{}", m.text);
    for slow in ["a", "c"] {
        assert!(!polled(&m, slow), "{slow} finished before b:\n{}", m.text);
        assert!(requests(&m, slow) < POLL_COST, "{}", m.text);
    }

    // Once a's poll is under way (so that a restart would show as requests
    // made twice), raise slow's rate: a's running poll speeds up and
    // overtakes c, which started with the same work at the same rate.
    wait_for("a's poll under way", Duration::from_secs(60), || {
        (requests(&exp.metrics(), "a") >= 2.0).then_some(())
    });
    config(&dir, &sim, &ids, "200");
    exp.proc.signal("HUP");
    wait_for("the reload", Duration::from_secs(60), || {
        exp.proc
            .output()
            .contains("configuration reloaded")
            .then_some(())
    });
    let m = wait_for("a's first poll", Duration::from_secs(60), || {
        let m = exp.metrics();
        polled(&m, "a").then_some(m)
    });
    assert!(!polled(&m, "c"), "c finished before a:\n{}", m.text);
    assert!(requests(&m, "c") < POLL_COST, "{}", m.text);
    assert_eq!(
        requests(&m, "a"),
        POLL_COST,
        "one poll's requests: the reload did not restart a's poll\n{}",
        m.text
    );
}
