//! User-detail mode against the simulator, in-process: the walk's counts
//! equal the simulator's ground truth (users without a record included),
//! it costs exactly the documented number of requests, and a slow walk
//! never delays the main poll.
#![allow(clippy::unwrap_used, clippy::expect_used)] // test code: a panic is a test failure

use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use pingone_sync_exporter::config::{
    BudgetSettings, Config, Credentials, Environment, Global, Region, RuleFilter, SecretSource,
    UserDetailSettings,
};
use pingone_sync_exporter::pingone::budget::Budget;
use pingone_sync_exporter::pingone::budgets::Allotment;
use pingone_sync_exporter::pingone::{Client, ClientSettings, EnvClient};
use pingone_sync_exporter::poller::Supervisor;
use pingone_sync_exporter::secret::Secret;
use pingone_sync_exporter::selfmetrics::SelfMetrics;
use pingone_sync_exporter::shutdown::Shutdown;
use pingone_sync_exporter::simulator::{
    self, DEMO_CLIENT_ID, DEMO_CLIENT_SECRET, Running, Scenario,
};
use pingone_sync_exporter::state::Shared;
use pingone_sync_exporter::timefmt::parse_rfc3339;
use pingone_sync_exporter::user_detail::{USERS_PAGE, walk};
use serde_json::Value;

const ENV_A: &str = "5a11a000-0000-4000-8000-00000000000a";

async fn start_sim() -> (Running, Shutdown) {
    pingone_sync_exporter::outbound::install_crypto_provider();
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/scenarios/small.yml");
    let shutdown = Shutdown::new();
    let running = simulator::start(
        Scenario::load(&path).unwrap(),
        "127.0.0.1:0".parse().unwrap(),
        shutdown.clone(),
    )
    .await
    .unwrap();
    (running, shutdown)
}

/// A config of the one environment polled every `poll_ms` milliseconds,
/// with a budget that never holds a poll up.
fn polling_every(sim: &Running, poll_ms: u64, user_detail: Option<UserDetailSettings>) -> Config {
    let global = Global {
        poll_interval: Duration::from_millis(poll_ms),
        request_timeout: Duration::from_millis(900),
        rules_interval: Duration::from_millis(poll_ms),
        groups_interval: Duration::from_millis(poll_ms),
        max_requests_per_second: 100.0,
        max_concurrent_requests: 4,
    };
    Config {
        budgets: vec![BudgetSettings::default_for(&global)],
        global,
        environments: vec![Environment {
            poll_interval: Duration::from_millis(poll_ms),
            rules_interval: Duration::from_millis(poll_ms),
            groups_interval: Duration::from_millis(poll_ms),
            ..environment(sim, user_detail)
        }],
        alerting: None,
        warnings: Vec::new(),
    }
}

fn environment(sim: &Running, user_detail: Option<UserDetailSettings>) -> Environment {
    Environment {
        name: "small-a".into(),
        id: ENV_A.into(),
        region: Region::Com,
        api_url: sim.api_url(),
        auth_url: sim.auth_url(),
        credentials: Credentials {
            client_id: DEMO_CLIENT_ID.into(),
            client_secret: Secret::new(DEMO_CLIENT_SECRET),
            secret_source: SecretSource::Inline,
            worker_environment_id: ENV_A.into(),
        },
        rules: RuleFilter::default(),
        poll_interval: Duration::from_secs(1),
        rules_interval: Duration::from_secs(1),
        groups_interval: Duration::from_secs(1),
        user_detail,
        console_url: None,
        budget: BudgetSettings::DEFAULT.into(),
    }
}

async fn sim_json(sim: &Running, method: reqwest::Method, path: &str) -> Value {
    let url = format!("{}/_sim/{path}", sim.base_url());
    let r = reqwest::Client::new()
        .request(method, url)
        .send()
        .await
        .unwrap();
    serde_json::from_slice(&r.bytes().await.unwrap()).unwrap()
}

#[tokio::test]
async fn walk_counts_equal_the_ground_truth_at_the_documented_cost() {
    let (sim, shutdown) = start_sim().await;
    let client = Client::new(SelfMetrics::new("0", "test"), ClientSettings::default()).unwrap();
    let env = environment(&sim, None);
    let allotment = Allotment::new(Budget::new(200.0, 4), 4);
    let env_client = Arc::new(EnvClient::new(client, &env, allotment).unwrap());
    sim_json(&sim, reqwest::Method::POST, "requests/reset").await;

    let walked = walk(&env_client, &env.rules, 4).await.unwrap();

    let truth = sim_json(&sim, reqwest::Method::GET, "truth").await;
    let env_t = common::env_truth(&truth, ENV_A);
    let users = env_t["users"].as_u64().unwrap();
    assert_eq!(walked.counts.users, users);
    let rules = env_t["rules"].as_array().unwrap();
    let enabled: Vec<&Value> = rules.iter().filter(|r| r["active"] == true).collect();
    assert_eq!(enabled.len(), 3, "SCIM, Workday inbound and write-back");
    assert_eq!(
        walked.counts.rules.len(),
        enabled.len(),
        "disabled rules are not walked"
    );
    let mut out_of_scope = 0;
    for rule in &enabled {
        let id = rule["id"].as_str().unwrap();
        let got = &walked.counts.rules[id];
        let want = &rule["users"];
        let n = |k: &str| want[k].as_u64().unwrap();
        assert_eq!(
            (got.impacted, got.success, got.failed, got.other),
            (
                n("impacted"),
                n("success"),
                n("failed"),
                n("unsynced") + n("partial")
            ),
            "{}",
            rule["name"]
        );
        // Users without a syncedRules record (404) are not in the rule's scope.
        assert_eq!(got.without_record, users - n("impacted"));
        out_of_scope += got.without_record;
        if rule["direction"] == "writeback" {
            assert_eq!(got.failed, rule["writeback_failures"].as_u64().unwrap());
            assert_eq!(
                got.last_sync,
                rule["last_writeback_at"].as_str().and_then(parse_rfc3339)
            );
        }
    }
    assert!(
        out_of_scope > 0,
        "the scenario has users outside some rule's scope"
    );

    // 1 rules + ceil(N/100) users pages + N x R records.
    let requests = sim_json(&sim, reqwest::Method::GET, "requests").await;
    let pages = users.div_ceil(u64::from(USERS_PAGE));
    assert_eq!(requests["rules"], 1);
    assert_eq!(requests["users"], pages);
    assert_eq!(requests["user_synced_rule"], users * enabled.len() as u64);
    assert_eq!(
        requests["total"],
        1 + pages + users * enabled.len() as u64 + 1,
        "plus one token: {requests}"
    );
    shutdown.trigger();
    sim.join().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_slow_walk_never_delays_the_main_poll() {
    let (sim, shutdown) = start_sim().await;
    // The walk needs 1 + 1 + 180 requests at 4 per second: about 45 s.
    let slow = UserDetailSettings {
        interval: Duration::from_secs(3600),
        max_requests_per_second: 4.0,
    };
    let global = Global {
        poll_interval: Duration::from_secs(1),
        request_timeout: Duration::from_millis(900),
        rules_interval: Duration::from_secs(1),
        groups_interval: Duration::from_secs(1),
        max_requests_per_second: 100.0,
        max_concurrent_requests: 4,
    };
    let config = Config {
        budgets: vec![BudgetSettings::default_for(&global)],
        global,
        environments: vec![environment(&sim, Some(slow))],
        alerting: None,
        warnings: Vec::new(),
    };
    let shared = Shared::new(SelfMetrics::new("0", "test"));
    let supervisor = Supervisor::start(&config, Arc::clone(&shared)).unwrap();

    let mut finished = Vec::new();
    let deadline = tokio::time::Instant::now() + Duration::from_secs(6);
    while tokio::time::Instant::now() < deadline {
        let envs = shared.envs();
        let report = envs[0].last_poll.as_ref();
        if let Some(r) = report {
            assert_eq!(r.error, None, "polls succeed while the walk runs");
            if finished.last() != Some(&r.finished_at) {
                finished.push(r.finished_at);
            }
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let requests = sim_json(&sim, reqwest::Method::GET, "requests").await;
    let records = requests["user_synced_rule"].as_u64().unwrap();
    assert!(records > 5, "the walk is running: {requests}");
    assert!(records < 180, "the walk has not finished: {requests}");
    assert!(
        finished.len() >= 4,
        "the main poll kept its 1 s cadence during the walk: {} polls in 6 s",
        finished.len()
    );
    let snap = shared.envs()[0].snapshot.clone().unwrap();
    assert_eq!(snap.user_detail_finished, None, "no walk finished yet");
    supervisor.stop().await;
    shutdown.trigger();
    sim.join().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_reloaded_environment_keeps_its_last_walk_until_the_next_one() {
    let (sim, shutdown) = start_sim().await;
    // About 2 s per walk at 100 requests per second.
    let fast = UserDetailSettings {
        interval: Duration::from_secs(3600),
        max_requests_per_second: 100.0,
    };
    let config = |poll_ms: u64| polling_every(&sim, poll_ms, Some(fast.clone()));
    let shared = Shared::new(SelfMetrics::new("0", "test"));
    let mut supervisor = Supervisor::start(&config(1000), Arc::clone(&shared)).unwrap();
    let walked = |shared: &Shared| {
        shared.envs()[0]
            .snapshot
            .as_ref()
            .and_then(|s| s.user_detail_finished)
    };
    let deadline = tokio::time::Instant::now() + Duration::from_secs(30);
    while walked(&shared).is_none() {
        assert!(
            tokio::time::Instant::now() < deadline,
            "no walk within 30 s"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    // A changed poll interval restarts the environment's tasks.
    supervisor.apply(&config(1100)).unwrap();
    let polls_before = shared.envs()[0].last_poll.clone().unwrap().finished_at;
    let until = tokio::time::Instant::now() + Duration::from_millis(1500);
    let mut polls_after = 0;
    while tokio::time::Instant::now() < until {
        let env = shared.envs()[0].clone();
        if env.last_poll.as_ref().unwrap().finished_at > polls_before {
            polls_after += 1;
            assert!(
                walked(&shared).is_some(),
                "the restarted poll dropped the walk"
            );
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    assert!(polls_after > 0, "no poll after the reload");
    supervisor.stop().await;
    shutdown.trigger();
    sim.join().await;
}

/// The exporter-observed failing spell (docs/metrics.md, "Since when")
/// survives a reload that restarts the environment's poll task: the rule's
/// `failing_since` stays and `failing_polls` keeps counting. A fresh tracker
/// would need two polls to see growth again and would restart the spell.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_reload_keeps_the_failing_spell_of_a_rule_still_exported() {
    let (sim, shutdown) = start_sim().await;
    let config = |poll_ms: u64| polling_every(&sim, poll_ms, None);
    let shared = Shared::new(SelfMetrics::new("0", "test"));
    let mut supervisor = Supervisor::start(&config(300), Arc::clone(&shared)).unwrap();
    let http = reqwest::Client::new();
    let advance = format!("{}/_sim/advance?ticks=5", sim.base_url());
    let failing = |shared: &Shared| {
        shared.envs()[0].snapshot.as_ref().and_then(|s| {
            s.rules
                .iter()
                .find_map(|r| Some((r.id.clone(), r.failing_since?, r.failing_polls?)))
        })
    };
    // Failure events grow as the manual clock advances between polls.
    let deadline = tokio::time::Instant::now() + Duration::from_secs(30);
    let (id, since, polls) = loop {
        if let Some(f) = failing(&shared) {
            break f;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "no failing rule within 30 s"
        );
        http.post(&advance).send().await.unwrap();
        tokio::time::sleep(Duration::from_millis(400)).await;
    };
    // A changed poll interval restarts the environment's poll task.
    supervisor.apply(&config(350)).unwrap();
    let rule = |shared: &Shared| {
        shared.envs()[0].snapshot.as_ref().and_then(|s| {
            s.rules
                .iter()
                .find(|r| r.id == id)
                .map(|r| (r.failing_since, r.failing_polls))
        })
    };
    let deadline = tokio::time::Instant::now() + Duration::from_secs(30);
    loop {
        let (s, p) = rule(&shared).unwrap();
        if p.unwrap_or(0) >= polls + 3 {
            assert_eq!(s, Some(since), "the spell started again after the reload");
            break;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "{s:?} {p:?}: the spell did not go on"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    supervisor.stop().await;
    shutdown.trigger();
    sim.join().await;
}

mod common;

/// The real binary in user-detail mode: once a walk finished, the users
/// series of every walked rule carry its exact counts, write-back rules
/// their write-back failures and last write-back; last poll stays absent.
#[test]
fn the_daemon_serves_the_walks_exact_counts() {
    use common::*;
    let sim = Sim::start(&small_scenario());
    let dir = Dir::new();
    let detail = "    user_detail:\n      enabled: true\n      interval: 1m\n      max_requests_per_second: 50\n";
    let cfg = dir.demo_config(&sim.base, &[("small-a", SMALL_A)], detail);
    let exp = Exporter::start(&["--config.file", cfg.to_str().unwrap()]);
    let m = wait_for("walk counts in /metrics", Duration::from_secs(60), || {
        let m = exp.metrics();
        m.one(
            "pingone_exporter_user_detail_last_success_timestamp_seconds",
            &[("environment_id", SMALL_A)],
        )
        .map(|_| m)
    });
    let truth = sim.truth();
    let env = env_truth(&truth, SMALL_A);
    for rule in env["rules"].as_array().unwrap() {
        let id = rule["id"].as_str().unwrap();
        let l = |extra: Option<(&'static str, &'static str)>| {
            let mut v = vec![("rule_id", id)];
            v.extend(extra);
            v
        };
        let n = |k: &str| rule["users"][k].as_f64();
        // Records in UNSYNCED / PARTIALLY_SYNCED have no accepted spelling:
        // impacted, in no state, so a state's 0 next to them is not served.
        let unread = n("unsynced").unwrap() + n("partial").unwrap();
        let served = |k: &str| n(k).filter(|c| *c > 0.0 || unread == 0.0);
        let active = rule["active"] == true;
        let users = |state| m.one("pingone_provisioning_users", &l(Some(("state", state))));
        if active {
            assert_eq!(
                m.one("pingone_provisioning_users_impacted", &l(None)),
                n("impacted")
            );
            for state in ["success", "failed"] {
                assert_eq!(users(state), served(state), "{} {state}", rule["name"]);
            }
            for state in ["unsynced", "partial"] {
                assert_eq!(users(state), None, "{} {state}", rule["name"]);
            }
        } else {
            // Not walked: no user counts at all (the store counts events).
            assert_eq!(users("success"), None);
        }
        let writeback = rule["direction"] == "writeback";
        assert_eq!(
            m.one("pingone_provisioning_writeback_failures", &l(None)),
            if writeback { served("failed") } else { None },
            "{}",
            rule["name"]
        );
        assert_eq!(
            m.one(
                "pingone_provisioning_last_writeback_timestamp_seconds",
                &l(None)
            ),
            if writeback {
                rule["last_writeback_at"].as_str().and_then(parse_rfc3339)
            } else {
                None
            }
        );
        assert_eq!(
            m.one("pingone_provisioning_last_poll_timestamp_seconds", &l(None)),
            None
        );
    }
    // The records in no state are counted as unknown values.
    let unsynced: f64 = env["rules"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|r| r["active"] == true)
        .map(|r| r["users"]["unsynced"].as_f64().unwrap())
        .sum();
    assert!(unsynced > 0.0, "the scenario has UNSYNCED records");
    assert!(
        m.one(
            "pingone_exporter_unknown_values_total",
            &[("field", "syncedRules.status"), ("value", "UNSYNCED")]
        )
        .unwrap()
            >= unsynced
    );
    // The status page of each walked rule lists its failing users (ids,
    // the smallest 20, then how many more), never as metric labels.
    let mut listed_any = false;
    for rule in env["rules"].as_array().unwrap() {
        if rule["active"] != true {
            continue;
        }
        let failed = rule["users"]["failed"].as_u64().unwrap();
        let page = get(&exp.url(&format!(
            "/rules/{SMALL_A}/{}",
            rule["id"].as_str().unwrap()
        )))
        .text();
        let rows = page.matches("<tr><td><code>").count() as u64;
        assert_eq!(rows, failed.min(20), "{}", rule["name"]);
        if failed > 20 {
            assert!(page.contains(&format!("and {} more", failed - 20)));
        }
        if failed == 0 {
            assert!(page.contains("found no failing user"), "{}", rule["name"]);
        }
        listed_any |= rows > 0;
    }
    assert!(listed_any, "the small scenario has failing users");
    let text = m.samples.iter().map(|(n, l, _)| format!("{n}{l:?}"));
    assert!(
        !text.into_iter().any(|t| t.contains("user_id")),
        "user ids never become labels"
    );
    // Walk requests are counted like every other API call.
    assert_eq!(
        m.one(
            "pingone_exporter_api_requests_total",
            &[("endpoint", "user_synced_rule"), ("code", "200")]
        ),
        Some(
            env["rules"]
                .as_array()
                .unwrap()
                .iter()
                .filter(|r| r["active"] == true)
                .map(|r| r["users"]["impacted"].as_f64().unwrap())
                .sum()
        )
    );
}

/// `--demo` runs user-detail mode, so the demo (and the dashboards and
/// alerts checked against it) has every series: users per state and
/// write-back failures included; never unsynced or partial users (no
/// accepted spelling).
#[test]
fn the_demo_serves_user_detail_series() {
    use common::*;
    let exp = Exporter::start(&["--demo"]);
    let m = wait_for(
        "a user-detail walk of both demo environments",
        Duration::from_secs(90),
        || {
            let m = exp.metrics();
            (m.find(
                "pingone_exporter_user_detail_last_success_timestamp_seconds",
                &[],
            )
            .len()
                == 2)
                .then_some(m)
        },
    );
    for state in ["success", "failed"] {
        assert!(
            m.find(
                "pingone_provisioning_users",
                &[("state", state), ("direction", "outbound")]
            )
            .len()
                >= 3,
            "{state}"
        );
    }
    for state in ["unsynced", "partial"] {
        assert!(
            m.find("pingone_provisioning_users", &[("state", state)])
                .is_empty(),
            "{state}"
        );
    }
    let wb = m.find(
        "pingone_provisioning_writeback_failures",
        &[("direction", "writeback")],
    );
    assert_eq!(wb.len(), 1, "the Workday write-back rule");
    assert_eq!(
        m.find("pingone_provisioning_last_writeback_timestamp_seconds", &[])
            .len(),
        1
    );
}
