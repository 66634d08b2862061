"""Helpers for the tests that drive the Textual app with Pilot."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from pathlib import Path
from typing import Any

from lab.session import Session
from tui.app import ObservatoryApp
from tui.widgets.connections import ConnectionsTable, parts


def make_app(session: Session, folder: Path, **kw: Any) -> ObservatoryApp:
    """The app with no name prompt, no automatic screenshots, and a private folder."""
    options: dict[str, Any] = {"lang": "en", "clients": 0, "student": "Test Student",
                               "folder": folder, "auto_capture": False, **kw}
    return ObservatoryApp(session, **options)


async def wait_until(pilot: Any, predicate: Callable[[], object], what: str,
                     timeout: float = 15) -> None:
    """Let the app run until ``predicate()`` holds; fail with ``what`` after ``timeout`` s."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while not predicate():
        if loop.time() > deadline:
            table = getattr(pilot.app, "table", None)  # a test host may have no table
            rows = [] if table is None else [
                (str(r.conn.local), r.conn.remote_text, r.conn.state, r.conn.role)
                for r in table.rows_by_key.values()]
            raise AssertionError(f"timed out after {timeout} s waiting for {what}; "
                                 f"table: {rows}")
        await pilot.pause(0.05)


def whole_in_view(table: ConnectionsTable) -> list[str]:
    """The columns whose every cell is in the table's view, from its own geometry: each
    column's x and width against the horizontal scroll and the region's width (a stacked
    column counts for its two)."""
    left = table.scroll_x
    right = left + table.scrollable_content_region.width
    x, whole = 0, []
    for key, column in table.columns.items():
        width = column.get_render_width(table)
        if left <= x and x + width <= right:
            whole.extend(parts([str(key.value)]))
        x += width
    return whole
