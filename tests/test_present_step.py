"""Presentation mode and step-through (pause, step back and forth, return to live)."""

from __future__ import annotations

import time

from app_support import press, press_f9, wait_until
from rich.text import Text
from snapshot_scene import T0, make_scene_app, play_scene, scene_clock
from textual.strip import Strip
from textual.widgets import Static

from tcp_observatory.lab.observe.model import Connection, Endpoint, Role, RoleKind, Transition
from tcp_observatory.tui.app import ObservatoryApp
from tcp_observatory.tui.theme import LATER_STYLE
from tcp_observatory.tui.widgets.banner import Banner
from tcp_observatory.tui.widgets.connections import PRESENT_COLUMNS, format_age


def client1_state(app: ObservatoryApp) -> list[str]:
    return app.table.state_of(lambda c: c.role.client == 1 and not c.role.server_side)


async def test_presentation_mode_writes_the_latest_change_large() -> None:
    """The banner writes the lab's latest change large: its cause and every socket it
    moved. With every connection shown, a browser's sockets change all the time: the
    banner (what the room reads) keeps the lab's last change."""
    app = make_scene_app("en")
    async with app.run_test(size=(100, 30)) as pilot:
        await play_scene(pilot)
        await press(pilot, "f10")
        banner = app.query_one(Banner)
        await wait_until(pilot, lambda: app.views.present and banner.display, "presentation mode")
        lab_caption = ('client 1 sends "Fin" then close(): '
                       "orphaned (client 1): ESTABLISHED -> FIN_WAIT_2 · "
                       "server ↔ client 1: ESTABLISHED -> CLOSE_WAIT")
        assert banner.caption == lab_caption
        assert tuple(str(k.value) for k in app.table.columns) == PRESENT_COLUMNS
        assert not app.query_one("#server").display
        browser = Connection(Endpoint("127.0.0.1", 40000), Endpoint("127.0.0.1", 443),
                             "TIME_WAIT", role=Role(RoleKind.OTHER))
        closing = Transition(time.time(), browser, "ESTABLISHED", "TIME_WAIT", 1.0)
        assert app.views.snapshot is not None
        app.views.show(app.views.snapshot, [closing])
        assert banner.caption == lab_caption
        ours = Connection(Endpoint("127.0.0.1", 40001), Endpoint("127.0.0.1", 9500),
                          "ESTABLISHED", role=Role(RoleKind.CLIENT, client=2))
        app.views.show(app.views.snapshot, [closing, Transition(time.time(), ours, "SYN_SENT",
                                                     "ESTABLISHED", 0.0)])
        assert banner.caption == "client 2: SYN_SENT -> ESTABLISHED"
        await press(pilot, "f10")
        await wait_until(pilot, lambda: not app.views.present and not banner.display,
                         "presentation mode left")
        assert len(app.table.columns) > len(PRESENT_COLUMNS)


async def test_step_back_and_forth_then_return_to_live() -> None:
    app = make_scene_app("en")
    async with app.run_test(size=(160, 48)) as pilot:
        await play_scene(pilot)
        assert len(app.recorder.moments) == 2
        assert client1_state(app) == ["FIN_WAIT_2"]
        # [ does nothing until the view is paused (keys are handled in order: once F7 has
        # paused the view, the [ before it was handled).
        await press(pilot, "left_square_bracket", "f7")
        await wait_until(pilot, lambda: app.recorder.paused, "paused")
        assert app.recorder.step_index is None
        await press(pilot, "left_square_bracket")
        await wait_until(pilot, lambda: app.recorder.step_index == 0, "moment 1")
        assert "moment 1/2" in app.sub_title
        assert client1_state(app) == ["ESTABLISHED"]
        queued = [r for r in app.table.rows_by_key.values() if r.conn.role.kind is RoleKind.QUEUED]
        assert len(queued) == 1
        moments: list[int | None] = []  # where each step key left the view
        step = app.action_step

        def recorded_step(delta: int) -> None:
            step(delta)
            moments.append(app.recorder.step_index)

        app.action_step = recorded_step  # type: ignore[method-assign]
        await press(pilot, "left_square_bracket")  # already at the first moment
        await press(pilot, "right_square_bracket")
        await wait_until(pilot, lambda: len(moments) == 2, "both keys handled")
        assert moments == [0, 1] and client1_state(app) == ["FIN_WAIT_2"]
        await press(pilot, "left_square_bracket")
        await press(pilot, "f7")  # back to live
        await wait_until(pilot, lambda: not app.recorder.paused, "live again")
        assert app.recorder.step_index is None
        assert client1_state(app) == ["FIN_WAIT_2"]
        assert "moment" not in app.sub_title


def ages(app: ObservatoryApp) -> dict[str, str]:
    """Each row's "For" cell as the table shows it, by the row's local address."""
    at = app.table.shown.index("age")
    return {key.partition("|")[0] + ">" + key.partition("|")[2]:
            app.table.get_row(key)[at].plain for key in app.table.rows_by_key}


def card_text(app: ObservatoryApp, n: int) -> tuple[str, str]:
    """Client n's card: its title and its status line, as on screen."""
    card = app.clients_pane.card(n)
    assert card is not None, f"no card for client {n}"
    title = Text.from_markup(str(card.border_title)).plain  # the border keeps it as markup
    return title, str(card.query_one(".client-status", Static).render())


def greyed(strip: Strip) -> bool:
    return all(seg.style is not None and seg.style.color == LATER_STYLE.color
               for seg in strip if seg.text.strip())


async def test_stepping_back_shows_the_moment_on_every_view() -> None:
    """After F7 and [, every view shows the moment stepped to, not the present: time in
    state counted up to that moment, each card's state and last line then, the banner's
    last change then, and the timeline marks the moment and greys what came after."""
    app = make_scene_app("en")
    async with app.run_test(size=(80, 24)) as pilot:  # every column, "For" included
        await play_scene(pilot)
        scene_clock(app).now = T0 + 100  # the present: 90 s after the last change
        await press(pilot, "f7")
        await press(pilot, "left_square_bracket")
        await wait_until(pilot, lambda: app.recorder.step_index == 0, "the first moment")
        first = app.recorder.moments[0][0].time
        assert first == T0
        for key, row in app.table.rows_by_key.items():
            assert row.since <= first
            assert ages(app)[key.replace("|", ">")] == format_age(first - row.since)
        assert set(ages(app).values()) == {"0 s"}  # all of them had just appeared
        assert card_text(app, 1) == ("Client 1 · ESTABLISHED", "⏸ connecting…")
        assert card_text(app, 2) == ("Client 2 · ESTABLISHED", "⏸ connecting…")
        banner = app.query_one(Banner)
        assert banner.caption == "client 2: - -> ESTABLISHED"
        assert "past moment 1/2 (14:13:20.000)" in str(banner.render())
        assert "past moment 1/2 (14:13:20.000)" in str(app.table.border_title)
        timeline = app.timeline
        lines = timeline.shown_text
        mark = timeline.moment_line
        assert mark is not None and lines[mark].startswith("◀ past moment 1/2 (14:13:20.000)")
        assert all(line.startswith("14:13:20.000") for line in lines[:mark])
        assert all(greyed(strip) for strip in timeline.drawn()[mark + 1:])
        assert not any(greyed(strip) for strip in timeline.drawn()[:mark])
        assert any("Fin" in line for line in lines[mark + 1:])  # the later events, greyed
        await wait_until(pilot, lambda: timeline.scroll_y <= mark
                         < timeline.scroll_y + timeline.scrollable_content_region.height,
                         "the moment's line in view")
        # ] : the second moment, ten seconds later.
        await press(pilot, "right_square_bracket")
        await wait_until(pilot, lambda: app.recorder.step_index == 1, "the second moment")
        assert ages(app)["127.0.0.1:9500>0.0.0.0:0"] == "10 s"  # listening since T0
        assert ages(app)["127.0.0.1:9500>127.0.0.1:50001"] == "0 s"  # CLOSE_WAIT, new
        assert card_text(app, 1) == ("Client 1 · FIN_WAIT_2", '⏸ "Fin" sent, socket closed')
        assert banner.caption == "orphaned (client 1): FIN_WAIT_1 -> FIN_WAIT_2"
        # F7: the present again, on every view.
        await press(pilot, "f7")
        await wait_until(pilot, lambda: not app.recorder.paused, "the present")
        assert ages(app)["127.0.0.1:9500>0.0.0.0:0"] == "1 min 40"
        assert ages(app)["127.0.0.1:9500>127.0.0.1:50001"] == "1 min 30"
        assert card_text(app, 1) == ("Client 1 · FIN_WAIT_2", '"Fin" sent, socket closed')
        assert timeline.moment_line is None
        assert not any("past moment" in line for line in timeline.shown_text)
        assert not any(greyed(strip) for strip in timeline.drawn())
        assert "past moment" not in str(banner.render()) + str(app.table.border_title)


async def test_views_cycle_and_follow_the_step_through() -> None:
    from tcp_observatory.tui.widgets.diagram import StateDiagram
    from tcp_observatory.tui.widgets.ladder import LadderView

    app = make_scene_app("en")
    async with app.run_test(size=(160, 48)) as pilot:
        await play_scene(pilot)
        await press_f9(pilot)
        assert app.views.view == "diagram"
        diagram = app.query_one(StateDiagram)
        by_state = {m.state: m.label for m in diagram.markers}
        assert by_state["FIN_WAIT_2"] == "orphaned (client 1)"
        assert by_state["CLOSE_WAIT"] == "server ↔ client 1"
        # Step back: the diagram shows the moment before "Fin".
        await press(pilot, "f7")
        await press(pilot, "left_square_bracket")
        await wait_until(pilot, lambda: app.recorder.step_index == 0, "moment 1")
        states = {m.label: m.state for m in diagram.markers}
        assert states["client 1"] == "ESTABLISHED"
        await press(pilot, "f7")
        await press_f9(pilot)
        assert app.views.view == "ladder"
        assert not app.recorder.paused
        ladder = app.query_one(LadderView)
        text = "\n".join(ladder.lines_text)
        assert '"Fin" then close()' in text and "FIN_WAIT_2" in text and "(inferred)" in text
        assert "client 1" in str(ladder.border_title)
        await press(pilot, "f9")
        await wait_until(pilot, lambda: app.views.view == "connections", "the connections")


async def test_keyboard_sort_by_state_and_back_to_the_lab_order() -> None:
    app = make_scene_app("en")
    async with app.run_test(size=(160, 48)) as pilot:
        await play_scene(pilot)
        app.table.focus()

        def column(name: str) -> list[str]:
            i = app.table.shown.index(name)
            return [app.table.get_row_at(r)[i].plain for r in range(app.table.row_count)]

        lab_order = column("role")
        assert lab_order[0] == "server (listening)"
        await wait_until(pilot, lambda: app.table.has_focus, "the table focused")
        for _ in range(app.table.shown.index("state") + 1):
            await press(pilot, "s")
        await wait_until(pilot, lambda: column("state") == sorted(column("state"))
                         and column("role") != lab_order, "sorted by state")
        await press(pilot, "S")
        await wait_until(pilot, lambda: column("state") == sorted(column("state"), reverse=True)
                         and column("state") != sorted(column("state")), "reversed")
        for _ in range(len(app.table.shown) - app.table.shown.index("state")):
            await press(pilot, "s")
        await wait_until(pilot, lambda: column("role") == lab_order, "the lab's order again")


def test_recorded_moments_stay_within_their_row_budget() -> None:
    from tcp_observatory.lab.observe.model import Connection, Endpoint, Snapshot, Transition
    from tcp_observatory.tui import stepthrough as app_module

    app = make_scene_app("en")
    rows = tuple(Connection(Endpoint("127.0.0.1", 10000 + i), Endpoint("127.0.0.1", 9500),
                            "TIME_WAIT") for i in range(5000))
    for i in range(100):
        snap = Snapshot(float(i), rows, "test")
        app.recorder.record(snap, [Transition(float(i), rows[0], None, "TIME_WAIT", None)])
    kept = sum(len(s.connections) for s, _ in app.recorder.moments)
    assert kept <= app_module.MAX_MOMENT_ROWS and app.recorder.moments[-1][0].time == 99.0
