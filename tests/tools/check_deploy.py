#!/usr/bin/env python3
"""Checks the deployment examples in deploy/ (no cluster, no systemd as PID 1).

Kubernetes (deploy/kubernetes), structurally:
  - kustomization.yaml lists every manifest and nothing else; every object
    has apiVersion, kind, a name and the app.kubernetes.io/name label;
  - the Deployment's selector matches its pod labels; the container runs
    as non-root with a read-only root filesystem, no privilege escalation
    and no capabilities, has resources, probes on /-/healthy (liveness) and
    /-/ready (readiness) on a declared port, reads --config.file from the
    ConfigMap's mount and the client secret from the Secret mounted as a
    file (the config's client_secret_file is that file);
  - the ConfigMap's config passes the binary's --config.check (with the
    secret path pointed at a stand-in file);
  - the Service selects the pods and targets the container port; the
    ServiceMonitor selects the Service and scrapes its port at /metrics;
  - the PrometheusRule's groups are the ones in alerts/ (scripts/
    gen-prometheusrule.py --check guards the text) and pass promtool;
  - sharded/: a StatefulSet whose pods pass the same container checks, with
    --shard.count equal to its replicas and no --shard.index (each pod
    takes its ordinal), governed by a headless Service that selects exactly
    its pods, and a ServiceMonitor scraping that Service (every pod).

systemd (deploy/systemd):
  - `systemd-analyze verify` prints nothing for the unit (ExecStart pointed
    at the built binary, which verify requires to exist);
  - the unit has the hardening options docs/README promise;
  - the example config reads the secret from the LoadCredential= path and
    passes --config.check.

Usage: python3 tests/tools/check_deploy.py --binary target/debug/pingone-sync-exporter
"""

import argparse
import re
import subprocess
import sys
import tempfile
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[2]
K8S = ROOT / "deploy" / "kubernetes"
UNIT = ROOT / "deploy" / "systemd" / "pingone-sync-exporter.service"
LABEL = "app.kubernetes.io/name"
HARDENING = [
    "DynamicUser=yes", "NoNewPrivileges=yes", "ProtectSystem=strict", "ProtectHome=yes",
    "PrivateTmp=yes", "PrivateDevices=yes", "ProtectKernelTunables=yes",
    "ProtectKernelModules=yes", "ProtectKernelLogs=yes", "ProtectControlGroups=yes",
    "CapabilityBoundingSet=", "SystemCallFilter=@system-service", "RestrictNamespaces=yes",
    "MemoryDenyWriteExecute=yes", "ExecReload=/bin/kill -HUP $MAINPID",
]
problems = []


def check(ok, msg):
    if not ok:
        problems.append(msg)
    return ok


def config_check(binary, text, secret_path, what):
    """--config.check of config `text` with `secret_path` replaced by a real file."""
    with tempfile.TemporaryDirectory() as d:
        secret = Path(d) / "client-secret"
        secret.write_text("stand-in-secret\n")
        check(secret_path in text, f"{what}: does not read the secret from {secret_path}")
        config = Path(d) / "config.yml"
        config.write_text(text.replace(secret_path, str(secret)))
        r = subprocess.run([binary, "--config.file", str(config), "--config.check"],
                           capture_output=True, text=True)
        check(r.returncode == 0, f"{what}: --config.check failed:\n{r.stdout}{r.stderr}")


def pod_checks(what, workload, cm, sec, binary):
    """The checks every exporter pod template must pass; returns its labels and ports."""
    pod = workload["spec"]["template"]
    labels = pod["metadata"]["labels"]
    check(workload["spec"]["selector"]["matchLabels"].items() <= labels.items(), f"{what} selector")
    spec = pod["spec"]
    (c,) = spec["containers"]
    psc, csc = spec.get("securityContext", {}), c.get("securityContext", {})
    check(psc.get("runAsNonRoot") or csc.get("runAsNonRoot"), f"{what}: runAsNonRoot")
    check(csc.get("readOnlyRootFilesystem") is True, f"{what}: readOnlyRootFilesystem")
    check(csc.get("allowPrivilegeEscalation") is False, f"{what}: allowPrivilegeEscalation: false")
    check(csc.get("capabilities", {}).get("drop") == ["ALL"], f"{what}: capabilities drop ALL")
    res = c.get("resources", {})
    check("requests" in res and "memory" in res.get("limits", {}), f"{what}: resources requests and a memory limit")
    ports = {p["name"]: p["containerPort"] for p in c["ports"]}
    check(9871 in ports.values(), f"{what}: container port 9871")
    for probe, path in (("livenessProbe", "/-/healthy"), ("readinessProbe", "/-/ready")):
        get = c.get(probe, {}).get("httpGet", {})
        check(get.get("path") == path and get.get("port") in ports, f"{what}: {probe} on {path}")

    mounts = {m["name"]: m["mountPath"] for m in c["volumeMounts"]}
    volumes = {v["name"]: v for v in spec["volumes"]}
    config_arg = next((a.split("=", 1)[1] for a in c["args"] if a.startswith("--config.file=")), "")
    cm_vol = next((n for n, v in volumes.items() if v.get("configMap", {}).get("name") == cm["metadata"]["name"]), None)
    key = Path(config_arg).name
    check(cm_vol and config_arg == f"{mounts.get(cm_vol)}/{key}" and key in cm["data"],
          f"{what}: --config.file={config_arg} is not the ConfigMap's {list(cm['data'])} mount")
    sec_vol = next((n for n, v in volumes.items() if v.get("secret", {}).get("secretName") == sec["metadata"]["name"]), None)
    check(sec_vol in mounts, f"{what}: the Secret is not mounted as a file")
    (secret_key,) = sec.get("stringData", sec.get("data", {})).keys()
    secret_path = f"{mounts.get(sec_vol)}/{secret_key}"
    if key in cm["data"]:
        config_check(binary, cm["data"][key], secret_path, f"{what}: ConfigMap config.yml")
    return labels, ports, c


def kubernetes(binary):
    files = sorted(p.name for p in K8S.glob("*.yaml") if p.name != "kustomization.yaml")
    kustomization = yaml.safe_load((K8S / "kustomization.yaml").read_text())
    check(sorted(kustomization["resources"]) == files,
          f"kustomization.yaml resources {kustomization['resources']} != {files}")
    objs = {}
    for f in files:
        docs = [d for d in yaml.safe_load_all((K8S / f).read_text()) if d]
        check(len(docs) == 1, f"{f}: expected one object")
        for d in docs:
            for key in ("apiVersion", "kind", "metadata"):
                check(key in d, f"{f}: no {key}")
            check(d["metadata"].get("labels", {}).get(LABEL) == "pingone-sync-exporter",
                  f"{f}: no {LABEL} label")
            objs[d["kind"]] = d
    for kind in ("Deployment", "Service", "ConfigMap", "Secret", "ServiceMonitor", "PrometheusRule"):
        check(kind in objs, f"no {kind}")
    if problems:
        return

    dep, svc, cm, sec = objs["Deployment"], objs["Service"], objs["ConfigMap"], objs["Secret"]
    labels, ports, _ = pod_checks("Deployment", dep, cm, sec, binary)
    check(svc["spec"]["selector"].items() <= labels.items(), "Service selector does not match the pods")
    svc_ports = {p["name"]: p for p in svc["spec"]["ports"]}
    check(all(p["targetPort"] in ports for p in svc_ports.values()), "Service targetPort")
    sm = objs["ServiceMonitor"]
    check(sm["spec"]["selector"]["matchLabels"].items() <= svc["metadata"]["labels"].items(),
          "ServiceMonitor selector does not match the Service")
    for e in sm["spec"]["endpoints"]:
        check(e["port"] in svc_ports and e.get("path", "/metrics") == "/metrics", f"ServiceMonitor endpoint {e}")

    groups = []
    for f in sorted((ROOT / "alerts").glob("*.yml")):
        groups.extend(yaml.safe_load(f.read_text())["groups"])
    rule_groups = objs["PrometheusRule"]["spec"]["groups"]
    check(sorted(g["name"] for g in rule_groups) == sorted(g["name"] for g in groups)
          and all(g in groups for g in rule_groups), "PrometheusRule groups differ from alerts/")
    with tempfile.NamedTemporaryFile("w", suffix=".yml") as tmp:
        yaml.safe_dump({"groups": rule_groups}, tmp)
        tmp.flush()
        r = subprocess.run(["promtool", "check", "rules", tmp.name], capture_output=True, text=True)
        check(r.returncode == 0, f"promtool check rules on the PrometheusRule:\n{r.stdout}{r.stderr}")
    sharded(binary, cm, sec)


def sharded(binary, cm, sec):
    d = K8S / "sharded"
    files = sorted(p.name for p in d.glob("*.yaml") if p.name != "kustomization.yaml")
    check(sorted(yaml.safe_load((d / "kustomization.yaml").read_text())["resources"]) == files,
          f"sharded/kustomization.yaml does not list exactly {files}")
    objs = {}
    for f in files:
        (obj,) = [o for o in yaml.safe_load_all((d / f).read_text()) if o]
        check(obj["metadata"].get("labels", {}).get(LABEL) == "pingone-sync-exporter", f"sharded/{f}: no {LABEL} label")
        objs[obj["kind"]] = obj
    sts, svc, sm = objs["StatefulSet"], objs["Service"], objs["ServiceMonitor"]
    labels, ports, c = pod_checks("sharded StatefulSet", sts, cm, sec, binary)
    counts = [a.split("=", 1)[1] for a in c["args"] if a.startswith("--shard.count=")]
    check(counts == [str(sts["spec"]["replicas"])],
          f"sharded: --shard.count {counts} is not the StatefulSet's replicas {sts['spec']['replicas']}")
    check(not any(a.startswith("--shard.index") for a in c["args"]),
          "sharded: --shard.index is set; each pod must take its ordinal")
    check(sts["spec"].get("serviceName") == svc["metadata"]["name"], "sharded: serviceName is not the headless Service")
    check(svc["spec"].get("clusterIP") == "None", "sharded: the Service is not headless")
    check(svc["spec"]["selector"].items() <= labels.items(), "sharded: the Service does not select the pods")
    check(svc["spec"]["selector"] == sts["spec"]["selector"]["matchLabels"],
          "sharded: the Service selects other pods than the StatefulSet's")
    check(all(p["targetPort"] in ports for p in svc["spec"]["ports"]), "sharded: Service targetPort")
    check(sm["spec"]["selector"]["matchLabels"].items() <= svc["metadata"]["labels"].items(),
          "sharded: the ServiceMonitor does not select the headless Service")


def systemd(binary):
    text = UNIT.read_text()
    joined = re.sub(r"\\\n\s*", "", text)
    lines = [l.strip() for l in joined.splitlines() if l.strip() and not l.startswith("#")]
    for want in HARDENING:
        check(want in lines, f"{UNIT.name}: no {want}")
    exec_start = next(l for l in lines if l.startswith("ExecStart="))
    config = re.search(r"--config.file=(\S+)", exec_start).group(1)
    creds = dict(l.split("=", 1)[1].split(":", 1) for l in lines if l.startswith("LoadCredential="))
    check("client-secret" in creds, f"{UNIT.name}: no LoadCredential=client-secret:...")
    example = ROOT / "deploy" / "systemd" / "config.yml"
    check(config == "/etc/pingone-sync-exporter/config.yml", f"unexpected --config.file {config}")
    config_check(binary, example.read_text(),
                 f"/run/credentials/{UNIT.name}/client-secret", "deploy/systemd/config.yml")
    with tempfile.TemporaryDirectory() as d:
        unit = Path(d) / UNIT.name
        unit.write_text(text.replace("/usr/local/bin/pingone-sync-exporter", str(Path(binary).resolve())))
        r = subprocess.run(["systemd-analyze", "verify", str(unit)], capture_output=True, text=True)
        out = (r.stdout + r.stderr).strip()
        check(r.returncode == 0 and not out, f"systemd-analyze verify {UNIT.name}:\n{out}")


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--binary", required=True)
    args = parser.parse_args()
    kubernetes(args.binary)
    systemd(args.binary)
    if problems:
        print("check-deploy: FAILED", *problems, sep="\n  ", file=sys.stderr)
        sys.exit(1)
    print("check-deploy: OK (kubernetes manifests, systemd unit)")


if __name__ == "__main__":
    main()
