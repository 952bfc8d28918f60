//! `pingone-sync-exporter resync --environment NAME --yes`: trigger a
//! resync of one environment by creating a propagation revision
//! (`POST .../propagation/revisions`), the only documented way. PingOne then
//! resynchronises every rule, user and group of the environment; its store
//! counters restart from the new revision.
//!
//! Opt-in twice: the environment must be named, and without `--yes` the
//! command only says what it would do and exits 2, making no request.

use std::io::Write;

use super::Exit;
use crate::config::Config;
use crate::timefmt::{format_rfc3339, parse_rfc3339};

/// What a resync does, for the refusal and the confirmation.
const EFFECT: &str = "a new propagation revision makes PingOne resynchronise every rule, user and group of the environment, and restarts its sync counters";

/// Runs the command: checks the name, refuses without `yes`, else creates
/// the revision and prints it on `out`. Problems go to `err`.
pub async fn run(
    config: &Config,
    environment: &str,
    yes: bool,
    out: &mut dyn Write,
    err: &mut dyn Write,
) -> Exit {
    let index = match super::find_environment(config, environment) {
        Ok(i) => i,
        Err(e) => {
            let _ = writeln!(err, "resync: {e}");
            return Exit::Error;
        }
    };
    let env = &config.environments[index];
    if !yes {
        let _ = writeln!(
            err,
            "resync: refusing to resync environment {:?} ({}) without --yes: {EFFECT}. Nothing was sent. Run again with --yes to do it.",
            env.name, env.id
        );
        return Exit::Error;
    }
    let client = match super::clients(config) {
        Ok(mut c) => c.swap_remove(index).1,
        Err(e) => {
            let _ = writeln!(err, "resync: {e}");
            return Exit::Error;
        }
    };
    match client.create_revision().await {
        Ok(rev) => {
            let id = rev.id.as_deref().unwrap_or("(no id in the answer)");
            let at = rev
                .created_at
                .as_deref()
                .and_then(parse_rfc3339)
                .map_or_else(
                    || "(no createdAt in the answer)".to_string(),
                    format_rfc3339,
                );
            let written = writeln!(
                out,
                "resync: created propagation revision {id} at {at} in environment {:?} ({}) with POST {}/environments/{}/propagation/revisions; {EFFECT}.",
                env.name, env.id, env.api_url, env.id
            );
            if written.is_err() {
                Exit::Error
            } else {
                Exit::Ok
            }
        }
        Err(e) => {
            let _ = writeln!(
                err,
                "resync: creating a propagation revision in environment {:?} failed: {e}",
                env.name
            );
            Exit::Error
        }
    }
}
