//! Durations in the Prometheus format: one or more `<number><unit>` pairs,
//! units largest first, e.g. `90s`, `1m30s`, `500ms`, `1h`.
//!
//! Accepted units: `ms`, `s`, `m`, `h`, `d` (24h), `w` (7d), `y` (365d).
//! Numbers are whole, non-negative decimals; each unit appears at most once,
//! in decreasing order (as Prometheus' `model.ParseDuration` requires). The
//! bare `0` is accepted, as in Prometheus. Everything else is rejected with a
//! message that shows an example.

use std::time::Duration;

/// The units, largest first, with their length in milliseconds.
const UNITS: [(&str, u64); 7] = [
    ("y", 365 * 24 * 3_600_000),
    ("w", 7 * 24 * 3_600_000),
    ("d", 24 * 3_600_000),
    ("h", 3_600_000),
    ("m", 60_000),
    ("s", 1_000),
    ("ms", 1),
];

/// The hint appended to every duration error.
pub const DURATION_HINT: &str =
    "expected a duration such as 90s, 1m30s or 500ms (units: ms, s, m, h, d, w, y)";

/// Parses a Prometheus duration (`1m30s`, `500ms`, ...).
///
/// The result has millisecond resolution. The error text is a complete,
/// lower-case message that quotes the input and shows an example, e.g.
/// `invalid duration "1.5m": expected a duration such as 90s, ...`.
pub fn parse_duration(text: &str) -> Result<Duration, String> {
    let invalid = |why: &str| -> String {
        let quoted = quote(text);
        if why.is_empty() {
            format!("invalid duration {quoted}; {DURATION_HINT}")
        } else {
            format!("invalid duration {quoted} ({why}); {DURATION_HINT}")
        }
    };
    if text.is_empty() {
        return Err(invalid("it is empty"));
    }
    if text == "0" {
        return Ok(Duration::ZERO);
    }
    if text.bytes().all(|b| b.is_ascii_digit()) {
        return Err(invalid(&format!("no unit; did you mean {text}s?")));
    }
    let mut rest = text;
    let mut total_ms: u64 = 0;
    // Index into UNITS of the last unit seen: the next must be smaller.
    let mut last_unit: Option<usize> = None;
    while !rest.is_empty() {
        let digits = rest.bytes().take_while(u8::is_ascii_digit).count();
        if digits == 0 {
            return Err(invalid(""));
        }
        let (number, after) = rest.split_at(digits);
        let letters = after.bytes().take_while(u8::is_ascii_alphabetic).count();
        let (unit, after) = after.split_at(letters);
        let Some(unit_index) = UNITS.iter().position(|(name, _)| *name == unit) else {
            return Err(if unit.is_empty() {
                invalid("")
            } else {
                invalid(&format!("unknown unit {}", quote(unit)))
            });
        };
        if last_unit.is_some_and(|last| unit_index <= last) {
            return Err(invalid("units must each appear once, largest first"));
        }
        last_unit = Some(unit_index);
        let value: u64 = number.parse().map_err(|_| invalid("number too large"))?;
        let ms = value
            .checked_mul(UNITS[unit_index].1)
            .and_then(|ms| ms.checked_add(total_ms))
            .ok_or_else(|| invalid("too long"))?;
        total_ms = ms;
        rest = after;
    }
    Ok(Duration::from_millis(total_ms))
}

/// Formats a duration the way Prometheus does (`1m30s`, `500ms`, `0s`),
/// largest unit first, dropping zero parts; sub-millisecond parts are dropped.
pub fn format_duration(duration: Duration) -> String {
    let mut ms = u64::try_from(duration.as_millis()).unwrap_or(u64::MAX);
    if ms == 0 {
        return "0s".to_string();
    }
    let mut out = String::new();
    for (name, unit_ms) in UNITS {
        if ms >= unit_ms {
            out.push_str(&format!("{}{name}", ms / unit_ms));
            ms %= unit_ms;
        }
    }
    out
}

/// Quotes user text for a message, escaping control characters and
/// shortening it to a readable length.
fn quote(text: &str) -> String {
    super::problem::quote(text)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ms(n: u64) -> Duration {
        Duration::from_millis(n)
    }

    #[test]
    fn accepts_prometheus_forms() {
        let cases = [
            ("0", ms(0)),
            ("0s", ms(0)),
            ("500ms", ms(500)),
            ("10s", ms(10_000)),
            ("90s", ms(90_000)),
            ("1m30s", ms(90_000)),
            ("1m", ms(60_000)),
            ("2h", ms(7_200_000)),
            ("1h30m15s250ms", ms(5_415_250)),
            ("1d", ms(86_400_000)),
            ("1w", ms(604_800_000)),
            ("1y", ms(31_536_000_000)),
            (
                "1y1w1d1h1m1s1ms",
                ms(31_536_000_000 + 604_800_000 + 86_400_000 + 3_661_001),
            ),
            ("0010s", ms(10_000)),
        ];
        for (text, want) in cases {
            assert_eq!(parse_duration(text), Ok(want), "{text}");
        }
    }

    #[test]
    fn rejects_everything_else_with_an_example() {
        let cases = [
            ("", "invalid duration \"\" (it is empty)"),
            ("60", "invalid duration \"60\" (no unit; did you mean 60s?)"),
            ("1.5m", "invalid duration \"1.5m\";"),
            ("10 s", "invalid duration \"10 s\";"),
            (" 10s", "invalid duration \" 10s\";"),
            ("-10s", "invalid duration \"-10s\";"),
            ("10sec", "invalid duration \"10sec\" (unknown unit \"sec\")"),
            ("10S", "invalid duration \"10S\" (unknown unit \"S\")"),
            ("1us", "invalid duration \"1us\" (unknown unit \"us\")"),
            ("s", "invalid duration \"s\";"),
            ("30s1m", "(units must each appear once, largest first)"),
            ("1m1m", "(units must each appear once, largest first)"),
            ("99999999999999999999s", "(number too large)"),
            ("9999999999999999y", "(too long)"),
            ("PT10S", "invalid duration \"PT10S\";"),
        ];
        for (text, want) in cases {
            let err = parse_duration(text).expect_err(text);
            assert!(err.contains(want), "{text}: {err}");
            assert!(err.ends_with(DURATION_HINT), "{text}: {err}");
        }
    }

    #[test]
    fn formats_like_prometheus() {
        assert_eq!(format_duration(ms(0)), "0s");
        assert_eq!(format_duration(ms(500)), "500ms");
        assert_eq!(format_duration(ms(90_000)), "1m30s");
        assert_eq!(format_duration(ms(3_600_000)), "1h");
        assert_eq!(format_duration(ms(86_400_000 * 8)), "1w1d");
        for text in ["1m30s", "10s", "1y2w3d4h5m6s7ms"] {
            let parsed = parse_duration(text).expect("valid");
            assert_eq!(format_duration(parsed), text);
        }
    }
}
