//! Rules every Grafana dashboard in `dashboards/` must follow, so that it
//! imports into any Grafana with any Prometheus datasource and shows what
//! the metric contract (`docs/metrics.md`) promises:
//!
//! - a `datasource` variable (type `datasource`, Prometheus) and
//!   `environment_name` and `rule_name` query variables that use it;
//! - every panel and every query uses `${datasource}`: no hard-coded
//!   datasource uid or id;
//! - every panel but rows and text has a unit;
//! - a stable, unique, well-formed `uid` per dashboard; unique panel ids;
//!   panels inside the 24-column grid;
//! - every `rate`/`increase`/`irate` range is `$__rate_interval`, and
//!   counters (`_total`, and a histogram's `_bucket`/`_count`/`_sum`) appear
//!   only inside them;
//! - every query names at least one metric, and only metrics from
//!   `docs/metrics.md` or the recording rules in `alerts/`.
//!
//! The JSON is also type-checked against Grafana's own schema by
//! `scripts/check-dashboards.sh`, and every query is run against a real
//! Prometheus by `scripts/check-monitoring.sh`.

#![allow(clippy::unwrap_used, clippy::expect_used)] // test code: a panic is a test failure

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

use serde_json::Value;

const DS_UID: &str = "${datasource}";

fn dashboards() -> Vec<(PathBuf, Value)> {
    let mut files: Vec<PathBuf> = std::fs::read_dir("dashboards")
        .expect("dashboards/ exists")
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "json"))
        .collect();
    files.sort();
    assert!(
        files.len() >= 4,
        "expected the overview, rule detail, exporter health and capacity dashboards, found {files:?}"
    );
    files
        .into_iter()
        .map(|p| {
            let text = std::fs::read_to_string(&p).unwrap();
            let v = serde_json::from_str(&text)
                .unwrap_or_else(|e| panic!("{}: not JSON: {e}", p.display()));
            (p, v)
        })
        .collect()
}

/// Every panel, rows' nested panels included.
fn panels(d: &Value) -> Vec<&Value> {
    let mut out = Vec::new();
    for p in d["panels"].as_array().map(Vec::as_slice).unwrap_or(&[]) {
        out.push(p);
        if let Some(inner) = p["panels"].as_array() {
            out.extend(inner.iter());
        }
    }
    out
}

fn is_layout_panel(p: &Value) -> bool {
    matches!(p["type"].as_str(), Some("row" | "text"))
}

fn exprs(d: &Value) -> Vec<(String, String)> {
    let mut out = Vec::new();
    for p in panels(d) {
        for t in p["targets"].as_array().map(Vec::as_slice).unwrap_or(&[]) {
            let title = p["title"].as_str().unwrap_or("?");
            let reference = t["refId"].as_str().unwrap_or("?");
            let expr = t["expr"]
                .as_str()
                .unwrap_or_else(|| panic!("panel {title:?} target {reference} has no expr"));
            out.push((
                format!("panel {title:?} query {reference}"),
                expr.to_string(),
            ));
        }
    }
    out
}

/// Metric names from docs/metrics.md (backticked `pingone_...` names; a
/// histogram also gives its `_bucket`, `_count` and `_sum` series) and the
/// recording rules in alerts/.
fn known_metrics() -> BTreeSet<String> {
    let mut known = BTreeSet::new();
    let doc = std::fs::read_to_string("docs/metrics.md").unwrap();
    for line in doc.lines() {
        for (i, part) in line.split('`').enumerate() {
            if i % 2 == 1
                && part.starts_with("pingone_")
                && part.chars().all(|c| c.is_ascii_alphanumeric() || c == '_')
            {
                known.insert(part.to_string());
                if line.contains("| histogram |") {
                    for suffix in ["_bucket", "_count", "_sum"] {
                        known.insert(format!("{part}{suffix}"));
                    }
                }
            }
        }
    }
    assert!(
        known.contains("pingone_provisioning_users") && known.contains("pingone_exporter_up"),
        "docs/metrics.md did not parse: {known:?}"
    );
    for entry in std::fs::read_dir("alerts").unwrap() {
        let path = entry.unwrap().path();
        if path.extension().is_some_and(|e| e == "yml") {
            for line in std::fs::read_to_string(&path).unwrap().lines() {
                if let Some(name) = line.trim().strip_prefix("- record:") {
                    known.insert(name.trim().to_string());
                }
            }
        }
    }
    known
}

/// A PromQL word (identifier) with its byte offset; quoted strings skipped.
fn words(expr: &str) -> Vec<(usize, &str)> {
    let b = expr.as_bytes();
    let mut out = Vec::new();
    let mut i = 0;
    while i < b.len() {
        let c = b[i];
        if c == b'"' || c == b'\'' || c == b'`' {
            i += 1;
            while i < b.len() && b[i] != c {
                if b[i] == b'\\' {
                    i += 1;
                }
                i += 1;
            }
            i += 1;
        } else if c.is_ascii_alphabetic() || c == b'_' || c == b':' {
            let start = i;
            while i < b.len() && (b[i].is_ascii_alphanumeric() || b[i] == b'_' || b[i] == b':') {
                i += 1;
            }
            // `$__rate_interval` and other Grafana variables are not words.
            if start == 0 || b[start - 1] != b'$' {
                out.push((start, &expr[start..i]));
            }
        } else {
            i += 1;
        }
    }
    out
}

/// Byte ranges of the arguments of every `rate(`, `irate(` and `increase(`.
fn counter_function_spans(expr: &str) -> Vec<(usize, usize)> {
    let b = expr.as_bytes();
    let mut spans = Vec::new();
    for (start, w) in words(expr) {
        if !matches!(w, "rate" | "irate" | "increase") {
            continue;
        }
        let mut i = start + w.len();
        while i < b.len() && b[i].is_ascii_whitespace() {
            i += 1;
        }
        if i >= b.len() || b[i] != b'(' {
            continue;
        }
        let open = i;
        let mut depth = 0;
        while i < b.len() {
            match b[i] {
                b'(' => depth += 1,
                b')' => {
                    depth -= 1;
                    if depth == 0 {
                        break;
                    }
                }
                b'"' => {
                    i += 1;
                    while i < b.len() && b[i] != b'"' {
                        i += 1;
                    }
                }
                _ => {}
            }
            i += 1;
        }
        spans.push((open, i));
    }
    spans
}

#[test]
fn uids_are_stable_unique_and_well_formed() {
    let mut seen = BTreeMap::new();
    for (path, d) in dashboards() {
        let uid = d["uid"]
            .as_str()
            .unwrap_or_else(|| panic!("{}: no uid", path.display()));
        assert!(
            !uid.is_empty()
                && uid.len() <= 40
                && uid
                    .chars()
                    .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-'),
            "{}: uid {uid:?} must be 1-40 characters of a-z, 0-9 and -",
            path.display()
        );
        assert_eq!(
            path.file_stem().and_then(|s| s.to_str()),
            Some(uid),
            "{}: the file is named after the uid, so the uid stays stable",
            path.display()
        );
        if let Some(other) = seen.insert(uid.to_string(), path.clone()) {
            panic!(
                "uid {uid:?} used by {} and {}",
                other.display(),
                path.display()
            );
        }
        assert!(
            d["id"].is_null(),
            "{}: dashboard id must be null (Grafana assigns it)",
            path.display()
        );
        assert!(d["title"].as_str().is_some_and(|t| !t.is_empty()));
    }
}

#[test]
fn datasource_environment_and_rule_variables() {
    for (path, d) in dashboards() {
        let vars = d["templating"]["list"]
            .as_array()
            .unwrap_or_else(|| panic!("{}: no templating.list", path.display()));
        let find = |name: &str| {
            vars.iter()
                .find(|v| v["name"] == name)
                .unwrap_or_else(|| panic!("{}: no {name} variable", path.display()))
        };
        let ds = find("datasource");
        assert_eq!(ds["type"], "datasource", "{}", path.display());
        assert_eq!(ds["query"], "prometheus", "{}", path.display());
        for name in ["environment_name", "rule_name"] {
            let v = find(name);
            assert_eq!(v["type"], "query", "{}: {name}", path.display());
            assert_eq!(
                v["datasource"]["uid"],
                DS_UID,
                "{}: {name} must query ${{datasource}}",
                path.display()
            );
            let query = v["query"]["query"]
                .as_str()
                .or_else(|| v["query"].as_str())
                .unwrap_or_default();
            assert!(
                query.contains(&format!(", {name})")),
                "{}: {name} must list label_values of {name}, got {query:?}",
                path.display()
            );
        }
        // The variables come first, in this order, so URLs and links agree.
        let names: Vec<&str> = vars.iter().filter_map(|v| v["name"].as_str()).collect();
        assert_eq!(
            &names[..3],
            ["datasource", "environment_name", "rule_name"],
            "{}",
            path.display()
        );
    }
}

#[test]
fn every_panel_and_query_uses_the_datasource_variable() {
    for (path, d) in dashboards() {
        for p in panels(&d) {
            let title = p["title"].as_str().unwrap_or("?");
            if p["type"] == "row" {
                assert!(
                    p.get("datasource").is_none() || p["datasource"]["uid"] == DS_UID,
                    "{}: row {title:?}",
                    path.display()
                );
                continue;
            }
            if p["type"] == "text" {
                continue;
            }
            assert_eq!(
                p["datasource"],
                serde_json::json!({"type": "prometheus", "uid": DS_UID}),
                "{}: panel {title:?} datasource",
                path.display()
            );
            let targets = p["targets"].as_array().map(Vec::as_slice).unwrap_or(&[]);
            assert!(
                !targets.is_empty(),
                "{}: panel {title:?} has no query",
                path.display()
            );
            for t in targets {
                assert_eq!(
                    t["datasource"],
                    serde_json::json!({"type": "prometheus", "uid": DS_UID}),
                    "{}: panel {title:?} query {} datasource",
                    path.display(),
                    t["refId"]
                );
            }
        }
        let text = serde_json::to_string(&d).unwrap();
        assert!(
            !text.contains("datasourceId") && !text.contains("\"uid\":\"prometheus\""),
            "{}: a hard-coded datasource reference",
            path.display()
        );
    }
}

#[test]
fn every_panel_has_a_unit() {
    for (path, d) in dashboards() {
        for p in panels(&d).into_iter().filter(|p| !is_layout_panel(p)) {
            let unit = p["fieldConfig"]["defaults"]["unit"].as_str();
            assert!(
                unit.is_some_and(|u| !u.is_empty()),
                "{}: panel {:?} has no fieldConfig.defaults.unit",
                path.display(),
                p["title"]
            );
        }
    }
}

#[test]
fn panel_ids_unique_and_inside_the_grid() {
    for (path, d) in dashboards() {
        let mut ids = BTreeSet::new();
        for p in panels(&d) {
            let id = p["id"]
                .as_u64()
                .unwrap_or_else(|| panic!("{}: panel {:?} has no id", path.display(), p["title"]));
            assert!(
                ids.insert(id),
                "{}: panel id {id} used twice",
                path.display()
            );
            let g = &p["gridPos"];
            let (x, w, h) = (
                g["x"].as_u64().unwrap(),
                g["w"].as_u64().unwrap(),
                g["h"].as_u64().unwrap(),
            );
            assert!(
                x + w <= 24 && w > 0 && h > 0 && g["y"].is_u64(),
                "{}: panel {:?} gridPos {g} outside the 24-column grid",
                path.display(),
                p["title"]
            );
        }
    }
}

#[test]
fn rates_use_rate_interval_and_counters_only_appear_in_rates() {
    for (path, d) in dashboards() {
        for (what, expr) in exprs(&d) {
            let spans = counter_function_spans(&expr);
            for &(open, close) in &spans {
                let args = &expr[open..close];
                let mut rest = args;
                while let Some(i) = rest.find('[') {
                    let end = rest[i..].find(']').map(|j| i + j).unwrap();
                    assert_eq!(
                        &rest[i..=end],
                        "[$__rate_interval]",
                        "{}: {what}: rate/increase must use $__rate_interval: {expr}",
                        path.display()
                    );
                    rest = &rest[end + 1..];
                }
                assert!(
                    args.contains("[$__rate_interval]"),
                    "{}: {what}: rate/increase without a range: {expr}",
                    path.display()
                );
            }
            for (pos, w) in words(&expr) {
                let counter = w.starts_with("pingone_")
                    && ["_total", "_bucket", "_count", "_sum"]
                        .iter()
                        .any(|s| w.ends_with(s));
                if counter {
                    assert!(
                        spans.iter().any(|&(o, c)| pos > o && pos < c),
                        "{}: {what}: counter {w} used outside rate()/increase(): {expr}",
                        path.display()
                    );
                }
            }
        }
    }
}

#[test]
fn queries_use_only_contract_metrics() {
    let known = known_metrics();
    for (path, d) in dashboards() {
        let all = exprs(&d);
        assert!(!all.is_empty(), "{}: no queries", path.display());
        for (what, expr) in all {
            let metrics: Vec<&str> = words(&expr)
                .into_iter()
                .map(|(_, w)| w)
                .filter(|w| w.starts_with("pingone") || w.contains(':'))
                .collect();
            assert!(
                !metrics.is_empty(),
                "{}: {what} names no metric: {expr}",
                path.display()
            );
            for m in metrics {
                assert!(
                    known.contains(m),
                    "{}: {what} uses {m}, which is neither in docs/metrics.md nor a recording rule in alerts/",
                    path.display()
                );
            }
        }
    }
}

#[test]
fn the_checker_itself_sees_violations() {
    // A guard against rules that pass vacuously.
    let e = "sum(rate(pingone_exporter_api_requests_total{code=\"5..\"}[5m])) + pingone_exporter_rate_limited_total";
    let spans = counter_function_spans(e);
    assert_eq!(spans.len(), 1);
    let (o, c) = spans[0];
    assert!(e[o..c].contains("[5m]"));
    let outside: Vec<&str> = words(e)
        .into_iter()
        .filter(|&(p, w)| w.ends_with("_total") && !(p > o && p < c))
        .map(|(_, w)| w)
        .collect();
    assert_eq!(outside, ["pingone_exporter_rate_limited_total"]);
    assert!(
        words("x{job=~\"pingone_fake_total\"}[$__rate_interval]")
            .iter()
            .all(|(_, w)| *w != "pingone_fake_total" && *w != "__rate_interval")
    );
    assert!(Path::new("docs/metrics.md").exists());
}
