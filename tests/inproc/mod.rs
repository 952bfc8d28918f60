//! Helpers for in-process tests: a simulator started inside the test's
//! runtime, a plain HTTP client for it, and the exporter's PingOne client
//! pointed at it.
#![allow(dead_code)] // each test binary uses a different subset
#![allow(clippy::unwrap_used, clippy::expect_used)] // test code: a panic is a test failure

use std::sync::Arc;
use std::time::{Duration, SystemTime};

use pingone_sync_exporter::config::{self, Environment};
use pingone_sync_exporter::pingone::budgets::Budgets;
use pingone_sync_exporter::pingone::{Client, ClientSettings, EnvClient};
use pingone_sync_exporter::selfmetrics::SelfMetrics;
use pingone_sync_exporter::shutdown::Shutdown;
use pingone_sync_exporter::simulator::{
    self, DEMO_CLIENT_ID, DEMO_CLIENT_SECRET, Running, Scenario,
};
use serde_json::Value;

/// The small scenario's worker environment.
pub const WORKER: &str = "5a11a000-0000-4000-8000-00000000000a";

/// A simulator running in this test's runtime; stops when dropped.
pub struct TestSim {
    pub running: Running,
    shutdown: Shutdown,
    pub http: reqwest::Client,
}

impl Drop for TestSim {
    fn drop(&mut self) {
        self.shutdown.trigger();
    }
}

impl TestSim {
    pub async fn start(scenario: Scenario) -> TestSim {
        pingone_sync_exporter::outbound::install_crypto_provider();
        let shutdown = Shutdown::new();
        let running = simulator::start(scenario, "127.0.0.1:0".parse().unwrap(), shutdown.clone())
            .await
            .unwrap();
        let http = reqwest::Client::builder()
            .timeout(Duration::from_secs(30))
            .build()
            .unwrap();
        TestSim {
            running,
            shutdown,
            http,
        }
    }

    pub fn base(&self) -> String {
        self.running.base_url()
    }

    async fn json(&self, r: reqwest::RequestBuilder) -> (u16, Value) {
        let r = r.send().await.unwrap();
        let status = r.status().as_u16();
        let bytes = r.bytes().await.unwrap_or_default();
        (
            status,
            serde_json::from_slice(&bytes).unwrap_or(Value::Null),
        )
    }

    /// `POST /_sim/faults` with `rules` (an object or an array).
    pub async fn add_faults(&self, rules: &Value) -> (u16, Value) {
        let url = format!("{}/_sim/faults", self.base());
        self.json(self.http.post(url).body(rules.to_string())).await
    }

    pub async fn faults(&self) -> Value {
        let url = format!("{}/_sim/faults", self.base());
        self.json(self.http.get(url)).await.1
    }

    pub async fn clear_faults(&self) {
        let url = format!("{}/_sim/faults/clear", self.base());
        assert_eq!(self.json(self.http.post(url)).await.0, 200);
    }

    pub async fn truth(&self) -> Value {
        self.json(self.http.get(format!("{}/_sim/truth", self.base())))
            .await
            .1
    }

    pub async fn requests(&self) -> Value {
        self.json(self.http.get(format!("{}/_sim/requests", self.base())))
            .await
            .1
    }

    pub async fn advance(&self, ticks: u32) {
        let url = format!("{}/_sim/advance?ticks={ticks}", self.base());
        assert_eq!(self.json(self.http.post(url)).await.0, 200);
    }

    fn token_request(&self) -> reqwest::RequestBuilder {
        self.http
            .post(format!("{}/{WORKER}/as/token", self.base()))
            .basic_auth(DEMO_CLIENT_ID, Some(DEMO_CLIENT_SECRET))
            .header("content-type", "application/x-www-form-urlencoded")
            .body("grant_type=client_credentials")
    }

    pub async fn token(&self) -> String {
        let (status, body) = self.json(self.token_request()).await;
        assert_eq!(status, 200, "{body}");
        body["access_token"].as_str().unwrap().to_owned()
    }

    pub async fn token_status(&self) -> u16 {
        self.token_request().send().await.unwrap().status().as_u16()
    }

    pub async fn get_raw(&self, env: &str, path: &str, token: &str) -> reqwest::Response {
        let url = format!("{}/environments/{env}/{path}", self.running.api_url());
        self.http.get(url).bearer_auth(token).send().await.unwrap()
    }

    pub async fn get(&self, env: &str, path: &str, token: &str) -> (u16, Value) {
        let url = format!("{}/environments/{env}/{path}", self.running.api_url());
        self.json(self.http.get(url).bearer_auth(token)).await
    }

    /// A config for the named environments of this simulator, with
    /// `global` settings as YAML lines (indented by two spaces).
    pub fn config(&self, envs: &[(&str, &str)], global: &str) -> config::Config {
        let mut c = format!("global:\n{global}environments:\n");
        for (name, id) in envs {
            c.push_str(&format!(
                "  - name: {name}\n    id: {id}\n    api_url: {}\n    auth_url: {}\n    credentials:\n      client_id: {DEMO_CLIENT_ID}\n      client_secret: {DEMO_CLIENT_SECRET}\n      worker_environment_id: {WORKER}\n",
                self.running.api_url(),
                self.running.auth_url()
            ));
        }
        config::load_str(&c, "test.yml", &|_| None).unwrap_or_else(|e| panic!("{e}\n{c}"))
    }
}

/// The exporter's client for a config, with its own budget and metrics.
pub struct TestClient {
    pub metrics: Arc<SelfMetrics>,
    pub client: Arc<Client>,
    pub envs: Vec<(Environment, Arc<EnvClient>)>,
}

impl TestClient {
    pub fn new(cfg: &config::Config, settings: ClientSettings) -> TestClient {
        let metrics = SelfMetrics::new("test", "test");
        let budgets = Budgets::from_config(cfg);
        let client = Client::new(Arc::clone(&metrics), settings).unwrap();
        let envs = cfg
            .environments
            .iter()
            .map(|e| {
                let allotment = budgets.allotment(&e.budget).unwrap();
                (
                    e.clone(),
                    Arc::new(EnvClient::new(Arc::clone(&client), e, allotment).unwrap()),
                )
            })
            .collect();
        TestClient {
            metrics,
            client,
            envs,
        }
    }

    pub fn env(&self, i: usize) -> &Arc<EnvClient> {
        &self.envs[i].1
    }

    /// Self-metrics in the classic text format.
    pub fn metrics_text(&self) -> String {
        let mut out = Vec::new();
        self.metrics
            .encode(pingone_sync_exporter::exposition::Format::Text, &mut out);
        String::from_utf8(out).unwrap()
    }

    /// The value of one self-metric series whose line contains every
    /// `needle`; 0 when absent.
    pub fn value(&self, name: &str, needles: &[&str]) -> f64 {
        self.metrics_text()
            .lines()
            .filter(|l| l.starts_with(name) && needles.iter().all(|n| l.contains(n)))
            .map(|l| l.rsplit_once(' ').unwrap().1.parse::<f64>().unwrap())
            .sum()
    }
}

pub fn unix_now() -> f64 {
    SystemTime::now()
        .duration_since(SystemTime::UNIX_EPOCH)
        .unwrap()
        .as_secs_f64()
}

pub fn httpdate_secs(s: &str) -> f64 {
    httpdate::parse_http_date(s)
        .unwrap()
        .duration_since(SystemTime::UNIX_EPOCH)
        .unwrap()
        .as_secs_f64()
}
