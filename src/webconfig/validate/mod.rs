//! Resolution of the raw web config into a [`WebConfig`], collecting every
//! problem with its position (the config module's [`Context`]), reading the
//! TLS files and checking the bcrypt hashes.

mod tls;

use std::str::FromStr;

use hyper::header::{HeaderName, HeaderValue};

use super::WebConfig;
use super::raw::{RawHttp, RawWebConfig};
use crate::config::{Context, boolean, join_key, quote};

/// Headers the toolkit lets a web config set, with the values allowed
/// (lower case; empty: any value).
const HEADERS: [(&str, &[&str]); 5] = [
    ("Content-Security-Policy", &[]),
    ("Strict-Transport-Security", &[]),
    ("X-Content-Type-Options", &["nosniff"]),
    ("X-Frame-Options", &["deny", "sameorigin"]),
    ("X-XSS-Protection", &[]),
];

/// Resolves the whole file; `None` when a problem was recorded.
pub(super) fn validate(raw: RawWebConfig, ctx: &mut Context<'_>) -> Option<WebConfig> {
    if raw.rate_limit.is_some() {
        ctx.problem(
            "rate_limit",
            "not supported by this exporter; limit requests in a proxy in front of it \
             (--web.max-connections caps concurrent connections)",
        );
    }
    let mut files = Vec::new();
    let tls = raw
        .tls_server_config
        .and_then(|t| tls::tls_config(t, ctx, &mut files));
    let headers = raw
        .http_server_config
        .map(|h| http(h, ctx))
        .unwrap_or_default();
    let users = users(raw.basic_auth_users.unwrap_or_default(), ctx);
    ctx.problems.is_empty().then(|| WebConfig {
        tls,
        users,
        headers,
        files,
        warnings: Vec::new(),
    })
}

fn http(raw: RawHttp, ctx: &mut Context<'_>) -> Vec<(HeaderName, HeaderValue)> {
    if let Some(text) = raw.http2.as_deref()
        && ctx.report("http_server_config.http2", boolean(text)) == Some(true)
    {
        ctx.warning(
            "http_server_config.http2",
            "HTTP/2 is not served: the exporter speaks HTTP/1.1, which every Prometheus accepts",
        );
    }
    let mut out = Vec::new();
    let names: Vec<&str> = HEADERS.iter().map(|(n, _)| *n).collect();
    for (name, value) in raw.headers.unwrap_or_default() {
        let path = join_key("http_server_config.headers", &name);
        let Some((canonical, allowed)) =
            HEADERS.iter().find(|(n, _)| n.eq_ignore_ascii_case(&name))
        else {
            ctx.problem(
                &path,
                format!(
                    "header {} cannot be set; expected one of: {}",
                    quote(&name),
                    names.join(", ")
                ),
            );
            continue;
        };
        if !allowed.is_empty() && !allowed.contains(&value.trim().to_ascii_lowercase().as_str()) {
            ctx.problem(
                &path,
                format!(
                    "invalid value {}; expected one of: {}",
                    quote(&value),
                    allowed.join(", ")
                ),
            );
            continue;
        }
        match (
            HeaderName::from_str(canonical),
            HeaderValue::from_str(value.trim()),
        ) {
            (Ok(n), Ok(v)) if !value.trim().is_empty() => out.push((n, v)),
            _ => ctx.problem(
                &path,
                "invalid header value; expected non-empty visible ASCII text",
            ),
        }
    }
    out
}

fn users(
    raw: std::collections::BTreeMap<String, Option<String>>,
    ctx: &mut Context<'_>,
) -> super::auth::Users {
    let mut users = super::auth::Users::default();
    for (name, hash) in raw {
        let path = join_key("basic_auth_users", &name);
        if name.is_empty() || name.contains(':') || name.chars().any(char::is_control) {
            ctx.problem(
                &path,
                "invalid user name; expected a non-empty name without \":\" or control characters \
                 (HTTP basic auth cannot send them)",
            );
            continue;
        }
        let Some(hash) = hash.filter(|h| !h.trim().is_empty()) else {
            ctx.problem(&path, "no password hash given; expected a bcrypt hash (htpasswd -nBC 10 \"\" | tr -d ':\\n')");
            continue;
        };
        match super::auth::check_hash(hash.trim()) {
            Ok(()) => users.insert(name, hash.trim().to_string()),
            Err(why) => ctx.problem(
                &path,
                format!("{why}; expected a bcrypt hash such as $2y$10$... (generate one with htpasswd -nBC 10 \"\" | tr -d ':\\n')"),
            ),
        }
    }
    users
}
