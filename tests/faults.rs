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
