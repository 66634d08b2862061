"""Handshakes the kernel dropped at the lab's full accept queue, judged from the lab port's
own rows.

A client whose handshake finds the accept queue full is not queued. Linux drops its SYN:
the client stays in SYN_SENT and sends it again (after 1 s, 2 s...). When the queue filled
between its SYN and its last ACK, that ACK is dropped instead: the server's end stays a
SYN_RECV request socket. The kernel's socket dump (sock_diag) shows both per socket: the
listener's queue against its backlog (its Recv-Q and Send-Q), and each handshake's state
and retransmissions. That, and nothing else, is what is said: the host's ``ListenDrops``
counter adds up every listener of the machine, and another program's full queue is not
the lab's.

Where the rows do not tell a listener's queue or a handshake's retransmissions (psutil,
macOS's netstat, Windows), nothing is attributed: ``judge`` finds nothing there.
"""

from __future__ import annotations

from collections.abc import Iterable

from tcp_observatory.lab.observe.model import Connection, Endpoint
from tcp_observatory.lab.records import NamedTuple

_WILDCARD_HOSTS = ("0.0.0.0", "::", "*", "")


class Stuck(NamedTuple):
    """One handshake the kernel dropped at the lab's listener, still waiting."""

    peer: Endpoint  # the client's end
    state: str  # SYN_SENT: the client's SYN was dropped; SYN_RECEIVED: its last ACK was
    tries: int  # retransmissions so far (the client's SYNs, or the server's SYN-ACKs)
    client: int | None  # the app's number for the client, where it is one of the lab's


class Drops(NamedTuple):
    """A full listener of the lab port, and the handshakes it left waiting."""

    listener: Endpoint
    queue: int  # connections waiting for accept()
    backlog: int
    stuck: tuple[Stuck, ...]


def judge(connections: Iterable[Connection], port: int) -> list[Drops]:
    """The lab port's full listeners with handshakes left waiting, from the kernel's rows
    alone (any port's rows may be given: only ``port``'s are read).

    A listener is full as Linux decides it: more connections wait for accept() than the
    backlog (backlog 1 holds two; the server pane shows "2/1"). A handshake counts when the
    listener it reaches is full and either the client, on this machine, is in SYN_SENT and
    has sent its SYN again, or the server's end is a SYN_RECEIVED request socket. Rows that
    do not say the queue or the retransmissions count for nothing.
    """
    listeners: list[Connection] = []
    sent: list[Connection] = []
    received: list[Connection] = []
    ends: dict[tuple[Endpoint, Endpoint | None], Connection] = {}
    for c in connections:
        state = c.state
        if state == "LISTEN":
            if c.local.port == port and c.recv_q is not None and c.send_q is not None:
                listeners.append(c)
        elif c.remote is None:
            continue
        elif state == "SYN_SENT":
            if c.remote.port == port and c.retransmits:
                sent.append(c)
        elif state == "SYN_RECEIVED":
            if c.local.port == port:
                received.append(c)
        elif c.remote.port == port:
            ends[c.key] = c  # a client's end: its number names a SYN_RECEIVED's peer
    full = [li for li in listeners if li.recv_q is not None and li.send_q is not None
            and li.recv_q > li.send_q]
    out: list[Drops] = []
    for li in full:
        stuck = [Stuck(c.local, c.state, c.retransmits or 0, c.role.client)
                 for c in sent if c.remote is not None and _reaches(li.local, c.remote, c.local)]
        for c in received:
            if c.remote is None or not _serves(li.local, c.local):
                continue
            client = c.role.client
            if client is None:
                other = ends.get((c.remote, c.local))
                client = other.role.client if other is not None else None
            stuck.append(Stuck(c.remote, c.state, c.retransmits or 0, client))
        if stuck:
            stuck.sort(key=lambda s: (s.client is None, s.client or 0, s.peer))
            out.append(Drops(li.local, li.recv_q or 0, li.send_q or 0, tuple(stuck)))
    return out


def _serves(listener: Endpoint, local: Endpoint) -> bool:
    """Whether a socket whose local end is ``local`` belongs to ``listener`` (same port)."""
    return listener.host in _WILDCARD_HOSTS or listener.host == local.host


def _reaches(listener: Endpoint, remote: Endpoint, local: Endpoint) -> bool:
    """Whether a client on this machine connecting from ``local`` to ``remote`` reaches
    ``listener``: its address, or, for a wildcard listener, one of this machine's own
    (loopback, or the address the client leaves from, which is the one it goes to)."""
    if listener.host == remote.host:
        return True
    if listener.host not in _WILDCARD_HOSTS:
        return False
    if listener.host == "0.0.0.0" and ":" in remote.host:
        return False  # an IPv4 listener is not an IPv6 address's
    return remote.host.startswith("127.") or remote.host == "::1" or remote.host == local.host


class DropWatch:
    """What to tell, poll after poll: each waiting handshake once. It is forgotten when its
    handshake ends (accepted at last, or given up), not when the queue merely dips below
    the backlog for a poll, so that a flickering queue does not tell it again."""

    def __init__(self, port: int) -> None:
        self.port = port
        self._told: set[tuple[Endpoint, Endpoint]] = set()

    def news(self, connections: Iterable[Connection]) -> list[Drops]:
        rows = list(connections)
        port = self.port
        waiting = {c.local for c in rows if c.state == "SYN_SENT"
                   and c.remote is not None and c.remote.port == port}
        waiting.update(c.remote for c in rows if c.state == "SYN_RECEIVED"
                       and c.local.port == port and c.remote is not None)
        told = {k for k in self._told if k[1] in waiting}
        out = []
        for d in judge(rows, port):
            fresh = tuple(s for s in d.stuck if (d.listener, s.peer) not in told)
            if fresh:
                out.append(d._replace(stuck=fresh))
                told.update((d.listener, s.peer) for s in fresh)
        self._told = told
        return out
