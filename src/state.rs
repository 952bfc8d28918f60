//! The state shared by the pollers (writers) and the HTTP server (readers):
//! one slot per configured environment holding its latest snapshot, the
//! snapshot pre-rendered for scrapes, and the outcome of its last poll.
//!
//! Readers take the whole list with one atomic load and never block a
//! writer; a writer replaces its environment's slot as a whole, so a scrape
//! sees each environment either before or after a poll, never in between.
//!
//! Readers: the server (the rendered blocks for `/metrics`, readiness for
//! `/-/ready`) and the alert sender (snapshots and poll outcomes). Only
//! the rendered form comes from above ([`Rendered`]); the collector itself
//! never reads this state.

use std::sync::Arc;

use arc_swap::ArcSwap;
use tokio::sync::watch;

use crate::collector::Rendered;
use crate::selfmetrics::SelfMetrics;
use crate::snapshot::{EnvKey, EnvSnapshot};

/// How the last poll of an environment went.
#[derive(Clone, Debug, PartialEq)]
pub struct PollReport {
    /// When it finished, Unix seconds.
    pub finished_at: f64,
    /// How long it took, seconds.
    pub duration: f64,
    /// `None` when every call succeeded, else the first error.
    pub error: Option<String>,
}

/// When each kind of data in an environment's snapshot was last read
/// successfully, Unix seconds; `None` until the first success. The kinds
/// are read on their own cadences (`poll_interval`, `rules_interval`,
/// `groups_interval`), so their ages differ.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct ReadTimes {
    /// The stores (every poll).
    pub stores: Option<f64>,
    /// The rules list (with the latest revision).
    pub rules: Option<f64>,
    /// The oldest successful `syncedGroups` read among the rules currently
    /// exported with groups (enabled, kept by the filter), so its age is
    /// the worst; `None` while any such rule's groups were never read, or
    /// when there is no such rule.
    pub groups: Option<f64>,
}

/// One environment's slot.
#[derive(Clone, Debug)]
pub struct EnvState {
    /// Labels.
    pub key: EnvKey,
    /// Last good data; `None` until a poll produced some.
    pub snapshot: Option<Arc<EnvSnapshot>>,
    /// `snapshot` rendered for scrapes.
    pub rendered: Option<Arc<Rendered>>,
    /// The last poll, `None` until the first one finished.
    pub last_poll: Option<PollReport>,
    /// When each kind of data was last read successfully.
    pub reads: ReadTimes,
}

impl EnvState {
    fn empty(key: EnvKey) -> Self {
        Self {
            key,
            snapshot: None,
            rendered: None,
            last_poll: None,
            reads: ReadTimes::default(),
        }
    }
}

/// Shared state. Clone the `Arc`.
#[derive(Debug)]
pub struct Shared {
    envs: ArcSwap<Vec<Arc<EnvState>>>,
    /// Bumped after every [`Shared::update`], so the alert sender can
    /// evaluate right after each poll.
    published: watch::Sender<u64>,
    /// The exporter's own metrics.
    pub metrics: Arc<SelfMetrics>,
}

impl Shared {
    /// State with no environments.
    pub fn new(metrics: Arc<SelfMetrics>) -> Arc<Self> {
        Arc::new(Self {
            envs: ArcSwap::from_pointee(Vec::new()),
            published: watch::Sender::new(0),
            metrics,
        })
    }

    /// The current environments, in config order.
    pub fn envs(&self) -> Arc<Vec<Arc<EnvState>>> {
        self.envs.load_full()
    }

    /// Sets the configured environments (start-up and reload). Environments
    /// that stay keep their data; new ones start empty; removed ones and
    /// their self-metric series go.
    pub fn set_envs(&self, keys: &[EnvKey]) {
        let old = self.envs.load_full();
        for gone in old.iter().filter(|e| !keys.contains(&e.key)) {
            self.metrics.remove_env(&gone.key);
        }
        let new: Vec<Arc<EnvState>> = keys
            .iter()
            .map(|k| {
                self.metrics.add_env(k);
                old.iter()
                    .find(|e| &e.key == k)
                    .cloned()
                    .unwrap_or_else(|| Arc::new(EnvState::empty(k.clone())))
            })
            .collect();
        self.envs.store(Arc::new(new));
    }

    /// Replaces one environment's slot with `f(current)`. Does nothing if the
    /// environment is no longer configured.
    pub fn update(&self, key: &EnvKey, f: impl Fn(&EnvState) -> EnvState) {
        self.envs.rcu(|envs| {
            let mut next = Vec::with_capacity(envs.len());
            for e in envs.iter() {
                if &e.key == key {
                    next.push(Arc::new(f(e)));
                } else {
                    next.push(Arc::clone(e));
                }
            }
            next
        });
        self.published.send_modify(|n| *n = n.wrapping_add(1));
    }

    /// A receiver that sees a change after every [`Shared::update`].
    pub fn subscribe(&self) -> watch::Receiver<u64> {
        self.published.subscribe()
    }

    /// The rendered snapshots of those of `envs` (a list from
    /// [`Shared::envs`], in config order) that have data, in order: what a
    /// scrape serves.
    pub fn rendered_of(envs: &[Arc<EnvState>]) -> Vec<Arc<Rendered>> {
        // Sized once: collected through a filter, the list grew by doubling
        // at every scrape.
        let mut out = Vec::with_capacity(envs.len());
        out.extend(envs.iter().filter_map(|e| e.rendered.clone()));
        out
    }

    /// How many environments still wait for their first poll (successful
    /// or not), of how many configured.
    pub fn readiness(&self) -> Readiness {
        let envs = self.envs.load();
        Readiness {
            waiting: envs.iter().filter(|e| e.last_poll.is_none()).count(),
            configured: envs.len(),
        }
    }
}

/// Whether every configured environment finished its first poll.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Readiness {
    /// Environments that have not finished a poll yet.
    pub waiting: usize,
    /// Environments configured.
    pub configured: usize,
}

impl Readiness {
    /// True once no environment waits for its first poll.
    pub fn is_ready(self) -> bool {
        self.waiting == 0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reload_keeps_data_of_unchanged_environments() {
        let s = Shared::new(SelfMetrics::new("0", "x"));
        let a = EnvKey::new("a", "A");
        let b = EnvKey::new("b", "B");
        s.set_envs(&[a.clone(), b.clone()]);
        assert!(!s.readiness().is_ready());
        s.update(&a, |e| EnvState {
            snapshot: Some(Arc::new(EnvSnapshot::default())),
            last_poll: Some(PollReport {
                finished_at: 1.0,
                duration: 0.1,
                error: None,
            }),
            ..e.clone()
        });
        let c = EnvKey::new("c", "C");
        s.set_envs(&[a.clone(), c.clone()]);
        let envs = s.envs();
        assert_eq!(envs.len(), 2);
        assert!(envs[0].snapshot.is_some(), "a keeps its data");
        assert!(envs[1].snapshot.is_none(), "c starts empty");
        assert_eq!(
            s.readiness(),
            Readiness {
                waiting: 1,
                configured: 2
            },
            "c has not polled yet"
        );
    }
}
