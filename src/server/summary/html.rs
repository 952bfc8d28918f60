//! HTML pieces shared by the status pages: the frame (head with refresh,
//! viewport and style; header; footer), cells, times and rule links. Every
//! interpolated value goes through [`escape`].

use std::fmt::Write;

use super::view::Cell;
use crate::server::landing::escape;
use crate::timefmt::{format_age, format_rfc3339};

/// The page style: readable without it, responsive with it. Attention is
/// marked by a text marker and a border, never by colour alone.
const STYLE: &str = "body{font-family:system-ui,sans-serif;margin:0 auto;padding:1em;max-width:1400px;color:#111;line-height:1.4}\
h1{font-size:1.5em;margin:.2em 0}h2{font-size:1.2em;margin:1.4em 0 .3em}\
.scroll{overflow-x:auto;-webkit-overflow-scrolling:touch}\
table{border-collapse:collapse;min-width:100%;font-size:.95em}td,th{border:1px solid #ccc;padding:4px 6px;text-align:left;vertical-align:top}\
th{background:#f3f3f3}td.n{text-align:right;font-variant-numeric:tabular-nums}\
tr.attention{background:#fff1f0}tr.attention td:first-child{border-left:4px solid #b00}\
.mark{font-weight:bold;color:#b00;white-space:nowrap}.ok{color:#060}\
.absent{color:#555;cursor:help;border-bottom:1px dotted #555}\
tbody th{background:none;min-width:9em}time,small{white-space:nowrap}\
.meta{color:#444;margin:.2em 0}td.reason{min-width:14em;max-width:30em}small{color:#555}\
.vh{position:absolute;width:1px;height:1px;overflow:hidden;clip:rect(0 0 0 0);white-space:nowrap}\
nav a{margin-right:1em}dl.kv{display:grid;grid-template-columns:max-content 1fr;gap:.2em 1em}dl.kv dt{font-weight:bold}";

/// The head and the page header.
pub fn open(h: &mut String, title: &str, refresh_seconds: u64) {
    let _ = write!(
        h,
        "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">\
<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\
<meta http-equiv=\"refresh\" content=\"{refresh_seconds}\">\
<title>{}</title><style>{STYLE}</style></head><body>\n",
        escape(title)
    );
}

/// The footer: navigation and the version.
pub fn close(h: &mut String, telemetry_path: &str) {
    let _ = write!(
        h,
        "<footer><hr><nav><a href=\"/\">Sync summary</a><a href=\"/api/v1/status\">JSON</a>\
<a href=\"{}\">Metrics</a><a href=\"/-/healthy\">Health</a><a href=\"/-/ready\">Readiness</a></nav>\
<p><small>pingone-sync-exporter {}; served from the last poll of each environment, never from PingOne directly.</small></p></footer>\n</body></html>\n",
        escape(telemetry_path),
        escape(crate::VERSION)
    );
}

/// A number cell (`td`), or "–" with the reason as a tooltip and for
/// screen readers.
pub fn cell(h: &mut String, c: Cell) {
    match c {
        Cell::Count(n) => {
            let _ = write!(h, "<td class=\"n\">{n}</td>");
        }
        Cell::Absent(why) => {
            h.push_str("<td class=\"n\">");
            absent(h, why);
            h.push_str("</td>");
        }
    }
}

/// "–" with a tooltip saying why there is no value.
pub fn absent(h: &mut String, why: &str) {
    let why = escape(why);
    let _ = write!(
        h,
        "<span class=\"absent\" title=\"{why}\">–<span class=\"vh\"> (no value: {why})</span></span>"
    );
}

/// A time, absolute and as an age against `now` ("5m ago"); "–" with
/// `why` when absent.
pub fn time(h: &mut String, t: Option<f64>, now: f64, why: &str) {
    match t {
        None => absent(h, why),
        Some(t) => {
            // Whole seconds: an age in minutes needs no milliseconds.
            let abs = escape(&format_rfc3339(t.floor()));
            let _ = write!(
                h,
                "<time datetime=\"{abs}\">{} ago</time><br><small>{abs}</small>",
                escape(&format_age(now - t))
            );
        }
    }
}

/// Percent-encodes one path segment (everything but RFC 3986 unreserved
/// characters), so any id makes a path the router reads back.
pub fn segment(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || b"-._~".contains(&b) {
            out.push(char::from(b));
        } else {
            let _ = write!(out, "%{b:02X}");
        }
    }
    out
}

/// Decodes a [`segment`]; `None` when it is not valid percent-encoded UTF-8.
pub fn decode_segment(s: &str) -> Option<String> {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%' {
            let hex = std::str::from_utf8(bytes.get(i + 1..i + 3)?).ok()?;
            out.push(u8::from_str_radix(hex, 16).ok()?);
            i += 3;
        } else {
            out.push(bytes[i]);
            i += 1;
        }
    }
    String::from_utf8(out).ok()
}

/// The path of a rule's page.
pub fn rule_path(env_id: &str, rule_id: &str) -> String {
    format!("/rules/{}/{}", segment(env_id), segment(rule_id))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn segments_round_trip_and_reject_bad_encodings() {
        let id = "a/b c<%>é";
        assert_eq!(segment(id), "a%2Fb%20c%3C%25%3E%C3%A9");
        assert_eq!(decode_segment(&segment(id)).as_deref(), Some(id));
        assert_eq!(decode_segment("%zz"), None);
        assert_eq!(decode_segment("%4"), None);
        assert_eq!(decode_segment("%FF"), None);
        assert_eq!(rule_path("e 1", "r"), "/rules/e%201/r");
    }

    #[test]
    fn absent_cells_say_why_and_are_escaped() {
        let mut h = String::new();
        cell(&mut h, Cell::Absent("off <now>"));
        assert!(h.contains("title=\"off &lt;now&gt;\""), "{h}");
        assert!(h.contains('–') && !h.contains(">0<"));
    }
}
