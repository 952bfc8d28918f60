//! The ground truth served at `GET /_sim/truth`: the model's own view of
//! every environment, rule and store, from the same derivations the API
//! uses (see `docs/simulator.md` for the shape).

use serde_json::{Value, json};

use super::counts;
use super::model::{Direction, Env, Millis, Rule, Tenant, format_ts};

fn ts(ms: Option<Millis>) -> Value {
    ms.map_or(Value::Null, |t| json!(format_ts(t)))
}

/// The whole ground truth.
pub(crate) fn render(t: &Tenant) -> Value {
    json!({
        "seed": t.seed,
        "clock": if t.clock.manual { "manual" } else { "real" },
        "ticks": t.clock.ticks,
        "now": format_ts(t.clock.now()),
        "environments": t.envs.iter().map(environment).collect::<Vec<_>>(),
    })
}

fn environment(env: &Env) -> Value {
    let statuses = counts::sync_statuses(env);
    let status = |i: usize| statuses.get(i).and_then(Option::as_ref);
    json!({
        "id": env.id,
        "name": env.name,
        "plan_id": env.plan_id,
        "revision": {
            "id": env.revision.id,
            "createdAt": format_ts(env.revision.created_ms),
            "previous_id": env.revision.previous,
        },
        "resyncs": env.resyncs,
        "users": env.users.len(),
        "groups": env.groups.len(),
        "rules": env.rules.iter().map(|r| rule(env, r, status(r.connection_store()))).collect::<Vec<_>>(),
        "stores": (0..env.stores.len()).map(|i| store(env, i, status(i))).collect::<Vec<_>>(),
    })
}

fn store_ref(env: &Env, index: usize) -> Value {
    env.stores.get(index).map_or(
        Value::Null,
        |s| json!({"id": s.id, "name": s.name, "type": s.kind}),
    )
}

fn rule(env: &Env, r: &Rule, status: Option<&counts::SyncStatus>) -> Value {
    let u = counts::users(r);
    let g = counts::groups(r);
    let conn = r.connection_store();
    let (inbound, writeback) = (
        r.direction == Direction::Inbound,
        r.direction == Direction::Writeback,
    );
    json!({
        "id": r.id,
        "name": r.name,
        "direction": r.direction.as_str(),
        "active": r.active,
        "source_store": store_ref(env, r.source),
        "target_store": store_ref(env, r.target),
        "connection_store_id": env.stores.get(conn).map(|s| s.id.as_str()),
        "parent_rule_id": r.parent_id,
        "sync_state": status.map(|s| s.sync_state.as_str()),
        "users": {"impacted": u.impacted, "success": u.success, "unsynced": u.unsynced,
                  "partial": u.partial, "failed": u.failed},
        "groups": {"impacted": g.impacted, "success": g.success, "failed": g.failed,
                   "partial": g.partial, "unsynced": g.unsynced, "other": g.other},
        "last_sync_at": ts(r.last_sync_ms),
        "last_poll_at": if inbound { ts(r.last_poll_ms) } else { Value::Null },
        "last_writeback_at": if writeback { ts(r.last_writeback_ms) } else { Value::Null },
        "writeback_failures": if writeback { json!(u.failed) } else { Value::Null },
        "events": {"success": r.events.success, "failed": r.events.failed,
                   "failed_deprovision": r.events.failed_deprovision},
        "deprovision_failures": r.events.failed_deprovision,
    })
}

fn store(env: &Env, index: usize, status: Option<&counts::SyncStatus>) -> Value {
    let Some(s) = env.stores.get(index) else {
        return Value::Null;
    };
    json!({
        "id": s.id,
        "name": s.name,
        "type": s.kind,
        "failing": s.failing,
        "sync_status": status.map(super::render::sync_status),
        "secrets": s.secrets,
    })
}
