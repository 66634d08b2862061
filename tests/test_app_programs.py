"""The window hosting the student's own server and clients (--exec-server, --exec-client)."""
from __future__ import annotations

import atexit
import shutil
import sys
import tempfile
from pathlib import Path

import psutil
import pytest
from app_support import wait_until
from support import free_port, wait_for

from lab.net.program import ProgramLine
from lab.observe.roles import describe_role
from lab.session import Action, ProgramReport, Session
from tui.app import ObservatoryApp

SIZE = (140, 44)
STUDENTS = Path(__file__).parent / "students"
PY = f'"{sys.executable}"'


def make_app(server: str | None, clients: list[str], count: int) -> ObservatoryApp:
    session = Session(host="127.0.0.1", port=free_port(), interval=0.05, source="psutil",
                      exec_server=server, exec_clients=clients, lang="en")
    session.bind()
    folder = Path(tempfile.mkdtemp(prefix="tcpobs-prog-"))
    atexit.register(shutil.rmtree, folder, True)
    return ObservatoryApp(session, lang="en", clients=count, student="Test Student",
                          folder=folder)


def roles(app: ObservatoryApp) -> list[tuple[str, str]]:
    return [(describe_role(r.conn.role, "en"), r.conn.state)
            for r in app.table.rows_by_key.values()]


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
    app = make_app(server, [client], 1)
    async with app.run_test(size=SIZE) as pilot:
        await wait_until(pilot, lambda: ("client 1 (client.py)", "ESTABLISHED") in roles(app),
                         "the student's client row")
        assert any(role.endswith("(serveur_single.py)") and state == "LISTEN"
                   for role, state in roles(app))
        pids = app.session.programs[0].pids() | app.session.programs[1].pids()
        assert len(pids) >= 2
        await wait_until(pilot, lambda: any("Lancement serveur" in x
                                            for x in app.server_pane.lines_text), "server output")
        app.clients_pane.card(1).query_one("Input").focus()  # type: ignore[union-attr]
        await pilot.press("h", "i", "enter")
        await wait_until(pilot, lambda: any(x == "hi" for x in app.server_pane.lines_text),
                         "the server printing the client's line")
        await pilot.press("F", "i", "n", "enter")
        await wait_until(pilot, lambda: ("CLOSE_WAIT" in [s for r, s in roles(app)
                                                          if "serveur_single.py" in r]),
                         "server side CLOSE_WAIT")
        await wait_until(pilot, lambda: any(s == "FIN_WAIT_2" and "client.py" in r
                                            for r, s in roles(app)), "client FIN_WAIT_2")
        card = app.clients_pane.card(1)
        await wait_until(pilot, lambda: card is not None and card.closed, "the client's exit")
        assert card is not None and "ended (status 0)" in card.last
        await pilot.press("ctrl+q")
    assert alive(pids) == []


async def test_missing_and_crashing_programs_keep_the_window() -> None:
    crash = f"{PY} {STUDENTS / 'crash.py'}"
    app = make_app("no-such-serveur-xyz {port}", [crash], 1)
    async with app.run_test(size=SIZE) as pilot:
        await wait_until(pilot, lambda: any("Program not found: no-such-serveur-xyz" in x
                                            for x in app.server_pane.lines_text),
                         "the not-found sentence")
        card = app.clients_pane.card(1)
        await wait_until(pilot, lambda: card is not None and card.closed, "the crash")
        assert card is not None and "stopped as soon as it started" in card.last
        assert app.is_running
        await pilot.press("ctrl+q")


async def test_endless_printer_does_not_stall_the_window() -> None:
    flood = f"{PY} {STUDENTS / 'flood.py'}"
    app = make_app(flood, [], 0)
    async with app.run_test(size=SIZE) as pilot:
        await wait_until(pilot, lambda: any("lines dropped" in x
                                            for x in app.server_pane.lines_text),
                         "the dropped-lines note", timeout=20)
        assert all("\x1b" not in x for x in app.server_pane.lines_text)
        pids = app.session.programs[0].pids()
        await pilot.press("ctrl+q")
    assert alive(pids) == []


async def test_f3_ends_the_students_client() -> None:
    server = f"{PY} {STUDENTS / 'serveur_thread.py'} {{port}}"
    client = f"{PY} {STUDENTS / 'client.py'} {{port}}"
    app = make_app(server, [client], 2)
    async with app.run_test(size=SIZE) as pilot:
        await wait_until(pilot, lambda: ("client 2 (client.py)", "ESTABLISHED") in roles(app),
                         "the second student client")
        pids = app.session.programs[2].pids()
        app.clients_pane.card(2).query_one("Input").focus()  # type: ignore[union-attr]
        await pilot.press("f3")
        await wait_until(pilot, lambda: not alive(pids), "client 2's process to end")
        assert ("client 1 (client.py)", "ESTABLISHED") in roles(app)
        await pilot.press("ctrl+q")


def test_step_setup_starts_the_students_programs_and_sends_nothing() -> None:
    from lab.guide.programs import program_hint
    from lab.guide.setup import run_setup

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
