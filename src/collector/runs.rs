//! The leading run of a gzip answer, joined once per change of the
//! environments served instead of once per scrape, when it is small.
//!
//! A gzip answer starts with the per-rule families: each family's header
//! and each environment's block, all deflated beforehand (stored
//! segments). That run is most of the answer, and at tens of rules per
//! environment its segments are a few hundred bytes to a few KiB each: a
//! scrape copied all of them into frames (see `http::Chunks`) and joined
//! their CRCs one by one. The run depends only on the format and on which
//! rendering of each environment is served, so it is joined once, kept,
//! and shared by every scrape until an environment is rendered anew.
//!
//! Only runs of at most [`KEEP_MAX`] bytes are kept: a kept run is a
//! second copy of the per-rule families, and at 10,000 rules (over 3 MB
//! per format) that copy would cost more memory than the scrapes it saves
//! are worth there: with hundreds of environments, one is rendered anew
//! between nearly any two scrapes. Larger runs are joined as they are sent.
//! The cache refers to the renderings by weak reference: it keeps none of
//! them alive, and a weak reference keeps the old rendering's address from
//! being reused, so a new rendering is never taken for the one it replaced.
//!
//! The per-environment families near the end of an answer (one line per
//! environment each) depend on the same things, and are deflated once per
//! set of renderings the same way ([`Runs::env_section`]): before, each
//! scrape coded those lines afresh. They are a few hundred bytes per
//! environment, so they are kept at every size.

use std::sync::{Arc, Mutex, MutexGuard, Weak};

use bytes::Bytes;

use super::deflate::{Bits, Crc32, FixedLines, shift_factor};
use super::gzip::{Deflated, slot};
use super::render::Rendered;
use crate::exposition::Format;
use crate::http::Chunks;

/// The largest run joined and kept, in bytes (the sum of its segments'
/// lengths).
const KEEP_MAX: usize = 1 << 20;

/// The joined leading runs, one per format. Share one per server.
#[derive(Debug)]
pub struct Runs {
    /// Classic text, OpenMetrics.
    slots: Mutex<[Option<Arc<Run>>; 2]>,
    /// The environment sections, likewise.
    sections: Mutex<[Option<Arc<Section>>; 2]>,
    /// The largest run joined and kept, in bytes.
    keep_max: usize,
}

impl Default for Runs {
    fn default() -> Self {
        Self::keeping(KEEP_MAX)
    }
}

/// A leading run, joined.
#[derive(Debug)]
pub(crate) struct Run {
    /// The renderings it was joined from, in order.
    envs: Vec<Weak<Rendered>>,
    /// Number of parts it covers.
    pub(crate) parts: usize,
    /// The segments as frames to send (small ones joined, large ones
    /// shared).
    pub(crate) frames: Vec<Bytes>,
    /// The whole run as one segment, for the member's CRC.
    pub(crate) crc: Crc32,
    pub(crate) factor: u32,
}

/// The per-environment families of an answer, deflated.
#[derive(Debug)]
pub(crate) struct Section {
    /// The renderings it was written from, in order.
    envs: Vec<Weak<Rendered>>,
    pub(crate) deflated: Deflated,
}

/// Whether `envs` are the renderings `rendered`, in order.
fn same(envs: &[Weak<Rendered>], rendered: &[Arc<Rendered>]) -> bool {
    envs.len() == rendered.len()
        && envs
            .iter()
            .zip(rendered)
            .all(|(w, r)| std::ptr::eq(w.as_ptr(), Arc::as_ptr(r)))
}

/// Locks a pair of slots. They hold whole values: a panic cannot leave
/// one half-set.
fn lock<T>(slots: &Mutex<[Option<Arc<T>>; 2]>) -> MutexGuard<'_, [Option<Arc<T>>; 2]> {
    slots.lock().unwrap_or_else(|p| p.into_inner())
}

impl Runs {
    /// Keeps runs of at most `keep_max` bytes.
    pub(crate) fn keeping(keep_max: usize) -> Self {
        Self {
            slots: Mutex::default(),
            sections: Mutex::default(),
            keep_max,
        }
    }

    /// The run for `format` and `rendered`: the kept one if it was joined
    /// from these renderings; else, when `segments` (the run's parts'
    /// segments, in order) add up to at most the bound, one joined from
    /// them now and kept; else `None`, and the scrape sends the segments as
    /// they are.
    pub(crate) fn get<'a>(
        &self,
        format: Format,
        rendered: &[Arc<Rendered>],
        segments: impl FnOnce() -> Vec<&'a Deflated>,
    ) -> Option<Arc<Run>> {
        let slot = slot(format);
        if let Some(run) = &lock(&self.slots)[slot]
            && same(&run.envs, rendered)
        {
            return Some(Arc::clone(run));
        }
        let segments = segments();
        if segments.iter().map(|d| d.bytes.len()).sum::<usize>() > self.keep_max {
            return None;
        }
        // Joined outside the lock: a scrape never waits for another's
        // copying. Two scrapes that both find it stale both join it; the
        // last one kept wins, and either is right.
        let mut crc = Crc32::default();
        for d in &segments {
            crc.join(d.crc, d.factor);
        }
        let bytes = segments.iter().map(|d| d.bytes.clone()).collect();
        let run = Arc::new(Run {
            envs: rendered.iter().map(Arc::downgrade).collect(),
            parts: segments.len(),
            frames: Chunks::new(bytes).collect(),
            factor: shift_factor(crc.len),
            crc,
        });
        lock(&self.slots)[slot] = Some(Arc::clone(&run));
        Some(run)
    }

    /// The environment section for `format` and `rendered`: the kept one
    /// if it was written from these renderings, else `text` (the section's
    /// text) coded now and kept.
    pub(crate) fn env_section(
        &self,
        format: Format,
        rendered: &[Arc<Rendered>],
        text: impl FnOnce() -> Vec<u8>,
    ) -> Arc<Section> {
        let slot = slot(format);
        if let Some(section) = &lock(&self.sections)[slot]
            && same(&section.envs, rendered)
        {
            return Arc::clone(section);
        }
        // Deflated outside the lock, like a run is joined.
        // Coded line by line like the scrape's own text was (a compressor
        // set up for a few KiB costs more than the coding).
        let text = text();
        let mut bits = Bits::with_capacity(text.len() / 2);
        FixedLines::default().block(&mut bits, &text);
        let crc = Crc32::of(&text);
        let deflated = Deflated {
            bytes: bits.sync().into(),
            factor: shift_factor(crc.len),
            crc,
        };
        let section = Arc::new(Section {
            envs: rendered.iter().map(Arc::downgrade).collect(),
            deflated,
        });
        lock(&self.sections)[slot] = Some(Arc::clone(&section));
        section
    }
}

#[cfg(test)]
mod tests {
    use std::cell::Cell;

    use super::*;
    use crate::collector::gzip::deflate_blocks;
    use crate::collector::render;
    use crate::snapshot::{EnvKey, EnvSnapshot};

    fn rendering(n: usize) -> Arc<Rendered> {
        let key = EnvKey::new(&format!("env-{n}"), &format!("e{n}"));
        Arc::new(render(&key, &EnvSnapshot::default()))
    }

    #[test]
    fn a_run_is_joined_once_per_format_and_set_of_renderings() {
        // Small segments (joined into frames) around a large one (shared).
        let mut rng = fastrand::Rng::with_seed(3);
        let noise: Vec<u8> = (0..40_000).map(|_| rng.u8(..)).collect();
        let texts = [b"a{x=\"1\"} 1\n".repeat(30), noise, b"b 2\n".repeat(9)];
        let segments = deflate_blocks(texts.iter().map(|t| Some(&t[..])));
        let segments: Vec<&Deflated> = segments.iter().flatten().collect();
        // Large enough to be sent as it is (see `http::chunks::SMALL`).
        assert!(segments[1].bytes.len() >= 16 * 1024);

        let runs = Runs::default();
        let joins = Cell::new(0);
        let get = |format, rendered: &[Arc<Rendered>]| {
            runs.get(format, rendered, || {
                joins.set(joins.get() + 1);
                segments.clone()
            })
            .expect("under the bound")
        };
        let (a, b) = (rendering(0), rendering(1));
        let first = get(Format::Text, &[a.clone(), b.clone()]);
        assert_eq!(first.parts, 3);
        let want: Vec<u8> = segments.iter().flat_map(|d| d.bytes.to_vec()).collect();
        assert_eq!(first.frames.concat(), want);
        assert_eq!(first.frames[1].as_ptr(), segments[1].bytes.as_ptr());
        let mut crc = Crc32::default();
        for t in &texts {
            crc.update(t);
        }
        assert_eq!((first.crc.sum, first.crc.len), (crc.sum, crc.len));
        assert_eq!(first.factor, shift_factor(crc.len));

        // The same renderings: the kept run, not joined again, though no
        // scrape holds it any more.
        drop(first);
        let again = get(Format::Text, &[a.clone(), b.clone()]);
        assert_eq!(again.frames.concat(), want);
        assert_eq!(joins.get(), 1);
        // Another format, fewer environments, another order, a new
        // rendering of one environment: joined anew.
        get(Format::OpenMetrics, &[a.clone(), b.clone()]);
        get(Format::Text, std::slice::from_ref(&a));
        get(Format::Text, &[b.clone(), a.clone()]);
        get(Format::Text, &[rendering(0), b.clone()]);
        assert_eq!(joins.get(), 5);
        // One run is kept per format: the last one joined.
        get(Format::Text, &[a.clone(), b.clone()]);
        assert_eq!(joins.get(), 6);
        get(Format::OpenMetrics, &[a.clone(), b.clone()]);
        assert_eq!(joins.get(), 6);
        // The cache keeps no rendering alive.
        assert_eq!((Arc::strong_count(&a), Arc::strong_count(&b)), (1, 1));

        // A run over the bound is neither joined nor kept.
        let small = Runs::keeping(segments.iter().map(|d| d.bytes.len()).sum::<usize>() - 1);
        for _ in 0..2 {
            assert!(
                small
                    .get(Format::Text, std::slice::from_ref(&a), || segments.clone())
                    .is_none()
            );
        }
        assert!(lock(&small.slots).iter().all(Option::is_none));
    }

    #[test]
    fn an_env_section_is_deflated_once_per_format_and_set_of_renderings() {
        let runs = Runs::default();
        let writes = Cell::new(0);
        let text = b"# TYPE x gauge\nx{e=\"1\"} 1\n".to_vec();
        let get = |format, rendered: &[Arc<Rendered>]| {
            runs.env_section(format, rendered, || {
                writes.set(writes.get() + 1);
                text.clone()
            })
        };
        let (a, b) = (rendering(0), rendering(1));
        let first = get(Format::Text, &[a.clone(), b.clone()]);
        let d = &first.deflated;
        let mut w = crate::collector::gzip::GzipWriter::new();
        w.segment(d);
        assert_eq!(crate::collector::tests::gunzip(&w.finish()), text);
        assert_eq!(d.crc, Crc32::of(&text));
        assert_eq!(d.factor, shift_factor(text.len() as u64));
        let again = get(Format::Text, &[a.clone(), b.clone()]);
        assert!(Arc::ptr_eq(&first, &again));
        assert_eq!(writes.get(), 1);
        get(Format::OpenMetrics, &[a.clone(), b.clone()]);
        get(Format::Text, &[b.clone(), a.clone()]);
        get(Format::Text, &[rendering(0), b.clone()]);
        assert_eq!(writes.get(), 4);
        assert_eq!((Arc::strong_count(&a), Arc::strong_count(&b)), (1, 1));
    }
}
