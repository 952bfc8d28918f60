//! Why part of a poll failed: the error every read of a poll reports,
//! shared by the poll (`poll`) and its background group reads (`groups`).

use crate::pingone::{ApiError, Endpoint};

/// Why part of a poll failed. Its [`reason`](Self::reason) is the `reason`
/// label of `pingone_exporter_poll_failures_total`.
#[derive(Clone, Debug, thiserror::Error)]
pub enum PollError {
    /// An API call failed after retries.
    #[error(transparent)]
    Api(#[from] ApiError),
    /// A read's task ended without an answer: it panicked, a bug in the
    /// exporter. Counted with reason `internal`, like a poll that panics.
    #[error(
        "{endpoint}: internal error in the exporter (the read ended without an answer; see its log): {message}"
    )]
    Internal {
        /// Which read.
        endpoint: Endpoint,
        /// What the task runtime reported.
        message: String,
    },
}

impl PollError {
    /// A bounded label value for metrics: the API error's reason, or
    /// `internal`.
    pub fn reason(&self) -> &'static str {
        match self {
            PollError::Api(e) => e.reason(),
            PollError::Internal { .. } => "internal",
        }
    }

    /// The read that failed.
    pub fn endpoint(&self) -> Endpoint {
        match self {
            PollError::Api(e) => e.endpoint(),
            PollError::Internal { endpoint, .. } => *endpoint,
        }
    }
}
