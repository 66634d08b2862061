"""What an idle threaded server costs, side by side with the handout's code.

20 clients connect and say nothing (one sent half a line, one half-closed its side), then
the server is left alone for a window: no thread of it may spin. Both this project's
threaded server (``LabServer``) and listing-3-like reference code (a blocking ``accept()``
loop, a thread per client blocked in ``recv()``, from ``bench_burst.py``) run in their own
process; printed per server: CPU time used during the window (user + system, read with
psutil), its share of one core, and its threads.

    python bench/bench_idle.py [--clients 20] [--window 5]

Loopback only, free ports, every process and socket closed. A spinning thread shows as a
share near 100%; both servers should stay near 0.
"""

from __future__ import annotations

import argparse
import socket
import subprocess
import sys
import time
from pathlib import Path

import psutil

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench_burst import LISTING3, OURS, free_port  # noqa: E402


def measure(code: str, clients: int, window: float) -> tuple[float, int]:
    """CPU seconds the server process used during ``window`` seconds, and its threads."""
    port = free_port()
    proc = subprocess.Popen([sys.executable, "-c", code, str(port), "128"],
                            stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True, cwd=ROOT)
    socks: list[socket.socket] = []
    try:
        assert proc.stdout is not None and proc.stdin is not None
        assert proc.stdout.readline().strip() == "ready"
        for _ in range(clients):
            socks.append(socket.create_connection(("127.0.0.1", port), timeout=5))
        socks[0].sendall(b"a line never finished")
        socks[1].shutdown(socket.SHUT_WR)
        me = psutil.Process(proc.pid)
        # The window starts once the server holds every client (the half-closed one may be
        # closed already): its accepts are not part of what is measured.
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline and sum(
                c.raddr != () for c in me.net_connections("tcp")) < clients - 1:
            time.sleep(0.05)
        time.sleep(0.5)  # the threads just started reach their blocking call
        before = me.cpu_times()
        time.sleep(window)  # the measurement window: nothing happens in it by design
        after = me.cpu_times()
        threads = me.num_threads()
        used = (after.user - before.user) + (after.system - before.system)
        proc.stdin.close()
        proc.wait(10)
        return used, threads
    finally:
        for s in socks:
            s.close()
        if proc.poll() is None:
            proc.kill()
            proc.wait(5)
        if proc.stdout is not None:
            proc.stdout.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--clients", type=int, default=20)
    parser.add_argument("--window", type=float, default=5.0)
    args = parser.parse_args()
    print(f"{args.clients} silent clients, {args.window:g} s window")
    print(f"{'server':<12} {'CPU ms':>8} {'of a core':>10} {'threads':>8}")
    for name, code in (("ours", OURS), ("listing 3", LISTING3)):
        used, threads = measure(code, args.clients, args.window)
        print(f"{name:<12} {used * 1000:>8.1f} {used / args.window:>10.2%} {threads:>8}")


if __name__ == "__main__":
    main()
