//! Control and ground-truth endpoints under `/_sim/` (no token needed):
//!
//! | method | path | does |
//! |---|---|---|
//! | GET | `/_sim/truth` | the ground truth ([`super::truth`]) |
//! | POST | `/_sim/advance?ticks=N` | runs N ticks now (default 1, at most 100000) |
//! | POST | `/_sim/rules/{ruleId}/delete` | removes the rule |
//! | POST | `/_sim/rules/{ruleId}/activate`, `.../deactivate` | sets `active` |
//! | POST | `/_sim/stores/{storeId}/status?value=FAILED` (or `OK`) | fails or heals the store's connection |
//! | GET | `/_sim/requests` | API requests served, per endpoint and status |
//! | POST | `/_sim/requests/reset` | forgets those counts |
//! | GET | `/_sim/faults` | the fault rules in force, with hits and what remains |
//! | POST | `/_sim/faults` | adds a fault rule (a JSON object) or several (an array) |
//! | POST | `/_sim/faults/clear` | removes every fault rule |

use hyper::Method;
use serde_json::{Value, json};

use super::engine::{self, RuleAction};
use super::faults::FaultRule;
use super::query;
use super::reply::{self, Response};
use super::router::{Call, Shared};
use super::truth;

const MAX_ADVANCE: u64 = 100_000;

/// Answers `/_sim/{rest}`.
pub(crate) fn handle(shared: &Shared, rest: &str, call: &Call) -> Response {
    let seg: Vec<&str> = rest.split('/').collect();
    if seg.as_slice() == ["faults"] {
        return match call.method {
            Method::GET => reply::json(200, &shared.faults.to_json()),
            Method::POST => add_faults(shared, call),
            _ => reply::method_not_allowed("GET, POST"),
        };
    }
    let want = match seg.as_slice() {
        ["truth"] | ["requests"] => Method::GET,
        ["advance"] | ["requests", "reset"] | ["faults", "clear"] => Method::POST,
        ["rules", _, "delete" | "activate" | "deactivate"] => Method::POST,
        ["stores", _, "status"] => Method::POST,
        _ => return reply::not_found("the control endpoint"),
    };
    if call.method != want {
        return reply::method_not_allowed(want.as_str());
    }
    match seg.as_slice() {
        ["truth"] => reply::json(200, &truth::render(&shared.tenant())),
        ["advance"] => advance(shared, call),
        ["requests"] => reply::json(200, &shared.stats.to_json()),
        ["requests", "reset"] => {
            shared.stats.reset();
            reply::json(200, &shared.stats.to_json())
        }
        ["faults", "clear"] => {
            shared.faults.clear();
            reply::json(200, &shared.faults.to_json())
        }
        ["rules", id, action] => {
            let action = match *action {
                "delete" => RuleAction::Delete,
                "activate" => RuleAction::Activate,
                _ => RuleAction::Deactivate,
            };
            if engine::rule_action(&mut shared.tenant(), id, action) {
                let done = format!("{action:?}").to_lowercase();
                reply::json(200, &json!({"rule": id, "done": done}))
            } else {
                reply::not_found("the rule")
            }
        }
        ["stores", id, "status"] => store_status(shared, id, call),
        _ => reply::not_found("the control endpoint"),
    }
}

/// `POST /_sim/stores/{storeId}/status?value=FAILED|OK`: the store's
/// connection fails (its `syncState` is served `FAILED`, as when the engine
/// fails it) or works again, at once, with no tick. A store served without
/// `syncStatus` (no sync yet) stays without.
fn store_status(shared: &Shared, id: &str, call: &Call) -> Response {
    let failing = match query::get(&call.query, "value") {
        Some("FAILED") => true,
        Some("OK") => false,
        _ => return reply::invalid("value", "value must be FAILED or OK"),
    };
    let mut t = shared.tenant();
    let store = t
        .envs
        .iter_mut()
        .flat_map(|e| e.stores.iter_mut())
        .find(|s| s.id == id);
    match store {
        Some(s) => {
            s.failing = failing;
            reply::json(200, &json!({"store": id, "failing": failing}))
        }
        None => reply::not_found("the store"),
    }
}

fn advance(shared: &Shared, call: &Call) -> Response {
    let ticks = match query::get(&call.query, "ticks").map(str::parse::<u64>) {
        None => 1,
        Some(Ok(n)) if n <= MAX_ADVANCE => n,
        _ => {
            return reply::invalid(
                "ticks",
                &format!("ticks must be an integer from 0 to {MAX_ADVANCE}"),
            );
        }
    };
    let mut t = shared.tenant();
    engine::advance(&mut t, ticks);
    reply::json(
        200,
        &json!({"ticks": t.clock.ticks, "now": super::model::format_ts(t.clock.now())}),
    )
}

/// `POST /_sim/faults`: one rule or an array of rules; all are checked
/// before any is added. Answers `{"ids": [...]}`.
fn add_faults(shared: &Shared, call: &Call) -> Response {
    let rules: Vec<FaultRule> = match serde_json::from_slice::<Value>(&call.body) {
        Ok(Value::Array(a)) => match serde_json::from_value(Value::Array(a)) {
            Ok(r) => r,
            Err(e) => return reply::invalid("body", &e.to_string()),
        },
        Ok(v) => match serde_json::from_value(v) {
            Ok(r) => vec![r],
            Err(e) => return reply::invalid("body", &e.to_string()),
        },
        Err(e) => return reply::invalid("body", &format!("not JSON: {e}")),
    };
    let envs: Vec<(String, String)> = shared
        .tenant()
        .envs
        .iter()
        .map(|e| (e.id.clone(), e.name.clone()))
        .collect();
    let mut checked = Vec::with_capacity(rules.len());
    for (i, rule) in rules.into_iter().enumerate() {
        match rule.check(&envs) {
            Ok(env) => checked.push((rule, env)),
            Err(e) => return reply::invalid(&format!("[{i}]"), &e),
        }
    }
    let ids: Vec<u64> = checked
        .into_iter()
        .map(|(rule, env)| shared.faults.add(rule, env))
        .collect();
    reply::json(200, &json!({ "ids": ids }))
}
