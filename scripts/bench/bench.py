#!/usr/bin/env python3
"""Benchmark of pingone-sync-exporter at three tenant sizes (S, M, L).

For each size: start the simulator on the bench scenario, start the
exporter against it, measure its first full poll cycle (requests, wall
time), then scrape it side by side with nginx serving the same exposition
bytes (wrk, 1 and 16 connections, alternating), then /metrics with and
without concurrent status-page loads, then memory and idle CPU.
Finally the time from start to /-/ready in demo mode. Prints one table per
size and a targets table. Stdlib only; see docs/performance.md.
"""

import argparse
import gzip
import json
import math
import os
import platform
import statistics
import sys
import tempfile
import time

sys.dont_write_bytecode = True  # no __pycache__ in the source tree
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import loads  # noqa: E402
import report  # noqa: E402
from procs import Procs, cpu_seconds, free_port, request, status_kib, wait_until  # noqa: E402

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
SCENARIOS = {s: f"tests/fixtures/scenarios/bench-{s.lower()}.yml" for s in "SML"}

# The request budget the exporter is configured with, at every size.
RPS = 100
CONCURRENT = 8
PLAIN = "text/plain; version=0.0.4; charset=utf-8"


def start_simulator(procs, binary, size, work):
    p = procs.start("simulator", [binary, "simulate", "--listen", "127.0.0.1:0",
                                  "--scenario", os.path.join(ROOT, SCENARIOS[size])],
                    os.path.join(work, "simulator.log"))
    base = p.wait_line("simulator listening on ", 600).split(" on ", 1)[1].strip()
    p.wait_line("client ", 30)  # the environment lines come before it
    envs = [l.split()[1:3] for l in p.output() if l.startswith("environment ")]
    host, port = base.removeprefix("http://").rsplit(":", 1)
    return p, base, (host, int(port)), envs


def start_exporter(procs, name, binary, config, work, ready_within, every=0.1):
    """Starts the exporter `binary` with `config` on a free loopback port,
    logging to WORK/NAME.log, and waits up to `ready_within` seconds for
    /-/ready; returns the process, its host and its port."""
    p = procs.start(name, [binary, "--config.file", config, "--log.level", "info",
                           "--web.listen-address", "127.0.0.1:0"],
                    os.path.join(work, f"{name}.log"))
    addr = p.wait_line("msg=listening address=", 60).split("address=", 1)[1].split()[0]
    host, port = addr.rsplit(":", 1)
    port = int(port)
    wait_until(f"{name} /-/ready", ready_within,
               lambda: request("GET", host, port, "/-/ready")[0] == 200, every=every)
    return p, host, port


def write_config(work, base, envs):
    secret = os.path.join(work, "secret")
    with open(secret, "w") as f:
        f.write("demo-secret\n")
    lines = ["global:", "  poll_interval: 3600s", "  request_timeout: 30s",
             f"  max_requests_per_second: {RPS}", f"  max_concurrent_requests: {CONCURRENT}",
             "environments:"]
    for env_id, name in envs:
        lines += [f"  - name: {name}", f"    id: {env_id}", f"    api_url: {base}/v1",
                  f"    auth_url: {base}", "    credentials:", "      client_id: demo-client",
                  f"      client_secret_file: {secret}",
                  f"      worker_environment_id: {envs[0][0]}"]
    path = os.path.join(work, "config.yml")
    with open(path, "w") as f:
        f.write("\n".join(lines) + "\n")
    return path


def self_metrics(body):
    """The exporter's own samples: {(name, labels-text): value}."""
    out = {}
    for line in body.decode().splitlines():
        if line.startswith("pingone_exporter_"):
            series, value = line.rsplit(" ", 1)
            out[series] = float(value)
    return out


def by_name(samples, name):
    return {k: v for k, v in samples.items() if k.split("{", 1)[0] == name}


def cycle_figures(samples, envs):
    """Cycle start, end and length from the exporter's own clock: each poll
    started at last_success − its duration (one poll per environment)."""
    ok = by_name(samples, "pingone_exporter_last_success_timestamp_seconds")
    sums = by_name(samples, "pingone_exporter_poll_duration_seconds_sum")
    up = sum(by_name(samples, "pingone_exporter_up").values())
    if len(ok) != len(envs) or len(sums) != len(envs):
        raise RuntimeError(f"{len(ok)} of {len(envs)} environments polled successfully")
    starts = [ok[k] - sums[k.replace("last_success_timestamp_seconds", "poll_duration_seconds_sum")]
              for k in ok]
    return {"cycle_s": max(ok.values()) - min(starts), "up": int(up)}


def minimum_requests(truth):
    """What the documented API needs for one cycle: per environment stores,
    rules and the latest revision, plus ⌈groups/1000⌉ syncedGroups pages
    (at least one) per enabled rule; plus one token per distinct credential
    (all environments here share one worker app)."""
    n = 1
    for env in truth["environments"]:
        n += 3
        for rule in env["rules"]:
            if rule["active"]:
                n += max(1, math.ceil(rule["groups"]["impacted"] / 1000))
    return n


def run_size(procs, binary, size, args, work):
    r = {"size": size}
    sim, base, (shost, sport), envs = start_simulator(procs, binary, size, work)
    r["environments"] = len(envs)
    config = write_config(work, base, envs)
    request("POST", shost, sport, "/_sim/requests/reset")

    t0 = time.monotonic()
    exp, host, port = start_exporter(procs, "exporter", binary, config, work, 1800)
    r["ready_s"] = time.monotonic() - t0
    r["hwm_after_poll_kib"] = status_kib(exp.pid, "VmHWM")

    _, _, body = request("GET", host, port, "/metrics")
    _, hdrs, gz = request("GET", host, port, "/metrics", {"Accept-Encoding": "gzip"})
    if hdrs.get("content-encoding") != "gzip":
        raise RuntimeError("the exporter did not gzip when asked")
    om_accept = loads.PROMETHEUS_ACCEPT.split(": ", 1)[1]
    _, om_hdrs, om_gz = request("GET", host, port, "/metrics",
                                {"Accept": om_accept, "Accept-Encoding": "gzip"})
    om_type = om_hdrs.get("content-type", "")
    if om_hdrs.get("content-encoding") != "gzip" or "openmetrics" not in om_type:
        raise RuntimeError(f"no gzip OpenMetrics answer for Prometheus's Accept: {om_hdrs}")
    om_body = gzip.decompress(om_gz)
    r["expo_bytes"], r["expo_gzip_bytes"] = len(body), len(gz)
    r["expo_om_bytes"], r["expo_om_gzip_bytes"] = len(om_body), len(om_gz)
    samples = self_metrics(body)
    r.update(cycle_figures(samples, envs))
    r["requests_exporter"] = int(sum(by_name(samples, "pingone_exporter_api_requests_total").values()))
    sim_counts = json.loads(request("GET", shost, sport, "/_sim/requests")[2])
    r["requests_sim"] = sim_counts["total"]
    r["requests_by_endpoint"] = {k: v for k, v in sim_counts.items()
                                 if k not in ("total", "by_status")}
    r["rps"], r["concurrent"] = RPS, CONCURRENT
    r["lower_bound_s"] = r["requests_sim"] / RPS

    # nginx serves the exporter's own bytes: gzip_static sends the gzip
    # answer as the exporter wrote it, for each format.
    static = loads.Static(procs, work, body, gz, PLAIN, workers=2,
                          om_body=om_body, om_gz=om_gz, om_content_type=om_type)
    targets = {"exporter": (f"http://{host}:{port}/metrics", lambda: [exp.pid]),
               "static": (static.url, static.pids)}
    r["scrape"] = {}
    for name, conns, headers in loads.SCRAPE_LOADS:
        r["scrape"][name] = loads.side_by_side(targets, conns, args.seconds, args.rounds, headers)
        report.progress(size, name, r["scrape"][name])
    _, _, page = request("GET", host, port, "/")
    r["page_bytes"] = len(page)
    r["page_load"] = loads.with_page_load(f"http://{host}:{port}/metrics", f"http://{host}:{port}/",
                                          lambda: [exp.pid], args.seconds, args.rounds,
                                          args.page_connections)
    report.page_progress(size, r["page_load"])
    r["hwm_kib"] = status_kib(exp.pid, "VmHWM")

    time.sleep(2)
    before = cpu_seconds([exp.pid])
    time.sleep(args.idle)
    r["idle_cpu_ms_per_s"] = 1000 * (cpu_seconds([exp.pid]) - before) / args.idle
    r["rss_idle_kib"] = status_kib(exp.pid, "VmRSS")

    procs.stop(static.proc)
    procs.stop(exp)
    # Outside every timed section: the ground truth is large and slow at L.
    truth = json.loads(request("GET", shost, sport, "/_sim/truth", timeout=600)[2])
    r["requests_minimum"] = minimum_requests(truth)
    r["rules"] = sum(len(e["rules"]) for e in truth["environments"])
    procs.stop(sim)
    return r


def startup(procs, binary, work, reps):
    """Process start to /-/healthy (listening) and to /-/ready, in demo mode."""
    listening, ready = [], []
    for i in range(reps):
        port = free_port()
        t0 = time.monotonic()
        p = procs.start("demo", [binary, "--demo", "--web.listen-address", f"127.0.0.1:{port}"],
                        os.path.join(work, f"demo-{i}.log"))
        for path, times in (("/-/healthy", listening), ("/-/ready", ready)):
            wait_until(f"demo {path}", 60,
                       lambda: request("GET", "127.0.0.1", port, path, timeout=5)[0] == 200,
                       every=0.002)
            times.append(time.monotonic() - t0)
        procs.stop(p)
    return {"median_s": statistics.median(ready), "runs_s": ready,
            "listening_median_s": statistics.median(listening)}


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--binary", default=os.path.join(ROOT, "target/release/pingone-sync-exporter"))
    ap.add_argument("--sizes", default="S,M,L", help="comma-separated subset of S,M,L")
    ap.add_argument("--seconds", type=int, default=5, help="length of one wrk run")
    ap.add_argument("--rounds", type=int, default=2, help="alternating rounds per load")
    ap.add_argument("--idle", type=float, default=10.0, help="idle CPU window, seconds")
    ap.add_argument("--page-connections", type=int, default=2,
                    help="status-page loads in flight during the /metrics-with-page runs")
    ap.add_argument("--startup-runs", type=int, default=5)
    ap.add_argument("--json", help="also write every figure to this file")
    ap.add_argument("--keep", metavar="DIR", help="write logs and configs here and keep them")
    args = ap.parse_args()
    sizes = [s.strip().upper() for s in args.sizes.split(",") if s.strip()]
    if any(s not in SCENARIOS for s in sizes):
        ap.error(f"--sizes takes S, M and L, not {args.sizes}")

    procs = Procs()
    began = time.monotonic()
    results = {"machine": {"cpus": os.cpu_count(), "kernel": platform.release(),
                           "load_before": os.getloadavg()},
               "command": " ".join(sys.argv), "sizes": []}
    with tempfile.TemporaryDirectory(prefix="pingone-bench-") as tmp:
        os.chmod(tmp, 0o755)  # nginx's workers run unprivileged and must read in it
        if args.keep:
            tmp = args.keep
            os.makedirs(tmp, exist_ok=True)
        for size in sizes:
            work = os.path.join(tmp, size)
            os.makedirs(work, exist_ok=True)
            report.heading(size)
            r = run_size(procs, args.binary, size, args, work)
            results["sizes"].append(r)
            report.size_table(r)
        report.heading("start-up")
        results["startup"] = startup(procs, args.binary, os.path.join(tmp), args.startup_runs)
        report.startup(results["startup"])
    results["runtime_s"] = time.monotonic() - began
    report.targets(results)
    if args.json:
        with open(args.json, "w") as f:
            json.dump(results, f, indent=1)


if __name__ == "__main__":
    main()
