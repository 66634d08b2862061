"""The lab starts before its window (``tui.run``): what it does meanwhile reaches the app."""

from __future__ import annotations

import gc
import subprocess
import sys
import time
from pathlib import Path

import pytest
from app_support import drawn, make_app, press, press_f9, screen_lines, wait_until
from support import ROOT, wait_for

from tcp_observatory import tui
from tcp_observatory.lab.net.client import ClientEvent
from tcp_observatory.lab.net.server import ServerEvent
from tcp_observatory.lab.observe.model import RoleKind, Snapshot, Transition
from tcp_observatory.lab.observe.observer import MAX_INTERVAL, Observer
from tcp_observatory.lab.session import Action, Event, ObserverUpdate, Session
from tcp_observatory.tui.app import ObservatoryApp
from tcp_observatory.tui.cli import main
from tcp_observatory.tui.widgets.steps_panel import StepsPanel
from tcp_observatory.tui.widgets.title_bar import TitleBar


class FirstLook(ObservatoryApp):
    """The app, noting which client cards the window had when it was put together (its
    on_mount runs before any event of the session is handled)."""

    CSS_PATH = str(Path(tui.__file__).parent / "app.tcss")  # found from here, not tests/
    cards_at_mount: list[tuple[int, int]] | None = None

    async def on_mount(self) -> None:
        self.cards_at_mount = [(card.number, card.ident) for card in self.clients_pane.cards()]
        await super().on_mount()


def _client_established(snapshot: Snapshot, number: int) -> bool:
    """Both ends of client ``number``'s connection are ESTABLISHED in the kernel's rows."""
    ends = [c for c in snapshot.connections
            if c.role.client == number and c.state == "ESTABLISHED"]
    return (any(c.role.kind is RoleKind.CLIENT for c in ends)
            and any(c.role.server_side for c in ends))


def _seen_established(events: list[Event], number: int) -> bool:
    return any(isinstance(e, ObserverUpdate) and _client_established(e.snapshot, number)
               for e in list(events))


class SlowSource:
    """A source as slow as psutil with thousands of sockets: each poll takes 50 ms."""

    name = "slow"

    def __init__(self) -> None:
        self.polls = 0

    def poll(self, port: int | None, *, owners: bool = True,
             lab_port: int | None = None) -> Snapshot:
        time.sleep(0.05)  # the poll's cost, not a wait for anything
        self.polls += 1
        return Snapshot(time.time(), (), self.name)

    def close(self) -> None:
        pass


def test_a_held_observer_polls_when_asked_and_those_polls_do_not_pace_it() -> None:
    """While the window is put together the observer polls when the lab acts, not every
    interval, and what those polls cost (the interpreter busy elsewhere) does not slow
    polling down; released, it polls every interval again, paced by its own costs."""
    source = SlowSource()
    paced: list[float] = []
    updates: list[list[Transition]] = []
    observer = Observer(source, 9, lambda _s, tr: updates.append(tr), interval=0.01,
                        on_pace=lambda interval, _cost: paced.append(interval))
    observer.hold()
    started = time.monotonic()
    observer.start()
    try:
        wait_for(lambda: source.polls >= 1, 10, message="the first look")
        for asked in range(2, 6):
            observer.poll_now()
            wait_for(lambda: source.polls >= asked, 10,  # noqa: B023 (waited for here)
                     message=f"poll {asked}")
        # Five polls of 50 ms: polling every 10 ms it would have polled some twenty times.
        assert time.monotonic() - started >= 0.2
        assert source.polls == 5 and len(updates) == 5
        assert paced == [] and observer.effective_interval == 0.01
        observer.release()
        wait_for(lambda: paced, 10, message="polls paced again once released")
        assert source.polls > 5 and observer.effective_interval > 0.01
    finally:
        observer.stop()


@pytest.mark.needs("system-sockets")
def test_events_of_a_session_started_before_its_sink_all_reach_the_sink_in_order() -> None:
    session = Session(host="127.0.0.1", port=0, interval=0.05, source="psutil")
    session.bind()
    events: list[Event] = []
    try:
        session.hold_events()
        session.start(clients=1)
        client = session.clients[1]
        wait_for(lambda: client.state == "connected", 10, message="client 1 connected")
        session.set_sink(events.append)
        # Emitted on this thread before the sink was given: kept, not lost.
        assert [e.kind for e in events if isinstance(e, Action)] == ["client-add"]
        wait_for(lambda: _seen_established(events, 1), 10,
                 message=lambda: f"client 1 ESTABLISHED in an update; events: {events}")
        kinds = [(type(e).__name__, getattr(e, "kind", "")) for e in events]
        assert ("ServerEvent", "listening") in kinds
        added = kinds.index(("Action", "client-add"))
        connected = kinds.index(("ClientEvent", "connected"))
        assert added < connected, kinds  # the client's events follow its card's cause
        assert kinds.count(("Action", "client-add")) == 1, kinds
        first_look = next(e for e in events if isinstance(e, ObserverUpdate))
        assert any(c.state == "LISTEN" and c.local.port == session.port
                   for c in first_look.snapshot.connections), first_look
        # Released, the observer looks every interval again, asked or not: at the pace its
        # polls' cost allows (a loaded machine makes psutil's slow, and the interval grows
        # up to MAX_INTERVAL), never waiting longer than that between two looks.
        looked = sum(isinstance(e, ObserverUpdate) for e in events)
        wait_for(lambda: sum(isinstance(e, ObserverUpdate) for e in events) >= looked + 3,
                 10 + 3 * MAX_INTERVAL, message="updates every interval after the sink was given")
        # And what happens after the sink was given goes straight to it.
        number = session.add_client()
        wait_for(lambda: _seen_established(events, number), 10,
                 message=lambda: f"client {number} ESTABLISHED; events: {events}")
        assert sum(isinstance(e, Action) and e.kind == "client-add" for e in events) == 2
        assert any(isinstance(e, ServerEvent) and e.kind == "accepted" for e in events)
        assert any(isinstance(e, ClientEvent) and e.number == number and e.kind == "connected"
                   for e in events)
    finally:
        session.shutdown()


@pytest.mark.needs("system-sockets")
async def test_a_client_started_before_the_window_is_in_its_first_screen(
        tmp_path: Path) -> None:
    """As ``tcp-observatory`` starts: the client's card is composed with the window (not
    mounted after it was drawn), once, and the table and the card show its connection."""
    session = Session(host="127.0.0.1", port=0, interval=0.05, source="psutil")
    session.bind()
    session.hold_events()
    session.start(clients=0)
    session.add_client()
    app = FirstLook(session, lang="en", clients=1, student="Test Student", folder=tmp_path,
                    auto_capture=False, start_session=False)
    try:
        async with app.run_test(size=(160, 48)) as pilot:
            assert app.cards_at_mount == [(1, 1)]
            cards = app.clients_pane.cards()
            await wait_until(pilot, lambda: any(a.kind == "client-add"
                                                for a in app.recorder.actions),
                             "the client-add action handled")
            await wait_until(
                pilot, lambda: app.views.snapshot is not None
                and _client_established(app.views.snapshot, 1), "client 1 ESTABLISHED")
            await wait_until(pilot, lambda: app.table.state_of(
                lambda c: c.role.kind is RoleKind.CLIENT and c.role.client == 1)
                == ["ESTABLISHED"], "client 1's row ESTABLISHED")
            await wait_until(pilot, lambda: "ESTABLISHED" in str(cards[0].border_title),
                             "the card says ESTABLISHED")
            assert app.clients_pane.cards() == cards  # the same card: not mounted again
            assert not app.query_one("#clients-empty").display
            assert any("client 1" in line.lower() for line in app.timeline.lines_text)
    finally:
        app.shutdown()


async def test_the_collector_held_off_for_the_start_runs_again_once_the_window_is_drawn(
        tmp_path: Path) -> None:
    """``tcp-observatory`` holds the cyclic collector off while the app starts (tui.cli):
    the app gives it back once its first screen is drawn, not at its end."""
    session = Session(host="127.0.0.1", port=0, interval=0.05, source="psutil")
    session.bind()
    app = make_app(session, tmp_path)
    gc.disable()
    try:
        async with app.run_test(size=(160, 48)) as pilot:
            await wait_until(pilot, gc.isenabled, "the collector running again")
            assert app.is_running
    finally:
        gc.enable()
        app.shutdown()


def test_the_collector_runs_again_when_the_app_cannot_start(tmp_path: Path) -> None:
    """Without a terminal the app refuses to start (a sentence, exit status 1): the
    collector held off for its start is running again when main returns."""
    assert gc.isenabled()
    code = main(["--port", "0", "--lang", "en", "--screenshots", str(tmp_path / "shots")])
    assert code == 1
    assert gc.isenabled()


FIRST_SCREEN = """
import asyncio, sys
sys.path.insert(0, {tests!r})
from app_support import drawn, make_app, press

async def main() -> None:
    app = make_app(clients=0)
    async with app.run_test(size=(140, 44)) as pilot:
        await drawn(pilot)
        print(sorted(n for n in sys.modules if n.startswith("tcp_observatory.tui.widgets")))
        print([w.id for w in app.query("#views > *")])
        await press(pilot, "f9")
        print([w.id for w in app.query("#views > *")], app.views.view)
        await press(pilot, "ctrl+q")

asyncio.run(main())
"""


def test_the_diagram_and_the_ladder_are_made_when_first_shown() -> None:
    """The first screen has the table alone in its views: the diagram and the ladder (and
    their modules) come with F9, the first time they are shown."""
    done = subprocess.run([sys.executable, "-c", FIRST_SCREEN.format(tests=str(ROOT / "tests"))],
                          capture_output=True, text=True, timeout=60, cwd=ROOT)
    assert done.returncode == 0, done.stderr[-2000:]
    modules, views, after = done.stdout.splitlines()[-3:]
    assert "tcp_observatory.tui.widgets.connections" in modules
    assert "diagram" not in modules and "ladder" not in modules
    assert views == "['connections']"
    assert after == "['connections', 'diagram'] diagram"


# The panes' containers: hidden in app.tcss, so that they are not drawn under the panes.
CONTAINERS = {"main", "left", "right", "views"}


def _undrawn(app: ObservatoryApp) -> list[str]:
    """Widgets under the containers that would not be drawn: every one but the containers
    must say visibility: visible (app.tcss), or it would inherit their hidden."""
    main = app.query_one("#main")
    return [f"{type(w).__name__}#{w.id}" for w in (main, *main.query("*"))
            if w.visible == (w.id in CONTAINERS)]


async def test_the_containers_are_not_drawn_and_every_pane_in_them_is(tmp_path: Path) -> None:
    """A widget added to a container later (a view, a pane) must be made visible in
    app.tcss; this finds one that was not, in every view and in presentation mode."""
    app = make_app(folder=tmp_path, clients=2)
    async with app.run_test(size=(160, 48)) as pilot:
        await wait_until(pilot, lambda: len(app.clients_pane.cards()) == 2, "two cards")
        await drawn(pilot)
        assert _undrawn(app) == []
        assert all(app.query_one(f"#{c}").region.area == 0 for c in CONTAINERS)
        assert app.query_one("#server").region.area > 0
        for presses in (1, 1):  # the diagram, then the ladder
            await press_f9(pilot, presses)
            assert _undrawn(app) == [], app.views.view
        await press(pilot, "f10")
        assert _undrawn(app) == []


async def test_the_steps_panel_is_made_when_first_shown(tmp_path: Path) -> None:
    """Hidden at the start, the steps panel has no parts; F1 makes them, with the step."""
    app = make_app(folder=tmp_path)
    async with app.run_test(size=(160, 48)) as pilot:
        await drawn(pilot)
        panel = app.query_one(StepsPanel)
        assert not panel.built and not panel.children
        await press(pilot, "f1")
        await drawn(pilot)
        assert panel.built and panel.display
        assert app.query_one("#step-answer").region.area > 0
        assert any("p1-q1" in line for line in screen_lines(app))


async def test_the_title_bar_shows_the_title_the_sub_title_and_the_clock(
        tmp_path: Path) -> None:
    now = [time.time()]  # the app's clock: the bar shows its time
    app = make_app(folder=tmp_path, show_clock=True, clock=lambda: now[0])
    async with app.run_test(size=(80, 24)) as pilot:
        await drawn(pilot)
        line = screen_lines(app)[0]
        assert line.startswith(" ⇄ ") and len(line) == 80
        assert f"{app.title} — {app.sub_title}" in line
        # The clock, in the last 10 columns; it follows the app's clock.
        assert line[70:].strip() == time.strftime("%X", time.localtime(now[0]))
        now[0] += 3600
        await wait_until(pilot, lambda: screen_lines(app)[0][70:].strip()
                         == time.strftime("%X", time.localtime(now[0])), "the clock an hour on")
        app.sub_title = "a new sub-title"
        await wait_until(pilot, lambda: "TCP Observatory — a new sub-title" in
                         screen_lines(app)[0], "the new sub-title drawn")
        bar = app.query_one(TitleBar)
        assert bar.title_text() == "TCP Observatory — a new sub-title"
        app.sub_title = "x" * 200  # cut with an ellipsis, the clock still there
        await wait_until(pilot, lambda: "…" in screen_lines(app)[0], "the title cut")
        assert screen_lines(app)[0][70:].strip().count(":") == 2
