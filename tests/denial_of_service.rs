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
fn get_from(source: &str, url: &str) -> Resp {
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
    let stream = rt.block_on(async {
        let s = tokio::net::TcpSocket::new_v4().unwrap();
        s.bind(format!("{source}:0").parse().unwrap()).unwrap();
        s.connect(target).await.unwrap().into_std().unwrap()
    });
    stream.set_nonblocking(false).unwrap();
    stream
        .set_read_timeout(Some(Duration::from_secs(30)))
        .unwrap();
    let mut s = stream;
    s.write_all(format!("GET {path} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n").as_bytes())
        .unwrap();
    let mut raw = Vec::new();
    s.read_to_end(&mut raw).unwrap();
    parse_response(&raw).unwrap()
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
    assert_eq!(other.status, 200, "{}", other.text());
    assert!(
        refused > 0,
        "the squatter's connections over its share were refused"
    );
}
