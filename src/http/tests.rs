//! The server loop over real loopback sockets: connection limits, the
//! probe lane, the peer address extension.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::net::SocketAddr;
use std::time::Duration;

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

use super::*;

/// Serves a handler answering `200` with the peer address on `opts`.
async fn start(opts: ServeOptions) -> (SocketAddr, Shutdown) {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let shutdown = Shutdown::new();
    tokio::spawn(serve(
        listener,
        opts,
        shutdown.clone(),
        |req: Request| async move {
            let peer = req.extensions().get::<PeerAddr>().map(|p| p.0.to_string());
            hyper::Response::new(Chunks::new(vec![Bytes::from(peer.unwrap_or_default())]))
        },
    ));
    (addr, shutdown)
}

/// Sends `GET path` on `s` and reads one answer: (status, head, body).
async fn get(s: &mut TcpStream, path: &str) -> (u16, String, String) {
    s.write_all(format!("GET {path} HTTP/1.1\r\nHost: x\r\n\r\n").as_bytes())
        .await
        .unwrap();
    let mut raw = Vec::new();
    let mut buf = [0u8; 1024];
    loop {
        let n = tokio::time::timeout(Duration::from_secs(30), s.read(&mut buf))
            .await
            .unwrap()
            .unwrap();
        assert!(n > 0, "closed before an answer: {raw:?}");
        raw.extend_from_slice(&buf[..n]);
        let text = String::from_utf8_lossy(&raw).into_owned();
        if let Some((head, body)) = text.split_once("\r\n\r\n") {
            let len: usize = head
                .lines()
                .find_map(|l| {
                    l.to_ascii_lowercase()
                        .strip_prefix("content-length: ")
                        .map(str::to_string)
                })
                .and_then(|v| v.trim().parse().ok())
                .unwrap_or(0);
            if body.len() >= len {
                let status = head[9..12].parse().unwrap();
                return (status, head.to_ascii_lowercase(), body.to_string());
            }
        }
    }
}

/// True when the server closed `s` (EOF) within 30 s.
async fn closed(s: &mut TcpStream) -> bool {
    let mut buf = [0u8; 16];
    matches!(
        tokio::time::timeout(Duration::from_secs(30), s.read(&mut buf)).await,
        Ok(Ok(0) | Err(_))
    )
}

#[tokio::test]
async fn a_keep_alive_connection_closes_after_its_request_limit() {
    let (addr, _stop) = start(ServeOptions {
        max_requests_per_connection: Some(3),
        ..ServeOptions::default()
    })
    .await;
    let mut s = TcpStream::connect(addr).await.unwrap();
    for i in 1..=3 {
        let (status, head, body) = get(&mut s, "/").await;
        assert_eq!(status, 200);
        assert_eq!(
            head.contains("connection: close"),
            i == 3,
            "request {i}: {head}"
        );
        assert_eq!(
            body,
            s.local_addr().unwrap().to_string(),
            "the peer extension"
        );
    }
    assert!(closed(&mut s).await);
}

#[tokio::test]
async fn an_old_connection_closes_after_its_next_answer() {
    let (addr, _stop) = start(ServeOptions {
        max_connection_age: Some(Duration::ZERO),
        ..ServeOptions::default()
    })
    .await;
    let mut s = TcpStream::connect(addr).await.unwrap();
    let (_, head, _) = get(&mut s, "/").await;
    assert!(head.contains("connection: close"), "{head}");
    assert!(closed(&mut s).await);
}

#[tokio::test]
async fn a_peer_over_its_share_gets_the_probe_lane_then_a_refusal() {
    let (addr, _stop) = start(ServeOptions {
        max_connections: 4,
        max_connections_per_peer: Some(1),
        probe_reserve: 1,
        probe_paths: vec!["/-/healthy".into()],
        ..ServeOptions::default()
    })
    .await;
    // The peer's one normal connection, kept alive.
    let mut held = TcpStream::connect(addr).await.unwrap();
    assert_eq!(get(&mut held, "/anything").await.0, 200);

    // Its next connection is a probe-lane one: other paths get 503...
    let mut second = TcpStream::connect(addr).await.unwrap();
    let (status, head, _) = get(&mut second, "/anything").await;
    assert_eq!(status, 503);
    assert!(
        head.contains("retry-after: 1") && head.contains("connection: close"),
        "{head}"
    );
    assert!(closed(&mut second).await);
    // ...a probe is answered, once, and the connection closes.
    let mut probe = TcpStream::connect(addr).await.unwrap();
    let (status, head, _) = get(&mut probe, "/-/healthy").await;
    assert_eq!(status, 200);
    assert!(head.contains("connection: close"), "{head}");
    assert!(closed(&mut probe).await);

    // With the reserve taken too (a silent connection), the next one is
    // refused at once with a plain 503.
    let _silent = TcpStream::connect(addr).await.unwrap();
    tokio::time::sleep(Duration::from_millis(100)).await;
    let mut refused = TcpStream::connect(addr).await.unwrap();
    let (status, head, _) = get(&mut refused, "/-/healthy").await;
    assert_eq!(status, 503, "{head}");
    assert!(closed(&mut refused).await);

    // The normal connection still works.
    assert_eq!(get(&mut held, "/anything").await.0, 200);
}

/// Sends a `GET /` whose head carries a header of `n` bytes; the status.
async fn status_with_header(addr: SocketAddr, n: usize) -> u16 {
    let mut s = TcpStream::connect(addr).await.unwrap();
    let head = format!(
        "GET / HTTP/1.1\r\nHost: x\r\nX-Big: {}\r\n\r\n",
        "a".repeat(n)
    );
    // The server may answer 431 and close before reading all of it.
    let _ = s.write_all(head.as_bytes()).await;
    let mut raw = Vec::new();
    let _ = tokio::time::timeout(Duration::from_secs(30), s.read_to_end(&mut raw)).await;
    String::from_utf8_lossy(&raw)
        .get(9..12)
        .and_then(|c| c.parse().ok())
        .unwrap_or(0)
}

#[tokio::test]
async fn request_heads_are_bounded_apart_from_the_write_queue() {
    let (addr, _stop) = start(ServeOptions {
        max_requests_per_connection: Some(1),
        ..ServeOptions::default()
    })
    .await;
    // The write queue (and so the read buffer's bound) is larger than a
    // head may be: heads are bounded on their own.
    const { assert!(WRITE_QUEUE > 2 * MAX_HEAD) };
    assert_eq!(status_with_header(addr, MAX_HEAD - 1024).await, 200);
    assert_eq!(status_with_header(addr, MAX_HEAD + 1024).await, 431);
    assert_eq!(status_with_header(addr, WRITE_QUEUE / 2).await, 431);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn connection_threads_share_the_connections_and_keep_each_one() {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let shutdown = Shutdown::new();
    let server = tokio::spawn(serve(
        listener,
        ServeOptions {
            threads: 2,
            ..ServeOptions::default()
        },
        shutdown.clone(),
        |_req: Request| async move {
            let name = std::thread::current().name().unwrap_or("").to_string();
            hyper::Response::new(Chunks::new(vec![Bytes::from(name)]))
        },
    ));
    // Four connections open together: each goes to the thread serving the
    // fewest, so each thread gets two.
    let mut conns = Vec::new();
    for _ in 0..4 {
        conns.push(TcpStream::connect(addr).await.unwrap());
    }
    let mut names = Vec::new();
    for c in &mut conns {
        let (status, _, body) = get(c, "/").await;
        assert_eq!(status, 200);
        names.push(body);
    }
    // A connection stays on its thread for every request.
    for (c, name) in conns.iter_mut().zip(&names) {
        assert_eq!(&get(c, "/").await.2, name);
    }
    names.sort();
    assert_eq!(names, ["http-0", "http-0", "http-1", "http-1"]);

    drop(conns);
    shutdown.trigger();
    tokio::time::timeout(Duration::from_secs(30), server)
        .await
        .expect("the server stops after shutdown")
        .unwrap();
}
