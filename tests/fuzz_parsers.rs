//! Property tests of every parser that reads outside input: config and
//! web-config YAML, PingOne's JSON answers and HAL links, `Retry-After`,
//! `Accept` negotiation, the redaction and escaping of outside text. Each
//! runs `FUZZ_CASES` generated inputs (structured mutations of valid
//! ones, `fuzz/gen.rs`): none may panic, and every error must say what
//! is wrong (non-empty; for the config files, every line starts with the
//! file's name and a position or the whole-file marker). Counts and
//! results: docs/reliability.md.

#![allow(clippy::unwrap_used, clippy::expect_used)] // test code: a panic is a test failure

#[path = "fuzz/gen.rs"]
mod fuzz_gen;

use std::time::{Duration, SystemTime};

use fuzz_gen::run;
use pingone_sync_exporter::exposition::negotiate;
use pingone_sync_exporter::pingone::retry::{RetryPolicy, parse_retry_after};
use pingone_sync_exporter::pingone::{fields, hal, model};
use pingone_sync_exporter::{config, printable, redact, webconfig};
use serde_json::Value;

fn read(path: &str) -> String {
    std::fs::read_to_string(path).unwrap()
}

/// Every line of a config error names the file.
fn assert_clear(file: &str, message: &str) {
    assert!(!message.trim().is_empty(), "an empty error");
    for line in message.lines() {
        assert!(line.starts_with(file), "a line without the file: {line:?}");
    }
}

#[test]
fn config_yaml() {
    let seeds = [
        read("tests/fixtures/config/good-full.yml"),
        read("tests/fixtures/config/good-alerting.yml"),
        read("tests/fixtures/config/good-minimal.yml"),
    ];
    let env = |name: &str| (name == "PINGONE_CLIENT_SECRET").then(|| "s3cret".to_string());
    run(
        "config",
        |g| g.text_from(&seeds),
        |text| {
            // Relative files resolve against the fixtures, as for the seeds.
            let file = "tests/fixtures/config/fuzz.yml";
            if let Err(e) = config::load_str(text, file, &env) {
                assert_clear(file, &e.to_string());
            }
        },
    );
}

#[test]
fn web_config_yaml() {
    let seeds = [
        read("tests/fixtures/webconfig/good-tls.yml"),
        read("tests/fixtures/webconfig/good-mtls.yml"),
        read("tests/fixtures/webconfig/good-auth-only.yml"),
    ];
    run(
        "web config",
        |g| g.text_from(&seeds),
        |text| {
            let file = "tests/fixtures/webconfig/fuzz.yml";
            if let Err(e) = webconfig::load_str(text, file) {
                assert_clear(file, &e.to_string());
            }
        },
    );
}

/// Every answer parser on `body`; parse errors must be non-empty.
fn parse_answers(body: &[u8]) {
    fn page<T: serde::de::DeserializeOwned>(body: &[u8], key: &str) {
        match hal::parse_page::<T>(body, key) {
            Ok(p) => {
                if let Some(next) = p.next {
                    let _ = next.len();
                }
            }
            Err(e) => assert!(!e.to_string().is_empty()),
        }
    }
    page::<model::Store>(body, "stores");
    page::<model::Rule>(body, "rules");
    page::<model::SyncedGroup>(body, "syncedGroups");
    page::<model::Plan>(body, "plans");
    page::<model::User>(body, "users");
    page::<serde::de::IgnoredAny>(body, "");
    for r in [
        model::parse_one::<model::Revision>(body).err(),
        model::parse_one::<model::SyncedRule>(body).err(),
        model::parse_one::<model::TokenResponse>(body).err(),
        model::parse_one::<model::ApiErrorBody>(body).err(),
        model::parse_one::<model::OAuthError>(body).err(),
    ]
    .into_iter()
    .flatten()
    {
        assert!(!r.to_string().is_empty());
    }
    let _ = fields::unknown_in_page(body, "stores", &fields::STORES);
    let _ = fields::unknown_in_page(body, "syncedGroups", &fields::SYNCED_GROUPS);
    let _ = fields::unknown_in_object(body, &fields::REVISION);
}

fn api_seeds() -> Vec<Value> {
    [
        "stores.json",
        "rules.json",
        "revision.json",
        "synced-groups-b1.json",
        "synced-rules-b3.json",
    ]
    .iter()
    .map(|f| serde_json::from_str(&read(&format!("tests/fixtures/api/golden/{f}"))).unwrap())
    .chain([
        serde_json::json!({"access_token": "t", "token_type": "Bearer", "expires_in": 3600}),
        serde_json::json!({"id": "x", "code": "REQUEST_LIMITED", "message": "m",
            "details": [{"code": "LIMIT_EXCEEDED", "message": "d"}]}),
    ])
    .collect()
}

#[test]
fn pingone_json_answers_structured() {
    let seeds = api_seeds();
    run(
        "answers (structured)",
        |g| {
            let seed = &seeds[g.rng.usize(..seeds.len())];
            g.json(seed).to_string().into_bytes()
        },
        |body| parse_answers(body),
    );
}

#[test]
fn pingone_json_answers_bytes() {
    let seeds: Vec<String> = api_seeds().iter().map(Value::to_string).collect();
    run(
        "answers (bytes)",
        |g| {
            let seed = &seeds[g.rng.usize(..seeds.len())];
            g.bytes(seed.as_bytes())
        },
        |body| parse_answers(body),
    );
}

#[test]
fn retry_after() {
    let now = SystemTime::UNIX_EPOCH + Duration::from_secs(1_700_000_000);
    let seeds = [
        "7",
        "0",
        "Wed, 21 Oct 2015 07:28:00 GMT",
        "120",
        "Fri, 31 Dec 9999 23:59:59 GMT",
    ];
    let policy = RetryPolicy::default();
    run(
        "Retry-After",
        |g| g.text_from(&seeds),
        |v| {
            let parsed = parse_retry_after(v, now);
            // Whatever it says, the wait is capped or refused, never absurd.
            for retry in [0, 3, u32::MAX] {
                if let Some(d) = policy.delay(retry, parsed) {
                    assert!(d <= policy.cap, "{d:?}");
                }
            }
        },
    );
}

#[test]
fn accept_negotiation() {
    let seeds = [
        "application/openmetrics-text;version=1.0.0;q=0.9, text/plain;version=0.0.4;q=0.5, */*;q=0.1",
        "text/plain",
        "gzip, deflate;q=0.5, identity;q=0",
        "*/*",
    ];
    run(
        "Accept",
        |g| (g.text_from(&seeds), g.text_from(&seeds)),
        |(accept, encoding)| {
            let a = negotiate(Some(accept), Some(encoding));
            assert_eq!(a, negotiate(Some(accept), Some(encoding)), "deterministic");
        },
    );
}

#[test]
fn outside_text_is_scrubbed_and_escaped() {
    let seeds = [
        "SCIM 401: Authorization: Bearer abc.def for https://u:p@h/x password=hunter2",
        r#"{"client_secret": "k", "token":"eyJhbGciOiJub25lIn0.eyJzdWIiOiJ4In0.c2ln"}"#,
        "plain message with s3cret-value inside",
    ];
    run(
        "scrub/printable",
        |g| g.text_from(&seeds),
        |text| {
            let out = redact::scrub(text, &["s3cret-value"]);
            assert!(!out.contains("s3cret-value"), "{out:?}");
            let _ = redact::clean_details(text, &["s3cret-value"]);
            let shown = printable::printable(text);
            assert!(!shown.chars().any(printable::is_unsafe), "{shown:?}");
        },
    );
}
