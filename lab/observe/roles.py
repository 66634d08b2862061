"""Label each connection with its part in the lab.

The OS often reports no owner (a connection waiting in the accept queue, an orphaned
FIN_WAIT_2, every TIME_WAIT), so the app tells the labeller which sockets it owns.
"""

from __future__ import annotations

from collections.abc import Iterable

from tcp_observatory.lab.observe.model import Connection, Endpoint, Role, RoleKind

# States in which a server-side socket with no owner is still waiting for accept().
_QUEUE_STATES = frozenset({"SYN_RECEIVED", "ESTABLISHED", "CLOSE_WAIT"})
# States a socket can be left in after its owner closed it.
_ORPHAN_STATES = frozenset({"FIN_WAIT_1", "FIN_WAIT_2", "CLOSING", "LAST_ACK", "TIME_WAIT"})


class Registry:
    """What the app knows it owns. Thread-safe: servers and clients update it from threads.

    ``version`` grows with every change, so that the observer reclassifies the sockets it
    has already labelled only when what it knows has changed.
    """

    def __init__(self) -> None:
        import threading  # here, not at the top: a one-shot netstat makes no registry

        self._lock = threading.Lock()
        self.version = 0
        # local endpoint of one of our clients -> client number
        self.clients: dict[Endpoint, int] = {}
        # peer endpoint accepted by our server -> thread name serving it ("" in single mode)
        self.accepted: dict[Endpoint, str] = {}
        # local endpoint of one of our clients -> the address it connects to: a row is our
        # client only if both ends match (another socket may share the local address)
        self.remotes: dict[Endpoint, Endpoint] = {}
        # The student's own programs: client number (0 for the server) -> name, and the
        # pids (the program and its children) -> client number.
        self.program_names: dict[int, str] = {}
        self.program_pids: dict[int, int] = {}
        # Which client a socket belongs to, for good: numbers start again from 1 in a new
        # scene, while an old client's socket (a TIME_WAIT) is still in the kernel. Local
        # endpoint -> the client's ident; a program client's number -> its ident.
        self.idents: dict[Endpoint, int] = {}
        self.program_idents: dict[int, int] = {}

    def add_client(self, local: Endpoint, number: int, remote: Endpoint | None = None, *,
                   ident: int = 0) -> None:
        with self._lock:
            self.version += 1
            self.clients[local] = number
            if ident:
                self.idents[local] = ident
            else:
                self.idents.pop(local, None)
            if remote is not None:
                self.remotes[local] = remote

    def has_ident(self, ident: int) -> bool:
        """Whether client ``ident`` has a socket known here (it connected, or is connecting).
        By its ident, not its number: an earlier client with the same number left its
        address here."""
        with self._lock:
            return ident in self.idents.values()

    def ident_of(self, local: Endpoint, remote: Endpoint | None) -> int | None:
        """The ident of our client whose connection is (local, remote), if it is one."""
        with self._lock:
            if _ours(self.clients, self.remotes, local, remote) is None:
                return None
            return self.idents.get(local)

    def add_accepted(self, peer: Endpoint, thread: str = "") -> None:
        with self._lock:
            self.version += 1
            self.accepted[peer] = thread

    def copy(self) -> tuple[dict[Endpoint, int], dict[Endpoint, str]]:
        with self._lock:
            return dict(self.clients), dict(self.accepted)

    def client_of(self, local: Endpoint, remote: Endpoint | None) -> int | None:
        """Our client's number if (local, remote) is one of our clients' connections."""
        with self._lock:
            return _ours(self.clients, self.remotes, local, remote)


    def set_program(self, number: int, name: str, pids: Iterable[int], *,
                    ident: int = 0) -> None:
        """Attribute ``pids`` to the student's server (``number`` 0) or client ``number``
        (``ident``: which client that number is now)."""
        with self._lock:
            self.version += 1
            self.program_names[number] = name
            if ident:
                self.program_idents[number] = ident
            for pid in [p for p, n in self.program_pids.items() if n == number]:
                del self.program_pids[pid]
            for pid in pids:
                self.program_pids[pid] = number

    def programs(self) -> tuple[dict[int, str], dict[int, int]]:
        with self._lock:
            return dict(self.program_names), dict(self.program_pids)


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
    A student's own programs (``--exec-server``/``--exec-client``) are known by their pids.
    """
    names, pids = registry.programs() if registry is not None else ({}, {})
    connections = list(connections)
    if pids and registry is not None:
        _learn_program_clients(connections, port, registry, pids)
    if registry is None:
        clients: dict[Endpoint, int] = {}
        accepted: dict[Endpoint, str] = {}
        remotes: dict[Endpoint, Endpoint] = {}
    else:
        with registry._lock:
            clients, accepted = dict(registry.clients), dict(registry.accepted)
            remotes = dict(registry.remotes)
    out: list[Connection] = []
    for c in connections:
        role = _role(c, port, clients, accepted, remotes, owners_known)
        if names:
            role = _with_program(role, names)
        out.append(c.with_role(role))
    return out


def _learn_program_clients(
    connections: list[Connection],
    port: int | None,
    registry: Registry,
    pids: dict[int, int],
) -> None:
    """A student's client socket, seen once with its pid, keeps its number by its address
    pair (so it stays "client n", then "orphaned (client n)", once the program closed it)."""
    known = registry.copy()[0]
    with registry._lock:
        idents = dict(registry.program_idents)
    for c in connections:
        number = pids.get(c.pid) if c.pid is not None else None
        if (number and c.remote is not None and c.local not in known
                and (port is None or c.remote.port == port)):
            registry.add_client(c.local, number, c.remote, ident=idents.get(number, 0))


def _with_program(role: Role, names: dict[int, str]) -> Role:
    kind = role.kind
    if kind is RoleKind.LISTENER or role.server_side:
        name = names.get(0)
    elif kind in (RoleKind.CLIENT, RoleKind.ORPHANED) and role.client:
        name = names.get(role.client)
    else:
        name = None
    return role._replace(program=name) if name else role


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
    # Without trustworthy owners, a socket past close() is told by its state alone. On
    # Linux an inode says a file still holds the socket: no pid then means a process this
    # program may not read (another user's), not an orphan.
    ownerless = held_by_nobody(c) if owners_known else c.state in _ORPHAN_STATES
    number = _ours(clients, remotes, c.local, c.remote)
    if number is not None:
        orphaned = ownerless and c.state in _ORPHAN_STATES
        return Role(RoleKind.ORPHANED if orphaned else RoleKind.CLIENT, client=number)
    if port is not None and c.local.port == port and c.remote is not None:
        peer_number = _ours(clients, remotes, c.remote, c.local)
        thread = accepted.get(c.remote)
        if thread is None and c.state in _QUEUE_STATES:
            if owners_known and held_by_nobody(c):
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
        return Role(RoleKind.ORPHANED if held_by_nobody(c) else RoleKind.EXTERNAL)
    return Role(RoleKind.OTHER)


def held_by_nobody(c: Connection) -> bool:
    """No process holds the socket: no pid found and, where the source tells the inode
    (netlink), an inode of 0 (no file). A socket with an inode and no pid is held by a
    process whose descriptors cannot be read, or not read yet."""
    return c.pid is None and not c.inode


def describe_role(role: Role, lang: str) -> str:
    """The role as the table and netstat show it ("server ↔ client 2", "orphaned"...).

    A student's program adds its name: "server (Serveur.py)", "client 2 (java)".
    """
    text = _describe(role, lang)
    return f"{text} ({role.program})" if role.program else text


def _describe(role: Role, lang: str) -> str:
    from tcp_observatory.lab.i18n import t

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
