//! Helpers for end-to-end tests: start the real binary (exporter and
//! simulator) on loopback ports, talk HTTP to them, parse metrics.
#![allow(dead_code)] // each test binary uses a different subset
#![allow(clippy::unwrap_used, clippy::expect_used)] // test code: a panic is a test failure

pub mod golden;
pub mod tools;

use std::collections::BTreeMap;
use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// The binary under test.
pub fn bin() -> &'static str {
    env!("CARGO_BIN_EXE_pingone-sync-exporter")
}

/// A minimal HTTP/1.1 response.
#[derive(Debug)]
pub struct Resp {
    pub status: u16,
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
}

impl Resp {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }
    pub fn text(&self) -> String {
        String::from_utf8_lossy(&self.body).into_owned()
    }
}

/// Sends one request over a fresh connection (`Connection: close`) and
/// reads the whole answer. `url` is `http://host:port/path`.
pub fn request(
    method: &str,
    url: &str,
    headers: &[(&str, &str)],
    body: &[u8],
) -> std::io::Result<Resp> {
    let rest = url.strip_prefix("http://").expect("http:// URL");
    let (host, path) = rest
        .split_once('/')
        .map_or((rest, "/".to_string()), |(h, p)| (h, format!("/{p}")));
    let mut s = TcpStream::connect(host)?;
    s.set_read_timeout(Some(Duration::from_secs(30)))?;
    let mut req = format!(
        "{method} {path} HTTP/1.1\r\nHost: {host}\r\nConnection: close\r\nContent-Length: {}\r\n",
        body.len()
    );
    for (k, v) in headers {
        req.push_str(&format!("{k}: {v}\r\n"));
    }
    req.push_str("\r\n");
    s.write_all(req.as_bytes())?;
    s.write_all(body)?;
    let mut raw = Vec::new();
    s.read_to_end(&mut raw)?;
    parse_response(&raw)
}

/// Parses a whole HTTP/1.1 answer (read until the connection closed); a
/// chunked body is de-chunked.
pub fn parse_response(raw: &[u8]) -> std::io::Result<Resp> {
    let split = raw
        .windows(4)
        .position(|w| w == b"\r\n\r\n")
        .ok_or_else(|| std::io::Error::other(format!("no HTTP answer: {raw:?}")))?;
    let head = String::from_utf8_lossy(&raw[..split]).into_owned();
    let mut lines = head.split("\r\n");
    let status = lines
        .next()
        .and_then(|l| l.split_whitespace().nth(1))
        .and_then(|c| c.parse().ok())
        .ok_or_else(|| std::io::Error::other("bad status line"))?;
    let headers: Vec<(String, String)> = lines
        .filter_map(|l| l.split_once(':'))
        .map(|(k, v)| (k.trim().to_string(), v.trim().to_string()))
        .collect();
    let mut body = raw[split + 4..].to_vec();
    if headers
        .iter()
        .any(|(k, v)| k.eq_ignore_ascii_case("transfer-encoding") && v.contains("chunked"))
    {
        body = dechunk(&body);
    }
    Ok(Resp {
        status,
        headers,
        body,
    })
}

fn dechunk(mut b: &[u8]) -> Vec<u8> {
    let mut out = Vec::new();
    while let Some(pos) = b.windows(2).position(|w| w == b"\r\n") {
        let size =
            usize::from_str_radix(String::from_utf8_lossy(&b[..pos]).trim(), 16).unwrap_or(0);
        if size == 0 {
            break;
        }
        out.extend_from_slice(&b[pos + 2..pos + 2 + size]);
        b = &b[pos + 2 + size + 2..];
    }
    out
}

pub fn get(url: &str) -> Resp {
    request("GET", url, &[], b"").unwrap_or_else(|e| panic!("GET {url}: {e}"))
}

pub fn post(url: &str) -> Resp {
    request("POST", url, &[], b"").unwrap_or_else(|e| panic!("POST {url}: {e}"))
}

/// The shortest time any wait in these tests gives up after. Waits are
/// guards against hanging for ever, never timing assertions: a loaded
/// 2-core CI machine can be many times slower than a laptop, so a limit a
/// test passes below this is raised to it.
pub const HANG_GUARD: Duration = Duration::from_secs(60);

/// Polls `f` every 100 ms until it returns `Some`, or panics after `limit`
/// (at least [`HANG_GUARD`]).
pub fn wait_for<T>(what: &str, limit: Duration, mut f: impl FnMut() -> Option<T>) -> T {
    let limit = limit.max(HANG_GUARD);
    let start = Instant::now();
    loop {
        if let Some(v) = f() {
            return v;
        }
        if start.elapsed() > limit {
            panic!("timed out after {limit:?} waiting for {what}");
        }
        std::thread::sleep(Duration::from_millis(100));
    }
}

/// A child process whose output is collected in the background.
pub struct Proc {
    pub child: Child,
    pub output: Arc<Mutex<String>>,
}

impl Proc {
    pub fn spawn(args: &[&str], envs: &[(&str, &str)]) -> Proc {
        let mut cmd = Command::new(bin());
        cmd.args(args)
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
        for (k, v) in envs {
            cmd.env(k, v);
        }
        let mut child = cmd.spawn().expect("spawn binary");
        let output = Arc::new(Mutex::new(String::new()));
        for stream in [
            child
                .stdout
                .take()
                .map(|s| Box::new(s) as Box<dyn Read + Send>),
            child
                .stderr
                .take()
                .map(|s| Box::new(s) as Box<dyn Read + Send>),
        ]
        .into_iter()
        .flatten()
        {
            let out = Arc::clone(&output);
            std::thread::spawn(move || {
                for line in BufReader::new(stream).lines().map_while(Result::ok) {
                    let mut o = out.lock().unwrap();
                    o.push_str(&line);
                    o.push('\n');
                }
            });
        }
        Proc { child, output }
    }

    pub fn output(&self) -> String {
        self.output.lock().unwrap().clone()
    }

    /// Waits for a line containing `needle` and returns the text after it
    /// up to the next whitespace.
    pub fn wait_for_token_after(&self, needle: &str, limit: Duration) -> String {
        wait_for(&format!("{needle:?} in the output"), limit, || {
            let out = self.output();
            out.find(needle).map(|i| {
                out[i + needle.len()..]
                    .split_whitespace()
                    .next()
                    .unwrap_or("")
                    .trim_matches('"')
                    .to_string()
            })
        })
    }

    /// Sends a signal by name (`TERM`, `HUP`, `INT`), with the `kill`
    /// system call: a minimal Debian has no `kill` program (procps).
    pub fn signal(&self, sig: &str) {
        use rustix::process::{Pid, Signal, kill_process};
        let signal = match sig {
            "TERM" => Signal::TERM,
            "HUP" => Signal::HUP,
            "INT" => Signal::INT,
            other => panic!("signal {other} is not one the tests send"),
        };
        if let Err(e) = kill_process(Pid::from_child(&self.child), signal) {
            panic!("SIG{sig} to pid {} failed: {e}", self.child.id());
        }
    }

    /// Waits for the process to exit; returns its exit code, or `None` if it
    /// is still running after `limit` (at least [`HANG_GUARD`]).
    pub fn wait_exit(&mut self, limit: Duration) -> Option<i32> {
        let limit = limit.max(HANG_GUARD);
        let start = Instant::now();
        loop {
            if let Ok(Some(status)) = self.child.try_wait() {
                return status.code();
            }
            if start.elapsed() > limit {
                return None;
            }
            std::thread::sleep(Duration::from_millis(50));
        }
    }
}

impl Drop for Proc {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// The simulator, run as `pingone-sync-exporter simulate`.
pub struct Sim {
    pub proc: Proc,
    pub base: String,
}

impl Sim {
    pub fn start(scenario: &Path) -> Sim {
        let proc = Proc::spawn(
            &[
                "simulate",
                "--listen",
                "127.0.0.1:0",
                "--scenario",
                scenario.to_str().unwrap(),
            ],
            &[],
        );
        let base = proc.wait_for_token_after("simulator listening on ", Duration::from_secs(30));
        Sim { proc, base }
    }

    pub fn truth(&self) -> serde_json::Value {
        serde_json::from_slice(&get(&format!("{}/_sim/truth", self.base)).body).unwrap()
    }

    /// The ids of the tenant's environments, in the truth's order.
    pub fn env_ids(&self) -> Vec<String> {
        self.truth()["environments"]
            .as_array()
            .unwrap()
            .iter()
            .map(|e| e["id"].as_str().unwrap().to_string())
            .collect()
    }

    pub fn advance(&self, ticks: u32) {
        let r = post(&format!("{}/_sim/advance?ticks={ticks}", self.base));
        assert_eq!(r.status, 200, "{}", r.text());
    }

    pub fn control(&self, path: &str) -> Resp {
        post(&format!("{}/_sim/{path}", self.base))
    }

    /// Adds fault rules (`POST /_sim/faults`, a JSON object or array).
    pub fn faults(&self, rules: &str) {
        let r = request(
            "POST",
            &format!("{}/_sim/faults", self.base),
            &[("Content-Type", "application/json")],
            rules.as_bytes(),
        )
        .unwrap();
        assert_eq!(r.status, 200, "{}", r.text());
    }

    /// Removes every fault rule.
    pub fn clear_faults(&self) {
        assert_eq!(self.control("faults/clear").status, 200);
    }
}

/// Peak resident memory of a process in KiB (`VmHWM`).
pub fn peak_rss_kib(pid: u32) -> u64 {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap();
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmHWM:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        .unwrap()
}

/// The exporter daemon.
pub struct Exporter {
    pub proc: Proc,
    pub base: String,
}

impl Exporter {
    /// Starts the daemon with `args` (plus a loopback listen address and
    /// debug logs) and waits until it listens.
    pub fn start(args: &[&str]) -> Exporter {
        Exporter::start_with_env(args, &[])
    }

    /// [`Exporter::start`] with extra environment variables.
    pub fn start_with_env(args: &[&str], envs: &[(&str, &str)]) -> Exporter {
        let mut all = vec![
            "--web.listen-address",
            "127.0.0.1:0",
            "--log.level",
            "debug",
        ];
        all.extend_from_slice(args);
        let proc = Proc::spawn(&all, envs);
        let addr = proc.wait_for_token_after("msg=listening address=", Duration::from_secs(30));
        Exporter {
            proc,
            base: format!("http://{addr}"),
        }
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }

    pub fn wait_ready(&self, limit: Duration) {
        wait_for("/-/ready", limit, || {
            request("GET", &self.url("/-/ready"), &[], b"")
                .ok()
                .filter(|r| r.status == 200)
        });
    }

    /// `/metrics` in the classic format, parsed.
    pub fn metrics(&self) -> Metrics {
        let r = get(&self.url("/metrics"));
        assert_eq!(r.status, 200);
        Metrics::parse(&r.text())
    }
}

/// Parsed classic-format samples.
#[derive(Debug, Default)]
pub struct Metrics {
    pub samples: Vec<(String, BTreeMap<String, String>, f64)>,
    pub text: String,
}

impl Metrics {
    pub fn parse(text: &str) -> Metrics {
        let mut samples = Vec::new();
        for line in text
            .lines()
            .filter(|l| !l.starts_with('#') && !l.is_empty())
        {
            let (series, value) = line.rsplit_once(' ').unwrap();
            let (name, labels) = match series.split_once('{') {
                Some((n, rest)) => (n.to_string(), parse_labels(rest.trim_end_matches('}'))),
                None => (series.to_string(), BTreeMap::new()),
            };
            let v = match value {
                "+Inf" => f64::INFINITY,
                "-Inf" => f64::NEG_INFINITY,
                "NaN" => f64::NAN,
                v => v.parse().unwrap(),
            };
            samples.push((name, labels, v));
        }
        Metrics {
            samples,
            text: text.to_string(),
        }
    }

    /// Values of `name` whose labels include all of `want`.
    pub fn find(&self, name: &str, want: &[(&str, &str)]) -> Vec<f64> {
        self.samples
            .iter()
            .filter(|(n, l, _)| {
                n == name
                    && want
                        .iter()
                        .all(|(k, v)| l.get(*k).map(String::as_str) == Some(*v))
            })
            .map(|(_, _, v)| *v)
            .collect()
    }

    /// The single value of `name` with `want`, or `None` when absent.
    pub fn one(&self, name: &str, want: &[(&str, &str)]) -> Option<f64> {
        let v = self.find(name, want);
        assert!(v.len() <= 1, "{name} {want:?} matches {} series", v.len());
        v.first().copied()
    }
}

fn parse_labels(s: &str) -> BTreeMap<String, String> {
    let mut out = BTreeMap::new();
    let mut rest = s;
    while let Some(eq) = rest.find("=\"") {
        let key = rest[..eq].trim_start_matches(',').to_string();
        let mut value = String::new();
        let mut chars = rest[eq + 2..].char_indices();
        let mut end = 0;
        while let Some((i, c)) = chars.next() {
            match c {
                '\\' => match chars.next() {
                    Some((_, 'n')) => value.push('\n'),
                    Some((_, c)) => value.push(c),
                    None => {}
                },
                '"' => {
                    end = eq + 2 + i + 1;
                    break;
                }
                c => value.push(c),
            }
        }
        out.insert(key, value);
        rest = &rest[end..];
    }
    out
}

/// A temporary directory with helpers to write files into it.
pub struct Dir(pub tempfile::TempDir);

impl Dir {
    pub fn new() -> Dir {
        Dir(tempfile::tempdir().unwrap())
    }
    pub fn write(&self, name: &str, content: &str) -> PathBuf {
        let p = self.0.path().join(name);
        std::fs::write(&p, content).unwrap();
        p
    }
    /// Writes the simulator's demo-client secret (`secret`) and
    /// [`config_for`] of `envs` with it (`config.yml`); returns the
    /// config's path.
    pub fn demo_config(&self, sim_base: &str, envs: &[(&str, &str)], extra_env: &str) -> PathBuf {
        let secret = self.write("secret", "demo-secret\n");
        self.write(
            "config.yml",
            &config_for(sim_base, envs, "demo-client", &secret, extra_env),
        )
    }
}

/// The small scenario's worker environment (where its clients live).
pub const SMALL_A: &str = "5a11a000-0000-4000-8000-00000000000a";
/// The small scenario's second environment.
pub const SMALL_B: &str = "5a11b000-0000-4000-8000-00000000000b";

/// The ground truth's environment with this id.
pub fn env_truth<'a>(truth: &'a serde_json::Value, id: &str) -> &'a serde_json::Value {
    truth["environments"]
        .as_array()
        .unwrap()
        .iter()
        .find(|e| e["id"] == id)
        .unwrap()
}

/// The e2e scenario file.
pub fn small_scenario() -> PathBuf {
    PathBuf::from("tests/fixtures/scenarios/small.yml")
}

/// `config` (from [`config_for`]) with rules and groups read once an hour,
/// so a poll between those cadences reads the stores only.
pub fn with_hourly_cadences(config: &str) -> String {
    config
        .replace("rules_interval: 10s", "rules_interval: 1h")
        .replace("groups_interval: 10s", "groups_interval: 1h")
}

/// A config for `envs` (`(name, id)`) of a simulator at `sim_base`, reading
/// the client secret from `secret_file`; the worker app lives in small-a.
/// Every poll reads everything (`rules_interval` and `groups_interval` equal
/// to `poll_interval`), so a change shows at the next poll; the cadences
/// have tests of their own (tests/cadence.rs).
pub fn config_for(
    sim_base: &str,
    envs: &[(&str, &str)],
    client_id: &str,
    secret_file: &Path,
    extra_env: &str,
) -> String {
    let mut c = String::from(
        "global:\n  poll_interval: 10s\n  rules_interval: 10s\n  groups_interval: 10s\n  request_timeout: 5s\n  max_requests_per_second: 50\n  max_concurrent_requests: 4\nenvironments:\n",
    );
    for (name, id) in envs {
        c.push_str(&format!(
            "  - name: {name}\n    id: {id}\n    api_url: {sim_base}/v1\n    auth_url: {sim_base}\n    credentials:\n      client_id: {client_id}\n      client_secret_file: {}\n      worker_environment_id: {}\n{extra_env}",
            secret_file.display(),
            SMALL_A
        ));
    }
    c
}
