"""Plain records shared by every source, the differ, the CLI and the app.

Records are immutable named tuples, so that a snapshot handed to another thread can never
change under it. Named tuples rather than frozen dataclasses: a source builds thousands of
them per poll, and a named tuple is built several times faster (and importing
``dataclasses`` costs a one-shot command more time than all of its work).
"""

from __future__ import annotations

import enum

from tcp_observatory.lab.records import NamedTuple

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any

# The handout's spelling, in the order of RFC 793's state machine.
ALL_STATES: tuple[str, ...] = (
    "LISTEN",
    "SYN_SENT",
    "SYN_RECEIVED",
    "ESTABLISHED",
    "FIN_WAIT_1",
    "FIN_WAIT_2",
    "CLOSE_WAIT",
    "CLOSING",
    "LAST_ACK",
    "TIME_WAIT",
    "CLOSED",
)

# psutil, ss and the kernel each spell a few states their own way.
_ALIASES: dict[str, str] = {
    "LISTENING": "LISTEN",  # Windows' netstat
    "FIN_WAIT1": "FIN_WAIT_1",
    "FIN_WAIT2": "FIN_WAIT_2",
    "FIN-WAIT-1": "FIN_WAIT_1",
    "FIN-WAIT-2": "FIN_WAIT_2",
    "SYN_RECV": "SYN_RECEIVED",
    "SYN_RCVD": "SYN_RECEIVED",
    "SYN-RECV": "SYN_RECEIVED",
    "SYN-SENT": "SYN_SENT",
    "CLOSE-WAIT": "CLOSE_WAIT",
    "LAST-ACK": "LAST_ACK",
    "TIME-WAIT": "TIME_WAIT",
    "ESTAB": "ESTABLISHED",
    "UNCONN": "CLOSED",
    "CLOSE": "CLOSED",
    "NONE": "CLOSED",
    "DELETE_TCB": "CLOSED",
    "BOUND": "CLOSED",
    "IDLE": "CLOSED",
}


def state_name(raw: str) -> str:
    """Return the handout's spelling of a state as any source spells it."""
    upper = raw.strip().upper()
    if upper in ALL_STATES:
        return upper
    return _ALIASES.get(upper, upper)


def normalise_host(host: str) -> str:
    """Map an IPv4-mapped IPv6 address (``::ffff:127.0.0.1``) to its IPv4 form."""
    if ":" not in host:
        return host  # IPv4 as the kernel writes it, or a name: already in its form
    import ipaddress  # here: a one-shot command that sees no IPv6 should not pay for it

    host = host.split("%", 1)[0] if host.startswith("fe80") else host
    try:
        ip = ipaddress.ip_address(host)
    except ValueError:
        return host
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        return str(ip.ipv4_mapped)
    return str(ip)


class Endpoint(NamedTuple):
    host: str
    port: int

    @classmethod
    def of(cls, host: str, port: int) -> Endpoint:
        return cls(normalise_host(host), int(port))

    @property
    def is_wildcard(self) -> bool:
        return self.port == 0 and self.host in ("0.0.0.0", "::", "*", "")

    def __str__(self) -> str:
        if ":" in self.host:
            return f"[{self.host}]:{self.port}"
        return f"{self.host}:{self.port}"


class RoleKind(str, enum.Enum):
    """What a socket is in the lab, as far as the app can know it."""

    LISTENER = "listener"  # the lab server's listening socket
    SERVER = "server"  # server side of an accepted connection
    QUEUED = "queued"  # server side, still waiting in the accept queue (no owner yet)
    CLIENT = "client"  # one of the app's own clients
    EXTERNAL = "external"  # some other process (the handout's client.py, a browser...)
    ORPHANED = "orphaned"  # nothing owns it any more (FIN_WAIT_2, TIME_WAIT...)
    OTHER = "other"  # unrelated to the lab port (shown with --all)
    UNKNOWN = "unknown"  # on the lab port, but this OS does not tell enough to say more


class Role(NamedTuple):
    kind: RoleKind
    # The app's client number this socket belongs to (its own, or the peer it serves).
    client: int | None = None
    # The thread serving the connection in threaded mode, where known.
    thread: str | None = None
    # True for the server's end of a connection (it matters for an orphan: whose end is it?)
    server_side: bool = False
    # The student's program owning this end (--exec-server/--exec-client), e.g. "Serveur.py"
    program: str | None = None


OTHER_ROLE = Role(RoleKind.OTHER)


class Connection(NamedTuple):
    """One TCP socket as the kernel reports it, in the handout's vocabulary."""

    local: Endpoint
    remote: Endpoint | None  # None for a listening socket
    state: str
    family: int = 4  # 4 or 6
    pid: int | None = None
    process: str | None = None
    role: Role = OTHER_ROLE
    # What netstat does not show; None where the source cannot tell.
    recv_q: int | None = None
    send_q: int | None = None
    timer: str | None = None  # "on" (retransmit), "keepalive", "timewait", "probe", ...
    timer_left: float | None = None  # seconds
    retransmits: int | None = None
    inode: int | None = None
    uid: int | None = None
    # The kernel's TCP info (Linux's sock_diag, where asked): bytes this end received in
    # order from its peer, and bytes it sent that the peer acknowledged. None where unknown
    # (psutil, macOS, Windows; TIME_WAIT and request sockets, which keep no such counts).
    bytes_received: int | None = None
    bytes_acked: int | None = None

    @property
    def key(self) -> tuple[Endpoint, Endpoint | None]:
        return (self.local, self.remote)

    @property
    def proto(self) -> str:
        return "TCP" if self.family == 4 else "TCPv6"

    @property
    def remote_text(self) -> str:
        if self.remote is None:
            return "0.0.0.0:0" if self.family == 4 else "[::]:0"
        return str(self.remote)

    def with_role(self, role: Role) -> Connection:
        return self if role == self.role else self._replace(role=role)

    def to_json(self) -> dict[str, Any]:
        return {
            "proto": self.proto,
            "local": str(self.local),
            "local_host": self.local.host,
            "local_port": self.local.port,
            "remote": self.remote_text,
            "remote_host": self.remote.host if self.remote else None,
            "remote_port": self.remote.port if self.remote else None,
            "state": self.state,
            "pid": self.pid,
            "process": self.process,
            "role": self.role.kind.value,
            "client": self.role.client,
            "thread": self.role.thread,
            "server_side": self.role.server_side,
            "recv_q": self.recv_q,
            "send_q": self.send_q,
            "timer": self.timer,
            "timer_left": self.timer_left,
            "retransmits": self.retransmits,
            "inode": self.inode,
            "uid": self.uid,
            "bytes_received": self.bytes_received,
            "bytes_acked": self.bytes_acked,
        }


class Snapshot(NamedTuple):
    """Every connection seen in one poll."""

    time: float  # time.time() of the poll
    connections: tuple[Connection, ...]
    source: str  # "psutil", "psutil (own process only)", "netlink"
    warning: str | None = None  # set when the source had to fall back
    duration: float = 0.0  # seconds the poll took
    # The connections new or different since the previous snapshot (the same objects as in
    # ``connections``); None where nobody compared (a recorded moment...).
    changed: tuple[Connection, ...] | None = None
    # Those of the previous snapshot no longer in it (changed, or gone); None likewise.
    gone: tuple[Connection, ...] | None = None
    # The observer's count of its polls (0: not from an observer): a view that applied
    # snapshot n may apply n + 1 by its ``changed`` and ``gone`` alone.
    seq: int = 0

    def by_key(self) -> dict[tuple[Endpoint, Endpoint | None], Connection]:
        return {c.key: c for c in self.connections}


class Transition(NamedTuple):
    """A state change of one connection between two snapshots."""

    time: float
    connection: Connection  # as last seen (for a vanished one: as it was before it went)
    from_state: str | None  # None: a connection that appeared
    to_state: str  # "CLOSED": a connection that vanished
    duration: float | None  # how long the previous state lasted, as observed
    inferred: bool = False  # passed over between two polls, deduced from the state machine

    @property
    def key(self) -> tuple[Endpoint, Endpoint | None]:
        return self.connection.key

    def to_json(self) -> dict[str, Any]:
        c = self.connection
        return {
            "time": self.time,
            "local": str(c.local),
            "remote": c.remote_text,
            "from": self.from_state,
            "to": self.to_state,
            "duration": self.duration,
            "inferred": self.inferred,
            "pid": c.pid,
            "process": c.process,
            "role": c.role.kind.value,
            "client": c.role.client,
        }
