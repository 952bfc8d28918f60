//! Denial of service against the real binary in demo mode on loopback: a
//! client that squats every connection slot, and a flood of wrong
//! passwords against basic auth. In both, a scrape and `/-/healthy` on a
//! fresh connection must still be answered (within the 30 s read timeout
//! of the test client: a generous bound, not a timing assertion).

#![allow(clippy::unwrap_used, clippy::expect_used)] // test code: a panic is a test failure

mod common;

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::time::Duration;

use base64::Engine;
use common::*;

fn addr(exp: &Exporter) -> SocketAddr {
    exp.base.trim_start_matches("http://").parse().unwrap()
}

/// Sends `GET path` on a keep-alive connection and reads one answer; its
/// status, or `None` when the connection failed or was closed.
fn keep_alive_get(r: &mut BufReader<TcpStream>, path: &str, auth: Option<&str>) -> Option<u16> {
    let auth = auth.map_or(String::new(), |a| format!("Authorization: {a}\r\n"));
    r.get_mut()
        .write_all(format!("GET {path} HTTP/1.1\r\nHost: x\r\n{auth}\r\n").as_bytes())
        .ok()?;
    let mut line = String::new();
    r.read_line(&mut line).ok()?;
    let status = line.split_whitespace().nth(1)?.parse().ok()?;
    let mut len = 0usize;
    loop {
        line.clear();
        if r.read_line(&mut line).ok()? == 0 {
            return None;
        }
        if line == "\r\n" {
            break;
        }
        if let Some(v) = line.to_ascii_lowercase().strip_prefix("content-length:") {
            len = v.trim().parse().ok()?;
        }
    }
    let mut body = vec![0u8; len];
    r.read_exact(&mut body).ok()?;
    Some(status)
}

/// What a squatter saw.
#[derive(Default)]
struct Seen {
    /// Threads that got at least one answer.
    answered: AtomicUsize,
    /// `503` answers (refused or probe-lane-only connections).
    refused: AtomicUsize,
}

/// `n` threads, each keeping one keep-alive connection to `addr` and
/// sending a request on it every 3 s; a closed connection is opened again
/// 3 s later. Runs until `stop`.
fn squat(
    addr: SocketAddr,
    n: usize,
    path: &'static str,
    auth: Option<String>,
    stop: Arc<AtomicBool>,
) -> (Arc<Seen>, Vec<std::thread::JoinHandle<()>>) {
    let seen = Arc::new(Seen::default());
    let threads = (0..n)
        .map(|_| {
            let (seen, stop, auth) = (Arc::clone(&seen), Arc::clone(&stop), auth.clone());
            std::thread::spawn(move || {
                let mut answered = false;
                let mut conn: Option<BufReader<TcpStream>> = None;
                while !stop.load(Ordering::Relaxed) {
                    if conn.is_none() {
                        conn = TcpStream::connect(addr).ok().map(|s| {
                            s.set_read_timeout(Some(Duration::from_secs(60))).unwrap();
                            BufReader::new(s)
                        });
                    }
                    match conn
                        .as_mut()
                        .and_then(|c| keep_alive_get(c, path, auth.as_deref()))
                    {
                        Some(status) => {
                            if !answered {
                                answered = true;
                                seen.answered.fetch_add(1, Ordering::Relaxed);
                            }
                            if status == 503 || status == 429 {
                                seen.refused.fetch_add(1, Ordering::Relaxed);
                                conn = None;
                            }
                        }
                        None => conn = None,
                    }
                    std::thread::sleep(Duration::from_secs(3));
                }
            })
        })
        .collect();
    (seen, threads)
}

fn stop_all(stop: &AtomicBool, threads: Vec<std::thread::JoinHandle<()>>) {
    stop.store(true, Ordering::Relaxed);
    for t in threads {
        let _ = t.join();
    }
}

/// A `GET` from a fresh connection bound to `source` (another loopback
/// address is another peer).
fn get_from(source: &str, url: &str) -> std::io::Result<Resp> {
    let target: SocketAddr = url
        .trim_start_matches("http://")
        .split('/')
        .next()
        .unwrap()
        .parse()
        .unwrap();
    let path = format!(
        "/{}",
        url.trim_start_matches("http://").split_once('/').unwrap().1
    );
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let mut s = rt.block_on(async {
        let s = tokio::net::TcpSocket::new_v4()?;
        s.bind(format!("{source}:0").parse().unwrap())?;
        s.connect(target).await?.into_std()
    })?;
    s.set_nonblocking(false)?;
    s.set_read_timeout(Some(Duration::from_secs(30)))?;
    s.write_all(format!("GET {path} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n").as_bytes())?;
    let mut raw = Vec::new();
    s.read_to_end(&mut raw)?;
    parse_response(&raw)
}

#[test]
fn a_client_squatting_every_connection_slot_does_not_lock_out_scrapes_and_probes() {
    let exp = Exporter::start(&["--demo", "--web.max-connections", "64"]);
    exp.wait_ready(Duration::from_secs(60));
    let stop = Arc::new(AtomicBool::new(false));
    // At full strength: as many keep-alive connections as the server
    // serves, from one address, each used every 3 s.
    let (seen, threads) = squat(addr(&exp), 64, "/", None, Arc::clone(&stop));
    wait_for(
        "the squatter's connections",
        Duration::from_secs(60),
        || (seen.answered.load(Ordering::Relaxed) >= 32).then_some(()),
    );
    std::thread::sleep(Duration::from_secs(4)); // a full cycle of the squatter

    // From the squatter's own address, on fresh connections: answered.
    let scrape = request("GET", &exp.url("/metrics"), &[], b"");
    let healthy = request("GET", &exp.url("/-/healthy"), &[], b"");
    let ready = request("GET", &exp.url("/-/ready"), &[], b"");
    // Another address gets an ordinary connection, for any path.
    let other = get_from("127.0.0.2", &exp.url("/"));
    let refused = seen.refused.load(Ordering::Relaxed);
    stop_all(&stop, threads);

    let scrape = scrape.expect("a scrape during the squat");
    assert_eq!(scrape.status, 200);
    assert!(scrape.text().contains("pingone_exporter_build_info"));
    assert_eq!(healthy.expect("/-/healthy during the squat").status, 200);
    assert_eq!(ready.expect("/-/ready during the squat").status, 200);
    let other = other.expect("a request from another address during the squat");
    assert_eq!(other.status, 200, "{}", other.text());
    assert!(
        refused > 0,
        "the squatter's connections over its share were refused"
    );
}

fn basic(user: &str, password: &str) -> String {
    let b = base64::engine::general_purpose::STANDARD.encode(format!("{user}:{password}"));
    format!("Basic {b}")
}

/// bcrypt of `x` at cost 10, the usual cost (about 0.25 s in a debug build).
const HASH_OF_X: &str = "$2b$10$GRRlQlFLrd.xdbOsiEhYcuIkp4ZGWHVT1YK6QCP.jQjizDYRexzJy";

/// `n` threads from `source`, each sending wrong passwords as fast as it
/// is answered, on keep-alive connections, reconnecting when closed (a
/// refusal: after 200 ms). Returns the answers seen by status.
fn flood(
    target: SocketAddr,
    source: &'static str,
    n: usize,
    stop: Arc<AtomicBool>,
) -> (Arc<[AtomicUsize; 3]>, Vec<std::thread::JoinHandle<()>>) {
    // 401, 429, 503.
    let seen: Arc<[AtomicUsize; 3]> = Arc::new(Default::default());
    let threads = (0..n)
        .map(|i| {
            let (seen, stop) = (Arc::clone(&seen), Arc::clone(&stop));
            std::thread::spawn(move || {
                let rt = tokio::runtime::Builder::new_current_thread()
                    .enable_all()
                    .build()
                    .unwrap();
                let auth = basic("prometheus", &format!("guess-{i}"));
                let mut conn: Option<BufReader<TcpStream>> = None;
                while !stop.load(Ordering::Relaxed) {
                    if conn.is_none() {
                        conn = rt
                            .block_on(async {
                                let s = tokio::net::TcpSocket::new_v4().ok()?;
                                s.bind(format!("{source}:0").parse().unwrap()).ok()?;
                                s.connect(target).await.ok()?.into_std().ok()
                            })
                            .map(|s| {
                                s.set_nonblocking(false).unwrap();
                                s.set_read_timeout(Some(Duration::from_secs(120))).unwrap();
                                BufReader::new(s)
                            });
                    }
                    let status = conn
                        .as_mut()
                        .and_then(|c| keep_alive_get(c, "/metrics", Some(&auth)));
                    let slot = match status {
                        Some(401) => Some(0),
                        Some(429) => Some(1),
                        Some(503) => Some(2),
                        _ => None,
                    };
                    if let Some(slot) = slot {
                        seen[slot].fetch_add(1, Ordering::Relaxed);
                    }
                    if status != Some(401) {
                        conn = None;
                        std::thread::sleep(Duration::from_millis(200));
                    }
                }
            })
        })
        .collect();
    (seen, threads)
}

#[test]
fn a_flood_of_wrong_passwords_does_not_lock_out_the_scraper() {
    let dir = Dir::new();
    let web = dir.write(
        "web.yml",
        &format!("basic_auth_users:\n  prometheus: {HASH_OF_X}\n"),
    );
    let exp = Exporter::start(&["--demo", "--web.config.file", web.to_str().unwrap()]);
    let stop = Arc::new(AtomicBool::new(false));
    // 200 clients guessing from another address: before the queue and the
    // failure budget were bounded, each guess queued for bcrypt, one at a
    // time, in front of the scraper (200 x 0.25 s).
    let t0 = std::time::Instant::now();
    let (seen, threads) = flood(addr(&exp), "127.0.0.2", 200, Arc::clone(&stop));
    let answered =
        |s: &[AtomicUsize; 3]| s.iter().map(|a| a.load(Ordering::Relaxed)).sum::<usize>();
    wait_for(
        "the flood's first answers",
        Duration::from_secs(120),
        || (answered(&seen) >= 20).then_some(()),
    );
    // The guesses that took the budget in the first instant run bcrypt one
    // after the other (10 x 0.25 s or more here); a scrape arriving
    // meanwhile may get a 503. Then the queue is free for good.
    std::thread::sleep(Duration::from_secs(8));
    let right = basic("prometheus", "x");
    let scrape = request(
        "GET",
        &exp.url("/metrics"),
        &[("Authorization", &right)],
        b"",
    );
    let healthy = request(
        "GET",
        &exp.url("/-/healthy"),
        &[("Authorization", &right)],
        b"",
    );
    let counts: Vec<usize> = seen.iter().map(|a| a.load(Ordering::Relaxed)).collect();
    let refills = t0.elapsed().as_secs() as usize / 6 + 1;
    stop_all(&stop, threads);

    let scrape = scrape.expect("a scrape during the flood");
    assert_eq!(scrape.status, 200, "{}", scrape.text());
    assert!(scrape.text().contains("pingone_exporter_build_info"));
    assert_eq!(healthy.expect("/-/healthy during the flood").status, 200);
    assert!(
        counts[1] > 0,
        "the flood's address spent its failure budget: {counts:?}"
    );
    assert!(
        counts[0] <= 10 + refills,
        "bcrypt ran only within the address's failure budget: {counts:?}"
    );
}

#[test]
fn a_failed_login_closes_the_keep_alive_connection() {
    let dir = Dir::new();
    let hash = bcrypt::hash("right", 4).unwrap();
    let web = dir.write(
        "web.yml",
        &format!("basic_auth_users:\n  prometheus: {hash}\n"),
    );
    // A read timeout longer than the test client's: a connection the
    // server kept open would not be closed by it in time.
    let exp = Exporter::start(&[
        "--demo",
        "--web.config.file",
        web.to_str().unwrap(),
        "--web.read-timeout",
        "60s",
    ]);
    let connect = || {
        let s = TcpStream::connect(addr(&exp)).unwrap();
        s.set_read_timeout(Some(Duration::from_secs(30))).unwrap();
        BufReader::new(s)
    };
    let mut ok = connect();
    let right = basic("prometheus", "right");
    for _ in 0..2 {
        assert_eq!(
            keep_alive_get(&mut ok, "/-/healthy", Some(&right)),
            Some(200),
            "kept alive"
        );
    }
    let mut bad = connect();
    let wrong = basic("prometheus", "wrong");
    assert_eq!(
        keep_alive_get(&mut bad, "/-/healthy", Some(&wrong)),
        Some(401)
    );
    let mut rest = Vec::new();
    assert_eq!(
        bad.read_to_end(&mut rest).unwrap(),
        0,
        "closed after the 401"
    );
}
