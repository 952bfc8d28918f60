#!/usr/bin/env python3
"""How long a FAILED store takes to reach /metrics, at the default budget.

For each case (size, poll_interval): start the simulator on the bench
scenario, start the exporter with the DEFAULT request budget (10 requests/s,
4 in flight) and the default cadences, wait for /-/ready (the first poll
reads everything), then turn several connection stores FAILED through the
simulator's control endpoint (POST /_sim/stores/{id}/status?value=FAILED),
one every poll_interval / SAMPLES seconds so the flips fall at every phase
of the poll schedule, and read /metrics every 0.5 s until each flipped
store's rule shows pingone_provisioning_rule_status{status="failed"} 1.
Reports the median and the maximum latency per case. Stdlib only; see
docs/performance.md ("Time to show a failure").
"""

import argparse
import json
import os
import re
import statistics
import sys
import tempfile
import time

sys.dont_write_bytecode = True  # no __pycache__ in the source tree
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import bench  # noqa: E402
from procs import Procs, request  # noqa: E402

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
SCENARIOS = {s: f"tests/fixtures/scenarios/bench-{s.lower()}.yml" for s in "SML"}
FAILED = re.compile(r'^pingone_provisioning_rule_status\{[^}]*rule_id="([^"]+)"[^}]*status="failed"\} 1$',
                    re.M)


def write_config(work, base, envs, poll):
    """The default budget and cadences: only poll_interval is set."""
    secret = os.path.join(work, "secret")
    with open(secret, "w") as f:
        f.write("demo-secret\n")
    lines = ["global:", f"  poll_interval: {poll}s", "environments:"]
    for env in envs:
        lines += [f"  - name: {env['name']}", f"    id: {env['id']}", f"    api_url: {base}/v1",
                  f"    auth_url: {base}", "    credentials:", "      client_id: demo-client",
                  f"      client_secret_file: {secret}",
                  f"      worker_environment_id: {envs[0]['id']}"]
    path = os.path.join(work, "config.yml")
    with open(path, "w") as f:
        f.write("\n".join(lines) + "\n")
    return path


def victims(truth, n):
    """(store id, rule id) of `n` working connection stores with a served
    syncStatus, each in another environment, spread over the tenant."""
    envs = truth["environments"]
    out = []
    for env in envs[:: max(1, len(envs) // n)]:
        stores = {s["id"]: s for s in env["stores"]}
        for rule in env["rules"]:
            s = stores.get(rule["connection_store_id"])
            if rule["active"] and s and s["sync_status"] and not s["failing"]:
                out.append((s["id"], rule["id"]))
                break
        if len(out) == n:
            break
    return out


def run_case(procs, sim_binary, binary, size, poll, samples, work):
    sim, base, (shost, sport), _ = bench.start_simulator(procs, sim_binary, size, work)
    truth = json.loads(request("GET", shost, sport, "/_sim/truth", timeout=600)[2])
    config = write_config(work, base, truth["environments"], poll)
    picked = victims(truth, samples)
    t0 = time.monotonic()
    exp, host, port = bench.start_exporter(procs, "exporter", binary, config, work, 3600, every=0.5)
    ready_s = time.monotonic() - t0
    print(f"  {size} poll {poll}s: ready after {ready_s:.0f} s; flipping {len(picked)} stores",
          flush=True)

    gap = poll / len(picked)
    flipped, seen = {}, {}
    start = time.monotonic()
    while len(seen) < len(picked):
        now = time.monotonic()
        due = int((now - start) / gap) + 1
        for store, rule in picked[:min(due, len(picked))]:
            if rule not in flipped:
                status, _, body = request("POST", shost, sport,
                                          f"/_sim/stores/{store}/status?value=FAILED")
                if status != 200:
                    raise RuntimeError(f"flip {store}: {status} {body[:200]!r}")
                flipped[rule] = time.monotonic()
        _, _, body = request("GET", host, port, "/metrics", timeout=120)
        failed = set(FAILED.findall(body.decode()))
        now = time.monotonic()
        for rule, at in flipped.items():
            if rule not in seen and rule in failed:
                seen[rule] = now - at
                print(f"    store of rule {rule}: {seen[rule]:.1f} s", flush=True)
        if now - start > 20 * poll + 3600:
            raise RuntimeError(f"{len(picked) - len(seen)} flips never showed")
        time.sleep(0.5)
    counts = json.loads(request("GET", shost, sport, "/_sim/requests")[2])
    procs.stop(exp)
    procs.stop(sim)
    lat = sorted(seen.values())
    return {"size": size, "poll_interval_s": poll, "environments": len(truth["environments"]),
            "rules": sum(len(e["rules"]) for e in truth["environments"]),
            "ready_s": ready_s, "samples": len(lat), "latencies_s": lat,
            "median_s": statistics.median(lat), "max_s": lat[-1],
            "target_s": 2 * poll, "requests": counts["total"]}


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--binary", default=os.path.join(ROOT, "target/release/pingone-sync-exporter"))
    ap.add_argument("--simulator-binary",
                    help="the binary that runs the simulator (default: --binary); set it to "
                         "compare an older exporter, whose simulator lacks the control endpoint")
    ap.add_argument("--cases", default="M:30,M:60,L:60",
                    help="comma-separated SIZE:POLL_SECONDS (sizes S, M, L)")
    ap.add_argument("--samples", type=int, default=6, help="stores flipped per case")
    ap.add_argument("--json", help="also write every figure to this file")
    args = ap.parse_args()
    cases = []
    for c in args.cases.split(","):
        size, poll = c.strip().split(":")
        if size.upper() not in SCENARIOS:
            ap.error(f"unknown size in {c}")
        cases.append((size.upper(), int(poll)))

    procs = Procs()
    results = {"command": " ".join(sys.argv), "binary": args.binary, "cases": []}
    with tempfile.TemporaryDirectory(prefix="pingone-fresh-") as tmp:
        for i, (size, poll) in enumerate(cases):
            work = os.path.join(tmp, f"{i}-{size}")
            os.makedirs(work)
            r = run_case(procs, args.simulator_binary or args.binary, args.binary,
                         size, poll, args.samples, work)
            results["cases"].append(r)
    print("\nTime from a store turning FAILED to /metrics showing it (default budget 10/s)")
    print(f"{'size':<5}{'envs x rules':>14}{'poll':>7}{'samples':>9}{'median':>9}{'max':>8}"
          f"{'target':>9}  met")
    for r in results["cases"]:
        met = "yes" if r["max_s"] <= r["target_s"] else "NO"
        print(f"{r['size']:<5}{r['environments']:>7} x {r['rules'] // r['environments']:<4}"
              f"{r['poll_interval_s']:>6}s{r['samples']:>9}{r['median_s']:>8.1f}s"
              f"{r['max_s']:>7.1f}s{r['target_s']:>8}s  {met}")
    if args.json:
        with open(args.json, "w") as f:
            json.dump(results, f, indent=1)


if __name__ == "__main__":
    main()
