//! [`Chunks`]: a response body of ready buffers, small ones joined into
//! larger frames as the connection takes them.

use std::collections::VecDeque;
use std::convert::Infallible;

use bytes::Bytes;

/// Buffers shorter than this are copied together into frames of about
/// [`FRAME`] bytes: a write per buffer (a few KiB each, thousands in a gzip
/// scrape at 10,000 rules) costs more CPU in the connection than the copy.
pub const SMALL: usize = 16 * 1024;
/// The size a frame of joined small buffers grows to.
pub const FRAME: usize = 64 * 1024;

/// A body made of ready buffers, sent in order: large ones as they are
/// (shared, not copied: a scrape sends pre-rendered blocks shared with
/// other scrapes), runs of small ones copied into one frame each. Frames
/// are joined only when the connection asks for the next one, so a slow or
/// concurrent reader holds one frame, not a copy of the whole body.
#[derive(Debug, Default)]
pub struct Chunks {
    chunks: VecDeque<Bytes>,
    remaining: u64,
}

impl Chunks {
    /// A body from buffers.
    pub fn new(chunks: Vec<Bytes>) -> Self {
        let remaining = chunks.iter().map(|c| c.len() as u64).sum();
        Self {
            chunks: chunks.into_iter().filter(|c| !c.is_empty()).collect(),
            remaining,
        }
    }

    /// Bytes not yet taken.
    pub fn remaining(&self) -> u64 {
        self.remaining
    }
}

impl Iterator for Chunks {
    type Item = Bytes;

    /// The next frame: a large buffer, or the run of small buffers that
    /// starts here, joined up to [`FRAME`] bytes (at most one small buffer
    /// beyond it).
    fn next(&mut self) -> Option<Bytes> {
        let first = self.chunks.pop_front()?;
        let frame = match self.chunks.front() {
            Some(next) if first.len() < SMALL && next.len() < SMALL => {
                let mut buf = Vec::with_capacity(FRAME + SMALL);
                buf.extend_from_slice(&first);
                while buf.len() < FRAME {
                    match self.chunks.front() {
                        Some(c) if c.len() < SMALL => buf.extend_from_slice(c),
                        _ => break,
                    }
                    self.chunks.pop_front();
                }
                Bytes::from(buf)
            }
            _ => first,
        };
        self.remaining -= frame.len() as u64;
        Some(frame)
    }
}

impl hyper::body::Body for Chunks {
    type Data = Bytes;
    type Error = Infallible;

    fn poll_frame(
        mut self: std::pin::Pin<&mut Self>,
        _cx: &mut std::task::Context<'_>,
    ) -> std::task::Poll<Option<Result<hyper::body::Frame<Bytes>, Infallible>>> {
        let next = self.next();
        std::task::Poll::Ready(next.map(|c| Ok(hyper::body::Frame::data(c))))
    }

    fn is_end_stream(&self) -> bool {
        self.chunks.is_empty()
    }

    fn size_hint(&self) -> hyper::body::SizeHint {
        hyper::body::SizeHint::with_exact(self.remaining)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn small_buffers_are_joined_and_large_ones_shared() {
        let large = Bytes::from(vec![7u8; SMALL]);
        let small = |n: usize, b: u8| Bytes::from(vec![b; n]);
        let mut input = vec![small(10, 1), small(20, 2), large.clone(), small(5, 3)];
        // A long run of small buffers: split into frames near FRAME.
        input.extend((0..40).map(|i| small(SMALL / 2, i as u8)));
        input.push(Bytes::new());
        let want: Vec<u8> = input.iter().flat_map(|c| c.to_vec()).collect();
        let mut body = Chunks::new(input);
        assert_eq!(body.remaining(), want.len() as u64);
        let frames: Vec<Bytes> = body.by_ref().collect();
        assert_eq!(body.remaining(), 0);
        assert_eq!(frames.concat(), want);
        assert_eq!(frames[0].len(), 30);
        // The large buffer goes out as it is, not copied.
        assert_eq!(frames[1].as_ptr(), large.as_ptr());
        assert!(frames[2..].iter().all(|f| f.len() <= FRAME + SMALL));
        assert!(frames.len() < 10, "{} frames", frames.len());
    }
}
