"""The screen is laid out again only when a widget's size may have changed: a text that is
the same is not drawn again, and one that takes as many rows is drawn without a layout of
the whole screen (Textual's ``Static.update`` lays it out at every call)."""

from __future__ import annotations

from typing import Any

import pytest
from app_support import drawn, press, wait_until
from rich.text import Text
from textual.app import App, ComposeResult
from textual.pilot import Pilot
from textual.widget import Widget
from textual.widgets import Input, Static

from tcp_observatory.tui.widgets.line_input import LineInput
from tcp_observatory.tui.widgets.prose import Prose, set_text


class Texts(App[None]):
    def compose(self) -> ComposeResult:
        yield Static(Text("server on 9500"), id="plain")
        yield Prose(Text("un « mot » ?"), id="prose")
        yield Static("below", id="below")


def text_of(widget: Widget) -> str:
    return "\n".join(line.text for line in widget.render_lines(widget.region.reset_offset))


async def rows_and_layouts(pilot: Pilot[None], widget: Static,
                           monkeypatch: pytest.MonkeyPatch) -> None:
    """What ``set_text`` asks of the widget: a repaint, a layout, or nothing."""
    await wait_until(pilot, lambda: widget.region.height == 1, "one row")
    asked: list[bool] = []  # each refresh the widget was asked for: with a layout or not
    refresh = widget.refresh

    def spy(*args: Any, **kwargs: Any) -> Static:
        asked.append(bool(kwargs.get("layout")))
        refresh(*args, **kwargs)
        return widget

    monkeypatch.setattr(widget, "refresh", spy)
    set_text(widget, Text("server on 9501", style="bold"))  # as many rows
    assert asked == [False], widget
    await wait_until(pilot, lambda: "9501" in text_of(widget), "the new text")
    set_text(widget, Text("server on 9501", style="bold"))  # the same
    assert asked == [False], widget
    set_text(widget, Text("a line\nand another"))  # one row more
    assert asked == [False, True], widget
    await wait_until(pilot, lambda: widget.region.height == 2, "two rows")
    assert "and another" in text_of(widget)


async def test_set_text_lays_the_screen_out_only_when_the_height_changes(
        monkeypatch: pytest.MonkeyPatch) -> None:
    app = Texts()
    async with app.run_test(size=(40, 12)) as pilot:
        await rows_and_layouts(pilot, app.query_one("#plain", Static), monkeypatch)
        await rows_and_layouts(pilot, app.query_one("#prose", Static), monkeypatch)
        await wait_until(pilot, lambda: app.query_one("#below", Static).region.y == 4,
                         "the line below moved down by both")


async def test_a_style_alone_is_a_change() -> None:
    app = Texts()
    async with app.run_test(size=(40, 12)) as pilot:
        widget = app.query_one("#plain", Static)
        set_text(widget, Text("server on 9500", style="bold #ff5f5f"))
        await drawn(pilot)
        content = widget.content
        assert isinstance(content, Text) and content.style == "bold #ff5f5f"


class Lines(App[None]):
    def compose(self) -> ComposeResult:
        yield Static("above")
        yield Input(id="plain-input")
        yield LineInput(id="line-input")


async def test_a_key_typed_in_a_line_input_lays_nothing_out(
        monkeypatch: pytest.MonkeyPatch) -> None:
    """Each key typed in Textual's Input lays the whole screen out (it sets its content's
    size); in a LineInput (a client's line, the answer box), none does, and the text is
    shown as typed."""
    layouts: list[str] = []
    refresh = Widget.refresh

    def spy(self: Widget, *args: Any, **kwargs: Any) -> Widget:
        if kwargs.get("layout"):
            layouts.append(self.id or type(self).__name__)
        return refresh(self, *args, **kwargs)

    app = Lines()
    async with app.run_test(size=(60, 12)) as pilot:
        monkeypatch.setattr(Widget, "refresh", spy)
        laid_out = {}
        for name in ("plain-input", "line-input"):
            field = app.query_one(f"#{name}")
            field.focus()
            await drawn(pilot)
            layouts.clear()
            await press(pilot, *"bonjour ok")
            laid_out[name] = len(layouts)
            assert isinstance(field, Input) and field.value == "bonjour ok"
            assert "bonjour ok" in text_of(field)
    assert laid_out["plain-input"] >= 5, laid_out  # Textual's own: the test can tell
    assert laid_out["line-input"] == 0, laid_out
