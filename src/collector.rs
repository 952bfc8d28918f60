//! Turns environment snapshots and self-metrics into a `/metrics` answer.
//!
//! The per-rule part is rendered once per poll ([`render`]): one block of
//! sample lines per metric family per environment. Sample lines are the same
//! in both formats, so a scrape only writes family headers, copies the
//! blocks (reference-counted, not copied), computes the ages against the
//! scrape's clock, and writes the self-metrics. A rule deleted upstream is
//! missing from the next poll's snapshot, so its series disappear at once.

use bytes::Bytes;

use crate::exposition::{
    Desc, Format, Kind, write_f64, write_label_pairs, write_trailer, write_u64,
};
use crate::selfmetrics::{EnvKey, SelfMetrics};
use crate::snapshot::{EnvSnapshot, RuleStatus, RuleSummary, StateCounts};
use crate::state::EnvState;

macro_rules! family {
    ($name:literal, $help:literal) => {
        Desc {
            name: $name,
            help: concat!($help, " Cached: refreshed every poll interval; see pingone_exporter_last_success_timestamp_seconds."),
            kind: Kind::Gauge,
        }
    };
}

/// The per-rule families rendered at poll time, in exposition order.
pub const RULE_FAMILIES: [Desc; 12] = [
    family!(
        "pingone_provisioning_rule_info",
        "Always 1 for each provisioning rule; labels name its source and target stores and parent rule."
    ),
    family!(
        "pingone_provisioning_rule_enabled",
        "1 when the rule is enabled (active), else 0."
    ),
    family!(
        "pingone_provisioning_rule_status",
        "Rule sync status as a state set: 1 for the current status (active, inactive or failed), 0 for the others."
    ),
    family!(
        "pingone_provisioning_users_impacted",
        "Users targeted by the rule (Impacted)."
    ),
    family!(
        "pingone_provisioning_users",
        "Users of the rule by sync state: success, unsynced, partial, failed."
    ),
    family!(
        "pingone_provisioning_groups_impacted",
        "Groups targeted by the rule (Impacted)."
    ),
    family!(
        "pingone_provisioning_groups",
        "Groups of the rule by sync state: success, unsynced, partial, failed."
    ),
    family!(
        "pingone_provisioning_writeback_failures",
        "Users not updated by write-back (Write-back Failures)."
    ),
    family!(
        "pingone_provisioning_deprovision_failures",
        "Failed deprovisioning events since the latest revision."
    ),
    family!(
        "pingone_provisioning_last_sync_timestamp_seconds",
        "Unix time of the rule's last sync (Last Sync)."
    ),
    family!(
        "pingone_provisioning_last_poll_timestamp_seconds",
        "Unix time the inbound source was last polled (Last Poll)."
    ),
    family!(
        "pingone_provisioning_last_writeback_timestamp_seconds",
        "Unix time of the last write-back (Last Write-back)."
    ),
];

const AGE_SYNC: Desc = Desc {
    name: "pingone_provisioning_last_sync_age_seconds",
    help: "Seconds since the rule's last sync, computed at scrape time from the cached Last Sync.",
    kind: Kind::Gauge,
};
const AGE_POLL: Desc = Desc {
    name: "pingone_provisioning_last_poll_age_seconds",
    help: "Seconds since the inbound source was last polled, computed at scrape time from the cached Last Poll.",
    kind: Kind::Gauge,
};
const REVISION: Desc = family!(
    "pingone_provisioning_revision_timestamp_seconds",
    "Unix time of the environment's latest propagation revision (configuration change or resync)."
);

const USER_DETAIL: Desc = Desc {
    name: "pingone_exporter_user_detail_last_success_timestamp_seconds",
    help: "Unix time the user-detail walk whose counts are served finished (environments with user_detail enabled, once a walk succeeded).",
    kind: Kind::Gauge,
};

/// One environment's snapshot, rendered for scrapes.
#[derive(Debug, Default)]
pub struct Rendered {
    /// Sample lines per entry of [`RULE_FAMILIES`].
    blocks: Vec<Bytes>,
    /// `name{labels} ` prefixes and timestamps for the age families.
    ages: [Ages; 2],
    /// The revision sample line, if any.
    revision: Bytes,
    /// The user-detail freshness sample line, if any.
    user_detail: Bytes,
}

#[derive(Debug, Default)]
struct Ages {
    prefixes: Bytes,
    lines: Vec<(u32, u32, f64)>,
}

struct Line<'a> {
    out: &'a mut Vec<u8>,
}

impl Line<'_> {
    fn start(&mut self, name: &str, common: &[u8], extra: &[(&str, &str)]) {
        self.out.extend_from_slice(name.as_bytes());
        self.out.push(b'{');
        self.out.extend_from_slice(common);
        if !extra.is_empty() {
            self.out.push(b',');
            write_label_pairs(self.out, extra);
        }
        self.out.extend_from_slice(b"} ");
    }

    fn u64(&mut self, name: &str, common: &[u8], extra: &[(&str, &str)], v: u64) {
        self.start(name, common, extra);
        write_u64(self.out, v);
        self.out.push(b'\n');
    }

    fn f64(&mut self, name: &str, common: &[u8], extra: &[(&str, &str)], v: f64) {
        self.start(name, common, extra);
        write_f64(self.out, v);
        self.out.push(b'\n');
    }
}

fn states(line: &mut Line<'_>, name: &str, common: &[u8], counts: &StateCounts) {
    for (state, n) in counts.labelled() {
        if let Some(n) = n {
            line.u64(name, common, &[("state", state)], n);
        }
    }
}

fn rule_lines(family: usize, rule: &RuleSummary, common: &[u8], out: &mut Vec<u8>) {
    let name = RULE_FAMILIES[family].name;
    let mut line = Line { out };
    match family {
        0 => {
            let extra = [
                ("source_store", rule.source.name.as_str()),
                ("source_type", rule.source.kind.as_str()),
                ("target_store", rule.target.name.as_str()),
                ("target_type", rule.target.kind.as_str()),
                ("parent_rule_id", rule.parent_rule_id.as_str()),
            ];
            line.u64(name, common, &extra, 1);
        }
        1 => {
            if let Some(e) = rule.enabled {
                line.u64(name, common, &[], u64::from(e));
            }
        }
        2 => {
            if let Some(s) = rule.status {
                for st in RuleStatus::ALL {
                    line.u64(name, common, &[("status", st.as_str())], u64::from(st == s));
                }
            }
        }
        3 => opt_u64(&mut line, name, common, rule.users_impacted),
        4 => states(&mut line, name, common, &rule.users),
        5 => opt_u64(&mut line, name, common, rule.groups_impacted),
        6 => states(&mut line, name, common, &rule.groups),
        7 => opt_u64(&mut line, name, common, rule.writeback_failures),
        8 => opt_u64(&mut line, name, common, rule.deprovision_failures),
        9 => opt_f64(&mut line, name, common, rule.last_sync),
        10 => opt_f64(&mut line, name, common, rule.last_poll),
        _ => opt_f64(&mut line, name, common, rule.last_writeback),
    }
}

fn opt_u64(line: &mut Line<'_>, name: &str, common: &[u8], v: Option<u64>) {
    if let Some(v) = v {
        line.u64(name, common, &[], v);
    }
}

fn opt_f64(line: &mut Line<'_>, name: &str, common: &[u8], v: Option<f64>) {
    if let Some(v) = v {
        line.f64(name, common, &[], v);
    }
}

fn common_labels(env: &EnvKey, rule: &RuleSummary) -> Vec<u8> {
    let mut common = Vec::with_capacity(160);
    write_label_pairs(
        &mut common,
        &[
            ("environment_id", &env.id),
            ("environment_name", &env.name),
            ("rule_id", &rule.id),
            ("rule_name", &rule.name),
            ("direction", rule.direction.as_str()),
        ],
    );
    common
}

/// Renders one environment's snapshot. Called once per poll, off the scrape
/// path.
pub fn render(env: &EnvKey, snap: &EnvSnapshot) -> Rendered {
    let commons: Vec<Vec<u8>> = snap.rules.iter().map(|r| common_labels(env, r)).collect();
    let blocks = (0..RULE_FAMILIES.len())
        .map(|family| {
            let mut out = Vec::new();
            for (rule, common) in snap.rules.iter().zip(&commons) {
                rule_lines(family, rule, common, &mut out);
            }
            Bytes::from(out)
        })
        .collect();
    let mut ages: [Ages; 2] = Default::default();
    for (i, (desc, pick)) in [
        (
            AGE_SYNC,
            (|r: &RuleSummary| r.last_sync) as fn(&RuleSummary) -> Option<f64>,
        ),
        (AGE_POLL, |r: &RuleSummary| r.last_poll),
    ]
    .into_iter()
    .enumerate()
    {
        let mut prefixes = Vec::new();
        let mut lines = Vec::new();
        for (rule, common) in snap.rules.iter().zip(&commons) {
            if let Some(ts) = pick(rule) {
                let start = prefixes.len() as u32;
                Line { out: &mut prefixes }.start(desc.name, common, &[]);
                lines.push((start, prefixes.len() as u32, ts));
            }
        }
        ages[i] = Ages {
            prefixes: Bytes::from(prefixes),
            lines,
        };
    }
    let mut env_common = Vec::new();
    write_label_pairs(
        &mut env_common,
        &[("environment_id", &env.id), ("environment_name", &env.name)],
    );
    let env_line = |desc: &Desc, ts: Option<f64>| {
        let mut out = Vec::new();
        if let Some(ts) = ts {
            Line { out: &mut out }.f64(desc.name, &env_common, &[], ts);
        }
        Bytes::from(out)
    };
    Rendered {
        blocks,
        ages,
        revision: env_line(&REVISION, snap.revision_created),
        user_detail: env_line(&USER_DETAIL, snap.user_detail_finished),
    }
}

/// Collects chunks, batching small writes into one buffer.
struct ChunkWriter {
    chunks: Vec<Bytes>,
    pending: Vec<u8>,
}

impl ChunkWriter {
    fn flush(&mut self) {
        if !self.pending.is_empty() {
            let buf = std::mem::take(&mut self.pending);
            self.chunks.push(Bytes::from(buf));
        }
    }

    fn push(&mut self, block: &Bytes) {
        if block.len() < 4096 {
            self.pending.extend_from_slice(block);
        } else {
            self.flush();
            self.chunks.push(block.clone());
        }
    }
}

/// Encodes a whole `/metrics` answer at time `now` (Unix seconds) as a list
/// of buffers to send in order.
pub fn encode(
    format: Format,
    envs: &[std::sync::Arc<EnvState>],
    metrics: &SelfMetrics,
    now: f64,
) -> Vec<Bytes> {
    let mut w = ChunkWriter {
        chunks: Vec::new(),
        pending: Vec::with_capacity(64 * 1024),
    };
    let rendered: Vec<&Rendered> = envs.iter().filter_map(|e| e.rendered.as_deref()).collect();
    for (i, desc) in RULE_FAMILIES.iter().enumerate() {
        desc.write_header(format, &mut w.pending);
        for r in &rendered {
            if let Some(block) = r.blocks.get(i) {
                w.push(block);
            }
        }
    }
    for (i, desc) in [AGE_SYNC, AGE_POLL].iter().enumerate() {
        desc.write_header(format, &mut w.pending);
        for r in &rendered {
            let ages = &r.ages[i];
            for &(start, end, ts) in &ages.lines {
                w.pending
                    .extend_from_slice(&ages.prefixes[start as usize..end as usize]);
                write_f64(&mut w.pending, round_ms(now - ts));
                w.pending.push(b'\n');
            }
            if w.pending.len() > 256 * 1024 {
                w.flush();
            }
        }
    }
    REVISION.write_header(format, &mut w.pending);
    for r in &rendered {
        w.push(&r.revision);
    }
    USER_DETAIL.write_header(format, &mut w.pending);
    for r in &rendered {
        w.push(&r.user_detail);
    }
    metrics.encode(format, &mut w.pending);
    write_trailer(format, &mut w.pending);
    w.flush();
    w.chunks
}

/// Ages to the millisecond: finer digits are clock noise.
fn round_ms(v: f64) -> f64 {
    (v * 1000.0).round() / 1000.0
}
