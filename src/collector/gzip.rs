//! gzip answers stitched from deflate segments.
//!
//! A deflate stream may be cut into segments that each start from a fresh
//! compressor and end with a sync flush (byte-aligned, not final): their
//! concatenation is one valid stream, because no segment refers back into
//! another. So the large per-rule blocks are deflated once per poll
//! ([`deflate_blocks`]), and a gzip scrape deflates only what it writes
//! itself (family headers, ages, self-metrics), sends the stored segments
//! by reference, and ends the member with a final empty block and the
//! CRC-32 of the whole text, combined from the segments' CRCs.

use bytes::Bytes;
use flate2::{Compress, CompressError, Compression, Crc, FlushCompress};

use super::deflate::Bits;

/// gzip member header: deflate, no flags, no mtime, unknown OS (RFC 1952).
const HEADER: [u8; 10] = [0x1f, 0x8b, 8, 0, 0, 0, 0, 0, 0, 0xff];

/// A final, empty, fixed-Huffman deflate block: ends the stream.
const FINAL_BLOCK: [u8; 2] = [0x03, 0x00];

/// A self-contained deflate segment of one block's text.
#[derive(Debug)]
pub(crate) struct Deflated {
    /// The segment: from a fresh compressor, ending with a sync flush.
    pub(crate) bytes: Bytes,
    /// CRC-32 and length of the uncompressed text.
    pub(crate) crc: Crc,
}

/// Feeds `data` to `z` with `flush` until all of it is taken and, for a sync
/// flush, until the flush is complete (room left in the output).
fn compress(
    z: &mut Compress,
    data: &[u8],
    out: &mut Vec<u8>,
    flush: FlushCompress,
) -> Result<(), CompressError> {
    let start = z.total_in();
    loop {
        let taken = usize::try_from(z.total_in() - start).unwrap_or(usize::MAX);
        let left = data.get(taken..).unwrap_or_default();
        if out.capacity() - out.len() < 1024 {
            out.reserve(left.len() / 4 + 4096);
        }
        z.compress_vec(left, out, flush)?;
        let taken = usize::try_from(z.total_in() - start).unwrap_or(usize::MAX);
        let done = taken >= data.len()
            && (matches!(flush, FlushCompress::None) || out.len() < out.capacity());
        if done {
            return Ok(());
        }
    }
}

/// Deflates each `Some` block into its own segment, at the default level
/// (once per poll, not per scrape: about 8 % smaller than the fast level
/// used at scrape time, for about 1.5 times its CPU). Each segment is
/// copied into an allocation of exactly its size (see `render` on why). A
/// block that fails to compress gets `None` and is compressed at scrape
/// time instead.
pub(crate) fn deflate_blocks<'a>(
    blocks: impl Iterator<Item = Option<&'a [u8]>>,
) -> Vec<Option<Deflated>> {
    let mut z = Compress::new(Compression::default(), false);
    let mut out = Vec::new();
    let mut spans = Vec::new();
    for block in blocks {
        spans.push(block.and_then(|text| {
            let start = out.len();
            z.reset();
            if compress(&mut z, text, &mut out, FlushCompress::Sync).is_err() {
                out.truncate(start);
                return None;
            }
            let mut crc = Crc::new();
            crc.update(text);
            Some((start, out.len(), crc))
        }));
    }
    spans
        .into_iter()
        .map(|s| {
            s.map(|(a, b, crc)| Deflated {
                bytes: Bytes::copy_from_slice(&out[a..b]),
                crc,
            })
        })
        .collect()
}

/// Writes one gzip member from text (deflated here) and stored segments
/// (sent as they are).
pub(crate) struct GzipWriter {
    chunks: Vec<Bytes>,
    z: Compress,
    buf: Vec<u8>,
    crc: Crc,
    /// Text was given since the last cut.
    dirty: bool,
}

impl GzipWriter {
    /// A member with only its header so far.
    pub(crate) fn new() -> Self {
        Self {
            chunks: vec![Bytes::from_static(&HEADER)],
            z: Compress::new(Compression::fast(), false),
            buf: Vec::new(),
            crc: Crc::new(),
            dirty: false,
        }
    }

    /// Appends text, deflated here.
    pub(crate) fn text(&mut self, text: &[u8]) -> Result<(), CompressError> {
        self.crc.update(text);
        self.dirty = true;
        compress(&mut self.z, text, &mut self.buf, FlushCompress::None)
    }

    /// Appends a stored segment.
    pub(crate) fn segment(&mut self, d: &Deflated) -> Result<(), CompressError> {
        self.cut()?;
        self.crc.combine(&d.crc);
        self.chunks.push(d.bytes.clone());
        Ok(())
    }

    /// Starts deflate blocks written by the caller ([`GzipWriter::bits`]),
    /// after the text so far. The caller feeds their text to
    /// [`GzipWriter::crc`] in order.
    pub(crate) fn start_bits(&mut self, capacity: usize) -> Result<Bits, CompressError> {
        self.cut()?;
        Ok(Bits::with(Vec::with_capacity(capacity)))
    }

    /// The CRC of the text so far, for blocks written by the caller.
    pub(crate) fn crc(&mut self) -> &mut Crc {
        &mut self.crc
    }

    /// Appends blocks started with [`GzipWriter::start_bits`], ended with a
    /// sync flush.
    pub(crate) fn bits(&mut self, bits: Bits) {
        self.chunks.push(Bytes::from(bits.sync()));
    }

    /// Ends the text written here with a sync flush and starts afresh, so
    /// that what follows may be a stored segment.
    fn cut(&mut self) -> Result<(), CompressError> {
        if self.dirty {
            compress(&mut self.z, &[], &mut self.buf, FlushCompress::Sync)?;
            self.z.reset();
            self.chunks.push(Bytes::from(std::mem::take(&mut self.buf)));
            self.dirty = false;
        }
        Ok(())
    }

    /// The whole member: final block and trailer (CRC-32, length mod 2³²).
    pub(crate) fn finish(mut self) -> Result<Vec<Bytes>, CompressError> {
        self.cut()?;
        let mut trailer = Vec::with_capacity(10);
        trailer.extend_from_slice(&FINAL_BLOCK);
        trailer.extend_from_slice(&self.crc.sum().to_le_bytes());
        trailer.extend_from_slice(&self.crc.amount().to_le_bytes());
        self.chunks.push(Bytes::from(trailer));
        Ok(self.chunks)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Read;

    fn gunzip(chunks: &[Bytes]) -> Vec<u8> {
        let all: Vec<u8> = chunks.iter().flat_map(|c| c.iter().copied()).collect();
        let mut out = Vec::new();
        // GzDecoder checks the CRC and length of the trailer.
        flate2::read::GzDecoder::new(&all[..])
            .read_to_end(&mut out)
            .unwrap();
        out
    }

    #[test]
    fn text_and_stored_segments_make_one_valid_member() {
        let a = b"pingone_x{a=\"1\"} 1\n".repeat(300);
        let b = b"pingone_y{b=\"2\"} 2\n".repeat(500);
        let stored = deflate_blocks([Some(&a[..]), None, Some(&b[..])].into_iter());
        assert!(stored[1].is_none());
        let (sa, sb) = (stored[0].as_ref().unwrap(), stored[2].as_ref().unwrap());

        let mut w = GzipWriter::new();
        w.text(b"# HELP x\n").unwrap();
        w.segment(sa).unwrap();
        w.segment(sa).unwrap();
        w.text(b"between\n").unwrap();
        w.text(b"more\n").unwrap();
        w.segment(sb).unwrap();
        w.text(b"# EOF\n").unwrap();
        let got = gunzip(&w.finish().unwrap());

        let mut want = b"# HELP x\n".to_vec();
        want.extend_from_slice(&a);
        want.extend_from_slice(&a);
        want.extend_from_slice(b"between\nmore\n");
        want.extend_from_slice(&b);
        want.extend_from_slice(b"# EOF\n");
        assert_eq!(got, want);
    }

    #[test]
    fn empty_and_segment_only_members_are_valid() {
        assert_eq!(gunzip(&GzipWriter::new().finish().unwrap()), b"");
        let a = b"abc".repeat(2000);
        let stored = deflate_blocks([Some(&a[..])].into_iter());
        let mut w = GzipWriter::new();
        w.segment(stored[0].as_ref().unwrap()).unwrap();
        assert_eq!(gunzip(&w.finish().unwrap()), a);
    }

    #[test]
    fn large_text_is_compressed_whole() {
        let text: Vec<u8> = (0..3_000_000u32).map(|i| (i % 251) as u8).collect();
        let mut w = GzipWriter::new();
        w.text(&text).unwrap();
        assert_eq!(gunzip(&w.finish().unwrap()), text);
    }
}
