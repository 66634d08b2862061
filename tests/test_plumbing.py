"""The app's own wake-up sockets are never shown as connections of the lab.

On Windows ``socket.socketpair()`` is a TCP connection on loopback; here (Linux) it is a
Unix socket, so the test builds a real TCP pair on 127.0.0.1 and registers it the way
``wake_pair`` does on Windows: the observer must leave it out, with every source."""

from __future__ import annotations

import socket

import pytest
from support import LOCALHOST, Lab

from tcp_observatory.lab.observe import plumbing
from tcp_observatory.lab.observe.model import Endpoint


def tcp_pair() -> tuple[socket.socket, socket.socket, socket.socket]:
    listener = socket.socket()
    listener.bind((LOCALHOST, 0))
    listener.listen(1)
    a = socket.create_connection(listener.getsockname(), timeout=5)
    b, _ = listener.accept()
    return listener, a, b


def test_a_registered_pair_is_not_in_the_table(lab: Lab, source_kind: str) -> None:
    """With every source: the fixture skips netlink where it does not open."""
    listener, a, b = tcp_pair()
    port = listener.getsockname()[1]
    try:
        kernel = lab.kernel(source_kind, port)
        ends = (Endpoint.of(*a.getsockname()[:2]), Endpoint.of(*a.getpeername()[:2]))
        assert kernel.find(*ends) is not None  # an ordinary connection is shown
        plumbing.register(a, b)
        snap = kernel.snapshot()
        keys = set(snap.by_key())
        assert ends not in keys and (ends[1], ends[0]) not in keys, kernel.describe()
        assert any(c.remote is None for c in snap.connections)  # the listener still is
    finally:
        plumbing.close_pair(a, b)
        listener.close()
    assert not plumbing.is_plumbing(*ends)


def test_a_wake_pair_wakes_and_is_registered_only_if_it_is_tcp() -> None:
    """Unix sockets (Linux, macOS) register nothing; a TCP pair (Windows) is registered by
    both address pairs."""
    before = plumbing.version()
    r, w = plumbing.wake_pair()
    try:
        w.send(b"x")
        assert r.recv(1) == b"x"
        if r.family == getattr(socket, "AF_UNIX", None):
            assert plumbing.version() == before
        else:
            assert plumbing.version() == before + 2
            for sock in (r, w):
                assert plumbing.is_plumbing(Endpoint.of(*sock.getsockname()[:2]),
                                            Endpoint.of(*sock.getpeername()[:2]))
    finally:
        plumbing.close_pair(r, w)


def test_a_tcp_wake_pair_is_registered_and_released(monkeypatch: pytest.MonkeyPatch) -> None:
    """Windows' pair (a TCP connection on loopback), made here too: both ends are
    plumbing while the pair lives, and nothing is once it is closed."""

    def tcp_socketpair() -> tuple[socket.socket, socket.socket]:
        listener, a, b = tcp_pair()
        listener.close()
        return a, b

    monkeypatch.setattr(plumbing.socket, "socketpair", tcp_socketpair)
    r, w = plumbing.wake_pair()
    ends = [(Endpoint.of(*s.getsockname()[:2]), Endpoint.of(*s.getpeername()[:2]))
            for s in (r, w)]
    try:
        w.send(b"x")
        assert r.recv(1) == b"x"
        assert all(plumbing.is_plumbing(*e) for e in ends)
    finally:
        plumbing.close_pair(r, w)
    assert not any(plumbing.is_plumbing(*e) for e in ends)
