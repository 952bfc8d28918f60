//! One poll of one environment: read the endpoints that are due (the
//! stores always; the rules, revision and groups on their own cadences,
//! [`super::cache`]), map the fresh stores and the last good rest to a
//! snapshot, and keep the last good data for any part that failed.

use std::collections::HashSet;
use std::sync::Arc;
use std::time::Instant;

use super::PollError;
use super::cache::EnvCache;
use super::groups::{GroupAnswer, GroupReads};
use crate::config::Environment;
use crate::mapping::{self, UnknownValue};
use crate::pingone::EnvClient;
use crate::secret::Secret;
use crate::snapshot::EnvSnapshot;
use crate::timefmt::now_unix;

/// What a poll produced.
#[derive(Debug)]
pub struct Outcome {
    /// The new snapshot; `None` when the stores read failed, or the rules
    /// were never read successfully, and the previous snapshot stays as it
    /// is.
    pub snapshot: Option<EnvSnapshot>,
    /// The first error, when any read failed (a call after retries, or a
    /// read task that ended without an answer).
    pub error: Option<PollError>,
    /// Unknown enum values seen.
    pub unknown: Vec<UnknownValue>,
    /// List items that were not objects and were skipped.
    pub skipped_items: usize,
}

/// Polls `env` once, reading everything, as the first poll after a start
/// does: `previous` is the last good snapshot, whose group counts a rule
/// keeps when its `syncedGroups` read fails, and whose revision time stays
/// when the revision read fails. The one-shot poll of `status` and tests.
pub async fn poll_once(
    client: &Arc<EnvClient>,
    env: &Environment,
    previous: Option<&EnvSnapshot>,
) -> Outcome {
    let mut cache = EnvCache::new();
    poll_cached(
        client,
        env,
        &mut cache,
        &HashSet::new(),
        previous,
        Instant::now(),
    )
    .await
    .outcome
}

/// What [`poll_cached`] produced.
#[derive(Debug)]
pub(crate) struct Polled {
    /// The poll's result.
    pub outcome: Outcome,
    /// The rules whose group reads are due and were not read by this poll:
    /// the poll loop starts them in the background.
    pub groups_due: Vec<String>,
}

/// One poll of `env` that started at `started`, with `cache` holding the
/// last good answers: reads the stores, then the rules and the latest
/// revision when due, and builds the snapshot from the fresh stores and the
/// cache. The first poll (an empty cache) also reads every rule's groups
/// before it returns, so readiness means full data; later polls leave the
/// due group reads (but not `pending` ones) to the caller.
pub(crate) async fn poll_cached(
    client: &Arc<EnvClient>,
    env: &Environment,
    cache: &mut EnvCache,
    pending: &HashSet<String>,
    previous: Option<&EnvSnapshot>,
    started: Instant,
) -> Polled {
    let failed = |e: PollError| Polled {
        outcome: Outcome {
            snapshot: None,
            error: Some(e),
            unknown: Vec::new(),
            skipped_items: 0,
        },
        groups_due: Vec::new(),
    };
    // The stores first and alone: the failure signal, and an environment
    // whose answers hang holds one request slot, not two.
    let mut skipped = match client.stores().await {
        Ok((stores, n)) => {
            cache.set_stores(stores, now_unix());
            n
        }
        Err(e) => return failed(e.into()),
    };
    let mut first_error: Option<PollError> = None;
    let first = cache.is_empty();
    if cache.rules_due(env, started) {
        let (rules, revision) = tokio::join!(client.rules(), client.latest_revision());
        match rules {
            Ok((rules, n)) => {
                skipped += n;
                cache.set_rules(rules, started, now_unix());
            }
            // Without rules ever read there is nothing to map the stores on.
            Err(e) if cache.is_empty() => return failed(e.into()),
            Err(e) => {
                first_error.get_or_insert(e.into());
            }
        }
        match revision {
            Ok(r) => cache.set_revision(r),
            Err(e) => {
                first_error.get_or_insert(e.into());
            }
        }
    }
    let mut groups_due = cache.groups_due(env, started, pending);
    if first {
        let mut reads = GroupReads::new();
        reads.start(client, std::mem::take(&mut groups_due));
        for (id, answer) in reads.all().await {
            skipped += record_groups(cache, id, answer, &mut first_error);
        }
    }
    let mut unknown = Vec::new();
    let snapshot = build(client, env, cache, previous, &mut unknown).await;
    Polled {
        outcome: Outcome {
            snapshot,
            error: first_error,
            unknown,
            skipped_items: skipped,
        },
        groups_due,
    }
}

/// Records one rule's group read in `cache`, its error in `first_error`
/// when it is the first; returns the list items it skipped.
pub(crate) fn record_groups(
    cache: &mut EnvCache,
    id: String,
    answer: GroupAnswer,
    first_error: &mut Option<PollError>,
) -> usize {
    match answer {
        Ok((groups, n)) => {
            cache.set_groups(id, Some(groups), now_unix());
            n
        }
        Err(e) => {
            cache.set_groups(id, None, now_unix());
            first_error.get_or_insert(e);
            0
        }
    }
}

/// The snapshot of the last good answers in `cache`; `None` until the
/// stores and the rules were read once. Rules without groups read keep
/// those of `previous`, and so does the revision time (a reload starts
/// with an empty cache). Unknown enum values are appended to `unknown`.
pub(crate) async fn build(
    client: &EnvClient,
    env: &Environment,
    cache: &EnvCache,
    previous: Option<&EnvSnapshot>,
    unknown: &mut Vec<UnknownValue>,
) -> Option<EnvSnapshot> {
    let answers = cache.answers()?;
    // What PingOne's free text must never quote back: our credential.
    let held = client.secrets().await;
    let secrets: Vec<&str> = held.iter().map(Secret::expose).collect();
    let mut snap =
        mapping::summarize_with(&answers, &|name| env.rules.matches(name), &secrets, unknown);
    if let Some(prev) = previous {
        carry_over(
            &mut snap,
            prev,
            &cache.without_groups(env),
            answers.revision.is_none(),
        );
    }
    Some(snap)
}

/// Copies the last good group counts of rules without groups read, and
/// the last good revision time when there is no revision read.
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
    use crate::mapping::Answers;
    use crate::pingone::model::{Rule, SyncedGroup};
    use std::collections::HashMap;

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

    #[test]
    fn a_rule_without_groups_read_keeps_the_last_groups() {
        let previous = snapshot(HashMap::from([
            ("a".to_string(), groups(&["SUCCESS", "FAILED"])),
            ("b".to_string(), groups(&["SUCCESS", "FAILED"])),
        ]));
        assert_eq!(previous.rules[0].groups_impacted, Some(2));
        // `a`'s read failed; `b`'s succeeded.
        let mut snap = snapshot(HashMap::from([("b".to_string(), groups(&["SUCCESS"]))]));
        carry_over(&mut snap, &previous, &["a".to_string()], false);
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
