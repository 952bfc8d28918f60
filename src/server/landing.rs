//! The landing page at `/`: version, environments and their last poll, and
//! links. Every interpolated value is HTML-escaped; nothing secret is known
//! to this module.

use std::fmt::Write;

use hyper::StatusCode;
use hyper::header::{self, HeaderValue};

use super::{Response, Web};
use crate::http::Chunks;
use crate::timefmt::{format_age, format_rfc3339, now_unix};

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

/// Renders the page.
pub fn page(web: &Web) -> Response {
    let now = now_unix();
    let mut h = String::with_capacity(4096);
    let path = escape(&web.telemetry_path);
    let _ = write!(
        h,
        "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\"><title>PingOne sync exporter</title>\
<style>body{{font-family:sans-serif;margin:2em}}table{{border-collapse:collapse}}td,th{{border:1px solid #ccc;padding:4px 8px;text-align:left}}.err{{color:#b00}}.ok{{color:#070}}</style>\
</head><body><h1>PingOne sync exporter</h1>\n<p>Version {}</p>\n<ul><li><a href=\"{path}\">Metrics</a></li>\
<li><a href=\"/-/healthy\">Health</a></li><li><a href=\"/-/ready\">Readiness</a></li></ul>\n",
        escape(crate::VERSION)
    );
    if !web.about.is_empty() {
        h.push_str("<table>");
        for (k, v) in &web.about {
            let _ = write!(h, "<tr><th>{}</th><td>{}</td></tr>", escape(k), escape(v));
        }
        h.push_str("</table>\n");
    }
    h.push_str("<h2>Environments</h2>\n<table><tr><th>name</th><th>id</th><th>rules</th><th>last poll</th><th>result</th></tr>\n");
    for e in web.shared.envs().iter() {
        let rules = e
            .snapshot
            .as_ref()
            .map_or("-".to_string(), |s| s.rules.len().to_string());
        let (when, result) = match &e.last_poll {
            None => (
                "-".to_string(),
                "<span>waiting for the first poll</span>".to_string(),
            ),
            Some(p) => (
                format!(
                    "{} ({} ago, took {:.1}s)",
                    format_rfc3339(p.finished_at),
                    format_age(now - p.finished_at),
                    p.duration
                ),
                match &p.error {
                    None => "<span class=\"ok\">ok</span>".to_string(),
                    Some(err) => format!("<span class=\"err\">{}</span>", escape(err)),
                },
            ),
        };
        let _ = writeln!(
            h,
            "<tr><td>{}</td><td>{}</td><td>{rules}</td><td>{}</td><td>{result}</td></tr>",
            escape(&e.key.name),
            escape(&e.key.id),
            escape(&when)
        );
    }
    h.push_str("</table>\n");
    firing_alerts(&mut h, web, now);
    h.push_str("</body></html>\n");
    let mut r = hyper::Response::new(Chunks::new(vec![h.into()]).into());
    *r.status_mut() = StatusCode::OK;
    r.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("text/html; charset=utf-8"),
    );
    r
}

/// The "Firing alerts" section, while the built-in alert sender is on.
fn firing_alerts(h: &mut String, web: &Web, now: f64) {
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
            label("alertname"),
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
