//! The result of one environment's poll: per-rule sync summaries, immutable
//! once built. The poller swaps a whole new snapshot in after each poll, so
//! a scrape never sees half of one poll and half of another.
//!
//! Also the environment's identity ([`EnvKey`]), which every layer above
//! (client, poller, self-metrics, collector, alerting) labels its data with.

use std::sync::Arc;

/// Identifies an environment in metric labels.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct EnvKey {
    /// `environment_id` label.
    pub id: Arc<str>,
    /// `environment_name` label.
    pub name: Arc<str>,
}

impl EnvKey {
    /// A key from id and name.
    pub fn new(id: &str, name: &str) -> Self {
        Self {
            id: id.into(),
            name: name.into(),
        }
    }
}

/// Direction of a rule (docs/metrics.md, "Per-rule metrics").
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Direction {
    /// PingOne directory to an external store.
    Outbound,
    /// An external source into PingOne.
    Inbound,
    /// PingOne back to the source of an inbound rule (`parentRule` set).
    Writeback,
}

impl Direction {
    /// The `direction` label value.
    pub fn as_str(self) -> &'static str {
        match self {
            Direction::Outbound => "outbound",
            Direction::Inbound => "inbound",
            Direction::Writeback => "writeback",
        }
    }
}

/// The `status` state of `pingone_provisioning_rule_status`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum RuleStatus {
    /// Enabled and its connection store is not `FAILED`.
    Active,
    /// Disabled and its connection store is not `FAILED`.
    Inactive,
    /// The connection store's `syncState` is `FAILED`.
    Failed,
}

impl RuleStatus {
    /// Every state, in exposition order.
    pub const ALL: [RuleStatus; 3] = [RuleStatus::Active, RuleStatus::Inactive, RuleStatus::Failed];

    /// The `status` label value.
    pub fn as_str(self) -> &'static str {
        match self {
            RuleStatus::Active => "active",
            RuleStatus::Inactive => "inactive",
            RuleStatus::Failed => "failed",
        }
    }
}

/// Per-state counts of users (user-detail mode) or groups. Only the two
/// documented status spellings have a state (`SUCCESS`, `FAILED`); entries
/// with any other or no status are impacted but in no state. `None` means
/// there is no count for that state: the series is absent, never a made-up 0.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct StateCounts {
    /// Entries whose status is `SUCCESS`.
    pub success: Option<u64>,
    /// Entries whose status is `FAILED`.
    pub failed: Option<u64>,
}

impl StateCounts {
    /// `(state label, count)` pairs in exposition order.
    pub fn labelled(&self) -> [(&'static str, Option<u64>); 2] {
        [("success", self.success), ("failed", self.failed)]
    }
}

/// Synchronization events of a connection store since the latest revision
/// (`syncStatus.successCount`, `failedCount`, `failedDeprovisionCount`):
/// counts of sync attempts, not of users. They only grow between revisions
/// and a revision resets them. Filled on the store's owner rule only, so a
/// sum over rules counts each store once; `None` when PingOne gave no value.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct SyncEvents {
    /// Successful sync events (`successCount`).
    pub success: Option<u64>,
    /// Failed sync events (`failedCount`).
    pub failure: Option<u64>,
    /// Failed deprovisioning events (`failedDeprovisionCount`).
    pub failed_deprovision: Option<u64>,
}

/// A connection store's documented `status`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum StoreStatus {
    /// `ACTIVE`.
    Active,
    /// `INACTIVE`.
    Inactive,
}

impl StoreStatus {
    /// Every state, in exposition order.
    pub const ALL: [StoreStatus; 2] = [StoreStatus::Active, StoreStatus::Inactive];

    /// The documented spelling's state; `None` for any other spelling.
    pub fn from_api(value: &str) -> Option<Self> {
        match value {
            "ACTIVE" => Some(StoreStatus::Active),
            "INACTIVE" => Some(StoreStatus::Inactive),
            _ => None,
        }
    }

    /// The `status` label value.
    pub fn as_str(self) -> &'static str {
        match self {
            StoreStatus::Active => "active",
            StoreStatus::Inactive => "inactive",
        }
    }
}

/// A store as named on a rule: name and type, empty when unknown.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct StoreInfo {
    /// Store id.
    pub id: String,
    /// Store name, or empty.
    pub name: String,
    /// Store type (`scim`, `Workday`, ...), or empty.
    pub kind: String,
}

/// A user whose record for a rule is `FAILED`, as the last user-detail walk
/// read it. Never a metric label: shown on the status page only.
#[derive(Clone, Debug, PartialEq)]
pub struct FailedUser {
    /// The user's id.
    pub user_id: String,
    /// The record's `lastSyncAt`, Unix seconds.
    pub last_sync: Option<f64>,
    /// The record's `details`, cleaned and scrubbed; `None` when empty.
    pub details: Option<String>,
}

/// The sync summary of one rule, as the console shows it.
#[derive(Clone, Debug, PartialEq)]
pub struct RuleSummary {
    /// Rule id.
    pub id: String,
    /// Rule name.
    pub name: String,
    /// Outbound, inbound or write-back.
    pub direction: Direction,
    /// Source store.
    pub source: StoreInfo,
    /// Target store.
    pub target: StoreInfo,
    /// Parent rule id for write-back rules, else empty.
    pub parent_rule_id: String,
    /// The rule's `active` flag, when given.
    pub enabled: Option<bool>,
    /// Active / inactive / failed, when derivable.
    pub status: Option<RuleStatus>,
    /// Users targeted by the rule.
    pub users_impacted: Option<u64>,
    /// Users per sync state: counted by user-detail mode only (`None`
    /// states otherwise; a store's counts are events, not users).
    pub users: StateCounts,
    /// Groups targeted by the rule.
    pub groups_impacted: Option<u64>,
    /// Groups per sync state.
    pub groups: StateCounts,
    /// Users not updated by write-back.
    pub writeback_failures: Option<u64>,
    /// The connection store's sync events (on the store's owner only).
    pub events: SyncEvents,
    /// The connection store's `status`, on every rule using the store.
    pub store_status: Option<StoreStatus>,
    /// The connection store's `syncStatus.details`, cleaned and scrubbed
    /// ([`crate::redact::clean_details`]); `None` when empty.
    pub sync_error: Option<String>,
    /// Unix time of the first poll of the current failing spell, as
    /// observed by this exporter process; `None` when not failing.
    pub failing_since: Option<f64>,
    /// Polls in a row that saw the rule failing (0 when the latest did
    /// not); `None` when the rule's connection store has no `syncStatus`.
    /// The mapping sets 0 for every rule with one; the poller's failing
    /// tracker (`poller::FailingTracker`) fills in what it observed.
    pub failing_polls: Option<u64>,
    /// Last sync, Unix seconds.
    pub last_sync: Option<f64>,
    /// Last poll of an inbound source, Unix seconds.
    pub last_poll: Option<f64>,
    /// Last write-back, Unix seconds.
    pub last_writeback: Option<f64>,
    /// Users whose record is `FAILED` (user-detail mode only; empty
    /// otherwise): at most the walk's cap, the smallest user ids;
    /// `users.failed` says how many there are in all.
    pub failed_users: Vec<FailedUser>,
}

/// One environment's poll result.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct EnvSnapshot {
    /// Exported rules (after the include/exclude filter), in API order.
    pub rules: Vec<RuleSummary>,
    /// `createdAt` of the latest revision, Unix seconds.
    pub revision_created: Option<f64>,
    /// When the user-detail walk merged into this snapshot finished, Unix
    /// seconds; `None` when no walk data is merged.
    pub user_detail_finished: Option<f64>,
    /// Requests the merged walk took (users list pages plus one record
    /// read per user and walked rule): the walk's size for the request
    /// plan; `None` when no walk data is merged.
    pub user_detail_walk_requests: Option<u64>,
}
