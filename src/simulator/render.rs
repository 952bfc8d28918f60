//! The JSON of each API object, written from the model (no type is shared
//! with the exporter's client). `api` is the root of absolute links, e.g.
//! `http://127.0.0.1:8080/v1`.

use serde_json::{Value, json};

use super::counts;
use super::model::{Direction, Env, Member, Rule, User, format_ts};

fn link(href: String) -> Value {
    json!({"href": href})
}

fn env_href(env: &Env, api: &str) -> String {
    format!("{api}/environments/{}", env.id)
}

/// The environment's one plan.
pub(crate) fn plan(env: &Env, api: &str) -> Value {
    json!({
        "_links": {"self": link(format!("{}/propagation/plans/{}", env_href(env, api), env.plan_id)),
                   "environment": link(env_href(env, api))},
        "id": env.plan_id,
        "environment": {"id": env.id},
        "name": "Default provisioning plan",
        "status": "ACTIVE",
    })
}

/// The store at `index`, with `configuration` and, once synced, its
/// `syncStatus` (from [`counts::sync_statuses`]).
pub(crate) fn store(
    env: &Env,
    index: usize,
    status: Option<&counts::SyncStatus>,
    api: &str,
) -> Value {
    let Some(s) = env.stores.get(index) else {
        return Value::Null;
    };
    let mut v = json!({
        "_links": {"self": link(format!("{}/propagation/stores/{}", env_href(env, api), s.id)),
                   "environment": link(env_href(env, api))},
        "id": s.id,
        "environment": {"id": env.id},
        "createdAt": format_ts(s.created_ms),
        "updatedAt": format_ts(s.created_ms),
        "image": {},
        "name": s.name,
        "description": s.name,
        "type": s.kind,
        "status": "ACTIVE",
        "managed": false,
        "configuration": s.configuration,
    });
    if let Some(st) = status {
        v["syncStatus"] = sync_status(st);
    }
    v
}

/// A `syncStatus` object.
pub(crate) fn sync_status(st: &counts::SyncStatus) -> Value {
    json!({
        "syncState": st.sync_state,
        "lastSyncAt": format_ts(st.last_sync_ms),
        "successCount": st.success,
        "failedCount": st.failed,
        "failedDeprovisionCount": st.failed_deprovision,
        "userTotal": st.user_total,
        "details": st.details,
    })
}

/// A rule object.
pub(crate) fn rule(env: &Env, r: &Rule, api: &str) -> Value {
    let id_of = |i: usize| env.stores.get(i).map(|s| s.id.as_str()).unwrap_or_default();
    let groups: Vec<Value> = r
        .groups
        .iter()
        .filter_map(|g| env.groups.get(g.group as usize))
        .map(|g| json!({"id": g.id}))
        .collect();
    let mut v = json!({
        "_links": {"self": link(format!("{}/propagation/rules/{}", env_href(env, api), r.id)),
                   "environment": link(env_href(env, api))},
        "id": r.id,
        "environment": {"id": env.id},
        "plan": {"id": env.plan_id},
        "name": r.name,
        "description": r.description,
        "sourceStore": {"id": id_of(r.source)},
        "targetStore": {"id": id_of(r.target)},
        "active": r.active,
        "populationExpression": r.population_expression,
        "groups": groups,
        "deprovision": false,
        "createdAt": format_ts(r.created_ms),
    });
    if let Some(p) = &r.parent_id {
        v["parentRule"] = json!({"id": p});
    }
    v
}

/// One `syncedGroups` entry of a rule.
pub(crate) fn synced_group(env: &Env, r: &Rule, index: usize) -> Value {
    let Some(g) = r.groups.get(index) else {
        return Value::Null;
    };
    let group = env.groups.get(g.group as usize);
    let details = match g.status.as_str() {
        "FAILED" => "Some group members were not synced",
        "UNSYNCED" => "The group has not been synced yet",
        _ => "",
    };
    let mut v = json!({
        "group": {"id": group.map(|x| x.id.as_str()), "name": group.map(|x| x.name.as_str())},
        "rule": {"id": r.id},
        "status": g.status,
        "details": details,
    });
    if let Some(t) = g.last_sync_ms {
        v["lastSyncAt"] = json!(format_ts(t));
    }
    v
}

/// The latest revision.
pub(crate) fn revision(env: &Env, api: &str) -> Value {
    let rev = &env.revision;
    let mut v = json!({
        "_links": {"self": link(format!("{}/propagation/revisions/{}", env_href(env, api), rev.id)),
                   "environment": link(env_href(env, api))},
        "id": rev.id,
        "environment": {"id": env.id},
        "createdAt": format_ts(rev.created_ms),
        "createdBy": env.admin_id,
    });
    if let Some(p) = &rev.previous {
        v["previousRevision"] = json!({"id": p});
    }
    v
}

/// A user (with the personal data a `dump` must scrub).
pub(crate) fn user(env: &Env, u: &User, api: &str) -> Value {
    json!({
        "_links": {"self": link(format!("{}/users/{}", env_href(env, api), u.id))},
        "id": u.id,
        "environment": {"id": env.id},
        "username": u.username,
        "email": u.email,
        "name": {"given": u.given, "family": u.family, "formatted": format!("{} {}", u.given, u.family)},
        "enabled": true,
    })
}

/// `users/{userId}/syncedRules/{ruleId}` for a user in the rule's scope.
pub(crate) fn synced_rule(env: &Env, r: &Rule, u: &User, m: &Member, api: &str) -> Value {
    let store = |i: usize| {
        env.stores
            .get(i)
            .map(|s| json!({"id": s.id, "name": s.name, "type": s.kind}))
            .unwrap_or(Value::Null)
    };
    let failing = env
        .stores
        .get(r.connection_store())
        .is_some_and(|s| s.failing);
    let kind = if r.direction == Direction::Inbound {
        "INBOUND"
    } else {
        "OUTBOUND"
    };
    let mut v = json!({
        "_links": {"self": link(format!("{}/users/{}/syncedRules/{}", env_href(env, api), u.id, r.id)),
                   "environment": link(env_href(env, api))},
        "rule": {"id": r.id, "name": r.name},
        "sourceStore": store(r.source),
        "targetStore": store(r.target),
        "environment": {"id": env.id},
        "type": kind,
        "status": m.state.as_api(),
        "details": counts::user_details(m.state, m.pending, failing),
    });
    if let Some(t) = m.last_sync_ms {
        v["lastSyncAt"] = json!(format_ts(t));
    }
    v
}
