"""What goes wrong on day one: a port already taken, the server stopped under its clients,
an OS that refuses the connection list, a terminal shrunk to almost nothing, a server
reachable from the whole network."""

from __future__ import annotations

import socket
from pathlib import Path
from typing import Any

import psutil
import pytest
from app_support import drawn, make_app, press, wait_until
from support import LOCALHOST, Lab, lab_session, single_line, wait_for

from tcp_observatory.lab.i18n import t
from tcp_observatory.lab.net.server import LabServer
from tcp_observatory.lab.observe.model import Endpoint
from tcp_observatory.lab.observe.sources import PsutilSource
from tcp_observatory.lab.session import Session
from tcp_observatory.tui.app import ObservatoryApp
from tcp_observatory.tui.cli import build_parser

NO_TRACEBACK = "Traceback"






def client_states(app: ObservatoryApp, number: int) -> list[str]:
    return app.table.state_of(lambda c: c.role.client == number and not c.role.server_side
                              and c.local.port != app.session.port)


def listening(pid: int, port: int) -> list[str]:
    """The local addresses of a process's LISTEN sockets on ``port``."""
    return [c.laddr.ip for c in psutil.Process(pid).net_connections(kind="tcp")
            if c.status == psutil.CONN_LISTEN and c.laddr.port == port]


class Notes:
    """Records what the app notifies, on top of showing it."""

    def __init__(self, app: ObservatoryApp) -> None:
        self.messages: list[str] = []
        self._notify = app.notify

        def notify(message: str, **kw: Any) -> None:
            self.messages.append(str(message))
            self._notify(message, **kw)

        app.notify = notify  # type: ignore[method-assign]


# -- the port is already taken -----------------------------------------------------------------


def test_app_on_a_taken_port_says_so_in_one_sentence(lab: Lab) -> None:
    taken = lab.server("single")
    proc = lab.python("-m", "tcp_observatory.tui", "--port", str(taken.port), "--lang", "en")
    code = proc.wait(20)
    assert code != 0
    line = single_line(proc.stderr_lines)
    assert str(taken.port) in line and "already in use" in line
    assert NO_TRACEBACK not in proc.stderr_text
    assert taken.running  # the server already there is untouched


async def test_app_restarting_its_server_on_a_port_taken_meanwhile(tmp_path: Path) -> None:
    app = make_app(lab_session("threaded", source="auto"), tmp_path, clients=1)
    notes = Notes(app)
    intruder = socket.socket()
    try:
        async with app.run_test(size=(140, 44)) as pilot:
            port = app.session.port
            await wait_until(pilot, lambda: client_states(app, 1) == ["ESTABLISHED"], "connected")
            await press(pilot, "f8")
            await wait_until(pilot, lambda: not app.session.server_running, "the server stopped")
            intruder.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            intruder.bind((LOCALHOST, port))
            intruder.listen(1)
            await press(pilot, "f8")
            await wait_until(pilot, lambda: any("already in use" in m for m in notes.messages),
                             "a notification that the port is taken")
            assert not app.session.server_running and app.is_running
            intruder.close()
            await press(pilot, "f8")
            await wait_until(pilot, lambda: app.session.server_running, "the server restarted")
            await press(pilot, "ctrl+q")
    finally:
        intruder.close()


# -- the server stops under its clients --------------------------------------------------------


@pytest.mark.parametrize("mode", ["single", "threaded"])
def test_stopping_the_server_tells_every_connected_client(lab: Lab, mode: str) -> None:
    server = lab.server(mode)
    port = server.port
    clients = [lab.client(port) for _ in range(3)]
    lab.server_events.wait("accepted", peer=clients[0].local)
    clients[0].send("before the stop")
    lab.server_events.wait_message("before the stop", peer=clients[0].local)
    if mode == "threaded":
        for c in clients:
            lab.server_events.wait("accepted", peer=c.local)
    # single: clients 2 and 3 wait in the accept queue; the listener's close resets them,
    # and a reset is told as one (not as an orderly close).
    address = server.address
    server.stop()
    assert lab.server_events.events[-1].kind == "stopped"
    # Still said where it listened: the app's labels read it while a step's setup, on
    # another thread, stops the server (the closed listener once raised EBADF there).
    assert server.address == address and address.port == port
    for c in clients:

        def told(n: int = c.number) -> list[Any]:
            return lab.client_events.of("server-closed", number=n) or [
                e for e in lab.client_events.of("failed", number=n) if "(RST)" in e.text]

        wait_for(told, 10, message=lambda: lab.client_events.summary())
    assert not any(t.is_alive() for t in server._threads)
    # The port is free at once, even with the old connections still closing.
    again = LabServer(LOCALHOST, port, mode=mode)
    try:
        again.start()
        assert again.port == port
    finally:
        again.stop()


async def test_app_f8_with_three_threaded_clients_leaves_them_in_close_wait(
        tmp_path: Path) -> None:
    app = make_app(lab_session("threaded", source="auto"), tmp_path, clients=3)
    async with app.run_test(size=(140, 44)) as pilot:
        await wait_until(pilot, lambda: all(client_states(app, n) == ["ESTABLISHED"]
                                            for n in (1, 2, 3)), "three clients connected")
        await press(pilot, "f8")
        await wait_until(pilot, lambda: not app.session.server_running, "the server stopped")
        await wait_until(pilot, lambda: all(client_states(app, n) == ["CLOSE_WAIT"]
                                            for n in (1, 2, 3)), "three clients in CLOSE_WAIT")
        for n in (1, 2, 3):
            card = app.clients_pane.card(n)
            assert card is not None and card.kernel_state == "CLOSE_WAIT"
        # Started again, it serves a new client.
        await press(pilot, "f8")
        await wait_until(pilot, lambda: app.session.server_running, "the server started")
        await press(pilot, "f2")
        await wait_until(pilot, lambda: client_states(app, 4) == ["ESTABLISHED"], "client 4")
        app.session.send(4, "after the restart")
        await wait_until(pilot, lambda: any("after the restart" in x
                                            for x in app.server_pane.lines_text),
                         "client 4 served")
        await press(pilot, "ctrl+q")


# -- the OS refuses the connection list --------------------------------------------------------


@pytest.fixture
def denied(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """psutil.net_connections refuses, as on macOS without root; returns the calls made."""
    calls: list[str] = []

    def refuse(kind: str = "inet") -> list[Any]:
        calls.append(kind)
        raise psutil.AccessDenied(pid=None, name=None, msg="not root")

    monkeypatch.setattr(psutil, "net_connections", refuse)
    return calls


def test_psutil_source_falls_back_to_its_own_connections(lab: Lab, denied: list[str]) -> None:
    server = lab.server("single")
    client = lab.client(server.port)
    source = PsutilSource()
    wanted = {(server.address, None, "LISTEN"), (client.local, server.address, "ESTABLISHED"),
              (server.address, client.local, "ESTABLISHED")}

    def seen() -> set[tuple[Endpoint, Endpoint | None, str]]:
        snap = source.poll(server.port)
        assert snap.warning == "own-process-only" and "own process only" in snap.source
        assert all(c.pid == psutil.Process().pid for c in snap.connections)
        return {(c.local, c.remote, c.state) for c in snap.connections}

    wait_for(lambda: wanted <= seen(), 10, message=lambda: f"own connections; saw {seen()}")
    assert len(denied) == 1, "the refused call is not retried at every poll"


async def test_app_warns_once_when_the_os_refuses(tmp_path: Path, denied: list[str]) -> None:
    app = make_app(lab_session("threaded", source="psutil"), tmp_path, clients=1)
    notes = Notes(app)
    sentence = t("ns.own_only", "en")
    async with app.run_test(size=(140, 44)) as pilot:
        await wait_until(pilot, lambda: client_states(app, 1) == ["ESTABLISHED"],
                         "client 1 seen in the app's own connections")
        first = app.views.snapshot.time if app.views.snapshot else 0.0
        await wait_until(pilot, lambda: app.views.snapshot is not None and
                         app.views.snapshot.time > first + 0.5, "ten more polls")
        assert notes.messages.count(sentence) == 1, notes.messages
        assert app.is_running
        await press(pilot, "ctrl+q")


def test_netstat_says_once_that_it_sees_only_its_own(
        lab: Lab, denied: list[str], capsys: pytest.CaptureFixture[str]) -> None:
    from tcp_observatory.lab.observe.netstat import run_netstat

    server = lab.server("single")
    args = build_parser().parse_args(["netstat", "--source", "psutil", "--port",
                                      str(server.port), "--lang", "en"])
    assert run_netstat(args) == 0
    out, err = capsys.readouterr()
    assert err.count(t("ns.own_only", "en")) == 1
    assert single_line(err.splitlines()) == t("ns.own_only", "en")
    assert f"{server.address}" in out and "LISTEN" in out


# -- the terminal shrinks ----------------------------------------------------------------------


async def test_terminal_shrunk_to_almost_nothing(tmp_path: Path) -> None:
    app = make_app(lab_session("threaded", source="auto"), tmp_path, clients=2)
    async with app.run_test(size=(140, 44)) as pilot:
        await wait_until(pilot, lambda: client_states(app, 2) == ["ESTABLISHED"], "connected")
        for n, size in enumerate([(80, 24), (40, 10), (20, 5), (1, 1)], start=1):
            await pilot.resize_terminal(*size)

            def laid_out(s: tuple[int, int] = size) -> bool:
                return app.size == s and app.query_one("#main").has_class("-narrow")

            def received(s: tuple[int, int] = size) -> bool:
                return any(f"at {s[0]}x{s[1]}" in x for x in app.server_pane.lines_text)

            await wait_until(pilot, laid_out, f"laid out at {size}")
            # Still alive and working: a message, pause and resume, every view, presentation.
            app.session.send(1, f"at {size[0]}x{size[1]}")
            await wait_until(pilot, received, f"the message at {size}")
            keys = ("f7", "f7", "f9", "f9", "f9", "f10", "f10") if size == (20, 5) \
                else ("f7", "f7")
            await press(pilot, *keys)
            # Back where the keys began: live (F7 twice), the connections view, no
            # presentation; the panes still stacked.
            await wait_until(pilot, lambda: not app.recorder.paused
                             and app.views.view == "connections"
                             and not app.views.present, f"every key handled at {size}")
            assert app.is_running
            assert app.query_one("#main").has_class("-narrow"), size  # stacked panes
            assert len(app.table.rows_by_key) >= n
        await pilot.resize_terminal(140, 44)
        await wait_until(pilot, lambda: app.size == (140, 44)
                         and not app.query_one("#main").has_class("-narrow"), "side by side")
        await press(pilot, "ctrl+q")


# -- reachable from the network ----------------------------------------------------------------


@pytest.mark.needs("sigint")
def test_servers_listen_on_loopback_unless_asked(lab: Lab) -> None:
    me = psutil.Process().pid
    server = LabServer(port=0)
    try:
        server.start()
        assert listening(me, server.port) == ["127.0.0.1"]
    finally:
        server.stop()
    session = Session(port=0, source="psutil")
    try:
        session.bind()
        assert listening(me, session.port) == ["127.0.0.1"]
    finally:
        session.shutdown()
    assert build_parser().parse_args([]).host == "127.0.0.1"
    proc = lab.python("-m", "tcp_observatory.lab.server", "--port", "0", "--lang", "en")
    first = proc.expect(lambda line: line.strip() != "", what="the start line")
    port = int(first.split("127.0.0.1:")[1].split()[0].rstrip(",;:)"))
    assert listening(proc.popen.pid, port) == ["127.0.0.1"]
    proc.interrupt()
    assert proc.wait() == 0
    assert proc.stderr_lines == []  # no warning on loopback


@pytest.mark.needs("sigint")
def test_lab_server_on_every_address_warns(lab: Lab) -> None:
    proc = lab.python("-m", "tcp_observatory.lab.server",
                      "--host", "0.0.0.0", "--port", "0", "--lang", "en")
    first = proc.expect(lambda line: line.strip() != "", what="the start line")
    port = int(first.split("0.0.0.0:")[1].split()[0].rstrip(",;:)"))
    wait_for(lambda: proc.stderr_lines, 10, message="a warning on stderr")
    warning = single_line(proc.stderr_lines)
    assert "0.0.0.0" in warning and "other machines" in warning
    assert listening(proc.popen.pid, port) == ["0.0.0.0"]
    proc.interrupt()
    assert proc.wait() == 0, proc.stderr_text  # once -6 (SIGABRT) beside another run
    assert NO_TRACEBACK not in proc.stderr_text


def server_info(app: ObservatoryApp) -> str:
    from textual.widgets import Static

    return str(app.query_one("#server-info", Static).content)


@pytest.mark.parametrize("host", ["0.0.0.0", LOCALHOST])
async def test_app_warns_on_screen_when_listening_on_every_address(
        tmp_path: Path, host: str) -> None:
    app = make_app(lab_session("threaded", host=host, source="auto"), tmp_path, clients=1)
    async with app.run_test(size=(160, 48)) as pilot:
        await wait_until(pilot, lambda: client_states(app, 1) == ["ESTABLISHED"], "connected")
        assert app.session.server is not None
        warning = "⚠ " + t("warn.exposed", "en", addr=app.session.server.address)
        await drawn(pilot)
        svg = app.export_screenshot()
        if host == "0.0.0.0":
            assert warning in server_info(app)
            assert "⚠" in svg
        else:
            assert "⚠" not in server_info(app)
        await press(pilot, "ctrl+q")
