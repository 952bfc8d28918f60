//! A bit writer for deflate streams: bits go out least significant first
//! (RFC 1951, 3.1.1), 32 at a time.

/// A growing deflate bit stream: whole 64-bit words go straight into the
/// byte buffer that [`Bits::sync`] hands out, so the stream is not copied
/// again at the end.
#[derive(Debug, Default)]
pub(crate) struct Bits {
    bytes: Vec<u8>,
    acc: u64,
    /// Bits held in `acc`, below 64 between calls.
    n: u32,
}

impl Bits {
    /// An empty stream with room for about `bytes` bytes.
    pub(crate) fn with_capacity(bytes: usize) -> Self {
        Self {
            bytes: Vec::with_capacity(bytes + 16),
            acc: 0,
            n: 0,
        }
    }

    /// Appends the low `len` bits of `bits` (`len` ≤ 32; higher bits of
    /// `bits` must be zero).
    #[inline(always)]
    pub(crate) fn put(&mut self, bits: u32, len: u8) {
        let bits = u64::from(bits);
        self.acc |= bits << self.n;
        let n = self.n + u32::from(len);
        if n >= 64 {
            self.bytes.extend_from_slice(&self.acc.to_le_bytes());
            // n ≥ 64 means self.n > 32, so the shift is below 64.
            self.acc = bits >> (64 - self.n);
            self.n = n - 64;
        } else {
            self.n = n;
        }
    }

    /// Appends the low `len` bits of `bits` (`len` ≤ 64; higher bits are
    /// ignored). Without a branch on whether a word fills up: the word is
    /// stored either way and kept only when full, since for bit strings of
    /// varying length that branch is taken at random.
    #[inline(always)]
    pub(crate) fn put64(&mut self, bits: u64, len: u32) {
        debug_assert!(len <= 64);
        let bits = bits & ((1u128 << len) - 1) as u64;
        let acc = self.acc | bits << self.n;
        let n = self.n + len;
        let full = n >= 64;
        let at = self.bytes.len();
        self.bytes.extend_from_slice(&acc.to_le_bytes());
        self.bytes.truncate(at + 8 * usize::from(full));
        // The bits that did not fit: `bits >> (64 - self.n)`, none when
        // `self.n` is 0 (split in two shifts so that none reaches 64).
        let rest = (bits >> 1) >> (63 - self.n);
        self.acc = if full { rest } else { acc };
        self.n = n & 63;
    }

    /// Appends every bit of `other`, eight bytes at a time.
    pub(crate) fn append(&mut self, other: &Bits) {
        let words = other.bytes.chunks_exact(8);
        for w in words.clone() {
            let mut b = [0u8; 8];
            b.copy_from_slice(w);
            self.put64(u64::from_le_bytes(b), 64);
        }
        debug_assert!(words.remainder().is_empty());
        self.put64(other.acc, other.n);
    }

    /// A stream holding the first `bits` bits of `stream` (bytes written
    /// by a `Bits` and synced, or any prefix of them at least
    /// `bits.div_ceil(8)` long), with room for about `capacity` bytes.
    pub(crate) fn from_prefix(stream: &[u8], bits: usize, capacity: usize) -> Self {
        // Whole words go to the buffer, like `put64` keeps them; the rest
        // into the accumulator.
        let words = bits / 64 * 8;
        let mut bytes = Vec::with_capacity(capacity.max(words) + 16);
        bytes.extend_from_slice(&stream[..words]);
        let n = (bits % 64) as u32;
        let mut acc = [0u8; 8];
        let tail = &stream[words..words + n.div_ceil(8) as usize];
        acc[..tail.len()].copy_from_slice(tail);
        let acc = u64::from_le_bytes(acc) & ((1u128 << n) - 1) as u64;
        Self { bytes, acc, n }
    }

    /// Empties the stream, keeping its buffer.
    pub(crate) fn clear(&mut self) {
        self.bytes.clear();
        self.acc = 0;
        self.n = 0;
    }

    /// Bits written so far.
    pub(crate) fn len(&self) -> usize {
        self.bytes.len() * 8 + self.n as usize
    }

    /// Ends the current block's data with an empty stored block, which
    /// pads to a byte boundary (a sync flush: `00 00 ff ff` after the
    /// padding), and returns the bytes. What follows may start a new block
    /// on a byte boundary, such as a segment deflated elsewhere.
    pub(crate) fn sync(mut self) -> Vec<u8> {
        self.put(0, 3); // BFINAL 0, BTYPE 00
        let mut out = self.bytes;
        let bytes = self.n.div_ceil(8) as usize;
        out.extend_from_slice(&self.acc.to_le_bytes()[..bytes]);
        out.extend_from_slice(&[0, 0, 0xff, 0xff]);
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_prefix_continues_like_the_stream_it_was_cut_from() {
        let mut rng = fastrand::Rng::with_seed(3);
        for _ in 0..200 {
            let puts: Vec<(u32, u8)> = (0..rng.usize(0..60))
                .map(|_| {
                    let len = rng.u8(1..=32);
                    (rng.u32(..) >> (32 - len), len)
                })
                .collect();
            let cut = rng.usize(0..=puts.len());
            let mut whole = Bits::default();
            let mut at = 0;
            for (i, &(b, len)) in puts.iter().enumerate() {
                if i == cut {
                    at = whole.len();
                }
                whole.put(b, len);
            }
            if cut == puts.len() {
                at = whole.len();
            }
            let mut resumed = Bits::from_prefix(&Bits::sync(std::mem::take(&mut whole)), at, 0);
            assert_eq!(resumed.len(), at);
            for &(b, len) in &puts[cut..] {
                resumed.put(b, len);
            }
            let mut again = Bits::default();
            for &(b, len) in &puts {
                again.put(b, len);
            }
            assert_eq!(resumed.sync(), again.sync());
        }
    }

    #[test]
    fn bits_are_packed_least_significant_first() {
        let mut b = Bits::default();
        b.put(0b1, 1);
        b.put(0b10, 2);
        b.put(0x1f, 5);
        b.put(0xabcd_ef01, 32);
        assert_eq!(b.len(), 40);
        let out = b.sync();
        // 1 + 10 + 11111 = 0xfd; then the 32 bits; then 3 zero bits padded.
        assert_eq!(
            out,
            [0xfd, 0x01, 0xef, 0xcd, 0xab, 0x00, 0x00, 0x00, 0xff, 0xff]
        );
    }

    #[test]
    fn append_writes_the_other_stream_after_this_one() {
        let mut rng = fastrand::Rng::with_seed(11);
        for _ in 0..200 {
            let (mut whole, mut a, mut b) = (Bits::default(), Bits::default(), Bits::default());
            let mut random = |out: &mut [&mut Bits; 2]| {
                for _ in 0..rng.usize(0..40) {
                    let (bits, len) = (rng.u64(..), rng.u32(0..=64));
                    out[0].put64(bits, len);
                    out[1].put64(bits, len);
                }
            };
            random(&mut [&mut whole, &mut a]);
            random(&mut [&mut whole, &mut b]);
            assert_eq!(whole.len(), a.len() + b.len());
            a.append(&b);
            assert_eq!(a.len(), whole.len());
            assert_eq!(a.sync(), whole.sync());
        }
    }

    #[test]
    fn put64_appends_what_put_appends() {
        let mut rng = fastrand::Rng::with_seed(5);
        for _ in 0..200 {
            let (mut a, mut b) = (Bits::default(), Bits::default());
            for _ in 0..rng.usize(0..100) {
                let len = rng.u32(0..=64);
                // Random high bits: put64 ignores them.
                let bits = rng.u64(..);
                let low = if len == 64 {
                    bits
                } else {
                    bits & ((1 << len) - 1)
                };
                // Mixed with put, as streams are.
                if len <= 32 && rng.bool() {
                    a.put(low as u32, len as u8);
                } else {
                    a.put64(bits, len);
                }
                b.put(
                    low as u32 & ((1u64 << len.min(32)) - 1) as u32,
                    len.min(32) as u8,
                );
                if len > 32 {
                    b.put((low >> 32) as u32, (len - 32) as u8);
                }
                assert_eq!(a.len(), b.len());
            }
            assert_eq!(a.sync(), b.sync());
        }
    }
}
