//! Checks of single values: names, ids, URLs, numbers, regexes.
//!
//! Each check takes the text as written and returns the parsed value or the
//! message part of a problem (lower case, quoting the value, ending with
//! what would be accepted). None of these values is a secret, so quoting
//! them is safe.

use std::time::Duration;

use super::duration::format_duration;
use super::problem::quote;

/// An example environment id for messages.
pub(crate) const EXAMPLE_UUID: &str = "3f0b6a1e-0000-4000-8000-000000000001";

/// A friendly environment name: non-empty, no control characters.
pub(crate) fn name(text: &str) -> Result<String, String> {
    const ACCEPTED: &str = "expected printable text such as prod-eu";
    if text.trim().is_empty() {
        return Err(format!("the name is empty; {ACCEPTED}"));
    }
    if text
        .chars()
        .any(|c| c.is_control() || c == '\u{2028}' || c == '\u{2029}')
    {
        return Err(format!(
            "the name {} contains a control character; {ACCEPTED}",
            quote(text)
        ));
    }
    Ok(text.to_string())
}

/// A PingOne id: a UUID, 8-4-4-4-12 hex digits. Returned in lower case,
/// the form the PingOne API uses.
pub(crate) fn uuid(text: &str, what: &str) -> Result<String, String> {
    let groups: Vec<&str> = text.split('-').collect();
    let lengths = [8, 4, 4, 4, 12];
    let ok = groups.len() == lengths.len()
        && groups
            .iter()
            .zip(lengths)
            .all(|(g, n)| g.len() == n && g.bytes().all(|b| b.is_ascii_hexdigit()));
    if ok {
        Ok(text.to_ascii_lowercase())
    } else {
        Err(format!(
            "{} is not a UUID; {what} is a UUID (8-4-4-4-12 hex digits) such as {EXAMPLE_UUID}",
            quote(text)
        ))
    }
}

/// A base URL: http or https, with a host, without user info, query or
/// fragment. One trailing slash is removed. `example` shows a good value.
pub(crate) fn base_url(text: &str, example: &str) -> Result<String, String> {
    let accepted = format!("expected an http or https URL such as {example}");
    if !text.contains("://") {
        return Err(format!(
            "{} has no scheme (http:// or https://); {accepted}",
            quote(text)
        ));
    }
    let url = reqwest::Url::parse(text)
        .map_err(|e| format!("{} is not a URL ({e}); {accepted}", quote(text)))?;
    if !matches!(url.scheme(), "http" | "https") {
        return Err(format!(
            "{} uses the scheme {}; {accepted}",
            quote(text),
            quote(url.scheme())
        ));
    }
    if url.host_str().is_none_or(str::is_empty) {
        return Err(format!("{} has no host; {accepted}", quote(text)));
    }
    if !url.username().is_empty() || url.password().is_some() {
        // Do not quote it: the password would be in the message.
        return Err(format!(
            "the URL contains a user name or password, which would end up in logs; {accepted}"
        ));
    }
    if url.query().is_some() || url.fragment().is_some() {
        return Err(format!(
            "{} has a query or fragment (? or #); {accepted}",
            quote(text)
        ));
    }
    Ok(text.strip_suffix('/').unwrap_or(text).to_string())
}

/// A link for people to follow (the status page's admin-console link): http
/// or https, with a host, without user info; a query is allowed, since
/// consoles select the environment with one.
pub(crate) fn link_url(text: &str, example: &str) -> Result<String, String> {
    let accepted = format!("expected an http or https URL such as {example}");
    let url = reqwest::Url::parse(text)
        .map_err(|e| format!("{} is not a URL ({e}); {accepted}", quote(text)))?;
    if !matches!(url.scheme(), "http" | "https") || url.host_str().is_none_or(str::is_empty) {
        return Err(format!(
            "{} is not an http(s) URL with a host; {accepted}",
            quote(text)
        ));
    }
    if !url.username().is_empty() || url.password().is_some() {
        return Err(format!(
            "the URL contains a user name or password, which would end up on a web page; {accepted}"
        ));
    }
    Ok(text.to_string())
}

/// Refuses a plain-`http://` URL to a host other than this machine when
/// what is sent there is secret (`sends`, e.g. "the client secret and the
/// access token") and `opt_in` (the key that accepts it) is not set. A
/// loopback host (`localhost`, 127.0.0.0/8, `::1`) never leaves the machine.
pub(crate) fn cleartext(url: &str, sends: &str, allowed: bool, opt_in: &str) -> Result<(), String> {
    let Ok(parsed) = reqwest::Url::parse(url) else {
        return Ok(());
    };
    if allowed || parsed.scheme() != "http" || is_loopback(&parsed) {
        return Ok(());
    }
    Err(format!(
        "{} would send {sends} in clear text to a host that is not this machine; \
         expected https://, an http:// URL to localhost, or {opt_in}: true to accept the risk",
        quote(url)
    ))
}

/// True when `url`'s host is this machine.
fn is_loopback(url: &reqwest::Url) -> bool {
    let host = url.host_str().unwrap_or_default();
    let host = host.trim_start_matches('[').trim_end_matches(']');
    host.eq_ignore_ascii_case("localhost")
        || host
            .parse::<std::net::IpAddr>()
            .is_ok_and(|ip| ip.is_loopback())
}

/// An unanchored regular expression on rule names.
pub(crate) fn regex(text: &str) -> Result<regex::Regex, String> {
    regex::Regex::new(text).map_err(|e| {
        let detail = match &e {
            // The syntax error is several lines (pattern, caret, error);
            // keep the `error: ...` line, which says what is wrong.
            regex::Error::Syntax(s) => s
                .lines()
                .find_map(|l| l.strip_prefix("error: "))
                .unwrap_or("syntax error")
                .to_string(),
            other => other.to_string().replace('\n', " "),
        };
        format!(
            "invalid regular expression {}: {detail}; expected a regex on rule names such as ^prod-",
            quote(text)
        )
    })
}

/// A request rate: a finite number > 0 (fractions allowed).
pub(crate) fn rate(text: &str) -> Result<f64, String> {
    const ACCEPTED: &str =
        "expected a number of requests per second greater than 0, such as 10 or 0.5";
    let value: f64 = text
        .trim()
        .parse()
        .map_err(|_| format!("{} is not a number; {ACCEPTED}", quote(text)))?;
    if !value.is_finite() {
        return Err(format!(
            "{} is not a finite number; {ACCEPTED}",
            quote(text)
        ));
    }
    if value <= 0.0 {
        return Err(format!("{text} is not greater than 0; {ACCEPTED}"));
    }
    Ok(value)
}

/// A boolean: `true` or `false`.
pub(crate) fn boolean(text: &str) -> Result<bool, String> {
    match text.trim() {
        "true" => Ok(true),
        "false" => Ok(false),
        _ => Err(format!(
            "{} is not true or false; expected true or false",
            quote(text)
        )),
    }
}

/// A count: a whole number >= `min`.
pub(crate) fn count(text: &str, min: usize) -> Result<usize, String> {
    let accepted = format!("expected a whole number >= {min}, such as 4");
    let trimmed = text.trim();
    if trimmed.starts_with('-') && trimmed[1..].bytes().all(|b| b.is_ascii_digit()) {
        return Err(format!(
            "{trimmed} is below the minimum of {min}; {accepted}"
        ));
    }
    let value: usize = trimmed
        .parse()
        .map_err(|_| format!("{} is not a whole number; {accepted}", quote(text)))?;
    if value < min {
        return Err(format!("{value} is below the minimum of {min}; {accepted}"));
    }
    Ok(value)
}

/// A duration of at least `min` (`written` is the text as written).
pub(crate) fn at_least(written: &str, value: Duration, min: Duration) -> Result<Duration, String> {
    if value < min {
        return Err(format!(
            "{written} is below the minimum of {}",
            format_duration(min)
        ));
    }
    Ok(value)
}

/// A duration greater than zero (`written` is the text as written).
pub(crate) fn positive(written: &str, value: Duration) -> Result<Duration, String> {
    if value.is_zero() {
        return Err(format!("{written} must be greater than 0"));
    }
    Ok(value)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names() {
        assert_eq!(name("prod-eu"), Ok("prod-eu".into()));
        assert_eq!(name("Prod EU (main)"), Ok("Prod EU (main)".into()));
        assert!(name(" ").is_err_and(|e| e.starts_with("the name is empty")));
        assert!(name("a\tb").is_err_and(|e| e.contains("\"a\\tb\" contains a control character")));
    }

    #[test]
    fn uuids() {
        assert_eq!(uuid(EXAMPLE_UUID, "x"), Ok(EXAMPLE_UUID.into()));
        assert_eq!(
            uuid("3F0B6A1E-0000-4000-8000-00000000000A", "x"),
            Ok("3f0b6a1e-0000-4000-8000-00000000000a".into())
        );
        for bad in [
            "",
            "prod",
            "3f0b6a1e00004000800000000000001",
            "3f0b6a1e-0000-4000-8000-00000000000g",
            "3f0b6a1e-0000-4000-8000-0000000000011",
            "{3f0b6a1e-0000-4000-8000-000000000001}",
        ] {
            assert!(uuid(bad, "an environment id").is_err(), "{bad}");
        }
    }

    #[test]
    fn cleartext_is_refused_off_this_machine_unless_accepted() {
        let refuse = |u: &str| cleartext(u, "the secret", false, "allow_insecure_http");
        for ok in [
            "https://api.pingone.eu/v1",
            "http://127.0.0.1:8080/v1",
            "http://127.9.9.9",
            "http://localhost:9093",
            "http://[::1]:9093",
        ] {
            assert_eq!(refuse(ok), Ok(()), "{ok}");
        }
        let e = refuse("http://api.pingone.eu/v1").unwrap_err();
        assert!(
            e.contains("\"http://api.pingone.eu/v1\" would send the secret in clear text"),
            "{e}"
        );
        assert!(e.contains("allow_insecure_http: true"), "{e}");
        assert!(refuse("http://10.0.0.1").is_err());
        assert!(refuse("http://localhost.example.com").is_err());
        assert_eq!(cleartext("http://10.0.0.1", "x", true, "k"), Ok(()));
    }

    #[test]
    fn urls() {
        let ex = "https://x";
        assert_eq!(
            base_url("https://api.pingone.eu/v1/", ex),
            Ok("https://api.pingone.eu/v1".into())
        );
        assert_eq!(
            base_url("http://127.0.0.1:8080", ex),
            Ok("http://127.0.0.1:8080".into())
        );
        assert_eq!(
            base_url("http://[::1]:9093/", ex),
            Ok("http://[::1]:9093".into())
        );
        assert!(base_url("ftp://h", ex).is_err_and(|e| e.contains("uses the scheme \"ftp\"")));
        assert!(base_url("api.pingone.eu", ex).is_err_and(|e| e.contains("has no scheme")));
        assert!(base_url("localhost:9093", ex).is_err_and(|e| e.contains("has no scheme")));
        assert!(base_url("http://a b", ex).is_err_and(|e| e.contains("is not a URL")));
        assert!(base_url("http://", ex).is_err());
        assert!(base_url("https://h?x=1", ex).is_err_and(|e| e.contains("query")));
        let e = base_url("https://u:hunter2@h", ex).expect_err("userinfo");
        assert!(!e.contains("hunter2"), "{e}");
    }

    #[test]
    fn numbers() {
        assert_eq!(rate("0.5"), Ok(0.5));
        assert_eq!(rate("10"), Ok(10.0));
        assert!(rate("0").is_err_and(|e| e.starts_with("0 is not greater than 0")));
        assert!(rate("inf").is_err());
        assert!(rate("ten").is_err());
        assert_eq!(count("4", 1), Ok(4));
        assert!(count("0", 1).is_err_and(|e| e.starts_with("0 is below the minimum of 1")));
        assert!(count("-3", 1).is_err_and(|e| e.starts_with("-3 is below the minimum of 1")));
        assert!(count("2.5", 1).is_err_and(|e| e.contains("is not a whole number")));
        assert_eq!(boolean("true"), Ok(true));
        assert_eq!(boolean("false"), Ok(false));
        assert!(boolean("yes").is_err_and(|e| e.starts_with("\"yes\" is not true or false")));
    }

    #[test]
    fn regexes() {
        assert!(regex("^test-").is_ok());
        let e = regex("(abc").expect_err("unclosed");
        assert_eq!(
            e,
            "invalid regular expression \"(abc\": unclosed group; expected a regex on rule names such as ^prod-"
        );
    }
}
