#!/usr/bin/env python3
"""The latency distribution of 16 gzip scrapers, for several exporter
variants and nginx side by side: p50, p75, p90 and p99 of alternating wrk
runs (`wrk -t1 -c16 --latency`). For finding where a p99 comes from, e.g.
how it moves with an environment variable of the exporter's (here the
daemon runtime's threads, which since the connections got a thread of
their own no longer move it) or with nginx's `worker_processes`:

  python3 scripts/bench/tail.py --size M --nginx-workers 1,2 \\
      two=target/release/pingone-sync-exporter \\
      one=target/release/pingone-sync-exporter:TOKIO_WORKER_THREADS=1

Each variant is NAME=BINARY, optionally followed by :VAR=VALUE,... set in
that exporter's environment. nginx serves the first variant's gzip answer
with `gzip_static`, as in bench.py. Stdlib only; see docs/performance.md.
"""

import argparse
import os
import re
import statistics
import subprocess
import sys
import tempfile

sys.dont_write_bytecode = True  # no __pycache__ in the source tree
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import bench  # noqa: E402
import loads  # noqa: E402
from procs import Procs, request  # noqa: E402

UNITS = {"us": 0.001, "ms": 1.0, "s": 1000.0}


def variant(spec):
    name, _, rest = spec.partition("=")
    binary, _, env = rest.partition(":")
    if not name or not binary:
        raise argparse.ArgumentTypeError(f"expected NAME=BINARY[:VAR=VALUE,...], got {spec!r}")
    return name, binary, dict(e.split("=", 1) for e in env.split(",") if e)


def percentiles(out):
    """wrk --latency's distribution (ms by percent) and requests per second."""
    d = {m.group(1): float(m.group(2)) * UNITS[m.group(3)]
         for m in re.finditer(r"^\s+(\d+)%\s+([\d.]+)(us|ms|s)$", out, re.M)}
    rps = re.search(r"Requests/sec:\s+([\d.]+)", out)
    if "99" not in d or rps is None:
        raise RuntimeError(f"wrk printed no latency distribution:\n{out}")
    return d, float(rps.group(1))


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("variants", nargs="+", type=variant)
    ap.add_argument("--size", default="M", choices=sorted(bench.SCENARIOS))
    ap.add_argument("--rounds", type=int, default=4)
    ap.add_argument("--seconds", type=int, default=3)
    ap.add_argument("--nginx-workers", default="2", help="comma-separated worker_processes")
    args = ap.parse_args()
    procs = Procs()
    with tempfile.TemporaryDirectory(prefix="pingone-tail-") as work:
        _, base, _, envs = bench.start_simulator(procs, args.variants[0][1], args.size, work)
        config = bench.write_config(work, base, envs)
        urls = {}
        for name, binary, env in args.variants:
            saved = dict(os.environ)
            os.environ.update(env)
            try:
                _, host, port = bench.start_exporter(procs, name, binary, config, work, 1800)
            finally:
                os.environ.clear()
                os.environ.update(saved)
            urls[name] = f"http://{host}:{port}/metrics"
        first = urls[args.variants[0][0]].split("/")[2]
        host, port = first.rsplit(":", 1)
        _, _, body = request("GET", host, int(port), "/metrics")
        _, _, gz = request("GET", host, int(port), "/metrics", {"Accept-Encoding": "gzip"})
        for w in args.nginx_workers.split(","):
            d = os.path.join(work, f"nginx-{w}")
            os.makedirs(d)
            static = loads.Static(procs, d, body, gz, bench.PLAIN, workers=int(w),
                                  om_body=body, om_gz=gz, om_content_type=bench.PLAIN)
            urls[f"nginx-{w}"] = static.url
        runs = {n: [] for n in urls}
        for r in range(args.rounds):
            order = list(urls) if r % 2 == 0 else list(reversed(list(urls)))
            for n in order:
                out = subprocess.run(["wrk", "-t1", "-c16", f"-d{args.seconds}s", "--latency",
                                      "-H", "Accept-Encoding: gzip", urls[n]],
                                     capture_output=True, text=True, check=True).stdout
                d, rps = percentiles(out)
                runs[n].append((d, rps))
                print(f"round {r} {n:>12}: p50 {d['50']:.2f} p75 {d['75']:.2f} p90 {d['90']:.2f} "
                      f"p99 {d['99']:.2f} ms, {rps:.0f} scrapes/s", flush=True)
        for n, rs in runs.items():
            p99 = [d["99"] for d, _ in rs]
            print(f"{n:>12}: p99 median {statistics.median(p99):.2f} ms, mean {statistics.mean(p99):.2f}; "
                  f"p50 mean {statistics.mean(d['50'] for d, _ in rs):.2f} ms; "
                  f"{statistics.mean(r for _, r in rs):.0f} scrapes/s")
        procs.stop_all()


if __name__ == "__main__":
    main()
