"""The server: its mode and options, and a log of what it accepted, received and closed."""

from __future__ import annotations

from rich.text import Text
from textual.app import ComposeResult
from textual.containers import Vertical
from textual.widgets import Static

from tcp_observatory.lab.i18n import t
from tcp_observatory.lab.net.describe import describe_event
from tcp_observatory.lab.net.server import ServerEvent
from tcp_observatory.lab.text import clock_text, printable
from tcp_observatory.tui.bounded import keep
from tcp_observatory.tui.theme import DIM_STYLE, PEER_TEXT_STYLE
from tcp_observatory.tui.widgets.pane_log import PaneLog, show_dropped
from tcp_observatory.tui.widgets.prose import set_text

MAX_LINES = 3000  # rows of the log kept on screen (and lines as text)
MAX_SHOWN = 2000  # characters of one message shown in the log (the rest is summarised)


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
        yield Static(id="server-dropped", classes="pane-dropped")
        yield PaneLog(MAX_LINES, id="server-log")

    def set_info(self, title: str, info: str) -> None:
        self.border_title = title
        set_text(self.query_one("#server-info", Static), Text(info, style="bold"))

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
        self._write([line])

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
        self.query_one("#server-log", PaneLog).clear()
        self._show_dropped(0)

    def program_lines(self, lines: list[tuple[str, str]]) -> None:
        """Lines (text, style) from the student's own server, or about it, shown literally
        (they are already printable)."""
        self._write([Text(text, style=style) for text, style in lines])

    def note(self, text: str) -> None:
        self._write([Text(text, style="bold #ffd700")])

    @property
    def dropped(self) -> int:
        """Lines the log has let go (a flood): said above the log."""
        return self.query_one("#server-log", PaneLog).dropped

    def _write(self, lines: list[Text]) -> None:
        keep(self.lines_text, [line.plain for line in lines], MAX_LINES)
        log = self.query_one("#server-log", PaneLog)
        before = log.dropped
        log.add(lines)
        if log.dropped != before:
            self._show_dropped(log.dropped)

    def _show_dropped(self, count: int) -> None:
        note = self.query_one("#server-dropped", Static)
        if count:
            show_dropped(note, t("pane.dropped", self.lang, n=count, max=MAX_LINES))
        else:
            note.display = False
