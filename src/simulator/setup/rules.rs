//! An environment's rules: each checked against its stores and its parent,
//! given a population and groups drawn from a generator of its own, and an
//! initial sync history; write-back rules then take their parent's users.

use std::collections::HashMap;

use crate::simulator::engine;
use crate::simulator::model::{
    Direction, Env, GroupSync, Member, Rule, UserState, is_pingone_store, mix, uuid,
};
use crate::simulator::scenario::{EnvironmentSpec, RuleSpec};

/// Builds the rules of `spec` into `env`; the error names the rule and
/// field.
pub(super) fn build(
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

/// Builds one rule: checks its stores and numbers, then picks its
/// population and groups from a generator of its own and gives it an
/// initial sync history.
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
    let direction = direction(r, rules, spec, source, target)?;
    check_numbers(r, env)?;
    let key = mix(seed, env.ids.u64(..));
    let mut rng = fastrand::Rng::with_seed(key);
    let (members, groups) = population(r, direction, env, &mut rng);
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

/// The rule's direction, from its stores' types and its parent: a
/// write-back rule goes from a `directory` store back to its inbound
/// parent's source; an inbound rule goes from a connection store into
/// PingOne; an outbound rule from a `directory` store out.
fn direction(
    r: &RuleSpec,
    rules: &HashMap<&str, usize>,
    spec: &EnvironmentSpec,
    source: usize,
    target: usize,
) -> Result<Direction, String> {
    let kind = |i: usize| spec.stores[i].kind.as_str();
    match &r.parent {
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
            Ok(Direction::Writeback)
        }
        None if is_pingone_store(kind(target)) => {
            if is_pingone_store(kind(source)) {
                return Err(".source: an inbound rule's source must be a connection store".into());
            }
            Ok(Direction::Inbound)
        }
        None if kind(source) != "directory" => {
            Err(".source: an outbound rule's source must be a `directory` store".into())
        }
        None => Ok(Direction::Outbound),
    }
}

/// The rule's rates, population fraction and group counts are in bounds.
fn check_numbers(r: &RuleSpec, env: &Env) -> Result<(), String> {
    r.rates.check()?;
    if !(0.0..=1.0).contains(&r.population) {
        return Err(".population: a fraction in [0, 1]".into());
    }
    if r.groups as usize > env.groups.len() || r.group_statuses.len() > r.groups as usize {
        return Err(".groups: more than the environment has, or fewer than group_statuses".into());
    }
    Ok(())
}

/// The users in the rule's scope (none yet for a write-back rule: its
/// parent's are copied in afterwards) and its groups, the first ones with
/// the fixed statuses the scenario gives. Members are drawn before groups.
fn population(
    r: &RuleSpec,
    direction: Direction,
    env: &Env,
    rng: &mut fastrand::Rng,
) -> (Vec<Member>, Vec<GroupSync>) {
    let in_scope = match direction {
        Direction::Writeback => 0,
        _ => (r.population * env.users.len() as f64).round() as usize,
    };
    let members = pick(rng, in_scope.min(env.users.len()), env.users.len())
        .into_iter()
        .map(|user| Member {
            user,
            state: UserState::Unsynced,
            pending: true,
            last_sync_ms: None,
        })
        .collect();
    let groups = pick(rng, r.groups as usize, env.groups.len())
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
    (members, groups)
}

/// `n` distinct indices out of `0..of`, drawn at random, in order.
fn pick(rng: &mut fastrand::Rng, n: usize, of: usize) -> Vec<u32> {
    let mut all: Vec<u32> = (0..of as u32).collect();
    rng.shuffle(&mut all);
    all.truncate(n);
    all.sort_unstable();
    all
}
