//! Fault injection: the layer between routing and the model.
//!
//! Every API call (token and `/v1`) passes through [`Faults::before`] once
//! it has been routed and before the model answers, and the answer passes
//! through [`Faults::after`]. Both do nothing yet. This is where 429 with
//! `Retry-After`, 5xx bursts, slow answers, malformed JSON and the like
//! belong, configured from the scenario and a `/_sim/faults` control
//! endpoint (see `docs/simulator.md`).

use super::api::Endpoint;
use super::router::Call;
use crate::http::Response;

/// The fault-injection layer (currently inert).
#[derive(Default)]
pub(crate) struct Faults;

impl Faults {
    /// May answer instead of the model (or delay it).
    pub async fn before(&self, _endpoint: &Endpoint, _call: &Call) -> Option<Response> {
        None
    }

    /// May alter the model's answer.
    pub fn after(&self, _endpoint: &Endpoint, response: Response) -> Response {
        response
    }
}
