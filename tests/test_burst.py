"""A classroom connects in bursts: the threaded server drains its accept queue, has no
socket-number limit, frees slots held by silent clients when asked, says when the kernel
dropped handshakes at a full queue, and writes one whole line per event."""

from __future__ import annotations

import contextlib
import gc
import json
import re
import socket
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
from app_support import make_app
from support import LOCALHOST, Lab, lab_session, wait_for

from tcp_observatory.lab.observe.model import Endpoint


@contextlib.contextmanager
def open_files(needed: int) -> Iterator[None]:
    import resource  # POSIX only: imported here so that the file loads on Windows

    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if hard != resource.RLIM_INFINITY and hard < needed:
        pytest.skip(f"this machine allows {hard} open files, the test needs {needed}")
    resource.setrlimit(resource.RLIMIT_NOFILE, (max(soft, needed), hard))
    try:
        yield
    finally:
        resource.setrlimit(resource.RLIMIT_NOFILE, (soft, hard))


@pytest.mark.needs("rlimit")
def test_a_client_numbered_above_1024_is_served(lab: Lab) -> None:
    """1100 idle clients, then one more: its socket in the server is numbered above 1024,
    and its lines are received like any other's."""
    # A socket an earlier test left to the garbage collector would be closed in the middle
    # of this one, freeing a low number for the last client: close those first.
    gc.collect()
    with open_files(4096):
        server = lab.server("threaded", max_clients=5000, backlog=128)
        idle = []
        for _ in range(1100):
            idle.append(lab.keep(socket.create_connection((LOCALHOST, server.port), timeout=10)))
        wait_for(lambda: len(lab.server_events.of("accepted")) >= 1100, 30,
                 message=lambda: f"{len(lab.server_events.of('accepted'))} accepted")
        last = lab.raw(server.port)
        assert last.fileno() > 1024  # and so is the server's end, in this same process
        last.sendall(b"I am number 1101\n")
        peer = Endpoint.of(*last.getsockname()[:2])
        lab.server_events.wait_message("I am number 1101", peer=peer, timeout=15)
        assert not lab.server_events.of("error")


def test_a_silent_client_is_closed_after_the_idle_timeout(lab: Lab) -> None:
    server = lab.server("threaded", idle_timeout=0.3)
    talker, silent = lab.raw(server.port), lab.raw(server.port)
    silent_peer = Endpoint.of(*silent.getsockname()[:2])
    talker.sendall(b"still here\n")
    idle = lab.server_events.wait("idle", peer=silent_peer, timeout=10)
    assert idle.text == "0.3"
    silent.settimeout(5)
    assert silent.recv(10) == b""  # the server closed its end
    from tcp_observatory.lab.net.describe import describe_event

    assert describe_event(idle, "en") == f"[{idle.thread}] {silent_peer} silent for 0.3 s: " \
                                         "connection closed (--idle-timeout)"


def test_without_idle_timeout_a_silent_client_keeps_its_slot(lab: Lab) -> None:
    """Beside a server with --idle-timeout 0.3: once that one has closed its silent client
    (silent for less time than ours), ours, without the option, still holds its own."""
    plain = lab.server("threaded")
    timed = lab.server("threaded", idle_timeout=0.3)
    silent = lab.raw(plain.port)
    silent_peer = Endpoint.of(*silent.getsockname()[:2])
    lab.server_events.wait("accepted", peer=silent_peer)
    other = lab.raw(timed.port)
    lab.server_events.wait("idle", peer=Endpoint.of(*other.getsockname()[:2]), timeout=10)
    assert not lab.server_events.of("idle", peer=silent_peer)
    silent.setblocking(False)
    with pytest.raises(BlockingIOError):  # not closed by the server: nothing to read
        silent.recv(10)
    silent.setblocking(True)
    silent.sendall(b"still here\n")
    lab.server_events.wait_message("still here", peer=silent_peer)


@pytest.mark.needs("netlink")
@pytest.mark.needs("linux-accept-queue")
def test_dropped_handshakes_are_reported(lab: Lab) -> None:
    """Single server, backlog 1: the queue holds two; the handshakes of the next clients
    are dropped by the kernel, and the server (as ``python -m lab.server`` runs it) names
    each of them, read from the kernel's rows of its own port."""
    server = lab.server("single")
    served = lab.raw(server.port)
    lab.server_events.wait("accepted")
    lab.raw(server.port)
    lab.raw(server.port)
    late = {}
    for _ in range(3):
        sock = socket.socket()
        sock.setblocking(False)
        sock.connect_ex((LOCALHOST, server.port))  # SYN_SENT: its SYN is dropped
        late[Endpoint.of(*sock.getsockname()[:2])] = lab.keep(sock)

    def named() -> set[Endpoint]:
        return {s.peer for e in lab.server_events.of("overflow") for s in e.drops.stuck}

    wait_for(lambda: named() == set(late), 15, message=lambda: f"{named()} vs {set(late)}")
    overflow = lab.server_events.of("overflow")[0]
    assert overflow.text == "1" and overflow.drops.queue == 2 and overflow.drops.backlog == 1
    assert all(s.state == "SYN_SENT" and s.tries >= 1 for s in overflow.drops.stuck)
    from tcp_observatory.lab.net.describe import describe_event

    line = describe_event(overflow, "en")
    assert line.startswith("accept queue full (2/1): the kernel dropped the handshake")
    assert all(f"{s.peer} (SYN_SENT)" in line for s in overflow.drops.stuck)
    served.close()


@pytest.mark.needs("sigint")
def test_the_server_console_writes_one_whole_line_per_event(lab: Lab) -> None:
    """40 clients x 25 messages at once: every line whole, one event each, none lost."""
    proc = lab.python("-m", "tcp_observatory.lab.server",
                      "--threaded", "--port", "0", "--lang", "en",
                      "--backlog", "64")
    first = proc.expect(lambda line: line.strip() != "", what="the start line")
    assert "backlog 64" in first
    started = re.search(r"127\.0\.0\.1:(\d+)", first)
    assert started is not None, first
    port = int(started.group(1))
    clients, messages = 40, 25

    def one(i: int) -> None:
        with socket.create_connection((LOCALHOST, port), timeout=10) as sock:
            for j in range(messages):
                sock.sendall(f"c{i}-m{j}\n".encode())
            sock.sendall(b"Fin\n")
            sock.settimeout(10)
            with contextlib.suppress(OSError):
                sock.recv(10)  # until the server closes its end

    threads = [threading.Thread(target=one, args=(i,)) for i in range(clients)]
    for th in threads:
        th.start()
    for th in threads:
        th.join(30)
    said = re.compile(r"^\[thread-\d+\] 127\.0\.0\.1:\d+ said: c\d+-m\d+$")
    seen = [0]

    def counted(line: str) -> bool:
        seen[0] += bool(said.match(line))
        return seen[0] >= clients * messages

    proc.expect(counted, 30, what=f"{clients * messages} messages")
    proc.interrupt()
    proc.wait()
    known = re.compile(
        r"^(\[thread-\d+\] )?(127\.0\.0\.1:\d+ said: (c\d+-m\d+|Fin)|Connection from 127\.0\.0"
        r"\.1:\d+|Disconnection of 127\.0\.0\.1:\d+ \(\"Fin\" received\)|Server closed "
        r"127\.0\.0\.1:\d+|Server stopped|Server started: .*)$")
    lines = proc.rest()
    bad = [x for x in lines if not known.match(x)]
    assert bad == [], bad[:5]
    got = [x.rsplit(": ", 1)[1] for x in lines if said.match(x)]
    assert sorted(got) == sorted(f"c{i}-m{j}" for i in range(clients) for j in range(messages))


def test_json_lines_are_one_object_per_event(lab: Lab) -> None:
    proc = lab.python("-m", "tcp_observatory.lab.server",
                      "--threaded", "--port", "0", "--json", "--lang", "en")
    first = json.loads(proc.expect(lambda line: line.strip() != "", what="the first event"))
    assert first["kind"] == "listening" and first["address"].startswith("127.0.0.1:")
    port = int(first["address"].rsplit(":", 1)[1])
    with socket.create_connection((LOCALHOST, port), timeout=10) as sock:
        sock.sendall(b"hello [bold]\x1b[2J\nFin\n")
        sock.settimeout(10)
        with contextlib.suppress(OSError):
            sock.recv(10)
    proc.expect(lambda line: '"kind": "closed"' in line, 10, what="the closed event")
    events = [json.loads(x) for x in proc.stdout_lines]
    kinds = [e["kind"] for e in events]
    assert kinds[:2] == ["listening", "accepted"] and "closed" in kinds
    said = [e for e in events if e["kind"] == "message"]
    assert said[0]["text"] == "hello [bold]\x1b[2J"  # as received; "line" is the safe one
    assert "\\e[2J" in said[0]["line"] and "\x1b" not in said[0]["line"]


@pytest.mark.needs("netlink")
async def test_the_server_pane_shows_the_accept_queue_live(tmp_path: Path) -> None:
    from app_support import wait_until

    from tcp_observatory.lab.observe.model import RoleKind
    from tcp_observatory.lab.observe.sources import open_source

    try:
        source = open_source("netlink")
    except (ImportError, OSError) as exc:
        pytest.skip(f"netlink source unavailable: {exc}")
    app = make_app(lab_session(source=source), tmp_path, clients=3, student="T")
    async with app.run_test(size=(140, 44)) as pilot:
        # Single server, backlog 1: one client served, two waiting (the queue holds two).
        await wait_until(pilot, lambda: app.server_pane.queue_text == "accept queue: 2/1",
                         "the queue shown full")
        # The served client leaves: the server accepts the next one, the queue empties by one.
        served = next(r.conn.role.client for r in app.table.rows_by_key.values()
                      if r.conn.role.kind is RoleKind.SERVER)
        assert served is not None
        app.session.remove_client(served)
        await wait_until(pilot, lambda: app.server_pane.queue_text == "accept queue: 1/1",
                         "one fewer waiting")
