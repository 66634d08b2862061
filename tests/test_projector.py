"""The instructor's projector (issue 24): the diagram at 80x24 and 100x30, one event with
both its ends on the banner, the app saying why a state lingers, and French as written."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
from app_support import (
    app_of,
    drawn,
    make_app,
    press,
    press_f9,
    screen_cells,
    view_drawn,
    wait_until,
)
from rich.style import Style
from snapshot_scene import T0, make_scene_app, play_scene, scene_clock
from support import conn, ss_agrees
from textual.pilot import Pilot

from tcp_observatory.lab.guide.evidence import check_evidence
from tcp_observatory.lab.observe.model import ALL_STATES, Endpoint, RoleKind
from tcp_observatory.tui.app import ObservatoryApp
from tcp_observatory.tui.theme import state_glyph, state_style
from tcp_observatory.tui.widgets.banner import Banner
from tcp_observatory.tui.widgets.diagram import StateDiagram
from tcp_observatory.tui.widgets.pane_log import PaneLog
from tcp_observatory.tui.widgets.steps_panel import StepsPanel
from tcp_observatory.tui.widgets.timeline import Timeline
from tcp_observatory.tui.widgets.why import WhyLine

PROJECTOR = [(80, 24), (100, 30)]
ORPHAN = {"en": "orphaned (client 1)", "fr": "orphelin (client 1)"}
SERVING = {"en": "server ↔ client 1", "fr": "serveur ↔ client 1"}
LISTENING = {"en": "server (listening)", "fr": "serveur (écoute)"}


def diagram_cells(app: ObservatoryApp) -> list[list[tuple[str, Style]]]:
    """The diagram's own cells (inside its frame)."""
    r = app.query_one(StateDiagram).content_region
    return [row[r.x:r.right] for row in screen_cells(app)[r.y:r.bottom]]


def find_label(lines: list[str], state: str, *, last: bool = False) -> tuple[int, int]:
    """(row, column) of a state's label, its glyph then its name."""
    label = f"{state_glyph(state)} {state}"
    found = [(y, line.find(label)) for y, line in enumerate(lines) if label in line]
    assert found, f"no {label!r} in:\n" + "\n".join(lines)
    return found[-1] if last else found[0]


async def _scene_on_diagram(pilot: Pilot[Any], present: bool) -> None:
    await play_scene(pilot)
    await press_f9(pilot)
    if present:
        await press(pilot, "f10")
        await wait_until(pilot, lambda: view_drawn(app_of(pilot)), "the diagram drawn")
    await drawn(pilot)


# -- 1. the diagram at projector sizes --------------------------------------------------------


@pytest.mark.parametrize("lang", ["fr", "en"])
@pytest.mark.parametrize("present", [False, True], ids=["plain", "present"])
@pytest.mark.parametrize("size", PROJECTOR, ids=["80x24", "100x30"])
async def test_the_diagram_is_drawn_at_projector_sizes(
        size: tuple[int, int], present: bool, lang: str) -> None:
    """RFC 793's eleven states as a figure (not a list), placed as in the RFC's; each live
    connection written on its state; the arrow each took last lit (observed: bold in the
    colour of the state reached; inferred: dotted, hollow head), the others grey."""
    app = make_scene_app(lang)
    async with app.run_test(size=size) as pilot:
        await _scene_on_diagram(pilot, present)
        diagram = app.query_one(StateDiagram)
        assert not diagram.listed and diagram.size.height >= 9
        cells = diagram_cells(app)
    lines = ["".join(ch for ch, _ in row) for row in cells]
    at = {s: find_label(lines, s) for s in ALL_STATES}
    at["END"] = find_label(lines, "CLOSED", last=True)
    assert at["END"] != at["CLOSED"]  # CLOSED where lives start, and where they end
    row = {s: y for s, (y, _x) in at.items()}
    col = {s: x for s, (_y, x) in at.items()}
    # The RFC's figure: five rows of states, the active side left, the passive right.
    assert row["SYN_SENT"] == row["CLOSED"] == row["LISTEN"] < row["ESTABLISHED"]
    assert row["ESTABLISHED"] == row["SYN_RECEIVED"] < row["FIN_WAIT_1"] == row["CLOSE_WAIT"]
    assert row["FIN_WAIT_1"] < row["FIN_WAIT_2"] == row["CLOSING"] == row["LAST_ACK"]
    assert row["FIN_WAIT_2"] < row["TIME_WAIT"] == row["END"]
    assert col["SYN_SENT"] < col["CLOSED"] < col["LISTEN"]
    assert col["FIN_WAIT_1"] == col["FIN_WAIT_2"] == col["TIME_WAIT"] < col["CLOSING"]
    assert col["CLOSING"] < col["CLOSE_WAIT"] == col["LAST_ACK"] == col["END"]

    def written_by(state: str, text: str) -> bool:
        """``text`` beside the state's label, or under it before the next row of states."""
        y, x = at[state]
        below = [r for r in row.values() if r > y]
        stop = min(below) if below else len(lines)
        return any(text in line[x:] for line in lines[y:stop])

    assert written_by("FIN_WAIT_2", ORPHAN[lang])
    assert written_by("CLOSE_WAIT", SERVING[lang])
    assert written_by("LISTEN", LISTENING[lang][:6])
    # ESTABLISHED's connections are written above it, where nothing else is.
    above = lines[row["CLOSED"] + 1:row["ESTABLISHED"]]
    assert any("client 2" in line for line in above)
    # A state with a connection is lit (on its colour); one without is not.
    for state in ("FIN_WAIT_2", "CLOSE_WAIT", "ESTABLISHED", "LISTEN"):
        y, x = at[state]
        assert cells[y][x + 2][1].bgcolor == state_style(state).color, state
    y, x = at["CLOSING"]
    assert cells[y][x + 2][1].bgcolor != state_style("CLOSING").color

    def head(state: str) -> tuple[str, Style]:
        """The arrowhead right above a state's label (every downward arrow ends there)."""
        y, x = at[state]
        return cells[y - 1][x]

    ch, style = head("FIN_WAIT_2")  # FIN_WAIT_1 -> FIN_WAIT_2: observed
    assert ch == "▼" and style.bold and style.color == state_style("FIN_WAIT_2").color
    ch, style = head("CLOSE_WAIT")  # ESTABLISHED -> CLOSE_WAIT: observed
    assert ch == "▼" and style.bold and style.color == state_style("CLOSE_WAIT").color
    ch, style = head("FIN_WAIT_1")  # ESTABLISHED -> FIN_WAIT_1: inferred
    assert ch == "▽" and not style.bold
    ch, style = head("LAST_ACK")  # nobody went there
    assert ch == "▼" and not style.bold and style.color != state_style("LAST_ACK").color
    # The legend is on the frame: no row of the figure is spent on it.
    legend = "inferred, not observed" if lang == "en" else "déduit, non observé"
    assert legend in str(diagram.border_subtitle)


# -- 2. one event, both ends -------------------------------------------------------------------


@pytest.mark.parametrize("lang", ["fr", "en"])
@pytest.mark.parametrize("size", [*PROJECTOR, (160, 48)], ids=["80x24", "100x30", "160x48"])
async def test_the_banner_tells_every_socket_the_event_moved(
        size: tuple[int, int], lang: str) -> None:
    """After "Fin": the client's end to FIN_WAIT_2 and the server's to CLOSE_WAIT, both on
    the banner, after what caused them."""
    app = make_scene_app(lang)
    async with app.run_test(size=size) as pilot:
        await _scene_on_diagram(pilot, True)
        banner = app.query_one(Banner)
        shown = str(banner.render())
    fin = 'client 1 sends "Fin"' if lang == "en" else "client 1 envoie «\u00a0Fin\u00a0»"
    assert fin in shown
    for who, state in ((ORPHAN[lang], "FIN_WAIT_2"), (SERVING[lang], "CLOSE_WAIT")):
        assert who in shown and f"{state_glyph(state)} {state}" in shown
    assert shown.index(fin) < shown.index(ORPHAN[lang]) < shown.index(SERVING[lang])
    assert [tr.to_state for tr in banner.moved] == ["FIN_WAIT_2", "CLOSE_WAIT"]


async def _send(pilot: Pilot[Any], text: str) -> None:
    await press(pilot, *[ch if ch != " " else "space" for ch in text])
    await press(pilot, "enter")


@pytest.mark.needs("system-sockets")
async def test_fin_on_real_sockets_moves_both_ends_in_one_banner() -> None:
    """The handout's single server, a real "Fin": the banner ends up telling the client's
    FIN_WAIT_2 and the server's CLOSE_WAIT together (as ss sees them), under the cause."""
    app = make_app(clients=1, present=True)
    async with app.run_test(size=(100, 30)) as pilot:
        port = app.session.port
        client = app.session.clients[1]
        await wait_until(pilot, lambda: client.local is not None
                         and app.table.state_of(lambda c: c.role.server_side) == ["ESTABLISHED"],
                         "client 1 served")
        await _send(pilot, "Fin")
        banner = app.query_one(Banner)

        def told() -> list[str]:
            return sorted(tr.to_state for tr in banner.moved)

        await wait_until(pilot, lambda: told() == ["CLOSE_WAIT", "FIN_WAIT_2"],
                         "both ends on the banner")
        assert banner.caption.startswith('client 1 sends "Fin" then close():')
        local = client.local
        assert local is not None
        ss_agrees(port, Endpoint("127.0.0.1", port), local, "CLOSE_WAIT")
        ss_agrees(port, local, Endpoint("127.0.0.1", port), "FIN_WAIT_2")
        await press(pilot, "ctrl+q")


# -- 3. the app says why -----------------------------------------------------------------------


@pytest.mark.parametrize("lang", ["fr", "en"])
async def test_the_why_line_says_why_and_follows_the_selected_row(lang: str) -> None:
    """On the diagram: first the orphan's sentence; once the server's CLOSE_WAIT has lasted
    a few seconds, its sentence (the program holding it, close() never called). In the
    table, a row one selects gets its own sentence."""
    app = make_scene_app(lang)
    async with app.run_test(size=(100, 30)) as pilot:
        await _scene_on_diagram(pilot, False)
        why = app.query_one(WhyLine)
        assert why.display and why.state == "FIN_WAIT_2"
        assert ORPHAN[lang] in why.shown and "FIN_WAIT_2" in why.shown
        scene_clock(app).now = T0 + 40.5
        app._tick()
        await drawn(pilot)
        assert why.state == "CLOSE_WAIT"
        text = why.shown
        assert SERVING[lang] in text and "python3" in text and "close()" in text
        assert "listing 2" in text and "30" in text  # in CLOSE_WAIT since T0 + 10
        # The connections view: a small window gives the line to the row one selects.
        await press(pilot, "f9", "f9")
        await drawn(pilot)
        assert not why.display
        app.table.focus()
        queued = next(i for i, r in enumerate(app.table.ordered_rows)
                      if app.table.rows_by_key[str(r.key.value)].conn.role.kind
                      is RoleKind.QUEUED)
        app.table.move_cursor(row=queued)
        await drawn(pilot)
        assert why.display and why.state == "ESTABLISHED"
        assert "accept()" in why.shown and "python3" in why.shown


@pytest.mark.needs("system-sockets")
async def test_a_close_wait_held_open_on_real_sockets_is_explained() -> None:
    """The handout's server never calls close() after "Fin": a few seconds later the app
    says so, naming the program that holds the socket, while ss shows the CLOSE_WAIT."""
    import psutil

    app = make_app(clients=1, view="diagram")
    async with app.run_test(size=(100, 30)) as pilot:
        port = app.session.port
        client = app.session.clients[1]
        await wait_until(pilot, lambda: client.local is not None
                         and app.table.state_of(lambda c: c.role.server_side) == ["ESTABLISHED"],
                         "client 1 served")
        await _send(pilot, "Fin")
        why = app.query_one(WhyLine)
        await wait_until(pilot, lambda: why.state == "CLOSE_WAIT", "the CLOSE_WAIT told")
        assert psutil.Process().name() in why.shown and "close()" in why.shown
        ss_agrees(port, Endpoint("127.0.0.1", port), client.local, "CLOSE_WAIT")
        await press(pilot, "ctrl+q")


# -- 5. French as written ----------------------------------------------------------------------


async def test_french_durations_and_whole_lines() -> None:
    """In French the timeline writes "10,00 s"; shrunk from 160x48 to 100x30, the server's
    first log line is wrapped again, whole, and a timeline line cut at the edge ends "…"."""
    app = make_scene_app("fr")
    async with app.run_test(size=(160, 48)) as pilot:
        await play_scene(pilot)
        text = "\n".join(app.timeline.lines_text)
        assert "10,00\u00a0s" in text and "10.00" not in text
        await pilot.resize_terminal(100, 30)
        for _ in range(20):  # until the new widths are laid out and the lines written again
            await pilot.pause(0.05)
            log = app.query_one("#server-log", PaneLog)
            if max(s.cell_length for s in log.lines) <= log.scrollable_content_region.width:
                break
        log = app.query_one("#server-log", PaneLog)
        width = log.scrollable_content_region.width
        rendered = [s.text.rstrip() for s in log.lines]
        assert all(len(line) <= width for line in rendered)
        first = "14:13:20 Connexion de la machine 127.0.0.1:50001"
        assert first in " ".join(rendered) or first.replace(" 127", "\n127") in "\n".join(
            rendered)
        timeline = app.query_one(Timeline)
        lines = [s.text.rstrip() for s in timeline.lines]
        cut = [line for line in lines if "127.0.0.1:9500 → 127.0.0.1:50001" not in line
               and "CLOSE_WAIT" in line]
        assert cut and all(line.endswith("…") for line in cut)
        room = timeline.scrollable_content_region.width
        assert all(len(line) <= room for line in lines)


def test_no_tick_before_its_event() -> None:
    """p1-q3 before any client waits: "nothing received from the waiting client" is not
    ticked (it was, as "(?)"); once one waits, it is, naming it."""
    for lang in ("fr", "en"):
        ev = check_evidence("p1-q3", [], [], "single", port=9500, lang=lang)
        assert not any("(?)" in fact for fact in ev.found), ev.found
    rows = [
        conn(9500, None, "LISTEN", RoleKind.LISTENER),
        conn(9500, 50002, "ESTABLISHED", RoleKind.QUEUED, 2, server_side=True, recv_q=0),
        conn(50002, 9500, "ESTABLISHED", RoleKind.CLIENT, 2, pid=1),
    ]
    ev = check_evidence("p1-q3", rows, [], "single", port=9500, lang="en")
    assert "Nothing was received from the waiting client (2)" in ev.found


async def test_the_steps_panel_ticks_nothing_before_it_happened() -> None:
    app = make_scene_app("fr")
    async with app.run_test(size=(160, 48)) as pilot:
        await press(pilot, "ctrl+n", "ctrl+n", "f1")  # p1-q3, nothing done yet
        for _ in range(20):
            await pilot.pause(0.05)
            if app.step_id == "p1-q3":
                break
        panel = app.query_one(StepsPanel)
        assert panel.step_id == "p1-q3"
        shown = str(panel.query_one("#step-evidence").render())
        assert not any("✓" in line and "(?)" in line for line in shown.splitlines())


async def test_the_why_line_is_never_cut_without_a_mark() -> None:
    """A sentence longer than the rows allowed ends with "…"."""
    app = make_scene_app("en")
    async with app.run_test(size=(60, 24)) as pilot:
        await _scene_on_diagram(pilot, False)
        why = app.query_one(WhyLine)
        why.set_max_lines(1)
        await drawn(pilot)
        assert why.shown.endswith("…") and why.size.height == 1
    await asyncio.sleep(0)
