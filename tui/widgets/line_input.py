"""An input line whose keystrokes redraw the line, not the whole screen."""

from __future__ import annotations

from textual.widgets import Input

from tcp_observatory.tui.widgets.fast_table import SteadyScrollbars


class LineInput(Input, SteadyScrollbars):
    """Textual's Input, with a fixed size (no ``auto`` width): at each keystroke Input sets
    its content's size, and the layout puts back the one it measured, so each key laid
    the whole screen out and drew it again (10 keys, 10 layouts). Here a change of that
    size updates the scrollbars alone (``SteadyScrollbars``)."""
