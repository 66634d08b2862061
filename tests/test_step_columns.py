"""The columns a step reads stay in view with the steps panel open (F1), at 160x48 and
80x24: the table gives up what the step does not read first, never the state; at 80x24
the addresses share a column, and so do the role and the process (rows of two lines)."""

from __future__ import annotations

import pytest
from app_support import drawn, press, table_app, wait_until, whole_in_view
from snapshot_scene import make_scene_app, play_scene
from support import ConnFields, conn

from tcp_observatory.lab.guide.steps import STEP_IDS, get_step
from tcp_observatory.tui.app import ObservatoryApp
from tcp_observatory.tui.widgets.connections import parts
from tcp_observatory.tui.widgets.steps_panel import StepsPanel

ALWAYS = ("local", "remote", "state")


def must_be_whole(app: ObservatoryApp, step_id: str) -> tuple[str, ...]:
    """At 160x48 as at 80x24: the addresses, the state and every column the step reads."""
    return tuple(dict.fromkeys((*ALWAYS, *get_step(step_id).reads)))


@pytest.mark.parametrize("lang", ["fr", "en"])
@pytest.mark.parametrize("size", [(160, 48), (80, 24)], ids=["160x48", "80x24"])
async def test_every_step_keeps_its_columns_in_view_with_the_panel_open(
        size: tuple[int, int], lang: str) -> None:
    app = make_scene_app(lang)
    async with app.run_test(size=size) as pilot:
        await play_scene(pilot)
        await press(pilot, "f1")
        panel = app.query_one(StepsPanel)
        table = app.table
        for i, step_id in enumerate(STEP_IDS):
            if i:
                await press(pilot, "ctrl+n")
            step = get_step(step_id)
            need = must_be_whole(app, step_id)

            def in_view(step_id: str = step_id, need: tuple[str, ...] = need) -> bool:
                return (panel.step_id == step_id and panel.display
                        and set(need) <= set(whole_in_view(table)))

            await wait_until(pilot, in_view,
                             f"{step_id}'s columns {need} whole in view at {size}")
            await drawn(pilot)
            shown = table.shown
            assert in_view(), (step_id, shown, whole_in_view(table))
            assert set(step.reads) <= set(parts(shown)), (step_id, shown)
            if size == (80, 24):
                # Too narrow for them side by side: rows of two lines, the columns the step
                # reads first, nothing cut at the edge and no sideways scroll.
                assert shown[:2] == ("addresses", "state") and "who" in shown, shown
                assert table.line_height == 2
                flat = parts(shown)
                read_at = [flat.index(c) for c in step.reads]
                others_at = [flat.index(c) for c in flat if c not in step.reads]
                assert not others_at or max(read_at) < min(others_at), (step_id, shown)
                assert not table.overflows() and table.scroll_x == 0, (step_id, shown)
                # Three connections (a listener, a server end, a client) in view at once.
                assert table.scrollable_content_region.height - table.header_height >= 6
            # The panel is on screen and the table is not under it.
            assert panel.region.area > 0
            assert not panel.region.overlaps(table.region), (panel.region, table.region)


async def test_at_80x24_the_panel_lies_over_the_panes_and_f1_takes_it_away() -> None:
    """At 80x24 the panel does not take the panes' width (it lies over their lower half),
    and F1 takes it away, giving the panes back."""
    app = make_scene_app("fr")
    async with app.run_test(size=(80, 24)) as pilot:
        await play_scene(pilot)
        before = app.table.region
        await press(pilot, "f1")
        panel = app.query_one(StepsPanel)
        await wait_until(pilot, lambda: panel.region.area > 0, "the panel on screen")
        assert panel.region.width == 80 and panel.region.y > app.table.region.y
        assert app.table.region.width == before.width  # the table kept its width
        assert app.query_one("#timeline").region.overlaps(panel.region)
        await press(pilot, "f1")
        await wait_until(pilot, lambda: panel.region.area == 0, "the panel gone")


@pytest.mark.parametrize("lang", ["fr", "en"])
async def test_without_the_panel_the_panes_stay_beside_the_table_and_make_room(
        lang: str) -> None:
    """At 160x48 without the panel, the server and clients stay beside the table; where
    the step's columns need it (p2-fin's timer), their column narrows rather than the
    table dropping a column the step reads."""
    app = make_scene_app(lang)
    async with app.run_test(size=(160, 48)) as pilot:
        await play_scene(pilot)
        table, right = app.table, app.query_one("#server")  # (#right itself is not drawn)
        for i, step_id in enumerate(STEP_IDS):
            if i:
                await press(pilot, "ctrl+n")
            need = must_be_whole(app, step_id)

            def in_view(step_id: str = step_id, need: tuple[str, ...] = need) -> bool:
                return app.step_id == step_id and set(need) <= set(whole_in_view(table))

            await wait_until(pilot, in_view, f"{step_id}'s columns {need} whole in view")
            await drawn(pilot)
            assert set(need) <= set(whole_in_view(table)), (step_id, table.shown)
            # Side by side: the server and clients to the right of the table.
            assert right.region.x >= table.region.right and right.region.width >= 30


@pytest.mark.parametrize("lang", ["fr", "en"])
async def test_at_80_columns_the_widest_lab_rows_still_leave_room_for_what_a_step_reads(
        lang: str) -> None:
    """The longest cells a lab shows (a client numbered 12, an orphaned server end from an
    earlier step with its mark, a 7-digit pid, a timer, an IPv4 ephemeral port): stacked,
    every step's columns fit 80 columns, the scrollbar's cell kept (walks at 80x24 found a
    Recv/Send-Q and a timer pushed out by such rows)."""
    from tcp_observatory.lab.observe.model import RoleKind, Snapshot
    from tcp_observatory.tui.widgets.connections import (
        COLUMNS,
        STACKED_SCROLLBAR,
        row_key,
        scroll_order,
        stack,
    )

    big: ConnFields = {"pid": 4194303, "process": "tcp-observatory", "recv_q": 0, "send_q": 0}
    rows = (
        conn(9500, None, "LISTEN", RoleKind.LISTENER, **big),
        conn(9500, 65012, "ESTABLISHED", RoleKind.QUEUED, 12, server_side=True, **big),
        conn(9500, 65011, "TIME_WAIT", RoleKind.ORPHANED, 11, server_side=True,
             timer="timewait", timer_left=59.0),
        conn(65011, 9500, "FIN_WAIT_2", RoleKind.ORPHANED, 11, timer="timewait",
             timer_left=59.0),
        conn(65012, 9500, "ESTABLISHED", RoleKind.CLIENT, 12, **big),
    )

    app = table_app(lambda: 1000.0, lang)
    async with app.run_test(size=(80, 24)) as pilot:
        table = app.table
        table.apply(Snapshot(1000.0, rows, "test", seq=1, changed=rows, gone=()))
        table.set_earlier(frozenset(c.key for c in rows[2:4]))
        await drawn(pilot)
        width = 78 - STACKED_SCROLLBAR  # 80 columns, less the table's border
        for step_id in STEP_IDS:
            step = get_step(step_id)
            reads = tuple(dict.fromkeys((*ALWAYS, *step.reads)))
            order = scroll_order(COLUMNS, reads, step.asks)
            assert table.needed(reads) > width, step_id  # too wide on one line
            table.fit(width, stack(order), stack(reads), stack(step.asks))
            assert set(reads) <= set(parts(table.shown)), (step_id, table.shown)
            assert table.needed(table.shown) <= width, (step_id, table.shown,
                                                        table.needed(table.shown))
        assert row_key(rows[2]) in table.rows_by_key
