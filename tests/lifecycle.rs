//! `/-/reload`, the lifecycle endpoint, against the real binary and the
//! simulator on loopback: off unless `--web.enable-lifecycle` (as in
//! Prometheus), `SIGHUP` always; a refused config's problems shown only to
//! an authenticated caller; cross-site browser requests refused; one reload
//! per second, with refusals logged once per second.

#![allow(clippy::unwrap_used, clippy::expect_used)] // test code: a panic is a test failure

mod common;

use std::path::PathBuf;
use std::time::{Duration, Instant};

use base64::Engine;
use common::*;

const READY: Duration = Duration::from_secs(30);

/// The simulator and an exporter polling small-a, with `args` added.
fn start(args: &[&str]) -> (Sim, Exporter, Dir, PathBuf) {
    let sim = Sim::start(&small_scenario());
    let dir = Dir::new();
    let cfg = dir.demo_config(&sim.base, &[("small-a", SMALL_A)], "");
    let mut all = vec!["--config.file", cfg.to_str().unwrap()];
    all.extend_from_slice(args);
    let exp = Exporter::start(&all);
    (sim, exp, dir, cfg)
}

fn two_environments(sim: &Sim, dir: &Dir) -> String {
    config_for(
        &sim.base,
        &[("small-a", SMALL_A), ("small-b", SMALL_B)],
        "demo-client",
        &dir.0.path().join("secret"),
        "",
    )
}

fn count(text: &str, needle: &str) -> usize {
    text.matches(needle).count()
}

#[test]
fn reload_is_off_by_default_and_sighup_still_works() {
    let (sim, exp, dir, cfg) = start(&[]);
    for method in ["POST", "PUT"] {
        let r = request(method, &exp.url("/-/reload"), &[], b"").unwrap();
        assert_eq!(
            (r.status, r.text().as_str()),
            (403, "Lifecycle API is not enabled."),
            "{method}"
        );
    }
    let r = get(&exp.url("/-/reload"));
    assert_eq!((r.status, r.header("Allow")), (405, Some("POST, PUT")));
    assert_eq!(count(&exp.proc.output(), "configuration reloaded"), 0);

    std::fs::write(&cfg, two_environments(&sim, &dir)).unwrap();
    exp.proc.signal("HUP");
    wait_for("the reload by SIGHUP", READY, || {
        (count(&exp.proc.output(), "configuration reloaded") == 1).then_some(())
    });
}

#[test]
fn an_anonymous_caller_sees_no_problems_cross_site_calls_are_refused_and_calls_are_rate_limited() {
    let (sim, exp, dir, cfg) = start(&["--web.enable-lifecycle"]);
    let path = cfg.to_str().unwrap().to_string();

    // A bad config: 500, without the problems (they name files).
    std::fs::write(
        &cfg,
        format!("{}    bogus_key: 1\n", two_environments(&sim, &dir)),
    )
    .unwrap();
    let r = post(&exp.url("/-/reload"));
    assert_eq!(r.status, 500);
    assert_eq!(
        r.text(),
        "config not reloaded; the previous config keeps running. \
         The problems are in the exporter's log.\n"
    );
    wait_for("the problems in the log", READY, || {
        let out = exp.proc.output();
        (out.contains("bogus_key") && out.contains(&path)).then_some(())
    });

    // A burst of calls: at most one reload per second runs, the others get
    // 429 with Retry-After, and the refusals are logged once a second.
    std::thread::sleep(Duration::from_millis(1100));
    let t0 = Instant::now();
    let statuses: Vec<(u16, Option<String>)> = (0..30)
        .map(|_| {
            let r = post(&exp.url("/-/reload"));
            (r.status, r.header("Retry-After").map(str::to_string))
        })
        .collect();
    let seconds = t0.elapsed().as_secs() as usize + 1;
    let ran = statuses.iter().filter(|(s, _)| *s == 500).count();
    let limited: Vec<_> = statuses.iter().filter(|(s, _)| *s == 429).collect();
    assert_eq!(ran + limited.len(), 30, "{statuses:?}");
    assert!((1..=seconds).contains(&ran), "{ran} reloads in {seconds} s");
    assert!(
        limited
            .iter()
            .all(|(_, retry)| retry.as_deref() == Some("1")),
        "{statuses:?}"
    );
    std::thread::sleep(Duration::from_millis(300));
    let out = exp.proc.output();
    let refusals = count(&out, "reload requests refused");
    assert!(
        (1..=seconds).contains(&refusals),
        "{refusals} log lines in {seconds} s"
    );
    assert_eq!(count(&out, "configuration reload failed"), 1 + ran);

    // A page of another site cannot make a browser reload the exporter.
    std::fs::write(&cfg, two_environments(&sim, &dir)).unwrap();
    std::thread::sleep(Duration::from_millis(1100));
    for header in [
        ("Origin", "http://evil.example"),
        ("Sec-Fetch-Site", "cross-site"),
        ("Sec-Fetch-Site", "same-site"),
    ] {
        let r = request("POST", &exp.url("/-/reload"), &[header], b"").unwrap();
        assert_eq!(r.status, 403, "{header:?}: {}", r.text());
    }
    // The same origin (the exporter's own page), or a command-line client:
    // reloaded.
    let host = exp.base.trim_start_matches("http://").to_string();
    let origin = exp.base.clone();
    let r = request(
        "POST",
        &exp.url("/-/reload"),
        &[("Origin", &origin), ("Sec-Fetch-Site", "same-origin")],
        b"",
    )
    .unwrap();
    assert_eq!(
        (r.status, r.text().as_str()),
        (200, "config reloaded\n"),
        "{host}"
    );
    wait_for("small-b polled", READY, || {
        (exp.metrics()
            .one("pingone_exporter_up", &[("environment_name", "small-b")])
            == Some(1.0))
        .then_some(())
    });
}

#[test]
fn an_authenticated_caller_sees_the_problems() {
    let auth_dir = Dir::new();
    let hash = bcrypt::hash("right", 4).unwrap();
    let web = auth_dir.write("web.yml", &format!("basic_auth_users:\n  admin: {hash}\n"));
    let (sim, exp, dir, cfg) = start(&[
        "--web.enable-lifecycle",
        "--web.config.file",
        web.to_str().unwrap(),
    ]);
    std::fs::write(
        &cfg,
        format!("{}    bogus_key: 1\n", two_environments(&sim, &dir)),
    )
    .unwrap();
    let check = std::process::Command::new(bin())
        .args(["--config.check", "--config.file", cfg.to_str().unwrap()])
        .output()
        .unwrap();
    let problems = String::from_utf8(check.stdout).unwrap();
    assert!(problems.contains("bogus_key"), "{problems}");

    assert_eq!(post(&exp.url("/-/reload")).status, 401, "no credentials");
    let auth = format!(
        "Basic {}",
        base64::engine::general_purpose::STANDARD.encode("admin:right")
    );
    let r = request(
        "POST",
        &exp.url("/-/reload"),
        &[("Authorization", &auth)],
        b"",
    )
    .unwrap();
    assert_eq!(r.status, 500);
    assert_eq!(
        r.text(),
        format!(
            "config not reloaded; the previous config keeps running:\n{}\n",
            problems.trim()
        )
    );
}
