"""One sentence under the views: why a state lingers or surprises (``lab.observe.explain``).

It is about the table's selected row when that row has something to say, else about the
row the room needs first. It names the row, so that it is never ambiguous which one it is
about. It takes no room when there is nothing to say, and at most ``max_lines`` lines,
cut with "…" rather than at the edge.
"""

from __future__ import annotations

from rich.text import Text
from textual.geometry import Size
from textual.widget import Widget

from tcp_observatory.tui.theme import WHY_STYLE, state_glyph, state_style


class WhyLine(Widget):
    DEFAULT_CSS = """
    WhyLine {
        height: auto;
        padding: 0 1;
        background: #000000;
    }
    """

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self.sentence = ""
        self.state = ""
        self.max_lines = 3
        self.display = False

    def say(self, sentence: str | None, state: str = "") -> None:
        """Show ``sentence`` about a connection in ``state`` (nothing: the line goes)."""
        sentence = sentence or ""
        if (sentence, state) == (self.sentence, self.state):
            return
        self.sentence, self.state = sentence, state
        self.display = bool(sentence)
        self.refresh(layout=True)

    def set_max_lines(self, lines: int) -> None:
        if lines != self.max_lines:
            self.max_lines = lines
            self.refresh(layout=True)

    def _lines(self, width: int) -> list[Text]:
        if not self.sentence or width <= 0:
            return []
        text = Text(f"{state_glyph(self.state)} ", style=state_style(self.state))
        text.append(self.sentence, style=WHY_STYLE)
        lines = list(text.wrap(self.app.console, width))
        if len(lines) > self.max_lines:
            lines = lines[: self.max_lines]
            last = lines[-1]
            last.rstrip()
            last.truncate(width - 1)
            last.append("…", style=WHY_STYLE)
        return lines

    def get_content_height(self, container: Size, viewport: Size, width: int) -> int:
        return len(self._lines(width))

    def render(self) -> Text:
        return Text("\n").join(self._lines(self.content_size.width))

    @property
    def shown(self) -> str:
        """The text on screen now (for the tests)."""
        return " ".join(line.plain.strip() for line in self._lines(self.content_size.width))
