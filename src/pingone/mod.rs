//! A client for the documented PingOne Platform API endpoints the exporter
//! reads (see `docs/pingone-api.md`).
//!
//! - [`Client`] is shared by all environments: the HTTP connection pool,
//!   timeouts and size caps.
//! - [`budgets::Budgets`] holds the named request budgets ([`budget::Budget`]
//!   each); environments of one PingOne licence share one.
//! - [`EnvClient`] is one environment's view: its URLs, its [`Lane`] (its
//!   budget and share of the budget's concurrency), the token cache of its
//!   credential (shared with every environment using the same one), and
//!   one method per endpoint.
//!
//! Every call goes through the environment's budget, is counted in the
//! self-metrics, and is retried per PingOne's guidance ([`retry`]).

pub mod auth;
pub mod budget;
pub mod budgets;
mod client;
mod env;
mod error;
pub mod fields;
pub mod hal;
pub mod model;
pub mod retry;

pub use client::{Client, ClientSettings, Lane};
pub use env::EnvClient;
pub(crate) use env::encode_segment;
pub use error::ApiError;

use std::fmt;

/// The API calls the exporter makes, used as the `endpoint` label.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Endpoint {
    /// `POST {auth}/{envId}/as/token`.
    Token,
    /// `GET .../propagation/plans`.
    Plans,
    /// `GET .../propagation/stores`.
    Stores,
    /// `GET .../propagation/rules`.
    Rules,
    /// `GET .../propagation/rules/{id}/syncedGroups`.
    SyncedGroups,
    /// `GET .../propagation/revisions/id:latest`.
    LatestRevision,
    /// `POST .../propagation/revisions`.
    CreateRevision,
    /// `GET .../users`.
    Users,
    /// `GET .../users/{id}/syncedRules/{ruleId}`.
    UserSyncedRule,
}

impl Endpoint {
    /// False for calls that change something at PingOne (creating a
    /// revision starts a resync): those are not repeated after an answer
    /// that leaves open whether they happened.
    pub fn is_idempotent(self) -> bool {
        !matches!(self, Endpoint::CreateRevision)
    }

    /// Who goes first when the request budget is short: the failure
    /// signal (stores, and the token and resync it needs) before the
    /// structure (rules, latest revision) before bulk detail (groups,
    /// users).
    pub fn priority(self) -> budget::Priority {
        use budget::Priority;
        match self {
            Endpoint::Token | Endpoint::Stores | Endpoint::CreateRevision => Priority::Signal,
            Endpoint::Plans | Endpoint::Rules | Endpoint::LatestRevision => Priority::Structure,
            Endpoint::SyncedGroups | Endpoint::Users | Endpoint::UserSyncedRule => Priority::Bulk,
        }
    }

    /// The label value.
    pub fn as_str(self) -> &'static str {
        match self {
            Endpoint::Token => "token",
            Endpoint::Plans => "plans",
            Endpoint::Stores => "stores",
            Endpoint::Rules => "rules",
            Endpoint::SyncedGroups => "synced_groups",
            Endpoint::LatestRevision => "revision_latest",
            Endpoint::CreateRevision => "revision_create",
            Endpoint::Users => "users",
            Endpoint::UserSyncedRule => "user_synced_rule",
        }
    }
}

impl fmt::Display for Endpoint {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}
