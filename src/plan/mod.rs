//! The request plan: what each request budget must carry for the configured
//! cadences, from the last known size of each environment, and whether it
//! fits.
//!
//! Each environment reads its data on cadences (docs/configuration.md,
//! "Cadences"): stores every `poll_interval`, rules and the latest revision
//! every `rules_interval`, every enabled rule's synced groups every
//! `groups_interval`, and in user-detail mode its users every
//! `user_detail.interval`; a worker app's token is renewed once an hour.
//! The budget grants the next request start to the most urgent read
//! (stores and tokens, then rules, then groups and walks), so the plan
//! checks the cadences in that order: a cadence fits when it and every more
//! urgent one together need at most the budget's rate. When one does not,
//! the plan says how long its cycle takes with what the more urgent ones
//! leave.
//!
//! Request counts per cycle are those of docs/metrics.md, "API calls per
//! poll": one request per list read, `⌈groups ÷ 1000⌉` (at least one) per
//! enabled rule's groups. An environment not read yet has no known size:
//! its groups are counted as one request per rule it may have, which is
//! unknown, so the totals are marked as lower bounds ([`Count::at_least`]).

pub mod inputs;
pub mod render;
pub mod status;

use std::collections::{BTreeMap, BTreeSet};
use std::time::Duration;

use crate::snapshot::EnvSnapshot;

/// Groups PingOne returns per `syncedGroups` page (the `limit` the exporter
/// asks for).
pub const GROUPS_PER_PAGE: u64 = 1000;

/// How long a worker-app token lives (docs/pingone-api.md): one token
/// request per credential per this.
pub const TOKEN_LIFETIME: Duration = Duration::from_secs(3600);

/// A kind of data, read on its own cadence. Its [`label`](Self::label) is
/// the `data` label of the plan's self-metrics.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Data {
    /// The stores list: the failure signal, every `poll_interval`.
    Stores,
    /// Worker-app tokens, once an hour per credential.
    Tokens,
    /// The rules list and the latest revision, every `rules_interval`.
    Rules,
    /// Every enabled rule's synced groups, every `groups_interval`.
    Groups,
    /// The user-detail walk, every `user_detail.interval`.
    UserDetail,
}

impl Data {
    /// Every kind, most urgent first: the order the budget serves them.
    pub const ALL: [Data; 5] = [
        Data::Stores,
        Data::Tokens,
        Data::Rules,
        Data::Groups,
        Data::UserDetail,
    ];

    /// The metric label and the name in logs and `status --plan`.
    pub fn label(self) -> &'static str {
        match self {
            Data::Stores => "stores",
            Data::Tokens => "tokens",
            Data::Rules => "rules",
            Data::Groups => "synced_groups",
            Data::UserDetail => "user_detail",
        }
    }
}

/// A request count, exact or a lower bound.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Count {
    /// Requests.
    pub requests: u64,
    /// True when part of it is unknown (an environment not read yet), so
    /// the real count may be higher.
    pub at_least: bool,
}

impl Count {
    fn add(&mut self, other: Count) {
        self.requests += other.requests;
        self.at_least |= other.at_least;
    }
}

/// What is known of one environment's size, from its last snapshot and
/// user-detail walk.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct TenantSize {
    /// Requests one read of every enabled, exported rule's groups takes.
    pub group_requests: u64,
    /// Requests one user-detail walk takes, when one finished.
    pub walk_requests: Option<u64>,
    /// False when `group_requests` counts one request per enabled rule
    /// without knowing its groups (`status --plan` reads rules only), so
    /// the real count may be higher.
    pub groups_exact: bool,
}

impl TenantSize {
    /// The size seen in a snapshot: for each enabled rule,
    /// `⌈groups ÷ 1000⌉` requests, at least one.
    pub fn from_snapshot(snap: &EnvSnapshot) -> Self {
        let group_requests = snap
            .rules
            .iter()
            .filter(|r| r.enabled == Some(true))
            .map(|r| {
                r.groups_impacted
                    .unwrap_or(0)
                    .div_ceil(GROUPS_PER_PAGE)
                    .max(1)
            })
            .sum();
        Self {
            group_requests,
            walk_requests: None,
            groups_exact: true,
        }
    }
}

/// One environment as the plan sees it.
#[derive(Clone, Debug, PartialEq)]
pub struct EnvInput {
    /// The budget it spends from.
    pub budget: String,
    /// Its cadences.
    pub poll_interval: Duration,
    /// Rules and latest revision.
    pub rules_interval: Duration,
    /// Synced groups.
    pub groups_interval: Duration,
    /// `user_detail.interval` and its cap (requests per second), when on.
    pub user_detail: Option<(Duration, f64)>,
    /// Identifies its worker app (token URL and client id): environments
    /// sharing one share its token.
    pub credential: String,
    /// Its last known size; `None` before its first read.
    pub size: Option<TenantSize>,
}

/// One budget's limits.
#[derive(Clone, Debug, PartialEq)]
pub struct BudgetInput {
    /// Its name.
    pub name: String,
    /// Request starts per second (> 0).
    pub rate: f64,
    /// Requests in flight at once.
    pub concurrency: usize,
}

/// One cadence of one budget, summed over its environments.
#[derive(Clone, Debug, PartialEq)]
pub struct CadenceLoad {
    /// Which data.
    pub data: Data,
    /// The longest interval of this kind among the budget's environments
    /// (the cadence a full cycle must keep), seconds.
    pub interval: f64,
    /// Requests one full cycle of this cadence needs.
    pub per_cycle: Count,
    /// Requests per second it needs: each environment's per-cycle requests
    /// over its own interval, summed.
    pub rate: f64,
    /// Requests per second it needs plus every more urgent cadence's.
    pub cumulative: f64,
    /// Whether `cumulative` fits the budget's rate.
    pub fits: bool,
    /// When it does not fit: how long one cycle takes with the rate the
    /// more urgent cadences leave, seconds (infinite when they leave none).
    pub achievable_cycle: Option<f64>,
}

/// One budget's plan.
#[derive(Clone, Debug, PartialEq)]
pub struct BudgetPlan {
    /// The budget's limits.
    pub budget: BudgetInput,
    /// Environments spending from it.
    pub environments: usize,
    /// Of those, how many have a known size.
    pub sized: usize,
    /// Its cadences, most urgent first; kinds no environment reads are
    /// left out.
    pub cadences: Vec<CadenceLoad>,
}

impl BudgetPlan {
    /// Requests per second all cadences need together.
    pub fn planned_rate(&self) -> f64 {
        self.cadences.last().map_or(0.0, |c| c.cumulative)
    }

    /// True when every cadence fits.
    pub fn fits(&self) -> bool {
        self.cadences.iter().all(|c| c.fits)
    }
}

/// What one environment's cadences need, per kind: (interval, count).
fn env_loads(env: &EnvInput) -> Vec<(Data, Duration, Count)> {
    let exact = |requests| Count {
        requests,
        at_least: false,
    };
    let mut out = vec![
        (Data::Stores, env.poll_interval, exact(1)),
        // The rules list and the latest revision.
        (Data::Rules, env.rules_interval, exact(2)),
    ];
    let groups = match env.size {
        Some(s) => Count {
            requests: s.group_requests,
            at_least: !s.groups_exact,
        },
        None => Count {
            requests: 0,
            at_least: true,
        },
    };
    out.push((Data::Groups, env.groups_interval, groups));
    if let Some((interval, _)) = env.user_detail {
        let walk = match env.size.and_then(|s| s.walk_requests) {
            Some(n) => exact(n),
            None => Count {
                requests: 0,
                at_least: true,
            },
        };
        out.push((Data::UserDetail, interval, walk));
    }
    out
}

/// The plan of every budget in `budgets`, in their order, for `envs`.
/// Environments naming a budget not in the list are ignored (validation
/// prevents it).
pub fn compute(budgets: &[BudgetInput], envs: &[EnvInput]) -> Vec<BudgetPlan> {
    budgets
        .iter()
        .map(|b| {
            let mine: Vec<&EnvInput> = envs.iter().filter(|e| e.budget == b.name).collect();
            plan_one(b, &mine)
        })
        .collect()
}

fn plan_one(budget: &BudgetInput, envs: &[&EnvInput]) -> BudgetPlan {
    // Per kind: longest interval, count per cycle, requests per second.
    let mut kinds: BTreeMap<Data, (f64, Count, f64)> = BTreeMap::new();
    for env in envs {
        for (data, interval, count) in env_loads(env) {
            let secs = interval.as_secs_f64().max(1e-3);
            let entry = kinds.entry(data).or_insert((0.0, Count::default(), 0.0));
            entry.0 = entry.0.max(secs);
            entry.1.add(count);
            entry.2 += count.requests as f64 / secs;
        }
    }
    let credentials: BTreeSet<&str> = envs.iter().map(|e| e.credential.as_str()).collect();
    if !credentials.is_empty() {
        let n = credentials.len() as u64;
        let secs = TOKEN_LIFETIME.as_secs_f64();
        let count = Count {
            requests: n,
            at_least: false,
        };
        kinds.insert(Data::Tokens, (secs, count, n as f64 / secs));
    }
    let mut cumulative = 0.0;
    let cadences = Data::ALL
        .iter()
        .filter_map(|d| kinds.get(d).map(|k| (*d, *k)))
        .map(|(data, (interval, per_cycle, rate))| {
            let left = budget.rate - cumulative;
            cumulative += rate;
            let fits = cumulative <= budget.rate;
            let achievable_cycle = (!fits).then(|| {
                if left > 0.0 {
                    per_cycle.requests as f64 / left
                } else {
                    f64::INFINITY
                }
            });
            CadenceLoad {
                data,
                interval,
                per_cycle,
                rate,
                cumulative,
                fits,
                achievable_cycle,
            }
        })
        .collect();
    BudgetPlan {
        budget: budget.clone(),
        environments: envs.len(),
        sized: envs.iter().filter(|e| e.size.is_some()).count(),
        cadences,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn env(budget: &str, credential: &str, groups: Option<u64>) -> EnvInput {
        EnvInput {
            budget: budget.into(),
            poll_interval: Duration::from_secs(60),
            rules_interval: Duration::from_secs(300),
            groups_interval: Duration::from_secs(900),
            user_detail: None,
            credential: credential.into(),
            size: groups.map(|g| TenantSize {
                group_requests: g,
                walk_requests: None,
                groups_exact: true,
            }),
        }
    }

    fn budget(name: &str, rate: f64) -> BudgetInput {
        BudgetInput {
            name: name.into(),
            rate,
            concurrency: 4,
        }
    }

    #[test]
    fn the_large_tenant_at_ten_requests_a_second_fits_its_signal_but_not_its_groups() {
        // 200 environments × 45 enabled rules, one worker app.
        let envs: Vec<EnvInput> = (0..200).map(|_| env("default", "w", Some(45))).collect();
        let plans = compute(&[budget("default", 10.0)], &envs);
        let p = &plans[0];
        assert_eq!((p.environments, p.sized), (200, 200));
        let by = |d: Data| p.cadences.iter().find(|c| c.data == d).unwrap();
        let stores = by(Data::Stores);
        assert_eq!(stores.per_cycle.requests, 200);
        assert!((stores.rate - 200.0 / 60.0).abs() < 1e-9);
        assert!(stores.fits);
        assert!(by(Data::Tokens).fits);
        assert!(by(Data::Rules).fits, "3.33 + 1.33 req/s of 10");
        let groups = by(Data::Groups);
        assert_eq!(groups.per_cycle.requests, 9000);
        assert!(!groups.fits, "10 req/s of groups on top");
        // What the urgent ones leave: 10 − 200/60 − 1/3600 − 400/300.
        let left = 10.0 - 200.0 / 60.0 - 1.0 / 3600.0 - 400.0 / 300.0;
        let cycle = groups.achievable_cycle.unwrap();
        assert!((cycle - 9000.0 / left).abs() < 1e-6, "{cycle}");
        assert!(!p.fits());
        let planned = 200.0 / 60.0 + 1.0 / 3600.0 + 400.0 / 300.0 + 9000.0 / 900.0;
        assert!((p.planned_rate() - planned).abs() < 1e-9);
    }

    #[test]
    fn budgets_only_count_their_own_environments_and_tokens_per_credential() {
        let envs = vec![
            env("org-a", "a", Some(10)),
            env("org-a", "a", Some(10)),
            env("org-b", "b", None),
        ];
        let plans = compute(&[budget("org-a", 5.0), budget("org-b", 1.0)], &envs);
        let a = &plans[0];
        let tokens = a.cadences.iter().find(|c| c.data == Data::Tokens).unwrap();
        assert_eq!(tokens.per_cycle.requests, 1, "one worker app, one token");
        assert!(a.fits());
        let b = &plans[1];
        assert_eq!((b.environments, b.sized), (1, 0));
        let groups = b.cadences.iter().find(|c| c.data == Data::Groups).unwrap();
        assert!(
            groups.per_cycle.at_least,
            "size unknown before the first read"
        );
        assert_eq!(
            b.cadences.iter().map(|c| c.data).collect::<Vec<_>>(),
            vec![Data::Stores, Data::Tokens, Data::Rules, Data::Groups]
        );
    }

    #[test]
    fn a_budget_the_signal_does_not_fit_has_nothing_left_for_the_rest() {
        let envs: Vec<EnvInput> = (0..120).map(|_| env("slow", "w", Some(1))).collect();
        let p = &compute(&[budget("slow", 1.0)], &envs)[0];
        let stores = &p.cadences[0];
        assert!(!stores.fits, "120 stores reads a minute at 1 req/s");
        assert_eq!(stores.achievable_cycle, Some(120.0));
        let groups = p.cadences.iter().find(|c| c.data == Data::Groups).unwrap();
        assert_eq!(groups.achievable_cycle, Some(f64::INFINITY));
    }

    #[test]
    fn a_snapshot_counts_a_page_per_thousand_groups_of_each_enabled_rule() {
        use crate::snapshot::{Direction, RuleSummary, StateCounts, StoreInfo, SyncEvents};
        let rule = |enabled, groups| RuleSummary {
            id: String::new(),
            name: String::new(),
            direction: Direction::Outbound,
            source: StoreInfo::default(),
            target: StoreInfo::default(),
            parent_rule_id: String::new(),
            enabled: Some(enabled),
            status: None,
            users_impacted: None,
            users: StateCounts::default(),
            groups_impacted: groups,
            groups: StateCounts::default(),
            writeback_failures: None,
            events: SyncEvents::default(),
            store_status: None,
            sync_error: None,
            failing_since: None,
            failing_polls: None,
            last_sync: None,
            last_poll: None,
            last_writeback: None,
            failed_users: Vec::new(),
        };
        let snap = EnvSnapshot {
            rules: vec![
                rule(true, Some(0)),
                rule(true, Some(1000)),
                rule(true, Some(1001)),
                rule(true, None),
                rule(false, Some(5000)),
            ],
            ..EnvSnapshot::default()
        };
        assert_eq!(
            TenantSize::from_snapshot(&snap).group_requests,
            1 + 1 + 2 + 1
        );
    }
}
