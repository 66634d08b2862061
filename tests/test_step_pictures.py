"""Each step's picture tells its story alone: the rows of its scene, every column its
question reads, complete, at 80x24 as at 160x48 (issue: "the picture holds its evidence").

The scenes are fixed (same rows and times on every run), so the SVG snapshots can be
compared; the assertions read the exported SVG's text as a grader's ``verify`` does.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

import pytest
from app_support import SnapCompare, app_of, drawn, wait_until
from snapshot_scene import PORT, T0, make_scene_app, scene_clock, scene_row
from textual.pilot import Pilot

from tcp_observatory.lab.grading.picture import first_difference, read_table
from tcp_observatory.lab.grading.stamp import squash, svg_text_content
from tcp_observatory.lab.guide.steps import STEP_IDS, get_step
from tcp_observatory.lab.i18n import t
from tcp_observatory.lab.observe.model import Connection, RoleKind, Snapshot, Transition
from tcp_observatory.lab.session import Action

SIZES = [(80, 24), (160, 48)]


LISTEN = scene_row(PORT, None, "LISTEN", RoleKind.LISTENER)
SERVED = scene_row(PORT, 50001, "ESTABLISHED", RoleKind.SERVER, 1, server_side=True)
CLIENT1 = scene_row(50001, PORT, "ESTABLISHED", RoleKind.CLIENT, 1)
# Rows a previous step left: they must not be in the next step's picture.
LEFTOVER = scene_row(50007, PORT, "TIME_WAIT", RoleKind.ORPHANED, 1, pid=None, timer="timewait")

SCENES: dict[str, tuple[Connection, ...]] = {
    "p1-q1": (LISTEN, SERVED, CLIENT1),
    "p1-q2": (LISTEN, SERVED._replace(state="CLOSE_WAIT"),
              scene_row(50001, PORT, "FIN_WAIT_2", RoleKind.ORPHANED, 1, pid=None)),
    "p1-q3": (LISTEN, SERVED, CLIENT1,
              scene_row(PORT, 50002, "ESTABLISHED", RoleKind.QUEUED, 2, server_side=True, pid=None,
                   recv_q=20),
              scene_row(50002, PORT, "ESTABLISHED", RoleKind.CLIENT, 2)),
    "p2-q1": (LISTEN, SERVED, CLIENT1,
              scene_row(PORT, 50002, "ESTABLISHED", RoleKind.SERVER, 2, server_side=True),
              scene_row(50002, PORT, "ESTABLISHED", RoleKind.CLIENT, 2)),
    "p2-fin": (LISTEN, scene_row(50001, PORT, "TIME_WAIT", RoleKind.ORPHANED, 1, pid=None,
                            timer="timewait")),
}
ACTIONS: dict[str, list[Action]] = {
    "p1-q1": [Action("send", T0 + 3, 1, "Bonjour")],
    "p1-q2": [Action("send", T0 + 3, 1, "Bonjour"), Action("fin", T0 + 5, 1, "Fin")],
    "p1-q3": [Action("send", T0 + 3, 1, "Bonjour du client 1"),
              Action("send", T0 + 4, 2, "Bonjour du client 2")],
    "p2-q1": [Action("send", T0 + 3, 1, "un"), Action("send", T0 + 4, 2, "deux")],
    "p2-fin": [Action("send", T0 + 3, 1, "Bonjour"), Action("fin", T0 + 5, 1, "Fin")],
}


def picture_of(step_id: str) -> Callable[[Pilot[Any]], Awaitable[None]]:
    """Put the app in ``step_id``'s scene, with a row left by the step before, then show
    the step's picture as a screenshot would (without writing it)."""

    async def run_before(pilot: Pilot[Any]) -> None:
        app = app_of(pilot)
        clock = scene_clock(app)
        before = Snapshot(T0 - 5, (LISTEN, LEFTOVER), "fixed")
        clock.now = T0 - 5
        app.apply(before, [Transition(T0 - 5, c, None, c.state, None)
                           for c in before.connections])
        await drawn(pilot)
        clock.now = T0
        app.select_step(step_id)
        app.prepare_scene()
        for action in ACTIONS[step_id]:
            app._from_session(action)
        await wait_until(pilot, lambda: app.recorder.actions[-len(ACTIONS[step_id]):]
                         == ACTIONS[step_id], "the step's actions handled")
        rows = SCENES[step_id]
        snap = Snapshot(T0 + 6, (*rows, LEFTOVER), "fixed")
        clock.now = T0 + 6
        app.apply(snap, [Transition(T0 + 6, c, None, c.state, None) for c in rows])
        await drawn(pilot)
        app.shots.capturing = True  # as while a screenshot is taken: the stamp holds its time
        app._update_stamp(T0 + 6, "0123456789ab")
        assert app.views.snapshot is not None
        app.enter_capture(step_id, app.views.snapshot)
        await wait_until(pilot, app.shots.laid_out, "the picture's layout")

    return run_before


@pytest.mark.parametrize("size", SIZES, ids=["80x24", "160x48"])
@pytest.mark.parametrize("step_id", STEP_IDS)
def test_step_picture_snapshot(
        snap_compare: SnapCompare, step_id: str, size: tuple[int, int]) -> None:
    assert snap_compare(make_scene_app("fr"), terminal_size=size,
                        run_before=picture_of(step_id))


@pytest.mark.parametrize("lang", ["fr", "en"])
@pytest.mark.parametrize("size", SIZES, ids=["80x24", "160x48"])
@pytest.mark.parametrize("step_id", STEP_IDS)
async def test_picture_shows_every_column_and_row_whole(step_id: str, size: tuple[int, int],
                                                        lang: str) -> None:
    app = make_scene_app(lang)
    async with app.run_test(size=size) as pilot:
        await picture_of(step_id)(pilot)
        svg = app.export_screenshot()
        app.leave_capture()
    text = svg_text_content(svg)
    step = get_step(step_id)
    # Every column the question reads, by its header, whole (stacked addresses included).
    for col in step.reads:
        assert squash(t(f"col.{col}", lang)) in text, f"{col} header missing at {size}"
    # Every row of the scene: its state whole (never "ES…") and its role.
    for c in SCENES[step_id]:
        assert c.state in text
        assert squash(str(c.local)) in text
    assert "…" not in text.replace(squash(t("app.title", lang)), "")
    # The previous step's leftover row is not in this step's picture, which says so.
    assert "50007" not in text
    assert squash(t("pic.left_out", lang, n=1)) in text
    # No side panel: the steps panel's question text is not in the picture.
    assert squash(step.text("todo", lang))[:40] not in text
    # The stamp is there; and where there is room, the step's own actions.
    assert "0123456789ab" in text
    if size == (160, 48):
        for action in ACTIONS[step_id]:
            assert squash(action.text) in text


@pytest.mark.parametrize(("size", "lang"), [((70, 20), "en"), ((200, 50), "fr")],
                         ids=["70x20-en", "200x50-fr"])
@pytest.mark.parametrize("step_id", STEP_IDS)
async def test_verify_reads_the_picture_back_as_its_rows(step_id: str, size: tuple[int, int],
                                                          lang: str) -> None:
    """What ``verify`` compares with the sealed record: the table read back from the SVG,
    cell by cell, at a small terminal (labels and cells folded) as at a large one."""
    app = make_scene_app(lang)
    async with app.run_test(size=size) as pilot:
        await picture_of(step_id)(pilot)
        svg = app.export_screenshot()
        app.leave_capture()
    reads = get_step(step_id).reads
    assert first_difference(svg, SCENES[step_id], reads, lang) is None
    table = read_table(svg, reads, lang)
    assert table is not None and len(table.rows) == len(SCENES[step_id])
    # Another state in the record than in the picture: found, row and column named.
    changed = [SCENES[step_id][0]._replace(state="CLOSED"), *SCENES[step_id][1:]]
    diff = first_difference(svg, changed, reads, lang)
    assert diff is not None and (diff.row, diff.column) == (1, "state")
    assert (diff.shown, diff.expected) == ("LISTEN", "CLOSED")


async def test_a_picture_too_narrow_for_its_columns_is_not_read_as_complete() -> None:
    """At 50 columns the table drops the columns that do not fit: the picture does not
    show its evidence, and the reader says so instead of finding a table."""
    app = make_scene_app("fr")
    async with app.run_test(size=(50, 20)) as pilot:
        await picture_of("p1-q3")(pilot)
        svg = app.export_screenshot()
        app.leave_capture()
    diff = first_difference(svg, SCENES["p1-q3"], get_step("p1-q3").reads, "fr")
    assert diff is not None and diff.row == 0
