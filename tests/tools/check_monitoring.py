#!/usr/bin/env python3
"""Proves the bundled monitoring content against a real Prometheus.

Run by scripts/check-monitoring.sh (which installs Prometheus and builds the
binary first). It starts, all on loopback:

  1. the exporter in --demo mode (the healthy demo tenant);
  2. a "failure" setup: the simulator with tests/fixtures/scenarios/failures.yml
     (a failing store, a forced FAILED rule, high failure rates, a manual
     clock whose last syncs are months old, advanced one tick every few
     seconds so sync events keep coming), a second simulator with
     small.yml that is stopped once it has been polled successfully (stale
     data, connection failures), a stub that answers every API call with
     HTTP 429 like PingOne's rate limiter (the simulator cannot inject faults
     yet), and one exporter polling all of them, one environment with a wrong
     client secret among them;
  3. a target that does not listen (the exporter down);
  4. Prometheus scraping all three every 2 s, evaluating a copy of the
     bundled alert and recording rules every 2 s. In the copy, `for` is
     shortened to 10 s and the data-stale threshold to 25 s so alerts can
     fire within the run; the bundled files keep their production values.

Then it checks, through Prometheus' HTTP API:

  - every dashboard variable (label_values) and every dashboard panel query
    returns data: queries filtered by environment are run once for the demo
    environments and once for the failure environments. A query must return
    data for the demo, except those listed in EMPTY_ON_HEALTHY_DEMO, which
    must return data for the failure setup instead;
  - every recording rule expression returns data, and every rule is healthy;
  - every alert expression evaluates without error, and every series
    selector inside it returns data;
  - queries and selectors that only use metrics in KNOWN_ABSENT (no
    documented PingOne source today) return nothing; if one starts returning
    data the list is out of date and the check fails;
  - the alerts in EXPECTED_FIRING reach `firing`, and the exporter-health
    alerts in MUST_NOT_FIRE are neither pending nor firing for the healthy
    demo.

Every process it starts is stopped, by PID, on exit.
"""

import argparse
import json
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[2]
RULES = ROOT / "alerts" / "pingone-sync-exporter.rules.yml"
RECORDING = ROOT / "alerts" / "pingone-sync-exporter.recording.yml"
DASHBOARDS = sorted((ROOT / "dashboards").glob("*.json"))

DEMO_ENVS = ["demo-prod", "demo-staging"]
FAILURE_ENVS = ["failures", "auth-broken", "rate-limited", "vanishing"]
FAILURES_ENV_ID = "fa110000-0000-4000-8000-000000000001"  # failures.yml
SMALL_A_ID = "5a11a000-0000-4000-8000-00000000000a"  # small.yml

# The test copy of the alert rules: `for` of every alert, and thresholds
# that are durations too long for a short run. Each replacement must match
# exactly once in its alert's expression.
TEST_FOR = "10s"
TEST_REPLACE = {
    "PingOneExporterDataStale": [("> 1800", "> 25")],
}

# Metrics the exporter never serves today: PingOne documents no source for
# them, not even through user-detail mode (docs/metrics.md).
# Queries and selectors using only these must return nothing; the check
# fails when one returns data, so this list stays true. (Write-back failures
# and last write-back come from user-detail mode, which the demo and the
# failures environment below run.)
KNOWN_ABSENT = {
    "pingone_provisioning_last_poll_timestamp_seconds": "Last Poll: no documented source",
    "pingone_provisioning_last_poll_age_seconds": "derived from Last Poll",
}

# Dashboard queries with nothing to show on a healthy tenant; they must
# return data for the failure setup. Key: (dashboard uid, panel title, refId).
FAILED_SHARE_EMPTY = (
    "the failed share of events needs events that grew between two scraped polls and then "
    "two evaluations of the chained recording rules; the dashboards are checked seconds after "
    "Prometheus starts, when the demo (10 s polls, events only at its sync runs) may not have "
    "that yet; the failure setup, whose clock is ticked every few seconds, must"
)

EMPTY_ON_HEALTHY_DEMO = {
    ("pingone-sync-exporter-health", "Polls and poll failures", "B"):
        "no poll fails on the demo; auth-broken, rate-limited and vanishing fail every poll",
    ("pingone-sync-exporter-health", "API errors by environment, endpoint and code", "A"):
        "the demo answers every request with 2xx; the failure setup gets 401 and 429",
    ("pingone-sync-exporter-health", "Retries by endpoint and reason", "A"):
        "nothing is retried on the demo; the 429 stub and the stopped simulator cause retries",
    ("pingone-sync-exporter-health", "Token requests", "B"):
        "no token request is refused on the demo; auth-broken's secret is wrong",
    # The failed share of events is absent while a rule had no event in the
    # window (like over like: no events, no ratio).
    ("pingone-sync-overview", "Rules", "B"): FAILED_SHARE_EMPTY,
    ("pingone-sync-overview", "Failed share of sync events by rule", "A"): FAILED_SHARE_EMPTY,
    ("pingone-sync-rule-detail", "Failed share of sync events", "A"): FAILED_SHARE_EMPTY,
    ("pingone-sync-capacity", "Failed share of sync events by rule", "A"): FAILED_SHARE_EMPTY,
}

# Alerts that must reach `firing`, by (alertname, label subset). The numbers
# behind them are failures.yml's ground truth (GET /_sim/truth), not the
# exporter's: Broken SCIM outbound 11 of 40 users failed, 2 of 4 groups, its
# store FAILED; Zoom flaky 27 of 56 users, 3 of 5 groups; Workday write-back
# 24 of 48 users, counted by user-detail mode, which also gives its write-back
# failures; Salesforce forced failed: syncState FAILED, 1 failed group; the
# manual clock stamps every last sync on 2026-01-01. The failure setup's
# clock is advanced one tick every TICK_EVERY seconds (see Ticker), so sync
# events keep coming: every attempt through Broken SCIM fails, and Zoom
# flaky fails 40 % of its attempts (half of its events), so both have new
# failure events (SyncFailing) and failures since the revision
# (SyncFailuresOutstanding). (Workday inbound carries its store's events,
# the write-back rule's failures included: not asserted.)
EXPECTED_FIRING = [
    ("PingOneProvisioningSyncFailing", {"environment_name": "failures", "rule_name": "Broken SCIM outbound"}),
    ("PingOneProvisioningSyncFailing", {"environment_name": "failures", "rule_name": "Zoom flaky"}),
    ("PingOneProvisioningSyncFailuresOutstanding", {"environment_name": "failures", "rule_name": "Broken SCIM outbound"}),
    ("PingOneProvisioningSyncFailuresOutstanding", {"environment_name": "failures", "rule_name": "Zoom flaky"}),
    ("PingOneProvisioningWritebackFailing", {"environment_name": "failures", "rule_name": "Workday write-back"}),
    ("PingOneProvisioningGroupsFailing", {"environment_name": "failures", "rule_name": "Broken SCIM outbound"}),
    ("PingOneProvisioningGroupsFailing", {"environment_name": "failures", "rule_name": "Zoom flaky"}),
    ("PingOneProvisioningGroupsFailing", {"environment_name": "failures", "rule_name": "Salesforce forced failed"}),
    ("PingOneProvisioningRuleFailed", {"environment_name": "failures", "rule_name": "Broken SCIM outbound"}),
    ("PingOneProvisioningRuleFailed", {"environment_name": "failures", "rule_name": "Salesforce forced failed"}),
    ("PingOneProvisioningSyncStale", {"environment_name": "failures", "rule_name": "Zoom flaky"}),
    ("PingOneProvisioningSyncStale", {"environment_name": "failures", "rule_name": "Workday inbound"}),
    ("PingOneProvisioningSyncStale", {"environment_name": "failures", "rule_name": "Workday write-back"}),
    ("PingOneExporterPollFailing", {"environment_name": "auth-broken"}),
    ("PingOneExporterPollFailing", {"environment_name": "rate-limited"}),
    ("PingOneExporterPollFailing", {"environment_name": "vanishing"}),
    ("PingOneExporterDataStale", {"environment_name": "vanishing"}),
    ("PingOneExporterAuthFailing", {"environment_name": "auth-broken"}),
    ("PingOneExporterRateLimited", {"environment_name": "rate-limited"}),
    ("PingOneExporterDown", {"job": "pingone-sync-down"}),
    ("PingOneExporterBudgetOverSubscribed", {"job": "pingone-sync-failures", "budget": "starved"}),
    # vanishing's simulator stops after its first poll: its stores age past
    # three poll intervals.
    ("PingOneExporterDataBehindCadence", {"job": "pingone-sync-failures", "budget": "default", "data": "stores"}),
]
# Alerts no setup here can fire, and why.
NOT_PROVABLE: dict = {}
# Alerts that must be neither pending nor firing ("*": any alert): exporter
# health of healthy environments and targets; a rule in failed status is not
# also "stale" (only active rules are); a rule with no failed user; an
# inactive rule.
MUST_NOT_FIRE = [
    (name, {"environment_name": env})
    for env in DEMO_ENVS + ["failures"]
    for name in ["PingOneExporterPollFailing", "PingOneExporterDataStale",
                 "PingOneExporterAuthFailing", "PingOneExporterRateLimited"]
] + [
    ("PingOneProvisioningSyncStale", {"environment_name": env}) for env in DEMO_ENVS
] + [
    ("PingOneExporterDown", {"job": job}) for job in ["pingone-sync-demo", "pingone-sync-failures"]
] + [
    (name, {"job": "pingone-sync-demo"})
    for name in ["PingOneExporterBudgetOverSubscribed", "PingOneExporterDataBehindCadence"]
] + [
    ("PingOneProvisioningSyncStale", {"environment_name": "failures", "rule_name": "Broken SCIM outbound"}),
    ("PingOneProvisioningSyncStale", {"environment_name": "failures", "rule_name": "Salesforce forced failed"}),
    ("*", {"environment_name": "demo-prod", "rule_name": "Directory to Zoom"}),
]

# The rate-limited environment's budget: under the 0.1 requests/s its
# stores read every 10 s needs, yet enough for its first poll to end
# within the readiness wait.
STARVED_RATE = 0.09

FIRING_TIMEOUT = 150  # seconds
TICK_EVERY = 4  # seconds between ticks of the failure setup's manual clock


class Ticker:
    """Advances a manual-clock simulator one tick every TICK_EVERY seconds,
    so its stores keep counting sync events while Prometheus watches."""

    def __init__(self, base):
        self.url = f"{base}/_sim/advance?ticks=1"
        self.stopped = threading.Event()
        threading.Thread(target=self.run, daemon=True).start()

    def run(self):
        while not self.stopped.wait(TICK_EVERY):
            try:
                urllib.request.urlopen(urllib.request.Request(self.url, method="POST"), timeout=5).read()
            except OSError as e:
                fail(f"advancing the failure setup's clock: {e}")
                return

    def stop(self):
        self.stopped.set()

PROCS = []  # (name, Popen)
FAILURES = []


def log(msg):
    print(f"[{time.strftime('%H:%M:%S')}] {msg}", flush=True)


def fail(msg):
    FAILURES.append(msg)
    print(f"  FAIL {msg}", flush=True)


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def spawn(name, args, logdir):
    out = open(logdir / f"{name}.log", "w")
    p = subprocess.Popen(args, stdout=out, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                         cwd=ROOT)
    PROCS.append((name, p))
    return p


def stop(name, p):
    if p.poll() is None:
        p.terminate()
        try:
            p.wait(timeout=10)
        except subprocess.TimeoutExpired:
            p.kill()
            p.wait()


def stop_all():
    for name, p in reversed(PROCS):
        stop(name, p)


def wait_for(what, limit, f, interval=0.2):
    start = time.time()
    while True:
        v = f()
        if v:
            return v
        if time.time() - start > limit:
            raise RuntimeError(f"timed out after {limit}s waiting for {what}")
        time.sleep(interval)


def from_log(logdir, name, pattern, limit=60):
    path = logdir / f"{name}.log"

    def look():
        m = re.search(pattern, path.read_text()) if path.exists() else None
        return m.group(1) if m else None

    return wait_for(f"{pattern!r} in {path}", limit, look)


def http_get(url, timeout=10):
    with urllib.request.urlopen(url, timeout=timeout) as r:
        return r.status, r.read().decode()


class Prom:
    def __init__(self, base):
        self.base = base

    def api(self, path, **params):
        url = f"{self.base}/api/v1/{path}?" + urllib.parse.urlencode(params, doseq=True)
        try:
            with urllib.request.urlopen(url, timeout=30) as r:
                body = json.loads(r.read())
        except urllib.error.HTTPError as e:
            body = json.loads(e.read() or b"{}")
        if body.get("status") != "success":
            raise PromError(f"{body.get('errorType')}: {body.get('error')}")
        return body["data"]

    def query(self, q):
        return self.api("query", query=q)["result"]


class PromError(Exception):
    pass


class RateLimitStub(BaseHTTPRequestHandler):
    """Answers every request like PingOne's rate limiter: 429, Retry-After."""

    count = 0

    def answer(self):
        RateLimitStub.count += 1
        body = json.dumps({"id": "00000000-0000-4000-8000-000000000429", "code": "REQUEST_LIMITED",
                           "message": "The request was rate limited."}).encode()
        self.send_response(429)
        self.send_header("Retry-After", "1")
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    do_GET = answer
    do_POST = answer

    def log_message(self, *args):
        pass


# ---- PromQL helpers -------------------------------------------------------

AGGREGATIONS = {"sum", "min", "max", "avg", "count", "stddev", "stdvar", "topk", "bottomk",
                "quantile", "count_values", "group"}
LABEL_LIST_KEYWORDS = {"by", "without", "on", "ignoring", "group_left", "group_right"}
OTHER_KEYWORDS = {"bool", "and", "or", "unless", "offset", "atan2", "Inf", "NaN", "inf", "nan"}


def _skip_string(s, i):
    q = s[i]
    i += 1
    while i < len(s) and s[i] != q:
        i += 2 if s[i] == "\\" else 1
    return i + 1


def _match(s, i, open_c, close_c):
    depth = 0
    while i < len(s):
        c = s[i]
        if c in "\"'`":
            i = _skip_string(s, i)
            continue
        if c == open_c:
            depth += 1
        elif c == close_c:
            depth -= 1
            if depth == 0:
                return i
        i += 1
    raise ValueError(f"unbalanced {open_c}{close_c} in {s!r}")


def selectors(expr):
    """The vector selectors (metric{matchers}) of a PromQL expression."""
    out, i, n = [], 0, len(expr)
    while i < n:
        c = expr[i]
        if c in "\"'`":
            i = _skip_string(expr, i)
        elif c == "[":
            i = expr.index("]", i) + 1
        elif c.isdigit() or (c == "." and i + 1 < n and expr[i + 1].isdigit()):
            while i < n and (expr[i].isalnum() or expr[i] == "."):
                i += 1
        elif c.isalpha() or c in "_:":
            j = i
            while j < n and (expr[j].isalnum() or expr[j] in "_:"):
                j += 1
            word = expr[i:j]
            k = j
            while k < n and expr[k].isspace():
                k += 1
            if word in LABEL_LIST_KEYWORDS:
                i = _match(expr, k, "(", ")") + 1 if k < n and expr[k] == "(" else j
            elif word in OTHER_KEYWORDS or word in AGGREGATIONS or (k < n and expr[k] == "("):
                i = j
            else:
                if k < n and expr[k] == "{":
                    e = _match(expr, k, "{", "}")
                    out.append(word + expr[k:e + 1])
                    i = e + 1
                else:
                    out.append(word)
                    i = j
        else:
            i += 1
    return out


def metric_names(expr):
    return {re.match(r"[A-Za-z_:][A-Za-z0-9_:]*", s).group(0) for s in selectors(expr)}


def only_known_absent(expr):
    names = {m for m in metric_names(expr) if m.startswith("pingone")}
    return bool(names) and names <= set(KNOWN_ABSENT)


def substitute(expr, env_regex):
    out = (expr.replace("${environment_name}", env_regex)
           .replace("$environment_name", env_regex)
           .replace("${rule_name}", ".*").replace("$rule_name", ".*")
           .replace("$__rate_interval", "1m").replace("$__range", "5m")
           .replace("$__interval", "10s"))
    if "$" in out:
        raise ValueError(f"unknown Grafana variable in {expr!r}")
    return out


# ---- setup ------------------------------------------------------------------

def test_rules(dst):
    """The bundled alert rules with `for` and long thresholds shortened."""
    doc = yaml.safe_load(RULES.read_text())
    seen = set()
    for group in doc["groups"]:
        for rule in group["rules"]:
            if "alert" not in rule:
                continue
            rule["for"] = TEST_FOR
            for old, new in TEST_REPLACE.get(rule["alert"], []):
                if rule["expr"].count(old) != 1:
                    raise RuntimeError(f"{rule['alert']}: {old!r} not found exactly once; update TEST_REPLACE")
                rule["expr"] = rule["expr"].replace(old, new)
                seen.add(rule["alert"])
    missing = set(TEST_REPLACE) - seen
    if missing:
        raise RuntimeError(f"TEST_REPLACE names unknown alerts: {missing}")
    dst.write_text(yaml.safe_dump(doc, sort_keys=False))


def start_everything(binary, tmp):
    logs = tmp / "logs"
    logs.mkdir()

    log("starting the demo exporter")
    spawn("demo-exporter", [binary, "--demo", "--web.listen-address", "127.0.0.1:0"], logs)
    demo = from_log(logs, "demo-exporter", r"msg=listening address=(\S+)")

    log("starting the simulators (failures.yml, small.yml) and the HTTP 429 stub")
    spawn("sim-failures", [binary, "simulate", "--listen", "127.0.0.1:0", "--scenario",
                           "tests/fixtures/scenarios/failures.yml"], logs)
    vanishing = spawn("sim-vanishing", [binary, "simulate", "--listen", "127.0.0.1:0", "--scenario",
                                        "tests/fixtures/scenarios/small.yml"], logs)
    sim_a = from_log(logs, "sim-failures", r"simulator listening on (\S+)")
    sim_b = from_log(logs, "sim-vanishing", r"simulator listening on (\S+)")
    stub = ThreadingHTTPServer(("127.0.0.1", 0), RateLimitStub)
    threading.Thread(target=stub.serve_forever, daemon=True).start()
    stub_url = f"http://127.0.0.1:{stub.server_address[1]}"

    (tmp / "good-secret").write_text("demo-secret\n")
    (tmp / "wrong-secret").write_text("not-the-secret\n")
    envs = [
        ("failures", FAILURES_ENV_ID, sim_a, sim_a, "good-secret", FAILURES_ENV_ID),
        ("auth-broken", "a0000000-0000-4000-8000-000000000401", sim_a, sim_a, "wrong-secret", FAILURES_ENV_ID),
        ("rate-limited", "a0000000-0000-4000-8000-000000000429", stub_url, sim_a, "good-secret", FAILURES_ENV_ID),
        ("vanishing", SMALL_A_ID, sim_b, sim_b, "good-secret", SMALL_A_ID),
    ]
    # rate-limited spends from a budget of its own, too small for a stores
    # read every 10 s (0.1 requests/s): PingOneExporterBudgetOverSubscribed.
    cfg = ("global:\n  poll_interval: 10s\n  request_timeout: 5s\n"
           "  max_requests_per_second: 50\n  max_concurrent_requests: 4\n"
           f"budgets:\n  starved:\n    max_requests_per_second: {STARVED_RATE}\n"
           "    max_concurrent_requests: 1\nenvironments:\n")
    for name, env_id, api, auth, secret, worker in envs:
        cfg += (f"  - name: {name}\n    id: {env_id}\n    api_url: {api}/v1\n    auth_url: {auth}\n"
                f"    credentials:\n      client_id: demo-client\n"
                f"      client_secret_file: {tmp / secret}\n      worker_environment_id: {worker}\n")
        if name == "rate-limited":
            cfg += "    budget: starved\n"
        if name == "failures":
            # User-detail mode gives the write-back rule its own user counts
            # and write-back failures (the store's numbers go to its parent).
            cfg += "    user_detail:\n      enabled: true\n      interval: 1m\n      max_requests_per_second: 500\n"
    (tmp / "exporter.yml").write_text(cfg)
    subprocess.run([binary, "--config.file", tmp / "exporter.yml", "--config.check"], check=True,
                   stdout=subprocess.DEVNULL)

    log("starting the failure-setup exporter")
    spawn("failures-exporter", [binary, "--config.file", str(tmp / "exporter.yml"),
                                "--web.listen-address", "127.0.0.1:0"], logs)
    failures = from_log(logs, "failures-exporter", r"msg=listening address=(\S+)")
    for addr in (demo, failures):
        wait_for(f"{addr}/-/ready", 120,
                 lambda a=addr: _ok(f"http://{a}/-/ready"))
    ticker = Ticker(sim_a)

    down = f"127.0.0.1:{free_port()}"  # nothing listens there
    prom_port = free_port()
    test_rules(tmp / "rules.yml")
    shutil.copy(RECORDING, tmp / "recording.yml")
    prom_cfg = {
        "global": {"scrape_interval": "2s", "scrape_timeout": "2s", "evaluation_interval": "2s"},
        "rule_files": [str(tmp / "rules.yml"), str(tmp / "recording.yml")],
        "scrape_configs": [
            {"job_name": "pingone-sync-demo", "static_configs": [{"targets": [demo]}]},
            {"job_name": "pingone-sync-failures", "static_configs": [{"targets": [failures]}]},
            {"job_name": "pingone-sync-down", "static_configs": [{"targets": [down]}]},
        ],
    }
    (tmp / "prometheus.yml").write_text(yaml.safe_dump(prom_cfg, sort_keys=False))
    subprocess.run(["promtool", "check", "config", str(tmp / "prometheus.yml")], check=True,
                   stdout=subprocess.DEVNULL)
    log(f"starting Prometheus on 127.0.0.1:{prom_port} (demo {demo}, failures {failures}, down {down})")
    spawn("prometheus", ["prometheus", f"--config.file={tmp / 'prometheus.yml'}",
                         f"--web.listen-address=127.0.0.1:{prom_port}",
                         f"--storage.tsdb.path={tmp / 'data'}", "--log.level=warn"], logs)
    base = f"http://127.0.0.1:{prom_port}"
    wait_for("Prometheus /-/ready", 60, lambda: _ok(f"{base}/-/ready"))
    return Prom(base), vanishing, stub, ticker


def _ok(url):
    try:
        return http_get(url, timeout=2)[0] == 200
    except (urllib.error.URLError, OSError):
        return False


# ---- checks -----------------------------------------------------------------

def env_regex(envs):
    # The names are plain [a-z-]; PromQL strings reject Python's "\\-" escapes.
    assert all(re.fullmatch(r"[a-z0-9-]+", e) for e in envs)
    return "|".join(envs)


def check_dashboards(prom):
    checked = 0
    empty_as_expected = []
    for path in DASHBOARDS:
        d = json.loads(path.read_text())
        uid = d["uid"]
        for var in d["templating"]["list"]:
            if var["type"] != "query":
                continue
            q = var["query"]["query"] if isinstance(var["query"], dict) else var["query"]
            m = re.fullmatch(r"label_values\((.+),\s*(\w+)\)", q)
            if not m:
                fail(f"{uid}: variable {var['name']}: not label_values(selector, label): {q}")
                continue
            sel, label = m.groups()
            for scope, envs in (("demo", DEMO_ENVS), ("failures", FAILURE_ENVS)):
                checked += 1
                try:
                    values = prom.api(f"label/{label}/values",
                                      **{"match[]": substitute(sel, env_regex(envs))})
                except PromError as e:
                    fail(f"{uid}: variable {var['name']} ({scope}): error {e}")
                    continue
                if not values:
                    fail(f"{uid}: variable {var['name']} ({scope}): no values for {q}")
        panels = [p for top in d["panels"] for p in [top] + top.get("panels", [])]
        for p in panels:
            for t in p.get("targets", []):
                key = (uid, p["title"], t["refId"])
                what = f"{uid} / {p['title']} / {t['refId']}"
                scoped = "environment_name" in t["expr"]
                scopes = ([("demo", DEMO_ENVS), ("failures", FAILURE_ENVS)] if scoped
                          else [("all", DEMO_ENVS + FAILURE_ENVS)])
                results = {}
                for scope, envs in scopes:
                    q = substitute(t["expr"], env_regex(envs))
                    checked += 1
                    try:
                        results[scope] = len(prom.query(q))
                    except PromError as e:
                        fail(f"{what} ({scope}): error {e}: {q}")
                        results[scope] = None
                if None in results.values():
                    continue
                if only_known_absent(t["expr"]):
                    if any(results.values()):
                        fail(f"{what}: returned data but uses only KNOWN_ABSENT metrics; update the list")
                    else:
                        empty_as_expected.append(f"{what}: known absent")
                    continue
                if key in EMPTY_ON_HEALTHY_DEMO:
                    if not results.get("failures"):
                        fail(f"{what}: no data for the failure setup ({EMPTY_ON_HEALTHY_DEMO[key]})")
                    elif results.get("demo"):
                        log(f"  note: {what} has data on the demo too (listed as empty there)")
                    else:
                        empty_as_expected.append(f"{what}: empty on the healthy demo, data for failures")
                    continue
                first = "demo" if scoped else "all"
                if not results[first]:
                    fail(f"{what} ({first}): no data: {substitute(t['expr'], env_regex(DEMO_ENVS))}")
    for key in EMPTY_ON_HEALTHY_DEMO:
        if not any((key[0] == json.loads(p.read_text())["uid"]) for p in DASHBOARDS):
            fail(f"EMPTY_ON_HEALTHY_DEMO names an unknown dashboard: {key}")
    return checked, empty_as_expected


def rule_docs():
    out = []
    for path in (RULES, RECORDING):
        for g in yaml.safe_load(path.read_text())["groups"]:
            out.extend(g["rules"])
    return out


def check_rules(prom):
    checked = 0
    absent = []
    for rule in rule_docs():
        name = rule.get("record") or rule.get("alert")
        expr = rule["expr"]
        checked += 1
        try:
            n = len(prom.query(expr))
        except PromError as e:
            fail(f"{name}: expression error {e}")
            continue
        if "record" in rule and n == 0:
            fail(f"recording rule {name}: expression returned no data")
        for sel in selectors(expr):
            checked += 1
            try:
                found = len(prom.query(sel))
            except PromError as e:
                fail(f"{name}: selector {sel}: error {e}")
                continue
            metric = metric_names(sel).pop()
            if metric in KNOWN_ABSENT:
                if found:
                    fail(f"{name}: selector {sel} returned data but {metric} is in KNOWN_ABSENT; update the list")
                else:
                    absent.append(f"{name}: {sel} ({KNOWN_ABSENT[metric]})")
            elif not found:
                fail(f"{name}: selector {sel} returned no data")
    # Every recorded series exists in Prometheus, and every rule is healthy.
    for rule in rule_docs():
        if "record" in rule:
            checked += 1
            if not prom.query(rule["record"]):
                fail(f"recording rule {rule['record']}: no series recorded")
    for g in prom.api("rules")["groups"]:
        for r in g["rules"]:
            if r.get("health") != "ok":
                fail(f"rule {r['name']} in group {g['name']}: health {r.get('health')}: {r.get('lastError')}")
    return checked, absent


def matches(alert, name, labels):
    return name in ("*", alert["labels"].get("alertname")) and all(
        alert["labels"].get(k) == v for k, v in labels.items())


def check_alerts(prom):
    bundled = {r["alert"] for r in rule_docs() if "alert" in r}
    expected = {name for name, _ in EXPECTED_FIRING}
    for name in sorted(bundled - expected - set(NOT_PROVABLE)):
        fail(f"alert {name} is neither in EXPECTED_FIRING nor in NOT_PROVABLE")
    start = time.time()
    pending = list(EXPECTED_FIRING)
    while pending and time.time() - start < FIRING_TIMEOUT:
        alerts = prom.api("alerts")["alerts"]
        pending = [(n, l) for n, l in pending
                   if not any(a["state"] == "firing" and matches(a, n, l) for a in alerts)]
        if pending:
            time.sleep(2)
    waited = time.time() - start
    for n, l in pending:
        fail(f"alert {n} {l} did not reach firing within {FIRING_TIMEOUT}s")
    alerts = prom.api("alerts")["alerts"]
    for n, l in MUST_NOT_FIRE:
        for a in alerts:
            if matches(a, n, l):
                fail(f"alert {a['labels']['alertname']} is {a['state']} for {l}, which must stay silent")
    return waited, alerts


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--binary", default=str(ROOT / "target" / "debug" / "pingone-sync-exporter"))
    ap.add_argument("--keep", action="store_true", help="keep the temporary directory")
    args = ap.parse_args()
    t0 = time.time()
    tmp = Path(tempfile.mkdtemp(prefix="pingone-monitoring-"))
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    ok = False
    try:
        prom, vanishing, stub, ticker = start_everything(args.binary, tmp)

        log("waiting for the vanishing environment's first successful poll, then stopping its simulator")
        wait_for("last success of 'vanishing' in Prometheus", 60, lambda: prom.query(
            'pingone_exporter_last_success_timestamp_seconds{environment_name="vanishing"}'))
        stop("sim-vanishing", vanishing)

        log("waiting for a few scrapes and rule evaluations")
        wait_for("5 scrapes of each exporter", 60, lambda: len(prom.query(
            'count_over_time(up{job=~"pingone-sync-demo|pingone-sync-failures"}[1m]) >= 5')) == 2)
        wait_for("recording rules evaluated twice", 60, lambda: prom.query(
            'count_over_time(pingone:provisioning_users_impacted:sum_by_environment[1m]) >= 2'))
        wait_for("a retry and a refused token request", 60, lambda: prom.query(
            'pingone_exporter_api_retries_total') and prom.query(
            'pingone_exporter_api_requests_total{endpoint="token", code=~"4.."}'))
        # User-detail walks run beside the polls; their first results (user
        # states, write-back failures) come some seconds after the first poll.
        wait_for("a finished user-detail walk in every environment that runs one", 90, lambda: len(prom.query(
            'pingone_exporter_user_detail_last_success_timestamp_seconds')) >= 3)
        t_ready = time.time() - t0

        log("checking every dashboard variable and panel query")
        n_dash, empty = check_dashboards(prom)
        log("checking every recording and alert rule expression and its selectors")
        n_rules, absent = check_rules(prom)
        log(f"waiting (up to {FIRING_TIMEOUT}s) for the expected alerts to fire")
        waited, alerts = check_alerts(prom)

        print("\n==== summary ====")
        print(f"setup ready after {t_ready:.0f}s; HTTP 429 stub answered {RateLimitStub.count} requests")
        print(f"dashboard variables and queries checked: {n_dash}")
        print(f"rule expressions and selectors checked: {n_rules}")
        print("empty by design:")
        for e in empty + absent:
            print(f"  - {e}")
        print(f"alerts: expected firing reached after {waited:.0f}s; state in Prometheus now:")
        for a in sorted(alerts, key=lambda a: (a["labels"]["alertname"], str(a["labels"]))):
            lab = a["labels"]
            where = lab.get("environment_name", lab.get("job", ""))
            rule = f" / {lab['rule_name']}" if "rule_name" in lab else ""
            print(f"  {a['state']:8} {lab['alertname']:36} {where}{rule}")
        print("not provable here:")
        for name, why in NOT_PROVABLE.items():
            print(f"  - {name}: {why}")
        print(f"total {time.time() - t0:.0f}s")
        stub.shutdown()
        ticker.stop()
        ok = not FAILURES
    except Exception as e:  # noqa: BLE001 - report and fail
        fail(f"{type(e).__name__}: {e}")
    finally:
        stop_all()
        if FAILURES or args.keep:
            print(f"logs and data kept in {tmp}", file=sys.stderr)
        else:
            shutil.rmtree(tmp, ignore_errors=True)
    if not ok:
        print(f"\nmonitoring check FAILED ({len(FAILURES)}):", file=sys.stderr)
        for f in FAILURES:
            print(f"  - {f}", file=sys.stderr)
        sys.exit(1)
    print("monitoring check passed")


if __name__ == "__main__":
    main()
