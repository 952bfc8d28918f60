//! The daemon: built once from the flags and the configuration files, then
//! driven by the reload loop (SIGHUP, and `/-/reload` with
//! `--web.enable-lifecycle`) until shutdown, then
//! stopped in order: in-flight scrapes finish, pollers and the alert sender
//! stop.

use std::sync::Arc;
use std::time::Duration;

use tokio::net::TcpListener;
use tokio::sync::mpsc;
use tokio::task::JoinHandle;

use super::planner::Planner;
use super::{REVISION, bind, demo, on_signals};
use crate::alerting;
use crate::cli::Cli;
use crate::config::{self, Config};
use crate::http::{ServeOptions, TlsSource, serve};
use crate::poller::Supervisor;
use crate::selfmetrics::SelfMetrics;
use crate::server::{self, ReloadRequest, Web};
use crate::shard::Shard;
use crate::shutdown::Shutdown;
use crate::simulator::Running;
use crate::state::Shared;
use crate::timefmt::now_unix;
use crate::webconfig::{self, WebGuard};

/// Probe-lane slots on top of `--web.max-connections` (docs/web-config.md,
/// "Connection limits").
const PROBE_RESERVE: usize = 8;
/// Requests one keep-alive connection serves before it is closed.
const MAX_REQUESTS_PER_CONNECTION: u64 = 1000;
/// Age after which a keep-alive connection is closed at its next answer.
const MAX_CONNECTION_AGE: Duration = Duration::from_secs(300);

/// Runs the daemon until SIGTERM or SIGINT.
pub(super) async fn run(cli: &Cli) -> anyhow::Result<()> {
    let shutdown = Shutdown::new();
    on_signals(shutdown.clone());
    let mut daemon = Daemon::start(cli, shutdown).await?;
    daemon.serve_reloads(cli).await?;
    daemon.stop().await;
    Ok(())
}

/// The daemon's long-lived parts.
struct Daemon {
    shutdown: Shutdown,
    /// The environments this replica polls (`--shard.*`), at start and on
    /// every reload.
    shard: Shard,
    /// What the status pages know beyond the snapshots; follows reloads.
    page: Arc<server::summary::PageSettings>,
    metrics: Arc<SelfMetrics>,
    supervisor: Supervisor,
    /// Keeps the request plan current (logs and self-metrics).
    planner: Planner,
    alerter: alerting::Alerter,
    server: JoinHandle<()>,
    /// `/-/reload` requests from the server.
    reloads: mpsc::Receiver<ReloadRequest>,
    /// The in-process simulated tenant of `--demo`.
    demo_sim: Option<Running>,
}

impl Daemon {
    /// Loads the configuration, starts the pollers, the alert sender and
    /// the server.
    async fn start(cli: &Cli, shutdown: Shutdown) -> anyhow::Result<Self> {
        let metrics = SelfMetrics::new(crate::VERSION, REVISION);
        let shared = Shared::new(Arc::clone(&metrics));
        let shard = shard(cli)?;
        let (config, demo_sim) = initial_config(cli, &shutdown).await?;
        let config = shard.select(config);
        let guard = web_guard(cli)?;
        metrics.config_loaded(true, now_unix());
        for w in &config.warnings {
            tracing::warn!(warning = %w, "configuration");
        }
        tracing::info!(version = crate::VERSION, revision = REVISION, shard = %shard, config = %config.summary(), "starting");
        let supervisor = Supervisor::start(&config, Arc::clone(&shared))?;
        let plan_status = Arc::new(crate::plan::status::PlanStatus::default());
        let planner = Planner::start(
            &config,
            budgets(&supervisor),
            Arc::clone(&shared),
            Arc::clone(&plan_status),
            shutdown.clone(),
        );

        let listener: TcpListener = bind(&cli.listen_address).await?;
        let addr = listener.local_addr()?;
        let tls = guard.as_ref().and_then(WebGuard::tls_source);
        tracing::info!(address = %addr, telemetry_path = %cli.telemetry_path, tls = tls.is_some(), "listening");
        let mut landing_url = alerting::landing_url(cli.external_url.as_deref(), addr);
        if tls.is_some() && cli.external_url.is_none() {
            landing_url = landing_url.replacen("http://", "https://", 1);
        }
        // One status, written by the alerting task and read by the server.
        let alert_status = Arc::new(alerting::AlertStatus::default());
        let alerter = alerting::Alerter::start(
            Arc::clone(&shared),
            Arc::clone(&alert_status),
            landing_url,
            alerting::plan(config.alerting.as_ref())?,
            shutdown.clone(),
        );

        let (reload_tx, reloads) = mpsc::channel::<ReloadRequest>(4);
        let page = Arc::new(server::summary::PageSettings::new(grafana(cli)?, &config));
        let web = Web {
            shared: Arc::clone(&shared),
            alerts: alert_status,
            telemetry_path: cli.telemetry_path.clone(),
            reload: reload_tx,
            lifecycle: cli.enable_lifecycle,
            reload_gate: server::ReloadGate::default(),
            about: about(cli, shard, demo_sim.as_ref(), guard.as_ref()),
            page: Arc::clone(&page),
            plan: plan_status,
            gzip: Default::default(),
            recent: Default::default(),
        };
        let server = start_server(cli, listener, tls, guard, web, shutdown.clone());
        Ok(Self {
            shutdown,
            shard,
            page,
            metrics,
            supervisor,
            planner,
            alerter,
            server,
            reloads,
            demo_sim,
        })
    }

    /// Applies the configuration file again on each SIGHUP or `/-/reload`
    /// (answering the latter), until shutdown.
    async fn serve_reloads(&mut self, cli: &Cli) -> anyhow::Result<()> {
        let mut hup = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::hangup())?;
        loop {
            let answer = tokio::select! {
                () = self.shutdown.wait() => break,
                _ = hup.recv() => None,
                r = self.reloads.recv() => match r { Some(tx) => Some(tx), None => break },
            };
            let result = reload(
                cli,
                self.shard,
                &mut self.supervisor,
                &self.planner,
                &self.alerter,
                &self.metrics,
                &self.page,
            );
            if let Some(tx) = answer {
                let _ = tx.send(result);
            }
        }
        Ok(())
    }

    /// Waits for the parts to stop, after the shutdown signal.
    async fn stop(self) {
        // In-flight scrapes finish (the server's grace period); pollers stop.
        let _ = self.server.await;
        self.supervisor.stop().await;
        self.planner.join().await;
        self.alerter.join().await;
        if let Some(sim) = self.demo_sim {
            let _ = tokio::time::timeout(Duration::from_secs(2), sim.join()).await;
        }
        tracing::info!("stopped");
    }
}

/// The configuration to start with: the file's or, in demo mode, one
/// pointing at an in-process simulated tenant (started here).
async fn initial_config(
    cli: &Cli,
    shutdown: &Shutdown,
) -> anyhow::Result<(Config, Option<Running>)> {
    if cli.demo {
        let (config, sim) = demo::start(shutdown.clone()).await?;
        return Ok((config, Some(sim)));
    }
    match config::load(&cli.config_file) {
        Ok(c) => Ok((c, None)),
        Err(e) => anyhow::bail!("invalid configuration:\n{e}"),
    }
}

/// The shard of `--shard.index`/`--shard.count`; without an index, the
/// ordinal at the end of the pod name (`$HOSTNAME`, which Kubernetes sets
/// to it, else the kernel's host name).
fn shard(cli: &Cli) -> anyhow::Result<Shard> {
    let host = std::env::var("HOSTNAME")
        .ok()
        .filter(|h| !h.is_empty())
        .unwrap_or_else(alerting::hostname);
    Ok(Shard::from_flags(
        cli.shard_index,
        cli.shard_count,
        Some(&host),
    )?)
}

/// The supervisor's request budgets by name, for the plan's self-metrics.
fn budgets(supervisor: &Supervisor) -> Vec<(String, Arc<crate::pingone::budget::Budget>)> {
    supervisor
        .budgets()
        .iter()
        .map(|(name, b)| (name.to_string(), Arc::clone(b)))
        .collect()
}

/// The Grafana base URL of `--web.grafana-url`, checked, when given.
fn grafana(cli: &Cli) -> anyhow::Result<Option<reqwest::Url>> {
    match cli
        .grafana_url
        .as_deref()
        .map(server::summary::grafana_base)
    {
        None => Ok(None),
        Some(Ok(url)) => Ok(Some(url)),
        Some(Err(e)) => anyhow::bail!("{e}"),
    }
}

/// The `--web.config.file` guard, when one is given.
fn web_guard(cli: &Cli) -> anyhow::Result<Option<Arc<WebGuard>>> {
    match &cli.web_config_file {
        Some(path) => match WebGuard::load(path) {
            Ok(g) => Ok(Some(g)),
            Err(e) => anyhow::bail!("invalid web configuration:\n{e}"),
        },
        None => Ok(None),
    }
}

/// What the landing page says the daemon runs with: the configuration,
/// the demo simulator, the web config (also logged).
fn about(
    cli: &Cli,
    shard: Shard,
    demo_sim: Option<&Running>,
    guard: Option<&Arc<WebGuard>>,
) -> Vec<(String, String)> {
    let mut about = vec![(
        "config".to_string(),
        if cli.demo {
            "demo mode (simulated tenant)".to_string()
        } else {
            cli.config_file.display().to_string()
        },
    )];
    if shard.is_sharded() {
        about.push((
            "shard".to_string(),
            format!("{shard} (this replica polls and serves only its share of the environments)"),
        ));
    }
    if let Some(sim) = demo_sim {
        about.push(("simulator".to_string(), sim.base_url()));
    }
    if let (Some(g), Some(path)) = (guard, &cli.web_config_file) {
        let summary = g.current().summary();
        tracing::info!(file = %path.display(), web_config = %summary, "web configuration");
        about.push((
            "web config".to_string(),
            format!("{} ({summary})", path.display()),
        ));
    }
    about
}

/// Serves the endpoints on `listener`, behind the web config guard, until
/// shutdown.
fn start_server(
    cli: &Cli,
    listener: TcpListener,
    tls: Option<TlsSource>,
    guard: Option<Arc<WebGuard>>,
    web: Web,
    shutdown: Shutdown,
) -> JoinHandle<()> {
    let web = Arc::new(web);
    tokio::spawn(serve(
        listener,
        ServeOptions {
            max_connections: cli.max_connections as usize,
            max_connections_per_peer: Some(cli.max_connections_per_ip as usize),
            probe_reserve: PROBE_RESERVE,
            probe_paths: vec![
                "/-/healthy".to_string(),
                "/-/ready".to_string(),
                cli.telemetry_path.clone(),
            ],
            max_requests_per_connection: Some(MAX_REQUESTS_PER_CONNECTION),
            max_connection_age: Some(MAX_CONNECTION_AGE),
            header_read_timeout: cli.read_timeout,
            write_stall_timeout: cli.read_timeout,
            tls,
            // One thread of its own serves every connection; polls, renders
            // and alerts run on the daemon's runtime. Under concurrent
            // scrapes the runtime's two workers kept waking each other and
            // the kernel ran them on one core, taking turns: one thread
            // cut the 16-scraper gzip p99 at 400 rules to about 0.4× and
            // the plain one at 10,000 to 0.6× (docs/performance.md,
            // change 17).
            threads: 1,
            ..ServeOptions::default()
        },
        shutdown,
        move |req| {
            let web = Arc::clone(&web);
            webconfig::guarded(guard.clone(), req, move |r| server::handle(web, r))
        },
    ))
}

/// Re-reads the config file and applies it; on any problem the running
/// config stays and the reload gauge drops to 0.
fn reload(
    cli: &Cli,
    shard: Shard,
    supervisor: &mut Supervisor,
    planner: &Planner,
    alerter: &alerting::Alerter,
    metrics: &SelfMetrics,
    page: &server::summary::PageSettings,
) -> Result<(), String> {
    if cli.demo {
        return Err("demo mode has no configuration file to reload".into());
    }
    let result = config::load(&cli.config_file)
        .map_err(|e| e.to_string())
        .map(|c| shard.select(c))
        .and_then(|c: Config| {
            // Build everything that can fail before changing anything.
            let plan = alerting::plan(c.alerting.as_ref()).map_err(|e| e.to_string())?;
            supervisor.apply(&c).map_err(|e| e.to_string())?;
            planner.apply(&c, budgets(supervisor), "reload");
            alerter.apply(plan);
            page.apply(&c);
            Ok(c)
        });
    match result {
        Ok(c) => {
            metrics.config_loaded(true, now_unix());
            tracing::info!(config = %c.summary(), "configuration reloaded");
            Ok(())
        }
        Err(problems) => {
            metrics.config_loaded(false, now_unix());
            tracing::error!(problems = %problems, "configuration reload failed; the previous configuration keeps running");
            Err(problems)
        }
    }
}
