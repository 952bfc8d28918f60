//! The YAML configuration file: its resolved model, loading and validation.
//!
//! [`load`] reads the file, validates every field and returns the resolved
//! [`Config`] (defaults filled in, region URLs resolved, secrets read), or a
//! [`ConfigError`] listing every problem in file order, each as
//! `FILE:LINE:COL: PATH: MESSAGE`. `docs/configuration.md` describes the
//! format and every rule.
//!
//! Layout:
//! - `yaml`: parsing entry points and error wording (the simulator uses it
//!   for its scenario files too);
//! - `tree`, `positions`: the span tree of a document and its field path →
//!   line and column index;
//! - `raw`: the file as written (serde structs);
//! - `load`: the entry points;
//! - `validate`, `context`, `environment`, `budgets`, `secrets`, `checks`:
//!   resolution of `raw` into this model, collecting every problem;
//! - `duration` (Prometheus durations), `problem` (the error types),
//!   `summary` ([`Config::summary`]).

pub mod duration;
pub mod yaml;

mod alerting;
mod budgets;
mod checks;
mod context;
mod environment;
mod load;
mod positions;
mod problem;
mod raw;
mod secrets;
mod summary;
mod tree;
mod validate;

use std::time::Duration;

use crate::secret::Secret;

pub use alerting::{
    AlertConditions, Alerting, AlertmanagerAuth, AlertmanagerTls, ClientCert, Condition, PemFile,
    SyncFailingParams, SyncStaleThresholds,
};
pub use load::{load, load_str, load_with};
pub use problem::{ConfigError, Problem};

// The web config (`crate::webconfig`) is another YAML file with the same
// error format: it reuses the position index, the validation context and
// the problem wording.
pub(crate) use checks::boolean;
pub(crate) use context::Context;
pub(crate) use positions::{NodeKind, join_key};
pub(crate) use problem::{Problems, quote};

/// The validated, resolved configuration. Defaults are filled in and every
/// URL is resolved, so consumers never re-derive anything.
#[derive(Clone, Debug)]
pub struct Config {
    /// Settings shared by all environments.
    pub global: Global,
    /// The named request budgets: [`BudgetSettings::DEFAULT`] (from
    /// `global.max_requests_per_second` and `max_concurrent_requests`)
    /// first, then those under `budgets:` by name. Names are unique and
    /// every environment's [`Environment::budget`] is one of them.
    pub budgets: Vec<BudgetSettings>,
    /// The monitored environments, in file order; names and ids are unique.
    pub environments: Vec<Environment>,
    /// The built-in alert sender, when configured.
    pub alerting: Option<Alerting>,
    /// Things that are accepted but discouraged (e.g. an inline client
    /// secret), in file order. The caller logs them; they never contain a
    /// secret. Empty for a config built in code.
    pub warnings: Vec<Problem>,
}

/// `global:` settings.
#[derive(Clone, Debug, PartialEq)]
pub struct Global {
    /// Default time between two polls of one environment (>= 10 s,
    /// > `request_timeout`). Default 60 s.
    pub poll_interval: Duration,
    /// Timeout of one HTTP request to PingOne, connect to last body byte
    /// (> 0, < `poll_interval`). Default 10 s.
    pub request_timeout: Duration,
    /// Default time between two reads of an environment's rules and latest
    /// revision (>= `poll_interval`). Default max(5 min, `poll_interval`).
    pub rules_interval: Duration,
    /// Default time between two reads of every enabled rule's
    /// `syncedGroups` (>= `poll_interval`). Default max(15 min,
    /// `poll_interval`).
    pub groups_interval: Duration,
    /// The rate of the budget named `default` ([`BudgetSettings::DEFAULT`]),
    /// which every environment without a `budget:` of its own shares
    /// (requests per second, finite, > 0; fractions allowed). Default 10.
    pub max_requests_per_second: f64,
    /// Requests in flight at once on the `default` budget (>= 1). Default 4.
    pub max_concurrent_requests: usize,
}

/// One named client-side request budget: PingOne limits requests per
/// licence, so the environments of one licence share one budget
/// (docs/configuration.md, "Request budgets").
#[derive(Clone, Debug, PartialEq)]
pub struct BudgetSettings {
    /// The name environments refer to: 1 to 64 of `A-Za-z0-9_.-`.
    pub name: String,
    /// Request starts per second, evenly spaced (finite, > 0; fractions
    /// allowed). Retries, token requests and user-detail walks count.
    pub max_requests_per_second: f64,
    /// Requests in flight at once across the budget's environments (>= 1).
    pub max_concurrent_requests: usize,
}

impl BudgetSettings {
    /// The name of the budget built from `global:`, used by every
    /// environment that names none. It cannot be redefined under `budgets:`.
    pub const DEFAULT: &'static str = "default";

    /// The `default` budget of `global`.
    pub fn default_for(global: &Global) -> Self {
        Self {
            name: Self::DEFAULT.to_string(),
            max_requests_per_second: global.max_requests_per_second,
            max_concurrent_requests: global.max_concurrent_requests,
        }
    }
}

impl Global {
    /// The smallest accepted poll interval, global or per environment.
    pub const MIN_POLL_INTERVAL: Duration = Duration::from_secs(10);
    /// `rules_interval` when the file leaves it out, unless the poll
    /// interval is longer.
    pub const DEFAULT_RULES_INTERVAL: Duration = Duration::from_secs(300);
    /// `groups_interval` when the file leaves it out, unless the poll
    /// interval is longer.
    pub const DEFAULT_GROUPS_INTERVAL: Duration = Duration::from_secs(900);
}

impl Default for Global {
    /// The defaults used for keys the file leaves out.
    fn default() -> Self {
        Self {
            poll_interval: Duration::from_secs(60),
            request_timeout: Duration::from_secs(10),
            rules_interval: Self::DEFAULT_RULES_INTERVAL,
            groups_interval: Self::DEFAULT_GROUPS_INTERVAL,
            max_requests_per_second: 10.0,
            max_concurrent_requests: 4,
        }
    }
}

/// One monitored PingOne environment.
#[derive(Clone, Debug)]
pub struct Environment {
    /// Friendly name, the `environment_name` label. Unique, non-empty, no
    /// control characters.
    pub name: String,
    /// The monitored environment's id, the `environment_id` label: a UUID
    /// in lower case. Unique.
    pub id: String,
    /// The region the environment lives in.
    pub region: Region,
    /// API base, e.g. `https://api.pingone.eu/v1`: `api_url` from the file
    /// or the region's default; http(s), no trailing slash.
    pub api_url: String,
    /// Auth base, e.g. `https://auth.pingone.eu`: `auth_url` from the file
    /// or the region's default; http(s), no trailing slash.
    pub auth_url: String,
    /// Worker-app credentials.
    pub credentials: Credentials,
    /// Which rules to export, by name.
    pub rules: RuleFilter,
    /// Time between two polls of this environment (the environment's
    /// `poll_interval` or the global one; >= 10 s). Each poll reads the
    /// stores, the failure signal.
    pub poll_interval: Duration,
    /// Time between two reads of the rules and the latest revision (the
    /// environment's `rules_interval`, else the global one raised to
    /// `poll_interval`; >= `poll_interval`).
    pub rules_interval: Duration,
    /// Time between two reads of every enabled rule's `syncedGroups` (the
    /// environment's `groups_interval`, else the global one raised to
    /// `poll_interval`; >= `poll_interval`).
    pub groups_interval: Duration,
    /// User-detail mode (docs/metrics.md), `None` when off (the default).
    pub user_detail: Option<UserDetailSettings>,
    /// The admin-console link of the status page, when the file overrides
    /// the region's documented one ([`Region::console_url`]).
    pub console_url: Option<String>,
    /// The name of the request budget this environment's requests spend
    /// from (one of [`Config::budgets`]); [`BudgetSettings::DEFAULT`] when
    /// the file names none.
    pub budget: String,
}

/// `user_detail:` of an environment: the opt-in walk of every rule's users
/// through the per-user `syncedRules` endpoint, on its own cadence, with a
/// cap on its share of the environment's request budget.
#[derive(Clone, Debug, PartialEq)]
pub struct UserDetailSettings {
    /// Time from the start of one walk to the start of the next (>= 1 min);
    /// a walk that takes longer is followed by the next at once, never
    /// overlapped. Default 1 h.
    pub interval: Duration,
    /// The most requests per second the walk may take (finite, > 0): a cap
    /// within the environment's budget, whose requests the walk's also
    /// spend, so that the walk leaves the rest of the budget to the polls.
    /// Default 2.
    pub max_requests_per_second: f64,
}

impl UserDetailSettings {
    /// The smallest accepted `interval`.
    pub const MIN_INTERVAL: Duration = Duration::from_secs(60);
}

impl Default for UserDetailSettings {
    /// The defaults used for keys the file leaves out.
    fn default() -> Self {
        Self {
            interval: Duration::from_secs(3600),
            max_requests_per_second: 2.0,
        }
    }
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

    /// The environment's admin-console sign-on URL as PingOne documents
    /// it, `https://console.pingone.<tld>/?env=<environment id>`
    /// (docs/pingone-api.md, "Regions and hosts").
    pub fn console_url(self, environment_id: &str) -> String {
        format!(
            "https://console.pingone.{}/?env={environment_id}",
            self.as_str()
        )
    }
}

/// Worker-app credentials for one environment.
#[derive(Clone, Debug)]
pub struct Credentials {
    /// The worker app's client id (not a secret).
    pub client_id: String,
    /// The client secret, read from its one configured source at load
    /// time, surrounding whitespace trimmed; never empty.
    pub client_secret: Secret,
    /// Where the secret came from, for messages that must not show it.
    pub secret_source: SecretSource,
    /// Environment the worker app lives in (a lower-case UUID): the token
    /// path uses it. Defaults to the monitored environment's id.
    pub worker_environment_id: String,
}

/// The one configured source of a client secret.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum SecretSource {
    /// `client_secret_file: PATH`, the path as read (relative paths joined
    /// to the config file's directory).
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
