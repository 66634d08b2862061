"""The window's top line: an icon, the app's title and sub-title, and the clock.

It looks as Textual's ``Header`` looked here (the icon in 8 columns on the left, the title
centred and cut with an ellipsis, the clock in 10 columns on the right), but it is one
widget that draws its line itself. The Header was four widgets (itself, the icon, the
title and the clock), each with its own CSS to parse, its own styles to compute and its own
region to draw, at every start (issue 25: the first full screen within 1.5x a bare Textual
app, ``bench/bench_startup.py``). A click on it does nothing: on Textual's, it made the
header three lines tall, which a student's stray click would do to the lab's layout.
"""

from __future__ import annotations

import time
from collections.abc import Callable

from textual.app import RenderResult
from textual.content import Content
from textual.style import Style
from textual.widget import Widget

ICON_WIDTH = 8  # the icon, after one column of padding
CLOCK_WIDTH = 10  # the clock ("%X", 8 columns at most in C and most locales), centred


def centred(content: Content, width: int, ellipsis: bool = False) -> Content:
    """``content`` in the middle of ``width`` columns, cut to them (the extra column of an
    odd margin on the right, as Textual's ``content-align: center`` puts it).
    ``Content.center`` pads the right by the whole width less the left margin."""
    content = content.truncate(width, ellipsis=ellipsis)
    left = (width - content.cell_length) // 2
    return content.pad(left, width - content.cell_length - left)


class TitleBar(Widget):
    """The app's title and sub-title (``App.title``, ``App.sub_title``), centred."""

    DEFAULT_CSS = """
    TitleBar {
        dock: top;
        width: 100%;
        height: 1;
        background: $panel;
        color: $foreground;
    }
    TitleBar > .title-bar--clock {
        background: $foreground-darken-1 5%;
        color: $foreground 85%;
    }
    """

    COMPONENT_CLASSES = {"title-bar--clock"}

    def __init__(self, *, icon: str, show_clock: bool, clock: Callable[[], float] = time.time,
                 id: str | None = None) -> None:
        """``clock``: the time it shows (the app's, which a test may set)."""
        super().__init__(id=id)
        self.icon = icon
        self.show_clock = show_clock
        self.clock = clock
        self._second = ""  # the clock as last drawn

    def on_mount(self) -> None:
        self.watch(self.app, "title", self._title_changed, init=False)
        self.watch(self.app, "sub_title", self._title_changed, init=False)
        if self.show_clock:
            self.set_interval(0.25, self._tick, name="title bar clock")

    def _title_changed(self) -> None:
        self.refresh()

    def _tick(self) -> None:
        if self._clock() != self._second:
            self.refresh()

    def _clock(self) -> str:
        return time.strftime("%X", time.localtime(self.clock()))

    def title_text(self) -> str:
        """The title and sub-title as the line shows them, uncut."""
        return self._title().plain

    def _title(self) -> Content:
        title, sub_title = self.app.title, self.app.sub_title
        if not sub_title:
            return Content(title)
        return Content.assemble(Content(title), (" — ", "dim"), Content(sub_title).stylize("dim"))

    def _clock_style(self) -> Style:
        """The clock's colours, each laid over what is under it (the CSS gives them with
        an alpha, as Textual's header clock had them)."""
        styles = self.get_component_styles("title-bar--clock")
        background = self.background_colors[1] + styles.background
        return Style(background=background, foreground=background + styles.color)

    def render(self) -> RenderResult:
        width = self.size.width
        middle = max(0, width - ICON_WIDTH - CLOCK_WIDTH)
        icon = Content(" " + self.icon).truncate(ICON_WIDTH, pad=True)
        parts = [icon, centred(self._title(), middle, ellipsis=True)]
        if self.show_clock:
            self._second = self._clock()
            clock = centred(Content(self._second), CLOCK_WIDTH)
            parts.append(clock.stylize(self._clock_style()))
        else:
            parts.append(Content(" " * CLOCK_WIDTH))
        return Content.assemble(*parts).truncate(width)
