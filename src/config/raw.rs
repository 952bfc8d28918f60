//! The config file as written: `serde` structs mirroring the YAML.
//!
//! Every struct denies unknown fields, so a typo is an error that lists the
//! accepted keys. Every field is optional and every scalar is read as text:
//! required fields, numbers, durations and enums are checked in
//! `validate.rs`, which reports all such problems at once (serde would stop
//! at the first) with messages that say what is accepted.

use std::collections::BTreeMap;

use serde::Deserialize;

pub(crate) use super::alerting::RawAlerting;

/// The whole file.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawConfig {
    pub global: Option<RawGlobal>,
    pub budgets: Option<BTreeMap<String, RawBudget>>,
    pub environments: Option<Vec<RawEnvironment>>,
    pub alerting: Option<RawAlerting>,
}

/// `global:`.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawGlobal {
    pub poll_interval: Option<String>,
    pub rules_interval: Option<String>,
    pub groups_interval: Option<String>,
    pub request_timeout: Option<String>,
    pub max_requests_per_second: Option<String>,
    pub max_concurrent_requests: Option<String>,
}

/// One budget under `budgets:`.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawBudget {
    pub max_requests_per_second: Option<String>,
    pub max_concurrent_requests: Option<String>,
}

/// One item of `environments:`.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawEnvironment {
    pub name: Option<String>,
    pub id: Option<String>,
    pub region: Option<String>,
    pub api_url: Option<String>,
    pub auth_url: Option<String>,
    pub allow_insecure_http: Option<String>,
    pub poll_interval: Option<String>,
    pub rules_interval: Option<String>,
    pub groups_interval: Option<String>,
    pub credentials: Option<RawCredentials>,
    pub rules: Option<RawRules>,
    pub user_detail: Option<RawUserDetail>,
    pub console_url: Option<String>,
    pub budget: Option<String>,
}

/// `credentials:`. Its `Debug` never shows the inline secret.
#[derive(Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawCredentials {
    pub client_id: Option<String>,
    pub client_secret_file: Option<String>,
    pub client_secret_env: Option<String>,
    pub client_secret: Option<String>,
    pub worker_environment_id: Option<String>,
}

impl std::fmt::Debug for RawCredentials {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RawCredentials")
            .field("client_id", &self.client_id)
            .field("client_secret_file", &self.client_secret_file)
            .field("client_secret_env", &self.client_secret_env)
            .field(
                "client_secret",
                &self.client_secret.as_ref().map(|_| "<redacted>"),
            )
            .field("worker_environment_id", &self.worker_environment_id)
            .finish()
    }
}

/// `rules:` name filters.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawRules {
    pub include: Option<String>,
    pub exclude: Option<String>,
}

/// `user_detail:` of an environment.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawUserDetail {
    pub enabled: Option<String>,
    pub interval: Option<String>,
    pub max_requests_per_second: Option<String>,
}
