//! Parts of the landing page at `/` besides the sync summary
//! ([`super::summary`]): HTML escaping, the firing alerts of the built-in
//! alert sender and the "About" table. Every interpolated value is
//! HTML-escaped; nothing secret is known to this module.

use std::fmt::Write;

use super::Web;
use crate::alerting::AlertKind;
use crate::timefmt::{format_age, format_rfc3339};

/// Escapes text for HTML element content and attribute values.
pub fn escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

/// The "About" table: the daemon's mode, config file and web config.
pub fn about(h: &mut String, web: &Web) {
    if web.about.is_empty() {
        return;
    }
    let _ = write!(
        h,
        "<h2>About this exporter</h2>\n<table><tr><th>version</th><td>{}</td></tr>",
        escape(crate::VERSION)
    );
    for (k, v) in &web.about {
        let _ = write!(h, "<tr><th>{}</th><td>{}</td></tr>", escape(k), escape(v));
    }
    h.push_str("</table>\n");
}

/// The "Firing alerts" section, while the built-in alert sender is on.
pub fn firing_alerts(h: &mut String, web: &Web, now: f64) {
    let status = &web.alerts;
    if !status.is_on() {
        return;
    }
    let firing = status.firing();
    let _ = writeln!(h, "<h2>Firing alerts ({})</h2>", firing.len());
    if firing.is_empty() {
        h.push_str("<p>None.</p>\n");
        return;
    }
    h.push_str("<table><tr><th>alert</th><th>severity</th><th>environment</th><th>rule</th><th>firing since</th><th>description</th></tr>\n");
    for a in &firing {
        let label = |k: &str| escape(a.labels.get(k).map_or("", String::as_str));
        let _ = writeln!(
            h,
            "<tr><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{} ({} ago)</td><td>{}</td></tr>",
            runbook_link(a.labels.get("alertname").map_or("", String::as_str)),
            label("severity"),
            label("environment_name"),
            label("rule_name"),
            escape(&format_rfc3339(a.fired_at)),
            escape(&format_age(now - a.fired_at)),
            escape(&a.description)
        );
    }
    h.push_str("</table>\n");
}

/// The alert name, linked to its runbook section when it is one of ours.
fn runbook_link(alertname: &str) -> String {
    match AlertKind::from_name(alertname) {
        Some(kind) => format!(
            "<a href=\"{}\">{}</a>",
            escape(&kind.runbook_url()),
            escape(alertname)
        ),
        None => escape(alertname),
    }
}

#[cfg(test)]
mod tests {
    use super::escape;

    #[test]
    fn escapes_markup() {
        assert_eq!(
            escape("<a href='x'>&\"</a>"),
            "&lt;a href=&#39;x&#39;&gt;&amp;&quot;&lt;/a&gt;"
        );
    }
}
