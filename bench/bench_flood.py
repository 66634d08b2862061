"""What a student's program that floods its output costs the app: ``yes`` as a client program.

The app runs in a real terminal (tmux, 160x48) with ``--exec-client yes``; over ``--seconds``
it measures the app's CPU (cores), the flooding program's CPU and how many bytes it wrote
(Linux: /proc/<pid>/io). A terminal slows such a program down to the speed it shows lines
at; so should the app (it reads at most 200 lines a second and lets the program wait), not
read and discard at full speed.

    python bench/bench_flood.py [--seconds 10] [--command yes]

Loopback only, a free port; the tmux session and every process end with the run.
"""

from __future__ import annotations

import argparse
import os
import shutil
import socket
import subprocess
import sys
import time
from pathlib import Path

import psutil

PY = sys.executable
TOOL = str(Path(PY).parent / "tcp-observatory")


def _tmux(*args: str) -> str:
    return subprocess.run(["tmux", *args], capture_output=True, text=True, check=True).stdout


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _written(proc: psutil.Process) -> int | None:
    try:
        return int(getattr(proc.io_counters(), "write_chars", 0)) or None
    except (psutil.Error, AttributeError):
        return None


def run(command: str, seconds: float, settle: float) -> None:
    name = f"bench-flood-{os.getpid()}"
    port = _free_port()
    cmd = (f"{TOOL} --port {port} --lang en --interval 0.1 --exec-client '{command}' "
           f"--screenshots /tmp/{name}")
    _tmux("new-session", "-d", "-s", name, "-x", "160", "-y", "48", cmd)
    try:
        pid = int(_tmux("list-panes", "-t", name, "-F", "#{pane_pid}").split()[0])
        app = psutil.Process(pid)
        deadline = time.monotonic() + 60
        flood: psutil.Process | None = None
        while flood is None:
            if time.monotonic() > deadline:
                raise RuntimeError("the flooding program never started")
            flood = next((c for c in app.children(recursive=True)
                          if c.name() == os.path.basename(command.split()[0])), None)
            time.sleep(0.2)
        time.sleep(settle)
        a0, f0, w0, t0 = app.cpu_times(), flood.cpu_times(), _written(flood), time.monotonic()
        time.sleep(seconds)
        a1, f1, w1 = app.cpu_times(), flood.cpu_times(), _written(flood)
        wall = time.monotonic() - t0
        app_cpu = (a1.user + a1.system - a0.user - a0.system) / wall
        flood_cpu = (f1.user + f1.system - f0.user - f0.system) / wall
        print(f"- the app: {app_cpu:.2f} core over {wall:.1f} s")
        print(f"- `{command}`: {flood_cpu:.2f} core", end="")
        if w0 is not None and w1 is not None:
            print(f", {(w1 - w0) / wall:.0f} bytes/s written", end="")
        print(flush=True)
    finally:
        subprocess.run(["tmux", "kill-session", "-t", name], capture_output=True, check=False)
        shutil.rmtree(f"/tmp/{name}", ignore_errors=True)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seconds", type=float, default=10.0, help="seconds measured (10)")
    parser.add_argument("--settle", type=float, default=3.0,
                        help="seconds after the program started before measuring (3)")
    parser.add_argument("--command", default="yes", help="the flooding client program (yes)")
    args = parser.parse_args(argv)
    if shutil.which("tmux") is None:
        print("tmux is missing: this benchmark runs the app in a real terminal")
        return 1
    if not Path(TOOL).exists():
        print(f"{TOOL} is missing: install the project in this interpreter's venv first")
        return 1
    print(f"{os.uname().sysname} {os.uname().release}, Python {sys.version.split()[0]}, "
          f"{os.cpu_count()} CPUs", flush=True)
    run(args.command, args.seconds, args.settle)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
