//! With user-detail mode on for an environment, the dump also keeps the
//! `syncedRules` records of failing users, which a 5-user sample rarely
//! holds: one walk of every user's record of every walked rule (the
//! user-detail walk, N users × R rules requests), then each kept `FAILED`
//! record (at most [`FAILED_KEPT`] per rule) fetched again as sent and
//! written like the sampled ones, under its user's pseudonym.

use std::sync::Arc;

use super::scrub::Scrubber;
use super::{Fetched, dir_name, fetch};
use crate::config::Environment;
use crate::pingone::{Endpoint, EnvClient, encode_segment};
use crate::user_detail::{FAILED_KEPT, WalkError, walk};

/// Walks `env` and appends the raw records of its failing users (those not
/// already in `sample`) to `fetched`; a failed walk is one failed entry.
pub(super) async fn fetch_failing(
    env: &Environment,
    client: &Arc<EnvClient>,
    concurrency: usize,
    sample: &[String],
    scrubber: &mut Scrubber,
    fetched: &mut Vec<Fetched>,
) {
    let walked = match walk(client, &env.rules, concurrency).await {
        Ok(w) => w.counts,
        Err(WalkError::Api(e)) => {
            fetched.push(Fetched {
                name: "user-detail-walk".into(),
                endpoint: Endpoint::UserSyncedRule,
                request: "user-detail walk: GET /environments/{id}/users/{userId}/syncedRules/{ruleId} for every user and rule".into(),
                result: Err(e),
            });
            return;
        }
        Err(e) => {
            tracing::warn!(environment = %env.name, error = %e, "dump: the user-detail walk failed; no failing users' records");
            return;
        }
    };
    let mut rules: Vec<_> = walked.rules.into_iter().collect();
    rules.sort_by(|a, b| a.0.cmp(&b.0));
    for (rule, users) in rules {
        for rec in users.failed_records.iter().take(FAILED_KEPT) {
            if sample.contains(&rec.user_id) {
                continue;
            }
            let pseudonym = scrubber.person(&rec.user_id);
            let path = format!(
                "users/{}/syncedRules/{}",
                encode_segment(&rec.user_id),
                encode_segment(&rule)
            );
            let name = format!("synced-rules-{pseudonym}-{}", dir_name(&rule));
            fetched.push(fetch(client, name, Endpoint::UserSyncedRule, &path, None).await);
        }
    }
}
