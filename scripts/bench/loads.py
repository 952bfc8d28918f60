"""Scrape load: a static-file server (nginx) serving a saved exposition, and
wrk runs against it and against the exporter, alternated in one run; and
/metrics with and without concurrent status-page loads.

The static server is the yardstick: it sends the very same bytes from the
page cache with sendfile, which is about as cheap as serving a response can
get. The exporter's figures are quoted as ratios to it.
"""

import os
import shutil
import statistics
import subprocess
import time

from procs import children, cpu_seconds, free_port, request, wait_until

HERE = os.path.dirname(os.path.abspath(__file__))

# The Accept header Prometheus sends (it prefers OpenMetrics), and the one
# asking for the classic text format only.
PROMETHEUS_ACCEPT = ("Accept: application/openmetrics-text;version=1.0.0;q=0.5,"
                     "application/openmetrics-text;version=0.0.1;q=0.4,"
                     "text/plain;version=0.0.4;q=0.3,*/*;q=0.2")
CLASSIC_ACCEPT = "Accept: text/plain"
GZIP = "Accept-Encoding: gzip"

# The scrape loads: name, connections, request headers. wrk sends no Accept
# unless told, which gets the classic format.
SCRAPE_LOADS = (
    ("c1", 1, ()),
    ("c16", 16, ()),
    ("gzip_c1", 1, (CLASSIC_ACCEPT, GZIP)),
    ("gzip_c16", 16, (CLASSIC_ACCEPT, GZIP)),
    ("om_gzip_c1", 1, (PROMETHEUS_ACCEPT, GZIP)),
    ("om_gzip_c16", 16, (PROMETHEUS_ACCEPT, GZIP)),
)
WRK_SCRIPT = os.path.join(HERE, "wrk_report.lua")

NGINX_CONF = """\
daemon off;
worker_processes {workers};
pid {dir}/nginx.pid;
error_log {dir}/error.log warn;
events {{ worker_connections 1024; }}
http {{
    access_log off;
    sendfile on;
    tcp_nopush on;
    tcp_nodelay on;
    keepalive_requests 100000000;
    keepalive_timeout 300s;
    client_body_temp_path {dir}/tmp;
    proxy_temp_path {dir}/tmp;
    fastcgi_temp_path {dir}/tmp;
    uwsgi_temp_path {dir}/tmp;
    scgi_temp_path {dir}/tmp;
    server {{
        listen 127.0.0.1:{port};
        # The exporter's format negotiation, for the two Accept headers the
        # benchmark sends: OpenMetrics when asked for, else the classic text.
        location = /metrics {{
            if ($http_accept ~ "application/openmetrics-text") {{
                rewrite ^ /metrics.om last;
            }}
            rewrite ^ /metrics.prom last;
        }}
        location = /metrics.prom {{
            internal;
            default_type "{content_type}";
            gzip_static on;
            gzip_vary on;
            alias {dir}/metrics;
        }}
        location = /metrics.om {{
            internal;
            default_type "{om_content_type}";
            gzip_static on;
            gzip_vary on;
            alias {dir}/metrics.om;
        }}
    }}
}}
"""


class Static:
    """nginx serving `body` (and its gzip, for gzip_static) at /metrics, and
    `om_body` (and `om_gz`) when the request's Accept asks for OpenMetrics."""

    def __init__(self, procs, workdir, body, gz, content_type, workers,
                 om_body, om_gz, om_content_type):
        self.dir = os.path.join(workdir, "nginx")
        os.makedirs(os.path.join(self.dir, "tmp"), exist_ok=True)
        # nginx's workers run as an unprivileged user: let them read.
        for d in (os.path.dirname(workdir), workdir, self.dir):
            os.chmod(d, 0o755)
        with open(os.path.join(self.dir, "metrics"), "wb") as f:
            f.write(body)
        with open(os.path.join(self.dir, "metrics.gz"), "wb") as f:
            f.write(gz)
        with open(os.path.join(self.dir, "metrics.om"), "wb") as f:
            f.write(om_body)
        with open(os.path.join(self.dir, "metrics.om.gz"), "wb") as f:
            f.write(om_gz)
        self.port = free_port()
        conf = os.path.join(self.dir, "nginx.conf")
        with open(conf, "w") as f:
            f.write(NGINX_CONF.format(dir=self.dir, port=self.port, content_type=content_type,
                                      om_content_type=om_content_type, workers=workers))
        nginx = shutil.which("nginx") or "/usr/sbin/nginx"
        self.proc = procs.start("nginx", [nginx, "-c", conf, "-p", self.dir],
                                os.path.join(workdir, "nginx.log"))
        wait_until("nginx to serve /metrics", 10,
                   lambda: request("GET", "127.0.0.1", self.port, "/metrics")[0] == 200)
        self.url = f"http://127.0.0.1:{self.port}/metrics"

    def pids(self):
        return [self.proc.pid] + children(self.proc.pid)


def wrk(url, connections, seconds, headers=()):
    """One wrk run; returns requests, errors, latency p50/p99 (ms), bytes."""
    args = ["wrk", "-t1", f"-c{connections}", f"-d{seconds}s", "--timeout", "30s",
            "-s", WRK_SCRIPT]
    for h in headers:
        args += ["-H", h]
    out = subprocess.run(args + [url], capture_output=True, text=True, check=True).stdout
    line = next((l for l in out.splitlines() if l.startswith("BENCH ")), None)
    if line is None:
        raise RuntimeError(f"wrk printed no summary:\n{out}")
    kv = dict(f.split("=", 1) for f in line.split()[1:])
    return {
        "requests": int(kv["requests"]),
        "errors": int(kv["errors"]),
        "p50_ms": int(kv["p50_us"]) / 1000,
        "p99_ms": int(kv["p99_us"]) / 1000,
        "bytes": int(kv["bytes"]),
        "seconds": int(kv["duration_us"]) / 1e6,
    }


def measured(url, pids, connections, seconds, headers=()):
    """A wrk run plus the server's CPU time (seconds) spent during it."""
    before = cpu_seconds(pids())
    r = wrk(url, connections, seconds, headers)
    r["cpu_s"] = cpu_seconds(pids()) - before
    return r


def with_page_load(metrics_url, page_url, pids, seconds, rounds, page_connections):
    """/metrics latency (one scraper) alone and while another wrk loads the
    status page at `page_url` with `page_connections` connections without
    pause, alternating alone / loaded / loaded / alone ... Returns both
    aggregates, the page's own figures and the p99 ratio loaded / alone."""
    runs = {"alone": [], "with_page": []}
    page_runs = []
    for i in range(rounds):
        order = ("alone", "with_page") if i % 2 == 0 else ("with_page", "alone")
        for name in order:
            if name == "alone":
                runs[name].append(measured(metrics_url, pids, 1, seconds))
                continue
            # The page load starts first and ends after the measured run.
            args = ["wrk", "-t1", f"-c{page_connections}", f"-d{seconds + 2}s",
                    "--timeout", "30s", "-s", WRK_SCRIPT, page_url]
            bg = subprocess.Popen(args, stdout=subprocess.PIPE, text=True)
            time.sleep(0.5)
            runs[name].append(measured(metrics_url, pids, 1, seconds))
            out, _ = bg.communicate()
            line = next((l for l in out.splitlines() if l.startswith("BENCH ")), None)
            if line is None:
                raise RuntimeError(f"wrk on the page printed no summary:\n{out}")
            kv = dict(f.split("=", 1) for f in line.split()[1:])
            page_runs.append({"requests": int(kv["requests"]), "errors": int(kv["errors"]),
                              "p50_ms": int(kv["p50_us"]) / 1000, "p99_ms": int(kv["p99_us"]) / 1000,
                              "bytes": int(kv["bytes"]), "seconds": int(kv["duration_us"]) / 1e6})
    out = {}
    for name, rs in runs.items():
        out[name] = {"runs": rs,
                     "p50_ms": statistics.mean(r["p50_ms"] for r in rs),
                     "p99_ms": statistics.mean(r["p99_ms"] for r in rs),
                     "rps": sum(r["requests"] for r in rs) / sum(r["seconds"] for r in rs),
                     "errors": sum(r["errors"] for r in rs)}
    reqs = sum(r["requests"] for r in page_runs)
    out["page"] = {"runs": page_runs, "connections": page_connections,
                   "p50_ms": statistics.mean(r["p50_ms"] for r in page_runs),
                   "p99_ms": statistics.mean(r["p99_ms"] for r in page_runs),
                   "rps": reqs / sum(r["seconds"] for r in page_runs),
                   "bytes_per_page": sum(r["bytes"] for r in page_runs) / max(reqs, 1),
                   "errors": sum(r["errors"] for r in page_runs)}
    out["p99_ratio"] = out["with_page"]["p99_ms"] / out["alone"]["p99_ms"]
    return out


def side_by_side(targets, connections, seconds, rounds, headers=()):
    """Runs the same load against every target, alternating A B / B A ...
    `targets` maps a name to (url, pids function). Returns, per name, the
    runs and their aggregate: mean p50/p99 of the rounds, requests per
    second and CPU per request over all rounds."""
    runs = {name: [] for name in targets}
    names = list(targets)
    for i in range(rounds):
        order = names if i % 2 == 0 else names[::-1]
        for name in order:
            url, pids = targets[name]
            runs[name].append(measured(url, pids, connections, seconds, headers))
    out = {}
    for name, rs in runs.items():
        reqs = sum(r["requests"] for r in rs)
        out[name] = {
            "runs": rs,
            "p50_ms": statistics.mean(r["p50_ms"] for r in rs),
            "p99_ms": statistics.mean(r["p99_ms"] for r in rs),
            "rps": reqs / sum(r["seconds"] for r in rs),
            "requests": reqs,
            "errors": sum(r["errors"] for r in rs),
            "cpu_ms_per_req": 1000 * sum(r["cpu_s"] for r in rs) / max(reqs, 1),
        }
    return out
