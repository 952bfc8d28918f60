//! Timestamps as PingOne writes them (RFC 3339, e.g. `2024-05-02T10:15:03.120Z`)
//! and as Prometheus wants them (Unix seconds as `f64`).

use std::time::{SystemTime, UNIX_EPOCH};

use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;

/// Parses an RFC 3339 timestamp into Unix seconds, to the millisecond
/// (PingOne's precision). `None` when the text is not RFC 3339: callers
/// treat such a value as absent.
pub fn parse_rfc3339(s: &str) -> Option<f64> {
    let t = OffsetDateTime::parse(s.trim(), &Rfc3339).ok()?;
    // Whole milliseconds divided once give the double nearest the decimal
    // value, so it prints as `1714644903.12`, not `1714644903.1199999`.
    let millis = t.unix_timestamp_nanos().div_euclid(1_000_000);
    Some(millis as f64 / 1000.0)
}

/// Formats Unix seconds as RFC 3339 with millisecond precision, UTC.
pub fn format_rfc3339(unix_seconds: f64) -> String {
    let nanos = (unix_seconds * 1e9).round() as i128;
    match OffsetDateTime::from_unix_timestamp_nanos(nanos) {
        Ok(t) => {
            let t = t.replace_nanosecond((t.nanosecond() / 1_000_000) * 1_000_000);
            t.ok()
                .and_then(|t| t.format(&Rfc3339).ok())
                .unwrap_or_else(|| format!("{unix_seconds}"))
        }
        Err(_) => format!("{unix_seconds}"),
    }
}

/// The current wall-clock time in Unix seconds.
pub fn now_unix() -> f64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs_f64())
        .unwrap_or(0.0)
}

/// Formats an age in seconds for humans: `42s`, `5m`, `3h12m`, `2d4h`.
pub fn format_age(seconds: f64) -> String {
    if !seconds.is_finite() {
        return "-".into();
    }
    let neg = seconds < 0.0;
    let s = seconds.abs().round() as u64;
    let text = match s {
        0..=59 => format!("{s}s"),
        60..=3599 => format!("{}m", s / 60),
        3600..=86_399 => format!("{}h{}m", s / 3600, (s % 3600) / 60),
        _ => format!("{}d{}h", s / 86_400, (s % 86_400) / 3600),
    };
    if neg { format!("in {text}") } else { text }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_pingone_timestamps_with_milliseconds() {
        assert_eq!(
            parse_rfc3339("2024-05-02T10:15:03.120Z"),
            Some(1_714_644_903.12)
        );
        assert_eq!(parse_rfc3339("1970-01-01T00:00:00Z"), Some(0.0));
        assert_eq!(
            parse_rfc3339("2024-05-02T12:15:03+02:00"),
            Some(1_714_644_903.0)
        );
        assert_eq!(parse_rfc3339("yesterday"), None);
        assert_eq!(parse_rfc3339(""), None);
    }

    #[test]
    fn formats_round_trip_to_the_millisecond() {
        assert_eq!(format_rfc3339(1_714_644_903.12), "2024-05-02T10:15:03.12Z");
        assert_eq!(
            parse_rfc3339(&format_rfc3339(1_714_644_903.5)),
            Some(1_714_644_903.5)
        );
    }

    #[test]
    fn ages_read_like_the_console() {
        assert_eq!(format_age(5.4), "5s");
        assert_eq!(format_age(300.0), "5m");
        assert_eq!(format_age(3.0 * 3600.0 + 720.0), "3h12m");
        assert_eq!(format_age(2.0 * 86_400.0 + 4.0 * 3600.0), "2d4h");
        assert_eq!(format_age(-30.0), "in 30s");
    }
}
