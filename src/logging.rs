//! Log set-up: logfmt or JSON lines on stderr, at `--log.level` for this
//! crate and `warn` for dependencies (their debug output is not ours to
//! vouch for: it could include request details).

use std::fmt;

use tracing::field::{Field, Visit};
use tracing::{Event, Level, Subscriber};
use tracing_subscriber::filter::{LevelFilter, Targets};
use tracing_subscriber::fmt::format::Writer;
use tracing_subscriber::fmt::{FmtContext, FormatEvent, FormatFields};
use tracing_subscriber::layer::SubscriberExt;
use tracing_subscriber::registry::LookupSpan;
use tracing_subscriber::util::SubscriberInitExt;

use crate::cli::{LogFormat, LogLevel};

fn level_filter(level: LogLevel) -> LevelFilter {
    match level {
        LogLevel::Debug => LevelFilter::DEBUG,
        LogLevel::Info => LevelFilter::INFO,
        LogLevel::Warn => LevelFilter::WARN,
        LogLevel::Error => LevelFilter::ERROR,
    }
}

/// Installs the global subscriber. Later calls do nothing.
pub fn init(level: LogLevel, format: LogFormat) {
    let filter = Targets::new()
        .with_default(LevelFilter::WARN.min(level_filter(level)))
        .with_target("pingone_sync_exporter", level_filter(level));
    let registry = tracing_subscriber::registry().with(filter);
    let result = match format {
        LogFormat::Json => registry
            .with(
                tracing_subscriber::fmt::layer()
                    .json()
                    .flatten_event(true)
                    .with_current_span(false)
                    .with_writer(std::io::stderr),
            )
            .try_init(),
        LogFormat::Logfmt => registry
            .with(
                tracing_subscriber::fmt::layer()
                    .event_format(Logfmt)
                    .with_writer(std::io::stderr),
            )
            .try_init(),
    };
    // Err: a subscriber is already installed (tests); keep it.
    let _ = result;
}

/// A logfmt event formatter: `ts=2026-01-01T00:00:00.000Z level=info
/// msg="poll failed" environment=prod error="..."`.
struct Logfmt;

impl<S, N> FormatEvent<S, N> for Logfmt
where
    S: Subscriber + for<'a> LookupSpan<'a>,
    N: for<'a> FormatFields<'a> + 'static,
{
    fn format_event(
        &self,
        _ctx: &FmtContext<'_, S, N>,
        mut w: Writer<'_>,
        event: &Event<'_>,
    ) -> fmt::Result {
        let level = match *event.metadata().level() {
            Level::ERROR => "error",
            Level::WARN => "warn",
            Level::INFO => "info",
            Level::DEBUG => "debug",
            Level::TRACE => "trace",
        };
        let ts = crate::timefmt::format_rfc3339(crate::timefmt::now_unix());
        write!(w, "ts={ts} level={level}")?;
        let mut v = Fields {
            out: String::new(),
            msg: None,
        };
        event.record(&mut v);
        if let Some(m) = v.msg {
            write!(w, " msg={}", quote(&m))?;
        }
        writeln!(w, "{}", v.out)
    }
}

struct Fields {
    out: String,
    msg: Option<String>,
}

impl Visit for Fields {
    fn record_str(&mut self, field: &Field, value: &str) {
        self.push(field, value.to_string());
    }

    fn record_debug(&mut self, field: &Field, value: &dyn fmt::Debug) {
        self.push(field, format!("{value:?}"));
    }
}

impl Fields {
    fn push(&mut self, field: &Field, value: String) {
        if field.name() == "message" {
            self.msg = Some(value);
        } else {
            self.out.push(' ');
            self.out.push_str(field.name());
            self.out.push('=');
            self.out.push_str(&quote(&value));
        }
    }
}

/// Quotes a logfmt value when it needs it.
fn quote(v: &str) -> String {
    let plain = !v.is_empty()
        && v.chars()
            .all(|c| c.is_ascii_graphic() && c != '"' && c != '=' && c != '\\');
    if plain {
        return v.to_string();
    }
    let mut out = String::with_capacity(v.len() + 2);
    out.push('"');
    for c in v.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            // `\r`, ANSI escapes and the like would act on the terminal.
            c if crate::printable::is_unsafe(c) => crate::printable::push_escaped(&mut out, c),
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

#[cfg(test)]
mod tests {
    use super::quote;

    #[test]
    fn logfmt_values_are_quoted_when_needed() {
        assert_eq!(quote("prod-eu"), "prod-eu");
        assert_eq!(quote("two words"), "\"two words\"");
        assert_eq!(quote("a=\"b\""), "\"a=\\\"b\\\"\"");
        assert_eq!(quote(""), "\"\"");
    }

    #[test]
    fn every_control_character_is_escaped() {
        assert_eq!(
            quote("rule\rlevel=error msg=forged\x1b[2K"),
            "\"rule\\rlevel=error msg=forged\\u{1b}[2K\""
        );
        assert_eq!(quote("a\nb\u{7}"), "\"a\\nb\\u{7}\"");
        for c in (0u32..0x20).chain(0x7f..0xa0).filter_map(char::from_u32) {
            let q = quote(&format!("x{c}y"));
            assert!(!q.contains(c), "{:?} reached the line raw: {q:?}", c);
        }
    }
}
