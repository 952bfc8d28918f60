//! `budgets:` (named request budgets) and each environment's `budget:`.
//!
//! PingOne limits requests per licence, so an operator watching the
//! environments of several licences gives each licence a budget of its own.
//! The budget named `default` is `global.max_requests_per_second` and
//! `global.max_concurrent_requests`; an environment without `budget:` uses
//! it, so a file without `budgets:` behaves as one shared budget.

use std::collections::BTreeMap;

use super::context::Context;
use super::positions::{join, join_key};
use super::problem::quote;
use super::raw::RawBudget;
use super::{BudgetSettings, Config, Environment, Global, checks};

/// What a budget name may be, for messages.
const NAME_SHAPE: &str = "expected 1 to 64 letters, digits, _, . or -, such as org-a";

/// True for a name of 1 to 64 of `A-Za-z0-9_.-`.
fn valid_name(name: &str) -> bool {
    !name.is_empty()
        && name.len() <= 64
        && name
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'_' | b'.' | b'-'))
}

/// The budgets an environment may name: `default`, then every well-formed
/// name under `budgets:` (so that a mistake in one budget does not also make
/// every environment naming it "unknown").
pub(crate) fn names(raw: Option<&BTreeMap<String, RawBudget>>) -> Vec<String> {
    let mut out = vec![BudgetSettings::DEFAULT.to_string()];
    for name in raw.into_iter().flat_map(BTreeMap::keys) {
        if valid_name(name) && name != BudgetSettings::DEFAULT {
            out.push(name.clone());
        }
    }
    out
}

/// Resolves `budgets:` into the `default` budget of `global` followed by the
/// named ones, reporting every problem; `None` when there was one (or
/// `global` was invalid).
pub(crate) fn budgets(
    raw: Option<BTreeMap<String, RawBudget>>,
    global: Option<&Global>,
    ctx: &mut Context<'_>,
) -> Option<Vec<BudgetSettings>> {
    let mut out = global.map(|g| vec![BudgetSettings::default_for(g)]);
    let defaults = Global::default();
    for (name, budget) in raw.unwrap_or_default() {
        let path = join_key("budgets", &name);
        if !valid_name(&name) {
            ctx.problem(
                &path,
                format!(
                    "the budget name {} is not allowed; {NAME_SHAPE}",
                    quote(&name)
                ),
            );
            out = None;
            continue;
        }
        if name == BudgetSettings::DEFAULT {
            ctx.problem(
                &path,
                "the budget \"default\" is global.max_requests_per_second and \
                 global.max_concurrent_requests and cannot be redefined; \
                 expected those global keys, or another name for this budget",
            );
            out = None;
            continue;
        }
        let rate = match budget.max_requests_per_second.as_deref() {
            None => Some(defaults.max_requests_per_second),
            Some(text) => ctx.report(&join(&path, "max_requests_per_second"), checks::rate(text)),
        };
        let concurrency = match budget.max_concurrent_requests.as_deref() {
            None => Some(defaults.max_concurrent_requests),
            Some(text) => ctx.report(
                &join(&path, "max_concurrent_requests"),
                checks::count(text, 1),
            ),
        };
        match (rate, concurrency, out.as_mut()) {
            (Some(rate), Some(concurrency), Some(list)) => list.push(BudgetSettings {
                name,
                max_requests_per_second: rate,
                max_concurrent_requests: concurrency,
            }),
            _ => out = None,
        }
    }
    out
}

/// An environment's `budget:` at `path`: `default` when absent, else one
/// of `known` ([`names`]).
pub(crate) fn reference(
    ctx: &mut Context<'_>,
    path: &str,
    raw: Option<&str>,
    known: &[String],
) -> Option<String> {
    let Some(name) = raw else {
        return Some(BudgetSettings::DEFAULT.to_string());
    };
    if known.iter().any(|k| k == name) {
        return Some(name.to_string());
    }
    let hint = if known.len() == 1 {
        " (other budgets are defined under budgets:)"
    } else {
        ""
    };
    ctx.problem(
        path,
        format!(
            "unknown budget {}; expected one of: {}{hint}",
            quote(name),
            known.join(", ")
        ),
    );
    None
}

/// Warns about each budget under `budgets:` that no environment names: it
/// limits nothing, which is most likely a typo on the environment's side.
pub(crate) fn warn_unused(ctx: &mut Context<'_>, budgets: &[BudgetSettings], envs: &[Environment]) {
    for b in budgets.iter().filter(|b| b.name != BudgetSettings::DEFAULT) {
        if !envs.iter().any(|e| e.budget == b.name) {
            ctx.warning(
                &join_key("budgets", &b.name),
                format!(
                    "no environment uses the budget {}, so it limits nothing; \
                     expected an environment with budget: {}, or remove it",
                    quote(&b.name),
                    b.name
                ),
            );
        }
    }
}

impl Config {
    /// The budget named `name`, if the configuration defines one.
    pub fn budget(&self, name: &str) -> Option<&BudgetSettings> {
        self.budgets.iter().find(|b| b.name == name)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_letters_digits_and_three_marks() {
        for good in ["org-a", "licence_2", "eu.prod", "A", &"x".repeat(64)] {
            assert!(valid_name(good), "{good}");
        }
        for bad in ["", "org a", "org/a", "é", &"x".repeat(65)] {
            assert!(!valid_name(bad), "{bad}");
        }
    }
}
