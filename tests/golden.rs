//! Golden `/metrics` files: recorded PingOne answers (tests/fixtures/api/golden)
//! go through the real parser, mapping (user-detail counts included, for the
//! write-back rule; the failing tracker's first observation), renderer and encoder with a fixed clock, and must
//! produce exactly tests/golden/metrics.{prom,om}.txt.
//!
//! Update switch: `UPDATE_GOLDEN=1 cargo test --test golden` rewrites the
//! golden files; review the diff before committing.
//!
//! The golden files are also checked by independent parsers: the classic
//! one by `promtool check metrics`, the OpenMetrics one by the strict parser
//! of PyPI `prometheus-client` (tests/tools/check_openmetrics.py). Both
//! tools are installed by `scripts/test.sh`; a missing tool fails the test.

#![allow(clippy::unwrap_used, clippy::expect_used)] // test code: a panic is a test failure

use std::collections::HashMap;
use std::path::Path;
use std::process::Command;
use std::sync::Arc;

#[path = "common/golden.rs"]
mod golden;
#[path = "common/tools.rs"]
mod tools;

use pingone_sync_exporter::collector;
use pingone_sync_exporter::config::RuleFilter;
use pingone_sync_exporter::exposition::Format;
use pingone_sync_exporter::mapping::{self, Answers};
use pingone_sync_exporter::pingone::hal::parse_page;
use pingone_sync_exporter::pingone::model;
use pingone_sync_exporter::poller::FailingTracker;
use pingone_sync_exporter::selfmetrics::SelfMetrics;
use pingone_sync_exporter::snapshot::{EnvKey, EnvSnapshot};
use pingone_sync_exporter::user_detail;

const NOW: f64 = 1_795_861_200.0; // 2026-11-28T10:20:00Z
const ENV_ID: &str = "3f0b6a1e-0000-4000-8000-000000000001";

fn fixture(name: &str) -> Vec<u8> {
    std::fs::read(Path::new("tests/fixtures/api/golden").join(name)).unwrap()
}

fn snapshot() -> (EnvSnapshot, Vec<mapping::UnknownValue>) {
    let stores = parse_page::<model::Store>(&fixture("stores.json"), "stores").unwrap();
    let rules = parse_page::<model::Rule>(&fixture("rules.json"), "rules").unwrap();
    let g1 = parse_page::<model::SyncedGroup>(&fixture("synced-groups-b1.json"), "syncedGroups")
        .unwrap();
    let g2 = parse_page::<model::SyncedGroup>(&fixture("synced-groups-b2.json"), "syncedGroups")
        .unwrap();
    let revision: model::Revision = model::parse_one(&fixture("revision.json")).unwrap();
    let mut groups = HashMap::new();
    groups.insert("b0000000-0000-4000-8000-000000000001".to_string(), g1.items);
    groups.insert("b0000000-0000-4000-8000-000000000002".to_string(), g2.items);
    let answers = Answers {
        stores: stores.items,
        rules: rules.items,
        groups,
        revision: Some(revision),
    };
    let filter = RuleFilter {
        include: None,
        exclude: Some(regex::Regex::new("^test-").unwrap()),
    };
    let mut unknown = Vec::new();
    let mut snap = mapping::summarize(&answers, &|n| filter.matches(n), &mut unknown);
    // The poller's first observation, at the last poll: a FAILED store
    // opens a failing spell at once.
    FailingTracker::new().observe("prod-eu", &mut snap, NOW - 5.0);
    // User-detail mode counted the write-back rule (a null answer is a 404).
    let answers: Vec<Option<model::SyncedRule>> =
        serde_json::from_slice(&fixture("synced-rules-b3.json")).unwrap();
    let mut counted = user_detail::RuleUsers::default();
    let mut walked_unknown = user_detail::UnknownTally::default();
    for a in &answers {
        counted.add(a.as_ref(), &mut walked_unknown);
    }
    for (u, times) in walked_unknown.iter() {
        unknown.extend(std::iter::repeat_n(u.clone(), times as usize));
    }
    let detail = user_detail::WalkCounts {
        finished_at: NOW - 1800.0,
        requests: 0,
        users: answers.len() as u64,
        rules: HashMap::from([("b0000000-0000-4000-8000-000000000003".to_string(), counted)]),
    };
    user_detail::apply(&mut snap, &detail);
    (snap, unknown)
}

fn exposition(format: Format) -> String {
    let (snap, unknown) = snapshot();
    let key = EnvKey::new(ENV_ID, "prod-eu");
    let metrics = SelfMetrics::new("0.0.0-golden", "golden");
    metrics.add_env(&key);
    metrics.config_loaded(true, NOW - 3600.0);
    for endpoint in [
        "stores",
        "rules",
        "revision_latest",
        "synced_groups",
        "synced_groups",
    ] {
        metrics.api_request(&key, endpoint, "200");
    }
    metrics.api_request(&key, "token", "200");
    metrics.api_request(&key, "stores", "503");
    metrics.api_retry(&key, "stores", "server_error");
    metrics.token_refreshed(&key);
    metrics.poll_finished(&key, Err("server_error"), 7.5);
    metrics.poll_finished(&key, Ok(NOW - 5.0), 0.42);
    for u in &unknown {
        metrics.unknown_value(u.field, &u.value);
    }
    let rendered = Arc::new(collector::render(&key, &snap));
    let chunks = collector::encode(format, vec![rendered], NOW, |out| {
        metrics.encode_live(format, out)
    });
    let bytes: Vec<u8> = chunks.iter().flat_map(|c| c.iter().copied()).collect();
    String::from_utf8(bytes).unwrap()
}

#[test]
fn classic_text_matches_golden_file() {
    golden::assert_matches("tests/golden/metrics.prom.txt", &exposition(Format::Text));
}

#[test]
fn openmetrics_matches_golden_file() {
    golden::assert_matches(
        "tests/golden/metrics.om.txt",
        &exposition(Format::OpenMetrics),
    );
}

#[test]
fn promtool_accepts_the_classic_golden_file() {
    let file = std::fs::File::open("tests/golden/metrics.prom.txt").unwrap();
    let out = Command::new("promtool")
        .args(["check", "metrics"])
        .stdin(file)
        .output()
        .expect("promtool is needed (Debian package prometheus; scripts/test.sh installs it)");
    assert!(
        out.status.success(),
        "promtool check metrics failed:\n{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
}

#[test]
fn strict_openmetrics_parser_accepts_the_golden_file() {
    let out = Command::new(tools::python())
        .args([
            "tests/tools/check_openmetrics.py",
            "tests/golden/metrics.om.txt",
        ])
        .output()
        .expect("Python is needed (scripts/install-test-deps.sh makes .tmp/venv)");
    assert!(
        out.status.success(),
        "OpenMetrics parser rejected the golden file (scripts/install-test-deps.sh installs prometheus-client):\n{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
}

#[test]
fn store_configuration_never_reaches_the_output() {
    for format in [Format::Text, Format::OpenMetrics] {
        let text = exposition(format);
        for secret in [
            "golden-store-password",
            "golden-workday-password",
            "BASIC_AUTH",
        ] {
            assert!(!text.contains(secret), "{secret} leaked");
        }
    }
}

#[test]
fn unknown_group_status_is_reported_not_guessed() {
    let (_, unknown) = snapshot();
    assert!(
        unknown.iter().any(|u| u.value == "QUARANTINED"),
        "{unknown:?}"
    );
    // No documented or seen spelling: reported, never guessed into a state.
    for value in ["PARTIALLY_SYNCED", "UNSYNCED"] {
        assert!(
            unknown.iter().any(|u| u.value == value),
            "{value}: {unknown:?}"
        );
    }
}

/// Our OpenMetrics text of the family whose HELP line starts `# HELP {name} `.
fn om_family(ours: &str, name: &str) -> String {
    let start = ours.find(&format!("# HELP {name} ")).unwrap();
    let len = ours[start + 1..].find("# HELP ").unwrap() + 1;
    ours[start..start + len].to_string()
}

/// The per-rule families are also encoded by prometheus-client (the
/// official Rust client) from the same snapshot: a gauge family and both
/// counter families. Both encoders must agree byte for byte, which pins our
/// OpenMetrics writer (family names, `_total` samples) to the reference
/// one. prometheus-client writes no `_created` lines, so ours are left out
/// of the comparison and checked on their own (after each `_total` line,
/// the revision's time).
#[test]
fn openmetrics_families_match_prometheus_client_encoder() {
    use pingone_sync_exporter::snapshot::RuleSummary;
    use prometheus_client::collector::Collector;
    use prometheus_client::encoding::{DescriptorEncoder, EncodeMetric};
    use prometheus_client::metrics::MetricType;
    use prometheus_client::metrics::counter::ConstCounter;
    use prometheus_client::metrics::gauge::ConstGauge;
    use prometheus_client::registry::Registry;

    type Values = fn(&RuleSummary) -> Vec<(Option<&'static str>, Option<u64>)>;
    #[derive(Debug)]
    struct Reference(EnvSnapshot, &'static str, MetricType);
    impl Collector for Reference {
        fn encode(&self, mut enc: DescriptorEncoder) -> Result<(), std::fmt::Error> {
            let desc = collector::RULE_FAMILIES
                .iter()
                .find(|f| f.desc.name == self.1)
                .unwrap()
                .desc;
            let values: Values = match self.1 {
                "pingone_provisioning_users_impacted" => |r| vec![(None, r.users_impacted)],
                "pingone_provisioning_sync_events" => |r| {
                    vec![
                        (Some("success"), r.events.success),
                        (Some("failure"), r.events.failure),
                    ]
                },
                _ => |r| vec![(None, r.events.failed_deprovision)],
            };
            let mut fam = enc.encode_descriptor(desc.name, desc.help, None, self.2)?;
            for r in &self.0.rules {
                for (result, v) in values(r) {
                    let Some(v) = v else { continue };
                    let mut labels = vec![
                        ("environment_id", ENV_ID),
                        ("environment_name", "prod-eu"),
                        ("rule_id", r.id.as_str()),
                        ("rule_name", r.name.as_str()),
                        ("direction", r.direction.as_str()),
                    ];
                    labels.extend(result.map(|res| ("result", res)));
                    if self.2 == MetricType::Counter {
                        ConstCounter::new(v).encode(fam.encode_family(&labels)?)?;
                    } else {
                        ConstGauge::new(v as i64).encode(fam.encode_family(&labels)?)?;
                    }
                }
            }
            Ok(())
        }
    }
    let ours = exposition(Format::OpenMetrics);
    for (name, kind) in [
        ("pingone_provisioning_users_impacted", MetricType::Gauge),
        ("pingone_provisioning_sync_events", MetricType::Counter),
        (
            "pingone_provisioning_deprovision_failure_events",
            MetricType::Counter,
        ),
    ] {
        let (snap, _) = snapshot();
        let mut registry = Registry::default();
        registry.register_collector(Box::new(Reference(snap, name, kind)));
        let mut reference = String::new();
        prometheus_client::encoding::text::encode_registry(&mut reference, &registry).unwrap();
        let reference = reference.trim_end_matches("# EOF\n");

        let family = om_family(&ours, name);
        let lines: Vec<&str> = family.lines().collect();
        let without_created: String = lines
            .iter()
            .filter(|l| !l.contains("_created{"))
            .map(|l| format!("{l}\n"))
            .collect();
        assert_eq!(without_created, reference, "{name}");
        if kind == MetricType::Counter {
            // revision.json's createdAt, 2026-11-27T08:00:00Z.
            let created = "1795766400";
            for (i, l) in lines
                .iter()
                .enumerate()
                .filter(|(_, l)| l.contains("_total{"))
            {
                let next = lines[i + 1];
                let series = &l[l.find('{').unwrap()..l.rfind(' ').unwrap()];
                assert_eq!(next, format!("{name}_created{series} {created}"), "{name}");
            }
        }
    }
}
