//! Text deflated line by line with the fixed Huffman code (RFC 1951,
//! 3.2.6): each line is matched against the previous one only (labels
//! repeat from line to line), the rest is literals. Much cheaper than a
//! general compressor, for the little text a gzip scrape writes itself
//! (the self-metrics, the environment lines); a little larger.

use std::sync::OnceLock;

use super::bits::Bits;
use super::codes::{Codes, END};
use super::tokens::{Token, tokenize};

/// The fixed codes and the distance codes of the window, built once.
struct Fixed {
    codes: Codes,
    dists: Vec<(u32, u8)>,
}

fn fixed() -> &'static Fixed {
    static FIXED: OnceLock<Fixed> = OnceLock::new();
    FIXED.get_or_init(|| {
        let codes = Codes::fixed();
        let dists = codes.distance_table(super::codes::MAX_DISTANCE);
        Fixed { codes, dists }
    })
}

/// Starts a fixed-Huffman block (not the last of the stream).
pub(crate) fn fixed_start(out: &mut Bits) {
    out.put(0b010, 3); // BFINAL 0, BTYPE 01 (fixed)
}

/// Ends a fixed-Huffman block.
pub(crate) fn fixed_end(out: &mut Bits) {
    let c = fixed().codes.lit[END];
    out.put(u32::from(c.bits), c.len);
}

/// A line coder for fixed-Huffman blocks, with its scratch space.
#[derive(Debug, Default)]
pub(crate) struct FixedLines {
    tokens: Vec<Token>,
}

impl FixedLines {
    /// Appends `text` as one fixed-Huffman block. Keep the coder for the
    /// next block: its scratch space then needs no growing.
    pub(crate) fn block(&mut self, out: &mut Bits, text: &[u8]) {
        fixed_start(out);
        self.code(out, &[], text);
        fixed_end(out);
    }

    /// Codes `text` inside a fixed-Huffman block, each line matched against
    /// the line before it; the first against `prev`, the line (without its
    /// newline) that ends just before `text`: pass an empty one when the text
    /// before does not end in a newline, or when nothing comes before. The
    /// codes depend only on `prev` and `text`, not on where they are written:
    /// bits coded once may be copied into any fixed block after the same
    /// `prev`. What follows takes `text`'s last line as its `prev`, or an
    /// empty one when `text` does not end in a newline.
    pub(crate) fn code(&mut self, out: &mut Bits, prev: &[u8], text: &[u8]) {
        let tokens = &mut self.tokens;
        let f = fixed();
        let lit = &f.codes.lit;
        let mut prev = prev;
        for line in text.split_inclusive(|&b| b == b'\n') {
            let (cur, newline) = match line.split_last() {
                Some((b'\n', cur)) => (cur, true),
                _ => (line, false),
            };
            tokens.clear();
            tokenize(prev, cur, false, tokens);
            for t in tokens.iter() {
                match *t {
                    Token::Literal(b) => {
                        let c = lit[usize::from(b)];
                        out.put(u32::from(c.bits), c.len);
                    }
                    Token::Match { len, base } => {
                        let (bits, n) = f.codes.length(len);
                        out.put(bits, n);
                        // The previous line's newline lies between.
                        let (bits, n) = f.dists[base as usize];
                        out.put(bits, n);
                    }
                }
            }
            if newline {
                let c = lit[usize::from(b'\n')];
                out.put(u32::from(c.bits), c.len);
            }
            prev = cur;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::collector::tests::inflate;

    #[test]
    fn text_round_trips_and_repeated_labels_compress() {
        let mut rng = fastrand::Rng::with_seed(5);
        let mut cases: Vec<Vec<u8>> = vec![
            Vec::new(),
            b"\n".to_vec(),
            b"no newline at the end".to_vec(),
            b"\n\n\nabc\n\n".to_vec(),
        ];
        let mut metrics = Vec::new();
        for i in 0..500 {
            metrics.extend_from_slice(
                format!(
                    "pingone_exporter_poll_duration_seconds_bucket{{environment_id=\"e{}\",le=\"{}\"}} {}\n",
                    i / 14,
                    i % 14,
                    rng.u32(..)
                )
                .as_bytes(),
            );
        }
        cases.push(metrics.clone());
        for _ in 0..100 {
            let alphabet: Vec<u8> = (0..rng.usize(1..5)).map(|_| rng.u8(..)).collect();
            cases.push(
                (0..rng.usize(0..2000))
                    .map(|_| {
                        if rng.u8(..) < 20 {
                            b'\n'
                        } else {
                            alphabet[rng.usize(..alphabet.len())]
                        }
                    })
                    .collect(),
            );
        }
        for text in &cases {
            let mut bits = Bits::default();
            FixedLines::default().block(&mut bits, text);
            let mut raw = bits.sync();
            raw.extend_from_slice(&[0x03, 0x00]);
            assert_eq!(&inflate(&raw), text);
        }
        let mut bits = Bits::default();
        FixedLines::default().block(&mut bits, &metrics);
        assert!(
            bits.len() / 8 < metrics.len() / 3,
            "{} of {}",
            bits.len() / 8,
            metrics.len()
        );
    }
}
