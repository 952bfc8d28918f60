//! Writing metrics in the two text formats scrapers ask for.
//!
//! - OpenMetrics 1.0 (`application/openmetrics-text`), which Prometheus asks
//!   for first by default;
//! - the classic Prometheus text format 0.0.4 (`text/plain`), which older
//!   agents and `promtool check metrics` need.
//!
//! For the metrics this exporter serves (gauges, counters, one histogram)
//! the two formats differ only in family headers (a counter's family is
//! `x` in OpenMetrics and `x_total` in the classic format) and in the
//! OpenMetrics `# EOF` trailer, and the `_created` lines OpenMetrics allows
//! after a counter's `_total` (the per-rule event counters carry them).
//! Every other sample line is identical, which lets the collector render a
//! poll's sample lines once and serve them in both; only the counter
//! families get a second, OpenMetrics rendering.
//!
//! Why not prometheus-client's encoder: it writes only OpenMetrics and
//! re-encodes every sample on every scrape; see `docs/architecture.md`.

mod live;
mod negotiate;
mod text;

pub use live::LiveSink;

pub use negotiate::{Encoding, negotiate};
pub use text::{Labels, write_counter, write_f64, write_label_pairs, write_sample, write_u64};

/// The exposition format of one response.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Format {
    /// OpenMetrics text 1.0.0.
    OpenMetrics,
    /// Prometheus text 0.0.4.
    Text,
}

impl Format {
    /// The `Content-Type` header value for this format.
    pub fn content_type(self) -> &'static str {
        match self {
            Format::OpenMetrics => "application/openmetrics-text; version=1.0.0; charset=utf-8",
            Format::Text => "text/plain; version=0.0.4; charset=utf-8",
        }
    }
}

/// Metric types used here.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Kind {
    /// A value that goes up and down.
    Gauge,
    /// A monotonically increasing count; samples carry `_total`.
    Counter,
    /// Cumulative buckets plus `_sum` and `_count`.
    Histogram,
}

/// A metric family's name, help and type. `name` is the family name: for a
/// counter it excludes `_total`.
#[derive(Clone, Copy, Debug)]
pub struct Desc {
    /// Family name, without `_total` for counters.
    pub name: &'static str,
    /// HELP text; plain ASCII without backslashes or newlines.
    pub help: &'static str,
    /// Metric type.
    pub kind: Kind,
}

impl Desc {
    /// Appends the `# HELP` and `# TYPE` lines for `format`.
    pub fn write_header(&self, format: Format, out: &mut Vec<u8>) {
        let kind = match self.kind {
            Kind::Gauge => "gauge",
            Kind::Counter => "counter",
            Kind::Histogram => "histogram",
        };
        // The classic format names a counter family after its sample.
        let suffix = match (format, self.kind) {
            (Format::Text, Kind::Counter) => "_total",
            _ => "",
        };
        for (tag, text) in [("HELP", self.help), ("TYPE", kind)] {
            out.extend_from_slice(b"# ");
            out.extend_from_slice(tag.as_bytes());
            out.push(b' ');
            out.extend_from_slice(self.name.as_bytes());
            out.extend_from_slice(suffix.as_bytes());
            out.push(b' ');
            out.extend_from_slice(text.as_bytes());
            out.push(b'\n');
        }
    }
}

/// Appends the end-of-exposition marker, if the format has one.
pub fn write_trailer(format: Format, out: &mut Vec<u8>) {
    if format == Format::OpenMetrics {
        out.extend_from_slice(b"# EOF\n");
    }
}
