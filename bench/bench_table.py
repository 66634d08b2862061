"""How long the connection table takes to absorb one snapshot, with N rows and some churn.

    python bench/bench_table.py --sizes 100,1000,5000

Each round changes the state of 1% of the rows, adds 1% and drops 1% (a TIME_WAIT flood
looks like this); the figure is the median time of ``ConnectionsTable.apply`` per round,
measured inside a headless Textual app. At 10 polls a second, a median under 100 ms keeps
up; the UI stays responsive while it is well under that.
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import time

from textual.app import App, ComposeResult

from tcp_observatory.lab.observe.differ import Differ
from tcp_observatory.lab.observe.model import Connection, Endpoint, Role, RoleKind, Snapshot
from tcp_observatory.tui.widgets.connections import ConnectionsTable


def conns(n: int, start: int, round_: int) -> list[Connection]:
    out = []
    for i in range(start, start + n):
        state = "TIME_WAIT" if (i + round_) % 100 == 0 else "ESTABLISHED"
        out.append(Connection(Endpoint("127.0.0.1", 10000 + i % 50000),
                              Endpoint("127.0.0.1", 9500 + i // 50000), state,
                              role=Role(RoleKind.OTHER)))
    return out


class Host(App[None]):
    def compose(self) -> ComposeResult:
        yield ConnectionsTable("en", id="t")


async def measure(n: int, rounds: int) -> tuple[float, float]:
    app = Host()
    async with app.run_test(size=(160, 48)) as pilot:
        table = app.query_one(ConnectionsTable)
        differ = Differ()  # the observer's one diff: the table consumes its transitions
        snap = Snapshot(time.time(), tuple(conns(n, 0, 0)), "bench")
        changes = differ.feed(snap)
        t0 = time.perf_counter()
        table.apply(snap, changes)
        first = time.perf_counter() - t0
        times = []
        for r in range(1, rounds + 1):
            snap = Snapshot(time.time(), tuple(conns(n, r * max(1, n // 100), r)), "bench")
            changes = differ.feed(snap)
            t0 = time.perf_counter()
            table.apply(snap, changes)
            times.append(time.perf_counter() - t0)
            await pilot.pause()
        return first, statistics.median(times)


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__)
    p.add_argument("--sizes", default="100,1000,5000")
    p.add_argument("--rounds", type=int, default=7)
    args = p.parse_args()
    print("| rows | first fill (ms) | one update, median (ms) |")
    print("|---:|---:|---:|")
    for n in (int(x) for x in args.sizes.split(",")):
        first, med = asyncio.run(measure(n, args.rounds))
        print(f"| {n:,} | {first * 1000:.0f} | {med * 1000:.1f} |", flush=True)


if __name__ == "__main__":
    main()
