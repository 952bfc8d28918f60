//! Writing the self-metrics: their family descriptions and the encoder,
//! called fresh at every scrape.

use super::{EnvKey, POLL_BUCKET_LABELS, SelfMetrics};
use crate::exposition::{Desc, Format, Kind, write_f64, write_label_pairs, write_u64};

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

impl SelfMetrics {
    /// Writes every self-metric family.
    pub fn encode(&self, format: Format, out: &mut Vec<u8>) {
        let inner = self.lock();
        let envs = &inner.envs;

        UP.write_header(format, out);
        for (k, m) in envs {
            sample(out, UP.name, "", &env_labels(k), &[], |o| {
                write_u64(o, u64::from(m.up))
            });
        }
        LAST_SUCCESS.write_header(format, out);
        for (k, m) in envs {
            if let Some(ts) = m.last_success {
                sample(out, LAST_SUCCESS.name, "", &env_labels(k), &[], |o| {
                    write_f64(o, ts)
                });
            }
        }
        POLL_DURATION.write_header(format, out);
        for (k, m) in envs {
            let l = env_labels(k);
            for (i, le) in POLL_BUCKET_LABELS.iter().enumerate() {
                sample(out, POLL_DURATION.name, "_bucket", &l, &[("le", le)], |o| {
                    write_u64(o, m.poll_buckets[i])
                });
            }
            sample(
                out,
                POLL_DURATION.name,
                "_bucket",
                &l,
                &[("le", "+Inf")],
                |o| write_u64(o, m.poll_count),
            );
            sample(out, POLL_DURATION.name, "_count", &l, &[], |o| {
                write_u64(o, m.poll_count)
            });
            sample(out, POLL_DURATION.name, "_sum", &l, &[], |o| {
                write_f64(o, m.poll_sum)
            });
        }
        POLL_FAILURES.write_header(format, out);
        for (k, m) in envs {
            for (reason, n) in &m.failures {
                counter(
                    out,
                    POLL_FAILURES.name,
                    &env_labels(k),
                    &[("reason", reason)],
                    *n,
                );
            }
        }
        REQUESTS.write_header(format, out);
        for (k, m) in envs {
            for ((endpoint, code), n) in &m.requests {
                let extra = [("endpoint", *endpoint), ("code", code.as_str())];
                counter(out, REQUESTS.name, &env_labels(k), &extra, *n);
            }
        }
        RETRIES.write_header(format, out);
        for (k, m) in envs {
            for ((endpoint, reason), n) in &m.retries {
                let extra = [("endpoint", *endpoint), ("reason", *reason)];
                counter(out, RETRIES.name, &env_labels(k), &extra, *n);
            }
        }
        RATE_LIMITED.write_header(format, out);
        for (k, m) in envs {
            counter(out, RATE_LIMITED.name, &env_labels(k), &[], m.rate_limited);
        }
        TOKEN_REFRESHES.write_header(format, out);
        for (k, m) in envs {
            counter(
                out,
                TOKEN_REFRESHES.name,
                &env_labels(k),
                &[],
                m.token_refreshes,
            );
        }
        RELOAD_OK.write_header(format, out);
        sample(out, RELOAD_OK.name, "", &[], &[], |o| {
            write_u64(o, u64::from(inner.reload_ok))
        });
        RELOAD_TS.write_header(format, out);
        sample(out, RELOAD_TS.name, "", &[], &[], |o| {
            write_f64(o, inner.reload_success_ts)
        });
        UNKNOWN.write_header(format, out);
        for ((field, value), n) in &inner.unknown {
            counter(
                out,
                UNKNOWN.name,
                &[],
                &[("field", field), ("value", value)],
                *n,
            );
        }
        UNKNOWN_FIELDS.write_header(format, out);
        for (field, n) in &inner.unknown_fields {
            counter(out, UNKNOWN_FIELDS.name, &[], &[("field", field)], *n);
        }
        BUILD.write_header(format, out);
        let build = [
            ("version", self.version.as_str()),
            ("revision", self.revision.as_str()),
        ];
        sample(out, BUILD.name, "", &build, &[], |o| write_u64(o, 1));
        drop(inner);
        self.alerts.encode(format, out);
    }
}

fn env_labels(k: &EnvKey) -> [(&'static str, &str); 2] {
    [("environment_id", &k.id), ("environment_name", &k.name)]
}

/// Writes `name{suffix}{labels,extra} value\n`.
pub(crate) fn sample(
    out: &mut Vec<u8>,
    name: &str,
    suffix: &str,
    labels: &[(&str, &str)],
    extra: &[(&str, &str)],
    value: impl FnOnce(&mut Vec<u8>),
) {
    out.extend_from_slice(name.as_bytes());
    out.extend_from_slice(suffix.as_bytes());
    if !labels.is_empty() || !extra.is_empty() {
        out.push(b'{');
        write_label_pairs(out, labels);
        if !labels.is_empty() && !extra.is_empty() {
            out.push(b',');
        }
        write_label_pairs(out, extra);
        out.push(b'}');
    }
    out.push(b' ');
    value(out);
    out.push(b'\n');
}

pub(crate) fn counter(
    out: &mut Vec<u8>,
    name: &str,
    labels: &[(&str, &str)],
    extra: &[(&str, &str)],
    n: u64,
) {
    sample(out, name, "_total", labels, extra, |o| write_u64(o, n));
}
