//! One poll of one environment: read the documented endpoints, map them to
//! a snapshot, and keep the last good data for any part that failed.

use std::collections::HashMap;
use std::future::Future;
use std::sync::Arc;

use tokio::task::JoinSet;

use crate::config::Environment;
use crate::mapping::{self, Answers, UnknownValue};
use crate::pingone::model::SyncedGroup;
use crate::pingone::{ApiError, Endpoint, EnvClient};
use crate::secret::Secret;
use crate::snapshot::EnvSnapshot;

/// What a poll produced.
#[derive(Debug)]
pub struct Outcome {
    /// The new snapshot; `None` when the core reads (stores, rules) failed
    /// and the previous snapshot stays as it is.
    pub snapshot: Option<EnvSnapshot>,
    /// The first error, when any read failed (a call after retries, or a
    /// read task that ended without an answer).
    pub error: Option<PollError>,
    /// Unknown enum values seen.
    pub unknown: Vec<UnknownValue>,
    /// List items that were not objects and were skipped.
    pub skipped_items: usize,
}

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
                error: Some(e.into()),
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
            first_error.get_or_insert(e.into());
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
    // What PingOne's free text must never quote back: our credential.
    let held = client.secrets().await;
    let secrets: Vec<&str> = held.iter().map(Secret::expose).collect();
    let mut snap = mapping::summarize_with(
        &answers,
        &|name| env.rules.matches(name),
        &secrets,
        &mut unknown,
    );
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
    first_error: Option<PollError>,
    /// List items that were not objects and were skipped.
    skipped_items: usize,
}

/// Reads the groups of every rule in `ids` at once, `read` giving one
/// rule's read; the environment's request budget paces them. Each read runs as
/// its own task, so a read that panics fails that rule's read alone: it is
/// counted like any failed read (reason `internal`, logged with the poll's
/// error) and the rule keeps its last good groups.
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
        let (task, result) = match joined {
            Ok((task, result)) => (task, result.map_err(PollError::from)),
            Err(e) => (
                e.id(),
                Err(PollError::Internal {
                    endpoint: Endpoint::SyncedGroups,
                    message: e.to_string(),
                }),
            ),
        };
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::pingone::model::Rule;

    fn groups(statuses: &[&str]) -> Vec<SyncedGroup> {
        statuses
            .iter()
            .map(|s| SyncedGroup {
                status: Some(s.to_string()),
                ..SyncedGroup::default()
            })
            .collect()
    }

    /// A snapshot of two enabled rules, `a` and `b`, with the groups read.
    fn snapshot(read: HashMap<String, Vec<SyncedGroup>>) -> EnvSnapshot {
        let rule = |id: &str| Rule {
            id: Some(id.to_string()),
            active: Some(true),
            ..Rule::default()
        };
        let answers = Answers {
            rules: vec![rule("a"), rule("b")],
            groups: read,
            ..Answers::default()
        };
        mapping::summarize(&answers, &|_| true, &mut Vec::new())
    }

    #[tokio::test]
    async fn a_group_read_that_panics_is_a_failed_read_and_keeps_the_last_groups() {
        let ids = vec!["a".to_string(), "b".to_string()];
        let good = read_groups(ids.clone(), |_| async {
            Ok((groups(&["SUCCESS", "FAILED"]), 0))
        })
        .await;
        let previous = snapshot(good.groups);
        assert_eq!(previous.rules[0].groups_impacted, Some(2));

        // The read of rule `a` panics (a bug in the exporter); `b`'s succeeds.
        let reads = read_groups(ids, |id| async move {
            if id == "a" {
                std::panic::panic_any::<&str>("boom");
            }
            Ok((groups(&["SUCCESS"]), 0))
        })
        .await;
        assert_eq!(
            reads.failed,
            vec!["a".to_string()],
            "the panic is a failed read"
        );
        assert_eq!(
            reads.first_error.as_ref().map(|e| e.reason()),
            Some("internal"),
            "counted like a poll that panics"
        );
        let mut snap = snapshot(reads.groups);
        carry_over(&mut snap, &previous, &reads.failed, false);
        let (a, b) = (&snap.rules[0], &snap.rules[1]);
        assert_eq!(
            (a.groups_impacted, a.groups),
            (Some(2), previous.rules[0].groups)
        );
        assert_eq!(
            b.groups_impacted,
            Some(1),
            "the other rule has its new groups"
        );
    }
}
