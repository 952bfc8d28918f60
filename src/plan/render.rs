//! The plan as text (`status --plan`), JSON (`status --plan --output
//! json`) and log lines (at start, after each reload, and when an
//! environment's size first becomes known).

use std::fmt::Write as _;

use super::{BudgetPlan, CadenceLoad};
use crate::config::duration::format_duration;
use crate::printable::printable;

/// Seconds as a Prometheus duration, whole seconds (`∞` when infinite).
fn secs(s: f64) -> String {
    if !s.is_finite() {
        return "∞".to_string();
    }
    format_duration(std::time::Duration::from_secs(s.round().max(0.0) as u64))
}

fn count(c: &CadenceLoad) -> String {
    match (c.per_cycle.at_least, c.per_cycle.requests) {
        (true, 0) => "unknown".to_string(),
        (true, n) => format!("≥{n}"),
        (false, n) => n.to_string(),
    }
}

fn environments(n: usize) -> String {
    if n == 1 {
        "1 environment".to_string()
    } else {
        format!("{n} environments")
    }
}

fn verdict(c: &CadenceLoad) -> String {
    match c.achievable_cycle {
        None => "yes".to_string(),
        Some(cycle) if cycle.is_finite() => format!(
            "no: a cycle takes {} with what more urgent reads leave",
            secs(cycle)
        ),
        Some(_) => "no: more urgent reads leave nothing".to_string(),
    }
}

/// The plan as `status --plan` prints it: per budget a header, one line
/// per cadence (most urgent first), and a verdict.
pub fn table(plans: &[BudgetPlan]) -> String {
    let mut out = String::new();
    for (i, p) in plans.iter().enumerate() {
        if i > 0 {
            out.push('\n');
        }
        let _ = writeln!(
            out,
            "budget {}: {} requests/s, {} in flight; {}, {} of known size",
            printable(&p.budget.name),
            p.budget.rate,
            p.budget.concurrency,
            environments(p.environments),
            p.sized
        );
        let _ = writeln!(
            out,
            "  {:<14} {:>6} {:>15} {:>11} {:>13}  fits",
            "data", "every", "requests/cycle", "requests/s", "cumulative"
        );
        for c in &p.cadences {
            let _ = writeln!(
                out,
                "  {:<14} {:>6} {:>15} {:>11.2} {:>13.2}  {}",
                c.data.label(),
                secs(c.interval),
                count(c),
                c.rate,
                c.cumulative,
                verdict(c)
            );
        }
        let share = 100.0 * p.planned_rate() / p.budget.rate;
        let state = if p.fits() { "fits" } else { "over-subscribed" };
        let lower = if p.cadences.iter().any(|c| c.per_cycle.at_least) {
            " (a lower bound: some groups are not counted yet, marked ≥ or unknown)"
        } else {
            ""
        };
        let _ = writeln!(
            out,
            "  planned {:.2} of {} requests/s ({share:.0}%): {state}{lower}",
            p.planned_rate(),
            p.budget.rate
        );
    }
    out
}

/// The plan as JSON: a list of budgets with their cadences.
pub fn json(plans: &[BudgetPlan]) -> serde_json::Value {
    let num = |x: f64| {
        if x.is_finite() {
            serde_json::json!(x)
        } else {
            serde_json::Value::Null
        }
    };
    serde_json::Value::Array(
        plans
            .iter()
            .map(|p| {
                let cadences: Vec<serde_json::Value> = p
                    .cadences
                    .iter()
                    .map(|c| {
                        serde_json::json!({
                            "data": c.data.label(),
                            "interval_seconds": c.interval,
                            "requests_per_cycle": c.per_cycle.requests,
                            "requests_per_cycle_at_least": c.per_cycle.at_least,
                            "requests_per_second": c.rate,
                            "cumulative_requests_per_second": c.cumulative,
                            "fits": c.fits,
                            // null when it fits, or when nothing is left.
                            "achievable_cycle_seconds": c.achievable_cycle.map(num),
                        })
                    })
                    .collect();
                serde_json::json!({
                    "budget": p.budget.name,
                    "max_requests_per_second": p.budget.rate,
                    "max_concurrent_requests": p.budget.concurrency,
                    "environments": p.environments,
                    "environments_of_known_size": p.sized,
                    "planned_requests_per_second": p.planned_rate(),
                    "fits": p.fits(),
                    "cadences": cadences,
                })
            })
            .collect(),
    )
}

/// Logs the plan: one line per budget (info when it fits, warn when not)
/// and one warn line per cadence that does not fit.
pub fn log(plans: &[BudgetPlan], when: &str) {
    for p in plans {
        let planned = (p.planned_rate() * 100.0).round() / 100.0;
        if p.fits() {
            tracing::info!(budget = %p.budget.name, max_requests_per_second = p.budget.rate,
                planned_requests_per_second = planned, environments = p.environments,
                environments_of_known_size = p.sized, when, "request plan: every cadence fits its budget");
            continue;
        }
        tracing::warn!(budget = %p.budget.name, max_requests_per_second = p.budget.rate,
            planned_requests_per_second = planned, environments = p.environments,
            environments_of_known_size = p.sized, when,
            "request plan: the budget is over-subscribed; the cadences below fall behind (docs/runbook.md#budget-over-subscribed)");
        for c in p.cadences.iter().filter(|c| !c.fits) {
            tracing::warn!(budget = %p.budget.name, data = c.data.label(),
                interval_s = c.interval, requests_per_cycle = c.per_cycle.requests,
                achievable_cycle_s = c.achievable_cycle.filter(|x| x.is_finite()),
                "request plan: cadence does not fit");
        }
    }
}

#[cfg(test)]
mod tests {
    use super::super::{BudgetInput, EnvInput, TenantSize, compute};
    use super::*;
    use std::time::Duration;

    fn plans() -> Vec<BudgetPlan> {
        let env = |budget: &str, size| EnvInput {
            budget: budget.into(),
            poll_interval: Duration::from_secs(60),
            rules_interval: Duration::from_secs(300),
            groups_interval: Duration::from_secs(900),
            user_detail: None,
            credential: budget.into(),
            size,
        };
        let sized = Some(TenantSize {
            group_requests: 45,
            walk_requests: None,
            groups_exact: true,
        });
        let mut envs: Vec<EnvInput> = (0..200).map(|_| env("default", sized)).collect();
        envs.push(env("org-b", None));
        let budgets = [
            BudgetInput {
                name: "default".into(),
                rate: 10.0,
                concurrency: 4,
            },
            BudgetInput {
                name: "org-b".into(),
                rate: 2.0,
                concurrency: 2,
            },
        ];
        compute(&budgets, &envs)
    }

    #[test]
    fn the_table_names_each_cadence_and_what_does_not_fit() {
        let expected = "\
budget default: 10 requests/s, 4 in flight; 200 environments, 200 of known size
  data            every  requests/cycle  requests/s    cumulative  fits
  stores             1m             200        3.33          3.33  yes
  tokens             1h               1        0.00          3.33  yes
  rules              5m             400        1.33          4.67  yes
  synced_groups     15m            9000       10.00         14.67  no: a cycle takes 28m8s with what more urgent reads leave
  planned 14.67 of 10 requests/s (147%): over-subscribed

budget org-b: 2 requests/s, 2 in flight; 1 environment, 0 of known size
  data            every  requests/cycle  requests/s    cumulative  fits
  stores             1m               1        0.02          0.02  yes
  tokens             1h               1        0.00          0.02  yes
  rules              5m               2        0.01          0.02  yes
  synced_groups     15m         unknown        0.00          0.02  yes
  planned 0.02 of 2 requests/s (1%): fits (a lower bound: some groups are not counted yet, marked ≥ or unknown)
";
        assert_eq!(table(&plans()), expected);
    }

    #[test]
    fn the_json_carries_the_same_numbers() {
        let v = json(&plans());
        assert_eq!(v[0]["budget"], "default");
        assert_eq!(v[0]["fits"], false);
        assert_eq!(v[0]["cadences"][3]["data"], "synced_groups");
        assert_eq!(v[0]["cadences"][3]["requests_per_cycle"], 9000);
        assert_eq!(
            v[0]["cadences"][0]["achievable_cycle_seconds"],
            serde_json::Value::Null
        );
        assert_eq!(v[1]["environments_of_known_size"], 0);
        assert_eq!(v[1]["cadences"][3]["requests_per_cycle_at_least"], true);
    }
}
