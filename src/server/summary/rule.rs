//! One rule's page at `/rules/{environment id}/{rule id}`: every number
//! with the metric that exports it, the failure reason, the failing users
//! (user-detail mode), and links to where the reader goes next: Grafana's
//! Rule detail dashboard, the PingOne admin console and the runbook
//! section of each alert of the rule.

use std::fmt::Write;

use super::html::{self, absent, rule_path, time};
use super::view::{Cell, EnvView, Metric, RuleRow, UserDetailMode, failing_for, plural};
use crate::alerting::AlertKind;
use crate::server::Web;
use crate::server::landing::escape;
use crate::snapshot::{Direction, FailedUser, RuleSummary};

fn number_row(h: &mut String, label: &str, m: Metric) {
    let _ = write!(h, "<tr><th scope=\"row\">{label}</th><td class=\"n\">");
    match m.cell {
        Cell::Count(n) => {
            let _ = write!(h, "{n}");
        }
        Cell::Absent(why) => absent(h, why),
    }
    let _ = writeln!(h, "</td><td><code>{}</code></td></tr>", escape(m.metric));
}

fn time_row(h: &mut String, label: &str, t: Option<f64>, metric: &str, now: f64, why: &str) {
    let _ = write!(h, "<tr><th scope=\"row\">{label}</th><td>");
    time(h, t, now, why);
    let _ = writeln!(h, "</td><td><code>{metric}</code></td></tr>");
}

fn numbers(h: &mut String, env: &EnvView<'_>, row: &RuleRow<'_>, now: f64) {
    let r = row.rule;
    let m = |cell, metric| Metric { cell, metric };
    h.push_str("<h2>Numbers</h2><div class=\"scroll\"><table class=\"numbers\"><thead><tr><th scope=\"col\">item</th><th scope=\"col\">value</th><th scope=\"col\">metric</th></tr></thead><tbody>\n");
    let _ = write!(h, "<tr><th scope=\"row\">status</th><td>");
    match r.status {
        Some(s) => h.push_str(s.as_str()),
        None => absent(
            h,
            "no status: PingOne sent neither the rule's active flag nor a store sync state",
        ),
    }
    h.push_str("</td><td><code>pingone_provisioning_rule_status{status}</code></td></tr>\n");
    let _ = writeln!(
        h,
        "<tr><th scope=\"row\">enabled</th><td>{}</td><td><code>pingone_provisioning_rule_enabled</code></td></tr>",
        r.enabled.map_or("–", |e| if e { "yes" } else { "no" })
    );
    number_row(
        h,
        "impacted users",
        m(row.impacted, "pingone_provisioning_users_impacted"),
    );
    number_row(h, "success events", row.events.0);
    number_row(h, "failure events", row.events.1);
    number_row(h, "synced users", row.users.0);
    number_row(h, "failed users", row.users.1);
    let groups_why = "PingOne sent no synced groups for this rule";
    let g = |v: Option<u64>| v.map_or(Cell::Absent(groups_why), Cell::Count);
    number_row(
        h,
        "impacted groups",
        m(g(r.groups_impacted), "pingone_provisioning_groups_impacted"),
    );
    for (state, v) in r.groups.labelled() {
        let metric = match state {
            "success" => "pingone_provisioning_groups{state=\"success\"}",
            _ => "pingone_provisioning_groups{state=\"failed\"}",
        };
        number_row(h, &format!("{state} groups"), m(g(v), metric));
    }
    let wb_why = if r.direction == Direction::Writeback {
        env.mode.absent_reason()
    } else {
        "only write-back rules write back"
    };
    number_row(
        h,
        "write-back failures",
        m(
            r.writeback_failures
                .map_or(Cell::Absent(wb_why), Cell::Count),
            "pingone_provisioning_writeback_failures",
        ),
    );
    let dep = r.events.failed_deprovision.map_or(
        Cell::Absent("PingOne sent no value for this rule"),
        Cell::Count,
    );
    number_row(
        h,
        "failed deprovisioning events",
        m(dep, "pingone_provisioning_deprovision_failure_events_total"),
    );
    let none = "PingOne sent no such time for this rule";
    time_row(
        h,
        "last sync",
        r.last_sync,
        "pingone_provisioning_last_sync_timestamp_seconds",
        now,
        none,
    );
    if r.direction == Direction::Inbound {
        time_row(
            h,
            "last poll of the source",
            r.last_poll,
            "pingone_provisioning_last_poll_timestamp_seconds",
            now,
            none,
        );
    }
    if r.direction == Direction::Writeback {
        time_row(
            h,
            "last write-back",
            r.last_writeback,
            "pingone_provisioning_last_writeback_timestamp_seconds",
            now,
            wb_why,
        );
    }
    let _ = write!(h, "<tr><th scope=\"row\">store status</th><td>");
    match r.store_status {
        Some(s) => h.push_str(s.as_str()),
        None => absent(
            h,
            "PingOne sent no documented status for the rule's connection store",
        ),
    }
    h.push_str("</td><td><code>pingone_provisioning_store_status{status}</code></td></tr>\n");
    time_row(
        h,
        "failing since (seen by this exporter)",
        r.failing_since,
        "pingone_provisioning_failing_since_timestamp_seconds",
        now,
        "not failing at the last poll, as far as this exporter has seen",
    );
    number_row(
        h,
        "polls in a row failing",
        m(
            r.failing_polls.map_or(
                Cell::Absent("no sync status on the rule's connection store"),
                Cell::Count,
            ),
            "pingone_provisioning_failing_polls",
        ),
    );
    let revision = env.state.snapshot.as_ref().and_then(|s| s.revision_created);
    time_row(
        h,
        "latest revision (environment)",
        revision,
        "pingone_provisioning_revision_timestamp_seconds",
        now,
        "PingOne has no revision for this environment",
    );
    h.push_str("</tbody></table></div>\n");
}

fn failing_users(h: &mut String, env: &EnvView<'_>, row: &RuleRow<'_>, now: f64) {
    h.push_str("<h2>Failing users</h2>\n<p class=\"failing-users\">");
    match env.mode {
        UserDetailMode::Off => h.push_str(
            "user-detail mode off: PingOne tells which users failed only per user, which that mode reads (see the configuration's <code>user_detail</code>).",
        ),
        UserDetailMode::Waiting => {
            h.push_str("user-detail mode on; its first walk has not finished.");
        }
        UserDetailMode::Merged(_) => match row.rule.users.failed {
            None => h.push_str("The last user-detail walk did not count this rule."),
            Some(0) => h.push_str("The last user-detail walk found no failing user."),
            Some(n) => {
                let users = plural(n, "user");
                let _ = write!(h, "The last user-detail walk found {n} failing {users}");
                failed_users(h, &row.rule.failed_users, n, now);
            }
        },
    }
    h.push_str("</p>\n");
}

/// The list of failing users the walk kept (the smallest ids), and how
/// many more there are: ids only, never metric labels.
fn failed_users(h: &mut String, users: &[FailedUser], total: u64, now: f64) {
    h.push_str(":</p>\n<div class=\"scroll\"><table class=\"failed-users\"><thead><tr><th scope=\"col\">user id</th><th scope=\"col\">last sync</th><th scope=\"col\">PingOne says</th></tr></thead><tbody>\n");
    for u in users {
        let _ = write!(h, "<tr><td><code>{}</code></td><td>", escape(&u.user_id));
        time(h, u.last_sync, now, "the record has no last sync time");
        let _ = writeln!(
            h,
            "</td><td>{}</td></tr>",
            escape(u.details.as_deref().unwrap_or("–"))
        );
    }
    h.push_str("</tbody></table></div>\n<p>");
    let more = total.saturating_sub(users.len() as u64);
    if more > 0 {
        let _ = write!(
            h,
            "and {more} more (the walk keeps the {} smallest user ids).",
            users.len()
        );
    }
}

fn links(h: &mut String, web: &Web, env: &EnvView<'_>, r: &RuleSummary) {
    h.push_str("<h2>Where to look next</h2><ul class=\"links\">");
    match web.page.grafana_rule_url(&env.state.key.name, &r.name) {
        Some(url) => {
            let _ = write!(h, "<li><a href=\"{}\">Grafana: Rule detail dashboard</a> (this rule over time)</li>", escape(&url));
        }
        None => h.push_str("<li>Grafana: no link; start the exporter with <code>--web.grafana-url</code> to link the Rule detail dashboard</li>"),
    }
    if let Some(page) = &env.page {
        let _ = write!(
            h,
            "<li><a href=\"{}\" rel=\"noreferrer\">PingOne admin console</a> of the environment (needs an admin role): Integrations &gt; Provisioning &gt; Rules, then this rule</li>",
            escape(&page.console_url)
        );
    }
    if !r.parent_rule_id.is_empty() {
        let _ = write!(
            h,
            "<li><a href=\"{}\">The parent inbound rule</a></li>",
            escape(&rule_path(&env.state.key.id, &r.parent_rule_id))
        );
    }
    h.push_str("</ul>\n");
}

fn alerts(h: &mut String, web: &Web, env_id: &str, rule_id: &str) {
    let status = &web.alerts;
    let on = status.is_on();
    let firing: Vec<String> = status
        .firing()
        .into_iter()
        .filter(|a| {
            a.labels.get("environment_id").map(String::as_str) == Some(env_id)
                && a.labels.get("rule_id").map(String::as_str) == Some(rule_id)
        })
        .filter_map(|a| a.labels.get("alertname").cloned())
        .collect();
    h.push_str("<h2>Alerts and runbook</h2>\n");
    if on {
        let _ = writeln!(
            h,
            "<p>{} alert(s) of this rule firing in the built-in alert sender.</p>",
            firing.len()
        );
    } else {
        h.push_str("<p>The built-in alert sender is off: your Prometheus evaluates the bundled rules; the runbook sections of this rule's alerts are below.</p>\n");
    }
    h.push_str("<ul class=\"alerts\">");
    for kind in AlertKind::ALL.into_iter().filter(|k| k.per_rule()) {
        let is_firing = firing.iter().any(|n| n == kind.name());
        let _ = write!(
            h,
            "<li{}>{}<a href=\"{}\">{}</a> ({}): {}</li>",
            if is_firing { " class=\"firing\"" } else { "" },
            if is_firing {
                "<strong class=\"mark\">⚠ firing</strong> "
            } else {
                ""
            },
            escape(&kind.runbook_url()),
            kind.name(),
            kind.severity(),
            escape(kind.summary())
        );
    }
    h.push_str("</ul>\n");
}

/// Renders the page of `row` in `env`.
pub fn render(web: &Web, env: &EnvView<'_>, row: &RuleRow<'_>, now: f64) -> String {
    let r = row.rule;
    let key = &env.state.key;
    let mut h = String::with_capacity(8192);
    html::open(
        &mut h,
        &format!("{} · {}", r.name, key.name),
        web.page.refresh_seconds(),
    );
    let _ = write!(
        h,
        "<nav><a href=\"/\">← Sync summary</a></nav><header><h1>{}</h1>\n<dl class=\"kv\"><dt>environment</dt><dd>{} (<code>{}</code>)</dd><dt>rule id</dt><dd><code>{}</code></dd><dt>direction</dt><dd>{}</dd>",
        escape(&r.name),
        escape(&key.name),
        escape(&key.id),
        escape(&r.id),
        r.direction.as_str()
    );
    for (label, s) in [("source store", &r.source), ("target store", &r.target)] {
        let text = match (s.name.is_empty(), s.kind.is_empty()) {
            (true, true) => "–".to_string(),
            (false, true) => s.name.clone(),
            (true, false) => s.kind.clone(),
            (false, false) => format!("{} ({})", s.name, s.kind),
        };
        let _ = write!(h, "<dt>{label}</dt><dd>{}</dd>", escape(&text));
    }
    h.push_str("</dl></header>\n<h2>Failure reason</h2>\n");
    match &row.reason {
        Some(reason) => {
            let _ = writeln!(
                h,
                "<p class=\"reason\"><strong class=\"mark\">⚠</strong> {}</p>",
                escape(reason)
            );
        }
        None => h.push_str("<p class=\"reason ok\">No failure.</p>\n"),
    }
    if let Some(since) = failing_for(r, now) {
        let _ = writeln!(h, "<p class=\"since\">{}</p>", escape(&since));
    }
    numbers(&mut h, env, row, now);
    failing_users(&mut h, env, row, now);
    links(&mut h, web, env, r);
    alerts(&mut h, web, &key.id, &r.id);
    html::close(&mut h, &web.telemetry_path);
    h
}
