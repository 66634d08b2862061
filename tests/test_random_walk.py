"""A bounded random walk of the student's keys, checked against the kernel after each one
(tests/walk.py). Seeds that once failed are kept here and replayed first."""

from __future__ import annotations

import pytest
from walk import run_walk

STEPS = 14  # per seed: about a minute in all on a 2-core machine
# Walks that found a defect, replayed first, as far as the action that showed it (a failing
# seed is printed by the walk with its actions: add it here with the defect it found).
REGRESSIONS: list[tuple[int, int]] = [
    # F7 [ ] F7, F1, Ctrl+R: the restarted server's listener left the table while the
    # kernel listened (also test_student_path's listener that went and came back)
    (202, 3),
]
WALKS = [*REGRESSIONS, (1, STEPS), (2, STEPS)]
NARROW_WALKS = [
    # Ctrl+N Ctrl+N Ctrl+S: the table, fitted while a picture hid it, came back with rows of
    # one line and p1-q3's Process and Recv/Send-Q out of view
    (302, 3),
    (3, 10),  # at 80x24: rows of two lines, the panel over the panes
]


@pytest.mark.needs("ss")
@pytest.mark.timeout(300)
@pytest.mark.parametrize(("seed", "steps", "size"),
                         [*((s, n, (160, 48)) for s, n in WALKS),
                          *((s, n, (80, 24)) for s, n in NARROW_WALKS)])
async def test_a_random_walk_keeps_the_table_the_cards_and_the_pictures_true(
        seed: int, steps: int, size: tuple[int, int]) -> None:
    walk = await run_walk(seed, steps, size)
    assert len(walk.played) == steps
    assert walk.checks == steps + 1
