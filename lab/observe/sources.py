"""Where connection records come from.

``PsutilSource`` works on Linux, macOS and Windows. On Linux a netlink source
(``lab.observe.netlink``) is faster and sees queues and timers; ``open_source``
picks the best one available.
"""

from __future__ import annotations

import socket
import sys
import time

from tcp_observatory.lab.observe.model import Connection, Endpoint, Snapshot, state_name
from tcp_observatory.lab.observe.names import ProcessNames

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any, Protocol
else:
    Protocol = object  # typing costs a one-shot command ~1.5 ms; Source is for the checker


class Source(Protocol):
    """Anything that can list TCP connections, filtered to a port (or all with None).

    ``owners``: whether every socket's owner (pid, process) is wanted, or only those of
    the sockets touching ``lab_port`` (what roles need). A source that gets owners for
    free (psutil, macOS's netstat) may return them anyway. Between two polls, a source
    returns the very same record object for a socket that did not change: consumers skip
    what is identical.
    """

    name: str

    def poll(self, port: int | None, *, owners: bool = True,
             lab_port: int | None = None) -> Snapshot: ...

    def close(self) -> None: ...


def _matches(port: int | None, local_port: int, remote_port: int | None) -> bool:
    return port is None or local_port == port or remote_port == port


class PsutilSource:
    """``psutil.net_connections``: portable, but walks every process's file descriptors.

    Where the OS refuses the system-wide list (macOS without root), it falls back to
    the connections of this process, which owns the lab's server and clients, and says so.
    """

    name = "psutil"

    def __init__(self) -> None:
        self._names = ProcessNames()
        self._own_only = False
        self.warning: str | None = None

    def _raw(self) -> list[tuple[Any, int | None]]:
        """(connection, owning pid) pairs; a process's own list has no pid field."""
        import psutil  # only where this source is used: the commands start faster without

        if not self._own_only:
            try:
                return [(c, c.pid) for c in psutil.net_connections(kind="tcp")]
            except psutil.AccessDenied:
                self._own_only = True
                self.warning = "own-process-only"
        own = psutil.Process()
        return [(c, own.pid) for c in own.net_connections(kind="tcp")]

    def poll(self, port: int | None, *, owners: bool = True,
             lab_port: int | None = None) -> Snapshot:
        """psutil finds every owner whatever is asked: ``owners`` changes nothing here."""
        started = time.perf_counter()
        now = time.time()
        out: list[Connection] = []
        for c, owner in self._raw():
            if not c.laddr:
                continue
            lport = c.laddr.port
            rport = c.raddr.port if c.raddr else None
            if not _matches(port, lport, rport):
                continue
            family = 6 if c.family == socket.AF_INET6 else 4
            local = Endpoint.of(c.laddr.ip, lport)
            remote = Endpoint.of(c.raddr.ip, c.raddr.port) if c.raddr else None
            if remote is not None and remote.is_wildcard:
                remote = None
            pid = owner if owner else None
            out.append(
                Connection(
                    local=local,
                    remote=remote,
                    state=state_name(c.status),
                    family=family,
                    pid=pid,
                    process=self._names.name(pid),
                )
            )
        return Snapshot(
            time=now,
            connections=tuple(out),
            source="psutil (own process only)" if self._own_only else "psutil",
            warning=self.warning,
            duration=time.perf_counter() - started,
        )

    def close(self) -> None:
        pass


def open_source(kind: str = "auto", *, probe: bool = True) -> Source:
    """The source asked for; ``auto``: netlink on Linux, netstat on macOS, else psutil."""
    if kind not in ("auto", "psutil", "netlink", "netstat"):
        raise ValueError(f"unknown source {kind!r}: choose auto, psutil, netlink or netstat")
    if kind == "netstat" or (kind == "auto" and sys.platform == "darwin"):
        from tcp_observatory.lab.observe.macos import MacNetstatSource

        try:
            return MacNetstatSource()
        except OSError:
            if kind == "netstat":
                raise
    if kind in ("auto", "netlink"):
        try:
            from tcp_observatory.lab.observe.netlink import NetlinkSource
        except ImportError:
            if kind == "netlink":
                raise
        else:
            try:
                return NetlinkSource(probe=probe)
            except OSError:
                if kind == "netlink":
                    raise
    return PsutilSource()
