"""What a step's picture shows, as text: how each cell of its table is written (the app
draws it from this module), and how a grader reads the table back from the SVG.

A picture is a record only if it shows what its sealed record says. Rich's SVG export
(Textual's screenshots) writes each run of one style as a ``<text>`` with its column
(``x``) and its line (``clip-path`` ``line-N``): the screen's lines are rebuilt from
them, the table's columns found by their headers, and each row's cells compared with
the cells the record gives.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass

from tcp_observatory.lab.i18n import t
from tcp_observatory.lab.observe.model import Connection, RoleKind
from tcp_observatory.lab.observe.roles import describe_role
from tcp_observatory.lab.text import printable

# Below this width the two addresses share one column, one above the other.
WIDE = 120
ORDER = {RoleKind.LISTENER: 0, RoleKind.SERVER: 1, RoleKind.QUEUED: 2, RoleKind.CLIENT: 3,
         RoleKind.ORPHANED: 4, RoleKind.EXTERNAL: 5, RoleKind.OTHER: 6}


# -- the cells, as the picture writes them ---------------------------------------------------
def process_label(c: Connection, lang: str) -> str:
    """Who holds the socket, as ``netstat -b`` would say it."""
    if c.process:
        return f"{c.process} ({c.pid})" if c.pid else c.process
    if c.pid:
        return f"pid {c.pid}"
    if c.role.kind is RoleKind.QUEUED:
        return "-"  # nobody owns it until accept() returns it
    return t("proc.orphaned", lang)


def cell_text(c: Connection, col: str, lang: str) -> str:
    """The text of one cell of the step's picture (``addresses``: both, one above the other)."""
    if col == "state":
        return c.state
    if col == "addresses":
        return f"{c.local} →\n{c.remote_text}"
    if col == "local":
        return str(c.local)
    if col == "remote":
        return c.remote_text
    if col == "role":
        return describe_role(c.role, lang)
    if col == "process":
        return printable(process_label(c, lang), 60)
    if col == "queues":
        return "" if c.recv_q is None else f"{c.recv_q}/{c.send_q}"
    if col == "timer":
        return f"{c.timer} {c.timer_left:.0f} s" if c.timer and c.timer_left is not None else ""
    raise ValueError(col)


def columns(reads: Sequence[str], stacked: bool) -> list[str]:
    """The picture's columns for a step's ``reads``: at a narrow width the two addresses
    share one column."""
    cols = list(reads)
    if stacked and "local" in cols and "remote" in cols:
        at = cols.index("local")
        cols = [c for c in cols if c not in ("local", "remote")]
        cols.insert(at, "addresses")
    return cols


def header_label(col: str, lang: str) -> str:
    if col == "addresses":
        return t("col.local", lang) + " →\n" + t("col.remote", lang)
    return t(f"col.{col}", lang)


def row_order(c: Connection) -> tuple[int, int, bool, str]:
    """The order of the picture's rows: listener, server ends, queued, clients, orphans."""
    return (ORDER.get(c.role.kind, 9), c.role.client or 0, c.role.server_side is False,
            str(c.local))


# -- the screen, read back from an SVG ----------------------------------------------------
_TEXT = re.compile(r"<text\b([^>]*)>(.*?)</text>", re.S)
_X = re.compile(r'\bx="([-\d.]+)"')
_LENGTH = re.compile(r'\btextLength="([\d.]+)"')
_LINE = re.compile(r"line-(\d+)\)")


def _width(ch: str) -> int:
    if unicodedata.combining(ch):
        return 0
    return 2 if unicodedata.east_asian_width(ch) in ("W", "F") else 1


def screen_lines(svg: str) -> list[str]:
    """The screen's lines as a terminal showed them (a space where nothing is written)."""
    import html  # a grader's, not the app's first screen (its entities take ~3 ms)

    runs: list[tuple[int, float, str]] = []
    ratios: list[float] = []
    for attrs, body in _TEXT.findall(svg):
        x, length, line = _X.search(attrs), _LENGTH.search(attrs), _LINE.search(attrs)
        if x is None or length is None or line is None:
            continue  # the window's title, not a line of the screen
        text = html.unescape(re.sub(r"<[^>]*>", "", body)).replace("\xa0", " ")
        runs.append((int(line.group(1)), float(x.group(1)), text))
        cells = sum(_width(ch) for ch in text)
        if cells:
            ratios.append(float(length.group(1)) / cells)
    if not ratios:
        return []
    # One width for every cell, the exporter's: the one most runs have (a run edited by
    # hand may keep a length that no longer fits its text).
    cell = max(set(ratios), key=ratios.count)
    grid: dict[int, list[str]] = {}
    for n, x0, text in runs:
        row = grid.setdefault(n, [])
        at = round(x0 / cell)
        for ch in text:
            w = _width(ch)
            if w == 0:
                continue
            while len(row) < at + w:
                row.append(" ")
            row[at] = ch
            at += w
    return ["".join(grid.get(n, [])).rstrip() for n in range(max(grid, default=-1) + 1)]


def squash(text: str) -> str:
    return re.sub(r"\s+", "", text)


@dataclass(frozen=True)
class PictureTable:
    columns: list[str]
    rows: list[dict[str, str]]  # column -> the cell's text, its lines joined by spaces


def _columns_at(block: list[str], labels: list[str]) -> list[int] | None:
    """Where each column starts, when the header ``block`` (its lines, top to bottom)
    spells ``labels`` in order: a label may take several lines (stacked addresses, or a
    word folded on a narrow screen), read down its column."""
    width = max((len(x) for x in block), default=0)
    starts = sorted({p for line in block for p in range(len(line))
                     if line[p] != " " and (p == 0 or line[p - 1] == " ")})
    if not starts:
        return None
    found = [starts[0]]
    for n, label in enumerate(labels):
        last = n == len(labels) - 1
        ends = [width] if last else [p for p in starts if p > found[-1]]
        for end in ends:
            text = "".join(line[found[-1]:end] for line in block)
            if squash(text) == squash(label):
                break
        else:
            return None
        if not last:
            found.append(end)
    return found


def _find_header(lines: list[str], cols: list[str],
                 lang: str) -> tuple[int, list[int]] | None:
    """The table's rule (the line under its header) and where each column starts."""
    labels = [header_label(c, lang) for c in cols]
    for rule, line in enumerate(lines):
        if not line.strip() or set(line.strip()) != {"─"}:
            continue
        for depth in range(1, min(8, rule) + 1):
            starts = _columns_at(lines[rule - depth:rule], labels)
            if starts is not None:
                return rule, starts
    return None


def read_table(svg: str, reads: Sequence[str], lang: str) -> PictureTable | None:
    """The step's table as the picture shows it; None when no such table is found."""
    lines = screen_lines(svg)
    for stacked in (True, False):
        cols = columns(reads, stacked)
        if stacked and "addresses" not in cols:
            continue
        found = _find_header(lines, cols, lang)
        if found is not None:
            rule, starts = found
            return PictureTable(cols, _rows(lines[rule + 1:], cols, starts, lang))
    return None


def _rows(lines: list[str], cols: list[str], starts: list[int],
          lang: str) -> list[dict[str, str]]:
    ends = [*starts[1:], None]
    state = cols.index("state")
    story = squash(t("pic.story", lang))
    rows: list[dict[str, list[str]]] = []
    for line in lines:
        if (not line.strip() or re.match(r"\s*\+ \d", line) or squash(line) == story):
            break  # the table ends: a blank line, the rows left out, or the story
        cells = [line[s:e].strip() for s, e in zip(starts, ends, strict=True)]
        if cells[state]:
            rows.append({c: [] for c in cols})
        elif not rows:
            break
        for col, cell in zip(cols, cells, strict=True):
            if cell:
                rows[-1][col].append(cell)
    return [{c: " ".join(parts) for c, parts in row.items()} for row in rows]


def expected_rows(conns: Sequence[Connection], cols: Sequence[str],
                  lang: str) -> list[dict[str, str]]:
    """The rows the picture must show for these connections, in its order."""
    lab = [c for c in conns if c.role.kind is not RoleKind.OTHER]
    return [{col: cell_text(c, col, lang) for col in cols} for c in sorted(lab, key=row_order)]


def same_cell(col: str, shown: str, expected: str) -> bool:
    """Whether a cell shows what the record gives (whitespace aside: cells wrap).

    A student's program adds its name to the role ("server (Serveur.py)"), which the
    record does not keep: a role may end in one name in parentheses."""
    a, b = squash(shown), squash(expected)
    if a == b:
        return True
    return col == "role" and a.startswith(b + "(") and a.endswith(")")


@dataclass(frozen=True)
class Difference:
    row: int  # from 1; 0 when the table itself is not found
    column: str
    shown: str
    expected: str


def first_difference(svg: str, conns: Sequence[Connection], reads: Sequence[str],
                     lang: str) -> Difference | None:
    """Where the picture first shows something other than the record's rows (None: it
    shows them all, as they are)."""
    table = read_table(svg, reads, lang)
    if table is None:
        return Difference(0, "", "", "")
    want = expected_rows(conns, table.columns, lang)
    for n in range(max(len(want), len(table.rows))):
        shown = table.rows[n] if n < len(table.rows) else None
        expected = want[n] if n < len(want) else None
        for col in table.columns:
            a = shown[col] if shown is not None else ""
            b = " ".join(expected[col].split()) if expected is not None else ""
            if shown is None or expected is None or not same_cell(col, a, b):
                return Difference(n + 1, col, a, b)
    return None
