//! End to end: the real binary, over real sockets, against the project's
//! PingOne simulator (`pingone-sync-exporter simulate`), with the numbers
//! checked against the simulator's ground truth (`/_sim/truth`).

#![allow(clippy::unwrap_used, clippy::expect_used)] // test code: a panic is a test failure

mod common;

use std::time::Duration;

use common::*;
use serde_json::Value;

const READY: Duration = Duration::from_secs(30);

fn setup(envs: &[(&str, &str)]) -> (Sim, Exporter, Dir) {
    let sim = Sim::start(&small_scenario());
    let dir = Dir::new();
    let cfg = dir.demo_config(&sim.base, envs, "");
    let exp = Exporter::start(&[
        "--config.file",
        cfg.to_str().unwrap(),
        "--web.enable-lifecycle",
    ]);
    exp.wait_ready(READY);
    (sim, exp, dir)
}

fn ts(v: &Value) -> Option<f64> {
    v.as_str()
        .and_then(pingone_sync_exporter::timefmt::parse_rfc3339)
}

#[test]
fn metrics_match_the_simulators_ground_truth() {
    let (sim, exp, _dir) = setup(&[("small-a", SMALL_A), ("small-b", SMALL_B)]);
    let m = exp.metrics();
    let truth = sim.truth();
    let mut checked = 0;
    for env_id in [SMALL_A, SMALL_B] {
        let env = env_truth(&truth, env_id);
        assert_eq!(
            m.one("pingone_exporter_up", &[("environment_id", env_id)]),
            Some(1.0)
        );
        assert_eq!(
            m.one(
                "pingone_provisioning_revision_timestamp_seconds",
                &[("environment_id", env_id)]
            ),
            ts(&env["revision"]["createdAt"])
        );
        let stores = env["stores"].as_array().unwrap();
        for rule in env["rules"].as_array().unwrap() {
            let id = rule["id"].as_str().unwrap();
            let l = [("environment_id", env_id), ("rule_id", id)];
            let info = m
                .samples
                .iter()
                .find(|(n, lab, _)| n == "pingone_provisioning_rule_info" && lab["rule_id"] == id)
                .unwrap_or_else(|| panic!("no rule_info for {id}"));
            assert_eq!(info.1["rule_name"], rule["name"].as_str().unwrap());
            assert_eq!(info.1["direction"], rule["direction"].as_str().unwrap());
            assert_eq!(info.1["environment_name"], env["name"].as_str().unwrap());
            assert_eq!(
                info.1["source_store"],
                rule["source_store"]["name"].as_str().unwrap()
            );
            assert_eq!(
                info.1["target_type"],
                rule["target_store"]["type"].as_str().unwrap()
            );
            assert_eq!(
                info.1["parent_rule_id"],
                rule["parent_rule_id"].as_str().unwrap_or("")
            );
            let active = rule["active"].as_bool().unwrap();
            assert_eq!(
                m.one("pingone_provisioning_rule_enabled", &l),
                Some(f64::from(u8::from(active)))
            );

            // The fixed mapping: impacted users and the event counters come
            // from the connection store's syncStatus, on the store's owner
            // only (a Workday store shared by an inbound rule and its
            // write-back rule is counted on the inbound rule; see
            // docs/metrics.md).
            let conn = rule["connection_store_id"].as_str().unwrap();
            let store = stores.iter().find(|s| s["id"] == conn).unwrap();
            let owner = rule["direction"] != "writeback";
            let st = &store["sync_status"];
            let n = |v: &Value| v.as_u64().map(|n| n as f64).filter(|_| owner);
            assert_eq!(
                m.one("pingone_provisioning_users_impacted", &l),
                n(&st["userTotal"]),
                "{id}"
            );
            // Events are the simulator's events (accumulated per sync run,
            // reset by a revision), not its users.
            let events = &rule["events"];
            let ev = |k: &str| n(&events[k]).filter(|_| !st.is_null());
            assert_eq!(
                m.one(
                    "pingone_provisioning_sync_events_total",
                    &[l[0], l[1], ("result", "success")]
                ),
                n(&st["successCount"]),
                "{id}"
            );
            assert_eq!(
                m.one(
                    "pingone_provisioning_sync_events_total",
                    &[l[0], l[1], ("result", "failure")]
                ),
                n(&st["failedCount"]),
                "{id}"
            );
            assert_eq!(
                m.one("pingone_provisioning_deprovision_failure_events_total", &l),
                n(&st["failedDeprovisionCount"])
            );
            // The store counts its rules' events: where it serves one rule
            // they are that rule's own.
            if owner && rule["direction"] == "outbound" {
                assert_eq!(n(&st["successCount"]), ev("success"), "{id}");
                assert_eq!(n(&st["failedCount"]), ev("failed"), "{id}");
            }
            // Users per state only in user-detail mode: the store counts
            // events, not users.
            for state in ["success", "failed", "unsynced", "partial"] {
                assert_eq!(
                    m.one(
                        "pingone_provisioning_users",
                        &[l[0], l[1], ("state", state)]
                    ),
                    None,
                    "{id} {state}"
                );
            }
            // The store's status and its cleaned error details, on every
            // rule using the store.
            if !st.is_null() {
                assert_eq!(
                    m.one(
                        "pingone_provisioning_store_status",
                        &[l[0], l[1], ("status", "active")]
                    ),
                    Some(1.0),
                    "{id}"
                );
            }
            let details = st["details"]
                .as_str()
                .and_then(|d| pingone_sync_exporter::redact::clean_details(d, &[]));
            let info = m.samples.iter().find(|(n, lab, _)| {
                n == "pingone_provisioning_sync_error_info" && lab["rule_id"] == id
            });
            assert_eq!(
                info.map(|(_, lab, v)| (lab["details"].clone(), *v)),
                details.map(|d| (d, 1.0)),
                "{id}"
            );
            // Failing as the exporter saw it: a FAILED store is failing from
            // the first poll on.
            let since = m.one("pingone_provisioning_failing_since_timestamp_seconds", &l);
            let polls = m.one("pingone_provisioning_failing_polls", &l);
            if st["syncState"] == "FAILED" {
                assert!(since.is_some() && polls >= Some(1.0), "{id}");
            } else if st.is_null() {
                assert_eq!((since, polls), (None, None), "{id}");
            }
            assert_eq!(
                m.one("pingone_provisioning_last_sync_timestamp_seconds", &l),
                ts(&st["lastSyncAt"])
            );
            // No documented source: absent, never a made-up 0.
            assert_eq!(
                m.one("pingone_provisioning_last_poll_timestamp_seconds", &l),
                None
            );

            let failed = st["syncState"] == "FAILED";
            let status = if failed {
                "failed"
            } else if active {
                "active"
            } else {
                "inactive"
            };
            assert_eq!(
                m.one(
                    "pingone_provisioning_rule_status",
                    &[l[0], l[1], ("status", status)]
                ),
                Some(1.0)
            );
            assert_eq!(
                m.find("pingone_provisioning_rule_status", &l)
                    .iter()
                    .sum::<f64>(),
                1.0
            );

            // Groups: counted from syncedGroups for enabled rules only.
            let g = &rule["groups"];
            let n = |v: &Value| v.as_u64().map(|n| n as f64);
            if active {
                assert_eq!(
                    m.one("pingone_provisioning_groups_impacted", &l),
                    n(&g["impacted"]),
                    "{id}"
                );
                // A state is served when it counts a group, or as 0 when
                // every group had an accepted status; never partial/unsynced.
                let unread: u64 = ["partial", "unsynced", "other"]
                    .iter()
                    .map(|k| g[k].as_u64().unwrap())
                    .sum();
                for state in ["success", "failed"] {
                    let want = g[state].as_u64().filter(|c| *c > 0 || unread == 0);
                    assert_eq!(
                        m.one(
                            "pingone_provisioning_groups",
                            &[l[0], l[1], ("state", state)]
                        ),
                        want.map(|c| c as f64),
                        "{id} {state}"
                    );
                }
                for state in ["partial", "unsynced"] {
                    assert_eq!(
                        m.one(
                            "pingone_provisioning_groups",
                            &[l[0], l[1], ("state", state)]
                        ),
                        None
                    );
                }
            } else {
                assert_eq!(m.one("pingone_provisioning_groups_impacted", &l), None);
            }
            checked += 1;
        }
    }
    assert_eq!(checked, 5, "every rule of both environments was checked");
    // A dashboard sum over rules counts every store once.
    for env_id in [SMALL_A, SMALL_B] {
        let env = env_truth(&truth, env_id);
        let stores: f64 = env["stores"]
            .as_array()
            .unwrap()
            .iter()
            .filter_map(|s| s["sync_status"]["userTotal"].as_f64())
            .sum();
        let rules: f64 = m
            .find(
                "pingone_provisioning_users_impacted",
                &[("environment_id", env_id)],
            )
            .iter()
            .sum();
        assert_eq!(rules, stores, "{env_id}");
    }
    // Where a store serves one rule, its numbers are that rule's own.
    let scim = env_truth(&truth, SMALL_A)["rules"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["name"] == "SCIM outbound")
        .unwrap();
    let l = [("rule_id", scim["id"].as_str().unwrap())];
    assert_eq!(
        m.one("pingone_provisioning_users_impacted", &l),
        scim["users"]["impacted"].as_f64()
    );
    // successCount/failedCount count sync events since the revision, not
    // users: the exporter serves the events. The simulator's events differ
    // from its users, so serving one as the other fails here.
    assert_ne!(scim["events"]["success"], scim["users"]["success"]);
    assert_eq!(
        m.one(
            "pingone_provisioning_sync_events_total",
            &[l[0], ("result", "success")]
        ),
        scim["events"]["success"].as_f64()
    );
    assert_eq!(
        m.one(
            "pingone_provisioning_sync_events_total",
            &[l[0], ("result", "failure")]
        ),
        scim["events"]["failed"].as_f64()
    );
    assert_eq!(
        m.one("pingone_provisioning_users", &[l[0], ("state", "success")]),
        None
    );
}

#[test]
fn a_deleted_rule_vanishes_at_the_next_poll() {
    let (sim, exp, _dir) = setup(&[("small-a", SMALL_A)]);
    let truth = sim.truth();
    let rules = env_truth(&truth, SMALL_A)["rules"]
        .as_array()
        .unwrap()
        .clone();
    let victim = rules.iter().find(|r| r["name"] == "SCIM outbound").unwrap()["id"]
        .as_str()
        .unwrap()
        .to_string();
    let survivor = rules
        .iter()
        .find(|r| r["name"] == "Workday inbound")
        .unwrap()["id"]
        .as_str()
        .unwrap()
        .to_string();
    let before = exp.metrics();
    assert!(before.text.contains(&victim));
    let polls = |m: &Metrics| {
        m.one(
            "pingone_exporter_poll_duration_seconds_count",
            &[("environment_id", SMALL_A)],
        )
    };
    let polled = polls(&before).unwrap();

    let r = sim.control(&format!("rules/{victim}/delete"));
    assert_eq!(r.status, 200, "{}", r.text());
    // The next poll that started after the delete: one already in flight
    // may have read the rules before it and finish after it.
    let after = wait_for("the next poll", Duration::from_secs(30), || {
        let m = exp.metrics();
        (polls(&m).unwrap() > polled + 1.0).then_some(m)
    });
    assert!(
        !after.text.contains(&victim),
        "series of the deleted rule remain"
    );
    assert!(after.text.contains(&survivor));
    assert_eq!(
        after.one("pingone_exporter_up", &[("environment_id", SMALL_A)]),
        Some(1.0)
    );
}

#[test]
fn endpoints_answer_as_documented() {
    let (_sim, exp, _dir) = setup(&[("small-b", SMALL_B)]);
    assert_eq!(get(&exp.url("/-/healthy")).status, 200);
    assert_eq!(get(&exp.url("/-/ready")).status, 200);

    let om = request(
        "GET",
        &exp.url("/metrics"),
        &[(
            "Accept",
            "application/openmetrics-text;version=1.0.0,text/plain;version=0.0.4;q=0.5",
        )],
        b"",
    )
    .unwrap();
    assert_eq!(
        om.header("content-type"),
        Some("application/openmetrics-text; version=1.0.0; charset=utf-8")
    );
    assert!(om.text().ends_with("# EOF\n"));
    let classic = get(&exp.url("/metrics"));
    assert_eq!(
        classic.header("content-type"),
        Some("text/plain; version=0.0.4; charset=utf-8")
    );
    assert!(!classic.text().contains("# EOF"));
    assert!(
        classic
            .text()
            .contains("# TYPE pingone_exporter_api_requests_total counter")
    );

    let gz = request(
        "GET",
        &exp.url("/metrics"),
        &[("Accept-Encoding", "gzip")],
        b"",
    )
    .unwrap();
    assert_eq!(gz.header("content-encoding"), Some("gzip"));
    let mut plain = String::new();
    std::io::Read::read_to_string(&mut flate2::read::GzDecoder::new(&gz.body[..]), &mut plain)
        .unwrap();
    assert!(plain.contains("pingone_provisioning_rule_info"));
    // In both formats the gzip answer lists the families of the plain one
    // in the same order, and the lines that follow the clock (the plan's
    // data ages, coded apart from the kept live part) come last, before
    // the OpenMetrics trailer.
    for accept in ["text/plain", "application/openmetrics-text;version=1.0.0"] {
        let gz = request(
            "GET",
            &exp.url("/metrics"),
            &[("Accept", accept), ("Accept-Encoding", "gzip")],
            b"",
        )
        .unwrap();
        let mut unzipped = String::new();
        std::io::Read::read_to_string(
            &mut flate2::read::GzDecoder::new(&gz.body[..]),
            &mut unzipped,
        )
        .unwrap();
        let plain = request("GET", &exp.url("/metrics"), &[("Accept", accept)], b"").unwrap();
        let types = |t: &str| -> Vec<String> {
            t.lines()
                .filter(|l| l.starts_with("# TYPE"))
                .map(str::to_string)
                .collect()
        };
        assert_eq!(types(&unzipped), types(&plain.text()), "{accept}");
        let last = unzipped.lines().rfind(|l| !l.starts_with('#'));
        assert!(
            last.is_some_and(|l| l.starts_with("pingone_exporter_data_age_seconds{")),
            "{accept}: last sample {last:?}"
        );
        assert_eq!(
            unzipped.ends_with("# EOF\n"),
            accept.contains("openmetrics"),
            "{accept}"
        );
    }

    let head = request("HEAD", &exp.url("/metrics"), &[], b"").unwrap();
    assert_eq!(head.status, 200);
    assert!(head.body.is_empty());

    let landing = get(&exp.url("/"));
    assert_eq!(landing.status, 200);
    assert!(landing.text().contains("small-b") && landing.text().contains("href=\"/metrics\""));

    let reload_get = get(&exp.url("/-/reload"));
    assert_eq!(reload_get.status, 405);
    assert_eq!(reload_get.header("allow"), Some("POST, PUT"));
    assert_eq!(
        request("PUT", &exp.url("/metrics"), &[], b"x")
            .unwrap()
            .status,
        405
    );
    assert_eq!(get(&exp.url("/nope")).status, 404);
    assert_eq!(get(&exp.url("/metrics/../etc/passwd")).status, 404);
    assert_eq!(post(&exp.url("/-/reload")).status, 200);
    assert_eq!(
        m_value(&exp, "pingone_exporter_config_last_reload_successful"),
        Some(1.0)
    );
}

fn m_value(exp: &Exporter, name: &str) -> Option<f64> {
    exp.metrics().one(name, &[])
}

#[test]
fn not_ready_until_the_first_poll_finished() {
    // An API that accepts connections but never answers.
    let silent = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let base = format!("http://{}", silent.local_addr().unwrap());
    let dir = Dir::new();
    let secret = dir.write("secret", "x");
    let cfg = dir.write(
        "config.yml",
        &config_for(&base, &[("silent", SMALL_A)], "c", &secret, ""),
    );
    let exp = Exporter::start(&["--config.file", cfg.to_str().unwrap()]);
    let r = get(&exp.url("/-/ready"));
    assert_eq!(r.status, 503);
    assert!(
        r.text().contains("waiting for the first poll of 1 of 1"),
        "{}",
        r.text()
    );
    // Metrics are served meanwhile, without calling the silent API.
    let m = get(&exp.url("/metrics"));
    assert_eq!(m.status, 200);
    assert!(m.text().contains("pingone_exporter_up{environment_id=\"5a11a000-0000-4000-8000-00000000000a\",environment_name=\"silent\"} 0"));
    drop(silent);
}

#[test]
fn sigterm_stops_cleanly_with_exit_code_zero() {
    let (_sim, mut exp, _dir) = setup(&[("small-b", SMALL_B)]);
    exp.proc.signal("TERM");
    assert_eq!(
        exp.proc.wait_exit(Duration::from_secs(10)),
        Some(0),
        "{}",
        exp.proc.output()
    );
}

#[test]
fn config_check_prints_config_ok_or_the_problems() {
    let dir = Dir::new();
    let secret = dir.write("secret", "s");
    let good = dir.write(
        "good.yml",
        &config_for("http://127.0.0.1:1", &[("a", SMALL_A)], "c", &secret, ""),
    );
    let out = std::process::Command::new(bin())
        .args(["--config.check", "--config.file", good.to_str().unwrap()])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0));
    assert_eq!(String::from_utf8_lossy(&out.stdout), "config OK\n");

    let bad = dir.write(
        "bad.yml",
        "global:\n  poll_interval: 5s\nenvironments: []\n",
    );
    let out = std::process::Command::new(bin())
        .args(["--config.check", "--config.file", bad.to_str().unwrap()])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        text.contains("bad.yml:2:18: global.poll_interval"),
        "{text}"
    );
}
