"""Where connection records come from.

``PsutilSource`` works on Linux, macOS and Windows. On Linux a netlink source
(``lab.observe.netlink``) is faster and sees queues and timers; ``open_source``
picks the best one available.
"""

from __future__ import annotations

import os
import socket
import sys
import time
from _thread import allocate_lock  # threading.Lock itself, without importing threading

from lab.observe.model import Connection, Endpoint, Snapshot, state_name
from lab.text import printable

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


RECHECK = 1.0  # seconds during which a pid's name is trusted without looking again


class ProcessNames:
    """pid -> process name, cached: naming every pid at every poll is what makes monitors slow.

    On Linux the name is read from ``/proc`` (psutil's rule: ``comm``, or the program's
    file name when ``comm`` is cut at 15 characters), so that the commands never import
    psutil; elsewhere psutil names it. A pid is known by its start time: a reused pid is
    named afresh.
    """

    def __init__(self) -> None:
        self._names: dict[int, tuple[float, str | None]] = {}
        self._checked: dict[int, float] = {}  # pid -> when its start time was last checked
        self._lock = allocate_lock()
        self._proc = sys.platform.startswith("linux") and os.path.isdir("/proc/self")

    def name(self, pid: int | None) -> str | None:
        """The process's name, made printable: any program can name itself with escapes."""
        if pid is None or pid <= 0:
            return None
        now = time.monotonic()
        with self._lock:
            hit = self._names.get(pid)
            if hit is not None and now - self._checked.get(pid, -RECHECK) < RECHECK:
                return hit[1]  # asked again within a second (a scan names many sockets)
            self._checked[pid] = now
        try:
            created, raw = _proc_name(pid) if self._proc else _psutil_name(pid, hit)
        except OSError:
            return hit[1] if hit else None
        if hit is not None and hit[0] == created:
            return hit[1]
        name = printable(raw, 64) if raw is not None else None
        with self._lock:
            if len(self._names) > 4096:
                self._names.clear()
                self._checked.clear()
                self._checked[pid] = now
            self._names[pid] = (created, name)
        return name


def _proc_name(pid: int) -> tuple[float, str | None]:
    """(start time, name) from /proc/<pid>: ``stat``'s 22nd field, ``comm``, ``cmdline``."""
    with open(f"/proc/{pid}/stat", "rb") as f:
        stat = f.read()
    # The name in stat is in parentheses and may hold spaces or ")": split after the last.
    fields = stat[stat.rfind(b")") + 2:].split()
    created = float(fields[19])
    with open(f"/proc/{pid}/comm", "rb") as f:
        comm = f.read().rstrip(b"\n").decode("utf-8", "replace")
    if len(comm) >= 15:  # cut by the kernel: the program's own file name says more
        try:
            with open(f"/proc/{pid}/cmdline", "rb") as f:
                argv0 = f.read().split(b"\0", 1)[0].decode("utf-8", "replace")
        except OSError:
            argv0 = ""
        base = os.path.basename(argv0.split(" ", 1)[0]) if argv0 else ""
        if base.startswith(comm):
            comm = base
    return created, comm


def _psutil_name(pid: int, hit: tuple[float, str | None] | None) -> tuple[float, str | None]:
    import psutil

    try:
        proc = psutil.Process(pid)
        created = proc.create_time()
        if hit is not None and hit[0] == created:
            return created, hit[1]
        return created, proc.name()
    except (psutil.NoSuchProcess, psutil.AccessDenied, psutil.ZombieProcess) as exc:
        raise OSError(str(exc)) from None


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
        from lab.observe.macos import MacNetstatSource

        try:
            return MacNetstatSource()
        except OSError:
            if kind == "netstat":
                raise
    if kind in ("auto", "netlink"):
        try:
            from lab.observe.netlink import NetlinkSource
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
