//! Response bodies the simulator sends: whole, or shaped by a fault —
//! streamed lazily (an answer far larger than memory should hold), cut off
//! mid-body (the connection is aborted), or stalled half-way.

use std::future::Future as _;
use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::Duration;

use bytes::Bytes;
use hyper::body::{Frame, SizeHint};

/// Size of each generated chunk of a streamed body.
const CHUNK: usize = 64 * 1024;

/// Pause between the part of an aborted body that is sent and the reset,
/// so the client really receives the first part.
const FLUSH_PAUSE: Duration = Duration::from_millis(50);

/// Why a body stopped early; hyper aborts the connection on it.
#[derive(Debug, thiserror::Error)]
#[error("simulated connection reset mid-body")]
pub(crate) struct Reset;

/// A simulator response body.
pub(crate) enum SimBody {
    /// One buffer (taken when sent).
    Whole(Option<Bytes>),
    /// `head`, then `fill` bytes of `b'a'`, then `tail`, generated as they
    /// are sent. `exact` announces the length (`Content-Length`), else the
    /// answer is chunked.
    Stream {
        /// Sent first.
        head: Option<Bytes>,
        /// Filler bytes still to send.
        fill: u64,
        /// Sent last.
        tail: Option<Bytes>,
        /// Whether the size is announced.
        exact: bool,
        /// Total size, for the size hint.
        total: u64,
    },
    /// Sends `head`, then fails: the client sees the connection drop while
    /// the announced `total` bytes are not all there.
    Abort {
        /// Sent before the reset.
        head: Option<Bytes>,
        /// A short pause after `head` so that it is flushed before the reset.
        sleep: Option<Pin<Box<tokio::time::Sleep>>>,
        /// Announced size.
        total: u64,
    },
    /// Sends `head`, waits `delay`, then sends `tail`.
    Stall {
        /// Sent at once.
        head: Option<Bytes>,
        /// The pause, started when `head` has been sent.
        sleep: Option<Pin<Box<tokio::time::Sleep>>>,
        /// How long the pause is.
        delay: Duration,
        /// Sent after the pause.
        tail: Option<Bytes>,
        /// Announced size.
        total: u64,
    },
}

impl SimBody {
    /// A whole body.
    pub fn whole(b: Bytes) -> Self {
        SimBody::Whole(Some(b))
    }
}

fn data(b: Bytes) -> Poll<Option<Result<Frame<Bytes>, Reset>>> {
    Poll::Ready(Some(Ok(Frame::data(b))))
}

impl hyper::body::Body for SimBody {
    type Data = Bytes;
    type Error = Reset;

    fn poll_frame(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, Reset>>> {
        match self.get_mut() {
            SimBody::Whole(b) => match b.take() {
                Some(b) => data(b),
                None => Poll::Ready(None),
            },
            SimBody::Stream {
                head, fill, tail, ..
            } => {
                if let Some(h) = head.take() {
                    return data(h);
                }
                if *fill > 0 {
                    let n = (*fill).min(CHUNK as u64);
                    *fill -= n;
                    return data(Bytes::from(vec![b'a'; n as usize]));
                }
                match tail.take() {
                    Some(t) => data(t),
                    None => Poll::Ready(None),
                }
            }
            SimBody::Abort { head, sleep, .. } => {
                if let Some(h) = head.take() {
                    *sleep = Some(Box::pin(tokio::time::sleep(FLUSH_PAUSE)));
                    return data(h);
                }
                if let Some(s) = sleep
                    && s.as_mut().poll(cx).is_pending()
                {
                    return Poll::Pending;
                }
                Poll::Ready(Some(Err(Reset)))
            }
            SimBody::Stall {
                head,
                sleep,
                delay,
                tail,
                ..
            } => {
                if let Some(h) = head.take() {
                    *sleep = Some(Box::pin(tokio::time::sleep(*delay)));
                    return data(h);
                }
                if let Some(s) = sleep {
                    if s.as_mut().poll(cx).is_pending() {
                        return Poll::Pending;
                    }
                    *sleep = None;
                }
                match tail.take() {
                    Some(t) => data(t),
                    None => Poll::Ready(None),
                }
            }
        }
    }

    fn size_hint(&self) -> SizeHint {
        match self {
            SimBody::Whole(b) => SizeHint::with_exact(b.as_ref().map_or(0, |b| b.len() as u64)),
            SimBody::Stream { exact, total, .. } if *exact => SizeHint::with_exact(*total),
            SimBody::Stream { .. } => SizeHint::default(),
            SimBody::Abort { total, .. } | SimBody::Stall { total, .. } => {
                SizeHint::with_exact(*total)
            }
        }
    }
}
