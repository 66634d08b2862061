"""A long random walk of the student's keys, checked against the kernel after each one.

The suite plays a short walk (tests/test_random_walk.py); this plays as many seeds and
actions as asked, prints each seed's actions count and checks, and on a failure the seed
and the actions that led to it (add that seed to the suite's REGRESSIONS).

    python bench/random_walk.py [--seeds 10] [--first 100] [--steps 60] [--size 80x24]

Linux with ss (iproute2); loopback only; every socket and thread of each walk is closed.
"""

from __future__ import annotations

import argparse
import asyncio
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "tests"))

from walk import WalkFailure, run_walk  # noqa: E402


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, default=10)
    parser.add_argument("--first", type=int, default=100, help="the first seed")
    parser.add_argument("--steps", type=int, default=60, help="actions per seed")
    parser.add_argument("--size", default="160x48", help="the terminal, COLUMNSxROWS")
    args = parser.parse_args()
    try:
        width, height = (int(n) for n in args.size.lower().split("x"))
    except ValueError:
        parser.error(f"--size: COLUMNSxROWS, such as 80x24, not {args.size!r}")
    total = 0
    failed = 0
    for seed in range(args.first, args.first + args.seeds):
        start = time.monotonic()
        try:
            walk = asyncio.run(run_walk(seed, args.steps, (width, height)))
        except WalkFailure as exc:
            failed += 1
            print(f"seed {seed}: FAILED: {exc}", flush=True)
            continue
        total += len(walk.played)
        print(f"seed {seed}: {len(walk.played)} actions, {walk.checks} checks, "
              f"{len(walk.pictures)} pictures, {time.monotonic() - start:.0f} s", flush=True)
    print(f"{total} actions in {args.seeds - failed} clean walks; {failed} failed")
    return 1 if failed else 0


if __name__ == "__main__":
    raise SystemExit(main())
