"""A pane's log: the lines a program printed (or a server did), bounded, counting what left.

A flood must neither grow the log without end nor silently push the first lines (often the
error that matters) out of sight: the log keeps the last ``limit`` rows of the screen and
counts the lines that left it, which the pane keeps on screen above it.
"""

from __future__ import annotations

from collections import deque

from rich.text import Text
from textual import events
from textual.widgets import RichLog, Static

from tcp_observatory.tui.widgets.fast_table import SteadyScrollbars
from tcp_observatory.tui.widgets.prose import set_text

FALLBACK_WIDTH = 40  # columns to wrap at before the log has been laid out


def show_dropped(note: Static, text: str) -> None:
    """Show the count of dropped lines above a log. The screen is laid out again only when
    the sentence takes another number of rows (``set_text``), not at every count."""
    note.display = True
    set_text(note, Text(text))


class PaneLog(RichLog, SteadyScrollbars):
    """A RichLog of whole lines: each line is wrapped here, so that the rows it takes are
    known, and the count of lines dropped is exact (``dropped``)."""

    def __init__(self, limit: int, *, id: str | None = None, classes: str | None = None) -> None:
        super().__init__(id=id, classes=classes, markup=False, highlight=False, wrap=False,
                         max_lines=limit, min_width=20)
        self.limit = limit
        self.dropped = 0  # lines no longer (whole) in the log
        self._rows: deque[int] = deque()  # rows each line kept takes, oldest first
        self._kept = 0  # rows kept, at most ``limit``
        # The lines themselves, to wrap them again at a new width: the pane is laid out
        # again after its first lines come (the window found narrow, presentation on or
        # off), and a line wrapped for the old width was cut at the new edge.
        self._lines: deque[Text] = deque()
        self._width = 0

    def add(self, lines: list[Text]) -> None:
        """Write lines (already printable; shown literally), each wrapped to the log's
        width, in one write (a flood's lines come many at a time)."""
        if not lines:
            return
        width = max(self.min_width, self.scrollable_content_region.width or FALLBACK_WIDTH)
        self._width = width
        console = self.app.console
        rows: list[Text] = []
        self._lines.extend(lines)
        for line in lines:
            wrapped = list(line.wrap(console, width, overflow="fold")) if line.plain else [line]
            rows.extend(wrapped)
            self._rows.append(len(wrapped))
            self._kept += len(wrapped)
        self.write(Text("\n").join(rows))
        while self._kept > self.limit:  # the log has let the oldest rows go
            self._kept -= self._rows.popleft()
            self._lines.popleft()
            self.dropped += 1

    def on_resize(self, event: events.Resize) -> None:
        self.call_after_refresh(self._rewrap)  # once the new width is laid out

    def _rewrap(self) -> None:
        width = max(self.min_width, self.scrollable_content_region.width or FALLBACK_WIDTH)
        if not self._width or width == self._width or not self._lines:
            return
        lines, dropped = list(self._lines), self.dropped
        self.clear()
        self.add(lines)
        self.dropped = dropped + self.dropped

    def clear(self) -> PaneLog:
        self._rows.clear()
        self._lines.clear()
        self._kept = 0
        self.dropped = 0
        super().clear()
        return self
