//! The web config file's (`--web.config.file`) error messages, frozen, and
//! what the good examples resolve to.
//!
//! Golden files: every `tests/fixtures/webconfig/invalid-<rule>.yml` must
//! fail to load with exactly the text in `invalid-<rule>.txt`. After an
//! intended wording change:
//!
//! ```text
//! UPDATE_GOLDEN=1 cargo test --test webconfig_errors
//! git diff tests/fixtures/webconfig/
//! ```
//!
//! `tests/fixtures/webconfig/tls/` holds a test-only CA, a `localhost`
//! certificate it signed and its key (valid for 100 years), and a key that
//! belongs to nothing; made with `openssl` (see docs/web-config.md).

#![allow(clippy::unwrap_used, clippy::expect_used)] // test code: a panic is a test failure

use std::path::{Path, PathBuf};

#[path = "common/golden.rs"]
mod golden;

use pingone_sync_exporter::webconfig::{self, ClientAuth, TlsVersion, WebConfig};

const FIXTURES: &str = "tests/fixtures/webconfig";

fn fixtures(prefix: &str, ext: &str) -> Vec<PathBuf> {
    golden::fixtures(FIXTURES, prefix, ext)
}

fn load_ok(name: &str) -> WebConfig {
    let path = format!("{FIXTURES}/{name}");
    webconfig::load(Path::new(&path)).unwrap_or_else(|e| panic!("{path} should load:\n{e}"))
}

#[test]
fn every_invalid_fixture_fails_with_its_golden_message() {
    golden::check_invalid_fixtures(FIXTURES, 20, |yml| {
        webconfig::load(yml).err().map(|e| e.to_string())
    });
}

#[test]
fn every_problem_has_a_position_and_a_lower_case_one_line_message() {
    for yml in fixtures("invalid-", ".yml") {
        let err = webconfig::load(&yml).err().unwrap();
        for p in &err.problems {
            assert!(p.position.is_some(), "{p}");
            assert!(!p.message.starts_with(char::is_uppercase), "{p}");
            assert!(!p.message.contains('\n'), "{p}");
        }
        let positions: Vec<_> = err.problems.iter().map(|p| p.position).collect();
        let mut sorted = positions.clone();
        sorted.sort();
        assert_eq!(positions, sorted, "{yml:?}: problems not in file order");
    }
}

#[test]
fn no_message_quotes_a_key_or_a_hash() {
    let inline = webconfig::load(Path::new(&format!("{FIXTURES}/invalid-inline-key.yml")))
        .err()
        .unwrap()
        .to_string();
    assert!(!inline.contains("SECRETKEYMATERIAL"), "{inline}");
    let hashes = webconfig::load(Path::new(&format!("{FIXTURES}/invalid-hash.yml")))
        .err()
        .unwrap()
        .to_string();
    assert!(
        !hashes.contains("hunter2") && !hashes.contains("QOauhQNb"),
        "{hashes}"
    );
}

#[test]
fn a_missing_file_is_reported_by_name() {
    let err = webconfig::load(Path::new("tests/fixtures/webconfig/nonexistent.yml")).unwrap_err();
    assert_eq!(
        err.to_string(),
        "tests/fixtures/webconfig/nonexistent.yml: cannot read the web config file: No such file or directory (os error 2)"
    );
}

#[test]
fn good_examples_resolve() {
    let tls = load_ok("good-tls.yml");
    let t = tls.tls.as_ref().unwrap();
    assert_eq!(t.options.min_version, TlsVersion::Tls13);
    assert_eq!(t.options.max_version, TlsVersion::Tls13);
    assert_eq!(t.options.client_auth, ClientAuth::None);
    assert!(t.options.prefer_server_cipher_suites);
    assert_eq!(tls.users.len(), 1);
    assert_eq!(tls.summary(), "TLS (TLS13-TLS13), basic auth (1 users)");
    assert_eq!(
        tls.files,
        [
            PathBuf::from("tests/fixtures/webconfig/tls/cert.pem"),
            PathBuf::from("tests/fixtures/webconfig/tls/key.pem")
        ]
    );
    // The private key never shows in Debug output.
    assert!(!format!("{tls:?}").contains("PRIVATE"), "{tls:?}");

    let mtls = load_ok("good-mtls.yml");
    let t = mtls.tls.as_ref().unwrap();
    assert_eq!(t.options.client_auth, ClientAuth::RequireAndVerify);
    assert_eq!(t.options.max_version, TlsVersion::Tls12);
    assert!(!t.options.prefer_server_cipher_suites);
    assert_eq!(mtls.headers.len(), 2);
    assert_eq!(
        mtls.summary(),
        "TLS (TLS12-TLS12, client certificates required)"
    );

    let auth = load_ok("good-auth-only.yml");
    assert!(auth.tls.is_none());
    assert_eq!(auth.summary(), "plain HTTP, basic auth (2 users)");

    let empty = load_ok("good-empty.yml");
    assert!(empty.tls.is_none() && empty.users.is_empty() && empty.headers.is_empty());
}

#[test]
fn http2_is_accepted_with_a_warning() {
    let c = webconfig::load_str("http_server_config:\n  http2: true\n", "w.yml").unwrap();
    assert_eq!(
        c.warnings
            .iter()
            .map(ToString::to_string)
            .collect::<Vec<_>>(),
        [
            "w.yml:2:3: http_server_config.http2: HTTP/2 is not served: the exporter speaks HTTP/1.1, which every Prometheus accepts"
        ]
    );
}

#[test]
fn the_documented_example_loads() {
    let doc = std::fs::read_to_string("docs/web-config.md").unwrap();
    let start = doc.find("```yaml\n").unwrap() + "```yaml\n".len();
    let example = &doc[start..start + doc[start..].find("```").unwrap()];
    let local = example
        .replace("/etc/pingone-sync-exporter/tls/cert.pem", "tls/cert.pem")
        .replace("/etc/pingone-sync-exporter/tls/key.pem", "tls/key.pem");
    let c = webconfig::load_str(&local, &format!("{FIXTURES}/doc.yml")).unwrap();
    assert_eq!(c.summary(), "TLS (TLS12-TLS13), basic auth (1 users)");
    let hash = example
        .lines()
        .find_map(|l| l.trim().strip_prefix("prometheus: "))
        .unwrap();
    assert!(
        bcrypt::verify("changeme", hash).unwrap(),
        "the example hash is of \"changeme\""
    );
}
