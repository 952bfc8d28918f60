//! One `/metrics` answer, written while it is sent.
//!
//! A scrape starts by listing its parts: family headers, the environments'
//! rendered blocks (shared, not copied), their age lines, the live
//! families its caller writes (self-metrics, alert sender) and the
//! trailer. Only the age values (`now − timestamp`) are formatted at once,
//! so the exact length is known before the first byte; the age lines
//! themselves, and the copies of small blocks, are written into buffers of
//! about [`CHUNK`] bytes as the connection asks for them. A scrape so holds
//! about one buffer of its own however large the exposition, which keeps
//! the memory of concurrent scrapes small.

use std::collections::VecDeque;
use std::sync::Arc;

use bytes::Bytes;
use flate2::CompressError;

use super::GzipCache;
use super::age::write_age;
use super::deflate::{Bits, FixedLines};
use super::families::{AGE_FAMILIES, ENV_FAMILIES, RULE_FAMILIES};
use super::gzip::{self, Deflated, GzipWriter};
use super::live::LiveCache;
use super::render::{Block, Rendered, SHARE_MIN};
use super::runs::Runs;
use crate::exposition::{Desc, Format, LiveSink, write_trailer};

/// Size of the buffers a scrape writes its own text into.
pub const CHUNK: usize = 64 * 1024;

/// Initial capacity for headers and live families: fixed part and per
/// environment (the self-metrics take about 3.5 KiB per environment).
const TEXT_BASE: usize = 8 * 1024;
const TEXT_PER_ENV: usize = 4 * 1024;

#[derive(Clone, Copy, Debug)]
enum Part {
    /// `text[start..end]`: live families, trailer, environment lines.
    Text(usize, usize),
    /// `text[start..end]`: the family header of header id `id` (see
    /// [`gzip::header`]).
    Header(usize, usize, usize),
    /// `rendered[env].blocks[family]`.
    Block(usize, usize),
    /// `rendered[env].ages[family]`, with the age values from `first_value`.
    Ages(usize, usize, usize),
    /// The live part, coded for a gzip scrape (`coded`), but for its
    /// volatile text, which follows it with the trailer as a `Text`.
    Coded,
}

/// Where the live families go: into the text, or coded for a gzip scrape
/// with the pieces kept in the cache.
enum Live<'a, F> {
    Plain(F),
    Gzip(&'a LiveCache, F),
}

/// What [`Exposition::next_piece`] yields: text written by this scrape, or
/// a rendered block shared with other scrapes.
enum Piece {
    Text(Bytes),
    Shared(usize, usize),
}

/// A `/metrics` answer in the making; iterate it for the plain text, or
/// ask [`gzip`](super::gzip) for the gzip answer.
#[derive(Debug)]
pub struct Exposition {
    format: Format,
    rendered: Vec<Arc<Rendered>>,
    /// The scrape's clock, Unix seconds.
    now: f64,
    text: Bytes,
    parts: VecDeque<Part>,
    /// The formatted age values, back to back; `value_ends[i]` ends value `i`.
    values: Vec<u8>,
    value_ends: Vec<u32>,
    /// The live part of a gzip scrape, coded.
    coded: Option<Deflated>,
    /// Where the per-environment families start in `parts`; they end
    /// where the live part starts, at `live_start`.
    env_section: usize,
    live_start: usize,
    pending: Vec<u8>,
    /// Plain-text bytes not yet yielded.
    remaining: u64,
}

impl Exposition {
    /// Lists the parts of an answer at time `now` (Unix seconds); `live`
    /// writes the live families (see [`scrape`](super::scrape)).
    pub(crate) fn new(
        format: Format,
        rendered: Vec<Arc<Rendered>>,
        now: f64,
        live: impl FnOnce(&mut dyn LiveSink),
    ) -> Self {
        Self::build(format, rendered, now, Live::Plain(live))
    }

    /// The gzip answer at time `now` (see [`Exposition::gzip`]), without
    /// formatting the age values for a plain answer first.
    pub(crate) fn gzip_at(
        format: Format,
        rendered: Vec<Arc<Rendered>>,
        now: f64,
        cache: &GzipCache,
        live: impl FnOnce(&mut dyn LiveSink),
    ) -> Result<Vec<Bytes>, CompressError> {
        Self::build(format, rendered, now, Live::Gzip(&cache.live, live)).gzip(&cache.runs)
    }

    /// Lists the parts; `values` formats the age values (needed for the
    /// plain answer's length, not for gzip).
    fn build<F: FnOnce(&mut dyn LiveSink)>(
        format: Format,
        rendered: Vec<Arc<Rendered>>,
        now: f64,
        live: Live<'_, F>,
    ) -> Self {
        let with_values = matches!(live, Live::Plain(_));
        // Sized from the inputs so that filling them does not reallocate:
        // headers and live families (a few KiB per environment), and about
        // ten bytes per age value.
        let envs = rendered.len();
        let ages: usize = rendered
            .iter()
            .flat_map(|r| r.ages.iter().map(|a| a.timestamps.len()))
            .sum();
        // A gzip scrape codes the live families elsewhere: its text is the
        // headers and environment lines only.
        let per_env = match live {
            Live::Plain(_) => TEXT_PER_ENV,
            Live::Gzip(..) => TEXT_PER_ENV / 16,
        };
        let mut text = Vec::with_capacity(TEXT_BASE + per_env * envs);
        let mut parts = VecDeque::with_capacity(
            RULE_FAMILIES.len() * (envs + 1) + AGE_FAMILIES.len() * (envs + 1) + 8,
        );
        let ages = if with_values { ages } else { 0 };
        let mut values = Vec::with_capacity(ages * 12);
        let mut value_ends = Vec::with_capacity(ages);
        let mut total = 0usize;
        let mut header_id = 0;
        let mut header = |desc: &Desc, text: &mut Vec<u8>, parts: &mut VecDeque<Part>| {
            let start = text.len();
            desc.write_header(format, text);
            parts.push_back(Part::Header(start, text.len(), header_id));
            header_id += 1;
        };
        for (family, f) in RULE_FAMILIES.iter().enumerate() {
            header(&f.desc, &mut text, &mut parts);
            for (env, r) in rendered.iter().enumerate() {
                if let Some(block) = r.block(family, format).filter(|b| !b.text.is_empty()) {
                    total += block.text.len();
                    parts.push_back(Part::Block(env, family));
                }
            }
        }
        for (family, f) in AGE_FAMILIES.iter().enumerate() {
            header(&f.desc, &mut text, &mut parts);
            for (env, r) in rendered.iter().enumerate() {
                let ages = &r.ages[family];
                if ages.timestamps.is_empty() {
                    continue;
                }
                parts.push_back(Part::Ages(env, family, value_ends.len()));
                total += ages.prefixes.len() + ages.timestamps.len();
                if with_values {
                    for ts in &ages.timestamps {
                        write_age(&mut values, now - ts);
                        value_ends.push(u32::try_from(values.len()).unwrap_or(u32::MAX));
                    }
                }
            }
        }
        total += values.len();
        let env_section = parts.len();
        for (family, f) in ENV_FAMILIES.iter().enumerate() {
            header(&f.desc, &mut text, &mut parts);
            let start = text.len();
            for line in rendered.iter().filter_map(|r| r.env_lines.get(family)) {
                text.extend_from_slice(line);
            }
            parts.push_back(Part::Text(start, text.len()));
        }
        let mut coded = None;
        let live_start = parts.len();
        match live {
            Live::Plain(live) => {
                let start = text.len();
                live(&mut text);
                write_trailer(format, &mut text);
                parts.push_back(Part::Text(start, text.len()));
            }
            Live::Gzip(cache, live) => {
                let mut coder = cache.coder(format);
                live(&mut coder);
                // The volatile text and the trailer are coded at every
                // scrape, after the part the cache may give whole.
                let start = text.len();
                coded = Some(coder.finish(&mut text));
                write_trailer(format, &mut text);
                parts.push_back(Part::Coded);
                if text.len() > start {
                    parts.push_back(Part::Text(start, text.len()));
                }
            }
        }
        total += text.len();
        Self {
            format,
            rendered,
            now,
            text: Bytes::from(text),
            parts,
            values,
            value_ends,
            coded,
            env_section,
            live_start,
            pending: Vec::new(),
            remaining: total as u64,
        }
    }

    /// Bytes of plain text still to come.
    pub fn remaining(&self) -> u64 {
        self.remaining
    }

    /// The rendered block of a listed part (it exists: parts are listed
    /// from the blocks).
    fn block(&self, env: usize, family: usize) -> &Block {
        let r = &self.rendered[env];
        r.block(family, self.format).unwrap_or(&r.blocks[family])
    }

    fn take_pending(&mut self) -> Bytes {
        Bytes::from(std::mem::take(&mut self.pending))
    }

    fn write_ages(&mut self, env: usize, family: usize, first_value: usize) {
        let ages = &self.rendered[env].ages[family];
        let mut start = 0;
        let mut value_start = match first_value {
            0 => 0,
            i => self.value_ends[i - 1] as usize,
        };
        for (i, &end) in ages.ends.iter().enumerate() {
            let value_end = self.value_ends[first_value + i] as usize;
            self.pending
                .extend_from_slice(&ages.prefixes[start..end as usize]);
            self.pending
                .extend_from_slice(&self.values[value_start..value_end]);
            self.pending.push(b'\n');
            start = end as usize;
            value_start = value_end;
        }
    }

    /// The next piece: own text of about [`CHUNK`] bytes, or a shared block.
    fn next_piece(&mut self) -> Option<Piece> {
        while let Some(part) = self.parts.pop_front() {
            if self.pending.capacity() == 0 {
                let left = usize::try_from(self.remaining).unwrap_or(usize::MAX);
                self.pending.reserve(left.min(CHUNK + CHUNK / 4));
            }
            match part {
                Part::Text(a, b) | Part::Header(a, b, _) => {
                    self.pending.extend_from_slice(&self.text[a..b])
                }
                Part::Block(env, family) => {
                    let text = self.block(env, family).text.clone();
                    if text.len() < SHARE_MIN {
                        self.pending.extend_from_slice(&text);
                    } else if self.pending.is_empty() {
                        return Some(Piece::Shared(env, family));
                    } else {
                        self.parts.push_front(part);
                        return Some(Piece::Text(self.take_pending()));
                    }
                }
                Part::Ages(env, family, first) => self.write_ages(env, family, first),
                // Only a gzip scrape codes its live part.
                Part::Coded => {}
            }
            if self.pending.len() >= CHUNK {
                return Some(Piece::Text(self.take_pending()));
            }
        }
        (!self.pending.is_empty()).then(|| Piece::Text(self.take_pending()))
    }

    /// The whole answer gzipped: headers and per-rule blocks as deflated
    /// before (stored segments, shared), the age lines from their prepared
    /// codes, the rest (self-metrics, environment lines) with the
    /// line-by-line coder. Nothing is compressed the general way here.
    /// `runs` keeps the leading run of stored segments joined.
    pub(crate) fn gzip(mut self, runs: &Runs) -> Result<Vec<Bytes>, CompressError> {
        let mut bits: Option<Bits> = None;
        let mut lines = Vec::with_capacity(CHUNK + CHUNK / 4);
        // One line coder for the scrape's own text: a fresh one per part
        // grew its scratch space again for every part.
        let mut coder = FixedLines::default();
        let now = self.now;
        let parts: Vec<Part> = std::mem::take(&mut self.parts).into();
        // The leading stored run (the per-rule families), joined once per
        // change of the renderings when it is small enough to keep (see
        // `runs`); else its segments go as they are, like the others.
        let lead = || {
            parts[..self.env_section]
                .iter()
                .map_while(|p| self.stored(*p))
                .collect()
        };
        let run = runs.get(self.format, &self.rendered, lead);
        // At most a buffer per part (and the run's frames): the list of
        // buffers grew by doubling at every scrape.
        let (skip, frames) = run.as_ref().map_or((0, 0), |r| (r.parts, r.frames.len()));
        let mut w = GzipWriter::with_capacity(parts.len().saturating_sub(skip) + frames);
        if let Some(run) = run {
            w.joined(&run.frames, run.crc, run.factor);
        }
        // The per-environment families, deflated once per set of renderings
        // (see `runs`), between the ages and the live part.
        let env_end = self.live_start.max(self.env_section);
        let section = runs.env_section(self.format, &self.rendered, || {
            let mut text = Vec::new();
            for part in &parts[self.env_section..env_end] {
                if let Part::Text(a, b) | Part::Header(a, b, _) = *part {
                    text.extend_from_slice(&self.text[a..b]);
                }
            }
            text
        });
        for (i, &part) in parts.iter().enumerate().skip(skip) {
            if i == self.env_section {
                if let Some(b) = bits.take() {
                    w.bits(b);
                }
                w.segment(&section.deflated);
            }
            if (self.env_section..env_end).contains(&i) {
                continue;
            }
            if let Some(d) = self.stored(part) {
                if let Some(b) = bits.take() {
                    w.bits(b);
                }
                w.segment(d);
                continue;
            }
            let out = bits.get_or_insert_with(|| Bits::with_capacity(self.run_size(&parts[i..])));
            let crc = w.crc();
            match part {
                Part::Text(a, b) | Part::Header(a, b, _) => {
                    let text = &self.text[a..b];
                    coder.block(out, text);
                    crc.update(text);
                }
                Part::Block(env, family) => {
                    let text = &self.block(env, family).text;
                    coder.block(out, text);
                    crc.update(text);
                }
                Part::Ages(env, family, _) => {
                    let ages = &self.rendered[env].ages[family];
                    if let Some(codes) = &ages.codes {
                        let values = ages.timestamps.iter().map(|ts| now - ts);
                        codes.write(out, &ages.prefixes, &ages.ends, values, &mut lines, crc);
                    }
                }
                // Stored: sent above.
                Part::Coded => {}
            }
        }
        if let Some(b) = bits {
            w.bits(b);
        }
        Ok(w.finish())
    }

    /// The segment a gzip scrape sends for `part` as deflated beforehand,
    /// if any.
    fn stored(&self, part: Part) -> Option<&Deflated> {
        match part {
            Part::Header(.., id) => gzip::header(self.format, id),
            Part::Block(env, family) => self.block(env, family).deflated.as_ref(),
            Part::Coded => self.coded.as_ref(),
            _ => None,
        }
    }

    /// About the bytes the run of parts a gzip scrape codes itself,
    /// starting at `parts[0]`, takes: the buffer is sized once (growing a
    /// few hundred KiB by doubling copies it and touches fresh pages).
    fn run_size(&self, parts: &[Part]) -> usize {
        parts
            .iter()
            .take_while(|p| self.stored(**p).is_none())
            .map(|&p| match p {
                Part::Text(a, b) | Part::Header(a, b, _) => (b - a) / 3,
                Part::Block(env, family) => self.block(env, family).text.len() / 3,
                Part::Ages(env, family, _) => self.rendered[env].ages[family]
                    .codes
                    .as_ref()
                    .map_or(0, |c| c.size_hint()),
                Part::Coded => 0,
            })
            .sum::<usize>()
            + 64
    }
}

impl Iterator for Exposition {
    type Item = Bytes;

    /// The next buffer of plain text.
    fn next(&mut self) -> Option<Bytes> {
        let bytes = match self.next_piece()? {
            Piece::Text(t) => t,
            Piece::Shared(env, family) => self.block(env, family).text.clone(),
        };
        self.remaining = self.remaining.saturating_sub(bytes.len() as u64);
        Some(bytes)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::collector::render;
    use crate::collector::tests::gunzip;
    use crate::exposition::write_f64;
    use crate::selfmetrics::SelfMetrics;
    use crate::snapshot::{
        Direction, EnvKey, EnvSnapshot, RuleStatus, RuleSummary, StateCounts, StoreInfo,
    };

    const NOW: f64 = 1_795_861_200.0;

    fn rule(i: usize) -> RuleSummary {
        let store = |n: &str| StoreInfo {
            id: format!("{n}-{i}"),
            name: format!("{n} {i}"),
            kind: "scim".into(),
        };
        RuleSummary {
            id: format!("rule-{i:04}"),
            name: format!("rule {i}"),
            direction: Direction::Outbound,
            source: store("src"),
            target: store("dst"),
            parent_rule_id: String::new(),
            enabled: Some(i % 10 != 9),
            status: Some(RuleStatus::Active),
            users_impacted: Some(100 + i as u64),
            users: StateCounts {
                success: Some(90),
                failed: Some(i as u64 % 7),
            },
            groups_impacted: Some(5),
            groups: StateCounts::default(),
            writeback_failures: (i % 8 == 6).then_some(1),
            events: crate::snapshot::SyncEvents {
                success: Some(1000 + i as u64),
                failure: Some(i as u64 % 3),
                failed_deprovision: Some(0),
            },
            store_status: None,
            sync_error: None,
            failing_since: None,
            failing_polls: None,
            failed_users: Vec::new(),
            last_sync: Some(NOW - 86_400.0 + i as f64 * 0.3791),
            last_poll: (i % 8 == 5).then_some(NOW - 60.5),
            last_writeback: None,
        }
    }

    fn envs(rules_per_env: &[usize]) -> Vec<Arc<Rendered>> {
        envs_revised(rules_per_env, NOW - 3600.0)
    }

    /// Like [`envs`], with every environment's latest revision at
    /// `revision` (Unix seconds).
    fn envs_revised(rules_per_env: &[usize], revision: f64) -> Vec<Arc<Rendered>> {
        rules_per_env
            .iter()
            .enumerate()
            .map(|(e, &n)| {
                let snap = EnvSnapshot {
                    rules: (0..n).map(rule).collect(),
                    revision_created: Some(revision),
                    user_detail_finished: (e % 2 == 0).then_some(NOW - 60.0),
                    user_detail_walk_requests: None,
                };
                Arc::new(render(
                    &EnvKey::new(&format!("env-{e}"), &format!("e{e}")),
                    &snap,
                ))
            })
            .collect()
    }

    /// The answer written the simple way: everything copied, in order.
    fn reference(format: Format, rendered: &[Arc<Rendered>], metrics: &SelfMetrics) -> Vec<u8> {
        let mut out = Vec::new();
        for (family, f) in RULE_FAMILIES.iter().enumerate() {
            f.desc.write_header(format, &mut out);
            for r in rendered {
                out.extend_from_slice(&r.block(family, format).unwrap().text);
            }
        }
        for (family, f) in AGE_FAMILIES.iter().enumerate() {
            f.desc.write_header(format, &mut out);
            for r in rendered {
                let ages = &r.ages[family];
                let mut start = 0;
                for (&end, ts) in ages.ends.iter().zip(&ages.timestamps) {
                    out.extend_from_slice(&ages.prefixes[start..end as usize]);
                    write_f64(&mut out, ((NOW - ts) * 1000.0).round() / 1000.0);
                    out.push(b'\n');
                    start = end as usize;
                }
            }
        }
        for (family, f) in ENV_FAMILIES.iter().enumerate() {
            f.desc.write_header(format, &mut out);
            for r in rendered {
                out.extend_from_slice(&r.env_lines[family]);
            }
        }
        metrics.encode(format, &mut out);
        write_trailer(format, &mut out);
        out
    }

    #[test]
    fn streamed_text_and_gzip_match_the_simple_encoding() {
        let metrics = SelfMetrics::new("0", "x");
        // Small environments (blocks copied) and large ones (blocks shared,
        // own text over several chunks).
        let rendered = envs(&[3, 400, 0, 1, 700]);
        assert!(rendered[4].blocks[0].text.len() >= SHARE_MIN);
        for format in [Format::Text, Format::OpenMetrics] {
            let want = reference(format, &rendered, &metrics);
            let live = |out: &mut dyn LiveSink| metrics.encode_live(format, out);
            let e = Exposition::new(format, rendered.clone(), NOW, live);
            assert_eq!(e.remaining(), want.len() as u64, "length known up front");
            let mut got = Vec::new();
            let mut e = e;
            let mut pieces = 0;
            while let Some(b) = e.next() {
                got.extend_from_slice(&b);
                pieces += 1;
                assert_eq!(e.remaining(), (want.len() - got.len()) as u64);
            }
            assert!(pieces > 20, "sent in pieces, not as one buffer");
            assert_eq!(
                String::from_utf8(got).unwrap(),
                String::from_utf8(want.clone()).unwrap()
            );

            let z = Exposition::gzip_at(format, rendered.clone(), NOW, &GzipCache::default(), live)
                .unwrap();
            let zipped: usize = z.iter().map(|c| c.len()).sum();
            assert_eq!(gunzip(&z), want);
            assert!(zipped < want.len() / 5, "{} of {}", zipped, want.len());
        }
    }

    #[test]
    fn a_kept_run_is_not_served_once_an_environment_is_rendered_anew() {
        let metrics = SelfMetrics::new("0", "x");
        // Runs kept, and none kept (as for a tenant whose run is too large).
        for runs in [Runs::default(), Runs::keeping(0)] {
            let cache = GzipCache {
                live: LiveCache::default(),
                runs,
            };
            answers_across_renderings(&metrics, &cache);
        }
    }

    fn answers_across_renderings(metrics: &SelfMetrics, cache: &GzipCache) {
        let mut rendered = envs(&[3, 400, 0, 1, 700]);
        for round in 0..3 {
            for format in [Format::Text, Format::OpenMetrics] {
                let live = |out: &mut dyn LiveSink| metrics.encode_live(format, out);
                let want = reference(format, &rendered, metrics);
                for _ in 0..2 {
                    let z = Exposition::gzip_at(format, rendered.clone(), NOW, cache, live);
                    assert_eq!(gunzip(&z.unwrap()), want, "round {round}");
                }
            }
            // Environment 1 polled: fewer rules, a new revision, a new
            // rendering.
            let revision = NOW - 3600.0 + f64::from(round);
            rendered[1] = envs_revised(&[0, 300 - 100 * round as usize], revision)[1].clone();
        }
    }

    #[test]
    fn counters_carry_created_in_openmetrics_only() {
        let rendered = envs(&[1]);
        let text = |format| {
            let e = Exposition::new(format, rendered.clone(), NOW, |_| {});
            String::from_utf8(e.flat_map(|b| b.to_vec()).collect()).unwrap()
        };
        let (classic, om) = (text(Format::Text), text(Format::OpenMetrics));
        let created = "pingone_provisioning_sync_events_created{environment_id=\"env-0\",environment_name=\"e0\",rule_id=\"rule-0000\",rule_name=\"rule 0\",direction=\"outbound\",result=\"success\"} 1795857600\n";
        assert!(om.contains(&format!(
            "pingone_provisioning_sync_events_total{{environment_id=\"env-0\",environment_name=\"e0\",rule_id=\"rule-0000\",rule_name=\"rule 0\",direction=\"outbound\",result=\"success\"}} 1000\n{created}"
        )), "{om}");
        assert!(om.contains("# TYPE pingone_provisioning_sync_events counter\n"));
        assert!(!classic.contains("_created"), "{classic}");
        assert!(classic.contains("# TYPE pingone_provisioning_sync_events_total counter\n"));
    }

    #[test]
    fn no_environments_still_has_headers_and_self_metrics() {
        let metrics = SelfMetrics::new("0", "x");
        let e = Exposition::new(Format::OpenMetrics, Vec::new(), NOW, |out| {
            metrics.encode_live(Format::OpenMetrics, out)
        });
        let n = e.remaining();
        let text: Vec<u8> = e.flat_map(|b| b.to_vec()).collect();
        assert_eq!(text.len() as u64, n);
        assert!(String::from_utf8(text).unwrap().ends_with("# EOF\n"));
    }
}
