//! Age values (`now − timestamp`) written fast: a scrape writes one per
//! rule with a last sync.

use crate::exposition::write_f64;

/// Appends an age of `v` seconds, rounded to the millisecond (finer digits
/// are clock noise): exactly what `write_f64(round_ms(v))` writes, where
/// `round_ms(v) = (v × 1000).round() / 1000`, but without float formatting
/// (float formatting was about 8 % of a scrape's CPU at 10,000 rules).
///
/// With `ms` = `v` in whole milliseconds and `|ms|` < 10¹⁵, the decimal
/// `ms / 1000` has at most 15 significant digits. Such a decimal is the
/// only one of its length that rounds to its nearest double, and that
/// double is `round_ms(v)` (a correctly rounded division), so the shortest
/// round-trip digits `write_f64` prints are this decimal's. Zero (which
/// may be `-0`), larger values, NaN and infinities take `write_f64`.
pub(crate) fn write_age(out: &mut Vec<u8>, v: f64) {
    if let Some(ms) = age_ms(v) {
        write_digits(out, ms / 1000);
        write_frac(out, (ms % 1000) as u32);
        return;
    }
    let ms = (v * 1000.0).round();
    if ms == 0.0 || ms.is_nan() || ms.abs() >= 1e15 {
        write_f64(out, ms / 1000.0);
        return;
    }
    if ms < 0.0 {
        out.push(b'-');
    }
    // Exact: an integer below 10¹⁵ in magnitude.
    let ms = ms.abs() as u64;
    write_digits(out, ms / 1000);
    write_frac(out, (ms % 1000) as u32);
}

/// The age `v` seconds in whole milliseconds, `(v × 1000).round()`, when
/// it is from 1 to below 10¹⁵ (the ages [`write_age`] writes as
/// `seconds[.fraction]`; others are `None`). Rounds without the library
/// call `f64::round` makes: below 2⁵², `x − trunc(x)` is exact.
#[inline]
pub(crate) fn age_ms(v: f64) -> Option<u64> {
    let x = v * 1000.0;
    if !(0.5..1e15).contains(&x) {
        return None;
    }
    let whole = x as u64;
    let ms = whole + u64::from(x - whole as f64 >= 0.5);
    (ms < 1_000_000_000_000_000).then_some(ms)
}

/// The digits after the point of `frac` milliseconds (0..1000): `.` and
/// one to three digits without trailing zeros, none for 0.
fn write_frac(out: &mut Vec<u8>, frac: u32) {
    if frac != 0 {
        let digits = [frac / 100, frac / 10 % 10, frac % 10];
        out.push(b'.');
        let len = frac_len(frac) as usize;
        out.extend(digits[..len].iter().map(|d| b'0' + *d as u8));
    }
}

/// Digits written after the point for `frac` milliseconds, 1 to 999:
/// trailing zeros are dropped.
#[inline]
pub(crate) fn frac_len(frac: u32) -> u32 {
    3 - u32::from(frac.is_multiple_of(10)) - u32::from(frac.is_multiple_of(100))
}

fn write_digits(out: &mut Vec<u8>, mut n: u64) {
    let mut buf = [0u8; 20];
    let mut i = buf.len();
    loop {
        i -= 1;
        buf[i] = b'0' + (n % 10) as u8;
        n /= 10;
        if n == 0 {
            break;
        }
    }
    out.extend_from_slice(&buf[i..]);
}

/// The ASCII digits of 0..100, two each.
const PAIR_TEXT: [[u8; 2]; 100] = {
    let mut t = [[0u8; 2]; 100];
    let mut i = 0;
    while i < 100 {
        t[i] = [b'0' + (i / 10) as u8, b'0' + (i % 10) as u8];
        i += 1;
    }
    t
};

/// The Huffman codes of the bytes typical ages are written with (digits,
/// `.`, newline), to code an age as it is formatted.
#[derive(Debug)]
pub(crate) struct AgeCodes {
    /// Codes of the digits, `.` and the newline (in that order) as `bits |
    /// len << 16`.
    codes: [u32; 12],
    /// Most digits before the point whose codes always fit in 64 bits
    /// (0 if those of the point, three digits and the newline might not).
    pub(crate) int_digits: u32,
}

impl AgeCodes {
    /// From `code(byte)`: a code (least significant bit first, as deflate
    /// writes it) and its length, 1 to 15 bits.
    pub(crate) fn new(code: impl Fn(u8) -> (u16, u8)) -> Self {
        let codes: [u32; 12] = std::array::from_fn(|i| {
            let (bits, len) = code(b"0123456789.\n"[i]);
            u32::from(bits) | u32::from(len) << 16
        });
        let longest = codes.iter().map(|c| c >> 16).max().unwrap_or(64).max(1);
        let int_digits = if 5 * longest <= 64 { 64 / longest } else { 0 };
        Self { codes, int_digits }
    }

    /// The code of symbol `i` (see `codes`) and its length.
    #[inline(always)]
    fn code(&self, i: usize) -> (u64, u32) {
        let c = self.codes[i];
        (u64::from(c & 0xffff), c >> 16)
    }

    /// Appends age `v` as [`write_age`] writes it, and a newline, to `text`
    /// and returns their codes as two bit strings (bits, length ≤ 64), in
    /// one pass over the digits. `None`, with nothing written, for ages
    /// not written as `seconds[.fraction]` or with too many digits.
    #[inline(always)]
    pub(crate) fn write(&self, text: &mut Vec<u8>, v: f64) -> Option<[(u64, u32); 2]> {
        let ms = age_ms(v)?;
        let (secs, frac) = (ms / 1000, (ms % 1000) as u32);
        let int_len = (secs | 1).ilog10() + 1;
        if int_len > self.int_digits {
            return None;
        }
        // Written into `buf`, copied whole and cut to length.
        let mut buf = [0u8; 24];
        // The digits before the point, right to left, so each pair's
        // codes go in front of those after it.
        let (mut ibits, mut ilen) = (0u64, 0u32);
        let (mut n, mut i) = (secs, int_len as usize);
        while i >= 2 {
            let p = (n % 100) as usize;
            n /= 100;
            i -= 2;
            buf[i..i + 2].copy_from_slice(&PAIR_TEXT[p]);
            let ((a, al), (b, bl)) = (self.code(p / 10), self.code(p % 10));
            ibits = (ibits << bl | b) << al | a;
            ilen += al + bl;
        }
        if i == 1 {
            buf[0] = b'0' + n as u8;
            let (a, al) = self.code(n as usize);
            ibits = ibits << al | a;
            ilen += al;
        }
        // The point and the digits after it (if any), and the newline.
        let mut at = int_len as usize;
        let (mut fbits, mut flen) = (0u64, 0u32);
        if frac != 0 {
            let d = [frac / 100, frac / 10 % 10, frac % 10];
            buf[at..at + 4].copy_from_slice(&[
                b'.',
                b'0' + d[0] as u8,
                b'0' + d[1] as u8,
                b'0' + d[2] as u8,
            ]);
            let t = frac_len(frac) as usize;
            at += 1 + t;
            // All four codes, then cut after the last digit kept (no
            // branch on the trailing zeros, which vary at random).
            (fbits, flen) = self.code(10);
            let mut ends = [flen; 4];
            for (k, &d) in d.iter().enumerate() {
                let (c, l) = self.code(d as usize);
                fbits |= c << flen;
                flen += l;
                ends[k + 1] = flen;
            }
            flen = ends[t];
            fbits &= (1 << flen) - 1;
        }
        buf[at] = b'\n';
        let (c, l) = self.code(11);
        fbits |= c << flen;
        let start = text.len();
        text.extend_from_slice(&buf);
        text.truncate(start + at + 1);
        Some([(ibits, ilen), (fbits, flen + l)])
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ages_are_written_as_the_float_formatter_writes_them() {
        let mut rng = fastrand::Rng::with_seed(8);
        let mut cases = vec![
            0.0,
            -0.0,
            0.0004,
            -0.0004,
            0.0005,
            0.001,
            0.01,
            0.1,
            1.0,
            5.5,
            59.999,
            60.0,
            86_400.123,
            86_400.1,
            86_400.12,
            -1.5,
            -0.001,
            1e9 + 0.5,
            999_999_999_999.999,
            1e12,
            1e13,
            1e16,
            f64::NAN,
            f64::INFINITY,
            f64::NEG_INFINITY,
            f64::MAX,
        ];
        for _ in 0..200_000 {
            let scale = 10f64.powi(rng.i32(-4..13));
            cases.push((rng.f64() - 0.2) * scale);
        }
        for v in cases {
            let (mut fast, mut slow) = (Vec::new(), Vec::new());
            write_age(&mut fast, v);
            write_f64(&mut slow, (v * 1000.0).round() / 1000.0);
            assert_eq!(fast, slow, "age {v:?}");
        }
    }

    #[test]
    fn age_codes_code_the_text_they_write() {
        let mut rng = fastrand::Rng::with_seed(13);
        for round in 0..50 {
            // Arbitrary codes of 1 to 15 bits (prefix-free or not: only the
            // bit strings are compared).
            let table: Vec<(u16, u8)> = (0..256)
                .map(|_| {
                    let len = rng.u8(1..if round % 5 == 0 { 16 } else { 7 });
                    (rng.u16(..) & ((1u32 << len) - 1) as u16, len)
                })
                .collect();
            let codes = AgeCodes::new(|b| table[usize::from(b)]);
            for _ in 0..2000 {
                let v = rng.f64() * 10f64.powi(rng.i32(-4..13));
                let (mut got, mut want) = (b"x".to_vec(), b"x".to_vec());
                write_age(&mut want, v);
                want.push(b'\n');
                let Some(parts) = codes.write(&mut got, v) else {
                    assert_eq!(got, b"x", "nothing written");
                    let digits = want.iter().filter(|b| b.is_ascii_digit()).count() as u32;
                    assert!(v < 0.0005 || digits > codes.int_digits, "{v}");
                    continue;
                };
                assert_eq!(got, want, "age {v}");
                let (mut bits, mut len) = (Vec::new(), 0);
                for (b, l) in parts {
                    bits.extend((0..l).map(|i| b >> i & 1 == 1));
                    len += l;
                    assert!(l <= 64 && (l == 64 || b >> l == 0));
                }
                let mut wanted = Vec::new();
                for &b in &want[1..] {
                    let (c, l) = table[usize::from(b)];
                    wanted.extend((0..l).map(|i| c >> i & 1 == 1));
                }
                assert_eq!(bits, wanted, "age {v}");
                assert_eq!(len as usize, wanted.len());
            }
        }
    }

    #[test]
    fn age_ms_rounds_as_f64_round() {
        let mut rng = fastrand::Rng::with_seed(12);
        let mut cases = vec![
            0.0,
            0.0004,
            0.0005,
            f64::from_bits(0.0005f64.to_bits() - 1),
            0.0015,
            0.0025,
            1.0,
            -1.0,
            1e12,
            999_999_999_999.999,
            999_999_999_999.999_5,
            1e13,
            f64::NAN,
            f64::INFINITY,
        ];
        for _ in 0..200_000 {
            let scale = 10f64.powi(rng.i32(-4..13));
            cases.push((rng.f64() - 0.1) * scale);
            // Exact halves of a millisecond.
            cases.push(rng.u64(0..1 << 40) as f64 / 1000.0 + 0.0005);
        }
        for v in cases {
            let ms = (v * 1000.0).round();
            let want = (1.0..1e15).contains(&ms).then_some(ms as u64);
            assert_eq!(age_ms(v), want, "age {v:?}");
        }
    }
}
