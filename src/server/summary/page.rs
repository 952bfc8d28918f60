//! The sync summary at `/`: one table per environment, one row per rule,
//! failing rules first, like the admin console's Provisioning page and the
//! `status` command.

use std::fmt::Write;

use super::html::{self, absent, cell, rule_path, time};
use super::view::{EnvView, RuleRow, UserDetailMode, failing_for};
use crate::server::Web;
use crate::server::landing::{self, escape};
use crate::timefmt::{format_age, format_rfc3339};

/// The column headers of a rule table, after the marker column.
pub const HEADERS: [&str; 11] = [
    "rule",
    "direction",
    "status",
    "impacted users",
    "success events",
    "failure events",
    "synced users",
    "failed users",
    "groups",
    "last sync",
    "failure reason",
];

/// Above this many rules in all, `/` lists the environments, each linking
/// its own page, instead of every rule: 10,000 rules make some 13 MB of
/// HTML, too much to render on every refresh or to read.
pub const FULL_PAGE_RULES: usize = 1000;

/// Renders the page for `envs` at `now`.
pub fn render(web: &Web, envs: &[EnvView<'_>], now: f64) -> String {
    let mut h =
        String::with_capacity(8192 + 1024 * envs.iter().map(|e| e.rows.len()).sum::<usize>());
    let refresh = web.page.refresh_seconds();
    html::open(&mut h, "PingOne provisioning sync", refresh);
    let rules: usize = envs.iter().map(|e| e.rows.len()).sum();
    let attention: usize = envs.iter().map(EnvView::attention).sum();
    let failed_polls = envs
        .iter()
        .filter(|e| {
            e.state
                .last_poll
                .as_ref()
                .is_some_and(|p| p.error.is_some())
        })
        .count();
    let _ = write!(
        h,
        "<header><h1>PingOne provisioning sync</h1><p class=\"meta\">{rules} rules in {} environments; ",
        envs.len()
    );
    if attention == 0 {
        h.push_str("<span class=\"ok\">none needs attention</span>");
    } else {
        let _ = write!(
            h,
            "<strong class=\"mark\" id=\"attention-count\">⚠ {attention} need attention</strong> (listed first, marked ⚠)"
        );
    }
    if failed_polls > 0 {
        let _ = write!(
            h,
            "; <strong class=\"mark\">⚠ {failed_polls} environment poll(s) failed</strong>"
        );
    }
    let _ = writeln!(
        h,
        ". As of {}; refreshes every {refresh}s.</p></header>",
        escape(&format_rfc3339(now))
    );
    if rules > FULL_PAGE_RULES && envs.len() > 1 {
        overview(&mut h, envs, rules, now);
    } else {
        for env in envs {
            environment(&mut h, env, now);
        }
    }
    landing::firing_alerts(&mut h, web, now);
    landing::about(&mut h, web);
    html::close(&mut h, &web.telemetry_path);
    h
}

/// One environment's page at `/environments/{id}`.
pub fn render_environment(web: &Web, env: &EnvView<'_>, now: f64) -> String {
    let mut h = String::with_capacity(8192 + 1024 * env.rows.len());
    let name = &env.state.key.name;
    html::open(
        &mut h,
        &format!("{name} · PingOne provisioning sync"),
        web.page.refresh_seconds(),
    );
    let _ = writeln!(
        h,
        "<nav><a href=\"/\">← All environments</a></nav><header><h1>PingOne provisioning sync: {}</h1><p class=\"meta\">As of {}.</p></header>",
        escape(name),
        escape(&format_rfc3339(now))
    );
    environment(&mut h, env, now);
    html::close(&mut h, &web.telemetry_path);
    h
}

/// The environments as one table, those needing attention first.
fn overview(h: &mut String, envs: &[EnvView<'_>], rules: usize, now: f64) {
    let _ = writeln!(
        h,
        "<p>{rules} rules are too many for one page: open an environment. Environments with rules needing attention or a failed poll come first.</p>\
<div class=\"scroll\"><table class=\"environments\"><thead><tr><th scope=\"col\"><span class=\"vh\">attention</span></th>\
<th scope=\"col\">environment</th><th scope=\"col\">rules</th><th scope=\"col\">need attention</th><th scope=\"col\">last poll</th><th scope=\"col\">result</th></tr></thead><tbody>"
    );
    let mut order: Vec<&EnvView<'_>> = envs.iter().collect();
    let poll_failed = |e: &EnvView<'_>| {
        e.state
            .last_poll
            .as_ref()
            .is_some_and(|p| p.error.is_some())
    };
    order.sort_by_key(|e| !(e.attention() > 0 || poll_failed(e)));
    for env in order {
        let marked = env.attention() > 0 || poll_failed(env);
        let key = &env.state.key;
        let _ = write!(
            h,
            "<tr class=\"environment{}\"><td>{}</td><th scope=\"row\"><a href=\"/environments/{}\">{}</a></th><td class=\"n\">{}</td><td class=\"n\">{}</td><td>",
            if marked { " attention" } else { "" },
            if marked {
                "<span class=\"mark\" role=\"img\" aria-label=\"needs attention\" title=\"needs attention\">⚠</span>"
            } else {
                ""
            },
            escape(&html::segment(&key.id)),
            escape(&key.name),
            env.rows.len(),
            env.attention()
        );
        let last = env.state.last_poll.as_ref();
        time(
            h,
            last.map(|p| p.finished_at),
            now,
            "waiting for the first poll",
        );
        h.push_str("</td><td>");
        match last.map(|p| p.error.as_deref()) {
            None => {}
            Some(None) => h.push_str("<span class=\"ok\">ok</span>"),
            Some(Some(e)) => {
                let _ = write!(h, "<strong class=\"mark\">⚠ failed:</strong> {}", escape(e));
            }
        }
        h.push_str("</td></tr>\n");
    }
    h.push_str("</tbody></table></div>\n");
}

fn environment(h: &mut String, env: &EnvView<'_>, now: f64) {
    let key = &env.state.key;
    let _ = write!(
        h,
        "<section class=\"environment\" data-environment-id=\"{}\"><h2><a href=\"/environments/{}\">{}</a></h2><p class=\"meta\">id <code>{}</code> · last poll ",
        escape(&key.id),
        escape(&html::segment(&key.id)),
        escape(&key.name),
        escape(&key.id)
    );
    match &env.state.last_poll {
        None => h.push_str("<span>waiting for the first poll</span>"),
        Some(p) => {
            let _ = write!(
                h,
                "{} ago ({}, took {:.1}s) ",
                escape(&format_age(now - p.finished_at)),
                escape(&format_rfc3339(p.finished_at)),
                p.duration
            );
            match &p.error {
                None => h.push_str("<span class=\"ok\">ok</span>"),
                Some(e) => {
                    let kept = if env.state.snapshot.is_some() {
                        "the rules below are from the last good poll"
                    } else {
                        "nothing could be read"
                    };
                    let _ = write!(
                        h,
                        "<strong class=\"mark poll-error\" role=\"alert\">⚠ failed: {} ({kept})</strong>",
                        escape(e)
                    );
                }
            }
        }
    }
    let mode = match env.mode {
        UserDetailMode::Off => "off".to_string(),
        UserDetailMode::Waiting => "on, first walk not finished".to_string(),
        UserDetailMode::Merged(t) => format!("on, last walk {} ago", format_age(now - t)),
    };
    let _ = write!(h, " · user-detail mode {}", escape(&mode));
    if let Some(page) = &env.page {
        let _ = write!(
            h,
            " · <a href=\"{}\" rel=\"noreferrer\">PingOne admin console</a>",
            escape(&page.console_url)
        );
    }
    h.push_str("</p>\n");
    if env.state.snapshot.is_none() {
        h.push_str("<p>No rules to show yet.</p></section>\n");
        return;
    }
    if env.rows.is_empty() {
        h.push_str("<p>No rules (or none matches the configured filter).</p></section>\n");
        return;
    }
    let _ = write!(
        h,
        "<div class=\"scroll\"><table class=\"rules\"><caption class=\"vh\">Rules of {}, failing first</caption><thead><tr><th scope=\"col\"><span class=\"vh\">attention</span></th>",
        escape(&key.name)
    );
    for head in HEADERS {
        let _ = write!(h, "<th scope=\"col\">{head}</th>");
    }
    h.push_str("</tr></thead><tbody>\n");
    for row in &env.rows {
        rule_row(h, &key.id, row, now);
    }
    h.push_str("</tbody></table></div></section>\n");
}

fn rule_row(h: &mut String, env_id: &str, row: &RuleRow<'_>, now: f64) {
    let r = row.rule;
    let _ = write!(
        h,
        "<tr class=\"rule{}\" data-rule-id=\"{}\"><td>",
        if row.attention { " attention" } else { "" },
        escape(&r.id)
    );
    if row.attention {
        h.push_str("<span class=\"mark\" role=\"img\" aria-label=\"needs attention\" title=\"needs attention\">⚠</span>");
    }
    let _ = write!(
        h,
        "</td><th scope=\"row\"><a href=\"{}\">{}</a></th><td>{}</td><td>",
        escape(&rule_path(env_id, &r.id)),
        escape(&r.name),
        r.direction.as_str()
    );
    match r.status {
        Some(s) if row.attention && s.as_str() == "failed" => {
            h.push_str("<strong class=\"mark\">⚠ failed</strong>");
        }
        Some(s) => h.push_str(s.as_str()),
        None => absent(
            h,
            "no status: PingOne sent neither the rule's active flag nor a store sync state",
        ),
    }
    h.push_str("</td>");
    cell(h, row.impacted);
    cell(h, row.events.0.cell);
    cell(h, row.events.1.cell);
    cell(h, row.users.0.cell);
    cell(h, row.users.1.cell);
    h.push_str("<td class=\"n\">");
    match r.groups_impacted {
        None => absent(h, "PingOne sent no synced groups for this rule"),
        Some(n) => {
            let _ = write!(h, "{n}");
            let s = r.groups.success.map(|s| format!("{s} synced"));
            let f = r
                .groups
                .failed
                .filter(|f| *f > 0)
                .map(|f| format!("{f} failed"));
            let parts: Vec<String> = [s, f].into_iter().flatten().collect();
            if n > 0 && !parts.is_empty() {
                let _ = write!(h, "<br><small>{}</small>", parts.join(", "));
            }
        }
    }
    h.push_str("</td><td>");
    time(
        h,
        r.last_sync,
        now,
        "PingOne sent no last sync time for this rule",
    );
    h.push_str("</td><td class=\"reason\">");
    if let Some(reason) = &row.reason {
        h.push_str(&escape(reason));
    }
    if let Some(since) = failing_for(r, now) {
        let _ = write!(h, "<br><small class=\"since\">{}</small>", escape(&since));
    }
    h.push_str("</td></tr>\n");
}
