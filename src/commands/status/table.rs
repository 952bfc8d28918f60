//! The `status` table: one row per rule, the console's sync-summary columns,
//! numbers right-aligned, `-` where PingOne gave no value, the last sync as
//! an age. Colours (status, failures) only when asked; they never change
//! the column widths.
//!
//! EVENTS is the store's sync events since the latest revision,
//! `successful/failed` (attempts, not users; on the store's owner rule
//! only). USERS (`success/failed` users) appears only when user-detail
//! mode counted users. FAILING is how long this process has seen the rule
//! failing, and in how many polls; DETAILS is PingOne's
//! `syncStatus.details`, cleaned, cut to [`DETAILS_WIDTH`] characters,
//! with any control character escaped.

use std::fmt::Write as _;

use super::EnvStatus;
use crate::printable::printable;
use crate::snapshot::{RuleStatus, RuleSummary, StoreStatus};
use crate::timefmt::format_age;

/// The widest DETAILS cell, in characters (the cut adds `…`).
pub const DETAILS_WIDTH: usize = 60;

#[derive(Clone, Copy, PartialEq, Eq)]
pub(super) enum Style {
    Plain,
    Good,
    Warn,
    Bad,
    Dim,
}

impl Style {
    fn code(self) -> &'static str {
        match self {
            Style::Plain => "",
            Style::Good => "\x1b[32m",
            Style::Warn => "\x1b[33m",
            Style::Bad => "\x1b[31m",
            Style::Dim => "\x1b[2m",
        }
    }
}

/// One cell: its text and how it is coloured.
pub(super) struct Cell {
    pub(super) text: String,
    pub(super) style: Style,
}

pub(super) fn plain(text: impl Into<String>) -> Cell {
    Cell {
        text: text.into(),
        style: Style::Plain,
    }
}

pub(super) fn absent() -> Cell {
    Cell {
        text: "-".into(),
        style: Style::Dim,
    }
}

/// A count, styled `when_positive` when above 0.
fn count(n: Option<u64>, when_positive: Style) -> Cell {
    match n {
        None => absent(),
        Some(n) => Cell {
            text: n.to_string(),
            style: if n > 0 { when_positive } else { Style::Plain },
        },
    }
}

fn status(s: Option<RuleStatus>) -> Cell {
    match s {
        None => absent(),
        Some(s) => Cell {
            text: s.as_str().into(),
            style: match s {
                RuleStatus::Active => Style::Good,
                RuleStatus::Inactive => Style::Warn,
                RuleStatus::Failed => Style::Bad,
            },
        },
    }
}

fn store(s: Option<StoreStatus>) -> Cell {
    match s {
        None => absent(),
        Some(StoreStatus::Active) => plain("active"),
        Some(StoreStatus::Inactive) => Cell {
            text: "inactive".into(),
            style: Style::Warn,
        },
    }
}

/// `ok/failed`, red when something failed; `-` when neither is known.
fn pair(ok: Option<u64>, failed: Option<u64>) -> Cell {
    if ok.is_none() && failed.is_none() {
        return absent();
    }
    let show = |n: Option<u64>| n.map_or("-".to_string(), |n| n.to_string());
    Cell {
        text: format!("{}/{}", show(ok), show(failed)),
        style: if failed.is_some_and(|n| n > 0) {
            Style::Bad
        } else {
            Style::Plain
        },
    }
}

/// EVENTS: `ok/failed`, plus `(N deprovision failed)` when some did.
fn events(r: &RuleSummary) -> Cell {
    let mut cell = pair(r.events.success, r.events.failure);
    if let Some(n) = r.events.failed_deprovision.filter(|n| *n > 0) {
        if cell.text == "-" {
            cell.text.clear();
        } else {
            cell.text.push(' ');
        }
        let _ = write!(cell.text, "({n} deprovision failed)");
        cell.style = Style::Bad;
    }
    cell
}

/// `success/impacted`, plus `(N failed)` when groups failed.
fn groups(r: &RuleSummary) -> Cell {
    let Some(impacted) = r.groups_impacted else {
        return absent();
    };
    let success = r.groups.success.unwrap_or(0);
    match r.groups.failed.filter(|n| *n > 0) {
        Some(failed) => Cell {
            text: format!("{success}/{impacted} ({failed} failed)"),
            style: Style::Bad,
        },
        None => plain(format!("{success}/{impacted}")),
    }
}

/// FAILING: `2h10m (13 polls)` while the exporter sees the rule failing.
fn failing(r: &RuleSummary, now: f64) -> Cell {
    match (r.failing_since, r.failing_polls) {
        (Some(since), polls) => Cell {
            text: match polls {
                Some(n) => format!(
                    "{} ({n} poll{})",
                    format_age(now - since),
                    if n == 1 { "" } else { "s" }
                ),
                None => format_age(now - since),
            },
            style: Style::Bad,
        },
        _ => absent(),
    }
}

/// `text` on one line for a terminal: control characters escaped
/// (`\n`, `\u{1b}`), cut to `width` characters plus `…`.
pub fn one_line(text: &str, width: usize) -> String {
    let out = printable(text);
    match out.char_indices().nth(width) {
        Some((cut, _)) => format!("{}…", &out[..cut]),
        None => out.into_owned(),
    }
}

fn details(text: Option<&str>) -> Cell {
    text.map_or_else(absent, |t| plain(one_line(t, DETAILS_WIDTH)))
}

/// `5m ago`, `in 30s` for a time ahead of the local clock, `-` when absent.
pub fn age(now: f64, at: Option<f64>) -> String {
    match at {
        None => "-".into(),
        Some(t) if t > now => format_age(now - t),
        Some(t) => format!("{} ago", format_age(now - t)),
    }
}

fn row(env: &str, r: &RuleSummary, now: f64, users: bool) -> Vec<Cell> {
    let mut cells = vec![
        plain(env),
        plain(r.name.as_str()),
        plain(r.direction.as_str()),
        status(r.status),
        store(r.store_status),
        count(r.users_impacted, Style::Plain),
        events(r),
    ];
    if users {
        cells.push(pair(r.users.success, r.users.failed));
    }
    cells.extend([
        groups(r),
        failing(r, now),
        details(r.sync_error.as_deref()),
        match r.last_sync {
            None => absent(),
            Some(_) => plain(age(now, r.last_sync)),
        },
    ]);
    cells
}

/// Renders the table of every rule of `envs`, ages against `now` (Unix
/// seconds). Environments whose rules could not be read have no rows. The
/// USERS column is there only when user-detail mode counted some rule.
pub fn render(envs: &[EnvStatus], now: f64, colour: bool) -> String {
    let snaps = envs.iter().filter_map(|e| e.snapshot.as_ref());
    let users = snaps.clone().any(|s| s.user_detail_finished.is_some());
    let mut headers = vec![
        "ENVIRONMENT",
        "RULE",
        "DIRECTION",
        "STATUS",
        "STORE",
        "IMPACTED",
        "EVENTS",
    ];
    if users {
        headers.push("USERS");
    }
    headers.extend(["GROUPS", "FAILING", "DETAILS", "LAST SYNC"]);
    let right: Vec<bool> = headers
        .iter()
        .map(|h| ["IMPACTED", "EVENTS", "USERS"].contains(h))
        .collect();
    let mut rows = vec![headers.into_iter().map(plain).collect::<Vec<_>>()];
    for e in envs {
        for r in e.snapshot.iter().flat_map(|s| &s.rules) {
            rows.push(row(&e.name, r, now, users));
        }
    }
    lay_out(rows, &right, colour)
}

/// Lays `rows` (the first is the header, bold when coloured) out in
/// columns two spaces apart, `right[c]` right-aligned, trailing spaces cut.
/// Every control character is shown escaped: names and texts come from
/// PingOne, and must never act on the terminal.
pub(super) fn lay_out(mut rows: Vec<Vec<Cell>>, right: &[bool], colour: bool) -> String {
    for cell in rows.iter_mut().flatten() {
        cell.text = printable(&cell.text).into_owned();
    }
    let mut widths = vec![0usize; right.len()];
    for row in &rows {
        for (w, cell) in widths.iter_mut().zip(row) {
            *w = (*w).max(cell.text.chars().count());
        }
    }
    let mut out = String::new();
    for (i, row) in rows.iter().enumerate() {
        let mut line = String::new();
        for (c, cell) in row.iter().enumerate() {
            let pad = widths[c] - cell.text.chars().count();
            let last = c + 1 == row.len();
            let right_aligned = right.get(c).copied().unwrap_or(false);
            if c > 0 {
                line.push_str("  ");
            }
            if right_aligned {
                line.push_str(&" ".repeat(pad));
            }
            let style = if i == 0 { Style::Plain } else { cell.style };
            if colour && style != Style::Plain {
                let _ = write!(line, "{}{}\x1b[0m", style.code(), cell.text);
            } else {
                line.push_str(&cell.text);
            }
            if !right_aligned && !last {
                line.push_str(&" ".repeat(pad));
            }
        }
        if colour && i == 0 {
            line = format!("\x1b[1m{line}\x1b[0m");
        }
        out.push_str(line.trim_end());
        out.push('\n');
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::commands::status::tests::sample;

    const NOW: f64 = 1_000_000.0;

    #[test]
    fn the_table_is_exact() {
        let expected = "\
ENVIRONMENT  RULE                DIRECTION  STATUS    STORE     IMPACTED  EVENTS  GROUPS          FAILING           DETAILS                                    LAST SYNC
prod-eu      Directory to SCIM   outbound   active    active        1523  1520/3  4/5 (1 failed)  2h10m (13 polls)  SCIM answered 500:\\tInternal Server Error  5m ago
prod-eu      Workday inbound     inbound    active    active         850   800/0  0/0             -                 -                                          2d4h ago
prod-eu      Workday write-back  writeback  active    active           -       -  0/0             -                 -                                          2d4h ago
prod-eu      Zoom                outbound   inactive  inactive         -       -  -               -                 -                                          -
";
        assert_eq!(render(&sample(), NOW, false), expected);
        assert!(!render(&sample(), NOW, false).contains('\x1b'));
    }

    #[test]
    fn colours_mark_state_and_failures_without_moving_columns() {
        let text = render(&sample(), NOW, true);
        let lines: Vec<&str> = text.lines().collect();
        assert!(lines[0].starts_with("\x1b[1mENVIRONMENT"), "bold header");
        assert!(
            lines[1].contains("\x1b[32mactive\x1b[0m  "),
            "{:?}",
            lines[1]
        );
        assert!(
            lines[1].contains("\x1b[31m1520/3\x1b[0m"),
            "failures in red"
        );
        assert!(lines[1].contains("\x1b[31m4/5 (1 failed)\x1b[0m"));
        assert!(lines[4].contains("\x1b[33minactive\x1b[0m"));
        assert!(lines[3].contains("\x1b[2m-\x1b[0m"), "absent is dim");
        let strip = |s: &str| {
            let mut out = String::new();
            let mut in_escape = false;
            for c in s.chars() {
                match (in_escape, c) {
                    (false, '\x1b') => in_escape = true,
                    (true, 'm') => in_escape = false,
                    (false, c) => out.push(c),
                    _ => {}
                }
            }
            out
        };
        assert_eq!(strip(&text), render(&sample(), NOW, false));
    }

    #[test]
    fn users_show_only_where_user_detail_mode_counted_them() {
        let mut envs = sample();
        let snap = envs[0].snapshot.as_mut().unwrap();
        snap.user_detail_finished = Some(NOW - 60.0);
        snap.rules[0].users = crate::snapshot::StateCounts {
            success: Some(1500),
            failed: Some(2),
        };
        snap.rules[0].events.failed_deprovision = Some(4);
        let text = render(&envs, NOW, false);
        let lines: Vec<&str> = text.lines().collect();
        assert!(lines[0].contains(" EVENTS   USERS  GROUPS "), "{text}");
        assert!(
            lines[1].contains("  1520/3 (4 deprovision failed)  1500/2  4/5"),
            "{text}"
        );
        assert!(!render(&sample(), NOW, false).contains("USERS"));
    }

    #[test]
    fn details_stay_on_one_line_and_are_cut() {
        assert_eq!(one_line("a\nb\u{1b}[31m", 60), "a\\nb\\u{1b}[31m");
        assert_eq!(one_line("ééééé", 3), "ééé…");
        assert_eq!(one_line("abc", 3), "abc");
    }

    #[test]
    fn control_characters_in_names_are_shown_escaped() {
        let mut envs = sample();
        envs[0].name = "prod\x1b[2J".into();
        if let Some(snap) = envs[0].snapshot.as_mut() {
            snap.rules[0].name = "evil\rFAKE\u{202e}".into();
        }
        let text = render(&envs, NOW, false);
        assert!(!text.contains(['\x1b', '\r', '\u{202e}']), "{text:?}");
        assert!(text.contains("prod\\u{1b}[2J"), "{text}");
        assert!(text.contains("evil\\rFAKE\\u{202e}"), "{text}");
    }

    #[test]
    fn ages_read_like_the_console() {
        assert_eq!(age(NOW, Some(NOW - 42.0)), "42s ago");
        assert_eq!(age(NOW, Some(NOW + 30.0)), "in 30s");
        assert_eq!(age(NOW, None), "-");
    }
}
