"""A full accept queue is the lab's only when the lab port's own rows show it: its listener
full, and a client of that listener left in SYN_SENT sending its SYN again (or the server's
end a SYN_RECEIVED request socket). Another program's full queue on the same machine, which
the host's ListenDrops counter adds up all the same, is never told as the lab's: not in the
server pane, not on the timeline, not in a step's picture.
"""

from __future__ import annotations

import errno
import socket
from pathlib import Path

import pytest
from app_support import make_app, wait_until
from support import LOCALHOST, EventLog, Sockets, conn, ep, lab_session, ss_rows, wait_for

from tcp_observatory.lab.i18n import NBSP, t
from tcp_observatory.lab.net.describe import describe_drops, describe_event
from tcp_observatory.lab.net.overflow import Drops, DropWatch, Stuck, judge
from tcp_observatory.lab.net.server import ServerEvent
from tcp_observatory.lab.observe.model import OTHER_ROLE, Connection, Endpoint, Role, RoleKind
from tcp_observatory.lab.observe.sources import Source, open_source
from tcp_observatory.lab.session import ObserverUpdate, Session
from tcp_observatory.tui.widgets.evidence_view import EvidenceView

PORT = 9500
LAB = Endpoint("127.0.0.1", PORT)


def listener(queue: int | None, backlog: int | None, host: str = "127.0.0.1",
             port: int = PORT) -> Connection:
    return conn(ep(port, host), None, "LISTEN", RoleKind.LISTENER, recv_q=queue, send_q=backlog)


def syn_sent(port: int, tries: int | None, *, to: Endpoint = LAB, client: int | None = None,
             host: str = "127.0.0.1") -> Connection:
    role = Role(RoleKind.CLIENT, client=client) if client else OTHER_ROLE
    return conn(ep(port, host), to, "SYN_SENT", role, retransmits=tries, recv_q=0, send_q=1)


# -- the judgement, on rows as the kernel gives them ----------------------------------------
def test_a_full_listener_names_each_client_it_left_in_syn_sent() -> None:
    rows = [listener(2, 1), syn_sent(50005, 1), syn_sent(50004, 3, client=4),
            Connection(LAB, Endpoint("127.0.0.1", 50002), "ESTABLISHED", recv_q=0, send_q=0)]
    assert judge(rows, PORT) == [Drops(LAB, 2, 1, (
        Stuck(Endpoint("127.0.0.1", 50004), "SYN_SENT", 3, 4),
        Stuck(Endpoint("127.0.0.1", 50005), "SYN_SENT", 1, None)))]


@pytest.mark.parametrize(("why", "rows"), [
    ("the queue is not full (Linux admits backlog + 1)", [listener(1, 1), syn_sent(50004, 2)]),
    ("the SYN was not sent again yet", [listener(2, 1), syn_sent(50004, 0)]),
    ("psutil or macOS: no retransmissions told", [listener(2, 1), syn_sent(50004, None)]),
    ("psutil or macOS: no queue told", [listener(None, None), syn_sent(50004, 2)]),
    ("no listener on the lab port", [syn_sent(50004, 2)]),
    ("another machine's port of the same number", [
        listener(2, 1), syn_sent(50004, 2, to=Endpoint("10.0.0.9", PORT), host="10.0.0.5")]),
    ("another program's full listener on another port", [
        listener(0, 1), listener(2, 1, port=9501),
        syn_sent(50004, 2, to=Endpoint("127.0.0.1", 9501))]),
])
def test_nothing_is_told_without_the_lab_listeners_own_rows(why: str,
                                                           rows: list[Connection]) -> None:
    assert judge(rows, PORT) == [], why


def test_a_request_socket_at_a_full_queue_is_named_by_its_client() -> None:
    """The last ACK dropped: the client believes it is connected, the server's end is a
    SYN_RECEIVED request socket (no owner, uid unknown), named after the client's end."""
    peer = Endpoint("127.0.0.1", 50007)
    rows = [listener(2, 1),
            Connection(LAB, peer, "SYN_RECEIVED", retransmits=1, recv_q=0, send_q=0),
            Connection(peer, LAB, "ESTABLISHED", role=Role(RoleKind.CLIENT, client=7))]
    assert judge(rows, PORT) == [Drops(LAB, 2, 1, (Stuck(peer, "SYN_RECEIVED", 1, 7),))]


def test_a_wildcard_listener_is_reached_at_this_machines_own_addresses() -> None:
    own = syn_sent(50004, 1, to=Endpoint("192.168.1.5", PORT), host="192.168.1.5")
    away = syn_sent(50005, 1, to=Endpoint("10.0.0.9", PORT), host="192.168.1.5")
    rows = [listener(2, 1, host="0.0.0.0"), own, away]
    assert [s.peer for d in judge(rows, PORT) for s in d.stuck] == [own.local]


def test_each_waiting_handshake_is_told_once_until_it_ends() -> None:
    watch = DropWatch(PORT)
    first = [listener(2, 1), syn_sent(50004, 1, client=4)]
    assert [s.client for d in watch.news(first) for s in d.stuck] == [4]
    assert watch.news([listener(2, 1), syn_sent(50004, 2, client=4)]) == []
    # The queue dips for a poll (the server accepted one), then fills again: not news.
    assert watch.news([listener(1, 1), syn_sent(50004, 2, client=4)]) == []
    both = [listener(2, 1), syn_sent(50004, 3, client=4), syn_sent(50005, 1, client=5)]
    assert [s.client for d in watch.news(both) for s in d.stuck] == [5]
    # Client 4 is accepted at last; later the same address is dropped again: news again.
    assert watch.news([listener(2, 1), syn_sent(50005, 2, client=5)]) == []
    assert [s.client for d in watch.news(both) for s in d.stuck] == [4]


def test_the_line_names_the_clients_in_both_languages() -> None:
    drops = Drops(LAB, 2, 1, (Stuck(Endpoint("127.0.0.1", 50004), "SYN_SENT", 2, 4),
                              Stuck(Endpoint("127.0.0.1", 50009), "SYN_RECEIVED", 1, None)))
    assert describe_drops(drops, "en") == (
        "accept queue full (2/1): the kernel dropped the handshakes of 2 clients: "
        "client 4 (127.0.0.1:50004, SYN_SENT), 127.0.0.1:50009 (SYN_RECEIVED on the server's "
        "side); those clients will retry")
    one = drops._replace(stuck=drops.stuck[:1])
    assert describe_drops(one, "fr") == (
        f"File d'attente d'accept() pleine (accept queue full, 2/1){NBSP}: le noyau a rejeté "
        f"la poignée de main de 1 client{NBSP}: client 4 (127.0.0.1:50004, SYN_SENT){NBSP}; "
        "ce client réessaiera")


# -- the real kernel -----------------------------------------------------------------------
def netlink() -> Source:
    try:
        return open_source("netlink")
    except (ImportError, OSError) as exc:
        pytest.skip(f"netlink source unavailable: {exc}")


def connect_late(socks: Sockets, port: int) -> socket.socket:
    """A connect that does not wait: at a full queue its SYN is dropped (SYN_SENT)."""
    sock = socks.keep(socket.socket())
    sock.setblocking(False)
    sock.connect_ex((LOCALHOST, port))
    return sock


def in_syn_sent(sock: socket.socket) -> bool:
    """The kernel's own answer: a socket in SYN_SENT has no peer yet."""
    try:
        sock.getpeername()
    except OSError as exc:
        return exc.errno == errno.ENOTCONN
    return False


def left_waiting(clients: list[socket.socket], port: int, count: int) -> set[Endpoint] | None:
    """The ends of the clients a full queue left waiting, once there are ``count``, as the
    independent oracle ss tells it: a client in SYN_SENT (its SYN dropped), or one whose
    last ACK was dropped (the queue filled after its SYN: the server's end stays a
    SYN_RECEIVED request socket while the client's is ESTABLISHED). Without ss, the
    sockets' own word, which knows only SYN_SENT."""
    ends = {Endpoint.of(*s.getsockname()[:2]) for s in clients}
    rows = ss_rows(port)
    if rows is None:
        found = {Endpoint.of(*s.getsockname()[:2]) for s in clients if in_syn_sent(s)}
    else:
        lab = Endpoint.of(LOCALHOST, port)
        found = {local for local, remote, state in rows
                 if state == "SYN_SENT" and remote == lab and local in ends}
        found |= {remote for local, remote, state in rows
                  if state == "SYN_RECEIVED" and local == lab and remote in ends}
    return found if len(found) == count else None


def overflow_lines(lines: list[str]) -> list[str]:
    return [line for line in lines if "accept queue full" in line]


@pytest.mark.needs("netlink")
@pytest.mark.needs("linux-accept-queue")
def test_a_students_own_server_is_judged_from_its_rows(socks: Sockets) -> None:
    """--no-server: a listener the app did not make (backlog 1, never accepting). The
    handshakes left in SYN_SENT are named from the kernel's rows of the lab port, each once."""
    theirs = socks.listener(backlog=1)
    port = theirs.getsockname()[1]
    events = EventLog()  # the server events: here, only what the session judged
    polls: list[ObserverUpdate] = []

    def sink(e: object) -> None:
        if isinstance(e, ServerEvent):
            events(e)
        elif isinstance(e, ObserverUpdate):
            polls.append(e)

    session = Session(port=port, with_server=False, interval=0.05, source=netlink(),
                      sink=sink)
    try:
        session.start(clients=0)
        assert session.judges_drops
        # Backlog 1 holds two: those two are queued before the three others try, whose
        # SYNs then find the queue full (the kernel says how each waits).
        clients = [connect_late(socks, port) for _ in range(2)]
        wait_for(lambda: not any(in_syn_sent(s) for s in clients), 10)
        clients += [connect_late(socks, port) for _ in range(3)]
        expected = wait_for(lambda: left_waiting(clients, port, 3), 10)

        def named() -> list[Endpoint]:
            return [s.peer for e in events.of("overflow") for s in e.drops.stuck]

        wait_for(lambda: set(named()) == expected, 15,
                 message=lambda: f"named {named()}, waiting {expected}")
        # Each once, while they keep waiting: a later poll names nobody again.
        seen = len(polls)
        wait_for(lambda: len(polls) >= seen + 3, 10)
        assert sorted(named()) == sorted(expected)
        line = describe_event(events.of("overflow")[0], "en")
        assert line.startswith("accept queue full (2/1): the kernel dropped the handshake")
    finally:
        session.shutdown()


@pytest.mark.needs("netlink")
@pytest.mark.needs("linux-accept-queue")
def test_a_last_ack_dropped_at_the_full_queue_is_named_from_its_request_socket(
        socks: Sockets) -> None:
    """The queue fills between a client's SYN and its last ACK: that ACK is dropped, the
    client believes it is connected, and the server's end stays a SYN_RECEIVED request
    socket, which the kernel's dump gives. (TCP_DEFER_ACCEPT holds the first client's
    handshake open until it sends, so that the others fill the queue meanwhile.)"""
    theirs = socks.keep(socket.socket())
    theirs.setsockopt(socket.IPPROTO_TCP, socket.TCP_DEFER_ACCEPT, 30)
    theirs.bind((LOCALHOST, 0))
    theirs.listen(1)
    port = theirs.getsockname()[1]
    events = EventLog()
    session = Session(port=port, with_server=False, interval=0.05, source=netlink(),
                      sink=lambda e: events(e) if isinstance(e, ServerEvent) else None)
    try:
        session.start(clients=0)
        first = socks.keep(socket.create_connection((LOCALHOST, port), timeout=5))
        peer = Endpoint.of(*first.getsockname()[:2])
        for _ in range(2):  # each completes with its first byte: the queue reads 2/1
            socks.keep(socket.create_connection((LOCALHOST, port), timeout=5)).sendall(b"x")
        first.sendall(b"late\n")  # its ACK reaches a full queue: dropped
        rows = ss_rows(port)
        if rows is not None:  # the independent oracle: the server's end is SYN-RECV
            wait_for(lambda: (Endpoint.of(LOCALHOST, port), peer, "SYN_RECEIVED")
                     in (ss_rows(port) or set()), 10)
        told = events.wait("overflow", timeout=15)
        assert [(s.peer, s.state) for s in told.drops.stuck] == [(peer, "SYN_RECEIVED")]
        assert (told.drops.queue, told.drops.backlog) == (2, 1)
        assert f"{peer} (SYN_RECEIVED on the server's side)" in describe_event(told, "en")
    finally:
        session.shutdown()


@pytest.mark.needs("netlink")
@pytest.mark.needs("linux-accept-queue")
async def test_another_programs_full_queue_is_never_told_as_the_labs(tmp_path: Path,
                                                                     socks: Sockets) -> None:
    """The lab's server idle, another listener of the machine overflows (the host's
    ListenDrops grows): once the app has seen that other port's clients sending their SYN
    again, no drop line is anywhere: server pane, timeline, events of a step's picture."""
    app = make_app(lab_session(source=netlink(), all_ports=True), tmp_path)
    async with app.run_test(size=(160, 48)) as pilot:
        await wait_until(pilot, lambda: app.server_pane.queue_text == "accept queue: 0/1",
                         "the lab's server listening, idle")
        other = socks.listener(backlog=1)
        port = other.getsockname()[1]
        for _ in range(5):
            connect_late(socks, port)

        def others_retrying() -> bool:
            snap = app.views.snapshot
            return snap is not None and sum(
                1 for c in snap.connections if c.state == "SYN_SENT" and c.remote is not None
                and c.remote.port == port and (c.retransmits or 0) >= 1) == 3

        # The positive event: the app itself has the other port's dropped handshakes in hand.
        await wait_until(pilot, others_retrying, "the other port's clients sending SYN again")
        app.timeline.flush()
        assert not [e for e in app.recorder.server_events if e.kind == "overflow"]
        assert overflow_lines(app.server_pane.lines_text) == []
        assert overflow_lines(app.timeline.lines_text) == []
        assert app.views.snapshot is not None
        app.enter_capture("p1-q1", app.views.snapshot)
        try:
            story = [line.text for line in app.query_one(EvidenceView).story]
        finally:
            app.leave_capture()
        assert overflow_lines(story) == []


@pytest.mark.needs("netlink")
@pytest.mark.needs("linux-accept-queue")
async def test_the_labs_own_full_queue_names_its_waiting_clients(tmp_path: Path) -> None:
    """Single server, backlog 1, five clients: one served, two in the queue (2/1), two in
    SYN_SENT. The drop line names those two by number and address, in the server pane, on
    the timeline and in the step's picture; never the queued ones."""
    app = make_app(lab_session(source=netlink()), tmp_path, clients=0)
    async with app.run_test(size=(160, 48)) as pilot:
        lab = Endpoint.of(LOCALHOST, app.session.port)

        def queue() -> tuple[int, int]:
            """(the listener's queue, client ends ESTABLISHED) as the snapshot has them."""
            snap = app.views.snapshot
            rows = () if snap is None else snap.connections
            listening = [c.recv_q or 0 for c in rows if c.state == "LISTEN" and c.local == lab]
            ends = [c for c in rows if c.role.kind is RoleKind.CLIENT
                    and c.state == "ESTABLISHED"]
            return (listening[0] if listening else -1), len(ends)

        # One client served, two in the queue (2/1), and only then two more: their SYNs
        # find the queue full and are dropped. (Five at once, a late one's SYN could be
        # answered before the queue filled, its last ACK dropped, and its request socket
        # then expire: the kernel kept no row of it to name, seen once in 25 runs.)
        for _ in range(3):
            app.session.add_client()
        await wait_until(pilot, lambda: queue() == (2, 3), "one served, two queued (2/1)")
        for _ in range(2):
            app.session.add_client()

        def waiting() -> dict[int, tuple[Endpoint, str]]:
            """Client number -> its end and how it waits. Its SYN dropped: the client in
            SYN_SENT. Or the queue filled between its SYN and its last ACK, which was
            dropped: the client's end ESTABLISHED, the server's a SYN_RECEIVED request
            socket (lab.net.overflow). Which clients, and how, is the kernel's timing."""
            snap = app.views.snapshot
            if snap is None:
                return {}
            clients = {c.local: c.role.client for c in snap.connections
                       if c.role.kind is RoleKind.CLIENT and c.role.client is not None}
            out: dict[int, tuple[Endpoint, str]] = {}
            for c in snap.connections:
                if c.state == "SYN_SENT" and c.local in clients:
                    out[clients[c.local]] = (c.local, "SYN_SENT")
                elif c.state == "SYN_RECEIVED" and c.local == lab and c.remote in clients:
                    out[clients[c.remote]] = (c.remote, "SYN_RECEIVED")
            return out

        await wait_until(pilot, lambda: len(waiting()) == 2, "two clients left waiting")
        late = waiting()
        rows = ss_rows(app.session.port)
        if rows is not None:  # the independent oracle agrees
            assert {(addr, lab, state) if state == "SYN_SENT" else (lab, addr, state)
                    for addr, state in late.values()} <= rows, (late, rows)
        said = {"SYN_SENT": "SYN_SENT", "SYN_RECEIVED": t("srv.stuck.recv", "en")}
        names = [f"client {n} ({addr}, {said[state]})" for n, (addr, state) in sorted(late.items())]

        def told(lines: list[str]) -> bool:
            drops = overflow_lines(lines)
            return all(any(name in line for line in drops) for name in names)

        await wait_until(pilot, lambda: told(app.server_pane.lines_text),
                         f"the server pane naming {names}")
        app.timeline.flush()
        assert told(app.timeline.lines_text)
        drops = overflow_lines(app.server_pane.lines_text)
        assert all("accept queue full (2/1)" in line for line in drops)
        others = [n for n in range(1, 6) if n not in late]
        assert not [line for line in drops for n in others if f"client {n} (" in line]
        assert app.views.snapshot is not None
        app.enter_capture("p1-q3", app.views.snapshot)
        try:
            story = [line.text for line in app.query_one(EvidenceView).story]
        finally:
            app.leave_capture()
        assert told(story)
