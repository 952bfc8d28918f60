//! `pingone-sync-exporter healthcheck`: one GET of the daemon's
//! `/-/healthy`, exit 0 on `200`, else 1. It is the container image's
//! `HEALTHCHECK` (the distroless base has no shell or curl), and works for
//! any probe that can run a command.
//!
//! HTTPS is verified against the system roots, `--ca-file`, or not at all
//! with `--insecure-skip-verify`; `--cert-file`/`--key-file` present a client
//! certificate; `--username`/`--password-file` send basic auth when the
//! endpoint is protected by `--web.config.file`. The password comes only
//! from a file and is never printed.

use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::Duration;

/// `healthcheck` flags. Each can also come from a
/// `PINGONE_SYNC_EXPORTER_HEALTHCHECK_...` variable.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// URL to GET; healthy when it answers 200.
    #[arg(
        long,
        env = "PINGONE_SYNC_EXPORTER_HEALTHCHECK_URL",
        default_value = "http://127.0.0.1:9871/-/healthy"
    )]
    pub url: String,
    /// Give up after this long (`3s`, `500ms`): connect, TLS and answer.
    #[arg(long, env = "PINGONE_SYNC_EXPORTER_HEALTHCHECK_TIMEOUT", default_value = "3s", value_parser = parse_timeout)]
    pub timeout: Duration,
    /// HTTPS: do not verify the server's certificate (a self-signed one).
    #[arg(long, env = "PINGONE_SYNC_EXPORTER_HEALTHCHECK_INSECURE_SKIP_VERIFY")]
    pub insecure_skip_verify: bool,
    /// HTTPS: PEM CA certificates to verify the server's certificate with.
    #[arg(long, env = "PINGONE_SYNC_EXPORTER_HEALTHCHECK_CA_FILE")]
    pub ca_file: Option<PathBuf>,
    /// HTTPS: PEM client certificate to present (with --key-file).
    #[arg(
        long,
        env = "PINGONE_SYNC_EXPORTER_HEALTHCHECK_CERT_FILE",
        requires = "key_file"
    )]
    pub cert_file: Option<PathBuf>,
    /// HTTPS: PEM private key of --cert-file.
    #[arg(
        long,
        env = "PINGONE_SYNC_EXPORTER_HEALTHCHECK_KEY_FILE",
        requires = "cert_file"
    )]
    pub key_file: Option<PathBuf>,
    /// Basic auth user name (with --password-file).
    #[arg(
        long,
        env = "PINGONE_SYNC_EXPORTER_HEALTHCHECK_USERNAME",
        requires = "password_file"
    )]
    pub username: Option<String>,
    /// File holding the basic auth password (one line).
    #[arg(
        long,
        env = "PINGONE_SYNC_EXPORTER_HEALTHCHECK_PASSWORD_FILE",
        requires = "username"
    )]
    pub password_file: Option<PathBuf>,
}

/// Why the check could not be made (the endpoint's answer is not an error).
#[derive(Debug, thiserror::Error)]
pub enum CheckError {
    /// A file named by a flag could not be read or used.
    #[error("{what} {path}: {reason}")]
    File {
        /// Which flag's file.
        what: &'static str,
        /// The path given.
        path: String,
        /// What went wrong (never the content).
        reason: String,
    },
    /// The HTTP client could not be built.
    #[error("building the HTTP client: {0}")]
    Client(#[from] reqwest::Error),
}

fn read(what: &'static str, path: &Path) -> Result<Vec<u8>, CheckError> {
    std::fs::read(path).map_err(|e| CheckError::File {
        what,
        path: path.display().to_string(),
        reason: e.to_string(),
    })
}

fn client(args: &Args) -> Result<reqwest::Client, CheckError> {
    crate::outbound::install_crypto_provider();
    let mut b = reqwest::Client::builder()
        .user_agent(concat!(
            "pingone-sync-exporter-healthcheck/",
            env!("CARGO_PKG_VERSION")
        ))
        .timeout(args.timeout)
        .connect_timeout(args.timeout)
        .redirect(reqwest::redirect::Policy::none())
        .no_proxy();
    if let Some(path) = &args.ca_file {
        let pem = read("--ca-file", path)?;
        let certs = reqwest::Certificate::from_pem_bundle(&pem).map_err(|e| CheckError::File {
            what: "--ca-file",
            path: path.display().to_string(),
            reason: format!("not PEM certificates: {e}"),
        })?;
        for cert in certs {
            b = b.add_root_certificate(cert);
        }
    }
    if let (Some(cert), Some(key)) = (&args.cert_file, &args.key_file) {
        let mut pem = read("--cert-file", cert)?;
        pem.push(b'\n');
        pem.extend(read("--key-file", key)?);
        let identity = reqwest::Identity::from_pem(&pem).map_err(|_| CheckError::File {
            what: "--key-file",
            path: key.display().to_string(),
            reason: "--cert-file and --key-file are not a PEM certificate and its private key"
                .to_string(),
        })?;
        b = b.identity(identity);
    }
    if args.insecure_skip_verify {
        b = b.danger_accept_invalid_certs(true);
    }
    Ok(b.build()?)
}

fn password(path: &Path) -> Result<crate::secret::Secret, CheckError> {
    let bytes = read("--password-file", path)?;
    let text = String::from_utf8(bytes).map_err(|_| CheckError::File {
        what: "--password-file",
        path: path.display().to_string(),
        reason: "not UTF-8 text".to_string(),
    })?;
    Ok(crate::secret::Secret::new(
        text.trim_end_matches(['\r', '\n']),
    ))
}

/// Runs the check: `Ok(true)` when the URL answered 200. Prints one line:
/// the outcome on stdout, or why it is unhealthy on stderr.
pub async fn check(args: &Args) -> Result<bool, CheckError> {
    let client = client(args)?;
    let mut req = client.get(&args.url);
    if let (Some(user), Some(path)) = (&args.username, &args.password_file) {
        req = req.basic_auth(user, Some(password(path)?.expose()));
    }
    match req.send().await {
        Ok(resp) if resp.status() == reqwest::StatusCode::OK => {
            println!("healthy: {} answered {}", args.url, resp.status());
            Ok(true)
        }
        Ok(resp) => {
            eprintln!("unhealthy: {} answered {}", args.url, resp.status());
            Ok(false)
        }
        Err(e) => {
            eprintln!(
                "unhealthy: {}: {}",
                args.url,
                crate::outbound::error_chain(&e)
            );
            Ok(false)
        }
    }
}

/// The subcommand: exit 0 when healthy, 1 otherwise (including when the
/// check could not be made).
pub async fn run(args: &Args) -> ExitCode {
    match check(args).await {
        Ok(true) => ExitCode::SUCCESS,
        Ok(false) => ExitCode::FAILURE,
        Err(e) => {
            eprintln!("unhealthy: cannot check: {e}");
            ExitCode::FAILURE
        }
    }
}

/// A positive Prometheus-style duration.
fn parse_timeout(text: &str) -> Result<Duration, String> {
    match crate::config::duration::parse_duration(text)? {
        d if d.is_zero() => Err("must be greater than 0".into()),
        d => Ok(d),
    }
}
