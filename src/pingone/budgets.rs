//! The named request budgets of a configuration (`budgets:` and the
//! `default` one of `global:`), one [`Budget`] each, and what one
//! environment gets of its budget ([`Allotment`]).
//!
//! PingOne limits requests per licence, shared by the licence's
//! environments (docs/pingone-api.md, "Rate limits"); a budget stands for
//! one licence. Every request of an environment (polls, retries, tokens,
//! user-detail walks, `resync`) spends from its budget.
//!
//! On reload the registry is reconfigured in place: a budget whose name
//! stays keeps its [`Budget`] (requests waiting on it keep their place and
//! a new rate applies to the next start), a new name gets a new one, a
//! removed name is dropped (environments still holding it were moved to
//! another budget and are restarted by the caller).

use std::sync::Arc;

use super::budget::Budget;
use crate::config::{BudgetSettings, Config};

/// What one environment's lane draws on: its budget, and how many of the
/// budget's requests the environment may have in flight at once.
#[derive(Clone, Debug)]
pub struct Allotment {
    /// The budget every request of the environment spends from.
    pub budget: Arc<Budget>,
    /// The environment's share of the budget's concurrency (>= 1), so that
    /// one slow environment cannot hold every slot of its budget.
    pub concurrency: usize,
}

impl Allotment {
    /// `budget`, of which an environment may use its share
    /// ([`Self::per_env_share`]) of `max_concurrent_requests`.
    pub fn new(budget: Arc<Budget>, max_concurrent_requests: usize) -> Self {
        Self {
            budget,
            concurrency: Self::per_env_share(max_concurrent_requests),
        }
    }

    /// The share of a budget's `max_concurrent_requests` one environment
    /// may use: half, rounded up, so the budget's other environments always
    /// keep slots.
    pub fn per_env_share(max_concurrent_requests: usize) -> usize {
        max_concurrent_requests.div_ceil(2).max(1)
    }
}

#[derive(Clone, Debug)]
struct Entry {
    settings: BudgetSettings,
    budget: Arc<Budget>,
}

/// The budgets by name, in configuration order (`default` first).
#[derive(Clone, Debug, Default)]
pub struct Budgets {
    entries: Vec<Entry>,
}

impl Budgets {
    /// One new budget per entry of `settings`.
    pub fn new(settings: &[BudgetSettings]) -> Self {
        Self::default().staged(settings)
    }

    /// The budgets of `config` ([`Config::budgets`]).
    pub fn from_config(config: &Config) -> Self {
        Self::new(&config.budgets)
    }

    /// The budget named `name`.
    pub fn get(&self, name: &str) -> Option<&Arc<Budget>> {
        self.entry(name).map(|e| &e.budget)
    }

    /// The settings the budget named `name` has (or, on a registry from
    /// [`Self::staged`], will have once applied).
    pub fn settings(&self, name: &str) -> Option<&BudgetSettings> {
        self.entry(name).map(|e| &e.settings)
    }

    /// What an environment on the budget named `name` draws on.
    pub fn allotment(&self, name: &str) -> Option<Allotment> {
        self.entry(name)
            .map(|e| Allotment::new(Arc::clone(&e.budget), e.settings.max_concurrent_requests))
    }

    /// Every budget with its name, in configuration order.
    pub fn iter(&self) -> impl Iterator<Item = (&str, &Arc<Budget>)> {
        self.entries
            .iter()
            .map(|e| (e.settings.name.as_str(), &e.budget))
    }

    fn entry(&self, name: &str) -> Option<&Entry> {
        self.entries.iter().find(|e| e.settings.name == name)
    }

    /// The registry `settings` describe, without touching this one: a name
    /// this one has keeps its [`Budget`] (same `Arc`, limits unchanged until
    /// [`Self::apply`]), a new name gets a new budget. Lets a reload build
    /// everything first and change nothing when that fails.
    pub fn staged(&self, settings: &[BudgetSettings]) -> Self {
        let entries = settings
            .iter()
            .map(|s| Entry {
                settings: s.clone(),
                budget: match self.get(&s.name) {
                    Some(b) => Arc::clone(b),
                    None => Budget::new(s.max_requests_per_second, s.max_concurrent_requests),
                },
            })
            .collect();
        Self { entries }
    }

    /// Gives every budget the limits of its settings (a no-op for the
    /// unchanged ones). Needs a Tokio runtime when a concurrency shrinks
    /// while requests are in flight ([`Budget::reconfigure`]).
    pub fn apply(&self) {
        for e in &self.entries {
            e.budget.reconfigure(
                e.settings.max_requests_per_second,
                e.settings.max_concurrent_requests,
            );
        }
    }

    /// Reconfigures in place for a reloaded configuration: [`Self::staged`]
    /// then [`Self::apply`].
    pub fn reconfigure(&mut self, settings: &[BudgetSettings]) {
        *self = self.staged(settings);
        self.apply();
    }
}

#[cfg(test)]
mod tests {
    use tokio::time::Instant;

    use super::*;
    use crate::pingone::budget::Priority;

    fn settings(name: &str, rps: f64, concurrent: usize) -> BudgetSettings {
        BudgetSettings {
            name: name.into(),
            max_requests_per_second: rps,
            max_concurrent_requests: concurrent,
        }
    }

    /// Milliseconds after `t0` of `n` request starts on `budget`.
    async fn starts(budget: &Budget, n: usize, t0: Instant) -> Vec<u128> {
        let mut out = Vec::new();
        for _ in 0..n {
            let _p = budget.acquire(Priority::Bulk).await;
            out.push((Instant::now() - t0).as_millis());
        }
        out
    }

    #[tokio::test(start_paused = true)]
    async fn each_budget_paces_only_its_own_requests() {
        let b = Budgets::new(&[settings("default", 1.0, 4), settings("fast", 10.0, 4)]);
        let names: Vec<&str> = b.iter().map(|(n, _)| n).collect();
        assert_eq!(names, ["default", "fast"]);
        let t0 = Instant::now();
        let slow = Arc::clone(b.get("default").unwrap());
        let slow_starts = tokio::spawn(async move { starts(&slow, 3, t0).await });
        let fast = starts(b.get("fast").unwrap(), 5, t0).await;
        assert_eq!(
            fast,
            [0, 100, 200, 300, 400],
            "not slowed by the 1/s budget"
        );
        assert_eq!(slow_starts.await.unwrap(), [0, 1000, 2000]);
        assert!(b.get("other").is_none());
    }

    #[tokio::test(start_paused = true)]
    async fn reconfigure_keeps_changes_adds_and_drops_by_name() {
        let mut b = Budgets::new(&[settings("default", 10.0, 4), settings("org-a", 1.0, 2)]);
        let default = Arc::clone(b.get("default").unwrap());
        let org_a = Arc::clone(b.get("org-a").unwrap());
        b.reconfigure(&[settings("default", 10.0, 4), settings("org-b", 5.0, 6)]);
        assert!(Arc::ptr_eq(b.get("default").unwrap(), &default));
        assert!(b.get("org-a").is_none(), "removed budgets are dropped");
        assert_eq!(b.settings("org-b"), Some(&settings("org-b", 5.0, 6)));
        assert_eq!(b.allotment("org-b").unwrap().concurrency, 3);
        drop(org_a);

        // A changed rate applies to the same budget, to the next start.
        let _first = default.acquire(Priority::Bulk).await;
        b.reconfigure(&[settings("default", 2.0, 4)]);
        assert!(Arc::ptr_eq(b.get("default").unwrap(), &default));
        let t0 = Instant::now();
        // The start after the first was booked at the old rate (100 ms);
        // the ones after it are spaced at the new one (500 ms).
        assert_eq!(starts(&default, 3, t0).await, [100, 600, 1100]);
    }

    #[tokio::test(start_paused = true)]
    async fn staged_changes_nothing_until_applied() {
        let b = Budgets::new(&[settings("default", 1.0, 1)]);
        let next = b.staged(&[settings("default", 1000.0, 1), settings("new", 3.0, 1)]);
        assert!(Arc::ptr_eq(
            b.get("default").unwrap(),
            next.get("default").unwrap()
        ));
        assert!(b.get("new").is_none());
        let budget = Arc::clone(b.get("default").unwrap());
        let t0 = Instant::now();
        assert_eq!(starts(&budget, 2, t0).await, [0, 1000], "still 1/s");
        next.apply();
        // The start booked at the old rate stays (2 s); the ones after it
        // are 1 ms apart.
        assert_eq!(starts(&budget, 3, t0).await, [2000, 2001, 2002]);
    }
}
