//! Lines of the form `prefix value\n` whose prefixes are fixed for a while
//! (a poll) and whose values change at every scrape (the ages), deflated
//! from codes prepared with the prefixes.
//!
//! Prepared once ([`LineCodes::new`]): each prefix is parsed into LZ77
//! tokens against the previous line's prefix (literals, and matches that
//! copy from it), a dynamic Huffman code is built from those tokens' counts
//! (plus an allowance for value digits; every byte keeps a code, so any
//! value can be written), and the tokens are turned into their bit strings.
//! A match's distance reaches back over the previous line's value, whose
//! length is known only at scrape time, so it is kept as a hole: the
//! distance without that length.
//!
//! Written at scrape time ([`LineCodes::write`]): per line, the prepared
//! bits, the holes' distance codes (a table lookup), the value's literal
//! codes and the newline's. The result is one deflate block per call, as
//! valid as any compressor's, only a little larger.

use std::collections::HashMap;

use super::bits::{Bits, Pieces};
use super::codes::{
    Code, Codes, DIST_SYMBOLS, END, LIT_SYMBOLS, MAX_DISTANCE, MAX_MATCH, MIN_MATCH, count_match,
};

/// Matches shorter than this are written as literals (a shorter match
/// costs about as many bits as its literals).
const MIN_TAKEN: usize = 4;
/// Value length assumed when counting distance symbols (an age such as
/// `86399.123` and its newline).
const TYPICAL_HOLE: u32 = 10;
/// Holes up to this (value length + 1) are covered by the distance table;
/// longer values (never an age below 10¹² seconds) compute their code.
const TABLE_HOLE: u32 = 32;
/// Distances without the hole stay below this, so that with any value the
/// distance stays within the window.
const MAX_BASE: u32 = MAX_DISTANCE - 1024;

/// One token of a prefix.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum Token {
    Literal(u8),
    /// Copy `len` bytes from `base` + hole back (hole = the previous
    /// line's value length + 1).
    Match {
        len: usize,
        base: u32,
    },
}

/// The deflate codes of a list of lines' prefixes.
#[derive(Debug)]
pub(crate) struct LineCodes {
    /// The block header: BTYPE 10 and the code lengths.
    header: Pieces,
    codes: Codes,
    /// Codes of the bytes a value is written with (all 256) and of the
    /// end of block.
    lit: Vec<Code>,
    end: Code,
    /// Distance codes with extra bits, indexed by distance − 1.
    dists: Vec<(u32, u8)>,
    /// Per line: bit strings, and holes (`len` 0, `bits` = base distance).
    ops: Vec<(u32, u8)>,
    /// Line `i`'s ops are `ops[op_ends[i-1]..op_ends[i]]`.
    op_ends: Vec<u32>,
    /// About the bytes [`LineCodes::write`] writes (typical ages), to size
    /// its buffer once.
    size_hint: usize,
}

/// Length of the common start of `a` and `b`, eight bytes at a time.
pub(super) fn common_len(a: &[u8], b: &[u8]) -> usize {
    let mut n = 0;
    for (x, y) in a.chunks_exact(8).zip(b.chunks_exact(8)) {
        let (x, y) = (
            u64::from_le_bytes(x.try_into().unwrap_or_default()),
            u64::from_le_bytes(y.try_into().unwrap_or_default()),
        );
        if x != y {
            return n + ((x ^ y).trailing_zeros() / 8) as usize;
        }
        n += 8;
    }
    n + a[n..]
        .iter()
        .zip(&b[n..])
        .take_while(|(x, y)| x == y)
        .count()
}

/// The four bytes of `s` at `i`, as one word.
#[inline(always)]
fn word(s: &[u8], i: usize) -> Option<u32> {
    let b: [u8; 4] = s.get(i..i.checked_add(4)?)?.try_into().ok()?;
    Some(u32::from_ne_bytes(b))
}

/// Parses `cur` into tokens against `prev` (greedy, longest match among a
/// few candidates: the alignment of the last match, the alignment of the
/// line ends, and, when `hashed`, the last place the next four bytes occur
/// in `prev`).
pub(super) fn tokenize(prev: &[u8], cur: &[u8], hashed: bool, out: &mut Vec<Token>) {
    let mut at: HashMap<[u8; 4], usize> = HashMap::new();
    if hashed {
        at.reserve(prev.len());
        for (q, w) in prev.windows(4).enumerate() {
            at.insert([w[0], w[1], w[2], w[3]], q);
        }
    }
    let common = |q: usize, p: usize| common_len(&prev[q..], &cur[p..]);
    // `prev[q]` lines up with `cur[p]` when `q = p + shift`.
    let mut shift: isize = 0;
    let end_shift = prev.len() as isize - cur.len() as isize;
    let mut p = 0;
    while p < cur.len() {
        let mut best = (0usize, 0usize);
        // The next four bytes (MIN_TAKEN), to turn down a candidate with
        // one compare of two words.
        let head = word(cur, p);
        let mut consider = |q: isize| {
            let Ok(q) = usize::try_from(q) else { return };
            if head.is_none() || head != word(prev, q) {
                return;
            }
            let len = common(q, p);
            if len > best.0 {
                best = (len, q);
            }
        };
        consider(p as isize + shift);
        consider(p as isize + end_shift);
        if hashed
            && let Some(w) = cur.get(p..p + 4)
            && let Some(&q) = at.get(&[w[0], w[1], w[2], w[3]])
        {
            consider(q as isize);
        }
        let (len, q) = best;
        let base = (prev.len() - q + p) as u32;
        if len < MIN_TAKEN || base > MAX_BASE {
            out.push(Token::Literal(cur[p]));
            p += 1;
            continue;
        }
        shift = q as isize - p as isize;
        let mut left = len;
        while left > 0 {
            // Pieces of at most 258 bytes, none under 3.
            let n = if left > MAX_MATCH && left - MAX_MATCH < MIN_MATCH {
                left - MIN_MATCH
            } else {
                left.min(MAX_MATCH)
            };
            out.push(Token::Match { len: n, base });
            left -= n;
        }
        p += len;
    }
}

impl LineCodes {
    /// Prepares the lines whose prefixes are `prefixes[ends[i-1]..ends[i]]`.
    pub(crate) fn new(prefixes: &[u8], ends: &[u32]) -> Self {
        let mut tokens = Vec::with_capacity(prefixes.len() / 4);
        let mut token_ends = Vec::with_capacity(ends.len());
        let mut start = 0;
        let mut prev: &[u8] = &[];
        for &end in ends {
            let cur = &prefixes[start..end as usize];
            tokenize(prev, cur, true, &mut tokens);
            token_ends.push(tokens.len());
            prev = cur;
            start = end as usize;
        }
        let mut lit_counts = vec![0u32; LIT_SYMBOLS];
        let mut dist_counts = vec![0u32; DIST_SYMBOLS];
        let mut max_base = 0;
        for t in &tokens {
            match *t {
                Token::Literal(b) => lit_counts[usize::from(b)] += 1,
                Token::Match { len, base } => {
                    count_match(&mut lit_counts, &mut dist_counts, len, base + TYPICAL_HOLE);
                    max_base = max_base.max(base);
                }
            }
        }
        // The values: about eight digits and a point, then a newline.
        let lines = u32::try_from(ends.len()).unwrap_or(u32::MAX);
        for d in b'0'..=b'9' {
            lit_counts[usize::from(d)] += lines;
        }
        lit_counts[usize::from(b'.')] += lines;
        lit_counts[usize::from(b'\n')] += lines;
        lit_counts[END] += 1;
        let mut header = Pieces::default();
        let mut header_bits = Bits::default();
        let codes = Codes::dynamic(&lit_counts, &dist_counts, &mut header_bits);
        // Keep the header as pieces (it is written at every scrape).
        let bit_len = header_bits.len();
        let bytes = header_bits.sync();
        for i in 0..bit_len {
            header.put(u32::from(bytes[i / 8] >> (i % 8) & 1), 1);
        }
        let mut ops: Vec<(u32, u8)> = Vec::with_capacity(tokens.len() / 2);
        let mut op_ends = Vec::with_capacity(ends.len());
        let mut t0 = 0;
        for &t1 in &token_ends {
            let line_start = ops.len();
            let put = |ops: &mut Vec<(u32, u8)>, bits: u32, len: u8| {
                let mergeable = ops.len() > line_start;
                match ops.last_mut() {
                    Some(last) if mergeable && last.1 != 0 && last.1 + len <= 32 => {
                        last.0 |= bits << last.1;
                        last.1 += len;
                    }
                    _ => ops.push((bits, len)),
                }
            };
            for t in &tokens[t0..t1] {
                match *t {
                    Token::Literal(b) => {
                        let c = codes.lit[usize::from(b)];
                        put(&mut ops, u32::from(c.bits), c.len);
                    }
                    Token::Match { len, base } => {
                        let (bits, n) = codes.length(len);
                        put(&mut ops, bits, n);
                        ops.push((base, 0));
                    }
                }
            }
            op_ends.push(u32::try_from(ops.len()).unwrap_or(u32::MAX));
            t0 = t1;
        }
        let lit = codes.lit[..256].to_vec();
        let end = codes.lit[END];
        let dists = codes.distance_table(max_base + TABLE_HOLE);
        // Prepared bits, plus per line a typical value (ten codes of at
        // most 15 bits) and a distance code per hole.
        let fixed_bits: usize = header
            .pieces
            .iter()
            .map(|p| usize::from(p.1))
            .sum::<usize>()
            + ops
                .iter()
                .map(|o| if o.1 == 0 { 20 } else { usize::from(o.1) })
                .sum::<usize>();
        let size_hint = (fixed_bits + ends.len() * 150) / 8 + 8;
        LineCodes {
            header,
            codes,
            lit,
            end,
            dists,
            ops,
            op_ends,
            size_hint,
        }
    }

    /// About the bytes [`LineCodes::write`] writes: an allowance, not a
    /// bound.
    pub(crate) fn size_hint(&self) -> usize {
        self.size_hint
    }

    /// Writes one block of all the lines: the prepared prefixes, then for
    /// line `i` the value `value(i, buf)` writes into `buf` (cleared
    /// first), then a newline. `text` gets each line's text as written
    /// (for the CRC).
    pub(crate) fn write(
        &self,
        out: &mut Bits,
        prefixes: &[u8],
        ends: &[u32],
        mut value: impl FnMut(usize, &mut Vec<u8>),
        mut text: impl FnMut(&[u8]),
    ) {
        self.header.write(out);
        let mut hole = 0u32;
        let mut op_start = 0;
        let mut start = 0;
        let mut buf = Vec::with_capacity(32);
        let nl = self.lit[usize::from(b'\n')];
        for (i, (&op_end, &end)) in self.op_ends.iter().zip(ends).enumerate() {
            for &(bits, len) in &self.ops[op_start..op_end as usize] {
                if len != 0 {
                    out.put(bits, len);
                } else {
                    let d = bits + hole;
                    let (c, n) = match self.dists.get(d as usize - 1) {
                        Some(&code) => code,
                        None => self.codes.distance(d),
                    };
                    out.put(c, n);
                }
            }
            buf.clear();
            value(i, &mut buf);
            for &b in &buf {
                let c = self.lit[usize::from(b)];
                out.put(u32::from(c.bits), c.len);
            }
            out.put(u32::from(nl.bits), nl.len);
            text(&prefixes[start..end as usize]);
            buf.push(b'\n');
            text(&buf);
            hole = buf.len() as u32;
            op_start = op_end as usize;
            start = end as usize;
        }
        out.put(u32::from(self.end.bits), self.end.len);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::collector::tests::inflate;

    /// Writes the lines as one stream (a final empty block after ours),
    /// returns the inflated text and the text the writer reported.
    fn round_trip(prefixes: &[&[u8]], values: &[Vec<u8>]) -> (Vec<u8>, Vec<u8>, Vec<u8>) {
        let mut all = Vec::new();
        let mut ends = Vec::new();
        for p in prefixes {
            all.extend_from_slice(p);
            ends.push(all.len() as u32);
        }
        let codes = LineCodes::new(&all, &ends);
        let mut bits = Bits::default();
        let mut seen = Vec::new();
        codes.write(
            &mut bits,
            &all,
            &ends,
            |i, buf| buf.extend_from_slice(&values[i]),
            |t| seen.extend_from_slice(t),
        );
        let mut raw = bits.sync();
        raw.extend_from_slice(&[0x03, 0x00]);
        let mut want = Vec::new();
        for (p, v) in prefixes.iter().zip(values) {
            want.extend_from_slice(p);
            want.extend_from_slice(v);
            want.push(b'\n');
        }
        (inflate(&raw), seen, want)
    }

    #[test]
    fn label_lines_round_trip_and_compress() {
        let mut rng = fastrand::Rng::with_seed(3);
        let prefixes: Vec<Vec<u8>> = (0..300)
            .map(|i| {
                format!(
                    "pingone_provisioning_last_sync_age_seconds{{environment_id=\"3f0b6a1e-0000-4000-8000-000000000001\",environment_name=\"prod\",rule_id=\"{:08x}-{:04x}\",rule_name=\"rule {i}\",direction=\"{}\"}} ",
                    rng.u32(..),
                    rng.u16(..),
                    ["inbound", "outbound"][i % 2]
                )
                .into_bytes()
            })
            .collect();
        let values: Vec<Vec<u8>> = (0..300)
            .map(|_| format!("{}", rng.f64() * 10f64.powi(rng.i32(0..9))).into_bytes())
            .collect();
        let refs: Vec<&[u8]> = prefixes.iter().map(|p| &p[..]).collect();
        let (got, seen, want) = round_trip(&refs, &values);
        assert_eq!(got, want);
        assert_eq!(seen, want);
    }

    #[test]
    fn any_bytes_and_empty_lines_round_trip() {
        let mut rng = fastrand::Rng::with_seed(4);
        for round in 0..200 {
            let n = rng.usize(0..40);
            let alphabet: Vec<u8> = (0..rng.usize(1..6)).map(|_| rng.u8(..)).collect();
            let prefixes: Vec<Vec<u8>> = (0..n)
                .map(|_| {
                    (0..rng.usize(0..if round % 10 == 0 { 700 } else { 60 }))
                        .map(|_| alphabet[rng.usize(..alphabet.len())])
                        .collect()
                })
                .collect();
            let values: Vec<Vec<u8>> = (0..n)
                .map(|_| {
                    (0..rng.usize(0..if round % 7 == 0 { 400 } else { 12 }))
                        .map(|_| rng.u8(..))
                        .collect()
                })
                .collect();
            let refs: Vec<&[u8]> = prefixes.iter().map(|p| &p[..]).collect();
            let (got, seen, want) = round_trip(&refs, &values);
            assert_eq!(got, want, "round {round}");
            assert_eq!(seen, want);
        }
    }

    #[test]
    fn long_repeats_split_into_legal_matches() {
        for len in [3usize, 4, 257, 258, 259, 260, 261, 516, 517, 1000] {
            let p = vec![b'a'; len];
            let q = vec![b'a'; len];
            let (got, _, want) =
                round_trip(&[&p, &q, &p], &[b"1".to_vec(), Vec::new(), b"22".to_vec()]);
            assert_eq!(got, want, "{len}");
        }
    }
}
