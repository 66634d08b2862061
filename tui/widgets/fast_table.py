"""Every private name of Textual the app leans on, in one place: DataTable's bookkeeping
(the connections table) and ScrollView's resize hook (every log and table).

With 10,000 rows DataTable's public API costs too much on the way of a key: each
``remove_row`` renumbers every row, each ``update_cell`` asks for a redraw of the whole
table, and its list of line offsets is rebuilt after every change (~15 ms). ``FastTable``
does those in batches by writing DataTable's own bookkeeping. That bookkeeping is private:
it may change in any Textual release, so

- pyproject.toml caps Textual below its next release line (raised on purpose after a run);
- ``missing()`` names what this Textual lacks, and ``FAST`` says whether the fast path is on;
  ``tests/test_fast_table.py`` fails when it is off, so a Textual that moved a name is seen
  by the scheduled run on the newest releases, not by a student at 10,000 rows;
- with a name missing, every method here falls back to the public API (slower, correct).

Textual's ScrollView (DataTable, RichLog) updates its scrollbars at every layout of the
screen, wherever the change: the compositor hands it the size of its window as its "virtual
size", which it compares with its own (the content's), and they differ whenever the content
is taller than the window. Each layout then redrew the scrollbars of the table, the timeline
and both panes' logs: a keystroke in a client's input (Textual's Input lays the screen out
as its text grows) repainted them all. And each line written to a log, each row added to the
table, laid the whole screen out (Widget's ``virtual_size`` asks for it). ``SteadyScrollbars``
updates the scrollbars only when the widget's size, its content's size or its window
changed, and lays the screen out only when a scrollbar comes or goes.

Textual's StylesCache (every widget has one, holding its drawn lines) caches a method,
``get_inner_outer``, with ``lru_cache``: each cache key holds the StylesCache itself, so up
to 1,024 of them, with the lines they hold, outlive their widgets (Textualize/textual#6665):
the cards of a closed scene, every table a test made. Every full garbage collection walks
them (255,000 objects after 13 tests). ``UNLEAKED`` says whether this module put a cache
keyed on the two colours alone in its place; a Textual without the bug is left as it is.

Nothing outside this module reads or writes a private Textual name.
"""

from __future__ import annotations

import inspect
from collections.abc import Callable, Iterable
from functools import lru_cache

from rich.text import Text
from textual.color import Color
from textual.geometry import Size
from textual.reactive import Reactive
from textual.scroll_view import ScrollView
from textual.style import Style
from textual.widgets import DataTable
from textual.widgets.data_table import CellKey, ColumnKey, RowKey

try:
    from textual._two_way_dict import TwoWayDict
except ImportError:  # another Textual
    TwoWayDict = None  # type: ignore[assignment,misc]
try:
    from textual._styles_cache import StylesCache
except ImportError:  # another Textual
    StylesCache = None  # type: ignore[assignment,misc]

# What the batches use: on the class, and on every table once it is made.
CLASS_NAMES = ("remove_row", "check_idle", "_y_offsets")
INSTANCE_NAMES = ("_data", "_row_locations", "_updated_cells", "_update_count",
                  "_require_update_dimensions", "rows")
# DataTable's render caches and their sizes here: rows and lines of a screen 100 rows tall,
# with the cursor's and the mouse's versions of some; cells of such a screen, 12 columns.
CACHE_SIZES = {"_row_render_cache": 300, "_row_renderable_cache": 300, "_line_cache": 300,
               "_cell_render_cache": 2400}


# ScrollView's hook, as SteadyScrollbars overrides it.
SIZE_UPDATED = ("self", "size", "virtual_size", "container_size", "layout")


def _hook_is_there() -> bool:
    hook = getattr(ScrollView, "_size_updated", None)
    return (hook is not None and tuple(inspect.signature(hook).parameters) == SIZE_UPDATED
            and callable(getattr(ScrollView, "_scroll_update", None)))


def missing(table: DataTable[Text] | None = None) -> list[str]:
    """The private names the fast path needs that this Textual lacks (empty: all there).
    With a table, its instance's names and caches are checked too."""
    out = [] if TwoWayDict is not None else ["textual._two_way_dict.TwoWayDict"]
    out += [] if _hook_is_there() else [f"ScrollView._size_updated{SIZE_UPDATED[1:]}, "
                                        "ScrollView._scroll_update"]
    out += [f"DataTable.{n}" for n in CLASS_NAMES if not hasattr(DataTable, n)]
    if table is not None:
        out += [f"DataTable().{n}" for n in INSTANCE_NAMES if not hasattr(table, n)]
        out += [f"DataTable().{n}.maxsize" for n in CACHE_SIZES
                if not hasattr(getattr(table, n, None), "maxsize")]
    return out


FAST = not missing()
STEADY = _hook_is_there()


# StylesCache.get_inner_outer as Textual writes it (its first parameter is the instance).
INNER_OUTER = ("cls", "base_background", "background")
# Textual's own, uncached, once replaced: the tests compare it with ours.
TEXTUAL_INNER_OUTER: Callable[..., tuple[Style, Style]] | None = None


@lru_cache(1024)
def _inner_outer(base_background: Color, background: Color) -> tuple[Style, Style]:
    """What StylesCache.get_inner_outer computes: a function of the two colours alone."""
    return Style(background=base_background + background), Style(background=base_background)


def _get_inner_outer(self: object, base_background: Color,
                     background: Color) -> tuple[Style, Style]:
    return _inner_outer(base_background, background)


def _unleak_styles_cache() -> bool:
    """Put ``_inner_outer`` in place of Textual's method where that one is cached on the
    instance (True); leave a Textual without the bug, or without the method, alone."""
    method = getattr(StylesCache, "get_inner_outer", None)
    wrapped = getattr(method, "__wrapped__", None)
    if StylesCache is None or wrapped is None or not hasattr(method, "cache_clear"):
        return False
    if tuple(inspect.signature(wrapped).parameters) != INNER_OUTER:
        return False
    global TEXTUAL_INNER_OUTER
    TEXTUAL_INNER_OUTER = wrapped
    StylesCache.get_inner_outer = _get_inner_outer  # type: ignore[method-assign,assignment]
    return True


UNLEAKED = _unleak_styles_cache()


class SteadyScrollbars(ScrollView):
    """A ScrollView whose scrollbars are updated (and redrawn) only when its size, its
    content's size or its window changed, not at every layout of the screen.

    Listed after the widget's Textual class (``class Log(RichLog, SteadyScrollbars)``):
    Textual takes a widget's CSS and component classes along its first bases."""

    _steady: tuple[object, ...] | None = None  # what the scrollbars were last updated for
    # Widget's own declares a layout of the whole screen at each change of the content's
    # size: a line written to a log, a row added to the table. Here only the scrollbars
    # follow, and the screen is laid out again only when one comes or goes, or when the
    # widget's own size follows its content (height: auto).
    virtual_size: Reactive[Size] = Reactive(Size(0, 0), layout=not STEADY)

    def watch_virtual_size(self) -> None:
        if not STEADY:
            return
        if self.styles.auto_dimensions or not self.is_mounted or not self.container_size:
            self.refresh(layout=True)
            return
        shown = (self.show_vertical_scrollbar, self.show_horizontal_scrollbar)
        self._scroll_update(self.virtual_size)
        if (self.show_vertical_scrollbar, self.show_horizontal_scrollbar) != shown:
            self.refresh(layout=True)  # the compositor places (or removes) the bar
        else:
            self._steady = self._steady_key(self.size, self.container_size)

    def _steady_key(self, size: Size, container_size: Size) -> tuple[object, ...]:
        return (size, self.virtual_size, container_size, self.styles.gutter,
                self.show_vertical_scrollbar, self.show_horizontal_scrollbar)

    def _size_updated(self, size: Size, virtual_size: Size, container_size: Size,
                      layout: bool = True) -> bool:
        if not STEADY:
            return super()._size_updated(size, virtual_size, container_size, layout)
        if self._steady == self._steady_key(size, container_size):
            return False  # what ScrollView returns when nothing changed
        changed = super()._size_updated(size, virtual_size, container_size, layout)
        self._steady = self._steady_key(size, container_size)
        return changed


class _Lines:
    """DataTable's ``_y_offsets`` for a table whose rows are all ``height`` lines high:
    screen line y is line y % height of row y // height. DataTable rebuilds that list (a
    tuple per line) after every change: ~15 ms at 10,000 rows, once a second with a
    browser's churn, on the way of a key."""

    __slots__ = ("_height", "_table")

    def __init__(self, table: DataTable[Text], height: int) -> None:
        self._table = table
        self._height = height

    def __len__(self) -> int:
        return len(self._table.rows) * self._height

    def __getitem__(self, y: int) -> tuple[RowKey, int]:
        row, line = divmod(y, self._height)
        key = self._table._row_locations.get_key(row) if 0 <= y else None
        if key is None:
            raise IndexError(y)
        return key, line

    def clear(self) -> None:
        """DataTable.clear() empties its list; there is nothing kept here."""


class FastTable(DataTable[Text], SteadyScrollbars):
    """A DataTable whose rows are all one line (or all ``line_height`` lines) high, written,
    placed and removed in batches."""

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id, cursor_type="row", zebra_stripes=False)
        # DataTable's render caches are keyed by its update count: after each change they
        # hold stale lines until full. Sized to a tall screen, not to 10,000 cells (with
        # 10,000 rows the stale lines had cost ~15 MiB).
        for cache, size in CACHE_SIZES.items():
            if hasattr(getattr(self, cache, None), "maxsize"):
                getattr(self, cache).maxsize = size
        self.fast = not missing(self)  # False: the public API, row by row
        self._written = False  # cells written, not yet drawn (see commit)
        self.line_height = 1  # every row's height: rows are added with it

    @property
    def draws(self) -> int:
        """How many times the table was told to draw its cells again (DataTable's update
        count: a write that reads the same as before must not add one)."""
        return int(self._update_count)

    def written_cell(self, row_key: RowKey, column_key: ColumnKey) -> Text | None:
        """The cell as last written (None: no such row or column yet)."""
        if self.fast:
            return self._data.get(row_key, {}).get(column_key)
        try:
            return self.get_cell(row_key, column_key)
        except Exception:  # the public API raises CellDoesNotExist / KeyError
            return None

    def set_cell(self, row_key: RowKey, column_key: ColumnKey, value: Text,
                 wider: bool) -> None:
        """``update_cell``, with its redraw left to ``commit``: a thousand timers ticking
        at once (TIME_WAIT rows) asked for a thousand redraws of the whole table."""
        if not self.fast:
            self.update_cell(row_key, column_key, value, update_width=wider)
            return
        self._data[row_key][column_key] = value
        if wider:
            self._updated_cells.add(CellKey(row_key, column_key))
            self._require_update_dimensions = True
        self._written = True

    def commit(self) -> None:
        """Draw again after the cells written by ``set_cell``."""
        if self._written:
            self._written = False
            self._update_count += 1
            self.refresh()

    def place(self, keys: list[RowKey]) -> bool:
        """Show the rows in this order (each row's key once), as DataTable.sort does, in
        one renumbering. False (nothing done) without the fast path: sort instead."""
        if not self.fast:
            return False
        self._row_locations = TwoWayDict({k: i for i, k in enumerate(keys)})
        self._update_count += 1
        self.refresh()
        return True

    def remove_rows(self, keys: Iterable[str], *, batch: bool) -> None:
        """Remove rows. DataTable.remove_row renumbers every row after the one removed
        (O(rows) each, ~10 ms at 10,000 rows): with ``batch``, they go with one
        renumbering (which also skips remove_row's hover reset and layout refresh)."""
        if not batch or not self.fast:
            for key in keys:
                self.remove_row(key)
            return
        gone = {RowKey(k) for k in keys}
        locations = self._row_locations
        forward = getattr(locations, "_forward", None)  # row key -> index, read directly
        pairs = (forward.items() if isinstance(forward, dict)
                 else ((k, locations.get(k)) for k in locations))
        self.place([k for _, k in sorted((i, k) for k, i in pairs if k not in gone)])
        for gone_key in gone:
            for column_key in self._data.get(gone_key, {}):
                self._updated_cells.discard(CellKey(gone_key, column_key))
            self.rows.pop(gone_key, None)
            self._data.pop(gone_key, None)
        self._require_update_dimensions = True
        self.check_idle()
        self.cursor_coordinate = self.cursor_coordinate

    @property
    def _y_offsets(self) -> _Lines | list[tuple[RowKey, int]]:  # type: ignore[override]
        if getattr(self, "fast", False):  # every row here is line_height lines high
            return _Lines(self, self.line_height)
        return DataTable._y_offsets.fget(self)  # type: ignore[attr-defined]
