"""The keys, every one of them on screen: rows that wrap at the window's width.

Textual's footer is one row that scrolls sideways: at 80 or 100 columns the last keys
(Ctrl+N, Ctrl+B, Ctrl+Q) fell off the edge and could not be clicked. This one lays the
same keys out on as many rows as the width needs (two at 80 columns), each one clickable.
"""

from __future__ import annotations

from rich.cells import cell_len
from rich.text import Text
from textual import events
from textual.app import ComposeResult
from textual.containers import HorizontalGroup, Vertical
from textual.screen import Screen
from textual.widget import Widget

GAP = 1  # columns between two keys


def key_width(key_display: str, description: str) -> int:
    """Columns one key takes: its key, its description, the gap after it."""
    return cell_len(key_display) + cell_len(description) + GAP


def pack(widths: list[int], room: int) -> list[list[int]]:
    """Indexes of the keys on each row: as many as fit in ``room`` columns, in order."""
    rows: list[list[int]] = []
    used = 0
    for i, w in enumerate(widths):
        if not rows or (used + w > room + GAP and rows[-1]):
            rows.append([])
            used = 0
        rows[-1].append(i)
        used += w
    return rows


class Key(Widget):
    """One key: its name and what it does; a click presses it."""

    DEFAULT_CSS = """
    Key {
        width: auto;
        height: 1;
        margin: 0 1 0 0;
    }
    Key:hover {
        background: #303050;
    }
    Key.-disabled {
        text-style: italic;
    }
    """

    def __init__(self, key: str, display: str, description: str, *, enabled: bool) -> None:
        super().__init__(classes="" if enabled else "-disabled")
        self.key = key
        self.display_name = display
        self.description = description
        self.enabled = enabled

    def render(self) -> Text:
        out = Text(self.display_name, style="bold #ffaf00")
        out.append(self.description, style="#ffffff" if self.enabled else "#9e9e9e")
        return out

    def on_click(self, event: events.Click) -> None:
        event.stop()
        if self.enabled:
            self.app.simulate_key(self.key)
        else:
            self.app.bell()


class KeysFooter(Vertical):
    """Every shown binding of the screen, on rows that wrap at the window's width."""

    DEFAULT_CSS = """
    KeysFooter {
        dock: bottom;
        height: auto;
        background: #1c1c1c;
    }
    KeysFooter > HorizontalGroup {
        height: 1;
    }
    """

    def __init__(self, *, id: str | None = None,
                 descriptions: dict[str, str] | None = None) -> None:
        """``descriptions``: action -> what the footer says for it, for a binding made
        before the app's language was known (a class's BINDINGS)."""
        super().__init__(id=id)
        self.descriptions = dict(descriptions or {})
        self._packed: tuple[int, tuple[tuple[str, str, bool], ...]] | None = None

    def on_mount(self) -> None:
        self.screen.bindings_updated_signal.subscribe(self, self._bindings_changed)
        self.call_after_refresh(self._bindings_changed, self.screen)

    def on_unmount(self) -> None:
        self.screen.bindings_updated_signal.unsubscribe(self)

    def keys(self) -> list[Key]:
        """The keys on screen now, in order (for the tests)."""
        return list(self.query(Key))

    def _shown(self) -> list[tuple[str, str, str, bool]]:
        out: list[tuple[str, str, str, bool]] = []
        seen: set[str] = set()
        for _node, binding, enabled, _tooltip in self.screen.active_bindings.values():
            if not binding.show or binding.action in seen:
                continue
            seen.add(binding.action)
            description = self.descriptions.get(binding.action, binding.description)
            out.append((binding.key, self.app.get_key_display(binding), description, enabled))
        # Quitting comes last, where every footer has it.
        return sorted(out, key=lambda k: k[0] == "ctrl+q")

    def _bindings_changed(self, screen: Screen[object]) -> None:
        if not self.is_attached or screen is not self.screen:
            return
        shown = self._shown()
        room = self.size.width or self.app.size.width
        packed = (room, tuple((d, desc, on) for _k, d, desc, on in shown))
        if packed == self._packed:
            return
        self._packed = packed
        self.call_after_refresh(self.recompose)

    def compose(self) -> ComposeResult:
        shown = self._shown() if self.is_attached else []
        room = self.size.width or self.app.size.width
        widths = [key_width(display, desc) for _k, display, desc, _on in shown]
        for row in pack(widths, room):
            yield HorizontalGroup(*(Key(shown[i][0], shown[i][1], shown[i][2],
                                        enabled=shown[i][3]) for i in row))

    def on_resize(self, event: events.Resize) -> None:
        self._bindings_changed(self.screen)
