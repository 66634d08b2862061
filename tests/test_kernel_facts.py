"""The design's table "What the kernel really does", asserted against real loopback sockets.

Every fact is read back from the kernel through a connection source (psutil and netlink),
labelled by the lab's registry, and cross-checked with ``ss`` where it is installed.
"""

from __future__ import annotations

import os
import socket
import threading

import psutil
import pytest
from support import LOCALHOST, Lab, ss_agrees, wait_for

from tcp_observatory.lab.observe.model import Connection, Endpoint, RoleKind, Snapshot, Transition
from tcp_observatory.lab.observe.observer import Observer
from tcp_observatory.lab.observe.sources import open_source

OWN_PID = os.getpid()
OWN_NAME = psutil.Process().name()


def owned_by_us(c: Connection) -> bool:
    return c.pid == OWN_PID and c.process == OWN_NAME


def no_owner(c: Connection) -> bool:
    return c.pid is None


def test_listener_is_labelled(lab: Lab, source_kind: str) -> None:
    server = lab.server()
    kernel = lab.kernel(source_kind, server.port)
    row = kernel.wait(server.address, None, "LISTEN", owned_by_us)
    assert row.role.kind is RoleKind.LISTENER
    ss_agrees(server.port, server.address, None, "LISTEN")


@pytest.mark.needs("system-sockets")
def test_single_fin_leaves_fin_wait_2_and_close_wait(lab: Lab, source_kind: str) -> None:
    server = lab.server("single")
    kernel = lab.kernel(source_kind, server.port)
    client = lab.client(server.port)
    local = client.local
    assert local is not None

    both = kernel.wait(local, server.address, "ESTABLISHED", owned_by_us)
    assert both.role.kind is RoleKind.CLIENT and both.role.client == 1
    serving = kernel.wait(server.address, local, "ESTABLISHED", owned_by_us)
    assert serving.role.kind is RoleKind.SERVER and serving.role.client == 1

    client.send("bonjour")
    lab.server_events.wait_message("bonjour", peer=local)
    client.send("Fin")
    lab.server_events.wait("fin", peer=local)
    assert client.wait_closed(10)

    client_side = kernel.wait(local, server.address, "FIN_WAIT_2", no_owner)
    assert client_side.role.kind is RoleKind.ORPHANED
    assert client_side.role.client == 1
    server_side = kernel.wait(server.address, local, "CLOSE_WAIT", owned_by_us)
    assert server_side.role.kind is RoleKind.SERVER
    ss_agrees(server.port, local, server.address, "FIN_WAIT_2")
    ss_agrees(server.port, server.address, local, "CLOSE_WAIT")
    # The server never closes it (the handout's close() is commented out).
    assert not lab.server_events.of("closed")


@pytest.mark.needs("system-sockets")
def test_single_close_after_fin_leaves_time_wait(lab: Lab, source_kind: str) -> None:
    server = lab.server("single", close_after_fin=True)
    kernel = lab.kernel(source_kind, server.port)
    client = lab.client(server.port)
    local = client.local
    assert local is not None
    kernel.wait(server.address, local, "ESTABLISHED", owned_by_us)

    client.send("Fin")
    lab.server_events.wait("closed", peer=local)

    time_wait = kernel.wait(local, server.address, "TIME_WAIT", no_owner)
    assert time_wait.role.kind is RoleKind.ORPHANED
    kernel.wait_gone(server.address, local)
    ss_agrees(server.port, local, server.address, "TIME_WAIT")


@pytest.mark.needs("system-sockets")
def test_single_second_client_waits_in_the_accept_queue(lab: Lab, source_kind: str) -> None:
    server = lab.server("single")
    kernel = lab.kernel(source_kind, server.port)
    first = lab.client(server.port)
    assert first.local is not None
    lab.server_events.wait("accepted", peer=first.local)

    second = lab.client(server.port)  # the handshake completes: the kernel accepts for us
    peer = second.local
    assert peer is not None
    second.send("from the queue")
    lab.client_events.wait("sent", number=2, text="from the queue")

    kernel.wait(peer, server.address, "ESTABLISHED", owned_by_us)
    queued = kernel.wait(server.address, peer, "ESTABLISHED", no_owner)
    assert queued.role.kind is RoleKind.QUEUED
    assert queued.role.client == 2
    if source_kind == "netlink":
        # Its bytes wait in the server side's Recv-Q until accept().
        full = kernel.wait(server.address, peer, "ESTABLISHED",
                           lambda c: (c.recv_q or 0) >= len("from the queue\n"))
        assert full.pid is None

    # Barrier: the server reads the first client's later message, not the second's.
    first.send("still first")
    lab.server_events.wait_message("still first", peer=first.local)
    assert lab.server_events.messages(peer) == []
    assert not lab.server_events.of("accepted", peer=peer)

    first.send("Fin")
    lab.server_events.wait_message("from the queue", peer=peer)
    events = [e.kind for e in lab.server_events.events]
    assert events.index("fin") < events.index("accepted", events.index("fin"))

    served = kernel.wait(server.address, peer, "ESTABLISHED", owned_by_us)
    assert served.role.kind is RoleKind.SERVER
    if source_kind == "netlink":
        assert served.recv_q == 0
    # The next accept() released the first client's socket: CLOSE_WAIT ended.
    lab.server_events.wait("released", peer=first.local)
    kernel.wait(first.local, server.address, "TIME_WAIT", no_owner)
    kernel.wait_gone(server.address, first.local)


@pytest.mark.needs("linux-accept-queue")
def test_single_backlog_1_fourth_client_stays_in_syn_sent(lab: Lab, source_kind: str) -> None:
    server = lab.server("single")
    assert server.backlog == 1
    kernel = lab.kernel(source_kind, server.port)
    first = lab.client(server.port)
    lab.server_events.wait("accepted", peer=first.local)
    queued = [lab.client(server.port), lab.client(server.port)]  # the queue holds 2
    for c in queued:
        kernel.wait(server.address, c.local, "ESTABLISHED", no_owner)

    fourth = lab.client(server.port, connect=False)
    wait_for(lambda: fourth.local, message="the 4th client to get a local port")
    local = fourth.local
    assert local is not None
    syn = kernel.wait(local, server.address, "SYN_SENT", owned_by_us)
    assert syn.role.kind is RoleKind.CLIENT and syn.role.client == 4
    assert fourth.state == "connecting"
    # Nothing on the server side: the SYN was dropped, not queued.
    assert kernel.find(server.address, local) is None
    ss_agrees(server.port, local, server.address, "SYN_SENT")
    fourth.close()
    assert fourth.wait_closed(5)
    kernel.wait_gone(local, server.address)


@pytest.mark.needs("system-sockets")
def test_threaded_serves_two_clients_at_once(lab: Lab, source_kind: str) -> None:
    server = lab.server("threaded")
    kernel = lab.kernel(source_kind, server.port)
    one, two = lab.client(server.port), lab.client(server.port)
    assert one.local is not None and two.local is not None
    one.send("un")
    two.send("deux")
    m1 = lab.server_events.wait_message("un", peer=one.local)
    m2 = lab.server_events.wait_message("deux", peer=two.local)
    assert not lab.server_events.of("fin")
    assert m1.thread and m2.thread and m1.thread != m2.thread

    for client, message in ((one, m1), (two, m2)):
        row = kernel.wait(server.address, client.local, "ESTABLISHED", owned_by_us)
        assert row.role.kind is RoleKind.SERVER
        assert row.role.thread == message.thread

    one.send("Fin")
    lab.server_events.wait("closed", peer=one.local)
    assert one.wait_closed(10)
    time_wait = kernel.wait(one.local, server.address, "TIME_WAIT", no_owner)
    assert time_wait.role.kind is RoleKind.ORPHANED
    kernel.wait_gone(server.address, one.local)
    ss_agrees(server.port, one.local, server.address, "TIME_WAIT")
    # The other client is still being served.
    kernel.wait(server.address, two.local, "ESTABLISHED", owned_by_us)
    two.send("encore")
    lab.server_events.wait_message("encore", peer=two.local)


@pytest.mark.needs("system-sockets")
def test_observer_thread_reports_transitions(lab: Lab, source_kind: str) -> None:
    server = lab.server("single")
    lock = threading.Lock()
    seen: list[Transition] = []
    snaps: list[Snapshot] = []

    def listener(snap: Snapshot, transitions: list[Transition]) -> None:
        with lock:
            snaps.append(snap)
            seen.extend(transitions)

    def transitions() -> list[Transition]:
        with lock:
            return list(seen)

    source = open_source(source_kind)
    observer = Observer(source, server.port, listener, interval=0.05, registry=lab.registry)
    other = lab.keep(socket.socket())
    other.bind((LOCALHOST, 0))
    other.listen(1)
    other_end = Endpoint.of(*other.getsockname()[:2])
    try:
        observer.start()
        client = lab.client(server.port)
        observer.poll_now()
        local = client.local

        def appeared() -> Transition | None:
            # A poll may catch the handshake's SYN_SENT first: then it appears from there.
            return next((t for t in transitions() if t.connection.local == local
                         and t.from_state in (None, "SYN_SENT")
                         and t.to_state == "ESTABLISHED"), None)

        tr = wait_for(appeared, message=lambda: f"appeared; got {transitions()}")
        assert tr.connection.role.kind is RoleKind.CLIENT and not tr.inferred

        client.send("Fin")
        observer.poll_now()

        def fin_wait_2() -> list[Transition]:
            return [t for t in transitions() if t.connection.local == local
                    and t.to_state in ("FIN_WAIT_1", "FIN_WAIT_2")]

        wait_for(lambda: any(t.to_state == "FIN_WAIT_2" for t in fin_wait_2()),
                 message=lambda: f"FIN_WAIT_2; got {transitions()}")
        mine = fin_wait_2()
        if mine[0].to_state == "FIN_WAIT_1" and mine[0].inferred:
            assert mine[0].from_state == "ESTABLISHED"

        # Widening the filter shows other ports without reporting them as new.
        observer.set_all_ports(True)
        def polls() -> list[Snapshot]:
            with lock:
                return list(snaps)

        wait_for(lambda: any(c.local == other_end for s in polls() for c in s.connections),
                 message="a snapshot with every port")
        observer.poll_now()
        done = len(polls())
        wait_for(lambda: len(polls()) > done + 1, message="two more polls")
        assert not [t for t in transitions() if t.connection.local == other_end]
    finally:
        observer.stop()
        source.close()

