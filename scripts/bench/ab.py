#!/usr/bin/env python3
"""Two builds of the exporter side by side at one size: the same simulator,
the same config, the same wrk loads alternating between them. For checking
that a change helps (figures of two separate runs on a shared machine are
too noisy to compare). Prints scrape latency, CPU per scrape and peak RSS of
each build, and new/base ratios.

  python3 scripts/bench/ab.py --size L BASE_BINARY NEW_BINARY
"""

import argparse
import os
import sys
import tempfile

sys.dont_write_bytecode = True
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import bench  # noqa: E402
import loads  # noqa: E402
import report  # noqa: E402
from procs import Procs, status_kib  # noqa: E402


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("base")
    ap.add_argument("new")
    ap.add_argument("--size", default="L", choices=sorted(bench.SCENARIOS))
    ap.add_argument("--seconds", type=int, default=5)
    ap.add_argument("--rounds", type=int, default=4)
    ap.add_argument("--rps", type=int, default=1000, help="budget, so the first cycle is quick")
    args = ap.parse_args()
    bench.RPS = args.rps
    procs = Procs()
    with tempfile.TemporaryDirectory(prefix="pingone-ab-") as work:
        _, base, _, envs = bench.start_simulator(procs, args.new, args.size, work)
        config = bench.write_config(work, base, envs)
        targets, pids, after_poll = {}, {}, {}
        for name in ("base", "new"):
            p, host, port = bench.start_exporter(procs, name, getattr(args, name), config, work, 1800)
            after_poll[name] = status_kib(p.pid, "VmHWM")
            pids[name] = p.pid
            targets[name] = (f"http://{host}:{port}/metrics", (lambda pid: lambda: [pid])(p.pid))
        print(f"size {args.size}: {len(envs)} environments; {args.rounds} alternating rounds of "
              f"{args.seconds} s per load")
        print(f"  {'':<30} {'base':>12} {'new':>12} {'new/base':>9}")
        labels = dict(report.LOAD_LABELS)
        for name, conns, headers in loads.SCRAPE_LOADS:
            load = labels[name]
            res = loads.side_by_side(targets, conns, args.seconds, args.rounds, headers)
            for key, label in (("p50_ms", "p50 ms"), ("p99_ms", "p99 ms"),
                               ("cpu_ms_per_req", "CPU ms per scrape")):
                b, n = res["base"][key], res["new"][key]
                print(f"  {load + ': ' + label:<30} {b:>12.3f} {n:>12.3f} {n / b:>8.2f}×")
        for label, values in (("RSS after first cycle MiB", after_poll),
                              ("peak RSS MiB", {k: status_kib(v, "VmHWM") for k, v in pids.items()})):
            b, n = values["base"] / 1024, values["new"] / 1024
            print(f"  {label:<30} {b:>12.1f} {n:>12.1f} {n / b:>8.2f}×")
        procs.stop_all()


if __name__ == "__main__":
    main()
