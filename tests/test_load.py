"""A classroom's worth of load: many clients at once, a cap on client threads, a busy table.

Clients are connected a few at a time (never more in flight than the threaded server's
backlog of 5): a burst of 100 SYNs overflows any small accept queue, and the kernel then
drops handshakes (with syncookies the client even believes it is connected while the server
knows nothing of it until it sends). Once connected, all of them are held and all send at once.
"""

from __future__ import annotations

import asyncio
import contextlib
import random
import re
import socket
import subprocess
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import pytest
from app_support import make_app, press, wait_until
from support import LOCALHOST, Lab, lab_session, ss_rows, wait_for
from textual.pilot import Pilot

from tcp_observatory.lab.net.client import LabClient
from tcp_observatory.lab.observe.model import Endpoint
from tcp_observatory.tui.app import ObservatoryApp

CLIENTS = 100
MESSAGES = 50
IN_FLIGHT = 4  # connects at a time: below the threaded server's accept queue (backlog 5)
Key = tuple[Endpoint, Endpoint | None]  # a connection's (local, remote)


def message(client: int, n: int) -> str:
    return f"c{client:03d}-m{n:03d}"


def expected(client: int) -> list[str]:
    return [message(client, n) for n in range(MESSAGES)] + ["Fin"]


def accepted(lab: Lab, peer: Endpoint | None) -> None:
    lab.server_events.wait("accepted", peer=peer)


def check_every_message_once_in_order(lab: Lab, peers: dict[int, Endpoint]) -> None:
    """Every client's messages arrived exactly once, in order, none lost, none merged."""
    by_peer: dict[Endpoint, list[str]] = {p: [] for p in peers.values()}
    for e in lab.server_events.of("message"):
        assert e.peer in by_peer, f"message from an unknown peer {e.peer}: {e.text!r}"
        by_peer[e.peer].append(e.text)
    wrong = {i: by_peer[p] for i, p in peers.items() if by_peer[p] != expected(i)}
    assert not wrong, f"{len(wrong)} clients got a wrong sequence, e.g. {next(iter(wrong.items()))}"
    assert len(lab.server_events.of("message")) == CLIENTS * (MESSAGES + 1)


def test_threaded_server_holds_100_lab_clients_sending_50_messages_each(lab: Lab) -> None:
    server = lab.server("threaded")

    def connect(i: int) -> LabClient:
        # Numbered by message prefix (the fixture's own numbering follows creation order).
        client = LabClient(LOCALHOST, server.port, number=i, registry=lab.registry,
                           on_event=lab.client_events)
        lab._clients.append(client)  # closed by the fixture whatever happens
        client.connect(timeout=10)
        accepted(lab, client.local)
        return client

    with ThreadPoolExecutor(IN_FLIGHT) as pool:
        connected = list(pool.map(connect, range(CLIENTS)))
    # All 100 are held at once, each by its own server thread.
    assert len(lab.server_events.of("accepted")) == CLIENTS
    assert server._active == CLIENTS
    peers: dict[int, Endpoint] = {}
    for c in connected:
        assert c.local is not None  # connected
        peers[c.number] = c.local
    assert len(set(peers.values())) == CLIENTS

    def send_all(client: LabClient) -> None:
        for n in range(MESSAGES):
            assert client.send(message(client.number, n))
        assert client.send("Fin")

    with ThreadPoolExecutor(16) as pool:
        list(pool.map(send_all, connected))
    wait_for(lambda: len(lab.server_events.of("closed")) == CLIENTS, 30,
             message=lambda: f"every client closed; {len(lab.server_events.of('closed'))} so far")
    check_every_message_once_in_order(lab, peers)
    assert len(lab.server_events.of("fin")) == CLIENTS
    assert not lab.server_events.of("reset") and not lab.server_events.of("eof")
    assert not lab.client_events.of("error")
    wait_for(lambda: server._active == 0, 10, message="every client thread to end")


def test_threaded_server_100_raw_sockets_lines_grouped_any_way(lab: Lab) -> None:
    """Raw sockets, as the kernel may group bytes: several lines per send, none split."""
    server = lab.server("threaded")
    socks: dict[int, socket.socket] = {}

    def connect(i: int) -> socket.socket:
        sock = socket.create_connection((LOCALHOST, server.port), timeout=10)
        lab.keep(sock)
        socks[i] = sock
        accepted(lab, Endpoint.of(*sock.getsockname()[:2]))
        return sock

    with ThreadPoolExecutor(IN_FLIGHT) as pool:
        list(pool.map(connect, range(CLIENTS)))
    peers = {i: Endpoint.of(*s.getsockname()[:2]) for i, s in socks.items()}
    assert server._active == CLIENTS

    def send_all(i: int) -> None:
        rng = random.Random(i)
        lines = [(text + "\n").encode() for text in expected(i)]
        while lines:
            take = rng.randint(1, 7)
            socks[i].sendall(b"".join(lines[:take]))
            lines = lines[take:]
        socks[i].close()

    with ThreadPoolExecutor(16) as pool:
        list(pool.map(send_all, range(CLIENTS)))
    wait_for(lambda: len(lab.server_events.of("closed")) == CLIENTS, 30,
             message=lambda: f"every client closed; {len(lab.server_events.of('closed'))} so far")
    check_every_message_once_in_order(lab, peers)


# -- the cap on client threads ---------------------------------------------------------------


def test_max_clients_refuses_the_fourth_and_serves_the_others(lab: Lab) -> None:
    server = lab.server("threaded", max_clients=3)
    first = [lab.client(server.port) for _ in range(3)]
    for c in first:
        accepted(lab, c.local)
    fourth = lab.client(server.port)  # the kernel completes the handshake; the server refuses
    refused = lab.server_events.wait("refused", peer=fourth.local)
    assert refused.text == "3"  # the limit, for the display to name
    assert not lab.server_events.of("accepted", peer=fourth.local)
    lab.client_events.wait("server-closed", number=fourth.number)
    # The three others are still served.
    for c in first:
        assert c.send(f"still here {c.number}")
    for c in first:
        lab.server_events.wait_message(f"still here {c.number}", peer=c.local)
    # One leaves: its slot is free again for a newcomer.
    first[0].send("Fin")
    lab.server_events.wait("closed", peer=first[0].local)
    wait_for(lambda: server._active == 2, 10, message="the slot to be released")
    fifth = lab.client(server.port)
    accepted(lab, fifth.local)
    fifth.send("welcome")
    lab.server_events.wait_message("welcome", peer=fifth.local)
    assert len(lab.server_events.of("refused")) == 1


@pytest.mark.needs("sigint")
def test_lab_server_command_says_when_the_cap_is_reached(lab: Lab) -> None:
    proc = lab.python("-m", "tcp_observatory.lab.server",
                      "--threaded", "--max-clients", "2", "--port", "0",
                      "--lang", "en")
    first = proc.expect(lambda line: line.strip() != "", what="the start line")
    port = int(first.split("127.0.0.1:")[1].split()[0].rstrip(",;:)"))
    kept = [lab.client(port) for _ in range(2)]
    for c in kept:
        proc.expect_text(f"Connection from {c.local}")
    third = lab.client(port)
    line = proc.expect_text("refused")
    # The refusal says how full the room is and how silent its most silent client.
    assert re.fullmatch(re.escape(f"Limit of 2 clients reached: {third.local} refused "
                                  "(--max-clients); 2 clients connected, the most silent "
                                  "one for ") + r"\d+ s", line), line
    kept[0].send("after the refusal")
    proc.expect_text(f"{kept[0].local} said: after the refusal")
    proc.interrupt()
    assert proc.wait() == 0
    assert "Traceback" not in proc.stderr_text


# -- the app with a full table ---------------------------------------------------------------


@contextlib.contextmanager
def closing_all(socks: list[socket.socket]) -> Iterator[list[socket.socket]]:
    try:
        yield socks
    finally:
        for s in socks:
            with contextlib.suppress(OSError):
                s.close()






async def test_app_stays_responsive_with_a_hundred_connections(tmp_path: Path) -> None:
    count = 120
    session = lab_session("threaded", source="auto")
    app = make_app(session, tmp_path)
    socks: list[socket.socket] = []

    def open_all(port: int) -> None:
        def one(_: int) -> None:
            sock = socket.create_connection((LOCALHOST, port), timeout=10)
            socks.append(sock)
            peer = Endpoint.of(*sock.getsockname()[:2])
            wait_for(lambda: peer in session.registry.copy()[1], 10,
                     message=f"{peer} accepted")

        with ThreadPoolExecutor(IN_FLIGHT) as pool:
            list(pool.map(one, range(count)))

    with closing_all(socks):
        async with app.run_test(size=(140, 44)) as pilot:
            port = app.session.port
            await asyncio.to_thread(open_all, port)
            rows = 1 + 2 * count  # the listener, and both ends of every connection
            await wait_until(pilot, lambda: len(app.table.state_of(lambda c: True)) >= rows,
                             f"{rows} rows in the table")
            assert app.table.row_count >= rows
            # Keys are still handled while the table holds them all and keeps polling (how
            # fast, with thousands of rows, is bench/bench_scale.py's measure).
            for expect_paused in (True, False):
                await press(pilot, "f7")

                def handled(paused: bool = expect_paused) -> bool:
                    return app.recorder.paused is paused

                await wait_until(pilot, handled, "F7 handled")
            # And the table keeps following the kernel: a few connections end.
            closed = [Endpoint.of(*sock.getsockname()[:2]) for sock in socks[:5]]
            for sock in socks[:5]:
                sock.close()
            await shown_as_the_kernel_holds(pilot, app, closed)
            await press(pilot, "ctrl+q")


async def shown_as_the_kernel_holds(pilot: Pilot[Any], app: ObservatoryApp,
                                    closed: list[Endpoint]) -> dict[Key, str]:
    """Wait until the table shows the connections of these clients, closed first, as the
    kernel (ss) holds them once settled, and return the kernel's rows of them.

    Each client, the side that closes first, is in TIME_WAIT and the server's end is gone.
    Rarely (about one close in 3,000 on a loaded two-core machine), Linux sends the client's
    last ACK twice: the second reaches the listener once the server's socket is gone, and
    the listener's RST ends the TIME_WAIT at once (RFC 1337's TIME-WAIT assassination,
    net.ipv4.tcp_rfc1337 = 0). The kernel then holds neither end, and the table must not
    either. Where ss is missing, every client is awaited in TIME_WAIT."""
    server = Endpoint.of(LOCALHOST, app.session.port)
    ends = {(c, server) for c in closed} | {(server, c) for c in closed}
    usual: dict[Key, str] = {(c, server): "TIME_WAIT" for c in closed}
    kernel = usual

    def settled() -> bool:
        nonlocal kernel
        shown = {r.conn.key: r.conn.state for r in app.table.rows_by_key.values()
                 if r.gone_at is None and r.conn.key in ends}
        if any(key[1] != server or state != "TIME_WAIT" for key, state in shown.items()):
            return False  # still closing: the kernel need not be asked yet
        listed = ss_rows(server.port)
        kernel = usual if listed is None else {
            (local, remote): state for local, remote, state in listed if (local, remote) in ends}
        return shown == kernel

    await wait_until(pilot, settled, "the connections of " + ", ".join(map(str, closed))
                     + " as the kernel holds them: each client in TIME_WAIT, or gone with"
                     " its TIME_WAIT ended")
    return kernel


@pytest.mark.needs("ss")
async def test_a_time_wait_ended_at_once_leaves_the_table_with_the_kernels(
        tmp_path: Path) -> None:
    """A TIME_WAIT the kernel ends early (the listener's RST does so, rarely; here ss -K)
    leaves the table as it leaves the kernel, while the others stay in TIME_WAIT."""
    session = lab_session("threaded", source="auto")
    app = make_app(session, tmp_path)
    with closing_all([]) as socks:
        async with app.run_test(size=(140, 44)) as pilot:
            port = app.session.port
            for _ in range(3):
                socks.append(socket.create_connection((LOCALHOST, port), timeout=10))
            clients = [Endpoint.of(*s.getsockname()[:2]) for s in socks]
            for sock in socks:
                sock.close()
            first = await shown_as_the_kernel_holds(pilot, app, clients)
            assert set(first.values()) == {"TIME_WAIT"} and len(first) == 3, first
            ended = subprocess.run(
                ["ss", "-K", "-tanH", "state", "time-wait",
                 f"( sport = :{clients[0].port} and dport = :{port} )"],
                capture_output=True, text=True, timeout=10, check=False)
            if (clients[0], Endpoint.of(LOCALHOST, port), "TIME_WAIT") in (ss_rows(port) or set()):
                pytest.skip(f"this kernel cannot end a TIME_WAIT with ss -K: {ended.stderr}")
            after = await shown_as_the_kernel_holds(pilot, app, clients)
            assert sorted(after) == sorted((c, Endpoint.of(LOCALHOST, port))
                                           for c in clients[1:]), after
            assert not app.table.state_of(lambda c: c.local == clients[0])
            await press(pilot, "ctrl+q")


@pytest.mark.needs("ss")
async def test_a_timeout_says_what_the_kernel_holds_beside_the_table(tmp_path: Path) -> None:
    """A wait that times out names each row where the kernel (ss), the observer's snapshot
    on screen and the table disagree, so that a row missing from the table names its cause.
    Here the observer is stopped: the table cannot follow a client that closes, and the
    message says that the kernel holds its TIME_WAIT and that the snapshot is not new."""
    session = lab_session("threaded", source="auto")
    app = make_app(session, tmp_path)
    with closing_all([]) as socks:
        async with app.run_test(size=(140, 44)) as pilot:
            port = app.session.port
            socks.append(socket.create_connection((LOCALHOST, port), timeout=10))
            client = Endpoint.of(*socks[0].getsockname()[:2])
            key = (client, Endpoint.of(LOCALHOST, port))
            await wait_until(pilot, lambda: app.table.state_of(
                lambda c: c.key == key) == ["ESTABLISHED"], "the client's row")
            app.session.observer.stop()
            socks[0].close()
            await asyncio.to_thread(
                wait_for, lambda: (*key, "TIME_WAIT") in (ss_rows(port) or set()), 10,
                message=lambda: f"ss to show the client in TIME_WAIT; ss: {ss_rows(port)}; "
                                f"server: {[e.kind for e in app.recorder.server_events]}")
            with pytest.raises(AssertionError) as timed_out:
                await wait_until(pilot, lambda: False, "a row that never comes", timeout=0.1)
            said = str(timed_out.value)
            assert (f"{client} -> {key[1]}: kernel (ss) TIME_WAIT, snapshot ESTABLISHED, "
                    "table ESTABLISHED") in said, said
            assert re.search(r"the snapshot on screen \(seq \d+\) was polled \d+\.\d s ago",
                             said), said
            await press(pilot, "ctrl+q")
