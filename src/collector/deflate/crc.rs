//! CRC-32 (gzip's, RFC 1952) of text pieces joined in order, with a cheap
//! join: the CRC of `A ‖ B` is `CRC(A) · x^(8·|B|) + CRC(B)` modulo the
//! CRC polynomial (zlib's `crc32_combine`). The factor for `B` depends on
//! its length only, so a piece deflated once per poll carries it, and a
//! scrape joins each piece with one multiplication instead of the matrix
//! powers a general combine computes.

/// The CRC-32 polynomial, bit-reversed.
const POLY: u32 = 0xedb8_8320;

/// `a · b` modulo the polynomial (bit-reversed representation).
fn multmodp(a: u32, mut b: u32) -> u32 {
    let mut m = 1u32 << 31;
    let mut p = 0;
    while m != 0 {
        if a & m != 0 {
            p ^= b;
            if a & (m - 1) == 0 {
                break;
            }
        }
        m >>= 1;
        b = if b & 1 != 0 { (b >> 1) ^ POLY } else { b >> 1 };
    }
    p
}

/// `x^(8·n)` modulo the polynomial: the factor that moves a CRC past `n`
/// more bytes.
pub(crate) fn shift_factor(n: u64) -> u32 {
    // x^(2^k) for k = 3, 4, ...: start at x^8.
    let mut power = 1u32 << (31 - 8); // x^8
    let mut p = 1u32 << 31; // x^0
    let mut n = n;
    while n != 0 {
        if n & 1 != 0 {
            p = multmodp(power, p);
        }
        power = multmodp(power, power);
        n >>= 1;
    }
    p
}

/// The CRC-32 and length of some text.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub(crate) struct Crc32 {
    pub(crate) sum: u32,
    pub(crate) len: u64,
}

impl Crc32 {
    /// Of `text`.
    pub(crate) fn of(text: &[u8]) -> Self {
        let mut c = Self::default();
        c.update(text);
        c
    }

    /// Appends `text`.
    pub(crate) fn update(&mut self, text: &[u8]) {
        let mut h = crc32fast::Hasher::new_with_initial(self.sum);
        h.update(text);
        self.sum = h.finalize();
        self.len += text.len() as u64;
    }

    /// Appends text whose CRC is `other` and whose [`shift_factor`] is
    /// `factor`.
    pub(crate) fn join(&mut self, other: Crc32, factor: u32) {
        self.sum = multmodp(factor, self.sum) ^ other.sum;
        self.len += other.len;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn joined_crcs_are_the_crc_of_the_joined_text() {
        let mut rng = fastrand::Rng::with_seed(9);
        for _ in 0..200 {
            let a: Vec<u8> = (0..rng.usize(0..300)).map(|_| rng.u8(..)).collect();
            let b: Vec<u8> = (0..rng.usize(0..3000)).map(|_| rng.u8(..)).collect();
            let mut joined = Crc32::of(&a);
            joined.join(Crc32::of(&b), shift_factor(b.len() as u64));
            let whole = [a, b].concat();
            assert_eq!(joined, Crc32::of(&whole));
            assert_eq!(joined.sum, crc32fast::hash(&whole));
        }
    }
}
