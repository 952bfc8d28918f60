//! PingOne provisioning sync exporter.
//!
//! A daemon that polls the PingOne Platform API for the provisioning
//! ("identity propagation") sync status of every rule in one or more
//! environments, keeps the latest snapshot in memory and serves it to
//! Prometheus. The binary in `main.rs` is a thin shell over this crate so
//! that tests and benchmarks can reach every part.
//!
//! Module map (data flows top to bottom):
//! - [`config`]: the YAML configuration, its validation and its error messages.
//! - [`pingone`]: the HTTP client for the documented PingOne API.
//! - [`mapping`]: the fixed mapping from API objects to per-rule summaries.
//! - [`poller`]: per-environment polling on a schedule, swapping snapshots.
//! - [`user_detail`]: the opt-in per-user walk (exact per-state counts).
//! - [`snapshot`]: the immutable per-environment poll result.
//! - [`selfmetrics`]: the exporter's own counters and gauges.
//! - [`exposition`]: Prometheus text and OpenMetrics writers.
//! - [`collector`]: turns snapshots and self-metrics into an exposition.
//! - [`state`]: the snapshots shared by pollers and the server.
//! - [`server`]: the HTTP endpoints (`/metrics`, `/-/healthy`, ...).
//! - [`webconfig`]: `--web.config.file`: TLS and basic auth for the server.
//! - [`alerting`]: the built-in alert sender (conditions, state, delivery).
//! - [`simulator`]: a PingOne tenant simulator serving the documented API.
//! - [`commands`]: the one-shot `status`, `dump` and `resync` commands.
//! - [`healthcheck`]: the `healthcheck` command (the image's HEALTHCHECK).
//! - [`redact`]: removing secrets from free text (details, errors, logs).
//! - [`printable`]: escaping control characters before text reaches a
//!   terminal (log lines, `status`).
//! - [`outbound`]: what every outbound HTTPS client needs (crypto provider,
//!   error text).
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
pub mod poller;
pub mod printable;
pub mod redact;
pub mod secret;
pub mod selfmetrics;
pub mod server;
pub mod shutdown;
pub mod simulator;
pub mod snapshot;
pub mod state;
pub mod timefmt;
pub mod user_detail;
pub mod webconfig;

/// The crate version, as built.
pub const VERSION: &str = env!("CARGO_PKG_VERSION");
