//! One poll of one environment: read the documented endpoints, map them to
//! a snapshot, and keep the last good data for any part that failed.

use std::collections::HashMap;
use std::sync::Arc;

use tokio::task::JoinSet;

use crate::config::Environment;
use crate::mapping::{self, Answers, UnknownValue};
use crate::pingone::{ApiError, EnvClient};
use crate::snapshot::EnvSnapshot;

/// What a poll produced.
#[derive(Debug)]
pub struct Outcome {
    /// The new snapshot; `None` when the core reads (stores, rules) failed
    /// and the previous snapshot stays as it is.
    pub snapshot: Option<EnvSnapshot>,
    /// The first error, when any call failed after retries.
    pub error: Option<ApiError>,
    /// Unknown enum values seen.
    pub unknown: Vec<UnknownValue>,
    /// List items that were not objects and were skipped.
    pub skipped_items: usize,
}

/// Polls `env` once. `previous` is the last good snapshot: a rule whose
/// `syncedGroups` read failed keeps its previous group counts, and a failed
/// revision read keeps the previous revision time.
pub async fn poll_once(
    client: &Arc<EnvClient>,
    env: &Environment,
    previous: Option<&EnvSnapshot>,
) -> Outcome {
    let (stores, rules, revision) =
        tokio::join!(client.stores(), client.rules(), client.latest_revision());
    let (stores, rules) = match (stores, rules) {
        (Ok(s), Ok(r)) => (s, r),
        (Err(e), _) | (_, Err(e)) => {
            return Outcome {
                snapshot: None,
                error: Some(e),
                unknown: Vec::new(),
                skipped_items: 0,
            };
        }
    };
    let mut first_error = None;
    let mut skipped = stores.1 + rules.1;
    let revision = match revision {
        Ok(r) => Some(r),
        Err(e) => {
            first_error.get_or_insert(e);
            None
        }
    };
    let mut answers = Answers {
        stores: stores.0,
        rules: rules.0,
        groups: HashMap::new(),
        revision,
    };

    // Groups are read for enabled rules the filter keeps: the console shows
    // no sync summary for a disabled rule, and each read costs requests.
    let mut reads = JoinSet::new();
    for rule in &answers.rules {
        let (Some(id), Some(true)) = (rule.id.clone(), rule.active) else {
            continue;
        };
        if !env.rules.matches(rule.name.as_deref().unwrap_or("")) {
            continue;
        }
        let c = Arc::clone(client);
        reads.spawn(async move {
            let r = c.synced_groups(&id).await;
            (id, r)
        });
    }
    let mut failed_groups = Vec::new();
    while let Some(joined) = reads.join_next().await {
        let Ok((id, result)) = joined else { continue };
        match result {
            Ok((groups, n)) => {
                skipped += n;
                answers.groups.insert(id, groups);
            }
            Err(e) => {
                failed_groups.push(id);
                first_error.get_or_insert(e);
            }
        }
    }

    let mut unknown = Vec::new();
    let mut snap = mapping::summarize(&answers, &|name| env.rules.matches(name), &mut unknown);
    if let Some(prev) = previous {
        carry_over(&mut snap, prev, &failed_groups, answers.revision.is_none());
    }
    Outcome {
        snapshot: Some(snap),
        error: first_error,
        unknown,
        skipped_items: skipped,
    }
}

/// Copies the last good group counts of rules whose group read failed, and
/// the last good revision time when its read failed.
fn carry_over(
    snap: &mut EnvSnapshot,
    prev: &EnvSnapshot,
    failed_groups: &[String],
    revision_failed: bool,
) {
    if revision_failed {
        snap.revision_created = prev.revision_created;
    }
    for rule in snap
        .rules
        .iter_mut()
        .filter(|r| failed_groups.contains(&r.id))
    {
        if let Some(old) = prev.rules.iter().find(|p| p.id == rule.id) {
            rule.groups_impacted = old.groups_impacted;
            rule.groups = old.groups;
        }
    }
}
