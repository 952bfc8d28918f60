//! Builds the tenant from a scenario: resolves names, derives every id from
//! the seed, picks each rule's population and groups, and gives active
//! rules an initial sync history. Every scenario check lives here, so
//! [`super::Scenario::validate`] and start-up agree.

mod rules;

use std::collections::{HashMap, HashSet};

use super::auth::{self, Client};
use super::engine;
use super::generate;
use super::model::{Clock, Env, Group, Revision, Store, Tenant, mix, uuid, wall_ms};
use super::scenario::{ClockMode, EnvironmentSpec, Scenario};

const DEFAULT_START: &str = "2026-01-01T00:00:00Z";

/// Builds the tenant (warm-up ticks included) and the API clients.
pub(crate) fn build(s: &Scenario) -> Result<(Tenant, Vec<Client>), String> {
    let tick_ms = i64::try_from(s.tick.as_millis()).unwrap_or(i64::MAX);
    if tick_ms <= 0 {
        return Err("tick: must be at least 1ms".into());
    }
    if s.token_lifetime.is_zero() {
        return Err("token_lifetime: must be positive".into());
    }
    let prefix_ok = s.token_prefix.len() <= 64
        && s.token_prefix
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"-._~".contains(&b));
    if !prefix_ok {
        return Err("token_prefix: at most 64 letters, digits, `-`, `.`, `_` or `~`".into());
    }
    if s.warmup_ticks > 10_000 {
        return Err("warmup_ticks: at most 10000".into());
    }
    let warmup = u64::from(s.warmup_ticks);
    let start_ms = match (s.clock, &s.start_time) {
        (ClockMode::Real, Some(_)) => {
            return Err("start_time: only used with `clock: manual`".into());
        }
        (ClockMode::Real, None) => wall_ms() - tick_ms.saturating_mul(i64::from(s.warmup_ticks)),
        (ClockMode::Manual, t) => {
            let text = t.as_deref().unwrap_or(DEFAULT_START);
            let secs = crate::timefmt::parse_rfc3339(text)
                .ok_or_else(|| format!("start_time: {text:?} is not an RFC 3339 time"))?;
            (secs * 1000.0).round() as i64
        }
    };
    let mut specs = s.environments.clone();
    if let Some(g) = &s.generate {
        specs.extend(generate::environments(g));
    }
    if specs.is_empty() {
        return Err("environments: none described; add `environments:` or `generate:`".into());
    }
    let mut envs = Vec::with_capacity(specs.len());
    let (mut ids, mut names) = (HashSet::new(), HashSet::new());
    for (i, spec) in specs.iter().enumerate() {
        let env =
            environment(s.seed, i, spec, start_ms).map_err(|e| format!("environments[{i}]{e}"))?;
        if !ids.insert(env.id.clone()) {
            return Err(format!("environments[{i}].id: duplicate id {:?}", env.id));
        }
        if !names.insert(env.name.clone()) {
            return Err(format!(
                "environments[{i}].name: duplicate name {:?}",
                env.name
            ));
        }
        envs.push(env);
    }
    let clients = auth::resolve_clients(&s.clients, &envs)?;
    let pairs: Vec<(String, String)> = envs
        .iter()
        .map(|e| (e.id.clone(), e.name.clone()))
        .collect();
    for (i, f) in s.faults.iter().enumerate() {
        f.check(&pairs).map_err(|e| format!("faults[{i}]: {e}"))?;
    }
    let clock = Clock {
        manual: s.clock == ClockMode::Manual,
        tick_ms,
        start_ms,
        ticks: 0,
        warmup,
    };
    let mut tenant = Tenant {
        seed: s.seed,
        clock,
        envs,
    };
    engine::advance(&mut tenant, warmup);
    Ok((tenant, clients))
}

fn environment(
    seed: u64,
    index: usize,
    spec: &EnvironmentSpec,
    start_ms: i64,
) -> Result<Env, String> {
    let mut rng = fastrand::Rng::with_seed(mix(seed, index as u64));
    let id = match &spec.id {
        Some(id) if id.is_empty() || id.contains(['/', '?', '#', '%', ' ']) => {
            return Err(format!(".id: {id:?} cannot be used in a URL path"));
        }
        Some(id) => id.clone(),
        None => uuid(&mut rng),
    };
    let plan_id = uuid(&mut rng);
    let admin_id = uuid(&mut rng);
    let created_ms = start_ms - 90 * engine::HISTORY_SPAN_MS as i64;
    let users = generate::users(spec.users, &mut rng);
    let user_index = users
        .iter()
        .enumerate()
        .map(|(i, u)| (u.id.clone(), i as u32))
        .collect();
    let groups = (0..spec.groups)
        .map(|n| Group {
            id: uuid(&mut rng),
            name: format!("Group {:03}", n + 1),
        })
        .collect();
    let mut stores = Vec::with_capacity(spec.stores.len());
    let mut store_names = HashMap::new();
    for (i, st) in spec.stores.iter().enumerate() {
        if st.kind.is_empty() || store_names.insert(st.name.as_str(), i).is_some() {
            return Err(format!(
                ".stores[{i}]: empty type or duplicate name {:?}",
                st.name
            ));
        }
        let sid = uuid(&mut rng);
        let (configuration, secrets) = generate::configuration(&st.kind, &id, &mut rng);
        stores.push(Store {
            id: sid,
            name: st.name.clone(),
            kind: st.kind.clone(),
            failing: st.failing,
            configuration,
            secrets,
            created_ms,
            last_sync_ms: None,
        });
    }
    let revision = Revision {
        id: uuid(&mut rng),
        created_ms: start_ms - engine::HISTORY_SPAN_MS as i64,
        previous: None,
    };
    let mut env = Env {
        id,
        name: spec.name.clone(),
        plan_id,
        admin_id,
        created_ms,
        users,
        user_index,
        groups,
        stores,
        rules: Vec::new(),
        revision,
        resyncs: 0,
        ids: rng,
    };
    rules::build(seed, spec, &store_names, &mut env, start_ms)?;
    Ok(env)
}
