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
//! again, at the cost it had before.

use std::collections::HashMap;
use std::sync::{Mutex, MutexGuard};

use super::deflate::{Bits, Crc32, FixedLines, fixed_end, fixed_start, shift_factor};
use super::gzip::Deflated;
use crate::exposition::LiveSink;

/// The pieces kept between gzip scrapes: per environment id, per family.
/// Share one per server.
#[derive(Debug, Default)]
pub struct LiveCache {
    inner: Mutex<Pieces>,
}

#[derive(Debug, Default)]
struct Pieces {
    by_env: HashMap<String, Vec<Option<Piece>>>,
    /// Codes of fresh lines (family headers, process-wide lines), keyed by
    /// the line before (its length in four bytes, then its text) and the
    /// line: headers are the same at every scrape, and coding a header's
    /// hundred literals cost a fifth of a scrape at 400 rules.
    lines: HashMap<Vec<u8>, (Bits, u64)>,
    /// Bytes the last live part took, coded.
    last_size: usize,
    /// Counts scrapes; a piece not used by the last one is dropped (its
    /// environment is gone).
    scrape: u64,
}

/// One environment's lines of one family, as of one generation. When the
/// generation changes its buffers are reused: an environment's pieces
/// change at every poll, and allocating them anew cost more than coding.
#[derive(Debug, Default)]
struct Piece {
    generation: u64,
    text: Vec<u8>,
    /// End of the first line, newline included.
    first_end: usize,
    /// Start of the last line.
    last_start: usize,
    /// Codes of the lines after the first.
    rest: Bits,
    /// Codes of the first line, valid while `first_ok`, and the line they
    /// were matched against.
    first: Bits,
    first_prev: Vec<u8>,
    first_ok: bool,
    /// The scrape that last used it.
    used: u64,
}

impl Piece {
    /// Takes the lines `write` writes as of `generation`.
    fn set(
        &mut self,
        generation: u64,
        write: &mut dyn FnMut(&mut Vec<u8>),
        coder: &mut FixedLines,
    ) {
        self.generation = generation;
        self.text.clear();
        write(&mut self.text);
        let text = &self.text;
        self.first_end = text
            .iter()
            .position(|&b| b == b'\n')
            .map_or(text.len(), |i| i + 1);
        self.last_start = text[..text.len().saturating_sub(1)]
            .iter()
            .rposition(|&b| b == b'\n')
            .map_or(0, |i| i + 1);
        self.rest.clear();
        if self.first_end < text.len() {
            let first = &text[..self.first_end - 1];
            coder.code(&mut self.rest, first, &text[self.first_end..]);
        }
        self.first_ok = false;
    }
}

impl LiveCache {
    /// A sink for one gzip scrape's live part. It holds the cache until
    /// [`LiveCoder::finish`]: concurrent scrapes code their live parts
    /// one at a time (a fraction of a millisecond when little changed).
    pub fn coder(&self) -> LiveCoder<'_> {
        let mut pieces = self.inner.lock().unwrap_or_else(|p| p.into_inner());
        pieces.scrape += 1;
        // Sized like the last scrape's, so it is not grown by doubling.
        let mut out = Bits::with_capacity(pieces.last_size + 64);
        fixed_start(&mut out);
        LiveCoder {
            pieces,
            out,
            crc: Crc32::default(),
            pending: Vec::new(),
            prev: Vec::new(),
            coder: FixedLines::default(),
        }
    }
}

/// Codes one scrape's live part ([`LiveCache::coder`]).
#[derive(Debug)]
pub struct LiveCoder<'a> {
    pieces: MutexGuard<'a, Pieces>,
    out: Bits,
    crc: Crc32,
    /// Fresh text not coded yet.
    pending: Vec<u8>,
    /// The last line coded, without its newline (empty after a partial
    /// line).
    prev: Vec<u8>,
    coder: FixedLines,
}

impl LiveCoder<'_> {
    /// Codes the fresh text, line by line: a line seen after the same line
    /// at the last scrape takes the codes kept from then.
    fn flush(&mut self) {
        if self.pending.is_empty() {
            return;
        }
        self.crc.update(&self.pending);
        let scrape = self.pieces.scrape;
        let mut key = Vec::new();
        let mut start = 0;
        while start < self.pending.len() {
            let Some(end) = self.pending[start..].iter().position(|&b| b == b'\n') else {
                // A partial line: coded as it is; nothing may match it.
                let rest = &self.pending[start..];
                self.coder.code(&mut self.out, &self.prev, rest);
                self.prev.clear();
                break;
            };
            let line = &self.pending[start..start + end + 1];
            key.clear();
            key.extend_from_slice(&(self.prev.len() as u32).to_le_bytes());
            key.extend_from_slice(&self.prev);
            key.extend_from_slice(line);
            let lines = &mut self.pieces.lines;
            match lines.get_mut(&key[..]) {
                Some((bits, used)) => {
                    *used = scrape;
                    self.out.append(bits);
                }
                None => {
                    let mut bits = Bits::with_capacity(line.len());
                    self.coder.code(&mut bits, &self.prev, line);
                    self.out.append(&bits);
                    lines.insert(std::mem::take(&mut key), (bits, scrape));
                }
            }
            self.prev.clear();
            self.prev.extend_from_slice(&line[..line.len() - 1]);
            start += end + 1;
        }
        self.pending.clear();
    }

    /// The live part as a deflate segment (ends with a sync flush), and
    /// drops the pieces of environments this scrape did not see.
    pub(crate) fn finish(mut self) -> Deflated {
        self.flush();
        fixed_end(&mut self.out);
        let scrape = self.pieces.scrape;
        self.pieces
            .by_env
            .retain(|_, v| v.iter().flatten().any(|p| p.used == scrape));
        self.pieces.lines.retain(|_, (_, used)| *used == scrape);
        let out = std::mem::take(&mut self.out);
        self.pieces.last_size = out.len() / 8;
        Deflated {
            bytes: out.sync().into(),
            factor: shift_factor(self.crc.len),
            crc: self.crc,
        }
    }
}

impl LiveSink for LiveCoder<'_> {
    fn text(&mut self) -> &mut Vec<u8> {
        &mut self.pending
    }

    fn piece(
        &mut self,
        env: &str,
        family: usize,
        generation: u64,
        write: &mut dyn FnMut(&mut Vec<u8>),
    ) {
        self.flush();
        let scrape = self.pieces.scrape;
        let pieces = &mut *self.pieces;
        if !pieces.by_env.contains_key(env) {
            pieces.by_env.insert(env.to_string(), Vec::new());
        }
        let Some(slots) = pieces.by_env.get_mut(env) else {
            return;
        };
        if slots.len() <= family {
            slots.resize_with(family + 1, || None);
        }
        let piece = slots[family].get_or_insert_with(Piece::default);
        if piece.generation != generation || piece.used == 0 {
            piece.set(generation, write, &mut self.coder);
        }
        piece.used = scrape;
        if piece.text.is_empty() {
            return;
        }
        if !piece.first_ok || piece.first_prev != self.prev {
            piece.first.clear();
            let first_line = &piece.text[..piece.first_end];
            self.coder.code(&mut piece.first, &self.prev, first_line);
            piece.first_prev.clear();
            piece.first_prev.extend_from_slice(&self.prev);
            piece.first_ok = true;
        }
        self.out.append(&piece.first);
        self.out.append(&piece.rest);
        // Cheaper than joining a CRC computed beforehand: the join's
        // factor depends on the length, and costs more to find than
        // a few hundred bytes take to hash.
        self.crc.update(&piece.text);
        self.prev.clear();
        if piece.text.ends_with(b"\n") {
            let last = &piece.text[piece.last_start..piece.text.len() - 1];
            self.prev.extend_from_slice(last);
        }
    }
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;

    use super::*;
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

    #[test]
    fn pieces_kept_across_scrapes_gunzip_to_the_plain_text() {
        let mut rng = fastrand::Rng::with_seed(8);
        let cache = LiveCache::default();
        // (env, family) -> (generation, text): the writer's side.
        let mut state: BTreeMap<(String, usize), (u64, Vec<u8>)> = BTreeMap::new();
        let mut generation = 0;
        let mut hits = 0;
        for scrape in 0..150 {
            // Environments come and go; some change, most do not.
            let envs: Vec<String> = (0..rng.usize(0..6))
                .map(|i| format!("env-{}", (i + scrape / 40) % 8))
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
            let header = ["", "# TYPE x gauge\n", "partial line "][rng.usize(0..3)];
            let calls = std::cell::Cell::new(0);
            let live = |out: &mut dyn LiveSink| {
                for family in 0..3 {
                    out.text().extend_from_slice(header.as_bytes());
                    for env in &envs {
                        let (g, text) = &state[&(env.clone(), family)];
                        out.piece(env, family, *g, &mut |o| {
                            calls.set(calls.get() + 1);
                            o.extend_from_slice(text)
                        });
                    }
                }
                out.text().extend_from_slice(b"# EOF\n");
            };
            let mut plain = Vec::new();
            live(&mut plain);
            let before = calls.get();
            let mut coder = cache.coder();
            live(&mut coder);
            let segment = coder.finish();
            hits += envs.len() * 3 - (calls.get() - before);
            let mut w = GzipWriter::new();
            w.segment(&segment);
            assert_eq!(gunzip(&w.finish()), plain, "scrape {scrape}");
        }
        assert!(hits > 300, "kept pieces reused: {hits}");
        // Environments no longer served are dropped.
        let coder = cache.coder();
        coder.finish();
        assert!(cache.inner.lock().unwrap().by_env.is_empty());
    }
}
