//! The simulated tenant's state: environments with their plan, stores,
//! rules, users and groups, and one sync record per (rule, user in scope)
//! and per (rule, synced group).
//!
//! Plain data. [`super::setup`] builds it from a scenario, [`super::engine`]
//! moves it over time, [`super::counts`] derives what the API serves from it.

use std::collections::HashMap;
use std::time::{SystemTime, UNIX_EPOCH};

use time::OffsetDateTime;
use time::macros::format_description;

use super::scenario::Rates;

/// Milliseconds since the Unix epoch.
pub(crate) type Millis = i64;

/// The whole simulated tenant.
pub(crate) struct Tenant {
    /// Scenario seed; per-tick randomness is derived from it.
    pub seed: u64,
    /// The scenario's timeline.
    pub clock: Clock,
    /// Environments in scenario order.
    pub envs: Vec<Env>,
}

/// The scenario's timeline.
pub(crate) struct Clock {
    /// Manual clock: time is `start_ms + ticks × tick_ms`.
    pub manual: bool,
    /// Length of a tick.
    pub tick_ms: i64,
    /// Time of tick 0. With the real clock it is backdated by the warm-up
    /// ticks, so the warm-up ends at the wall time of start.
    pub start_ms: Millis,
    /// Ticks run so far, warm-up included.
    pub ticks: u64,
    /// Number of warm-up ticks.
    pub warmup: u64,
}

impl Clock {
    /// The time stamped on tick number `n`.
    pub fn tick_time(&self, n: u64) -> Millis {
        if self.manual || n <= self.warmup {
            let offset = i64::try_from(n)
                .unwrap_or(i64::MAX)
                .saturating_mul(self.tick_ms);
            self.start_ms.saturating_add(offset)
        } else {
            wall_ms()
        }
    }

    /// The current time on the timeline.
    pub fn now(&self) -> Millis {
        if self.manual {
            self.tick_time(self.ticks)
        } else {
            wall_ms()
        }
    }
}

/// One PingOne environment.
pub(crate) struct Env {
    pub id: String,
    pub name: String,
    /// The environment's one propagation plan.
    pub plan_id: String,
    /// The administrator who creates revisions (`createdBy`).
    pub admin_id: String,
    pub created_ms: Millis,
    pub users: Vec<User>,
    /// User id → index in `users`.
    pub user_index: HashMap<String, u32>,
    pub groups: Vec<Group>,
    pub stores: Vec<Store>,
    pub rules: Vec<Rule>,
    /// The latest propagation revision.
    pub revision: Revision,
    /// Revisions created through the API since start.
    pub resyncs: u64,
    /// Source of ids created after start (revisions).
    pub ids: fastrand::Rng,
}

impl Env {
    /// The rule with this id.
    pub fn rule(&self, id: &str) -> Option<&Rule> {
        self.rules.iter().find(|r| r.id == id)
    }

    /// Index of the store with this id.
    pub fn store_index(&self, id: &str) -> Option<usize> {
        self.stores.iter().position(|s| s.id == id)
    }
}

/// A propagation revision.
pub(crate) struct Revision {
    pub id: String,
    pub created_ms: Millis,
    pub previous: Option<String>,
}

/// A user, with the personal data a `dump` must scrub.
pub(crate) struct User {
    pub id: String,
    pub username: String,
    pub email: String,
    pub given: String,
    pub family: String,
}

/// A group.
pub(crate) struct Group {
    pub id: String,
    pub name: String,
}

/// A propagation store.
pub(crate) struct Store {
    pub id: String,
    pub name: String,
    /// The store `type`, an open string.
    pub kind: String,
    /// The connection is down.
    pub failing: bool,
    /// Served as `configuration`; holds the fake secrets.
    pub configuration: serde_json::Value,
    /// Every fake secret value inside `configuration`.
    pub secrets: Vec<String>,
    pub created_ms: Millis,
    /// Time of the latest sync through this store; `None` until the first,
    /// and then `syncStatus` is not served.
    pub last_sync_ms: Option<Millis>,
}

/// True for PingOne's own stores (`directory`, `PingOne`); every other
/// store is a connection store.
pub(crate) fn is_pingone_store(kind: &str) -> bool {
    kind == "directory" || kind == "PingOne"
}

/// The direction of a rule.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Direction {
    Outbound,
    Inbound,
    Writeback,
}

impl Direction {
    /// Ground-truth spelling.
    pub fn as_str(self) -> &'static str {
        match self {
            Direction::Outbound => "outbound",
            Direction::Inbound => "inbound",
            Direction::Writeback => "writeback",
        }
    }
}

/// A propagation rule and the sync records of everything it syncs.
pub(crate) struct Rule {
    pub id: String,
    pub name: String,
    pub description: String,
    pub population_expression: String,
    pub direction: Direction,
    /// Index of the source store in the environment.
    pub source: usize,
    /// Index of the target store in the environment.
    pub target: usize,
    /// Id of the inbound rule a write-back rule belongs to.
    pub parent_id: Option<String>,
    pub active: bool,
    pub created_ms: Millis,
    /// Per-rule randomness key, so one rule's evolution does not depend on
    /// which other rules exist.
    pub key: u64,
    pub rates: Rates,
    /// Forced `syncState` of the connection store.
    pub forced_state: Option<String>,
    /// Users in scope, sorted by user index.
    pub members: Vec<Member>,
    /// Groups synced by the rule.
    pub groups: Vec<GroupSync>,
    /// Sync events through the rule since the latest revision; they feed
    /// the connection store's `successCount`, `failedCount` and
    /// `failedDeprovisionCount`, which PingOne documents as event counts.
    pub events: Events,
    pub last_sync_ms: Option<Millis>,
    /// Inbound rules: the engine's latest poll of the source.
    pub last_poll_ms: Option<Millis>,
    /// Write-back rules: the latest write-back to the source system.
    pub last_writeback_ms: Option<Millis>,
}

impl Rule {
    /// The store on the rule that is not PingOne's own: target of an
    /// outbound or write-back rule, source of an inbound rule.
    pub fn connection_store(&self) -> usize {
        match self.direction {
            Direction::Outbound | Direction::Writeback => self.target,
            Direction::Inbound => self.source,
        }
    }

    /// The sync record of the user at `user` index, when in scope.
    pub fn member(&self, user: u32) -> Option<&Member> {
        self.members
            .binary_search_by_key(&user, |m| m.user)
            .ok()
            .and_then(|i| self.members.get(i))
    }
}

/// Sync events of one rule since the latest revision: every attempt adds
/// one, so a user who keeps failing adds a failure at each attempt and a
/// user synced twice adds two successes. A revision resets them.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub(crate) struct Events {
    /// Attempts that ended in `SUCCESS`.
    pub success: u64,
    /// Attempts that ended in `FAILED`.
    pub failed: u64,
    /// Failed deprovisionings.
    pub failed_deprovision: u64,
}

impl Events {
    /// Records one sync attempt's outcome. `PARTIALLY_SYNCED` and
    /// `UNSYNCED` outcomes are neither: PingOne documents only success and
    /// failure event counts, and the simulator counts no event it cannot
    /// name.
    pub fn record(&mut self, outcome: UserState) {
        match outcome {
            UserState::Success => self.success += 1,
            UserState::Failed => self.failed += 1,
            UserState::Unsynced | UserState::Partial => {}
        }
    }
}

/// The sync record of one user in one rule's scope.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Member {
    /// Index in the environment's users.
    pub user: u32,
    pub state: UserState,
    /// Not synced since the latest revision (or ever): the next ticks
    /// catch up on it first.
    pub pending: bool,
    pub last_sync_ms: Option<Millis>,
}

/// The sync state of a (rule, user) pair.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum UserState {
    Success,
    Unsynced,
    Partial,
    Failed,
}

impl UserState {
    /// The API spelling.
    pub fn as_api(self) -> &'static str {
        match self {
            UserState::Success => "SUCCESS",
            UserState::Unsynced => "UNSYNCED",
            UserState::Partial => "PARTIALLY_SYNCED",
            UserState::Failed => "FAILED",
        }
    }
}

/// The sync record of one group in one rule.
#[derive(Clone, Debug)]
pub(crate) struct GroupSync {
    /// Index in the environment's groups.
    pub group: u32,
    /// Served `status`: `UNSYNCED` until the group's first sync, then
    /// `SUCCESS` or `FAILED`; injected values never change.
    pub status: String,
    /// Injected by the scenario: never re-synced.
    pub fixed: bool,
    pub last_sync_ms: Option<Millis>,
}

/// The wall clock, in milliseconds.
pub(crate) fn wall_ms() -> Millis {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| i64::try_from(d.as_millis()).unwrap_or(i64::MAX))
        .unwrap_or(0)
}

/// Formats a time the way PingOne does: `2024-05-02T10:15:03.120Z`.
pub(crate) fn format_ts(ms: Millis) -> String {
    let fmt =
        format_description!("[year]-[month]-[day]T[hour]:[minute]:[second].[subsecond digits:3]Z");
    OffsetDateTime::from_unix_timestamp_nanos(i128::from(ms) * 1_000_000)
        .ok()
        .and_then(|t| t.format(&fmt).ok())
        .unwrap_or_else(|| "1970-01-01T00:00:00.000Z".into())
}

/// Mixes two numbers into a well-spread seed (splitmix64 finaliser).
pub(crate) fn mix(a: u64, b: u64) -> u64 {
    let mut z = a ^ b.wrapping_add(0x9e37_79b9_7f4a_7c15).rotate_left(17);
    z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    z ^ (z >> 31)
}

/// A random version-4-looking UUID.
pub(crate) fn uuid(rng: &mut fastrand::Rng) -> String {
    let hi = rng.u64(..);
    let lo = rng.u64(..);
    format!(
        "{:08x}-{:04x}-4{:03x}-{:04x}-{:012x}",
        hi >> 32,
        (hi >> 16) & 0xffff,
        hi & 0xfff,
        ((lo >> 48) & 0x3fff) | 0x8000,
        lo & 0xffff_ffff_ffff
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn timestamps_have_pingone_shape() {
        assert_eq!(format_ts(1_767_225_605_250), "2026-01-01T00:00:05.250Z");
        assert_eq!(format_ts(1_767_225_605_000), "2026-01-01T00:00:05.000Z");
        assert_eq!(format_ts(0), "1970-01-01T00:00:00.000Z");
    }

    #[test]
    fn uuids_look_like_uuids_and_follow_the_seed() {
        let a = uuid(&mut fastrand::Rng::with_seed(7));
        let b = uuid(&mut fastrand::Rng::with_seed(7));
        assert_eq!(a, b);
        let parts: Vec<_> = a.split('-').map(str::len).collect();
        assert_eq!(parts, [8, 4, 4, 4, 12]);
        assert_eq!(&a[14..15], "4");
    }

    #[test]
    fn manual_clock_and_warmup_backdating() {
        let c = Clock {
            manual: false,
            tick_ms: 1000,
            start_ms: 10_000,
            ticks: 0,
            warmup: 3,
        };
        assert_eq!(c.tick_time(3), 13_000);
        assert!(c.tick_time(4) > 1_000_000);
        let m = Clock {
            manual: true,
            ticks: 5,
            ..c
        };
        assert_eq!(m.now(), 15_000);
    }
}
