"""The server: its mode and options, and a log of what it accepted, received and closed."""

from __future__ import annotations

from collections import deque

from rich.text import Text
from textual import events
from textual.app import ComposeResult
from textual.containers import Vertical
from textual.widgets import RichLog, Static

from lab.i18n import t
from lab.net.describe import describe_event
from lab.net.server import ServerEvent
from lab.text import clock_text, printable
from tui.bounded import keep
from tui.theme import DIM_STYLE, PEER_TEXT_STYLE

MAX_LINES = 3000  # lines of the log kept (on screen and as text)
MAX_SHOWN = 2000  # characters of one message shown in the log (the rest is summarised)


class ServerLog(RichLog):
    """The server's log, wrapped again whenever its width changes.

    A RichLog wraps a line once, at the width it has when the line is written; the pane
    is laid out again after the first lines come (the window found narrow, presentation
    on or off), and its first line stayed wrapped for the old width, cut at the new edge
    ("Connexion de la machine 12"). The lines are kept, and written again at the new width.
    """

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id, markup=False, highlight=False, wrap=True,
                         max_lines=MAX_LINES, min_width=20)
        self.kept: deque[Text] = deque(maxlen=MAX_LINES)
        self._width = 0

    def add(self, line: Text) -> None:
        self.kept.append(line)
        self.write(line)

    def forget(self) -> None:
        self.kept.clear()
        self.clear()

    def on_resize(self, event: events.Resize) -> None:
        self.call_after_refresh(self._rewrap)  # once the new width is laid out

    def _rewrap(self) -> None:
        width = self.scrollable_content_region.width
        if self._width and width != self._width and self.kept:
            self.clear()
            for line in self.kept:
                self.write(line, scroll_end=False)
            self.scroll_end(animate=False)
        self._width = width


class ServerPane(Vertical):
    def __init__(self, lang: str, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self.lang = lang
        self.lines_text: list[str] = []
        self.close_after_fin = False
        self.queue_text = ""

    def compose(self) -> ComposeResult:
        yield Static(id="server-info")
        yield Static(id="server-queue")
        yield ServerLog(id="server-log")

    def set_info(self, title: str, info: str) -> None:
        self.border_title = title
        self.query_one("#server-info", Static).update(Text(info, style="bold"))

    def log_event(self, e: ServerEvent) -> None:
        peer = str(e.peer) if e.peer else ""
        who = f"[{e.thread}] " if e.thread else ""
        if e.kind == "message":
            line = Text(f"{clock_text(e.time)[:8]} {who}{peer} › ", style=DIM_STYLE)
            line.append(printable(e.text, MAX_SHOWN), style=PEER_TEXT_STYLE)
        elif e.kind in ("listening", "stopped"):
            return
        else:
            text = describe_event(e, self.lang, self.close_after_fin)
            if not text:
                return
            warn = e.kind in ("overflow", "refused", "idle", "aborted")
            line = Text(f"{clock_text(e.time)[:8]} {text}",
                        style="bold #ffaf00" if warn else "#87afff")
        keep(self.lines_text, [line.plain], MAX_LINES)
        self.query_one("#server-log", ServerLog).add(line)

    def set_queue(self, waiting: int | None, backlog: int | None) -> None:
        """The accept queue, live: clients the kernel has connected that wait for accept()."""
        text = "" if waiting is None or backlog is None else t(
            "srv.queue", self.lang, n=waiting, backlog=backlog)
        full = waiting is not None and backlog is not None and waiting > backlog
        if text != self.queue_text:
            self.queue_text = text
            self.query_one("#server-queue", Static).update(
                Text(text, style="bold #ff5f5f" if full else "#ffd700"))

    def clear_log(self) -> None:
        """A new scene: the previous step's lines leave the view (the timeline keeps them)."""
        self.lines_text.clear()
        self.query_one("#server-log", ServerLog).forget()

    def program_line(self, text: str, style: str = "") -> None:
        """A line from the student's own server, shown literally (it is already printable)."""
        keep(self.lines_text, [text], MAX_LINES)
        self.query_one("#server-log", ServerLog).add(Text(text, style=style))

    def note(self, text: str) -> None:
        keep(self.lines_text, [text], MAX_LINES)
        self.query_one("#server-log", ServerLog).add(Text(text, style="bold #ffd700"))
