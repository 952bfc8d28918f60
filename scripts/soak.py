#!/usr/bin/env python3
"""Soak driver for scripts/soak.sh: the exporter against the simulator under
random faults, then a comparison with the simulator's ground truth.

Standard library only. The simulator runs a manual clock that this script
advances every 5 s (as the real clock would), so that it can stop time at
the end and compare the exporter's values with /_sim/truth exactly.
"""

import argparse
import collections
import json
import os
import random
import signal
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request

SECRET = "soak-CANARY-secret-7f3a"
TOKEN_PREFIX = "tok-SOAK-CANARY-"
POLL = 10  # poll_interval, seconds
BUDGET = 20.0  # max_requests_per_second
TICK = 5  # seconds between simulator ticks

SCENARIO = f"""
seed: 11
clock: manual
tick: 5s
warmup_ticks: 3
token_lifetime: 120s
token_prefix: {TOKEN_PREFIX}
clients:
  - client_id: soak-client
    client_secret: {SECRET}
generate:
  environments: 4
  rules_per_environment: 12
  users_per_environment: 150
  groups_per_rule: 3
"""

KINDS = [
    "status", "retry_after", "retry_after_date", "slow", "slow_body",
    "reset_mid_body", "malformed_json", "truncated_json", "revoke_tokens",
    "token_endpoint_down", "unknown_fields", "unknown_enums", "missing_fields",
    "paging_loop", "huge",
]
ENDPOINTS = [None, None, "stores", "rules", "synced_groups", "revision_latest", "token"]


def http(method, url, body=None, timeout=10):
    data = body.encode() if isinstance(body, str) else body
    req = urllib.request.Request(url, data=data, method=method)
    if data is not None:
        req.add_header("Content-Type", "application/json")
    try:
        with urllib.request.urlopen(req, timeout=timeout) as r:
            return r.status, r.read().decode()
    except urllib.error.HTTPError as e:
        return e.code, e.read().decode()


def parse_metrics(text):
    out = []
    for line in text.splitlines():
        if not line or line.startswith("#"):
            continue
        series, value = line.rsplit(" ", 1)
        name, _, labels = series.partition("{")
        lab = {}
        rest = labels.rstrip("}")
        while "=\"" in rest:
            k, rest = rest.split("=\"", 1)
            v, i = [], 0
            while i < len(rest):
                c = rest[i]
                if c == "\\":
                    v.append({"n": "\n"}.get(rest[i + 1], rest[i + 1]))
                    i += 2
                    continue
                if c == '"':
                    break
                v.append(c)
                i += 1
            lab[k.lstrip(",")] = "".join(v)
            rest = rest[i + 1:]
        out.append((name, lab, float(value)))
    return out


def find(samples, name, **want):
    return [v for n, l, v in samples if n == name and all(l.get(k) == x for k, x in want.items())]


def store_owners(rules):
    """Store id -> the rule that carries its summable numbers: enabled
    before disabled, not write-back before write-back, then the lowest id
    (the exporter's mapping::store_owners)."""
    best = {}
    for r in rules:
        sid = r.get("connection_store_id")
        if not sid:
            continue
        rank = (not r["active"], r["direction"] == "writeback", r["id"])
        if sid not in best or rank < best[sid]:
            best[sid] = rank
    return {sid: rank[2] for sid, rank in best.items()}


def one(samples, name, **want):
    v = find(samples, name, **want)
    return v[0] if v else None


def rfc3339(s):
    if s is None:
        return None
    from datetime import datetime
    return datetime.fromisoformat(s.replace("Z", "+00:00")).timestamp()


def rss_kib(pid, field):
    try:
        with open(f"/proc/{pid}/status") as f:
            for line in f:
                if line.startswith(field + ":"):
                    return int(line.split()[1])
    except OSError:
        return None
    return None


class Soak:
    def __init__(self, args):
        self.args = args
        self.rng = random.Random(args.seed)
        self.dir = tempfile.mkdtemp(prefix="pingone-soak-")
        self.fault_kinds = collections.Counter()
        self.ops = collections.Counter()
        self.scrapes = 0
        self.scrape_failures = []
        self.peak = {"exporter": 0, "simulator": 0}
        self.req_samples = []  # (time, simulator total)

    def path(self, name):
        return os.path.join(self.dir, name)

    def spawn(self, name, argv):
        log = open(self.path(name + ".log"), "w")
        return subprocess.Popen(argv, stdout=log, stderr=subprocess.STDOUT)

    def wait_line(self, name, needle, limit=30):
        end = time.time() + limit
        while time.time() < end:
            with open(self.path(name + ".log")) as f:
                for line in f:
                    if needle in line:
                        return line
            time.sleep(0.1)
        sys.exit(f"{name} did not print {needle!r}; see {self.path(name + '.log')}")

    def start(self):
        with open(self.path("scenario.yml"), "w") as f:
            f.write(SCENARIO)
        self.sim = self.spawn("simulator", [self.args.bin, "simulate", "--listen", "127.0.0.1:0",
                                            "--scenario", self.path("scenario.yml")])
        self.sim_base = self.wait_line("simulator", "simulator listening on ").split()[-1]
        with open(self.path("simulator.log")) as f:
            self.envs = [line.split()[1:3] for line in f if line.startswith("environment ")]
        with open(self.path("secret"), "w") as f:
            f.write(SECRET + "\n")
        self.good_config = self.config()
        self.write_config(self.good_config)
        self.exp = self.spawn("exporter", [self.args.bin, "--config.file", self.path("config.yml"),
                                           "--web.listen-address", "127.0.0.1:0", "--log.level", "info",
                                           "--web.enable-lifecycle"])
        addr = self.wait_line("exporter", "msg=listening address=").split("address=")[1].split()[0]
        self.exp_base = f"http://{addr}"
        end = time.time() + 60
        while http("GET", self.exp_base + "/-/ready")[0] != 200:
            if time.time() > end:
                sys.exit("exporter never became ready")
            time.sleep(0.2)

    def config(self):
        worker = self.envs[0][0]
        # Rules and groups every poll too: the checks compare each poll with
        # the simulator's truth.
        c = (f"global:\n  poll_interval: {POLL}s\n  rules_interval: {POLL}s\n"
             f"  groups_interval: {POLL}s\n  request_timeout: 3s\n"
             f"  max_requests_per_second: {BUDGET}\n  max_concurrent_requests: 4\nenvironments:\n")
        for env_id, name in self.envs:
            c += (f"  - name: {name}\n    id: {env_id}\n    api_url: {self.sim_base}/v1\n"
                  f"    auth_url: {self.sim_base}\n    credentials:\n      client_id: soak-client\n"
                  f"      client_secret_file: {self.path('secret')}\n      worker_environment_id: {worker}\n")
        return c

    def write_config(self, text):
        with open(self.path("config.yml"), "w") as f:
            f.write(text)

    def metrics(self):
        status, body = http("GET", self.exp_base + "/metrics")
        self.scrapes += 1
        if status != 200:
            self.scrape_failures.append(status)
            return None
        return parse_metrics(body)

    def random_fault(self):
        kind = self.rng.choice(KINDS)
        rule = {"kind": kind}
        endpoint = self.rng.choice(ENDPOINTS)
        if kind == "token_endpoint_down":
            endpoint = None
        if kind == "revoke_tokens" and endpoint == "token":
            endpoint = None
        if endpoint:
            rule["endpoint"] = endpoint
        if self.rng.random() < 0.6:
            rule["environment"] = self.rng.choice(self.envs)[1]
        if kind == "status":
            rule["status"] = self.rng.choice([500, 502, 503, 504, 408, 429, 400, 403, 404])
        elif kind in ("retry_after", "retry_after_date"):
            rule["seconds"] = self.rng.choice([1, 2, 3, 5, 60])
        elif kind in ("slow", "slow_body"):
            rule["delay_ms"] = self.rng.choice([500, 2000, 4000, 8000])
        elif kind == "huge":
            rule["bytes"] = self.rng.choice([20_000_000, 100_000_000, 500_000_000])
            rule["content_length"] = self.rng.random() < 0.3
        if self.rng.random() < 0.5:
            rule["count"] = self.rng.randint(1, 12)
        else:
            rule["duration_ms"] = self.rng.randint(2_000, 25_000)
        if self.rng.random() < 0.3:
            rule["probability"] = round(self.rng.uniform(0.2, 0.8), 2)
        status, body = http("POST", self.sim_base + "/_sim/faults", json.dumps(rule))
        if status != 200:
            sys.exit(f"fault {rule} refused: {body}")
        self.fault_kinds[kind] += 1

    def operator_fault(self):
        action = self.rng.choice(["reload", "sighup", "bad_reload", "bad_sighup"])
        if action.startswith("bad"):
            self.write_config(self.good_config + "    unexpected_key: 1\n")
        if action.endswith("reload"):
            status, _ = http("POST", self.exp_base + "/-/reload")
            expected = 500 if action.startswith("bad") else 200
            if status != expected:
                sys.exit(f"{action}: /-/reload answered {status}, expected {expected}")
        else:
            self.exp.send_signal(signal.SIGHUP)
            time.sleep(0.5)
        if action.startswith("bad"):
            ok = one(self.metrics() or [], "pingone_exporter_config_last_reload_successful")
            if ok != 0.0:
                sys.exit(f"{action}: reload gauge is {ok}, expected 0")
            self.write_config(self.good_config)
            time.sleep(1.1)  # /-/reload allows one reload per second
            http("POST", self.exp_base + "/-/reload")
        self.ops[action] += 1

    def sample(self):
        for name, proc in (("exporter", self.exp), ("simulator", self.sim)):
            if proc.poll() is not None:
                sys.exit(f"CRASH: {name} exited with {proc.returncode}; see {self.path(name + '.log')}")
            hwm = rss_kib(proc.pid, "VmHWM") or 0
            self.peak[name] = max(self.peak[name], hwm)
        status, body = http("GET", self.sim_base + "/_sim/requests")
        if status == 200:
            self.req_samples.append((time.time(), json.loads(body)["total"]))

    def run(self):
        self.start()
        t0 = time.time()
        self.t0 = t0
        next_tick = next_fault = next_op = t0
        while time.time() - t0 < self.args.duration:
            now = time.time()
            if now >= next_tick:
                http("POST", self.sim_base + "/_sim/advance?ticks=1")
                next_tick += TICK
            if now >= next_fault:
                self.random_fault()
                next_fault = now + self.rng.uniform(3, 12)
            if now >= next_op:
                if now > t0 + 5:
                    self.operator_fault()
                next_op = now + self.rng.uniform(30, 90)
            self.metrics()
            self.sample()
            time.sleep(1)
        self.fault_seconds = time.time() - t0
        return self.settle()

    def settle(self):
        http("POST", self.sim_base + "/_sim/faults/clear")
        self.write_config(self.good_config)
        http("POST", self.exp_base + "/-/reload")
        t_clear = time.time()
        m = self.metrics()
        start_polls = {name: one(m, "pingone_exporter_poll_duration_seconds_count", environment_name=name) or 0
                       for _, name in self.envs}
        end = time.time() + 8 * POLL
        while True:
            self.sample()
            m = self.metrics() or []
            done = all((one(m, "pingone_exporter_poll_duration_seconds_count", environment_name=n) or 0)
                       >= start_polls[n] + 2 for _, n in self.envs)
            up = all(one(m, "pingone_exporter_up", environment_name=n) == 1.0 for _, n in self.envs)
            if done and up:
                break
            if time.time() > end:
                break
            time.sleep(1)
        self.settle_seconds = time.time() - t_clear
        self.final = m
        return self.compare(m)

    def compare(self, m):
        truth = json.loads(http("GET", self.sim_base + "/_sim/truth")[1])
        problems, rules = [], 0
        for env in truth["environments"]:
            eid = env["id"]
            if one(m, "pingone_exporter_up", environment_id=eid) != 1.0:
                problems.append(f"{env['name']}: up is not 1")
            if one(m, "pingone_provisioning_revision_timestamp_seconds", environment_id=eid) != rfc3339(env["revision"]["createdAt"]):
                problems.append(f"{env['name']}: revision time differs")
            stores = {s["id"]: s for s in env["stores"]}
            owners = store_owners(env["rules"])
            for rule in env["rules"]:
                rules += 1
                rid = rule["id"]
                st = stores[rule["connection_store_id"]]["sync_status"] or {}
                # A shared store's summable numbers are on its owner only
                # (docs/metrics.md, "Shared stores"); absent on the others.
                owns = owners.get(rule["connection_store_id"]) == rid
                summable = st if owns else {}
                expect = {
                    ("pingone_provisioning_users_impacted", ()): summable.get("userTotal"),
                    # Events, not users (docs/metrics.md, "Events and users");
                    # users per state only in user-detail mode, off here.
                    ("pingone_provisioning_sync_events_total", (("result", "success"),)): summable.get("successCount"),
                    ("pingone_provisioning_sync_events_total", (("result", "failure"),)): summable.get("failedCount"),
                    ("pingone_provisioning_deprovision_failure_events_total", ()): summable.get("failedDeprovisionCount"),
                    ("pingone_provisioning_users", (("state", "success"),)): None,
                    ("pingone_provisioning_users", (("state", "failed"),)): None,
                    ("pingone_provisioning_last_sync_timestamp_seconds", ()): rfc3339(st.get("lastSyncAt")),
                    ("pingone_provisioning_rule_enabled", ()): 1.0 if rule["active"] else 0.0,
                }
                status = "failed" if st.get("syncState") == "FAILED" else ("active" if rule["active"] else "inactive")
                expect[("pingone_provisioning_rule_status", (("status", status),))] = 1.0
                if rule["active"]:
                    g = rule["groups"]
                    expect[("pingone_provisioning_groups_impacted", ())] = g["impacted"]
                    # A state is served when it counts a group, or as 0 when
                    # every group had an accepted status; never partial/unsynced.
                    unread = g["partial"] + g["unsynced"] + g.get("other", 0)
                    for state in ("success", "failed"):
                        served = g[state] > 0 or unread == 0
                        expect[("pingone_provisioning_groups", (("state", state),))] = g[state] if served else None
                    for state in ("partial", "unsynced"):
                        expect[("pingone_provisioning_groups", (("state", state),))] = None
                for (name, extra), want in expect.items():
                    got = one(m, name, environment_id=eid, rule_id=rid, **dict(extra))
                    want = None if want is None else float(want)
                    if got != want:
                        problems.append(f"{env['name']}/{rule['name']}: {name}{dict(extra)} = {got}, truth {want}")
        self.rules_checked = rules
        return problems

    def finish(self, problems):
        status_before = self.exp.poll()
        self.exp.send_signal(signal.SIGTERM)
        try:
            exp_code = self.exp.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.exp.kill()
            exp_code = "did not stop within 10 s"
        self.sim.send_signal(signal.SIGTERM)
        try:
            sim_code = self.sim.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.sim.kill()
            sim_code = "did not stop within 10 s"
        return status_before, exp_code, sim_code, problems

    def report(self, result):
        status_before, exp_code, sim_code, problems = result
        m = self.final or []
        envs = [n for _, n in self.envs]
        polls_total = sum(one(m, "pingone_exporter_poll_duration_seconds_count", environment_name=n) or 0 for n in envs)
        failures = collections.Counter()
        for n, l, v in m:
            if n == "pingone_exporter_poll_failures_total":
                failures[l["reason"]] += int(v)
        retries = collections.Counter()
        for n, l, v in m:
            if n == "pingone_exporter_api_retries_total":
                retries[l["reason"]] += int(v)
        exporter_requests = int(sum(find(m, "pingone_exporter_api_requests_total")))
        sim_total = self.req_samples[-1][1] if self.req_samples else 0
        elapsed = (self.req_samples[-1][0] - self.t0) if self.req_samples else 0
        budget_total = BUDGET * elapsed
        worst = 0.0
        for i, (t, n) in enumerate(self.req_samples):
            for t2, n2 in self.req_samples[i + 1:]:
                if t2 - t >= 10:
                    worst = max(worst, (n2 - n) / (t2 - t))
                    break
        with open(self.path("exporter.log")) as f:
            log = f.read()
        leaked = [s for s in (SECRET, TOKEN_PREFIX) if s in log]
        failed_lines = log.count('msg="poll failed"')
        crashes = 0 if (status_before is None and exp_code == 0 and sim_code == 0) else 1
        over = worst > BUDGET * 1.05
        verdict_ok = crashes == 0 and not problems and not self.scrape_failures and not over and not leaked
        lines = [
            f"soak report ({'PASS' if verdict_ok else 'FAIL'})",
            f"  faults for {self.fault_seconds:.0f} s, seed {self.args.seed}; settled {self.settle_seconds:.0f} s after clearing them",
            f"  tenant: {len(envs)} environments, {self.rules_checked} rules; poll_interval {POLL}s, budget {BUDGET:g} req/s",
            f"  faults injected: {sum(self.fault_kinds.values())} ({', '.join(f'{k} {v}' for k, v in sorted(self.fault_kinds.items()))})",
            f"  operator faults: {sum(self.ops.values())} ({', '.join(f'{k} {v}' for k, v in sorted(self.ops.items()))})",
            f"  crashes: {crashes} (exporter alive throughout: {status_before is None}; exit code after SIGTERM: {exp_code}; simulator exit code: {sim_code})",
            f"  peak RSS (VmHWM): exporter {self.peak['exporter'] / 1024:.1f} MiB, simulator {self.peak['simulator'] / 1024:.1f} MiB",
            f"  requests: simulator answered {sim_total}, exporter counted {exporter_requests}; "
            f"budget {BUDGET:g}/s x {elapsed:.0f} s = {budget_total:.0f}; busiest 10 s window {worst:.1f} req/s",
            f"  polls: {int(polls_total)} total, {int(polls_total) - sum(failures.values())} succeeded, {sum(failures.values())} failed "
            f"({', '.join(f'{k} {v}' for k, v in sorted(failures.items()))}); 'poll failed' log lines: {failed_lines}",
            f"  retries: {sum(retries.values())} ({', '.join(f'{k} {v}' for k, v in sorted(retries.items()))}); "
            f"429s: {int(sum(find(m, 'pingone_exporter_rate_limited_total')))}; token fetches: {int(sum(find(m, 'pingone_exporter_token_refreshes_total')))}",
            f"  scrapes: {self.scrapes}, failed {len(self.scrape_failures)}",
            f"  secrets in the exporter's log: {'LEAKED ' + ', '.join(leaked) if leaked else 'none'}",
            f"  ground truth after the faults stopped: {self.rules_checked} rules compared, {len(problems)} mismatches",
        ]
        lines += [f"    {p}" for p in problems[:20]]
        print("\n".join(lines))
        print(f"  (logs in {self.dir})")
        return verdict_ok


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--bin", required=True)
    p.add_argument("--duration", type=float, default=600)
    p.add_argument("--seed", type=int, default=1)
    args = p.parse_args()
    soak = Soak(args)
    soak.final = None
    try:
        problems = soak.run()
    except SystemExit as e:
        print(f"soak aborted: {e}", file=sys.stderr)
        for proc in (getattr(soak, "exp", None), getattr(soak, "sim", None)):
            if proc and proc.poll() is None:
                proc.kill()
        print(f"  (logs in {soak.dir})", file=sys.stderr)
        sys.exit(1)
    ok = soak.report(soak.finish(problems))
    sys.exit(0 if ok else 1)


if __name__ == "__main__":
    main()
