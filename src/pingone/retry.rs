//! When and how long to wait before retrying a PingOne call.
//!
//! PingOne's guidance (`docs/pingone-api.md`, "Rate limits and retries"): retry 408, 429 and
//! 5xx; honour `Retry-After` (seconds or an HTTP date); do not retry 400,
//! 403 or 404; a 401 is fixed by fetching a new token once, not by waiting.
//!
//! Decisions (see `docs/architecture.md`, "Retries"):
//! - a `Retry-After` longer than the cap is not shortened: the call gives
//!   up instead, and the next poll asks again (retrying early would only
//!   earn another 429);
//! - a 403 is not retried, not even once: the next poll, at least 10 s
//!   later, is the retry that eventual consistency of a new role needs;
//! - the caller bounds the time all retries of one call may take (half the
//!   poll interval, [`crate::pingone::EnvClient`]), so a retry never waits
//!   past the point where the next poll would do better.

use std::time::{Duration, SystemTime};

/// Retry limits.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct RetryPolicy {
    /// Retries after the first attempt.
    pub max_retries: u32,
    /// First backoff; doubles per retry.
    pub base: Duration,
    /// Longest wait, for backoff and for `Retry-After`.
    pub cap: Duration,
}

/// `Retry-After` values above this are treated as "not now" by
/// [`RetryPolicy::default`].
pub const RETRY_AFTER_CAP: Duration = Duration::from_secs(30);

impl Default for RetryPolicy {
    fn default() -> Self {
        Self {
            max_retries: 3,
            base: Duration::from_millis(500),
            cap: RETRY_AFTER_CAP,
        }
    }
}

/// True for statuses worth retrying after a wait.
pub fn is_retryable_status(status: u16) -> bool {
    matches!(status, 408 | 429 | 500 | 502 | 503 | 504)
}

/// Parses `Retry-After`: delay-seconds or an HTTP date. `None` when absent
/// or unparsable; a date in the past means no wait; a number of seconds too
/// large for a `u64` is [`Duration::MAX`] (never a panic or an overflow).
pub fn parse_retry_after(value: &str, now: SystemTime) -> Option<Duration> {
    let v = value.trim();
    if let Ok(secs) = v.parse::<u64>() {
        return Some(Duration::from_secs(secs));
    }
    // More seconds than a u64 holds: a very long wait, beyond any cap,
    // rather than no header at all (which would mean: retry soon).
    if !v.is_empty() && v.bytes().all(|b| b.is_ascii_digit()) {
        return Some(Duration::MAX);
    }
    let when = httpdate::parse_http_date(v).ok()?;
    Some(when.duration_since(now).unwrap_or(Duration::ZERO))
}

impl RetryPolicy {
    /// The wait before retry number `retry` (0-based): `Retry-After` when
    /// given, else exponential backoff with up to 25% jitter, capped.
    /// `None` when `Retry-After` asks for more than the cap: do not retry.
    pub fn delay(&self, retry: u32, retry_after: Option<Duration>) -> Option<Duration> {
        if let Some(d) = retry_after {
            return (d <= self.cap).then_some(d);
        }
        let exp = self.base.saturating_mul(1u32 << retry.min(16));
        let jitter = exp.mul_f64(fastrand::f64() * 0.25);
        Some((exp + jitter).min(self.cap))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn retry_after_in_seconds_and_as_a_date() {
        let now = SystemTime::UNIX_EPOCH + Duration::from_secs(1_700_000_000);
        assert_eq!(parse_retry_after("7", now), Some(Duration::from_secs(7)));
        let later = httpdate::fmt_http_date(now + Duration::from_secs(12));
        assert_eq!(
            parse_retry_after(&later, now),
            Some(Duration::from_secs(12))
        );
        let past = httpdate::fmt_http_date(now - Duration::from_secs(12));
        assert_eq!(parse_retry_after(&past, now), Some(Duration::ZERO));
        assert_eq!(parse_retry_after("soon", now), None);
    }

    #[test]
    fn absurd_retry_after_values_mean_do_not_retry_now() {
        let now = SystemTime::UNIX_EPOCH + Duration::from_secs(1_700_000_000);
        let p = RetryPolicy::default();
        for v in [
            "18446744073709551615",
            "99999999999999999999999999",
            "Fri, 31 Dec 9999 23:59:59 GMT",
        ] {
            let d = parse_retry_after(v, now);
            assert!(d.is_some_and(|d| d > p.cap), "{v}: {d:?}");
            assert_eq!(p.delay(0, d), None, "{v}");
        }
        assert_eq!(p.delay(u32::MAX, None), Some(p.cap), "absurd retry counts");
    }

    #[test]
    fn backoff_grows_and_is_capped() {
        let p = RetryPolicy {
            max_retries: 5,
            base: Duration::from_secs(1),
            cap: Duration::from_secs(5),
        };
        let d0 = p.delay(0, None).unwrap();
        assert!(d0 >= Duration::from_secs(1) && d0 <= Duration::from_millis(1250));
        let d2 = p.delay(2, None).unwrap();
        assert!(d2 >= Duration::from_secs(4) && d2 <= Duration::from_secs(5));
        assert_eq!(p.delay(10, None), Some(Duration::from_secs(5)));
        assert_eq!(
            p.delay(0, Some(Duration::from_secs(3))),
            Some(Duration::from_secs(3)),
            "Retry-After is honoured exactly, without jitter"
        );
        assert_eq!(
            p.delay(0, Some(Duration::from_secs(300))),
            None,
            "a Retry-After beyond the cap means: not within this call"
        );
    }

    #[test]
    fn only_transient_statuses_are_retried() {
        for s in [408, 429, 500, 502, 503, 504] {
            assert!(is_retryable_status(s));
        }
        for s in [400, 401, 403, 404, 501] {
            assert!(!is_retryable_status(s));
        }
    }
}
