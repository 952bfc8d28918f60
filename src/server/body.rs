//! The response body of this server: ready buffers, or a `/metrics` answer
//! written as the connection takes it.

use std::convert::Infallible;
use std::pin::Pin;
use std::task::{Context, Poll};

use bytes::Bytes;
use hyper::body::{Body as HttpBody, Frame, SizeHint};

use crate::collector::Exposition;
use crate::http::Chunks;

/// A response body. Its exact length is always known.
#[derive(Debug)]
pub enum Body {
    /// Buffers ready to send.
    Chunks(Chunks),
    /// Plain-text metrics, written chunk by chunk as they are sent.
    Metrics(Box<Exposition>),
}

impl Default for Body {
    fn default() -> Self {
        Body::Chunks(Chunks::default())
    }
}

impl From<Chunks> for Body {
    fn from(c: Chunks) -> Self {
        Body::Chunks(c)
    }
}

impl HttpBody for Body {
    type Data = Bytes;
    type Error = Infallible;

    fn poll_frame(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, Infallible>>> {
        match self.get_mut() {
            Body::Chunks(c) => Pin::new(c).poll_frame(cx),
            Body::Metrics(e) => Poll::Ready(e.next().map(|b| Ok(Frame::data(b)))),
        }
    }

    fn is_end_stream(&self) -> bool {
        match self {
            Body::Chunks(c) => c.is_end_stream(),
            Body::Metrics(e) => e.remaining() == 0,
        }
    }

    fn size_hint(&self) -> SizeHint {
        match self {
            Body::Chunks(c) => HttpBody::size_hint(c),
            Body::Metrics(e) => SizeHint::with_exact(e.remaining()),
        }
    }
}
