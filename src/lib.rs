//! PingOne provisioning sync exporter.
//!
//! A daemon that polls the PingOne Platform API for the provisioning
//! ("identity propagation") sync status of every rule in one or more
//! environments, keeps the latest snapshot in memory and serves it to
//! Prometheus. The binary in `main.rs` is a thin shell over this crate so
//! that tests and benchmarks can reach every part.
//!
//! Module map, from the ground floor up (each imports only modules on its
//! own floor or below; `docs/architecture.md` follows a poll and a scrape
//! through them file by file):
//! - [`snapshot`]: the immutable per-environment poll result and its labels.
//! - [`exposition`]: Prometheus text and OpenMetrics writers and negotiation.
//! - [`secret`], [`shutdown`], [`timefmt`]: redacted secrets, the shutdown
//!   signal, timestamps.
//! - [`redact`]: removing secrets from free text (details, errors, logs).
//! - [`printable`]: escaping control characters before text reaches a
//!   terminal (log lines, `status`).
//! - [`outbound`]: what every outbound HTTPS client needs (crypto provider,
//!   error text).
//! - [`config`]: the YAML configuration, its validation and its error messages.
//! - [`selfmetrics`]: the exporter's own counters and gauges.
//! - [`http`]: the hyper server loop shared by the exporter and the simulator.
//! - [`collector`]: renders snapshots once per poll and assembles a scrape.
//! - [`pingone`]: the HTTP client for the documented PingOne API.
//! - [`plan`]: what each request budget must carry for the configured
//!   cadences, and whether it fits.
//! - [`state`]: the snapshots shared by pollers, the server and the alerter.
//! - [`webconfig`]: `--web.config.file`: TLS and basic auth for the server.
//! - [`simulator`]: a PingOne tenant simulator serving the documented API.
//! - [`healthcheck`]: the `healthcheck` command (the image's HEALTHCHECK).
//! - [`shard`]: which environments this replica polls (`--shard.*`).
//! - [`mapping`]: the fixed mapping from API objects to per-rule summaries.
//! - [`alerting`]: the built-in alert sender (conditions, state, delivery).
//! - [`cli`]: the command line.
//! - [`user_detail`]: the opt-in per-user walk (exact per-state counts).
//! - [`logging`]: log set-up (logfmt or JSON).
//! - [`poller`]: per-environment polling on a schedule, swapping snapshots.
//! - [`commands`]: the one-shot `status`, `dump` and `resync` commands.
//! - [`server`]: the HTTP endpoints (`/metrics`, `/-/healthy`, the status
//!   pages, ...).
//! - [`app`]: wiring: the daemon, demo mode, the simulator, the commands.
#![forbid(unsafe_code)]

pub mod alerting;
pub mod app;
pub mod cli;
pub mod collector;
pub mod commands;
pub mod config;
pub mod exposition;
pub mod healthcheck;
pub mod http;
pub mod logging;
pub mod mapping;
pub mod outbound;
pub mod pingone;
pub mod plan;
pub mod poller;
pub mod printable;
pub mod redact;
pub mod secret;
pub mod selfmetrics;
pub mod server;
pub mod shard;
pub mod shutdown;
pub mod simulator;
pub mod snapshot;
pub mod state;
pub mod timefmt;
pub mod user_detail;
pub mod webconfig;

/// The crate version, as built.
pub const VERSION: &str = env!("CARGO_PKG_VERSION");
