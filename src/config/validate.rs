//! From the file as written ([`RawConfig`]) to the resolved [`Config`].
//!
//! Every check runs and every problem is collected, then sorted into file
//! order, so one `--config.check` run shows everything that is wrong. Each
//! problem points at the offending value (scalars) or key (collections),
//! using the document's position index; a missing key is reported at the
//! mapping that should hold it.

use super::context::Context;
use super::environment::{Seen, environment};
use super::problem::Problem;
use super::raw::{RawConfig, RawEnvironment, RawGlobal};
use super::{Config, Environment, Global, checks, duration};

/// What an `environments` list item needs, for messages.
const ENVIRONMENT_SHAPE: &str =
    "expected a list of environments, each with name, id and credentials";

/// Validates the whole file, recording every problem in `ctx`; `None`
/// when there was one (see [`finish`]).
pub(crate) fn validate(raw: RawConfig, ctx: &mut Context<'_>) -> Option<Config> {
    let global = global(raw.global.unwrap_or_default(), ctx);
    let known = super::budgets::names(raw.budgets.as_ref());
    let budgets = super::budgets::budgets(raw.budgets, global.as_ref(), ctx);
    let environments = environments(raw.environments, global.as_ref(), &known, ctx);
    if let (Some(b), Some(e)) = (&budgets, &environments) {
        super::budgets::warn_unused(ctx, b, e);
    }
    let alerting = match raw.alerting {
        None => Some(None),
        Some(a) => super::alerting::validate(a, ctx).map(Some),
    };
    match (global, budgets, environments, alerting) {
        (Some(global), Some(budgets), Some(environments), Some(alerting))
            if ctx.problems.is_empty() =>
        {
            Some(Config {
                global,
                budgets,
                environments,
                alerting,
                warnings: Vec::new(),
            })
        }
        _ => None,
    }
}

fn global(raw: RawGlobal, ctx: &mut Context<'_>) -> Option<Global> {
    let defaults = Global::default();
    let poll_interval = ctx.duration(
        "global.poll_interval",
        &raw.poll_interval,
        defaults.poll_interval,
        Some(Global::MIN_POLL_INTERVAL),
    );
    let request_timeout = ctx.duration(
        "global.request_timeout",
        &raw.request_timeout,
        defaults.request_timeout,
        None,
    );
    let max_requests_per_second = match raw.max_requests_per_second.as_deref() {
        None => Some(defaults.max_requests_per_second),
        Some(text) => ctx.report("global.max_requests_per_second", checks::rate(text)),
    };
    let max_concurrent_requests = match raw.max_concurrent_requests.as_deref() {
        None => Some(defaults.max_concurrent_requests),
        Some(text) => ctx.report("global.max_concurrent_requests", checks::count(text, 1)),
    };
    let (poll_interval, request_timeout) = (poll_interval?, request_timeout?);
    let rules_interval = super::environment::cadence(
        ctx,
        "global.rules_interval",
        &raw.rules_interval,
        Global::DEFAULT_RULES_INTERVAL,
        poll_interval,
        "global.poll_interval",
    );
    let groups_interval = super::environment::cadence(
        ctx,
        "global.groups_interval",
        &raw.groups_interval,
        Global::DEFAULT_GROUPS_INTERVAL,
        poll_interval,
        "global.poll_interval",
    );
    if request_timeout >= poll_interval {
        let (path, message) = if raw.request_timeout.is_some() {
            (
                "global.request_timeout",
                format!(
                    "{} is not shorter than global.poll_interval ({}); expected a timeout below the poll interval",
                    duration::format_duration(request_timeout),
                    duration::format_duration(poll_interval),
                ),
            )
        } else {
            (
                "global.poll_interval",
                format!(
                    "{} is not longer than global.request_timeout ({}, the default); expected a poll interval above the request timeout",
                    duration::format_duration(poll_interval),
                    duration::format_duration(request_timeout),
                ),
            )
        };
        ctx.problem(path, message);
        return None;
    }
    Some(Global {
        poll_interval,
        request_timeout,
        rules_interval: rules_interval?,
        groups_interval: groups_interval?,
        max_requests_per_second: max_requests_per_second?,
        max_concurrent_requests: max_concurrent_requests?,
    })
}

fn environments(
    raw: Option<Vec<RawEnvironment>>,
    global: Option<&Global>,
    budgets: &[String],
    ctx: &mut Context<'_>,
) -> Option<Vec<Environment>> {
    let Some(raw) = raw else {
        if ctx.index.contains("environments") {
            ctx.problem(
                "environments",
                format!("no value given; {ENVIRONMENT_SHAPE}"),
            );
        } else {
            ctx.problems.push(
                ctx.index.at(""),
                "",
                format!("missing required field \"environments\"; {ENVIRONMENT_SHAPE}"),
            );
        }
        return None;
    };
    if raw.is_empty() {
        ctx.problem(
            "environments",
            format!("the list is empty; {ENVIRONMENT_SHAPE}"),
        );
        return None;
    }
    let mut seen = Seen::default();
    let mut out = Vec::with_capacity(raw.len());
    for (i, env) in raw.into_iter().enumerate() {
        if let Some(env) = environment(i, env, global, budgets, &mut seen, ctx) {
            out.push(env);
        }
    }
    Some(out)
}

/// Turns the collected problems into the final result.
pub(crate) fn finish(config: Option<Config>, ctx: Context<'_>) -> Result<Config, Vec<Problem>> {
    match config {
        Some(mut config) if ctx.problems.is_empty() => {
            config.warnings = ctx.warnings.into_sorted();
            Ok(config)
        }
        _ => Err(ctx.problems.into_sorted()),
    }
}
