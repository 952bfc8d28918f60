//! The `status` table: one row per rule, the console's sync-summary columns,
//! numbers right-aligned, `-` where PingOne gave no value, the last sync as
//! an age. Colours (status, failures) only when
//! asked; they never change the column widths.

use std::fmt::Write as _;

use super::EnvStatus;
use crate::snapshot::{RuleStatus, RuleSummary};
use crate::timefmt::format_age;

/// The column headers, in order.
pub const HEADERS: [&str; 11] = [
    "ENVIRONMENT",
    "RULE",
    "DIRECTION",
    "STATUS",
    "IMPACTED",
    "SUCCESS",
    "UNSYNCED",
    "PARTIAL",
    "FAILED",
    "GROUPS",
    "LAST SYNC",
];

/// Columns 4..=8 hold numbers and are right-aligned.
fn right_aligned(column: usize) -> bool {
    (4..=8).contains(&column)
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Style {
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

struct Cell {
    text: String,
    style: Style,
}

fn plain(text: impl Into<String>) -> Cell {
    Cell {
        text: text.into(),
        style: Style::Plain,
    }
}

fn absent() -> Cell {
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

/// `5m ago`, `in 30s` for a time ahead of the local clock, `-` when absent.
pub fn age(now: f64, at: Option<f64>) -> String {
    match at {
        None => "-".into(),
        Some(t) if t > now => format_age(now - t),
        Some(t) => format!("{} ago", format_age(now - t)),
    }
}

fn row(env: &str, r: &RuleSummary, now: f64) -> [Cell; 11] {
    [
        plain(env),
        plain(r.name.as_str()),
        plain(r.direction.as_str()),
        status(r.status),
        count(r.users_impacted, Style::Plain),
        // Until the status table gets its own events columns: users where
        // user-detail mode counted them, else the store's events.
        count(r.users.success.or(r.events.success), Style::Plain),
        absent(),
        absent(),
        count(r.users.failed.or(r.events.failure), Style::Bad),
        groups(r),
        match r.last_sync {
            None => absent(),
            Some(_) => plain(age(now, r.last_sync)),
        },
    ]
}

/// Renders the table of every rule of `envs`, ages against `now` (Unix
/// seconds). Environments whose rules could not be read have no rows.
pub fn render(envs: &[EnvStatus], now: f64, colour: bool) -> String {
    let header = HEADERS.map(|h| Cell {
        text: h.into(),
        style: Style::Plain,
    });
    let mut rows = vec![header];
    for e in envs {
        for r in e.snapshot.iter().flat_map(|s| &s.rules) {
            rows.push(row(&e.name, r, now));
        }
    }
    // Names and texts come from PingOne: never let them act on the terminal.
    for cell in rows.iter_mut().flatten() {
        cell.text = crate::printable::printable(&cell.text).into_owned();
    }
    let mut widths = [0usize; 11];
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
            if c > 0 {
                line.push_str("  ");
            }
            if right_aligned(c) {
                line.push_str(&" ".repeat(pad));
            }
            let style = if i == 0 { Style::Plain } else { cell.style };
            if colour && style != Style::Plain {
                let _ = write!(line, "{}{}\x1b[0m", style.code(), cell.text);
            } else {
                line.push_str(&cell.text);
            }
            if !right_aligned(c) && !last {
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
ENVIRONMENT  RULE                DIRECTION  STATUS    IMPACTED  SUCCESS  UNSYNCED  PARTIAL  FAILED  GROUPS          LAST SYNC
prod-eu      Directory to SCIM   outbound   active        1523     1520         -        -       3  4/5 (1 failed)  5m ago
prod-eu      Workday inbound     inbound    active         850      800         -        -       0  0/0             2d4h ago
prod-eu      Workday write-back  writeback  active           -        -         -        -       -  0/0             2d4h ago
prod-eu      Zoom                outbound   inactive         -        -         -        -       -  -               -
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
        assert!(lines[1].contains("\x1b[31m3\x1b[0m"), "failed users in red");
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
