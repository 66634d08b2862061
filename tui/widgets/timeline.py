"""Every transition, interleaved with the actions that caused it, in time order.

Events reach the timeline from several threads: an action the moment it is done, a state
change when the next poll reports it (a poll that started just before an action may be
delivered just after it). So entries wait a moment (``HOLD``) and are written sorted by
when they happened, an action before the state changes of the same instant; one that
arrives later than that is put at its place, and the view is redrawn. While paused,
entries wait in a buffer and the view stays still; resuming catches up, in order.
Stepping through recorded moments, a line marks the moment shown and what came after it
is dimmed.
"""

from __future__ import annotations

import bisect
import itertools
import math

from rich.cells import cell_len
from rich.segment import Segment
from rich.style import Style
from rich.text import Text
from textual import events
from textual.geometry import Size
from textual.strip import Strip
from textual.timer import Timer
from textual.widgets import RichLog

from tcp_observatory.lab.i18n import t
from tcp_observatory.lab.observe.model import Transition
from tcp_observatory.lab.observe.roles import describe_role
from tcp_observatory.lab.text import clock_text
from tcp_observatory.tui.heap import Heap
from tcp_observatory.tui.theme import (
    ACTION_STYLE,
    INFERRED_STYLE,
    LATER_STYLE,
    SERVER_STYLE,
    state_style,
)
from tcp_observatory.tui.widgets.fast_table import SteadyScrollbars

HOLD = 0.3  # seconds an entry waits for older ones still on their way
ACTION, CHANGE = 0, 1  # at the same instant the cause (an action) comes first
Key = tuple[float, int, int]
MARK_STYLE = Style(color="#000000", bgcolor="#ffd700", bold=True)


def transition_text(tr: Transition, lang: str) -> Text:
    c = tr.connection
    line = Text(clock_text(tr.time) + "  ", style="#9e9e9e")
    line.append(f"{describe_role(c.role, lang):<20} ", style="bold")
    before = tr.from_state or "-"
    line.append(f"{before:>12}", style=state_style(before) if tr.from_state else "#9e9e9e")
    line.append(" → ")
    line.append(f"{tr.to_state:<12}", style=state_style(tr.to_state))
    # An inferred passage is marked where the duration goes, so the mark is always on screen.
    if tr.inferred:
        line.append(f" {'≈ ' + t('pic.inferred', lang):<10}", style=INFERRED_STYLE)
    else:
        lasted = (t("unit.seconds", lang, s=tr.duration)
                  if tr.duration is not None and tr.from_state else "")
        line.append(f" {lasted:>10}", style="#9e9e9e")
    line.append(f"  {c.local} → {c.remote_text}", style="#bcbcbc")
    if tr.inferred:
        line.stylize(INFERRED_STYLE, len(clock_text(tr.time)) + 2)
    return _whole_or_marked(line)


def _whole_or_marked(line: Text) -> Text:
    """A line cut at the timeline's edge ends with "…", never in the middle of an address
    without a word."""
    line.no_wrap = True
    line.overflow = "ellipsis"
    return line


def note_text(ts: float, text: str, *, server: bool = False) -> Text:
    line = Text(clock_text(ts) + "  ", style="#9e9e9e")
    line.append("▶ " + text, style=SERVER_STYLE if server else ACTION_STYLE)
    return _whole_or_marked(line)


class Timeline(RichLog, SteadyScrollbars):
    def __init__(self, lang: str, *, id: str | None = None, max_lines: int = 5000) -> None:
        super().__init__(id=id, max_lines=max_lines, markup=False, highlight=False, wrap=False,
                         auto_scroll=True, min_width=40)
        self.lang = lang
        self.paused = False
        self.limit = max_lines
        self._seq = itertools.count()
        self._keys: list[Key] = []  # written entries, sorted
        self._lines: list[Text] = []  # their lines, in the same order
        self._pending: list[tuple[Key, Text]] = []  # waiting for older ones (HOLD), or paused
        self._flush_timer: Timer | None = None
        self.heap = Heap()  # thousands of lines: kept out of the collector's full passes
        self.redraws = 0  # times a late entry made the view redraw (for tests and benchmarks)
        self.moment: float | None = None  # the past moment marked (step-through), if any
        self.moment_line: int | None = None  # the line that marks it, on screen
        self._marker: Strip | None = None  # that line
        self._normal_size: Size | None = None  # the view's size without it
        self._width = 0

    @property
    def lines_text(self) -> list[str]:
        """Plain text of every entry in time order, those still waiting included."""
        waiting = sorted(self._pending, key=lambda e: e[0])
        merged = sorted([*zip(self._keys, self._lines, strict=True), *waiting], key=lambda e: e[0])
        return [line.plain for _, line in merged]

    def add(self, line: Text, when: float, kind: int = ACTION) -> None:
        self._pending.append(((when, kind, next(self._seq)), line))
        if not self.paused and self._flush_timer is None:
            self._flush_timer = self.set_timer(HOLD, self._flush)

    def flush(self) -> None:
        """Write what is waiting now (a fixed scene, a test: nothing older is on its way)."""
        if self._flush_timer is not None:
            self._flush_timer.stop()
        self._flush()

    def _flush(self) -> None:
        self._flush_timer = None
        if self.paused or not self._pending:
            return
        pending, self._pending = sorted(self._pending, key=lambda e: e[0]), []
        late = bool(self._keys) and pending[0][0] < self._keys[-1]
        for key, line in pending:
            at = bisect.bisect(self._keys, key)
            self._keys.insert(at, key)
            self._lines.insert(at, line)
        drop = len(self._keys) - self.limit
        if drop > 0:
            del self._keys[:drop], self._lines[:drop]
        if late:
            # An event older than what is on screen: put it at its place, redraw.
            self.redraws += 1
            self.clear()
            self._write_all(self._lines)
        else:
            self._write_all([line for _, line in pending[-self.limit:]])

    def _write_all(self, lines: list[Text]) -> None:
        """Write lines, scrolling to the end once: a scroll per line queued one message per
        line (10,000 at the first look at a busy machine), each kept until the next refresh."""
        # Cut at the width the view has (a line's "…" where it is cut); before the first
        # layout the log waits for it.
        width = self._line_width() or None
        for line in lines[:-1]:
            self.write(line, width=width, scroll_end=False)
        if lines:
            self.write(lines[-1], width=width)
        self.heap.grew(len(lines), len(self.lines))

    def on_unmount(self) -> None:
        self.heap.release()

    def on_resize(self, event: events.Resize) -> None:
        """Lines are cut to the width (with "…"): at another width, they are cut again,
        once the new width is laid out. Shorter (80x24's rows of two lines take a line),
        it still ends on the latest line, as every line written brings it there."""
        self.call_after_refresh(self._recut)
        if self.auto_scroll:
            self.call_after_refresh(self.scroll_end, animate=False, immediate=True)

    def _line_width(self) -> int:
        """The columns a line may take: the view's, less the scrollbar it will have."""
        width = self.scrollable_content_region.width
        if not self.show_vertical_scrollbar:
            width -= self.styles.scrollbar_size_vertical
        return max(0, width)

    def _recut(self) -> None:
        width = self._line_width()
        if self._width and width != self._width and self._lines:
            self.clear()
            self._write_all(self._lines)
        self._width = width

    def add_transition(self, tr: Transition) -> None:
        self.add(transition_text(tr, self.lang), tr.time, CHANGE)

    def add_note(self, ts: float, text: str, *, server: bool = False) -> None:
        self.add(note_text(ts, text, server=server), ts, ACTION)

    def set_paused(self, paused: bool) -> None:
        if paused == self.paused:
            return
        if paused:
            self._flush()
            self.paused = True
            self._mark(Text(t("tl.paused", self.lang, n=0), style="bold #ffd700"))
            return
        self.paused = False
        held = len(self._pending)
        self._flush()
        self._mark(Text(t("tl.resumed", self.lang, n=held), style="bold #ffd700"))

    def _mark(self, line: Text) -> None:
        """A line about the view itself, after everything written so far."""
        when = self._keys[-1][0] if self._keys else 0.0
        self._keys.append((when, CHANGE + 1, next(self._seq)))
        self._lines.append(line)
        self.write(line)

    def show_moment(self, when: float | None, label: str = "") -> None:
        """Step-through: the entries up to the moment ``when`` as written, then a line that
        says which past moment this is (``label``), then the later entries greyed, scrolled
        to that line. None: every entry as written again, the newest in view.

        Nothing is written again (at 5,000 lines that took a second a key): the lines
        already drawn are shown around the moment's line, the later ones greyed as they
        are drawn (``render_line``)."""
        if when is None:
            if self.moment is None:
                return
            self.moment = self.moment_line = None
            self._marker = None
            normal, self._normal_size = self._normal_size, None
            width = max(self.virtual_size.width, normal.width if normal else 0)
            self.virtual_size = Size(width, len(self.lines))
            self.refresh()
            self.scroll_end(animate=False, immediate=False, x_axis=False)
            return
        if self._normal_size is None:
            self._normal_size = self.virtual_size
        self.moment = when
        # One drawn line per entry: the entries up to the moment are the first lines.
        split = bisect.bisect_right(self._keys, (when, CHANGE, math.inf))
        self.moment_line = min(split, len(self.lines))
        text = "◀ " + t("tl.moment", self.lang, moment=label)
        self._marker = Strip([Segment(text, MARK_STYLE)], cell_len(text))
        self.virtual_size = Size(max(self._normal_size.width, self._marker.cell_length),
                                 len(self.lines) + 1)
        self.refresh()
        self.call_after_refresh(self._scroll_to_moment)

    def _scroll_to_moment(self) -> None:
        if self.moment_line is not None:
            self.scroll_to(y=max(0, self.moment_line - self.scrollable_content_region.height // 2),
                           animate=False)

    def _drawn(self, y: int) -> Strip:
        """Line ``y`` of the view: at a past moment, the moment's line is put at its place
        and the lines after it are greyed."""
        mark, marker = self.moment_line, self._marker
        if mark is None or marker is None:
            return self.lines[y] if y < len(self.lines) else Strip.blank(0)
        if y < mark:
            return self.lines[y]
        if y == mark:
            return marker
        if y - 1 < len(self.lines):
            return Strip([Segment(seg.text, (seg.style or Style()) + LATER_STYLE)
                          for seg in self.lines[y - 1]])
        return Strip.blank(0)

    def render_line(self, y: int) -> Strip:
        if self.moment_line is None:
            return super().render_line(y)
        scroll_x, scroll_y = self.scroll_offset
        width = self.scrollable_content_region.width
        line = self._drawn(scroll_y + y).crop_extend(scroll_x, scroll_x + width,
                                                     self.rich_style)
        return line.apply_style(self.rich_style)

    def drawn(self) -> list[Strip]:
        """Every line of the view, as drawn (the moment's line included)."""
        extra = 1 if self.moment_line is not None else 0
        return [self._drawn(y) for y in range(len(self.lines) + extra)]

    @property
    def shown_text(self) -> list[str]:
        """The text of every line of the view (the moment's line included)."""
        return [strip.text for strip in self.drawn()]

    @property
    def waiting(self) -> int:
        return len(self._pending) if self.paused else 0
