"""Fixtures for the engine tests: a ``lab`` that owns and cleans up every server, client,
raw socket, observer source and subprocess a test makes, and the two connection sources."""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import sys
from collections.abc import Iterator
from typing import Any

import pytest
from needs import NEEDS, unmet
from support import LOCALHOST, SOURCES, EventLog, Kernel, Proc, Sockets, child_env

from lab import i18n
from lab.net.client import LabClient
from lab.net.server import LabServer
from lab.observe.roles import Registry
from lab.observe.sources import Source, open_source

# A message key missing from the catalogue fails the tests (here and in the programs they
# start) instead of showing as itself.
os.environ["TCP_OBSERVATORY_STRICT_I18N"] = "1"
i18n.STRICT = True

# The Ctrl+C tests send SIGINT to the programs they start. A shell without job control
# starts a background job (`pytest &`) with SIGINT ignored, and every child inherits that:
# Python then leaves SIGINT ignored and the Ctrl+C under test never arrives. A handler here
# is reset to the default in each child, which then installs Python's own.
if signal.getsignal(signal.SIGINT) is signal.SIG_IGN:
    signal.signal(signal.SIGINT, signal.default_int_handler)

def _netlink_missing() -> str | None:
    if (reason := unmet("netlink")) is not None:
        return reason
    try:
        open_source("netlink").close()
    except (ImportError, OSError) as exc:
        return f"netlink source unavailable: {exc}"
    return None


_NETLINK_MISSING = _netlink_missing()


class Lab:
    """Everything one test starts; ``close`` releases all of it, whatever happened."""

    def __init__(self) -> None:
        self.registry = Registry()
        self.server_events = EventLog()
        self.client_events = EventLog()
        self._servers: list[LabServer] = []
        self._clients: list[LabClient] = []
        self._sockets: list[socket.socket] = []
        self._sources: list[Source] = []
        self._procs: list[Proc] = []
        self._numbers = 0

    def server(self, mode: str = "single", **kw: Any) -> LabServer:
        """A started LabServer on a free port of 127.0.0.1, reporting to ``server_events``."""
        server = LabServer(LOCALHOST, 0, mode=mode, on_event=self.server_events,
                           registry=self.registry, **kw)
        self._servers.append(server)
        server.start()
        return server

    def client(self, port: int, *, connect: bool = True) -> LabClient:
        """A LabClient numbered 1, 2, ... in creation order; connected unless told not to."""
        self._numbers += 1
        client = LabClient(LOCALHOST, port, number=self._numbers, on_event=self.client_events,
                           registry=self.registry)
        self._clients.append(client)
        if connect:
            client.connect(timeout=10)
        else:
            client.start()
        return client

    def raw(self, port: int) -> socket.socket:
        """A plain socket connected like the handout's client (no framing of its own)."""
        sock = socket.create_connection((LOCALHOST, port), timeout=10)
        self._sockets.append(sock)
        return sock

    def keep(self, sock: socket.socket) -> socket.socket:
        self._sockets.append(sock)
        return sock

    def kernel(self, source_kind: str, port: int) -> Kernel:
        source = open_source(source_kind)
        self._sources.append(source)
        return Kernel(source, port, self.registry)

    def spawn(self, args: list[str], *, stdin: bool = False) -> Proc:
        proc = Proc(args, stdin=stdin, env=child_env())
        self._procs.append(proc)
        return proc

    def python(self, *args: str, stdin: bool = False) -> Proc:
        return self.spawn([sys.executable, *args], stdin=stdin)

    def close(self) -> None:
        for proc in self._procs:
            proc.stop()
        for client in self._clients:
            client.close()
        for sock in self._sockets:
            with contextlib.suppress(OSError):
                sock.close()
        for server in self._servers:
            server.stop()
        for source in self._sources:
            source.close()


@pytest.fixture
def lab() -> Iterator[Lab]:
    the_lab = Lab()
    try:
        yield the_lab
    finally:
        the_lab.close()


@pytest.fixture(params=SOURCES)
def source_kind(request: pytest.FixtureRequest) -> str:
    """Each source-dependent fact runs with psutil and with netlink (where it opens)."""
    if request.param == "netlink" and _NETLINK_MISSING:
        pytest.skip(_NETLINK_MISSING)
    return str(request.param)


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        for mark in item.iter_markers("needs"):
            unknown = [name for name in mark.args if name not in NEEDS]
            if unknown:
                raise pytest.UsageError(f"{item.nodeid}: unknown need {unknown} (tests/needs.py)")
        # An SVG snapshot holds what one Textual version drew: the job that runs the lowest
        # versions deselects them (-m "not svg_snapshot"), every other test still runs there.
        if "snap_compare" in getattr(item, "fixturenames", ()):
            item.add_marker(pytest.mark.svg_snapshot)


def pytest_runtest_setup(item: pytest.Item) -> None:
    """A test marked ``needs(...)`` is skipped where a need is unmet, saying which."""
    for mark in item.iter_markers("needs"):
        for name in mark.args:
            if (reason := unmet(name)) is not None:
                pytest.skip(reason)


@pytest.fixture
def socks() -> Iterator[Sockets]:
    """Loopback sockets a test opens, every one closed at teardown."""
    s = Sockets()
    try:
        yield s
    finally:
        s.close_all()
