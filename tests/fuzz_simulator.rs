//! Property test of the simulator's inputs: the control API
//! (`/_sim/faults` bodies, control paths), the token endpoint's form body
//! and the API's query strings, each fed `FUZZ_CASES` mutated requests
//! (`fuzz/gen.rs`). The simulator must answer every one with a status
//! below 500 and a non-empty body when it refuses, and never panic.
//! Counts and results: docs/reliability.md.

#![allow(clippy::unwrap_used, clippy::expect_used)] // test code: a panic is a test failure

mod common;
#[path = "fuzz/gen.rs"]
mod fuzz_gen;

use common::*;
use fuzz_gen::run;

/// Percent-encodes what an HTTP request line cannot carry, so the mutated
/// text reaches the simulator's own decoding.
fn url_safe(text: &str) -> String {
    text.bytes()
        .map(|b| {
            // What an HTTP request line may carry unencoded (RFC 3986
            // unreserved and sub-delimiters, `/`, `?`, `:`, `@`); hyper
            // refuses the rest itself, before the simulator sees it.
            if b.is_ascii_alphanumeric() || b"-._~!$&'()*+,;=/?:@".contains(&b) {
                (b as char).to_string()
            } else {
                format!("%{b:02X}")
            }
        })
        .collect()
}

/// The answer must be a refusal or a success, never a server error, and
/// a refusal must say something.
fn assert_answered(what: &str, r: &Resp) {
    assert!(r.status < 500, "{what}: HTTP {} {}", r.status, r.text());
    if r.status >= 400 {
        assert!(
            !r.body.is_empty(),
            "{what}: HTTP {} without a body",
            r.status
        );
    }
}

#[test]
fn the_simulator_answers_every_mutated_request() {
    let sim = Sim::start(&small_scenario());
    let base = sim.base.clone();
    let faults = [
        r#"{"kind": "status", "status": 503, "endpoint": "stores", "count": 2}"#,
        r#"[{"kind": "retry_after", "seconds": 1, "environment": "small-a", "probability": 0.5}]"#,
        r#"{"kind": "huge", "bytes": 1000, "content_length": true, "duration_ms": 100}"#,
    ];
    let values: Vec<serde_json::Value> = faults
        .iter()
        .map(|f| serde_json::from_str(f).unwrap())
        .collect();
    let mut n = run(
        "POST /_sim/faults",
        |g| {
            if g.rng.bool() {
                let i = g.rng.usize(..values.len());
                g.json(&values[i]).to_string()
            } else {
                g.text_from(&faults)
            }
        },
        |body| {
            let r = request(
                "POST",
                &format!("{base}/_sim/faults"),
                &[("Content-Type", "application/json")],
                body.as_bytes(),
            )
            .unwrap();
            assert_answered("faults", &r);
            sim.clear_faults();
        },
    );
    let paths = [
        "truth",
        "requests",
        "requests/reset",
        "faults/clear",
        "rules/b0000000-0000-4000-8000-000000000001/deactivate",
        "rules/x/activate",
    ];
    n += run(
        "control paths",
        |g| (g.rng.bool(), g.text_from(&paths)),
        |(post, path)| {
            let method = if *post { "POST" } else { "GET" };
            let url = format!("{base}/_sim/{}", url_safe(path));
            // `advance` is left out: a mutated tick count may be legal and
            // large, which costs time rather than finding a fault.
            if path.contains("advance") {
                return;
            }
            assert_answered(path, &request(method, &url, &[], b"").unwrap());
        },
    );
    let env = SMALL_A;
    let forms = ["grant_type=client_credentials&client_id=demo-client&client_secret=demo-secret"];
    n += run(
        "token form",
        |g| g.text_from(&forms),
        |form| {
            let r = request(
                "POST",
                &format!("{base}/{env}/as/token"),
                &[("Content-Type", "application/x-www-form-urlencoded")],
                form.as_bytes(),
            )
            .unwrap();
            assert_answered("token", &r);
        },
    );
    let token: serde_json::Value = serde_json::from_slice(
        &request(
            "POST",
            &format!("{base}/{env}/as/token"),
            &[("Content-Type", "application/x-www-form-urlencoded")],
            forms[0].as_bytes(),
        )
        .unwrap()
        .body,
    )
    .unwrap();
    let bearer = format!("Bearer {}", token["access_token"].as_str().unwrap());
    let queries = [
        "users?limit=100",
        "propagation/rules/b0000000-0000-4000-8000-000000000001/syncedGroups?limit=1000&cursor=abc",
        "propagation/stores?limit=2&page=2",
    ];
    n += run(
        "API queries",
        |g| g.text_from(&queries),
        |query| {
            let url = format!("{base}/v1/environments/{env}/{}", url_safe(query));
            let r = request("GET", &url, &[("Authorization", &bearer)], b"").unwrap();
            assert_answered(query, &r);
        },
    );
    assert!(n > 0);
    assert_eq!(get(&format!("{base}/_sim/truth")).status, 200, "still up");
    let out = sim.proc.output();
    assert!(!out.contains("panicked"), "{out}");
}
