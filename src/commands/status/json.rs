//! `status --output json`: one JSON document with every environment and
//! rule, for scripts. Absent values are `null`, never a made-up 0; times are
//! RFC 3339 with their age in seconds against the command's clock.
//!
//! ```json
//! {"now": "…", "failures": true, "environments": [{"name": "prod", "id": "…", "error": null,
//!   "revision_created_at": "…", "rules": [{"id": "…", "name": "…",
//!   "direction": "outbound", "parent_rule_id": null, "enabled": true,
//!   "status": "active", "source_store": {"id", "name", "type"}, "target_store": {…},
//!   "store_status": "active", "users": {"impacted", "success", "failed"},
//!   "groups": {"impacted", "success", "failed"},
//!   "writeback_failures": null,
//!   "events": {"success", "failure", "failed_deprovision"},
//!   "details": "…", "failing_since": "…", "failing_polls": 3,
//!   "last_sync_at": "…", "last_sync_age_seconds": 42.0, "failures": false}]}]}
//! ```
//!
//! `events` are the store's sync events since the latest revision
//! (attempts, not users; on the store's owner rule only). `users.success`
//! and `users.failed` are users counted by user-detail mode, `null`
//! otherwise (`users.impacted` is the store's `userTotal` then).
//! `details` is PingOne's `syncStatus.details`, cleaned and scrubbed.
//! `failing_since` and `failing_polls` are what this process observed.

use serde_json::{Value, json};

use super::{EnvStatus, has_failures};
use crate::snapshot::{EnvSnapshot, RuleSummary, StateCounts, StoreInfo};
use crate::timefmt::format_rfc3339;

fn time(t: Option<f64>) -> Value {
    t.map_or(Value::Null, |t| json!(format_rfc3339(t)))
}

fn age(now: f64, t: Option<f64>) -> Value {
    t.map_or(Value::Null, |t| {
        json!(((now - t) * 1000.0).round() / 1000.0)
    })
}

fn store(s: &StoreInfo) -> Value {
    let opt = |v: &str| (!v.is_empty()).then(|| v.to_string());
    json!({"id": opt(&s.id), "name": opt(&s.name), "type": opt(&s.kind)})
}

fn states(impacted: Option<u64>, c: &StateCounts) -> Value {
    json!({
        "impacted": impacted,
        "success": c.success,
        "failed": c.failed,
    })
}

fn rule(r: &RuleSummary, now: f64) -> Value {
    json!({
        "id": r.id,
        "name": r.name,
        "direction": r.direction.as_str(),
        "parent_rule_id": (!r.parent_rule_id.is_empty()).then_some(r.parent_rule_id.as_str()),
        "enabled": r.enabled,
        "status": r.status.map(|s| s.as_str()),
        "store_status": r.store_status.map(|s| s.as_str()),
        "source_store": store(&r.source),
        "target_store": store(&r.target),
        "users": states(r.users_impacted, &r.users),
        "groups": states(r.groups_impacted, &r.groups),
        "writeback_failures": r.writeback_failures,
        "events": {
            "success": r.events.success,
            "failure": r.events.failure,
            "failed_deprovision": r.events.failed_deprovision,
        },
        "details": r.sync_error,
        "failing_since": time(r.failing_since),
        "failing_polls": r.failing_polls,
        "last_sync_at": time(r.last_sync),
        "last_sync_age_seconds": age(now, r.last_sync),
        "failures": has_failures(r),
    })
}

/// One environment as the document shows it, borrowed: the `status`
/// command's fresh poll ([`EnvStatus`]) and the daemon's last snapshot
/// (the status page's JSON endpoint) both lend themselves as one.
#[derive(Clone, Copy, Debug)]
pub struct EnvRef<'a> {
    /// The configured name.
    pub name: &'a str,
    /// The environment id.
    pub id: &'a str,
    /// The rules read; `None` when nothing could be read.
    pub snapshot: Option<&'a EnvSnapshot>,
    /// The poll's first error, if any.
    pub error: Option<&'a str>,
}

impl EnvStatus {
    /// This result as an [`EnvRef`].
    pub fn borrowed(&self) -> EnvRef<'_> {
        EnvRef {
            name: &self.name,
            id: &self.id,
            snapshot: self.snapshot.as_ref(),
            error: self.error.as_deref(),
        }
    }
}

/// The document for `envs` (see the module docs), with ages against `now`.
pub fn document(envs: &[EnvRef<'_>], now: f64) -> Value {
    let environments: Vec<Value> = envs
        .iter()
        .map(|e| {
            let snap = e.snapshot;
            json!({
                "name": e.name,
                "id": e.id,
                "error": e.error,
                "revision_created_at": time(snap.and_then(|s| s.revision_created)),
                "rules": snap.map_or_else(Vec::new, |s| s.rules.iter().map(|r| rule(r, now)).collect()),
            })
        })
        .collect();
    let failures = envs
        .iter()
        .filter_map(|e| e.snapshot)
        .any(|s| s.rules.iter().any(has_failures));
    json!({
        "now": format_rfc3339(now),
        "failures": failures,
        "environments": environments,
    })
}

/// Renders `envs` as one pretty-printed JSON document (and a newline).
pub fn render(envs: &[EnvStatus], now: f64) -> String {
    let refs: Vec<EnvRef<'_>> = envs.iter().map(EnvStatus::borrowed).collect();
    let mut text =
        serde_json::to_string_pretty(&document(&refs, now)).unwrap_or_else(|_| "{}".into());
    text.push('\n');
    text
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::commands::status::tests::sample;

    #[test]
    fn json_keeps_absent_values_null_and_flags_failures() {
        let v: Value = serde_json::from_str(&render(&sample(), 1_000_000.0)).unwrap();
        assert_eq!(v["failures"], true);
        assert_eq!(v["now"], "1970-01-12T13:46:40Z");
        let env = &v["environments"][0];
        assert_eq!(
            (env["name"].as_str(), env["error"].clone()),
            (Some("prod-eu"), Value::Null)
        );
        assert_eq!(env["revision_created_at"], "1970-01-11T10:00:00Z");
        let r = &env["rules"];
        assert_eq!(
            r[0]["users"],
            json!({"impacted": 1523, "success": null, "failed": null}),
            "users per state only from user-detail mode"
        );
        assert_eq!(
            r[0]["events"],
            json!({"success": 1520, "failure": 3, "failed_deprovision": 0})
        );
        assert_eq!(r[0]["store_status"], "active");
        assert_eq!(r[0]["details"], "SCIM answered 500:\tInternal Server Error");
        assert_eq!(r[0]["failing_since"], "1970-01-12T11:36:40Z");
        assert_eq!(r[0]["failing_polls"], 13);
        assert_eq!(r[1]["failing_since"], Value::Null);
        assert_eq!(r[1]["failing_polls"], 0);
        assert_eq!(r[1]["details"], Value::Null);
        assert_eq!(r[0]["groups"]["failed"], 1);
        assert_eq!(r[0]["last_sync_age_seconds"], 300.0);
        assert_eq!(r[0]["failures"], true);
        assert_eq!(
            r[0]["source_store"],
            json!({"id": null, "name": null, "type": null})
        );
        assert_eq!(r[0]["target_store"]["type"], "scim");
        assert_eq!(r[1]["failures"], false);
        assert_eq!(r[2]["direction"], "writeback");
        assert_eq!(r[2]["parent_rule_id"], "r2");
        assert_eq!(r[2]["users"]["impacted"], Value::Null);
        assert_eq!(r[3]["status"], "inactive");
        assert_eq!(r[3]["last_sync_at"], Value::Null);
    }
}
