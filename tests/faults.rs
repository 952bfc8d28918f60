//! Fault injection, in process: the simulator's faults as a client sees them
//! over HTTP, then how the exporter's PingOne client and one poll behave
//! under each fault (retries, Retry-After, token re-fetch, timeouts, size
//! cap, paging loops, tolerance of unknown and missing fields, carry-over
//! of the last good data, the shared request budget).
//!
//! Daemon-level behaviour (metrics, logs, reload, signals, the HTTP server
//! under abuse) is in `tests/resilience.rs`.
#![allow(clippy::unwrap_used, clippy::expect_used)] // test code: a panic is a test failure

mod inproc;

use std::path::Path;
use std::time::{Duration, Instant};

use inproc::*;
use pingone_sync_exporter::simulator::Scenario;
use serde_json::{Value, json};

const ENV_A: &str = "5a11a000-0000-4000-8000-00000000000a";
const ENV_B: &str = "5a11b000-0000-4000-8000-00000000000b";

fn small() -> Scenario {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/scenarios/small.yml");
    Scenario::load(&path).unwrap()
}

// ---------------------------------------------------------------------------
// The simulator's faults, seen with a plain HTTP client.

#[tokio::test]
async fn fault_rules_are_checked_listed_counted_and_cleared() {
    let sim = TestSim::start(small()).await;
    let bad = sim
        .add_faults(&json!({"kind": "status", "status": 200}))
        .await;
    assert_eq!(bad.0, 400, "{}", bad.1);
    let bad = sim.add_faults(&json!({"kind": "explode"})).await;
    assert_eq!(bad.0, 400);
    assert!(bad.1.to_string().contains("explode"), "{}", bad.1);
    let bad = sim
        .add_faults(&json!([{"kind": "slow"}, {"kind": "status", "environment": "nowhere"}]))
        .await;
    assert_eq!(bad.0, 400, "{}", bad.1);
    assert!(bad.1.to_string().contains("nowhere"));
    assert_eq!(sim.faults().await["faults"], json!([]), "nothing added");

    // Scoped by endpoint and environment (by name), limited by count.
    let ok = sim
        .add_faults(&json!({"kind": "status", "endpoint": "stores", "environment": "small-b", "status": 502, "count": 2}))
        .await;
    assert_eq!(ok.0, 200, "{}", ok.1);
    let token = sim.token().await;
    assert_eq!(sim.get(ENV_A, "propagation/stores", &token).await.0, 200);
    assert_eq!(sim.get(ENV_B, "propagation/rules", &token).await.0, 200);
    let (status, body) = sim.get(ENV_B, "propagation/stores", &token).await;
    assert_eq!(status, 502);
    assert_eq!(body["code"], "SERVICE_UNAVAILABLE");
    let listed = sim.faults().await;
    assert_eq!(listed["faults"][0]["hits"], 1);
    assert_eq!(listed["faults"][0]["remaining"], 1);
    assert_eq!(sim.get(ENV_B, "propagation/stores", &token).await.0, 502);
    assert_eq!(sim.get(ENV_B, "propagation/stores", &token).await.0, 200);
    assert_eq!(sim.faults().await["faults"], json!([]), "used up");
    assert_eq!(sim.requests().await["by_status"]["stores"]["502"], 2);

    // Limited by duration; cleared on demand.
    sim.add_faults(&json!({"kind": "status", "status": 500, "duration_ms": 300}))
        .await;
    assert_eq!(sim.get(ENV_A, "propagation/rules", &token).await.0, 500);
    tokio::time::sleep(Duration::from_millis(400)).await;
    assert_eq!(sim.get(ENV_A, "propagation/rules", &token).await.0, 200);
    sim.add_faults(&json!({"kind": "status"})).await;
    assert_eq!(sim.get(ENV_A, "propagation/rules", &token).await.0, 503);
    sim.clear_faults().await;
    assert_eq!(sim.get(ENV_A, "propagation/rules", &token).await.0, 200);
}

#[tokio::test]
async fn rate_limits_tokens_and_scenario_faults() {
    let mut scenario = small();
    scenario.token_prefix = "tok-CANARY-".into();
    scenario.faults = serde_json::from_value(json!([
        {"kind": "retry_after", "endpoint": "rules", "seconds": 7, "count": 1},
        {"kind": "retry_after_date", "endpoint": "rules", "seconds": 30, "count": 1}
    ]))
    .unwrap();
    let sim = TestSim::start(scenario).await;
    let token = sim.token().await;
    assert!(token.starts_with("tok-CANARY-"), "{token}");

    let r = sim.get_raw(ENV_A, "propagation/rules", &token).await;
    assert_eq!(r.status(), 429);
    assert_eq!(r.headers()["retry-after"], "7");
    let body: Value = serde_json::from_slice(&r.bytes().await.unwrap()).unwrap();
    assert_eq!(body["code"], "REQUEST_LIMITED");
    let r = sim.get_raw(ENV_A, "propagation/rules", &token).await;
    assert_eq!(r.status(), 429);
    let date = r.headers()["retry-after"].to_str().unwrap().to_owned();
    let at = httpdate_secs(&date);
    let ahead = at - unix_now();
    assert!((28.0..=30.5).contains(&ahead), "{date} is {ahead}s ahead");

    // A revoked token gets 401 although it has not expired; a new one works.
    sim.add_faults(&json!({"kind": "revoke_tokens", "count": 1}))
        .await;
    let (status, body) = sim.get(ENV_A, "propagation/stores", &token).await;
    assert_eq!(status, 401);
    assert_eq!(body["details"][0]["code"], "INVALID_TOKEN");
    let fresh = sim.token().await;
    assert_eq!(sim.get(ENV_A, "propagation/stores", &fresh).await.0, 200);

    sim.add_faults(&json!({"kind": "token_endpoint_down", "count": 1}))
        .await;
    assert_eq!(sim.token_status().await, 503);
    assert_eq!(sim.token_status().await, 200);
}

#[tokio::test]
async fn broken_and_oversized_bodies() {
    let sim = TestSim::start(small()).await;
    let token = sim.token().await;
    sim.add_faults(&json!([
        {"kind": "reset_mid_body", "endpoint": "stores", "count": 1},
        {"kind": "truncated_json", "endpoint": "rules", "count": 1},
        {"kind": "malformed_json", "endpoint": "plans", "count": 1},
        {"kind": "huge", "endpoint": "revision_latest", "bytes": 50_000_000, "count": 1},
        {"kind": "huge", "endpoint": "revision_latest", "bytes": 3_000_000, "content_length": true, "count": 1},
        {"kind": "slow_body", "endpoint": "synced_groups", "delay_ms": 700, "count": 1}
    ]))
    .await;
    let r = sim.get_raw(ENV_A, "propagation/stores", &token).await;
    assert_eq!(r.status(), 200);
    assert!(r.bytes().await.is_err(), "the body is cut off");

    let r = sim.get_raw(ENV_A, "propagation/rules", &token).await;
    let whole = r.bytes().await.unwrap();
    assert!(serde_json::from_slice::<Value>(&whole).is_err());
    assert!(whole.starts_with(b"{\"_embedded\""));
    let r = sim.get_raw(ENV_A, "propagation/plans", &token).await;
    assert_eq!(r.status(), 200);
    assert!(serde_json::from_slice::<Value>(&r.bytes().await.unwrap()).is_err());

    let path = "propagation/revisions/id%3Alatest";
    let r = sim.get_raw(ENV_A, path, &token).await;
    assert!(r.headers().get("content-length").is_none(), "chunked");
    let mut r = r;
    let mut n = 0usize;
    while let Some(c) = r.chunk().await.unwrap() {
        n += c.len();
    }
    assert_eq!(n, 50_000_000);
    let r = sim.get_raw(ENV_A, path, &token).await;
    assert_eq!(r.headers()["content-length"], "3000000");
    let v: Value = serde_json::from_slice(&r.bytes().await.unwrap()).unwrap();
    assert!(
        v["createdAt"].is_string(),
        "still valid JSON with the answer's own fields"
    );

    let truth = sim.truth().await;
    let rule = truth["environments"][0]["rules"][0]["id"].as_str().unwrap();
    let t0 = Instant::now();
    let (status, body) = sim
        .get(
            ENV_A,
            &format!("propagation/rules/{rule}/syncedGroups"),
            &token,
        )
        .await;
    assert_eq!(status, 200);
    assert!(body["_embedded"]["syncedGroups"].is_array());
    assert!(t0.elapsed() >= Duration::from_millis(650));
}

#[tokio::test]
async fn json_shape_faults() {
    let sim = TestSim::start(small()).await;
    let token = sim.token().await;
    sim.add_faults(&json!([
        {"kind": "unknown_fields", "endpoint": "stores", "count": 1},
        {"kind": "unknown_enums", "endpoint": "stores", "count": 1},
        {"kind": "missing_fields", "endpoint": "rules", "count": 1},
        {"kind": "paging_loop", "endpoint": "synced_groups", "count": 1}
    ]))
    .await;
    let (_, stores) = sim.get(ENV_A, "propagation/stores", &token).await;
    let s0 = &stores["_embedded"]["stores"][2];
    assert_eq!(s0["simFutureFlag"], true);
    assert_eq!(s0["syncStatus"]["syncState"], "RECONCILING");
    assert!(s0["syncStatus"]["simFutureField"].is_object());
    assert!(s0["syncStatus"]["userTotal"].is_u64());
    let (_, rules) = sim.get(ENV_A, "propagation/rules", &token).await;
    assert!(rules["_embedded"]["rules"][0].get("active").is_none());
    assert!(rules["_embedded"]["rules"][0]["name"].is_string());
    let truth = sim.truth().await;
    let rule = truth["environments"][0]["rules"][0]["id"].as_str().unwrap();
    let path = format!("propagation/rules/{rule}/syncedGroups");
    let (_, page) = sim.get(ENV_A, &path, &token).await;
    assert_eq!(page["_links"]["next"], page["_links"]["self"]);
    let (_, page) = sim.get(ENV_A, &path, &token).await;
    assert!(page["_links"].get("next").is_none(), "one-shot");
}

#[test]
fn scenario_faults_and_token_prefix_are_checked_at_load() {
    let base = std::fs::read_to_string(
        Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/scenarios/small.yml"),
    )
    .unwrap();
    let with = |extra: &str| Scenario::from_yaml(&format!("{base}{extra}"));
    assert!(with("faults:\n  - { kind: slow, endpoint: stores, delay_ms: 10 }\n").is_ok());
    let e = with("faults:\n  - { kind: status, status: 99 }\n")
        .unwrap_err()
        .to_string();
    assert!(e.contains("faults[0]"), "{e}");
    let e = with("faults:\n  - { kind: slow, environment: small-z }\n")
        .unwrap_err()
        .to_string();
    assert!(e.contains("small-z"), "{e}");
    let e = with("faults:\n  - { kind: slow, colour: red }\n")
        .unwrap_err()
        .to_string();
    assert!(e.contains("colour"), "{e}");
    let e = with("token_prefix: \"bad prefix\"\n")
        .unwrap_err()
        .to_string();
    assert!(e.contains("token_prefix"), "{e}");
}

// ---------------------------------------------------------------------------
// The exporter's PingOne client under each fault.

use pingone_sync_exporter::pingone::retry::RetryPolicy;
use pingone_sync_exporter::pingone::{ApiError, ClientSettings};
use pingone_sync_exporter::poller::{PollError, poll_once};

/// Global settings: a 60 s poll (30 s retry window), 2 s request timeout.
const RELAXED: &str = "  poll_interval: 60s\n  request_timeout: 2s\n  max_requests_per_second: 100\n  max_concurrent_requests: 4\n";

/// Fast backoff, so tests of retry counts do not wait seconds; the backoff
/// itself is unit-tested in `pingone::retry`.
fn fast(cfg: &pingone_sync_exporter::config::Config) -> ClientSettings {
    ClientSettings {
        request_timeout: cfg.global.request_timeout,
        retry: RetryPolicy {
            max_retries: 3,
            base: Duration::from_millis(20),
            cap: Duration::from_secs(30),
        },
        ..ClientSettings::default()
    }
}

async fn setup(global: &str) -> (TestSim, TestClient) {
    let sim = TestSim::start(small()).await;
    let cfg = sim.config(&[("small-a", ENV_A), ("small-b", ENV_B)], global);
    let client = TestClient::new(&cfg, fast(&cfg));
    (sim, client)
}

fn by_status(req: &Value, endpoint: &str, status: &str) -> u64 {
    req["by_status"][endpoint][status].as_u64().unwrap_or(0)
}

#[tokio::test]
async fn transient_statuses_are_retried_and_others_are_not() {
    let (sim, c) = setup(RELAXED).await;
    let a = c.env(0);
    for status in [408u16, 429, 500, 502, 503, 504] {
        sim.add_faults(
            &json!({"kind": "status", "endpoint": "stores", "status": status, "count": 2}),
        )
        .await;
        let got = a.stores().await;
        assert!(got.is_ok(), "{status}: {got:?}");
        let req = sim.requests().await;
        assert_eq!(
            by_status(&req, "stores", &status.to_string()),
            2,
            "{status}"
        );
    }
    assert_eq!(
        c.value("pingone_exporter_api_retries_total", &["server_error"]),
        8.0
    );
    assert_eq!(
        c.value("pingone_exporter_api_retries_total", &["rate_limited"]),
        2.0
    );
    assert_eq!(
        c.value("pingone_exporter_rate_limited_total", &["small-a"]),
        2.0
    );

    for status in [400u16, 403, 404, 501] {
        sim.add_faults(
            &json!({"kind": "status", "endpoint": "rules", "status": status, "count": 1}),
        )
        .await;
        match a.rules().await {
            Err(ApiError::Status { status: s, .. }) => assert_eq!(s, status),
            other => panic!("{status}: {other:?}"),
        }
        let req = sim.requests().await;
        assert_eq!(
            by_status(&req, "rules", &status.to_string()),
            1,
            "{status}: not retried"
        );
    }
    assert!(a.rules().await.is_ok(), "each fault was used up");

    // A persistent 5xx: one attempt and max_retries (3) retries, then the error.
    sim.add_faults(&json!({"kind": "status", "endpoint": "plans", "status": 503}))
        .await;
    let err = a.plans().await.unwrap_err();
    assert_eq!(err.reason(), "server_error");
    assert_eq!(by_status(&sim.requests().await, "plans", "503"), 4);
}

/// Creating a revision starts a resync of the whole environment: after a 5xx
/// or a timeout it may have happened, so it is never repeated; a 429 says
/// it did not, so that one is retried.
#[tokio::test]
async fn a_revision_is_created_at_most_once() {
    let (sim, c) = setup(RELAXED).await;
    let a = c.env(0);
    sim.add_faults(
        &json!({"kind": "status", "endpoint": "revision_create", "status": 503, "count": 1}),
    )
    .await;
    let err = a.create_revision().await.unwrap_err();
    assert_eq!(err.reason(), "server_error");
    assert_eq!(
        by_status(&sim.requests().await, "revision_create", "503"),
        1,
        "not repeated"
    );

    sim.add_faults(
        &json!({"kind": "status", "endpoint": "revision_create", "status": 429, "count": 1}),
    )
    .await;
    a.create_revision().await.unwrap();
    let req = sim.requests().await;
    assert_eq!(by_status(&req, "revision_create", "429"), 1);
    assert_eq!(
        by_status(&req, "revision_create", "201"),
        1,
        "retried after the 429"
    );
}

#[tokio::test]
async fn retry_after_is_honoured_in_seconds_and_as_a_date_and_capped() {
    let (sim, c) = setup(RELAXED).await;
    let a = c.env(0);
    sim.add_faults(&json!({"kind": "retry_after", "endpoint": "stores", "seconds": 2, "count": 1}))
        .await;
    let t0 = Instant::now();
    a.stores().await.unwrap();
    let waited = t0.elapsed();
    assert!(waited >= Duration::from_secs(2), "waited {waited:?}");
    // Far below the 30 s cap it would otherwise wait: a bound with room for
    // a loaded machine, not a timing assertion.
    assert!(waited < Duration::from_secs(20), "waited {waited:?}");

    sim.add_faults(
        &json!({"kind": "retry_after_date", "endpoint": "rules", "seconds": 3, "count": 1}),
    )
    .await;
    let t0 = Instant::now();
    a.rules().await.unwrap();
    let waited = t0.elapsed();
    // An HTTP date has whole seconds: the wait is between 2 and 3 s.
    assert!(waited >= Duration::from_millis(1900), "waited {waited:?}");
    assert!(waited < Duration::from_secs(20), "waited {waited:?}");
    assert_eq!(
        c.value("pingone_exporter_rate_limited_total", &["small-a"]),
        2.0
    );
    assert_eq!(
        c.value("pingone_exporter_api_retries_total", &["rate_limited"]),
        2.0
    );

    // Longer than the cap (30 s): not shortened, not retried; the next poll asks again.
    sim.add_faults(
        &json!({"kind": "retry_after", "endpoint": "plans", "seconds": 120, "count": 1}),
    )
    .await;
    let t0 = Instant::now();
    let err = a.plans().await.unwrap_err();
    assert_eq!(err.reason(), "rate_limited");
    // Waiting would take the 30 s cap at least.
    assert!(t0.elapsed() < Duration::from_secs(20), "{:?}", t0.elapsed());
    assert_eq!(by_status(&sim.requests().await, "plans", "429"), 1);
}

#[tokio::test]
async fn retries_stop_at_the_retry_window() {
    // A 10 s poll interval: all retries of a call end within 5 s.
    let global = "  poll_interval: 10s\n  request_timeout: 2s\n  max_requests_per_second: 100\n  max_concurrent_requests: 4\n";
    let (sim, c) = setup(global).await;
    sim.add_faults(&json!({"kind": "retry_after", "endpoint": "stores", "seconds": 3}))
        .await;
    let t0 = Instant::now();
    let err = c.env(0).stores().await.unwrap_err();
    let took = t0.elapsed();
    assert_eq!(err.reason(), "rate_limited");
    // Waits 3 s once (3 <= 5), not a second time (6 > 5): a second wait
    // would have been followed by a third request.
    assert_eq!(by_status(&sim.requests().await, "stores", "429"), 2);
    assert!(took >= Duration::from_secs(3), "{took:?}");
}

#[tokio::test]
async fn timeouts_resets_and_stalls_are_retried() {
    let global = "  poll_interval: 60s\n  request_timeout: 1s\n  max_requests_per_second: 100\n  max_concurrent_requests: 4\n";
    let (sim, c) = setup(global).await;
    let a = c.env(0);
    sim.add_faults(&json!([
        {"kind": "slow", "endpoint": "stores", "delay_ms": 1500, "count": 1},
        {"kind": "reset_mid_body", "endpoint": "rules", "count": 1},
        {"kind": "slow_body", "endpoint": "plans", "delay_ms": 1500, "count": 1}
    ]))
    .await;
    let (stores, rules, plans) = tokio::join!(a.stores(), a.rules(), a.plans());
    assert!(
        stores.is_ok() && rules.is_ok() && plans.is_ok(),
        "{stores:?} {rules:?} {plans:?}"
    );
    let req = |e, code| {
        c.value(
            "pingone_exporter_api_requests_total",
            &[&format!("endpoint=\"{e}\""), &format!("code=\"{code}\"")],
        )
    };
    assert_eq!(req("stores", "timeout"), 1.0);
    assert_eq!(
        req("plans", "timeout"),
        1.0,
        "the timeout covers the body too"
    );
    assert_eq!(req("rules", "connection"), 1.0);
    assert_eq!(
        c.value("pingone_exporter_api_retries_total", &["timeout"]),
        2.0
    );
    assert_eq!(
        c.value("pingone_exporter_api_retries_total", &["connection"]),
        1.0
    );
}

#[tokio::test]
async fn broken_json_paging_loops_and_huge_answers_fail_the_call_only() {
    let (sim, c) = setup(RELAXED).await;
    let a = c.env(0);
    sim.add_faults(&json!([
        {"kind": "malformed_json", "endpoint": "stores", "count": 1},
        {"kind": "truncated_json", "endpoint": "rules", "count": 1},
        {"kind": "huge", "endpoint": "plans", "bytes": 400_000_000u64, "count": 1},
        {"kind": "huge", "endpoint": "plans", "bytes": 400_000_000u64, "content_length": true, "count": 1},
        {"kind": "paging_loop", "endpoint": "synced_groups"}
    ]))
    .await;
    assert_eq!(a.stores().await.unwrap_err().reason(), "malformed");
    assert_eq!(a.rules().await.unwrap_err().reason(), "malformed");
    // Stopped at the 16 MiB cap (the error says so), with or without a
    // Content-Length; how long reading takes is not asserted.
    assert!(matches!(a.plans().await, Err(ApiError::TooLarge { .. })));
    assert!(matches!(a.plans().await, Err(ApiError::TooLarge { .. })));
    let truth = sim.truth().await;
    let rule = truth["environments"][0]["rules"][0]["id"].as_str().unwrap();
    assert!(matches!(
        a.synced_groups(rule).await,
        Err(ApiError::PagingLoop { .. })
    ));
    let req = sim.requests().await;
    assert_eq!(
        by_status(&req, "synced_groups", "200"),
        1,
        "the loop is seen before page 2"
    );
    assert_eq!(
        by_status(&req, "stores", "200"),
        1,
        "malformed answers are not retried"
    );
    assert_eq!(
        c.value("pingone_exporter_api_requests_total", &["too_large"]),
        2.0
    );
    // The next calls are fine.
    assert!(a.stores().await.is_ok() && a.rules().await.is_ok() && a.plans().await.is_ok());
}

#[tokio::test]
async fn a_revoked_token_is_fetched_again_once() {
    let (sim, c) = setup(RELAXED).await;
    let a = c.env(0);
    a.stores().await.unwrap();
    sim.add_faults(&json!({"kind": "revoke_tokens", "endpoint": "rules", "count": 1}))
        .await;
    a.rules().await.unwrap();
    assert_eq!(
        c.value("pingone_exporter_token_refreshes_total", &["small-a"]),
        2.0
    );
    assert_eq!(
        c.value("pingone_exporter_api_retries_total", &["unauthorized"]),
        1.0
    );

    // Revoked again at every call: one re-fetch, then the 401 is the answer.
    sim.add_faults(&json!({"kind": "revoke_tokens", "endpoint": "plans"}))
        .await;
    let err = a.plans().await.unwrap_err();
    assert_eq!(err.reason(), "unauthorized");
    assert_eq!(by_status(&sim.requests().await, "plans", "401"), 2);
    assert_eq!(
        c.value("pingone_exporter_token_refreshes_total", &["small-a"]),
        3.0
    );
}

#[tokio::test]
async fn token_endpoint_outages_are_retried_and_shared() {
    let (sim, c) = setup(RELAXED).await;
    let a = c.env(0);
    sim.add_faults(&json!({"kind": "token_endpoint_down", "count": 2}))
        .await;
    a.stores().await.unwrap();
    assert_eq!(by_status(&sim.requests().await, "token", "503"), 2);

    // Down for good: the three concurrent calls of a poll share one token
    // fetch (1 + 3 retries), not one each. A second client, because
    // environments with the same credential share one token and small-a's
    // is cached already.
    let cfg = sim.config(&[("small-b", ENV_B)], RELAXED);
    let other = TestClient::new(&cfg, fast(&cfg));
    let b = other.env(0);
    sim.add_faults(&json!({"kind": "token_endpoint_down"}))
        .await;
    let (s, r, v) = tokio::join!(b.stores(), b.rules(), b.latest_revision());
    for e in [s.unwrap_err(), r.unwrap_err(), v.unwrap_err()] {
        assert_eq!(e.endpoint().as_str(), "token");
        assert_eq!(e.reason(), "server_error");
    }
    assert_eq!(by_status(&sim.requests().await, "token", "503"), 2 + 4);
    // small-a's cached token is unaffected.
    assert!(a.rules().await.is_ok());
}

// ---------------------------------------------------------------------------
// One poll under faults.

fn rule_groups(
    s: &pingone_sync_exporter::snapshot::EnvSnapshot,
) -> Vec<(String, Option<u64>, Option<u64>)> {
    s.rules
        .iter()
        .map(|r| (r.id.clone(), r.groups_impacted, r.groups.failed))
        .collect()
}

#[tokio::test]
async fn a_failed_poll_keeps_the_last_good_values_of_what_failed() {
    let (sim, c) = setup(RELAXED).await;
    let (env, a) = (&c.envs[0].0, c.env(0));
    let first = poll_once(a, env, None).await;
    assert!(first.error.is_none(), "{:?}", first.error);
    let good = first.snapshot.unwrap();
    assert!(good.rules.iter().any(|r| r.groups_impacted.is_some()));
    assert_eq!(
        c.value("pingone_exporter_unknown_fields_total", &[]),
        0.0,
        "the simulator sends documented fields only"
    );

    // syncedGroups and the revision fail: users move on, groups and the
    // revision time keep their last good values, and the poll is a failure.
    sim.advance(20).await;
    sim.add_faults(&json!([
        {"kind": "status", "endpoint": "synced_groups", "status": 500},
        {"kind": "status", "endpoint": "revision_latest", "status": 404}
    ]))
    .await;
    let partial = poll_once(a, env, Some(&good)).await;
    assert_eq!(
        partial.error.as_ref().map(PollError::reason),
        Some(
            match partial.error.as_ref().map(|e| e.endpoint().as_str()) {
                Some("revision_latest") => "not_found",
                _ => "server_error",
            }
        )
    );
    let snap = partial.snapshot.unwrap();
    assert_eq!(rule_groups(&snap), rule_groups(&good));
    assert_eq!(snap.revision_created, good.revision_created);
    let truth = sim.truth().await;
    let scim = truth["environments"][0]["rules"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["name"] == "SCIM outbound")
        .unwrap();
    let conn = scim["connection_store_id"].as_str().unwrap();
    let store = truth["environments"][0]["stores"]
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["id"] == conn)
        .unwrap();
    let served = snap
        .rules
        .iter()
        .find(|r| r.name == "SCIM outbound")
        .unwrap();
    assert_eq!(
        served.events.success,
        store["sync_status"]["successCount"].as_u64()
    );
    assert_ne!(
        served.events.success,
        good.rules
            .iter()
            .find(|r| r.name == "SCIM outbound")
            .unwrap()
            .events
            .success,
        "20 ticks changed the counts, and the new ones are served"
    );

    // The core reads fail: no new snapshot at all, the old one stays.
    sim.clear_faults().await;
    sim.add_faults(&json!({"kind": "status", "endpoint": "rules", "status": 503}))
        .await;
    let failed = poll_once(a, env, Some(&snap)).await;
    assert!(failed.snapshot.is_none());
    assert_eq!(failed.error.unwrap().reason(), "server_error");
}

#[tokio::test]
async fn unknown_enum_values_and_fields_and_missing_fields_are_tolerated() {
    let (sim, c) = setup(RELAXED).await;
    let (env, a) = (&c.envs[0].0, c.env(0));
    sim.add_faults(&json!([{"kind": "unknown_fields"}, {"kind": "unknown_enums"}]))
        .await;
    let o = poll_once(a, env, None).await;
    assert!(o.error.is_none(), "{:?}", o.error);
    let snap = o.snapshot.unwrap();
    assert_eq!(snap.rules.len(), 4);
    let fields: Vec<&str> = o.unknown.iter().map(|u| u.field).collect();
    assert!(fields.contains(&"syncStatus.syncState"), "{:?}", o.unknown);
    assert!(fields.contains(&"syncedGroups.status"), "{:?}", o.unknown);
    assert!(
        o.unknown
            .iter()
            .all(|u| u.value == "RECONCILING" || u.value == "QUEUED")
    );
    let scim = snap
        .rules
        .iter()
        .find(|r| r.name == "SCIM outbound")
        .unwrap();
    assert!(scim.users_impacted.is_some(), "values still read");
    for field in [
        "stores.simFutureField",
        "stores.syncStatus.simFutureFlag",
        "rules.simFutureField",
        "syncedGroups.simFutureFlag",
        "revision.simFutureField",
    ] {
        let n = c.value(
            "pingone_exporter_unknown_fields_total",
            &[&format!("field=\"{field}\"")],
        );
        assert!(n >= 1.0, "{field} not counted:\n{}", c.metrics_text());
    }
    assert_eq!(
        (scim.groups.success, scim.groups.failed),
        (None, None),
        "QUEUED is in no state: absent, never a made-up 0"
    );

    sim.clear_faults().await;
    sim.add_faults(&json!({"kind": "missing_fields"})).await;
    let o = poll_once(a, env, None).await;
    assert!(o.error.is_none(), "{:?}", o.error);
    let snap = o.snapshot.unwrap();
    for r in &snap.rules {
        assert_eq!(r.users_impacted, None, "absent, never a made-up 0");
        assert_eq!(r.last_sync, None);
        assert_eq!(r.enabled, None);
    }
    let read = snap.rules.iter().filter(|r| r.events.success.is_some());
    // SCIM outbound and Workday inbound; the write-back rule shares the
    // Workday store, whose numbers its parent carries (shared-store owner).
    assert_eq!(read.count(), 2, "the fields that are there are still read");
    assert_eq!(snap.revision_created, None);
}

#[tokio::test]
async fn one_slow_environment_does_not_delay_another() {
    // Two slots shared by both environments; small-a never answers in time.
    // Were small-b queued behind it, it would wait out a 40 s request
    // timeout: the bound below leaves a loaded machine plenty of room.
    let global = "  poll_interval: 60s\n  request_timeout: 40s\n  max_requests_per_second: 100\n  max_concurrent_requests: 2\n";
    let (sim, c) = setup(global).await;
    let (env_a, a) = (&c.envs[0].0, c.env(0));
    let (env_b, b) = (&c.envs[1].0, c.env(1));
    // Tokens first, so the test measures API calls only.
    a.plans().await.unwrap();
    b.plans().await.unwrap();
    sim.add_faults(&json!({"kind": "slow", "environment": "small-a", "delay_ms": 120000}))
        .await;
    let slow = tokio::spawn({
        let (a, env_a) = (Arc::clone(a), env_a.clone());
        async move { poll_once(&a, &env_a, None).await }
    });
    tokio::time::sleep(Duration::from_millis(200)).await;
    let t0 = Instant::now();
    let o = poll_once(b, env_b, None).await;
    let took = t0.elapsed();
    assert!(o.error.is_none(), "{:?}", o.error);
    assert!(
        took < Duration::from_secs(30),
        "small-b's poll took {took:?}"
    );
    assert!(!slow.is_finished(), "small-a is still waiting");
    slow.abort();
}

#[tokio::test]
async fn retries_stay_inside_the_shared_request_budget() {
    let global = "  poll_interval: 60s\n  request_timeout: 2s\n  max_requests_per_second: 5\n  max_concurrent_requests: 4\n";
    let (sim, c) = setup(global).await;
    // Tokens first (they draw from the budget too).
    let (a, b) = (c.env(0), c.env(1));
    a.plans().await.unwrap();
    b.plans().await.unwrap();
    sim.add_faults(&json!({"kind": "status", "status": 503, "endpoint": "stores"}))
        .await;
    let before = by_status(&sim.requests().await, "stores", "503");
    let t0 = Instant::now();
    let calls: Vec<_> = (0..3)
        .flat_map(|_| [Arc::clone(a), Arc::clone(b)])
        .map(|e| tokio::spawn(async move { e.stores().await }))
        .collect();
    for call in calls {
        assert!(call.await.unwrap().is_err());
    }
    let elapsed = t0.elapsed().as_secs_f64();
    let sent = by_status(&sim.requests().await, "stores", "503") - before;
    assert_eq!(sent, 6 * 4, "every call made its retries");
    // 24 requests at 5 per second, evenly spaced: about 4.6 s, never less.
    let allowed = 5.0 * elapsed + 1.0;
    assert!((sent as f64) <= allowed, "{sent} requests in {elapsed:.2}s");
    assert!(elapsed >= 4.4, "{sent} requests in {elapsed:.2}s");
}

use std::sync::Arc;
