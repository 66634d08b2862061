"""The keys, every one of them on screen: rows that wrap at the window's width.

Textual's footer is one row that scrolls sideways: at 80 or 100 columns the last keys
(Ctrl+N, Ctrl+B, Ctrl+Q) fell off the edge and could not be clicked. This one lays the
same keys out on as many rows as the width needs (two at 80 columns), each one clickable.

It is one widget that draws every row itself and finds the key under the mouse from where
it drew it: a widget per key (17 of them, and a row container each) cost at every start
and every layout, and they were all removed and mounted again whenever a key was enabled
or disabled.
"""

from __future__ import annotations

from rich.cells import cell_len
from rich.segment import Segment
from rich.style import Style
from textual import events
from textual.color import Color
from textual.geometry import Offset, Region, Size
from textual.screen import Screen
from textual.strip import Strip
from textual.widget import Widget

from tcp_observatory.lab.records import record

GAP = 1  # columns between two keys
KEY_COLOUR = Color.parse("#ffaf00")
DESCRIPTION_COLOUR = Color.parse("#ffffff")
DISABLED_COLOUR = Color.parse("#9e9e9e")  # a disabled key's description, the key in italics
HOVER = Color.parse("#303050")  # the background of the key under the mouse


def key_width(key_display: str, description: str) -> int:
    """Columns one key takes: its key, its description, the gap after it."""
    return cell_len(key_display) + cell_len(description) + GAP


def pack(widths: list[int], room: int) -> list[list[int]]:
    """Indexes of the keys on each row: as many as fit in ``room`` columns, in order."""
    rows: list[list[int]] = []
    used = 0
    for i, w in enumerate(widths):
        if not rows or (used + w > room + GAP and rows[-1]):
            rows.append([])
            used = 0
        rows[-1].append(i)
        used += w
    return rows


@record(frozen=True)
class Shown:
    """A binding as the footer shows it (what is drawn again when one of them changes)."""

    key: str  # what ``App.simulate_key`` presses
    display: str  # how the key is written
    description: str
    enabled: bool


@record(frozen=True)
class FooterKey(Shown):
    """A key on screen, where it is drawn: ``region`` in the screen's cells, without the
    gap after it (what a click on it must hit)."""

    region: Region


class KeysFooter(Widget):
    """Every shown binding of the screen, on rows that wrap at the window's width."""

    DEFAULT_CSS = """
    KeysFooter {
        dock: bottom;
        height: auto;
        background: #1c1c1c;
    }
    """

    def __init__(self, *, id: str | None = None,
                 descriptions: dict[str, str] | None = None) -> None:
        """``descriptions``: action -> what the footer says for it, for a binding made
        before the app's language was known (a class's BINDINGS)."""
        super().__init__(id=id)
        self.descriptions = dict(descriptions or {})
        self._shown: tuple[Shown, ...] | None = None  # read from the screen when first needed
        self._packed: tuple[int, list[list[int]]] = (-1, [])  # (width, rows) last packed
        self._mouse: Offset | None = None  # where the mouse is over the footer
        # The rows as last drawn, and for what: (width, background, key under the mouse).
        self._drawn: tuple[tuple[int, Color, int | None], list[Strip]] | None = None

    def on_mount(self) -> None:
        self.screen.bindings_updated_signal.subscribe(self, self._bindings_changed)
        self.call_after_refresh(self._bindings_changed, self.screen)

    def on_unmount(self) -> None:
        self.screen.bindings_updated_signal.unsubscribe(self)

    # -- what is shown, and where ----------------------------------------------------------
    def _read_shown(self) -> tuple[Shown, ...]:
        out: list[Shown] = []
        seen: set[str] = set()
        for _node, binding, enabled, _tooltip in self.screen.active_bindings.values():
            if not binding.show or binding.action in seen:
                continue
            seen.add(binding.action)
            description = self.descriptions.get(binding.action, binding.description)
            out.append(Shown(binding.key, self.app.get_key_display(binding), description,
                             enabled))
        # Quitting comes last, where every footer has it.
        return tuple(sorted(out, key=lambda k: k.key == "ctrl+q"))

    def _keys_shown(self) -> tuple[Shown, ...]:
        if self._shown is None:
            if not self.is_attached:
                return ()
            self._shown = self._read_shown()
        return self._shown

    def _rows(self, width: int) -> list[list[int]]:
        """The keys' indexes on each row at ``width`` columns (packed once per width and
        set of keys)."""
        if self._packed[0] != width:
            widths = [key_width(k.display, k.description) for k in self._keys_shown()]
            self._packed = (width, pack(widths, width))
        return self._packed[1]

    def _placed(self) -> list[tuple[Region, int]]:
        """Each key's cells in the footer (its key and description, not the gap after it),
        with its index in the shown keys."""
        shown = self._keys_shown()
        out: list[tuple[Region, int]] = []
        for y, row in enumerate(self._rows(self.size.width)):
            x = 0
            for i in row:
                width = key_width(shown[i].display, shown[i].description) - GAP
                out.append((Region(x, y, width, 1), i))
                x += width + GAP
        return out

    def _key_at(self, offset: Offset | None) -> int | None:
        if offset is None:
            return None
        for region, i in self._placed():
            if offset in region:
                return i
        return None

    def keys(self) -> list[FooterKey]:
        """The keys on screen now, in order, each with its region on the screen."""
        shown = self._keys_shown()
        origin = self.content_region.offset
        return [FooterKey(shown[i].key, shown[i].display, shown[i].description,
                          shown[i].enabled, region.translate(origin))
                for region, i in sorted(self._placed(), key=lambda p: p[1])]

    # -- keeping up with the bindings -------------------------------------------------------
    def _bindings_changed(self, screen: Screen[object]) -> None:
        if not self.is_attached or screen is not self.screen:
            return
        shown = self._read_shown()
        if shown == self._shown:
            return
        rows = len(self._rows(self.size.width))
        self._shown = shown
        self._packed = (-1, [])
        self._drawn = None
        # The height follows the number of rows; anything else is only drawn again.
        self.refresh(layout=len(self._rows(self.size.width)) != rows)

    def get_content_height(self, container: Size, viewport: Size, width: int) -> int:
        return len(self._rows(width))

    # -- drawing -------------------------------------------------------------------------------
    def render_line(self, y: int) -> Strip:
        width = self.size.width
        background = self.background_colors[1]
        hover = self._key_at(self._mouse)
        if self._drawn is None or self._drawn[0] != (width, background, hover):
            self._drawn = ((width, background, hover), self._draw(width, background, hover))
        lines = self._drawn[1]
        if y < len(lines):
            return lines[y]
        return Strip.blank(width, Style(bgcolor=background.rich_color))

    def _draw(self, width: int, background: Color, hover: int | None) -> list[Strip]:
        """Every row, drawn as the widgets of a key each drew them before: the key and its
        description in bold, a disabled one in italics and grey, the one under the mouse on
        its own background; the gap after a key and the rest of the row the footer's
        background alone (one run after the row's last key)."""
        shown = self._keys_shown()
        ground = Style(bgcolor=background.rich_color)
        lit = Style(bgcolor=HOVER.rich_color)
        out: list[Strip] = []
        for row in self._rows(width):
            segments: list[Segment] = []
            used = 0
            for n, i in enumerate(row):
                k = shown[i]
                under = lit if i == hover else ground
                italic = None if k.enabled else True
                segments.append(Segment(k.display, under + Style(
                    color=KEY_COLOUR.rich_color, bold=True, italic=italic)))
                segments.append(Segment(k.description, under + Style(
                    color=(DESCRIPTION_COLOUR if k.enabled else DISABLED_COLOUR).rich_color,
                    bold=True, italic=italic)))
                used += key_width(k.display, k.description)
                last = n == len(row) - 1
                segments.append(Segment(" " * (max(GAP, width - used + GAP) if last else GAP),
                                        ground))
            out.append(Strip(segments).crop(0, width))
        return out

    # -- the mouse -----------------------------------------------------------------------------
    def _point(self, offset: Offset | None) -> None:
        before = self._key_at(self._mouse)
        self._mouse = offset
        if self._key_at(offset) != before:
            self.refresh()

    def on_mouse_move(self, event: events.MouseMove) -> None:
        self._point(event.get_content_offset(self))

    def on_leave(self, event: events.Leave) -> None:
        self._point(None)

    def on_click(self, event: events.Click) -> None:
        i = self._key_at(event.get_content_offset(self))
        if i is None:
            return  # between two keys, or past the last one on its row
        event.stop()
        key = self._keys_shown()[i]
        if key.enabled:
            self.app.simulate_key(key.key)
        else:
            self.app.bell()
