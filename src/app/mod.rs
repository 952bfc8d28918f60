//! Wiring: turns parsed flags into a running daemon (or a one-shot command)
//! and maps the outcome to an exit code. The only place that sees every
//! part; each part stays testable on its own.

use std::net::SocketAddr;
use std::process::ExitCode;
use std::sync::Arc;
use std::time::Duration;

use tokio::net::TcpListener;
use tokio::sync::mpsc;

use crate::alerting;
use crate::cli::{Cli, Command};
use crate::config::{self, Config};
use crate::http::{ServeOptions, serve};
use crate::poller::Supervisor;
use crate::selfmetrics::SelfMetrics;
use crate::server::{self, ReloadRequest, Web};
use crate::shutdown::Shutdown;
use crate::simulator;
use crate::state::Shared;
use crate::timefmt::now_unix;
use crate::webconfig::{self, WebGuard};

mod commands;
mod demo;
mod listen;

pub use listen::bind;

/// Source revision, set by `build.rs` from git (or `unknown`).
pub const REVISION: &str = env!("PINGONE_SYNC_EXPORTER_REVISION");

/// Runs what the flags ask for.
pub fn main(cli: Cli) -> ExitCode {
    crate::logging::init(cli.log_level, cli.log_format);
    if cli.config_check && cli.command.is_none() {
        return check_config(&cli);
    }
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(r) => r,
        Err(e) => {
            eprintln!("cannot start the async runtime: {e}");
            return ExitCode::FAILURE;
        }
    };
    runtime.block_on(async move {
        let result = match &cli.command {
            Some(Command::Simulate { listen, scenario }) => {
                run_simulator(listen, scenario.clone()).await
            }
            Some(Command::Healthcheck(args)) => return crate::healthcheck::run(args).await,
            Some(command) => return commands::run(&cli, command).await,
            None => run_daemon(&cli).await,
        };
        match result {
            Ok(()) => ExitCode::SUCCESS,
            Err(e) => {
                tracing::error!(error = %format!("{e:#}"), "exiting");
                eprintln!("pingone-sync-exporter: {e:#}");
                ExitCode::FAILURE
            }
        }
    })
}

fn check_config(cli: &Cli) -> ExitCode {
    if let Some(path) = &cli.web_config_file
        && let Err(e) = webconfig::load(path)
    {
        println!("{e}");
        return ExitCode::FAILURE;
    }
    match config::load(&cli.config_file) {
        Ok(c) => {
            for w in &c.warnings {
                eprintln!("warning: {w}");
            }
            println!("config OK");
            ExitCode::SUCCESS
        }
        Err(e) => {
            println!("{e}");
            ExitCode::FAILURE
        }
    }
}

/// Fires `shutdown` on SIGTERM or SIGINT.
fn on_signals(shutdown: Shutdown) {
    tokio::spawn(async move {
        let term = async {
            match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
                Ok(mut s) => {
                    s.recv().await;
                }
                Err(_) => std::future::pending::<()>().await,
            }
        };
        tokio::select! {
            _ = tokio::signal::ctrl_c() => tracing::info!("SIGINT received; shutting down"),
            () = term => tracing::info!("SIGTERM received; shutting down"),
        }
        shutdown.trigger();
    });
}

async fn run_simulator(listen: &str, scenario: Option<std::path::PathBuf>) -> anyhow::Result<()> {
    let addr: SocketAddr = listen::resolve(listen).await?;
    let shutdown = Shutdown::new();
    on_signals(shutdown.clone());
    simulator::run_cli(addr, scenario, shutdown).await?;
    Ok(())
}

async fn run_daemon(cli: &Cli) -> anyhow::Result<()> {
    let shutdown = Shutdown::new();
    on_signals(shutdown.clone());
    let metrics = SelfMetrics::new(crate::VERSION, REVISION);
    let shared = Shared::new(Arc::clone(&metrics));

    // Demo mode: an in-process simulated tenant, and a config pointing at it.
    let (config, demo_sim) = if cli.demo {
        let (config, sim) = demo::start(shutdown.clone()).await?;
        (config, Some(sim))
    } else {
        match config::load(&cli.config_file) {
            Ok(c) => (c, None),
            Err(e) => anyhow::bail!("invalid configuration:\n{e}"),
        }
    };
    let guard = match &cli.web_config_file {
        Some(path) => match WebGuard::load(path) {
            Ok(g) => Some(g),
            Err(e) => anyhow::bail!("invalid web configuration:\n{e}"),
        },
        None => None,
    };
    metrics.config_loaded(true, now_unix());
    for w in &config.warnings {
        tracing::warn!(warning = %w, "configuration");
    }
    tracing::info!(version = crate::VERSION, revision = REVISION, config = %config.summary(), "starting");
    let mut supervisor = Supervisor::start(&config, Arc::clone(&shared))?;

    let listener: TcpListener = bind(&cli.listen_address).await?;
    let addr = listener.local_addr()?;
    let tls = guard.as_ref().and_then(WebGuard::tls_source);
    tracing::info!(address = %addr, telemetry_path = %cli.telemetry_path, tls = tls.is_some(), "listening");
    let mut landing_url = alerting::landing_url(cli.external_url.as_deref(), addr);
    if tls.is_some() && cli.external_url.is_none() {
        landing_url = landing_url.replacen("http://", "https://", 1);
    }
    let alerter = alerting::Alerter::start(
        Arc::clone(&shared),
        landing_url,
        alerting::plan(config.alerting.as_ref())?,
        shutdown.clone(),
    );

    let (reload_tx, mut reload_rx) = mpsc::channel::<ReloadRequest>(4);
    let mut about = vec![(
        "config".to_string(),
        if cli.demo {
            "demo mode (simulated tenant)".to_string()
        } else {
            cli.config_file.display().to_string()
        },
    )];
    if let Some(sim) = &demo_sim {
        about.push(("simulator".to_string(), sim.base_url()));
    }
    if let (Some(g), Some(path)) = (&guard, &cli.web_config_file) {
        let summary = g.current().summary();
        tracing::info!(file = %path.display(), web_config = %summary, "web configuration");
        about.push((
            "web config".to_string(),
            format!("{} ({summary})", path.display()),
        ));
    }
    let grafana = match cli
        .grafana_url
        .as_deref()
        .map(server::summary::grafana_base)
    {
        None => None,
        Some(Ok(url)) => Some(url),
        Some(Err(e)) => anyhow::bail!("{e}"),
    };
    let page = Arc::new(server::summary::PageSettings::new(grafana, &config));
    let web = Arc::new(Web {
        shared: Arc::clone(&shared),
        telemetry_path: cli.telemetry_path.clone(),
        reload: reload_tx,
        about,
        page: Arc::clone(&page),
    });
    let server = tokio::spawn(serve(
        listener,
        ServeOptions {
            max_connections: cli.max_connections as usize,
            header_read_timeout: cli.read_timeout,
            write_stall_timeout: cli.read_timeout,
            tls,
            ..ServeOptions::default()
        },
        shutdown.clone(),
        move |req| {
            let web = Arc::clone(&web);
            webconfig::guarded(guard.clone(), req, move |r| server::handle(web, r))
        },
    ));

    let mut hup = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::hangup())?;
    loop {
        let answer = tokio::select! {
            () = shutdown.wait() => break,
            _ = hup.recv() => None,
            r = reload_rx.recv() => match r { Some(tx) => Some(tx), None => break },
        };
        let result = reload(cli, &mut supervisor, &alerter, &metrics, &page);
        if let Some(tx) = answer {
            let _ = tx.send(result);
        }
    }

    // In-flight scrapes finish (the server's grace period); pollers stop.
    let _ = server.await;
    supervisor.stop().await;
    alerter.join().await;
    if let Some(sim) = demo_sim {
        let _ = tokio::time::timeout(Duration::from_secs(2), sim.join()).await;
    }
    tracing::info!("stopped");
    Ok(())
}

/// Re-reads the config file and applies it; on any problem the running
/// config stays and the reload gauge drops to 0.
fn reload(
    cli: &Cli,
    supervisor: &mut Supervisor,
    alerter: &alerting::Alerter,
    metrics: &SelfMetrics,
    page: &server::summary::PageSettings,
) -> Result<(), String> {
    if cli.demo {
        return Err("demo mode has no configuration file to reload".into());
    }
    let result = config::load(&cli.config_file)
        .map_err(|e| e.to_string())
        .and_then(|c: Config| {
            // Build everything that can fail before changing anything.
            let plan = alerting::plan(c.alerting.as_ref()).map_err(|e| e.to_string())?;
            supervisor.apply(&c).map_err(|e| e.to_string())?;
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
