//! Errors from talking to PingOne. Each maps to a bounded `reason` label.
//! Messages never carry a secret or token: only endpoint names, statuses and
//! PingOne's own error code and message, scrubbed of the secrets the call
//! used and of anything shaped like a credential ([`ApiError::scrubbed`]).

use super::Endpoint;

/// A failed API call, after retries.
#[derive(Clone, Debug, thiserror::Error)]
pub enum ApiError {
    /// No complete answer within the request timeout.
    #[error("{endpoint}: no answer within {seconds}s")]
    Timeout {
        /// Which call.
        endpoint: Endpoint,
        /// The request timeout in seconds.
        seconds: f64,
    },
    /// Connecting, sending or reading failed.
    #[error("{endpoint}: connection failed: {message}")]
    Transport {
        /// Which call.
        endpoint: Endpoint,
        /// What the HTTP client reported.
        message: String,
    },
    /// PingOne answered with an error status.
    #[error("{endpoint}: HTTP {status}{}{}", .code.as_ref().map(|c| format!(" {c}")).unwrap_or_default(), .message.as_ref().map(|m| format!(": {m}")).unwrap_or_default())]
    Status {
        /// Which call.
        endpoint: Endpoint,
        /// HTTP status code.
        status: u16,
        /// PingOne's top-level error `code`, or the OAuth `error`.
        code: Option<String>,
        /// PingOne's error `message` or OAuth `error_description`, shortened.
        message: Option<String>,
    },
    /// The answer was larger than the configured cap.
    #[error("{endpoint}: answer larger than {limit} bytes")]
    TooLarge {
        /// Which call.
        endpoint: Endpoint,
        /// The cap in bytes.
        limit: usize,
    },
    /// The answer was not the JSON expected.
    #[error("{endpoint}: malformed answer: {message}")]
    Malformed {
        /// Which call.
        endpoint: Endpoint,
        /// The parser's complaint.
        message: String,
    },
    /// `_links.next.href` pointed at a page already read.
    #[error("{endpoint}: paging loop: next link repeats a page already read")]
    PagingLoop {
        /// Which call.
        endpoint: Endpoint,
    },
    /// More pages than the page cap.
    #[error("{endpoint}: more than {pages} pages; stopped")]
    PageCap {
        /// Which call.
        endpoint: Endpoint,
        /// The cap.
        pages: usize,
    },
    /// A next link that could not be followed safely.
    #[error("{endpoint}: unusable next link: {message}")]
    BadLink {
        /// Which call.
        endpoint: Endpoint,
        /// Why.
        message: String,
    },
}

impl ApiError {
    /// A bounded label value for metrics.
    pub fn reason(&self) -> &'static str {
        match self {
            ApiError::Timeout { .. } => "timeout",
            ApiError::Transport { .. } => "connection",
            ApiError::Status { status, .. } => match status {
                401 => "unauthorized",
                403 => "forbidden",
                404 => "not_found",
                429 => "rate_limited",
                400..=499 => "client_error",
                _ => "server_error",
            },
            ApiError::TooLarge { .. } => "too_large",
            ApiError::Malformed { .. } => "malformed",
            ApiError::PagingLoop { .. } => "paging_loop",
            ApiError::PageCap { .. } => "page_cap",
            ApiError::BadLink { .. } => "bad_link",
        }
    }

    /// The same error with every free text scrubbed of `secrets` and of
    /// anything shaped like a credential ([`crate::redact::scrub`]). Texts
    /// from outside (PingOne's message, a parser's complaint quoting the
    /// answer, the HTTP client's error) pass here before they are stored.
    pub fn scrubbed(self, secrets: &[&str]) -> Self {
        let clean = |t: String| crate::redact::scrub(&t, secrets);
        match self {
            ApiError::Transport { endpoint, message } => ApiError::Transport {
                endpoint,
                message: clean(message),
            },
            ApiError::Status {
                endpoint,
                status,
                code,
                message,
            } => ApiError::Status {
                endpoint,
                status,
                code: code.map(clean),
                message: message.map(clean),
            },
            ApiError::Malformed { endpoint, message } => ApiError::Malformed {
                endpoint,
                message: clean(message),
            },
            ApiError::BadLink { endpoint, message } => ApiError::BadLink {
                endpoint,
                message: clean(message),
            },
            other => other,
        }
    }

    /// The call that failed.
    pub fn endpoint(&self) -> Endpoint {
        match self {
            ApiError::Timeout { endpoint, .. }
            | ApiError::Transport { endpoint, .. }
            | ApiError::Status { endpoint, .. }
            | ApiError::TooLarge { endpoint, .. }
            | ApiError::Malformed { endpoint, .. }
            | ApiError::PagingLoop { endpoint }
            | ApiError::PageCap { endpoint, .. }
            | ApiError::BadLink { endpoint, .. } => *endpoint,
        }
    }
}
