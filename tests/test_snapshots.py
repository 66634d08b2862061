"""SVG snapshots of the main screen: 80x24 and 160x48, French and English.

Update after a deliberate change of look: ``pytest tests/test_snapshots.py --snapshot-update``.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

import pytest
from app_support import SnapCompare, app_of, drawn, press, press_f9, view_drawn, wait_until
from snapshot_scene import make_scene_app, play_scene
from textual.pilot import Pilot


@pytest.mark.parametrize("lang", ["fr", "en"])
@pytest.mark.parametrize("size", [(80, 24), (160, 48)], ids=["80x24", "160x48"])
def test_main_screen(snap_compare: SnapCompare, lang: str, size: tuple[int, int]) -> None:
    assert snap_compare(make_scene_app(lang), terminal_size=size, run_before=play_scene)


async def _present(pilot: Pilot[Any]) -> None:
    await play_scene(pilot)
    await press(pilot, "f10")
    await drawn(pilot)


@pytest.mark.parametrize("lang", ["fr", "en"])
def test_presentation_mode(snap_compare: SnapCompare, lang: str) -> None:
    """What a projector at 100x30 shows: the latest change written large."""
    assert snap_compare(make_scene_app(lang), terminal_size=(100, 30), run_before=_present)


def _on_view(presses: int) -> Callable[[Pilot[Any]], Awaitable[None]]:
    async def run_before(pilot: Pilot[Any]) -> None:
        await play_scene(pilot)
        await press_f9(pilot, presses)
        await drawn(pilot)

    return run_before


@pytest.mark.parametrize("lang", ["fr", "en"])
@pytest.mark.parametrize("view,presses", [("diagram", 1), ("ladder", 2)])
def test_views(snap_compare: SnapCompare, lang: str, view: str, presses: int) -> None:
    """The state diagram and the ladder, in the window, at 160x48."""
    assert snap_compare(make_scene_app(lang), terminal_size=(160, 48),
                        run_before=_on_view(presses))


def _projected(theme: str) -> Callable[[Pilot[Any]], Awaitable[None]]:
    async def run_before(pilot: Pilot[Any]) -> None:
        if theme == "light":
            await press(pilot, "ctrl+t")
        await play_scene(pilot)
        await press_f9(pilot)  # --view diagram --present, as an instructor projects
        await press(pilot, "f10")
        await wait_until(pilot, lambda: view_drawn(app_of(pilot)), "the diagram drawn")
        await drawn(pilot)

    return run_before


@pytest.mark.svg_snapshot
@pytest.mark.parametrize("theme", ["dark", "light"])
@pytest.mark.parametrize("lang", ["fr", "en"])
@pytest.mark.parametrize("size", [(80, 24), (100, 30)], ids=["80x24", "100x30"])
def test_projector_diagram(
        snap_compare: SnapCompare, size: tuple[int, int], lang: str, theme: str) -> None:
    """The state diagram in presentation mode at a projector's sizes, in both themes."""
    assert snap_compare(make_scene_app(lang), terminal_size=size, run_before=_projected(theme))
