//! The status pages in a real browser: the real binary against the
//! simulator (tests/fixtures/scenarios/page.yml), pages loaded by headless
//! Chromium, assertions on the DOM it built: the rows, failing rules first,
//! the failure reason, the absent markers, and a rule name full of HTML
//! that must stay text. Plus the JSON endpoint and the 4xx answers.

#![allow(clippy::unwrap_used, clippy::expect_used)] // test code: a panic is a test failure

#[path = "common/browser.rs"]
mod browser;
mod common;

use std::path::PathBuf;
use std::time::Duration;

use browser::{attr, dump_dom, elements};
use common::*;
use serde_json::Value;

/// The worker app of `config_for` lives in this id, so the page scenario uses it.
const PAGE_A: &str = SMALL_A;
const CONSOLE: &str = "https://console.example.com/p1/?env=9a9e";

fn setup() -> (Sim, Exporter, Dir) {
    let sim = Sim::start(&PathBuf::from("tests/fixtures/scenarios/page.yml"));
    let dir = Dir::new();
    let extra = format!("    console_url: {CONSOLE}\n");
    let cfg = dir.demo_config(&sim.base, &[("page-a", PAGE_A)], &extra);
    let exp = Exporter::start(&[
        "--config.file",
        cfg.to_str().unwrap(),
        "--web.grafana-url",
        "https://grafana.example.com",
    ]);
    exp.wait_ready(Duration::from_secs(30));
    (sim, exp, dir)
}

/// The rule ids by name, from the simulator's ground truth.
fn rule_id(sim: &Sim, prefix: &str) -> (String, String) {
    let truth = sim.truth();
    let rule = env_truth(&truth, PAGE_A)["rules"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["name"].as_str().unwrap().starts_with(prefix))
        .unwrap()
        .clone();
    (
        rule["id"].as_str().unwrap().to_string(),
        rule["name"].as_str().unwrap().to_string(),
    )
}

/// Text as Chromium serializes it in element content.
fn as_text(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
}

#[test]
fn the_summary_and_rule_pages_in_a_browser() {
    let (sim, exp, _dir) = setup();
    let (failed, _) = rule_id(&sim, "Salesforce forced failed");
    let (zoom, _) = rule_id(&sim, "Zoom failing");
    let (clean, html_name) = rule_id(&sim, "Clean <b>");

    let dom = dump_dom(&exp.url("/"));
    assert!(
        dom.contains("<meta http-equiv=\"refresh\" content=\"10\">"),
        "refreshes at the poll interval"
    );
    assert!(
        dom.contains("<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">")
    );
    assert!(
        dom.contains("<title>PingOne provisioning sync</title>"),
        "no script ran"
    );
    assert!(
        !dom.contains("<script") && !dom.contains("<img"),
        "the rule name stayed text"
    );
    assert!(dom.contains("2 need attention"), "{dom}");

    let rows = elements(&dom, "<tr class=\"rule", "</tr>");
    let ids: Vec<&str> = rows
        .iter()
        .map(|r| attr(r, "data-rule-id").unwrap())
        .collect();
    assert_eq!(
        ids,
        [&failed, &zoom, &clean],
        "status failed first, then failures, then the rest"
    );

    for (row, attention) in rows.iter().zip([true, true, false]) {
        assert_eq!(
            attr(row, "class") == Some("rule attention"),
            attention,
            "{row}"
        );
        assert_eq!(
            row.contains("aria-label=\"needs attention\""),
            attention,
            "{row}"
        );
        // Unsynced and partial have no source without user-detail mode.
        let absent: Vec<&str> = elements(row, "<span class=\"absent\"", "</span>")
            .into_iter()
            .filter_map(|a| attr(a, "title"))
            .filter(|t| t.starts_with("user-detail mode off"))
            .collect();
        assert_eq!(absent.len(), 2, "{row}");
    }
    assert!(rows[0].contains("⚠ failed"), "{}", rows[0]);
    assert!(
        rows[0].contains("the connection store's sync state is FAILED"),
        "{}",
        rows[0]
    );
    assert!(rows[1].contains("failed sync event"), "{}", rows[1]);
    assert!(rows[2].contains(&as_text(&html_name)), "{}", rows[2]);
    assert!(
        rows[2].contains("<td class=\"reason\"></td>"),
        "no reason for a clean rule"
    );

    // The environment's own page shows the same rows in the same order.
    let env_page = dump_dom(&exp.url(&format!("/environments/{PAGE_A}")));
    let env_rows = elements(&env_page, "<tr class=\"rule", "</tr>");
    let env_ids: Vec<&str> = env_rows
        .iter()
        .map(|r| attr(r, "data-rule-id").unwrap())
        .collect();
    assert_eq!(env_ids, ids);

    // The clean rule's page, by its link.
    let link = elements(rows[2], "<a ", "</a>")[0];
    let href = attr(link, "href").unwrap();
    assert_eq!(href, format!("/rules/{PAGE_A}/{clean}"));
    let page = dump_dom(&exp.url(href));
    assert!(!page.contains("<script") && !page.contains("<img"));
    assert!(page.contains(&format!("<h1>{}</h1>", as_text(&html_name))));
    assert!(page.contains("<p class=\"reason ok\">No failure.</p>"));
    assert!(page.contains("<code>pingone_provisioning_users_impacted</code>"));
    let failing = elements(&page, "<p class=\"failing-users\">", "</p>");
    assert!(
        failing[0].contains("user-detail mode off"),
        "{}",
        failing[0]
    );
    assert!(page.contains(
        "href=\"https://grafana.example.com/d/pingone-sync-rule-detail/?var-environment_name=page-a&amp;var-rule_name=Clean+%3Cb%3Ebold"
    ));
    assert!(page.contains(&format!("href=\"{CONSOLE}\"")));
    assert!(page.contains("docs/runbook.md#pingoneprovisioningrulefailed"));

    let page = dump_dom(&exp.url(&format!("/rules/{PAGE_A}/{failed}")));
    let reason = elements(&page, "<p class=\"reason\">", "</p>");
    assert!(reason[0].contains("sync state is FAILED"), "{page}");
}

#[test]
fn the_json_endpoint_and_bad_paths() {
    let (sim, exp, _dir) = setup();
    let (failed, _) = rule_id(&sim, "Salesforce forced failed");
    let (_, html_name) = rule_id(&sim, "Clean <b>");
    let r = get(&exp.url("/api/v1/status"));
    assert_eq!(
        (r.status, r.header("Content-Type")),
        (200, Some("application/json"))
    );
    let doc: Value = serde_json::from_slice(&r.body).unwrap();
    assert_eq!(doc["failures"], true);
    let env = &doc["environments"][0];
    assert_eq!(
        (env["id"].as_str(), env["error"].clone()),
        (Some(PAGE_A), Value::Null)
    );
    assert_eq!(env["console_url"], CONSOLE);
    assert_eq!(env["last_poll"]["error"], Value::Null);
    let rules = env["rules"].as_array().unwrap();
    assert_eq!(rules.len(), 3);
    let by_id = |id: &str| rules.iter().find(|r| r["id"] == id).unwrap();
    assert_eq!(by_id(&failed)["status"], "failed");
    assert!(
        by_id(&failed)["failure_reason"]
            .as_str()
            .unwrap()
            .contains("FAILED")
    );
    assert_eq!(by_id(&failed)["page"], format!("/rules/{PAGE_A}/{failed}"));
    assert!(
        rules.iter().any(|r| r["name"] == html_name.as_str()),
        "names stay raw in JSON"
    );
    // Unsynced and partial: null without user-detail mode, never 0.
    assert!(
        rules
            .iter()
            .all(|r| r["users"]["unsynced"].is_null() && r["users"]["partial"].is_null())
    );

    for path in [
        "/rules/".to_string(),
        "/rules/x".to_string(),
        format!("/rules/{PAGE_A}/no-such-rule"),
        format!("/rules/{PAGE_A}/{failed}/more"),
        format!("/rules/no-such-env/{failed}"),
        "/rules/%zz/x".to_string(),
        "/api/v1/other".to_string(),
        "/environments/".to_string(),
        "/environments/no-such-env".to_string(),
        format!("/environments/{PAGE_A}/more"),
    ] {
        assert_eq!(get(&exp.url(&path)).status, 404, "{path}");
    }
    for path in ["/", "/api/v1/status", "/rules/a/b", "/environments/a"] {
        let r = post(&exp.url(path));
        assert_eq!(
            (r.status, r.header("Allow")),
            (405, Some("GET, HEAD")),
            "{path}"
        );
    }
    let head = request("HEAD", &exp.url("/"), &[], b"").unwrap();
    assert_eq!(head.status, 200);
    assert!(head.body.is_empty());
}
