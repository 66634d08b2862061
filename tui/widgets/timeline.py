"""Every transition, interleaved with the actions that caused it, newest at the bottom.

While paused, entries wait in a buffer and the view stays still; resuming catches up.
"""

from __future__ import annotations

from rich.text import Text
from textual.widgets import RichLog

from lab.i18n import t
from lab.observe.model import Transition
from lab.observe.roles import describe_role
from lab.text import clock_text
from tui.bounded import keep
from tui.theme import ACTION_STYLE, INFERRED_STYLE, SERVER_STYLE, state_style


def transition_text(tr: Transition, lang: str) -> Text:
    c = tr.connection
    line = Text(clock_text(tr.time) + "  ", style="#9e9e9e")
    line.append(f"{describe_role(c.role, lang):<20} ", style="bold")
    before = tr.from_state or "-"
    line.append(f"{before:>12}", style=state_style(before) if tr.from_state else "#9e9e9e")
    line.append(" → ")
    line.append(f"{tr.to_state:<12}", style=state_style(tr.to_state))
    lasted = f"{tr.duration:.2f} s" if tr.duration is not None and tr.from_state else ""
    line.append(f" {lasted:>9}", style="#9e9e9e")
    line.append(f"  {c.local} → {c.remote_text}", style="#bcbcbc")
    if tr.inferred:
        line.stylize(INFERRED_STYLE, len(clock_text(tr.time)) + 2)
        line.append(f"  [{t('tl.inferred', lang)}]", style=INFERRED_STYLE)
    return line


def note_text(ts: float, text: str, *, server: bool = False) -> Text:
    line = Text(clock_text(ts) + "  ", style="#9e9e9e")
    line.append("▶ " + text, style=SERVER_STYLE if server else ACTION_STYLE)
    return line


class Timeline(RichLog):
    def __init__(self, lang: str, *, id: str | None = None, max_lines: int = 5000) -> None:
        super().__init__(id=id, max_lines=max_lines, markup=False, highlight=False, wrap=False,
                         auto_scroll=True, min_width=40)
        self.lang = lang
        self.paused = False
        self._held: list[Text] = []
        self.lines_text: list[str] = []  # plain copy, for tests and the screenshot bundle

    def add(self, line: Text) -> None:
        if self.paused:
            self._held.append(line)
            return
        self._write(line)

    def _write(self, line: Text) -> None:
        keep(self.lines_text, [line.plain], self.max_lines or 5000)
        self.write(line)

    def add_transition(self, tr: Transition) -> None:
        self.add(transition_text(tr, self.lang))

    def add_note(self, ts: float, text: str, *, server: bool = False) -> None:
        self.add(note_text(ts, text, server=server))

    def set_paused(self, paused: bool) -> None:
        if paused == self.paused:
            return
        if paused:
            self.paused = True
            self._write(Text(t("tl.paused", self.lang, n=0), style="bold #ffd700"))
            return
        self.paused = False
        held, self._held = self._held, []
        for line in held:
            self._write(line)
        self._write(Text(t("tl.resumed", self.lang, n=len(held)), style="bold #ffd700"))

    @property
    def waiting(self) -> int:
        return len(self._held)
