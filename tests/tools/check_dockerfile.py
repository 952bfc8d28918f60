#!/usr/bin/env python3
"""Checks the Dockerfile without a Docker engine (none runs on our machines).

  1. Static: every stage is named, base images carry a tag (not `latest`);
     every `COPY`/`ADD` source exists in the repository and is let in by
     .dockerignore; every `COPY --from=` names an earlier stage; the final
     stage runs as a non-root numeric user, `EXPOSE`s the default port,
     has exec-form `ENTRYPOINT` (the binary), `CMD` (`--config.file=` a path
     the image holds) and `HEALTHCHECK` (no shell in the base), and holds
     the dashboards and alerts.
  2. The build stage for real: the files its `COPY` lines name (and only
     those) are copied into a fresh directory standing for its `WORKDIR`, and
     its `RUN` commands run there with `sh -c`, on this machine's toolchain
     (Debian 12 and the Rust release the image uses). A file the build needs
     but the Dockerfile does not copy fails the build. `target/` in that
     directory is a link to the repository's `target/`, so the registry
     crates are compiled once and reused.
  3. Every `COPY --from=build` source exists afterwards, and the binary it
     copies works as the image uses it: `--config.check` of the default
     config, and the `HEALTHCHECK` command against the binary in demo mode.

Usage: python3 tests/tools/check_dockerfile.py
"""

import json
import os
import shlex
import shutil
import socket
import subprocess
import sys
import time
from fnmatch import fnmatch
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
DOCKERFILE = ROOT / "Dockerfile"
CONTEXT = ROOT / "target" / "dockerfile-check"
PORT = 9871
problems = []


def check(ok, msg):
    if not ok:
        problems.append(msg)
    return ok


def instructions(text):
    """(keyword, arguments) pairs, continuation lines joined, comments dropped."""
    out, buf = [], ""
    for line in text.splitlines():
        stripped = line.strip()
        if not buf and (not stripped or stripped.startswith("#")):
            continue
        if buf and stripped.startswith("#"):
            continue
        if stripped.endswith("\\"):
            buf += stripped[:-1] + " "
            continue
        buf += stripped
        keyword, _, args = buf.partition(" ")
        out.append((keyword.upper(), args.strip()))
        buf = ""
    return out


def exec_form(args):
    """The JSON array of an exec-form instruction, or None (shell form)."""
    try:
        value = json.loads(args)
    except ValueError:
        return None
    return value if isinstance(value, list) else None


def parse_copy(args):
    words = exec_form(args) or shlex.split(args)
    flags = {w[2:].split("=", 1)[0]: w.split("=", 1)[-1] for w in words if w.startswith("--")}
    paths = [w for w in words if not w.startswith("--")]
    return flags, paths[:-1], paths[-1]


def stages(text):
    result = []
    for keyword, args in instructions(text):
        if keyword == "FROM":
            words = args.split()
            name = words[2] if len(words) == 3 and words[1].upper() == "AS" else None
            result.append({"image": words[0], "name": name, "steps": []})
        elif result:
            result[-1]["steps"].append((keyword, args))
    return result


def dockerignore_allows(path):
    """The allowlist .dockerignore: `*`, then `!path` lines."""
    lines = [l.strip() for l in (ROOT / ".dockerignore").read_text().splitlines()
             if l.strip() and not l.startswith("#")]
    if not check(lines[:1] == ["*"], ".dockerignore must start with `*` (an allowlist)"):
        return False
    allowed = [l[1:].rstrip("/") for l in lines[1:] if l.startswith("!")]
    path = path.rstrip("/")
    return any(path == a or path.startswith(a + "/") or fnmatch(path, a) for a in allowed)


def static_checks(all_stages):
    names = []
    for s in all_stages:
        check(s["name"] is not None or s is all_stages[-1], f"stage {s['image']} has no name")
        image = s["image"]
        check(":" in image.split("/")[-1] and not image.endswith(":latest"),
              f"base image {image} must carry a version tag")
        for keyword, args in s["steps"]:
            if keyword in ("COPY", "ADD"):
                flags, sources, _ = parse_copy(args)
                if "from" in flags:
                    check(flags["from"] in names, f"COPY --from={flags['from']}: no earlier stage of that name")
                    continue
                for src in sources:
                    check((ROOT / src).exists(), f"{keyword} source {src} does not exist")
                    check(dockerignore_allows(src), f"{keyword} source {src} is excluded by .dockerignore")
        if s["name"]:
            names.append(s["name"])

    final = dict()
    for keyword, args in all_stages[-1]["steps"]:
        final.setdefault(keyword, []).append(args)
    user = final.get("USER", ["root"])[-1]
    check(user.split(":")[0].isdigit() and user.split(":")[0] != "0",
          f"final USER must be a numeric non-root user, is {user}")
    check(str(PORT) in " ".join(final.get("EXPOSE", [])), f"EXPOSE {PORT} missing")
    entry = exec_form(final.get("ENTRYPOINT", [""])[-1])
    check(entry == ["/usr/local/bin/pingone-sync-exporter"], f"ENTRYPOINT must be the binary, exec form: {entry}")
    cmd = exec_form(final.get("CMD", [""])[-1]) or []
    config = next((c.split("=", 1)[1] for c in cmd if c.startswith("--config.file=")), None)
    check(config is not None, f"CMD must pass --config.file=PATH: {cmd}")
    dests = [parse_copy(a)[2] for a in final.get("COPY", [])]
    check(config in dests, f"CMD's config file {config} is not copied into the image")
    for d in ("/usr/share/pingone-sync-exporter/dashboards/", "/usr/share/pingone-sync-exporter/alerts/"):
        check(d in dests, f"the image must hold {d}")
    health = final.get("HEALTHCHECK", [""])[-1]
    hcmd = exec_form(health.partition("CMD ")[2].strip())
    check(hcmd == ["/usr/local/bin/pingone-sync-exporter", "healthcheck"],
          f"HEALTHCHECK must run the binary's healthcheck in exec form (no shell): {health}")
    return config, hcmd


def run_build_stage(build):
    """Copies what the stage copies into CONTEXT/WORKDIR, runs its RUN lines."""
    if CONTEXT.exists():
        shutil.rmtree(CONTEXT)
    workdir, env = None, dict(os.environ)
    env.pop("CARGO_TARGET_DIR", None)
    env.pop("GIT_DIR", None)
    # As in a Docker build, git must not find this repository above the copy.
    env["GIT_CEILING_DIRECTORIES"] = str(CONTEXT)
    for keyword, args in build["steps"]:
        if keyword == "WORKDIR":
            workdir = args
            local = CONTEXT / args.lstrip("/")
            local.mkdir(parents=True)
            (local / "target").symlink_to(ROOT / "target")
        elif keyword == "ARG":
            name, _, default = args.partition("=")
            env[name] = default
        elif keyword == "ENV":
            name, _, value = args.partition("=")
            env[name] = value
        elif keyword in ("COPY", "ADD"):
            _, sources, dest = parse_copy(args)
            base = CONTEXT / (workdir or "/").lstrip("/")
            target = base / dest if not dest.startswith("/") else CONTEXT / dest.lstrip("/")
            for src in sources:
                s = ROOT / src
                into = target / s.name if dest.endswith("/") and s.is_file() else target
                if s.is_dir():
                    shutil.copytree(s, into, dirs_exist_ok=True)  # keeps mtimes: cargo stays fresh
                else:
                    into.parent.mkdir(parents=True, exist_ok=True)
                    shutil.copy2(s, into)
        elif keyword == "RUN":
            print(f"check-dockerfile: RUN {args}", flush=True)
            started = time.monotonic()
            r = subprocess.run(["sh", "-c", args], cwd=CONTEXT / workdir.lstrip("/"), env=env)
            check(r.returncode == 0, f"build stage RUN failed (exit {r.returncode}): {args}")
            print(f"check-dockerfile: RUN finished in {time.monotonic() - started:.0f} s", flush=True)
        else:
            check(False, f"check_dockerfile.py does not know how to run {keyword} in the build stage")


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def run_binary(binary, config, health):
    """The copied binary, used as the image uses it."""
    repo_config = next((parse_copy(a)[1][0] for k, a in FINAL_STEPS
                        if k == "COPY" and parse_copy(a)[2] == config), None)
    env = dict(os.environ, PINGONE_CLIENT_SECRET="check-dockerfile")
    r = subprocess.run([binary, f"--config.file={ROOT / repo_config}", "--config.check"],
                       env=env, capture_output=True, text=True)
    check(r.returncode == 0 and r.stdout.strip() == "config OK",
          f"the image's default config does not check: {r.stdout}{r.stderr}")
    port = free_port()
    daemon = subprocess.Popen([binary, "--demo", f"--web.listen-address=127.0.0.1:{port}"],
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        env = dict(os.environ, PINGONE_SYNC_EXPORTER_HEALTHCHECK_URL=f"http://127.0.0.1:{port}/-/healthy")
        for _ in range(50):
            r = subprocess.run([binary] + health[1:], env=env, capture_output=True, text=True)
            if r.returncode == 0:
                break
            time.sleep(0.2)
        check(r.returncode == 0, f"HEALTHCHECK command failed against the demo: {r.stdout}{r.stderr}")
    finally:
        daemon.terminate()
        daemon.wait(timeout=10)


def main():
    global FINAL_STEPS
    all_stages = stages(DOCKERFILE.read_text())
    check(len(all_stages) >= 2, "expected a multi-stage build")
    config, health = static_checks(all_stages)
    FINAL_STEPS = all_stages[-1]["steps"]
    if problems:
        return
    by_name = {s["name"]: s for s in all_stages if s["name"]}
    for keyword, args in FINAL_STEPS:
        if keyword != "COPY":
            continue
        flags, sources, _ = parse_copy(args)
        if "from" not in flags:
            continue
        stage = by_name[flags["from"]]
        run_build_stage(stage)
        if problems:
            return
        for src in sources:
            local = CONTEXT / src.lstrip("/")
            check(local.exists(), f"COPY --from={flags['from']} {src}: the build stage did not produce it")
            if local.exists() and src.endswith("/pingone-sync-exporter"):
                run_binary(str(local), config, health)


FINAL_STEPS = []

if __name__ == "__main__":
    started = time.monotonic()
    main()
    if problems:
        print("check-dockerfile: FAILED", *problems, sep="\n  ", file=sys.stderr)
        sys.exit(1)
    print(f"check-dockerfile: OK ({time.monotonic() - started:.0f} s)")
