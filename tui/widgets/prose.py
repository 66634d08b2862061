"""Text that wraps as French wants: never at a no-break space.

French typography puts a no-break space before ``: ; ? !`` and ``»`` and after ``«``
(the catalogue adds them). Rich breaks lines at any Unicode space, no-break ones included,
so a lone "?" or "»" could start a line. ``Prose`` wraps its text itself, at ordinary
spaces only, for the width it is given, and lets Rich draw the lines as they are.
"""

from __future__ import annotations

import re

from rich.cells import cell_len
from rich.text import Text
from textual.app import RenderResult
from textual.widgets import Static

_TOKEN = re.compile(r"[^ \t\n]*[ \t]*")  # a word and the ordinary spaces after it


def _offsets(line: str, width: int) -> list[int]:
    """Where to cut one paragraph so that no piece is wider than ``width`` cells: before
    a word that would not fit, and inside a word wider than a whole line."""
    cuts: list[int] = []
    col = 0
    for match in _TOKEN.finditer(line):
        start, end = match.span()
        if start == end:
            continue
        word_end = start + len(match.group(0).rstrip(" \t"))
        w = cell_len(line[start:word_end])
        if col and col + w > width:
            cuts.append(start)
            col = 0
        while w > width:  # fold a word longer than the line
            fold, used = start, 0
            while fold < word_end and used + cell_len(line[fold]) <= width:
                used += cell_len(line[fold])
                fold += 1
            fold = max(fold, start + 1)
            cuts.append(fold)
            start, col = fold, 0
            w = cell_len(line[start:word_end])
        col += w + cell_len(line[word_end:end])
    return cuts


def wrap_text(text: Text, width: int) -> Text:
    """``text`` with line breaks at ordinary spaces, so each line fits ``width`` cells."""
    width = max(1, width)
    cuts: list[int] = []
    at = 0
    for paragraph in text.plain.split("\n"):
        cuts.extend(at + c for c in _offsets(paragraph, width))
        at += len(paragraph) + 1
    if not cuts:
        return text
    lines = text.divide(cuts)
    for line in lines:
        spaces = len(line.plain) - len(line.plain.rstrip(" \t"))
        if spaces:
            line.right_crop(spaces)  # the ordinary spaces where the line was cut
    out = Text("\n").join(lines)
    out.no_wrap = True
    out.overflow = "crop"
    return out


def _same(a: Text, b: Text) -> bool:
    """The same text drawn the same way (Rich's ``==`` leaves out the base style)."""
    return (a.plain == b.plain and a.spans == b.spans and a.style == b.style
            and a.justify == b.justify and a.no_wrap == b.no_wrap and a.overflow == b.overflow)


def _rows(widget: Static, text: Text, width: int) -> int:
    if isinstance(widget, Prose):
        return wrap_text(text, width).plain.count("\n") + 1
    return len(text.wrap(widget.app.console, width))


def set_text(widget: Static, text: Text) -> None:
    """``widget.update(text)``, as cheap as it can be: nothing when the text is the same,
    and no layout of the screen when the text takes as many rows as before at the
    widget's width (Static.update lays the whole screen out at every call)."""
    old = widget.content
    if isinstance(old, Text) and _same(old, text):
        return
    width = widget.content_region.width
    rule = widget.styles.width
    keeps = (isinstance(old, Text) and width > 0 and not (rule is not None and rule.is_auto)
             and _rows(widget, old, width) == _rows(widget, text, width))
    widget.update(text, layout=not keeps)


class Prose(Static):
    """A ``Static`` whose text wraps only at ordinary spaces (see the module's note)."""

    def __init__(self, text: Text | str = "", *, id: str | None = None) -> None:
        self._text = text if isinstance(text, Text) else Text(text)
        super().__init__(self._text, id=id, markup=False)

    def update(self, content: object = "", *, layout: bool = True) -> None:
        self._text = content if isinstance(content, Text) else Text(str(content))
        super().update(self._text, layout=layout)

    def render(self) -> RenderResult:
        width = self.content_region.width or self.size.width
        return wrap_text(self._text, width) if width > 0 else self._text
