//! The live part of a gzip scrape (the self-metrics, the alert sender's
//! and the request plan's series, the trailer), coded into one
//! fixed-Huffman block, with each environment's pieces coded once per
//! change instead of once per scrape.
//!
//! A piece ([`LiveSink::piece`]) keeps its text and the codes of its lines
//! after the first ([`LiveCache`]): those match only within the
//! piece, so the same bits are valid wherever the piece lands in a fixed
//! block. Its first line is matched against the line before it, which
//! belongs to another environment (or a header), so its codes are kept
//! together with that line and reused only while it is the same. At L (200
//! environments) that leaves a scrape about 1,600 pieces to copy as bits
//! and hash for the CRC, instead of 670 KB of text to write and code; a piece
//! whose environment changed since the last scrape is written and coded
//! again, at the cost it had before (the kept codes: `kept`).
//!
//! Most scrapes are given what the last one was, up to some point: the
//! coder replays the last scrape's log until the first difference and
//! codes only from there (`replay`).

use std::collections::HashMap;
use std::sync::{Arc, Mutex, MutexGuard};

use super::deflate::{Bits, Crc32, FixedLines, fixed_end, fixed_start, shift_factor};
use super::gzip::{Deflated, slot};
use super::kept::{FreshLines, Piece};
use super::replay::{Event, Log, family_end};
use crate::exposition::{Format, LiveSink};

/// The pieces kept between gzip scrapes: per environment id, per family.
/// Share one per server.
#[derive(Debug, Default)]
pub struct LiveCache {
    inner: Mutex<Pieces>,
}

#[derive(Debug, Default)]
struct Pieces {
    /// Kept while a format's log names the environment (see
    /// [`LiveCoder::finish`]).
    by_env: HashMap<Arc<str>, Vec<Option<Piece>>>,
    /// Codes of fresh lines (family headers, process-wide lines).
    lines: FreshLines,
    /// The last live part of each format (classic, OpenMetrics), to replay.
    logs: [Log; 2],
    /// Bytes the last live part took, coded.
    last_size: usize,
    /// The fresh-text buffer, kept for its capacity.
    pending: Vec<u8>,
    /// The volatile-text buffer, kept for its capacity.
    tail: Vec<u8>,
    /// Counts scrapes; a line not used by the last one that coded lines is
    /// dropped.
    scrape: u64,
    /// Scrapes that took part of the last one's stream (for tests).
    resumed: u64,
}

impl LiveCache {
    /// A sink for one gzip scrape's live part in `format`. It holds the
    /// cache until [`LiveCoder::finish`]: concurrent scrapes code their
    /// live parts one at a time (a fraction of a millisecond when little
    /// changed).
    pub fn coder(&self, format: Format) -> LiveCoder<'_> {
        let mut pieces = self.inner.lock().unwrap_or_else(|p| p.into_inner());
        pieces.scrape += 1;
        let slot = slot(format);
        let mut log = std::mem::take(&mut pieces.logs[slot]);
        let pending = std::mem::take(&mut pieces.pending);
        let tail = std::mem::take(&mut pieces.tail);
        // Replayed until an event differs; a log never finished codes
        // from the start.
        let replay = log.done.take().map(|done| Replay { next: 0, done });
        let mut out = Bits::default();
        if replay.is_none() {
            out = Bits::with_capacity(pieces.last_size + 64);
            fixed_start(&mut out);
        }
        LiveCoder {
            pieces,
            slot,
            log,
            replay,
            out,
            crc: Crc32::default(),
            pending,
            tail,
            prev: Vec::new(),
            coder: FixedLines::default(),
        }
    }
}

/// Codes one scrape's live part ([`LiveCache::coder`]).
#[derive(Debug)]
pub struct LiveCoder<'a> {
    pieces: MutexGuard<'a, Pieces>,
    /// The format's slot in `Pieces::logs`.
    slot: usize,
    /// Replayed up to `replay.next`, then recorded: the log this scrape
    /// leaves.
    log: Log,
    /// While replaying; `None` once coding (the stream, CRC and line
    /// before are then this scrape's).
    replay: Option<Replay>,
    out: Bits,
    crc: Crc32,
    /// Fresh text not coded yet.
    pending: Vec<u8>,
    /// Volatile text ([`LiveSink::volatile`]): not coded here, and not
    /// kept, so that it does not stop the replay.
    tail: Vec<u8>,
    /// The last line coded, without its newline (empty after a partial
    /// line).
    prev: Vec<u8>,
    coder: FixedLines,
}

/// A replay under way.
#[derive(Debug)]
struct Replay {
    /// The next event of the log to match.
    next: usize,
    /// The segment the log's events made (taken from the log).
    done: Deflated,
}

impl LiveCoder<'_> {
    /// Stops replaying at the next event: takes the last scrape's stream
    /// up to there, its CRC and the line before, and forgets the log's
    /// later events.
    fn diverge(&mut self) {
        let Some(Replay { next: k, done }) = self.replay.take() else {
            return;
        };
        let by_env = &self.pieces.by_env;
        let prev = self.log.prev_line(k, |env, family, generation| {
            let piece = by_env.get(env)?.get(family)?.as_ref()?;
            (piece.generation == generation && piece.set).then(|| piece.text.clone())
        });
        // A piece given twice in the last scrape keeps only its later text.
        // Lines coded after an empty line before are valid whatever
        // precedes them (they match nothing before), so that is safe.
        let prev = prev.unwrap_or_default();
        let mark = self.log.truncate(k);
        self.pieces.resumed += u64::from(k > 0);
        self.out = Bits::from_prefix(&done.bytes, mark.bits, self.pieces.last_size + 64);
        self.crc = mark.crc;
        self.prev = prev;
    }

    /// Makes volatile text given before more text or a piece fresh text,
    /// so that it stays before them (and is coded and kept like the rest).
    fn settle_tail(&mut self) {
        if !self.tail.is_empty() {
            self.pending.extend_from_slice(&self.tail);
            self.tail.clear();
        }
    }

    /// Codes the fresh text a family at a time (see [`flush_family`]).
    ///
    /// [`flush_family`]: Self::flush_family
    fn flush(&mut self) {
        let pending = std::mem::take(&mut self.pending);
        let mut start = 0;
        while start < pending.len() {
            let end = family_end(&pending, start);
            self.flush_family(&pending[start..end]);
            start = end;
        }
        self.pending = pending;
        self.pending.clear();
    }

    /// Codes one family's fresh text (not empty), line by line: a line
    /// seen after the same line at the last scrape takes the codes kept
    /// from then. While replaying, text equal to the log's next is skipped:
    /// a family whose values changed (the plan's data ages, at every
    /// scrape) is where the replay stops, not the whole flush around it.
    fn flush_family(&mut self, text: &[u8]) {
        if let Some(r) = &mut self.replay {
            if let Some(Event::Text { start, end }) = self.log.events.get(r.next)
                && self.log.text.get(*start..*end) == Some(text)
            {
                r.next += 1;
                return;
            }
            self.diverge();
        }
        self.crc.update(text);
        let scrape = self.pieces.scrape;
        self.pieces
            .lines
            .code(scrape, &mut self.coder, &mut self.out, &mut self.prev, text);
        let start = self.log.text.len();
        self.log.text.extend_from_slice(text);
        let end = self.log.text.len();
        self.log
            .push(Event::Text { start, end }, &self.out, self.crc);
    }

    /// The live part as a deflate segment (ends with a sync flush), but for
    /// its volatile text, which is appended to `tail` for the caller to
    /// code after the segment. Keeps this scrape's log for the next, and
    /// drops the pieces of environments neither format's log names any
    /// more.
    pub(crate) fn finish(mut self, tail: &mut Vec<u8>) -> Deflated {
        self.flush();
        self.pieces.pending = std::mem::take(&mut self.pending);
        tail.extend_from_slice(&self.tail);
        self.tail.clear();
        self.pieces.tail = std::mem::take(&mut self.tail);
        if let Some(r) = self.replay.take_if(|r| r.next == self.log.events.len()) {
            // Given exactly what the last scrape was: the same segment.
            self.log.done = Some(r.done.clone());
            self.pieces.logs[self.slot] = std::mem::take(&mut self.log);
            return r.done;
        }
        self.diverge();
        fixed_end(&mut self.out);
        let scrape = self.pieces.scrape;
        let out = std::mem::take(&mut self.out);
        self.pieces.last_size = out.len() / 8;
        let done = Deflated {
            bytes: out.sync().into(),
            factor: shift_factor(self.crc.len),
            crc: self.crc,
        };
        self.log.done = Some(done.clone());
        self.pieces.logs[self.slot] = std::mem::take(&mut self.log);
        // The logs hold a reference to each environment they name.
        self.pieces
            .by_env
            .retain(|env, _| Arc::strong_count(env) > 1);
        self.pieces.lines.keep_used(scrape);
        done
    }
}

impl LiveSink for LiveCoder<'_> {
    fn text(&mut self) -> &mut Vec<u8> {
        self.settle_tail();
        &mut self.pending
    }

    fn piece(
        &mut self,
        env: &str,
        family: usize,
        generation: u64,
        write: &mut dyn FnMut(&mut Vec<u8>),
    ) {
        self.settle_tail();
        self.flush();
        if let Some(r) = &mut self.replay {
            if let Some(Event::Piece {
                env: e,
                family: f,
                generation: g,
            }) = self.log.events.get(r.next)
                && **e == *env
                && *f == family
                && *g == generation
            {
                r.next += 1;
                return;
            }
            self.diverge();
        }
        let pieces = &mut *self.pieces;
        let key = match pieces.by_env.get_key_value(env) {
            Some((key, _)) => Arc::clone(key),
            None => {
                let key: Arc<str> = Arc::from(env);
                pieces.by_env.insert(Arc::clone(&key), Vec::new());
                key
            }
        };
        let event = Event::Piece {
            env: Arc::clone(&key),
            family,
            generation,
        };
        let Some(slots) = pieces.by_env.get_mut(&key) else {
            return;
        };
        if slots.len() <= family {
            slots.resize_with(family + 1, || None);
        }
        let piece = slots[family].get_or_insert_with(Piece::default);
        if piece.generation != generation || !piece.set {
            piece.set(generation, write, &mut self.coder);
        }
        piece.append(
            &mut self.out,
            &mut self.crc,
            &mut self.prev,
            &mut self.coder,
        );
        self.log.push(event, &self.out, self.crc);
    }

    fn volatile(&mut self) -> &mut Vec<u8> {
        &mut self.tail
    }
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;

    use super::*;
    use crate::collector::deflate::FixedLines;
    use crate::collector::gzip::GzipWriter;
    use crate::collector::tests::gunzip;

    /// Lines like the self-metrics', sometimes odd: empty pieces, a piece
    /// without its last newline, lines equal to the line before.
    fn lines(rng: &mut fastrand::Rng, env: &str) -> Vec<u8> {
        let mut out = Vec::new();
        for i in 0..rng.usize(0..6) {
            let line = match rng.u8(0..10) {
                0 => String::new(),
                1 => "x".repeat(rng.usize(0..300)),
                _ => {
                    let bits = rng.u32(0..40);
                    let value = rng.u64(0..1 << bits);
                    format!(
                        "pingone_exporter_api_requests_total{{environment_id=\"{env}\",endpoint=\"e{i}\"}} {value}"
                    )
                }
            };
            out.extend_from_slice(line.as_bytes());
            out.push(b'\n');
        }
        if rng.u8(0..15) == 0 {
            out.pop();
        }
        out
    }

    /// One scrape's calls: `header` before each family, every
    /// environment's pieces, now and then one piece given twice (the
    /// second time at a newer generation), then the tail: its text, its
    /// volatile text, and text after that.
    struct Scrape {
        envs: Vec<String>,
        header: &'static str,
        twice: Option<(u64, Vec<u8>)>,
        tail: [String; 3],
    }

    type State = BTreeMap<(String, usize), (u64, Vec<u8>)>;

    impl Scrape {
        fn write(&self, state: &State, out: &mut dyn LiveSink, calls: &std::cell::Cell<usize>) {
            for family in 0..3 {
                out.text().extend_from_slice(self.header.as_bytes());
                for env in &self.envs {
                    let (g, text) = &state[&(env.clone(), family)];
                    out.piece(env, family, *g, &mut |o| {
                        calls.set(calls.get() + 1);
                        o.extend_from_slice(text)
                    });
                }
            }
            if let (Some((g, text)), Some(env)) = (&self.twice, self.envs.first()) {
                out.piece(env, 0, *g, &mut |o| o.extend_from_slice(text));
            }
            let [text, volatile, after] = &self.tail;
            out.text().extend_from_slice(text.as_bytes());
            out.volatile().extend_from_slice(volatile.as_bytes());
            if !after.is_empty() {
                out.text().extend_from_slice(after.as_bytes());
            }
        }
    }

    /// The live part as `finish` leaves it: the segment, then the volatile
    /// text coded after it.
    fn finish(coder: LiveCoder<'_>) -> (Deflated, Vec<u8>) {
        let mut tail = Vec::new();
        let d = coder.finish(&mut tail);
        let mut w = GzipWriter::new();
        w.segment(&d);
        let mut bits = Bits::default();
        FixedLines::default().block(&mut bits, &tail);
        w.crc().update(&tail);
        w.bits(bits);
        (d, gunzip(&w.finish()))
    }

    #[test]
    fn pieces_kept_across_scrapes_gunzip_to_the_plain_text() {
        let mut rng = fastrand::Rng::with_seed(8);
        let cache = LiveCache::default();
        // (env, family) -> (generation, text): the writer's side.
        let mut state = State::new();
        let mut generation = 0;
        let (mut hits, mut same, mut same_but_volatile) = (0, 0, 0);
        let mut last: Option<(Scrape, Deflated)> = None;
        let mut last_plain = Vec::new();
        // A last family whose value changes, like the plan's data ages: as
        // fresh text, as volatile text, or as volatile text followed by
        // more text (which then goes after it, coded with the rest).
        let tail = |rng: &mut fastrand::Rng| {
            let head = "# TYPE p gauge\np 1\n# TYPE age gauge\n".to_string();
            let age = format!("age {}\n", rng.u8(..));
            let eof = "# EOF\n".to_string();
            match rng.u8(0..3) {
                0 => [head + &age + &eof, String::new(), String::new()],
                1 => [head, age + &eof, String::new()],
                _ => [head, age, eof],
            }
        };
        for n in 0..400 {
            // Environments come and go; some change, most do not. Now and
            // then nothing changes at all, or only the last line.
            let scrape = match (rng.u8(0..4), last.take()) {
                (0, Some((s, d))) => {
                    last = Some((s, d));
                    None
                }
                (1, Some((s, d))) => {
                    let tail = tail(&mut rng);
                    let envs = s.envs.clone();
                    let header = s.header;
                    last = Some((s, d));
                    Some(Scrape {
                        envs,
                        header,
                        twice: None,
                        tail,
                    })
                }
                (_, kept) => {
                    last = kept;
                    let envs: Vec<String> = (0..rng.usize(0..6))
                        .map(|i| format!("env-{}", (i + n / 40) % 8))
                        .collect();
                    for env in &envs {
                        for family in 0..3 {
                            let key = (env.clone(), family);
                            if !state.contains_key(&key) || rng.u8(0..4) == 0 {
                                generation += 1;
                                state.insert(key, (generation, lines(&mut rng, env)));
                            }
                        }
                    }
                    let twice = (rng.u8(0..10) == 0).then(|| {
                        generation += 1;
                        (generation, lines(&mut rng, "twice"))
                    });
                    let header = ["", "# TYPE x gauge\n", "partial line "][rng.usize(0..3)];
                    let tail = tail(&mut rng);
                    Some(Scrape {
                        envs,
                        header,
                        twice,
                        tail,
                    })
                }
            };
            let (scrape, previous) = match (scrape, last.take()) {
                (Some(s), prev) => (s, prev.map(|(_, d)| d)),
                (None, Some((s, d))) => (s, Some(d)),
                (None, None) => unreachable!("a repeat needs a scrape before"),
            };
            let calls = std::cell::Cell::new(0);
            let mut plain = Vec::new();
            scrape.write(&state, &mut plain, &calls);
            let before = calls.get();
            let mut coder = cache.coder(Format::Text);
            scrape.write(&state, &mut coder, &calls);
            let (segment, got) = finish(coder);
            hits += scrape.envs.len() * 3 - (calls.get() - before);
            if previous.is_some_and(|p| p.bytes.as_ptr() == segment.bytes.as_ptr()) {
                same += 1;
                same_but_volatile += usize::from(got != last_plain);
            }
            assert!(got == plain, "scrape {n}");
            last_plain = plain;
            last = Some((scrape, segment));
        }
        assert!(hits > 800, "kept pieces reused: {hits}");
        assert!(same > 50, "unchanged live parts served again: {same}");
        // A changed volatile value alone leaves the segment as it was.
        assert!(
            same_but_volatile > 10,
            "served again with new volatile text: {same_but_volatile}"
        );
        let resumed = cache.inner.lock().unwrap().resumed;
        assert!(
            resumed > 50,
            "live parts resumed after their start: {resumed}"
        );
        // Environments no longer served are dropped.
        finish(cache.coder(Format::Text));
        assert!(cache.inner.lock().unwrap().by_env.is_empty());
    }

    #[test]
    fn each_format_replays_its_own_live_part() {
        let cache = LiveCache::default();
        let live = |header: &str, out: &mut dyn LiveSink| {
            out.text().extend_from_slice(header.as_bytes());
            out.piece("e", 0, 1, &mut |o| o.extend_from_slice(b"a 1\nb 2\n"));
            out.text().extend_from_slice(b"# EOF\n");
        };
        let mut ptrs = Vec::new();
        for round in 0..3 {
            for (format, header) in [(Format::Text, "# T\n"), (Format::OpenMetrics, "# O\n")] {
                let mut coder = cache.coder(format);
                live(header, &mut coder);
                let (d, got) = finish(coder);
                let mut plain = Vec::new();
                live(header, &mut plain);
                assert_eq!(got, plain, "round {round} {format:?}");
                ptrs.push(d.bytes.as_ptr());
            }
        }
        // Both formats' parts served again from the second round on.
        assert_eq!(ptrs[0], ptrs[2]);
        assert_eq!(ptrs[2], ptrs[4]);
        assert_eq!(ptrs[1], ptrs[3]);
        assert_ne!(ptrs[0], ptrs[1]);
    }
}
