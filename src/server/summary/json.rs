//! `/api/v1/status`: what the status page shows, machine-readable. The
//! document is the one `status --output json` prints (built by the same
//! function), from the daemon's last snapshots instead of a fresh poll,
//! with three additions the page also shows:
//!
//! - per environment, `last_poll`: `{"at", "age_seconds",
//!   "duration_seconds", "error"}` of the last poll (`null` before the
//!   first), and `console_url`;
//! - per rule, `failure_reason` (the page's text, `null` when none) and
//!   `page` (the path of the rule's page).
//!
//! An environment's `error` is its last poll's error; its rules are those of
//! the last poll that read them.

use serde_json::{Value, json};

use super::html::rule_path;
use super::view::{EnvView, failure_reason};
use crate::commands::status::json::{EnvRef, document};
use crate::timefmt::format_rfc3339;

/// The document for `envs` at `now`.
pub fn render(envs: &[EnvView<'_>], now: f64) -> Value {
    let refs: Vec<EnvRef<'_>> = envs
        .iter()
        .map(|e| EnvRef {
            name: &e.state.key.name,
            id: &e.state.key.id,
            snapshot: e.state.snapshot.as_deref(),
            error: e.state.last_poll.as_ref().and_then(|p| p.error.as_deref()),
        })
        .collect();
    let mut doc = document(&refs, now);
    let Some(docs) = doc["environments"].as_array_mut() else {
        return doc;
    };
    // `document` keeps the config order and each snapshot's rule order.
    for (out, env) in docs.iter_mut().zip(envs) {
        out["last_poll"] = env.state.last_poll.as_ref().map_or(Value::Null, |p| {
            json!({
                "at": format_rfc3339(p.finished_at),
                "age_seconds": ((now - p.finished_at) * 1000.0).round() / 1000.0,
                "duration_seconds": p.duration,
                "error": p.error,
            })
        });
        out["console_url"] = json!(env.page.as_ref().map(|p| p.console_url.as_str()));
        let rules = env.state.snapshot.as_ref().map(|s| &s.rules);
        if let (Some(outs), Some(rules)) = (out["rules"].as_array_mut(), rules) {
            for (o, r) in outs.iter_mut().zip(rules) {
                o["failure_reason"] = json!(failure_reason(r));
                o["page"] = json!(rule_path(&env.state.key.id, &r.id));
            }
        }
    }
    doc
}
