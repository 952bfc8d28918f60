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
//! The bits are packed into items of up to 64 bits, each ending where a
//! hole is (with room left for its code), so that a scrape writes a line
//! with one shift-and-store per item ([`Bits::put64`]).
//!
//! Written at scrape time ([`LineCodes::write`]): per line, the items with
//! the holes' distance codes (a table lookup) spliced in, then the value's
//! codes, looked up as its digits are formatted (one or two strings), and
//! the line's text for the CRC. The result is one deflate block per call,
//! as valid as any compressor's, only a little larger.

use super::bits::Bits;
use super::codes::{Code, Codes, DIST_SYMBOLS, END, LIT_SYMBOLS, count_match};
use super::crc::Crc32;
use super::tokens::{Token, tokenize};
use crate::collector::age::{AgeCodes, write_age};

/// Value length assumed when counting distance symbols (an age such as
/// `86399.123` and its newline).
const TYPICAL_HOLE: u32 = 10;
/// Holes up to this (value length + 1) are covered by the distance table;
/// longer values (never an age below 10¹² seconds) compute their code.
const TABLE_HOLE: u32 = 32;
/// A bit string of at most 64 bits, then maybe a hole: the code of the
/// distance `base` + `dist_min` + hole (see [`LineCodes::dist_codes`];
/// `base` is `no_hole` when there is none).
#[derive(Clone, Copy, Debug)]
struct Item {
    bits: u64,
    len: u32,
    base: u32,
}

/// The deflate codes of a list of lines' prefixes.
#[derive(Debug)]
pub(crate) struct LineCodes {
    /// The block header (BTYPE 10 and the code lengths) is
    /// `items[..header_end]`.
    header_end: u32,
    codes: Codes,
    /// Codes of the bytes a value is written with (all 256) and of the
    /// end of block.
    lit: Vec<Code>,
    end: Code,
    /// Indexed by an item's `base` + hole (≤ [`TABLE_HOLE`]): the code of
    /// that distance + `dist_min`, with its extra bits, as `bits | len <<
    /// 32`; empty when `base` is `no_hole`. Small (the distances of a list
    /// of lines lie close together), so that it stays in the cache.
    dist_codes: Vec<u64>,
    dist_min: u32,
    /// The `base` of items not followed by a hole.
    no_hole: u32,
    /// Prepared bits, line after line, holes spliced between items.
    items: Vec<Item>,
    /// Line `i`'s items are `items[item_ends[i-1]..item_ends[i]]`.
    item_ends: Vec<u32>,
    /// Codes of the values written as `seconds[.fraction]`.
    ages: AgeCodes,
    /// About the bytes [`LineCodes::write`] writes (typical ages), to size
    /// its buffer once.
    size_hint: usize,
}

/// Text buffered before the CRC is fed with it: one call per 64 KiB.
const CRC_CHUNK: usize = 64 * 1024;

/// Packs a bit stream into [`Item`]s of up to 64 bits, each line's items
/// starting afresh.
struct Packer {
    items: Vec<Item>,
    cur: Item,
    no_hole: u32,
    /// Bits an item followed by a hole may hold: 64 − the longest
    /// distance code.
    room: u32,
    /// Subtracted from the holes' bases.
    dist_min: u32,
}

impl Packer {
    /// Appends `len` ≤ 32 bits.
    fn put(&mut self, bits: u64, len: u32) {
        let free = 64 - self.cur.len;
        self.cur.bits |= bits << self.cur.len;
        if len < free {
            self.cur.len += len;
        } else {
            self.cur.len = 64;
            self.flush();
            self.cur.bits = bits >> free;
            self.cur.len = len - free;
        }
    }

    /// Ends the current item with a hole of `base`, in an item of its own
    /// if the distance code might not fit.
    fn hole(&mut self, base: u32) {
        if self.cur.len > self.room {
            self.flush();
        }
        self.cur.base = base - self.dist_min;
        self.flush();
    }

    /// Ends a line.
    fn end_line(&mut self) {
        if self.cur.len > 0 {
            self.flush();
        }
    }

    fn flush(&mut self) {
        self.items.push(self.cur);
        self.cur = Item {
            bits: 0,
            len: 0,
            base: self.no_hole,
        };
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
        let (mut min_base, mut max_base) = (u32::MAX, 0);
        for t in &tokens {
            match *t {
                Token::Literal(b) => lit_counts[usize::from(b)] += 1,
                Token::Match { len, base } => {
                    count_match(&mut lit_counts, &mut dist_counts, len, base + TYPICAL_HOLE);
                    max_base = max_base.max(base);
                    min_base = min_base.min(base);
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
        let mut header = Bits::default();
        let codes = Codes::dynamic(&lit_counts, &dist_counts, &mut header);
        // Items keep `base − dist_min`; the table's real distances end
        // below `no_hole`, from it on the codes are empty.
        let dist_min = min_base.min(max_base).max(1);
        let no_hole = max_base + 1 - dist_min + TABLE_HOLE;
        let dist_codes: Vec<u64> = (0..=no_hole + TABLE_HOLE)
            .map(|i| {
                if i >= no_hole {
                    return 0;
                }
                let (c, n) = codes.distance(i + dist_min);
                u64::from(c) | u64::from(n) << 32
            })
            .collect();
        let longest_dist = dist_codes.iter().map(|c| (c >> 32) as u32).max();
        let longest_dist = longest_dist.unwrap_or(0);
        let mut packer = Packer {
            items: Vec::with_capacity(tokens.len() / 4),
            cur: Item {
                bits: 0,
                len: 0,
                base: no_hole,
            },
            no_hole,
            room: 64 - longest_dist,
            dist_min,
        };
        // The header is written at every scrape, as items too.
        let header_len = header.len();
        for (i, &b) in header
            .sync()
            .iter()
            .enumerate()
            .take(header_len.div_ceil(8))
        {
            let n = (header_len - 8 * i).min(8) as u32;
            packer.put(u64::from(b) & ((1 << n) - 1), n);
        }
        packer.end_line();
        let header_end = u32::try_from(packer.items.len()).unwrap_or(u32::MAX);
        let mut item_ends = Vec::with_capacity(ends.len());
        let mut t0 = 0;
        for &t1 in &token_ends {
            for t in &tokens[t0..t1] {
                match *t {
                    Token::Literal(b) => {
                        let c = codes.lit[usize::from(b)];
                        packer.put(u64::from(c.bits), u32::from(c.len));
                    }
                    Token::Match { len, base } => {
                        let (bits, n) = codes.length(len);
                        packer.put(u64::from(bits), u32::from(n));
                        packer.hole(base);
                    }
                }
            }
            packer.end_line();
            item_ends.push(u32::try_from(packer.items.len()).unwrap_or(u32::MAX));
            t0 = t1;
        }
        let mut items = packer.items;
        // Kept until the next poll: no growth slack (20,000 lines at L).
        items.shrink_to_fit();
        let ages = AgeCodes::new(|b| {
            let c = codes.lit[usize::from(b)];
            (c.bits, c.len)
        });
        // Prepared bits, plus per line a typical value (ten codes of at
        // most 15 bits) and a distance code per hole.
        let fixed_bits: usize = items
            .iter()
            .map(|it| it.len as usize + if it.base == no_hole { 0 } else { 20 })
            .sum();
        let size_hint = (fixed_bits + ends.len() * 150) / 8 + 8;
        LineCodes {
            header_end,
            lit: codes.lit[..256].to_vec(),
            end: codes.lit[END],
            codes,
            dist_codes,
            dist_min,
            no_hole,
            items,
            item_ends,
            ages,
            size_hint,
        }
    }

    /// About the bytes [`LineCodes::write`] writes: an allowance, not a
    /// bound.
    pub(crate) fn size_hint(&self) -> usize {
        self.size_hint
    }

    /// Writes one block of all the lines: the prepared prefixes, then for
    /// line `i` the `i`-th of `ages` (one per line) as [`write_age`]
    /// writes it, then a newline. Each line's text also goes to `crc`,
    /// through `text` (a scratch buffer, left empty).
    pub(crate) fn write(
        &self,
        out: &mut Bits,
        prefixes: &[u8],
        ends: &[u32],
        ages: impl IntoIterator<Item = f64>,
        text: &mut Vec<u8>,
        crc: &mut Crc32,
    ) {
        // A local stream, so that its accumulator stays in registers
        // (through `out`, every call would store and load it).
        let mut w = std::mem::take(out);
        let mut item_start = self.header_end as usize;
        for it in &self.items[..item_start] {
            w.put64(it.bits, it.len);
        }
        let mut hole = 0u32;
        let mut start = 0;
        for ((&item_end, &end), age) in self.item_ends.iter().zip(ends).zip(ages) {
            let items = &self.items[item_start..item_end as usize];
            if hole <= TABLE_HOLE {
                for it in items {
                    // Items of 64 bits have no hole: their code is empty.
                    let c = self.dist_codes[(it.base + hole) as usize];
                    let (c, n) = (c & 0xffff_ffff, (c >> 32) as u32);
                    w.put64(it.bits | c.wrapping_shl(it.len), it.len + n);
                }
            } else {
                self.write_long_holes(&mut w, items, hole);
            }
            text.extend_from_slice(&prefixes[start..end as usize]);
            hole = self.write_value(&mut w, text, age);
            if text.len() >= CRC_CHUNK {
                crc.update(text);
                text.clear();
            }
            item_start = item_end as usize;
            start = end as usize;
        }
        crc.update(text);
        text.clear();
        w.put(u32::from(self.end.bits), self.end.len);
        *out = w;
    }

    /// Writes a line's items after a value too long for the table.
    #[inline(always)]
    fn write_long_holes(&self, out: &mut Bits, items: &[Item], hole: u32) {
        for it in items {
            out.put64(it.bits, it.len);
            if it.base != self.no_hole {
                let (c, n) = self.codes.distance(it.base + self.dist_min + hole);
                out.put(c, n);
            }
        }
    }

    /// Writes the value of `age` and a newline: their codes to `out`, their
    /// text to `text`. Returns the text's length (the next line's hole).
    #[inline(always)]
    fn write_value(&self, out: &mut Bits, text: &mut Vec<u8>, age: f64) -> u32 {
        let start = text.len();
        if let Some([(a, an), (b, bn)]) = self.ages.write(text, age) {
            if an + bn <= 64 {
                out.put64(a | b << an, an + bn);
            } else {
                out.put64(a, an);
                out.put64(b, bn);
            }
            return (text.len() - start) as u32;
        }
        write_age(text, age);
        text.push(b'\n');
        for &b in &text[start..] {
            let c = self.lit[usize::from(b)];
            out.put(u32::from(c.bits), c.len);
        }
        (text.len() - start) as u32
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::collector::tests::inflate;

    /// Writes the lines as one stream (a final empty block after ours);
    /// returns the inflated text, the text's CRC as written, the text
    /// wanted, and the codes.
    fn round_trip(prefixes: &[&[u8]], ages: &[f64]) -> (Vec<u8>, Crc32, Vec<u8>, LineCodes) {
        let mut all = Vec::new();
        let mut ends = Vec::new();
        for p in prefixes {
            all.extend_from_slice(p);
            ends.push(all.len() as u32);
        }
        let codes = LineCodes::new(&all, &ends);
        let mut bits = Bits::default();
        let (mut text, mut crc) = (Vec::new(), Crc32::default());
        codes.write(
            &mut bits,
            &all,
            &ends,
            ages.iter().copied(),
            &mut text,
            &mut crc,
        );
        assert!(text.is_empty());
        let mut raw = bits.sync();
        raw.extend_from_slice(&[0x03, 0x00]);
        let mut want = Vec::new();
        for (p, &v) in prefixes.iter().zip(ages) {
            want.extend_from_slice(p);
            write_age(&mut want, v);
            want.push(b'\n');
        }
        (inflate(&raw), crc, want, codes)
    }

    /// An age: mostly a typical one, sometimes one written the general way
    /// (zero, negative, not finite, hundreds of digits).
    fn age(rng: &mut fastrand::Rng) -> f64 {
        match rng.u8(0..30) {
            0 => f64::NAN,
            1 => f64::INFINITY,
            2 => 1e300,
            3 => -rng.f64() * 100.0,
            4 => 0.0,
            5 => rng.f64() * 1e15,
            6 => rng.u32(0..100_000) as f64,
            7 => rng.u32(0..100_000) as f64 / 10.0,
            8 => rng.f64() * 1e12,
            _ => rng.f64() * 10f64.powi(rng.i32(-3..9)),
        }
    }

    #[test]
    fn label_lines_round_trip_and_compress() {
        let mut rng = fastrand::Rng::with_seed(3);
        let n = 500;
        let prefixes: Vec<Vec<u8>> = (0..n)
            .map(|i| {
                format!(
                    "pingone_provisioning_last_sync_age_seconds{{environment_id=\"3f0b6a1e-0000-4000-8000-000000000001\",environment_name=\"prod\",rule_id=\"{:08x}-{:04x}-{:016x}\",rule_name=\"rule {i}\",direction=\"{}\"}} ",
                    rng.u32(..),
                    rng.u16(..),
                    rng.u64(..),
                    ["inbound", "outbound"][i % 2]
                )
                .into_bytes()
            })
            .collect();
        let ages: Vec<f64> = (0..n).map(|_| age(&mut rng)).collect();
        let refs: Vec<&[u8]> = prefixes.iter().map(|p| &p[..]).collect();
        let (got, crc, want, codes) = round_trip(&refs, &ages);
        assert!(want.len() > CRC_CHUNK, "the CRC is fed more than once");
        assert_eq!(got, want);
        assert_eq!(crc, Crc32::of(&want));
        assert!(codes.ages.int_digits >= 9, "typical ages take the fast way");
        // Items and holes: the prepared bits are a fraction of the text.
        let bits: usize = codes.items.iter().map(|it| it.len as usize).sum();
        assert!(bits / 8 < want.len() / 3, "{} of {}", bits / 8, want.len());
    }

    #[test]
    fn any_bytes_and_empty_lines_round_trip() {
        let mut rng = fastrand::Rng::with_seed(4);
        let (mut slow_values, mut fast_values) = (0, 0);
        for round in 0..300 {
            let n = rng.usize(0..40);
            let alphabet: Vec<u8> = (0..rng.usize(1..if round % 3 == 0 { 200 } else { 6 }))
                .map(|_| rng.u8(..))
                .collect();
            let prefixes: Vec<Vec<u8>> = (0..n)
                .map(|_| {
                    (0..rng.usize(0..if round % 10 == 0 { 700 } else { 60 }))
                        .map(|_| alphabet[rng.usize(..alphabet.len())])
                        .collect()
                })
                .collect();
            let ages: Vec<f64> = (0..n).map(|_| age(&mut rng)).collect();
            let refs: Vec<&[u8]> = prefixes.iter().map(|p| &p[..]).collect();
            let (got, crc, want, codes) = round_trip(&refs, &ages);
            assert_eq!(got, want, "round {round}");
            assert_eq!(crc, Crc32::of(&want));
            for &v in &ages {
                // Ages written as seconds[.fraction] whose codes might not
                // fit in 128 bits take the general way too.
                match crate::collector::age::age_ms(v) {
                    Some(ms) if (ms / 1000).max(1).ilog10() >= codes.ages.int_digits => {
                        slow_values += 1
                    }
                    Some(_) => fast_values += 1,
                    None => {}
                }
            }
        }
        assert!(
            slow_values > 0 && fast_values > 100,
            "{slow_values} {fast_values}"
        );
    }

    #[test]
    fn long_repeats_split_into_legal_matches() {
        for len in [3usize, 4, 257, 258, 259, 260, 261, 516, 517, 1000] {
            let p = vec![b'a'; len];
            let q = vec![b'a'; len];
            let (got, _, want, _) = round_trip(&[&p, &q, &p], &[1.0, 1e300, 22.5]);
            assert_eq!(got, want, "{len}");
        }
    }

    #[test]
    fn items_before_a_hole_leave_room_for_its_code() {
        let mut rng = fastrand::Rng::with_seed(6);
        // Long runs of literals before each match.
        let prefixes: Vec<Vec<u8>> = (0..200)
            .map(|_| {
                let mut p = b"name{id=\"".to_vec();
                p.extend((0..rng.usize(0..40)).map(|_| rng.u8(..)));
                p.extend_from_slice(b"\",kind=\"x\"} ");
                p
            })
            .collect();
        let ages: Vec<f64> = (0..200).map(|_| age(&mut rng)).collect();
        let refs: Vec<&[u8]> = prefixes.iter().map(|p| &p[..]).collect();
        let (got, _, want, codes) = round_trip(&refs, &ages);
        assert_eq!(got, want);
        let longest = codes.dist_codes.iter().map(|c| c >> 32).max().unwrap() as u32;
        for it in &codes.items {
            if it.base != codes.no_hole {
                assert!(it.len + longest <= 64, "{it:?}");
            }
        }
    }
}
