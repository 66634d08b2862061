"""Text three rows high, for the back of a room: a 3x5 pixel font drawn with half blocks."""

from __future__ import annotations

from rich.style import Style
from rich.text import Text

_FONT: dict[str, tuple[str, str, str, str, str]] = {
    "A": (".#.", "#.#", "###", "#.#", "#.#"),
    "B": ("##.", "#.#", "##.", "#.#", "##."),
    "C": (".##", "#..", "#..", "#..", ".##"),
    "D": ("##.", "#.#", "#.#", "#.#", "##."),
    "E": ("###", "#..", "##.", "#..", "###"),
    "F": ("###", "#..", "##.", "#..", "#.."),
    "G": (".##", "#..", "#.#", "#.#", ".##"),
    "H": ("#.#", "#.#", "###", "#.#", "#.#"),
    "I": ("###", ".#.", ".#.", ".#.", "###"),
    "J": ("..#", "..#", "..#", "#.#", ".#."),
    "K": ("#.#", "#.#", "##.", "#.#", "#.#"),
    "L": ("#..", "#..", "#..", "#..", "###"),
    "M": ("#.#", "###", "###", "#.#", "#.#"),
    "N": ("##.", "#.#", "#.#", "#.#", "#.#"),
    "O": (".#.", "#.#", "#.#", "#.#", ".#."),
    "P": ("##.", "#.#", "##.", "#..", "#.."),
    "Q": (".#.", "#.#", "#.#", "##.", ".##"),
    "R": ("##.", "#.#", "##.", "#.#", "#.#"),
    "S": (".##", "#..", ".#.", "..#", "##."),
    "T": ("###", ".#.", ".#.", ".#.", ".#."),
    "U": ("#.#", "#.#", "#.#", "#.#", "###"),
    "V": ("#.#", "#.#", "#.#", "#.#", ".#."),
    "W": ("#.#", "#.#", "###", "###", "#.#"),
    "X": ("#.#", "#.#", ".#.", "#.#", "#.#"),
    "Y": ("#.#", "#.#", ".#.", ".#.", ".#."),
    "Z": ("###", "..#", ".#.", "#..", "###"),
    "0": ("###", "#.#", "#.#", "#.#", "###"),
    "1": (".#.", "##.", ".#.", ".#.", "###"),
    "2": ("##.", "..#", ".#.", "#..", "###"),
    "3": ("##.", "..#", ".#.", "..#", "##."),
    "4": ("#.#", "#.#", "###", "..#", "..#"),
    "5": ("###", "#..", "##.", "..#", "##."),
    "6": (".##", "#..", "###", "#.#", "###"),
    "7": ("###", "..#", ".#.", ".#.", ".#."),
    "8": ("###", "#.#", "###", "#.#", "###"),
    "9": ("###", "#.#", "###", "..#", "##."),
    "_": ("...", "...", "...", "...", "###"),
    "-": ("...", "...", "###", "...", "..."),
    ":": ("...", ".#.", "...", ".#.", "..."),
    ">": ("#..", ".#.", "..#", ".#.", "#.."),
    " ": ("...", "...", "...", "...", "..."),
}
_HALF = {(True, True): "█", (True, False): "▀", (False, True): "▄", (False, False): " "}


def supported(text: str) -> bool:
    return all(ch.upper() in _FONT or ch == "→" for ch in text)


def width(text: str) -> int:
    """Columns the big rendering takes (3 per glyph, 1 between glyphs)."""
    return max(0, 4 * len(text) - 1)


def big(parts: list[tuple[str, Style | str]]) -> Text:
    """Render styled parts three rows high; unknown characters show as a blank glyph."""
    rows = [Text(), Text(), Text()]
    first = True
    for chunk, style in parts:
        for ch in chunk:
            glyph = _FONT.get(">" if ch == "→" else ch.upper(), _FONT[" "])
            px = [[c == "#" for c in row] for row in glyph] + [[False, False, False]]
            for r in range(3):
                if not first:
                    rows[r].append(" ")
                top, bottom = px[2 * r], px[2 * r + 1]
                rows[r].append("".join(_HALF[(top[i], bottom[i])] for i in range(3)), style)
            first = False
    out = Text()
    for i, row in enumerate(rows):
        if i:
            out.append("\n")
        out.append_text(row)
    return out
