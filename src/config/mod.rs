//! The YAML configuration file: its resolved model, loading and validation.
//!
//! STUB: the loader and validator are being written; the resolved model
//! below is the interface the rest of the crate uses.

pub mod yaml;

use std::path::Path;
use std::time::Duration;

use crate::secret::Secret;

/// The validated, resolved configuration. Defaults are filled in and every
/// URL is resolved, so consumers never re-derive anything.
#[derive(Clone, Debug)]
pub struct Config {
    /// Settings shared by all environments.
    pub global: Global,
    /// The monitored environments, in file order; names and ids are unique.
    pub environments: Vec<Environment>,
    /// The built-in alert sender, when configured.
    pub alerting: Option<Alerting>,
}

/// `global:` settings.
#[derive(Clone, Debug)]
pub struct Global {
    /// Default time between two polls of one environment (>= 10 s).
    pub poll_interval: Duration,
    /// Timeout of one HTTP request to PingOne, connect to last body byte.
    pub request_timeout: Duration,
    /// Client-side request budget shared by all environments (requests/s, > 0).
    pub max_requests_per_second: f64,
    /// Requests in flight at once across all environments (>= 1).
    pub max_concurrent_requests: usize,
}

/// One monitored PingOne environment.
#[derive(Clone, Debug)]
pub struct Environment {
    /// Friendly name, the `environment_name` label. Unique.
    pub name: String,
    /// The monitored environment's id, the `environment_id` label. Unique.
    pub id: String,
    /// The region the environment lives in.
    pub region: Region,
    /// API base, e.g. `https://api.pingone.eu/v1`; no trailing slash.
    pub api_url: String,
    /// Auth base, e.g. `https://auth.pingone.eu`; no trailing slash.
    pub auth_url: String,
    /// Worker-app credentials.
    pub credentials: Credentials,
    /// Which rules to export, by name.
    pub rules: RuleFilter,
    /// Time between two polls of this environment (global default or override).
    pub poll_interval: Duration,
}

/// A PingOne region and its top-level domain.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Region {
    /// North America, `com`.
    Com,
    /// Europe, `eu`.
    Eu,
    /// Canada, `ca`.
    Ca,
    /// Asia-Pacific, `asia`.
    Asia,
    /// Australia, `com.au`.
    ComAu,
    /// Singapore, `sg`.
    Sg,
}

impl Region {
    /// Every region, in the order error messages list them.
    pub const ALL: [Region; 6] = [
        Region::Com,
        Region::Eu,
        Region::Ca,
        Region::Asia,
        Region::ComAu,
        Region::Sg,
    ];

    /// The region as written in the config file, which is also its TLD.
    pub fn as_str(self) -> &'static str {
        match self {
            Region::Com => "com",
            Region::Eu => "eu",
            Region::Ca => "ca",
            Region::Asia => "asia",
            Region::ComAu => "com.au",
            Region::Sg => "sg",
        }
    }

    /// Parses the config spelling.
    pub fn parse(s: &str) -> Option<Region> {
        Self::ALL.into_iter().find(|r| r.as_str() == s)
    }

    /// Default API base for the region.
    pub fn api_url(self) -> String {
        format!("https://api.pingone.{}/v1", self.as_str())
    }

    /// Default auth base for the region.
    pub fn auth_url(self) -> String {
        format!("https://auth.pingone.{}", self.as_str())
    }
}

/// Worker-app credentials for one environment.
#[derive(Clone, Debug)]
pub struct Credentials {
    /// The worker app's client id (not a secret).
    pub client_id: String,
    /// The client secret, read from its one configured source.
    pub client_secret: Secret,
    /// Where the secret came from, for messages that must not show it.
    pub secret_source: SecretSource,
    /// Environment the worker app lives in: the token path uses it.
    /// Defaults to the monitored environment's id.
    pub worker_environment_id: String,
}

/// The one configured source of a client secret.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum SecretSource {
    /// `client_secret_file: PATH`.
    File(std::path::PathBuf),
    /// `client_secret_env: VAR`.
    Env(String),
    /// `client_secret:` inline (discouraged).
    Inline,
}

/// Rule-name filters: a rule is exported when it matches `include` (if set)
/// and does not match `exclude` (if set). Both are unanchored regexes.
#[derive(Clone, Debug, Default)]
pub struct RuleFilter {
    /// Only rules whose name matches are exported.
    pub include: Option<regex::Regex>,
    /// Rules whose name matches are not exported.
    pub exclude: Option<regex::Regex>,
}

impl RuleFilter {
    /// True when a rule with this name should be exported.
    pub fn matches(&self, name: &str) -> bool {
        self.include.as_ref().is_none_or(|r| r.is_match(name))
            && !self.exclude.as_ref().is_some_and(|r| r.is_match(name))
    }
}

/// `alerting:` settings (built-in alert sender).
#[derive(Clone, Debug, Default)]
pub struct Alerting {
    /// Alertmanager base URLs.
    pub alertmanager_urls: Vec<String>,
}

/// A configuration error: every problem found, each with its place.
#[derive(Debug, thiserror::Error)]
#[error("{}", .problems.iter().map(ToString::to_string).collect::<Vec<_>>().join("\n"))]
pub struct ConfigError {
    /// The problems, in file order.
    pub problems: Vec<Problem>,
}

/// One problem in a config file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Problem {
    /// The file as given on the command line.
    pub file: String,
    /// 1-based line and column, when known.
    pub position: Option<(usize, usize)>,
    /// Field path such as `environments[1].region`; empty for the whole file.
    pub path: String,
    /// What is wrong and what would be accepted.
    pub message: String,
}

impl std::fmt::Display for Problem {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}", self.file)?;
        if let Some((l, c)) = self.position {
            write!(f, ":{l}:{c}")?;
        }
        if !self.path.is_empty() {
            write!(f, ": {}", self.path)?;
        }
        write!(f, ": {}", self.message)
    }
}

/// Loads and validates a config file.
pub fn load(path: &Path) -> Result<Config, ConfigError> {
    let file = path.display().to_string();
    Err(ConfigError {
        problems: vec![Problem {
            file,
            position: None,
            path: String::new(),
            message: "config loading not implemented yet".into(),
        }],
    })
}
