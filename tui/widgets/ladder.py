"""One connection as a ladder diagram: client lane left, server lane right, time downward.

Like Wireshark's flow graph, but drawn from what the app did (connect, messages, "Fin",
close) and what the kernel reported (each side's states), not from captured packets.
The segments TCP must have exchanged around a connect or a close (SYN, SYN+ACK, ACK,
FIN, ACK) are drawn dotted and dim, labelled inferred: the app never saw them.
Message text comes from the network: it goes through ``printable`` and into ``Text``.
"""

from __future__ import annotations

import bisect
from collections.abc import Sequence
from dataclasses import dataclass

from rich.style import Style
from rich.text import Text
from textual.app import ComposeResult
from textual.containers import VerticalScroll
from textual.widget import Widget
from textual.widgets import Static

from tcp_observatory.lab.i18n import t
from tcp_observatory.lab.net.framing import is_fin
from tcp_observatory.lab.net.server import ServerEvent
from tcp_observatory.lab.observe.model import Endpoint, Transition
from tcp_observatory.lab.session import Action
from tcp_observatory.lab.text import clock_text, printable
from tcp_observatory.tui.theme import ACTION_STYLE, INFERRED_STYLE, state_glyph, state_style

CLIENT = "client"
SERVER = "server"
ARROW = "arrow"  # a segment or an action between the lanes; ``side`` is its sender
STATE = "state"  # a side's new state, written on its lane
NOTE = "note"  # something one side did or saw, written on its lane

MAX_TEXT = 500  # characters of a message kept in an entry (the view cuts to its width)
_CONNECTED = frozenset(
    {"ESTABLISHED", "FIN_WAIT_1", "FIN_WAIT_2", "CLOSE_WAIT", "CLOSING", "LAST_ACK", "TIME_WAIT"}
)
# States a side reaches only once it has closed its own end.
_CLOSED_FIRST = frozenset({"FIN_WAIT_1", "FIN_WAIT_2", "CLOSING", "TIME_WAIT", "LAST_ACK"})
# How much earlier than its cause's record an effect can be stamped: a poll that began
# just before an action sees its effect and carries the poll's time (a few ms; under load
# a poll takes longer). Within this, the effect is drawn after its cause.
SKEW = 1.0


@dataclass(frozen=True)
class LadderEntry:
    time: float
    kind: str  # ARROW, STATE or NOTE
    side: str  # CLIENT or SERVER: who sent the arrow, or whose lane the state / note is on
    text: str  # the arrow's label, the note, or the state's name; already printable
    inferred: bool = False  # deduced from the state machine, never observed


# -- building -----------------------------------------------------------------------------


def _segments(ts: float, pairs: Sequence[tuple[str, str]], lang: str) -> list[LadderEntry]:
    return [LadderEntry(ts, ARROW, side, t("ld.inferred", lang, seg=seg), True)
            for side, seg in pairs]


def ladder_from(
    client_number: int,
    actions: Sequence[Action],
    server_events: Sequence[ServerEvent],
    transitions: Sequence[Transition],
    lang: str,
) -> list[LadderEntry]:
    """Everything known about client ``client_number``'s connection, in time order.

    The client side is the connection whose role names this client and is not the
    server's; the server side is the one the server holds for it. Server events are
    matched by the client's address as the server saw it.
    """
    n = client_number
    mine = [tr for tr in transitions if tr.connection.role.client == n]
    client_trs = [tr for tr in mine if not tr.connection.role.server_side]
    server_trs = [tr for tr in mine if tr.connection.role.server_side]
    peers: set[Endpoint] = {tr.connection.local for tr in client_trs}
    peers |= {tr.connection.remote for tr in server_trs if tr.connection.remote is not None}
    events = [e for e in server_events if e.peer is not None and e.peer in peers]
    accepted_at = min((e.time for e in events if e.kind == "accepted"), default=None)
    established = accepted_at is not None or any(tr.to_state in _CONNECTED for tr in mine)
    # When the server's side of this connection ended (a later server stop does not touch it)
    server_end = min(
        [e.time for e in events if e.kind in ("closed", "released")]
        + [tr.time for tr in server_trs if tr.to_state == "CLOSED"],
        default=None,
    )

    keyed: list[tuple[float, int, int, LadderEntry]] = []
    # The records of what causes what, for the order (an effect is drawn after its cause
    # even when its observation carries an earlier time than the cause's record).
    connects = sorted(a.time for a in actions if a.client == n and a.kind == "client-add")
    client_closes = sorted(a.time for a in actions
                           if a.client == n and a.kind in ("fin", "client-remove"))
    server_closes = sorted([e.time for e in events if e.kind in ("closed", "released")]
                           + [a.time for a in actions if a.kind == "server-stop"])

    def add(priority: int, entries: list[LadderEntry], *causes: list[float]) -> None:
        for entry in entries:
            at = max([entry.time, *(_cause(c, entry.time) for c in causes)])
            keyed.append((at, priority, len(keyed), entry))

    closed_by_client = False
    started = None
    for a in actions:
        if a.client == n and a.kind == "client-add":
            started = a.time if started is None else started
            seq = [(CLIENT, "SYN")]
            if established:
                seq += [(SERVER, "SYN+ACK"), (CLIENT, "ACK")]
            add(0, [LadderEntry(a.time, ARROW, CLIENT, t("ld.connect", lang)),
                    *_segments(a.time, seq, lang)])
        elif a.client == n and a.kind == "send":
            text = t("ld.send", lang, text=printable(a.text, MAX_TEXT))
            add(0, [LadderEntry(a.time, ARROW, CLIENT, text)])
        elif a.client == n and a.kind in ("fin", "client-remove") and not closed_by_client:
            closed_by_client = True
            label = t("ld.fin" if a.kind == "fin" else "ld.remove", lang)
            fin = _segments(a.time, [(CLIENT, "FIN"), (SERVER, "ACK")], lang) if established else []
            add(0, [LadderEntry(a.time, ARROW, CLIENT, label), *fin])
        elif a.kind == "server-stop" and accepted_at is not None and accepted_at < a.time and (
            server_end is None or a.time < server_end
        ):
            server_end = a.time
            add(0, [LadderEntry(a.time, ARROW, SERVER, t("ld.stop", lang)),
                    *_segments(a.time, [(SERVER, "FIN"), (CLIENT, "ACK")], lang)])
    for e in events:
        if e.kind == "accepted":
            add(1, [LadderEntry(e.time, NOTE, SERVER, t("ld.accepted", lang))], connects)
        elif e.kind == "message" and not is_fin(e.text):
            text = t("ld.received", lang, text=printable(e.text, MAX_TEXT))
            add(1, [LadderEntry(e.time, NOTE, SERVER, text)], connects)
        elif e.kind in ("fin", "eof", "reset"):
            key = {"fin": "ld.fin_received", "eof": "ld.eof", "reset": "ld.reset"}[e.kind]
            add(1, [LadderEntry(e.time, NOTE, SERVER, t(key, lang))], connects,
                client_closes if e.kind != "reset" else [])
        elif e.kind in ("closed", "released"):
            label = t("ld.close" if e.kind == "closed" else "ld.released", lang)
            add(1, [LadderEntry(e.time, ARROW, SERVER, label),
                    *_segments(e.time, [(SERVER, "FIN"), (CLIENT, "ACK")], lang)], connects)
    for side, trs in ((CLIENT, client_trs), (SERVER, server_trs)):
        own, peer = (client_closes, server_closes) if side == CLIENT else (
            server_closes, client_closes)
        for tr in trs:
            # Every state after the connect; one reached by closing first after that
            # side's close; CLOSE_WAIT after the peer's.
            causes = [connects]
            if tr.to_state in _CLOSED_FIRST:
                causes.append(own)
            elif tr.to_state == "CLOSE_WAIT":
                causes.append(peer)
            add(2, [LadderEntry(tr.time, STATE, side, tr.to_state, tr.inferred)], *causes)
    keyed.sort(key=lambda k: (k[0], k[1], k[2]))
    return [k[3] for k in keyed]


def _cause(times: list[float], effect: float) -> float:
    """The time of the cause an effect stamped ``effect`` follows: the last of ``times``
    at most ``SKEW`` after it (records of a cause later than that are another one's)."""
    at = bisect.bisect_right(times, effect + SKEW)
    return times[at - 1] if at else effect


# -- drawing ------------------------------------------------------------------------------

LANE = Style(color="#d0d0d0")
CLOCK = Style(color="#9e9e9e")
CLIENT_ARROW = ACTION_STYLE
SERVER_ARROW = Style(color="#87afff", bold=True)
LABEL = Style(color="#ffffff", bold=True)
NOTE_STYLE = Style(color="#87afff")
HEAD_STYLE = Style(color="#ffffff", bold=True)
TIME_WIDTH = 13  # "14:13:20.000 "
STATE_WIDTH = 15  # "◇ SYN_RECEIVED "


@dataclass
class _Row:
    time: float | None  # None: no clock shown (an inferred segment)
    left: Text
    middle: Text
    right: Text
    kind: str


@dataclass(frozen=True)
class _Geometry:
    time: int
    left: int
    middle: int
    right: int


def geometry(width: int) -> _Geometry:
    tw = TIME_WIDTH if width >= 60 else 0
    room = width - tw - STATE_WIDTH - 2
    middle = max(12, min(50, room - 24))
    return _Geometry(tw, STATE_WIDTH, middle, max(0, room - middle))


def _cut(text: str, width: int) -> str:
    if width <= 0:
        return ""
    return text if len(text) <= width else text[: max(0, width - 1)] + "…"


def _arrow(label: str, width: int, to_right: bool, line: Style, label_style: Style,
           dotted: bool) -> Text:
    stroke = "┄" if dotted else "─"
    head = ("▷" if to_right else "◁") if dotted else ("▶" if to_right else "◀")
    body = width - 1
    label = _cut(label, max(0, body - 4))
    shown = f" {label} " if label else ""
    before = max(0, (body - len(shown)) // 2)
    after = max(0, body - len(shown) - before)
    out = Text(no_wrap=True, overflow="crop", end="")
    if not to_right:
        out.append(head, line)
    out.append(stroke * before, line)
    out.append(shown, label_style)
    out.append(stroke * after, line)
    if to_right:
        out.append(head, line)
    return out


def _rows(entries: Sequence[LadderEntry], g: _Geometry, lang: str) -> list[_Row]:
    rows: list[_Row] = []
    for e in entries:
        if e.kind == ARROW:
            to_right = e.side == CLIENT
            if e.inferred:
                middle = _arrow(e.text, g.middle, to_right, INFERRED_STYLE, INFERRED_STYLE, True)
            else:
                line = CLIENT_ARROW if e.side == CLIENT else SERVER_ARROW
                middle = _arrow(e.text, g.middle, to_right, line, LABEL, False)
            rows.append(_Row(None if e.inferred else e.time, Text(), middle, Text(), ARROW))
            continue
        if e.kind == STATE:
            style = INFERRED_STYLE if e.inferred else state_style(e.text)
            cell = Text(f"{state_glyph(e.text)} {e.text}", style=style)  # not by colour alone
        else:
            cell = Text(e.text, style=NOTE_STYLE)
        note = Text(" " + t("ld.state_inferred", lang), style=INFERRED_STYLE) if (
            e.kind == STATE and e.inferred) else None
        prev = rows[-1] if rows else None
        joinable = (
            prev is not None and prev.kind != ARROW and prev.time is not None
            and abs(prev.time - e.time) < 0.001
            and not (prev.left if e.side == CLIENT else prev.right).plain
            and not (note is not None and prev.middle.plain)
        )
        if joinable and prev is not None:
            row = prev
        else:
            row = _Row(e.time, Text(), Text(), Text(), e.kind)
        if e.side == CLIENT:
            row.left = cell
            if note is not None:
                row.middle = note
        else:
            row.right = cell + note if note is not None else cell
        if row is not prev:
            rows.append(row)
    return rows


def _fit(text: Text, width: int, *, right: bool = False) -> Text:
    if width <= 0:
        return Text()
    out = text.copy()
    if out.cell_len > width:
        out.truncate(max(0, width - 1))
        out.append("…", out.style)
    pad = " " * max(0, width - out.cell_len)
    return Text(pad, end="") + out if right else out + Text(pad)


def header_line(width: int, left: str, right: str) -> Text:
    g = geometry(width)
    line = Text(no_wrap=True, overflow="crop", end="")
    line.append(_fit(Text(""), g.time))
    line.append(_fit(Text(left + " ", style=CLIENT_ARROW), g.left, right=True))
    line.append("┃", HEAD_STYLE)
    line.append(" " * g.middle)
    line.append("┃", HEAD_STYLE)
    line.append(_fit(Text(" " + right, style=SERVER_ARROW), g.right))
    return line


def render_lines(entries: Sequence[LadderEntry], width: int, lang: str) -> list[Text]:
    """The ladder's rows at ``width`` columns, one Text each (no markup anywhere)."""
    g = geometry(width)
    lines: list[Text] = []
    last_clock = ""
    for row in _rows(entries, g, lang):
        line = Text(no_wrap=True, overflow="crop", end="")
        clock = clock_text(row.time) if row.time is not None else ""
        shown = clock if clock != last_clock else ""
        last_clock = clock or last_clock
        line.append(_fit(Text(shown, style=CLOCK), g.time))
        left = row.left + Text(" ") if row.left.plain else row.left
        line.append(_fit(left, g.left, right=True))
        line.append("│", LANE)
        line.append(_fit(row.middle, g.middle))
        line.append("│", LANE)
        right = Text(" ") + row.right if row.right.plain else row.right
        line.append(_fit(right, g.right))
        lines.append(line)
    return lines


class LadderView(Widget):
    """The selected client's connection as a ladder; scrolls, and follows the newest row
    unless the user scrolled back to read an earlier one."""

    DEFAULT_CSS = """
    LadderView {
        width: 1fr;
        height: 1fr;
        background: #000000;
    }
    LadderView > #ladder-head {
        height: 1;
        background: #000000;
    }
    LadderView > #ladder-scroll {
        height: 1fr;
        scrollbar-size-vertical: 1;
        background: #000000;
    }
    """

    def __init__(self, lang: str, *, id: str | None = None, classes: str | None = None) -> None:
        super().__init__(id=id, classes=classes)
        self.lang = lang
        self.entries: list[LadderEntry] = []
        self.client: int | None = None
        self.lines_text: list[str] = []  # plain copy of the rows, for tests and screenshots

    def compose(self) -> ComposeResult:
        yield Static(id="ladder-head")
        with VerticalScroll(id="ladder-scroll"):
            yield Static(id="ladder-body")

    def on_mount(self) -> None:
        self._paint()

    def on_resize(self) -> None:
        self._paint()

    def show(self, entries: list[LadderEntry], client: int | None = None) -> None:
        """Draw ``entries`` (from ``ladder_from``); ``client`` names the left lane."""
        self.entries = list(entries)
        if client is not None:
            self.client = client
        self._paint()

    def _paint(self) -> None:
        if not self.is_mounted:
            return
        width = max(0, self.size.width - 1)
        if width <= 0:
            return
        left = t("role.client", self.lang, n=self.client) if self.client else CLIENT
        right = (t("role.server_of", self.lang, n=self.client) if self.client
                 else t("ld.server", self.lang))
        self.query_one("#ladder-head", Static).update(header_line(width, left, right))
        lines = render_lines(self.entries, width, self.lang)
        if not lines:
            key = "ld.empty" if self.client else "ld.none"
            lines = [Text(t(key, self.lang, n=self.client), style=CLOCK)]
        self.lines_text = [line.plain for line in lines]
        body = Text("\n", no_wrap=True, overflow="crop", end="").join(lines)
        scroll = self.query_one("#ladder-scroll", VerticalScroll)
        following = scroll.scroll_y >= scroll.max_scroll_y - 1  # else the user scrolled back
        self.query_one("#ladder-body", Static).update(body)
        if following:
            self.call_after_refresh(scroll.scroll_end, animate=False)
