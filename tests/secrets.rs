//! A recognisable client secret must never appear in logs (debug level),
//! error messages, `/metrics`, the landing page, reload answers or
//! `--config.check` output, whether the secret is right or wrong. The
//! same holds for the Alertmanager bearer token the alert sender uses.

#![allow(clippy::unwrap_used, clippy::expect_used)] // test code: a panic is a test failure

#[path = "common/alertmanager.rs"]
mod alertmanager;
mod common;

use std::time::Duration;

use common::*;

const CANARY: &str = "CANARY-s3cr3t-4f9a7c";
const WRONG: &str = "CANARY-wr0ng-88e1d2";

fn canary_scenario(dir: &Dir) -> std::path::PathBuf {
    let text = std::fs::read_to_string(small_scenario()).unwrap();
    assert!(text.contains("client_secret: demo-secret"));
    dir.write(
        "scenario.yml",
        &text.replace(
            "client_secret: demo-secret",
            &format!("client_secret: {CANARY}"),
        ),
    )
}

fn assert_clean(what: &str, text: &str) {
    for s in [CANARY, WRONG] {
        assert!(!text.contains(s), "{what} contains the secret {s}:\n{text}");
    }
}

fn scrape_everything(exp: &Exporter) -> String {
    let mut all = String::new();
    for (path, accept) in [
        ("/metrics", ""),
        ("/metrics", "application/openmetrics-text"),
        ("/", ""),
        ("/-/ready", ""),
    ] {
        let r = request("GET", &exp.url(path), &[("Accept", accept)], b"").unwrap();
        all.push_str(&r.text());
    }
    all
}

#[test]
fn the_right_secret_never_leaks() {
    let dir = Dir::new();
    let sim = Sim::start(&canary_scenario(&dir));
    let secret = dir.write("secret", &format!("{CANARY}\n"));
    let cfg = dir.write(
        "config.yml",
        &config_for(
            &sim.base,
            &[("small-a", SMALL_A)],
            "demo-client",
            &secret,
            "",
        ),
    );
    let exp = Exporter::start(&["--config.file", cfg.to_str().unwrap()]);
    exp.wait_ready(Duration::from_secs(30));
    assert_eq!(
        exp.metrics()
            .one("pingone_exporter_up", &[("environment_id", SMALL_A)]),
        Some(1.0),
        "{}",
        exp.proc.output()
    );
    assert_clean("scrapes", &scrape_everything(&exp));

    // A broken reload that also carries the secret inline.
    std::fs::write(
        &cfg,
        format!(
            "{}      client_secret: {CANARY}\n    bogus: 1\n",
            config_for(
                &sim.base,
                &[("small-a", SMALL_A)],
                "demo-client",
                &secret,
                ""
            )
        ),
    )
    .unwrap();
    let r = post(&exp.url("/-/reload"));
    assert_eq!(r.status, 500);
    assert_clean("reload answer", &r.text());
    assert!(r.text().contains("config.yml"), "{}", r.text());
    assert_clean("logs", &exp.proc.output());
}

#[test]
fn a_wrong_secret_fails_loudly_but_never_leaks() {
    let dir = Dir::new();
    let sim = Sim::start(&canary_scenario(&dir));
    let secret = dir.write("secret", WRONG);
    let cfg = dir.write(
        "config.yml",
        &config_for(
            &sim.base,
            &[("small-a", SMALL_A)],
            "demo-client",
            &secret,
            "",
        ),
    );
    let exp = Exporter::start(&["--config.file", cfg.to_str().unwrap()]);
    exp.wait_ready(Duration::from_secs(30));
    let m = exp.metrics();
    assert_eq!(
        m.one("pingone_exporter_up", &[("environment_id", SMALL_A)]),
        Some(0.0)
    );
    assert_eq!(
        m.one(
            "pingone_exporter_api_requests_total",
            &[("endpoint", "token"), ("code", "401")]
        ),
        Some(1.0)
    );
    let landing = get(&exp.url("/")).text();
    assert!(landing.contains("invalid_client"), "{landing}");
    assert_clean("scrapes", &scrape_everything(&exp));
    let logs = exp.proc.output();
    assert!(logs.contains("poll failed"), "{logs}");
    assert_clean("logs", &logs);
}

#[test]
fn config_check_never_prints_the_secret() {
    let dir = Dir::new();
    let bad = dir.write(
        "bad.yml",
        &format!(
            "environments:\n  - name: a\n    id: {SMALL_A}\n    region: mars\n    credentials:\n      client_id: c\n      client_secret: {CANARY}\n      client_secret_env: ALSO_SET\n"
        ),
    );
    let out = std::process::Command::new(bin())
        .args(["--config.check", "--config.file", bad.to_str().unwrap()])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(text.contains("region"), "{text}");
    assert_clean("config check", &text);
}

#[test]
fn the_alertmanager_token_never_leaks() {
    let dir = Dir::new();
    let sim = Sim::start(&canary_scenario(&dir));
    let secret = dir.write("secret", &format!("{CANARY}\n"));
    let token = dir.write("token", &format!("{WRONG}\n"));
    let am = alertmanager::Alertmanager::start();
    let down = format!("http://127.0.0.1:{}", alertmanager::free_port());
    let base = config_for(
        &sim.base,
        &[("small-a", SMALL_A)],
        "demo-client",
        &secret,
        "",
    );
    let alerting = |token_file: &std::path::Path| {
        format!(
            "alerting:\n  alertmanager:\n    urls: [{}, {down}]\n    bearer_token_file: {}\n  evaluation_interval: 1s\n  alerts:\n    PingOneProvisioningSyncStale: {{for: 0s}}\n",
            am.url,
            token_file.display()
        )
    };
    let cfg = dir.write("config.yml", &format!("{base}{}", alerting(&token)));
    let exp = Exporter::start(&["--config.file", cfg.to_str().unwrap()]);
    exp.wait_ready(Duration::from_secs(30));
    // Alerts were sent with the token (and failed to the closed port).
    wait_for("alerts sent and failed", Duration::from_secs(15), || {
        let m = exp.metrics();
        let sent = m.one(
            "pingone_exporter_alerts_sent_total",
            &[("alertmanager", &am.url)],
        );
        let errors = m.one(
            "pingone_exporter_alert_send_errors_total",
            &[("alertmanager", &down)],
        );
        (sent > Some(0.0) && errors > Some(0.0)).then_some(())
    });
    assert_clean("scrapes", &scrape_everything(&exp));

    // A reload whose token file holds two lines (the token among them).
    let two = dir.write("token2", &format!("{WRONG}\nmore\n"));
    std::fs::write(&cfg, format!("{base}{}", alerting(&two))).unwrap();
    let r = post(&exp.url("/-/reload"));
    assert_eq!(r.status, 500);
    assert!(r.text().contains("bearer_token_file"), "{}", r.text());
    assert_clean("reload answer", &r.text());
    assert_clean("logs", &exp.proc.output());
}
