"""The kernel is the witness, whoever wrote the server (issue 22, point 1).

A message counts as received when the kernel shows its bytes reaching the server's socket
(Linux's sock_diag TCP info), or when the student's server prints it; "threaded" is judged
by behaviour (two clients served at the same time). The strong case is a student's server
that prints nothing at all (tests/students/serveur_muet.py): only the kernel can tell.
Every step, p1-q1 to p2-fin, is done with it hosted (--exec-server) and observed
(--no-server, a server process the test starts), with the student's own clients.

Real sockets on 127.0.0.1, the app driven with Pilot; every wait is a condition with a
deadline, and every process a test starts is ended.
"""

from __future__ import annotations

import shlex
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest
from app_support import make_app, press, wait_until
from support import free_port, lab_session
from textual.pilot import Pilot
from textual.widgets import Input

from tcp_observatory.lab.guide.evidence import Receipt, check_evidence
from tcp_observatory.lab.observe.model import Connection, Endpoint, RoleKind, Snapshot
from tcp_observatory.lab.session import Session
from tcp_observatory.tui.app import ObservatoryApp

SIZE = (160, 48)
STUDENTS = Path(__file__).parent / "students"
PY = shlex.quote(sys.executable)
MUET = f"{PY} {STUDENTS / 'serveur_muet.py'} {{port}}"
MUET_THREAD = f"{MUET} thread"
CLIENT = f"{PY} {STUDENTS / 'client.py'} {{port}}"
PRINTING = f"{PY} {STUDENTS / 'serveur_single.py'} {{port}}"

needs_netlink = pytest.mark.needs("netlink")


@contextmanager
def app_for(session: Session, clients: int) -> Iterator[ObservatoryApp]:
    with tempfile.TemporaryDirectory() as folder:
        yield make_app(session, folder, clients=clients)


def hosted(server: str, source: str = "netlink") -> Session:
    return lab_session(port=free_port(), source=source, exec_server=server,
                       exec_clients=[CLIENT], lang="en")


def lab_rows(app: ObservatoryApp) -> list[Connection]:
    shown = app.views.snapshot
    return [] if shown is None else list(app.scene.only(shown).connections)


def served(app: ObservatoryApp, n: int) -> bool:
    """Client n connected and its server end held by the server (accepted)."""
    rows = lab_rows(app)
    return any(not c.role.server_side and c.role.client == n and c.state == "ESTABLISHED"
               for c in rows) and any(
        c.role.server_side and c.role.kind is RoleKind.SERVER and c.role.client == n
        and c.state == "ESTABLISHED" for c in rows)


def queued(app: ObservatoryApp, n: int) -> Connection | None:
    return next((c for c in lab_rows(app) if c.role.kind is RoleKind.QUEUED
                 and c.role.client == n), None)


def waiting_bytes(app: ObservatoryApp, n: int) -> int:
    """The bytes client n's queued end holds (Recv-Q), 0 if it is not queued."""
    end = queued(app, n)
    return (end.recv_q or 0) if end is not None else 0


async def type_in(pilot: Pilot[Any], app: ObservatoryApp, n: int, text: str) -> None:
    card = app.clients_pane.card(n)
    assert card is not None, f"no card for client {n}"
    field = card.query_one(Input)
    field.focus()
    field.value = text
    await press(pilot, "enter")


def met(app: ObservatoryApp) -> bool:
    return app.guide.evidence is not None and app.guide.evidence.met


def judged_since_scene(app: ObservatoryApp, found: str) -> bool:
    """The step's evidence was judged on a poll made after its scene began, and says
    ``found``: the moment a negative check may be made has come."""
    return (app.views.snapshot is not None and app.views.snapshot.time > app.scene.start
            and app.guide.evidence is not None
            and any(found in f for f in app.guide.evidence.found))


def kernel_saw(app: ObservatoryApp, text: str) -> bool:
    return app.guide.evidence is not None and any(
        f.startswith("Seen by the kernel") and text in f for f in app.guide.evidence.found)


async def at_step(pilot: Pilot[Any], app: ObservatoryApp, step: str,
                  key: str | None = None) -> None:
    if key is None:
        app.select_step(step)
    else:
        await press(pilot, key)
    await wait_until(pilot, lambda: app.step_id == step, f"step {step}")


async def set_up(pilot: Pilot[Any], app: ObservatoryApp, clients: int) -> None:
    """Ctrl+R: the step's scene, with the student's own clients numbered from 1."""
    await press(pilot, "ctrl+r")
    await wait_until(pilot, lambda: [c.number for c in app.clients_pane.cards()
                                     if not c.closed] == list(range(1, clients + 1))
                     and all(any(not r.role.server_side and r.role.client == n
                                 and r.state == "ESTABLISHED" for r in lab_rows(app))
                             for n in range(1, clients + 1)),
                     f"the scene's {clients} clients connected", timeout=20)


# -- the app with a student's server that prints nothing ------------------------------------


async def do_part_1(pilot: Pilot[Any], app: ObservatoryApp) -> None:
    """p1-q1, p1-q2 and p1-q3 with a single server that prints nothing."""
    await at_step(pilot, app, "p1-q1")
    await wait_until(pilot, lambda: served(app, 1), "client 1 served")
    await type_in(pilot, app, 1, "Bonjour")
    await wait_until(pilot, lambda: met(app), "p1-q1 met by the kernel's bytes")
    assert app.scene.messages == []  # the server said nothing: the kernel alone saw it
    assert kernel_saw(app, "7 bytes received by the server's end of client 1's connection")
    # The table's row got the new count, without a change of state.
    assert [r.conn.bytes_received for r in app.table.rows_by_key.values()
            if r.conn.role.kind is RoleKind.SERVER and r.gone_at is None] == [7]

    await at_step(pilot, app, "p1-q2", "ctrl+n")
    await type_in(pilot, app, 1, "Fin")
    await wait_until(pilot, lambda: met(app), "p1-q2 met: CLOSE_WAIT / FIN_WAIT_2 after Fin")
    assert app.guide.evidence is not None
    assert '"Fin" received by the server' in app.guide.evidence.found

    await at_step(pilot, app, "p1-q3", "ctrl+n")
    await set_up(pilot, app, 2)
    # The single server serves one of them, the other waits in its accept queue (which
    # one connected first is the session's starter's business, not this test's).
    await wait_until(pilot, lambda: any(served(app, n) and queued(app, 3 - n) is not None
                                        for n in (1, 2)),
                     "one client served, the other in the accept queue")
    waiting = 2 if queued(app, 2) is not None else 1
    await type_in(pilot, app, 1, "Bonjour du client 1")
    await type_in(pilot, app, 2, "Bonjour du client 2")
    await wait_until(pilot, lambda: met(app), "p1-q3 met")
    assert app.guide.evidence is not None
    assert f"Nothing was received from the waiting client ({waiting})" in app.guide.evidence.found
    assert kernel_saw(app, f"client {3 - waiting}'s connection")


async def do_part_2(pilot: Pilot[Any], app: ObservatoryApp) -> None:
    """p2-q1 and p2-fin with a threaded server that prints nothing."""
    await at_step(pilot, app, "p2-q1")
    await set_up(pilot, app, 2)
    await wait_until(pilot, lambda: served(app, 1) and served(app, 2), "both clients served")
    await type_in(pilot, app, 1, "un")
    await type_in(pilot, app, 2, "deux")
    await wait_until(pilot, lambda: met(app), "p2-q1 met: two served, two senders")
    assert app.guide.evidence is not None
    assert "The server must be in threaded mode" not in app.guide.evidence.missing
    assert any(f.startswith("A server the app did not start: its mode is judged by its "
                            "behaviour") for f in app.guide.evidence.found)
    assert "Messages received from 2 different clients" in app.guide.evidence.found

    await at_step(pilot, app, "p2-fin", "ctrl+n")
    await type_in(pilot, app, 1, "Fin")
    await wait_until(pilot, lambda: met(app), "p2-fin met: the client's end in TIME_WAIT")
    assert app.guide.evidence is not None
    assert kernel_saw(app, "client 1's FIN")


@needs_netlink
async def test_part_1_with_a_hosted_server_that_prints_nothing() -> None:
    with app_for(hosted(MUET), clients=1) as app:
        async with app.run_test(size=SIZE) as pilot:
            await do_part_1(pilot, app)
            await press(pilot, "ctrl+q")


@needs_netlink
async def test_part_2_with_a_hosted_threaded_server_that_prints_nothing() -> None:
    with app_for(hosted(MUET_THREAD), clients=0) as app:
        async with app.run_test(size=SIZE) as pilot:
            await do_part_2(pilot, app)
            await press(pilot, "ctrl+q")


@contextmanager
def server_process(port: int, *args: str) -> Iterator[subprocess.Popen[bytes]]:
    proc = subprocess.Popen([sys.executable, str(STUDENTS / "serveur_muet.py"), str(port),
                             *args], stdin=subprocess.DEVNULL)
    try:
        yield proc
    finally:
        proc.kill()
        proc.wait(timeout=10)


def listening_pid(app: ObservatoryApp) -> int | None:
    return next((c.pid for c in lab_rows(app) if c.role.kind is RoleKind.LISTENER), None)


@needs_netlink
async def test_every_step_with_a_server_observed_with_no_server() -> None:
    """--no-server: the student's server runs apart from the app (here a process the test
    starts), the single one for part 1, then the threaded one for part 2."""
    port = free_port()
    session = lab_session(port=port, source="netlink", with_server=False,
                          exec_clients=[CLIENT], lang="en")
    with server_process(port) as single, app_for(session, clients=0) as app:
        async with app.run_test(size=SIZE) as pilot:
            await wait_until(pilot, lambda: listening_pid(app) == single.pid,
                             "the student's single server listening")
            await at_step(pilot, app, "p1-q1")
            await set_up(pilot, app, 1)
            await do_part_1(pilot, app)
            single.kill()
            single.wait(timeout=10)
            with server_process(port, "thread") as threaded:
                await wait_until(pilot, lambda: listening_pid(app) == threaded.pid,
                                 "the student's threaded server listening")
                await do_part_2(pilot, app)
                await press(pilot, "ctrl+q")


@needs_netlink
async def test_a_single_server_is_not_judged_threaded() -> None:
    """The same silent single server at p2-q1: client 1 is served and its message reaches
    it, client 2 waits in the accept queue, its bytes in the queue: not threaded."""
    with app_for(hosted(MUET), clients=2) as app:
        async with app.run_test(size=SIZE) as pilot:
            await at_step(pilot, app, "p2-q1")
            await wait_until(pilot, lambda: served(app, 1) and queued(app, 2) is not None,
                             "client 1 served, client 2 queued")
            await type_in(pilot, app, 1, "un")
            await type_in(pilot, app, 2, "deux")
            await wait_until(pilot, lambda: kernel_saw(app, "client 1's connection")
                             and waiting_bytes(app, 2) > 0,
                             "client 1's bytes received, client 2's waiting in the queue")
            assert app.guide.evidence is not None and not app.guide.evidence.met
            assert ("Two served ESTABLISHED connections are needed on the server's end "
                    "(seen: 1)") in app.guide.evidence.missing
            assert not kernel_saw(app, "client 2's connection")
            await press(pilot, "ctrl+q")


@needs_netlink
async def test_bytes_of_an_earlier_step_do_not_meet_the_next() -> None:
    """p1-q1 met by the kernel's bytes; back to p1-q1 from p1-q2 (a new scene, the same
    connection): the 7 bytes received before do not count; a new message does."""
    with app_for(hosted(MUET), clients=1) as app:
        async with app.run_test(size=SIZE) as pilot:
            await at_step(pilot, app, "p1-q1")
            await wait_until(pilot, lambda: served(app, 1), "client 1 served")
            await type_in(pilot, app, 1, "Bonjour")
            await wait_until(pilot, lambda: met(app), "p1-q1 met")
            await at_step(pilot, app, "p1-q2", "ctrl+n")
            await at_step(pilot, app, "p1-q1", "ctrl+b")
            await wait_until(pilot, lambda: judged_since_scene(app, "ESTABLISHED on both ends"),
                             "p1-q1 judged again on the same connection")
            server_end = next(c for c in lab_rows(app) if c.role.kind is RoleKind.SERVER)
            assert server_end.bytes_received == 7  # the kernel still holds them ...
            # ... not this step's
            assert app.guide.evidence is not None and not app.guide.evidence.met
            assert "No message received by the server during the step" in app.guide.evidence.missing
            await type_in(pilot, app, 1, "encore")
            await wait_until(pilot, lambda: met(app), "p1-q1 met by the new message")
            assert kernel_saw(app, "6 bytes received")
            await press(pilot, "ctrl+q")


async def test_without_byte_counts_a_printed_line_counts_and_the_step_says_so() -> None:
    """psutil gives no byte counts (nor do macOS and Windows): the step says what it
    accepts instead, and the student's server printing the message meets it."""
    with app_for(hosted(PRINTING, source="psutil"), clients=1) as app:
        async with app.run_test(size=SIZE) as pilot:
            await at_step(pilot, app, "p1-q1")
            await wait_until(pilot, lambda: served(app, 1), "client 1 served")
            await wait_until(pilot, lambda: judged_since_scene(app, "ESTABLISHED on both ends"),
                             "p1-q1 judged with client 1 served")
            assert app.guide.evidence is not None
            assert any("this system gives no byte counts per socket: a message counts when "
                       "the built-in server receives it, or when your server prints it" in m
                       for m in app.guide.evidence.missing)
            await type_in(pilot, app, 1, "Bonjour")
            await wait_until(pilot, lambda: met(app), "p1-q1 met by the printed line")
            assert app.scene.messages == [(1, "Bonjour")]
            await press(pilot, "ctrl+q")


# -- the pieces ----------------------------------------------------------------------------


def test_a_receipt_holds_the_typed_lines_its_bytes_cover() -> None:
    typed = ("Bonjour", "ça va", "Fin")
    assert Receipt(1, "p", 6, typed=typed).messages() == []  # "Bonjour" needs 7
    assert Receipt(1, "p", 12, typed=typed).messages() == [(1, "Bonjour"), (1, "ça va")]
    assert Receipt(1, "p", 15, typed=typed).messages() == [(1, t) for t in typed]
    assert Receipt(1, "p", None, fin_acked=True, typed=typed).messages() == [
        (1, t) for t in typed]
    assert Receipt(None, "p", 3).messages() == [(None, "")]  # nobody typed: text unknown
    assert Receipt(1, "p", 0, typed=typed).messages() == []


def test_the_servers_report_and_the_kernels_bytes_count_once() -> None:
    """A message the built-in server reported and the kernel counted is one message."""
    rows: list[Connection] = []
    both = check_evidence("p2-q1", rows, [(1, "un")], "threaded", port=1, lang="en",
                          receipts=[Receipt(1, "a", 2, typed=("un",)),
                                    Receipt(2, "b", 4, typed=("deux",))])
    assert "Messages received from 2 different clients" in both.found
    assert sum("Seen by the kernel" in f for f in both.found) == 1  # only client 2's


def test_the_record_keeps_the_kernels_receipts_under_its_seal(tmp_path: Path) -> None:
    """verify reaches the app's verdict from the stored receipts; editing them breaks the
    seal."""
    from tcp_observatory.lab.grading.manifest import load_manifest, save_screenshot
    from tcp_observatory.lab.grading.record import evidence_of_entry, seal_for, seal_of_entry
    from tcp_observatory.lab.observe.model import Role

    lab, peer = Endpoint("127.0.0.1", 9500), Endpoint("127.0.0.1", 40000)
    rows = (
        Connection(lab, None, "LISTEN", role=Role(RoleKind.LISTENER), bytes_received=0),
        Connection(lab, peer, "ESTABLISHED", pid=7, role=Role(RoleKind.SERVER, client=1,
                   server_side=True), bytes_received=7),
        Connection(peer, lab, "ESTABLISHED", pid=8, role=Role(RoleKind.CLIENT, client=1)),
    )
    snapshot = Snapshot(1.0, rows, "netlink")
    receipts = [Receipt(1, str(peer), 7, typed=("Bonjour",))]
    seal = seal_for("p1-q1", snapshot, [], "unknown", 9500, receipts=receipts)
    saved = save_screenshot(tmp_path, "p1-q1", f"<svg>{seal}</svg>", snapshot=snapshot,
                            student="Ana", host="h", version="1", mode="unknown", port=9500,
                            receipts=receipts, lang="en")
    assert saved.evidence.met
    entry = load_manifest(tmp_path)["screenshots"][0]
    assert entry["seal"] == seal == seal_of_entry(entry)
    assert evidence_of_entry(entry, "en").met
    entry["kernel"][0]["received"] = 700
    assert seal_of_entry(entry) != seal
    del entry["kernel"]
    assert not evidence_of_entry(entry, "en").met
