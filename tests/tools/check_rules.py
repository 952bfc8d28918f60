#!/usr/bin/env python3
"""Static checks of the bundled alert rules, their tests and the runbook.

promtool checks syntax and behaviour; this checks the conventions around
them, which the built-in alert sender and on-call engineers rely on:

  - every alert has `for`, a `severity` of critical or warning, a static
    `summary` ending in a period, a templated `description` that names the
    environment (and the rule, for per-rule alerts), and a `runbook_url`
    that is the one base URL plus the alert's anchor;
  - docs/runbook.md has a section with that anchor, and its alert table lists
    every alert with the same severity and `for`, and nothing else;
  - alerts/tests/ has, for every alert, a test where it fires and one where
    it must not (`exp_alerts: []`).

Usage: python3 tests/tools/check_rules.py
"""

import re
import sys
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[2]
RULES = ROOT / "alerts" / "pingone-sync-exporter.rules.yml"
RUNBOOK = ROOT / "docs" / "runbook.md"
TESTS = sorted((ROOT / "alerts" / "tests").glob("*.test.yml"))
BASE = "https://github.com/pingone-sync-exporter/pingone-sync-exporter/blob/main/docs/runbook.md"

problems = []


def check(ok, msg):
    if not ok:
        problems.append(msg)


def github_anchor(heading):
    a = heading.strip().lower()
    a = re.sub(r"[^\w\- ]", "", a)
    return a.replace(" ", "-")


def main():
    alerts = [r for g in yaml.safe_load(RULES.read_text())["groups"] for r in g["rules"]
              if "alert" in r]
    check(len(alerts) >= 10, f"expected at least 10 alerts, found {len(alerts)}")
    runbook = RUNBOOK.read_text()
    anchors = {github_anchor(h) for h in re.findall(r"^#+ (.+)$", runbook, re.M)}
    table = {}
    for line in runbook.splitlines():
        m = re.match(r"\| \[(\w+)\]\(#(\w+)\) \| (\w+) \|.*\| (\w+) \|$", line)
        if m:
            name, anchor, severity, for_ = m.groups()
            table[name] = (anchor, severity, for_)

    names = set()
    for a in alerts:
        name = a["alert"]
        names.add(name)
        where = f"{RULES.name}: {name}"
        check(re.fullmatch(r"PingOne(Provisioning|Exporter)[A-Z]\w+", name),
              f"{where}: name must be CamelCase with the PingOneProvisioning/PingOneExporter prefix")
        check("for" in a, f"{where}: no `for`")
        labels, ann = a.get("labels", {}), a.get("annotations", {})
        severity = labels.get("severity")
        check(severity in ("critical", "warning"), f"{where}: severity {severity!r}")
        summary = ann.get("summary", "")
        check(summary.endswith(".") and "{{" not in summary,
              f"{where}: summary must be a static sentence ending in a period")
        desc = ann.get("description", "")
        if re.search(r"pingone_exporter_(budget|data)_", a.get("expr", "")):
            # Budget alerts are about a request budget, which many
            # environments share (their series carry `budget`, no
            # environment): they name the budget instead.
            check("{{ $labels.budget }}" in desc, f"{where}: description must name the budget")
        elif name != "PingOneExporterDown":
            check("{{ $labels.environment_name }}" in desc, f"{where}: description must name the environment")
        if name.startswith("PingOneProvisioning"):
            check("{{ $labels.rule_name }}" in desc, f"{where}: description must name the rule")
        else:
            check("{{ $labels.instance }}" in desc, f"{where}: description must name the exporter instance")
        anchor = name.lower()
        check(ann.get("runbook_url") == f"{BASE}#{anchor}",
              f"{where}: runbook_url must be {BASE}#{anchor}")
        check(anchor in anchors, f"{RUNBOOK.name}: no section for {name} (#{anchor})")
        row = table.get(name)
        check(row is not None, f"{RUNBOOK.name}: alert table has no row for {name}")
        if row:
            check(row == (anchor, severity, a.get("for")),
                  f"{RUNBOOK.name}: table row for {name} says {row[1:]}, rules say {(severity, a.get('for'))}")
    for extra in set(table) - names:
        problems.append(f"{RUNBOOK.name}: table lists {extra}, which is not in {RULES.name}")

    fires, silent = set(), set()
    for path in TESTS:
        for test in yaml.safe_load(path.read_text())["tests"]:
            for t in test.get("alert_rule_test", []):
                (fires if t.get("exp_alerts") else silent).add(t["alertname"])
    for name in sorted(names):
        check(name in fires, f"alerts/tests: no test where {name} fires")
        check(name in silent, f"alerts/tests: no test where {name} must not fire (exp_alerts: [])")

    if problems:
        print("alert rule conventions: FAILED", file=sys.stderr)
        for p in problems:
            print(f"  - {p}", file=sys.stderr)
        sys.exit(1)
    print(f"alert rule conventions: OK ({len(names)} alerts, runbook sections, table and tests agree)")


if __name__ == "__main__":
    main()
