//! Gzip `/metrics` answers shared by the scrapes of one millisecond.
//!
//! A gzip answer is written as of its scrape's clock taken to the
//! millisecond (the ages are written in whole milliseconds, so nothing
//! finer shows). Two scrapes that start in the same millisecond from the
//! same environment snapshots would therefore make the same answer, but
//! for a self-metric that moved between them: the later one sends the
//! answer the earlier one made instead. Under a burst of scrapes (several
//! Prometheus servers, dashboards, a load test) this saves the whole
//! per-scrape work; at Prometheus's usual one scrape every 15 s or more it
//! never applies.
//!
//! A scrape never waits for another: one that finds no answer for its
//! millisecond and snapshots makes its own (an earlier attempt that let
//! scrapes queue for a shared answer made them wait for each other; see
//! docs/performance.md). Plain answers are not kept: they are written as
//! they are sent, and keeping one at 10,000 rules would keep 13 MB.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, PoisonError, Weak};

use bytes::Bytes;

use crate::exposition::Format;

/// The last gzip answer made for each format, with the millisecond and the
/// snapshot list (`S`) it was made from. Holds one answer per format
/// (the buffers made for it; the blocks it shares are held by the
/// snapshots anyway) and never the snapshots themselves.
#[derive(Debug)]
pub struct RecentAnswers<S> {
    /// Answers started so far: a later number read newer self-metrics.
    started: AtomicU64,
    /// OpenMetrics, then Prometheus text.
    slots: [Mutex<Option<Kept<S>>>; 2],
}

#[derive(Debug)]
struct Kept<S> {
    /// Unix time in whole milliseconds.
    ms: u64,
    /// Its number in `started`.
    seq: u64,
    /// The snapshot list it was made from. Weak: the list's data goes when
    /// the server stops serving it, but its address is not reused while
    /// this points at it, so an equal address means the same list.
    snapshots: Weak<S>,
    answer: Vec<Bytes>,
}

/// No answer kept for a scrape: it makes one, numbered here, and offers
/// it with [`RecentAnswers::keep`].
#[derive(Debug)]
#[must_use = "a scrape that found no answer makes one"]
pub struct Miss {
    seq: u64,
}

impl<S> Default for RecentAnswers<S> {
    fn default() -> Self {
        Self {
            started: AtomicU64::new(0),
            slots: [Mutex::new(None), Mutex::new(None)],
        }
    }
}

/// Unix time `now` (seconds) in whole milliseconds, rounded down; 0 for a
/// clock before 1970.
pub fn millisecond(now: f64) -> u64 {
    // `as` saturates: NaN and negatives give 0.
    (now * 1000.0).floor() as u64
}

impl<S> RecentAnswers<S> {
    fn slot(&self, format: Format) -> &Mutex<Option<Kept<S>>> {
        match format {
            Format::OpenMetrics => &self.slots[0],
            Format::Text => &self.slots[1],
        }
    }

    /// The answer kept for `format` if it was made in millisecond `ms`
    /// from `snapshots` (the same list, not an equal one); else a number
    /// for the answer the caller makes.
    pub fn get(&self, format: Format, ms: u64, snapshots: &Arc<S>) -> Result<Vec<Bytes>, Miss> {
        let slot = self
            .slot(format)
            .lock()
            .unwrap_or_else(PoisonError::into_inner);
        match &*slot {
            Some(k) if k.ms == ms && std::ptr::eq(k.snapshots.as_ptr(), Arc::as_ptr(snapshots)) => {
                Ok(k.answer.clone())
            }
            // Numbered under the lock, before the caller reads the
            // self-metrics: a higher number never read older ones.
            _ => Err(Miss {
                seq: self.started.fetch_add(1, Ordering::Relaxed) + 1,
            }),
        }
    }

    /// Keeps `answer`, made for `format` in millisecond `ms` from
    /// `snapshots` after `miss` and finished in millisecond `finished`,
    /// unless an answer started later is kept. An answer finished after
    /// its millisecond can serve no other scrape, so it is not kept, and
    /// the one it follows goes too (at 10,000 rules every answer takes a
    /// few milliseconds: keeping them would only hold their buffers, and
    /// copying the list of a few thousand costs a tenth of a millisecond).
    pub fn keep(
        &self,
        format: Format,
        miss: Miss,
        (ms, finished): (u64, u64),
        snapshots: &Arc<S>,
        answer: &[Bytes],
    ) {
        let mut slot = self
            .slot(format)
            .lock()
            .unwrap_or_else(PoisonError::into_inner);
        if slot.as_ref().is_some_and(|k| k.seq > miss.seq) {
            return;
        }
        if finished != ms {
            *slot = None;
            return;
        }
        *slot = Some(Kept {
            ms,
            seq: miss.seq,
            snapshots: Arc::downgrade(snapshots),
            answer: answer.to_vec(),
        });
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn answer(text: &'static str) -> Vec<Bytes> {
        vec![
            Bytes::from_static(text.as_bytes()),
            Bytes::from(text.to_string()),
        ]
    }

    fn same(a: &[Bytes], b: &[Bytes]) -> bool {
        a.len() == b.len() && a.iter().zip(b).all(|(x, y)| x.as_ptr() == y.as_ptr())
    }

    #[test]
    fn an_answer_serves_its_millisecond_format_and_snapshots_only() {
        let recent = RecentAnswers::default();
        let snaps = Arc::new(vec![1]);
        let miss = recent.get(Format::Text, 7, &snaps).unwrap_err();
        let made = answer("a");
        recent.keep(Format::Text, miss, (7, 7), &snaps, &made);

        let again = recent.get(Format::Text, 7, &snaps).unwrap();
        assert!(same(&again, &made), "the same buffers, not copies");
        assert!(
            recent.get(Format::Text, 8, &snaps).is_err(),
            "next millisecond"
        );
        assert!(
            recent.get(Format::OpenMetrics, 7, &snaps).is_err(),
            "other format"
        );
        let equal = Arc::new(vec![1]);
        assert!(
            recent.get(Format::Text, 7, &equal).is_err(),
            "an equal list is not the list"
        );
    }

    #[test]
    fn an_answer_started_later_is_not_replaced_by_an_earlier_one() {
        let recent = RecentAnswers::default();
        let snaps = Arc::new(());
        let early = recent.get(Format::Text, 7, &snaps).unwrap_err();
        let late = recent.get(Format::Text, 7, &snaps).unwrap_err();
        let (a, b) = (answer("early"), answer("late"));
        recent.keep(Format::Text, late, (7, 7), &snaps, &b);
        recent.keep(Format::Text, early, (7, 7), &snaps, &a);
        assert!(same(&recent.get(Format::Text, 7, &snaps).unwrap(), &b));

        // A later one replaces it, whatever its millisecond (a clock set
        // back must not leave the slot stuck on a future millisecond).
        let back = recent.get(Format::Text, 3, &snaps).unwrap_err();
        let c = answer("back");
        recent.keep(Format::Text, back, (3, 3), &snaps, &c);
        assert!(same(&recent.get(Format::Text, 3, &snaps).unwrap(), &c));
    }

    #[test]
    fn an_answer_finished_after_its_millisecond_is_not_kept() {
        let recent = RecentAnswers::default();
        let snaps = Arc::new(());
        let miss = recent.get(Format::Text, 7, &snaps).unwrap_err();
        recent.keep(Format::Text, miss, (7, 7), &snaps, &answer("on time"));
        assert!(recent.get(Format::Text, 7, &snaps).is_ok());

        let slow = recent.get(Format::Text, 8, &snaps).unwrap_err();
        recent.keep(Format::Text, slow, (8, 9), &snaps, &answer("late"));
        assert!(recent.get(Format::Text, 8, &snaps).is_err());
        assert!(
            recent.get(Format::Text, 7, &snaps).is_err(),
            "the older one went too"
        );
    }

    #[test]
    fn the_snapshots_are_not_kept_alive() {
        let recent = RecentAnswers::default();
        let snaps = Arc::new(vec![0u8; 1024]);
        let miss = recent.get(Format::OpenMetrics, 1, &snaps).unwrap_err();
        recent.keep(Format::OpenMetrics, miss, (1, 1), &snaps, &answer("x"));
        let weak = Arc::downgrade(&snaps);
        drop(snaps);
        assert!(weak.upgrade().is_none());
    }

    #[test]
    fn milliseconds_round_down_and_saturate() {
        assert_eq!(millisecond(1_700_000_000.123_9), 1_700_000_000_123);
        assert_eq!(millisecond(-1.0), 0);
        assert_eq!(millisecond(f64::NAN), 0);
    }
}
