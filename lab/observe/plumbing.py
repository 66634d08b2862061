"""The app's own wake-up sockets, kept out of the connection table.

Threads that wait on sockets are woken by writing to one end of a socket pair. On Linux
and macOS a pair is a Unix socket, invisible to a TCP listing; on Windows
``socket.socketpair()`` is a TCP connection on loopback, and every server and client of
the app would add two rows that are not part of the lab. Pairs made here are registered
by both address pairs, and the observer leaves them out.
"""

from __future__ import annotations

import contextlib
import socket
import threading

from tcp_observatory.lab.observe.model import Endpoint

_lock = threading.Lock()
_pairs: set[tuple[Endpoint, Endpoint]] = set()
_version = [0]  # grows with each registration: the observer decides its rows again


def version() -> int:
    return _version[0]


def _ends(sock: socket.socket) -> tuple[Endpoint, Endpoint] | None:
    if sock.family not in (socket.AF_INET, socket.AF_INET6):
        return None
    try:
        return (Endpoint.of(*sock.getsockname()[:2]), Endpoint.of(*sock.getpeername()[:2]))
    except OSError:
        return None


def register(*socks: socket.socket) -> None:
    """Mark connected TCP sockets as the app's plumbing (Unix sockets need nothing)."""
    with _lock:
        for sock in socks:
            ends = _ends(sock)
            if ends is not None:
                _pairs.add(ends)
                _version[0] += 1


def release(*socks: socket.socket) -> None:
    with _lock:
        for sock in socks:
            ends = _ends(sock)
            if ends is not None:
                _pairs.discard(ends)


def wake_pair() -> tuple[socket.socket, socket.socket]:
    """A socket pair for waking a thread, never shown as a connection of the lab."""
    r, w = socket.socketpair()
    register(r, w)
    return r, w


def close_pair(*socks: socket.socket) -> None:
    release(*socks)
    for sock in socks:
        with contextlib.suppress(OSError):
            sock.close()


def is_plumbing(local: Endpoint, remote: Endpoint | None) -> bool:
    if remote is None:
        return False
    with _lock:
        return (local, remote) in _pairs
