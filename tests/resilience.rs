//! The daemon while things break: PingOne faults seen in `/metrics` and the
//! logs, reload of good and bad configs, shutdown during a scrape, and the
//! HTTP server under abusive clients. The real binary against
//! `pingone-sync-exporter simulate`, over loopback. Client-level fault
//! behaviour, in process, is in `tests/faults.rs`.

#![allow(clippy::unwrap_used, clippy::expect_used)] // test code: a panic is a test failure

mod common;

use std::io::{Read, Write};
use std::net::TcpStream;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use common::*;

const READY: Duration = Duration::from_secs(30);
const A: [(&str, &str); 1] = [("environment_name", "small-a")];
const B: [(&str, &str); 1] = [("environment_name", "small-b")];

/// The small scenario's simulator and an exporter polling `envs` every 10 s
/// with a 2 s request timeout; `args` are extra exporter flags.
fn start(envs: &[(&str, &str)], args: &[&str]) -> (Sim, Exporter, Dir, std::path::PathBuf) {
    let sim = Sim::start(&small_scenario());
    let dir = Dir::new();
    let secret = dir.write("secret", "demo-secret\n");
    let cfg = dir.write(
        "config.yml",
        &config_for(&sim.base, envs, "demo-client", &secret, "")
            .replace("request_timeout: 5s", "request_timeout: 2s"),
    );
    let mut all = vec!["--config.file", cfg.to_str().unwrap()];
    all.extend_from_slice(args);
    let exp = Exporter::start(&all);
    (sim, exp, dir, cfg)
}

fn polls(m: &Metrics, env: &[(&str, &str)]) -> f64 {
    m.one("pingone_exporter_poll_duration_seconds_count", env)
        .unwrap_or(0.0)
}

/// Waits for the environment's poll count to pass `n`; returns the metrics.
fn after_poll(exp: &Exporter, env: &[(&str, &str)], n: f64) -> Metrics {
    wait_for("the next poll", Duration::from_secs(30), || {
        let m = exp.metrics();
        (polls(&m, env) > n).then_some(m)
    })
}

/// The per-rule sample lines of one environment, without the ages (which
/// move with the clock).
fn rule_lines(m: &Metrics, env_id: &str) -> Vec<String> {
    m.text
        .lines()
        .filter(|l| l.starts_with("pingone_provisioning_") && !l.contains("_age_seconds"))
        .filter(|l| l.contains(&format!("environment_id=\"{env_id}\"")))
        .map(str::to_string)
        .collect()
}

fn count_lines(logs: &str, needles: &[&str]) -> usize {
    logs.lines()
        .filter(|l| needles.iter().all(|n| l.contains(n)))
        .count()
}

#[test]
fn a_failing_environment_keeps_its_last_good_values_and_says_so_once() {
    let (sim, exp, _dir, _) = start(&[("small-a", SMALL_A), ("small-b", SMALL_B)], &[]);
    exp.wait_ready(READY);
    let m1 = exp.metrics();
    assert_eq!(m1.one("pingone_exporter_up", &A), Some(1.0));
    let success_a = m1
        .one("pingone_exporter_last_success_timestamp_seconds", &A)
        .unwrap();
    let good_a = rule_lines(&m1, SMALL_A);
    let good_b = rule_lines(&m1, SMALL_B);
    assert!(good_a.len() > 20);

    // PingOne rate-limits small-a from now on, and the tenant moves on.
    sim.faults(r#"{"kind": "retry_after", "seconds": 1, "environment": "small-a"}"#);
    sim.advance(30);
    let m2 = after_poll(&exp, &A, polls(&m1, &A));
    assert_eq!(m2.one("pingone_exporter_up", &A), Some(0.0));
    assert_eq!(
        m2.one("pingone_exporter_last_success_timestamp_seconds", &A),
        Some(success_a),
        "the success timestamp stops moving"
    );
    assert_eq!(
        rule_lines(&m2, SMALL_A),
        good_a,
        "the last good values stay"
    );
    let failures = [A[0], ("reason", "rate_limited")];
    assert_eq!(
        m2.one("pingone_exporter_poll_failures_total", &failures),
        Some(1.0)
    );
    assert!(m2.one("pingone_exporter_rate_limited_total", &A).unwrap() >= 4.0);
    let retries = [A[0], ("endpoint", "stores"), ("reason", "rate_limited")];
    assert_eq!(
        m2.one("pingone_exporter_api_retries_total", &retries),
        Some(3.0)
    );

    // small-b is not held back: it polls and serves the tenant's new values.
    let m3 = after_poll(&exp, &B, polls(&m1, &B));
    assert_eq!(m3.one("pingone_exporter_up", &B), Some(1.0));
    assert_ne!(rule_lines(&m3, SMALL_B), good_b);

    // A second failed poll: counted, not logged again.
    let m4 = after_poll(&exp, &A, polls(&m2, &A));
    assert_eq!(
        m4.one("pingone_exporter_poll_failures_total", &failures),
        Some(2.0)
    );
    let logs = exp.proc.output();
    let failed = ["msg=\"poll failed\"", "environment=small-a"];
    assert_eq!(count_lines(&logs, &failed), 1, "{logs}");
    assert_eq!(
        count_lines(&logs, &["msg=\"poll failed\"", "HTTP 429 REQUEST_LIMITED"]),
        1,
        "the log says what failed"
    );

    // Recovery: fresh values, logged once.
    sim.clear_faults();
    let m5 = after_poll(&exp, &A, polls(&m4, &A));
    assert_eq!(m5.one("pingone_exporter_up", &A), Some(1.0));
    assert!(
        m5.one("pingone_exporter_last_success_timestamp_seconds", &A)
            .unwrap()
            > success_a
    );
    assert_ne!(rule_lines(&m5, SMALL_A), good_a);
    let logs = exp.proc.output();
    let recovered = ["msg=\"poll recovered\"", "environment=small-a"];
    assert_eq!(count_lines(&logs, &recovered), 1, "{logs}");
    assert_eq!(count_lines(&logs, &failed), 1, "{logs}");
}

#[test]
fn huge_answers_and_unknown_values_are_survived_and_counted() {
    let sim = Sim::start(&small_scenario());
    sim.faults(
        r#"[{"kind": "huge", "endpoint": "stores", "environment": "small-a", "bytes": 1000000000},
            {"kind": "unknown_fields", "environment": "small-b"},
            {"kind": "unknown_enums", "environment": "small-b"}]"#,
    );
    let dir = Dir::new();
    let cfg = dir.demo_config(&sim.base, &[("small-a", SMALL_A), ("small-b", SMALL_B)], "");
    let exp = Exporter::start(&["--config.file", cfg.to_str().unwrap()]);
    exp.wait_ready(READY);
    let m = exp.metrics();
    assert_eq!(m.one("pingone_exporter_up", &A), Some(0.0));
    assert_eq!(
        m.one(
            "pingone_exporter_poll_failures_total",
            &[A[0], ("reason", "too_large")]
        ),
        Some(1.0)
    );
    // About 20 MiB for the (debug) process plus at most the 16 MiB body cap.
    let rss = peak_rss_kib(exp.proc.child.id());
    assert!(rss < 56 * 1024, "peak RSS {rss} KiB after a 1 GB answer");

    assert_eq!(m.one("pingone_exporter_up", &B), Some(1.0));
    assert!(
        m.one(
            "pingone_exporter_unknown_values_total",
            &[("field", "syncStatus.syncState"), ("value", "RECONCILING")]
        )
        .unwrap()
            >= 1.0
    );
    assert!(
        m.one(
            "pingone_exporter_unknown_fields_total",
            &[("field", "stores.syncStatus.simFutureField")]
        )
        .unwrap()
            >= 1.0
    );
    // small-b's rules are still all there.
    assert_eq!(
        m.find(
            "pingone_provisioning_rule_info",
            &[("environment_id", SMALL_B)]
        )
        .len(),
        1
    );
    let logs = exp.proc.output();
    assert_eq!(
        count_lines(&logs, &["value=RECONCILING", "does not know"]),
        1,
        "{logs}"
    );
    assert!(logs.contains("field=stores.simFutureField"), "{logs}");
}

/// Scrapes `/metrics` until stopped; returns, per scrape, the number of
/// `rule_info` series of `env_id` (0 for a failed scrape).
fn scrape_while(
    exp: &Exporter,
    env_id: &'static str,
    stop: Arc<AtomicBool>,
) -> std::thread::JoinHandle<Vec<usize>> {
    let url = exp.url("/metrics");
    std::thread::spawn(move || {
        let mut seen = Vec::new();
        while !stop.load(Ordering::Relaxed) {
            let n = request("GET", &url, &[], b"")
                .ok()
                .filter(|r| r.status == 200)
                .map_or(0, |r| {
                    Metrics::parse(&r.text())
                        .find(
                            "pingone_provisioning_rule_info",
                            &[("environment_id", env_id)],
                        )
                        .len()
                });
            seen.push(n);
            std::thread::sleep(Duration::from_millis(20));
        }
        seen
    })
}

#[test]
fn reload_applies_good_configs_without_a_gap_and_refuses_bad_ones() {
    let (sim, mut exp, dir, cfg) = start(&[("small-a", SMALL_A)], &["--web.enable-lifecycle"]);
    exp.wait_ready(READY);
    let secret = dir.0.path().join("secret");
    let both = config_for(
        &sim.base,
        &[("small-a", SMALL_A), ("small-b", SMALL_B)],
        "demo-client",
        &secret,
        "",
    )
    .replace("request_timeout: 5s", "request_timeout: 2s");
    let stop = Arc::new(AtomicBool::new(false));
    let scraper = scrape_while(&exp, SMALL_A, Arc::clone(&stop));
    std::thread::sleep(Duration::from_millis(200));

    // Add an environment: small-a keeps its poller, token and data.
    std::fs::write(&cfg, &both).unwrap();
    let r = post(&exp.url("/-/reload"));
    assert_eq!((r.status, r.text().as_str()), (200, "config reloaded\n"));
    wait_for("small-b's first poll", READY, || {
        (exp.metrics().one("pingone_exporter_up", &B) == Some(1.0)).then_some(())
    });
    let m = exp.metrics();
    assert_eq!(
        m.one("pingone_exporter_token_refreshes_total", &A),
        Some(1.0),
        "small-a's poller and token were kept"
    );
    assert_eq!(
        m.one("pingone_exporter_token_refreshes_total", &B)
            .unwrap_or(0.0),
        0.0,
        "small-b shares small-a's worker app, so it reuses the cached token"
    );

    // A global change restarts every poller; the data stays served.
    std::fs::write(
        &cfg,
        both.replace("request_timeout: 2s", "request_timeout: 3s"),
    )
    .unwrap();
    exp.proc.signal("HUP");
    // Both environments use one worker app, so the rebuilt client fetches
    // one new token, counted on whichever environment asked first.
    wait_for("the restarted pollers' token", READY, || {
        let m = exp.metrics();
        let n = |e| {
            m.one("pingone_exporter_token_refreshes_total", e)
                .unwrap_or(0.0)
        };
        (n(&A) + n(&B) == 2.0).then_some(())
    });
    std::thread::sleep(Duration::from_millis(300));
    stop.store(true, Ordering::Relaxed);
    let seen = scraper.join().unwrap();
    assert!(seen.len() >= 10, "{seen:?}");
    assert!(
        seen.iter().all(|&n| n == 4),
        "every scrape during the reloads served small-a's 4 rules: {seen:?}"
    );
    assert_eq!(
        exp.metrics()
            .one("pingone_exporter_config_last_reload_successful", &[]),
        Some(1.0)
    );

    // A bad file: refused with the same message as --config.check, the
    // running config stays, and the gauge shows it.
    let bad = format!("{both}    bogus_key: 1\n");
    std::fs::write(&cfg, &bad).unwrap();
    let check = std::process::Command::new(bin())
        .args(["--config.check", "--config.file", cfg.to_str().unwrap()])
        .output()
        .unwrap();
    assert_eq!(check.status.code(), Some(1));
    let problems = String::from_utf8(check.stdout).unwrap();
    assert!(problems.contains("bogus_key"), "{problems}");
    // Without basic auth the caller is anonymous: the answer does not
    // show the problems (they name files); the log does
    // (tests/lifecycle.rs shows them to an authenticated caller). The
    // endpoint runs one reload a second: a 429 means try again.
    let r = wait_for("a reload past the rate limit", READY, || {
        Some(post(&exp.url("/-/reload"))).filter(|r| r.status != 429)
    });
    assert_eq!(r.status, 500);
    assert!(
        !r.text().contains("bogus_key") && !r.text().contains(cfg.to_str().unwrap()),
        "{}",
        r.text()
    );
    let logged = problems
        .trim()
        .replace('\\', "\\\\")
        .replace('"', "\\\"")
        .replace('\n', "\\n");
    wait_for(
        "the reload failure in the log",
        Duration::from_secs(5),
        || exp.proc.output().contains(&logged).then_some(()),
    );
    let m = exp.metrics();
    assert_eq!(
        m.one("pingone_exporter_config_last_reload_successful", &[]),
        Some(0.0)
    );
    assert_eq!(m.one("pingone_exporter_up", &A), Some(1.0));
    assert_eq!(m.one("pingone_exporter_up", &B), Some(1.0));
    exp.proc.signal("HUP");
    wait_for("the second refusal", Duration::from_secs(5), || {
        (count_lines(&exp.proc.output(), &["configuration reload failed"]) == 2).then_some(())
    });

    // Fixed (and small-b removed): accepted, small-b's series go.
    std::fs::write(&cfg, both.split("  - name: small-b").next().unwrap()).unwrap();
    exp.proc.signal("HUP");
    wait_for("the fixed reload", Duration::from_secs(5), || {
        let m = exp.metrics();
        (m.one("pingone_exporter_config_last_reload_successful", &[]) == Some(1.0)).then_some(m)
    });
    let m = exp.metrics();
    assert!(!m.text.contains(SMALL_B), "small-b's series are gone");
    assert_eq!(
        m.find(
            "pingone_provisioning_rule_info",
            &[("environment_id", SMALL_A)]
        )
        .len(),
        4
    );
    exp.proc.signal("TERM");
    assert_eq!(exp.proc.wait_exit(Duration::from_secs(10)), Some(0));
}

/// A tenant big enough that `/metrics` (about 6 MB) outgrows the kernel's
/// socket buffers, so a slow reader keeps a scrape in flight.
fn big_tenant(dir: &Dir) -> (Sim, std::path::PathBuf) {
    let scenario = dir.write(
        "big.yml",
        "seed: 7\nclock: manual\nwarmup_ticks: 1\ngenerate:\n  environments: 1\n  rules_per_environment: 1800\n  users_per_environment: 10\n",
    );
    let sim = Sim::start(&scenario);
    let (id, _) = sim
        .proc
        .output()
        .lines()
        .find_map(|l| l.strip_prefix("environment "))
        .and_then(|l| l.split_once(' '))
        .map(|(a, b)| (a.to_string(), b.to_string()))
        .unwrap();
    let secret = dir.write("secret", "demo-secret\n");
    let cfg = format!(
        "global:\n  poll_interval: 60s\n  request_timeout: 10s\n  max_requests_per_second: 2000\n  max_concurrent_requests: 16\nenvironments:\n  - name: big\n    id: {id}\n    api_url: {0}/v1\n    auth_url: {0}\n    credentials:\n      client_id: demo-client\n      client_secret_file: {1}\n",
        sim.base,
        secret.display()
    );
    let cfg = dir.write("config.yml", &cfg);
    (sim, cfg)
}

#[test]
fn sigterm_lets_an_in_flight_scrape_finish_then_exits_zero() {
    let dir = Dir::new();
    let (_sim, cfg) = big_tenant(&dir);
    let mut exp = Exporter::start(&["--config.file", cfg.to_str().unwrap()]);
    exp.wait_ready(Duration::from_secs(60));
    let addr = exp.base.strip_prefix("http://").unwrap().parse().unwrap();
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let (head, body_len) = rt.block_on(async {
        use tokio::io::{AsyncReadExt, AsyncWriteExt};
        let sock = tokio::net::TcpSocket::new_v4().unwrap();
        sock.set_recv_buffer_size(4096).unwrap();
        let mut s = sock.connect(addr).await.unwrap();
        s.write_all(b"GET /metrics HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
            .await
            .unwrap();
        let mut got = vec![0u8; 64 * 1024];
        s.read_exact(&mut got).await.unwrap();
        exp.proc.signal("TERM");
        tokio::time::sleep(Duration::from_millis(1500)).await;
        assert!(
            exp.proc.child.try_wait().unwrap().is_none(),
            "the daemon waits for the scrape in flight"
        );
        s.read_to_end(&mut got).await.unwrap();
        let split = got.windows(4).position(|w| w == b"\r\n\r\n").unwrap();
        let head = String::from_utf8_lossy(&got[..split]).into_owned();
        (head, got.len() - split - 4)
    });
    let declared: usize = head
        .lines()
        .find_map(|l| l.strip_prefix("content-length: "))
        .unwrap()
        .parse()
        .unwrap();
    assert!(
        declared > 5_000_000,
        "{declared} bytes is not bigger than the socket buffers"
    );
    assert_eq!(body_len, declared, "the whole answer arrived");
    assert_eq!(
        exp.proc.wait_exit(HANG_GUARD),
        Some(0),
        "{}",
        exp.proc.output()
    );
}

#[test]
fn sigint_stops_promptly_while_polls_hang() {
    let sim = Sim::start(&small_scenario());
    sim.faults(r#"{"kind": "slow", "delay_ms": 600000}"#);
    let dir = Dir::new();
    // A poll that waits out a 5-minute request timeout: an exporter that
    // waited for it could not stop within the 60 s allowed below, which
    // leaves a loaded machine plenty of room.
    let cfg = dir.demo_config(&sim.base, &[("small-a", SMALL_A)], "");
    let text = std::fs::read_to_string(&cfg)
        .unwrap()
        .replace("interval: 10s", "interval: 10m")
        .replace("request_timeout: 5s", "request_timeout: 5m");
    std::fs::write(&cfg, text).unwrap();
    let mut exp = Exporter::start(&["--config.file", cfg.to_str().unwrap()]);
    std::thread::sleep(Duration::from_millis(500));
    assert_eq!(
        get(&exp.url("/-/ready")).status,
        503,
        "the first poll hangs"
    );
    exp.proc.signal("INT");
    assert_eq!(
        exp.proc.wait_exit(HANG_GUARD),
        Some(0),
        "{}",
        exp.proc.output()
    );
    assert!(exp.proc.output().contains("SIGINT received"));
}

/// Opens `n` connections that send a request head one byte at a time and
/// never finish it; returns when the server has closed all of them (panics
/// after `limit`, a guard against hanging).
fn slow_loris(addr: &str, n: usize, limit: Duration) {
    let t0 = Instant::now();
    let mut socks: Vec<Option<TcpStream>> = (0..n)
        .map(|_| {
            let mut s = TcpStream::connect(addr).unwrap();
            s.write_all(b"GET /metrics HTTP/1.1\r\nHost: x\r\n")
                .unwrap();
            s.set_nonblocking(true).unwrap();
            Some(s)
        })
        .collect();
    let mut buf = [0u8; 1024];
    while socks.iter().any(Option::is_some) {
        assert!(
            t0.elapsed() < limit,
            "slow clients still connected after {limit:?}"
        );
        for slot in &mut socks {
            let Some(s) = slot else { continue };
            let gone = |e: &std::io::Error| e.kind() != std::io::ErrorKind::WouldBlock;
            let closed = match s.read(&mut buf) {
                Ok(0) => true,
                Ok(_) => false,
                Err(e) => gone(&e),
            } || s.write(b"x").is_err_and(|e| gone(&e));
            if closed {
                *slot = None;
            }
        }
        std::thread::sleep(Duration::from_millis(100));
    }
}

#[test]
fn the_server_survives_slow_loris_and_many_scrapers() {
    let (_sim, exp, _dir, _) = start(
        &[("small-a", SMALL_A)],
        &["--web.read-timeout", "1s", "--web.max-connections", "16"],
    );
    exp.wait_ready(READY);
    let addr = exp.base.strip_prefix("http://").unwrap().to_string();

    // 48 slow clients (three times the connection cap) and 16 scrapers
    // doing 10 scrapes each, at the same time.
    let loris = {
        let addr = addr.clone();
        std::thread::spawn(move || slow_loris(&addr, 48, HANG_GUARD))
    };
    std::thread::sleep(Duration::from_millis(200));
    let scrapers: Vec<_> = (0..16)
        .map(|_| {
            let url = exp.url("/metrics");
            std::thread::spawn(move || {
                (0..10)
                    .map(|_| {
                        let r = request("GET", &url, &[], b"").unwrap();
                        r.status == 200 && r.text().contains("pingone_exporter_up{")
                    })
                    .filter(|ok| *ok)
                    .count()
            })
        })
        .collect();
    let ok: usize = scrapers.into_iter().map(|h| h.join().unwrap()).sum();
    assert_eq!(ok, 160, "every scrape was answered");
    // 48 clients through 16 slots, 1 s each: about 3 s; without the read
    // timeout they would hold their slots for ever.
    loris.join().unwrap();

    // An idle connection, and one idle after a request, are closed after
    // the read timeout; a request body nobody reads does not hold one.
    for first in [&b""[..], b"GET /-/healthy HTTP/1.1\r\nHost: x\r\n\r\n"] {
        let mut s = TcpStream::connect(&addr).unwrap();
        s.write_all(first).unwrap();
        // Our own read timeout is only a guard against hanging: the
        // server must close the connection first.
        s.set_read_timeout(Some(HANG_GUARD)).unwrap();
        let t = Instant::now();
        let mut all = Vec::new();
        let read = s.read_to_end(&mut all);
        let idle = t.elapsed();
        assert!(
            !read.as_ref().is_err_and(|e| matches!(
                e.kind(),
                std::io::ErrorKind::WouldBlock | std::io::ErrorKind::TimedOut
            )),
            "still open after {idle:?}: {read:?}"
        );
        assert!(idle >= Duration::from_millis(900), "{idle:?}");
    }
    let mut s = TcpStream::connect(&addr).unwrap();
    s.write_all(b"POST /metrics HTTP/1.1\r\nHost: x\r\nContent-Length: 1000000\r\n\r\nabc")
        .unwrap();
    s.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
    let mut all = Vec::new();
    let _ = s.read_to_end(&mut all);
    assert!(
        all.starts_with(b"HTTP/1.1 405"),
        "{}",
        String::from_utf8_lossy(&all)
    );

    // Bounded request heads; what is not served.
    let big = "a".repeat(200_000);
    let r = request("GET", &exp.url("/metrics"), &[("X-Big", &big)], b"").unwrap();
    assert_eq!(r.status, 431);
    let mut s = TcpStream::connect(&addr).unwrap();
    s.write_all(b"\x16\x03\x01 not http\r\n\r\n").unwrap();
    let mut all = Vec::new();
    let _ = s.read_to_end(&mut all);
    assert!(
        all.starts_with(b"HTTP/1.1 400"),
        "{}",
        String::from_utf8_lossy(&all)
    );
    assert_eq!(get(&exp.url("/nothing-here")).status, 404);
    assert_eq!(post(&exp.url("/metrics")).status, 405);
    assert_eq!(get(&exp.url("/-/healthy")).status, 200);
}

#[test]
fn a_client_that_stops_reading_is_disconnected() {
    use pingone_sync_exporter::http::{ServeOptions, serve};
    use pingone_sync_exporter::shutdown::Shutdown;
    let rt = tokio::runtime::Runtime::new().unwrap();
    rt.block_on(async {
        use tokio::io::{AsyncReadExt, AsyncWriteExt};
        const SIZE: usize = 12 << 20;
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let shutdown = Shutdown::new();
        let opts = ServeOptions {
            header_read_timeout: Duration::from_secs(1),
            write_stall_timeout: Duration::from_secs(1),
            ..ServeOptions::default()
        };
        let body = bytes::Bytes::from(vec![b'x'; SIZE]);
        tokio::spawn(serve(listener, opts, shutdown.clone(), move |_req| {
            let body = body.clone();
            async move {
                let mut answer = hyper::Response::new(http_body_util::Full::new(body));
                answer.headers_mut().insert(
                    hyper::header::CONTENT_TYPE,
                    hyper::header::HeaderValue::from_static("text/plain"),
                );
                answer
            }
        }));
        // Reads the answer, pausing `pause` after every `every` bytes, at
        // most `pauses` times; returns the bytes received.
        let fetch = |every: usize, pause: Duration, mut pauses: u32| async move {
            let sock = tokio::net::TcpSocket::new_v4().unwrap();
            sock.set_recv_buffer_size(4096).unwrap();
            let mut s = sock.connect(addr).await.unwrap();
            s.write_all(b"GET / HTTP/1.1\r\nHost: x\r\n\r\n")
                .await
                .unwrap();
            let (mut n, mut since) = (0usize, 0usize);
            let mut buf = vec![0u8; 256 * 1024];
            loop {
                if since >= every && pauses > 0 {
                    tokio::time::sleep(pause).await;
                    since = 0;
                    pauses -= 1;
                }
                match s.read(&mut buf).await {
                    Ok(0) | Err(_) => return n,
                    Ok(k) => {
                        n += k;
                        since += k;
                    }
                }
            }
        };
        // Pauses shorter than the limit: the whole answer.
        let steady = fetch(2 << 20, Duration::from_millis(600), 6).await;
        assert!(steady > SIZE, "{steady}");
        // One pause longer than the limit: cut off.
        let stalled = fetch(64 * 1024, Duration::from_millis(2500), 1).await;
        assert!(stalled < SIZE, "{stalled}");
        shutdown.trigger();
    });
}
