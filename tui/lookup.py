"""The app's widgets found by their kind (or id) through Textual's cached ``query_one``.

``query()`` walks the whole screen and matches a selector against every widget, about 1 ms
with the app's 65 widgets: the app did that several times at every snapshot (20 a second in
the tests) and every tick. A widget looked for here is there once, or not at all (the
screen is still being built, or torn down), hence a list of one or none.
"""

from __future__ import annotations

from typing import TypeVar

from textual.css.query import NoMatches
from textual.dom import DOMNode
from textual.widget import Widget

W = TypeVar("W", bound=Widget)


def present(node: DOMNode, kind: type[W], id: str | None = None) -> list[W]:
    """The widget of this kind (with this id) under ``node``: [it], or [] when it is not."""
    try:
        return [node.query_one(kind) if id is None else node.query_one(f"#{id}", kind)]
    except NoMatches:
        return []
