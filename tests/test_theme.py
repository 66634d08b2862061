"""Readable on any projector: text contrast in both themes, the states told apart without
colour, the light theme switched by option and key, and every key on screen at 80 columns."""

from __future__ import annotations

import itertools
import re
from html import unescape

import pytest
from app_support import drawn, press, press_f9, view_drawn, wait_until
from rich.cells import cell_len
from rich.style import Style
from snapshot_scene import make_scene_app, play_scene
from textual.color import Color

from tcp_observatory.lab.observe.model import ALL_STATES
from tcp_observatory.tui.cli import build_parser
from tcp_observatory.tui.theme import (
    FAMILY_GLYPH,
    STATE_FAMILY,
    STATE_STYLE,
    contrast,
    light_background,
    light_style,
    light_text,
    luminance,
    state_glyph,
    text_pairs,
)
from tcp_observatory.tui.widgets.footer import KeysFooter, pack

# -- contrast -------------------------------------------------------------------------------


def test_contrast_is_wcag_s() -> None:
    assert contrast("#000000", "#ffffff") == pytest.approx(21.0)
    assert contrast("#767676", "#ffffff") == pytest.approx(4.54, abs=0.01)
    assert contrast("#777777", "#777777") == pytest.approx(1.0)


@pytest.mark.parametrize("theme", ["dark", "light"])
def test_every_text_of_the_theme_reads_at_4_5_to_1(theme: str) -> None:
    pairs = text_pairs(theme)
    assert len(pairs) > 80
    low = [(what, fg, bg, round(contrast(fg, bg), 2)) for what, fg, bg in pairs
           if contrast(fg, bg) < 4.5]
    assert low == []


def test_the_light_theme_is_light_and_keeps_the_hues() -> None:
    """Black turns white, white text black; a state keeps its hue, darkened to read."""
    assert light_background(Color.parse("#000000")).hex == "#FFFFFF"
    assert light_text(Color.parse("#ffffff"), Color.parse("#ffffff")).hex == "#000000"
    white = Color.parse("#ffffff")
    for state, st in STATE_STYLE.items():
        assert st.color is not None
        dark = Color.from_rich_color(st.color)
        light = light_text(dark, white)
        assert contrast(light, white) >= 7.0, state
        if dark.hsl[1] > 0.25:  # a colour, not a grey: its hue is kept
            assert abs(light.hsl[0] - dark.hsl[0]) < 0.02, state
    # Reversed text (the table's cursor, a busy box): the text's colour is the ground.
    style = light_style(Style(color="#5fff5f", bgcolor="#000000", reverse=True))
    assert style.reverse and style.color is not None and style.bgcolor is not None
    assert luminance(Color.from_rich_color(style.color)) > 0.2  # the ground stays light
    assert contrast(Color.from_rich_color(style.color),
                    Color.from_rich_color(style.bgcolor)) >= 4.5


# -- colour is never the only signal ---------------------------------------------------------

# Machado, Oliveira and Fernandes (2009), severity 1.0, applied to linear RGB.
SIMULATIONS = {
    "protanopia": ((0.152286, 1.052583, -0.204868), (0.114503, 0.786281, 0.099216),
                   (-0.003882, -0.048116, 1.051998)),
    "deuteranopia": ((0.367322, 0.860646, -0.227968), (0.280085, 0.672501, 0.047413),
                     (-0.011820, 0.042940, 0.968881)),
    "tritanopia": ((1.255528, -0.076749, -0.178779), (-0.078411, 0.930809, 0.147602),
                   (0.004733, 0.691367, 0.303900)),
}


def _simulate(colour: Color, matrix: tuple[tuple[float, float, float], ...]) -> Color:
    def lin(v: int) -> float:
        s = v / 255
        return s / 12.92 if s <= 0.04045 else ((s + 0.055) / 1.055) ** 2.4

    def gamma(v: float) -> int:
        v = min(1.0, max(0.0, v))
        s = v * 12.92 if v <= 0.0031308 else 1.055 * v ** (1 / 2.4) - 0.055
        return round(s * 255)

    rgb = (lin(colour.r), lin(colour.g), lin(colour.b))
    out = [sum(m * c for m, c in zip(row, rgb, strict=True)) for row in matrix]
    return Color(gamma(out[0]), gamma(out[1]), gamma(out[2]))


def _state_colour(state: str, theme: str) -> Color:
    st = STATE_STYLE[state]
    assert st.color is not None
    dark = Color.from_rich_color(st.color)
    return dark if theme == "dark" else light_text(dark, Color.parse("#ffffff"))


def test_each_family_has_its_own_one_cell_glyph() -> None:
    assert set(STATE_FAMILY) == set(ALL_STATES)
    glyphs = [FAMILY_GLYPH[f] for f in sorted(set(STATE_FAMILY.values()))]
    assert len(set(glyphs)) == len(glyphs)
    assert all(cell_len(g) == 1 for g in glyphs)
    assert state_glyph("ESTABLISHED") != state_glyph("CLOSE_WAIT") != state_glyph("TIME_WAIT")


@pytest.mark.parametrize("theme", ["dark", "light"])
@pytest.mark.parametrize("reading", [None, *SIMULATIONS])
def test_states_of_different_families_stay_apart_for_colour_blind_readers(
        theme: str, reading: str | None) -> None:
    """Seen as a protanope, a deuteranope or a tritanope sees them (or in black and white:
    luminance alone), two states of different families differ by their glyph or by a
    clear difference of luminance; never by hue alone."""
    apart = 0
    for a, b in itertools.combinations(ALL_STATES, 2):
        if STATE_FAMILY[a] == STATE_FAMILY[b]:
            continue
        ca, cb = _state_colour(a, theme), _state_colour(b, theme)
        if reading is not None:
            ca, cb = _simulate(ca, SIMULATIONS[reading]), _simulate(cb, SIMULATIONS[reading])
        by_glyph = state_glyph(a) != state_glyph(b)
        by_luminance = contrast(ca, cb) >= 1.5
        assert by_glyph or by_luminance, (a, b, reading)
        apart += by_glyph
    assert apart == sum(1 for a, b in itertools.combinations(ALL_STATES, 2)
                        if STATE_FAMILY[a] != STATE_FAMILY[b])


# -- the option and the key ------------------------------------------------------------------


def test_the_theme_option() -> None:
    assert build_parser().parse_args([]).theme == "dark"
    assert build_parser().parse_args(["--theme", "light"]).theme == "light"
    with pytest.raises(SystemExit):
        build_parser().parse_args(["--theme", "pink"])


_RECT = re.compile(r'<rect fill="(#[0-9a-fA-F]{6})" x="([\d.]+)" y="([\d.]+)" width="([\d.]+)"')
_TEXT = re.compile(r'<text class="([\w-]+)" x="([\d.]+)" y="[\d.]+" textLength="[\d.]+" '
                   r'clip-path="url\(#[\w-]+-line-(\d+)\)">([^<]*)</text>')
_CLASS = re.compile(r"\.([\w-]+) \{ fill: (#[0-9a-fA-F]{6})")
LINE_HEIGHT = 24.4


def words_and_grounds(svg: str) -> list[tuple[str, str, str]]:
    """(text, its colour, the colour under it) for every piece of text in an exported
    screenshot that holds a letter or a digit (lines and frames are not text)."""
    fills = dict(_CLASS.findall(svg))
    grounds: dict[tuple[int, float], str] = {}
    for fill, x, y, _w in _RECT.findall(svg):
        grounds[(round((float(y) - 1.5) / LINE_HEIGHT), float(x))] = fill
    out = []
    for cls, x, line, text in _TEXT.findall(svg):
        plain = unescape(text)
        if not any(ch.isalnum() for ch in plain):
            continue
        ground = grounds.get((int(line), float(x)))
        if ground is not None and cls in fills:
            out.append((plain, fills[cls], ground))
    return out


@pytest.mark.parametrize("theme", ["dark", "light"])
async def test_an_exported_picture_reads_in_black_and_white(theme: str) -> None:
    """Printed in black and white, a picture keeps only luminance: every word of an
    exported screenshot (the diagram, in presentation mode, at 100x30) reads at 4.5:1
    against what is under it, in either theme; the light theme is light."""
    app = make_scene_app("fr")
    app.colours = theme
    async with app.run_test(size=(100, 30)) as pilot:
        await play_scene(pilot)
        await press_f9(pilot)
        await press(pilot, "f10")
        await wait_until(pilot, lambda: view_drawn(app), "the diagram drawn")
        await drawn(pilot)
        svg = app.export_screenshot()
    words = words_and_grounds(svg)
    assert len(words) > 40
    low = [(w, fg, bg, round(contrast(fg, bg), 2)) for w, fg, bg in words
           if contrast(fg, bg) < 4.5]
    assert low == []
    grounds = [bg for _w, _fg, bg in words]
    light = sum(luminance(bg) > 0.5 for bg in grounds)
    assert (light > len(grounds) * 0.7) if theme == "light" else (light < len(grounds) * 0.3)


async def test_ctrl_t_switches_the_theme_and_back() -> None:
    app = make_scene_app("en")
    async with app.run_test(size=(100, 30)) as pilot:
        await play_scene(pilot)
        dark = words_and_grounds(app.export_screenshot())
        await press(pilot, "ctrl+t")
        await drawn(pilot)
        assert app.colours == "light"
        light = words_and_grounds(app.export_screenshot())
        await press(pilot, "ctrl+t")
        await drawn(pilot)
        again = words_and_grounds(app.export_screenshot())
    assert sum(luminance(bg) > 0.5 for _w, _f, bg in dark) < len(dark) * 0.3
    assert sum(luminance(bg) > 0.5 for _w, _f, bg in light) > len(light) * 0.7
    assert again == dark


# -- the footer ------------------------------------------------------------------------------


def test_keys_are_packed_on_rows_that_fit() -> None:
    assert pack([10, 10, 10], 20) == [[0, 1], [2]]
    assert pack([30], 20) == [[0]]  # a key wider than the row has a row of its own
    assert pack([], 80) == []


@pytest.mark.parametrize("lang", ["fr", "en"])
@pytest.mark.parametrize("size", [(80, 24), (100, 30)])
async def test_every_key_is_on_screen_and_clickable(lang: str, size: tuple[int, int]) -> None:
    """At 80 and 100 columns the footer wraps: every key lies whole inside the window, and
    clicking the last ones works (Ctrl+N moves to the next step, Ctrl+Q quits)."""
    app = make_scene_app(lang)
    async with app.run_test(size=size) as pilot:
        await play_scene(pilot)
        footer = app.query_one(KeysFooter)
        keys = footer.keys()
        names = {k.key for k in keys}
        assert {"f1", "f9", "f10", "ctrl+s", "ctrl+r", "ctrl+n", "ctrl+b", "ctrl+t",
                "ctrl+q"} <= names
        for key in keys:
            r = key.region
            assert r.width > 0 and r.right <= size[0] and r.bottom <= size[1], key.key
        assert footer.region.height <= 2
        step = app.step_id
        nxt = next(k for k in keys if k.key == "ctrl+n")
        await pilot.click(offset=nxt.region.offset)
        await drawn(pilot)
        assert app.step_id != step
        quit_key = next(k for k in app.query_one(KeysFooter).keys() if k.key == "ctrl+q")
        await pilot.click(offset=quit_key.region.offset)
        await drawn(pilot)
    assert app.return_code == 0
    app.shutdown()
