//! Builds the tenant from a scenario: resolves names, derives every id from
//! the seed, picks each rule's population and groups, and gives active
//! rules an initial sync history. Every scenario check lives here, so
//! [`super::Scenario::validate`] and start-up agree.

use std::collections::{HashMap, HashSet};

use super::auth::{self, Client};
use super::engine;
use super::generate;
use super::model::{
    Clock, Direction, Env, Group, GroupSync, Member, Revision, Rule, Store, Tenant, UserState,
    is_pingone_store, mix, uuid, wall_ms,
};
use super::scenario::{ClockMode, EnvironmentSpec, RuleSpec, Scenario};

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
    rules(seed, spec, &store_names, &mut env, start_ms)?;
    Ok(env)
}

fn rules(
    seed: u64,
    spec: &EnvironmentSpec,
    store_names: &HashMap<&str, usize>,
    env: &mut Env,
    start_ms: i64,
) -> Result<(), String> {
    let mut by_name: HashMap<&str, usize> = HashMap::new();
    for (i, r) in spec.rules.iter().enumerate() {
        if by_name.insert(r.name.as_str(), i).is_some() {
            return Err(format!(".rules[{i}].name: duplicate name {:?}", r.name));
        }
    }
    for (i, r) in spec.rules.iter().enumerate() {
        let rule = rule(seed, r, store_names, &by_name, spec, env, start_ms)
            .map_err(|e| format!(".rules[{i}]{e}"))?;
        env.rules.push(rule);
    }
    // Write-back rules work on the users their parent provisioned.
    for i in 0..env.rules.len() {
        if let Some(p) = spec.rules[i].parent.as_deref().and_then(|p| by_name.get(p)) {
            let members = env.rules[*p].members.clone();
            let mut rng = fastrand::Rng::with_seed(mix(seed, env.rules[i].key));
            env.rules[i].members = members;
            engine::history(&mut env.rules[i], &mut rng, start_ms);
            env.rules[i].parent_id = Some(env.rules[*p].id.clone());
        }
    }
    for r in env.rules.iter().filter(|r| r.active) {
        let conn = r.connection_store();
        let latest = r.members.iter().filter_map(|m| m.last_sync_ms).max();
        if let Some(store) = env.stores.get_mut(conn) {
            store.last_sync_ms = store.last_sync_ms.max(latest);
        }
    }
    Ok(())
}

fn rule(
    seed: u64,
    r: &RuleSpec,
    stores: &HashMap<&str, usize>,
    rules: &HashMap<&str, usize>,
    spec: &EnvironmentSpec,
    env: &mut Env,
    start_ms: i64,
) -> Result<Rule, String> {
    let find = |field: &str, name: &str| {
        stores
            .get(name)
            .copied()
            .ok_or_else(|| format!(".{field}: no store named {name:?}"))
    };
    let (source, target) = (find("source", &r.source)?, find("target", &r.target)?);
    let kind = |i: usize| spec.stores[i].kind.as_str();
    let direction = match &r.parent {
        Some(p) => {
            let parent = rules.get(p.as_str()).map(|&i| &spec.rules[i]);
            let Some(parent) = parent.filter(|pr| pr.parent.is_none() && pr.source == r.target)
            else {
                return Err(format!(
                    ".parent: {p:?} must be an inbound rule whose source is {:?}",
                    r.target
                ));
            };
            if kind(source) != "directory"
                || is_pingone_store(kind(target))
                || parent.name == r.name
            {
                return Err(".source/.target: a write-back rule goes from a `directory` store to its parent's source".into());
            }
            Direction::Writeback
        }
        None if is_pingone_store(kind(target)) => {
            if is_pingone_store(kind(source)) {
                return Err(".source: an inbound rule's source must be a connection store".into());
            }
            Direction::Inbound
        }
        None if kind(source) != "directory" => {
            return Err(".source: an outbound rule's source must be a `directory` store".into());
        }
        None => Direction::Outbound,
    };
    r.rates.check()?;
    if !(0.0..=1.0).contains(&r.population) {
        return Err(".population: a fraction in [0, 1]".into());
    }
    if r.groups as usize > env.groups.len() || r.group_statuses.len() > r.groups as usize {
        return Err(".groups: more than the environment has, or fewer than group_statuses".into());
    }
    let key = mix(seed, env.ids.u64(..));
    let mut rng = fastrand::Rng::with_seed(key);
    let mut pick = |n: usize, of: usize| {
        let mut all: Vec<u32> = (0..of as u32).collect();
        rng.shuffle(&mut all);
        all.truncate(n);
        all.sort_unstable();
        all
    };
    // A write-back rule's scope is its parent's, copied in afterwards.
    let in_scope = match direction {
        Direction::Writeback => 0,
        _ => (r.population * env.users.len() as f64).round() as usize,
    };
    let members = pick(in_scope.min(env.users.len()), env.users.len())
        .into_iter()
        .map(|user| Member {
            user,
            state: UserState::Unsynced,
            pending: true,
            last_sync_ms: None,
        })
        .collect();
    let groups = pick(r.groups as usize, env.groups.len())
        .into_iter()
        .enumerate()
        .map(|(i, group)| {
            let fixed = r.group_statuses.get(i);
            let status = fixed.cloned().unwrap_or_else(|| "UNSYNCED".into());
            GroupSync {
                group,
                status,
                fixed: fixed.is_some(),
                last_sync_ms: None,
            }
        })
        .collect();
    let mut rule = Rule {
        id: uuid(&mut env.ids),
        name: r.name.clone(),
        description: r
            .description
            .clone()
            .unwrap_or_else(|| format!("{} → {}", r.source, r.target)),
        population_expression: r.population_expression.clone().unwrap_or_else(|| {
            format!(
                "department sw \"{}\"",
                r.name.split_whitespace().next().unwrap_or("All")
            )
        }),
        direction,
        source,
        target,
        parent_id: None,
        active: r.active,
        created_ms: env.created_ms + 3_600_000,
        key,
        rates: r.rates.clone(),
        forced_state: r.sync_state.clone(),
        members,
        groups,
        events: Default::default(),
        last_sync_ms: None,
        last_poll_ms: None,
        last_writeback_ms: None,
    };
    engine::history(&mut rule, &mut rng, start_ms);
    Ok(rule)
}
