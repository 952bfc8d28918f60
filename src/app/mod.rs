//! Wiring: turns parsed flags into a running daemon (or a one-shot command)
//! and maps the outcome to an exit code. The only place that sees every
//! part; each part stays testable on its own.

use std::net::SocketAddr;
use std::process::ExitCode;

use crate::cli::{Cli, Command};
use crate::config;
use crate::shutdown::Shutdown;
use crate::simulator;
use crate::webconfig;

mod commands;
mod daemon;
mod demo;
mod listen;
mod planner;

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
            None => daemon::run(&cli).await,
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
