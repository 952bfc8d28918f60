//! Command-line flags and subcommands (README), in Prometheus' dotted style.
//! Every flag can also come from a `PINGONE_SYNC_EXPORTER_...` variable.

use std::path::PathBuf;
use std::time::Duration;

use clap::{Parser, Subcommand, ValueEnum};

/// Default config file path.
pub const DEFAULT_CONFIG: &str = "config/pingone-sync-exporter.yml";

/// `pingone-sync-exporter`: polls PingOne provisioning sync status and serves
/// it to Prometheus.
#[derive(Debug, Parser)]
#[command(name = "pingone-sync-exporter", version, about, long_about = None)]
pub struct Cli {
    /// Subcommand; without one the exporter daemon runs.
    #[command(subcommand)]
    pub command: Option<Command>,

    /// Configuration file.
    #[arg(long = "config.file", env = "PINGONE_SYNC_EXPORTER_CONFIG_FILE", default_value = DEFAULT_CONFIG, global = true)]
    pub config_file: PathBuf,

    /// Validate the configuration file, print `config OK` or every problem, and exit 0/1.
    #[arg(long = "config.check", env = "PINGONE_SYNC_EXPORTER_CONFIG_CHECK")]
    pub config_check: bool,

    /// Address to serve on: `:PORT` (all interfaces), `HOST:PORT`, `[::1]:PORT`.
    #[arg(
        long = "web.listen-address",
        env = "PINGONE_SYNC_EXPORTER_WEB_LISTEN_ADDRESS",
        default_value = ":9871"
    )]
    pub listen_address: String,

    /// Path under which metrics are served.
    #[arg(
        long = "web.telemetry-path",
        env = "PINGONE_SYNC_EXPORTER_WEB_TELEMETRY_PATH",
        default_value = "/metrics"
    )]
    pub telemetry_path: String,

    /// The URL the daemon is reached at (behind a proxy, under a path), for
    /// the `generatorURL` of the alerts it sends. Default: http://HOST:PORT/
    /// of the listen address.
    #[arg(
        long = "web.external-url",
        env = "PINGONE_SYNC_EXPORTER_WEB_EXTERNAL_URL"
    )]
    pub external_url: Option<String>,

    /// Grafana's base URL (`https://grafana.example.com`, or with a path
    /// prefix): the status page links each rule to the bundled Rule detail
    /// dashboard there. No links when unset.
    #[arg(
        long = "web.grafana-url",
        env = "PINGONE_SYNC_EXPORTER_WEB_GRAFANA_URL"
    )]
    pub grafana_url: Option<String>,

    /// The longest a client may keep the server waiting (`10s`, `500ms`): to
    /// send a complete request head, the next one on an idle keep-alive
    /// connection, or to read more of a response; then the connection closes.
    #[arg(
        long = "web.read-timeout",
        env = "PINGONE_SYNC_EXPORTER_WEB_READ_TIMEOUT",
        default_value = "10s",
        value_parser = parse_timeout
    )]
    pub read_timeout: Duration,

    /// TLS and basic-auth settings, in the exporter-toolkit web-config.yml
    /// format (see docs/web-config.md); re-read when it or a file it names changes.
    #[arg(
        long = "web.config.file",
        env = "PINGONE_SYNC_EXPORTER_WEB_CONFIG_FILE"
    )]
    pub web_config_file: Option<PathBuf>,

    /// Most connections served at once (plus a small reserve for probes);
    /// further clients wait in the listen backlog.
    #[arg(
        long = "web.max-connections",
        env = "PINGONE_SYNC_EXPORTER_WEB_MAX_CONNECTIONS",
        default_value_t = 256,
        value_parser = clap::value_parser!(u32).range(1..)
    )]
    pub max_connections: u32,

    /// Most of those connections one client address (an IPv4 address or an
    /// IPv6 /64) may hold; over it, its new connections serve only
    /// health, readiness and metrics requests, one each, from a small
    /// reserve, or are refused with 503. Behind a reverse proxy, set it to
    /// --web.max-connections.
    #[arg(
        long = "web.max-connections-per-ip",
        env = "PINGONE_SYNC_EXPORTER_WEB_MAX_CONNECTIONS_PER_IP",
        default_value_t = 32,
        value_parser = clap::value_parser!(u32).range(1..)
    )]
    pub max_connections_per_ip: u32,

    /// Enable `POST /-/reload` (off: it answers 403, as in Prometheus).
    /// SIGHUP reloads either way.
    #[arg(
        long = "web.enable-lifecycle",
        env = "PINGONE_SYNC_EXPORTER_WEB_ENABLE_LIFECYCLE"
    )]
    pub enable_lifecycle: bool,

    /// Log level.
    #[arg(long = "log.level", env = "PINGONE_SYNC_EXPORTER_LOG_LEVEL", value_enum, default_value_t = LogLevel::Info, global = true)]
    pub log_level: LogLevel,

    /// Log format.
    #[arg(long = "log.format", env = "PINGONE_SYNC_EXPORTER_LOG_FORMAT", value_enum, default_value_t = LogFormat::Logfmt, global = true)]
    pub log_format: LogFormat,

    /// Run against a built-in simulated PingOne tenant; no credentials or config file needed.
    #[arg(long = "demo", env = "PINGONE_SYNC_EXPORTER_DEMO")]
    pub demo: bool,

    /// Number of replicas sharing the configured environments (docs/configuration.md#sharding).
    #[arg(
        long = "shard.count",
        env = "PINGONE_SYNC_EXPORTER_SHARD_COUNT",
        default_value_t = 1,
        value_parser = clap::value_parser!(u32).range(1..)
    )]
    pub shard_count: u32,

    /// This replica's shard, 0 to shard.count - 1; default: the ordinal at the end of the host name (a StatefulSet pod's name).
    #[arg(long = "shard.index", env = "PINGONE_SYNC_EXPORTER_SHARD_INDEX")]
    pub shard_index: Option<u32>,
}

/// Subcommands.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Run the PingOne API simulator alone (token endpoint and propagation endpoints).
    Simulate {
        /// Address to serve the simulated API on.
        #[arg(
            long,
            env = "PINGONE_SYNC_EXPORTER_SIMULATE_LISTEN",
            default_value = "127.0.0.1:8080"
        )]
        listen: String,
        /// Scenario file (YAML); the built-in demo tenant when omitted.
        #[arg(long, env = "PINGONE_SYNC_EXPORTER_SIMULATE_SCENARIO")]
        scenario: Option<PathBuf>,
    },
    /// Poll every configured environment once and print the sync summary of every rule; exit 0 (no failures), 1 (failures) or 2 (API or config unreadable).
    Status {
        /// Output format: a table (coloured on a terminal unless NO_COLOR is set) or JSON.
        #[arg(long, env = "PINGONE_SYNC_EXPORTER_STATUS_OUTPUT", value_enum, default_value_t = OutputFormat::Table)]
        output: OutputFormat,
        /// List the failing users of every rule instead (user-detail mode only: walks every user's record of every rule once); exit 0 (none), 1 (some) or 2.
        #[arg(long, conflicts_with = "plan")]
        failures: bool,
        /// Print the request plan instead: per budget, what one cycle of each cadence needs and whether it fits (reads each environment's rules list once); exit 0 (fits), 1 (over-subscribed) or 2.
        #[arg(long)]
        plan: bool,
    },
    /// Fetch every endpoint the exporter reads, scrub secrets and personal data, and write the answers as fixture files for a bug report.
    Dump {
        /// Directory to write into (created if missing); one subdirectory per environment.
        #[arg(long, env = "PINGONE_SYNC_EXPORTER_DUMP_OUT")]
        out: PathBuf,
        /// Only this environment (by name); every configured one when omitted.
        #[arg(long, env = "PINGONE_SYNC_EXPORTER_DUMP_ENVIRONMENT")]
        environment: Option<String>,
    },
    /// Trigger a resync of one environment (POST .../propagation/revisions); refuses without --yes.
    Resync {
        /// The environment to resync, by its configured name.
        #[arg(long, env = "PINGONE_SYNC_EXPORTER_RESYNC_ENVIRONMENT")]
        environment: String,
        /// Really do it: without it the command only says what it would do.
        #[arg(long)]
        yes: bool,
    },
    /// GET the daemon's /-/healthy (or --url) once; exit 0 on 200, else 1. The container image's HEALTHCHECK.
    Healthcheck(crate::healthcheck::Args),
}

/// `status --output` values.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum OutputFormat {
    /// A table for people.
    Table,
    /// One JSON document for scripts.
    Json,
}

/// `--log.level` values.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum LogLevel {
    /// Everything, including each poll.
    Debug,
    /// Start-up, changes in poll outcome, reloads.
    Info,
    /// Problems only.
    Warn,
    /// Errors only.
    Error,
}

/// `--log.format` values.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum LogFormat {
    /// `ts=... level=info msg="..." key=value`.
    Logfmt,
    /// One JSON object per line.
    Json,
}

/// A positive Prometheus-style duration for `--web.read-timeout`.
fn parse_timeout(text: &str) -> Result<Duration, String> {
    match crate::config::duration::parse_duration(text)? {
        d if d.is_zero() => Err("must be greater than 0".into()),
        d => Ok(d),
    }
}
