//! What the live part keeps coded between gzip scrapes (see `live`): each
//! environment's piece of each family, and the fresh lines written the
//! same way at every scrape (family headers, process-wide lines).

use std::collections::HashMap;

use super::deflate::{Bits, Crc32, FixedLines};
use super::replay::last_line;

/// One environment's lines of one family, as of one generation. When the
/// generation changes its buffers are reused: an environment's pieces
/// change at every poll, and allocating them anew cost more than coding.
#[derive(Debug, Default)]
pub(super) struct Piece {
    pub(super) generation: u64,
    /// False until first set.
    pub(super) set: bool,
    pub(super) text: Vec<u8>,
    /// End of the first line, newline included.
    first_end: usize,
    /// Codes of the lines after the first.
    rest: Bits,
    /// Codes of the first line, valid while `first_ok`, and the line they
    /// were matched against.
    first: Bits,
    first_prev: Vec<u8>,
    first_ok: bool,
}

impl Piece {
    /// Takes the lines `write` writes as of `generation`.
    pub(super) fn set(
        &mut self,
        generation: u64,
        write: &mut dyn FnMut(&mut Vec<u8>),
        coder: &mut FixedLines,
    ) {
        self.generation = generation;
        self.set = true;
        self.text.clear();
        write(&mut self.text);
        let text = &self.text;
        self.first_end = memchr::memchr(b'\n', text).map_or(text.len(), |i| i + 1);
        self.rest.clear();
        if self.first_end < text.len() {
            let first = &text[..self.first_end - 1];
            coder.code(&mut self.rest, first, &text[self.first_end..]);
        }
        self.first_ok = false;
    }

    /// Appends the piece's codes to `out` and its text to `crc`, after the
    /// line `prev` (without its newline), which becomes the piece's last
    /// line. Its first line is coded again only if `prev` is not the line
    /// it was coded after.
    pub(super) fn append(
        &mut self,
        out: &mut Bits,
        crc: &mut Crc32,
        prev: &mut Vec<u8>,
        coder: &mut FixedLines,
    ) {
        if self.text.is_empty() {
            return;
        }
        if !self.first_ok || self.first_prev != *prev {
            self.first.clear();
            let first_line = &self.text[..self.first_end];
            coder.code(&mut self.first, prev, first_line);
            self.first_prev.clear();
            self.first_prev.extend_from_slice(prev);
            self.first_ok = true;
        }
        out.append(&self.first);
        out.append(&self.rest);
        // Cheaper than joining a CRC computed beforehand: the join's
        // factor depends on the length, and costs more to find than a few
        // hundred bytes take to hash.
        crc.update(&self.text);
        prev.clear();
        prev.extend_from_slice(last_line(&self.text));
    }
}

/// Codes of fresh lines, keyed by the line before (its length in four
/// bytes, then its text) and the line: headers are the same at every
/// scrape, and coding a header's hundred literals cost a fifth of a scrape
/// at 400 rules.
#[derive(Debug, Default)]
pub(super) struct FreshLines {
    /// Codes, and the scrape that last used them.
    codes: HashMap<Vec<u8>, (Bits, u64)>,
}

impl FreshLines {
    /// Appends the codes of `text` to `out`, line by line after `prev`
    /// (the line before, without its newline; left as the last line
    /// coded, or empty after a partial line): a line seen after the same
    /// line before takes the codes kept from then, and is marked used by
    /// `scrape`. The caller feeds `text` to the CRC.
    pub(super) fn code(
        &mut self,
        scrape: u64,
        coder: &mut FixedLines,
        out: &mut Bits,
        prev: &mut Vec<u8>,
        text: &[u8],
    ) {
        let mut key = Vec::new();
        let mut start = 0;
        while start < text.len() {
            let Some(end) = memchr::memchr(b'\n', &text[start..]) else {
                // A partial line: coded as it is; nothing may match it.
                coder.code(out, prev, &text[start..]);
                prev.clear();
                break;
            };
            let line = &text[start..start + end + 1];
            key.clear();
            key.extend_from_slice(&(prev.len() as u32).to_le_bytes());
            key.extend_from_slice(prev);
            key.extend_from_slice(line);
            match self.codes.get_mut(&key[..]) {
                Some((bits, used)) => {
                    *used = scrape;
                    out.append(bits);
                }
                None => {
                    let mut bits = Bits::with_capacity(line.len());
                    coder.code(&mut bits, prev, line);
                    out.append(&bits);
                    self.codes.insert(std::mem::take(&mut key), (bits, scrape));
                }
            }
            prev.clear();
            prev.extend_from_slice(&line[..line.len() - 1]);
            start += end + 1;
        }
    }

    /// Drops the codes `scrape` did not use.
    pub(super) fn keep_used(&mut self, scrape: u64) {
        self.codes.retain(|_, (_, used)| *used == scrape);
    }
}
