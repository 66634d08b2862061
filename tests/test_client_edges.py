"""The client's awkward moments: typing while still in SYN_SENT, closing while stuck sending."""

from __future__ import annotations

import socket
import time
from pathlib import Path

import pytest
from support import LOCALHOST, Lab, free_port, lab_session, ss_agrees, wait_for

from tcp_observatory.lab.net.client import LabClient
from tcp_observatory.lab.observe.model import Endpoint


@pytest.mark.needs("syn-dropped-when-full")
def test_a_line_typed_in_syn_sent_is_sent_once_connected() -> None:
    listener = socket.socket()
    listener.bind((LOCALHOST, 0))
    listener.listen(0)
    port = listener.getsockname()[1]
    fillers: list[socket.socket] = []
    client = LabClient(LOCALHOST, port, number=1)
    accepted: list[socket.socket] = []
    try:
        # Fill the accept queue so that the next connection waits in SYN_SENT.
        for _ in range(3):
            s = socket.socket()
            s.setblocking(False)
            s.connect_ex((LOCALHOST, port))
            fillers.append(s)
        client.start()
        wait_for(lambda: client.state == "connecting" and client.local is not None, 5)
        assert client.send("typed early")
        # Now let everyone in, and find the client's connection among them.
        deadline = time.monotonic() + 20
        listener.settimeout(0.5)
        mine = None
        while mine is None and time.monotonic() < deadline:
            try:
                conn, addr = listener.accept()
            except TimeoutError:
                continue
            accepted.append(conn)
            if client.local is not None and addr[1] == client.local.port:
                mine = conn
        assert mine is not None, "the client never got through"
        mine.settimeout(10)
        assert mine.recv(100) == b"typed early\n"
    finally:
        client.close()
        for s in (*fillers, *accepted, listener):
            s.close()


def test_close_does_not_hang_on_a_peer_that_never_reads() -> None:
    listener = socket.socket()
    listener.bind((LOCALHOST, 0))
    listener.listen(1)
    port = listener.getsockname()[1]
    client = LabClient(LOCALHOST, port, number=1)
    try:
        client.connect(timeout=5)
        conn, _ = listener.accept()  # accepted, never read: the buffers fill up
        for _ in range(8):
            client.send("x" * (4 << 20))
        client.close(timeout=5)
        assert client.wait_closed(5), "the client thread is stuck in sendall()"
        conn.close()
    finally:
        listener.close()


def test_a_reset_from_the_server_is_said_not_taken_for_a_close(lab: Lab) -> None:
    """A server that resets the connection (RST): the client says so and ends, instead of
    reporting an orderly close (Windows' aborts, 10053, take the same path)."""
    import struct

    from tcp_observatory.lab.net.client import LabClient

    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(1)
    lab.keep(listener)
    events: list[tuple[str, str]] = []
    client = LabClient("127.0.0.1", listener.getsockname()[1], number=1,
                       on_event=lambda e: events.append((e.kind, e.text)))
    client.connect(timeout=10)
    conn, _ = listener.accept()
    conn.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    conn.close()  # linger 0: the kernel sends RST
    assert client.wait_closed(10)
    kinds = [k for k, _ in events]
    assert "server-closed" not in kinds
    assert ("failed", "The server reset the connection (RST)") in events or \
        ("failed", "Le serveur a réinitialisé la connexion (RST)") in events
    client.close()


async def test_a_client_started_before_any_server_waits_then_connects(tmp_path: Path) -> None:
    """--no-server, the client started at launch: refused once, it waits for a listener
    ("waiting for a server on port P…") and connects when one listens."""
    from app_support import make_app, press, wait_until

    port = free_port()
    app = make_app(lab_session(port=port, with_server=False, lang="en"), tmp_path, clients=1)
    listener = socket.socket()
    try:
        async with app.run_test(size=(140, 44)) as pilot:
            await wait_until(pilot, lambda: app.clients_pane.card(1) is not None, "the card")
            card = app.clients_pane.card(1)
            assert card is not None
            await wait_until(pilot, lambda: card.last == f"waiting for a server on port {port}…",
                             "the client waiting")
            listener.bind((LOCALHOST, port))
            listener.listen(5)
            await wait_until(pilot, lambda: card.kernel_state == "ESTABLISHED",
                             "the client connected")
            client = app.session.clients[1]
            assert client.local is not None
            ss_agrees(port, client.local, Endpoint(LOCALHOST, port), "ESTABLISHED")
            await press(pilot, "ctrl+q")
    finally:
        listener.close()


def test_a_clients_end_is_labelled_before_its_handshake(lab: Lab,
                                                         monkeypatch: pytest.MonkeyPatch) -> None:
    """On loopback the handshake completes within connect(): the client's end must be in
    the registry before, or a poll at that moment shows an external connection arriving
    (seen once in a dozen suites: the observer's transition said EXTERNAL, not client 1)."""
    from tcp_observatory.lab.net import client as client_module

    server = lab.server("single")
    known_at_connect: list[bool] = []

    class Watched(socket.socket):
        def connect_ex(self, address: object) -> int:
            local = Endpoint.of(*self.getsockname()[:2])
            known_at_connect.append(lab.registry.clients.get(local) == 1)
            return super().connect_ex(address)  # type: ignore[arg-type]

    monkeypatch.setattr(client_module.socket, "socket", Watched)
    lab.client(server.port)
    assert known_at_connect == [True]
