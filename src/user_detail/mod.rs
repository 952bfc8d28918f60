//! User-detail mode (docs/metrics.md): the opt-in walk of every enabled rule's
//! users through the documented per-user `syncedRules` endpoint, counting
//! users per state exactly.
//!
//! - [`walk`] reads one environment once (cost in its module docs);
//! - `counts` ([`RuleUsers`], [`WalkCounts`]) counts a walk's records per
//!   rule, and [`apply`] puts those counts into a snapshot (the mode's part
//!   of the mapping, with its table); a walk also keeps up to
//!   [`FAILED_KEPT`] failed records per rule ([`FailedRecord`]) for
//!   `status --failures`, never for metrics;
//! - [`Latest`] holds the last complete walk, which the environment's poller
//!   merges into each new snapshot;
//! - the settings are `config::UserDetailSettings`; the walk's schedule
//!   (its own cadence and request budget, so it never delays the main poll)
//!   is `poller::walk_loop`, beside the poll's own loop, because both share
//!   the poller's schedule and its reporting of unknown values.

mod counts;
mod walk;

pub use counts::{FAILED_KEPT, FailedRecord, RuleUsers, UnknownTally, WalkCounts, apply};
pub use walk::{USERS_PAGE, WalkError, Walked, walk};

use std::sync::Arc;

use arc_swap::ArcSwapOption;

/// The last complete walk of one environment, shared by its walk task
/// (writer) and its poller (reader).
#[derive(Debug, Default)]
pub struct Latest(ArcSwapOption<WalkCounts>);

impl Latest {
    /// An empty slot: no walk has finished yet.
    pub fn new() -> Arc<Self> {
        Arc::new(Self::default())
    }

    /// The last complete walk, if any.
    pub fn get(&self) -> Option<Arc<WalkCounts>> {
        self.0.load_full()
    }

    /// Replaces the last complete walk.
    pub fn set(&self, counts: WalkCounts) {
        self.0.store(Some(Arc::new(counts)));
    }
}
