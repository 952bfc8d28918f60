//! The sample-line writer the metric families ([`families`](super::families))
//! write through: `name{labels,extra} value` lines for one subject (a rule or
//! an environment), counters with `_total` and, in the OpenMetrics
//! rendering, `_created`.

use crate::exposition::{Labels, write_f64, write_label_pairs, write_u64};
use crate::snapshot::StateCounts;

/// Writes the sample lines of one family for one subject (a rule or an
/// environment): `name{labels,extra} value`, with `labels` already
/// written (the subject's common labels).
pub(crate) struct Samples<'a> {
    pub(crate) out: &'a mut Vec<u8>,
    pub(crate) name: &'static str,
    pub(crate) labels: &'a [u8],
    /// For counters in the OpenMetrics rendering: the `_created` value
    /// (the latest revision's time, Unix seconds); `None` writes none.
    pub(crate) created: Option<f64>,
}

impl Samples<'_> {
    /// Writes a line's `name{labels,extra} ` prefix.
    pub(crate) fn start(&mut self, extra: Labels<'_>) {
        self.start_suffixed("", extra);
    }

    pub(super) fn start_suffixed(&mut self, suffix: &str, extra: Labels<'_>) {
        self.out.extend_from_slice(self.name.as_bytes());
        self.out.extend_from_slice(suffix.as_bytes());
        self.out.push(b'{');
        self.out.extend_from_slice(self.labels);
        if !extra.is_empty() {
            self.out.push(b',');
            write_label_pairs(self.out, extra);
        }
        self.out.extend_from_slice(b"} ");
    }

    /// A counter's sample: `name_total{..} v`, then `name_created{..} t`
    /// when [`Samples::created`] is set (OpenMetrics only).
    pub(super) fn counter(&mut self, extra: Labels<'_>, v: u64) {
        self.start_suffixed("_total", extra);
        write_u64(self.out, v);
        self.out.push(b'\n');
        if let Some(t) = self.created {
            self.start_suffixed("_created", extra);
            write_f64(self.out, t);
            self.out.push(b'\n');
        }
    }

    pub(super) fn u64(&mut self, extra: Labels<'_>, v: u64) {
        self.start(extra);
        write_u64(self.out, v);
        self.out.push(b'\n');
    }

    pub(crate) fn f64(&mut self, extra: Labels<'_>, v: f64) {
        self.start(extra);
        write_f64(self.out, v);
        self.out.push(b'\n');
    }

    pub(super) fn opt_u64(&mut self, v: Option<u64>) {
        if let Some(v) = v {
            self.u64(&[], v);
        }
    }

    pub(super) fn opt_f64(&mut self, v: Option<f64>) {
        if let Some(v) = v {
            self.f64(&[], v);
        }
    }

    /// One line per sync state PingOne gave a count for.
    pub(super) fn states(&mut self, counts: &StateCounts) {
        for (state, n) in counts.labelled() {
            if let Some(n) = n {
                self.u64(&[("state", state)], n);
            }
        }
    }
}
