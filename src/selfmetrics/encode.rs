//! Writing the self-metrics: their family descriptions and the encoder,
//! called at every scrape. The families come in three groups, in
//! exposition order: each environment's polls, its API calls, then the
//! process-wide ones (config reloads, unknown API values, build info). An
//! environment's lines in a family go to the sink as one piece tagged with
//! the environment's generation, so a sink may keep what it made of them
//! until they change (see `exposition::LiveSink`).

use super::{EnvMetrics, Inner, POLL_BUCKET_LABELS, SelfMetrics};
use crate::exposition::{
    Desc, Format, Kind, LiveSink, write_counter, write_f64, write_sample, write_u64,
};
use crate::snapshot::EnvKey;

const UP: Desc = Desc {
    name: "pingone_exporter_up",
    help: "1 when the last poll of the environment fully succeeded, else 0.",
    kind: Kind::Gauge,
};
const LAST_SUCCESS: Desc = Desc {
    name: "pingone_exporter_last_success_timestamp_seconds",
    help: "Unix time the last fully successful poll of the environment finished.",
    kind: Kind::Gauge,
};
const POLL_DURATION: Desc = Desc {
    name: "pingone_exporter_poll_duration_seconds",
    help: "Wall time of one poll of an environment, retries and waits for the request budget included.",
    kind: Kind::Histogram,
};
const POLL_FAILURES: Desc = Desc {
    name: "pingone_exporter_poll_failures",
    help: "Polls that did not fully succeed, by the reason of the first failure.",
    kind: Kind::Counter,
};
const REQUESTS: Desc = Desc {
    name: "pingone_exporter_api_requests",
    help: "HTTP requests sent to PingOne, by endpoint and status code (or timeout/connection).",
    kind: Kind::Counter,
};
const RETRIES: Desc = Desc {
    name: "pingone_exporter_api_retries",
    help: "Requests to PingOne that were retried, by endpoint and reason.",
    kind: Kind::Counter,
};
const RATE_LIMITED: Desc = Desc {
    name: "pingone_exporter_rate_limited",
    help: "HTTP 429 answers received from PingOne.",
    kind: Kind::Counter,
};
const TOKEN_REFRESHES: Desc = Desc {
    name: "pingone_exporter_token_refreshes",
    help: "Access tokens fetched from the PingOne token endpoint.",
    kind: Kind::Counter,
};
const RELOAD_OK: Desc = Desc {
    name: "pingone_exporter_config_last_reload_successful",
    help: "1 when the last configuration load or reload succeeded, else 0.",
    kind: Kind::Gauge,
};
const RELOAD_TS: Desc = Desc {
    name: "pingone_exporter_config_last_reload_success_timestamp_seconds",
    help: "Unix time of the last successful configuration load or reload.",
    kind: Kind::Gauge,
};
const UNKNOWN: Desc = Desc {
    name: "pingone_exporter_unknown_values",
    help: "API values the exporter does not know (new enum values), by field and value; see the logs.",
    kind: Kind::Counter,
};
const UNKNOWN_FIELDS: Desc = Desc {
    name: "pingone_exporter_unknown_fields",
    help: "API answers carrying a field PingOne's documentation does not list, by field; the field is ignored (see the logs).",
    kind: Kind::Counter,
};
const BUILD: Desc = Desc {
    name: "pingone_exporter_build_info",
    help: "Always 1; labels carry the exporter version and source revision.",
    kind: Kind::Gauge,
};

/// The families with one piece of lines per environment, in exposition
/// order: each environment's polls (up, last success, duration histogram,
/// failures by reason), then its calls to PingOne (requests, retries, 429
/// answers, tokens fetched).
const PER_ENV_FAMILIES: [(Desc, WriteEnv); 8] = [
    (UP, |o, k, m| {
        write_sample(o, UP.name, "", &env_labels(k), &[], |o| {
            write_u64(o, u64::from(m.up))
        })
    }),
    (LAST_SUCCESS, |o, k, m| {
        if let Some(ts) = m.last_success {
            write_sample(o, LAST_SUCCESS.name, "", &env_labels(k), &[], |o| {
                write_f64(o, ts)
            });
        }
    }),
    (POLL_DURATION, |o, k, m| {
        poll_histogram(&env_labels(k), m, o)
    }),
    (POLL_FAILURES, |o, k, m| {
        for (reason, n) in &m.failures {
            let extra = [("reason", *reason)];
            write_counter(o, POLL_FAILURES.name, &env_labels(k), &extra, *n);
        }
    }),
    (REQUESTS, |o, k, m| {
        for ((endpoint, code), n) in &m.requests {
            let extra = [("endpoint", *endpoint), ("code", code.as_str())];
            write_counter(o, REQUESTS.name, &env_labels(k), &extra, *n);
        }
    }),
    (RETRIES, |o, k, m| {
        for ((endpoint, reason), n) in &m.retries {
            let extra = [("endpoint", *endpoint), ("reason", *reason)];
            write_counter(o, RETRIES.name, &env_labels(k), &extra, *n);
        }
    }),
    (RATE_LIMITED, |o, k, m| {
        write_counter(o, RATE_LIMITED.name, &env_labels(k), &[], m.rate_limited)
    }),
    (TOKEN_REFRESHES, |o, k, m| {
        write_counter(
            o,
            TOKEN_REFRESHES.name,
            &env_labels(k),
            &[],
            m.token_refreshes,
        )
    }),
];

/// Writes one environment's lines of one family (the same in both
/// formats: only the family headers differ).
type WriteEnv = fn(&mut Vec<u8>, &EnvKey, &EnvMetrics);

impl SelfMetrics {
    /// Writes every self-metric family as text.
    pub fn encode(&self, format: Format, out: &mut Vec<u8>) {
        self.encode_live(format, out);
    }

    /// Writes every self-metric family into `out`, each environment's
    /// lines of a family as one piece whose generation is the
    /// environment's: it changes with every update of the environment's
    /// metrics and is never reused.
    pub fn encode_live(&self, format: Format, out: &mut dyn LiveSink) {
        let inner = self.lock();
        for (family, (desc, write)) in PER_ENV_FAMILIES.iter().enumerate() {
            desc.write_header(format, out.text());
            for (k, m) in &inner.envs {
                out.piece(&k.id, family, m.generation, &mut |o| write(o, k, m));
            }
        }
        let text = out.text();
        process(format, &inner, text);
        BUILD.write_header(format, text);
        let build = [
            ("version", self.version.as_str()),
            ("revision", self.revision.as_str()),
        ];
        write_sample(text, BUILD.name, "", &build, &[], |o| write_u64(o, 1));
    }
}

/// One environment's poll-duration buckets, `+Inf`, count and sum.
fn poll_histogram(labels: &[(&str, &str)], m: &EnvMetrics, out: &mut Vec<u8>) {
    let name = POLL_DURATION.name;
    for (i, le) in POLL_BUCKET_LABELS.iter().enumerate() {
        write_sample(out, name, "_bucket", labels, &[("le", le)], |o| {
            write_u64(o, m.poll_buckets[i])
        });
    }
    write_sample(out, name, "_bucket", labels, &[("le", "+Inf")], |o| {
        write_u64(o, m.poll_count)
    });
    write_sample(out, name, "_count", labels, &[], |o| {
        write_u64(o, m.poll_count)
    });
    write_sample(out, name, "_sum", labels, &[], |o| write_f64(o, m.poll_sum));
}

/// The families without environment labels: config reloads and unknown
/// API values and fields.
fn process(format: Format, inner: &Inner, out: &mut Vec<u8>) {
    RELOAD_OK.write_header(format, out);
    write_sample(out, RELOAD_OK.name, "", &[], &[], |o| {
        write_u64(o, u64::from(inner.reload_ok))
    });
    RELOAD_TS.write_header(format, out);
    write_sample(out, RELOAD_TS.name, "", &[], &[], |o| {
        write_f64(o, inner.reload_success_ts)
    });
    UNKNOWN.write_header(format, out);
    for ((field, value), n) in &inner.unknown {
        let extra = [("field", *field), ("value", value.as_str())];
        write_counter(out, UNKNOWN.name, &[], &extra, *n);
    }
    UNKNOWN_FIELDS.write_header(format, out);
    for (field, n) in &inner.unknown_fields {
        write_counter(out, UNKNOWN_FIELDS.name, &[], &[("field", field)], *n);
    }
}

fn env_labels(k: &EnvKey) -> [(&'static str, &str); 2] {
    [("environment_id", &k.id), ("environment_name", &k.name)]
}
