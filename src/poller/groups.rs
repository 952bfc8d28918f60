//! The `syncedGroups` reads of one environment under way: each as its own
//! task, so a read that panics fails that rule's read alone (counted like
//! any failed read, reason `internal`), and so that the poll loop can go on
//! reading the stores while a long round of group reads waits for the
//! request budget, at the lowest priority.

use std::collections::{HashMap, HashSet};
use std::future::Future;
use std::sync::Arc;

use tokio::task::{Id, JoinSet};

use super::PollError;
use crate::pingone::model::SyncedGroup;
use crate::pingone::{ApiError, Endpoint, EnvClient};

/// One rule's read that ended: its groups and how many list items were
/// skipped, or why it failed.
pub type GroupAnswer = Result<(Vec<SyncedGroup>, usize), PollError>;

/// Group reads under way.
#[derive(Debug, Default)]
pub struct GroupReads {
    tasks: JoinSet<Result<(Vec<SyncedGroup>, usize), ApiError>>,
    rule_of: HashMap<Id, String>,
}

impl GroupReads {
    /// No reads under way.
    pub fn new() -> Self {
        Self::default()
    }

    /// The rules whose read is under way.
    pub fn pending(&self) -> HashSet<String> {
        self.rule_of.values().cloned().collect()
    }

    /// True when no read is under way.
    pub fn is_empty(&self) -> bool {
        self.tasks.is_empty()
    }

    /// Starts the read of each rule in `ids` through `client`; the request
    /// budget paces them.
    pub fn start(&mut self, client: &Arc<EnvClient>, ids: Vec<String>) {
        self.start_with(ids, |id| {
            let c = Arc::clone(client);
            async move { c.synced_groups(&id).await }
        });
    }

    /// Starts `read(id)` for each rule in `ids`.
    pub fn start_with<F, R>(&mut self, ids: Vec<String>, read: F)
    where
        F: Fn(String) -> R,
        R: Future<Output = Result<(Vec<SyncedGroup>, usize), ApiError>> + Send + 'static,
    {
        for id in ids {
            let task = self.tasks.spawn(read(id.clone()));
            self.rule_of.insert(task.id(), id);
        }
    }

    /// The next read that ends, in the order they end; `None` when none is
    /// under way. Cancel-safe.
    pub async fn next(&mut self) -> Option<(String, GroupAnswer)> {
        loop {
            let joined = self.tasks.join_next_with_id().await?;
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
            if let Some(id) = self.rule_of.remove(&task) {
                return Some((id, result));
            }
        }
    }

    /// Waits for every read under way.
    pub async fn all(&mut self) -> Vec<(String, GroupAnswer)> {
        let mut out = Vec::new();
        while let Some(done) = self.next().await {
            out.push(done);
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn a_read_that_panics_is_that_rules_failed_read() {
        let mut reads = GroupReads::new();
        reads.start_with(vec!["a".into(), "b".into()], |id| async move {
            if id == "a" {
                std::panic::panic_any::<&str>("boom");
            }
            Ok((vec![SyncedGroup::default()], 1))
        });
        assert_eq!(reads.pending().len(), 2);
        let mut done = reads.all().await;
        done.sort_by(|x, y| x.0.cmp(&y.0));
        assert!(reads.is_empty() && reads.pending().is_empty());
        assert_eq!(done[0].0, "a");
        assert_eq!(
            done[0].1.as_ref().err().map(PollError::reason),
            Some("internal"),
            "counted like a poll that panics"
        );
        assert_eq!(
            done[1].1.as_ref().ok().map(|(g, n)| (g.len(), *n)),
            Some((1, 1))
        );
    }
}
