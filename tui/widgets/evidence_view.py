"""The step's picture: its scene alone, every column its question asks about, whole.

A screenshot is evidence. The live screen shares its width with side panels and a table
that scrolls sideways, so a column the question is about can be cut ("ES…") or off screen.
While a screenshot is taken, this view replaces the panes: the step's rows in a table that
wraps cells instead of cutting them (at 80 columns a row takes two or three lines), then
the step's own events, newest last, as many as fit.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from rich import box
from rich.console import Group, RenderableType
from rich.table import Table
from rich.text import Text
from textual.widget import Widget

from tcp_observatory.lab.grading.picture import WIDE, cell_text, columns, header_label, row_order
from tcp_observatory.lab.guide.steps import get_step
from tcp_observatory.lab.i18n import t
from tcp_observatory.lab.observe.model import Connection, RoleKind, Snapshot
from tcp_observatory.lab.text import clock_text
from tcp_observatory.tui.theme import ACTION_STYLE, DIM_STYLE, INFERRED_STYLE, state_style


@dataclass(frozen=True)
class StoryLine:
    """One event of the step, for the picture: when, and what (an action or a change)."""

    time: float
    text: str
    action: bool = False
    inferred: bool = False
    state: str | None = None


def _cell(c: Connection, col: str, lang: str) -> Text:
    # The words are ``lab.grading.picture``'s, which ``verify`` reads back: only the styles
    # are the screen's.
    text = cell_text(c, col, lang)
    if col == "state":
        return Text(text, style=state_style(c.state))
    if col == "process":
        return Text(text, style="" if c.pid else DIM_STYLE)
    return Text(text)


def scene_table(rows: Sequence[Connection], reads: Sequence[str], lang: str,
                width: int) -> Table:
    """The rows of the step, with the columns it reads; cells wrap, they are never cut."""
    cols = columns(reads, stacked=width < WIDE)
    table = Table(box=box.SIMPLE_HEAD, expand=True, pad_edge=False, padding=(0, 1),
                  show_edge=False, header_style="bold")
    # An address is never broken: its column is as wide as the widest one.
    widest = max((max(len(str(c.local)) + 2, len(c.remote_text)) for c in rows), default=15)
    minimum = {"state": 11, "addresses": widest}
    for col in cols:
        table.add_column(header_label(col, lang),
                         no_wrap=col in ("state", "queues", "addresses"),
                         min_width=minimum.get(col), overflow="fold")
    for c in sorted(rows, key=row_order):
        table.add_row(*(_cell(c, col, lang) for col in cols))
    return table


def story_text(line: StoryLine) -> Text:
    out = Text(clock_text(line.time)[:12] + " ", style=DIM_STYLE)
    if line.action:
        out.append("▶ " + line.text, style=ACTION_STYLE)
    elif line.inferred:
        out.append(line.text, style=INFERRED_STYLE)
    else:
        out.append(line.text, style=state_style(line.state) if line.state else "")
    return out


class EvidenceView(Widget):
    """Shown only while a step's screenshot is taken (``Screen.-capture``)."""

    DEFAULT_CSS = """
    EvidenceView {
        height: 1fr;
        padding: 0 1;
        background: #000000;
        display: none;
    }
    """

    def __init__(self, lang: str, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self.lang = lang
        self.step_id = ""
        self.rows: tuple[Connection, ...] = ()
        self.story: list[StoryLine] = []
        self.left_out = 0

    def show_scene(self, step_id: str, snapshot: Snapshot, story: Sequence[StoryLine],
                   left_out: int = 0) -> None:
        """``left_out``: connections of earlier steps the kernel still holds, not drawn (no
        step's question reads them); the picture says how many."""
        self.step_id = step_id
        self.rows = tuple(c for c in snapshot.connections if c.role.kind is not RoleKind.OTHER)
        self.story = list(story)
        self.left_out = left_out
        self.refresh()

    def render(self) -> RenderableType:
        if not self.step_id:
            return Text("")
        step = get_step(self.step_id)
        width = max(20, self.size.width)
        title = Text(f"{step.id} — {step.text('title', self.lang)}", style="bold #ffd700")
        table = scene_table(self.rows, step.reads, self.lang, width)
        # The table's height at this width decides how many of the step's events fit.
        used = 1 + self._height(table, width) + 1
        parts: list[RenderableType] = [title, table]
        if self.left_out:
            parts.append(Text(t("pic.left_out", self.lang, n=self.left_out), style=DIM_STYLE))
            used += 1
        room = max(0, self.size.height - used - 1)
        if room and self.story:
            parts.append(Text(t("pic.story", self.lang), style="bold"))
            parts.extend(story_text(s) for s in self.story[-room:] if room > 0)
        return Group(*parts)

    def _height(self, table: Table, width: int) -> int:
        console = self.app.console
        options = console.options.update_width(width)
        return len(console.render_lines(table, options, pad=False))
