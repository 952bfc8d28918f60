//! Property tests of the gzip answer: random label values, random rule
//! sets and random timestamps, gunzipped by a real inflater (flate2), must
//! give exactly the plain answer. Also the real inflaters every gzip and
//! deflate test of the collector checks its output with.

use std::io::Read;
use std::sync::Arc;

use super::{GzipCache, Rendered, encode, gzip, render};
use crate::exposition::{Format, LiveSink};
use crate::snapshot::{
    Direction, EnvKey, EnvSnapshot, RuleStatus, RuleSummary, StateCounts, StoreInfo, SyncEvents,
};

const NOW: f64 = 1_795_861_200.0;

/// A label value: mostly name-like, sometimes with characters that need
/// escaping, non-ASCII text, or long.
fn text(rng: &mut fastrand::Rng) -> String {
    let pool = [
        "a", "b", "rule", " ", "-", "0", "7", "\"", "\\", "\n", "é", "日本", "{", "}", "=", ",",
    ];
    let n = match rng.u8(0..10) {
        0 => rng.usize(0..2),
        1 => rng.usize(100..400),
        _ => rng.usize(1..24),
    };
    (0..n).map(|_| pool[rng.usize(..pool.len())]).collect()
}

/// A timestamp: usually a recent time, sometimes far away, in the future,
/// or not finite.
fn timestamp(rng: &mut fastrand::Rng) -> f64 {
    match rng.u8(0..20) {
        0 => f64::NAN,
        1 => f64::INFINITY,
        2 => -1e300,
        3 => NOW + rng.f64() * 100.0,
        4 => NOW,
        5 => rng.f64() * 1e6,
        _ => NOW - rng.f64() * 10f64.powi(rng.i32(0..9)),
    }
}

fn rule(rng: &mut fastrand::Rng) -> RuleSummary {
    let store = |rng: &mut fastrand::Rng| StoreInfo {
        id: text(rng),
        name: text(rng),
        kind: "scim".into(),
    };
    RuleSummary {
        id: text(rng),
        name: text(rng),
        direction: [Direction::Inbound, Direction::Outbound][rng.usize(0..2)],
        source: store(rng),
        target: store(rng),
        parent_rule_id: String::new(),
        enabled: rng.bool().then(|| rng.bool()),
        status: Some(RuleStatus::Active),
        users_impacted: rng.bool().then(|| rng.u64(..)),
        users: StateCounts {
            success: Some(rng.u64(0..1000)),
            failed: rng.bool().then(|| rng.u64(0..10)),
        },
        groups_impacted: None,
        groups: StateCounts::default(),
        writeback_failures: None,
        events: SyncEvents {
            success: rng.bool().then(|| rng.u64(..)),
            failure: Some(rng.u64(0..5)),
            failed_deprovision: None,
        },
        store_status: None,
        sync_error: None,
        failing_since: None,
        failing_polls: None,
        failed_users: Vec::new(),
        last_sync: rng.u8(0..5).ne(&0).then(|| timestamp(rng)),
        last_poll: rng.bool().then(|| timestamp(rng)),
        last_writeback: None,
    }
}

/// The gzip member in `chunks`, inflated by flate2, which checks the
/// trailer's CRC-32 and length too.
pub(super) fn gunzip(chunks: &[bytes::Bytes]) -> Vec<u8> {
    let all: Vec<u8> = chunks.iter().flat_map(|c| c.iter().copied()).collect();
    let mut out = Vec::new();
    flate2::read::GzDecoder::new(&all[..])
        .read_to_end(&mut out)
        .unwrap();
    out
}

/// A raw deflate stream, inflated by flate2.
pub(super) fn inflate(raw: &[u8]) -> Vec<u8> {
    let mut out = Vec::new();
    flate2::read::DeflateDecoder::new(raw)
        .read_to_end(&mut out)
        .unwrap();
    out
}

#[test]
fn random_answers_gunzip_to_the_plain_text() {
    let mut rng = fastrand::Rng::with_seed(42);
    for round in 0..60 {
        let rendered: Vec<Arc<Rendered>> = (0..rng.usize(0..5))
            .map(|e| {
                // Some environments share rules, so lines repeat exactly.
                let base: Vec<RuleSummary> = (0..rng.usize(0..4)).map(|_| rule(&mut rng)).collect();
                let rules = (0..rng.usize(0..if round % 5 == 0 { 300 } else { 40 }))
                    .map(|i| match (base.is_empty(), i % 3) {
                        (false, 0) => base[i % base.len()].clone(),
                        _ => rule(&mut rng),
                    })
                    .collect();
                let snap = EnvSnapshot {
                    rules,
                    revision_created: rng.bool().then(|| timestamp(&mut rng)),
                    user_detail_finished: None,
                    user_detail_walk_requests: None,
                };
                let key = EnvKey::new(&text(&mut rng), &format!("env {e}"));
                Arc::new(render(&key, &snap))
            })
            .collect();
        let live_text = text(&mut rng);
        for format in [Format::Text, Format::OpenMetrics] {
            // Scrape clocks a little apart change the values' lengths.
            let now = NOW + rng.f64() * 1000.0;
            let live = |out: &mut dyn LiveSink| out.text().extend_from_slice(live_text.as_bytes());
            let plain: Vec<u8> = encode(format, rendered.clone(), now, live)
                .iter()
                .flat_map(|b| b.iter().copied())
                .collect();
            let z = gzip(format, rendered.clone(), now, &GzipCache::default(), live).unwrap();
            assert!(
                gunzip(&z) == plain,
                "round {round}, {format:?}: gzip differs from the plain text"
            );
        }
    }
}
