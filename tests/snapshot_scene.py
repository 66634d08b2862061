"""A fixed lab scene for SVG snapshots: same rows, times and logs on every run.

Single mode, just after client 1 sent "hello" then "Fin", with client 2 waiting in the
accept queue: the situation of question 2 of the handout.
"""

from __future__ import annotations

import atexit
import os
import shutil
import tempfile
import time
from typing import Any

from app_support import wait_until

from lab.net.client import ClientEvent
from lab.net.server import ServerEvent
from lab.observe.model import Connection, Endpoint, Role, RoleKind, Snapshot, Transition
from lab.session import Action, Session
from tui.app import ObservatoryApp

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
    def server_running(self) -> bool:  # type: ignore[override]
        return True

    def start(self, clients: int = 1) -> None:
        self.server = _FakeServer()  # type: ignore[assignment]


def _ep(port: int) -> Endpoint:
    return Endpoint(LOCAL, port)


def _conn(local: int, remote: int | None, state: str, role: Role, pid: int | None) -> Connection:
    return Connection(
        local=_ep(local), remote=_ep(remote) if remote else None, state=state,
        pid=pid, process="python3" if pid else None, role=role,
        recv_q=0, send_q=1 if remote is None else 0,
    )


LISTENER = _conn(PORT, None, "LISTEN", Role(RoleKind.LISTENER), PID)


def _first() -> tuple[Connection, ...]:
    return (
        LISTENER,
        _conn(PORT, 50001, "ESTABLISHED", Role(RoleKind.SERVER, 1, server_side=True), PID),
        _conn(50001, PORT, "ESTABLISHED", Role(RoleKind.CLIENT, 1), PID),
        _conn(PORT, 50002, "ESTABLISHED", Role(RoleKind.QUEUED, 2, server_side=True), None),
        _conn(50002, PORT, "ESTABLISHED", Role(RoleKind.CLIENT, 2), PID),
    )


def _second() -> tuple[Connection, ...]:
    return (
        LISTENER,
        _conn(PORT, 50001, "CLOSE_WAIT", Role(RoleKind.SERVER, 1, server_side=True), PID),
        _conn(50001, PORT, "FIN_WAIT_2", Role(RoleKind.ORPHANED, 1), None),
        _conn(PORT, 50002, "ESTABLISHED", Role(RoleKind.QUEUED, 2, server_side=True), None),
        _conn(50002, PORT, "ESTABLISHED", Role(RoleKind.CLIENT, 2), PID),
    )


def make_scene_app(lang: str) -> ObservatoryApp:
    session = SceneSession(port=PORT, source=_Source(), with_server=True)
    clock = [T0 + 10.5]
    folder = tempfile.mkdtemp(prefix="tcpobs-scene-")
    atexit.register(shutil.rmtree, folder, True)
    app = ObservatoryApp(session, lang=lang, clients=0, clock=lambda: clock[0],
                         show_clock=False, student="Alice Martin", host="lab-pc-07",
                         folder=folder, auto_capture=False)
    app.scene_clock = clock  # type: ignore[attr-defined]
    return app


async def play_scene(pilot: Any) -> None:
    """Feed the scene: the first snapshot, the actions, then the state after "Fin"."""
    app: ObservatoryApp = pilot.app
    clock = app.scene_clock  # type: ignore[attr-defined]
    for n in (1, 2):
        await app.clients_pane.add_card(n)
    first = Snapshot(T0, _first(), "fixed")
    clock[0] = T0
    app.apply(first, [Transition(T0, c, None, c.state, None) for c in first.connections])
    feed = [
        ServerEvent("accepted", T0 + 0.01, _ep(50001), serial=1),
        ClientEvent("connected", T0 + 0.01, 1, local=_ep(50001)),
        ClientEvent("connected", T0 + 0.02, 2, local=_ep(50002)),
        Action("send", T0 + 4, 1, "hello [bold]world[/]"),
        ClientEvent("sent", T0 + 4, 1, "hello [bold]world[/]", _ep(50001)),
        ServerEvent("message", T0 + 4.001, _ep(50001), "hello [bold]world[/]", serial=1),
        Action("send", T0 + 6, 2, "waiting?"),
        ClientEvent("sent", T0 + 6, 2, "waiting?", _ep(50002)),
        Action("fin", T0 + 10, 1, "Fin"),
        ClientEvent("fin", T0 + 10, 1, "Fin", _ep(50001)),
        ServerEvent("message", T0 + 10.001, _ep(50001), "Fin", serial=1),
        ServerEvent("fin", T0 + 10.001, _ep(50001), serial=1),
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
    clock[0] = T0 + 10
    app.apply(second, transitions)
    clock[0] = T0 + 10.5
    app.table.tick()
    app._update_stamp()  # the stamp shows the scene's final time, whatever the timer did
    app.timeline.flush()  # a fixed scene: nothing older is on its way
    await pilot.pause()
    # The columns are fitted to the final rows, whenever the layout's own fitting ran (on a
    # busy machine it could run before the last rows were in, and keep a column out).
    app.fit_table()
    await pilot.pause()
