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

    def add_client(self, local: Endpoint, number: int) -> None:
        with self._lock:
            self.clients[local] = number

    def add_accepted(self, peer: Endpoint, thread: str = "") -> None:
        with self._lock:
            self.accepted[peer] = thread

    def copy(self) -> tuple[dict[Endpoint, int], dict[Endpoint, str]]:
        with self._lock:
            return dict(self.clients), dict(self.accepted)


def classify(
    connections: Iterable[Connection],
    port: int | None,
    registry: Registry | None = None,
) -> list[Connection]:
    """Return the connections with their role set, relative to the lab port."""
    clients, accepted = registry.copy() if registry is not None else ({}, {})
    out: list[Connection] = []
    for c in connections:
        out.append(c.with_role(_role(c, port, clients, accepted)))
    return out


def _role(
    c: Connection,
    port: int | None,
    clients: dict[Endpoint, int],
    accepted: dict[Endpoint, str],
) -> Role:
    if port is not None and c.local.port == port and c.remote is None:
        return Role(RoleKind.LISTENER)
    number = clients.get(c.local)
    if number is not None:
        orphaned = c.pid is None and c.state in _ORPHAN_STATES
        return Role(RoleKind.ORPHANED if orphaned else RoleKind.CLIENT, client=number)
    if port is not None and c.local.port == port and c.remote is not None:
        peer_number = clients.get(c.remote)
        thread = accepted.get(c.remote)
        if c.pid is None and thread is None and c.state in _QUEUE_STATES:
            return Role(RoleKind.QUEUED, client=peer_number, server_side=True)
        if c.pid is None and c.state not in _QUEUE_STATES:
            return Role(RoleKind.ORPHANED, client=peer_number, server_side=True)
        return Role(RoleKind.SERVER, client=peer_number, thread=thread or None, server_side=True)
    if port is not None and c.remote is not None and c.remote.port == port:
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
