"""The connections table leans on DataTable's private bookkeeping, and every log and table on
ScrollView's resize hook (tui/widgets/fast_table.py).

These tests fail when the fast path is off: a Textual that moved one of those names is
caught here (by the scheduled run on the newest releases), not by a student at 10,000 rows
whose keys wait behind row-by-row removals. And the fast path shows what the public API
shows.
"""

from __future__ import annotations

import gc
import re
import time
import weakref

import pytest
from app_support import drawn, table_app, wait_until
from rich.text import Text
from support import LOCALHOST, ROOT, crowd
from textual.app import App, ComposeResult
from textual.containers import Vertical
from textual.scrollbar import ScrollBar
from textual.widgets import Static

from tcp_observatory.lab.observe.model import Snapshot
from tcp_observatory.tui.widgets import fast_table
from tcp_observatory.tui.widgets.pane_log import PaneLog

# The private names of DataTable and Textual that fast_table.py alone may use.
PRIVATE = re.compile(
    r"\._(data|row_locations|updated_cells|update_count|require_update_dimensions|y_offsets"
    r"|row_render_cache|row_renderable_cache|line_cache|cell_render_cache)\b"
    r"|_two_way_dict|TwoWayDict|_size_updated\b|_scroll_update\b"
    r"|_styles_cache\b|StylesCache|get_inner_outer"
)


def test_the_fast_path_is_on_with_this_textual() -> None:
    assert fast_table.missing() == []
    assert fast_table.FAST


class LogBeside(App[None]):
    """A log taller than its window, beside a line whose updates lay the screen out."""

    AUTO_FOCUS = None  # a focus would restyle (and redraw) the log's scrollbar

    def compose(self) -> ComposeResult:
        yield PaneLog(500, id="log")
        yield Static("0", id="other")


async def test_a_layout_elsewhere_leaves_a_logs_scrollbars_alone(
        monkeypatch: pytest.MonkeyPatch) -> None:
    """The screen is laid out again for another widget: the log's scrollbar is not redrawn
    (ScrollView redrew it at every layout); once the log itself grows, it follows, without
    a layout of the whole screen (Textual's own declares one at every line written)."""
    app = LogBeside()
    async with app.run_test(size=(60, 20)) as pilot:
        log = app.query_one(PaneLog)
        log.add([Text(f"line {i}") for i in range(100)])
        await wait_until(pilot, lambda: log.show_vertical_scrollbar, "a scrollbar")
        bar = log.vertical_scrollbar
        await wait_until(pilot, lambda: bar.window_virtual_size == 100
                         and bar.position == log.max_scroll_y > 0, "100 lines, at the end")
        redraws: list[bool] = []

        def refresh(*_args: object, **_kwargs: object) -> ScrollBar:
            redraws.append(True)
            return bar

        monkeypatch.setattr(bar, "refresh", refresh)
        layouts: list[object] = []
        app.screen.screen_layout_refresh_signal.subscribe(app, layouts.append)
        other = app.query_one("#other", Static)
        for n in range(1, 6):
            other.update("x" * n)  # laid out again (Static.update's default)
            await wait_until(pilot, lambda: len(layouts) >= n, f"layout {n}")  # noqa: B023
        assert redraws == []
        log.add([Text(f"more {i}") for i in range(50)])
        await wait_until(pilot, lambda: bar.window_virtual_size == 150, "150 lines")
        assert redraws
        assert len(layouts) == 5  # the log grew under its bar: no layout of the screen


async def test_a_table_in_an_app_takes_the_fast_path() -> None:
    from tcp_observatory.tui.widgets.connections import ConnectionsTable

    app = table_app()
    async with app.run_test(size=(120, 30)):
        table = app.query_one(ConnectionsTable)
        assert fast_table.missing(table) == []
        assert table.fast
        # the caches were sized to a screen, not left to grow with the rows
        for name, size in fast_table.CACHE_SIZES.items():
            assert getattr(table, name).maxsize == size


async def test_the_fast_path_shows_what_the_public_api_shows() -> None:
    """The same changes through both paths: the same rows, in the same order, same cells."""
    from tcp_observatory.tui.widgets.connections import ConnectionsTable

    async def play(fast: bool) -> list[list[str]]:
        app = table_app()
        rows = crowd(1200)
        async with app.run_test(size=(160, 30)) as pilot:
            table = app.query_one(ConnectionsTable)
            table.fast = fast
            t0 = time.time()
            table.apply(Snapshot(t0, tuple(rows), "test", seq=1, changed=tuple(rows),
                                 gone=()))
            gone = rows[::7]
            kept = tuple(r for r in rows if r not in gone)
            moved = tuple(r._replace(state="CLOSE_WAIT") for r in kept[:50])
            table.apply(Snapshot(t0, moved + kept[50:], "test", seq=2, changed=moved,
                                 gone=tuple(gone) + kept[:50]))
            table.tick(t0 + 2)
            await drawn(pilot)
            columns = [c for c in table.shown if c != "age"]
            at = [table.shown.index(c) for c in columns]
            return [[table.get_row_at(i)[j].plain for j in at]
                    for i in range(table.row_count)]

    fast, public = await play(True), await play(False)
    assert len(fast) == 1200 - len(range(0, 1200, 7))
    assert fast == public
    assert sum(r.count("CLOSE_WAIT") for r in fast) == 50
    assert fast[0][1] == f"{LOCALHOST}:20001"  # sorted by address, the first one gone


async def test_rows_of_two_lines_draw_the_same_on_both_paths() -> None:
    """The stacked columns (80 columns): every row two lines high; the fast path's line
    offsets put each line of each row where the public API puts it, scrolled or not."""
    from tcp_observatory.lab.grading.picture import screen_lines
    from tcp_observatory.tui.widgets.connections import ConnectionsTable, stack

    async def play(fast: bool) -> list[list[str]]:
        app = table_app()
        rows = crowd(40)
        async with app.run_test(size=(80, 24)) as pilot:
            table = app.query_one(ConnectionsTable)
            table.fast = fast
            table.set_shown(stack(("local", "remote", "state", "role", "process")))
            assert table.line_height == 2
            t0 = time.time()
            table.apply(Snapshot(t0, tuple(rows), "test", seq=1, changed=tuple(rows),
                                 gone=()))
            table.apply(Snapshot(t0, tuple(rows[5:]), "test", seq=2, changed=(),
                                 gone=tuple(rows[:5])))
            table.tick(t0 + 5)
            screens = []
            for y in (0, 7, 30):
                table.scroll_to(y=y, animate=False)
                await drawn(pilot)
                screens.append(screen_lines(app.export_screenshot()))
            assert table.virtual_size.height == table.header_height + 2 * 35
            return screens

    fast, public = await play(True), await play(False)
    assert fast == public
    text = "\n".join(fast[0])
    assert f"{LOCALHOST}:20006 →" in text and "ESTABLISHED" in text


class Cards(App[None]):
    CSS = ".c0 { background: red; } .c1 { background: blue 50%; } .c2 { background: green; }"

    def compose(self) -> ComposeResult:
        yield Vertical(id="cards")


async def test_widgets_removed_leave_none_of_their_drawn_lines_behind() -> None:
    """Cards drawn and removed (a scene's clients, F4) are freed with all they drew:
    Textual's cache of a colour computation kept every widget's StylesCache alive."""
    app = Cards()
    caches: list[weakref.ref[object]] = []
    async with app.run_test(size=(40, 20)) as pilot:
        box = app.query_one("#cards")
        for scene in range(4):
            cards = [Static(f"card {scene}-{i}", classes=f"c{i % 3}") for i in range(6)]
            await box.mount_all(cards)
            await drawn(pilot)
            assert all(card.region.area for card in cards)
            caches += [weakref.ref(card._styles_cache) for card in cards]
            await box.remove_children()
            await drawn(pilot)
        del cards
        gc.collect()
        # The last scene's cards may stay in their container's last arrangement (one).
        earlier = caches[:-6]
        kept = sum(ref() is not None for ref in earlier)
        assert kept == 0, f"{kept} of {len(earlier)} removed widgets' StylesCache kept"


def test_no_private_textual_name_outside_fast_table() -> None:
    """One module leans on Textual's internals; a new use elsewhere fails here."""
    found = []
    for folder in ("lab", "tui", "tests", "bench"):
        for path in sorted((ROOT / folder).rglob("*.py")):
            if path.name in ("fast_table.py", "test_fast_table.py"):
                continue
            for n, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
                if PRIVATE.search(line):
                    found.append(f"{path.relative_to(ROOT)}:{n}: {line.strip()}")
    assert found == []


def test_the_check_names_a_missing_name(monkeypatch: pytest.MonkeyPatch) -> None:
    """``missing`` reports what a Textual lacks (so the tests above can fail)."""
    monkeypatch.setattr(fast_table, "CLASS_NAMES", (*fast_table.CLASS_NAMES, "_gone_name"))
    monkeypatch.setattr(fast_table, "TwoWayDict", None)
    monkeypatch.setattr(fast_table, "SIZE_UPDATED", ("self", "size"))
    assert fast_table.missing() == ["textual._two_way_dict.TwoWayDict",
                                    "ScrollView._size_updated('size',), "
                                    "ScrollView._scroll_update",
                                    "DataTable._gone_name"]


def test_the_styles_cache_fix_computes_what_textual_computes() -> None:
    """The method put in place of StylesCache.get_inner_outer gives what Textual's own
    gives (called uncached), for opaque, translucent and transparent colours: a Textual
    that changed the computation but kept its shape would fail here."""
    from textual.color import Color

    from tcp_observatory.tui.widgets import fast_table

    assert fast_table.UNLEAKED, "the pinned Textual has the cached method: the fix is on"
    theirs = fast_table.TEXTUAL_INNER_OUTER
    assert theirs is not None
    colours = [Color(0, 0, 0), Color(30, 30, 46), Color(255, 0, 0, 0.5), Color(0, 0, 0, 0),
               Color.parse("#5fafff"), Color(250, 250, 250, 0.2)]
    for base in colours:
        for background in colours:
            ours = fast_table._get_inner_outer(None, base, background)
            assert ours == theirs(None, base, background), (base, background)
