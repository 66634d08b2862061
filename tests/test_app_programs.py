"""The window hosting the student's own server and clients (--exec-server, --exec-client)."""
from __future__ import annotations

import asyncio
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Any

import psutil
import pytest
from app_support import make_app, press, wait_until
from support import LOCALHOST, free_port, lab_session, ss_agrees, ss_rows, wait_for
from textual.pilot import Pilot
from textual.widgets import Input, Static

from tcp_observatory.lab.guide.setup import SETUP_TIMEOUT
from tcp_observatory.lab.i18n import t
from tcp_observatory.lab.net.program import ProgramLine
from tcp_observatory.lab.observe.model import Endpoint
from tcp_observatory.lab.observe.roles import describe_role
from tcp_observatory.lab.session import Action, ProgramReport, Session
from tcp_observatory.tui import app as app_module
from tcp_observatory.tui.app import ObservatoryApp
from tcp_observatory.tui.widgets.clients import CARD_LINES, ClientCard
from tcp_observatory.tui.widgets.pane_log import PaneLog

SIZE = (140, 44)
STUDENTS = Path(__file__).parent / "students"
PY = f'"{sys.executable}"'


def programs_app(server: str | None, clients: list[str], count: int, *,
                 source: str = "psutil") -> ObservatoryApp:
    """The app running the commands ``server`` and ``clients`` (``{port}``: the lab port's
    number) instead of its own, with ``count`` clients at start."""
    return make_app(lab_session(port=free_port(), source=source, exec_server=server,
                                exec_clients=clients, lang="en"),
                    clients=count, auto_capture=True)


def roles(app: ObservatoryApp) -> list[tuple[str, str]]:
    return [(describe_role(r.conn.role, "en"), r.conn.state)
            for r in app.table.rows_by_key.values()]


def rows(app: ObservatoryApp) -> list[tuple[str, str, int | None]]:
    return [(describe_role(r.conn.role, "en"), r.conn.state, r.conn.pid)
            for r in app.table.rows_by_key.values()]


async def card_of(pilot: Pilot[Any], app: ObservatoryApp, number: int) -> ClientCard:
    await wait_until(pilot, lambda: app.clients_pane.card(number) is not None,
                     f"client {number}'s card")
    card = app.clients_pane.card(number)
    assert card is not None
    return card


def printed(card: ClientCard, start: str) -> str | None:
    """The first line of the card's log that starts with ``start``."""
    return next((x for x in card.lines_text if x.startswith(start)), None)


def alive(pids: set[int]) -> list[int]:
    out = []
    for pid in pids:
        try:
            if psutil.Process(pid).status() != psutil.STATUS_ZOMBIE:
                out.append(pid)
        except psutil.NoSuchProcess:
            pass
    return out


@pytest.mark.needs("system-sockets")
async def test_students_server_and_client_in_the_window() -> None:
    server = f"{PY} {STUDENTS / 'serveur_single.py'} {{port}}"
    client = f"{PY} {STUDENTS / 'client.py'} {{port}}"
    app = programs_app(server, [client], 1)
    async with app.run_test(size=SIZE) as pilot:
        await wait_until(pilot, lambda: ("client 1 (client.py)", "ESTABLISHED") in roles(app),
                         "the student's client row")
        assert any(role.endswith("(serveur_single.py)") and state == "LISTEN"
                   for role, state in roles(app))
        pids = app.session.programs[0].pids() | app.session.programs[1].pids()
        assert len(pids) >= 2
        await wait_until(pilot, lambda: any("Lancement serveur" in x
                                            for x in app.server_pane.lines_text), "server output")
        card = app.clients_pane.card(1)
        assert card is not None
        card.query_one(Input).focus()
        await press(pilot, "h", "i", "enter")
        await wait_until(pilot, lambda: any(x == "hi" for x in app.server_pane.lines_text),
                         "the server printing the client's line")
        await press(pilot, "F", "i", "n", "enter")
        await wait_until(pilot, lambda: ("CLOSE_WAIT" in [s for r, s in roles(app)
                                                          if "serveur_single.py" in r]),
                         "server side CLOSE_WAIT")
        await wait_until(pilot, lambda: any(s == "FIN_WAIT_2" and "client.py" in r
                                            for r, s in roles(app)), "client FIN_WAIT_2")
        card = app.clients_pane.card(1)
        await wait_until(pilot, lambda: card is not None and card.closed, "the client's exit")
        assert card is not None and "ended (status 0)" in card.last
        await press(pilot, "ctrl+q")
    assert alive(pids) == []


async def test_missing_and_crashing_programs_keep_the_window() -> None:
    crash = f"{PY} {STUDENTS / 'crash.py'}"
    app = programs_app("no-such-serveur-xyz {port}", [crash], 1)
    async with app.run_test(size=SIZE) as pilot:
        await wait_until(pilot, lambda: any("Program not found: no-such-serveur-xyz" in x
                                            for x in app.server_pane.lines_text),
                         "the not-found sentence")
        # No server listens: the client is not started to be refused, it waits.
        card = await card_of(pilot, app, 1)
        port = app.session.port
        await wait_until(pilot, lambda: card.last == f"waiting for a server on port {port}…",
                         "the client waiting for a server")
        assert 1 not in app.session.programs
        assert app.is_running
        await press(pilot, "ctrl+q")


async def test_a_program_that_stops_at_once_leaves_its_error_on_screen() -> None:
    """The error it printed stays in its card's log, above the sentence about its exit."""
    app = programs_app(None, [f"{PY} {STUDENTS / 'crash.py'}"], 1)
    async with app.run_test(size=SIZE) as pilot:
        card = await card_of(pilot, app, 1)
        await wait_until(pilot, lambda: card.closed, "the crash")
        assert "stopped as soon as it started" in card.last
        error = printed(card, "Traceback: NameError")
        assert error is not None
        assert card.lines_text.index(error) < len(card.lines_text) - 1  # the exit came after
        assert card.query_one(PaneLog).display
        await press(pilot, "ctrl+q")


async def test_a_flood_keeps_the_card_bounded_and_says_what_it_dropped() -> None:
    flood = f"{PY} {STUDENTS / 'flood.py'}"
    app = programs_app(None, [flood], 1)
    async with app.run_test(size=SIZE) as pilot:
        card = await card_of(pilot, app, 1)
        await wait_until(pilot, lambda: card.dropped > 0, "lines to leave the card's log",
                         timeout=30)
        note = card.query_one(".pane-dropped", Static)
        assert note.display
        assert str(note.content) == t("pane.dropped", "en", n=card.dropped, max=CARD_LINES)
        assert "earlier line" in str(note.content)
        log = card.query_one(PaneLog)
        assert len(log.lines) <= CARD_LINES
        assert len(card.lines_text) <= CARD_LINES
        assert all("\x1b" not in x for x in card.lines_text)
        # What is kept is every line, in order: the flood was held back, not thinned out.
        numbers = [int(x.split()[1]) for x in card.lines_text if x.startswith("line ")]
        assert numbers == list(range(numbers[0], numbers[0] + len(numbers)))
        pids = app.session.programs[1].pids()
        await press(pilot, "ctrl+q")
    assert alive(pids) == []


@pytest.mark.needs("cc", "system-sockets")
async def test_a_c_clients_printf_shows_while_it_runs(tmp_path: Path) -> None:
    """Its stdout is a terminal: C's stdio writes each line at once (on a pipe, it kept them
    until the program exited, under an ESTABLISHED title still saying "connecting…")."""
    program = tmp_path / "client"
    subprocess.run(["cc", "-o", str(program), str(STUDENTS / "client.c")], check=True,
                   timeout=120)
    app = programs_app(None, [f'"{program}" {{port}}'], 1)
    async with app.run_test(size=SIZE) as pilot:
        card = await card_of(pilot, app, 1)
        await wait_until(pilot, lambda: ("client 1 (client)", "ESTABLISHED") in roles(app),
                         "the C client's connection")
        # connect() has returned; printf comes next: on screen within a second.
        await wait_until(pilot, lambda: printed(card, "Connecte depuis"), "its printf",
                         timeout=1.0)
        assert card.kernel_state == "ESTABLISHED" and "connecting" not in card.last
        card.query_one("Input").focus()
        await press(pilot, "B", "o", "n", "j", "o", "u", "r", "enter")
        await wait_until(pilot, lambda: any(x.endswith("› Bonjour")
                                            for x in app.server_pane.lines_text),
                         "the server receiving the C client's line")
        pids = app.session.programs[1].pids()
        await press(pilot, "ctrl+q")
    assert alive(pids) == []


async def test_a_client_that_never_reads_does_not_freeze_the_window() -> None:
    """200 KB typed for a client that never reads: the window keeps answering its keys, the
    card says the program does not read and refuses lines past 64 KiB (the line stays in
    the field), and the app quits at once."""
    app = programs_app(None, [f"{PY} {STUDENTS / 'sourd.py'} 60"], 1)
    async with app.run_test(size=SIZE) as pilot:
        card = await card_of(pilot, app, 1)
        await wait_until(pilot, lambda: printed(card, "Je ne lis jamais"), "its first line")
        pids = app.session.programs[1].pids()
        field = card.query_one(Input)
        field.focus()
        chunk = "x" * 10_000
        loop = asyncio.get_running_loop()
        typing = loop.time()
        for _ in range(20):
            field.value = chunk
            await press(pilot, "enter")
        await press(pilot, "f7")  # a key of the app's: pause
        await wait_until(pilot, lambda: app.recorder.paused, "the pause key to act")
        # A deadline, not a measure: a window blocked in a write stayed blocked until the
        # program ended (60 s).
        assert loop.time() - typing < 20, "the window stopped answering while typing"
        await wait_until(pilot, lambda: any("is not reading its input" in x
                                            for x in card.lines_text), "the stall said")
        assert any(x.startswith("Line not sent: sourd.py is not reading its input")
                   for x in card.lines_text)
        assert field.value == chunk
        await press(pilot, "f7")
        quitting = time.monotonic()
        await press(pilot, "ctrl+q")
    assert time.monotonic() - quitting < 15, "the app took too long to quit"
    wait_for(lambda: alive(pids) == [], timeout=5, message="the program to end")


@pytest.mark.needs("netlink")
async def test_a_descendant_that_left_the_session_is_named_and_ended_at_quit() -> None:
    """The client forks twice (setsid) and exits; the grandchild holds the connection. Its
    row names the grandchild (not the dead parent), and quitting ends it."""
    app = programs_app(None, [f"{PY} {STUDENTS / 'fork_client.py'} {{port}}"], 1,
                   source="netlink")
    async with app.run_test(size=SIZE) as pilot:
        card = await card_of(pilot, app, 1)
        await wait_until(pilot, lambda: printed(card, "Connecte depuis"), "the connection")
        parent = app.session.programs[1].pid
        await wait_until(pilot, lambda: ("client 1 (fork_client.py)", "ESTABLISHED", parent)
                         in rows(app), "the client's row, owned by the program")
        card.query_one("Input").focus()
        await press(pilot, "g", "o", "enter")
        await wait_until(pilot, lambda: printed(card, "petit-fils"), "the grandchild's pid")
        line = printed(card, "petit-fils")
        assert line is not None
        grandchild = int(line.split()[1])
        await wait_until(pilot, lambda: card.closed, "the program's own exit")
        await wait_until(pilot, lambda: ("client 1 (fork_client.py)", "ESTABLISHED", grandchild)
                         in rows(app), "the row naming the grandchild")
        await press(pilot, "ctrl+q")
    wait_for(lambda: alive({grandchild}) == [], timeout=5, message="the grandchild to end")


@pytest.mark.needs("system-sockets")
async def test_a_client_program_starts_once_the_students_server_listens() -> None:
    """The student's server listens late (a JVM): the client program is not started to be
    refused; its card says it waits, and it starts and connects once the server listens."""
    server = f"{PY} {STUDENTS / 'serveur_lent.py'} {{port}}"
    client = f"{PY} {STUDENTS / 'client.py'} {{port}}"
    app = programs_app(server, [client], 1)
    port = app.session.port
    async with app.run_test(size=SIZE) as pilot:
        card = await card_of(pilot, app, 1)
        await wait_until(pilot, lambda: card.last == f"waiting for a server on port {port}…",
                         "the client waiting")
        assert any(x.startswith(f"Waiting for a server on port {port}: client.py starts")
                   for x in card.lines_text)
        assert 1 not in app.session.programs
        assert app.session.programs[0].send_line("")  # the server now listens
        await wait_until(pilot, lambda: ("client 1 (client.py)", "ESTABLISHED") in roles(app),
                         "the client program connected")
        # Its line comes after connect() returned, in the next batch of lines (0.1 s): the
        # kernel may show the connection first.
        await wait_until(pilot, lambda: printed(card, "Connecte depuis"), "its 'Connecte' line")
        line = printed(card, "Connecte depuis")
        assert line is not None
        ss_agrees(port, Endpoint(LOCALHOST, int(line.split()[-1])), Endpoint(LOCALHOST, port),
                  "ESTABLISHED")
        await press(pilot, "ctrl+q")


async def test_f3_ends_the_students_client() -> None:
    server = f"{PY} {STUDENTS / 'serveur_thread.py'} {{port}}"
    client = f"{PY} {STUDENTS / 'client.py'} {{port}}"
    app = programs_app(server, [client], 2)
    async with app.run_test(size=SIZE) as pilot:
        await wait_until(pilot, lambda: ("client 2 (client.py)", "ESTABLISHED") in roles(app),
                         "the second student client")
        pids = app.session.programs[2].pids()
        card = app.clients_pane.card(2)
        assert card is not None
        card.query_one(Input).focus()
        await press(pilot, "f3")
        await wait_until(pilot, lambda: not alive(pids), "client 2's process to end")
        assert ("client 1 (client.py)", "ESTABLISHED") in roles(app)
        await press(pilot, "ctrl+q")


def test_step_setup_starts_the_students_programs_and_sends_nothing() -> None:
    from tcp_observatory.lab.guide.programs import program_hint
    from tcp_observatory.lab.guide.setup import run_setup

    server = f"{PY} {STUDENTS / 'serveur_single.py'} {{port}}"
    client = f"{PY} {STUDENTS / 'client.py'} {{port}}"
    reports: list[object] = []
    session = Session(host="127.0.0.1", port=free_port(), interval=0.05, source="psutil",
                      exec_server=server, exec_clients=[client], lang="en",
                      sink=reports.append)
    try:
        session.start(clients=0)
        numbers = run_setup(session, "p1-q3", lang="en")  # two clients on the single server
        assert numbers == [1, 2]
        assert set(session.programs) == {0, 1, 2}
        assert all(p.running for p in session.programs.values())
        # in the step's order: the single server accepted client 1, client 2 waits in its queue
        ports = {n: ep.port for ep, n in session.registry.copy()[0].items()}
        accepted = wait_for(lambda: [r.event.text for r in list(reports)
                                     if isinstance(r, ProgramReport) and r.who == 0
                                     and isinstance(r.event, ProgramLine)
                                     and r.event.text.startswith("Connexion")])
        assert str(ports[1]) in accepted[0]
        # nothing was typed for the student
        assert not [r for r in reports if isinstance(r, Action) and r.kind in ("send", "fin")]
        hint = program_hint("p2-fin", session, "en")
        assert hint is not None and "threaded server" in hint
        assert "un seul client" in (program_hint("p1-q1", session, "fr") or "")
        assert "single-client server" in (program_hint("p1-q1", session, "en") or "")
        pids = set().union(*(p.pids() for p in session.programs.values()))
    finally:
        session.shutdown()
    assert alive(pids) == []


@pytest.mark.needs("system-sockets")
async def test_ctrl_r_starts_the_students_server_afresh_in_the_steps_mode() -> None:
    """Ctrl+R with the student's programs: the step says "a fresh server", so their server
    runs afresh (a new pid; the CLOSE_WAIT the old run never closed goes with it), and for
    a threaded step their threaded server (--exec-threaded-server) runs; the new client 1
    starts with a blank card, never the old one's exit."""
    single = f"{PY} {STUDENTS / 'serveur_single.py'} {{port}}"
    threaded = f"{PY} {STUDENTS / 'serveur_thread.py'} {{port}}"
    session = lab_session(port=free_port(), exec_server=single, exec_threaded_server=threaded,
                          exec_clients=[f"{PY} {STUDENTS / 'client.py'} {{port}}"], lang="en")
    app = make_app(session, clients=1)
    port = session.port

    def server_pid() -> int | None:
        program = session.programs.get(0)
        return program.pid if program is not None and program.running else None

    def lab_states() -> list[tuple[str, str]]:
        return sorted((describe_role(r.conn.role, "en"), r.conn.state)
                      for r in app.table.rows_by_key.values()
                      if r.gone_at is None and r.conn.local.port == port
                      and r.conn.remote is not None)

    async with app.run_test(size=SIZE) as pilot:
        app.select_step("p1-q2")
        card = await card_of(pilot, app, 1)
        await wait_until(pilot, lambda: card.kernel_state == "ESTABLISHED", "client 1 up")
        first = server_pid()
        assert first is not None
        app.session.send(1, "Fin")
        await wait_until(pilot, lambda: ("server ↔ client 1 (serveur_single.py)", "CLOSE_WAIT")
                         in lab_states(), "the old run's CLOSE_WAIT")
        await press(pilot, "ctrl+r")
        await wait_until(pilot, lambda: server_pid() not in (None, first), "a fresh server")
        # the old run's CLOSE_WAIT is gone with it (the kernel holds none on the port)
        wait_for(lambda: not [r for r in (ss_rows(port) or set()) if r[2] == "CLOSE_WAIT"],
                 10, message="no CLOSE_WAIT left in ss")
        new_card = await card_of(pilot, app, 1)
        await wait_until(pilot, lambda: new_card.kernel_state == "ESTABLISHED"
                         and new_card is not card, "the step's new client 1")
        assert "ended" not in new_card.last and not new_card.closed
        # a threaded step: their threaded server
        app.select_step("p2-q1")
        before = server_pid()
        await press(pilot, "ctrl+r")
        await wait_until(pilot, lambda: server_pid() not in (None, before)
                         and session.mode == "threaded", "the threaded server")
        # it listens: the port was left free for a server without SO_REUSEADDR
        await wait_until(pilot, lambda: ("server (listening) (serveur_thread.py)", "LISTEN")
                         in roles(app), "the threaded server listening")
        program = session.programs[0]
        assert "serveur_thread.py" in program.command


@pytest.mark.needs("jdk", "netlink")
@pytest.mark.timeout(180)
async def test_the_guided_steps_with_a_java_server_and_client(tmp_path: Path) -> None:
    """Part 1 with the student's own Java programs (the handout's netstat -nb shows a
    java.exe client): p1-q1 met by the message the Java server received, p1-q2 by its
    CLOSE_WAIT and the Java client's orphaned FIN_WAIT_2; the rows name java."""
    students = tmp_path / "classes"
    subprocess.run(["javac", "-d", str(students), str(STUDENTS / "Serveur.java"),
                    str(STUDENTS / "Client.java")], check=True, timeout=120)
    app = programs_app(f'java -cp "{students}" Serveur {{port}}',
                   [f'java -cp "{students}" Client {{port}}'], 1, source="auto")
    async with app.run_test(size=SIZE) as pilot:
        app.select_step("p1-q1")
        card = await card_of(pilot, app, 1)
        await wait_until(pilot, lambda: card.kernel_state == "ESTABLISHED"
                         and printed(card, "Connecte depuis"), "the Java client connected",
                         timeout=30)
        assert ("client 1 (java)", "ESTABLISHED") in roles(app)
        card.query_one("Input").focus()
        await press(pilot, "B", "o", "n", "j", "o", "u", "r", "enter")
        await wait_until(pilot, lambda: app.guide.evidence is not None and app.guide.evidence.met,
                         "p1-q1 met with the Java server", timeout=20)
        app.select_step("p1-q2")
        await press(pilot, "F", "i", "n", "enter")
        await wait_until(pilot, lambda: app.guide.evidence is not None and app.guide.evidence.met,
                         "p1-q2 met: CLOSE_WAIT and FIN_WAIT_2", timeout=20)
        states = {state for _, state in roles(app)}
        assert {"CLOSE_WAIT", "FIN_WAIT_2"} <= states
        pids = {p for n, prog in app.session.programs.items() for p in prog.pids()}
        await press(pilot, "ctrl+q")
    assert alive(pids) == []


async def test_quitting_during_a_setup_ends_its_wait(monkeypatch: pytest.MonkeyPatch) -> None:
    """Ctrl+Q while Ctrl+R still waits for the student's server to listen: the setup gives
    up with the window (it waited out its 10 s before, keeping the process alive after the
    window closed)."""
    never_listens = f'{PY} -c "import time; time.sleep(60)"'
    app = programs_app(never_listens, [], 0)
    began, ended = threading.Event(), threading.Event()
    real = app_module.run_setup

    def recorded(*args: Any, **kwargs: Any) -> list[int]:
        began.set()
        try:
            return real(*args, **kwargs)
        finally:
            ended.set()

    monkeypatch.setattr(app_module, "run_setup", recorded)
    async with app.run_test(size=SIZE) as pilot:
        app.select_step("p1-q2")
        await press(pilot, "ctrl+r")
        await wait_until(pilot, began.is_set, "the setup to begin")
        assert not ended.is_set()  # it waits for a server that never listens
        await press(pilot, "ctrl+q")
    assert await asyncio.to_thread(ended.wait, SETUP_TIMEOUT / 2), \
        "the setup still waited after the window closed"
