"""Colours and glyphs chosen to read on a projector.

Two themes. The default, dark: bold, saturated colours, one per state family, on black.
The light one (``--theme light``, Ctrl+T) for projectors that wash dark backgrounds out:
every colour the app draws is turned, as it is drawn, into its light counterpart by one
line filter (``LightFilter``): backgrounds take the opposite lightness (black turns white,
the stamp's yellow stays yellow), and each text colour keeps its hue and is darkened until
it reads at ``LIGHT_TEXT_CONTRAST`` against its new background. One rule, applied to every
widget's output, rather than a second palette that each widget would have to follow.

Colour is never the only signal: each state family has its glyph (``state_glyph``), drawn
before the state's name, so that a colour-blind reader, a washed-out projector or a black
and white print still tells ESTABLISHED from CLOSE_WAIT at a glance.
"""

from __future__ import annotations

from functools import lru_cache

from rich.segment import Segment
from rich.style import Style
from textual.color import Color
from textual.filter import LineFilter

THEMES = ("dark", "light")

STATE_STYLE: dict[str, Style] = {
    "LISTEN": Style(color="#5fafff", bold=True),
    "SYN_SENT": Style(color="#ffaf00", bold=True),
    "SYN_RECEIVED": Style(color="#ffaf00", bold=True),
    "ESTABLISHED": Style(color="#5fff5f", bold=True),
    "FIN_WAIT_1": Style(color="#ff8787", bold=True),
    "FIN_WAIT_2": Style(color="#ff6e6e", bold=True),
    "CLOSE_WAIT": Style(color="#ffd700", bold=True),
    "CLOSING": Style(color="#ff87ff", bold=True),
    "LAST_ACK": Style(color="#ff87ff", bold=True),
    "TIME_WAIT": Style(color="#d7afff", bold=True),
    "CLOSED": Style(color="#9e9e9e", strike=True),
}

DEFAULT_STATE_STYLE = Style(color="white", bold=True)

# The state families, as the lab tells them, and the glyph that marks each one. Shapes
# from Unicode's Geometric Shapes block: every monospace font of the three systems has
# them, one cell wide.
STATE_FAMILY: dict[str, str] = {
    "LISTEN": "listen",
    "SYN_SENT": "opening",
    "SYN_RECEIVED": "opening",
    "ESTABLISHED": "open",
    "FIN_WAIT_1": "closing_first",  # this end closed first
    "FIN_WAIT_2": "closing_first",
    "CLOSE_WAIT": "closing_second",  # the other end closed first
    "LAST_ACK": "closing_second",
    "CLOSING": "closing_both",
    "TIME_WAIT": "time_wait",
    "CLOSED": "closed",
}

FAMILY_GLYPH: dict[str, str] = {
    "listen": "◎",  # an open ear
    "opening": "◇",  # a handshake under way: hollow
    "open": "●",  # the connection whole
    "closing_first": "◐",  # half closed: this end's half gone
    "closing_second": "◑",  # half closed: the other end's half gone
    "closing_both": "◒",
    "time_wait": "◌",  # gone but for the kernel's wait
    "closed": "○",
}


def state_glyph(state: str) -> str:
    """The glyph of the state's family ("●" for ESTABLISHED); "·" for a state unknown here."""
    family = STATE_FAMILY.get(state)
    return FAMILY_GLYPH[family] if family else "·"


# TCPView's convention: new rows green, changed yellow, vanishing red. Dark enough that a
# state's colour still reads on them.
FLASH_STYLE: dict[str, Style] = {
    "new": Style(bgcolor="#003300"),
    "changed": Style(bgcolor="#2e2e00"),
    "gone": Style(bgcolor="#3a0000"),
}

ACTION_STYLE = Style(color="#5fd7ff", bold=True)
SERVER_STYLE = Style(color="#87afff")
INFERRED_STYLE = Style(color="#8a8a8a", italic=True)
DIM_STYLE = Style(color="#9e9e9e")
# A row left by an earlier step: still the kernel's, no longer the step's story. Grey and
# italic rather than "dim", which terminals draw as they like (too faint to read on some).
EARLIER_STYLE = Style(color="#8a8a8a", italic=True)
PEER_TEXT_STYLE = Style(color="#ffffff")
# Stepping back through moments: what came after the moment shown, greyed.
LATER_STYLE = Style(color="#585858", bold=False)
MUTED = "#bcbcbc"  # secondary text: addresses, labels
FAINT = "#9e9e9e"  # tertiary text: times
WHY_STYLE = Style(color="#ffd700")


def state_style(state: str) -> Style:
    return STATE_STYLE.get(state, DEFAULT_STATE_STYLE)


# -- contrast, as WCAG 2 defines it ---------------------------------------------------------

def luminance(colour: str | Color) -> float:
    """WCAG's relative luminance of an sRGB colour (0 black, 1 white)."""
    c = Color.parse(colour) if isinstance(colour, str) else colour

    def channel(v: int) -> float:
        s = v / 255
        return s / 12.92 if s <= 0.04045 else ((s + 0.055) / 1.055) ** 2.4

    return 0.2126 * channel(c.r) + 0.7152 * channel(c.g) + 0.0722 * channel(c.b)


def contrast(a: str | Color, b: str | Color) -> float:
    """WCAG's contrast ratio of two colours, from 1 to 21 (text needs 4.5)."""
    la, lb = luminance(a), luminance(b)
    hi, lo = max(la, lb), min(la, lb)
    return (hi + 0.05) / (lo + 0.05)


# -- the light theme ------------------------------------------------------------------------

LIGHT_TEXT_CONTRAST = 7.0  # what the light theme's text reaches against its background
_BLACK = Color(0, 0, 0)
_WHITE = Color(255, 255, 255)


def light_background(colour: Color) -> Color:
    """A background of the dark theme in the light one: the opposite lightness, same hue."""
    h, s, lightness = colour.hsl
    return Color.from_hsl(h, s, 1.0 - lightness)


def light_text(colour: Color, background: Color) -> Color:
    """A text colour in the light theme: its hue kept, its lightness moved just as far as
    it takes to read at LIGHT_TEXT_CONTRAST on ``background`` (black or white if no shade
    of its hue does). Greys take the opposite lightness (white text turns black); a colour
    keeps its own and is only darkened (or lightened) as far as it must, so that it stays
    as vivid as it can."""
    h, s, lightness = colour.hsl
    start = 1.0 - lightness if s < 0.25 else lightness
    dark_ground = luminance(background) < 0.18
    if contrast(Color.from_hsl(h, s, start), background) >= LIGHT_TEXT_CONTRAST:
        return Color.from_hsl(h, s, start)
    # Lighter shades read on a dark background, darker ones on a light one: find the one
    # nearest the start that reads (contrast grows steadily toward the far end).
    near, far = (start, 1.0) if dark_ground else (0.0, start)
    if contrast(Color.from_hsl(h, s, far if dark_ground else near), background) \
            < LIGHT_TEXT_CONTRAST:
        return _WHITE if dark_ground else _BLACK
    for _ in range(24):
        mid = (near + far) / 2
        ok = contrast(Color.from_hsl(h, s, mid), background) >= LIGHT_TEXT_CONTRAST
        if dark_ground:
            near, far = (near, mid) if ok else (mid, far)
        else:
            near, far = (mid, far) if ok else (near, mid)
    return Color.from_hsl(h, s, far if dark_ground else near)


@lru_cache(maxsize=8192)
def light_style(style: Style | None) -> Style:
    """A style of the dark theme, as the light theme draws it."""
    if style is None:
        return Style(color=_BLACK.rich_color, bgcolor=_WHITE.rich_color)
    fg = Color.from_rich_color(style.color) if style.color is not None else _WHITE
    bg = Color.from_rich_color(style.bgcolor) if style.bgcolor is not None else _BLACK
    if style.reverse:  # drawn the other way round: the text's colour is the ground
        ground = light_background(fg)
        return style + Style.from_color(ground.rich_color, light_text(bg, ground).rich_color)
    ground = light_background(bg)
    return style + Style.from_color(light_text(fg, ground).rich_color, ground.rich_color)


class LightFilter(LineFilter):
    """Every line the app draws, in the light theme's colours (see the module's text)."""

    def apply(self, segments: list[Segment], background: Color) -> list[Segment]:
        return [Segment(text, light_style(style), control)
                for text, style, control in segments]


# -- what the tests measure -----------------------------------------------------------------

SCREEN_BACKGROUND = "#000000"
SURFACE_BACKGROUNDS = ("#000000", "#0a0a0a", "#1c1c1c")  # screen, steps panel, inputs


def text_colours() -> dict[str, str]:
    """Every colour the theme writes text in, by what it is for."""
    out = {f"state {s}": str(st.color.get_truecolor().hex) for s, st in STATE_STYLE.items()
           if st.color is not None}
    for name, st in (("action", ACTION_STYLE), ("server", SERVER_STYLE),
                     ("inferred", INFERRED_STYLE), ("dim", DIM_STYLE),
                     ("earlier", EARLIER_STYLE), ("peer text", PEER_TEXT_STYLE),
                     ("why", WHY_STYLE)):
        if st.color is not None:
            out[name] = str(st.color.get_truecolor().hex)
    out["muted"] = MUTED
    out["faint"] = FAINT
    return out


def text_pairs(theme: str) -> list[tuple[str, str, str]]:
    """(what, text colour, background) for every text the theme draws, as drawn in
    ``theme``: each text colour on every surface, the table's states and default text on
    its flash backgrounds, and black on a state's colour (the diagram's busy boxes)."""
    dark: list[tuple[str, str, str]] = []
    for what, fg in text_colours().items():
        dark.extend((what, fg, bg) for bg in SURFACE_BACKGROUNDS)
    for kind, st in FLASH_STYLE.items():
        bg = str(st.bgcolor.get_truecolor().hex) if st.bgcolor else SCREEN_BACKGROUND
        dark.append((f"text on {kind} row", "#ffffff", bg))
        dark.extend((f"{s} on {kind} row", str(ss.color.get_truecolor().hex), bg)
                    for s, ss in STATE_STYLE.items() if ss.color is not None)
    dark.extend((f"{s} busy box", "#000000", str(ss.color.get_truecolor().hex))
                for s, ss in STATE_STYLE.items() if ss.color is not None)
    if theme == "dark":
        return dark
    out = []
    for what, fg, bg in dark:
        ground = light_background(Color.parse(bg))
        out.append((what, light_text(Color.parse(fg), ground).hex, ground.hex))
    return out
