"""A random walk through the student's actions, with the kernel as the oracle.

A seeded driver (the same seed plays the same keys) presses what a student presses, in any
order: F2, F3, F4, F5, F8, a message, "Fin", Ctrl+R, Ctrl+N, Ctrl+B, F1, F6, F7 with ``[``
and ``]``, Ctrl+S. After each action it checks what must always hold, against ``ss``:

- the table equals the kernel for the lab port (every socket a row, in its state; no row
  the kernel does not hold);
- each client card shows its own socket's state;
- after F1, F2, F4, Ctrl+R, Ctrl+N and Ctrl+B the keys go to a client's input;
- no "accept queue full" line names a client the kernel never showed in a handshake on
  the lab port (SYN_SENT, SYN_RECEIVED);
- every picture's rows were in the kernel when it was taken, and it holds every row of
  the step's scene.

``tests/test_random_walk.py`` runs a bounded walk in the suite; ``bench/random_walk.py``
runs long ones. A failure names its seed and the actions played so far.
"""

from __future__ import annotations

import asyncio
import random
import re
import tempfile
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from app_support import drawn, make_app, press, whole_in_view
from support import lab_session, ss_rows
from textual.pilot import Pilot
from textual.widgets import Input

from tcp_observatory.lab.guide.steps import get_step
from tcp_observatory.lab.observe.model import Connection, Endpoint, RoleKind, Snapshot
from tcp_observatory.tui.app import ObservatoryApp
from tcp_observatory.tui.widgets.clients import ClientCard

Key = tuple[Endpoint, Endpoint | None]
Kernel = dict[Key, str]
MAX_CLIENTS = 4  # F2 beyond this plays a message instead (the walk stays a classroom's)
CHECK_TIMEOUT = 6.0  # seconds the app has to catch up with the kernel after an action

ACTIONS = ("f2", "f3", "f4", "f5", "f8", "message", "fin", "ctrl+r", "ctrl+n", "ctrl+b",
           "f1", "f6", "rewind", "ctrl+s")


class WalkFailure(AssertionError):
    pass


@dataclass
class Picture:
    step: str
    rows: tuple[Connection, ...]
    earlier: frozenset[Key]


@dataclass
class Walk:
    seed: int
    steps: int
    played: list[str] = field(default_factory=list)
    pictures: list[Picture] = field(default_factory=list)
    checks: int = 0
    # Lab-port addresses ss ever showed in a handshake (SYN_SENT, SYN_RECEIVED).
    handshaking: set[str] = field(default_factory=set)


def kernel(port: int) -> Kernel:
    found = ss_rows(port)
    assert found is not None, "ss is needed"
    return {(loc, rem): state for loc, rem, state in found}


def lab_rows(app: ObservatoryApp) -> dict[Key, str]:
    port = app.session.port
    return {r.conn.key: r.conn.state for r in app.table.rows_by_key.values()
            if r.gone_at is None and (r.conn.local.port == port or (
                r.conn.remote is not None and r.conn.remote.port == port))}


DROP_NAMES = re.compile(r"(\d+\.\d+\.\d+\.\d+:\d+), (SYN_SENT|SYN_RECEIVED)")


def note_handshakes(walk: Walk, seen: Kernel) -> None:
    walk.handshaking |= {str(local) for (local, _), state in seen.items()
                         if state in ("SYN_SENT", "SYN_RECEIVED")}
    walk.handshaking |= {str(remote) for (_, remote), state in seen.items()
                         if state == "SYN_RECEIVED" and remote is not None}


def sample_handshakes(port: int, walk: Walk, stop: threading.Event) -> None:
    """ss ten times a second for the whole walk: a handshake the kernel retries lasts a
    second at least, so none the app could name goes unseen."""
    while not stop.wait(0.1):
        note_handshakes(walk, kernel(port))


def drops_differ(app: ObservatoryApp, walk: Walk, seen: Kernel) -> str:
    """A drop line naming a handshake ss never showed on the lab port."""
    note_handshakes(walk, seen)
    for line in app.server_pane.lines_text:
        if "accept queue full" not in line:
            continue
        named = {addr for addr, _ in DROP_NAMES.findall(line)}
        if not named or not named <= walk.handshaking:
            return f"drop line without a lab-port handshake in ss: {line!r}"
    return ""


FOCUS_KEYS = ("f1", "f2", "f4", "ctrl+r", "ctrl+n", "ctrl+b")


def focus_differs(app: ObservatoryApp, walk: Walk) -> str:
    """After a key that must leave the keys with the student's typing, they are in a
    client's input (when one can take them)."""
    if not walk.played or walk.played[-1] not in FOCUS_KEYS or not live_cards(app):
        return ""
    node = app.focused
    if isinstance(node, Input) and any(isinstance(a, ClientCard) for a in node.ancestors):
        return ""
    return f"after {walk.played[-1]} the keys go to {node!r}, not a client's input"


def card_local(card: ClientCard) -> Endpoint | None:
    if not card.local:
        return None
    host, _, port = card.local.rpartition(":")
    return Endpoint(host, int(port))


def table_differs(app: ObservatoryApp, before: Kernel, after: Kernel) -> str:
    """What the table gets wrong, read between two kernel readings ("" if nothing)."""
    shown = lab_rows(app)
    for key, state in before.items():
        if after.get(key) == state and shown.get(key) != state:
            return f"kernel {key} {state}, table {shown.get(key)}"
    for key, state in shown.items():
        if key not in before and key not in after:
            return f"table {key} {state}, not in the kernel"
    return ""


def cards_differ(app: ObservatoryApp, before: Kernel, after: Kernel) -> str:
    lab = Endpoint("127.0.0.1", app.session.port)
    for card in app.clients_pane.cards():
        local = card_local(card)
        if local is None:
            continue  # not connected yet (or refused): no socket to follow
        key = (local, lab)
        state = before.get(key)
        if state is None and key not in after:
            expected = {"", "CLOSED"}  # its socket is gone
        elif after.get(key) == state:
            expected = {state or ""}
        else:
            continue  # moving between the two readings
        if card.kernel_state not in expected:
            return f"card {card.number} says {card.kernel_state!r}, kernel {key} {state}"
    return ""


def picture_differs(pic: Picture, before: Kernel, after: Kernel) -> str:
    held = set(before) | set(after)
    for c in pic.rows:
        if c.key not in held:
            return f"picture {pic.step}: {c.key} {c.state} was not in the kernel"
    shown = {c.key for c in pic.rows}
    for key, state in before.items():
        if after.get(key) == state and key not in pic.earlier and key not in shown:
            return f"picture {pic.step}: the scene's {key} {state} is missing"
    return ""


async def settle(pilot: Pilot[Any], app: ObservatoryApp, what: Callable[[], bool],
                 timeout: float = CHECK_TIMEOUT) -> bool:
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while not what():
        if loop.time() > deadline:
            return False
        await pilot.pause(0.05)
    return True


def busy(app: ObservatoryApp) -> bool:
    """A step's setup or a screenshot is still under way."""
    return app.shots.capturing or any(w.group in ("setup", "screenshot") and w.is_running
                                 for w in app.workers)


async def polled_since(pilot: Pilot[Any], app: ObservatoryApp, when: float) -> None:
    await settle(pilot, app, lambda: app.views.snapshot is not None
                 and app.views.snapshot.time > when)


async def check(pilot: Pilot[Any], app: ObservatoryApp, walk: Walk) -> None:
    """Wait (with a deadline) until the table and the cards agree with the kernel."""
    port = app.session.port
    problem = ""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + CHECK_TIMEOUT
    while True:
        before = kernel(port)
        await polled_since(pilot, app, time.time())
        after = kernel(port)
        problem = (table_differs(app, before, after) or cards_differ(app, before, after)
                   or drops_differ(app, walk, {**before, **after})
                   or focus_differs(app, walk) or columns_differ(app))
        if not problem:
            walk.checks += 1
            return
        if loop.time() > deadline:
            raise WalkFailure(f"seed {walk.seed}, after {walk.played}: {problem}")
        await pilot.pause(0.1)


def columns_differ(app: ObservatoryApp) -> str:
    """Every column the step reads whole in the table's view (at 80x24 as at 160x48)."""
    table = app.table
    if app.views.present or app.views.view != "connections" or not table.region.area:
        return ""
    reads = ("local", "remote", "state", *get_step(app.step_id).reads)
    missing = [c for c in reads if c not in whole_in_view(table)]
    return f"{app.step_id} reads {missing}, not whole in view ({table.shown})" if missing else ""


def live_cards(app: ObservatoryApp) -> list[ClientCard]:
    return [c for c in app.clients_pane.cards() if not c.query_one(Input).disabled]


async def type_in(pilot: Pilot[Any], card: ClientCard, text: str) -> None:
    field = card.query_one(Input)
    field.focus()
    await drawn(pilot)
    if pilot.app.focused is not field:
        return
    await press(pilot, *[ch if ch != " " else "space" for ch in text])
    await press(pilot, "enter")


async def play(pilot: Pilot[Any], app: ObservatoryApp, rng: random.Random, action: str,
               walk: Walk) -> None:
    if action == "f2" and len(app.clients_pane.cards()) >= MAX_CLIENTS:
        action = "message"
    walk.played.append(action)
    if action in ("message", "fin"):
        cards = live_cards(app)
        if cards:
            await type_in(pilot, rng.choice(cards), "Bonjour" if action == "message" else "Fin")
        return
    if action == "f3":
        cards = app.clients_pane.cards()
        if cards:
            card = rng.choice(cards)
            card.query_one(Input).focus() if not card.query_one(Input).disabled else card.focus()
            await drawn(pilot)
        await press(pilot, "f3")
        return
    if action == "f8":
        await press(pilot, "f8")
        await settle(pilot, app, lambda: not app.session.server_running, 2.0)
        await press(pilot, "f8")  # a stopped server ends no step: start it again
        await settle(pilot, app, lambda: app.session.server_running, 4.0)
        return
    if action == "rewind":
        await press(pilot, "f7")
        for key in rng.choice((["left_square_bracket"], ["left_square_bracket"] * 2
                               + ["right_square_bracket"])):
            await press(pilot, key)
        await press(pilot, "f7")
        return
    if action == "ctrl+s":
        port = app.session.port
        await settle(pilot, app, lambda: not busy(app))
        before = kernel(port)
        await polled_since(pilot, app, time.time())
        count = len(app.shots.saved) + len(app.shots.save_errors)
        await press(pilot, "ctrl+s")
        await settle(pilot, app, lambda: len(app.shots.saved) + len(app.shots.save_errors) > count
                     and not busy(app), 15.0)
        after = kernel(port)
        if walk.pictures:
            problem = picture_differs(walk.pictures[-1], before, after)
            if problem:
                raise WalkFailure(f"seed {walk.seed}, after {walk.played}: {problem}")
        return
    await press(pilot, action)
    if action == "ctrl+r":
        await settle(pilot, app, lambda: not busy(app), 20.0)


def record_pictures(app: ObservatoryApp, walk: Walk) -> None:
    """Keep what each picture shows (its rows, and the earlier ones it leaves out)."""
    real = app.enter_capture

    def enter_capture(step: str, shown: Snapshot) -> None:
        scene = app.scene.only(shown)
        walk.pictures.append(Picture(step, tuple(
            c for c in scene.connections if c.role.kind is not RoleKind.OTHER),
            frozenset(app.scene.earlier)))
        real(step, shown)

    app.enter_capture = enter_capture  # type: ignore[method-assign]


async def run_walk(seed: int, steps: int, size: tuple[int, int] = (160, 48)) -> Walk:
    rng = random.Random(seed)
    walk = Walk(seed, steps)
    with tempfile.TemporaryDirectory(prefix="tcpobs-walk-") as folder:
        # The kernel's own dump where there is one (queues and retries: drops can be judged).
        app = make_app(lab_session(source="auto"), folder, clients=1, student="Walk Student",
                       show_clock=False)
        async with app.run_test(size=size) as pilot:
            record_pictures(app, walk)
            stop = threading.Event()
            sampler = threading.Thread(target=sample_handshakes,
                                       args=(app.session.port, walk, stop), daemon=True)
            sampler.start()
            try:
                await settle(pilot, app, lambda: len(app.clients_pane.cards()) == 1)
                await check(pilot, app, walk)
                for _ in range(steps):
                    await play(pilot, app, rng, rng.choice(ACTIONS), walk)
                    await settle(pilot, app, lambda: not busy(app), 20.0)
                    await check(pilot, app, walk)
            finally:
                stop.set()
                sampler.join(5)
    return walk
