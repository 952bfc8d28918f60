//! The metric families the collector serves, one table entry each: its
//! description and how its samples are taken from a snapshot. Adding a
//! family is one entry here; rendering ([`render`](super::render)) and the
//! scrape ([`scrape`](super::scrape)) walk these tables in order, so the
//! order of the entries is the exposition order.

pub(crate) use super::samples::Samples;
use crate::exposition::{Desc, Kind};
use crate::snapshot::{EnvSnapshot, RuleStatus, RuleSummary, StoreStatus};

macro_rules! family {
    ($name:literal, $help:literal) => {
        Desc {
            name: $name,
            help: concat!($help, " Cached: refreshed every poll interval; see pingone_exporter_last_success_timestamp_seconds."),
            kind: Kind::Gauge,
        }
    };
}

/// A [`RuleFamily`] entry: cached gauge description and sample writer.
macro_rules! rule_family {
    ($name:literal, $help:literal, $write:expr) => {
        RuleFamily {
            desc: family!($name, $help),
            write: $write,
        }
    };
}

/// A [`RuleFamily`] entry of a counter (`$name` without `_total`): its
/// writer calls [`Samples::counter`], which adds `_total` and, in the
/// OpenMetrics rendering, `_created`.
macro_rules! rule_counter {
    ($name:literal, $help:literal, $write:expr) => {
        RuleFamily {
            desc: Desc {
                name: $name,
                help: concat!($help, " Cached: refreshed every poll interval; see pingone_exporter_last_success_timestamp_seconds."),
                kind: Kind::Counter,
            },
            write: $write,
        }
    };
}

/// A per-rule family, rendered at poll time.
#[derive(Clone, Copy, Debug)]
pub struct RuleFamily {
    /// Name, help and type.
    pub desc: Desc,
    /// Writes one rule's samples (none when PingOne gave no value).
    pub(crate) write: fn(&mut Samples<'_>, &RuleSummary),
}

/// A family computed at scrape time: `now − timestamp` per rule.
#[derive(Clone, Copy, Debug)]
pub(crate) struct AgeFamily {
    pub(crate) desc: Desc,
    /// The rule's timestamp (Unix seconds) the age is counted from.
    pub(crate) since: fn(&RuleSummary) -> Option<f64>,
}

/// A family with one sample per environment, rendered at poll time.
#[derive(Clone, Copy, Debug)]
pub(crate) struct EnvFamily {
    pub(crate) desc: Desc,
    /// The environment's value, if any.
    pub(crate) value: fn(&EnvSnapshot) -> Option<f64>,
}

/// The per-rule families, in exposition order.
pub const RULE_FAMILIES: [RuleFamily; 17] = [
    rule_family!(
        "pingone_provisioning_rule_info",
        "Always 1 for each provisioning rule; labels name its source and target stores and parent rule.",
        info
    ),
    rule_family!(
        "pingone_provisioning_rule_enabled",
        "1 when the rule is enabled (active), else 0.",
        |s, r| s.opt_u64(r.enabled.map(u64::from))
    ),
    rule_family!(
        "pingone_provisioning_rule_status",
        "Rule sync status as a state set: 1 for the current status (active, inactive or failed), 0 for the others.",
        status
    ),
    rule_family!(
        "pingone_provisioning_store_status",
        "The connection store's status as a state set: 1 for the current status (active or inactive), 0 for the other.",
        store_status
    ),
    rule_family!(
        "pingone_provisioning_users_impacted",
        "Users targeted by the rule (Impacted).",
        |s, r| s.opt_u64(r.users_impacted)
    ),
    rule_counter!(
        "pingone_provisioning_sync_events",
        "Sync events (attempts, not users) of the rule's connection store by result: events since the latest revision; a revision resets it.",
        |s, r| {
            for (result, n) in [("success", r.events.success), ("failure", r.events.failure)] {
                if let Some(n) = n {
                    s.counter(&[("result", result)], n);
                }
            }
        }
    ),
    rule_counter!(
        "pingone_provisioning_deprovision_failure_events",
        "Failed deprovisioning events of the rule's connection store: events since the latest revision; a revision resets it.",
        |s, r| {
            if let Some(n) = r.events.failed_deprovision {
                s.counter(&[], n);
            }
        }
    ),
    rule_family!(
        "pingone_provisioning_users",
        "Users of the rule by sync state (success, failed); user-detail mode only.",
        |s, r| s.states(&r.users)
    ),
    rule_family!(
        "pingone_provisioning_groups_impacted",
        "Groups targeted by the rule (Impacted).",
        |s, r| s.opt_u64(r.groups_impacted)
    ),
    rule_family!(
        "pingone_provisioning_groups",
        "Groups of the rule by sync state: success, failed.",
        |s, r| s.states(&r.groups)
    ),
    rule_family!(
        "pingone_provisioning_sync_error_info",
        "Always 1 while the connection store reports sync error details; the details label is PingOne's text, cleaned and scrubbed of secrets.",
        |s, r| {
            if let Some(d) = &r.sync_error {
                s.u64(&[("details", d.as_str())], 1);
            }
        }
    ),
    rule_family!(
        "pingone_provisioning_failing_since_timestamp_seconds",
        "Unix time this exporter first saw the rule failing in the current spell (observed by the exporter; reset by a restart).",
        |s, r| s.opt_f64(r.failing_since)
    ),
    rule_family!(
        "pingone_provisioning_failing_polls",
        "Polls in a row this exporter saw the rule failing; 0 when the latest poll saw it not failing (observed by the exporter; reset by a restart).",
        |s, r| s.opt_u64(r.failing_polls)
    ),
    rule_family!(
        "pingone_provisioning_writeback_failures",
        "Users not updated by write-back (Write-back Failures).",
        |s, r| s.opt_u64(r.writeback_failures)
    ),
    rule_family!(
        "pingone_provisioning_last_sync_timestamp_seconds",
        "Unix time of the rule's last sync (Last Sync).",
        |s, r| s.opt_f64(r.last_sync)
    ),
    rule_family!(
        "pingone_provisioning_last_poll_timestamp_seconds",
        "Unix time the inbound source was last polled (Last Poll).",
        |s, r| s.opt_f64(r.last_poll)
    ),
    rule_family!(
        "pingone_provisioning_last_writeback_timestamp_seconds",
        "Unix time of the last write-back (Last Write-back).",
        |s, r| s.opt_f64(r.last_writeback)
    ),
];

/// `rule_info`: always 1, the stores and parent rule as labels.
fn info(s: &mut Samples<'_>, r: &RuleSummary) {
    let extra = [
        ("source_store", r.source.name.as_str()),
        ("source_type", r.source.kind.as_str()),
        ("target_store", r.target.name.as_str()),
        ("target_type", r.target.kind.as_str()),
        ("parent_rule_id", r.parent_rule_id.as_str()),
    ];
    s.u64(&extra, 1);
}

/// `rule_status`: a state set, 1 for the current status and 0 for the
/// others; nothing when the status is unknown.
fn status(s: &mut Samples<'_>, r: &RuleSummary) {
    if let Some(current) = r.status {
        for st in RuleStatus::ALL {
            s.u64(&[("status", st.as_str())], u64::from(st == current));
        }
    }
}

/// `store_status`: a state set like `rule_status`; nothing when the store's
/// status is missing or not a documented spelling.
fn store_status(s: &mut Samples<'_>, r: &RuleSummary) {
    if let Some(current) = r.store_status {
        for st in StoreStatus::ALL {
            s.u64(&[("status", st.as_str())], u64::from(st == current));
        }
    }
}

/// The families computed at scrape time, in exposition order.
pub(crate) const AGE_FAMILIES: [AgeFamily; 2] = [
    AgeFamily {
        desc: Desc {
            name: "pingone_provisioning_last_sync_age_seconds",
            help: "Seconds since the rule's last sync, computed at scrape time from the cached Last Sync.",
            kind: Kind::Gauge,
        },
        since: |r| r.last_sync,
    },
    AgeFamily {
        desc: Desc {
            name: "pingone_provisioning_last_poll_age_seconds",
            help: "Seconds since the inbound source was last polled, computed at scrape time from the cached Last Poll.",
            kind: Kind::Gauge,
        },
        since: |r| r.last_poll,
    },
];

/// The families with one sample per environment, in exposition order.
pub(crate) const ENV_FAMILIES: [EnvFamily; 2] = [
    EnvFamily {
        desc: family!(
            "pingone_provisioning_revision_timestamp_seconds",
            "Unix time of the environment's latest propagation revision (configuration change or resync)."
        ),
        value: |s| s.revision_created,
    },
    EnvFamily {
        desc: Desc {
            name: "pingone_exporter_user_detail_last_success_timestamp_seconds",
            help: "Unix time the user-detail walk whose counts are served finished (environments with user_detail enabled, once a walk succeeded).",
            kind: Kind::Gauge,
        },
        value: |s| s.user_detail_finished,
    },
];
