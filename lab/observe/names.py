"""Process names by pid, for every source of connection records.

psutil's source, netlink's and macOS's netstat each keep a ``ProcessNames``: it stands
below them all, so that none of them imports another (``sources.open_source`` picks one).
"""

from __future__ import annotations

import os
import sys
import time
from _thread import allocate_lock  # threading.Lock itself, without importing threading

from tcp_observatory.lab.text import printable

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
