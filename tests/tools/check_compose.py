#!/usr/bin/env python3
"""Checks docker-compose.yml without a Docker engine.

  - every bind-mounted host path exists, every named volume is declared,
    and the build context holds a Dockerfile;
  - the exporter runs in demo mode and Prometheus scrapes it by service
    name on the port the image exposes;
  - the Prometheus config (the file mounted where `--config.file` points)
    passes `promtool check config`, with its `rule_files` mapped through
    the mounts to the repository's files so the rules are checked too, and
    they match at least the bundled alert and recording rules;
  - the Alertmanager config passes `amtool check-config`, and Prometheus
    sends to the Alertmanager service;
  - every published port is bound to 127.0.0.1 (Prometheus' lifecycle API
    and Grafana's admin / admin must not face the network);
  - Grafana's provisioned data source points at the Prometheus service and
    is the default (the dashboards' `datasource` variable picks it), its
    dashboard provider reads a mount holding every bundled dashboard, and
    the home dashboard exists.

Usage: python3 tests/tools/check_compose.py
"""

import re
import subprocess
import sys
import tempfile
from pathlib import Path, PurePosixPath

import yaml

ROOT = Path(__file__).resolve().parents[2]
COMPOSE = ROOT / "docker-compose.yml"
problems = []


def check(ok, msg):
    if not ok:
        problems.append(msg)
    return ok


def mounts(service, named):
    """container path -> host path (Path) for bind mounts; checks them."""
    out = {}
    for v in service.get("volumes", []):
        if isinstance(v, dict):
            kind, source, target = v.get("type"), v.get("source"), v.get("target")
        else:
            parts = v.split(":")
            source, target = parts[0], parts[1]
            kind = "bind" if source.startswith((".", "/", "~")) else "volume"
        if kind == "bind":
            host = (COMPOSE.parent / source).resolve()
            check(host.exists(), f"bind mount {source} -> {target}: {source} does not exist")
            out[target] = host
        else:
            check(source in named, f"named volume {source} is not declared under volumes:")
    return out


def to_host(path, table):
    """Maps a container path through the mounts; None when not mounted."""
    p = PurePosixPath(path)
    for target, host in sorted(table.items(), key=lambda kv: -len(kv[0])):
        t = PurePosixPath(target)
        if p == t or t in p.parents:
            return host / p.relative_to(t)
    return None


def flag(service, name):
    for arg in service.get("command", []) or []:
        if arg.startswith(f"--{name}="):
            return arg.split("=", 1)[1]
    return None


def published_on_loopback(name, service):
    """Every `ports:` entry names 127.0.0.1 as the host address."""
    for p in service.get("ports", []) or []:
        if isinstance(p, dict):
            ip = p.get("host_ip")
        else:
            # [IP:]HOST:CONTAINER[/PROTO]; an IPv6 address would be bracketed.
            parts = str(p).rsplit(":", 2)
            ip = parts[0] if len(parts) == 3 else None
        check(ip == "127.0.0.1", f"{name}: port {p} is published on every interface, not 127.0.0.1")


def run(cmd):
    r = subprocess.run(cmd, capture_output=True, text=True)
    check(r.returncode == 0, f"{' '.join(map(str, cmd))} failed:\n{r.stdout}{r.stderr}")


def main():
    compose = yaml.safe_load(COMPOSE.read_text())
    services = compose["services"]
    named = set((compose.get("volumes") or {}).keys())
    table = {name: mounts(s, named) for name, s in services.items()}
    for want in ("exporter", "prometheus", "alertmanager", "grafana"):
        check(want in services, f"service {want} missing")
    if problems:
        return
    for name, s in services.items():
        published_on_loopback(name, s)
    check(any(s.get("ports") for s in services.values()), "no service publishes a port")

    exporter = services["exporter"]
    context = COMPOSE.parent / (exporter["build"] if isinstance(exporter["build"], str)
                                else exporter["build"].get("context", "."))
    check((context / "Dockerfile").is_file(), f"build context {context} has no Dockerfile")
    check("--demo" in (exporter.get("command") or []), "the exporter should run with --demo")
    exposed = re.findall(r"^EXPOSE\s+(\d+)", (context / "Dockerfile").read_text(), re.M)

    prom = services["prometheus"]
    prom_config = to_host(flag(prom, "config.file"), table["prometheus"])
    if check(prom_config and prom_config.is_file(), "Prometheus --config.file is not a mounted file"):
        config = yaml.safe_load(prom_config.read_text())
        rule_files = []
        for pattern in config.get("rule_files", []):
            host = to_host(pattern, table["prometheus"])
            check(host is not None, f"rule_files {pattern} is not under a mount")
            if host is not None:
                rule_files.append(str(host))
        matched = {p.name for f in rule_files for p in Path(f).parent.glob(Path(f).name)}
        for bundled in (ROOT / "alerts").glob("*.yml"):
            check(bundled.name in matched, f"Prometheus does not load alerts/{bundled.name}")
        config["rule_files"] = rule_files
        targets = [t for job in config["scrape_configs"] for sc in job.get("static_configs", [])
                   for t in sc["targets"]]
        check(f"exporter:{exposed[0] if exposed else '?'}" in targets,
              f"Prometheus does not scrape exporter:{exposed} ({targets})")
        am = [t for a in config["alerting"]["alertmanagers"] for sc in a["static_configs"]
              for t in sc["targets"]]
        check(any(t.split(":")[0] in services for t in am), f"Alertmanager targets {am} are no service")
        with tempfile.NamedTemporaryFile("w", suffix=".yml") as tmp:
            yaml.safe_dump(config, tmp)
            tmp.flush()
            run(["promtool", "check", "config", tmp.name])

    am_config = to_host(flag(services["alertmanager"], "config.file"), table["alertmanager"])
    if check(am_config and am_config.is_file(), "Alertmanager --config.file is not a mounted file"):
        run(["amtool", "check-config", str(am_config)])

    grafana = table["grafana"]
    sources = [to_host(t, grafana) for t in grafana if "/provisioning/datasources/" in t]
    check(len(sources) == 1, "Grafana: expected one provisioned data source file")
    for f in sources:
        ds = yaml.safe_load(f.read_text())["datasources"]
        default = [d for d in ds if d.get("isDefault")]
        check(len(default) == 1 and default[0]["type"] == "prometheus",
              "Grafana: the Prometheus data source must be the default one")
        for d in default:
            host = re.sub(r"^https?://([^:/]+).*", r"\1", d["url"])
            check(host in services, f"Grafana data source URL {d['url']} is no service")
    providers = [to_host(t, grafana) for t in grafana if "/provisioning/dashboards/" in t]
    check(len(providers) == 1, "Grafana: expected one dashboard provider file")
    bundled = {p.name for p in (ROOT / "dashboards").glob("*.json")}
    for f in providers:
        for p in yaml.safe_load(f.read_text())["providers"]:
            d = to_host(p["options"]["path"], grafana)
            found = {x.name for x in d.glob("*.json")} if d else set()
            check(bundled <= found, f"Grafana provider path {p['options']['path']} lacks {bundled - found}")
    home = services["grafana"].get("environment", {}).get("GF_DASHBOARDS_DEFAULT_HOME_DASHBOARD_PATH")
    if home:
        h = to_host(home, grafana)
        check(h is not None and h.is_file(), f"Grafana home dashboard {home} is not mounted")


if __name__ == "__main__":
    main()
    if problems:
        print("check-compose: FAILED", *problems, sep="\n  ", file=sys.stderr)
        sys.exit(1)
    print("check-compose: OK")
