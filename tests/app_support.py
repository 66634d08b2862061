"""Helpers for the tests that drive the Textual app with Pilot, written once (support.py
holds the Textual-free ones)."""

from __future__ import annotations

import asyncio
import atexit
import shutil
import subprocess
import tempfile
import time
from collections import Counter
from collections.abc import Callable, Mapping, Sized
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypedDict

from rich.style import Style
from support import lab_session, ss_rows
from textual import events
from textual.app import App, ComposeResult
from textual.keys import _character_to_key, key_to_character
from textual.pilot import Pilot
from textual.screen import Screen
from textual.strip import Strip
from textual.widget import Widget

from tcp_observatory.lab.observe.model import Endpoint
from tcp_observatory.lab.session import Session
from tcp_observatory.tui.app import ObservatoryApp
from tcp_observatory.tui.lookup import present
from tcp_observatory.tui.widgets.connections import ConnectionsTable, parts

if TYPE_CHECKING:
    from typing_extensions import Unpack


# pytest-textual-snapshot's ``snap_compare`` fixture: (app, press=..., terminal_size=...,
# run_before=...) -> whether the SVG matches the stored one.
SnapCompare = Callable[..., bool]


class AppOptions(TypedDict, total=False):
    """ObservatoryApp's settings past its session and folder."""

    lang: str
    clients: int
    clock: Callable[[], float]
    show_clock: bool
    start_session: bool
    present: bool
    view: str
    student: str | None
    host: str | None
    autopilot: Callable[[Any], None] | None
    auto_capture: bool
    demo: bool
    signals: bool
    colours: str


def make_app(session: Session | None = None, folder: str | Path | None = None,
             **options: Unpack[AppOptions]) -> ObservatoryApp:
    """The app in English with no client, no name prompt and no automatic screenshots
    unless ``options`` say otherwise.

    ``session``: a bound single-mode ``lab_session()`` when not given; ``folder``: a
    temporary one, removed when the tests end, when not given.
    """
    if folder is None:  # the app may write there after the test has returned
        folder = Path(tempfile.mkdtemp(prefix="tcpobs-app-"))
        atexit.register(shutil.rmtree, folder, True)
    settings: AppOptions = {"lang": "en", "clients": 0, "student": "Test Student",
                            "auto_capture": False}
    settings.update(options)
    return ObservatoryApp(lab_session() if session is None else session, folder=folder,
                          **settings)


def app_of(pilot: Pilot[Any]) -> ObservatoryApp:
    """The observatory ``pilot`` drives."""
    assert isinstance(pilot.app, ObservatoryApp), pilot.app
    return pilot.app


async def wait_until(pilot: Pilot[Any], predicate: Callable[[], object], what: str,
                     timeout: float = 15) -> None:
    """Let the app run until ``predicate()`` holds; fail with ``what`` after ``timeout`` s."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while not predicate():
        if loop.time() > deadline:
            app = pilot.app
            if isinstance(app, ObservatoryApp):
                seen = kernel_beside_table(app)
            else:
                table = getattr(app, "table", None)  # a test host may have no table
                seen = "table: " + str([] if table is None else [
                    (str(r.conn.local), r.conn.remote_text, r.conn.state, r.conn.role)
                    for r in table.rows_by_key.values()])
            raise AssertionError(f"timed out after {timeout} s waiting for {what}; {seen}")
        await pilot.pause(0.05)


Key = tuple[Endpoint, "Endpoint | None"]
LISTED = 40  # disagreeing rows named in a report; the others are counted


def kernel_beside_table(app: ObservatoryApp) -> str:
    """The lab port's rows as the kernel holds them (``ss``, the independent witness),
    as the observer's snapshot on screen has them, and as the table shows them: each
    row where the three disagree, each one's count by state, and how long ago the
    snapshot was polled. A row missing from the table so names its cause: the kernel no
    longer holds it, the observer did not see it (or stopped polling), or the table did
    not show what the observer saw."""
    port = app.session.port

    def on_port(local: Endpoint, remote: Endpoint | None) -> bool:
        return local.port == port or (remote is not None and remote.port == port)

    shown = app.views.snapshot
    snapshot = {} if shown is None else {
        c.key: c.state for c in shown.connections if on_port(*c.key)}
    table = {r.conn.key: r.conn.state if r.gone_at is None else "CLOSED (leaving)"
             for r in app.table.rows_by_key.values() if on_port(*r.conn.key)}
    sides: dict[str, Mapping[Key, str]] = {"snapshot": snapshot, "table": table}
    try:
        listed = ss_rows(port)
    except (OSError, subprocess.SubprocessError) as exc:
        note = f"ss failed ({exc}): the kernel's rows are not shown"
    else:
        note = "" if listed is not None else "ss is not installed: the kernel's rows are not shown"
        if listed is not None:
            sides = {"kernel (ss)": {(local, remote): state for local, remote, state in listed},
                     **sides}
    every: set[Key] = set()
    for side in sides.values():
        every |= side.keys()
    keys = sorted(every, key=lambda k: (str(k[0]), str(k[1])))
    differ = [k for k in keys if len({side.get(k, "-") for side in sides.values()}) > 1]
    lines = [note] if note else []
    lines.append("no snapshot on screen" if shown is None else
                 f"the snapshot on screen (seq {shown.seq}) was polled "
                 f"{time.time() - shown.time:.1f} s ago")
    lines.append("; ".join(f"{name}: {dict(sorted(Counter(side.values()).items()))}"
                           for name, side in sides.items()))
    lines.append(f"{len(differ)} of {len(keys)} connections differ"
                 + (":" if differ else " (each side holds the same rows)"))
    for local, remote in differ[:LISTED]:
        lines.append(f"  {local} -> {remote or '*'}: " + ", ".join(
            f"{name} {side.get((local, remote), '-')}" for name, side in sides.items()))
    if len(differ) > LISTED:
        lines.append(f"  and {len(differ) - LISTED} more")
    return "\n".join(lines)


# -- keys ----------------------------------------------------------------------------------
# Pilot.press waits after each key until the process *looks* idle: until a 20 ms slice
# passed with under 1 ms of CPU in the whole process. The app's observer thread polls the
# kernel every 0.1 s (a few ms of the kernel's work each time), so that slice is often
# missed: a key took 100 to 170 ms, a third of the suite's time. ``press`` waits instead
# for what the key set going: every message it caused handled, by every widget.

# The private names the keys lean on (tests/test_keys.py fails when one is gone): asyncio's
# list of the callbacks ready to run, Textual's name of a key typed as a character, the
# screen's update (what its 60-a-second timer calls) and what waits for it.
PRIVATE = ("asyncio.BaseEventLoop._ready", "textual.keys._character_to_key",
           "Screen._on_timer_update", "Screen._callbacks", "Screen._layout_required",
           "Screen._scroll_required", "Screen._repaint_required", "Screen._dirty_widgets")


def _update_pending(screen: Screen[Any]) -> bool:
    """Whether the screen's next update has work: a layout, a scroll, widgets to draw
    again, or callbacks waiting for it. A layout can ask for another (a table that grew
    shows its scrollbar, laid out only then): one update is not always enough."""
    return bool(screen._layout_required or screen._scroll_required
                or screen._repaint_required or screen._dirty_widgets or screen._callbacks)


def key_event(key: str) -> events.Key:
    """The event a terminal sends for ``key``, as Pilot.press names it ("a", "!", "space",
    "enter", "f2", "ctrl+q"); a single character is its own text."""
    name = _character_to_key(key) if len(key) == 1 and not key.isalnum() else key
    return events.Key(name, key if len(key) == 1 else key_to_character(name))


def _queued(app: App[Any]) -> bool:
    """Whether a message waits in the queue of the app or of one of its widgets."""
    if app.message_queue_size:
        return True
    return any(node.message_queue_size for screen in app.screen_stack
               for node in screen.walk_children(with_self=True))


async def settle(pilot: Pilot[Any], timeout: float = 15) -> None:
    """Let the app run until it has nothing left to do now: no message queued anywhere
    and nothing ready to run in the event loop (what is left waits on a timer, a socket
    or a thread). What was posted before this call has then been handled, and so has all
    it posted in turn, including a handler that awaited a mount. Once the app quits, what
    is left queued is never handled: no wait."""
    app = pilot.app
    loop = asyncio.get_running_loop()
    ready: Sized = loop._ready  # type: ignore[attr-defined]  # what runs at its next turn
    deadline = loop.time() + timeout
    while app.return_code is None and app.is_running:
        await asyncio.sleep(0)
        if not ready and not _queued(app):
            return
        if loop.time() > deadline:
            raise AssertionError(f"the app was still busy after {timeout} s")


async def drawn(pilot: Pilot[Any]) -> None:
    """Let the app handle what it has to (``settle``), draw the screen as its timer does 60
    times a second, and run what waited for that drawing (``call_after_refresh``), in turn:
    what Pilot.pause() is used for, without waiting for the process to look idle."""
    app = pilot.app
    await settle(pilot)
    await app.animator.wait_until_complete()
    for _ in range(20):  # a callback after a refresh may ask for another: a few rounds
        if app.return_code is not None or not app.is_running:
            break
        screen = app.screen
        screen._on_timer_update()
        await settle(pilot)
        if not _update_pending(screen):
            break


async def press(pilot: Pilot[Any], *keys: str) -> None:
    """Press ``keys`` one after the other, as Pilot.press does: each once the app has
    handled the one before and drawn the screen (``drawn``)."""
    app = pilot.app
    for key in keys:
        event = key_event(key)
        event.set_sender(app)
        app.post_message(event)
        await drawn(pilot)


# -- what the screen shows -----------------------------------------------------------------
def screen_strips(app: App[Any]) -> list[Strip]:
    return app.screen._compositor.render_strips()


def screen_lines(app: App[Any]) -> list[str]:
    return [strip.text for strip in screen_strips(app)]


def style_at(app: App[Any], x: int, y: int) -> Style:
    """The style of the cell at (x, y) on screen."""
    col = 0
    for seg in screen_strips(app)[y]:
        if col <= x < col + len(seg.text):
            return seg.style or Style()
        col += len(seg.text)
    raise AssertionError(f"no cell at {x},{y}")


def screen_cells(app: App[Any]) -> list[list[tuple[str, Style]]]:
    """Every cell on screen, with its style, row by row."""
    rows = []
    for strip in screen_strips(app):
        row: list[tuple[str, Style]] = []
        for seg in strip:
            row.extend((ch, seg.style or Style()) for ch in seg.text)
        rows.append(row)
    return rows


# -- a table alone --------------------------------------------------------------------------
TABLE_T0 = 1_790_000_000.0  # where a table_app's clock stands unless told


class TableHost(App[None]):
    """A headless app holding one ConnectionsTable, whose clock is the test's: the test
    moves time with ``tick(when)``. A table reading the real clock in ``apply`` did its
    once-a-second work at whatever moment a loaded machine reached it."""

    def __init__(self, clock: Callable[[], float], lang: str) -> None:
        super().__init__()
        self._table_clock, self._table_lang = clock, lang

    def compose(self) -> ComposeResult:
        yield ConnectionsTable(self._table_lang, id="t", clock=self._table_clock)

    @property
    def table(self) -> ConnectionsTable:
        return self.query_one(ConnectionsTable)


def table_app(clock: Callable[[], float] = lambda: TABLE_T0, lang: str = "en") -> TableHost:
    return TableHost(clock, lang)


def whole_in_view(table: ConnectionsTable) -> list[str]:
    """The columns whose every cell is in the table's view, from its own geometry: each
    column's x and width against the horizontal scroll and the region's width (a stacked
    column counts for its two)."""
    left = table.scroll_x
    right = left + table.scrollable_content_region.width
    x, whole = 0, list[str]()
    for key, column in table.columns.items():
        width = column.get_render_width(table)
        if left <= x and x + width <= right:
            whole.extend(parts([str(key.value)]))
        x += width
    return whole


def view_drawn(app: ObservatoryApp) -> bool:
    """The view F9 chose is on screen and drawn: the diagram with its connections on it,
    the ladder with its rows (both are made the first time they are shown)."""
    view = app.views.view
    if view == "connections":
        return app.table.region.area > 0
    from tcp_observatory.tui.widgets.diagram import StateDiagram
    from tcp_observatory.tui.widgets.ladder import LadderView

    shown = present(app, Widget, view)  # looked for, never made here
    if not shown or shown[0].region.area == 0:
        return False
    widget = shown[0]
    if isinstance(widget, StateDiagram):
        return bool(widget.markers)
    return isinstance(widget, LadderView) and bool(widget.lines_text)


async def press_f9(pilot: Pilot[Any], times: int = 1) -> None:
    """F9 ``times``, then wait until the view it chose is drawn."""
    for _ in range(times):
        await press(pilot, "f9")
    app = app_of(pilot)
    await wait_until(pilot, lambda: view_drawn(app), f"the {app.views.view} drawn")
