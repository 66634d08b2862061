"""The tests' own key presses (app_support.press): the same events as Pilot.press, each
handled with all it set going before the next, and the private names they lean on."""

from __future__ import annotations

import asyncio
import importlib

from app_support import PRIVATE, drawn, press
from textual import events
from textual.app import App, ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.screen import Screen
from textual.widgets import Input, Static

KEYS = ["a", "Z", "7", "é", "!", "+", "-", "/", "@", "_", " ", "space", "enter", "tab",
        "shift+tab", "f2", "f12", "ctrl+q", "escape", "backspace", "up"]


class KeyLog(App[None]):
    """Records every key it is sent; F2 mounts a card (awaiting the mount) that takes the
    focus, as the observatory's new client does."""

    BINDINGS = [Binding("f2", "add", "Add")]

    def __init__(self) -> None:
        super().__init__()
        self.seen: list[tuple[str, str | None]] = []

    def compose(self) -> ComposeResult:
        yield Vertical(id="cards")

    async def on_event(self, event: events.Event) -> None:
        if isinstance(event, events.Key):
            self.seen.append((event.key, event.character))
        await super().on_event(event)

    async def action_add(self) -> None:
        card = Vertical(Static("new card"), Input(id=f"input-{len(self.query(Input))}"))
        await self.query_one("#cards").mount(card)
        # The focus moves once the screen is drawn, as the observatory moves it.
        self.call_after_refresh(lambda: self.call_after_refresh(card.query_one(Input).focus))


def test_every_private_name_the_keys_lean_on_is_there() -> None:
    loop = asyncio.new_event_loop()
    try:
        for name in PRIVATE:
            owner, _, attribute = name.rpartition(".")
            if owner == "asyncio.BaseEventLoop":
                assert hasattr(loop, attribute), name
            elif owner == "Screen":
                assert hasattr(Screen(), attribute), name
            else:
                assert callable(getattr(importlib.import_module(owner), attribute, None)), name
    finally:
        loop.close()


async def test_press_sends_the_events_pilot_press_sends() -> None:
    """Pilot.press and ours give a widget the same key names and characters (escape and
    ctrl+q are sent last: nothing here quits on them)."""
    seen: dict[str, list[tuple[str, str | None]]] = {}
    for how in ("pilot", "ours"):
        app = KeyLog()
        async with app.run_test() as pilot:
            keys = [k for k in KEYS if k != "f2"]
            if how == "pilot":
                await pilot.press(*keys)
            else:
                await press(pilot, *keys)
            seen[how] = list(app.seen)
    # One difference is Textual's own: "é" typed is "é" to a terminal (Pilot says None).
    assert [k for k, _ in seen["ours"]] == [k for k, _ in seen["pilot"]]
    assert [(k, c) for k, c in seen["ours"] if k != "e_acute"] == \
        [(k, c) for k, c in seen["pilot"] if k != "e_acute"]
    assert ("e_acute", "é") in seen["ours"] or ("é", "é") in seen["ours"]


async def test_a_key_typed_after_one_that_mounts_goes_where_that_one_put_the_focus() -> None:
    """F2 mounts a card and, two drawings later, gives its input the focus: the letters
    pressed right after reach the new input, in order, none of them lost."""
    app = KeyLog()
    async with app.run_test() as pilot:
        await press(pilot, "f2", "o", "k", "f2", "b", "i", "s")
        inputs = list(app.query(Input))
        assert [i.value for i in inputs] == ["ok", "bis"]
        assert app.focused is inputs[1]


async def test_press_draws_the_screen_the_key_changed() -> None:
    app = KeyLog()
    async with app.run_test(size=(40, 8)) as pilot:
        await press(pilot, "f2", *"drawn")
        lines = [strip.text for strip in app.screen._compositor.render_strips()]
        assert any("drawn" in line for line in lines), lines



class Grows(Static):
    """Laid out, it asks for another layout (as a table showing its new scrollbar does):
    10 rows tall once it has been given its first size."""

    def on_resize(self, event: events.Resize) -> None:
        if self.styles.height is None or self.styles.height.value != 10:
            self.styles.height = 10


class Growing(App[None]):
    def compose(self) -> ComposeResult:
        yield Static("above", id="above")
        yield Static("below", id="below")


async def test_drawn_draws_until_the_screen_asks_for_nothing_more() -> None:
    """A layout that asks for another: ``drawn`` lays the screen out again, and the screen
    read after it shows the second layout (it once stopped after the first: a table's
    scrollbar was then missing from one picture in three)."""
    app = Growing()
    async with app.run_test(size=(20, 16)) as pilot:
        await drawn(pilot)
        app.mount(Grows("grown"), before="#below")
        await drawn(pilot)
        lines = [strip.text.rstrip() for strip in app.screen._compositor.render_strips()]
        assert lines.index("below") == lines.index("grown") + 10, lines
