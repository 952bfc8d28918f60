//! LZ77 tokens of one line against the line before it: literals, and
//! matches that copy from the previous line. Label text repeats from line
//! to line, so that is where nearly all of a metrics line's matches are;
//! looking only there keeps parsing cheap. Shared by the age lines' codes
//! (prepared per poll) and the fixed-Huffman line coder.

use std::collections::HashMap;

use super::codes::{MAX_DISTANCE, MAX_MATCH, MIN_MATCH};

/// Matches shorter than this are written as literals (a shorter match
/// costs about as many bits as its literals).
const MIN_TAKEN: usize = 4;
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
