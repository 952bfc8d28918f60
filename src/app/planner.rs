//! Keeps the request plan current ([`crate::plan`]): computed from the
//! configuration and each environment's last known size, logged at start,
//! after each reload and once every environment's size is known, and
//! handed to the plan's self-metrics ([`PlanStatus`]) for `/metrics`.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

use tokio::task::JoinHandle;

use crate::config::Config;
use crate::pingone::budget::Budget;
use crate::plan::status::PlanStatus;
use crate::plan::{self, BudgetPlan, TenantSize, inputs, render};
use crate::shutdown::Shutdown;
use crate::state::Shared;

/// How often the plan is recomputed from the sizes the polls found: sizes
/// change with polls, which are at least 10 s apart.
const EVERY: Duration = Duration::from_secs(10);

/// The configuration the plan follows and whether its "every size known"
/// line was logged.
struct Current {
    config: Config,
    logged_sized: bool,
}

/// The planner task and what it shares with the reload path.
pub(super) struct Planner {
    current: Arc<Mutex<Current>>,
    status: Arc<PlanStatus>,
    shared: Arc<Shared>,
    task: JoinHandle<()>,
}

fn lock(current: &Mutex<Current>) -> MutexGuard<'_, Current> {
    current.lock().unwrap_or_else(|p| p.into_inner())
}

/// Every environment's size from its last snapshot, by id.
fn sizes(shared: &Shared) -> HashMap<String, TenantSize> {
    shared
        .envs()
        .iter()
        .filter_map(|e| {
            let snap = e.snapshot.as_ref()?;
            let mut size = TenantSize::from_snapshot(snap);
            size.walk_requests = snap.user_detail_walk_requests;
            Some((e.key.id.to_string(), size))
        })
        .collect()
}

/// Computes the plan of `config` from the sizes the polls found.
fn compute(config: &Config, shared: &Shared) -> Vec<BudgetPlan> {
    plan::compute(
        &inputs::budgets(config),
        &inputs::environments(config, &sizes(shared)),
    )
}

fn all_sized(plans: &[BudgetPlan]) -> bool {
    plans.iter().all(|p| p.sized == p.environments)
}

impl Planner {
    /// Computes and logs the plan of `config` (`when` = `start`), hands it
    /// with `budgets` to `status`, and keeps it current until `stop`.
    pub(super) fn start(
        config: &Config,
        budgets: Vec<(String, Arc<Budget>)>,
        shared: Arc<Shared>,
        status: Arc<PlanStatus>,
        stop: Shutdown,
    ) -> Self {
        let current = Arc::new(Mutex::new(Current {
            config: config.clone(),
            logged_sized: false,
        }));
        let task = tokio::spawn(refresh(
            Arc::clone(&current),
            Arc::clone(&shared),
            Arc::clone(&status),
            stop,
        ));
        let planner = Self {
            current,
            status,
            shared,
            task,
        };
        planner.apply(config, budgets, "start");
        planner
    }

    /// Follows a reloaded configuration (`when` = `reload`).
    pub(super) fn apply(&self, config: &Config, budgets: Vec<(String, Arc<Budget>)>, when: &str) {
        let plans = compute(config, &self.shared);
        render::log(&plans, when);
        let sized = all_sized(&plans);
        let env_budget = config
            .environments
            .iter()
            .map(|e| (e.id.clone(), e.budget.clone()))
            .collect();
        self.status.set(plans, budgets, env_budget);
        *lock(&self.current) = Current {
            config: config.clone(),
            logged_sized: sized,
        };
    }

    /// Waits for the refresh task after shutdown.
    pub(super) async fn join(self) {
        let _ = self.task.await;
    }
}

/// Recomputes the plan every [`EVERY`]; logs it once when every
/// environment's size first becomes known.
async fn refresh(
    current: Arc<Mutex<Current>>,
    shared: Arc<Shared>,
    status: Arc<PlanStatus>,
    stop: Shutdown,
) {
    loop {
        tokio::select! {
            () = tokio::time::sleep(EVERY) => {}
            () = stop.wait() => return,
        }
        let mut cur = lock(&current);
        let plans = compute(&cur.config, &shared);
        if !cur.logged_sized && all_sized(&plans) {
            cur.logged_sized = true;
            render::log(&plans, "every environment's size known");
        }
        status.set_plans(plans);
    }
}
