//! Huffman codes of a deflate block (RFC 1951, 3.2.2 and 3.2.5–3.2.7): the
//! length and distance symbols, canonical codes from code lengths,
//! length-limited codes from symbol counts, and a dynamic block's header.

use super::bits::Bits;

/// Base length of length symbols 257..=285, and their extra bits.
const LEN_BASE: [u16; 29] = [
    3, 4, 5, 6, 7, 8, 9, 10, 11, 13, 15, 17, 19, 23, 27, 31, 35, 43, 51, 59, 67, 83, 99, 115, 131,
    163, 195, 227, 258,
];
const LEN_EXTRA: [u8; 29] = [
    0, 0, 0, 0, 0, 0, 0, 0, 1, 1, 1, 1, 2, 2, 2, 2, 3, 3, 3, 3, 4, 4, 4, 4, 5, 5, 5, 5, 0,
];
/// Base distance of distance symbols 0..=29, and their extra bits.
const DIST_BASE: [u16; 30] = [
    1, 2, 3, 4, 5, 7, 9, 13, 17, 25, 33, 49, 65, 97, 129, 193, 257, 385, 513, 769, 1025, 1537,
    2049, 3073, 4097, 6145, 8193, 12289, 16385, 24577,
];
const DIST_EXTRA: [u8; 30] = [
    0, 0, 0, 0, 1, 1, 2, 2, 3, 3, 4, 4, 5, 5, 6, 6, 7, 7, 8, 8, 9, 9, 10, 10, 11, 11, 12, 12, 13,
    13,
];

/// Literal/length symbols (0..=255 bytes, 256 end of block, 257..=285
/// lengths) and distance symbols.
pub(crate) const LIT_SYMBOLS: usize = 286;
pub(crate) const DIST_SYMBOLS: usize = 30;
/// The end-of-block symbol.
pub(crate) const END: usize = 256;
/// Longest code deflate allows for literals, lengths and distances.
const MAX_BITS: u8 = 15;
/// Longest code of the code-length alphabet.
const MAX_CL_BITS: u8 = 7;
/// Order in which a dynamic header lists the code-length code lengths.
const CL_ORDER: [usize; 19] = [
    16, 17, 18, 0, 8, 7, 9, 6, 10, 5, 11, 4, 12, 3, 13, 2, 14, 1, 15,
];

/// Distances are 1..=32768 (the window).
pub(crate) const MAX_DISTANCE: u32 = 32_768;
/// Lengths of one match token are 3..=258.
pub(crate) const MAX_MATCH: usize = 258;
pub(crate) const MIN_MATCH: usize = 3;

/// The symbol (0..29) of a length 3..=258.
pub(crate) fn len_symbol(len: usize) -> usize {
    LEN_BASE.partition_point(|&b| usize::from(b) <= len) - 1
}

/// The symbol (0..30) of a distance 1..=32768.
fn dist_symbol(d: u32) -> usize {
    DIST_BASE.partition_point(|&b| u32::from(b) <= d) - 1
}

/// A Huffman code, bit-reversed so it is written least significant bit
/// first as deflate wants, with its length in bits.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub(crate) struct Code {
    pub(crate) bits: u16,
    pub(crate) len: u8,
}

/// Canonical codes for code lengths (RFC 1951, 3.2.2); length 0 = unused.
fn canonical(lengths: &[u8]) -> Vec<Code> {
    let mut count = [0u16; 16];
    for &l in lengths {
        count[usize::from(l)] += 1;
    }
    count[0] = 0;
    let mut next = [0u16; 16];
    let mut code = 0u16;
    for bits in 1..16 {
        code = (code + count[bits - 1]) << 1;
        next[bits] = code;
    }
    lengths
        .iter()
        .map(|&len| {
            if len == 0 {
                return Code::default();
            }
            let c = next[usize::from(len)];
            next[usize::from(len)] += 1;
            Code {
                bits: c.reverse_bits() >> (16 - len),
                len,
            }
        })
        .collect()
}

/// Huffman code lengths for symbol counts, none longer than `max`. Every
/// symbol must have a count of at least 1, so the code is complete. When
/// the tree is too deep the counts are halved (rounding up) and it is built
/// again: that flattens it while keeping every symbol.
fn lengths(counts: &[u32], max: u8) -> Vec<u8> {
    let mut counts: Vec<u64> = counts.iter().map(|&c| u64::from(c.max(1))).collect();
    loop {
        let lens = huffman_lengths(&counts);
        if lens.iter().all(|&l| l <= max) {
            return lens;
        }
        for c in &mut counts {
            *c = c.div_ceil(2);
        }
    }
}

/// Plain Huffman code lengths (two or more symbols).
fn huffman_lengths(counts: &[u64]) -> Vec<u8> {
    use std::cmp::Reverse;
    use std::collections::BinaryHeap;
    let n = counts.len();
    // Nodes 0..n are leaves; later ones are internal, with their parent.
    let mut parent = vec![usize::MAX; n];
    let mut heap: BinaryHeap<Reverse<(u64, usize)>> = counts
        .iter()
        .enumerate()
        .map(|(i, &c)| Reverse((c, i)))
        .collect();
    while heap.len() > 1 {
        let (Some(Reverse((ca, a))), Some(Reverse((cb, b)))) = (heap.pop(), heap.pop()) else {
            break;
        };
        let node = parent.len();
        parent.push(usize::MAX);
        parent[a] = node;
        parent[b] = node;
        heap.push(Reverse((ca + cb, node)));
    }
    // Depth of each node: parents are created after their children, so
    // walking from the root (last) down visits a parent first.
    let mut depth = vec![0u8; parent.len()];
    for i in (0..parent.len()).rev() {
        if parent[i] != usize::MAX {
            depth[i] = depth[parent[i]].saturating_add(1);
        }
    }
    depth.truncate(n);
    depth
}

/// The codes of one block: literals and lengths, distances.
#[derive(Debug)]
pub(crate) struct Codes {
    pub(crate) lit: Vec<Code>,
    pub(crate) dist: Vec<Code>,
}

impl Codes {
    /// The fixed codes (RFC 1951, 3.2.6).
    pub(crate) fn fixed() -> Self {
        let mut lit = [8u8; 288];
        lit[144..256].fill(9);
        lit[256..280].fill(7);
        Codes {
            lit: canonical(&lit)[..LIT_SYMBOLS].to_vec(),
            dist: canonical(&[5; 32])[..DIST_SYMBOLS].to_vec(),
        }
    }

    /// Codes from symbol counts (a dynamic block), and the block's header
    /// (BFINAL 0, BTYPE 10, the code lengths) appended to `header`.
    pub(crate) fn dynamic(lit_counts: &[u32], dist_counts: &[u32], header: &mut Bits) -> Self {
        let lit_lens = lengths(lit_counts, MAX_BITS);
        let dist_lens = lengths(dist_counts, MAX_BITS);
        // Every symbol has a code, so the lengths list has no zeros: run
        // lengths use symbol 16 (repeat the previous length 3..=6 times).
        let all: Vec<u8> = lit_lens.iter().chain(&dist_lens).copied().collect();
        let mut cl_symbols: Vec<(u8, u8)> = Vec::new(); // (symbol, repeat extra)
        let mut i = 0;
        while i < all.len() {
            let l = all[i];
            cl_symbols.push((l, 0));
            let mut run = all[i + 1..].iter().take_while(|&&x| x == l).count();
            i += 1 + run;
            while run >= 3 {
                let n = run.min(6);
                cl_symbols.push((16, (n - 3) as u8));
                run -= n;
            }
            for _ in 0..run {
                cl_symbols.push((l, 0));
            }
        }
        let mut cl_counts = [0u32; 19];
        for &(s, _) in &cl_symbols {
            cl_counts[usize::from(s)] += 1;
        }
        // Only symbols in use get a code here (a zero length is "unused").
        let used: Vec<usize> = (0..19).filter(|&s| cl_counts[s] > 0).collect();
        let mut cl_lens = [0u8; 19];
        if used.len() == 1 {
            cl_lens[used[0]] = 1; // one symbol: a one-bit code (allowed)
        } else {
            let l = lengths(
                &used.iter().map(|&s| cl_counts[s]).collect::<Vec<_>>(),
                MAX_CL_BITS,
            );
            for (&s, &len) in used.iter().zip(&l) {
                cl_lens[s] = len;
            }
        }
        let cl_codes = canonical(&cl_lens);
        let hclen = CL_ORDER
            .iter()
            .rposition(|&s| cl_lens[s] != 0)
            .map_or(4, |p| (p + 1).max(4));
        header.put(0b100, 3); // BFINAL 0, BTYPE 10 (dynamic)
        header.put((LIT_SYMBOLS - 257) as u32, 5);
        header.put((DIST_SYMBOLS - 1) as u32, 5);
        header.put((hclen - 4) as u32, 4);
        for &s in &CL_ORDER[..hclen] {
            header.put(u32::from(cl_lens[s]), 3);
        }
        for (s, extra) in cl_symbols {
            let c = cl_codes[usize::from(s)];
            header.put(u32::from(c.bits), c.len);
            if s == 16 {
                header.put(u32::from(extra), 2);
            }
        }
        Codes {
            lit: canonical(&lit_lens),
            dist: canonical(&dist_lens),
        }
    }

    /// The code of a match length 3..=258 with its extra bits, as one
    /// bit string (at most 15 + 5 bits).
    pub(crate) fn length(&self, len: usize) -> (u32, u8) {
        let s = len_symbol(len);
        let c = self.lit[257 + s];
        let extra = (len - usize::from(LEN_BASE[s])) as u32;
        (u32::from(c.bits) | extra << c.len, c.len + LEN_EXTRA[s])
    }

    /// The code of a distance 1..=32768 with its extra bits, as one bit
    /// string (at most 15 + 13 bits).
    pub(crate) fn distance(&self, d: u32) -> (u32, u8) {
        let s = dist_symbol(d);
        let c = self.dist[s];
        let extra = d - u32::from(DIST_BASE[s]);
        (u32::from(c.bits) | extra << c.len, c.len + DIST_EXTRA[s])
    }

    /// Distance codes of 1..=`max` (at most [`MAX_DISTANCE`]), indexed by
    /// distance − 1: a scrape looks them up instead of searching.
    pub(crate) fn distance_table(&self, max: u32) -> Vec<(u32, u8)> {
        (1..=max.min(MAX_DISTANCE))
            .map(|d| self.distance(d))
            .collect()
    }
}

/// Counts of the symbols a length and a distance are coded with.
pub(crate) fn count_match(lit: &mut [u32], dist: &mut [u32], len: usize, d: u32) {
    lit[257 + len_symbol(len)] += 1;
    dist[dist_symbol(d)] += 1;
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn symbols_cover_their_ranges() {
        assert_eq!(len_symbol(3), 0);
        assert_eq!(len_symbol(10), 7);
        assert_eq!(len_symbol(11), 8);
        assert_eq!(len_symbol(257), 27);
        assert_eq!(len_symbol(258), 28);
        assert_eq!(dist_symbol(1), 0);
        assert_eq!(dist_symbol(4), 3);
        assert_eq!(dist_symbol(5), 4);
        assert_eq!(dist_symbol(32_768), 29);
    }

    #[test]
    fn lengths_are_limited_and_complete() {
        // Fibonacci counts make the deepest plain Huffman tree.
        let mut counts = vec![1u32, 1];
        while counts.len() < 40 {
            let n = counts.len();
            counts.push(counts[n - 1] + counts[n - 2]);
        }
        let lens = lengths(&counts, 15);
        assert!(lens.iter().all(|&l| (1..=15).contains(&l)), "{lens:?}");
        // Kraft sum of a complete code is exactly 1.
        let kraft: f64 = lens.iter().map(|&l| 0.5f64.powi(i32::from(l))).sum();
        assert!((kraft - 1.0).abs() < 1e-12, "{kraft}");
    }

    #[test]
    fn fixed_codes_are_the_rfc_table() {
        let f = Codes::fixed();
        let msb = |c: Code| (c.bits.reverse_bits() >> (16 - c.len), c.len);
        assert_eq!(msb(f.lit[0]), (0b0011_0000, 8));
        assert_eq!(msb(f.lit[144]), (0b1_1001_0000, 9));
        assert_eq!(msb(f.lit[256]), (0, 7));
        assert_eq!(msb(f.lit[280]), (0b1100_0000, 8));
        assert_eq!(msb(f.dist[29]), (29, 5));
    }

    #[test]
    fn canonical_codes_are_the_rfc_example() {
        // RFC 1951, 3.2.2: lengths (3, 3, 3, 3, 3, 2, 4, 4) give
        // 010 011 100 101 110 00 1110 1111.
        let codes = canonical(&[3, 3, 3, 3, 3, 2, 4, 4]);
        let want = [0b010, 0b011, 0b100, 0b101, 0b110, 0b00, 0b1110, 0b1111];
        for (c, w) in codes.iter().zip(want) {
            assert_eq!(c.bits.reverse_bits() >> (16 - c.len), w);
        }
    }
}
