"""The state diagram and the ladder view: what they show for a fixed lab scene.

Single mode, question 2 of the handout: client 1 sent "hello" then "Fin" (its side passed
FIN_WAIT_1 between two polls, then sat in FIN_WAIT_2; the server's in CLOSE_WAIT) and the
next accept() released it; clients 2 and 3 wait in the accept queue, client 4 in SYN_SENT.
Update the SVGs after a deliberate change of look:
``pytest tests/test_diagram_ladder.py --snapshot-update``.
"""

from __future__ import annotations

import os
import time

import pytest
from app_support import SnapCompare, drawn, screen_lines, style_at, wait_until
from support import conn, ep
from textual.app import App, ComposeResult

from tcp_observatory.lab.net.server import ServerEvent
from tcp_observatory.lab.observe.model import Connection, RoleKind, Snapshot, Transition
from tcp_observatory.lab.session import Action
from tcp_observatory.tui.theme import state_glyph, state_style
from tcp_observatory.tui.widgets.diagram import (
    Marker,
    StateDiagram,
    marker_lines,
    marker_summary,
    markers_from,
)
from tcp_observatory.tui.widgets.ladder import ARROW, CLIENT, SERVER, STATE, LadderView, ladder_from

os.environ["TZ"] = "UTC"
if hasattr(time, "tzset"):
    time.tzset()

T0 = 1_790_000_000.0  # 2026-09-21 14:13:20 UTC
PORT = 9500
MARKUP = "[bold]x[/] [@click=app.quit]q[/]"


def _client(n: int, state: str, kind: RoleKind = RoleKind.CLIENT) -> Connection:
    return conn(50000 + n, PORT, state, kind, n)


def _server(n: int, state: str, kind: RoleKind = RoleKind.SERVER) -> Connection:
    return conn(PORT, 50000 + n, state, kind, n, server_side=True)


LISTENER = conn(PORT, None, "LISTEN", RoleKind.LISTENER)


def scene_history() -> list[Transition]:
    """Every transition of the scene, as the differ reports them."""
    trs = [Transition(T0, LISTENER, None, "LISTEN", None)]
    for n in (1, 2, 3):
        trs.append(Transition(T0 + n / 10, _client(n, "ESTABLISHED"), None, "ESTABLISHED", None))
        kind = RoleKind.SERVER if n == 1 else RoleKind.QUEUED
        trs.append(Transition(T0 + n / 10, _server(n, "ESTABLISHED", kind), None, "ESTABLISHED",
                              None))
    trs.append(Transition(T0 + 0.4, _client(4, "SYN_SENT"), None, "SYN_SENT", None))
    fin = T0 + 10.1
    orphan = RoleKind.ORPHANED
    trs += [
        Transition(fin, _client(1, "FIN_WAIT_1", orphan), "ESTABLISHED", "FIN_WAIT_1", None, True),
        Transition(fin, _client(1, "FIN_WAIT_2", orphan), "FIN_WAIT_1", "FIN_WAIT_2", 10.0),
        Transition(fin, _server(1, "CLOSE_WAIT"), "ESTABLISHED", "CLOSE_WAIT", 10.0),
    ]
    return trs


def scene_snapshot() -> Snapshot:
    """The kernel right after client 1's "Fin" (before the next accept())."""
    return Snapshot(T0 + 10.1, (
        LISTENER,
        _client(1, "FIN_WAIT_2", RoleKind.ORPHANED),
        _server(1, "CLOSE_WAIT"),
        _client(2, "ESTABLISHED"),
        _server(2, "ESTABLISHED", RoleKind.QUEUED),
        _client(3, "ESTABLISHED"),
        _server(3, "ESTABLISHED", RoleKind.QUEUED),
        _client(4, "SYN_SENT"),
        conn(40000, 443, "ESTABLISHED", RoleKind.OTHER),  # unrelated: never drawn
    ), "fixed")


def ladder_inputs() -> tuple[list[Action], list[ServerEvent], list[Transition]]:
    """Client 1 from connect() to TIME_WAIT; client 2's doings mixed in."""
    actions = [
        Action("client-add", T0, 1),
        Action("client-add", T0 + 0.15, 2),
        Action("send", T0 + 4, 1, MARKUP),
        Action("send", T0 + 6, 2, "not mine"),
        Action("fin", T0 + 10, 1, "Fin"),
    ]
    events = [
        ServerEvent("accepted", T0 + 0.05, ep(50001), serial=1),
        ServerEvent("message", T0 + 4.001, ep(50001), MARKUP, serial=1),
        ServerEvent("message", T0 + 10.001, ep(50001), "Fin", serial=1),
        ServerEvent("fin", T0 + 10.001, ep(50001), serial=1),
        ServerEvent("released", T0 + 20.0, ep(50001)),
        ServerEvent("accepted", T0 + 20.0, ep(50002), serial=2),
    ]
    end = T0 + 20.1
    trs = [*scene_history(),
           Transition(end, _server(1, "LAST_ACK"), "CLOSE_WAIT", "LAST_ACK", None, True),
           Transition(end, _server(1, "CLOSED"), "LAST_ACK", "CLOSED", 10.0),
           Transition(end, _client(1, "TIME_WAIT", RoleKind.ORPHANED), "FIN_WAIT_2", "TIME_WAIT",
                      10.0)]
    return actions, events, trs


# -- host apps ----------------------------------------------------------------------------


class DiagramHost(App[None]):
    CSS = "Screen { background: #000000; }"

    def __init__(self, lang: str = "en", markers: list[Marker] | None = None) -> None:
        super().__init__()
        self.lang = lang
        self.markers = (markers if markers is not None
                        else markers_from(scene_snapshot(), scene_history(), lang))

    def compose(self) -> ComposeResult:
        yield StateDiagram(self.lang, id="diagram")

    def on_mount(self) -> None:
        self.query_one(StateDiagram).set_markers(self.markers)


class LadderHost(App[None]):
    CSS = "Screen { background: #000000; }"

    def __init__(self, lang: str = "en", client: int = 1) -> None:
        super().__init__()
        self.lang = lang
        self.client = client

    def compose(self) -> ComposeResult:
        yield LadderView(self.lang, id="ladder")

    def on_mount(self) -> None:
        actions, events, trs = ladder_inputs()
        entries = ladder_from(self.client, actions, events, trs, self.lang)
        self.query_one(LadderView).show(entries, client=self.client)


_SIDES = "┃│├┤┣┫"


def box_of(lines: list[str], state: str) -> tuple[int, int, int]:
    """(name row, left frame column, right frame column) of the box named ``state``."""
    for y, line in enumerate(lines):
        x = line.find(f" {state} ")
        if x < 0:
            continue
        left = max(line.rfind(ch, 0, x) for ch in _SIDES)
        right = min(i for i in (line.find(ch, x) for ch in _SIDES) if i >= 0)
        return y, left, right
    raise AssertionError(f"no box {state} in:\n" + "\n".join(lines))


# -- markers ------------------------------------------------------------------------------


def test_markers_from_snapshot_and_history() -> None:
    markers = markers_from(scene_snapshot(), scene_history(), "en")
    by_label = {m.label: m for m in markers}
    assert list(by_label) == [
        "server (listening)", "orphaned (client 1)", "server ↔ client 1", "client 2",
        "accept() queue ← client 2", "client 3", "accept() queue ← client 3", "client 4",
    ]
    c1 = by_label["orphaned (client 1)"]
    assert c1.state == "FIN_WAIT_2"
    assert c1.last_transition == ("FIN_WAIT_1", "FIN_WAIT_2", False)
    assert c1.trail == (("ESTABLISHED", "FIN_WAIT_1", True),)
    assert by_label["server ↔ client 1"].last_transition == ("ESTABLISHED", "CLOSE_WAIT", False)
    # a connection that only appeared has no passage to highlight
    assert by_label["client 2"].last_transition is None
    fr = markers_from(scene_snapshot(), scene_history(), "fr")
    assert "serveur ↔ client 1" in {m.label for m in fr}


def test_markers_ignore_a_passage_to_another_state() -> None:
    snap = Snapshot(T0, (_client(1, "ESTABLISHED"),), "fixed")
    stale = [Transition(T0, _client(1, "SYN_SENT"), "CLOSED", "SYN_SENT", None)]
    assert markers_from(snap, stale, "en")[0].last_transition is None


def test_many_markers_are_summarised() -> None:
    labels = [f"client {n}" for n in range(1, 6)]
    assert marker_summary(labels, 22) == "client 1, client 2 +3"
    assert marker_lines(["client 1", "client 2"], 20, 1) == ["client 1, client 2"]
    assert marker_lines(labels, 20, 1) == ["client 1, 2, 3, 4, 5"]
    assert marker_lines([f"client {n}" for n in range(1, 20)], 20, 1) == ["client 1, 2, 3 +16"]
    pairs = ["client 1", "server ↔ client 1", "client 2", "server ↔ client 2"]
    assert marker_lines(pairs, 24, 2) == ["client 1, 2,", "server ↔ client 1, 2"]


# -- the diagram on screen ----------------------------------------------------------------


@pytest.mark.parametrize("lang", ["en", "fr"])
async def test_diagram_puts_each_connection_on_its_box(lang: str) -> None:
    app = DiagramHost(lang)
    async with app.run_test(size=(100, 30)) as pilot:
        await drawn(pilot)
        lines = screen_lines(app)
        assert not app.query_one(StateDiagram).compact
        names = {"en": ("orphaned (client 1)", "server ↔ client 1", "server (listening)"),
                 "fr": ("orphelin (client 1)", "serveur ↔ client 1", "serveur (écoute)")}[lang]
        for state, label in (("FIN_WAIT_2", names[0]), ("CLOSE_WAIT", names[1]),
                             ("LISTEN", names[2]), ("SYN_SENT", "client 4")):
            y, left, right = box_of(lines, state)
            below = lines[y + 1][left + 1:right]
            assert label in below, f"{state}: {below!r}"
        y, left, right = box_of(lines, "ESTABLISHED")
        inside = " ".join(line[left + 1:right] for line in lines[y + 1:y + 3])
        assert "client 2, 3" in inside
        for state in ("CLOSED", "SYN_RECEIVED", "FIN_WAIT_1", "CLOSING", "LAST_ACK",
                      "TIME_WAIT"):
            box_of(lines, state)
        legend = "inferred, not observed" if lang == "en" else "déduit, non observé"
        assert legend in "\n".join(lines)


async def test_diagram_highlights_the_last_passage() -> None:
    app = DiagramHost("en")
    async with app.run_test(size=(100, 30)) as pilot:
        await drawn(pilot)
        lines = screen_lines(app)
        y1, l1, r1 = box_of(lines, "FIN_WAIT_1")
        y2, _, _ = box_of(lines, "FIN_WAIT_2")
        # FIN_WAIT_1 -> FIN_WAIT_2 was observed: a heavy, bold arrow in FIN_WAIT_2's colour
        mid = (l1 + r1) // 2 + 1
        head_row = next(y for y in range(y1, y2) if lines[y][mid] == "▼")
        head = style_at(app, mid, head_row)
        assert head.bold and head.color == state_style("FIN_WAIT_2").color
        assert lines[y1 + 2][mid] == "┳"  # where it leaves FIN_WAIT_1's frame
        # ESTABLISHED -> FIN_WAIT_1 was inferred: dotted, with a hollow head, not bold
        route, head_row = lines[y1 - 3], y1 - 2  # above the box's top frame
        assert "┄┄┄┄" in route and lines[head_row][mid] == "▽"
        assert not style_at(app, mid, head_row).bold
        # a passage nobody took stays thin and grey
        yl, _, _ = box_of(lines, "LAST_ACK")
        ylh = yl - 2
        assert "▼" in lines[ylh] and "┃" not in lines[ylh]


@pytest.mark.parametrize("size", [(40, 12), (55, 30), (100, 8)])
async def test_diagram_degrades_to_a_list(size: tuple[int, int]) -> None:
    app = DiagramHost("en")
    async with app.run_test(size=size) as pilot:
        await drawn(pilot)
        diagram = app.query_one(StateDiagram)
        assert diagram.compact and diagram.listed
        text = "\n".join(screen_lines(app))
        assert "FIN_WAIT_2" in text and "orphaned (client 1)" in text
        assert "CLOSE_WAIT" in text


async def test_diagram_survives_resizing_and_no_markers() -> None:
    app = DiagramHost("fr", markers=[])
    async with app.run_test(size=(100, 30)) as pilot:
        for w, h in ((100, 30), (40, 12), (10, 3), (1, 1), (72, 25), (160, 48)):
            await pilot.resize_terminal(w, h)
            await drawn(pilot)
            screen_lines(app)
        assert "aucune connexion" in "\n".join(screen_lines(app))
        app.query_one(StateDiagram).set_markers(
            [Marker("client 1", "TIME_WAIT", ("FIN_WAIT_2", "TIME_WAIT", False)),
             Marker("client 9", "CLOSED", ("TIME_WAIT", "CLOSED", False)),
             Marker("client 8", "UNKNOWN_STATE", ("LISTEN", "UNKNOWN_STATE", True))])
        await drawn(pilot)
        lines = screen_lines(app)
        y, left, right = box_of(lines, "TIME_WAIT")
        assert "client 1" in lines[y + 1][left:right]


# -- the ladder ---------------------------------------------------------------------------


def test_ladder_from_merges_one_connection_by_time() -> None:
    actions, events, trs = ladder_inputs()
    entries = ladder_from(1, actions, events, trs, "en")
    assert [e.time for e in entries] == sorted(e.time for e in entries)
    client_states = [e.text for e in entries if e.kind == STATE and e.side == CLIENT]
    server_states = [e.text for e in entries if e.kind == STATE and e.side == SERVER]
    assert client_states == ["ESTABLISHED", "FIN_WAIT_1", "FIN_WAIT_2", "TIME_WAIT"]
    assert server_states == ["ESTABLISHED", "CLOSE_WAIT", "LAST_ACK", "CLOSED"]
    assert [e.inferred for e in entries if e.kind == STATE and e.text in (
        "FIN_WAIT_1", "LAST_ACK")] == [True, True]
    arrows = [(e.side, e.text, e.inferred) for e in entries if e.kind == ARROW]
    assert arrows == [
        (CLIENT, "connect()", False),
        (CLIENT, "SYN (inferred)", True),
        (SERVER, "SYN+ACK (inferred)", True),
        (CLIENT, "ACK (inferred)", True),
        (CLIENT, f'"{MARKUP}"', False),
        (CLIENT, '"Fin" then close()', False),
        (CLIENT, "FIN (inferred)", True),
        (SERVER, "ACK (inferred)", True),
        (SERVER, "close() (next accept())", False),
        (SERVER, "FIN (inferred)", True),
        (CLIENT, "ACK (inferred)", True),
    ]
    assert not any("not mine" in e.text for e in entries)
    fr = ladder_from(1, actions, events, trs, "fr")
    assert "SYN (déduit)" in [e.text for e in fr]
    assert "«\u00a0Fin\u00a0» puis close()" in [e.text for e in fr]


def test_ladder_without_accept_infers_only_the_syn() -> None:
    actions = [Action("client-add", T0, 4)]
    trs = [Transition(T0 + 0.4, _client(4, "SYN_SENT"), None, "SYN_SENT", None)]
    entries = ladder_from(4, actions, [], trs, "en")
    assert [e.text for e in entries if e.kind == ARROW] == ["connect()", "SYN (inferred)"]


def test_ladder_draws_each_effect_after_its_cause_whatever_their_stamps() -> None:
    """A poll that began just before the app recorded its action sees the action's effect
    and carries the poll's time: the kernel's ESTABLISHED is stamped before connect(), the
    FIN_WAIT_2 before "Fin". The ladder still draws connect(), the SYN, then ESTABLISHED;
    "Fin", then FIN_WAIT_2 and CLOSE_WAIT. A CLOSE_WAIT the server's close caused seconds
    before the client's own close stays where it happened."""
    from tcp_observatory.tui.widgets.ladder import render_lines

    seen = T0 + 0.0004  # the poll's time: 0.6 ms before the action's record
    actions = [Action("client-add", T0 + 0.001, 1), Action("fin", T0 + 5.001, 1, "Fin")]
    events = [ServerEvent("accepted", T0 + 0.0008, ep(50001), serial=1),
              ServerEvent("fin", T0 + 5.0008, ep(50001), serial=1)]
    trs = [Transition(seen, _client(1, "ESTABLISHED"), None, "ESTABLISHED", None),
           Transition(seen, _server(1, "ESTABLISHED"), None, "ESTABLISHED", None),
           Transition(T0 + 5.0004, _client(1, "FIN_WAIT_2", RoleKind.ORPHANED),
                      "ESTABLISHED", "FIN_WAIT_2", 5.0),
           Transition(T0 + 5.0004, _server(1, "CLOSE_WAIT"), "ESTABLISHED", "CLOSE_WAIT", 5.0)]
    entries = ladder_from(1, actions, events, trs, "en")
    order = [(e.side, e.text) for e in entries]
    assert order == [
        (CLIENT, "connect()"), (CLIENT, "SYN (inferred)"), (SERVER, "SYN+ACK (inferred)"),
        (CLIENT, "ACK (inferred)"), (SERVER, "accept()"),
        (CLIENT, "ESTABLISHED"), (SERVER, "ESTABLISHED"),
        (CLIENT, '"Fin" then close()'), (CLIENT, "FIN (inferred)"), (SERVER, "ACK (inferred)"),
        (SERVER, '"Fin" received'), (CLIENT, "FIN_WAIT_2"), (SERVER, "CLOSE_WAIT"),
    ], order
    # On screen, line by line: connect() and the SYN above ESTABLISHED.
    lines = [line.plain for line in render_lines(entries, 100, "en")]
    at = {what: next(i for i, line in enumerate(lines) if what in line)
          for what in ("connect()", "SYN (inferred)", "ESTABLISHED", '"Fin" then close()',
                       "FIN_WAIT_2")}
    assert at["connect()"] < at["SYN (inferred)"] < at["ESTABLISHED"]
    assert at['"Fin" then close()'] < at["FIN_WAIT_2"]
    # The server stops first: the client's CLOSE_WAIT (its effect) stays before the
    # client's own close three seconds later.
    actions = [Action("client-add", T0, 2), Action("server-stop", T0 + 2),
               Action("client-remove", T0 + 5, 2)]
    events = [ServerEvent("accepted", T0 + 0.005, ep(50002), serial=2)]
    trs = [Transition(T0 + 0.01, _client(2, "ESTABLISHED"), None, "ESTABLISHED", None),
           Transition(T0 + 2.01, _client(2, "CLOSE_WAIT"), "ESTABLISHED", "CLOSE_WAIT", 2.0)]
    texts = [e.text for e in ladder_from(2, actions, events, trs, "en")]
    stop, wait = texts.index("server stopped: close()"), texts.index("CLOSE_WAIT")
    assert stop < wait < texts.index('close() without "Fin"'), texts


@pytest.mark.parametrize("lang", ["en", "fr"])
async def test_ladder_on_screen(lang: str) -> None:
    app = LadderHost(lang)
    async with app.run_test(size=(100, 30)) as pilot:
        await drawn(pilot)
        view = app.query_one(LadderView)
        rows = view.lines_text
        fin = '"Fin" then close()' if lang == "en" else "«\u00a0Fin\u00a0» puis close()"
        fin_row = next(r for r in rows if fin in r)
        assert fin_row.rstrip().endswith("▶│") or "▶│" in fin_row  # client -> server
        close_row = next(r for r in rows if "close() (" in r)
        assert "│◀" in close_row  # server -> client
        inferred = "(inferred)" if lang == "en" else "(déduit)"
        for seg in ("SYN", "SYN+ACK", "FIN"):
            assert any(f"{seg} {inferred}" in r for r in rows)
        # peer text shown literally, markup and all
        quoted = f"\"{MARKUP}\"" if lang == "en" else f"«\u00a0{MARKUP}\u00a0»"
        assert any(quoted in r for r in rows)
        # each side's states in order, on its own side of the lanes
        lane_l = rows[0].index("│")
        lane_r = rows[0].index("│", lane_l + 1)
        left = [r[:lane_l].split()[-1] for r in rows if r[:lane_l].strip().endswith(
            ("ESTABLISHED", "FIN_WAIT_1", "FIN_WAIT_2", "TIME_WAIT"))]
        # Each state follows its family's glyph, so that colour is not the only signal.
        right = [words[1] for r in rows if len(words := r[lane_r + 1:].split()) > 1
                 and words[0] == state_glyph(words[1])]
        assert left == ["ESTABLISHED", "FIN_WAIT_1", "FIN_WAIT_2", "TIME_WAIT"]
        assert all(f"{state_glyph(s)} {s}" in "\n".join(rows) for s in left)
        assert right == ["ESTABLISHED", "CLOSE_WAIT", "LAST_ACK", "CLOSED"]
        # what is on screen is what lines_text says (the newest rows are scrolled into view)
        screen = "\n".join(screen_lines(app))
        assert "TIME_WAIT" in screen and "client 1" in screen
        assert MARKUP in screen


async def test_ladder_styles_inferred_rows_dim() -> None:
    app = LadderHost("en")
    async with app.run_test(size=(100, 30)) as pilot:
        await drawn(pilot)
        lines = screen_lines(app)
        y = next(i for i, line in enumerate(lines) if "SYN+ACK (inferred)" in line)
        x = lines[y].index("SYN+ACK")
        style = style_at(app, x, y)
        assert style.italic and not style.bold
        y = next(i for i, line in enumerate(lines) if "connect()" in line)
        assert style_at(app, lines[y].index("connect()"), y).bold


async def test_ladder_narrow_and_empty() -> None:
    app = LadderHost("fr", client=7)
    async with app.run_test(size=(40, 12)) as pilot:
        await wait_until(pilot, lambda: "Rien encore pour le client 7." in "\n".join(
            screen_lines(app)), "the empty ladder's sentence")
        view = app.query_one(LadderView)
        actions, events, trs = ladder_inputs()
        view.show(ladder_from(1, actions, events, trs, "fr"), client=1)
        for w, h in ((40, 12), (20, 5), (100, 30)):
            await pilot.resize_terminal(w, h)

            def laid_out(w: int = w, h: int = h) -> bool:
                return app.size == (w, h) and view.size.width == w

            await wait_until(pilot, laid_out, f"laid out at {w}x{h}")
        await wait_until(pilot, lambda: any("TIME_WAIT" in r for r in view.lines_text)
                         and "TIME_WAIT" in "\n".join(screen_lines(app)), "the ladder drawn")


async def test_ladder_follows_the_newest_row_unless_scrolled_back() -> None:
    app = LadderHost("en")
    async with app.run_test(size=(100, 10)) as pilot:
        # The end is brought into view once the rows are laid out (a busy machine may
        # take a few refreshes).
        await wait_until(pilot, lambda: "TIME_WAIT" in "\n".join(screen_lines(app)),
                         "the newest row in view", 10)
        scroll = app.query_one("#ladder-scroll")
        scroll.scroll_home(animate=False)
        await wait_until(pilot, lambda: "connect()" in "\n".join(screen_lines(app)),
                         "the first row in view", 10)
        view = app.query_one(LadderView)
        view.show(view.entries)
        # The view's callbacks run in order after the next refresh: once this one has run,
        # a scroll to the end that the show asked for would have run too.
        refreshed: list[bool] = []
        view.call_after_refresh(refreshed.append, True)
        await wait_until(pilot, lambda: refreshed, "a refresh after the show")
        assert scroll.scroll_y == 0
        await drawn(pilot)
        text = "\n".join(screen_lines(app))
        assert "connect()" in text and "TIME_WAIT" not in text


# -- SVG snapshots ------------------------------------------------------------------------


@pytest.mark.parametrize("lang", ["en", "fr"])
def test_diagram_snapshot(snap_compare: SnapCompare, lang: str) -> None:
    assert snap_compare(DiagramHost(lang), terminal_size=(100, 30))


@pytest.mark.parametrize("lang", ["en", "fr"])
def test_ladder_snapshot(snap_compare: SnapCompare, lang: str) -> None:
    assert snap_compare(LadderHost(lang), terminal_size=(100, 30))


def test_diagram_compact_snapshot(snap_compare: SnapCompare) -> None:
    assert snap_compare(DiagramHost("en"), terminal_size=(40, 12))
