"""The TCP state machine drawn as boxes and arrows, with each live connection on its state.

For the projector: the room sees where every connection is, and which arrow it just took.
The active (client) path runs down the left, the passive (server) path down the right,
ESTABLISHED sits in the middle. The drawing is a grid of styled cells rebuilt at the
widget's size; below what it needs it becomes a plain list, so any size renders.
Inferred passages (states crossed between two polls) are dotted and say so in the legend.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

from rich.style import Style
from rich.text import Text
from textual.widget import Widget

from lab.i18n import t
from lab.observe.model import ALL_STATES, Connection, RoleKind, Snapshot, Transition
from lab.observe.roles import describe_role
from tui.theme import INFERRED_STYLE, state_style

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


def marker_summary(labels: Sequence[str], width: int) -> str:
    """As many labels as fit in ``width``, then "+n" for the rest: "client 1, client 2 +3"."""
    if not labels or width <= 0:
        return ""
    shown: list[str] = []
    for i, label in enumerate(labels):
        rest = len(labels) - i - 1
        tail = f" +{rest}" if rest else ""
        candidate = ", ".join([*shown, label]) + tail
        if len(candidate) <= width:
            shown.append(label)
            continue
        more = f" +{len(labels) - len(shown)}"
        if shown:
            return ", ".join(shown) + more
        room = width - len(more)
        if room >= 2:
            return label[: room - 1] + "…" + more
        return more.strip()[:width]
    return ", ".join(shown)


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
        self.cells: list[list[tuple[str, Style | None]]] = [
            [(" ", None)] * self.width for _ in range(self.height)
        ]

    def put(self, x: int, y: int, ch: str, style: Style | None = None) -> None:
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


@dataclass
class _Layout:
    boxes: dict[str, _Box] = field(default_factory=dict)  # "CLOSED" is the start box
    end_closed: _Box | None = None  # CLOSED again, where connections end
    edges: list[_Edge] = field(default_factory=list)
    legend_y: int = 0


FULL_MIN_WIDTH = 70
FULL_MIN_HEIGHT = 25  # without the legend; 26 with it
_SIZES = ((22, 26), (20, 24), (18, 22), (16, 20), (14, 18))


def layout(width: int, lang: str) -> _Layout:
    """Place the boxes and route the arrows for a canvas ``width`` wide (≥ FULL_MIN_WIDTH)."""
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
    L: dict[str, _Box] = {}

    def box(state: str, x: int, y: int, w: int) -> _Box:
        b = _Box(state, x, y, w)
        L[state] = b
        return b

    syn_sent = box("SYN_SENT", lx, 0, sw)
    closed = box("CLOSED", cx, 0, cw)
    listen = box("LISTEN", rx, 0, sw)
    established = box("ESTABLISHED", cx, 5, cw)
    syn_rcvd = box("SYN_RECEIVED", rx, 5, sw)
    fw1 = box("FIN_WAIT_1", lx, 11, sw)
    close_wait = box("CLOSE_WAIT", rx, 11, sw)
    fw2 = box("FIN_WAIT_2", lx, 16, sw)
    closing = box("CLOSING", cx, 16, cw)
    last_ack = box("LAST_ACK", rx, 16, sw)
    time_wait = box("TIME_WAIT", lx, 21, sw)
    end = _Box("CLOSED", rx, 21, sw)

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
              ((syn_sent.cx, 3), (syn_sent.cx, 6), (established.x - 1, 6)),
              "SYN+ACK", (syn_sent.cx + 2, 5)),
        _Edge("SYN_RECEIVED", "ESTABLISHED", ((syn_rcvd.x, 6), (established.right + 1, 6)),
              "ACK", (established.right + 3, 5)),
        _Edge("ESTABLISHED", "FIN_WAIT_1",
              ((e_out_l, 8), (e_out_l, 9), (fw1.cx, 9), (fw1.cx, 10)),
              close_label, (fw1.cx + 2, 10)),
        _Edge("ESTABLISHED", "CLOSE_WAIT",
              ((e_out_r, 8), (e_out_r, 9), (close_wait.cx, 9), (close_wait.cx, 10)),
              "FIN", (close_wait.cx - 5, 10)),
        _Edge("FIN_WAIT_1", "FIN_WAIT_2", ((fw1.cx, 14), (fw1.cx, 15)),
              "ACK", (fw1.cx + 2, 15)),
        _Edge("FIN_WAIT_1", "CLOSING",
              ((fw1.right, 12), (closing.cx, 12), (closing.cx, 15)),
              "FIN", (fw1.right + 3, 11)),
        _Edge("CLOSE_WAIT", "LAST_ACK", ((close_wait.cx, 14), (close_wait.cx, 15)),
              close_label, (close_wait.cx - 2 - len(close_label), 15)),
        _Edge("FIN_WAIT_2", "TIME_WAIT", ((fw2.cx, 19), (fw2.cx, 20)),
              "FIN", (fw2.cx + 2, 20)),
        _Edge("CLOSING", "TIME_WAIT",
              ((closing.cx, 19), (closing.cx, 22), (time_wait.right + 1, 22)),
              "ACK", (closing.cx + 2, 21)),
        _Edge("LAST_ACK", "CLOSED", ((last_ack.cx, 19), (last_ack.cx, 20)),
              "ACK", (last_ack.cx - 5, 20)),
        _Edge("TIME_WAIT", "CLOSED", ((time_wait.right, 23), (end.x - 1, 23)),
              t("dg.timeout", lang), (time_wait.right + 3, 24)),
    ]
    return _Layout(L, end, edges, legend_y=25)


def _draw_edge(c: Canvas, e: _Edge, kind: str, style: Style, label_style: Style) -> None:
    heavy = 1 if kind == "heavy" else 0
    h, v = _STROKES[kind]
    cells: list[tuple[int, int]] = [e.points[0]]
    for (ax, ay), (bx, by) in zip(e.points, e.points[1:]):
        dx = (bx > ax) - (bx < ax)
        dy = (by > ay) - (by < ay)
        x, y = ax, ay
        while (x, y) != (bx, by):
            x, y = x + dx, y + dy
            cells.append((x, y))
    # dirs[i]: the way the line travels out of cell i (into it, for the last cell)
    dirs = [(b[0] - a[0], b[1] - a[1]) for a, b in zip(cells, cells[1:])]
    dirs.append(dirs[-1] if dirs else _DOWN)
    heads = _HOLLOW_HEADS if kind == "dotted" else _HEADS
    for i, (x, y) in enumerate(cells):
        d = dirs[i]
        if i == len(cells) - 1:
            ch = heads[d]
        elif i == 0:
            ch = _TEES[d][heavy]  # where the arrow leaves its source's frame
        elif dirs[i - 1] != d:
            came = dirs[i - 1]
            ch = _CORNERS[frozenset({(-came[0], -came[1]), d})][heavy]
        else:
            ch = h if d[1] == 0 else v
        c.put(x, y, ch, style)
    lx, ly = e.label_at
    c.text(lx, ly, e.label, label_style)


def _box_name_style(state: str) -> Style:
    return Style(color=state_style(state).color, bold=True)


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
    name = b.state
    name_style = Style(color="#000000", bgcolor=colour, bold=True) if busy else _box_name_style(
        b.state)
    shown = f" {name} " if busy else name
    c.text(b.x + 1 + max(0, (inner - len(shown)) // 2), b.y + 1, shown[:inner], name_style)
    if busy:
        summary = marker_summary(labels, inner - 2)
        c.text(b.x + 1 + max(0, (inner - len(summary)) // 2), b.y + 2, summary, MARKER_TEXT)


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
    lay = layout(width, lang)
    by_state: dict[str, list[str]] = {}
    for m in markers:
        by_state.setdefault(m.state, []).append(m.label)
    for state, b in lay.boxes.items():
        # Connections that are gone sit on the CLOSED box at the bottom, where lives end.
        _draw_box(c, b, [] if state == "CLOSED" else by_state.get(state, []))
    if lay.end_closed is not None:
        _draw_box(c, lay.end_closed, by_state.get("CLOSED", []))
    lit = _highlights(markers)
    for e in lay.edges:
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
    if height > lay.legend_y:
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


def draw_compact(width: int, height: int, markers: Sequence[Marker], lang: str) -> Canvas:
    """A list, one state a line, for a window too small for the drawing."""
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
        if not ms:
            continue
        c.text(0, y, f"{state:<12}", _box_name_style(state))
        c.text(12, y, " ◀ ", LINE)
        c.text(15, y, marker_summary([m.label for m in ms], width - 15), MARKER_TEXT)
        y += 1
        for m in ms:
            if m.last_transition is None or y >= height:
                continue
            src, dst, inferred = m.last_transition
            line = f"   {m.label}: {src} → {dst}"
            style = INFERRED_STYLE if inferred else LABEL
            if inferred:
                line += f" ({t('dg.legend.inferred', lang)})"
            c.text(0, y, line[:width], style)
            y += 1
    return c


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
        """True when the window is too small for the drawing and a list is shown instead."""
        w, h = self.size.width, self.size.height
        return w < FULL_MIN_WIDTH or h < FULL_MIN_HEIGHT

    def canvas(self) -> Canvas:
        w, h = self.size.width, self.size.height
        if self.compact:
            return draw_compact(w, h, self.markers, self.lang)
        return draw_full(w, h, self.markers, self.lang)

    def render(self) -> Text:
        return self.canvas().to_text()
