//! Dispatch of the one-shot commands (`status`, `dump`, `resync`): load the
//! configuration (its problems on stderr, exit 2), decide on colours, run
//! the command on stdout and stderr, and turn its [`Exit`] into the process
//! exit code.

use std::io::IsTerminal;
use std::process::ExitCode;

use crate::cli::{Cli, Command, OutputFormat};
use crate::commands::{Exit, dump, resync, status};
use crate::config;
use crate::timefmt::now_unix;

/// Colours only on a terminal, and never when `NO_COLOR` is set
/// (<https://no-color.org>: any non-empty value).
fn colour() -> bool {
    std::io::stdout().is_terminal() && std::env::var_os("NO_COLOR").is_none_or(|v| v.is_empty())
}

/// Runs a one-shot command.
pub(super) async fn run(cli: &Cli, command: &Command) -> ExitCode {
    let config = match config::load(&cli.config_file) {
        Ok(c) => c,
        Err(e) => {
            eprintln!("invalid configuration:\n{e}");
            return ExitCode::from(Exit::Error.code());
        }
    };
    for w in &config.warnings {
        eprintln!("warning: {w}");
    }
    let (mut out, mut err) = (std::io::stdout().lock(), std::io::stderr());
    let exit = match command {
        Command::Status {
            output,
            failures,
            plan,
        } => {
            let output = match output {
                OutputFormat::Table => status::Output::Table { colour: colour() },
                OutputFormat::Json => status::Output::Json,
            };
            if *plan {
                let exit = status::plan::run(&config, output, &mut out, &mut err).await;
                return ExitCode::from(exit.code());
            }
            let report = if *failures {
                status::Report::Failures
            } else {
                status::Report::Summary
            };
            status::run(&config, output, report, now_unix, &mut out, &mut err).await
        }
        Command::Dump {
            out: dir,
            environment,
        } => dump::run(&config, dir, environment.as_deref(), &mut out, &mut err).await,
        Command::Resync { environment, yes } => {
            resync::run(&config, environment, *yes, &mut out, &mut err).await
        }
        // Not config-based one-shot commands; `app::main` runs them.
        Command::Simulate { .. } | Command::Healthcheck(_) => Exit::Error,
    };
    ExitCode::from(exit.code())
}
