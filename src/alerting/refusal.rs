//! What an Alertmanager said when it did not take a batch: the first line
//! of its answer, read with a cap so a broken or hostile endpoint cannot
//! make the sender hold an endless body, and scrubbed of the credential the
//! sender presented (an echo of it would otherwise reach the log).

/// Bytes of an error answer read at most; the rest is never read.
pub const MAX_ERROR_BODY: usize = 4096;

/// Characters of the first line kept.
const MAX_CHARS: usize = 200;

/// The first line of `resp`'s body (at most [`MAX_ERROR_BODY`] bytes read,
/// [`MAX_CHARS`] characters kept), with `secrets` and anything shaped like
/// a credential removed ([`crate::redact::scrub`]). A body that fails to
/// read gives what was read so far.
pub async fn first_line(mut resp: reqwest::Response, secrets: &[&str]) -> String {
    let mut body = Vec::new();
    while body.len() < MAX_ERROR_BODY {
        match resp.chunk().await {
            Ok(Some(chunk)) => {
                let room = MAX_ERROR_BODY - body.len();
                body.extend_from_slice(&chunk[..chunk.len().min(room)]);
                if chunk.contains(&b'\n') {
                    break;
                }
            }
            Ok(None) | Err(_) => break,
        }
    }
    // Scrubbed before the cut, so a cut never leaves half a secret.
    let text = crate::redact::scrub(&String::from_utf8_lossy(&body), secrets);
    text.lines()
        .next()
        .unwrap_or("")
        .chars()
        .take(MAX_CHARS)
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::Arc;
    use std::sync::atomic::{AtomicUsize, Ordering};
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    use tokio::net::TcpListener;

    /// A server answering 500 with a 64 MiB body of one long line; counts
    /// the bytes it managed to write before the client hung up.
    async fn endless() -> (String, Arc<AtomicUsize>) {
        let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
        let url = format!("http://{}/", listener.local_addr().expect("addr"));
        let written = Arc::new(AtomicUsize::new(0));
        let count = Arc::clone(&written);
        tokio::spawn(async move {
            let Ok((mut s, _)) = listener.accept().await else {
                return;
            };
            let mut buf = [0u8; 4096];
            let _ = s.read(&mut buf).await;
            let total = 64usize << 20;
            let head = format!("HTTP/1.1 500 X\r\ncontent-length: {total}\r\n\r\n");
            if s.write_all(head.as_bytes()).await.is_err() {
                return;
            }
            let block = vec![b'a'; 1 << 16];
            let mut sent = 0;
            while sent < total {
                let text = if sent == 0 {
                    b"token abc-secret-9 refused "
                } else {
                    &block[..]
                };
                if s.write_all(text).await.is_err() {
                    break;
                }
                sent += text.len();
                count.store(sent, Ordering::SeqCst);
            }
        });
        (url, written)
    }

    #[tokio::test]
    async fn an_endless_error_body_is_not_read_whole() {
        let (url, written) = endless().await;
        crate::outbound::install_crypto_provider();
        let resp = reqwest::get(&url).await.expect("answer");
        let line = first_line(resp, &["abc-secret-9"]).await;
        assert!(line.starts_with("token [redacted] refused aaaa"), "{line}");
        assert_eq!(line.chars().count(), MAX_CHARS);
        // The server could only fill the socket buffers, far from 64 MiB.
        let sent = written.load(Ordering::SeqCst);
        assert!(sent < 32 << 20, "the client read {sent} bytes");
    }
}
