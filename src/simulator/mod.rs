//! A PingOne tenant simulator serving the documented API.
//!
//! It stands in for PingOne in the demo (`--demo`), the `simulate`
//! subcommand, end-to-end tests and benchmarks. It models the provisioning
//! engine itself (environments, stores, rules, users and groups with a sync
//! state per rule, inbound polling, write-back, revisions) and serves the
//! documented endpoints from that model, so everything it serves is
//! consistent, and `GET /_sim/truth` tells tests what an exporter should
//! report. It shares no type with the exporter's client: its JSON is
//! written from its own model. Reference: `docs/simulator.md`.
//!
//! Module map: [`scenario`] (the YAML), `setup` (scenario → model),
//! `model`, `engine` (ticks, revisions), `counts` (derived numbers),
//! `router` → `faults` → `api` (+ `auth`, `paging`, `render`), `body`
//! (how answers are sent), `control` and `truth` (`/_sim/...`).

mod api;
mod auth;
mod body;
mod control;
mod counts;
mod engine;
mod faults;
mod generate;
mod model;
mod paging;
mod query;
mod render;
mod reply;
mod router;
pub mod scenario;
mod setup;
mod stats;
mod truth;

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use tokio::net::TcpListener;
use tokio::task::JoinHandle;

pub use faults::{FaultKind, FaultRule};
pub use generate::STORE_SECRET_PREFIX;
pub use scenario::Scenario;

use crate::shutdown::Shutdown;

/// Client id of the demo scenario (and of scenarios that list no client).
pub const DEMO_CLIENT_ID: &str = "demo-client";
/// Client secret of the demo client. Public on purpose: it guards nothing.
pub const DEMO_CLIENT_SECRET: &str = "demo-secret";

/// Why the simulator could not start.
#[derive(Debug, thiserror::Error)]
pub enum SimError {
    /// The scenario file could not be read.
    #[error("reading scenario {}: {source}", .path.display())]
    Read {
        /// The file.
        path: PathBuf,
        /// The I/O error.
        source: std::io::Error,
    },
    /// The scenario is not valid YAML or does not have the scenario's shape
    /// (each problem with file, line, column and field path).
    #[error("invalid scenario: {0}")]
    Parse(#[from] crate::config::ConfigError),
    /// The scenario refers to something it does not define, or a value is
    /// out of bounds.
    #[error("scenario {file}: {message}")]
    Scenario {
        /// The file, or `<scenario>` for text.
        file: String,
        /// What is wrong, with line and column or field path when known.
        message: String,
    },
    /// The listener could not be opened.
    #[error("simulator cannot listen on {addr}: {source}")]
    Bind {
        /// The requested address.
        addr: SocketAddr,
        /// The I/O error.
        source: std::io::Error,
    },
}

/// A started simulator.
pub struct Running {
    addr: SocketAddr,
    environments: Vec<(String, String)>,
    clients: Vec<(String, String)>,
    server: JoinHandle<()>,
    ticker: Option<JoinHandle<()>>,
}

impl Running {
    /// The bound address.
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// `http://IP:PORT`, with a loopback IP when bound to a wildcard.
    pub fn base_url(&self) -> String {
        let ip = match self.addr.ip() {
            IpAddr::V4(ip) if ip.is_unspecified() => IpAddr::V4(Ipv4Addr::LOCALHOST),
            IpAddr::V6(ip) if ip.is_unspecified() => IpAddr::V6(Ipv6Addr::LOCALHOST),
            ip => ip,
        };
        format!("http://{}", SocketAddr::new(ip, self.addr.port()))
    }

    /// API base: [`Running::base_url`] + `/v1`.
    pub fn api_url(&self) -> String {
        format!("{}/v1", self.base_url())
    }

    /// Auth base (token path `{auth_url}/{envId}/as/token`): the base URL.
    pub fn auth_url(&self) -> String {
        self.base_url()
    }

    /// `(id, name)` of every environment, in scenario order.
    pub fn environments(&self) -> Vec<(String, String)> {
        self.environments.clone()
    }

    /// `(client_id, worker environment id)` of every API client: the token
    /// path of a client is `{auth_url}/{worker environment id}/as/token`.
    pub fn clients(&self) -> Vec<(String, String)> {
        self.clients.clone()
    }

    /// Waits until the shutdown signal has stopped the server.
    pub async fn join(self) {
        let _ = self.server.await;
        if let Some(t) = self.ticker {
            t.abort();
            let _ = t.await;
        }
    }
}

/// Builds the tenant (warm-up included), binds `listen` and serves until
/// `shutdown` fires. With the real clock a task ticks every `tick`.
pub async fn start(
    scenario: Scenario,
    listen: SocketAddr,
    shutdown: Shutdown,
) -> Result<Running, SimError> {
    let (tenant, clients) = setup::build(&scenario).map_err(|message| SimError::Scenario {
        file: "<scenario>".into(),
        message,
    })?;
    let bind_err = |source| SimError::Bind {
        addr: listen,
        source,
    };
    let listener = TcpListener::bind(listen).await.map_err(bind_err)?;
    let addr = listener.local_addr().map_err(bind_err)?;
    let environments: Vec<(String, String)> = tenant
        .envs
        .iter()
        .map(|e| (e.id.clone(), e.name.clone()))
        .collect();
    let manual = tenant.clock.manual;
    let auth =
        auth::Auth::new(clients, scenario.token_lifetime).with_token_prefix(&scenario.token_prefix);
    let client_list = auth
        .clients()
        .iter()
        .map(|c| (c.id.clone(), c.worker_env.clone()))
        .collect();
    let shared = Arc::new(router::Shared::new(tenant, auth, addr.to_string()));
    for (i, rule) in scenario.faults.iter().enumerate() {
        let env = rule.check(&environments).map_err(|e| SimError::Scenario {
            file: "<scenario>".into(),
            message: format!("faults[{i}]: {e}"),
        })?;
        shared.faults.add(rule.clone(), env);
    }
    let handler_state = shared.clone();
    let handler = move |req| router::handle(handler_state.clone(), req);
    let server = tokio::spawn(crate::http::serve(
        listener,
        Default::default(),
        shutdown.clone(),
        handler,
    ));
    let ticker = (!manual).then(|| tokio::spawn(tick_forever(shared, scenario.tick, shutdown)));
    tracing::info!(%addr, "simulator listening");
    Ok(Running {
        addr,
        environments,
        clients: client_list,
        server,
        ticker,
    })
}

/// Real clock: one tick every `every` of wall time until shutdown.
async fn tick_forever(shared: Arc<router::Shared>, every: Duration, shutdown: Shutdown) {
    let mut interval = tokio::time::interval_at(tokio::time::Instant::now() + every, every);
    interval.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Skip);
    loop {
        tokio::select! {
            _ = interval.tick() => engine::advance(&mut shared.tenant(), 1),
            () = shutdown.wait() => return,
        }
    }
}

/// The `simulate` subcommand: runs `scenario` (default: the demo) on
/// `listen` until `shutdown`. Prints `simulator listening on http://ADDR`
/// first (tests parse it), then one `environment ID NAME` line per
/// environment and one `client ID token-url URL` line per client.
pub async fn run_cli(
    listen: SocketAddr,
    scenario: Option<PathBuf>,
    shutdown: Shutdown,
) -> Result<(), SimError> {
    let scenario = match scenario {
        Some(path) => Scenario::load(&path)?,
        None => Scenario::demo(),
    };
    let running = start(scenario, listen, shutdown).await?;
    let mut out = format!("simulator listening on {}\n", running.base_url());
    for (id, name) in &running.environments {
        out.push_str(&format!("environment {id} {name}\n"));
    }
    for (id, worker) in &running.clients {
        out.push_str(&format!(
            "client {id} token-url {}/{worker}/as/token\n",
            running.auth_url()
        ));
    }
    {
        use std::io::Write as _;
        let mut stdout = std::io::stdout().lock();
        let _ = stdout.write_all(out.as_bytes());
        let _ = stdout.flush();
    }
    running.join().await;
    Ok(())
}
