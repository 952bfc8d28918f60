//! User-detail mode (docs/metrics.md): the opt-in walk of every enabled rule's
//! users through the documented per-user `syncedRules` endpoint, counting
//! users per state exactly.
//!
//! - [`walk`] reads one environment once (cost in its module docs);
//! - [`Latest`] holds the last complete walk, which the environment's poller
//!   merges into each new snapshot ([`crate::mapping::detail::apply`]);
//! - the schedule (its own cadence and request budget, so it never delays
//!   the main poll) lives in the poller (`poller::detail`).

mod walk;

pub use walk::{USERS_PAGE, WalkError, Walked, walk};

use std::sync::Arc;

use arc_swap::ArcSwapOption;

use crate::mapping::detail::UserDetail;

/// The last complete walk of one environment, shared by its walk task
/// (writer) and its poller (reader).
#[derive(Debug, Default)]
pub struct Latest(ArcSwapOption<UserDetail>);

impl Latest {
    /// An empty slot: no walk has finished yet.
    pub fn new() -> Arc<Self> {
        Arc::new(Self::default())
    }

    /// The last complete walk, if any.
    pub fn get(&self) -> Option<Arc<UserDetail>> {
        self.0.load_full()
    }

    /// Replaces the last complete walk.
    pub fn set(&self, detail: UserDetail) {
        self.0.store(Some(Arc::new(detail)));
    }
}
