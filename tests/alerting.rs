//! The built-in alert sender against a real Alertmanager (Debian's
//! `prometheus-alertmanager`), with the real binary polling the project's
//! simulator (`tests/fixtures/scenarios/failures.yml`: a store that fails
//! every sync, a rule forced to FAILED, high failure rates).
//!
//! Each test is bounded: `poll_interval` is the minimum (10 s), `for` and
//! the evaluation interval are a few seconds, and every wait has a limit.

#![allow(clippy::unwrap_used, clippy::expect_used)] // test code: a panic is a test failure

#[path = "common/alertmanager.rs"]
mod alertmanager;
mod common;

use std::collections::BTreeMap;
use std::path::Path;
use std::time::Duration;

use alertmanager::{Alertmanager, free_port, label};
use common::*;
use pingone_sync_exporter::timefmt::{now_unix, parse_rfc3339};
use serde_json::Value;

const ENV_ID: &str = "fa110000-0000-4000-8000-000000000001";
const READY: Duration = Duration::from_secs(30);
const RUNBOOK: &str =
    "https://github.com/pingone-sync-exporter/pingone-sync-exporter/blob/main/docs/runbook.md";

fn failures() -> std::path::PathBuf {
    std::path::PathBuf::from("tests/fixtures/scenarios/failures.yml")
}

/// A daemon config for the failures tenant at `sim_base` plus `alerting`.
fn config(sim_base: &str, secret: &Path, alerting: &str) -> String {
    format!(
        "global:\n  poll_interval: 10s\n  rules_interval: 10s\n  groups_interval: 10s\n  request_timeout: 5s\n  max_requests_per_second: 50\nenvironments:\n  - name: failures\n    id: {ENV_ID}\n    api_url: {sim_base}/v1\n    auth_url: {sim_base}\n    credentials:\n      client_id: demo-client\n      client_secret_file: {}\n{alerting}",
        secret.display()
    )
}

/// `alerting:` for `urls`, fast, with only the named conditions on (each
/// with its `for`) and the external label `cluster: e2e`.
fn alerting(urls: &[&str], on: &[(&str, &str)], extra_am: &str) -> String {
    let all = [
        "PingOneProvisioningSyncFailing",
        "PingOneProvisioningSyncFailuresOutstanding",
        "PingOneProvisioningGroupsFailing",
        "PingOneProvisioningWritebackFailing",
        "PingOneProvisioningRuleFailed",
        "PingOneProvisioningSyncStale",
        "PingOneExporterPollFailing",
        "PingOneExporterDataStale",
        "PingOneExporterRateLimited",
        "PingOneExporterAuthFailing",
    ];
    let mut s = format!(
        "alerting:\n  alertmanager:\n    urls: [{}]\n    timeout: 2s\n{extra_am}  evaluation_interval: 1s\n  resend_interval: 5s\n  external_labels: {{cluster: e2e}}\n  alerts:\n",
        urls.join(", ")
    );
    for name in all {
        match on.iter().find(|(n, _)| *n == name) {
            Some((_, hold)) => s.push_str(&format!("    {name}: {{for: {hold}}}\n")),
            None => s.push_str(&format!("    {name}: {{enabled: false}}\n")),
        }
    }
    s
}

struct Setup {
    sim: Sim,
    dir: Dir,
}

fn setup() -> Setup {
    let sim = Sim::start(&failures());
    let dir = Dir::new();
    dir.write("secret", "demo-secret\n");
    Setup { sim, dir }
}

impl Setup {
    fn daemon(&self, name: &str, alerting: &str) -> Exporter {
        let secret = self.dir.0.path().join("secret");
        let cfg = self
            .dir
            .write(name, &config(&self.sim.base, &secret, alerting));
        let exp = Exporter::start(&[
            "--config.file",
            cfg.to_str().unwrap(),
            "--web.enable-lifecycle",
        ]);
        exp.wait_ready(READY);
        exp
    }

    fn rule_id(&self, name: &str) -> String {
        self.sim.truth()["environments"][0]["rules"]
            .as_array()
            .unwrap()
            .iter()
            .find(|r| r["name"] == name)
            .and_then(|r| r["id"].as_str())
            .unwrap_or_else(|| panic!("no rule {name}"))
            .to_string()
    }
}

/// Alerts in `am` named `alertname` whose `key` label is `value`.
fn matching(am: &Alertmanager, alertname: &str, key: &str, value: &str) -> Vec<Value> {
    am.alerts()
        .into_iter()
        .filter(|a| label(a, "alertname") == alertname && label(a, key) == value)
        .collect()
}

fn strings(v: &Value) -> BTreeMap<String, String> {
    v.as_object()
        .unwrap()
        .iter()
        .map(|(k, v)| (k.clone(), v.as_str().unwrap_or("").to_string()))
        .collect()
}

fn map(pairs: &[(&str, &str)]) -> BTreeMap<String, String> {
    pairs
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect()
}

fn metric(exp: &Exporter, name: &str, labels: &[(&str, &str)]) -> Option<f64> {
    exp.metrics().one(name, labels)
}

#[test]
fn a_failed_rule_pages_after_for_across_a_reload_with_the_rules_labels_and_resolves_when_disabled()
{
    let s = setup();
    let am = Alertmanager::start();
    let on = [("PingOneProvisioningRuleFailed", "5s")];
    let exp = s.daemon("config.yml", &alerting(&[&am.url], &on, ""));
    let first_poll = metric(
        &exp,
        "pingone_exporter_last_success_timestamp_seconds",
        &[("environment_id", ENV_ID)],
    )
    .expect("a successful first poll");
    let rule_id = s.rule_id("Salesforce forced failed");

    // While the alert is pending, reload a changed config (a new timeout
    // rebuilds the senders): the pending alert keeps its `for` clock.
    let pause = first_poll + 3.0 - now_unix();
    assert!(pause > 0.5, "the first poll was {:.1}s ago", 3.0 - pause);
    std::thread::sleep(Duration::from_secs_f64(pause));
    assert!(
        am.alerts().is_empty(),
        "fired before its `for`: {:?}",
        am.alerts()
    );
    let secret = s.dir.0.path().join("secret");
    let changed = alerting(&[&am.url], &on, "").replace("timeout: 2s", "timeout: 3s");
    s.dir
        .write("config.yml", &config(&s.sim.base, &secret, &changed));
    let r = post(&exp.url("/-/reload"));
    assert_eq!(r.status, 200, "{}", r.text());

    let alert = wait_for("the alert in Alertmanager", Duration::from_secs(20), || {
        matching(&am, "PingOneProvisioningRuleFailed", "rule_id", &rule_id).pop()
    });
    assert_eq!(
        strings(&alert["labels"]),
        map(&[
            ("alertname", "PingOneProvisioningRuleFailed"),
            ("severity", "critical"),
            ("environment_id", ENV_ID),
            ("environment_name", "failures"),
            ("rule_id", &rule_id),
            ("rule_name", "Salesforce forced failed"),
            ("direction", "outbound"),
            ("cluster", "e2e"),
        ])
    );
    let mut annotations = strings(&alert["annotations"]);
    let description = annotations.remove("description").unwrap_or_default();
    assert_eq!(
        annotations,
        map(&[
            (
                "summary",
                "A PingOne provisioning rule is in failed status."
            ),
            (
                "runbook_url",
                &format!("{RUNBOOK}#pingoneprovisioningrulefailed")
            ),
        ])
    );
    // The exporter's failing-since time and PingOne's details, when it
    // has them, follow the fixed text as in the rule file's template.
    let rest = description
        .strip_prefix("Rule \"Salesforce forced failed\" (outbound) in PingOne environment \"failures\" is in failed status: its connection reports a sync failure and users are not being provisioned through it.")
        .unwrap_or_else(|| panic!("{description}"));
    let rest = match rest.strip_prefix(" Failing for ") {
        Some(r) => r
            .split_once(" (as seen by the exporter).")
            .map(|(_, r)| r)
            .unwrap_or_else(|| panic!("{description}")),
        None => rest,
    };
    assert!(
        rest.is_empty() || rest.starts_with(" PingOne says: "),
        "{description}"
    );
    assert_eq!(alert["generatorURL"], format!("{}/", exp.base));
    assert_eq!(alert["status"]["state"], "active");
    // `for: 5s`: it fired no earlier than 5 s after the poll that saw the
    // failure, at the first evaluation (every 1 s) after that, and not 5 s
    // after the reload (3 s after the poll).
    let starts = parse_rfc3339(alert["startsAt"].as_str().unwrap()).unwrap();
    let held = starts - first_poll;
    assert!(
        (5.0..7.5).contains(&held),
        "fired {held:.3}s after the poll"
    );
    // endsAt: 4 × the re-send interval ahead, so it expires if we die.
    let ends = parse_rfc3339(alert["endsAt"].as_str().unwrap()).unwrap();
    assert!(ends > now_unix() + 5.0, "endsAt {ends} is not ahead");

    // The daemon shows it too.
    assert_eq!(
        metric(
            &exp,
            "pingone_exporter_alerts_firing",
            &[("alertname", "PingOneProvisioningRuleFailed")]
        ),
        Some(2.0),
        "the forced-FAILED rule and the broken store's rule"
    );
    let landing = get(&exp.url("/")).text();
    assert!(landing.contains("<h2>Firing alerts (2)</h2>"), "{landing}");
    assert!(landing.contains("Salesforce forced failed"), "{landing}");

    // Recovery: the rule is disabled in PingOne; at the next poll the
    // condition stops holding and the resolution reaches Alertmanager,
    // which then lists it no more. The other failed rule stays.
    let r = s.sim.control(&format!("rules/{rule_id}/deactivate"));
    assert_eq!(r.status, 200, "{}", r.text());
    wait_for("the resolution", Duration::from_secs(25), || {
        matching(&am, "PingOneProvisioningRuleFailed", "rule_id", &rule_id)
            .is_empty()
            .then_some(())
    });
    let others = matching(
        &am,
        "PingOneProvisioningRuleFailed",
        "rule_name",
        "Broken SCIM outbound",
    );
    assert_eq!(others.len(), 1, "{:?}", am.alerts());
    assert!(exp.proc.output().contains("msg=\"alert resolved\" alertname=PingOneProvisioningRuleFailed environment=failures rule=\"Salesforce forced failed\""), "{}", exp.proc.output());
}

#[test]
fn sync_failing_fires_while_failure_events_grow_and_resolves_when_they_stop() {
    let s = setup();
    let am = Alertmanager::start();
    let cfg = alerting(&[&am.url], &[("PingOneProvisioningSyncFailing", "0s")], "").replace(
        "PingOneProvisioningSyncFailing: {for: 0s}",
        "PingOneProvisioningSyncFailing: {for: 0s, window: 25s}",
    );
    let exp = s.daemon("config.yml", &cfg);
    let rule_id = s.rule_id("Broken SCIM outbound");
    // The broken store fails every sync: each tick of the simulator's
    // clock adds failure events, which the next poll sees.
    let alert = wait_for(
        "SyncFailing in Alertmanager",
        Duration::from_secs(40),
        || {
            s.sim.advance(1);
            std::thread::sleep(Duration::from_millis(400));
            matching(&am, "PingOneProvisioningSyncFailing", "rule_id", &rule_id).pop()
        },
    );
    assert_eq!(label(&alert, "severity"), "critical");
    let description = alert["annotations"]["description"].as_str().unwrap_or("");
    assert!(
        description.contains(" of the sync attempts of rule \"Broken SCIM outbound\" (outbound) in PingOne environment \"failures\" failed in the last 25 seconds."),
        "{description}"
    );
    assert_eq!(
        metric(
            &exp,
            "pingone_exporter_alerts_firing",
            &[("alertname", "PingOneProvisioningSyncFailing")]
        )
        .map(|n| n >= 1.0),
        Some(true)
    );
    // The clock stops: no new events, the window slides past the burst
    // and the alert resolves although the failures stay counted.
    wait_for("the resolution", Duration::from_secs(60), || {
        matching(&am, "PingOneProvisioningSyncFailing", "rule_id", &rule_id)
            .is_empty()
            .then_some(())
    });
    assert!(
        exp.proc
            .output()
            .contains("msg=\"alert resolved\" alertname=PingOneProvisioningSyncFailing"),
        "{}",
        exp.proc.output()
    );
}

#[test]
fn poll_failing_fires_when_the_api_goes_away_and_resolves_when_it_is_back() {
    // The simulator on a port of our own, so it can come back on it.
    let port = free_port();
    let listen = format!("127.0.0.1:{port}");
    let scenario = failures();
    let start_sim = || {
        let proc = Proc::spawn(
            &[
                "simulate",
                "--listen",
                &listen,
                "--scenario",
                scenario.to_str().unwrap(),
            ],
            &[],
        );
        proc.wait_for_token_after("simulator listening on ", Duration::from_secs(30));
        proc
    };
    let mut sim = start_sim();
    let base = format!("http://{listen}");
    let dir = Dir::new();
    let secret = dir.write("secret", "demo-secret\n");
    let am = Alertmanager::start();
    let cfg = dir.write(
        "config.yml",
        &config(
            &base,
            &secret,
            &alerting(&[&am.url], &[("PingOneExporterPollFailing", "0s")], ""),
        ),
    );
    let exp = Exporter::start(&["--config.file", cfg.to_str().unwrap()]);
    exp.wait_ready(READY);
    assert!(am.alerts().is_empty(), "{:?}", am.alerts());

    sim.child.kill().unwrap();
    sim.child.wait().unwrap();
    let alert = wait_for(
        "PollFailing in Alertmanager",
        Duration::from_secs(30),
        || {
            am.alerts()
                .into_iter()
                .find(|a| label(a, "alertname") == "PingOneExporterPollFailing")
        },
    );
    assert_eq!(
        strings(&alert["labels"]),
        map(&[
            ("alertname", "PingOneExporterPollFailing"),
            ("severity", "warning"),
            ("environment_id", ENV_ID),
            ("environment_name", "failures"),
            ("cluster", "e2e"),
        ])
    );
    assert_eq!(
        alert["annotations"]["description"],
        "The PingOne sync exporter keeps failing to poll PingOne environment \"failures\"; the provisioning metrics of that environment are not refreshed."
    );

    sim = start_sim();
    wait_for("the resolution", Duration::from_secs(30), || {
        am.alerts().is_empty().then_some(())
    });
    assert_eq!(
        metric(&exp, "pingone_exporter_up", &[("environment_id", ENV_ID)]),
        Some(1.0)
    );
    drop(sim);
}

#[test]
fn every_alert_reaches_the_live_alertmanager_while_another_is_down_or_hangs() {
    let s = setup();
    let live = Alertmanager::start();
    let mut down = Alertmanager::start();
    down.stop();
    // A "slow" Alertmanager: accepts connections and never answers.
    let hang = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let hang_url = format!("http://{}", hang.local_addr().unwrap());
    std::thread::spawn(move || {
        let mut held = Vec::new();
        for c in hang.incoming().flatten() {
            held.push(c);
        }
    });
    let on = [
        ("PingOneProvisioningSyncFailuresOutstanding", "0s"),
        ("PingOneProvisioningGroupsFailing", "0s"),
        ("PingOneProvisioningRuleFailed", "0s"),
    ];
    let exp = s.daemon(
        "config.yml",
        &alerting(&[&hang_url, &down.url, &live.url], &on, ""),
    );
    let firing = |m: &Metrics| -> BTreeMap<String, usize> {
        on.iter()
            .map(|(n, _)| {
                let v = m.one("pingone_exporter_alerts_firing", &[("alertname", n)]);
                (n.to_string(), v.unwrap_or(0.0) as usize)
            })
            .collect()
    };
    let in_am = |am: &Alertmanager| -> BTreeMap<String, usize> {
        let mut c: BTreeMap<String, usize> = on.iter().map(|(n, _)| (n.to_string(), 0)).collect();
        for a in am.alerts() {
            *c.entry(label(&a, "alertname").to_string()).or_default() += 1;
        }
        c
    };
    let expected = firing(&exp.metrics());
    let total: usize = expected.values().sum();
    assert!(
        total >= 6,
        "failures.yml should fire several alerts: {expected:?}"
    );
    // Well within the 2 s timeout of the hanging one.
    wait_for(
        "every alert in the live Alertmanager",
        Duration::from_secs(5),
        || (in_am(&live) == expected).then_some(()),
    );
    let errors = |url: &str| {
        metric(
            &exp,
            "pingone_exporter_alert_send_errors_total",
            &[("alertmanager", url)],
        )
        .unwrap_or(0.0)
    };
    assert_eq!(errors(&live.url), 0.0);
    wait_for("the failures counted", Duration::from_secs(5), || {
        (errors(&down.url) >= total as f64).then_some(())
    });
    let m = exp.metrics();
    assert!(
        m.one(
            "pingone_exporter_alerts_sent_total",
            &[("alertmanager", &live.url)]
        )
        .unwrap()
            >= total as f64
    );
    wait_for(
        "the hanging one's timeout counted",
        Duration::from_secs(10),
        || {
            (metric(
                &exp,
                "pingone_exporter_alert_send_errors_total",
                &[("alertmanager", &hang_url)],
            )
            .unwrap_or(0.0)
                > 0.0)
                .then_some(())
        },
    );
    // Nothing is lost: the one that was down gets everything once it is back.
    down.restart();
    wait_for(
        "every alert in the restarted Alertmanager",
        Duration::from_secs(40),
        || (in_am(&down) == expected).then_some(()),
    );
    assert_eq!(
        metric(&exp, "pingone_exporter_up", &[("environment_id", ENV_ID)]),
        Some(1.0),
        "polling went on"
    );
}

#[test]
fn two_daemons_with_the_same_config_make_one_alert_not_two() {
    let s = setup();
    let am = Alertmanager::start();
    let text = alerting(&[&am.url], &[("PingOneProvisioningRuleFailed", "0s")], "");
    let a = s.daemon("a.yml", &text);
    let b = s.daemon("b.yml", &text);
    assert_ne!(a.base, b.base, "different generatorURLs");
    let wait_both = |exp: &Exporter| {
        wait_for("alerts sent", Duration::from_secs(10), || {
            (metric(
                exp,
                "pingone_exporter_alerts_sent_total",
                &[("alertmanager", &am.url)],
            )
            .unwrap_or(0.0)
                >= 2.0)
                .then_some(())
        })
    };
    wait_both(&a);
    wait_both(&b);
    let alerts = am.alerts();
    let mut rules: Vec<&str> = alerts.iter().map(|x| label(x, "rule_name")).collect();
    rules.sort();
    assert_eq!(
        rules,
        ["Broken SCIM outbound", "Salesforce forced failed"],
        "{alerts:?}"
    );
    // Grouped by every label: identical label sets share one group.
    let groups = am.groups();
    assert_eq!(groups.len(), 2, "{groups:?}");
    for g in &groups {
        assert_eq!(g["alerts"].as_array().map(Vec::len), Some(1), "{g}");
    }
    exposition_with_alerting_parses(&a, &s.dir);
}

/// The alert sender's families pass the same checks as the rest of
/// `/metrics`: `promtool check metrics` (classic) and the strict
/// OpenMetrics parser.
fn exposition_with_alerting_parses(exp: &Exporter, dir: &Dir) {
    let classic = get(&exp.url("/metrics")).text();
    assert!(
        classic.contains("pingone_exporter_alerts_sent_total{"),
        "{classic}"
    );
    let om = request(
        "GET",
        &exp.url("/metrics"),
        &[("Accept", "application/openmetrics-text")],
        b"",
    )
    .unwrap()
    .text();
    assert!(
        om.contains("# TYPE pingone_exporter_alerts_sent counter"),
        "{om}"
    );
    let classic_file = dir.write("metrics.prom", &classic);
    let om_file = dir.write("metrics.om", &om);
    let python = common::tools::python();
    for (tool, args) in [
        ("promtool", vec!["check", "metrics"]),
        (
            python.as_str(),
            vec![
                "tests/tools/check_openmetrics.py",
                om_file.to_str().unwrap(),
            ],
        ),
    ] {
        let mut cmd = std::process::Command::new(tool);
        cmd.args(&args);
        if tool == "promtool" {
            cmd.stdin(std::fs::File::open(&classic_file).unwrap());
        }
        let out = cmd.output().unwrap();
        assert!(
            out.status.success(),
            "{tool} rejected /metrics:\n{}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
    }
}

#[test]
fn tls_client_certificates_and_basic_auth_reach_a_protected_alertmanager() {
    let fixtures = std::fs::canonicalize("tests/fixtures/alerting").unwrap();
    let f = |name: &str| fixtures.join(name).display().to_string();
    // Password "test" (the bcrypt hash from Prometheus' basic-auth guide).
    let web = format!(
        "tls_server_config:\n  cert_file: {}\n  key_file: {}\n  client_auth_type: RequireAndVerifyClientCert\n  client_ca_file: {}\nbasic_auth_users:\n  admin: $2b$12$hNf2lSsxfm0.i4a.1kVpSOVyBCfIB51VRjgBUyv6kdnyTlgWj81Ay\n",
        f("server.pem"),
        f("server-key.pem"),
        f("ca.pem")
    );
    let am = Alertmanager::start_with_web_config(&web);
    let s = setup();
    let tls = |password_file: &str| {
        format!(
            "    basic_auth: {{username: admin, password_file: {password_file}}}\n    tls: {{ca_file: {}, cert_file: {}, key_file: {}}}\n",
            f("ca.pem"),
            f("client.pem"),
            f("client-key.pem")
        )
    };
    let right = s.dir.write("right-password", "test\n");
    let wrong = s.dir.write("wrong-password", "not-the-password\n");
    let on = [("PingOneProvisioningRuleFailed", "0s")];
    let good = s.daemon(
        "good.yml",
        &alerting(&[&am.url], &on, &tls(right.to_str().unwrap())),
    );
    let bad = s.daemon(
        "bad.yml",
        &alerting(&[&am.url], &on, &tls(wrong.to_str().unwrap())),
    );
    let l = [("alertmanager", am.url.as_str())];
    wait_for("delivery over TLS", Duration::from_secs(10), || {
        (metric(&good, "pingone_exporter_alerts_sent_total", &l).unwrap_or(0.0) >= 2.0)
            .then_some(())
    });
    assert_eq!(
        metric(&good, "pingone_exporter_alert_send_errors_total", &l),
        Some(0.0)
    );
    // A wrong password is a 401: refused, counted, not retried forever.
    wait_for("the refusal counted", Duration::from_secs(10), || {
        (metric(&bad, "pingone_exporter_alerts_dropped_total", &l).unwrap_or(0.0) >= 2.0)
            .then_some(())
    });
    assert_eq!(
        metric(&bad, "pingone_exporter_alerts_sent_total", &l),
        Some(0.0)
    );
    assert!(
        bad.proc.output().contains("HTTP 401"),
        "{}",
        bad.proc.output()
    );
}
