"""A bounded random walk of the student's keys, checked against the kernel after each one
(tests/walk.py). Seeds that once failed are kept here and replayed first."""

from __future__ import annotations

import pytest
from walk import run_walk

# Seeds that found a defect, each replayed as a regression case (a failing seed is
# printed by the walk: add it here with the defect it found).
REGRESSIONS: list[int] = []
SEEDS = [*REGRESSIONS, 1, 2]
STEPS = 14  # per seed: about a minute in all on a 2-core machine


@pytest.mark.needs("ss")
@pytest.mark.timeout(300)
@pytest.mark.parametrize("seed", SEEDS)
async def test_a_random_walk_keeps_the_table_the_cards_and_the_pictures_true(seed: int) -> None:
    walk = await run_walk(seed, STEPS)
    assert len(walk.played) == STEPS
    assert walk.checks == STEPS + 1
