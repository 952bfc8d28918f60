//! `--web.config.file` end to end, against the real binary in demo mode on
//! loopback: TLS with certificates made by the test, client certificates,
//! TLS versions, basic auth (right, wrong, missing, unknown user), plain
//! HTTP refused on the TLS port, the handshake deadline, files re-read when
//! they change (certificate and password rotation, a bad edit ignored),
//! start-up errors, and the `healthcheck` command's exit codes.

#![allow(clippy::unwrap_used, clippy::expect_used)] // test code: a panic is a test failure

mod common;
#[path = "common/tls.rs"]
mod tls;

use std::io::Read;
use std::net::TcpStream;
use std::path::Path;
use std::time::Duration;

use base64::Engine;
use common::*;
use tls::{Ca, Versions};

/// The exporter in demo mode with `web_config` as `--web.config.file`.
fn start(web_config: &Path, extra: &[&str]) -> Exporter {
    let mut args = vec!["--demo", "--web.config.file", web_config.to_str().unwrap()];
    args.extend_from_slice(extra);
    Exporter::start(&args)
}

fn addr(exp: &Exporter) -> String {
    exp.base.trim_start_matches("http://").to_string()
}

/// `healthcheck ARGS`: its exit code and output.
fn healthcheck(args: &[&str]) -> (i32, String) {
    let out = std::process::Command::new(bin())
        .arg("healthcheck")
        .args(args)
        .output()
        .unwrap();
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    (out.status.code().unwrap_or(-1), text)
}

fn basic(user: &str, password: &str) -> String {
    let b = base64::engine::general_purpose::STANDARD.encode(format!("{user}:{password}"));
    format!("Basic {b}")
}

/// A cheap bcrypt hash (cost 4: tests run a debug build).
fn hash(password: &str) -> String {
    bcrypt::hash(password, 4).unwrap()
}

/// A PKI in `dir`: `ca.pem`, `cert.pem`, `key.pem`.
fn pki(dir: &Dir) -> Ca {
    let ca = Ca::new("test CA");
    let server = ca.server();
    dir.write("ca.pem", &ca.pem());
    dir.write("cert.pem", &server.cert);
    dir.write("key.pem", &server.key);
    ca
}

#[test]
fn tls_serves_every_endpoint_and_refuses_plain_http() {
    let dir = Dir::new();
    let ca = pki(&dir);
    let web = dir.write(
        "web.yml",
        "tls_server_config:\n  cert_file: cert.pem\n  key_file: key.pem\n",
    );
    let exp = start(&web, &[]);
    let a = addr(&exp);
    assert!(
        exp.proc.output().contains("tls=true"),
        "{}",
        exp.proc.output()
    );
    let client = tls::client(&ca.pem(), Versions::Both, None);
    let healthy = tls::get(&a, client.clone(), "/-/healthy", &[]).unwrap();
    assert_eq!(
        (healthy.resp.status, healthy.resp.text()),
        (200, "Healthy\n".into())
    );
    let metrics = tls::get(&a, client.clone(), "/metrics", &[]).unwrap();
    assert_eq!(metrics.resp.status, 200);
    assert!(metrics.resp.text().contains("pingone_exporter_build_info"));

    // Plain HTTP to the TLS port: a plain 400, never a route's answer.
    let plain = request("GET", &exp.url("/-/healthy"), &[], b"").unwrap();
    assert_eq!(plain.status, 400);
    assert_eq!(
        plain.text(),
        "Client sent an HTTP request to an HTTPS server.\n"
    );

    // A client that does not trust the certificate cannot connect.
    let stranger = tls::client(&Ca::new("other CA").pem(), Versions::Both, None);
    assert!(tls::get(&a, stranger, "/-/healthy", &[]).is_err());

    // The healthcheck command, over HTTPS.
    let url = format!(
        "https://localhost:{}/-/healthy",
        a.rsplit(':').next().unwrap()
    );
    let ca_file = dir.0.path().join("ca.pem");
    let (code, out) = healthcheck(&["--url", &url, "--ca-file", ca_file.to_str().unwrap()]);
    assert_eq!(code, 0, "{out}");
    assert!(out.starts_with("healthy: "), "{out}");
    let (code, out) = healthcheck(&["--url", &url]);
    assert_eq!(code, 1, "unknown CA: {out}");
    let (code, out) = healthcheck(&["--url", &url, "--insecure-skip-verify"]);
    assert_eq!(code, 0, "{out}");
    let (code, out) = healthcheck(&["--url", &exp.url("/-/healthy")]);
    assert_eq!(code, 1, "plain HTTP to TLS: {out}");
    assert!(out.contains("400"), "{out}");
}

#[test]
fn tls_versions_are_enforced_and_follow_the_file() {
    let dir = Dir::new();
    let ca = pki(&dir);
    let tls_config = "tls_server_config:\n  cert_file: cert.pem\n  key_file: key.pem\n";
    let web = dir.write("web.yml", &format!("{tls_config}  min_version: TLS13\n"));
    let exp = start(&web, &[]);
    let a = addr(&exp);
    let only12 = tls::client(&ca.pem(), Versions::Only12, None);
    let only13 = tls::client(&ca.pem(), Versions::Only13, None);
    assert!(
        tls::get(&a, only12.clone(), "/-/healthy", &[]).is_err(),
        "TLS 1.2 against min TLS13"
    );
    assert_eq!(
        tls::get(&a, only13.clone(), "/-/healthy", &[])
            .unwrap()
            .resp
            .status,
        200
    );

    // Edited in place: the next connection sees the new versions.
    std::fs::write(&web, format!("{tls_config}  max_version: TLS12\n")).unwrap();
    wait_for("TLS 1.2 accepted", Duration::from_secs(10), || {
        tls::get(&a, only12.clone(), "/-/healthy", &[]).ok()
    });
    assert!(
        tls::get(&a, only13, "/-/healthy", &[]).is_err(),
        "TLS 1.3 against max TLS12"
    );
    assert!(exp.proc.output().contains("web configuration reloaded"));
}

#[test]
fn client_certificates_are_verified() {
    let dir = Dir::new();
    let ca = pki(&dir);
    let clients = Ca::new("client CA");
    dir.write("clients.pem", &clients.pem());
    let trusted = clients.client("prometheus");
    let untrusted = Ca::new("rogue CA").client("prometheus");
    let cert = dir.write("client.pem", &trusted.cert);
    let key = dir.write("client-key.pem", &trusted.key);
    let web_for = |auth: &str| {
        format!(
            "tls_server_config:\n  cert_file: cert.pem\n  key_file: key.pem\n  client_ca_file: clients.pem\n  client_auth_type: {auth}\n"
        )
    };
    let web = dir.write("web.yml", &web_for("RequireAndVerifyClientCert"));
    let exp = start(&web, &[]);
    let a = addr(&exp);
    let with = |leaf: Option<&tls::Leaf>| {
        tls::get(
            &a,
            tls::client(&ca.pem(), Versions::Both, leaf),
            "/-/healthy",
            &[],
        )
        .map(|r| r.resp.status)
    };
    assert_eq!(with(Some(&trusted)).unwrap(), 200);
    assert!(with(None).is_err(), "no client certificate");
    assert!(
        with(Some(&untrusted)).is_err(),
        "a certificate from another CA"
    );

    let url = format!(
        "https://localhost:{}/-/healthy",
        a.rsplit(':').next().unwrap()
    );
    let ca_file = dir.0.path().join("ca.pem");
    let base = ["--url", &url, "--ca-file", ca_file.to_str().unwrap()];
    let (code, out) = healthcheck(
        &[
            &base[..],
            &[
                "--cert-file",
                cert.to_str().unwrap(),
                "--key-file",
                key.to_str().unwrap(),
            ],
        ]
        .concat(),
    );
    assert_eq!(code, 0, "{out}");
    let (code, out) = healthcheck(&base);
    assert_eq!(code, 1, "{out}");

    std::fs::write(&web, web_for("VerifyClientCertIfGiven")).unwrap();
    wait_for("no certificate accepted", Duration::from_secs(10), || {
        with(None).ok()
    });
    assert_eq!(with(Some(&trusted)).unwrap(), 200);
    assert!(
        with(Some(&untrusted)).is_err(),
        "a certificate given must verify"
    );
}

#[test]
fn basic_auth_protects_every_path() {
    let dir = Dir::new();
    let web = dir.write(
        "web.yml",
        &format!(
            "basic_auth_users:\n  prometheus: {}\nhttp_server_config:\n  headers:\n    X-Frame-Options: deny\n",
            hash("right-password")
        ),
    );
    let exp = start(&web, &[]);
    let get_as = |path: &str, auth: Option<String>| {
        let headers: Vec<(&str, &str)> = auth
            .as_deref()
            .map(|a| vec![("Authorization", a)])
            .unwrap_or_default();
        request("GET", &exp.url(path), &headers, b"").unwrap()
    };
    let pages = ["/", "/api/v1/status", "/rules/any/rule"];
    // Wrong basic-auth passwords spend this address's failure budget of
    // ten checks; past it, the answer is 429 (fast, no bcrypt), never 200.
    let mut checked = 0;
    for path in ["/metrics", "/-/healthy", "/-/ready", "/nonexistent"]
        .into_iter()
        .chain(pages)
    {
        for auth in [
            None,
            Some(basic("prometheus", "wrong-password")),
            Some(basic("nobody", "right-password")),
            Some("Bearer right-password".to_string()),
        ] {
            let r = get_as(path, auth.clone());
            assert_eq!(r.header("X-Frame-Options"), Some("deny"));
            let is_basic = auth.as_deref().is_some_and(|a| a.starts_with("Basic "));
            if is_basic && checked >= 10 {
                assert_eq!(r.status, 429, "{path} with {auth:?}: the budget is spent");
                continue;
            }
            checked += usize::from(is_basic);
            assert_eq!(r.status, 401, "{path} with {auth:?}");
            assert_eq!(
                r.header("WWW-Authenticate"),
                Some("Basic realm=\"pingone-sync-exporter\", charset=\"UTF-8\"")
            );
        }
    }
    assert!(checked == 10, "the loop spent the whole budget ({checked})");
    // The failure budget is spent: until it refills, even the right (not
    // yet cached) password gets 429, fast.
    let right = Some(basic("prometheus", "right-password"));
    let over = get_as("/-/healthy", right.clone());
    assert_eq!(over.status, 429, "{}", over.text());
    assert!(over.header("Retry-After").is_some());
    assert_eq!(over.header("X-Frame-Options"), Some("deny"));
    wait_for("a refilled failure budget", Duration::from_secs(30), || {
        (get_as("/-/healthy", right.clone()).status == 200).then_some(())
    });
    let m = get_as("/metrics", right.clone());
    assert_eq!(m.status, 200);
    assert_eq!(m.header("X-Frame-Options"), Some("deny"));
    assert_eq!(get_as("/nonexistent", right.clone()).status, 404);

    // The healthcheck command with and without credentials.
    let pw = dir.write("password", "right-password\n");
    let url = exp.url("/-/healthy");
    let (code, out) = healthcheck(&[
        "--url",
        &url,
        "--username",
        "prometheus",
        "--password-file",
        pw.to_str().unwrap(),
    ]);
    assert_eq!(code, 0, "{out}");
    let (code, out) = healthcheck(&["--url", &url]);
    assert_eq!((code, out.contains("401")), (1, true), "{out}");

    // A new password applies at once, without a restart.
    std::fs::write(
        &web,
        format!(
            "basic_auth_users:\n  prometheus: {}\n",
            hash("new-password")
        ),
    )
    .unwrap();
    wait_for("the new password", Duration::from_secs(10), || {
        (get_as("/metrics", Some(basic("prometheus", "new-password"))).status == 200).then_some(())
    });
    assert_eq!(
        get_as("/metrics", right.clone()).status,
        401,
        "the old password, cached before"
    );
    assert_eq!(
        get_as("/metrics", Some(basic("prometheus", "new-password"))).header("X-Frame-Options"),
        None
    );

    // A broken edit is logged and ignored: the last good file stays in force.
    std::fs::write(&web, "basic_auth_users:\n  prometheus: not-a-hash\n").unwrap();
    assert_eq!(
        get_as("/metrics", Some(basic("prometheus", "new-password"))).status,
        200
    );
    assert_eq!(get_as("/metrics", None).status, 401);
    wait_for(
        "the reload failure in the log",
        Duration::from_secs(10),
        || {
            exp.proc
                .output()
                .contains("web configuration reload failed")
                .then_some(())
        },
    );
    std::thread::sleep(Duration::from_millis(300));
    let out = exp.proc.output();
    assert_eq!(
        out.matches("web configuration reload failed").count(),
        1,
        "logged once:\n{out}"
    );
    assert!(
        out.contains("basic_auth_users.prometheus: not a bcrypt hash"),
        "{out}"
    );
}

#[test]
fn certificates_rotate_without_a_restart() {
    let dir = Dir::new();
    let ca = pki(&dir);
    let first = std::fs::read_to_string(dir.0.path().join("cert.pem")).unwrap();
    let web = dir.write(
        "web.yml",
        "tls_server_config:\n  cert_file: cert.pem\n  key_file: key.pem\n",
    );
    let exp = start(&web, &[]);
    let a = addr(&exp);
    let client = tls::client(&ca.pem(), Versions::Both, None);
    assert_eq!(
        tls::get(&a, client.clone(), "/-/healthy", &[])
            .unwrap()
            .peer_cert,
        tls::der(&first)
    );

    // Renewed certificate and key, written over the old files.
    let renewed = ca.server();
    dir.write("key.pem", &renewed.key);
    dir.write("cert.pem", &renewed.cert);
    wait_for("the renewed certificate", Duration::from_secs(10), || {
        let r = tls::get(&a, client.clone(), "/-/healthy", &[]).ok()?;
        (r.peer_cert == tls::der(&renewed.cert)).then_some(())
    });

    // A key that does not match: the renewed pair stays in force.
    dir.write("key.pem", &ca.server().key);
    let r = tls::get(&a, client, "/-/healthy", &[]).unwrap();
    assert_eq!((r.resp.status, r.peer_cert), (200, tls::der(&renewed.cert)));
    wait_for(
        "the reload failure in the log",
        Duration::from_secs(10),
        || {
            exp.proc
                .output()
                .contains("the private key does not belong to the certificate")
                .then_some(())
        },
    );
}

#[test]
fn a_silent_tls_client_loses_its_slot_after_the_read_timeout() {
    let dir = Dir::new();
    let ca = pki(&dir);
    let web = dir.write(
        "web.yml",
        "tls_server_config:\n  cert_file: cert.pem\n  key_file: key.pem\n",
    );
    let exp = start(
        &web,
        &["--web.read-timeout", "1s", "--web.max-connections", "2"],
    );
    let a = addr(&exp);
    // Two connections: one says nothing, one starts a handshake and stops.
    let mut silent = TcpStream::connect(&a).unwrap();
    let mut stalled = TcpStream::connect(&a).unwrap();
    std::io::Write::write_all(&mut stalled, &[0x16, 0x03, 0x01]).unwrap();
    for s in [&mut silent, &mut stalled] {
        // Our read timeout only guards against hanging: the server must
        // close first (end of stream or a reset, not our timeout).
        s.set_read_timeout(Some(HANG_GUARD)).unwrap();
        let mut buf = [0u8; 16];
        let read = s.read(&mut buf);
        assert!(
            match &read {
                Ok(n) => *n == 0,
                Err(e) => !matches!(
                    e.kind(),
                    std::io::ErrorKind::WouldBlock | std::io::ErrorKind::TimedOut
                ),
            },
            "closed by the server: {read:?}"
        );
    }
    // The slots are free again.
    let client = tls::client(&ca.pem(), Versions::Both, None);
    assert_eq!(
        tls::get(&a, client, "/-/healthy", &[]).unwrap().resp.status,
        200
    );
}

#[test]
fn a_bad_web_config_stops_start_up_with_its_problems() {
    let dir = Dir::new();
    let web = dir.write(
        "web.yml",
        "tls_server_config:\n  cert_file: missing.pem\n  key_file: missing-key.pem\n",
    );
    let shown = web.display().to_string();
    let mut p = Proc::spawn(
        &[
            "--demo",
            "--web.listen-address",
            "127.0.0.1:0",
            "--web.config.file",
            &shown,
        ],
        &[],
    );
    assert_eq!(p.wait_exit(Duration::from_secs(30)), Some(1));
    let out = p.output();
    assert!(out.contains("invalid web configuration:"), "{out}");
    assert!(
        out.contains(&format!(
            "{shown}:2:14: tls_server_config.cert_file: cannot read the certificate file"
        )),
        "{out}"
    );
    assert!(
        out.contains(&format!(
            "{shown}:3:13: tls_server_config.key_file: cannot read the key file"
        )),
        "{out}"
    );

    // --config.check checks the web config too.
    let config = "tests/fixtures/config/good-inline-secret.yml";
    let check = |web: &str| {
        let out = std::process::Command::new(bin())
            .args([
                "--config.file",
                config,
                "--config.check",
                "--web.config.file",
                web,
            ])
            .output()
            .unwrap();
        (
            out.status.code(),
            String::from_utf8_lossy(&out.stdout).into_owned(),
        )
    };
    let (code, out) = check(&shown);
    assert_eq!(code, Some(1));
    assert!(out.starts_with(&format!("{shown}:2:14: ")), "{out}");
    let (code, out) = check("tests/fixtures/webconfig/good-mtls.yml");
    assert_eq!((code, out.as_str()), (Some(0), "config OK\n"));
}

#[test]
fn healthcheck_without_a_web_config() {
    let exp = Exporter::start(&["--demo"]);
    let (code, out) = healthcheck(&["--url", &exp.url("/-/healthy")]);
    assert_eq!(code, 0, "{out}");
    let (code, out) = healthcheck(&["--url", &exp.url("/nonexistent")]);
    assert_eq!(code, 1, "{out}");
    // Nothing listening.
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let (code, out) = healthcheck(&[
        "--url",
        &format!("http://127.0.0.1:{port}/-/healthy"),
        "--timeout",
        "2s",
    ]);
    assert_eq!(code, 1, "{out}");
    assert!(out.starts_with("unhealthy: "), "{out}");
}
