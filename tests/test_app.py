"""The observatory window, driven with Textual's Pilot against real sockets on 127.0.0.1."""

from __future__ import annotations

import re
import socket
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from app_support import drawn, make_app, press, wait_until
from support import conn, lab_session, port_is_free
from textual.pilot import Pilot

from tcp_observatory.lab import __version__
from tcp_observatory.lab.grading.manifest import SavedScreenshot
from tcp_observatory.lab.grading.stamp import stamp_text
from tcp_observatory.lab.guide.evidence import Evidence
from tcp_observatory.lab.observe.model import Connection, RoleKind
from tcp_observatory.tui.app import ObservatoryApp
from tcp_observatory.tui.messages import ShotSaved
from tcp_observatory.tui.widgets.steps_panel import StepsPanel

SIZE = (140, 44)




def states(app: ObservatoryApp, pred: Callable[[Connection], bool]) -> list[str]:
    return app.table.state_of(pred)


def server_side(n: int) -> Callable[[Connection], bool]:
    return lambda c: c.role.server_side and c.role.client == n


def client_side(n: int) -> Callable[[Connection], bool]:
    return lambda c: c.role.kind in (RoleKind.CLIENT, RoleKind.ORPHANED) and c.role.client == n \
        and not c.role.server_side


async def type_line(pilot: Pilot[Any], text: str) -> None:
    await press(pilot, *[ch if ch != " " else "space" for ch in text])
    await press(pilot, "enter")


def on_port(c: Connection, port: int) -> bool:
    return c.local.port == port or (c.remote is not None and c.remote.port == port)


@pytest.mark.needs("system-sockets")
async def test_single_mode_message_then_fin_shows_close_wait_and_fin_wait_2() -> None:
    app = make_app(clients=1, auto_capture=True)
    async with app.run_test(size=SIZE) as pilot:
        port = app.session.port
        await wait_until(pilot, lambda: states(app, client_side(1)) == ["ESTABLISHED"],
                         "client 1 ESTABLISHED")
        await wait_until(pilot, lambda: states(app, server_side(1)) == ["ESTABLISHED"],
                         "server side ESTABLISHED")
        # The first client's input has focus at start.
        assert app.focused is not None and app.focused.id == "client-1-input"
        await type_line(pilot, "hello")
        await wait_until(pilot, lambda: any("hello" in x for x in app.server_pane.lines_text),
                         "server log shows the message")
        await type_line(pilot, "Fin")
        await wait_until(pilot, lambda: states(app, server_side(1)) == ["CLOSE_WAIT"],
                         "server side CLOSE_WAIT")
        await wait_until(pilot, lambda: states(app, client_side(1)) == ["FIN_WAIT_2"],
                         "client side FIN_WAIT_2")
        card = app.clients_pane.card(1)
        assert card is not None and card.kernel_state == "FIN_WAIT_2"
        text = "\n".join(app.timeline.lines_text)
        assert "ESTABLISHED → CLOSE_WAIT" in text
        assert "FIN_WAIT_2" in text
        assert 'client 1 sends "Fin" then close()' in text
        await press(pilot, "ctrl+q")
    assert port_is_free(port)


async def test_peer_text_is_shown_literally() -> None:
    app = make_app(clients=1, auto_capture=True)
    async with app.run_test(size=SIZE) as pilot:
        await wait_until(pilot, lambda: states(app, client_side(1)) == ["ESTABLISHED"], "connected")
        hostile = "[bold]x[/] [@click=app.quit]q[/]"
        app.session.send(1, hostile)
        app.session.send(1, "esc \x1b[2J bell \x07 end")
        await wait_until(pilot, lambda: any("end" in x for x in app.server_pane.lines_text),
                         "server log shows the escaped message")
        joined = "\n".join(app.server_pane.lines_text)
        assert hostile in joined
        assert "\\e[2J" in joined and "\\x07" in joined and "\x1b" not in joined
        assert app.is_running  # [@click=app.quit] did nothing


async def test_a_picture_saved_while_the_screen_is_torn_down_is_kept_without_a_crash() -> None:
    # Textual removes the widgets before the app's own unmount: a screenshot whose save ends
    # in between reaches an app whose panel has no children left.
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await app.query_one("#steps", StepsPanel).remove_children()
        saved = SavedScreenshot(app.guide.folder / "p1-q1.svg", Evidence(met=True),
                                "2026-12-03T18:20:33+00:00")
        app.post_message(ShotSaved("p1-q1", saved))
        await wait_until(pilot, lambda: "p1-q1" in app.guide.progress.met, "the step met")
        await drawn(pilot)
        assert app.is_running  # run_test would raise the handler's exception on leaving


@pytest.mark.needs("system-sockets")
async def test_add_and_remove_clients_and_accept_queue() -> None:
    app = make_app(clients=1, auto_capture=True)
    async with app.run_test(size=SIZE) as pilot:
        await wait_until(pilot, lambda: states(app, server_side(1)) == ["ESTABLISHED"],
                         "client 1 accepted")
        await press(pilot, "f2")
        await wait_until(pilot, lambda: len(app.clients_pane.cards()) == 2, "second card")
        # Single mode serves client 1: client 2 waits in the accept queue.
        await wait_until(
            pilot,
            lambda: any(r.conn.role.kind is RoleKind.QUEUED and r.conn.role.client == 2
                        for r in app.table.rows_by_key.values()),
            "client 2 queued")
        assert app.focused is not None and app.focused.id == "client-2-input"
        await press(pilot, "f3")
        await wait_until(pilot, lambda: [c.number for c in app.clients_pane.cards()] == [1],
                         "client 2 removed")
        assert 2 not in app.session.clients


@pytest.mark.needs("system-sockets")
async def test_switch_mode_to_threaded_serves_two_clients() -> None:
    app = make_app(auto_capture=True)
    async with app.run_test(size=SIZE) as pilot:
        await press(pilot, "f4")
        await wait_until(pilot, lambda: app.session.mode == "threaded" and
                         app.session.server_running, "threaded server")
        assert "threaded" in app.sub_title
        await press(pilot, "f2")
        await press(pilot, "f2")
        await wait_until(pilot, lambda: states(app, server_side(1)) == ["ESTABLISHED"] and
                         states(app, server_side(2)) == ["ESTABLISHED"], "both accepted")
        app.session.send(1, "from one")
        app.session.send(2, "from two")
        await wait_until(pilot, lambda: sum(("from one" in x) or ("from two" in x)
                                            for x in app.server_pane.lines_text) == 2,
                         "both messages received")
        app.session.send(1, "Fin")
        await wait_until(pilot, lambda: states(app, client_side(1)) == ["TIME_WAIT"],
                         "client 1 TIME_WAIT")


@pytest.mark.needs("system-sockets")
async def test_close_after_fin_toggle() -> None:
    app = make_app(clients=1, auto_capture=True)
    async with app.run_test(size=SIZE) as pilot:
        await wait_until(pilot, lambda: states(app, server_side(1)) == ["ESTABLISHED"], "accepted")
        await press(pilot, "f5")
        await wait_until(pilot, lambda: app.session.close_after_fin, "close() after Fin on")
        app.session.send(1, "Fin")
        await wait_until(pilot, lambda: states(app, client_side(1)) == ["TIME_WAIT"],
                         "client TIME_WAIT when the server closes after Fin")


async def test_filter_toggles_between_port_and_all() -> None:
    other = socket.socket()
    other.bind(("127.0.0.1", 0))
    other.listen(1)
    other_port = other.getsockname()[1]
    try:
        app = make_app(auto_capture=True)
        async with app.run_test(size=SIZE) as pilot:
            port = app.session.port
            await wait_until(pilot, lambda: bool(app.table.rows_by_key), "listener row")
            # The lab-port filter keeps sockets whose local OR remote port is the lab port
            # (an old TIME_WAIT of another test may have used this number as its peer).
            assert all(on_port(r.conn, port) for r in app.table.rows_by_key.values())
            await press(pilot, "f6")
            await wait_until(pilot, lambda: any(r.conn.local.port == other_port
                                                for r in app.table.rows_by_key.values()),
                             "the unrelated listener shows")
            assert "all connections" in str(app.table.border_title)
            await press(pilot, "f6")
            await wait_until(pilot, lambda: all(
                on_port(r.conn, port) or r.gone_at is not None
                for r in app.table.rows_by_key.values()), "back to the lab port")
            # A change of filter is not a change of state: no CLOSED transitions for it.
            assert not any(str(other_port) in x and "CLOSED" in x
                           for x in app.timeline.lines_text)
    finally:
        other.close()


@pytest.mark.needs("system-sockets")
async def test_pause_freezes_the_view_and_resume_catches_up() -> None:
    app = make_app(clients=1, auto_capture=True)
    async with app.run_test(size=SIZE) as pilot:
        await wait_until(pilot, lambda: states(app, client_side(1)) == ["ESTABLISHED"], "connected")
        await press(pilot, "f7")
        await wait_until(pilot, lambda: app.recorder.paused and "PAUSED" in app.sub_title, "paused")
        app.session.send(1, "Fin")
        # Held back until the kernel's FIN_WAIT_2 is among them (a poll may also catch the
        # microseconds of FIN_WAIT_1 on the way).
        await wait_until(pilot, lambda: app.timeline.waiting >= 2 and any(
            tr.to_state == "FIN_WAIT_2" and not tr.inferred
            for tr in app.recorder.held_transitions),
            "transitions held back")
        # The table still shows the moment of the pause.
        assert states(app, client_side(1)) == ["ESTABLISHED"]
        await press(pilot, "f7")
        await wait_until(pilot, lambda: not app.recorder.paused, "resumed")
        assert states(app, client_side(1)) == ["FIN_WAIT_2"]
        assert any("caught up" in x for x in app.timeline.lines_text)


async def test_server_stop_and_start_key() -> None:
    app = make_app(clients=1, auto_capture=True)
    async with app.run_test(size=SIZE) as pilot:
        await wait_until(pilot, lambda: states(app, server_side(1)) == ["ESTABLISHED"], "accepted")
        await press(pilot, "f8")
        await wait_until(pilot, lambda: not app.session.server_running, "the server stopped")
        # The server closed its side first: the client sees it, the server side is orphaned.
        await wait_until(pilot, lambda: states(app, client_side(1)) == ["CLOSE_WAIT"],
                         "client CLOSE_WAIT after the server stopped")
        card = app.clients_pane.card(1)
        assert card is not None and "CLOSE_WAIT" in card.last
        await press(pilot, "f8")
        await wait_until(pilot, lambda: app.session.server_running, "the server started")


async def test_french_labels() -> None:
    app = make_app(clients=1, lang="fr", auto_capture=True)
    async with app.run_test(size=SIZE) as pilot:
        await wait_until(pilot, lambda: states(app, client_side(1)) == ["ESTABLISHED"], "connected")
        assert "Connexions TCP" in str(app.table.border_title)
        assert "Serveur" in app.sub_title
        labels = [str(c.label) for c in app.table.columns.values()]
        assert "Adresse locale" in labels and "État" in labels


@pytest.mark.parametrize("size", [(80, 24), (60, 20), (200, 60)])
async def test_any_terminal_size_works(size: tuple[int, int]) -> None:
    app = make_app(clients=1, auto_capture=True)
    async with app.run_test(size=size) as pilot:
        await wait_until(pilot, lambda: states(app, client_side(1)) == ["ESTABLISHED"], "connected")
        await pilot.resize_terminal(40, 12)
        await wait_until(pilot, lambda: app.size == (40, 12)
                         and app.query_one("#main").has_class("-narrow"), "laid out at 40x12")
        assert app.is_running


async def test_the_stamp_ticks_without_laying_the_screen_out_again() -> None:
    """The stamp's clock changes every second; a text as long as the last wraps as it did,
    so the whole screen is not laid out again for it (with thousands of rows that cost
    ~15 ms a second). A text that did not change is not written at all.

    The app's own clock is held still, so that its half-second tick writes only what the
    test makes change (a tick reading the real clock would write between the test's calls).
    """
    from textual.widgets import Static

    now = [1_790_000_000.0]
    app = make_app(clock=lambda: now[0], auto_capture=True)
    async with app.run_test(size=SIZE) as pilot:
        bar = app.query_one("#stamp", Static)
        calls: list[tuple[bool, str]] = []
        real = bar.update

        def update(content: object = "", *, layout: bool = True) -> None:
            calls.append((layout, str(content)))
            real(content, layout=layout)  # type: ignore[arg-type]

        bar.update = update  # type: ignore[method-assign]
        app.guide.student = "Test Student Longer"  # a longer line: laid out again
        app._update_stamp()
        assert [layout for layout, _ in calls] == [True]
        app._update_stamp()  # the same text (as each tick writes while the clock stands)
        assert len(calls) == 1
        now[0] += 1  # the next second: as long; the app's own tick writes it
        await wait_until(pilot, lambda: len(calls) == 2, "the tick to write the next second")
        assert calls[1] == (False, stamp_text("Test Student Longer", app.shots.host, now[0],
                                              app.step_id, __version__, "en"))
        assert stamp_text("Test Student Longer", app.shots.host, now[0], app.step_id,
                          __version__, "en") in str(bar.render())
    app.shutdown()


async def test_connections_found_open_at_start_are_one_timeline_line() -> None:
    """With every connection shown, the other programs' connections found open at start did
    not open then: the timeline says how many in one line (a busy machine's 10,000 had
    filled it), the lab's own listener keeps its line, and a connection opened later is
    an event like any other."""
    other = socket.socket()
    other.bind(("127.0.0.1", 0))
    other.listen(8)
    other_port = other.getsockname()[1]
    held = [socket.create_connection(("127.0.0.1", other_port)) for _ in range(3)]
    held += [other.accept()[0] for _ in range(3)]
    later: list[socket.socket] = []
    app = make_app(lab_session(source="auto", all_ports=True), auto_capture=True)
    try:
        async with app.run_test(size=SIZE) as pilot:
            def lines() -> list[str]:
                app.timeline.flush()
                return app.timeline.lines_text

            await wait_until(pilot, lambda: any("already open" in x for x in lines()),
                             "the line about connections found open")
            found = [x for x in lines() if "already open" in x]
            counted = re.search(r"(\d+) other connections were already open", found[0])
            assert len(found) == 1 and counted and int(counted.group(1)) >= 7, found
            assert not any(f":{other_port}" in x for x in lines() if x not in found)
            assert any(f":{app.session.port}" in x and "LISTEN" in x for x in lines())
            later.append(socket.create_connection(("127.0.0.1", other_port)))
            mine = f"127.0.0.1:{later[0].getsockname()[1]}"
            await wait_until(pilot, lambda: any(mine in x for x in lines()),
                             "a connection opened after the start, on its own line")
    finally:
        for s in (*held, *later, other):
            s.close()
        app.shutdown()


async def test_the_first_look_is_one_note_even_when_paused_from_the_start(
        tmp_path: Path) -> None:
    """The note counts what the observer's first look found, whichever snapshot the view
    applies it with: paused from the start (a busy machine's first look can take seconds,
    and F7 comes first), a connection that opens later is its own line, not a second note
    saying it was open at start."""
    from tcp_observatory.lab.observe.model import Snapshot, Transition
    from tcp_observatory.lab.session import ObserverUpdate

    app = make_app(lab_session(), tmp_path, start_session=False, auto_capture=True)

    def other(port: int) -> Connection:
        return conn(port, 443, "ESTABLISHED")

    async with app.run_test(size=SIZE) as pilot:
        await press(pilot, "f7")
        await wait_until(pilot, lambda: app.recorder.paused, "paused")
        t0 = 1_790_000_000.0
        found = tuple(other(40000 + i) for i in range(3))
        first = Snapshot(t0, found, "fixed", changed=found, gone=(), seq=1)
        app._from_session(ObserverUpdate(first, [Transition(t0, c, None, c.state, None)
                                                 for c in found]))
        await wait_until(pilot, lambda: app.recorder.held_snapshot is not None,
                         "the first look held")
        later = other(41000)
        second = Snapshot(t0 + 1, (*found, later), "fixed", changed=(later,), gone=(), seq=2)
        app._from_session(ObserverUpdate(second, [Transition(t0 + 1, later, None,
                                                             "ESTABLISHED", None)]))
        await wait_until(pilot, lambda: app.recorder.held_snapshot is not None
                         and app.recorder.held_snapshot.time == t0 + 1, "the second look held")
        await press(pilot, "f7")
        await wait_until(pilot, lambda: not app.recorder.paused, "live again")
        app.timeline.flush()
        lines = app.timeline.lines_text
        notes = [x for x in lines if "already open" in x]
        assert notes == [x for x in notes if "3 other connections were already open" in x]
        assert len(notes) == 1, lines
        assert any("127.0.0.1:41000" in x and "ESTABLISHED" in x for x in lines), lines


@pytest.mark.needs("system-sockets")
async def test_keys_typed_after_a_screenshot_reach_the_client_input(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """While a picture is taken the panes are hidden, and Textual tells the focused input
    so (a Hide message) and blurs it when it handles that. On a loaded machine the input
    handles it late, after the picture gave the focus back: the focus must still come
    back, or the "Fin" typed next goes nowhere (seen in the tmux test under load)."""
    import asyncio

    from textual.widgets import Input

    gate = asyncio.Event()

    async def late_hide(self: Input, event: object) -> None:
        if self.id == "client-1-input":
            await gate.wait()  # the input is slow: Widget._on_hide comes after this

    app = make_app(lab_session(), tmp_path, clients=1)
    async with app.run_test(size=SIZE) as pilot:
        await wait_until(pilot, lambda: states(app, server_side(1)) == ["ESTABLISHED"],
                         "client 1 accepted")
        field = app.query_one("#client-1-input", Input)
        await wait_until(pilot, lambda: app.focused is field, "the client's input focused")
        monkeypatch.setattr(Input, "_on_hide", late_hide, raising=False)
        app.take_screenshot()
        # Pilot waits for every widget to be idle, and the input is not: wait by hand.
        loop = asyncio.get_running_loop()
        deadline = loop.time() + 15
        while not (len(app.shots.saved) == 1 and not app.shots.capturing
                   and app.query_one("#server").region.area > 0):
            assert loop.time() < deadline, "the picture saved and the panes back"
            await asyncio.sleep(0.05)
        gate.set()  # the input handles its Hide now, focused again
        await press(pilot, *"Fin", "enter")
        await wait_until(pilot, lambda: any("› Fin" in x for x in app.server_pane.lines_text),
                         "the server received the Fin typed after the picture")

