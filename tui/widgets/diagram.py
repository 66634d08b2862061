"""The TCP state machine drawn as boxes and arrows, with each live connection on its state.

For the projector: the room sees where every connection is, and which arrow it just took.
The active (client) path runs down the left, the passive (server) path down the right,
ESTABLISHED sits in the middle, as in RFC 793's figure. The drawing is a grid of styled
cells rebuilt at the widget's size, in three sizes: boxes and arrows from 72x25; below
that, down to 56x9 (what a projector's 80x24 leaves it), the same figure with each state a
label (its glyph and name, lit when a connection is on it) and the connections written
beside it; smaller still, a plain list, so any size renders. Inferred passages (states
crossed between two polls) are dotted and say so in the legend.
"""

from __future__ import annotations

import itertools
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

from rich.style import Style
from rich.text import Text
from textual.widget import Widget

from tcp_observatory.lab.i18n import t
from tcp_observatory.lab.observe.model import ALL_STATES, Connection, RoleKind, Snapshot, Transition
from tcp_observatory.lab.observe.roles import describe_role
from tcp_observatory.tui.theme import INFERRED_STYLE, state_glyph, state_style

# (from_state, to_state, inferred)
Step = tuple[str, str, bool]


@dataclass(frozen=True)
class Marker:
    """One live connection: who it is, its state, and the passage that brought it there."""

    label: str
    state: str
    last_transition: Step | None = None
    # Passages of the same poll that led to ``last_transition`` (ESTABLISHED ┅▶ FIN_WAIT_1).
    trail: tuple[Step, ...] = ()


# -- building markers ---------------------------------------------------------------------

_ROLE_ORDER = {
    RoleKind.LISTENER: 0,
    RoleKind.CLIENT: 1,
    RoleKind.ORPHANED: 1,
    RoleKind.SERVER: 1,
    RoleKind.QUEUED: 1,
    RoleKind.EXTERNAL: 2,
    RoleKind.OTHER: 3,
}


def _order(c: Connection) -> tuple[int, int, int, str]:
    r = c.role
    return (_ROLE_ORDER.get(r.kind, 3), r.client or 0, int(r.server_side), str(c.local))


def markers_from(snapshot: Snapshot, history: Sequence[Transition], lang: str) -> list[Marker]:
    """One marker per lab connection of ``snapshot``, with its latest passage from ``history``.

    A passage counts only if it led to the state the connection is in now; those of the same
    poll before it (an inferred FIN_WAIT_1 on the way to FIN_WAIT_2) become its trail.
    """
    by_key: dict[object, list[Transition]] = {}
    for tr in history:
        by_key.setdefault(tr.key, []).append(tr)
    markers: list[Marker] = []
    for c in sorted(snapshot.connections, key=_order):
        if c.role.kind is RoleKind.OTHER:
            continue
        last: Step | None = None
        trail: list[Step] = []
        trs = by_key.get(c.key, [])
        if trs and trs[-1].to_state == c.state and trs[-1].from_state is not None:
            end = trs[-1]
            last = (end.from_state or "", end.to_state, end.inferred)
            for tr in reversed(trs[:-1]):
                if tr.time != end.time or tr.from_state is None:
                    break
                trail.insert(0, (tr.from_state, tr.to_state, tr.inferred))
        markers.append(Marker(describe_role(c.role, lang), c.state, last, tuple(trail)))
    return markers


@dataclass(frozen=True)
class _Item:
    """One label, or several that differ only by their number ("client 1, 2, 3")."""

    prefix: str
    numbers: tuple[str, ...] = ()
    suffix: str = ""

    @property
    def count(self) -> int:
        return len(self.numbers) or 1

    def text(self, k: int | None = None) -> str:
        if not self.numbers:
            return self.prefix
        return self.prefix + ", ".join(self.numbers[:k]) + self.suffix


_NUMBERED = re.compile(r"^(.*?)(\d+)(\D*)$")


def group_labels(labels: Sequence[str]) -> list[_Item]:
    """Merge labels that differ only by their number: "client 1", "client 2" -> "client 1, 2"."""
    groups: dict[tuple[str, str], list[str]] = {}
    order: list[tuple[str, str] | str] = []
    for label in labels:
        m = _NUMBERED.match(label)
        if m is None:
            order.append(label)
            continue
        key = (m.group(1), m.group(3))
        if key not in groups:
            groups[key] = []
            order.append(key)
        groups[key].append(m.group(2))
    return [_Item(k) if isinstance(k, str) else _Item(k[0], tuple(groups[k]), k[1])
            for k in order]


def marker_summary(items: Sequence[_Item | str], width: int) -> str:
    """As many labels as fit in ``width``, then "+n" for the connections left out:
    "client 1, client 2 +3" (a group may be cut: "client 1, 2, 3 +5")."""
    its = [_Item(i) if isinstance(i, str) else i for i in items]
    if not its or width <= 0:
        return ""
    total = sum(i.count for i in its)
    parts: list[str] = []
    used = 0
    for item in its:
        left = total - used - item.count
        candidate = ", ".join([*parts, item.text()]) + (f" +{left}" if left else "")
        if len(candidate) <= width:
            parts.append(item.text())
            used += item.count
            continue
        for k in range(len(item.numbers) - 1, 0, -1):
            candidate = ", ".join([*parts, item.text(k)]) + f" +{total - used - k}"
            if len(candidate) <= width:
                return candidate
        break
    if used == total:
        return ", ".join(parts)
    if parts:
        return ", ".join(parts) + f" +{total - used}"
    left = total - its[0].count
    more = f" +{left}" if left else ""
    room = width - len(more)
    if room >= 2:
        return its[0].text()[: room - 1] + "…" + more
    return f"+{total}"[:width]


def _pack(items: Sequence[_Item], width: int, rows: int) -> list[str] | None:
    """Every item whole on at most ``rows`` lines of ``width``, or None if they do not fit."""
    lines: list[str] = []
    current = ""
    for item in items:
        text = item.text()
        joined = f"{current}, {text}" if current else text
        if len(joined) + 1 <= width or (not current and len(text) <= width):
            current = joined
            continue
        if not current:
            return None
        lines.append(current + ",")
        current = text
    lines.append(current)
    return lines if len(lines) <= rows and all(len(x) <= width for x in lines) else None


def marker_lines(labels: Sequence[str], width: int, rows: int) -> list[str]:
    """``labels`` on up to ``rows`` lines of ``width``: each one if they all fit, else merged
    by number ("client 1, 2, 3"), else as many as fit and "+n" for the rest."""
    if not labels or rows <= 0 or width <= 0:
        return []
    for items in ([_Item(label) for label in labels], group_labels(labels)):
        packed = _pack(items, width, rows)
        if packed is not None:
            return packed
    items = group_labels(labels)
    out: list[str] = []
    while items and len(out) < rows - 1:
        line: list[str] = []
        while items and len(", ".join([*line, items[0].text()])) + 1 <= width:
            line.append(items.pop(0).text())
        if not line:
            break
        out.append(", ".join(line) + ",")
    if items:
        out.append(marker_summary(items, width))
    return out


# -- the canvas ---------------------------------------------------------------------------

LINE = Style(color="#808080")
LABEL = Style(color="#bcbcbc")
EMPTY_BOX = Style(color="#808080")
MARKER_TEXT = Style(color="#ffffff", bold=True)
LEGEND = Style(color="#bcbcbc")

_RIGHT, _LEFT, _DOWN, _UP = (1, 0), (-1, 0), (0, 1), (0, -1)
_HEADS = {_RIGHT: "▶", _LEFT: "◀", _DOWN: "▼", _UP: "▲"}
_HOLLOW_HEADS = {_RIGHT: "▷", _LEFT: "◁", _DOWN: "▽", _UP: "△"}
_TEES = {_DOWN: ("┬", "┳"), _UP: ("┴", "┻"), _RIGHT: ("├", "┣"), _LEFT: ("┤", "┫")}
# The two sides a corner joins -> its character (light, heavy).
_CORNERS = {
    frozenset({_DOWN, _RIGHT}): ("┌", "┏"),
    frozenset({_DOWN, _LEFT}): ("┐", "┓"),
    frozenset({_UP, _RIGHT}): ("└", "┗"),
    frozenset({_UP, _LEFT}): ("┘", "┛"),
}
# (horizontal, vertical) for light, heavy, dotted.
_STROKES = {"light": ("─", "│"), "heavy": ("━", "┃"), "dotted": ("┄", "┆")}


class Canvas:
    """A width x height grid of styled characters, clipped at its edges."""

    def __init__(self, width: int, height: int) -> None:
        self.width = max(0, width)
        self.height = max(0, height)
        self.top = 0  # rows every drawing call is shifted down by
        self.cells: list[list[tuple[str, Style | None]]] = [
            [(" ", None)] * self.width for _ in range(self.height)
        ]

    def put(self, x: int, y: int, ch: str, style: Style | None = None) -> None:
        y += self.top
        if 0 <= x < self.width and 0 <= y < self.height:
            self.cells[y][x] = (ch, style)

    def text(self, x: int, y: int, s: str, style: Style | None = None) -> None:
        for i, ch in enumerate(s):
            self.put(x + i, y, ch, style)

    def to_text(self) -> Text:
        out = Text(no_wrap=True, overflow="crop", end="")
        for y, row in enumerate(self.cells):
            if y:
                out.append("\n")
            run, style = "", None
            for ch, st in row:
                if st != style and run:
                    out.append(run, style)
                    run = ""
                style = st
                run += ch
            out.append(run.rstrip() if style is None else run, style)
        return out


@dataclass(frozen=True)
class _Box:
    state: str
    x: int
    y: int
    w: int
    h: int = 4

    @property
    def cx(self) -> int:
        return self.x + self.w // 2

    @property
    def right(self) -> int:
        return self.x + self.w - 1

    @property
    def bottom(self) -> int:
        return self.y + self.h - 1


@dataclass(frozen=True)
class _Edge:
    src: str
    dst: str
    points: tuple[tuple[int, int], ...]  # polyline; the last point carries the arrowhead
    label: str
    label_at: tuple[int, int]
    # The compact figure's arrows start under or beside a label, not on a frame: the way
    # the line comes into its first cell (None: a tee on the source's frame), and where the
    # head points when that is not the way the line runs (down, at the end of a turn).
    enter: tuple[int, int] | None = None
    head: tuple[int, int] | None = None


@dataclass
class _Layout:
    boxes: dict[str, _Box] = field(default_factory=dict)  # "CLOSED" is the start box
    end_closed: _Box | None = None  # CLOSED again, where connections end
    edges: list[_Edge] = field(default_factory=list)
    legend_y: int = 0


FULL_MIN_WIDTH = 72
FULL_MIN_HEIGHT = 25  # the drawing without its legend; a taller window gets more room
COMPACT_MIN_WIDTH = 56
COMPACT_MIN_HEIGHT = 9
_SIZES = ((24, 31), (22, 28), (22, 26), (20, 24), (18, 22), (16, 20))


def layout(width: int, height: int, lang: str) -> _Layout:
    """Place the boxes and route the arrows on a canvas of at least the FULL_MIN_* size.

    From 27 rows up, the middle row of boxes (ESTABLISHED, the busiest) gets a second
    line of connections.
    """
    span = min(width, 104)
    sw, cw = _SIZES[-1]
    for side, centre in _SIZES:
        if span - centre - 2 * side >= 2 * 10:
            sw, cw = side, centre
            break
    x0 = (width - span) // 2
    lx = x0
    cx = x0 + (span - cw) // 2
    rx = x0 + span - sw
    h1 = 5 if height >= 27 else 4
    y1 = 5
    route = y1 + h1  # the row under ESTABLISHED where its two exits turn
    y2 = route + 2
    y3 = y2 + 5
    y4 = y3 + 5
    L: dict[str, _Box] = {}

    def box(state: str, x: int, y: int, w: int, h: int = 4) -> _Box:
        b = _Box(state, x, y, w, h)
        L[state] = b
        return b

    syn_sent = box("SYN_SENT", lx, 0, sw)
    closed = box("CLOSED", cx, 0, cw)
    listen = box("LISTEN", rx, 0, sw)
    established = box("ESTABLISHED", cx, y1, cw, h1)
    syn_rcvd = box("SYN_RECEIVED", rx, y1, sw, h1)
    fw1 = box("FIN_WAIT_1", lx, y2, sw)
    close_wait = box("CLOSE_WAIT", rx, y2, sw)
    fw2 = box("FIN_WAIT_2", lx, y3, sw)
    closing = box("CLOSING", cx, y3, cw)
    last_ack = box("LAST_ACK", rx, y3, sw)
    time_wait = box("TIME_WAIT", lx, y4, sw)
    end = _Box("CLOSED", rx, y4, sw)

    gap_l = syn_sent.right + 2  # first free column right of the left boxes
    e_out_l = established.cx - 4
    e_out_r = established.cx + 4
    close_label = t("dg.close", lang)
    # Every arrow starts on its source's frame and ends next to its target's frame.
    edges = [
        _Edge("CLOSED", "SYN_SENT", ((closed.x, 1), (syn_sent.right + 1, 1)),
              t("dg.connect", lang), (gap_l, 0)),
        _Edge("CLOSED", "LISTEN", ((closed.right, 1), (listen.x - 1, 1)),
              t("dg.listen", lang), (closed.right + 2, 0)),
        _Edge("LISTEN", "SYN_RECEIVED", ((listen.cx, 3), (listen.cx, 4)),
              "SYN", (listen.cx + 2, 4)),
        _Edge("SYN_SENT", "ESTABLISHED",
              ((syn_sent.cx, 3), (syn_sent.cx, y1 + 1), (established.x - 1, y1 + 1)),
              "SYN+ACK", (syn_sent.cx + 2, y1)),
        _Edge("SYN_RECEIVED", "ESTABLISHED",
              ((syn_rcvd.x, y1 + 1), (established.right + 1, y1 + 1)),
              "ACK", (established.right + 3, y1)),
        _Edge("ESTABLISHED", "FIN_WAIT_1",
              ((e_out_l, route - 1), (e_out_l, route), (fw1.cx, route), (fw1.cx, route + 1)),
              close_label, (fw1.cx + 2, route + 1)),
        _Edge("ESTABLISHED", "CLOSE_WAIT",
              ((e_out_r, route - 1), (e_out_r, route), (close_wait.cx, route),
               (close_wait.cx, route + 1)),
              "FIN", (close_wait.cx - 5, route + 1)),
        _Edge("FIN_WAIT_1", "FIN_WAIT_2", ((fw1.cx, fw1.bottom), (fw1.cx, y3 - 1)),
              "ACK", (fw1.cx + 2, y3 - 1)),
        _Edge("FIN_WAIT_1", "CLOSING",
              ((fw1.right, y2 + 1), (closing.cx, y2 + 1), (closing.cx, y3 - 1)),
              "FIN", (fw1.right + 3, y2)),
        _Edge("CLOSE_WAIT", "LAST_ACK",
              ((close_wait.cx, close_wait.bottom), (close_wait.cx, y3 - 1)),
              close_label, (close_wait.cx - 2 - len(close_label), y3 - 1)),
        _Edge("FIN_WAIT_2", "TIME_WAIT", ((fw2.cx, fw2.bottom), (fw2.cx, y4 - 1)),
              "FIN", (fw2.cx + 2, y4 - 1)),
        _Edge("CLOSING", "TIME_WAIT",
              ((closing.cx, closing.bottom), (closing.cx, y4 + 1), (time_wait.right + 1, y4 + 1)),
              "ACK", (closing.cx + 2, y4)),
        _Edge("LAST_ACK", "CLOSED", ((last_ack.cx, last_ack.bottom), (last_ack.cx, y4 - 1)),
              "ACK", (last_ack.cx - 5, y4 - 1)),
        _Edge("TIME_WAIT", "CLOSED", ((time_wait.right, y4 + 2), (end.x - 1, y4 + 2)),
              t("dg.timeout", lang), (time_wait.right + 3, y4 + 3)),
    ]
    return _Layout(L, end, edges, legend_y=y4 + 4)


def _draw_edges(c: Canvas, edges: Iterable[_Edge], lit: dict[tuple[str, str], bool]) -> None:
    """Every arrow: grey, or lit in its target state's colour (the arrow a connection last
    took), dotted where that passage was inferred."""
    for e in edges:
        inferred = lit.get((e.src, e.dst))
        if inferred is None:
            _draw_edge(c, e, "light", LINE, LABEL)
            continue
        colour = state_style(e.dst).color
        if inferred:
            _draw_edge(c, e, "dotted", Style(color=colour), Style(color=colour, italic=True))
        else:
            bold = Style(color=colour, bold=True)
            _draw_edge(c, e, "heavy", bold, bold)


def _draw_edge(c: Canvas, e: _Edge, kind: str, style: Style, label_style: Style) -> None:
    heavy = 1 if kind == "heavy" else 0
    h, v = _STROKES[kind]
    cells: list[tuple[int, int]] = [e.points[0]]
    for (ax, ay), (bx, by) in itertools.pairwise(e.points):
        dx = (bx > ax) - (bx < ax)
        dy = (by > ay) - (by < ay)
        x, y = ax, ay
        while (x, y) != (bx, by):
            x, y = x + dx, y + dy
            cells.append((x, y))
    # dirs[i]: the way the line travels out of cell i (into it, for the last cell)
    dirs = [(b[0] - a[0], b[1] - a[1]) for a, b in itertools.pairwise(cells)]
    dirs.append(dirs[-1] if dirs else _DOWN)
    heads = _HOLLOW_HEADS if kind == "dotted" else _HEADS
    for i, (x, y) in enumerate(cells):
        d = dirs[i]
        came = dirs[i - 1] if i else e.enter
        if i == len(cells) - 1:
            ch = heads[e.head or d]
        elif came is None:
            ch = _TEES[d][heavy]  # where the arrow leaves its source's frame
        elif came != d:
            ch = _CORNERS[frozenset({(-came[0], -came[1]), d})][heavy]
        else:
            ch = h if d[1] == 0 else v
        c.put(x, y, ch, style)
    lx, ly = e.label_at
    c.text(lx, ly, e.label, label_style)


def _box_name_style(state: str) -> Style:
    return Style(color=state_style(state).color, bold=True)


def state_label(state: str) -> str:
    """A state as the diagram names it: its family's glyph, then its name."""
    return f"{state_glyph(state)} {state}"


def fit(text: str, width: int) -> str:
    """``text`` whole if it fits in ``width``, else cut with "…" (never silently)."""
    if len(text) <= width:
        return text
    return text[: width - 1] + "…" if width >= 1 else ""


def _draw_box(c: Canvas, b: _Box, labels: Sequence[str]) -> None:
    colour = state_style(b.state).color
    busy = bool(labels)
    if busy:
        frame = Style(color=colour, bold=True)
        tl, tr, bl, br, hz, vt = "┏", "┓", "┗", "┛", "━", "┃"
    else:
        frame = EMPTY_BOX
        tl, tr, bl, br, hz, vt = "┌", "┐", "└", "┘", "─", "│"
    inner = b.w - 2
    c.text(b.x, b.y, tl + hz * inner + tr, frame)
    c.text(b.x, b.bottom, bl + hz * inner + br, frame)
    for y in range(b.y + 1, b.bottom):
        c.put(b.x, y, vt, frame)
        c.put(b.right, y, vt, frame)
        c.text(b.x + 1, y, " " * inner)
    name_style = Style(color="#000000", bgcolor=colour, bold=True) if busy else _box_name_style(
        b.state)
    shown = state_label(b.state)
    if busy and len(shown) + 2 <= inner:
        shown = f" {shown} "
    shown = fit(shown, inner)
    c.text(b.x + 1 + max(0, (inner - len(shown)) // 2), b.y + 1, shown, name_style)
    if busy:
        for i, line in enumerate(marker_lines(labels, inner - 1, b.h - 3)):
            c.text(b.x + 1 + max(0, (inner - len(line)) // 2), b.y + 2 + i, line, MARKER_TEXT)


def _highlights(markers: Iterable[Marker]) -> dict[tuple[str, str], bool]:
    """Passage -> inferred (False wins: one marker observing it is enough)."""
    out: dict[tuple[str, str], bool] = {}
    for m in markers:
        steps = [*m.trail, *([m.last_transition] if m.last_transition else [])]
        for src, dst, inferred in steps:
            out[(src, dst)] = out.get((src, dst), True) and inferred
    return out


def draw_full(width: int, height: int, markers: Sequence[Marker], lang: str) -> Canvas:
    c = Canvas(width, height)
    lay = layout(width, height, lang)
    c.top = max(0, (height - lay.legend_y - 1) // 2)  # centred in a tall window
    by_state: dict[str, list[str]] = {}
    for m in markers:
        by_state.setdefault(m.state, []).append(m.label)
    for state, b in lay.boxes.items():
        # Connections that are gone sit on the CLOSED box at the bottom, where lives end.
        _draw_box(c, b, [] if state == "CLOSED" else by_state.get(state, []))
    if lay.end_closed is not None:
        _draw_box(c, lay.end_closed, by_state.get("CLOSED", []))
    _draw_edges(c, lay.edges, _highlights(markers))
    if height > lay.legend_y + c.top:
        _draw_legend(c, lay.legend_y, markers, lang)
    return c


def _draw_legend(c: Canvas, y: int, markers: Sequence[Marker], lang: str) -> None:
    x = 1
    parts: list[tuple[str, Style]] = [
        ("━━▶ ", Style(color="#ffffff", bold=True)),
        (t("dg.legend.last", lang) + "    ", LEGEND),
        ("┄┄▷ ", Style(color="#bcbcbc")),
        (t("dg.legend.inferred", lang) + "    ", INFERRED_STYLE),
    ]
    if not markers:
        parts.append((t("dg.empty", lang), LEGEND))
    for s, st in parts:
        c.text(x, y, s, st)
        x += len(s)


def draw_list(width: int, height: int, markers: Sequence[Marker], lang: str) -> Canvas:
    """A list, one state a line, for a window too small even for the compact figure."""
    c = Canvas(width, height)
    by_state: dict[str, list[Marker]] = {}
    for m in markers:
        by_state.setdefault(m.state, []).append(m)
    y = 0
    if not markers:
        c.text(0, 0, t("dg.empty", lang), LEGEND)
        return c
    order = [*ALL_STATES, *sorted(s for s in by_state if s not in ALL_STATES)]
    for state in order:
        ms = by_state.get(state)
        if not ms or y >= height:
            continue
        c.text(0, y, f"{state_label(state):<15}", _box_name_style(state))
        summary = marker_lines([m.label for m in ms], width - 15, 1)
        c.text(15, y, summary[0] if summary else "", MARKER_TEXT)
        y += 1
        for m in ms:
            if m.last_transition is None or y >= height:
                continue
            src, dst, inferred = m.last_transition
            colour = state_style(dst).color
            style = Style(color=colour, italic=True) if inferred else Style(color=colour,
                                                                            bold=True)
            line = f"  ↳ {src} → {dst}"
            if inferred:
                line += f" ({t('dg.legend.inferred', lang)})"
            c.text(0, y, fit(line, width), style)
            c.text(len(line), y, f"  {m.label}"[: max(0, width - len(line))], LABEL)
            y += 1
    return c


# -- the compact figure: labels placed as in RFC 793's, for a projector's small window ------

LABEL_WIDTH = 14  # "◇ SYN_RECEIVED"
_CENTRE_WIDTH = 13  # "● ESTABLISHED"


@dataclass
class _Compact:
    """Where the compact figure puts each state's label, its connections, and its arrows."""

    at: dict[str, tuple[int, int]] = field(default_factory=dict)  # state -> label's x, y
    end_closed: tuple[int, int] = (0, 0)  # CLOSED again, where connections end
    # state -> (x, first row, width, rows): where its connections are written
    slots: dict[str, tuple[int, int, int, int]] = field(default_factory=dict)
    edges: list[_Edge] = field(default_factory=list)
    height: int = 0


def compact_rows(height: int) -> int:
    """Rows of connections under each label that ``height`` leaves (0: beside it)."""
    return max(0, min(3, (height - COMPACT_MIN_HEIGHT) // 5))


def _run_label(label: str, x0: int, x1: int, y: int) -> tuple[str, tuple[int, int]]:
    """An arrow's label written on its horizontal run from x0 to x1 (either way), centred,
    when it fits with a stroke on each side; else none."""
    lo, hi = min(x0, x1), max(x0, x1)
    room = hi - lo - 1  # the head's cell is not room
    if len(label) + 1 > room:
        return "", (lo, y)
    return label, (lo + 1 + (room - len(label)) // 2, y)


def compact_layout(width: int, height: int, lang: str, inline: dict[str, int],
                   busy: frozenset[str] = frozenset(), fin_wait_2: int = 0) -> _Compact:
    """Place the labels and route the arrows of the compact figure.

    Five rows of labels as in the RFC's figure (SYN_SENT · CLOSED · LISTEN; ESTABLISHED ·
    SYN_RECEIVED; FIN_WAIT_1 · CLOSE_WAIT; FIN_WAIT_2 · CLOSING · LAST_ACK; TIME_WAIT ·
    CLOSED), a row of arrows between two. ``compact_rows`` rows under each label hold its
    connections; with none, they are written beside the label (``inline``: state -> the
    columns they take there, which the arrows leaving that side make way for).
    ESTABLISHED's go above it, where nothing else is (``busy``: the states that have
    connections; ESTABLISHED's take SYN_SENT's columns when it has none; ``fin_wait_2``:
    the columns FIN_WAIT_2's take under it, CLOSING making way for them).
    """
    k = compact_rows(height)
    rows = 5 * (k + 1) + 4
    top = max(0, (height - rows) // 2)
    # The right column as far right as its longest label and a server's name beside it
    # need, the centre column far enough left for ESTABLISHED's arrow to reach it; both
    # centred when the width allows.
    x0 = 0
    centred = (width - _CENTRE_WIDTH) // 2
    x2 = min(centred + _CENTRE_WIDTH + max(6, (width - centred - _CENTRE_WIDTH
                                                - LABEL_WIDTH) // 3), width - 31)
    x1 = max(20, min(centred, x2 - _CENTRE_WIDTH - 6))
    x2 = max(x2, x1 + _CENTRE_WIDTH + 6)
    L = [top + r * (k + 2) for r in range(5)]  # label rows
    C = [y + k + 1 for y in L[:4]]  # arrow rows, under each label row
    lay = _Compact(height=rows)
    at = lay.at

    def end(state: str) -> int:
        """The first free column right of a label (and of what is written beside it)."""
        x, _y = lay.end_closed if state == "END" else at[state]
        name = "CLOSED" if state == "END" else state
        extra = inline.get(state, 0)
        return x + len(state_label(name)) + (extra + 1 if extra else 0) + 1

    for state, x, y in (("SYN_SENT", x0, L[0]), ("CLOSED", x1, L[0]), ("LISTEN", x2, L[0]),
                        ("ESTABLISHED", x1, L[1]), ("SYN_RECEIVED", x2, L[1]),
                        ("FIN_WAIT_1", x0, L[2]), ("CLOSE_WAIT", x2, L[2]),
                        ("FIN_WAIT_2", x0, L[3]), ("LAST_ACK", x2, L[3]),
                        ("TIME_WAIT", x0, L[4])):
        at[state] = (x, y)
    # CLOSING makes way for FIN_WAIT_2's connections, written beside it or under it.
    wanted = end("FIN_WAIT_2") if k == 0 else x0 + 2 + fin_wait_2 + 1
    at["CLOSING"] = (max(x1, min(wanted, x2 - 12)), L[3])
    xc = at["CLOSING"][0]
    lay.end_closed = (x2, L[4])

    # Where each state's connections go: under its label, or beside it.
    right_of = {"SYN_SENT": x1 - 5, "FIN_WAIT_1": xc - 4, "FIN_WAIT_2": x2 - 13,
                "TIME_WAIT": x2 - 6, "CLOSING": x2 - 1}
    for state, (x, y) in [*at.items(), ("END", lay.end_closed)]:
        name = "CLOSED" if state == "END" else state
        if name == "CLOSED" and state != "END":
            continue  # connections end on the CLOSED at the bottom, never at the start
        if state == "ESTABLISHED":  # above it, centred, where nothing else is
            # With rows, SYN_SENT's connections are under it, in the same rows.
            left = x0 + 2 if k == 0 or "SYN_SENT" not in busy else x1 - 4
            lay.slots[state] = (left, y - k - 1, x2 - 2 - left, k + 1)
            continue
        if k:
            limit = {"SYN_SENT": x1 - 6, "FIN_WAIT_1": xc - 1, "FIN_WAIT_2": xc - 1,
                     "TIME_WAIT": x2 - 1, "CLOSING": x2 - 1}.get(state, width)
            lay.slots[state] = (x + 2, y + 1, limit - (x + 2), k)
        else:
            start = x + len(state_label(name)) + 1
            limit = right_of.get(state, width)
            lay.slots[state] = (start, y, max(0, limit - start), 1)

    def run(src: str, dst: str, points: tuple[tuple[int, int], ...], label: str,
            label_run: tuple[int, int, int] | None = None, label_at: tuple[int, int] = (0, 0),
            *, enter: tuple[int, int] | None = _RIGHT, head: tuple[int, int] | None = None
            ) -> None:
        if label_run is not None:
            label, label_at = _run_label(label, *label_run)
        lay.edges.append(_Edge(src, dst, points, label, label_at, enter, head))

    left_end = end("SYN_SENT")
    run("CLOSED", "SYN_SENT", ((x1 - 2, L[0]), (left_end, L[0])), t("dg.connect", lang),
        (x1 - 2, left_end, L[0]), enter=_LEFT)
    closed_end = end("CLOSED")
    run("CLOSED", "LISTEN", ((closed_end, L[0]), (x2 - 2, L[0])), t("dg.listen", lang),
        (closed_end, x2 - 2, L[0]))
    run("LISTEN", "SYN_RECEIVED", ((x2, L[0] + 1), (x2, C[0])), "SYN",
        label_at=(x2 + 2, C[0]), enter=_DOWN)
    run("SYN_SENT", "ESTABLISHED", ((x0, L[0] + 1), (x0, L[1]), (x1 - 2, L[1])), "SYN+ACK",
        (x0, x1 - 2, L[1]), enter=_DOWN)
    est_end = end("ESTABLISHED")
    run("SYN_RECEIVED", "ESTABLISHED", ((x2 - 2, L[1]), (est_end, L[1])), "ACK",
        (x2 - 2, est_end, L[1]), enter=_LEFT)
    run("ESTABLISHED", "FIN_WAIT_1", ((x1, L[1] + 1), (x1, C[1]), (x0, C[1])),
        t("dg.close", lang), (x1, x0, C[1]), enter=_DOWN, head=_DOWN)
    right_exit = x1 + _CENTRE_WIDTH - 1
    run("ESTABLISHED", "CLOSE_WAIT", ((right_exit, L[1] + 1), (right_exit, C[1]), (x2, C[1])),
        "FIN", (right_exit, x2, C[1]), enter=_DOWN, head=_DOWN)
    run("FIN_WAIT_1", "FIN_WAIT_2", ((x0, L[2] + 1), (x0, C[2])), "ACK",
        label_at=(x0 + 2, C[2]), enter=_DOWN)
    fw1_end = end("FIN_WAIT_1")
    run("FIN_WAIT_1", "CLOSING", ((fw1_end, L[2]), (xc, L[2]), (xc, C[2])), "FIN",
        (fw1_end, xc, L[2]))
    close_label = t("dg.close", lang)
    run("CLOSE_WAIT", "LAST_ACK", ((x2, L[2] + 1), (x2, C[2])), close_label,
        label_at=(x2 + 2, C[2]), enter=_DOWN)
    run("FIN_WAIT_2", "TIME_WAIT", ((x0, L[3] + 1), (x0, C[3])), "FIN",
        label_at=(x0 + 2, C[3]), enter=_DOWN)
    run("CLOSING", "TIME_WAIT", ((xc, L[3] + 1), (xc, C[3]), (x0 + 7, C[3])), "ACK",
        (xc, x0 + 7, C[3]), enter=_DOWN, head=_DOWN)
    run("LAST_ACK", "CLOSED", ((x2, L[3] + 1), (x2, C[3])), "ACK",
        label_at=(x2 + 2, C[3]), enter=_DOWN)
    tw_end = end("TIME_WAIT")
    run("TIME_WAIT", "CLOSED", ((tw_end, L[4]), (x2 - 2, L[4])), t("dg.timeout", lang),
        (tw_end, x2 - 2, L[4]))
    return lay


def _slot_lines(labels: Sequence[str], width: int, rows: int) -> list[str]:
    """The connections of one state on ``rows`` lines of ``width`` (as many as fit, "+n"
    for the rest, a name cut only with "…")."""
    if not labels or width <= 0 or rows <= 0:
        return []
    return [fit(line, width) for line in marker_lines(labels, width, rows)]


def draw_compact(width: int, height: int, markers: Sequence[Marker], lang: str) -> Canvas:
    """RFC 793's figure with labels for boxes: for a projector's 80x24 or 100x30."""
    c = Canvas(width, height)
    by_state: dict[str, list[str]] = {}
    for m in markers:
        by_state.setdefault("END" if m.state == "CLOSED" else m.state, []).append(m.label)
    # Beside its label (no row under it), a state's connections take the columns they need,
    # and the arrows leaving that side make way for them.
    inline: dict[str, int] = {}
    if compact_rows(height) == 0:
        probe = compact_layout(width, height, lang, {})
        for state, labels in by_state.items():
            slot = probe.slots.get(state)
            if slot is not None and state != "ESTABLISHED":
                lines = _slot_lines(labels, slot[2], 1)
                inline[state] = len(lines[0]) if lines else 0
    widest = 0
    k = compact_rows(height)
    if k and by_state.get("FIN_WAIT_2"):
        lines = _slot_lines(by_state["FIN_WAIT_2"], width, k)
        widest = max(len(line) for line in lines)
    lay = compact_layout(width, height, lang, inline, frozenset(by_state), widest)
    _draw_edges(c, lay.edges, _highlights(markers))
    for state, (x, y) in [*lay.at.items(), ("END", lay.end_closed)]:
        name = "CLOSED" if state == "END" else state
        labels = by_state.get(state, []) if not (name == "CLOSED" and state != "END") else []
        colour = state_style(name).color
        style = (Style(color="#000000", bgcolor=colour, bold=True) if labels
                 else _box_name_style(name))
        c.text(x, y, state_label(name), style)
        slot = lay.slots.get(state)
        if slot is None or not labels:
            continue
        sx, sy, sw, rows = slot
        lines = _slot_lines(labels, sw, rows)
        if state == "ESTABLISHED":  # above its label, the last line nearest it, centred
            sy += rows - len(lines)
            for i, line in enumerate(lines):
                cx = x + _CENTRE_WIDTH // 2 - len(line) // 2
                c.text(max(sx, min(cx, sx + sw - len(line))), sy + i, line, MARKER_TEXT)
            continue
        for i, line in enumerate(lines):
            c.text(sx, sy + i, line, MARKER_TEXT)
    return c


def legend_text(markers: Sequence[Marker], lang: str) -> str:
    """The legend in one line (the compact figure has it on its frame)."""
    text = f"━▶ {t('dg.legend.last', lang)}  ┄▷ {t('dg.legend.inferred', lang)}"
    return text if markers else f"{text}  · {t('dg.empty', lang)}"


class StateDiagram(Widget):
    """RFC 793's state machine with every lab connection drawn on its state."""

    DEFAULT_CSS = """
    StateDiagram {
        width: 1fr;
        height: 1fr;
        background: #000000;
    }
    """

    def __init__(self, lang: str, *, id: str | None = None, classes: str | None = None) -> None:
        super().__init__(id=id, classes=classes)
        self.lang = lang
        self.markers: list[Marker] = []

    def set_markers(self, markers: list[Marker]) -> None:
        self.markers = list(markers)
        self.refresh()

    @property
    def compact(self) -> bool:
        """True when the window is too small for the boxes: labels, or a list, instead."""
        w, h = self.size.width, self.size.height
        return w < FULL_MIN_WIDTH or h < FULL_MIN_HEIGHT

    @property
    def listed(self) -> bool:
        """True when the window is too small even for the compact figure: a list."""
        w, h = self.size.width, self.size.height
        return w < COMPACT_MIN_WIDTH or h < COMPACT_MIN_HEIGHT

    def canvas(self) -> Canvas:
        w, h = self.size.width, self.size.height
        if self.listed:
            return draw_list(w, h, self.markers, self.lang)
        if self.compact:
            return draw_compact(w, h, self.markers, self.lang)
        return draw_full(w, h, self.markers, self.lang)

    def render(self) -> Text:
        # The compact figure has no row to spare for its legend: it goes on the frame.
        legend = legend_text(self.markers, self.lang) if self.compact else ""
        if self.border_subtitle != legend:
            self.border_subtitle = legend
        return self.canvas().to_text()
