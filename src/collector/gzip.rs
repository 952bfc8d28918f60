//! gzip answers stitched from deflate segments.
//!
//! A deflate stream may be cut into segments that each start from a fresh
//! compressor and end with a sync flush (byte-aligned, not final): their
//! concatenation is one valid stream, because no segment refers back into
//! another. So the per-rule blocks are deflated once per poll
//! ([`deflate_blocks`]) and the family headers once per process
//! ([`header`]); a gzip scrape sends these stored segments by reference,
//! writes the age lines from codes prepared per poll and its own text
//! (self-metrics, environment lines) with a cheap line-by-line coder
//! ([`super::deflate`]), and ends the member with a final empty block and
//! the CRC-32 of the whole text, combined from the segments' CRCs.

use std::sync::OnceLock;

use bytes::Bytes;
use flate2::{Compress, CompressError, Compression, FlushCompress};

use super::deflate::{Bits, Crc32, shift_factor};
use super::families::{AGE_FAMILIES, ENV_FAMILIES, RULE_FAMILIES};
use crate::exposition::{Desc, Format};

/// gzip member header: deflate, no flags, no mtime, unknown OS (RFC 1952).
const HEADER: [u8; 10] = [0x1f, 0x8b, 8, 0, 0, 0, 0, 0, 0, 0xff];

/// A final, empty, fixed-Huffman deflate block: ends the stream.
const FINAL_BLOCK: [u8; 2] = [0x03, 0x00];

/// A self-contained deflate segment of one block's text.
#[derive(Clone, Debug)]
pub(crate) struct Deflated {
    /// The segment: from a fresh compressor, ending with a sync flush.
    pub(crate) bytes: Bytes,
    /// CRC-32 and length of the uncompressed text.
    pub(crate) crc: Crc32,
    /// Its [`shift_factor`], to join its CRC to the text before it.
    pub(crate) factor: u32,
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
            Some((start, out.len(), Crc32::of(text)))
        }));
    }
    spans
        .into_iter()
        .map(|s| {
            s.map(|(a, b, crc)| Deflated {
                bytes: Bytes::copy_from_slice(&out[a..b]),
                crc,
                factor: shift_factor(crc.len),
            })
        })
        .collect()
}

/// The index of `format` in what is kept per format: 0 for the classic
/// text, 1 for OpenMetrics.
pub(crate) fn slot(format: Format) -> usize {
    usize::from(format == Format::OpenMetrics)
}

/// The family headers (`# HELP`, `# TYPE`) of `format`, deflated once
/// per process: header `id` is `RULE_FAMILIES`, then `AGE_FAMILIES`, then
/// `ENV_FAMILIES`, in order.
pub(crate) fn header(format: Format, id: usize) -> Option<&'static Deflated> {
    static HEADERS: [OnceLock<Vec<Option<Deflated>>>; 2] = [OnceLock::new(), OnceLock::new()];
    let slot = &HEADERS[slot(format)];
    slot.get_or_init(|| {
        let texts: Vec<Vec<u8>> = header_descs()
            .map(|d| {
                let mut t = Vec::new();
                d.write_header(format, &mut t);
                t
            })
            .collect();
        deflate_blocks(texts.iter().map(|t| Some(&t[..])))
    })
    .get(id)?
    .as_ref()
}

/// The descriptions of the families with headers, in header-id order.
pub(crate) fn header_descs() -> impl Iterator<Item = &'static Desc> {
    RULE_FAMILIES
        .iter()
        .map(|f| &f.desc)
        .chain(AGE_FAMILIES.iter().map(|f| &f.desc))
        .chain(ENV_FAMILIES.iter().map(|f| &f.desc))
}

/// Writes one gzip member from stored segments (sent as they are) and
/// deflate blocks written by the caller.
pub(crate) struct GzipWriter {
    chunks: Vec<Bytes>,
    crc: Crc32,
}

impl GzipWriter {
    /// A member with only its header so far.
    #[cfg(test)]
    pub(crate) fn new() -> Self {
        Self::with_capacity(0)
    }

    /// A member with only its header so far, with room for about `chunks`
    /// buffers (segments, frames, blocks) before its list grows.
    pub(crate) fn with_capacity(chunks: usize) -> Self {
        let mut list = Vec::with_capacity(chunks + 2);
        list.push(Bytes::from_static(&HEADER));
        Self {
            chunks: list,
            crc: Crc32::default(),
        }
    }

    /// Appends a stored segment.
    pub(crate) fn segment(&mut self, d: &Deflated) {
        self.crc.join(d.crc, d.factor);
        self.chunks.push(d.bytes.clone());
    }

    /// Appends stored segments joined beforehand into `frames`, whose
    /// text has the CRC `crc` (with its [`shift_factor`] `factor`).
    pub(crate) fn joined(&mut self, frames: &[Bytes], crc: Crc32, factor: u32) {
        self.crc.join(crc, factor);
        self.chunks.extend_from_slice(frames);
    }

    /// The CRC of the text so far: blocks written by the caller feed it
    /// their text, in order.
    pub(crate) fn crc(&mut self) -> &mut Crc32 {
        &mut self.crc
    }

    /// Appends the caller's blocks, ended with a sync flush (so a segment
    /// may follow).
    pub(crate) fn bits(&mut self, bits: Bits) {
        self.chunks.push(Bytes::from(bits.sync()));
    }

    /// The whole member: final block and trailer (CRC-32, length mod 2³²),
    /// as the buffers to send in order (small ones are joined as they are
    /// sent: see `http::Chunks`).
    pub(crate) fn finish(mut self) -> Vec<Bytes> {
        let mut trailer = Vec::with_capacity(10);
        trailer.extend_from_slice(&FINAL_BLOCK);
        trailer.extend_from_slice(&self.crc.sum.to_le_bytes());
        trailer.extend_from_slice(&(self.crc.len as u32).to_le_bytes());
        self.chunks.push(Bytes::from(trailer));
        self.chunks
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::collector::deflate::FixedLines;
    use crate::collector::tests::gunzip;

    fn text(w: &mut GzipWriter, t: &[u8]) {
        let mut bits = Bits::default();
        FixedLines::default().block(&mut bits, t);
        w.crc().update(t);
        w.bits(bits);
    }

    #[test]
    fn written_text_and_stored_segments_make_one_valid_member() {
        let a = b"pingone_x{a=\"1\"} 1\n".repeat(300);
        let b = b"pingone_y{b=\"2\"} 2\n".repeat(500);
        let stored = deflate_blocks([Some(&a[..]), None, Some(&b[..])].into_iter());
        assert!(stored[1].is_none());
        let (sa, sb) = (stored[0].as_ref().unwrap(), stored[2].as_ref().unwrap());

        let mut w = GzipWriter::new();
        text(&mut w, b"# HELP x\n");
        w.segment(sa);
        w.segment(sa);
        text(&mut w, b"between\nmore\n");
        w.segment(sb);
        w.segment(header(Format::OpenMetrics, 0).unwrap());
        text(&mut w, b"# EOF\n");
        let got = gunzip(&w.finish());

        let mut want = b"# HELP x\n".to_vec();
        want.extend_from_slice(&a);
        want.extend_from_slice(&a);
        want.extend_from_slice(b"between\nmore\n");
        want.extend_from_slice(&b);
        RULE_FAMILIES[0]
            .desc
            .write_header(Format::OpenMetrics, &mut want);
        want.extend_from_slice(b"# EOF\n");
        assert_eq!(got, want);
    }

    #[test]
    fn empty_and_segment_only_members_are_valid() {
        assert_eq!(gunzip(&GzipWriter::new().finish()), b"");
        let a = b"abc".repeat(2000);
        let stored = deflate_blocks([Some(&a[..])].into_iter());
        let mut w = GzipWriter::new();
        w.segment(stored[0].as_ref().unwrap());
        assert_eq!(gunzip(&w.finish()), a);
    }

    #[test]
    fn every_header_is_deflated_for_both_formats() {
        for format in [Format::Text, Format::OpenMetrics] {
            for (id, desc) in header_descs().enumerate() {
                let mut w = GzipWriter::new();
                w.segment(header(format, id).unwrap());
                let mut want = Vec::new();
                desc.write_header(format, &mut want);
                assert_eq!(gunzip(&w.finish()), want);
            }
            assert!(header(format, header_descs().count()).is_none());
        }
    }
}
