//! A real Alertmanager (Debian's `prometheus-alertmanager`, installed by
//! `scripts/install-test-deps.sh`) on a loopback port, for the alert
//! sender's end-to-end tests. Gossip is off; every alert goes to a `null`
//! receiver, grouped by every label (`group_by: ['...']`) so each distinct
//! label set is a group of its own. Stopped (killed) on drop.
#![allow(dead_code)] // each test binary uses a different subset
#![allow(clippy::unwrap_used, clippy::expect_used)] // test code: a panic is a test failure

use std::net::TcpListener;
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use serde_json::Value;

use super::common::{get, request};

/// Where Debian puts the binary (there is no `alertmanager` command).
const BINARY: &str = "/usr/bin/prometheus-alertmanager";

/// A running Alertmanager.
pub struct Alertmanager {
    child: Option<Child>,
    /// `http://127.0.0.1:PORT` (or `https://` with a TLS web config).
    pub url: String,
    port: u16,
    web_config: Option<String>,
    dir: tempfile::TempDir,
}

/// A loopback port that was free a moment ago.
pub fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("a free port")
}

impl Alertmanager {
    /// Starts a plain-HTTP Alertmanager and waits until it is ready.
    pub fn start() -> Alertmanager {
        Self::start_on(free_port(), None)
    }

    /// Starts one with an exporter-toolkit web config (TLS, basic auth);
    /// readiness is then only checked by the port accepting connections.
    pub fn start_with_web_config(web_config: &str) -> Alertmanager {
        Self::start_on(free_port(), Some(web_config.to_string()))
    }

    fn start_on(port: u16, web_config: Option<String>) -> Alertmanager {
        assert!(
            std::path::Path::new(BINARY).exists(),
            "{BINARY} is missing: run scripts/install-test-deps.sh (Debian package prometheus-alertmanager)"
        );
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(
            dir.path().join("alertmanager.yml"),
            "route:\n  receiver: \"null\"\n  group_by: ['...']\n  group_wait: 1s\n  group_interval: 1s\n  repeat_interval: 1h\nreceivers:\n  - name: \"null\"\n",
        )
        .unwrap();
        let scheme = if web_config.is_some() {
            "https"
        } else {
            "http"
        };
        let mut am = Alertmanager {
            child: None,
            url: format!("{scheme}://127.0.0.1:{port}"),
            port,
            web_config,
            dir,
        };
        am.spawn();
        am
    }

    fn spawn(&mut self) {
        let d = self.dir.path();
        let mut cmd = Command::new(BINARY);
        cmd.arg(format!(
            "--config.file={}",
            d.join("alertmanager.yml").display()
        ))
        .arg(format!("--web.listen-address=127.0.0.1:{}", self.port))
        .arg("--cluster.listen-address=")
        .arg(format!("--storage.path={}", d.join("data").display()))
        .arg("--log.level=warn")
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(std::fs::File::create(self.log_path()).unwrap());
        if let Some(web) = &self.web_config {
            let path = d.join("web.yml");
            std::fs::write(&path, web).unwrap();
            cmd.arg(format!("--web.config.file={}", path.display()));
        }
        self.child = Some(cmd.spawn().expect("start prometheus-alertmanager"));
        let start = Instant::now();
        loop {
            let ready = if self.web_config.is_some() {
                std::net::TcpStream::connect(("127.0.0.1", self.port)).is_ok()
            } else {
                request("GET", &format!("{}/-/ready", self.url), &[], b"")
                    .is_ok_and(|r| r.status == 200)
            };
            if ready {
                return;
            }
            if let Some(Ok(Some(status))) = self.child.as_mut().map(Child::try_wait) {
                panic!("alertmanager exited ({status}):\n{}", self.log());
            }
            // A guard against hanging, not a timing assertion.
            assert!(
                start.elapsed() < super::common::HANG_GUARD,
                "alertmanager not ready:\n{}",
                self.log()
            );
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    fn log_path(&self) -> PathBuf {
        self.dir.path().join("alertmanager.log")
    }

    /// Its stderr so far.
    pub fn log(&self) -> String {
        std::fs::read_to_string(self.log_path()).unwrap_or_default()
    }

    /// Stops it (SIGKILL: nothing is flushed, like a crash).
    pub fn stop(&mut self) {
        if let Some(mut c) = self.child.take() {
            let _ = c.kill();
            let _ = c.wait();
        }
    }

    /// Starts it again on the same port, with its (empty) state.
    pub fn restart(&mut self) {
        self.stop();
        self.spawn();
    }

    /// `GET /api/v2/alerts`: the active alerts (Alertmanager leaves
    /// resolved ones out of this list).
    pub fn alerts(&self) -> Vec<Value> {
        self.get_array("/api/v2/alerts")
    }

    /// `GET /api/v2/alerts/groups`.
    pub fn groups(&self) -> Vec<Value> {
        self.get_array("/api/v2/alerts/groups")
    }

    fn get_array(&self, path: &str) -> Vec<Value> {
        let r = get(&format!("{}{path}", self.url));
        assert_eq!(r.status, 200, "{}", r.text());
        serde_json::from_slice::<Value>(&r.body)
            .unwrap()
            .as_array()
            .cloned()
            .unwrap_or_default()
    }
}

impl Drop for Alertmanager {
    fn drop(&mut self) {
        self.stop();
    }
}

/// The value of a label (or annotation) of an alert from the API.
pub fn label<'a>(alert: &'a Value, key: &str) -> &'a str {
    alert["labels"][key].as_str().unwrap_or("")
}
