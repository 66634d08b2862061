"""The keys' footer is one widget that draws its rows and finds the key under the mouse
from where it drew them: a click on a key presses that key (its first column and its
last alike), a click between two keys or past a row's last one presses nothing, the key
under the mouse is lit, and a change of the bindings or of the width only draws the rows
again (and changes the footer's height when their number changes)."""

from __future__ import annotations

from app_support import wait_until
from textual.app import App, ComposeResult
from textual.pilot import Pilot
from textual.widgets import Static

from tcp_observatory.tui.widgets.footer import FooterKey, KeysFooter

LIT = "#303050"
GROUND = "#1c1c1c"


class Keys(App[None]):
    """Four keys that say when they are pressed; ``c`` shown disabled, ``e`` hidden, until
    the test says otherwise."""

    BINDINGS = [("a", "press('a')", "Alpha"), ("b", "press('b')", "Beta"),
                ("c", "press('c')", "Gamma"), ("d", "press('d')", "Delta"),
                ("e", "press('e')", "Echo")]

    def __init__(self) -> None:
        super().__init__()
        self.pressed: list[str] = []
        self.bells = 0
        self.disabled = {"c"}
        self.hidden = {"e"}

    def compose(self) -> ComposeResult:
        yield Static("body", id="body")
        yield KeysFooter()

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action == "press" and parameters[0] in self.hidden:
            return False  # not shown
        if action == "press" and parameters[0] in self.disabled:
            return None  # shown disabled
        return True

    def action_press(self, name: str) -> None:
        self.pressed.append(name)

    def bell(self) -> None:
        self.bells += 1


def footer_of(app: App[None]) -> KeysFooter:
    return app.query_one(KeysFooter)


async def laid_out(pilot: Pilot[None], footer: KeysFooter, keys: int) -> None:
    """Wait for ``keys`` keys in the footer, laid out at the window's width."""
    await wait_until(pilot, lambda: len(footer.keys()) == keys
                     and footer.size.width == footer.app.size.width, f"{keys} keys shown")


def ground_at(app: App[None], x: int, y: int) -> str:
    colour = app.screen.get_style_at(x, y).bgcolor
    assert colour is not None, (x, y)
    return colour.get_truecolor().hex


async def press_and_see(pilot: Pilot[None], app: Keys, key: FooterKey, x: int) -> None:
    """Click column ``x`` of ``key``'s row and wait for what that click does."""
    pressed, bells = len(app.pressed), app.bells
    await pilot.click(offset=(x, key.region.y))
    if key.enabled:
        await wait_until(pilot, lambda: len(app.pressed) > pressed, f"{key.key} pressed")
        assert app.pressed[pressed:] == [key.key]
        assert app.bells == bells
    else:
        await wait_until(pilot, lambda: app.bells > bells, f"the bell for {key.key}")
        assert len(app.pressed) == pressed  # a disabled key does nothing but ring


async def test_a_click_presses_the_key_under_it_and_nothing_between_keys() -> None:
    app = Keys()
    async with app.run_test(size=(20, 6)) as pilot:
        footer = footer_of(app)
        await laid_out(pilot, footer, 4)
        keys = footer.keys()
        assert [(k.key, k.enabled) for k in keys] == [
            ("a", True), ("b", True), ("c", False), ("d", True)]
        # a, b and c fill the first row (20 columns and c's gap past it), d the second.
        assert [tuple(k.region) for k in keys] == [
            (0, 4, 6, 1), (7, 4, 5, 1), (13, 4, 6, 1), (0, 5, 6, 1)]
        for key in keys:
            await press_and_see(pilot, app, key, key.region.x)  # its first column
            await press_and_see(pilot, app, key, key.region.right - 1)  # its last one
        # The gap after a key, and past d, the last key of its row: nothing. Each click
        # is followed by one on d, whose press proves the click before it was handled.
        d = keys[-1]
        for x, y in ((keys[0].region.right, 4), (keys[1].region.right, 4), (d.region.right, 5),
                     (19, 5)):
            pressed, bells = list(app.pressed), app.bells
            await pilot.click(offset=(x, y))
            await press_and_see(pilot, app, d, d.region.x)
            assert app.pressed == [*pressed, "d"], (x, y)
            assert app.bells == bells, (x, y)


async def test_the_key_under_the_mouse_is_lit_and_only_it() -> None:
    app = Keys()
    async with app.run_test(size=(20, 6)) as pilot:
        footer = footer_of(app)
        await laid_out(pilot, footer, 4)
        a, b, _c, d = footer.keys()
        await pilot.hover(offset=(b.region.right - 1, b.region.y))
        await wait_until(pilot, lambda: ground_at(app, b.region.x, b.region.y) == LIT,
                         "b lit")
        assert {ground_at(app, x, b.region.y) for x in range(b.region.x, b.region.right)} \
            == {LIT}
        assert ground_at(app, b.region.x - 1, b.region.y) == GROUND  # the gap before it
        assert ground_at(app, b.region.right, b.region.y) == GROUND  # the gap after it
        assert ground_at(app, a.region.x, a.region.y) == GROUND
        assert ground_at(app, d.region.x, d.region.y) == GROUND
        await pilot.hover("#body")  # off the footer: nothing lit
        await wait_until(pilot, lambda: ground_at(app, b.region.x, b.region.y) == GROUND,
                         "b no longer lit")
        assert ground_at(app, a.region.x, a.region.y) == GROUND


async def test_a_change_of_the_keys_or_the_width_redraws_the_one_widget() -> None:
    app = Keys()
    async with app.run_test(size=(20, 6)) as pilot:
        footer = footer_of(app)
        await laid_out(pilot, footer, 4)
        assert not footer.children  # the keys are drawn, not widgets of their own
        assert footer.region.height == 2
        c = footer.keys()[2]
        assert ground_at(app, c.region.x, c.region.y) == GROUND
        assert app.screen.get_style_at(c.region.right - 1, c.region.y).italic

        app.disabled.clear()  # c enabled, e shown: still two rows at 20 columns
        app.hidden.clear()
        app.refresh_bindings()
        await laid_out(pilot, footer, 5)
        assert footer_of(app) is footer and not footer.children
        keys = footer.keys()
        assert [(k.key, k.enabled) for k in keys][2:] == [("c", True), ("d", True),
                                                          ("e", True)]
        assert footer.region.height == 2
        c = keys[2]
        await pilot.click(offset=c.region.offset)
        await wait_until(pilot, lambda: "c" in app.pressed, "c pressed, once enabled")
        style = app.screen.get_style_at(c.region.right - 1, c.region.y)
        assert style.color is not None and style.color.get_truecolor().hex == "#ffffff"
        assert not style.italic

        await pilot.resize_terminal(14, 6)  # three rows: a b | c d | e
        await wait_until(pilot, lambda: footer.region.height == 3, "three rows")
        assert [(k.key, k.region.y) for k in footer.keys()] == [
            ("a", 3), ("b", 3), ("c", 4), ("d", 4), ("e", 5)]
        assert all(k.region.right <= 14 for k in footer.keys())
        e = footer.keys()[-1]
        await press_and_see(pilot, app, e, e.region.x)
