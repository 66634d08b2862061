"""A fixed lab scene for SVG snapshots: same rows, times and logs on every run.

Single mode, just after client 1 sent "hello" then "Fin", with client 2 waiting in the
accept queue: the situation of question 2 of the handout.
"""

from __future__ import annotations

import os
import time
from typing import Any

from app_support import app_of, drawn, make_app, wait_until
from support import conn, ep
from textual.pilot import Pilot

from tcp_observatory.lab.net.client import ClientEvent
from tcp_observatory.lab.net.server import ServerEvent
from tcp_observatory.lab.observe.model import Connection, Endpoint, RoleKind, Snapshot, Transition
from tcp_observatory.lab.session import Action, Session
from tcp_observatory.tui.app import ObservatoryApp

os.environ["TZ"] = "UTC"
if hasattr(time, "tzset"):
    time.tzset()

T0 = 1_790_000_000.0  # 2026-09-21 14:13:20 UTC
PORT = 9500
PID = 4242
LOCAL = "127.0.0.1"


class _Source:
    name = "fixed"

    def poll(self, port: int | None, **_: object) -> Snapshot:
        return Snapshot(T0, (), "fixed")

    def close(self) -> None:
        pass


class _FakeServer:
    address = Endpoint(LOCAL, PORT)
    backlog = 1
    port = PORT
    running = True

    def stop(self) -> None:
        pass


class SceneSession(Session):
    """A session that starts nothing: the scene is fed by hand."""

    @property
    def server_running(self) -> bool:
        return True

    def start(self, clients: int = 1) -> None:
        self.server = _FakeServer()  # type: ignore[assignment]


def scene_row(local: int, remote: int | None, state: str, kind: RoleKind,
              client: int | None = None, *, server_side: bool = False, pid: int | None = PID,
              recv_q: int = 0, timer: str | None = None) -> Connection:
    """A row of a fixed scene as the kernel's own dump shows it: the lab's python3
    programs, the queues known (a listener's send-Q is its backlog, 1), a timer 58 s off."""
    return conn(local, remote, state, kind, client, server_side=server_side, pid=pid,
                process="python3" if pid else None, recv_q=recv_q,
                send_q=1 if remote is None else 0, timer=timer,
                timer_left=58.0 if timer else None)


LISTENER = scene_row(PORT, None, "LISTEN", RoleKind.LISTENER)


def _first() -> tuple[Connection, ...]:
    return (
        LISTENER,
        scene_row(PORT, 50001, "ESTABLISHED", RoleKind.SERVER, 1, server_side=True),
        scene_row(50001, PORT, "ESTABLISHED", RoleKind.CLIENT, 1),
        scene_row(PORT, 50002, "ESTABLISHED", RoleKind.QUEUED, 2, server_side=True, pid=None),
        scene_row(50002, PORT, "ESTABLISHED", RoleKind.CLIENT, 2),
    )


def _second() -> tuple[Connection, ...]:
    return (
        LISTENER,
        scene_row(PORT, 50001, "CLOSE_WAIT", RoleKind.SERVER, 1, server_side=True),
        scene_row(50001, PORT, "FIN_WAIT_2", RoleKind.ORPHANED, 1, pid=None),
        scene_row(PORT, 50002, "ESTABLISHED", RoleKind.QUEUED, 2, server_side=True, pid=None),
        scene_row(50002, PORT, "ESTABLISHED", RoleKind.CLIENT, 2),
    )


class SceneClock:
    """The scene's clock: a test moves ``now`` by hand."""

    def __init__(self, now: float) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now


def make_scene_app(lang: str) -> ObservatoryApp:
    session = SceneSession(port=PORT, source=_Source(), with_server=True)
    return make_app(session, lang=lang, clock=SceneClock(T0 + 10.5), show_clock=False,
                    student="Alice Martin", host="lab-pc-07")


def scene_clock(app: ObservatoryApp) -> SceneClock:
    """The clock of an app ``make_scene_app`` made."""
    assert isinstance(app.clock, SceneClock), app.clock
    return app.clock


async def play_scene(pilot: Pilot[Any]) -> None:
    """Feed the scene: the first snapshot, the actions, then the state after "Fin"."""
    app = app_of(pilot)
    clock = scene_clock(app)
    for n in (1, 2):
        await app.clients_pane.add_card(n)
    first = Snapshot(T0, _first(), "fixed")
    clock.now = T0
    app.apply(first, [Transition(T0, c, None, c.state, None) for c in first.connections])
    feed: list[ServerEvent | ClientEvent | Action] = [
        ServerEvent("accepted", T0 + 0.01, ep(50001), serial=1),
        ClientEvent("connected", T0 + 0.01, 1, local=ep(50001)),
        ClientEvent("connected", T0 + 0.02, 2, local=ep(50002)),
        Action("send", T0 + 4, 1, "hello [bold]world[/]"),
        ClientEvent("sent", T0 + 4, 1, "hello [bold]world[/]", ep(50001)),
        ServerEvent("message", T0 + 4.001, ep(50001), "hello [bold]world[/]", serial=1),
        Action("send", T0 + 6, 2, "waiting?"),
        ClientEvent("sent", T0 + 6, 2, "waiting?", ep(50002)),
        Action("fin", T0 + 10, 1, "Fin"),
        ClientEvent("fin", T0 + 10, 1, "Fin", ep(50001)),
        ServerEvent("message", T0 + 10.001, ep(50001), "Fin", serial=1),
        ServerEvent("fin", T0 + 10.001, ep(50001), serial=1),
    ]
    for event in feed:
        app._from_session(event)
    # Handled in the order posted: once the last one is among the server's events, all are.
    events = app.recorder.server_events
    await wait_until(pilot, lambda: bool(events) and events[-1] is feed[-1],
                     "the scene's events handled")
    second = Snapshot(T0 + 10, _second(), "fixed")
    before = {c.key: c for c in first.connections}
    transitions = []
    for c in second.connections:
        old = before[c.key]
        if old.state != c.state:
            if c.state == "FIN_WAIT_2":  # as the differ tells it: FIN_WAIT_1 was passed over
                transitions.append(Transition(T0 + 10, c, "ESTABLISHED", "FIN_WAIT_1", 10.0, True))
                transitions.append(Transition(T0 + 10, c, "FIN_WAIT_1", c.state, None))
                continue
            transitions.append(Transition(T0 + 10, c, old.state, c.state, 10.0))
    clock.now = T0 + 10
    app.apply(second, transitions)
    clock.now = T0 + 10.5
    app.table.tick()
    app._update_stamp()  # the stamp shows the scene's final time, whatever the timer did
    app.timeline.flush()  # a fixed scene: nothing older is on its way
    await drawn(pilot)
    # The columns are fitted to the final rows, whenever the layout's own fitting ran (on a
    # busy machine it could run before the last rows were in, and keep a column out).
    app.fit_table()
    await drawn(pilot)
