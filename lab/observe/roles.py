"""Label each connection with its part in the lab.

The OS often reports no owner (a connection waiting in the accept queue, an orphaned
FIN_WAIT_2, every TIME_WAIT), so the app tells the labeller which sockets it owns.
"""

from __future__ import annotations

import threading
from collections.abc import Iterable
from dataclasses import dataclass, field

from lab.observe.model import Connection, Endpoint, Role, RoleKind

# States in which a server-side socket with no owner is still waiting for accept().
_QUEUE_STATES = frozenset({"SYN_RECEIVED", "ESTABLISHED", "CLOSE_WAIT"})
# States a socket can be left in after its owner closed it.
_ORPHAN_STATES = frozenset({"FIN_WAIT_1", "FIN_WAIT_2", "CLOSING", "LAST_ACK", "TIME_WAIT"})


@dataclass
class Registry:
    """What the app knows it owns. Thread-safe: servers and clients update it from threads."""

    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)
    # local endpoint of one of our clients -> client number
    clients: dict[Endpoint, int] = field(default_factory=dict)
    # peer endpoint accepted by our server -> thread name serving it ("" in single mode)
    accepted: dict[Endpoint, str] = field(default_factory=dict)
    # local endpoint of one of our clients -> the address it connects to: a row is our
    # client only if both ends match (another socket may share the local address)
    remotes: dict[Endpoint, Endpoint] = field(default_factory=dict)

    def add_client(self, local: Endpoint, number: int, remote: Endpoint | None = None) -> None:
        with self._lock:
            self.clients[local] = number
            if remote is not None:
                self.remotes[local] = remote

    def add_accepted(self, peer: Endpoint, thread: str = "") -> None:
        with self._lock:
            self.accepted[peer] = thread

    def copy(self) -> tuple[dict[Endpoint, int], dict[Endpoint, str]]:
        with self._lock:
            return dict(self.clients), dict(self.accepted)

    def client_of(self, local: Endpoint, remote: Endpoint | None) -> int | None:
        """Our client's number if (local, remote) is one of our clients' connections."""
        with self._lock:
            return _ours(self.clients, self.remotes, local, remote)


def _ours(clients: dict[Endpoint, int], remotes: dict[Endpoint, Endpoint], local: Endpoint,
          remote: Endpoint | None) -> int | None:
    number = clients.get(local)
    if number is None:
        return None
    expected = remotes.get(local)
    if expected is not None and remote != expected:
        return None  # the same local address, another connection: not ours
    return number


def classify(
    connections: Iterable[Connection],
    port: int | None,
    registry: Registry | None = None,
    *,
    owners_known: bool = True,
) -> list[Connection]:
    """Return the connections with their role set, relative to the lab port.

    ``owners_known``: the source reports no owner exactly when no process holds the socket
    (Linux, Windows), so a missing pid means "in the accept queue" or "orphaned". macOS's
    netstat keeps the last pid on such sockets: there the app's own sockets are told by
    their state (ours, past close(): orphaned), and what cannot be told is "unknown".
    """
    if registry is None:
        clients: dict[Endpoint, int] = {}
        accepted: dict[Endpoint, str] = {}
        remotes: dict[Endpoint, Endpoint] = {}
    else:
        with registry._lock:
            clients, accepted = dict(registry.clients), dict(registry.accepted)
            remotes = dict(registry.remotes)
    return [c.with_role(_role(c, port, clients, accepted, remotes, owners_known))
            for c in connections]


def _role(
    c: Connection,
    port: int | None,
    clients: dict[Endpoint, int],
    accepted: dict[Endpoint, str],
    remotes: dict[Endpoint, Endpoint],
    owners_known: bool = True,
) -> Role:
    if port is not None and c.local.port == port and c.remote is None:
        return Role(RoleKind.LISTENER)
    # Without trustworthy owners, a socket past close() is told by its state alone.
    ownerless = c.pid is None if owners_known else c.state in _ORPHAN_STATES
    number = _ours(clients, remotes, c.local, c.remote)
    if number is not None:
        orphaned = ownerless and c.state in _ORPHAN_STATES
        return Role(RoleKind.ORPHANED if orphaned else RoleKind.CLIENT, client=number)
    if port is not None and c.local.port == port and c.remote is not None:
        peer_number = _ours(clients, remotes, c.remote, c.local)
        thread = accepted.get(c.remote)
        if thread is None and c.state in _QUEUE_STATES:
            if owners_known and c.pid is None:
                return Role(RoleKind.QUEUED, client=peer_number, server_side=True)
            if not owners_known and peer_number is not None:
                # Our client, not (yet) accepted by our server: it waits in the queue.
                return Role(RoleKind.QUEUED, client=peer_number, server_side=True)
            if not owners_known:
                return Role(RoleKind.UNKNOWN, client=peer_number, server_side=True)
        if ownerless and c.state not in _QUEUE_STATES:
            return Role(RoleKind.ORPHANED, client=peer_number, server_side=True)
        return Role(RoleKind.SERVER, client=peer_number, thread=thread or None, server_side=True)
    if port is not None and c.remote is not None and c.remote.port == port:
        if not owners_known and c.state in _ORPHAN_STATES:
            return Role(RoleKind.UNKNOWN)  # closed by another program, or still held?
        return Role(RoleKind.EXTERNAL if c.pid is not None else RoleKind.ORPHANED)
    return Role(RoleKind.OTHER)


def describe_role(role: Role, lang: str) -> str:
    """The role as the table and netstat show it ("server ↔ client 2", "orphaned"...)."""
    from lab.i18n import t

    n = role.client
    kind = role.kind
    if kind is RoleKind.SERVER:
        text = t("role.server_of", lang, n=n) if n else t("role.server", lang)
        return f"{text} [{role.thread}]" if role.thread else text
    if kind is RoleKind.QUEUED:
        return t("role.queued_of", lang, n=n) if n else t("role.queued", lang)
    if kind is RoleKind.CLIENT:
        return t("role.client", lang, n=n)
    if kind is RoleKind.ORPHANED:
        if n and role.server_side:
            return t("role.orphaned_server", lang, n=n)
        return t("role.orphaned_client", lang, n=n) if n else t("role.orphaned", lang)
    return t(f"role.{kind.value}", lang)
