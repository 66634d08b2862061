"""A pane's log: the lines a program printed (or a server did), bounded, counting what left.

A flood must neither grow the log without end nor silently push the first lines (often the
error that matters) out of sight: the log keeps the last ``limit`` rows of the screen and
counts the lines that left it, which the pane keeps on screen above it.
"""

from __future__ import annotations

from collections import deque

from rich.text import Text
from textual.widgets import RichLog

FALLBACK_WIDTH = 40  # columns to wrap at before the log has been laid out


class PaneLog(RichLog):
    """A RichLog of whole lines: each line is wrapped here, so that the rows it takes are
    known, and the count of lines dropped is exact (``dropped``)."""

    def __init__(self, limit: int, *, id: str | None = None, classes: str | None = None) -> None:
        super().__init__(id=id, classes=classes, markup=False, highlight=False, wrap=False,
                         max_lines=limit, min_width=20)
        self.limit = limit
        self.dropped = 0  # lines no longer (whole) in the log
        self._rows: deque[int] = deque()  # rows each line kept takes, oldest first
        self._kept = 0  # rows kept, at most ``limit``

    def add(self, line: Text) -> None:
        """Write one line (already printable; shown literally), wrapped to the log's width."""
        width = max(self.min_width, self.scrollable_content_region.width or FALLBACK_WIDTH)
        rows = line.wrap(self.app.console, width, overflow="fold") if line.plain else [line]
        for row in rows:
            self.write(row)
        self._rows.append(len(rows))
        self._kept += len(rows)
        while self._kept > self.limit:  # the log has let the oldest rows go
            self._kept -= self._rows.popleft()
            self.dropped += 1

    def clear(self) -> PaneLog:
        self._rows.clear()
        self._kept = 0
        self.dropped = 0
        super().clear()
        return self
