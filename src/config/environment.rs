//! One `environments[i]` item: name, id, region, URLs (API, auth, admin
//! console), poll interval, credentials, rule filters and request budget,
//! plus the uniqueness of names and ids.

use std::collections::HashMap;
use std::time::Duration;

use super::context::Context;
use super::positions::join;
use super::problem::quote;
use super::raw::{RawEnvironment, RawRules, RawUserDetail};
use super::{
    Environment, Global, Region, RuleFilter, UserDetailSettings, checks, duration, secrets,
};

/// Names and ids already used, with the index of the environment using them.
#[derive(Default)]
pub(crate) struct Seen {
    names: HashMap<String, usize>,
    ids: HashMap<String, usize>,
}

/// Reports `value` at `path` when an earlier environment already has it.
fn unique(
    ctx: &mut Context<'_>,
    seen: &mut HashMap<String, usize>,
    value: &str,
    i: usize,
    path: &str,
    what: &str,
) {
    match seen.get(value) {
        Some(first) => ctx.problem(
            path,
            format!("duplicate {what} {}; environments[{first}] already uses it; each environment needs its own", quote(value)),
        ),
        None => {
            seen.insert(value.to_string(), i);
        }
    }
}

/// Resolves `environments[i]`, reporting every problem; `None` when there
/// was one. `budgets` are the budget names it may use. Problems are reported in the order of the fields below.
pub(crate) fn environment(
    i: usize,
    raw: RawEnvironment,
    global: Option<&Global>,
    budgets: &[String],
    seen: &mut Seen,
    ctx: &mut Context<'_>,
) -> Option<Environment> {
    let path = &format!("environments[{i}]");
    let (name, id) = identity(ctx, path, i, &raw, seen);
    let region = region(ctx, path, raw.region.as_deref());
    let api_url = optional_url(
        ctx,
        &join(path, "api_url"),
        &raw.api_url,
        "https://api.pingone.eu/v1",
    );
    let auth_url = optional_url(
        ctx,
        &join(path, "auth_url"),
        &raw.auth_url,
        "https://auth.pingone.eu",
    );
    let insecure = allow_insecure_http(ctx, path, raw.allow_insecure_http.as_deref());
    for (field, url) in [("auth_url", &auth_url), ("api_url", &api_url)] {
        if let (Some(Some(url)), Some(allowed)) = (url, insecure) {
            let sends = match field {
                "auth_url" => "the client secret",
                _ => "the access token",
            };
            let _ = ctx.report(
                &join(path, field),
                checks::cleartext(url, sends, allowed, "allow_insecure_http"),
            );
        }
    }
    let poll_interval = poll_interval(ctx, path, &raw.poll_interval, global);
    let defaults = global.cloned().unwrap_or_default();
    let (rules_interval, groups_interval) = match poll_interval {
        Some(poll) => (
            cadence(
                ctx,
                &join(path, "rules_interval"),
                &raw.rules_interval,
                defaults.rules_interval,
                poll,
                &join(path, "poll_interval"),
            ),
            cadence(
                ctx,
                &join(path, "groups_interval"),
                &raw.groups_interval,
                defaults.groups_interval,
                poll,
                &join(path, "poll_interval"),
            ),
        ),
        None => (None, None),
    };
    let credentials_path = join(path, "credentials");
    let credentials = match raw.credentials {
        Some(raw_credentials) => {
            secrets::credentials(&credentials_path, raw_credentials, id.as_deref(), ctx)
        }
        None => {
            let _ = ctx.required(path, "credentials", &None, secrets::CREDENTIALS_SHAPE);
            None
        }
    };
    let rules = rules(ctx, &join(path, "rules"), raw.rules.unwrap_or_default());
    let user_detail = match raw.user_detail {
        None => Some(None),
        Some(d) => user_detail(ctx, &join(path, "user_detail"), d),
    };
    let console_url = match raw.console_url.as_deref() {
        None => Some(None),
        Some(text) => ctx
            .report(
                &join(path, "console_url"),
                checks::link_url(text, "https://console.pingone.eu/?env=ENVIRONMENT_ID"),
            )
            .map(Some),
    };
    let budget =
        super::budgets::reference(ctx, &join(path, "budget"), raw.budget.as_deref(), budgets);
    let region = region?;
    Some(Environment {
        name: name?,
        id: id?,
        region,
        api_url: api_url?.unwrap_or_else(|| region.api_url()),
        auth_url: auth_url?.unwrap_or_else(|| region.auth_url()),
        credentials: credentials?,
        rules: rules?,
        poll_interval: poll_interval?,
        rules_interval: rules_interval?,
        groups_interval: groups_interval?,
        user_detail: user_detail?,
        console_url: console_url?,
        budget: budget?,
    })
}

/// The environment's name and id, each checked and unique among the
/// environments before it.
fn identity(
    ctx: &mut Context<'_>,
    path: &str,
    i: usize,
    raw: &RawEnvironment,
    seen: &mut Seen,
) -> (Option<String>, Option<String>) {
    let name = ctx
        .required(
            path,
            "name",
            &raw.name,
            "expected a friendly name such as prod-eu",
        )
        .and_then(|n| ctx.report(&join(path, "name"), checks::name(n)));
    let id_accepted = format!(
        "expected the monitored environment's id, a UUID such as {}",
        checks::EXAMPLE_UUID
    );
    let id = ctx
        .required(path, "id", &raw.id, &id_accepted)
        .and_then(|id| {
            ctx.report(
                &join(path, "id"),
                checks::uuid(id, "a PingOne environment id"),
            )
        });
    if let Some(name) = &name {
        unique(
            ctx,
            &mut seen.names,
            name,
            i,
            &join(path, "name"),
            "environment name",
        );
    }
    if let Some(id) = &id {
        unique(
            ctx,
            &mut seen.ids,
            id,
            i,
            &join(path, "id"),
            "environment id",
        );
    }
    (name, id)
}

/// The region (`com` when absent), which gives the default URLs.
fn region(ctx: &mut Context<'_>, path: &str, raw: Option<&str>) -> Option<Region> {
    match raw {
        None => Some(Region::Com),
        Some(text) => {
            let all: Vec<&str> = Region::ALL.iter().map(|r| r.as_str()).collect();
            let parsed = Region::parse(text).ok_or_else(|| {
                format!(
                    "unknown region {}; expected one of: {}",
                    quote(text),
                    all.join(", ")
                )
            });
            ctx.report(&join(path, "region"), parsed)
        }
    }
}

/// The poll interval: the environment's own, else `global.poll_interval`.
/// One of its own must be longer than `global.request_timeout`.
fn poll_interval(
    ctx: &mut Context<'_>,
    path: &str,
    raw: &Option<String>,
    global: Option<&Global>,
) -> Option<Duration> {
    let default_interval = global.map_or(Global::default().poll_interval, |g| g.poll_interval);
    let poll_interval = ctx.duration(
        &join(path, "poll_interval"),
        raw,
        default_interval,
        Some(Global::MIN_POLL_INTERVAL),
    );
    if let (Some(g), Some(interval), Some(_)) = (global, poll_interval, raw)
        && interval <= g.request_timeout
    {
        let message = format!(
            "{} is not longer than global.request_timeout ({}); \
             expected a poll interval above the request timeout",
            duration::format_duration(interval),
            duration::format_duration(g.request_timeout),
        );
        ctx.problem(&join(path, "poll_interval"), message);
    }
    poll_interval
}

/// A slower cadence (`rules_interval`, `groups_interval`) at `path`: the
/// value written there, which must be at least `poll` (named `poll_path` in
/// the message); else `inherited` raised to `poll`, since nothing is read
/// more often than the stores.
pub(crate) fn cadence(
    ctx: &mut Context<'_>,
    path: &str,
    raw: &Option<String>,
    inherited: Duration,
    poll: Duration,
    poll_path: &str,
) -> Option<Duration> {
    let value = ctx.duration(path, raw, inherited.max(poll), None)?;
    if raw.is_some() && value < poll {
        let message = format!(
            "{} is shorter than {poll_path} ({}); expected at least the poll interval, \
             since every poll reads the stores and nothing is read more often",
            duration::format_duration(value),
            duration::format_duration(poll),
        );
        ctx.problem(path, message);
        return None;
    }
    Some(value)
}

/// `Some(None)` when the walk is off, `Some(Some(..))` when on, `None` when
/// a value is invalid. `enabled` is required so a block without it is not
/// silently ignored.
fn user_detail(
    ctx: &mut Context<'_>,
    path: &str,
    raw: RawUserDetail,
) -> Option<Option<UserDetailSettings>> {
    let defaults = UserDetailSettings::default();
    let enabled = ctx
        .required(
            path,
            "enabled",
            &raw.enabled,
            "expected true to walk every rule's users, or false",
        )
        .and_then(|t| ctx.report(&join(path, "enabled"), checks::boolean(t)));
    let interval = ctx.duration(
        &join(path, "interval"),
        &raw.interval,
        defaults.interval,
        Some(UserDetailSettings::MIN_INTERVAL),
    );
    let max_requests_per_second = match raw.max_requests_per_second.as_deref() {
        None => Some(defaults.max_requests_per_second),
        Some(text) => ctx.report(&join(path, "max_requests_per_second"), checks::rate(text)),
    };
    let detail = UserDetailSettings {
        interval: interval?,
        max_requests_per_second: max_requests_per_second?,
    };
    Some(enabled?.then_some(detail))
}

/// `allow_insecure_http`: false when absent; `None` when invalid.
fn allow_insecure_http(ctx: &mut Context<'_>, path: &str, raw: Option<&str>) -> Option<bool> {
    match raw {
        None => Some(false),
        Some(t) => ctx.report(&join(path, "allow_insecure_http"), checks::boolean(t)),
    }
}

/// `Some(None)` when absent, `Some(Some(url))` when valid, `None` when invalid.
fn optional_url(
    ctx: &mut Context<'_>,
    path: &str,
    raw: &Option<String>,
    example: &str,
) -> Option<Option<String>> {
    match raw.as_deref() {
        None => Some(None),
        Some(text) => ctx.report(path, checks::base_url(text, example)).map(Some),
    }
}

fn rules(ctx: &mut Context<'_>, path: &str, raw: RawRules) -> Option<RuleFilter> {
    let mut compile = |field: &str, text: Option<String>| -> Option<Option<regex::Regex>> {
        match text {
            None => Some(None),
            Some(t) => ctx.report(&join(path, field), checks::regex(&t)).map(Some),
        }
    };
    let include = compile("include", raw.include);
    let exclude = compile("exclude", raw.exclude);
    Some(RuleFilter {
        include: include?,
        exclude: exclude?,
    })
}
