#!/usr/bin/env python3
"""Every connection of a busy machine: the app and its commands beside ss, netstat and psutil.

Issue 14's figures, measured side by side in one run, with the crowd of ``bench/crowd.py``
(N unrelated ESTABLISHED loopback sockets held by child processes) and a lab port with one
listener and one connected pair:

- ``oneshot``: ``tcp-observatory netstat --port P`` with few sockets, beside the bare
  interpreter (``python -I -c "import socket"``), start to finish;
- ``netstat``: ``tcp-observatory netstat --port P`` beside ``ss`` with the same filter, and
  ``netstat --all`` beside ``ss -tan``, ``netstat -tan`` and a psutil one-liner;
- ``watch``: ``watch --all --interval 0.1``'s CPU and memory at rest, and how long after
  ``connect()`` ``watch --port P`` prints the new connection;
- ``app``: the app with every connection shown (``--all``) in a real terminal (tmux): CPU
  and memory at rest, and how long a key (Down, Up) takes to show, while ``--churn`` other
  connections a second open and close (a browser's; each leaves a TIME_WAIT row). Size 0
  is the same app with few sockets: the peer of the key times.

    python bench/bench_scale.py --sizes 0,10000,50000 --churn 20 --keys 40

``BENCH_APP`` may name another command that starts the app (a profiling wrapper).

Figures are medians; the ratio column divides ours by the peer's.
"""

from __future__ import annotations

import argparse
import json
import os
import queue
import random
import shutil
import socket
import statistics
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterable, Sequence
from pathlib import Path

import psutil

sys.path.insert(0, str(Path(__file__).resolve().parent))
from crowd import Crowd, close_hard

LOCALHOST = "127.0.0.1"
PY = sys.executable
TOOL = str(Path(PY).parent / "tcp-observatory")
PSUTIL_ONE_LINER = "import psutil; print(len(psutil.net_connections('tcp')))"


class Lab:
    """The lab port: a listener and one connected pair, as a lab in progress has."""

    def __init__(self) -> None:
        self.listener = socket.socket()
        self.listener.bind((LOCALHOST, 0))
        self.listener.listen(64)
        self.port = self.listener.getsockname()[1]
        self.client = socket.create_connection((LOCALHOST, self.port), timeout=5)
        self.server, _ = self.listener.accept()
        self.extra: list[socket.socket] = []

    def close(self) -> None:
        for sock in (*self.extra, self.client, self.server, self.listener):
            close_hard(sock)


def run_median(argv: Sequence[str], repeat: int, check: Callable[[str], bool] | None = None,
               ) -> float:
    """Median wall seconds of running ``argv`` to its end, after one warm-up run."""
    times = []
    for i in range(repeat + 1):
        started = time.perf_counter()
        out = subprocess.run(argv, capture_output=True, text=True)
        took = time.perf_counter() - started
        if out.returncode != 0:
            raise RuntimeError(f"{' '.join(argv)} failed: {out.stderr.strip()[:300]}")
        if i == 0 and check is not None and not check(out.stdout):
            raise RuntimeError(f"{' '.join(argv)} printed something unexpected:\n"
                               f"{out.stdout[:500]}")
        if i:
            times.append(took)
    return statistics.median(times)


def row(what: str, ours: float, peer_name: str, peer: float, unit: str = "ms") -> None:
    scale = 1000 if unit == "ms" else 1
    print(f"| {what} | {ours * scale:.1f} {unit} | {peer_name} | {peer * scale:.1f} {unit} | "
          f"{ours / peer:.2f}x |", flush=True)


def head(title: str) -> None:
    print(f"\n**{title}**\n\n| ours | | peer | | ratio |\n|---|---:|---|---:|---:|", flush=True)


# -- parts ---------------------------------------------------------------------------------

def part_oneshot(lab: Lab, repeat: int) -> None:
    head("one-shot, few sockets")
    ours = run_median([TOOL, "netstat", "--port", str(lab.port)], repeat,
                      lambda out: "LISTEN" in out)
    bare = run_median([PY, "-I", "-c", "import socket"], repeat)
    row("`netstat --port P`", ours, "`python -I -c 'import socket'`", bare)
    ours_j = run_median([TOOL, "netstat", "--port", str(lab.port), "--json"], repeat)
    row("`netstat --port P --json`", ours_j, "`python -I -c 'import socket'`", bare)


def part_netstat(lab: Lab, sockets: int, repeat: int) -> None:
    head(f"one-shot at {sockets:,} sockets")
    p = lab.port
    flt = f"( sport = :{p} or dport = :{p} )"
    ss_port = run_median(["ss", "-tanH", flt], repeat, lambda out: len(out.splitlines()) >= 3)
    ours = run_median([TOOL, "netstat", "--port", str(p)], repeat,
                      lambda out: out.count("ESTABLISHED") >= 2)
    row("`netstat --port P`", ours, "`ss -tan` same filter", ss_port)
    ours_b = run_median([TOOL, "netstat", "--port", str(p), "-b"], repeat)
    ss_port_p = run_median(["ss", "-tanpH", flt], repeat)  # owners: every process's fds read
    row("`netstat --port P -b`", ours_b, "`ss -tanp` same filter", ss_port_p)
    ss_all = run_median(["ss", "-tan"], repeat)
    ours_all = run_median([TOOL, "netstat", "--all"], repeat,
                          lambda out: out.count("ESTABLISHED") >= sockets * 0.9)
    row("`netstat --all`", ours_all, "`ss -tan`", ss_all)
    if shutil.which("netstat"):
        row("`netstat --all`", ours_all, "`netstat -tan`",
            run_median(["netstat", "-tan"], repeat))
    row("`netstat --all`", ours_all, "psutil one-liner",
        run_median([PY, "-c", PSUTIL_ONE_LINER], repeat))
    ss_allp = run_median(["ss", "-tanp"], repeat)
    ours_allb = run_median([TOOL, "netstat", "--all", "-b"], repeat)
    row("`netstat --all -b`", ours_allb, "`ss -tanp`", ss_allp)


def _cpu_rss(pid: int, seconds: float) -> tuple[float, float]:
    """CPU (cores) over ``seconds`` of rest, and resident memory (MiB) at the end."""
    proc = psutil.Process(pid)
    before, wall = proc.cpu_times(), time.monotonic()
    time.sleep(seconds)
    after, wall = proc.cpu_times(), time.monotonic() - wall
    cpu = (after.user + after.system - before.user - before.system) / wall
    return cpu, proc.memory_info().rss / 2**20


def _lines(stream: Iterable[str], out: queue.Queue[str | None]) -> None:
    for line in stream:
        out.put(line)
    out.put(None)


def part_watch(lab: Lab, sockets: int, seconds: float, samples: int) -> None:
    print(f"\n**watch at {sockets:,} sockets, 0.1 s interval**\n", flush=True)
    proc = subprocess.Popen([TOOL, "watch", "--all", "--interval", "0.1", "--json"],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        time.sleep(3)  # the first poll names every socket
        cpu, rss = _cpu_rss(proc.pid, seconds)
    finally:
        proc.terminate()
        proc.wait(10)
    # The peer: ss run ten times a second, as a watch would.
    started = time.monotonic()
    spent = 0.0
    while time.monotonic() - started < 2.0:
        t0 = time.perf_counter()
        subprocess.run(["ss", "-tanH"], stdout=subprocess.DEVNULL, check=True)
        spent += time.perf_counter() - t0
        time.sleep(max(0.0, 0.1 - (time.perf_counter() - t0)))
    ss_cpu = spent / (time.monotonic() - started)
    print(f"- `watch --all --interval 0.1`: {cpu:.3f} core at rest, {rss:.0f} MiB; "
          f"`ss -tan` ten times a second: {ss_cpu:.3f} core ({cpu / ss_cpu:.2f}x)")
    delays = _watch_latency(lab, samples)
    print(f"- `watch --port P --interval 0.1`: new connection printed after "
          f"{statistics.median(delays) * 1000:.0f} ms median "
          f"({min(delays) * 1000:.0f}–{max(delays) * 1000:.0f} ms, {len(delays)} connections)",
          flush=True)


def _watch_latency(lab: Lab, samples: int) -> list[float]:
    proc = subprocess.Popen([TOOL, "watch", "--port", str(lab.port), "--interval", "0.1",
                             "--json"], stdout=subprocess.PIPE, stderr=subprocess.DEVNULL,
                            text=True)
    lines: queue.Queue[str | None] = queue.Queue()
    threading.Thread(target=_lines, args=(proc.stdout, lines), daemon=True).start()

    def one() -> float:
        client = socket.socket()
        lab.extra.append(client)
        started = time.monotonic()
        client.connect((LOCALHOST, lab.port))
        local = f"{LOCALHOST}:{client.getsockname()[1]}"
        deadline = started + 10
        while True:
            line = lines.get(timeout=max(0.01, deadline - time.monotonic()))
            if line is None:
                raise RuntimeError("watch exited")
            event = json.loads(line)
            if event.get("to") == "ESTABLISHED" and event.get("local") == local:
                seen = time.monotonic()
                break
        lab.extra.append(lab.listener.accept()[0])
        return seen - started

    try:
        one()  # up and polling
        delays = []
        for _ in range(samples):
            time.sleep(random.uniform(0, 0.1))
            delays.append(one())
        return delays
    finally:
        proc.terminate()
        proc.wait(10)
        if proc.stdout is not None:
            proc.stdout.close()


class Churn:
    """Connections opened and closed off the lab port, ``rate`` a second, as a browser does
    on a busy machine: each leaves a TIME_WAIT row for a minute, so the table keeps
    changing away from the lab (its once-a-second batch of such changes is what a key can
    land on)."""

    def __init__(self, rate: float) -> None:
        self.rate = rate
        self.opened = 0
        self._stop = threading.Event()
        self._listener = socket.socket()
        self._listener.bind((LOCALHOST, 0))
        self._listener.listen(64)
        self._thread = threading.Thread(target=self._run, daemon=True)

    def __enter__(self) -> Churn:
        if self.rate > 0:
            self._thread.start()
        return self

    def _run(self) -> None:
        address = self._listener.getsockname()
        while not self._stop.wait(1 / self.rate):
            client = socket.create_connection(address, timeout=5)
            server, _ = self._listener.accept()
            client.close()  # the client closes first: its end waits in TIME_WAIT
            server.close()
            self.opened += 1

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        if self._thread.is_alive():
            self._thread.join(5)
        self._listener.close()


def _tmux(*args: str) -> str:
    return subprocess.run(["tmux", *args], capture_output=True, text=True, check=True).stdout


def part_app(lab: Lab, sockets: int, seconds: float, samples: int, settle: float,
             churn: float = 0.0) -> None:
    if shutil.which("tmux") is None:
        print("\n(tmux is missing: the app part is skipped)")
        return
    print(f"\n**the app, every connection shown, {sockets:,} sockets, 160x48**\n", flush=True)
    name = f"bench-scale-{os.getpid()}"
    app = os.environ.get("BENCH_APP", TOOL)  # or a wrapper that profiles the app
    cmd = (f"{app} --no-server --all --port {lab.port} --interval 0.1 --lang en "
           f"--screenshots /tmp/{name}")
    _tmux("new-session", "-d", "-s", name, "-x", "160", "-y", "48", cmd)
    try:
        pid = int(_tmux("list-panes", "-t", name, "-F", "#{pane_pid}").split()[0])
        deadline = time.monotonic() + 60
        while str(lab.port) not in _tmux("capture-pane", "-p", "-t", name):
            if time.monotonic() > deadline:
                raise RuntimeError("the app never showed the lab port")
            time.sleep(0.2)
        time.sleep(settle)  # the first look at every socket, sorted, then rest
        cpu, rss = _cpu_rss(pid, seconds)
        print(f"- at rest ({settle:.0f} s after start): {cpu:.3f} core, {rss:.0f} MiB resident")
        _tmux("send-keys", "-t", name, "Tab")  # focus the table
        with Churn(churn) as churning:
            delays = _keys(name, samples)
        what = f", {churning.opened} connections opened and closed meanwhile" if churn else ""
        print(f"- a key (Down/Up) shows after {statistics.median(delays) * 1000:.0f} ms median "
              f"({max(delays) * 1000:.0f} ms at most, {len(delays)} keys{what})", flush=True)
        ordered = sorted(delays)
        p95 = ordered[min(len(ordered) - 1, int(len(ordered) * 0.95))]
        print(f"  (95th percentile {p95 * 1000:.0f} ms; slowest five: "
              f"{', '.join(f'{d * 1000:.0f}' for d in ordered[-5:])} ms)", flush=True)
    finally:
        subprocess.run(["tmux", "kill-session", "-t", name], capture_output=True)
        shutil.rmtree(f"/tmp/{name}", ignore_errors=True)


def _keys(name: str, samples: int) -> list[float]:
    """How long each of ``samples`` keys (Down, Up, ...) takes to change the screen."""
    delays = []
    for i in range(samples):
            before = _tmux("capture-pane", "-p", "-e", "-t", name)
            started = time.monotonic()
            _tmux("send-keys", "-t", name, "Down" if i % 2 == 0 else "Up")
            while _tmux("capture-pane", "-p", "-e", "-t", name) == before:
                if time.monotonic() - started > 10:
                    raise RuntimeError("a key never showed")
                time.sleep(0.002)
            delays.append(time.monotonic() - started)
            time.sleep(random.uniform(0.2, 0.4))  # not in step with the app's timers
    return delays


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sizes", default="10000,50000",
                        help="sockets in the crowd, comma-separated (10000,50000)")
    parser.add_argument("--parts", default="oneshot,netstat,watch,app")
    parser.add_argument("--repeat", type=int, default=7, help="runs per median (7)")
    parser.add_argument("--seconds", type=float, default=5.0, help="seconds of rest measured")
    parser.add_argument("--churn", type=float, default=0.0,
                        help="connections a second opened and closed off the lab port while "
                             "keys are pressed in the app (0)")
    parser.add_argument("--keys", type=int, default=15, help="keys pressed in the app (15)")
    parser.add_argument("--settle", type=float, default=10.0,
                        help="seconds the app is given to take its first look (10)")
    args = parser.parse_args(argv)
    parts = set(args.parts.split(","))
    if not Path(TOOL).exists():
        print(f"{TOOL} is missing: install the project in this interpreter's venv first")
        return 1
    print(f"{os.uname().sysname} {os.uname().release}, Python {sys.version.split()[0]}, "
          f"{os.cpu_count()} CPUs; medians of {args.repeat}")
    lab = Lab()
    try:
        if "oneshot" in parts:
            part_oneshot(lab, args.repeat)
        for size in (int(x) for x in args.sizes.split(",") if x):
            with Crowd(size) as crowd:
                print(f"\n## {crowd.sockets:,} sockets in the crowd", flush=True)
                if "netstat" in parts:
                    part_netstat(lab, crowd.sockets, args.repeat)
                if "watch" in parts and size <= 20000:
                    part_watch(lab, crowd.sockets, args.seconds, 15)
                if "app" in parts and size <= 20000:
                    part_app(lab, crowd.sockets, args.seconds, args.keys, args.settle,
                             args.churn)
    finally:
        lab.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
