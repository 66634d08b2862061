#!/usr/bin/env python3
"""A crowd of unrelated loopback TCP sockets, held by child processes, for the benchmarks.

A busy machine is many processes holding many sockets. One process may hold only as many
descriptors as ``ulimit -n`` allows (20,000 here), so ``Crowd(total)`` starts as many
children as it needs; each opens listeners and connected pairs on 127.0.0.1 (all
ESTABLISHED, both ends in the child: two sockets per pair), prints how many sockets it
holds, then waits for its standard input to close and closes them all with an RST, so that
no TIME_WAIT is left behind to weigh on the next measurement.

    python bench/crowd.py 5000      # as a child: hold 5,000 sockets until stdin closes
"""

from __future__ import annotations

import resource
import socket
import struct
import subprocess
import sys

LOCALHOST = "127.0.0.1"
PER_CHILD = 16_000  # sockets per child: under the usual 20,000-descriptor hard limit
PER_LISTENER = 4_000  # connections per listener (the listen backlog holds them all)


def _raise_nofile(wanted: int) -> None:
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    target = min(hard, max(soft, wanted)) if hard != resource.RLIM_INFINITY else max(soft, wanted)
    if target > soft:
        resource.setrlimit(resource.RLIMIT_NOFILE, (target, hard))


def close_hard(sock: socket.socket) -> None:
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    except OSError:
        pass
    sock.close()


def hold(total: int) -> None:
    """The child: open ``total`` sockets (listeners and pairs), report, wait, close."""
    _raise_nofile(total + 64)
    held: list[socket.socket] = []
    try:
        while len(held) < total:
            listener = socket.socket()
            listener.bind((LOCALHOST, 0))
            listener.listen(PER_LISTENER)
            held.append(listener)
            address = listener.getsockname()
            for _ in range(PER_LISTENER):
                if len(held) + 2 > total:
                    break
                client = socket.create_connection(address, timeout=5)
                server, _ = listener.accept()
                held += (client, server)
        print(len(held), flush=True)
        sys.stdin.read()
    finally:
        for sock in held:
            close_hard(sock)


class Crowd:
    """``total`` sockets held by children; ``close()`` (or leaving ``with``) frees them."""

    def __init__(self, total: int) -> None:
        self.children: list[subprocess.Popen[str]] = []
        self.sockets = 0
        try:
            while self.sockets < total:
                share = min(PER_CHILD, total - self.sockets)
                child = subprocess.Popen([sys.executable, __file__, str(share)],
                                         stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
                self.children.append(child)
                assert child.stdout is not None
                line = child.stdout.readline()
                if not line.strip().isdigit():
                    raise RuntimeError(f"a crowd child failed to open {share} sockets")
                self.sockets += int(line)
        except BaseException:
            self.close()
            raise

    @property
    def pids(self) -> list[int]:
        return [c.pid for c in self.children]

    def close(self) -> None:
        for child in self.children:
            if child.stdin is not None:
                child.stdin.close()
        for child in self.children:
            try:
                child.wait(timeout=30)
            except subprocess.TimeoutExpired:
                child.kill()
                child.wait()
            if child.stdout is not None:
                child.stdout.close()
        self.children.clear()
        self.sockets = 0

    def __enter__(self) -> Crowd:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


if __name__ == "__main__":
    hold(int(sys.argv[1]))
