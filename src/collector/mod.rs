//! Turns environment snapshots into a `/metrics` answer.
//!
//! The families served are listed in one place ([`families`]), each
//! writing its lines through one writer (`samples`). The
//! per-rule part is rendered once per poll ([`render`]): one block of
//! sample lines per metric family per environment, each also
//! deflated (a counter family also once more for OpenMetrics, with its
//! `_created` lines). Otherwise sample lines are the same in both formats, so a scrape
//! ([`scrape`]) only writes family headers, sends the blocks (shared, not
//! copied), computes the ages against the scrape's clock, and lets the
//! caller append the families it keeps live (the self-metrics and the
//! alert sender's series). Gzip scrapes ([`gzip`]) send the blocks as
//! deflated per poll, write the age lines from deflate codes prepared per
//! poll ([`deflate`]) and code the rest line by line, compressing nothing
//! the general way. A rule deleted upstream is missing from the next
//! poll's snapshot, so its series disappear at once.
//!
//! The collector reads no shared state: the caller hands it the rendered
//! blocks of the environments to serve.

mod age;
mod deflate;
mod families;
mod gzip;
mod kept;
mod live;
mod render;
mod replay;
mod runs;
mod samples;
mod scrape;
#[cfg(test)]
mod tests;

pub use families::{RULE_FAMILIES, RuleFamily};
pub use live::{LiveCache, LiveCoder};
pub use render::{Rendered, render};
pub use scrape::{CHUNK, Exposition};

use std::sync::Arc;

use bytes::Bytes;

use crate::exposition::{Format, LiveSink};

/// Starts a `/metrics` answer at time `now` (Unix seconds) from the
/// rendered snapshots of the environments to serve, in order. `live`
/// writes the families kept in memory (now, after the cached ones and
/// before the trailer).
pub fn scrape(
    format: Format,
    rendered: Vec<Arc<Rendered>>,
    now: f64,
    live: impl FnOnce(&mut dyn LiveSink),
) -> Exposition {
    Exposition::new(format, rendered, now, live)
}

/// What gzip scrapes keep between them; one per server.
#[derive(Debug, Default)]
pub struct GzipCache {
    /// The codes of the live pieces (module `live`).
    pub(crate) live: LiveCache,
    /// The leading runs, joined (module `runs`).
    pub(crate) runs: runs::Runs,
}

/// A gzip `/metrics` answer (one gzip member) at time `now`, as a list of
/// buffers to send in order; see [`scrape`] for the arguments. `cache`
/// keeps what did not change since the last gzip scrape: the codes of the
/// live pieces, and the leading run of stored segments, joined.
pub fn gzip(
    format: Format,
    rendered: Vec<Arc<Rendered>>,
    now: f64,
    cache: &GzipCache,
    live: impl FnOnce(&mut dyn LiveSink),
) -> Result<Vec<Bytes>, flate2::CompressError> {
    Exposition::gzip_at(format, rendered, now, cache, live)
}

/// A whole `/metrics` answer as a list of buffers to send in order
/// ([`scrape`], written out at once).
pub fn encode(
    format: Format,
    rendered: Vec<Arc<Rendered>>,
    now: f64,
    live: impl FnOnce(&mut dyn LiveSink),
) -> Vec<Bytes> {
    scrape(format, rendered, now, live).collect()
}
