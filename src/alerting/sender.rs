//! Delivery to one Alertmanager: a queue and a task of its own, so an
//! Alertmanager that is down or slow never holds up another one or the
//! evaluation (which only puts alerts in queues and never waits).
//!
//! The queue holds the newest state of each alert (keyed by its labels):
//! a newer state replaces a queued one, so a long outage costs one entry
//! per alert, not one per evaluation. It is bounded ([`QUEUE_CAPACITY`]);
//! a new alert that does not fit is dropped and counted. The task posts
//! batches of at most [`BATCH`] alerts to `{url}/api/v2/alerts`. A failed
//! POST (connection, timeout, 408, 429, 5xx) is counted, its alerts go back
//! in the queue unless a newer state arrived meanwhile, and the task waits
//! a capped exponential backoff with jitter before the next try. Any other
//! answer (a 4xx: Alertmanager will never take that body) is counted and
//! the batch dropped.

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

use tokio::sync::Notify;
use tokio::task::JoinHandle;

use super::payload::PostableAlert;
use super::status::AlertStatus;
use crate::config::AlertmanagerAuth;
use crate::shutdown::Shutdown;
use crate::timefmt::now_unix;

/// Alerts per POST (Prometheus' notifier uses 64 too).
pub const BATCH: usize = 64;
/// Alerts a queue holds at most (Prometheus' default queue capacity).
pub const QUEUE_CAPACITY: usize = 10_000;
/// First retry delay; doubles per consecutive failure.
const BACKOFF_BASE: Duration = Duration::from_millis(500);
/// Longest retry delay.
const BACKOFF_CAP: Duration = Duration::from_secs(30);

type Key = BTreeMap<String, String>;

/// One Alertmanager's queue: the newest state of each alert.
#[derive(Debug, Default)]
struct Queue {
    items: Mutex<BTreeMap<Key, PostableAlert>>,
    notify: Notify,
}

impl Queue {
    fn lock(&self) -> MutexGuard<'_, BTreeMap<Key, PostableAlert>> {
        self.items.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Queues `alerts`, newest state winning; returns how many did not fit
    /// and the queue length.
    fn push(&self, alerts: &[PostableAlert]) -> (usize, usize) {
        let mut items = self.lock();
        let mut dropped = 0;
        for a in alerts {
            if items.len() >= QUEUE_CAPACITY && !items.contains_key(&a.labels) {
                dropped += 1;
                continue;
            }
            items.insert(a.labels.clone(), a.clone());
        }
        let len = items.len();
        drop(items);
        self.notify.notify_one();
        (dropped, len)
    }

    /// Takes up to `max` alerts out.
    fn take(&self, max: usize) -> Vec<PostableAlert> {
        let mut items = self.lock();
        let keys: Vec<Key> = items.keys().take(max).cloned().collect();
        keys.iter().filter_map(|k| items.remove(k)).collect()
    }

    /// Puts back alerts whose send failed, unless a newer state is queued.
    fn put_back(&self, batch: Vec<PostableAlert>) {
        let mut items = self.lock();
        for a in batch {
            items.entry(a.labels.clone()).or_insert(a);
        }
    }

    fn len(&self) -> usize {
        self.lock().len()
    }
}

/// A running sender for one Alertmanager URL.
#[derive(Debug)]
pub struct Sender {
    url: String,
    queue: Arc<Queue>,
    status: Arc<AlertStatus>,
    stop: Shutdown,
    handle: JoinHandle<()>,
}

impl Sender {
    /// Starts the task for `url` (a base URL without trailing slash).
    pub fn spawn(
        url: String,
        client: reqwest::Client,
        auth: Option<AlertmanagerAuth>,
        status: Arc<AlertStatus>,
    ) -> Sender {
        let queue = Arc::new(Queue::default());
        let stop = Shutdown::new();
        let task = Task {
            url: url.clone(),
            endpoint: format!("{url}/api/v2/alerts"),
            client,
            auth,
            queue: Arc::clone(&queue),
            status: Arc::clone(&status),
            stop: stop.clone(),
        };
        let handle = tokio::spawn(task.run());
        Sender {
            url,
            queue,
            status,
            stop,
            handle,
        }
    }

    /// Queues `alerts` for this Alertmanager. Never waits.
    pub fn send(&self, alerts: &[PostableAlert]) {
        let (dropped, len) = self.queue.push(alerts);
        if dropped > 0 {
            self.status.dropped(&self.url, dropped);
            tracing::warn!(alertmanager = %self.url, dropped, "alert queue full; alerts dropped");
        }
        self.status.queued(&self.url, len);
    }

    /// The Alertmanager URL.
    pub fn url(&self) -> &str {
        &self.url
    }

    /// Stops the task (queued alerts are abandoned) and waits for it.
    pub async fn stop(self) {
        self.stop.trigger();
        let _ = self.handle.await;
    }
}

struct Task {
    url: String,
    endpoint: String,
    client: reqwest::Client,
    auth: Option<AlertmanagerAuth>,
    queue: Arc<Queue>,
    status: Arc<AlertStatus>,
    stop: Shutdown,
}

/// How one POST ended.
enum Outcome {
    Accepted,
    Retry(String),
    Refused(String),
}

impl Task {
    async fn run(self) {
        let mut failures: u32 = 0;
        loop {
            let batch = self.queue.take(BATCH);
            if batch.is_empty() {
                tokio::select! {
                    () = self.queue.notify.notified() => continue,
                    () = self.stop.wait() => return,
                }
            }
            let now = now_unix();
            let (batch, stale): (Vec<_>, Vec<_>) = batch
                .into_iter()
                .partition(|a| a.resolved || a.ends_at_unix > now);
            if !stale.is_empty() {
                self.status.dropped(&self.url, stale.len());
            }
            if batch.is_empty() {
                continue;
            }
            let n = batch.len();
            let outcome = tokio::select! {
                o = self.post(&batch) => o,
                () = self.stop.wait() => return,
            };
            match outcome {
                Outcome::Accepted => {
                    self.status.sent(&self.url, n);
                    if failures > 0 {
                        tracing::info!(alertmanager = %self.url, "alert delivery recovered");
                    }
                    failures = 0;
                }
                Outcome::Refused(why) => {
                    self.status.errors(&self.url, n);
                    self.status.dropped(&self.url, n);
                    tracing::warn!(alertmanager = %self.url, error = %why, alerts = n,
                        "Alertmanager refused the alerts; they are dropped");
                }
                Outcome::Retry(why) => {
                    self.status.errors(&self.url, n);
                    self.queue.put_back(batch);
                    if failures == 0 {
                        tracing::warn!(alertmanager = %self.url, error = %why,
                            "alert delivery failed; retrying with backoff");
                    } else {
                        tracing::debug!(alertmanager = %self.url, error = %why, "alert delivery failed again");
                    }
                    let wait = backoff(failures);
                    failures = failures.saturating_add(1);
                    self.status.queued(&self.url, self.queue.len());
                    tokio::select! {
                        () = tokio::time::sleep(wait) => {}
                        () = self.stop.wait() => return,
                    }
                }
            }
            self.status.queued(&self.url, self.queue.len());
        }
    }

    async fn post(&self, batch: &[PostableAlert]) -> Outcome {
        let body = match serde_json::to_vec(batch) {
            Ok(b) => b,
            Err(e) => return Outcome::Refused(format!("encoding the alerts: {e}")),
        };
        let mut req = self
            .client
            .post(&self.endpoint)
            .header(reqwest::header::CONTENT_TYPE, "application/json")
            .body(body);
        req = match &self.auth {
            None => req,
            Some(AlertmanagerAuth::Basic {
                username, password, ..
            }) => req.basic_auth(username, Some(password.expose())),
            Some(AlertmanagerAuth::Bearer { token, .. }) => req.bearer_auth(token.expose()),
        };
        match req.send().await {
            Err(e) if e.is_timeout() => Outcome::Retry("timeout".into()),
            Err(e) => Outcome::Retry(format!("connection: {}", crate::outbound::error_chain(&e))),
            Ok(resp) => {
                let status = resp.status();
                if status.is_success() {
                    return Outcome::Accepted;
                }
                let secret = match &self.auth {
                    None => "",
                    Some(AlertmanagerAuth::Basic { password, .. }) => password.expose(),
                    Some(AlertmanagerAuth::Bearer { token, .. }) => token.expose(),
                };
                let text = super::refusal::first_line(resp, &[secret]).await;
                let why = format!("HTTP {}: {text}", status.as_u16());
                match status.as_u16() {
                    408 | 429 | 500..=599 => Outcome::Retry(why),
                    _ => Outcome::Refused(why),
                }
            }
        }
    }
}

/// The wait before retry `failures + 1`: 0.5 s doubling, up to 25 %
/// jitter, capped at 30 s.
fn backoff(failures: u32) -> Duration {
    let exp = BACKOFF_BASE.saturating_mul(1u32 << failures.min(16));
    exp.mul_f64(1.0 + fastrand::f64() * 0.25).min(BACKOFF_CAP)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::alerting::client::client;
    use crate::config::Alerting;
    use std::collections::VecDeque;
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    use tokio::net::TcpListener;

    /// A fake Alertmanager: answers with the scripted statuses (then 200)
    /// and records each request's head and body.
    struct FakeAm {
        url: String,
        seen: Arc<Mutex<Vec<(String, String)>>>,
    }

    async fn fake_am(script: Vec<u16>) -> FakeAm {
        let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
        let url = format!("http://{}", listener.local_addr().expect("addr"));
        let seen = Arc::new(Mutex::new(Vec::new()));
        let log = Arc::clone(&seen);
        let script = Arc::new(Mutex::new(VecDeque::from(script)));
        tokio::spawn(async move {
            while let Ok((mut s, _)) = listener.accept().await {
                let (log, script) = (Arc::clone(&log), Arc::clone(&script));
                tokio::spawn(async move {
                    let mut buf = Vec::new();
                    let mut chunk = [0u8; 4096];
                    loop {
                        let Ok(n) = s.read(&mut chunk).await else {
                            return;
                        };
                        if n == 0 {
                            return;
                        }
                        buf.extend_from_slice(&chunk[..n]);
                        let text = String::from_utf8_lossy(&buf).to_string();
                        let Some((head, body)) = text.split_once("\r\n\r\n") else {
                            continue;
                        };
                        let len: usize = head
                            .lines()
                            .find_map(|l| {
                                l.to_ascii_lowercase()
                                    .strip_prefix("content-length:")
                                    .map(|v| v.trim().parse().unwrap_or(0))
                            })
                            .unwrap_or(0);
                        if body.len() < len {
                            continue;
                        }
                        log.lock()
                            .unwrap_or_else(|p| p.into_inner())
                            .push((head.to_string(), body.to_string()));
                        let status = script
                            .lock()
                            .unwrap_or_else(|p| p.into_inner())
                            .pop_front()
                            .unwrap_or(200);
                        let reply = format!(
                            "HTTP/1.1 {status} X\r\ncontent-length: 0\r\nconnection: close\r\n\r\n"
                        );
                        let _ = s.write_all(reply.as_bytes()).await;
                        return;
                    }
                });
            }
        });
        FakeAm { url, seen }
    }

    fn alert(name: &str, resolved: bool) -> PostableAlert {
        PostableAlert {
            labels: BTreeMap::from([("alertname".to_string(), name.to_string())]),
            annotations: BTreeMap::new(),
            starts_at: "2026-01-01T00:00:00Z".into(),
            ends_at: "2100-01-01T00:00:00Z".into(),
            generator_url: "http://x/".into(),
            ends_at_unix: 4_102_444_800.0,
            resolved,
        }
    }

    fn config(urls: &[&str]) -> Alerting {
        let mut c = Alerting::new(urls.iter().map(|u| u.to_string()).collect());
        c.timeout = Duration::from_millis(500);
        c
    }

    async fn wait_until(what: &str, f: impl Fn() -> bool) {
        for _ in 0..200 {
            if f() {
                return;
            }
            tokio::time::sleep(Duration::from_millis(25)).await;
        }
        panic!("timed out waiting for {what}");
    }

    fn metric(status: &AlertStatus, line_start: &str) -> Option<String> {
        let mut out = Vec::new();
        status.encode(crate::exposition::Format::Text, &mut out);
        String::from_utf8_lossy(&out)
            .lines()
            .find(|l| l.starts_with(line_start))
            .map(|l| l.rsplit(' ').next().unwrap_or("").to_string())
    }

    #[tokio::test]
    async fn posts_json_with_the_token_and_retries_server_errors() {
        let am = fake_am(vec![503]).await;
        let cfg = config(&[&am.url]);
        let status = Arc::new(AlertStatus::default());
        status.configure(Some((&cfg.alertmanager_urls, vec![])));
        let token = crate::secret::Secret::new("t0ken-value");
        let auth = Some(AlertmanagerAuth::Bearer {
            token,
            token_file: "f".into(),
        });
        let s = Sender::spawn(
            am.url.clone(),
            client(&cfg).expect("client"),
            auth,
            Arc::clone(&status),
        );
        s.send(&[alert("A", false), alert("B", true)]);
        let seen = Arc::clone(&am.seen);
        wait_until("a retry", || seen.lock().map_or(0, |v| v.len()) >= 2).await;
        let requests = am.seen.lock().map(|v| v.clone()).unwrap_or_default();
        let (head, body) = &requests[1];
        assert!(head.starts_with("POST /api/v2/alerts HTTP/1.1"), "{head}");
        assert!(
            head.to_ascii_lowercase()
                .contains("authorization: bearer t0ken-value"),
            "{head}"
        );
        assert!(
            head.to_ascii_lowercase()
                .contains("content-type: application/json"),
            "{head}"
        );
        let json: serde_json::Value = serde_json::from_str(body).expect("json");
        assert_eq!(json.as_array().map(Vec::len), Some(2), "{json}");
        assert_eq!(json[0]["labels"]["alertname"], "A");
        assert_eq!(
            requests[0].1, requests[1].1,
            "the retry carries the same alerts"
        );
        let url = &am.url;
        wait_until("counters", || {
            metric(
                &status,
                &format!("pingone_exporter_alerts_sent_total{{alertmanager=\"{url}\"}}"),
            )
            .as_deref()
                == Some("2")
        })
        .await;
        assert_eq!(
            metric(
                &status,
                &format!("pingone_exporter_alert_send_errors_total{{alertmanager=\"{url}\"}}")
            )
            .as_deref(),
            Some("2")
        );
        s.stop().await;
    }

    #[tokio::test]
    async fn a_refusal_is_dropped_and_a_dead_alertmanager_blocks_nobody() {
        let good = fake_am(vec![400]).await;
        // A port nothing listens on.
        let dead = {
            let l = TcpListener::bind("127.0.0.1:0").await.expect("bind");
            format!("http://{}", l.local_addr().expect("addr"))
        };
        let cfg = config(&[&good.url, &dead]);
        let status = Arc::new(AlertStatus::default());
        status.configure(Some((&cfg.alertmanager_urls, vec![])));
        let http = client(&cfg).expect("client");
        let senders: Vec<Sender> = cfg
            .alertmanager_urls
            .iter()
            .map(|u| Sender::spawn(u.clone(), http.clone(), None, Arc::clone(&status)))
            .collect();
        for s in &senders {
            s.send(&[alert("A", false)]);
        }
        // The 400 drops the first batch; a newer state is then delivered
        // to the live Alertmanager while the dead one keeps failing.
        let seen = Arc::clone(&good.seen);
        wait_until("the refusal", || seen.lock().map_or(0, |v| v.len()) >= 1).await;
        for s in &senders {
            s.send(&[alert("A", true)]);
        }
        wait_until("the second delivery", || {
            seen.lock().map_or(0, |v| v.len()) >= 2
        })
        .await;
        let g = &good.url;
        wait_until("counters", || {
            metric(
                &status,
                &format!("pingone_exporter_alerts_sent_total{{alertmanager=\"{g}\"}}"),
            )
            .as_deref()
                == Some("1")
        })
        .await;
        assert_eq!(
            metric(
                &status,
                &format!("pingone_exporter_alerts_dropped_total{{alertmanager=\"{g}\"}}")
            )
            .as_deref(),
            Some("1")
        );
        wait_until("errors counted for the dead one", || {
            metric(
                &status,
                &format!("pingone_exporter_alert_send_errors_total{{alertmanager=\"{dead}\"}}"),
            )
            .is_some_and(|v| v != "0")
        })
        .await;
        assert_eq!(
            metric(
                &status,
                &format!("pingone_exporter_alert_queue_length{{alertmanager=\"{dead}\"}}")
            )
            .as_deref(),
            Some("1"),
            "the newest state of the one alert waits, not two"
        );
        for s in senders {
            s.stop().await;
        }
    }
}
