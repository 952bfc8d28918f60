//! The user-detail walk's schedule: one task per environment with
//! `user_detail` enabled, beside (never inside) its poll task.
//!
//! The walk starts with the daemon and then every `user_detail.interval`
//! from the start of the previous walk (±10% jitter); a walk that takes
//! longer is followed by the next at once, never overlapped. Its requests go
//! through the environment's detail client: a lane of its own, capped by
//! `user_detail.max_requests_per_second` and spending from the
//! environment's budget, so the walk never takes more than its cap of the
//! budget nor the poll's concurrency slots. A failed walk keeps the
//! previous result and is logged.

use std::sync::Arc;

use crate::config::{Environment, UserDetailSettings};
use crate::pingone::EnvClient;
use crate::selfmetrics::SelfMetrics;
use crate::shutdown::Shutdown;
use crate::user_detail::{Latest, walk};

use super::{Schedule, report_unknown};

/// Runs one environment's walk loop until `stop` fires. `client` must be
/// the capped detail client; `concurrency` bounds the record requests in
/// flight.
pub async fn run(
    env: Environment,
    settings: UserDetailSettings,
    client: Arc<EnvClient>,
    latest: Arc<Latest>,
    metrics: Arc<SelfMetrics>,
    concurrency: usize,
    stop: Shutdown,
) {
    let mut schedule = Schedule::new(settings.interval);
    while let Some(started) = schedule.tick(&stop).await {
        let result = tokio::select! {
            r = walk(&client, &env.rules, concurrency) => r,
            () = stop.wait() => return,
        };
        let seconds = started.elapsed().as_secs_f64();
        match result {
            Ok(walked) => {
                report_unknown(&metrics, &env.name, walked.unknown.iter());
                tracing::info!(
                    environment = %env.name,
                    duration_s = seconds,
                    users = walked.counts.users,
                    rules = walked.counts.rules.len(),
                    "user-detail walk finished"
                );
                latest.set(walked.counts);
            }
            Err(e) => tracing::warn!(
                environment = %env.name,
                duration_s = seconds,
                error = %e,
                "user-detail walk failed; the previous counts stay"
            ),
        }
    }
}
