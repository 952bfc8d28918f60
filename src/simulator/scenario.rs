//! Scenario files: the YAML that describes a simulated PingOne tenant.
//!
//! A scenario names the environments, their stores, rules, users and groups,
//! the per-rule sync outcome rates, the clock and the API clients. The full
//! reference is `docs/simulator.md`; [`Scenario::demo`] is the built-in
//! scenario behind `--demo` (`src/simulator/demo.yml`, copied verbatim to
//! `tests/fixtures/scenarios/demo.yml`).
//!
//! Parsing only checks shapes; [`Scenario::validate`] builds the tenant once
//! to check every reference, so a scenario that loads also starts.

use std::path::Path;
use std::time::Duration;

use serde::{Deserialize, Deserializer};

use super::SimError;
use super::faults::FaultRule;

/// The built-in demo scenario, as YAML.
const DEMO_YAML: &str = include_str!("demo.yml");

/// A simulated tenant: see `docs/simulator.md` for every field.
#[derive(Clone, Debug, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Scenario {
    /// Seed of every pseudo-random choice: ids, populations, sync outcomes.
    #[serde(default = "default_seed")]
    pub seed: u64,
    /// How time moves.
    #[serde(default)]
    pub clock: ClockMode,
    /// Time between two ticks (a Prometheus duration: `5s`, `250ms`, `1m`).
    #[serde(default = "default_tick", deserialize_with = "de_duration")]
    pub tick: Duration,
    /// RFC 3339 time of tick 0 with the manual clock (default `2026-01-01T00:00:00Z`).
    #[serde(default)]
    pub start_time: Option<String>,
    /// Ticks run before the listener opens, so there is data at once.
    #[serde(default = "default_warmup")]
    pub warmup_ticks: u32,
    /// Lifetime of an access token (`expires_in`).
    #[serde(default = "default_token_lifetime", deserialize_with = "de_duration")]
    pub token_lifetime: Duration,
    /// API clients; when empty, the demo client may read every environment.
    #[serde(default)]
    pub clients: Vec<ClientSpec>,
    /// Environments described one by one.
    #[serde(default)]
    pub environments: Vec<EnvironmentSpec>,
    /// Synthetic environments appended after `environments` (benchmarks).
    #[serde(default)]
    pub generate: Option<GenerateSpec>,
    /// Prefix of every access token issued (letters, digits, `-._~`; at
    /// most 64), so leak tests can recognise tokens.
    #[serde(default)]
    pub token_prefix: String,
    /// Fault rules in force from start-up (`docs/simulator.md`).
    #[serde(default)]
    pub faults: Vec<FaultRule>,
}

/// `clock:` of a scenario.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ClockMode {
    /// Ticks every `tick` of wall time; timestamps are the wall time.
    #[default]
    Real,
    /// Ticks only on `POST /_sim/advance`; time is `start_time + ticks × tick`.
    Manual,
}

/// One API client (a worker app).
#[derive(Clone, Debug, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ClientSpec {
    /// `client_id`.
    pub client_id: String,
    /// `client_secret`.
    pub client_secret: String,
    /// Id or name of the environment the app lives in (the token path);
    /// default: the first environment.
    #[serde(default)]
    pub environment_id: Option<String>,
    /// Ids or names of the environments it may read; default: all.
    #[serde(default)]
    pub environments: Option<Vec<String>>,
}

/// One environment.
#[derive(Clone, Debug, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct EnvironmentSpec {
    /// Environment name.
    pub name: String,
    /// Explicit id; default: derived from the seed.
    #[serde(default)]
    pub id: Option<String>,
    /// Number of users in the environment.
    #[serde(default = "default_users")]
    pub users: u32,
    /// Number of groups in the environment.
    #[serde(default = "default_groups")]
    pub groups: u32,
    /// Propagation stores.
    #[serde(default)]
    pub stores: Vec<StoreSpec>,
    /// Propagation rules.
    #[serde(default)]
    pub rules: Vec<RuleSpec>,
}

/// One propagation store.
#[derive(Clone, Debug, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct StoreSpec {
    /// Store name, unique in its environment; rules refer to it.
    pub name: String,
    /// Store `type`: `directory`, `PingOne`, `scim`, `Workday`, ... (open).
    #[serde(rename = "type")]
    pub kind: String,
    /// The connection is down: `syncState` is `FAILED` and every sync fails.
    #[serde(default)]
    pub failing: bool,
}

/// One propagation rule. Its direction follows from its stores: `parent`
/// set ⇒ write-back; target of type `directory`/`PingOne` ⇒ inbound; else
/// outbound (source must be of type `directory`).
#[derive(Clone, Debug, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RuleSpec {
    /// Rule name, unique in its environment.
    pub name: String,
    /// Description; default: "source → target".
    #[serde(default)]
    pub description: Option<String>,
    /// Source store name.
    pub source: String,
    /// Target store name.
    pub target: String,
    /// Name of the inbound rule a write-back rule belongs to.
    #[serde(default)]
    pub parent: Option<String>,
    /// The rule's `active` flag; inactive rules never change.
    #[serde(default = "default_true")]
    pub active: bool,
    /// Fraction of the environment's users in scope (ignored for write-back
    /// rules, whose scope is their parent's).
    #[serde(default = "default_population")]
    pub population: f64,
    /// `populationExpression` served; default: a made-up SCIM filter.
    #[serde(default)]
    pub population_expression: Option<String>,
    /// Number of groups the rule syncs.
    #[serde(default)]
    pub groups: u32,
    /// Sync outcome rates.
    #[serde(default)]
    pub rates: Rates,
    /// Forces the connection store's `syncState` (e.g. `FAILED`).
    #[serde(default)]
    pub sync_state: Option<String>,
    /// Fixed statuses given to the rule's first groups and never changed,
    /// e.g. `[PARTIALLY_SYNCED, SOMETHING_NEW]`, for tolerance tests.
    #[serde(default)]
    pub group_statuses: Vec<String>,
}

/// Per-tick probabilities of one rule. Each must be in `[0, 1]` and
/// `failure + partial + unsynced` at most 1.
#[derive(Clone, Debug, PartialEq, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Rates {
    /// A sync attempt ends `FAILED`.
    pub failure: f64,
    /// A sync attempt ends `PARTIALLY_SYNCED`.
    pub partial: f64,
    /// A sync attempt ends `UNSYNCED`.
    pub unsynced: f64,
    /// A user in scope is re-synced during a tick.
    pub churn: f64,
    /// A synced group is re-synced during a tick.
    pub group_churn: f64,
    /// A group sync ends `FAILED`.
    pub group_failure: f64,
    /// A tick records one failed deprovisioning.
    pub deprovision: f64,
}

impl Default for Rates {
    fn default() -> Self {
        Self {
            failure: 0.01,
            partial: 0.01,
            unsynced: 0.02,
            churn: 0.1,
            group_churn: 0.05,
            group_failure: 0.05,
            deprovision: 0.0,
        }
    }
}

/// Synthetic environments for benchmarks: `environments` × `rules_per_environment`
/// rules cycling through outbound (SCIM, Salesforce, Slack, Zoom, GoogleApps),
/// Workday inbound + write-back and LDAP gateway inbound; every tenth rule inactive.
#[derive(Clone, Debug, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct GenerateSpec {
    /// Number of environments.
    pub environments: u32,
    /// Rules in each environment.
    pub rules_per_environment: u32,
    /// Users in each environment.
    #[serde(default = "default_users")]
    pub users_per_environment: u32,
    /// Groups synced by each rule.
    #[serde(default)]
    pub groups_per_rule: u32,
}

impl Rates {
    /// Each rate in `[0, 1]`, and the outcome rates summing to at most 1.
    pub(crate) fn check(&self) -> Result<(), String> {
        let all = [self.failure, self.partial, self.unsynced, self.churn];
        let more = [self.group_churn, self.group_failure, self.deprovision];
        let bad = all.iter().chain(&more).any(|p| !(0.0..=1.0).contains(p));
        if bad || self.failure + self.partial + self.unsynced > 1.0 {
            return Err(".rates: each in [0, 1], failure + partial + unsynced at most 1".into());
        }
        Ok(())
    }
}

impl Default for Scenario {
    fn default() -> Self {
        Self {
            seed: default_seed(),
            clock: ClockMode::Real,
            tick: default_tick(),
            start_time: None,
            warmup_ticks: default_warmup(),
            token_lifetime: default_token_lifetime(),
            clients: Vec::new(),
            environments: Vec::new(),
            generate: None,
            token_prefix: String::new(),
            faults: Vec::new(),
        }
    }
}

impl Scenario {
    /// The built-in scenario behind `--demo`: two environments, real clock,
    /// 5 s ticks, client [`super::DEMO_CLIENT_ID`] / [`super::DEMO_CLIENT_SECRET`].
    pub fn demo() -> Scenario {
        match Self::from_yaml(DEMO_YAML) {
            Ok(s) => s,
            Err(e) => {
                // Unreachable while the unit test `demo_parses` passes.
                tracing::error!(error = %e, "built-in demo scenario is invalid");
                Scenario::default()
            }
        }
    }

    /// Reads, parses and validates a scenario file.
    pub fn load(path: &Path) -> Result<Scenario, SimError> {
        let text = std::fs::read_to_string(path).map_err(|source| SimError::Read {
            path: path.to_path_buf(),
            source,
        })?;
        Self::parse(&text, &path.display().to_string())
    }

    /// Parses and validates a scenario from YAML text.
    pub fn from_yaml(text: &str) -> Result<Scenario, SimError> {
        Self::parse(text, "<scenario>")
    }

    fn parse(text: &str, file: &str) -> Result<Scenario, SimError> {
        let scenario: Scenario = crate::config::yaml::parse(text, file)?;
        scenario.validate().map_err(|e| match e {
            SimError::Scenario { message, .. } => SimError::Scenario {
                file: file.to_owned(),
                message,
            },
            other => other,
        })?;
        Ok(scenario)
    }

    /// Checks every reference and bound by building the tenant once.
    pub fn validate(&self) -> Result<(), SimError> {
        super::setup::build(self)
            .map(drop)
            .map_err(|message| SimError::Scenario {
                file: "<scenario>".into(),
                message,
            })
    }
}

fn default_seed() -> u64 {
    1
}
fn default_tick() -> Duration {
    Duration::from_secs(5)
}
fn default_warmup() -> u32 {
    3
}
fn default_token_lifetime() -> Duration {
    Duration::from_secs(3600)
}
fn default_users() -> u32 {
    100
}
fn default_groups() -> u32 {
    10
}
fn default_true() -> bool {
    true
}
fn default_population() -> f64 {
    1.0
}

/// Durations as the config file writes them (`crate::config::duration`).
fn de_duration<'de, D: Deserializer<'de>>(d: D) -> Result<Duration, D::Error> {
    let text = String::deserialize(d)?;
    crate::config::duration::parse_duration(&text).map_err(serde::de::Error::custom)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn demo_parses_and_matches_the_fixture() {
        let demo = Scenario::from_yaml(DEMO_YAML).unwrap();
        assert_eq!(demo.environments.len(), 2);
        assert_eq!(demo.clock, ClockMode::Real);
        assert_eq!(Scenario::demo(), demo);
        let fixture = include_str!("../../tests/fixtures/scenarios/demo.yml");
        assert_eq!(
            fixture, DEMO_YAML,
            "tests/fixtures/scenarios/demo.yml must equal src/simulator/demo.yml"
        );
    }

    #[test]
    fn unknown_fields_are_rejected_with_a_position() {
        let err = Scenario::from_yaml("seed: 1\nenvironments:\n  - name: a\n    userz: 3\n")
            .unwrap_err()
            .to_string();
        assert!(err.contains("userz"), "{err}");
    }

    #[test]
    fn bad_duration_is_rejected() {
        let err = Scenario::from_yaml("tick: fast\n").unwrap_err().to_string();
        assert!(err.contains("invalid duration"), "{err}");
    }
}
