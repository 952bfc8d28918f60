//! One poll of one environment: read the documented endpoints, map them to
//! a snapshot, and keep the last good data for any part that failed.

use std::collections::HashMap;
use std::future::Future;
use std::sync::Arc;

use tokio::task::JoinSet;

use crate::config::Environment;
use crate::mapping::{self, Answers, UnknownValue};
use crate::pingone::model::SyncedGroup;
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
    let ids: Vec<String> = answers
        .rules
        .iter()
        .filter(|r| r.active == Some(true))
        .filter(|r| env.rules.matches(r.name.as_deref().unwrap_or("")))
        .filter_map(|r| r.id.clone())
        .collect();
    let reads = read_groups(ids, |id| {
        let c = Arc::clone(client);
        async move { c.synced_groups(&id).await }
    })
    .await;
    skipped += reads.skipped_items;
    answers.groups = reads.groups;
    if let Some(e) = reads.first_error {
        first_error.get_or_insert(e);
    }
    let failed_groups = reads.failed;

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

/// What the `syncedGroups` reads of one poll produced.
#[derive(Debug, Default)]
struct GroupReads {
    /// The groups of each rule whose read succeeded.
    groups: HashMap<String, Vec<SyncedGroup>>,
    /// The rules whose read failed: they keep their last good counts.
    failed: Vec<String>,
    /// The first failure, in the order the reads ended.
    first_error: Option<ApiError>,
    /// List items that were not objects and were skipped.
    skipped_items: usize,
}

/// Reads the groups of every rule in `ids` at once, `read` giving one
/// rule's read; the shared request budget paces them. Each read runs as
/// its own task.
async fn read_groups<F, R>(ids: Vec<String>, read: F) -> GroupReads
where
    F: Fn(String) -> R,
    R: Future<Output = Result<(Vec<SyncedGroup>, usize), ApiError>> + Send + 'static,
{
    let mut tasks = JoinSet::new();
    let mut rule_of = HashMap::new();
    for id in ids {
        let task = tasks.spawn(read(id.clone()));
        rule_of.insert(task.id(), id);
    }
    let mut out = GroupReads::default();
    while let Some(joined) = tasks.join_next_with_id().await {
        let Ok((task, result)) = joined else { continue };
        let Some(id) = rule_of.remove(&task) else {
            continue;
        };
        match result {
            Ok((groups, n)) => {
                out.skipped_items += n;
                out.groups.insert(id, groups);
            }
            Err(e) => {
                out.failed.push(id);
                out.first_error.get_or_insert(e);
            }
        }
    }
    out
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

