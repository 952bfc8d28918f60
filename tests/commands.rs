//! The one-shot commands end to end: the real binary's `status`, `dump` and
//! `resync` against `pingone-sync-exporter simulate` (small scenario, manual
//! clock), checked against the simulator's ground truth, their exact output
//! and their exit codes.

#![allow(clippy::unwrap_used, clippy::expect_used)] // test code: a panic is a test failure

mod common;

use std::path::Path;
use std::process::{Command, Output};

use common::*;
use pingone_sync_exporter::pingone::hal::parse_page;
use pingone_sync_exporter::pingone::model;
use pingone_sync_exporter::simulator::STORE_SECRET_PREFIX;
use pingone_sync_exporter::timefmt::parse_rfc3339;
use serde_json::Value;

fn run(args: &[&str], envs: &[(&str, &str)]) -> Output {
    let mut cmd = Command::new(bin());
    cmd.args(args).env_remove("NO_COLOR");
    for (k, v) in envs {
        cmd.env(k, v);
    }
    cmd.output().unwrap()
}

fn text(b: &[u8]) -> String {
    String::from_utf8_lossy(b).into_owned()
}

/// A simulator and a config for `envs` of it.
fn setup(envs: &[(&str, &str)]) -> (Sim, Dir, String) {
    let sim = Sim::start(&small_scenario());
    let dir = Dir::new();
    let cfg = dir.demo_config(&sim.base, envs, "");
    let cfg = cfg.to_str().unwrap().to_string();
    (sim, dir, cfg)
}

/// The table without its last column (LAST SYNC, an age against the wall
/// clock): everything else is exact.
fn without_ages(table: &str) -> String {
    let cut = table.lines().next().unwrap().find("LAST SYNC").unwrap();
    table
        .lines()
        .map(|l| format!("{}\n", l[..cut.min(l.len())].trim_end()))
        .collect()
}

#[test]
fn status_prints_the_exact_table_and_exits_1_on_failures() {
    let (_sim, _dir, cfg) = setup(&[("small-a", SMALL_A), ("small-b", SMALL_B)]);
    let out = run(&["status", "--config.file", &cfg], &[]);
    assert_eq!(out.status.code(), Some(1), "{}", text(&out.stderr));
    let table = text(&out.stdout);
    assert!(
        !table.contains('\x1b'),
        "no colours when stdout is not a terminal"
    );
    assert!(out.stderr.is_empty(), "{}", text(&out.stderr));
    common::golden::assert_matches("tests/golden/status-small.txt", &without_ages(&table));
    for line in table.lines().skip(1) {
        assert!(line.ends_with(" ago") || line.ends_with('-'), "{line}");
    }
}

/// `status` with stdout on a terminal (through `script`, from bsdutils,
/// which scripts/install-test-deps.sh installs).
fn status_on_a_terminal(cfg: &str, extra: &str, no_color: Option<&str>) -> String {
    let line = format!("{} status --config.file {cfg} {extra}", bin());
    let mut cmd = Command::new("script");
    cmd.args(["-qec", &line, "/dev/null"])
        .env_remove("NO_COLOR");
    if let Some(v) = no_color {
        cmd.env("NO_COLOR", v);
    }
    let out = cmd.output().expect("script (bsdutils) is needed");
    assert_eq!(out.status.code(), Some(1), "{}", text(&out.stderr));
    text(&out.stdout)
}

#[test]
fn status_colours_only_a_terminal_without_no_color() {
    let (_sim, _dir, cfg) = setup(&[("small-a", SMALL_A)]);
    let coloured = status_on_a_terminal(&cfg, "", None);
    assert!(coloured.contains("\x1b[32mactive\x1b[0m"), "{coloured:?}");
    assert!(
        coloured.contains("\x1b[31m") && coloured.contains("/4\x1b[0m"),
        "failure events in red: {coloured:?}"
    );
    assert!(!status_on_a_terminal(&cfg, "", Some("1")).contains('\x1b'));
    let json = status_on_a_terminal(&cfg, "--output json", None);
    assert!(
        !json.contains('\x1b') && json.contains("\"failures\": true"),
        "{json:?}"
    );
    // An empty NO_COLOR does not count (no-color.org).
    assert!(status_on_a_terminal(&cfg, "", Some("")).contains('\x1b'));
}

#[test]
fn status_json_matches_the_ground_truth_and_a_clean_environment_exits_0() {
    let (sim, _dir, cfg) = setup(&[("small-b", SMALL_B)]);
    let out = run(&["status", "--config.file", &cfg, "--output", "json"], &[]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stdout));
    let doc: Value = serde_json::from_slice(&out.stdout).unwrap();
    let truth = sim.truth();
    let env = env_truth(&truth, SMALL_B);
    let store = &env["stores"]
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["type"] == "scim")
        .unwrap()["sync_status"];
    let rule = &doc["environments"][0]["rules"][0];
    let t = &env["rules"][0];
    assert_eq!(doc["failures"], false);
    assert_eq!(doc["environments"][0]["error"], Value::Null);
    assert_eq!(rule["id"], t["id"]);
    assert_eq!(rule["users"]["impacted"], store["userTotal"]);
    // The store's counts are sync events, as the simulator counts them,
    // not users: users per state only come from user-detail mode.
    assert_eq!(rule["events"]["success"], store["successCount"]);
    assert_eq!(rule["events"]["failure"], store["failedCount"]);
    assert_eq!(rule["events"]["success"], t["events"]["success"]);
    assert_eq!(rule["events"]["failure"], t["events"]["failed"]);
    assert_eq!(
        rule["events"]["failed_deprovision"],
        t["events"]["failed_deprovision"]
    );
    assert_ne!(
        t["events"]["success"], t["users"]["success"],
        "the simulator's events are not its users"
    );
    assert_eq!(rule["users"]["success"], Value::Null, "absent, not 0");
    assert_eq!(rule["users"]["failed"], Value::Null, "absent, not 0");
    assert_eq!(rule["store_status"], "active");
    assert_eq!(rule["details"], Value::Null, "a clean store has no details");
    assert_eq!(rule["groups"]["impacted"], t["groups"]["impacted"]);
    let ts = |v: &Value| v.as_str().and_then(parse_rfc3339);
    assert_eq!(ts(&rule["last_sync_at"]), ts(&store["lastSyncAt"]));
    assert!(ts(&rule["last_sync_at"]).is_some());
    assert_eq!(
        ts(&doc["environments"][0]["revision_created_at"]),
        ts(&env["revision"]["createdAt"])
    );
}

#[test]
fn status_exits_2_when_the_api_or_the_config_cannot_be_read() {
    let dir = Dir::new();
    let secret = dir.write("secret", "s");
    // Nothing listens on port 1.
    let cfg = dir.write(
        "config.yml",
        &config_for("http://127.0.0.1:1", &[("down", SMALL_A)], "c", &secret, ""),
    );
    let out = run(&["status", "--config.file", cfg.to_str().unwrap()], &[]);
    assert_eq!(out.status.code(), Some(2));
    assert!(
        text(&out.stderr).contains(
            "down: could not read the API (nothing could be shown): token: connection failed"
        ),
        "{}",
        text(&out.stderr)
    );
    let json = run(
        &[
            "status",
            "--config.file",
            cfg.to_str().unwrap(),
            "--output",
            "json",
        ],
        &[],
    );
    assert_eq!(json.status.code(), Some(2));
    let doc: Value = serde_json::from_slice(&json.stdout).unwrap();
    assert!(
        doc["environments"][0]["error"]
            .as_str()
            .unwrap()
            .starts_with("token: connection failed")
    );

    let bad = dir.write("bad.yml", "environments: []\n");
    let out = run(&["status", "--config.file", bad.to_str().unwrap()], &[]);
    assert_eq!(out.status.code(), Some(2));
    assert!(
        text(&out.stderr).contains("bad.yml:1:1: environments: the list is empty"),
        "{}",
        text(&out.stderr)
    );
}

/// Every string a dump must not contain: the simulator's store secrets, the
/// client secret, and the users' names and e-mail addresses (read from the
/// API with a token of our own).
fn private_values(sim: &Sim, truth: &Value) -> Vec<String> {
    let mut out = vec!["demo-secret".to_string()];
    for env in truth["environments"].as_array().unwrap() {
        for s in env["stores"].as_array().unwrap() {
            out.extend(
                s["secrets"]
                    .as_array()
                    .unwrap()
                    .iter()
                    .map(|v| v.as_str().unwrap().to_string()),
            );
        }
    }
    assert!(
        out.iter()
            .filter(|s| s.starts_with(STORE_SECRET_PREFIX))
            .count()
            > 3
    );
    let auth = "Basic ZGVtby1jbGllbnQ6ZGVtby1zZWNyZXQ="; // demo-client:demo-secret
    let tok = request(
        "POST",
        &format!("{}/{SMALL_A}/as/token", sim.base),
        &[
            ("Authorization", auth),
            ("Content-Type", "application/x-www-form-urlencoded"),
        ],
        b"grant_type=client_credentials",
    )
    .unwrap();
    let tok: Value = serde_json::from_slice(&tok.body).unwrap();
    let bearer = format!("Bearer {}", tok["access_token"].as_str().unwrap());
    for env in [SMALL_A, SMALL_B] {
        let page = request(
            "GET",
            &format!("{}/v1/environments/{env}/users?limit=1000", sim.base),
            &[("Authorization", &bearer)],
            b"",
        )
        .unwrap();
        let page: Value = serde_json::from_slice(&page.body).unwrap();
        for u in page["_embedded"]["users"].as_array().unwrap() {
            for v in [
                &u["username"],
                &u["email"],
                &u["name"]["given"],
                &u["name"]["family"],
                &u["id"],
            ] {
                out.push(v.as_str().unwrap().to_string());
            }
        }
    }
    out
}

/// Parses a dumped file with the exporter's own parser for its kind.
fn parses(path: &Path) {
    let name = path.file_name().unwrap().to_str().unwrap();
    let body = std::fs::read(path).unwrap();
    let ok = match name {
        "plans.json" => parse_page::<model::Plan>(&body, "plans").map(|p| p.items.len() == 1),
        "stores.json" => parse_page::<model::Store>(&body, "stores")
            .map(|p| !p.items.is_empty() && p.skipped == 0),
        "rules.json" => {
            parse_page::<model::Rule>(&body, "rules").map(|p| !p.items.is_empty() && p.skipped == 0)
        }
        "users.json" => parse_page::<model::User>(&body, "users")
            .map(|p| p.items.len() == 5 && p.next.is_some()),
        "revision-latest.json" => {
            model::parse_one::<model::Revision>(&body).map(|r| r.created_at.is_some())
        }
        "manifest.json" => serde_json::from_slice::<Value>(&body).map(|v| v["requests"].is_array()),
        n if n.starts_with("synced-groups-") => {
            parse_page::<model::SyncedGroup>(&body, "syncedGroups")
                .map(|p| p.items.iter().all(|g| g.status.is_some()))
        }
        n if n.starts_with("synced-rules-") => {
            model::parse_one::<model::SyncedRule>(&body).map(|r| r.status.is_some())
        }
        other => panic!("unexpected file {other}"),
    };
    assert!(
        ok.unwrap_or_else(|e| panic!("{name}: {e}")),
        "{name} parsed but is empty"
    );
}

#[test]
fn dump_writes_scrubbed_fixtures_the_parser_accepts() {
    let (sim, dir, cfg) = setup(&[("small-a", SMALL_A), ("small-b", SMALL_B)]);
    let out_dir = dir.0.path().join("dump");
    let out = run(
        &[
            "dump",
            "--config.file",
            &cfg,
            "--out",
            out_dir.to_str().unwrap(),
        ],
        &[],
    );
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    assert!(
        text(&out.stdout).contains("environment \"small-a\": wrote 14 files"),
        "{}",
        text(&out.stdout)
    );
    let truth = sim.truth();
    let private = private_values(&sim, &truth);
    let mut files = 0;
    for env in ["small-a", "small-b"] {
        for entry in std::fs::read_dir(out_dir.join(env)).unwrap() {
            let path = entry.unwrap().path();
            let content = std::fs::read_to_string(&path).unwrap();
            for p in &private {
                assert!(
                    !content.contains(p.as_str()),
                    "{} contains {p:?}",
                    path.display()
                );
            }
            assert!(
                !content.contains('@'),
                "{}: an e-mail address survived",
                path.display()
            );
            parses(&path);
            files += 1;
        }
    }
    // small-a: plans, stores, rules, revision, 3 syncedGroups, users and 6 of
    // the 15 sampled (user, rule) pairs that have a record, plus the manifest.
    assert_eq!(files, 15 + 12);
    let stores = std::fs::read_to_string(out_dir.join("small-a/stores.json")).unwrap();
    assert!(
        stores.contains("\"BASIC_AUTH_PASSWORD\": \"<scrubbed>\""),
        "configuration keys stay, values go"
    );
    let manifest: Value = serde_json::from_str(
        &std::fs::read_to_string(out_dir.join("small-a/manifest.json")).unwrap(),
    )
    .unwrap();
    let no_record = manifest["requests"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|r| r["result"].as_str().unwrap().starts_with("404"))
        .count();
    assert_eq!(no_record, 9);

    // A second dump never mixes with the first.
    let again = run(
        &[
            "dump",
            "--config.file",
            &cfg,
            "--out",
            out_dir.to_str().unwrap(),
            "--environment",
            "small-b",
        ],
        &[],
    );
    assert_eq!(again.status.code(), Some(2));
    assert!(
        text(&again.stderr).contains("already holds files"),
        "{}",
        text(&again.stderr)
    );
}

#[test]
fn resync_refuses_without_yes_and_creates_a_revision_with_it() {
    let (sim, _dir, cfg) = setup(&[("small-a", SMALL_A), ("small-b", SMALL_B)]);
    let before = sim.truth();
    let refused = run(
        &["resync", "--config.file", &cfg, "--environment", "small-a"],
        &[],
    );
    assert_eq!(refused.status.code(), Some(2));
    assert!(refused.stdout.is_empty());
    assert_eq!(
        text(&refused.stderr),
        format!(
            "resync: refusing to resync environment \"small-a\" ({SMALL_A}) without --yes: a new propagation revision makes PingOne resynchronise every rule, user and group of the environment, and restarts its sync counters. Nothing was sent. Run again with --yes to do it.\n"
        )
    );
    let unknown = run(
        &[
            "resync",
            "--config.file",
            &cfg,
            "--environment",
            "prod",
            "--yes",
        ],
        &[],
    );
    assert_eq!(unknown.status.code(), Some(2));
    assert!(text(&unknown.stderr).contains("no environment named \"prod\""));
    assert_eq!(
        sim.truth()["environments"],
        before["environments"],
        "nothing was sent"
    );

    let done = run(
        &[
            "resync",
            "--config.file",
            &cfg,
            "--environment",
            "small-a",
            "--yes",
        ],
        &[],
    );
    assert_eq!(done.status.code(), Some(0), "{}", text(&done.stderr));
    let after = sim.truth();
    let env = env_truth(&after, SMALL_A);
    assert_eq!(env["resyncs"], 1);
    assert_eq!(
        env_truth(&after, SMALL_B)["resyncs"],
        0,
        "only the named environment"
    );
    let rev = env["revision"]["id"].as_str().unwrap();
    assert_eq!(
        env["revision"]["previous_id"],
        env_truth(&before, SMALL_A)["revision"]["id"]
    );
    assert!(text(&done.stdout).starts_with(&format!("resync: created propagation revision {rev} at 2026-01-01T00:00:15Z in environment \"small-a\"")), "{}", text(&done.stdout));
    // The simulator resets its counts the way the real service does at a new revision.
    for rule in env["rules"].as_array().unwrap() {
        assert_eq!(rule["users"]["success"], 0, "{}", rule["name"]);
        assert_eq!(rule["users"]["unsynced"], rule["users"]["impacted"]);
        assert_eq!(rule["deprovision_failures"], 0);
    }
    // ...and `status` shows it.
    let status = run(&["status", "--config.file", &cfg, "--output", "json"], &[]);
    let doc: Value = serde_json::from_slice(&status.stdout).unwrap();
    let scim = doc["environments"][0]["rules"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["name"] == "SCIM outbound")
        .unwrap()
        .clone();
    assert_eq!(scim["events"]["success"], 0);
    assert_eq!(scim["events"]["failure"], 0);
    assert_eq!(scim["users"]["success"], Value::Null);
}

/// `user_detail:` for every environment of a test config.
const USER_DETAIL: &str = "    user_detail: {enabled: true}\n";

#[test]
fn status_failures_lists_the_failing_users_of_the_simulator() {
    let sim = Sim::start(&small_scenario());
    let dir = Dir::new();
    let cfg = dir.demo_config(&sim.base, &[("small-a", SMALL_A)], USER_DETAIL);
    let cfg = cfg.to_str().unwrap();
    let out = run(
        &[
            "status",
            "--config.file",
            cfg,
            "--failures",
            "--output",
            "json",
        ],
        &[],
    );
    let doc: Value = serde_json::from_slice(&out.stdout).unwrap();
    let truth = sim.truth();
    let env = env_truth(&truth, SMALL_A);
    let listed = doc["environments"][0]["rules"].as_array().unwrap();
    let mut failing = 0;
    for t in env["rules"].as_array().unwrap() {
        let failed = t["users"]["failed"].as_u64().unwrap_or(0);
        let r = listed.iter().find(|r| r["id"] == t["id"]);
        if failed == 0 || t["active"] != true {
            assert!(r.is_none(), "{}: {r:?}", t["name"]);
            continue;
        }
        failing += 1;
        let r = r.unwrap_or_else(|| panic!("{} is not listed", t["name"]));
        assert_eq!(r["failed_users"], failed, "{}", t["name"]);
        let users = r["users"].as_array().unwrap();
        assert_eq!(users.len() as u64, failed.min(20));
        assert_eq!(r["more"], failed - failed.min(20));
        for u in users {
            assert_eq!(u["state"], "failed");
            assert_eq!(u["rule"], t["name"]);
            assert!(u["user_id"].as_str().is_some_and(|id| !id.is_empty()));
            assert!(
                u["last_sync_at"].as_str().and_then(parse_rfc3339).is_some()
                    || u["last_sync_at"].is_null()
            );
        }
    }
    assert!(failing > 0, "the small scenario has failing users");
    assert_eq!(out.status.code(), Some(1), "{}", text(&out.stderr));

    let table = run(&["status", "--config.file", cfg, "--failures"], &[]);
    assert_eq!(table.status.code(), Some(1));
    let table = text(&table.stdout);
    assert!(table.starts_with("ENVIRONMENT  RULE "), "{table}");
    assert!(table.contains("  failed  "), "{table}");
    assert!(!table.contains('\x1b'), "{table}");
}

#[test]
fn status_failures_without_user_detail_mode_says_so() {
    let (_sim, _dir, cfg) = setup(&[("small-a", SMALL_A)]);
    let out = run(&["status", "--config.file", &cfg, "--failures"], &[]);
    assert_eq!(out.status.code(), Some(2));
    assert!(out.stdout.is_empty(), "{}", text(&out.stdout));
    assert!(
        text(&out.stderr).contains("user-detail mode is off in every environment"),
        "{}",
        text(&out.stderr)
    );
}

#[test]
fn dump_keeps_the_failing_users_records_in_user_detail_mode() {
    let sim = Sim::start(&small_scenario());
    let dir = Dir::new();
    let cfg = dir.demo_config(&sim.base, &[("small-a", SMALL_A)], USER_DETAIL);
    let out_dir = dir.0.path().join("dump");
    let out = run(
        &[
            "dump",
            "--config.file",
            cfg.to_str().unwrap(),
            "--out",
            out_dir.to_str().unwrap(),
        ],
        &[],
    );
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    let truth = sim.truth();
    let private = private_values(&sim, &truth);
    let env = env_truth(&truth, SMALL_A);
    let mut checked = 0;
    for t in env["rules"].as_array().unwrap() {
        let failed = t["users"]["failed"].as_u64().unwrap_or(0);
        if t["active"] != true || failed == 0 {
            continue;
        }
        let id = t["id"].as_str().unwrap();
        let mut failing_files = 0;
        for entry in std::fs::read_dir(out_dir.join("small-a")).unwrap() {
            let path = entry.unwrap().path();
            let name = path.file_name().unwrap().to_str().unwrap().to_string();
            if !(name.starts_with("synced-rules-") && name.ends_with(&format!("-{id}.json"))) {
                continue;
            }
            let content = std::fs::read_to_string(&path).unwrap();
            for p in &private {
                assert!(!content.contains(p.as_str()), "{name} contains {p:?}");
            }
            parses(&path);
            let record: model::SyncedRule = model::parse_one(content.as_bytes()).unwrap();
            if record.status.as_deref() == Some("FAILED") {
                failing_files += 1;
            }
        }
        assert!(
            failing_files >= failed.min(20),
            "{}: {failing_files} failing records of {failed}",
            t["name"]
        );
        checked += 1;
    }
    assert!(checked > 0, "the small scenario has failing users");
}

/// A config of small-a on the `default` budget (50 requests/s) and small-b
/// on `slow`, at `slow_rate` requests/s, both read every 10 s.
fn plan_config(dir: &Dir, sim: &Sim, slow_rate: &str) -> String {
    let secret = dir.write("secret", "demo-secret\n");
    let base = config_for(
        &sim.base,
        &[("small-a", SMALL_A), ("small-b", SMALL_B)],
        "demo-client",
        &secret,
        "",
    );
    // small-b (the second environment) names the slow budget.
    let (a, b) = base.split_at(base.find("  - name: small-b").unwrap());
    let b = b.replacen("    api_url:", "    budget: slow\n    api_url:", 1);
    let cfg = format!(
        "{a}{b}budgets:\n  slow:\n    max_requests_per_second: {slow_rate}\n    max_concurrent_requests: 1\n"
    );
    let path = dir.write("plan.yml", &cfg);
    path.to_str().unwrap().to_string()
}

#[test]
fn status_plan_prints_each_budget_and_exits_1_when_one_is_over_subscribed() {
    let sim = Sim::start(&small_scenario());
    let dir = Dir::new();
    let over = run(
        &[
            "status",
            "--plan",
            "--config.file",
            &plan_config(&dir, &sim, "0.3"),
        ],
        &[],
    );
    assert_eq!(over.status.code(), Some(1), "{}", text(&over.stderr));
    assert!(over.stderr.is_empty(), "{}", text(&over.stderr));
    common::golden::assert_matches("tests/golden/status-plan.txt", &text(&over.stdout));

    // The same tenant with room in the slow budget: every budget fits.
    let fits = run(
        &[
            "status",
            "--plan",
            "--output",
            "json",
            "--config.file",
            &plan_config(&dir, &sim, "5"),
        ],
        &[],
    );
    assert_eq!(fits.status.code(), Some(0), "{}", text(&fits.stderr));
    let plans: Value = serde_json::from_slice(&fits.stdout).unwrap();
    let names: Vec<&str> = plans
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["budget"].as_str().unwrap())
        .collect();
    assert_eq!(names, ["default", "slow"]);
    assert_eq!(plans[1]["environments"], 1);
    assert_eq!(plans[1]["fits"], true);
}
