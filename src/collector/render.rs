//! Rendering one environment's snapshot once per poll: the sample lines of
//! every per-rule family, the label prefixes of the age lines and the
//! environment-level lines (revision), each family as its entry in
//! [`families`](super::families) writes it, shared by every scrape until the
//! next poll; the larger blocks also deflated, so a gzip scrape does not
//! compress them again.
//!
//! Everything is written into one growing buffer, then each part is copied
//! into an allocation of exactly its size (a family block is at most some
//! tens of KiB). Slicing the one buffer instead (about 170 KiB per
//! environment at 50 rules) left the first cycle's freed memory in holes
//! too small for those buffers: at 200 environments the heap held 84 MB
//! for 48 MB in use, against 57 MB with per-part copies.

use bytes::Bytes;

use super::deflate::LineCodes;
use super::families::{AGE_FAMILIES, ENV_FAMILIES, RULE_FAMILIES, Samples};
use super::gzip::{self, Deflated};
use crate::exposition::{Format, Kind, write_label_pairs};
use crate::snapshot::{EnvKey, EnvSnapshot, RuleSummary};

/// Blocks at least this long are sent by reference in a plain answer;
/// shorter ones are copied into the scrape's own buffers, where a separate
/// write would cost more than the copy. (For gzip every block is deflated
/// once per poll and sent by reference: deflating at scrape time costs more
/// than a segment's few bytes of framing.)
pub(crate) const SHARE_MIN: usize = 4096;

/// One environment's snapshot, rendered for scrapes. Immutable.
#[derive(Debug, Default)]
pub struct Rendered {
    /// Sample lines per entry of [`RULE_FAMILIES`].
    pub(crate) blocks: Vec<Block>,
    /// Per entry of [`RULE_FAMILIES`]: the OpenMetrics variant of a counter
    /// family's block (with `_created` lines); `None` when it is the same
    /// as the classic one (gauges, or no revision time known).
    pub(crate) om_blocks: Vec<Option<Block>>,
    /// Per entry of [`AGE_FAMILIES`]: the lines' `name{labels} ` prefixes.
    pub(crate) ages: [Ages; AGE_FAMILIES.len()],
    /// Per entry of [`ENV_FAMILIES`]: the environment's sample line, if any.
    pub(crate) env_lines: Vec<Bytes>,
}

/// One family's sample lines of one environment.
#[derive(Debug, Default)]
pub(crate) struct Block {
    /// The text.
    pub(crate) text: Bytes,
    /// The text deflated (a stored segment for gzip scrapes), unless empty.
    pub(crate) deflated: Option<Deflated>,
}

/// The age lines of one family of one environment: line `i` is
/// `prefixes[ends[i-1]..ends[i]]`, then `now − timestamps[i]`, then a newline.
#[derive(Debug, Default)]
pub(crate) struct Ages {
    pub(crate) prefixes: Bytes,
    pub(crate) ends: Vec<u32>,
    pub(crate) timestamps: Vec<f64>,
    /// The lines' deflate codes, for gzip scrapes (`None` without lines).
    pub(crate) codes: Option<LineCodes>,
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

impl Rendered {
    /// The block of `family` for `format`: a counter's OpenMetrics variant
    /// when it has one, else the shared block.
    pub(crate) fn block(&self, family: usize, format: Format) -> Option<&Block> {
        match (format, self.om_blocks.get(family)) {
            (Format::OpenMetrics, Some(Some(om))) => Some(om),
            _ => self.blocks.get(family),
        }
    }
}

/// Renders one environment's snapshot. Called once per poll, off the scrape
/// path.
pub fn render(env: &EnvKey, snap: &EnvSnapshot) -> Rendered {
    let commons: Vec<Vec<u8>> = snap.rules.iter().map(|r| common_labels(env, r)).collect();
    let mut out = Vec::new();
    let mut block_ends = Vec::with_capacity(RULE_FAMILIES.len());
    for family in &RULE_FAMILIES {
        for (rule, common) in snap.rules.iter().zip(&commons) {
            let mut samples = Samples {
                out: &mut out,
                name: family.desc.name,
                labels: common,
                created: None,
            };
            (family.write)(&mut samples, rule);
        }
        block_ends.push(out.len());
    }
    // Counters in OpenMetrics carry `_created` after each `_total` line: the
    // latest revision's time, when known (a revision resets the counts).
    let om_texts: Vec<Option<Bytes>> = RULE_FAMILIES
        .iter()
        .map(|family| {
            let created = snap.revision_created?;
            (family.desc.kind == Kind::Counter).then(|| {
                let mut om = Vec::new();
                for (rule, common) in snap.rules.iter().zip(&commons) {
                    let mut samples = Samples {
                        out: &mut om,
                        name: family.desc.name,
                        labels: common,
                        created: Some(created),
                    };
                    (family.write)(&mut samples, rule);
                }
                // An allocation of exactly its size, as for the other
                // parts: a grown Vec keeps up to half again as slack.
                Bytes::copy_from_slice(&om)
            })
        })
        .collect();
    let mut ages: [(usize, Vec<u32>, Vec<f64>); AGE_FAMILIES.len()] = Default::default();
    for (i, family) in AGE_FAMILIES.iter().enumerate() {
        let start = out.len();
        for (rule, common) in snap.rules.iter().zip(&commons) {
            if let Some(ts) = (family.since)(rule) {
                Samples {
                    out: &mut out,
                    name: family.desc.name,
                    labels: common,
                    created: None,
                }
                .start(&[]);
                ages[i]
                    .1
                    .push(u32::try_from(out.len() - start).unwrap_or(u32::MAX));
                ages[i].2.push(ts);
            }
        }
        ages[i].0 = out.len();
    }
    let mut env_common = Vec::new();
    write_label_pairs(
        &mut env_common,
        &[("environment_id", &env.id), ("environment_name", &env.name)],
    );
    let mut env_ends = Vec::with_capacity(ENV_FAMILIES.len());
    for family in &ENV_FAMILIES {
        if let Some(v) = (family.value)(snap) {
            Samples {
                out: &mut out,
                name: family.desc.name,
                labels: &env_common,
                created: None,
            }
            .f64(&[], v);
        }
        env_ends.push(out.len());
    }
    // Each part gets an allocation of exactly its size (see the module doc).
    let part = |a: usize, b: usize| Bytes::copy_from_slice(&out[a..b]);

    let mut start = 0;
    let texts: Vec<Bytes> = block_ends
        .iter()
        .map(|&end| {
            let text = part(start, end);
            start = end;
            text
        })
        .collect();
    let deflated = gzip::deflate_blocks(texts.iter().map(|t| (!t.is_empty()).then_some(&t[..])));
    let blocks = texts
        .into_iter()
        .zip(deflated)
        .map(|(text, deflated)| Block { text, deflated })
        .collect();
    let om_deflated = gzip::deflate_blocks(
        om_texts
            .iter()
            .map(|t| t.as_ref().filter(|t| !t.is_empty()).map(|t| &t[..])),
    );
    let om_blocks = om_texts
        .into_iter()
        .zip(om_deflated)
        .map(|(text, deflated)| text.map(|text| Block { text, deflated }))
        .collect();
    let ages = ages.map(|(end, mut ends, mut timestamps)| {
        ends.shrink_to_fit();
        timestamps.shrink_to_fit();
        let prefixes = part(start, end);
        start = end;
        let codes = (!ends.is_empty()).then(|| LineCodes::new(&prefixes, &ends));
        Ages {
            prefixes,
            ends,
            timestamps,
            codes,
        }
    });
    let env_lines = env_ends
        .iter()
        .map(|&end| {
            let line = part(start, end);
            start = end;
            line
        })
        .collect();
    Rendered {
        blocks,
        om_blocks,
        ages,
        env_lines,
    }
}
