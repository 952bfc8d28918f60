//! The documented PingOne API: which paths exist ([`Endpoint`]) and what
//! each answers, from the model.
//!
//! Checks, in order: method (405), then for `/v1` calls the bearer token
//! (401), the client's access to the environment (403), then the objects
//! named in the path (404).

use hyper::Method;
use serde_json::Value;

use super::auth::Access;
use super::counts;
use super::engine;
use super::model::{Env, Tenant};
use super::paging;
use super::render;
use super::reply::{self, Response};
use super::router::{Call, Shared};

/// One served endpoint, with the ids in its path.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) enum Endpoint {
    /// `POST /{env}/as/token`
    Token(String),
    /// `GET .../propagation/plans`
    Plans(String),
    /// `GET .../propagation/stores`
    Stores(String),
    /// `GET .../propagation/stores/{id}`
    Store(String, String),
    /// `GET .../propagation/rules`
    Rules(String),
    /// `GET .../propagation/rules/{id}`
    Rule(String, String),
    /// `GET .../propagation/rules/{id}/syncedGroups`
    SyncedGroups(String, String),
    /// `GET .../propagation/revisions/id:latest`
    RevisionLatest(String),
    /// `POST .../propagation/revisions`
    CreateRevision(String),
    /// `GET .../users`
    Users(String),
    /// `GET .../users/{userId}/syncedRules/{ruleId}`
    UserSyncedRule(String, String, String),
}

impl Endpoint {
    /// Recognises a request path.
    pub fn parse(path: &str) -> Option<Endpoint> {
        let seg: Vec<&str> = path.strip_prefix('/')?.split('/').collect();
        let e = |s: &str| s.to_owned();
        Some(match seg.as_slice() {
            [env, "as", "token"] => Endpoint::Token(e(env)),
            ["v1", "environments", env, rest @ ..] => match rest {
                ["propagation", "plans"] => Endpoint::Plans(e(env)),
                ["propagation", "stores"] => Endpoint::Stores(e(env)),
                ["propagation", "stores", id] => Endpoint::Store(e(env), e(id)),
                ["propagation", "rules"] => Endpoint::Rules(e(env)),
                ["propagation", "rules", id] => Endpoint::Rule(e(env), e(id)),
                ["propagation", "rules", id, "syncedGroups"] => {
                    Endpoint::SyncedGroups(e(env), e(id))
                }
                ["propagation", "revisions"] => Endpoint::CreateRevision(e(env)),
                ["propagation", "revisions", latest] if is_latest(latest) => {
                    Endpoint::RevisionLatest(e(env))
                }
                ["users"] => Endpoint::Users(e(env)),
                ["users", user, "syncedRules", rule] => {
                    Endpoint::UserSyncedRule(e(env), e(user), e(rule))
                }
                _ => return None,
            },
            _ => return None,
        })
    }

    /// The endpoint template, the key of `/_sim/requests`.
    pub fn template(&self) -> &'static str {
        match self {
            Endpoint::Token(_) => "token",
            Endpoint::Plans(_) => "plans",
            Endpoint::Stores(_) => "stores",
            Endpoint::Store(..) => "store",
            Endpoint::Rules(_) => "rules",
            Endpoint::Rule(..) => "rule",
            Endpoint::SyncedGroups(..) => "synced_groups",
            Endpoint::RevisionLatest(_) => "revision_latest",
            Endpoint::CreateRevision(_) => "revision_create",
            Endpoint::Users(_) => "users",
            Endpoint::UserSyncedRule(..) => "user_synced_rule",
        }
    }

    fn method(&self) -> Method {
        match self {
            Endpoint::Token(_) | Endpoint::CreateRevision(_) => Method::POST,
            _ => Method::GET,
        }
    }

    /// The environment in the path (for the token, the worker environment).
    pub fn env(&self) -> &str {
        match self {
            Endpoint::Token(e)
            | Endpoint::Plans(e)
            | Endpoint::Stores(e)
            | Endpoint::Store(e, _)
            | Endpoint::Rules(e)
            | Endpoint::Rule(e, _)
            | Endpoint::SyncedGroups(e, _)
            | Endpoint::RevisionLatest(e)
            | Endpoint::CreateRevision(e)
            | Endpoint::Users(e)
            | Endpoint::UserSyncedRule(e, _, _) => e,
        }
    }
}

fn is_latest(segment: &str) -> bool {
    segment == "id:latest" || segment.eq_ignore_ascii_case("id%3Alatest")
}

/// Answers one API call.
pub(crate) fn handle(shared: &Shared, ep: &Endpoint, call: &Call) -> Response {
    if call.method != ep.method() {
        return reply::method_not_allowed(ep.method().as_str());
    }
    if let Endpoint::Token(env) = ep {
        return shared
            .auth
            .token(env, call.authorization.as_deref(), &call.body);
    }
    match shared.auth.check(call.authorization.as_deref(), ep.env()) {
        Access::Granted => {}
        Access::Unauthenticated(why) => {
            let mut r = reply::error(
                401,
                "ACCESS_FAILED",
                why,
                Some(("INVALID_TOKEN", "Authorization", why)),
            );
            r.headers_mut().insert(
                hyper::header::WWW_AUTHENTICATE,
                hyper::header::HeaderValue::from_static("Bearer"),
            );
            return r;
        }
        Access::Forbidden => {
            let msg =
                "The request could not be completed. You do not have access to this resource.";
            return reply::error(
                403,
                "ACCESS_FAILED",
                msg,
                Some(("INSUFFICIENT_PERMISSIONS", "environment", msg)),
            );
        }
    }
    let mut tenant = shared.tenant();
    let Some(index) = tenant.envs.iter().position(|e| e.id == ep.env()) else {
        return reply::not_found("the environment");
    };
    if let Endpoint::CreateRevision(_) = ep {
        return create_revision(&mut tenant, index, &call.api_base());
    }
    match tenant.envs.get(index) {
        Some(env) => read(env, ep, call),
        None => reply::not_found("the environment"),
    }
}

fn create_revision(tenant: &mut Tenant, index: usize, api: &str) -> Response {
    let at = tenant.clock.now();
    let Some(env) = tenant.envs.get_mut(index) else {
        return reply::not_found("the environment");
    };
    engine::new_revision(env, at);
    reply::hal(201, &render::revision(env, api))
}

fn read(env: &Env, ep: &Endpoint, call: &Call) -> Response {
    let api = call.api_base();
    let base = format!("{}{}", call.origin, call.path);
    let list = |name: &str, items: Vec<Value>| {
        reply::hal(200, &paging::whole(name, items, &call.self_href()))
    };
    match ep {
        Endpoint::Plans(_) => list("plans", vec![render::plan(env, &api)]),
        Endpoint::Stores(_) => {
            let statuses = counts::sync_statuses(env);
            let stores = statuses.iter().enumerate();
            list(
                "stores",
                stores
                    .map(|(i, st)| render::store(env, i, st.as_ref(), &api))
                    .collect(),
            )
        }
        Endpoint::Store(_, id) => match env.store_index(id) {
            Some(i) => {
                let status = counts::sync_statuses(env).into_iter().nth(i).flatten();
                reply::hal(200, &render::store(env, i, status.as_ref(), &api))
            }
            None => reply::not_found("the store"),
        },
        Endpoint::Rules(_) => list(
            "rules",
            env.rules
                .iter()
                .map(|r| render::rule(env, r, &api))
                .collect(),
        ),
        Endpoint::Rule(_, id) => match env.rule(id) {
            Some(r) => reply::hal(200, &render::rule(env, r, &api)),
            None => reply::not_found("the rule"),
        },
        Endpoint::SyncedGroups(_, id) => {
            let Some(rule) = env.rule(id) else {
                return reply::not_found("the rule");
            };
            page(call, 1000, rule.groups.len(), "syncedGroups", &base, |i| {
                render::synced_group(env, rule, i)
            })
        }
        Endpoint::RevisionLatest(_) => reply::hal(200, &render::revision(env, &api)),
        Endpoint::Users(_) => page(call, 100, env.users.len(), "users", &base, |i| {
            env.users
                .get(i)
                .map(|u| render::user(env, u, &api))
                .unwrap_or(Value::Null)
        }),
        Endpoint::UserSyncedRule(_, user_id, rule_id) => {
            let Some(&ui) = env.user_index.get(user_id) else {
                return reply::not_found("the user");
            };
            let Some(rule) = env.rule(rule_id) else {
                return reply::not_found("the rule");
            };
            let (Some(m), Some(u)) = (rule.member(ui), env.users.get(ui as usize)) else {
                return reply::not_found("a synced rule for this user");
            };
            reply::hal(200, &render::synced_rule(env, rule, u, m, &api))
        }
        Endpoint::Token(_) | Endpoint::CreateRevision(_) => reply::not_found("the resource"),
    }
}

/// One page of a collection of `total` items rendered by `item`.
fn page(
    call: &Call,
    default: usize,
    total: usize,
    name: &str,
    base: &str,
    item: impl Fn(usize) -> Value,
) -> Response {
    let p = match paging::parse(&call.query, default, 1000) {
        Ok(p) => p,
        Err(r) => return *r,
    };
    let end = p.offset.saturating_add(p.limit).min(total);
    let items = (p.offset.min(end)..end).map(item).collect();
    reply::hal(
        200,
        &paging::envelope(name, items, total, p, base, &call.self_href()),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_documented_paths() {
        let p = |s: &str| Endpoint::parse(s);
        assert_eq!(p("/e1/as/token"), Some(Endpoint::Token("e1".into())));
        assert_eq!(
            p("/v1/environments/e1/propagation/stores/s1"),
            Some(Endpoint::Store("e1".into(), "s1".into()))
        );
        assert_eq!(
            p("/v1/environments/e1/propagation/revisions/id%3Alatest"),
            Some(Endpoint::RevisionLatest("e1".into()))
        );
        assert_eq!(
            p("/v1/environments/e1/propagation/revisions/id:latest"),
            Some(Endpoint::RevisionLatest("e1".into()))
        );
        assert_eq!(
            p("/v1/environments/e/users/u/syncedRules/r"),
            Some(Endpoint::UserSyncedRule("e".into(), "u".into(), "r".into()))
        );
        assert_eq!(
            p("/v1/environments/e1/propagation/rules/r/syncedGroups").map(|e| e.template()),
            Some("synced_groups")
        );
        for bad in [
            "/",
            "/v1",
            "/v1/environments/e1",
            "/v1/environments/e1/propagation/mappings",
            "/a/b/as/token",
        ] {
            assert_eq!(p(bad), None, "{bad}");
        }
    }
}
