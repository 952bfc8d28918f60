"""Processes and HTTP for the benchmark: start, watch, measure and stop the
programs the benchmark runs, and talk plain HTTP/1.1 to them.

Every process started through `Procs` is stopped at exit (atexit and on
SIGTERM/SIGINT), by its own PID, never by name.
"""

import atexit
import http.client
import os
import signal
import socket
import subprocess
import threading
import time

CLK_TCK = os.sysconf("SC_CLK_TCK")


class Proc:
    """A child process whose stdout+stderr go to a log file and are scanned
    line by line, so the caller can wait for a line it expects."""

    def __init__(self, name, args, log_path, cwd=None):
        self.name = name
        self.log_path = log_path
        self.lines = []
        self.cond = threading.Condition()
        self.started = time.monotonic()
        self.popen = subprocess.Popen(
            args, cwd=cwd, stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
            start_new_session=True)
        self.pid = self.popen.pid
        threading.Thread(target=self._pump, daemon=True).start()

    def _pump(self):
        with open(self.log_path, "wb") as log:
            for raw in self.popen.stdout:
                log.write(raw)
                log.flush()
                with self.cond:
                    self.lines.append(raw.decode("utf-8", "replace").rstrip("\n"))
                    self.cond.notify_all()
        with self.cond:
            self.cond.notify_all()

    def wait_line(self, needle, timeout):
        """Returns the first output line containing `needle`."""
        deadline = time.monotonic() + timeout
        seen = 0
        with self.cond:
            while True:
                for line in self.lines[seen:]:
                    if needle in line:
                        return line
                seen = len(self.lines)
                if self.popen.poll() is not None:
                    raise RuntimeError(f"{self.name} exited ({self.popen.returncode}); see {self.log_path}")
                left = deadline - time.monotonic()
                if left <= 0:
                    raise RuntimeError(f"{self.name}: no {needle!r} within {timeout}s; see {self.log_path}")
                self.cond.wait(min(left, 0.5))

    def output(self):
        with self.cond:
            return list(self.lines)

    def stop(self, grace=5.0):
        """SIGTERM, then SIGKILL after `grace` seconds; waits for the exit."""
        if self.popen.poll() is not None:
            return
        try:
            os.kill(self.pid, signal.SIGTERM)
            self.popen.wait(grace)
        except subprocess.TimeoutExpired:
            os.kill(self.pid, signal.SIGKILL)
            self.popen.wait()
        except ProcessLookupError:
            pass


class Procs:
    """Every process the benchmark started; all are stopped at exit."""

    def __init__(self):
        self.all = []
        atexit.register(self.stop_all)
        for sig in (signal.SIGTERM, signal.SIGINT):
            signal.signal(sig, self._on_signal)

    def _on_signal(self, signum, _frame):
        self.stop_all()
        raise SystemExit(128 + signum)

    def start(self, name, args, log_path, cwd=None):
        p = Proc(name, args, log_path, cwd)
        self.all.append(p)
        return p

    def stop(self, proc):
        proc.stop()
        if proc in self.all:
            self.all.remove(proc)

    def stop_all(self):
        while self.all:
            self.all.pop().stop()


def children(pid):
    """PIDs of the direct children of `pid` (nginx's workers)."""
    out = []
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat") as f:
                stat = f.read()
        except OSError:
            continue
        fields = stat[stat.rindex(")") + 2:].split()
        if int(fields[1]) == pid:
            out.append(int(entry))
    return out


def cpu_seconds(pids):
    """utime + stime of `pids`, in seconds (resolution 1/CLK_TCK)."""
    total = 0
    for pid in pids:
        with open(f"/proc/{pid}/stat") as f:
            stat = f.read()
        fields = stat[stat.rindex(")") + 2:].split()
        total += int(fields[11]) + int(fields[12])  # utime, stime
    return total / CLK_TCK


def status_kib(pid, key):
    """A `VmHWM`/`VmRSS`-style line of /proc/PID/status, in KiB."""
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith(key + ":"):
                return int(line.split()[1])
    raise KeyError(key)


def free_port():
    """A loopback port that was free a moment ago."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def request(method, host, port, path, headers=None, timeout=60.0):
    """One request on a fresh connection: (status, headers dict, body)."""
    conn = http.client.HTTPConnection(host, port, timeout=timeout)
    try:
        conn.request(method, path, headers=headers or {})
        resp = conn.getresponse()
        body = resp.read()
        return resp.status, {k.lower(): v for k, v in resp.getheaders()}, body
    finally:
        conn.close()


def wait_until(what, timeout, check, every=0.05):
    """Calls `check` until it returns something truthy, which is returned."""
    deadline = time.monotonic() + timeout
    while True:
        try:
            v = check()
            if v:
                return v
        except OSError:
            pass
        if time.monotonic() > deadline:
            raise RuntimeError(f"timed out after {timeout}s waiting for {what}")
        time.sleep(every)
