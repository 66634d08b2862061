#!/usr/bin/env python3
"""How long one poll of the lab port takes, with N unrelated loopback connections around.

Part 1 compares three ways of listing the lab port's sockets:

- ``NetlinkSource``: sock_diag, port filter run by the kernel (Linux); once as a one-shot
  ``netstat`` asks it, once as the app does (each socket's byte counts too: its TCP info);
- ``PsutilSource``: ``psutil.net_connections()`` filtered in Python (what runs elsewhere);
- ``ss -tanH '( sport = :P or dport = :P )'`` as a subprocess.

Part 2 (``measure_watch``) runs ``tcp-observatory watch --json --source netlink`` as the user
would, and measures its CPU use at rest and the delay from ``connect()`` to the line that
reports the new connection ESTABLISHED.

Each size adds connections to those of the previous size: N listeners plus N connected pairs
(3N descriptors). Run from the project root: ``python bench/bench_observer.py``.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import queue
import random
import resource
import shutil
import socket
import statistics
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path

import psutil

from tcp_observatory.lab.observe.sources import PsutilSource

sys.path.insert(0, str(Path(__file__).resolve().parent))
from crowd import close_hard

LOCALHOST = "127.0.0.1"
SPARE_FDS = 256  # the interpreter, the sources, ss, the watch subprocess's pipes


def raise_nofile() -> int:
    """Raise the soft limit on open files to the hard limit; return the new soft limit."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if hard == resource.RLIM_INFINITY or soft < hard:
        target = hard if hard != resource.RLIM_INFINITY else max(soft, 1 << 20)
        try:
            resource.setrlimit(resource.RLIMIT_NOFILE, (target, hard))
        except (ValueError, OSError):
            return soft
        return target
    return soft


class Crowd:
    """Unrelated loopback connections: N listeners and N connected pairs."""

    def __init__(self) -> None:
        self.sockets: list[socket.socket] = []
        self.pairs = 0

    def grow(self, n: int) -> None:
        while self.pairs < n:
            listener = socket.socket()
            self.sockets.append(listener)
            listener.bind((LOCALHOST, 0))
            listener.listen(1)
            client = socket.create_connection(listener.getsockname(), timeout=5)
            self.sockets.append(client)
            server, _ = listener.accept()
            self.sockets.append(server)
            self.pairs += 1

    def close(self) -> None:
        for sock in self.sockets:
            close_hard(sock)
        self.sockets.clear()
        self.pairs = 0


def median_seconds(poll: Callable[[], int], repeat: int, expected: int) -> float:
    """Median wall time of ``poll()`` after one warm-up call; check it saw ``expected`` rows."""
    seen = poll()
    if seen != expected:
        raise RuntimeError(f"a poll saw {seen} sockets on the lab port, expected {expected}")
    times = []
    for _ in range(repeat):
        started = time.perf_counter()
        poll()
        times.append(time.perf_counter() - started)
    return statistics.median(times)


def ss_poll(port: int) -> int:
    out = subprocess.run(
        ["ss", "-tanH", f"( sport = :{port} or dport = :{port} )"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    return len(out.splitlines())


# -- part 2: the watch command -------------------------------------------------------------


@dataclass
class WatchFigures:
    cpu: float  # CPU seconds per wall second while nothing changes
    latency: float  # median seconds from connect() to the ESTABLISHED line


def watch_command() -> list[str] | None:
    """``tcp-observatory`` next to this interpreter, or on PATH; None if its watch is missing."""
    here = Path(sys.executable).parent / "tcp-observatory"
    exe = str(here) if here.exists() else shutil.which("tcp-observatory")
    if exe is None:
        return None
    probe = subprocess.run([exe, "watch", "--help"], capture_output=True, timeout=30)
    return [exe] if probe.returncode == 0 else None


def _lines(stream: Iterable[str], out: queue.Queue[str | None]) -> None:
    for line in stream:
        out.put(line)
    out.put(None)


def _wait_established(lines: queue.Queue[str | None], local: str, timeout: float) -> float:
    """Read watch lines until the one taking ``local`` to ESTABLISHED; return when it came."""
    deadline = time.monotonic() + timeout
    while True:
        left = deadline - time.monotonic()
        if left <= 0:
            raise TimeoutError(f"watch never reported {local} ESTABLISHED")
        line = lines.get(timeout=left)
        if line is None:
            raise RuntimeError("watch exited")
        try:
            event = json.loads(line)
        except ValueError:
            continue
        if event.get("to") == "ESTABLISHED" and event.get("local") == local:
            return time.monotonic()


def measure_watch(
    command: list[str],
    lab: socket.socket,
    interval: float = 0.1,
    cpu_seconds: float = 5.0,
    samples: int = 10,
) -> WatchFigures:
    """Run ``watch`` on the lab port: CPU at rest, then connect() -> ESTABLISHED line delay."""
    port = lab.getsockname()[1]
    proc = subprocess.Popen(
        [
            *command,
            "watch",
            "--port",
            str(port),
            "--interval",
            str(interval),
            "--json",
            "--source",
            "netlink",
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
    )
    lines: queue.Queue[str | None] = queue.Queue()
    reader = threading.Thread(target=_lines, args=(proc.stdout, lines), daemon=True)
    reader.start()
    opened: list[socket.socket] = []

    def one_connection() -> float:
        client = socket.socket()
        opened.append(client)
        started = time.monotonic()
        client.connect(lab.getsockname())
        local = f"{LOCALHOST}:{client.getsockname()[1]}"
        seen = _wait_established(lines, local, timeout=10)
        server, _ = lab.accept()
        opened.append(server)
        return seen - started

    try:
        one_connection()  # the watch is up and polling
        ps = psutil.Process(proc.pid)
        before, wall = ps.cpu_times(), time.monotonic()
        time.sleep(cpu_seconds)
        after, wall = ps.cpu_times(), time.monotonic() - wall
        cpu = (after.user + after.system - before.user - before.system) / wall

        delays = []
        for _ in range(samples):
            # Connect at a random phase of the polling cycle, not right after a poll.
            time.sleep(random.uniform(0, interval))
            delays.append(one_connection())
        return WatchFigures(cpu=cpu, latency=statistics.median(delays))
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
        if proc.stdout is not None:
            proc.stdout.close()
        for sock in opened:
            close_hard(sock)


# -- main ----------------------------------------------------------------------------------


def parse_sizes(text: str) -> list[int]:
    sizes = sorted({int(x) for x in text.split(",") if x.strip()})
    if not sizes or sizes[0] < 0:
        raise argparse.ArgumentTypeError("sizes are non-negative integers, comma-separated")
    return sizes


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--sizes",
        type=parse_sizes,
        default=parse_sizes("100,1000,5000"),
        help="numbers N of unrelated connection pairs (100,1000,5000)",
    )
    parser.add_argument("--repeat", type=int, default=7, help="polls per median (7)")
    parser.add_argument("--no-watch", action="store_true", help="skip part 2 (watch)")
    args = parser.parse_args(argv)

    limit = raise_nofile()
    usable = [n for n in args.sizes if 3 * n + SPARE_FDS <= limit]
    for n in args.sizes:
        if n not in usable:
            print(
                f"N={n} is too big: needs {3 * n + SPARE_FDS} descriptors, the open-file "
                f"limit is {limit} (raise the hard limit, ulimit -Hn); skipped",
                file=sys.stderr,
            )

    try:
        from tcp_observatory.lab.observe.netlink import NetlinkSource

        netlink: NetlinkSource | None = NetlinkSource()
        counting: NetlinkSource | None = NetlinkSource()
        assert counting is not None
        counting.byte_counts = True  # as the app asks
    except (ImportError, OSError) as exc:
        print(f"netlink source unavailable: {exc}", file=sys.stderr)
        netlink = counting = None
    psutil_source = PsutilSource()
    has_ss = shutil.which("ss") is not None
    watch = None if args.no_watch else watch_command()
    if not args.no_watch and watch is None:
        print("tcp-observatory watch is not available: part 2 skipped", file=sys.stderr)

    crowd = Crowd()
    lab = socket.socket()
    lab.bind((LOCALHOST, 0))
    lab.listen(16)
    port = lab.getsockname()[1]
    lab_client = socket.create_connection((LOCALHOST, port), timeout=5)
    lab_server, _ = lab.accept()

    print(
        f"{platform.system()} {platform.release()}, Python {platform.python_version()}, "
        f"psutil {psutil.__version__}, {os.cpu_count()} CPUs; lab port {port} "
        f"(1 listener + 1 pair); median of {args.repeat} polls after one warm-up"
    )
    print()
    head = "| N pairs | TCP sockets | netlink | netlink, byte counts (the app) | psutil | ss |"
    rule = "|---:|---:|---:|---:|---:|---:|"
    if watch:
        head += " watch CPU | connect → ESTABLISHED line |"
        rule += "---:|---:|"
    print(head)
    print(rule, flush=True)

    def ms(seconds: float | None) -> str:
        return "—" if seconds is None else f"{seconds * 1000:.2f} ms"

    try:
        for n in usable:
            try:
                crowd.grow(n)
            except OSError as exc:
                print(f"N={n}: could not open the connections ({exc}); stopping", file=sys.stderr)
                break
            total = len(psutil.net_connections(kind="tcp"))
            cells = [str(n), str(total)]
            cells.append(
                ms(median_seconds(lambda: len(netlink.poll(port).connections), args.repeat, 3))
                if netlink
                else "—"
            )
            cells.append(
                ms(median_seconds(
                    lambda: len(counting.poll(port, lab_port=port).connections),
                    args.repeat, 3))
                if counting
                else "—"
            )
            cells.append(
                ms(
                    median_seconds(
                        lambda: len(psutil_source.poll(port).connections), args.repeat, 3
                    )
                )
            )
            cells.append(
                ms(median_seconds(lambda: ss_poll(port), args.repeat, 3)) if has_ss else "—"
            )
            if watch:
                figures = measure_watch(watch, lab)
                cells.append(f"{figures.cpu * 100:.1f} %")
                cells.append(ms(figures.latency))
            print("| " + " | ".join(cells) + " |", flush=True)
    finally:
        for sock in (lab_client, lab_server, lab):
            close_hard(sock)
        crowd.close()
        if netlink is not None:
            netlink.close()
        if counting is not None:
            counting.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
