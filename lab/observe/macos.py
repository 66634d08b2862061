"""macOS source: the system's ``netstat``, which sees every socket without root.

psutil on macOS finds connections through each process's open files: without root it is
refused, and even as root the sockets no process holds (the accept queue, an orphaned
FIN_WAIT_2, every TIME_WAIT) are invisible, which is most of what the lab is about.
``netstat -anv -p tcp`` lists them all. Owners come from its pid column where this macOS
prints one, and this program's own sockets (the lab's server and clients) always get their
pid from psutil, which needs no privilege for them.
"""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
import time

import psutil

from tcp_observatory.lab.observe.model import Connection, Endpoint, Snapshot, state_name
from tcp_observatory.lab.observe.names import ProcessNames


def parse_address(text: str, family: int) -> Endpoint | None:
    """``127.0.0.1.9500``, ``::1.9500``, ``*.9500`` -> Endpoint; ``*.*`` -> None."""
    host, _, port = text.rpartition(".")
    if not port.isdigit():
        return None
    if host == "*":
        host = "0.0.0.0" if family == 4 else "::"
    return Endpoint.of(host.split("%", 1)[0], int(port))


def header_columns(line: str) -> list[str] | None:
    """The columns after ``(state)`` in a ``netstat -anv`` header, by name, or None when
    ``line`` is not the header. Their order changed across macOS versions (up to 14:
    rhiwat shiwat pid epid; 15: rxbytes txbytes, then rhiwat shiwat pid epid; 26: rxbytes
    txbytes rhiwat shiwat process:pid), so the pid is found by its column's name, never by
    place; and fields are split on spaces, never cut at the header's offsets (a later 26
    prints the header wider than its rows). Real captures: tests/fixtures/macos."""
    if not line.startswith("Proto") or "(state)" not in line:
        return None
    return line.split("(state)", 1)[1].split()


def _owner(rest: list[str], columns: list[str]) -> int | None:
    """The pid in a row's fields after the state, read from the column the header names."""
    if "process:pid" in columns:
        # The process name may hold spaces ("Google Chrome H:303") or be empty (":1234"):
        # the column is the first field, after the ones before it, that ends in ":digits".
        start = columns.index("process:pid")
        for k in range(start, len(rest)):
            m = re.search(r":(\d+)$", rest[k])
            if m:
                return int(m.group(1)) or None
        return None
    if "pid" in columns:
        at = columns.index("pid")
        if at < len(rest) and rest[at].isdigit():
            return int(rest[at]) or None
    return None


def parse_netstat(out: str, port: int | None) -> list[tuple[Connection, int | None]]:
    """Rows of ``netstat -anv -p tcp`` as connections and pids, columns read by the header.

    Without a header (a layout this code does not know) rows still give their addresses,
    state and queues, the fields every version prints first; the pid is then unknown.
    """
    rows: list[tuple[Connection, int | None]] = []
    columns: list[str] = []
    for line in out.splitlines():
        named = header_columns(line)
        if named is not None:
            columns = named
            continue
        fields = line.split()
        if len(fields) < 6 or not fields[0].startswith("tcp"):
            continue
        family = 6 if fields[0] in ("tcp6", "tcp46") else 4
        local = parse_address(fields[3], family)
        remote = parse_address(fields[4], family)
        if local is None:
            continue
        if remote is not None and remote.is_wildcard:
            remote = None
        if port is not None and local.port != port and (remote is None or remote.port != port):
            continue
        pid = _owner(fields[6:], columns)
        recv_q: int | None
        send_q: int | None
        try:
            recv_q, send_q = int(fields[1]), int(fields[2])
        except ValueError:
            recv_q = send_q = None
        rows.append((Connection(local=local, remote=remote, state=state_name(fields[5]),
                                family=family, recv_q=recv_q, send_q=send_q), pid))
    return rows


class MacNetstatSource:
    name = "netstat"
    owners_known = False  # netstat keeps the last pid on sockets nobody holds any more

    def __init__(self) -> None:
        if sys.platform != "darwin":
            raise OSError("the netstat source reads macOS's netstat; use auto on this system")
        netstat = shutil.which("netstat")
        if netstat is None:
            raise OSError("netstat is not installed")
        self._netstat: str = netstat
        self._names: ProcessNames = ProcessNames()
        self.warning: str | None = None

    def poll(self, port: int | None, *, owners: bool = True,
             lab_port: int | None = None) -> Snapshot:
        """netstat -v names every owner whatever is asked: ``owners`` changes nothing here."""
        started = time.perf_counter()
        now = time.time()
        out = subprocess.run([self._netstat, "-anv", "-p", "tcp"], capture_output=True,
                             text=True, timeout=10, check=True).stdout
        own: dict[tuple[Endpoint, Endpoint | None], int] = {}
        me = psutil.Process()
        for c in me.net_connections(kind="tcp"):
            if c.laddr:
                remote = Endpoint.of(*c.raddr) if c.raddr else None
                own[(Endpoint.of(*c.laddr), remote)] = me.pid
        conns = []
        for conn, pid in parse_netstat(out, port):
            pid = own.get(conn.key, pid)
            conns.append(conn._replace(pid=pid, process=self._names.name(pid)))
        return Snapshot(now, tuple(conns), self.name, None, time.perf_counter() - started)

    def close(self) -> None:
        pass
