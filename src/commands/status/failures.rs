//! `status --failures`: for whom provisioning fails. Per rule, the users
//! whose `syncedRules` record is `FAILED`: user id, rule, state, the
//! record's `lastSyncAt` and `details` where it has them (scrubbed with
//! [`crate::redact`]), at most [`FAILED_KEPT`] per rule (smallest user ids
//! first) with "and N more". Never exported as metric labels.
//!
//! Only user-detail mode reads per-user records, so this walks once each
//! environment whose configuration enables it (`user_detail:`), on the
//! environment's request budget (not capped by
//! `user_detail.max_requests_per_second`: the command is waited for): N users × R rules record requests, which can
//! take a while on a large tenant. Environments without it are reported
//! as such; when none has it, the command says so and exits 2.
//!
//! Exit codes: 0 no failing user; 1 some; 2 a walk failed or user-detail
//! mode is off everywhere.

use std::io::Write;
use std::sync::Arc;

use serde_json::{Value, json};

use super::table::{Cell, Style, absent, lay_out, one_line, plain};
use super::{Exit, Output};
use crate::config::{Config, Environment};
use crate::pingone::EnvClient;
use crate::redact::clean_details;
use crate::timefmt::format_rfc3339;
use crate::user_detail::{FAILED_KEPT, FailedRecord, walk};

/// The widest DETAILS cell of the failures table, in characters.
const DETAILS_WIDTH: usize = 80;

/// One rule's failing users.
#[derive(Clone, Debug, PartialEq)]
pub struct RuleFailures {
    /// Rule id.
    pub id: String,
    /// Rule name (the id when PingOne gave none).
    pub name: String,
    /// Records in `FAILED`, all of them.
    pub failed: u64,
    /// Up to [`FAILED_KEPT`] of them, by user id, not yet scrubbed.
    pub records: Vec<FailedRecord>,
}

/// What one environment's walk gave.
#[derive(Clone, Debug, PartialEq)]
pub struct EnvFailures {
    /// The configured name.
    pub name: String,
    /// The environment id.
    pub id: String,
    /// User-detail mode is configured for it (else nothing was read).
    pub user_detail: bool,
    /// Why the walk stopped, when it did.
    pub error: Option<String>,
    /// Walked rules with at least one failed record, in rule-list order.
    pub rules: Vec<RuleFailures>,
}

async fn one(env: &Environment, client: &Arc<EnvClient>, concurrency: usize) -> EnvFailures {
    let mut out = EnvFailures {
        name: env.name.clone(),
        id: env.id.clone(),
        user_detail: env.user_detail.is_some(),
        error: None,
        rules: Vec::new(),
    };
    if !out.user_detail {
        return out;
    }
    let (walked, rules) = tokio::join!(walk(client, &env.rules, concurrency), client.rules());
    let mut walked = match walked {
        Ok(w) => w.counts,
        Err(e) => {
            out.error = Some(e.to_string());
            return out;
        }
    };
    // Rule names and order; a failed list still shows the ids.
    let listed: Vec<(String, String)> = rules
        .map(|(r, _)| r)
        .unwrap_or_default()
        .into_iter()
        .filter_map(|r| {
            let id = r.id?;
            Some((id.clone(), r.name.unwrap_or(id)))
        })
        .collect();
    let mut order: Vec<(String, String)> = listed
        .iter()
        .filter(|(id, _)| walked.rules.contains_key(id))
        .cloned()
        .collect();
    let mut rest: Vec<String> = walked
        .rules
        .keys()
        .filter(|id| !listed.iter().any(|(l, _)| l == *id))
        .cloned()
        .collect();
    rest.sort();
    order.extend(rest.into_iter().map(|id| (id.clone(), id)));
    for (id, name) in order {
        if let Some(users) = walked.rules.remove(&id).filter(|u| u.failed > 0) {
            out.rules.push(RuleFailures {
                id,
                name,
                failed: users.failed,
                records: users.failed_records,
            });
        }
    }
    out
}

/// Walks every environment with user-detail mode, one after the other
/// (environments may share a budget), in config order, each on its budget.
pub async fn collect(
    config: &Config,
    clients: Vec<(Environment, Arc<EnvClient>)>,
) -> Vec<EnvFailures> {
    let mut out = Vec::with_capacity(clients.len());
    for (env, client) in &clients {
        let concurrency = crate::commands::concurrency(config, env);
        out.push(one(env, client, concurrency).await);
    }
    out
}

/// The exit status for `envs` (see the module docs).
pub fn exit_for(envs: &[EnvFailures]) -> Exit {
    if envs.iter().any(|e| e.error.is_some()) || !envs.iter().any(|e| e.user_detail) {
        Exit::Error
    } else if envs.iter().any(|e| !e.rules.is_empty()) {
        Exit::Failures
    } else {
        Exit::Ok
    }
}

/// A record's `details`, cleaned and scrubbed; `None` when empty.
fn details(r: &FailedRecord) -> Option<String> {
    r.details.as_deref().and_then(|d| clean_details(d, &[]))
}

/// The table: one row per kept record, then `and N more` per rule.
pub fn render_table(envs: &[EnvFailures], colour: bool) -> String {
    let headers = [
        "ENVIRONMENT",
        "RULE",
        "USER",
        "STATE",
        "LAST SYNC",
        "DETAILS",
    ];
    let mut rows: Vec<Vec<Cell>> = vec![headers.into_iter().map(plain).collect()];
    for e in envs {
        for r in &e.rules {
            for rec in &r.records {
                rows.push(vec![
                    plain(e.name.as_str()),
                    plain(one_line(&r.name, DETAILS_WIDTH)),
                    plain(one_line(&rec.user_id, DETAILS_WIDTH)),
                    Cell {
                        text: "failed".into(),
                        style: Style::Bad,
                    },
                    rec.last_sync_at
                        .as_deref()
                        .map_or_else(absent, |t| plain(one_line(t, 40))),
                    details(rec).map_or_else(absent, |d| plain(one_line(&d, DETAILS_WIDTH))),
                ]);
            }
            let more = r.failed.saturating_sub(r.records.len() as u64);
            if more > 0 {
                rows.push(vec![
                    plain(e.name.as_str()),
                    plain(one_line(&r.name, DETAILS_WIDTH)),
                    plain(format!("and {more} more")),
                ]);
            }
        }
    }
    if rows.len() == 1 {
        return "no failing users\n".into();
    }
    lay_out(rows, &[false; 6], colour)
}

/// One JSON document (and a newline): per environment, per rule with
/// failed records, the kept records and how many more there are.
pub fn render_json(envs: &[EnvFailures], now: f64) -> String {
    let environments: Vec<Value> = envs
        .iter()
        .map(|e| {
            let rules: Vec<Value> = e
                .rules
                .iter()
                .map(|r| {
                    let users: Vec<Value> = r
                        .records
                        .iter()
                        .map(|rec| {
                            json!({
                                "user_id": rec.user_id,
                                "rule_id": r.id,
                                "rule": r.name,
                                "state": "failed",
                                "last_sync_at": rec.last_sync_at,
                                "details": details(rec),
                            })
                        })
                        .collect();
                    json!({
                        "id": r.id,
                        "name": r.name,
                        "failed_users": r.failed,
                        "users": users,
                        "more": r.failed.saturating_sub(r.records.len() as u64),
                    })
                })
                .collect();
            json!({
                "name": e.name,
                "id": e.id,
                "user_detail": e.user_detail,
                "error": e.error,
                "rules": rules,
            })
        })
        .collect();
    let doc = json!({
        "now": format_rfc3339(now),
        "failures": envs.iter().any(|e| !e.rules.is_empty()),
        "kept_per_rule": FAILED_KEPT,
        "environments": environments,
    });
    let mut text = serde_json::to_string_pretty(&doc).unwrap_or_else(|_| "{}".into());
    text.push('\n');
    text
}

/// Prints what `envs` gave on `out`, and on `err` every environment that
/// could not be walked or has user-detail mode off.
pub fn print(
    envs: &[EnvFailures],
    output: Output,
    now: f64,
    out: &mut dyn Write,
    err: &mut dyn Write,
) -> Exit {
    let mut exit = exit_for(envs);
    if !envs.iter().any(|e| e.user_detail) {
        let _ = writeln!(
            err,
            "pingone-sync-exporter status --failures: user-detail mode is off in every environment; \
             failing users are known only from per-user records: enable `user_detail:` for an \
             environment in the configuration (docs/metrics.md, \"User-detail mode\")"
        );
        return exit;
    }
    let text = match output {
        Output::Table { colour } => render_table(envs, colour),
        Output::Json => render_json(envs, now),
    };
    if out
        .write_all(text.as_bytes())
        .and_then(|()| out.flush())
        .is_err()
    {
        exit = Exit::Error;
    }
    for e in envs {
        if !e.user_detail {
            let _ = writeln!(
                err,
                "{}: user-detail mode is off; its failing users are not known",
                e.name
            );
        }
        if let Some(error) = &e.error {
            let _ = writeln!(err, "{}: the user-detail walk failed: {error}", e.name);
        }
    }
    exit
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample() -> Vec<EnvFailures> {
        let rec = |i: u32, details: Option<&str>| FailedRecord {
            user_id: format!("u{i:02}"),
            last_sync_at: Some("2026-01-01T00:00:05Z".into()),
            details: details.map(str::to_string),
        };
        vec![
            EnvFailures {
                name: "prod".into(),
                id: "e1".into(),
                user_detail: true,
                error: None,
                rules: vec![RuleFailures {
                    id: "r1".into(),
                    name: "SCIM outbound".into(),
                    failed: 22,
                    records: vec![
                        rec(1, Some("SCIM 401: Bearer abc.def.ghi\nretry")),
                        rec(2, None),
                    ],
                }],
            },
            EnvFailures {
                name: "dev".into(),
                id: "e2".into(),
                user_detail: false,
                error: None,
                rules: Vec::new(),
            },
        ]
    }

    #[test]
    fn the_table_lists_scrubbed_records_and_the_rest_as_a_count() {
        let text = render_table(&sample(), false);
        assert_eq!(
            text,
            "\
ENVIRONMENT  RULE           USER         STATE   LAST SYNC             DETAILS
prod         SCIM outbound  u01          failed  2026-01-01T00:00:05Z  SCIM 401: Bearer [redacted] retry
prod         SCIM outbound  u02          failed  2026-01-01T00:00:05Z  -
prod         SCIM outbound  and 20 more
"
        );
        assert_eq!(exit_for(&sample()), Exit::Failures);
    }

    #[test]
    fn json_has_every_kept_record_and_the_count_of_the_rest() {
        let v: Value = serde_json::from_str(&render_json(&sample(), 1_000_000.0)).unwrap();
        let r = &v["environments"][0]["rules"][0];
        assert_eq!(
            (r["failed_users"].clone(), r["more"].clone()),
            (json!(22), json!(20))
        );
        assert_eq!(
            r["users"][0],
            json!({"user_id": "u01", "rule_id": "r1", "rule": "SCIM outbound", "state": "failed",
                   "last_sync_at": "2026-01-01T00:00:05Z",
                   "details": "SCIM 401: Bearer [redacted] retry"})
        );
        assert_eq!(r["users"][1]["details"], Value::Null);
        assert_eq!(v["environments"][1]["user_detail"], false);
    }

    #[test]
    fn user_detail_off_everywhere_says_so_and_exits_2() {
        let off = vec![sample().remove(1)];
        let (mut out, mut err) = (Vec::new(), Vec::new());
        let exit = print(&off, Output::Json, 0.0, &mut out, &mut err);
        assert_eq!(exit, Exit::Error);
        assert!(out.is_empty());
        let err = String::from_utf8(err).unwrap();
        assert!(
            err.contains("user-detail mode is off in every environment"),
            "{err}"
        );
        let mut clean = sample();
        clean[0].rules.clear();
        assert_eq!(exit_for(&clean), Exit::Ok);
        assert_eq!(render_table(&clean, false), "no failing users\n");
    }
}
