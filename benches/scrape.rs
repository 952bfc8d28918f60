//! Timing harness for one `/metrics` scrape, in process (no HTTP): the
//! plain and gzip answers at the benchmark's sizes, and the parts a gzip
//! scrape is made of. For profiling (`perf record` on this binary) and for
//! quick before/after checks; the figures against nginx come from
//! `scripts/bench.sh`.
//!
//! ```console
//! $ cargo bench --bench scrape            # M and L
//! $ cargo bench --bench scrape -- L 200   # one size, 200 scrapes per figure
//! $ perf record -g target/release/deps/scrape-HASH L 500 gzip   # one load
//!   (loads: gzip, cold (every environment changed), plain, nosm)
//! ```
//!
//! Figures are CPU time of the scraping thread, not wall time.

use std::hint::black_box;
use std::sync::Arc;
use std::time::Instant;

use pingone_sync_exporter::collector::{self, GzipCache, Rendered};
use pingone_sync_exporter::exposition::{Format, LiveSink};
use pingone_sync_exporter::http::Chunks;
use pingone_sync_exporter::selfmetrics::SelfMetrics;
use pingone_sync_exporter::snapshot::{
    Direction, EnvKey, EnvSnapshot, RuleStatus, RuleSummary, StateCounts, StoreInfo, SyncEvents,
};

const NOW: f64 = 1_795_861_200.0;

fn uuid(rng: &mut fastrand::Rng) -> String {
    let h = |rng: &mut fastrand::Rng, n: usize| -> String {
        (0..n)
            .map(|_| char::from_digit(rng.u32(0..16), 16).unwrap_or('0'))
            .collect()
    };
    format!(
        "{}-{}-4{}-8{}-{}",
        h(rng, 8),
        h(rng, 4),
        h(rng, 3),
        h(rng, 3),
        h(rng, 12)
    )
}

/// A rule like the simulator's bench tenants: every tenth inactive, some
/// inbound (with a last poll).
fn rule(rng: &mut fastrand::Rng, i: usize) -> RuleSummary {
    let kinds = [
        "SCIM",
        "Salesforce",
        "Slack",
        "Zoom",
        "GoogleApps",
        "Workday",
        "LDAP",
    ];
    let kind = kinds[i % kinds.len()];
    let inbound = kind == "Workday" || kind == "LDAP";
    let store = |rng: &mut fastrand::Rng, name: &str| StoreInfo {
        id: uuid(rng),
        name: name.to_string(),
        kind: name.to_lowercase(),
    };
    RuleSummary {
        id: uuid(rng),
        name: format!("{kind} rule {i}"),
        direction: if inbound {
            Direction::Inbound
        } else {
            Direction::Outbound
        },
        source: store(rng, "PingOne"),
        target: store(rng, kind),
        parent_rule_id: String::new(),
        enabled: Some(i % 10 != 9),
        status: Some(RuleStatus::Active),
        users_impacted: Some(100),
        users: StateCounts {
            success: Some(95),
            failed: Some(rng.u64(0..5)),
        },
        groups_impacted: Some(5),
        groups: StateCounts {
            success: Some(5),
            failed: Some(0),
        },
        writeback_failures: None,
        events: SyncEvents {
            success: Some(rng.u64(0..100_000)),
            failure: Some(rng.u64(0..100)),
            failed_deprovision: Some(0),
        },
        store_status: None,
        sync_error: None,
        failing_since: None,
        failing_polls: None,
        failed_users: Vec::new(),
        last_sync: Some(NOW - rng.f64() * 86_400.0),
        last_poll: inbound.then(|| NOW - rng.f64() * 600.0),
        last_writeback: None,
    }
}

struct Tenant {
    /// Two renderings of the same snapshots: [`Tenant::touch`] switches.
    renderings: [Vec<Arc<Rendered>>; 2],
    current: std::cell::Cell<usize>,
    metrics: Arc<SelfMetrics>,
    keys: Vec<EnvKey>,
}

impl Tenant {
    /// The environments' renderings served now.
    fn rendered(&self) -> &[Arc<Rendered>] {
        &self.renderings[self.current.get()]
    }

    /// As when every environment polled since the last scrape: changes
    /// every environment's self-metrics (one more request each) and
    /// serves other renderings (of the same snapshots).
    fn touch(&self) {
        for key in &self.keys {
            self.metrics.api_request(key, "stores", "200");
        }
        self.current.set(1 - self.current.get());
    }
}

fn tenant(envs: usize, rules: usize) -> Tenant {
    let mut rng = fastrand::Rng::with_seed(1);
    let metrics = SelfMetrics::new("0.1.0", "abcdef0");
    metrics.config_loaded(true, NOW - 3600.0);
    let mut keys = Vec::new();
    let rendered = (0..envs)
        .map(|e| {
            let key = EnvKey::new(&uuid(&mut rng), &format!("tenant-env-{e}"));
            keys.push(key.clone());
            metrics.add_env(&key);
            for endpoint in ["token", "stores", "rules", "revision_latest"] {
                metrics.api_request(&key, endpoint, "200");
            }
            for _ in 0..rules {
                metrics.api_request(&key, "synced_groups", "200");
            }
            metrics.poll_finished(&key, Ok(NOW - 30.0), 0.4 + e as f64 * 0.01);
            let snap = EnvSnapshot {
                rules: (0..rules).map(|i| rule(&mut rng, i)).collect(),
                revision_created: Some(NOW - 7200.0),
                user_detail_finished: None,
                user_detail_walk_requests: None,
            };
            let render = || Arc::new(collector::render(&key, &snap));
            (render(), render())
        })
        .collect::<Vec<_>>();
    Tenant {
        renderings: [
            rendered.iter().map(|r| Arc::clone(&r.0)).collect(),
            rendered.iter().map(|r| Arc::clone(&r.1)).collect(),
        ],
        current: std::cell::Cell::new(0),
        metrics,
        keys,
    }
}

/// A gzip scrape as the server makes and sends it (small buffers joined
/// into frames as the connection takes them); the frames' total length.
fn gzip(
    format: Format,
    rendered: &[Arc<Rendered>],
    cache: &GzipCache,
    live: impl FnOnce(&mut dyn LiveSink),
) -> Result<usize, flate2::CompressError> {
    let chunks = collector::gzip(format, rendered.to_vec(), NOW, cache, live)?;
    Ok(Chunks::new(chunks)
        .map(|frame| black_box(frame).len())
        .sum())
}

/// This thread's CPU time so far, in ns (Linux: the first field of
/// schedstat; wall time elsewhere).
fn cpu_ns(wall: Instant) -> u64 {
    std::fs::read_to_string("/proc/thread-self/schedstat")
        .ok()
        .and_then(|s| s.split_whitespace().next()?.parse().ok())
        .unwrap_or_else(|| wall.elapsed().as_nanos() as u64)
}

/// Mean CPU time of `f` over `n` runs (after one warm-up), in ms: the
/// machine is shared, so wall time says little.
fn time<R>(n: usize, mut f: impl FnMut() -> R) -> f64 {
    black_box(f());
    let wall = Instant::now();
    let t = cpu_ns(wall);
    for _ in 0..n {
        black_box(f());
    }
    (cpu_ns(wall) - t) as f64 / 1e6 / n as f64
}

fn size(name: &str, envs: usize, rules: usize, n: usize, only: Option<&str>) {
    let t = tenant(envs, rules);
    // One cache per server, as in the daemon: between these scrapes no
    // environment's self-metrics change, so only the first scrape codes
    // them; "every environment changed" updates each environment's
    // self-metrics before each scrape (as when every environment polled
    // since the last scrape), so every piece is coded again.
    let cache = GzipCache::default();
    if let Some(what) = only {
        // One load only, for `perf record` (after the set-up above).
        let format = Format::OpenMetrics;
        let live = |out: &mut dyn LiveSink| t.metrics.encode_live(format, out);
        let ms = match what {
            "gzip" => time(n, || gzip(format, t.rendered(), &cache, live)),
            "cold" => time(n, || {
                t.touch();
                gzip(format, t.rendered(), &cache, live)
            }),
            "plain" => time(n, || {
                collector::encode(format, t.rendered().to_vec(), NOW, live).len()
            }),
            _ => time(n, || gzip(format, t.rendered(), &cache, |_| {})),
        };
        println!("{name} {what} {ms:8.3} ms");
        return;
    }
    for format in [Format::Text, Format::OpenMetrics] {
        let live = |out: &mut dyn LiveSink| t.metrics.encode_live(format, out);
        let plain: usize = collector::encode(format, t.rendered().to_vec(), NOW, live)
            .iter()
            .map(|b| b.len())
            .sum();
        let gz: usize = gzip(format, t.rendered(), &cache, live).unwrap_or(0);
        let mut self_text = Vec::new();
        t.metrics.encode(format, &mut self_text);
        let f = format!("{format:?}");
        println!(
            "{name} {f:<11} plain {plain} B, gzip {gz} B, self-metrics {} B",
            self_text.len()
        );
        let ms = time(n, || {
            collector::encode(format, t.rendered().to_vec(), NOW, live)
                .iter()
                .map(|b| b.len())
                .sum::<usize>()
        });
        println!("{name} {f:<11} plain scrape          {ms:8.3} ms");
        let ms = time(n, || gzip(format, t.rendered(), &cache, live));
        println!("{name} {f:<11} gzip scrape           {ms:8.3} ms");
        let ms = time(n, || {
            t.touch();
            gzip(format, t.rendered(), &cache, live)
        });
        println!("{name} {f:<11} gzip, every env changed {ms:6.3} ms");
        let ms = time(n, || gzip(format, t.rendered(), &cache, |_| {}));
        println!("{name} {f:<11} gzip, no self-metrics {ms:8.3} ms");
        let ms = time(n, || {
            let mut out = Vec::with_capacity(self_text.len());
            t.metrics.encode(format, &mut out);
            out.len()
        });
        println!("{name} {f:<11} self-metrics text     {ms:8.3} ms");
    }
}

fn main() {
    let args: Vec<String> = std::env::args()
        .skip(1)
        .filter(|a| a != "--bench")
        .collect();
    let n = args.get(1).and_then(|n| n.parse().ok());
    let only = args.get(2).map(String::as_str);
    let sizes: &[(&str, usize, usize, usize)] = &[("M", 20, 20, 400), ("L", 200, 50, 40)];
    for &(name, envs, rules, default_n) in sizes {
        if args.first().is_none_or(|s| s == name) {
            size(name, envs, rules, n.unwrap_or(default_n), only);
        }
    }
}
