"""A classroom's burst against the threaded server, side by side with the handout's code.

N clients connect at once, each sends 50 lines then "Fin" and closes at once (as the
handout's client does). The same burst runs
against this project's threaded server (``LabServer``) and against listing-3-like
reference code written here (a plain blocking ``accept()`` loop, a thread per client), each
in its own process, at backlog 5 (the handout's) and 128. Printed per run: clients that
connected, clients the server accepted, lines it received, handshakes the kernel dropped
at the full accept queue (Linux' host-wide ListenDrops, read before and after), wall time;
then ours against the reference.

    python bench/bench_burst.py [--clients 100 500] [--backlogs 5 128] [--messages 50]

Loopback only, free ports, every process and socket closed; each burst is bounded in time.
"""

from __future__ import annotations

import argparse
import json
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent

NETSTAT = Path("/proc/net/netstat")


def listen_drops(path: Path = NETSTAT) -> int | None:
    """The host's count of handshakes dropped at listeners (ListenDrops), None where unknown.

    Every listener of the machine adds to it, so it measures a burst only on a machine
    where nothing else overflows meanwhile (a benchmark's): the app never shows it as the
    lab's (it names the lab port's waiting handshakes instead, lab.net.overflow)."""
    try:
        lines = path.read_text(encoding="ascii").splitlines()
    except (OSError, UnicodeDecodeError):
        return None
    for head, values in zip(lines[::2], lines[1::2], strict=False):
        if not head.startswith("TcpExt:"):
            continue
        fields = dict(zip(head.split()[1:], values.split()[1:], strict=False))
        try:
            # ListenDrops counts every drop at a listener, overflows included.
            return int(fields.get("ListenDrops") or fields["ListenOverflows"])
        except (KeyError, ValueError):
            return None
    return None

# The handout's listing 3, in spirit: accept in a loop, a thread per client, print lines.
LISTING3 = r"""
import socket, sys, threading
port, backlog = int(sys.argv[1]), int(sys.argv[2])
lock = threading.Lock()
counts = {"accepted": 0, "messages": 0}
srv = socket.socket()
srv.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
srv.bind(("127.0.0.1", port))
srv.listen(backlog)
print("ready", flush=True)

def client(conn):
    buf = b""
    with conn:
        while True:
            data = conn.recv(65536)
            if not data:
                return
            buf += data
            *lines, buf = buf.split(b"\n")
            for line in lines:
                with lock:
                    counts["messages"] += 1
                if line == b"Fin":
                    return

def stop():
    sys.stdin.read()
    with lock:
        print(counts["accepted"], counts["messages"], flush=True)
    import os
    os._exit(0)

threading.Thread(target=stop, daemon=True).start()
while True:
    conn, _ = srv.accept()
    with lock:
        counts["accepted"] += 1
    threading.Thread(target=client, args=(conn,), daemon=True).start()
"""

# This project's threaded server, counting what it reports.
OURS = r"""
import sys, threading
from tcp_observatory.lab.net.server import LabServer
port, backlog = int(sys.argv[1]), int(sys.argv[2])
lock = threading.Lock()
counts = {"accepted": 0, "message": 0}
def sink(e):
    if e.kind in counts:
        with lock:
            counts[e.kind] += 1
server = LabServer("127.0.0.1", port, mode="threaded", backlog=backlog, max_clients=5000,
                   on_event=sink)
server.start()
print("ready", flush=True)
sys.stdin.read()
with lock:
    print(counts["accepted"], counts["message"], flush=True)
import os
os._exit(0)
"""


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def burst(port: int, clients: int, messages: int, deadline: float) -> int:
    """Every client at once; returns how many connected."""
    connected = 0
    lock = threading.Lock()
    go = threading.Event()

    def one(i: int) -> None:
        nonlocal connected
        go.wait()
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=5) as sock:
                with lock:
                    connected += 1
                payload = b"".join(f"c{i}-m{j}\n".encode() for j in range(messages))
                sock.sendall(payload + b"Fin\n")  # then close at once, as the handout's client
        except OSError:
            pass

    threads = [threading.Thread(target=one, args=(i,), daemon=True) for i in range(clients)]
    for th in threads:
        th.start()
    go.set()
    for th in threads:
        th.join(max(0.1, deadline - time.monotonic()))
    return connected


def run(code: str, clients: int, backlog: int, messages: int) -> dict[str, float]:
    port = free_port()
    proc = subprocess.Popen([sys.executable, "-c", code, str(port), str(backlog)],
                            stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True, cwd=ROOT)
    try:
        assert proc.stdout is not None and proc.stdin is not None
        assert proc.stdout.readline().strip() == "ready"
        drops = listen_drops()
        started = time.monotonic()
        connected = burst(port, clients, messages, started + 30)
        wall = time.monotonic() - started
        time.sleep(1.0)  # stragglers retransmitting their handshake get a last chance
        after = listen_drops()
        proc.stdin.close()
        accepted, received = (int(x) for x in proc.stdout.readline().split())
    finally:
        proc.kill()
        proc.wait(10)
    return {"connected": connected, "accepted": accepted, "messages": received,
            "dropped": -1 if drops is None or after is None else after - drops,
            "wall": wall}


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--clients", type=int, nargs="+", default=[100, 500])
    p.add_argument("--backlogs", type=int, nargs="+", default=[5, 128])
    p.add_argument("--messages", type=int, default=50)
    p.add_argument("--json", action="store_true")
    args = p.parse_args()
    rows = []
    print(f"{'server':<10}{'clients':>8}{'backlog':>8}{'connected':>10}{'accepted':>9}"
          f"{'messages':>10}{'of':>8}{'dropped':>9}{'wall s':>8}")
    for clients in args.clients:
        for backlog in args.backlogs:
            pair = {}
            for name, code in (("listing3", LISTING3), ("ours", OURS)):
                r = run(code, clients, backlog, args.messages)
                pair[name] = r
                rows.append({"server": name, "clients": clients, "backlog": backlog, **r})
                expected = clients * (args.messages + 1)
                print(f"{name:<10}{clients:>8}{backlog:>8}{r['connected']:>10.0f}"
                      f"{r['accepted']:>9.0f}{r['messages']:>10.0f}{expected:>8}"
                      f"{r['dropped']:>9.0f}{r['wall']:>8.2f}", flush=True)
            ours, ref = pair["ours"], pair["listing3"]
            ratio = ours["accepted"] / ref["accepted"] if ref["accepted"] else float("inf")
            print(f"  ours / listing3: accepted x{ratio:.2f}, messages "
                  f"{ours['messages']:.0f} vs {ref['messages']:.0f}", flush=True)
    if args.json:
        print(json.dumps(rows))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
