//! The config file's error messages, frozen, and the resolved values of
//! good configs.
//!
//! Golden files: every `tests/fixtures/config/invalid-<rule>.yml` must fail
//! to load with exactly the text in `invalid-<rule>.txt` (the whole
//! `ConfigError` display, one problem per line, plus a final newline).
//! After an intended wording change, regenerate them and review the diff:
//!
//! ```text
//! UPDATE_GOLDEN=1 cargo test --test config_errors
//! git diff tests/fixtures/config/
//! ```
//!
//! Fixture paths are relative (cargo runs integration tests from the crate
//! root), so the file part of each message is stable.

use std::path::{Path, PathBuf};
use std::time::Duration;

#[path = "common/golden.rs"]
mod golden;

use pingone_sync_exporter::config::{
    self, BudgetSettings, Config, ConfigError, Region, SecretSource, UserDetailSettings,
};

const FIXTURES: &str = "tests/fixtures/config";

/// The environment the fixtures see: one good variable, one blank one.
fn fixture_env(name: &str) -> Option<String> {
    match name {
        "PINGONE_CLIENT_SECRET" => Some("s3cr3t-from-env\n".to_string()),
        "EMPTY_SECRET" => Some("  \n".to_string()),
        _ => None,
    }
}

fn load(path: &str) -> Result<Config, ConfigError> {
    config::load_with(Path::new(path), &fixture_env)
}

fn load_ok(path: &str) -> Config {
    match load(path) {
        Ok(c) => c,
        Err(e) => panic!("{path} should load, got:\n{e}"),
    }
}

fn fixtures(prefix: &str, ext: &str) -> Vec<PathBuf> {
    golden::fixtures(FIXTURES, prefix, ext)
}

#[test]
fn every_invalid_fixture_fails_with_its_golden_message() {
    golden::check_invalid_fixtures(FIXTURES, 40, |yml| {
        load(&yml.display().to_string())
            .err()
            .map(|e| e.to_string())
    });
}

#[test]
fn every_problem_has_a_position_and_lower_case_message() {
    for yml in fixtures("invalid-", ".yml") {
        let Err(err) = load(&yml.display().to_string()) else {
            panic!("{yml:?} loaded");
        };
        assert!(!err.problems.is_empty());
        for p in &err.problems {
            assert!(p.position.is_some(), "{p}");
            let first = p.message.chars().next().unwrap_or('X');
            assert!(!first.is_uppercase(), "{p}");
            assert!(!p.message.contains('\n'), "{p}");
        }
        let positions: Vec<_> = err.problems.iter().map(|p| p.position).collect();
        let mut sorted = positions.clone();
        sorted.sort();
        assert_eq!(positions, sorted, "{yml:?}: problems not in file order");
    }
}

#[test]
fn minimal_config_gets_the_defaults() {
    let c = load_ok("tests/fixtures/config/good-minimal.yml");
    assert_eq!(c.global.poll_interval, Duration::from_secs(60));
    assert_eq!(c.global.request_timeout, Duration::from_secs(10));
    assert_eq!(c.global.rules_interval, Duration::from_secs(300));
    assert_eq!(c.global.groups_interval, Duration::from_secs(900));
    assert_eq!(c.global.max_requests_per_second, 10.0);
    assert_eq!(c.global.max_concurrent_requests, 4);
    assert!(c.alerting.is_none());
    assert!(c.warnings.is_empty());
    let [env] = c.environments.as_slice() else {
        panic!("one environment expected");
    };
    assert_eq!(env.name, "prod");
    assert_eq!(env.id, "3f0b6a1e-0000-4000-8000-000000000001");
    let names: Vec<&str> = c.budgets.iter().map(|b| b.name.as_str()).collect();
    assert_eq!(names, ["default"], "one budget, shared, as before budgets:");
    assert_eq!(env.budget, "default");
    assert_eq!(c.budget("default").unwrap().max_requests_per_second, 10.0);
    assert_eq!(env.region, Region::Com);
    assert_eq!(env.api_url, "https://api.pingone.com/v1");
    assert_eq!(env.auth_url, "https://auth.pingone.com");
    assert_eq!(env.poll_interval, Duration::from_secs(60));
    assert_eq!(
        (env.rules_interval, env.groups_interval),
        (Duration::from_secs(300), Duration::from_secs(900))
    );
    assert_eq!(
        env.credentials.client_id,
        "9a1c0000-0000-4000-8000-0000000000aa"
    );
    assert_eq!(env.credentials.worker_environment_id, env.id);
    assert_eq!(env.credentials.client_secret.expose(), "s3cr3t-from-env");
    assert_eq!(
        env.credentials.secret_source,
        SecretSource::Env("PINGONE_CLIENT_SECRET".into())
    );
    assert!(env.rules.include.is_none() && env.rules.exclude.is_none());
    assert!(env.rules.matches("anything"));
    assert_eq!(env.user_detail, None, "user-detail mode is opt-in");
}

#[test]
fn inherited_cadences_are_raised_to_the_poll_interval() {
    let c = load_ok("tests/fixtures/config/good-cadence-raised.yml");
    let hour = Duration::from_secs(3600);
    assert_eq!(
        (c.global.rules_interval, c.global.groups_interval),
        (hour, hour),
        "defaults below the global poll interval are raised to it"
    );
    let env = &c.environments[0];
    assert_eq!(
        (env.poll_interval, env.rules_interval, env.groups_interval),
        (2 * hour, 2 * hour, 3 * hour),
        "an inherited cadence is raised; its own is kept"
    );
}

#[test]
fn full_config_resolves_every_key() {
    let c = load_ok("tests/fixtures/config/good-full.yml");
    assert_eq!(c.global.poll_interval, Duration::from_secs(120));
    assert_eq!(c.global.request_timeout, Duration::from_secs(15));
    assert_eq!(
        (c.global.rules_interval, c.global.groups_interval),
        (Duration::from_secs(600), Duration::from_secs(3600))
    );
    assert_eq!(c.global.max_requests_per_second, 0.5);
    assert_eq!(c.global.max_concurrent_requests, 2);
    let [eu, sg] = c.environments.as_slice() else {
        panic!("two environments expected");
    };

    assert_eq!(eu.name, "prod-eu");
    assert_eq!(
        eu.id, "3f0b6a1e-0000-4000-8000-00000000000a",
        "ids are lower-cased"
    );
    assert_eq!(eu.region, Region::Eu);
    assert_eq!(eu.api_url, "https://api.pingone.eu/v1");
    assert_eq!(eu.auth_url, "https://auth.pingone.eu");
    assert_eq!(
        eu.poll_interval,
        Duration::from_secs(90),
        "per-environment override"
    );
    assert_eq!(
        (eu.rules_interval, eu.groups_interval),
        (Duration::from_secs(600), Duration::from_secs(1800)),
        "the global rules cadence, its own groups cadence"
    );
    assert_eq!(
        (sg.rules_interval, sg.groups_interval),
        (Duration::from_secs(600), Duration::from_secs(3600)),
        "the global cadences"
    );
    assert_eq!(
        eu.credentials.worker_environment_id,
        "3f0b6a1e-0000-4000-8000-0000000000ff"
    );
    assert_eq!(
        eu.credentials.client_secret.expose(),
        "s3cr3t-from-file",
        "newline trimmed"
    );
    assert_eq!(
        eu.credentials.secret_source,
        SecretSource::File(PathBuf::from(
            "tests/fixtures/config/secret-with-newline.txt"
        )),
        "relative to the config file's directory"
    );
    assert!(eu.rules.matches("prod-users"));
    assert!(!eu.rules.matches("prod-users-test"), "exclude wins");
    assert!(!eu.rules.matches("dev-users"), "not included");
    assert_eq!(
        eu.user_detail,
        Some(UserDetailSettings {
            interval: Duration::from_secs(7200),
            max_requests_per_second: 0.5,
        })
    );

    assert_eq!(sg.name, "staging (sg)");
    assert_eq!(sg.region, Region::ComAu);
    assert_eq!(
        sg.api_url, "http://127.0.0.1:8080/v1",
        "override, trailing slash removed"
    );
    assert_eq!(sg.auth_url, "http://127.0.0.1:8080");
    assert_eq!(sg.poll_interval, Duration::from_secs(120), "global default");
    assert_eq!(sg.credentials.worker_environment_id, sg.id);
    assert_eq!(sg.user_detail, None, "enabled: false turns it off");

    let budget = |name: &str, rps: f64, concurrent: usize| BudgetSettings {
        name: name.into(),
        max_requests_per_second: rps,
        max_concurrent_requests: concurrent,
    };
    assert_eq!(
        c.budgets,
        [budget("default", 0.5, 2), budget("licence-b", 3.5, 3)],
        "the default budget is global's, first"
    );
    assert_eq!(eu.budget, "default", "no budget: the default one");
    assert_eq!(sg.budget, "licence-b");

    let alerting = c.alerting.as_ref().map(|a| a.alertmanager_urls.clone());
    assert_eq!(
        alerting,
        Some(vec![
            "http://127.0.0.1:9093".to_string(),
            "https://alertmanager.example.com:9093".to_string()
        ])
    );
    assert!(c.warnings.is_empty());
}

#[test]
fn inline_secret_loads_with_a_warning() {
    let c = load_ok("tests/fixtures/config/good-inline-secret.yml");
    let env = &c.environments[0];
    assert_eq!(env.region, Region::Ca);
    assert_eq!(env.api_url, "https://api.pingone.ca/v1");
    assert_eq!(env.credentials.secret_source, SecretSource::Inline);
    assert_eq!(
        env.credentials.client_secret.expose(),
        "inline-secret-value"
    );
    let warnings: Vec<String> = c.warnings.iter().map(ToString::to_string).collect();
    assert_eq!(
        warnings,
        [
            "tests/fixtures/config/good-inline-secret.yml:8:7: environments[0].credentials.client_secret: \
          an inline client secret is discouraged: it ends up in version control and backups; \
          use client_secret_file or client_secret_env instead"
        ]
    );
}

#[test]
fn an_unused_budget_loads_with_a_warning() {
    let c = load_ok("tests/fixtures/config/good-budget-unused.yml");
    let names: Vec<&str> = c.budgets.iter().map(|b| b.name.as_str()).collect();
    assert_eq!(names, ["default", "org-a", "spare"]);
    let spare = c.budget("spare").unwrap();
    assert_eq!(
        (spare.max_requests_per_second, spare.max_concurrent_requests),
        (10.0, 4),
        "the global keys' defaults"
    );
    let warnings: Vec<String> = c.warnings.iter().map(ToString::to_string).collect();
    assert_eq!(
        warnings,
        [
            "tests/fixtures/config/good-budget-unused.yml:5:3: budgets.spare: \
          no environment uses the budget \"spare\", so it limits nothing; \
          expected an environment with budget: spare, or remove it"
        ]
    );
}

#[test]
fn shipped_configs_load() {
    let env = |name: &str| (name == "PINGONE_CLIENT_SECRET").then(|| "from-env".to_string());
    for path in ["config/pingone-sync-exporter.yml", "config/example.yml"] {
        match config::load_with(Path::new(path), &env) {
            Ok(c) => {
                assert!(!c.environments.is_empty(), "{path}");
                assert!(c.warnings.is_empty(), "{path}: {:?}", c.warnings);
            }
            Err(e) => panic!("{path} should load, got:\n{e}"),
        }
    }
}

/// The example's commented-out `budgets:` block and `budget:` key, turned
/// on, load: the example an operator copies is valid.
#[test]
fn the_examples_budgets_load_when_uncommented() {
    let text = std::fs::read_to_string("config/example.yml").unwrap();
    let mut on = String::new();
    let mut in_block = false;
    for line in text.lines() {
        if line == "# budgets:" {
            in_block = true;
        } else if !line.starts_with('#') {
            in_block = false;
        }
        let line = match line.strip_prefix("# ") {
            Some(rest) if in_block => rest.to_string(),
            _ => line.replace("    # budget: org-b", "    budget: org-b"),
        };
        on.push_str(&line);
        on.push('\n');
    }
    let env = |name: &str| (name == "PINGONE_CLIENT_SECRET").then(|| "from-env".to_string());
    let c = config::load_str(&on, "example.yml", &env).unwrap_or_else(|e| panic!("{e}\n{on}"));
    assert_eq!(c.environments[0].budget, "org-b", "{on}");
    let org_b = c.budget("org-b").unwrap();
    assert_eq!(
        (org_b.max_requests_per_second, org_b.max_concurrent_requests),
        (3.0, 4)
    );
    assert!(c.warnings.is_empty(), "{:?}", c.warnings);
}

#[test]
fn missing_config_file_is_one_problem() {
    let err = load("tests/fixtures/config/no-such-file.yml").expect_err("missing");
    assert_eq!(err.problems.len(), 1);
    assert!(
        err.to_string()
            .starts_with("tests/fixtures/config/no-such-file.yml: cannot read the config file: "),
        "{err}"
    );
}

#[test]
fn summary_names_sources_but_never_secrets() {
    let c = load_ok("tests/fixtures/config/good-full.yml");
    let summary = c.summary();
    assert!(
        summary
            .contains("environment \"prod-eu\": id=3f0b6a1e-0000-4000-8000-00000000000a region=eu")
    );
    assert!(summary.contains("secret=file \"tests/fixtures/config/secret-with-newline.txt\""));
    assert!(summary.contains("secret=env PINGONE_CLIENT_SECRET"));
    assert!(summary.contains("alerting: alertmanager urls=http://127.0.0.1:9093,"));
    assert!(!summary.contains("s3cr3t"), "{summary}");
}

/// The canary: a recognisable secret placed in many broken (and good)
/// configs, in every spot a user might put it by mistake.
const CANARY: &str = "s3cr3t-CANARY-value";

#[test]
fn the_secret_never_appears_in_errors_warnings_summary_or_debug() {
    let dir = tempfile::tempdir().expect("tempdir");
    let secret_file = dir.path().join("secret.txt");
    std::fs::write(&secret_file, format!("{CANARY}\nsecond line\n")).expect("write");
    let good_file = dir.path().join("good.txt");
    std::fs::write(&good_file, format!("{CANARY}\n")).expect("write");
    let env = |name: &str| match name {
        "GOOD" => Some(CANARY.to_string()),
        "TWO_LINES" => Some(format!("{CANARY}\nmore")),
        _ => None,
    };
    let head = "environments:\n  - name: prod\n    id: 3f0b6a1e-0000-4000-8000-000000000001\n";
    let broken = [
        // Inline secret next to other problems.
        format!(
            "{head}    region: us\n    credentials:\n      client_id: app\n      client_secret: {CANARY}\n"
        ),
        // Two sources.
        format!(
            "{head}    credentials:\n      client_id: app\n      client_secret: {CANARY}\n      client_secret_env: GOOD\n"
        ),
        // The secret where a path or a variable name belongs.
        format!(
            "{head}    credentials:\n      client_id: app\n      client_secret_file: {CANARY}\n"
        ),
        format!(
            "{head}    credentials:\n      client_id: app\n      client_secret_env: {CANARY}\n"
        ),
        // Multi-line content in the file or the variable.
        format!(
            "{head}    credentials:\n      client_id: app\n      client_secret_file: {}\n",
            secret_file.display()
        ),
        format!(
            "{head}    credentials:\n      client_id: app\n      client_secret_env: TWO_LINES\n"
        ),
        // Wrong type, syntax errors, tags.
        format!("{head}    credentials:\n      client_id: app\n      client_secret: [{CANARY}]\n"),
        format!("{head}    credentials:\n      client_id: app\n      client_secret: \"{CANARY}\n"),
        format!(
            "{head}    credentials:\n      client_id: app\n      client_secret: !!int {CANARY}\n"
        ),
        format!("{head}    credentials:\n      client_id: app\n      client_secret: {CANARY}: x\n"),
        format!(
            "{head}    credentials:\n      client_id: app\n      client_secret:\n    {CANARY}\n"
        ),
        // Typos that turn the secret into a key, or a key into an unknown one.
        format!("{head}    credentials: {{client_id: app, client_secret {CANARY}}}\n"),
        format!("{head}    credentials: {{client_id: app, client_secret {CANARY}.more}}\n"),
        format!("{head}    credentials: {{client_id: app, {CANARY}.x: {{a: 1, a: 2}}}}\n"),
        format!("{head}    credentials:\n      client_id: app\n      client_secrett: {CANARY}\n"),
        format!("{head}    credentials:\n      client_id: app\n      {CANARY}: 1\n"),
        format!(
            "{head}    credentials:\n      client_id: app\n      {CANARY}: 1\n      {CANARY}: 2\n"
        ),
        // A mapping where the secret is, and an empty client id.
        format!(
            "{head}    credentials:\n      client_id: \"\"\n      client_secret: {{value: {CANARY}}}\n"
        ),
        format!("{head}    credentials:\n      client_id: \"\"\n      client_secret: {CANARY}\n"),
    ];
    for (i, yaml) in broken.iter().enumerate() {
        let path = dir.path().join(format!("broken-{i}.yml"));
        std::fs::write(&path, yaml).expect("write");
        match config::load_with(&path, &env) {
            Ok(c) => panic!("case {i} loaded:\n{yaml}\n{}", c.summary()),
            Err(e) => {
                let shown = format!("{e}\n{e:?}");
                assert!(!shown.contains(CANARY), "case {i} leaks:\n{yaml}\n{shown}");
                assert!(
                    !shown.contains("s3cr3t"),
                    "case {i} leaks:\n{yaml}\n{shown}"
                );
            }
        }
    }

    let good = [
        format!("{head}    credentials:\n      client_id: app\n      client_secret: {CANARY}\n"),
        format!("{head}    credentials:\n      client_id: app\n      client_secret_env: GOOD\n"),
        format!(
            "{head}    credentials:\n      client_id: app\n      client_secret_file: {}\n",
            good_file.display()
        ),
    ];
    for (i, yaml) in good.iter().enumerate() {
        let path = dir.path().join(format!("good-{i}.yml"));
        std::fs::write(&path, yaml).expect("write");
        let c = match config::load_with(&path, &env) {
            Ok(c) => c,
            Err(e) => panic!("good case {i} failed:\n{e}"),
        };
        assert_eq!(c.environments[0].credentials.client_secret.expose(), CANARY);
        let warnings: Vec<String> = c.warnings.iter().map(|w| format!("{w} {w:?}")).collect();
        let shown = format!("{}\n{c:?}\n{}", c.summary(), warnings.join("\n"));
        assert!(!shown.contains(CANARY), "good case {i} leaks:\n{shown}");
    }
}

/// Every example message in docs/configuration.md's tables is real: it is
/// a line of a golden file (with the fixture path shortened to `config.yml`).
#[test]
fn documented_messages_match_the_golden_files() {
    let normalize = |line: &str| -> String {
        let line = line.replace("tests/fixtures/config/", "config/");
        match line.split_once(".yml:") {
            Some((_, rest)) => format!("config.yml:{rest}"),
            None => line,
        }
    };
    let mut known: Vec<String> = fixtures("invalid-", ".txt")
        .iter()
        .flat_map(|p| {
            let text = std::fs::read_to_string(p).unwrap_or_default();
            text.lines().map(normalize).collect::<Vec<_>>()
        })
        .collect();
    for good in ["good-inline-secret.yml", "good-budget-unused.yml"] {
        let c = load_ok(&format!("tests/fixtures/config/{good}"));
        known.extend(c.warnings.iter().map(|w| normalize(&w.to_string())));
    }

    let docs = std::fs::read_to_string("docs/configuration.md").expect("docs/configuration.md");
    let mut checked = 0;
    for row in docs
        .lines()
        .filter(|l| l.starts_with('|') && l.contains("config.yml:"))
    {
        let cell = row
            .trim_end_matches('|')
            .rsplit(" | ")
            .next()
            .unwrap_or("")
            .trim();
        let message = cell.trim_matches('`').trim();
        assert!(
            known.iter().any(|k| k == message),
            "not in any golden file: {message}"
        );
        checked += 1;
    }
    assert!(checked >= 30, "only {checked} documented messages found");
}

#[test]
fn alerting_defaults_are_the_bundled_rules() {
    let c = load_ok("tests/fixtures/config/good-full.yml");
    let a = c.alerting.expect("alerting");
    assert_eq!(a.timeout, Duration::from_secs(10));
    assert_eq!(a.evaluation_interval, Duration::from_secs(30));
    assert_eq!(a.resend_interval, Duration::from_secs(60));
    assert!(a.auth.is_none() && a.external_labels.is_empty());
    assert_eq!(a.tls, config::AlertmanagerTls::default());
    let d = &a.alerts;
    assert_eq!(*d, config::AlertConditions::default());
    let min = |m: u64| Duration::from_secs(m * 60);
    assert_eq!(
        (
            d.sync_failing.params.threshold,
            d.sync_failing.params.window,
            d.sync_failing.hold
        ),
        (0.05, min(30), min(15))
    );
    assert_eq!(
        (d.failures_outstanding.params, d.failures_outstanding.hold),
        (0, min(6 * 60))
    );
    assert_eq!(
        (d.groups_failing.params, d.groups_failing.hold),
        (0, min(30))
    );
    assert_eq!(d.rule_failed.hold, min(10));
    assert_eq!(d.sync_stale.params.ldap_inbound, min(30));
    assert_eq!(d.sync_stale.params.default, min(24 * 60));
    assert_eq!((d.data_stale.params, d.data_stale.hold), (min(30), min(5)));
    assert_eq!(
        (d.auth_failing.params, d.auth_failing.hold),
        (min(5), min(10))
    );
    assert!(d.disabled().is_empty());
}

#[test]
fn alerting_config_resolves_every_key() {
    let c = load_ok("tests/fixtures/config/good-alerting.yml");
    let a = c.alerting.clone().expect("alerting");
    assert_eq!(
        a.alertmanager_urls,
        ["https://127.0.0.1:9093", "http://alertmanager-2:9093/am"]
    );
    assert_eq!(a.timeout, Duration::from_secs(5));
    match &a.auth {
        Some(config::AlertmanagerAuth::Basic {
            username,
            password,
            password_file,
        }) => {
            assert_eq!(username, "pingone");
            assert_eq!(password.expose(), "am-password", "trimmed");
            assert_eq!(
                password_file,
                Path::new("tests/fixtures/config/alertmanager-password.txt")
            );
        }
        other => panic!("basic auth expected, got {other:?}"),
    }
    let ca = a.tls.ca.as_ref().expect("ca");
    assert!(ca.pem.starts_with(b"-----BEGIN CERTIFICATE-----"));
    let client = a.tls.client.as_ref().expect("client cert");
    assert!(client.pem.expose().contains("PRIVATE KEY"));
    assert!(!a.tls.insecure_skip_verify);
    assert_eq!(a.evaluation_interval, Duration::from_secs(15));
    assert_eq!(a.resend_interval, Duration::from_secs(120));
    assert_eq!(
        a.external_labels.iter().collect::<Vec<_>>(),
        [
            (&"cluster".to_string(), &"eu-1".to_string()),
            (&"team".to_string(), &"identity".to_string())
        ]
    );
    let d = &a.alerts;
    let h = |h: u64| Duration::from_secs(h * 3600);
    assert_eq!(
        (
            d.sync_failing.params.threshold,
            d.sync_failing.params.window,
            d.sync_failing.hold
        ),
        (0.1, h(1), h(1))
    );
    assert_eq!(
        (d.failures_outstanding.params, d.failures_outstanding.hold),
        (3, h(12))
    );
    assert_eq!(d.groups_failing.params, 2);
    assert!(!d.writeback_failing.enabled);
    assert_eq!(d.rule_failed.hold, Duration::ZERO);
    assert_eq!(d.sync_stale.hold, Duration::from_secs(1800));
    assert_eq!(
        [
            d.sync_stale.params.ldap_inbound,
            d.sync_stale.params.workday_inbound,
            d.sync_stale.params.other_inbound,
            d.sync_stale.params.default
        ],
        [h(1), h(4), h(12), h(48)]
    );
    assert_eq!(d.poll_failing.hold, Duration::from_secs(1200));
    assert_eq!(
        (d.data_stale.params, d.data_stale.hold),
        (h(1), Duration::from_secs(600))
    );
    assert_eq!(d.rate_limited.params, Duration::from_secs(600));
    assert!(!d.auth_failing.enabled);
    assert_eq!(
        d.disabled(),
        [
            "PingOneProvisioningWritebackFailing",
            "PingOneExporterAuthFailing"
        ]
    );
    let summary = c.summary();
    assert!(summary.contains("auth=basic (user \"pingone\", password file \"tests/fixtures/config/alertmanager-password.txt\")"), "{summary}");
    assert!(
        summary.contains("external_labels.cluster=\"eu-1\""),
        "{summary}"
    );
    assert!(
        !summary.contains("am-password") && !summary.contains("PRIVATE KEY"),
        "{summary}"
    );
    let debug = format!("{a:?}");
    assert!(
        !debug.contains("am-password") && !debug.contains("PRIVATE KEY"),
        "{debug}"
    );
}

/// The Alertmanager password, bearer token and TLS key are secrets too.
#[test]
fn alertmanager_secrets_never_appear_in_errors_summary_or_debug() {
    let dir = tempfile::tempdir().expect("tempdir");
    let write = |name: &str, content: &str| {
        let p = dir.path().join(name);
        std::fs::write(&p, content).expect("write");
        p.display().to_string()
    };
    let two_lines = write("two-lines", &format!("{CANARY}\nsecond\n"));
    let good = write("good", &format!("{CANARY}\n"));
    let bad_key = write(
        "bad-key.pem",
        &format!("-----BEGIN PRIVATE KEY-----\n{CANARY}\n"),
    );
    let cert = std::fs::canonicalize("tests/fixtures/alerting/client.pem")
        .expect("fixture")
        .display()
        .to_string();
    let head = "environments:\n  - name: prod\n    id: 3f0b6a1e-0000-4000-8000-000000000001\n    credentials: {client_id: app, client_secret_env: GOOD}\nalerting:\n  alertmanager:\n    urls: [http://127.0.0.1:9093]\n";
    let env = |name: &str| (name == "GOOD").then(|| "x".to_string());
    let broken = [
        format!("{head}    bearer_token_file: {two_lines}\n"),
        format!("{head}    bearer_token_file: {CANARY}\n"),
        format!("{head}    basic_auth: {{username: u, password_file: {CANARY}}}\n"),
        format!("{head}    basic_auth: {{username: u, password_file: {two_lines}}}\n"),
        format!("{head}    basic_auth: {{username: u, password {CANARY}}}\n"),
        format!("{head}    basic_auth: {{username: u, password: {CANARY}}}\n"),
        format!("{head}    tls: {{cert_file: {cert}, key_file: {bad_key}}}\n"),
        format!(
            "{head}    bearer_token_file: {good}\n    basic_auth: {{username: u, password_file: {good}}}\n"
        ),
    ];
    for (i, yaml) in broken.iter().enumerate() {
        let path = dir.path().join(format!("broken-{i}.yml"));
        std::fs::write(&path, yaml).expect("write");
        match config::load_with(&path, &env) {
            Ok(c) => panic!("case {i} loaded:\n{yaml}\n{}", c.summary()),
            Err(e) => {
                let shown = format!("{e}\n{e:?}");
                assert!(
                    !shown.contains("s3cr3t"),
                    "case {i} leaks:\n{yaml}\n{shown}"
                );
            }
        }
    }
    for (i, yaml) in [
        format!("{head}    bearer_token_file: {good}\n"),
        format!("{head}    basic_auth: {{username: u, password_file: {good}}}\n"),
    ]
    .iter()
    .enumerate()
    {
        let path = dir.path().join(format!("good-{i}.yml"));
        std::fs::write(&path, yaml).expect("write");
        let c = config::load_with(&path, &env).unwrap_or_else(|e| panic!("good case {i}:\n{e}"));
        let shown = format!("{}\n{c:?}", c.summary());
        assert!(!shown.contains("s3cr3t"), "good case {i} leaks:\n{shown}");
        assert!(shown.contains("auth="), "{shown}");
    }
}

#[test]
fn plain_http_is_accepted_on_this_machine_without_credentials_or_when_opted_into() {
    let c = load_ok("tests/fixtures/config/good-insecure-http.yml");
    assert_eq!(c.environments[0].api_url, "http://10.1.2.3:8080/v1");
    let c = load_ok("tests/fixtures/config/good-alerting-insecure-http.yml");
    let a = c.alerting.as_ref().expect("alerting");
    assert_eq!(a.alertmanager_urls, ["http://alertmanager.example:9093"]);
    // The simulator-based tests and the demo use loopback: no opt-in.
    load_ok("tests/fixtures/config/good-full.yml");
}
