"""Records, state names, roles and the escaping of untrusted text."""

from __future__ import annotations

import pytest
from support import conn

from tcp_observatory.lab.observe.model import (
    ALL_STATES,
    Connection,
    Endpoint,
    Role,
    RoleKind,
    state_name,
)
from tcp_observatory.lab.observe.roles import Registry, classify, describe_role
from tcp_observatory.lab.records import NamedTuple
from tcp_observatory.lab.text import printable

# -- lab.text.printable ----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("raw", "shown"),
    [
        ("\x1b[2J\x1b[31mred", "\\e[2J\\e[31mred"),  # ESC: no clearing, no colour
        ("a\x9bb\x85c", "a\\x9bb\\x85c"),  # C1 controls (CSI, NEL)
        ("\u202eevil\u202c", "\\u202eevil\\u202c"),  # bidi override and pop
        ("x\u2066y\u2069\u200f", "x\\u2066y\\u2069\\u200f"),  # isolates, RLM
        ("line\r\nnext", "line\\r\\nnext"),
        ("\x00\x07\x7f", "\\x00\\x07\\x7f"),
        ("a\tb", "a    b"),  # tab kept readable
        ("café ↔ « € » [bold]", "café ↔ « € » [bold]"),  # ordinary text untouched
    ],
)
def test_printable(raw: str, shown: str) -> None:
    assert printable(raw) == shown


def test_printable_has_no_control_characters_left() -> None:
    every = "".join(chr(c) for c in range(0x00, 0xA0)) + "\u200e\u200f\u202a\u202d\u2067"
    out = printable(every)
    assert all(ch.isprintable() or ch == " " for ch in out), out


def test_printable_limit() -> None:
    assert printable("abcdef", limit=3) == "abc… (+3 chars)"
    assert printable("abc", limit=3) == "abc"
    assert printable("\x1b" * 5, limit=2) == "\\e\\e… (+3 chars)"


# -- state names and endpoints -------------------------------------------------------------


@pytest.mark.parametrize(
    ("raw", "name"),
    [
        ("FIN_WAIT2", "FIN_WAIT_2"),  # psutil
        ("FIN-WAIT-2", "FIN_WAIT_2"),  # ss
        ("FIN_WAIT1", "FIN_WAIT_1"),
        ("fin-wait-1", "FIN_WAIT_1"),
        ("SYN_RECV", "SYN_RECEIVED"),
        ("SYN-RECV", "SYN_RECEIVED"),
        ("SYN-SENT", "SYN_SENT"),
        ("ESTAB", "ESTABLISHED"),
        ("established", "ESTABLISHED"),
        (" CLOSE-WAIT ", "CLOSE_WAIT"),
        ("LAST-ACK", "LAST_ACK"),
        ("TIME-WAIT", "TIME_WAIT"),
        ("NONE", "CLOSED"),
        ("CLOSE", "CLOSED"),
        ("LISTEN", "LISTEN"),
    ],
)
def test_state_name_aliases(raw: str, name: str) -> None:
    assert state_name(raw) == name
    assert name in ALL_STATES


def test_every_handout_state_is_its_own_name() -> None:
    assert [state_name(s) for s in ALL_STATES] == list(ALL_STATES)


def test_ipv4_mapped_endpoint_is_ipv4() -> None:
    assert Endpoint.of("::ffff:127.0.0.1", 1) == Endpoint("127.0.0.1", 1)
    assert Endpoint.of("127.0.0.1", "9500") == Endpoint("127.0.0.1", 9500)  # type: ignore[arg-type]
    assert str(Endpoint.of("::1", 5)) == "[::1]:5"
    assert str(Endpoint.of("::ffff:127.0.0.1", 1)) == "127.0.0.1:1"
    assert Endpoint.of("fe80::1%eth0", 2) == Endpoint("fe80::1", 2)
    assert Endpoint.of("0:0:0:0:0:0:0:1", 3) == Endpoint("::1", 3)


def test_listener_remote_text() -> None:
    v4 = Connection(local=Endpoint("127.0.0.1", 9500), remote=None, state="LISTEN")
    v6 = Connection(local=Endpoint("::1", 9500), remote=None, state="LISTEN", family=6)
    assert (v4.proto, v4.remote_text) == ("TCP", "0.0.0.0:0")
    assert (v6.proto, v6.remote_text) == ("TCPv6", "[::]:0")


# -- roles -----------------------------------------------------------------------------------

PORT = 9500
SERVER = Endpoint("127.0.0.1", PORT)
C1 = Endpoint("127.0.0.1", 40001)  # our client 1, served
C2 = Endpoint("127.0.0.1", 40002)  # our client 2, still queued
EXT = Endpoint("127.0.0.1", 40003)  # somebody else's client


def _registry() -> Registry:
    registry = Registry()
    registry.add_client(C1, 1)
    registry.add_client(C2, 2)
    registry.add_accepted(C1, "thread-1")
    return registry


def roles(*connections: Connection) -> list[tuple[RoleKind, int | None, str | None]]:
    return [(x.role.kind, x.role.client, x.role.thread)
            for x in classify(connections, PORT, _registry())]


def test_roles() -> None:
    assert roles(
        conn(SERVER, None, "LISTEN", pid=1),
        conn(C1, SERVER, "ESTABLISHED", pid=1),
        conn(SERVER, C1, "ESTABLISHED", pid=1),
        conn(C2, SERVER, "ESTABLISHED", pid=1),
        conn(SERVER, C2, "ESTABLISHED", pid=None),
        conn(EXT, SERVER, "ESTABLISHED", pid=77),
        conn(SERVER, EXT, "ESTABLISHED", pid=1),
        conn(22, 50000, "ESTABLISHED", pid=1),
    ) == [
        (RoleKind.LISTENER, None, None),
        (RoleKind.CLIENT, 1, None),
        (RoleKind.SERVER, 1, "thread-1"),
        (RoleKind.CLIENT, 2, None),
        (RoleKind.QUEUED, 2, None),
        (RoleKind.EXTERNAL, None, None),
        (RoleKind.SERVER, None, None),
        (RoleKind.OTHER, None, None),
    ]


def test_roles_of_sockets_nobody_owns() -> None:
    assert roles(
        conn(C1, SERVER, "FIN_WAIT_2", pid=None),
        conn(C1, SERVER, "TIME_WAIT", pid=None),
        conn(SERVER, C1, "TIME_WAIT", pid=None),
        conn(SERVER, C1, "CLOSE_WAIT", pid=1),
        conn(EXT, SERVER, "TIME_WAIT", pid=None),
        conn(C2, SERVER, "SYN_SENT", pid=1),
    ) == [
        (RoleKind.ORPHANED, 1, None),
        (RoleKind.ORPHANED, 1, None),
        (RoleKind.ORPHANED, 1, None),
        (RoleKind.SERVER, 1, "thread-1"),
        (RoleKind.ORPHANED, None, None),
        (RoleKind.CLIENT, 2, None),
    ]


def test_describe_role_in_both_languages() -> None:
    (server, queued, orphan) = classify(
        [conn(SERVER, C1, "ESTABLISHED", pid=1), conn(SERVER, C2, "ESTABLISHED", pid=None),
         conn(C1, SERVER, "FIN_WAIT_2", pid=None)],
        PORT,
        _registry(),
    )
    assert describe_role(server.role, "en") == "server ↔ client 1 [thread-1]"
    assert describe_role(queued.role, "en") == "accept() queue ← client 2"
    assert describe_role(orphan.role, "en") == "orphaned (client 1)"
    assert describe_role(orphan.role, "fr") == "orphelin (client 1)"
    (server_end,) = classify([conn(SERVER, C1, "TIME_WAIT", pid=None)], PORT, _registry())
    assert server_end.role.kind is RoleKind.ORPHANED
    assert describe_role(server_end.role, "en") == "orphaned server ↔ client 1"
    for kind in RoleKind:
        for lang in ("fr", "en"):
            assert describe_role(Role(kind), lang)



def test_a_socket_sharing_our_clients_local_address_is_not_ours() -> None:
    """Roles come from identity (both ends of the app's own connection), never from the
    local address alone: with every connection shown, another socket bound to the same
    local address (here towards another server) must not read "client 1"."""
    registry = Registry()
    registry.add_client(C1, 1, SERVER)
    registry.add_accepted(C1, "")
    elsewhere = Endpoint("127.0.0.1", 5432)
    got = [(x.role.kind, x.role.client) for x in classify([
        conn(C1, SERVER, "ESTABLISHED", pid=1),
        conn(SERVER, C1, "ESTABLISHED", pid=1),
        conn(C1, elsewhere, "ESTABLISHED", pid=99),
        conn(elsewhere, C1, "ESTABLISHED", pid=99),
    ], PORT, registry)]
    assert got == [(RoleKind.CLIENT, 1), (RoleKind.SERVER, 1), (RoleKind.OTHER, None),
                   (RoleKind.OTHER, None)]
    assert registry.client_of(C1, SERVER) == 1 and registry.client_of(C1, elsewhere) is None


# -- lab.records.NamedTuple: typing's, without importing typing ------------------------------
class Point(NamedTuple):
    """A point."""

    x: int
    y: int = 0
    label: str = "p"

    @property
    def norm1(self) -> int:
        return abs(self.x) + abs(self.y)

    def moved(self, dx: int) -> Point:
        return self._replace(x=self.x + dx)


def test_records_behave_as_typings_named_tuples() -> None:
    p = Point(3)
    assert p == (3, 0, "p") and p._fields == ("x", "y", "label")
    assert p.moved(2) == Point(5, 0, "p") and p.moved(2).norm1 == 5
    assert isinstance(p, tuple) and Point.__doc__ == "A point."
    assert hash(p) == hash((3, 0, "p"))
    assert repr(p) == "Point(x=3, y=0, label='p')"
    with pytest.raises(AttributeError):
        p.x = 4  # type: ignore[misc]
    with pytest.raises(AttributeError):
        p.other = 1  # type: ignore[attr-defined]  # __slots__ = (): no per-record dict
    x, y, label = p
    assert (x, y, label) == (3, 0, "p")


def test_a_field_without_default_after_one_with_default_is_refused() -> None:
    with pytest.raises(TypeError):
        class Bad(NamedTuple):
            a: int = 1
            b: int  # type: ignore[misc]  # the mistake under test


def test_a_socket_held_by_a_process_that_cannot_be_read_is_not_orphaned() -> None:
    """On Linux an inode says a file still holds the socket: with no pid found, its owner
    is a process this user cannot read (another user's), not nobody."""
    lab = Endpoint("127.0.0.1", 9500)
    peer = Endpoint("127.0.0.1", 50001)
    held = 81234  # the inode netlink reports for a socket some process holds
    rows = [
        Connection(peer, lab, "ESTABLISHED", inode=held),  # another user's client
        Connection(peer, lab, "FIN_WAIT_2"),  # inode 0: closed, nobody holds it
        Connection(lab, peer, "ESTABLISHED", inode=held),  # accepted by another user's server
        Connection(lab, Endpoint("127.0.0.1", 50002), "ESTABLISHED"),  # in the accept queue
    ]
    kinds = [c.role.kind for c in classify(rows, 9500, Registry())]
    assert kinds == [RoleKind.EXTERNAL, RoleKind.ORPHANED, RoleKind.SERVER, RoleKind.QUEUED]
    from tcp_observatory.lab.observe.netstat import _process_text

    assert _process_text(rows[0], "en") == "[owner not readable]"
    assert _process_text(rows[1], "en") == "[orphaned]"
