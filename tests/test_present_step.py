"""Presentation mode and step-through (pause, step back and forth, return to live)."""

from __future__ import annotations

import time

from snapshot_scene import make_scene_app, play_scene

from lab.observe.model import Connection, Endpoint, Role, RoleKind, Transition
from tui.widgets.banner import Banner
from tui.widgets.connections import PRESENT_COLUMNS


def client1_state(app) -> list[str]:
    return app.table.state_of(lambda c: c.role.client == 1 and not c.role.server_side)


async def test_presentation_mode_writes_the_latest_change_large() -> None:
    """The banner writes the lab's latest change large: its cause and every socket it
    moved. With every connection shown, a browser's sockets change all the time: the
    banner (what the room reads) keeps the lab's last change."""
    app = make_scene_app("en")
    async with app.run_test(size=(100, 30)) as pilot:
        await play_scene(pilot)
        await pilot.press("f10")
        await pilot.pause()
        banner = app.query_one(Banner)
        lab_caption = ('client 1 sends "Fin" then close(): '
                       "orphaned (client 1): ESTABLISHED -> FIN_WAIT_2 · "
                       "server ↔ client 1: ESTABLISHED -> CLOSE_WAIT")
        assert banner.display and banner.caption == lab_caption
        assert tuple(str(k.value) for k in app.table.columns) == PRESENT_COLUMNS
        assert not app.query_one("#server").display
        browser = Connection(Endpoint("127.0.0.1", 40000), Endpoint("127.0.0.1", 443),
                             "TIME_WAIT", role=Role(RoleKind.OTHER))
        closing = Transition(time.time(), browser, "ESTABLISHED", "TIME_WAIT", 1.0)
        app._show(app.snapshot, [closing])
        assert banner.caption == lab_caption
        ours = Connection(Endpoint("127.0.0.1", 40001), Endpoint("127.0.0.1", 9500),
                          "ESTABLISHED", role=Role(RoleKind.CLIENT, client=2))
        app._show(app.snapshot, [closing, Transition(time.time(), ours, "SYN_SENT",
                                                     "ESTABLISHED", 0.0)])
        assert banner.caption == "client 2: SYN_SENT -> ESTABLISHED"
        await pilot.press("f10")
        await pilot.pause()
        assert not app.query_one(Banner).display
        assert len(app.table.columns) > len(PRESENT_COLUMNS)


async def test_step_back_and_forth_then_return_to_live() -> None:
    app = make_scene_app("en")
    async with app.run_test(size=(160, 48)) as pilot:
        await play_scene(pilot)
        assert len(app.moments) == 2
        assert client1_state(app) == ["FIN_WAIT_2"]
        # [ does nothing until the view is paused.
        await pilot.press("left_square_bracket")
        assert app.step_index is None
        await pilot.press("f7")
        await pilot.press("left_square_bracket")
        assert app.step_index == 0 and "moment 1/2" in app.sub_title
        assert client1_state(app) == ["ESTABLISHED"]
        queued = [r for r in app.table.rows_by_key.values() if r.conn.role.kind is RoleKind.QUEUED]
        assert len(queued) == 1
        await pilot.press("left_square_bracket")  # already at the first moment
        assert app.step_index == 0
        await pilot.press("right_square_bracket")
        assert app.step_index == 1 and client1_state(app) == ["FIN_WAIT_2"]
        await pilot.press("left_square_bracket")
        await pilot.press("f7")  # back to live
        assert app.step_index is None and not app.paused
        assert client1_state(app) == ["FIN_WAIT_2"]
        assert "moment" not in app.sub_title


async def test_views_cycle_and_follow_the_step_through() -> None:
    from tui.widgets.diagram import StateDiagram
    from tui.widgets.ladder import LadderView

    app = make_scene_app("en")
    async with app.run_test(size=(160, 48)) as pilot:
        await play_scene(pilot)
        await pilot.press("f9")
        assert app.view == "diagram"
        diagram = app.query_one(StateDiagram)
        by_state = {m.state: m.label for m in diagram.markers}
        assert by_state["FIN_WAIT_2"] == "orphaned (client 1)"
        assert by_state["CLOSE_WAIT"] == "server ↔ client 1"
        # Step back: the diagram shows the moment before "Fin".
        await pilot.press("f7")
        await pilot.press("left_square_bracket")
        states = {m.label: m.state for m in diagram.markers}
        assert states["client 1"] == "ESTABLISHED"
        await pilot.press("f7")
        await pilot.press("f9")
        assert app.view == "ladder"
        ladder = app.query_one(LadderView)
        text = "\n".join(ladder.lines_text)
        assert '"Fin" then close()' in text and "FIN_WAIT_2" in text and "(inferred)" in text
        assert "client 1" in str(ladder.border_title)
        await pilot.press("f9")
        assert app.view == "connections"


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
        for _ in range(app.table.shown.index("state") + 1):
            await pilot.press("s")
        assert column("state") == sorted(column("state"))
        await pilot.press("S")
        assert column("state") == sorted(column("state"), reverse=True)
        for _ in range(len(app.table.shown) - app.table.shown.index("state")):
            await pilot.press("s")
        assert column("role") == lab_order


def test_recorded_moments_stay_within_their_row_budget() -> None:
    from lab.observe.model import Connection, Endpoint, Snapshot, Transition
    from tui import stepthrough as app_module

    app = make_scene_app("en")
    rows = tuple(Connection(Endpoint("127.0.0.1", 10000 + i), Endpoint("127.0.0.1", 9500),
                            "TIME_WAIT") for i in range(5000))
    for i in range(100):
        snap = Snapshot(float(i), rows, "test")
        app._record_moment(snap, [Transition(float(i), rows[0], None, "TIME_WAIT", None)])
    kept = sum(len(s.connections) for s, _ in app.moments)
    assert kept <= app_module.MAX_MOMENT_ROWS and app.moments[-1][0].time == 99.0
