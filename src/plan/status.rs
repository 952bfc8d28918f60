//! The plan as self-metrics: per budget its limit, the requests per second
//! the configured cadences need, the requests it granted, and the achieved
//! age of each kind of data, so an alert and the exporter-health dashboard
//! can say "this budget is over-subscribed" before data goes stale.
//!
//! The daemon recomputes the plan (start, reload, and every few seconds as
//! sizes become known) and hands it here with the budgets; a scrape writes
//! the families from that and the environments' read times.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, MutexGuard};

use super::{BudgetPlan, Data};
use crate::exposition::{Desc, Format, Kind, LiveSink};
use crate::exposition::{write_counter, write_f64, write_sample};
use crate::pingone::budget::Budget;
use crate::state::EnvState;

const LIMIT: Desc = Desc {
    name: "pingone_exporter_budget_limit_requests_per_second",
    help: "The request budget's configured rate: request starts per second it grants at most.",
    kind: Kind::Gauge,
};
const PLANNED: Desc = Desc {
    name: "pingone_exporter_budget_planned_requests_per_second",
    help: "Request starts per second the configured cadence of this kind of data needs, from the last known size of the budget's environments (a lower bound while sizes are unknown).",
    kind: Kind::Gauge,
};
const SPENT: Desc = Desc {
    name: "pingone_exporter_budget_requests",
    help: "Request starts the budget granted (API calls, retries and token requests of its environments).",
    kind: Kind::Counter,
};
const INTERVAL: Desc = Desc {
    name: "pingone_exporter_data_interval_seconds",
    help: "The configured cadence of this kind of data: the longest interval among the budget's environments.",
    kind: Kind::Gauge,
};
const AGE: Desc = Desc {
    name: "pingone_exporter_data_age_seconds",
    help: "Now minus the last successful read of this kind of data, for the budget's environment whose last read is oldest, among those that read it at least once; absent until one has.",
    kind: Kind::Gauge,
};

/// What the plan families are written from.
#[derive(Debug, Default)]
struct Inner {
    plans: Vec<BudgetPlan>,
    budgets: Vec<(String, Arc<Budget>)>,
    /// Environment id → budget name.
    env_budget: HashMap<String, String>,
}

/// The plan's self-metrics; shared by the daemon (which sets the plan) and
/// the server (which writes it at each scrape).
#[derive(Debug, Default)]
pub struct PlanStatus {
    inner: Mutex<Inner>,
}

/// Reads when an environment last read one kind of data (Unix seconds).
type ReadAt = fn(&EnvState) -> Option<f64>;

/// The kinds of data whose age is shown, with how to read it from an
/// environment's state.
const AGED: [(Data, ReadAt); 4] = [
    (Data::Stores, |e| e.reads.stores),
    (Data::Rules, |e| e.reads.rules),
    (Data::Groups, |e| e.reads.groups),
    (Data::UserDetail, |e| {
        e.snapshot.as_ref().and_then(|s| s.user_detail_finished)
    }),
];

impl PlanStatus {
    fn lock(&self) -> MutexGuard<'_, Inner> {
        self.inner.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Sets the plan, the budgets (name and handle, for the requests they
    /// granted) and which budget each environment id spends from.
    pub fn set(
        &self,
        plans: Vec<BudgetPlan>,
        budgets: Vec<(String, Arc<Budget>)>,
        env_budget: HashMap<String, String>,
    ) {
        *self.lock() = Inner {
            plans,
            budgets,
            env_budget,
        };
    }

    /// Replaces the plan only (sizes became known).
    pub fn set_plans(&self, plans: Vec<BudgetPlan>) {
        self.lock().plans = plans;
    }

    /// The current plan.
    pub fn plans(&self) -> Vec<BudgetPlan> {
        self.lock().plans.clone()
    }

    /// Writes the plan families; `envs` are the environments' states and
    /// `now` the Unix time ages are computed against. The data ages, which
    /// follow the clock, go last and as volatile text.
    pub fn encode(
        &self,
        format: Format,
        sink: &mut dyn LiveSink,
        envs: &[Arc<EnvState>],
        now: f64,
    ) {
        let inner = self.lock();
        if inner.plans.is_empty() {
            return;
        }
        let out = sink.text();
        LIMIT.write_header(format, out);
        for p in &inner.plans {
            let labels = [("budget", p.budget.name.as_str())];
            write_sample(out, LIMIT.name, "", &labels, &[], |o| {
                write_f64(o, p.budget.rate)
            });
        }
        PLANNED.write_header(format, out);
        for p in &inner.plans {
            for c in &p.cadences {
                let labels = [("budget", p.budget.name.as_str()), ("data", c.data.label())];
                write_sample(out, PLANNED.name, "", &labels, &[], |o| {
                    write_f64(o, c.rate)
                });
            }
        }
        SPENT.write_header(format, out);
        for (name, budget) in &inner.budgets {
            write_counter(
                out,
                SPENT.name,
                &[("budget", name.as_str())],
                &[],
                budget.granted(),
            );
        }
        INTERVAL.write_header(format, out);
        for p in &inner.plans {
            for c in p.cadences.iter().filter(|c| c.data != Data::Tokens) {
                let labels = [("budget", p.budget.name.as_str()), ("data", c.data.label())];
                write_sample(out, INTERVAL.name, "", &labels, &[], |o| {
                    write_f64(o, c.interval)
                });
            }
        }
        AGE.write_header(format, out);
        let out = sink.volatile();
        for p in &inner.plans {
            // Per kind of data, the oldest read among the budget's
            // environments that have read it: one never read is
            // `pingone_exporter_up` 0's business, and must not hide how far
            // behind the others are.
            let mut oldest = [None::<f64>; AGED.len()];
            let mine = envs
                .iter()
                .filter(|e| inner.env_budget.get(&*e.key.id) == Some(&p.budget.name));
            for e in mine {
                for (o, (_, read)) in oldest.iter_mut().zip(AGED) {
                    if let Some(t) = read(e) {
                        *o = Some(o.map_or(t, |o| o.min(t)));
                    }
                }
            }
            for ((data, _), oldest) in AGED.into_iter().zip(oldest) {
                if !p.cadences.iter().any(|c| c.data == data) {
                    continue;
                }
                let Some(oldest) = oldest else { continue };
                let labels = [("budget", p.budget.name.as_str()), ("data", data.label())];
                write_sample(out, AGE.name, "", &labels, &[], |o| {
                    write_f64(o, (now - oldest).max(0.0))
                });
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::*;
    use crate::plan::{BudgetInput, EnvInput, TenantSize, compute};
    use crate::snapshot::EnvKey;
    use crate::state::ReadTimes;

    /// An environment's state with its read times (its budget comes from
    /// the plan's environment → budget map).
    fn env(id: &str, stores: Option<f64>, groups: Option<f64>) -> Arc<EnvState> {
        Arc::new(EnvState {
            key: EnvKey::new(id, id),
            snapshot: None,
            rendered: None,
            last_poll: None,
            reads: ReadTimes {
                stores,
                rules: stores,
                groups,
            },
        })
    }

    #[tokio::test(start_paused = true)]
    async fn the_families_carry_limit_plan_spent_interval_and_the_oldest_age() {
        let input = |budget: &str| EnvInput {
            budget: budget.into(),
            poll_interval: Duration::from_secs(60),
            rules_interval: Duration::from_secs(300),
            groups_interval: Duration::from_secs(900),
            user_detail: None,
            credential: "w".into(),
            size: Some(TenantSize {
                group_requests: 30,
                walk_requests: None,
                groups_exact: true,
            }),
        };
        let plans = compute(
            &[BudgetInput {
                name: "org-a".into(),
                rate: 2.0,
                concurrency: 2,
            }],
            &[input("org-a"), input("org-a")],
        );
        let budget = Budget::new(2.0, 2);
        drop(
            budget
                .acquire(crate::pingone::budget::Priority::Signal)
                .await,
        );
        let status = PlanStatus::default();
        let env_budget = [("a", "org-a"), ("b", "org-a"), ("c", "org-b")]
            .into_iter()
            .map(|(e, b)| (e.to_string(), b.to_string()))
            .collect();
        status.set(plans, vec![("org-a".into(), budget)], env_budget);
        // a read its stores 10 s ago and its groups 400 s ago; b's groups
        // were never read; c is another budget's.
        let envs = [
            env("a", Some(990.0), Some(600.0)),
            env("b", Some(995.0), None),
            env("c", Some(0.0), Some(0.0)),
        ];
        let mut out = Vec::new();
        status.encode(Format::Text, &mut out, &envs, 1000.0);
        let text = String::from_utf8(out).unwrap();
        let samples: Vec<&str> = text.lines().filter(|l| !l.starts_with('#')).collect();
        assert_eq!(
            samples,
            [
                r#"pingone_exporter_budget_limit_requests_per_second{budget="org-a"} 2"#,
                r#"pingone_exporter_budget_planned_requests_per_second{budget="org-a",data="stores"} 0.03333333333333333"#,
                r#"pingone_exporter_budget_planned_requests_per_second{budget="org-a",data="tokens"} 0.0002777777777777778"#,
                r#"pingone_exporter_budget_planned_requests_per_second{budget="org-a",data="rules"} 0.013333333333333334"#,
                r#"pingone_exporter_budget_planned_requests_per_second{budget="org-a",data="synced_groups"} 0.06666666666666667"#,
                r#"pingone_exporter_budget_requests_total{budget="org-a"} 1"#,
                r#"pingone_exporter_data_interval_seconds{budget="org-a",data="stores"} 60"#,
                r#"pingone_exporter_data_interval_seconds{budget="org-a",data="rules"} 300"#,
                r#"pingone_exporter_data_interval_seconds{budget="org-a",data="synced_groups"} 900"#,
                r#"pingone_exporter_data_age_seconds{budget="org-a",data="stores"} 10"#,
                r#"pingone_exporter_data_age_seconds{budget="org-a",data="rules"} 10"#,
                r#"pingone_exporter_data_age_seconds{budget="org-a",data="synced_groups"} 400"#,
            ]
        );
        assert!(text.contains("# TYPE pingone_exporter_budget_requests_total counter"));
    }

    #[test]
    fn nothing_is_written_before_a_plan_is_set() {
        let mut out = Vec::new();
        PlanStatus::default().encode(Format::OpenMetrics, &mut out, &[], 0.0);
        assert!(out.is_empty());
    }
}
