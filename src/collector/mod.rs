//! Turns environment snapshots and self-metrics into a `/metrics` answer.
//!
//! The per-rule part is rendered once per poll ([`render`]): one block of
//! sample lines per metric family per environment, the larger ones also
//! deflated. Sample lines are the same in both formats, so a scrape
//! ([`scrape`]) only writes family headers, sends the blocks (shared, not
//! copied), computes the ages against the scrape's clock, and writes the
//! self-metrics; gzip scrapes send the pre-deflated blocks and deflate only
//! the rest. A rule deleted upstream is missing from the next poll's
//! snapshot, so its series disappear at once.

mod age;
mod gzip;
mod render;
mod scrape;

pub use render::{Rendered, render};
pub use scrape::{CHUNK, Exposition};

use std::sync::Arc;

use bytes::Bytes;

use crate::exposition::{Desc, Format, Kind};
use crate::selfmetrics::SelfMetrics;
use crate::state::EnvState;

macro_rules! family {
    ($name:literal, $help:literal) => {
        Desc {
            name: $name,
            help: concat!($help, " Cached: refreshed every poll interval; see pingone_exporter_last_success_timestamp_seconds."),
            kind: Kind::Gauge,
        }
    };
}

/// The per-rule families rendered at poll time, in exposition order.
pub const RULE_FAMILIES: [Desc; 12] = [
    family!(
        "pingone_provisioning_rule_info",
        "Always 1 for each provisioning rule; labels name its source and target stores and parent rule."
    ),
    family!(
        "pingone_provisioning_rule_enabled",
        "1 when the rule is enabled (active), else 0."
    ),
    family!(
        "pingone_provisioning_rule_status",
        "Rule sync status as a state set: 1 for the current status (active, inactive or failed), 0 for the others."
    ),
    family!(
        "pingone_provisioning_users_impacted",
        "Users targeted by the rule (Impacted)."
    ),
    family!(
        "pingone_provisioning_users",
        "Users of the rule by sync state: success, unsynced, partial, failed."
    ),
    family!(
        "pingone_provisioning_groups_impacted",
        "Groups targeted by the rule (Impacted)."
    ),
    family!(
        "pingone_provisioning_groups",
        "Groups of the rule by sync state: success, unsynced, partial, failed."
    ),
    family!(
        "pingone_provisioning_writeback_failures",
        "Users not updated by write-back (Write-back Failures)."
    ),
    family!(
        "pingone_provisioning_deprovision_failures",
        "Failed deprovisioning events since the latest revision."
    ),
    family!(
        "pingone_provisioning_last_sync_timestamp_seconds",
        "Unix time of the rule's last sync (Last Sync)."
    ),
    family!(
        "pingone_provisioning_last_poll_timestamp_seconds",
        "Unix time the inbound source was last polled (Last Poll)."
    ),
    family!(
        "pingone_provisioning_last_writeback_timestamp_seconds",
        "Unix time of the last write-back (Last Write-back)."
    ),
];

/// The families computed at scrape time, in exposition order.
const AGE_FAMILIES: [Desc; 2] = [
    Desc {
        name: "pingone_provisioning_last_sync_age_seconds",
        help: "Seconds since the rule's last sync, computed at scrape time from the cached Last Sync.",
        kind: Kind::Gauge,
    },
    Desc {
        name: "pingone_provisioning_last_poll_age_seconds",
        help: "Seconds since the inbound source was last polled, computed at scrape time from the cached Last Poll.",
        kind: Kind::Gauge,
    },
];
/// The families with one sample per environment, in exposition order.
const ENV_FAMILIES: [Desc; 2] = [
    family!(
        "pingone_provisioning_revision_timestamp_seconds",
        "Unix time of the environment's latest propagation revision (configuration change or resync)."
    ),
    Desc {
        name: "pingone_exporter_user_detail_last_success_timestamp_seconds",
        help: "Unix time the user-detail walk whose counts are served finished (environments with user_detail enabled, once a walk succeeded).",
        kind: Kind::Gauge,
    },
];

/// Starts a `/metrics` answer at time `now` (Unix seconds) from the
/// environments' rendered snapshots (those not yet polled are skipped) and
/// the self-metrics, which are written now.
pub fn scrape(
    format: Format,
    envs: &[Arc<EnvState>],
    metrics: &SelfMetrics,
    now: f64,
) -> Exposition {
    let rendered = envs.iter().filter_map(|e| e.rendered.clone()).collect();
    Exposition::new(format, rendered, metrics, now)
}

/// A whole `/metrics` answer as a list of buffers to send in order
/// ([`scrape`], written out at once).
pub fn encode(
    format: Format,
    envs: &[Arc<EnvState>],
    metrics: &SelfMetrics,
    now: f64,
) -> Vec<Bytes> {
    scrape(format, envs, metrics, now).collect()
}
