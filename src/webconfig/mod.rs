//! `--web.config.file`: TLS and basic authentication for the HTTP server,
//! in the exporter-toolkit `web-config.yml` format (`docs/web-config.md`).
//!
//! - [`load`] reads and validates the file and every file it names (TLS
//!   certificate, key, client CA) into a [`WebConfig`], or returns a
//!   [`ConfigError`] in the config file's format (`FILE:LINE:COL: PATH:
//!   MESSAGE`, every problem at once), through the config module's YAML
//!   and position machinery.
//! - [`WebGuard`] holds the configuration in force. Before each new
//!   connection and each request it checks whether the web config file or a
//!   file it names changed (modification time, size, inode: a few `stat`s),
//!   and if so loads it again, so certificates and users rotate without a
//!   restart. A file that no longer loads is logged and the last good
//!   configuration stays. Switching between plain HTTP and TLS needs a
//!   restart.
//! - [`WebGuard::handle`] wraps the router: basic auth on every path
//!   (`/-/healthy` included, as in the toolkit), and the configured
//!   response headers; a request that passed carries [`Authenticated`].
//!
//! Layout: `raw` (the file as written), `validate` (resolution and
//! problems), `tls` (certificates, keys, rustls), `auth` (bcrypt, its
//! cache and queue), `failures` (the failure budget per address),
//! `guard` (change detection and the request wrapper).

mod auth;
mod failures;
mod guard;
mod raw;
mod tls;
mod validate;

use std::path::{Path, PathBuf};
use std::sync::Arc;

use hyper::header::{HeaderName, HeaderValue};

use crate::config::{ConfigError, Context, NodeKind, Problem, Problems, yaml};

pub use auth::{
    Authenticator, CACHE_ENTRIES, CACHE_TTL, MAX_WAIT, QUEUE, Users, Verdict, check_hash,
};
pub use guard::Authenticated;
pub use guard::{WebGuard, guarded};
pub use tls::{ClientAuth, TlsOptions, TlsVersion};

/// A validated web configuration.
#[derive(Clone, Debug)]
pub struct WebConfig {
    /// TLS, when `tls_server_config` is set.
    pub tls: Option<Tls>,
    /// `basic_auth_users`; empty means no authentication.
    pub users: Users,
    /// `http_server_config.headers`, added to every response.
    pub headers: Vec<(HeaderName, HeaderValue)>,
    /// The TLS files read, resolved against the web config's directory.
    pub files: Vec<PathBuf>,
    /// Accepted but ineffective settings (`http2: true`); the caller logs them.
    pub warnings: Vec<Problem>,
}

/// The TLS side of a [`WebConfig`].
#[derive(Clone)]
pub struct Tls {
    /// The rustls configuration every new connection uses.
    pub server: Arc<rustls::ServerConfig>,
    /// What it was built from.
    pub options: TlsOptions,
}

impl std::fmt::Debug for Tls {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // The ServerConfig holds the private key: show only the options.
        f.debug_struct("Tls")
            .field("options", &self.options)
            .finish()
    }
}

impl WebConfig {
    /// One line for logs: `TLS (TLS12-TLS13, client certificates
    /// required), basic auth (2 users)`.
    pub fn summary(&self) -> String {
        let mut parts = Vec::new();
        match &self.tls {
            None => parts.push("plain HTTP".to_string()),
            Some(t) => {
                let clients = match t.options.client_auth {
                    ClientAuth::None => "",
                    ClientAuth::VerifyIfGiven => ", client certificates verified if given",
                    ClientAuth::RequireAndVerify => ", client certificates required",
                };
                parts.push(format!(
                    "TLS ({}-{}{clients})",
                    t.options.min_version.name(),
                    t.options.max_version.name()
                ));
            }
        }
        if !self.users.is_empty() {
            parts.push(format!("basic auth ({} users)", self.users.len()));
        }
        parts.join(", ")
    }
}

/// Loads and validates the web config file at `path` (named in problems as
/// given). Relative file names inside it are relative to its directory, as
/// in the exporter toolkit.
pub fn load(path: &Path) -> Result<WebConfig, ConfigError> {
    let file = path.display().to_string();
    let source = std::fs::read_to_string(path).map_err(|e| {
        ConfigError::whole_file(&file, None, format!("cannot read the web config file: {e}"))
    })?;
    load_str(&source, &file)
}

/// Validates web config text; `file` names it in problems and is the base
/// for relative file names.
pub fn load_str(source: &str, file: &str) -> Result<WebConfig, ConfigError> {
    let index = yaml::index(source, file)?;
    match index.get("").map(|e| (e.kind, e.value)) {
        Some((NodeKind::Mapping | NodeKind::Null, _)) | None => {}
        Some((kind, position)) => {
            return Err(ConfigError::whole_file(
                file,
                Some(position),
                format!(
                    "expected a mapping with the keys tls_server_config, http_server_config, \
                     basic_auth_users, found {}",
                    kind.describe()
                ),
            ));
        }
    }
    // An empty file is a valid web config that changes nothing (as in the toolkit).
    let raw: raw::RawWebConfig = if index.get("").is_none_or(|e| e.kind == NodeKind::Null) {
        raw::RawWebConfig::default()
    } else {
        yaml::typed(source, file, &index)?
    };
    let no_env = |_: &str| None;
    let mut ctx = Context {
        index: &index,
        problems: Problems::new(file),
        warnings: Problems::new(file),
        base_dir: Path::new(file).parent().unwrap_or(Path::new("")),
        env: &no_env,
    };
    let config = validate::validate(raw, &mut ctx);
    match config {
        Some(mut c) if ctx.problems.is_empty() => {
            c.warnings = ctx.warnings.into_sorted();
            Ok(c)
        }
        _ => Err(ConfigError {
            problems: ctx.problems.into_sorted(),
        }),
    }
}
