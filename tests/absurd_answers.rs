//! Answers with absurd numbers (a token that "lives" 2^64−1 seconds, a
//! `Retry-After` beyond any cap) must not panic or stop polling: the
//! exporter clamps them and keeps going.

#![allow(clippy::unwrap_used, clippy::expect_used)] // test code: a panic is a test failure

mod common;

use std::time::Duration;

use common::*;

#[test]
fn an_absurd_token_lifetime_and_retry_after_do_not_stop_polling() {
    let dir = Dir::new();
    let sim = Sim::start(&small_scenario());
    // Every token answer claims to live u64::MAX seconds; before the clamp
    // the first fetch overflowed `Instant + Duration` and no poll of the
    // environment succeeded again.
    sim.faults(r#"{"kind": "token_expires_in", "endpoint": "token"}"#);
    let cfg = dir.demo_config(&sim.base, &[("small-a", SMALL_A)], "");
    let exp = Exporter::start(&["--config.file", cfg.to_str().unwrap()]);
    exp.wait_ready(Duration::from_secs(60));
    let success = |exp: &Exporter| {
        exp.metrics().one(
            "pingone_exporter_last_success_timestamp_seconds",
            &[("environment_id", SMALL_A)],
        )
    };
    let first = success(&exp).expect("a first successful poll");

    // An absurd Retry-After once: that poll fails (the wait is beyond the
    // cap), the one after it succeeds again.
    sim.faults(r#"{"kind": "retry_after", "endpoint": "stores", "seconds": 86400, "count": 1}"#);
    wait_for("a later successful poll", Duration::from_secs(90), || {
        success(&exp).filter(|t| *t > first)
    });
    let m = exp.metrics();
    assert_eq!(
        m.one("pingone_exporter_up", &[("environment_id", SMALL_A)]),
        Some(1.0)
    );
    assert_eq!(
        m.one(
            "pingone_exporter_token_refreshes_total",
            &[("environment_id", SMALL_A)]
        ),
        Some(1.0),
        "one token, kept: the lifetime was clamped, not wrapped to zero"
    );
    let logs = exp.proc.output();
    assert!(!logs.contains("panicked"), "{logs}");
}
