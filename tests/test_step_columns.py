"""The columns a step reads stay in view with the steps panel open (F1), at 160x48 and
80x24: the table gives up what the step does not read first, never the state."""

from __future__ import annotations

import pytest
from app_support import wait_until
from snapshot_scene import make_scene_app, play_scene

from lab.guide.steps import STEP_IDS, get_step
from tui.app import ObservatoryApp
from tui.widgets.connections import ConnectionsTable
from tui.widgets.steps_panel import StepsPanel

ALWAYS = ("local", "remote", "state")


def whole_in_view(table: ConnectionsTable) -> list[str]:
    """The columns whose every cell is in the table's view, from its own geometry: each
    column's x and width against the horizontal scroll and the region's width."""
    left = table.scroll_x
    right = left + table.scrollable_content_region.width
    x, whole = 0, []
    for key, column in table.columns.items():
        width = column.get_render_width(table)
        if left <= x and x + width <= right:
            whole.append(str(key.value))
        x += width
    return whole


def must_be_whole(app: ObservatoryApp, step_id: str) -> tuple[str, ...]:
    """At 160x48 every column the step reads; at 80x24 (too narrow for them all on one
    line) the addresses, the state and the column its question asks about."""
    step = get_step(step_id)
    need = (*ALWAYS, *step.reads) if app.size.width >= 110 else (*ALWAYS, *step.asks)
    return tuple(dict.fromkeys(need))


@pytest.mark.parametrize("lang", ["fr", "en"])
@pytest.mark.parametrize("size", [(160, 48), (80, 24)], ids=["160x48", "80x24"])
async def test_every_step_keeps_its_columns_in_view_with_the_panel_open(
        size: tuple[int, int], lang: str) -> None:
    app = make_scene_app(lang)
    async with app.run_test(size=size) as pilot:
        await play_scene(pilot)
        await pilot.press("f1")
        panel = app.query_one(StepsPanel)
        table = app.table
        for i, step_id in enumerate(STEP_IDS):
            if i:
                await pilot.press("ctrl+n")
            step = get_step(step_id)
            need = must_be_whole(app, step_id)

            def in_view(step_id: str = step_id, need: tuple[str, ...] = need) -> bool:
                return (panel.step_id == step_id and panel.display
                        and set(need) <= set(whole_in_view(table)))

            await wait_until(pilot, in_view,
                             f"{step_id}'s columns {need} whole in view at {size}")
            await pilot.pause()
            shown = table.shown
            assert in_view(), (step_id, shown, whole_in_view(table))
            assert set(step.reads) <= set(shown), (step_id, shown)
            if size == (80, 24):
                # Too narrow for them all: the table scrolls sideways, the columns the
                # step reads first, those it does not after them (Proto last).
                read_at = [shown.index(c) for c in step.reads]
                others_at = [shown.index(c) for c in shown if c not in step.reads]
                assert max(read_at) < min(others_at), (step_id, shown)
                assert shown[-1] == "proto"
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
        await pilot.press("f1")
        panel = app.query_one(StepsPanel)
        await wait_until(pilot, lambda: panel.region.area > 0, "the panel on screen")
        assert panel.region.width == 80 and panel.region.y > app.table.region.y
        assert app.table.region.width == before.width  # the table kept its width
        assert app.query_one("#timeline").region.overlaps(panel.region)
        await pilot.press("f1")
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
        table, right = app.table, app.query_one("#right")
        for i, step_id in enumerate(STEP_IDS):
            if i:
                await pilot.press("ctrl+n")
            need = must_be_whole(app, step_id)

            def in_view(step_id: str = step_id, need: tuple[str, ...] = need) -> bool:
                return app.step_id == step_id and set(need) <= set(whole_in_view(table))

            await wait_until(pilot, in_view, f"{step_id}'s columns {need} whole in view")
            await pilot.pause()
            assert set(need) <= set(whole_in_view(table)), (step_id, table.shown)
            # Side by side: the server and clients to the right of the table.
            assert right.region.x >= table.region.right and right.region.width >= 30
