//! A recognisable client secret and recognisable access tokens must never
//! appear in logs (debug level), error messages, `/metrics`, the landing
//! page, reload answers, the simulator's output or any command's output,
//! whether the secret is right or wrong, and under every PingOne fault. The
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
    let exp = Exporter::start(&[
        "--config.file",
        cfg.to_str().unwrap(),
        "--web.enable-lifecycle",
    ]);
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
    // The problems go to the log (an anonymous caller's answer has none;
    // an authenticated one gets the --config.check text: lifecycle.rs).
    wait_for(
        "the reload problems in the log",
        Duration::from_secs(10),
        || exp.proc.output().contains("config.yml").then_some(()),
    );
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
    let exp = Exporter::start(&[
        "--config.file",
        cfg.to_str().unwrap(),
        "--web.enable-lifecycle",
    ]);
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
    let exp = Exporter::start(&[
        "--config.file",
        cfg.to_str().unwrap(),
        "--web.enable-lifecycle",
    ]);
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
    assert_clean("reload answer", &r.text());
    wait_for(
        "the reload problems in the log",
        Duration::from_secs(10),
        || {
            exp.proc
                .output()
                .contains("bearer_token_file")
                .then_some(())
        },
    );
    assert_clean("logs", &exp.proc.output());
}

/// Recognisable access tokens: the simulator starts every token with this.
const TOKEN: &str = "tok-CANARY-";

/// One environment per fault (scoped to it, from start-up), each with its
/// own API client whose worker environment is itself, so token-endpoint
/// faults hit only it. The last environment is healthy.
const FAULTS: [&str; 17] = [
    r#"{ kind: status, status: 503 }"#,
    r#"{ kind: retry_after, seconds: 1 }"#,
    r#"{ kind: retry_after_date, seconds: 1 }"#,
    r#"{ kind: slow, delay_ms: 3000 }"#,
    r#"{ kind: slow_body, delay_ms: 3000 }"#,
    r#"{ kind: reset_mid_body }"#,
    r#"{ kind: malformed_json, endpoint: token }"#,
    r#"{ kind: truncated_json, endpoint: token }"#,
    r#"{ kind: revoke_tokens }"#,
    r#"{ kind: token_endpoint_down }"#,
    r#"{ kind: huge, endpoint: token, bytes: 30000000 }"#,
    r#"{ kind: unknown_fields }"#,
    r#"{ kind: paging_loop }"#,
    r#"{ kind: status, status: 403, endpoint: stores }"#,
    // PingOne quoting the secret, then the token, back in its error text.
    r#"{ kind: echo_credentials, endpoint: token }"#,
    r#"{ kind: echo_credentials, endpoint: stores }"#,
    // The environment with the wrong secret: its fault is never reached.
    r#"{ kind: malformed_json, endpoint: rules }"#,
];

/// The one-shot commands, each as arguments given a config file and an
/// empty directory for `dump` (whose files are checked too). `env` names the
/// healthy environment, the one `resync` is pointed at.
fn one_shot_commands(cfg: &str, dump_dir: &str, env: &str) -> Vec<Vec<String>> {
    [
        vec!["--config.check", "--config.file", cfg],
        vec!["status", "--config.file", cfg],
        vec!["status", "--config.file", cfg, "--output", "json"],
        vec!["dump", "--config.file", cfg, "--out", dump_dir],
        vec!["resync", "--config.file", cfg, "--environment", env],
        vec![
            "resync",
            "--config.file",
            cfg,
            "--environment",
            env,
            "--yes",
        ],
    ]
    .into_iter()
    .map(|a| a.into_iter().map(String::from).collect())
    .collect()
}

#[test]
fn no_fault_path_and_no_command_prints_the_secret_or_a_token() {
    let dir = Dir::new();
    let n = FAULTS.len() + 1;
    let mut scenario = format!(
        "seed: 5\nclock: manual\nwarmup_ticks: 2\ntoken_prefix: {TOKEN}\ngenerate:\n  environments: {n}\n  rules_per_environment: 3\n  users_per_environment: 10\n  groups_per_rule: 2\nclients:\n"
    );
    for i in 1..=n {
        scenario.push_str(&format!(
            "  - {{ client_id: canary-{i}, client_secret: {CANARY}, environment_id: gen-{i:04}, environments: [gen-{i:04}] }}\n"
        ));
    }
    scenario.push_str("faults:\n");
    for (i, f) in FAULTS.iter().enumerate() {
        let scoped = f.replacen('{', &format!("{{ environment: gen-{:04},", i + 1), 1);
        scenario.push_str(&format!("  - {scoped}\n"));
    }
    let sim = Sim::start(&dir.write("scenario.yml", &scenario));
    let ids: Vec<String> = sim
        .proc
        .output()
        .lines()
        .filter_map(|l| l.strip_prefix("environment "))
        .map(|l| l.split(' ').next().unwrap().to_string())
        .collect();
    assert_eq!(ids.len(), n);

    // The last environment but one presents a wrong secret.
    let right = dir.write("secret", &format!("{CANARY}\n"));
    let wrong = dir.write("wrong", WRONG);
    let mut cfg = String::from(
        "global:\n  poll_interval: 10s\n  request_timeout: 2s\n  max_requests_per_second: 200\n  max_concurrent_requests: 32\nenvironments:\n",
    );
    for (i, id) in ids.iter().enumerate() {
        let secret = if i == n - 2 { &wrong } else { &right };
        cfg.push_str(&format!(
            "  - name: env-{i}\n    id: {id}\n    api_url: {0}/v1\n    auth_url: {0}\n    credentials:\n      client_id: canary-{1}\n      client_secret_file: {2}\n      worker_environment_id: {id}\n",
            sim.base,
            i + 1,
            secret.display()
        ));
    }
    let cfg_path = dir.write("config.yml", &cfg);
    let exp = Exporter::start(&[
        "--config.file",
        cfg_path.to_str().unwrap(),
        "--web.enable-lifecycle",
    ]);
    exp.wait_ready(Duration::from_secs(60));
    let m = exp.metrics();
    let up = |i: usize| m.one("pingone_exporter_up", &[("environment_id", &ids[i])]);
    assert_eq!(up(n - 1), Some(1.0), "the healthy environment works");
    for (i, fault) in FAULTS.iter().enumerate() {
        if !fault.contains("unknown_fields") {
            assert_eq!(up(i), Some(0.0), "{fault} made no poll fail");
        }
    }
    let refetched = m
        .one(
            "pingone_exporter_token_refreshes_total",
            &[("environment_id", &ids[8])],
        )
        .unwrap();
    assert!(refetched >= 2.0, "the revoked token was fetched again");

    // Everything a user or a scraper can see.
    let mut seen = scrape_everything(&exp);
    for (method, path) in [
        ("GET", "/nothing"),
        ("PUT", "/metrics"),
        ("GET", "/-/reload"),
    ] {
        seen.push_str(&request(method, &exp.url(path), &[], b"").unwrap().text());
    }
    let gz = request(
        "GET",
        &exp.url("/metrics"),
        &[("Accept-Encoding", "gzip")],
        b"",
    )
    .unwrap();
    let mut plain = String::new();
    std::io::Read::read_to_string(&mut flate2::read::GzDecoder::new(&gz.body[..]), &mut plain)
        .unwrap();
    seen.push_str(&plain);
    // A reload that fails while the file carries the secret inline.
    std::fs::write(&cfg_path, format!("{cfg}      client_secret: {CANARY}\n")).unwrap();
    let r = post(&exp.url("/-/reload"));
    assert_eq!(r.status, 500);
    seen.push_str(&r.text());
    assert_clean_of_all("what the exporter serves", &seen);
    let logs = exp.proc.output();
    for path in [
        "token: malformed answer",
        "token: answer larger than",
        "token: HTTP 503",
        "invalid_client",
        "paging loop",
        "no answer within",
        "connection failed",
        "token: HTTP 429",
        "HTTP 403",
        "does not list",
        "presented [redacted], which does not match",
        "Access with [redacted] is not allowed here",
    ] {
        assert!(
            logs.contains(path),
            "the fault path {path:?} did not run:\n{logs}"
        );
    }
    assert_clean_of_all("the exporter's debug log", &logs);
    assert!(
        exp.proc.output().contains("level=debug"),
        "debug logs were on"
    );
    assert_clean_of_all("the simulator's output", &sim.proc.output());

    std::fs::write(&cfg_path, &cfg).unwrap();
    let dump_dir = dir.0.path().join("dump");
    let healthy = format!("env-{}", n - 1);
    for args in one_shot_commands(
        cfg_path.to_str().unwrap(),
        dump_dir.to_str().unwrap(),
        &healthy,
    ) {
        let out = std::process::Command::new(bin())
            .args(&args)
            .args(["--log.level", "debug"])
            .output()
            .unwrap();
        let text = format!(
            "{}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
        assert_clean_of_all(&format!("{args:?}"), &text);
    }
    let mut dumped = 0;
    for entry in std::fs::read_dir(&dump_dir).unwrap() {
        let path = entry.unwrap().path();
        let files: Vec<std::path::PathBuf> = if path.is_dir() {
            std::fs::read_dir(&path)
                .unwrap()
                .map(|e| e.unwrap().path())
                .collect()
        } else {
            vec![path]
        };
        for f in files {
            assert_clean_of_all(
                &f.display().to_string(),
                &std::fs::read_to_string(&f).unwrap(),
            );
            dumped += 1;
        }
    }
    assert!(dumped > 3, "dump wrote {dumped} files");
}

/// Neither secret nor any token (by its prefix) appears in `text`.
fn assert_clean_of_all(what: &str, text: &str) {
    assert_clean(what, text);
    assert!(
        !text.contains(TOKEN),
        "{what} contains an access token:\n{text}"
    );
}

/// The basic-auth password a client sends (right or wrong), the user name
/// typed where the password belongs, and the TLS private key never appear
/// in the daemon's debug logs, a web config error or the healthcheck's
/// output.
#[test]
fn basic_auth_passwords_and_the_tls_key_never_leak() {
    let dir = Dir::new();
    let hash = bcrypt::hash(CANARY, 4).unwrap();
    let web = dir.write(
        "web.yml",
        &format!("basic_auth_users:\n  prometheus: {hash}\n"),
    );
    let exp = Exporter::start(&["--demo", "--web.config.file", web.to_str().unwrap()]);
    let basic = |user: &str, password: &str| {
        use base64::Engine;
        let b = base64::engine::general_purpose::STANDARD.encode(format!("{user}:{password}"));
        format!("Basic {b}")
    };
    for (user, password, status) in [
        ("prometheus", CANARY, 200),
        ("prometheus", WRONG, 401),
        (WRONG, CANARY, 401),
    ] {
        let auth = basic(user, password);
        let r = request(
            "GET",
            &exp.url("/metrics"),
            &[("Authorization", &auth)],
            b"",
        )
        .unwrap();
        assert_eq!(r.status, status);
        assert_clean("answer", &r.text());
    }
    let pw = dir.write("password", &format!("{WRONG}\n"));
    let out = std::process::Command::new(bin())
        .args([
            "healthcheck",
            "--url",
            &exp.url("/-/healthy"),
            "--username",
            "prometheus",
        ])
        .args(["--password-file", pw.to_str().unwrap()])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    assert_clean(
        "healthcheck",
        &String::from_utf8_lossy(&[out.stdout, out.stderr].concat()),
    );

    // A key pasted inline, and a key file that is not a key.
    let key = dir.write(
        "key.pem",
        &format!("-----BEGIN PRIVATE KEY-----\n{CANARY}\n-----END PRIVATE KEY-----\n"),
    );
    std::fs::write(
        &web,
        format!(
            "tls_server_config:\n  cert_file: {}\n  key_file: {}\n  key: {CANARY}\n",
            key.display(),
            key.display()
        ),
    )
    .unwrap();
    let r = request(
        "GET",
        &exp.url("/metrics"),
        &[("Authorization", &basic("prometheus", CANARY))],
        b"",
    )
    .unwrap();
    assert_eq!(r.status, 200, "the last good web config stays");
    wait_for("the reload failure", Duration::from_secs(10), || {
        exp.proc
            .output()
            .contains("web configuration reload failed")
            .then_some(())
    });
    assert_clean("logs", &exp.proc.output());
}
