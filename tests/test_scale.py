"""Work follows change (issue 14): what a poll does when little or nothing changed.

The figures (10,000 and 50,000 sockets, beside ss, netstat and psutil) are in
``bench/bench_scale.py``; these tests check the mechanisms behind them, on real loopback
sockets where the kernel is involved: identical records come back as the same objects,
owners are looked up only where asked, a replaced record is reported gone, the polling
slows down when a poll costs too much, a big table removes rows together, and the one-shot
command imports only what it needs.
"""

from __future__ import annotations

import json
import socket
import subprocess
import sys
import threading
import time
from typing import TYPE_CHECKING

import pytest
from app_support import TABLE_T0, drawn, press, table_app, wait_until
from support import LOCALHOST, Sockets, conn, console_script, crowd, netlink_available, wait_for

from tcp_observatory.lab.observe.model import Connection, Endpoint, Role, RoleKind, Snapshot
from tcp_observatory.lab.observe.observer import Observer

if TYPE_CHECKING:
    pass



needs_netlink = pytest.mark.skipif(not netlink_available(),
                                   reason="needs Linux's netlink sock_diag (allowed here)")


def ends(sock: socket.socket) -> tuple[Endpoint, Endpoint]:
    return Endpoint.of(*sock.getsockname()[:2]), Endpoint.of(*sock.getpeername()[:2])


# -- the source ----------------------------------------------------------------------------

@needs_netlink
def test_an_unchanged_socket_comes_back_as_the_same_object(socks: Sockets) -> None:
    from tcp_observatory.lab.observe.netlink import NetlinkSource

    lab = socks.listener()
    client, _server = socks.pair(lab)
    port = lab.getsockname()[1]
    with NetlinkSource() as source:
        first = source.poll(None)
        second = source.poll(None)
        key = ends(client)
        a, b = first.by_key()[key], second.by_key()[key]
        assert a is b  # nothing decoded or built again
        assert b not in (second.changed or ())
        # A change is a new record, and the old one is reported gone.
        client.sendall(b"x" * 10)  # waits in the server end's Recv-Q
        server_key = (key[1], key[0])
        third = source.poll(port)
        assert third.by_key()[server_key].recv_q == 10
        assert third.by_key()[server_key] in (third.changed or ())
        assert second.by_key()[server_key] in (third.gone or ())


@needs_netlink
def test_owners_off_the_lab_port_only_when_asked(socks: Sockets) -> None:
    from tcp_observatory.lab.observe.netlink import NetlinkSource

    lab, other = socks.listener(), socks.listener()
    lab_client, _ = socks.pair(lab)
    other_client, _ = socks.pair(other)
    port = lab.getsockname()[1]
    with NetlinkSource() as source:
        snap = source.poll(None, owners=False, lab_port=port)
        rows = snap.by_key()
        # The lab port's sockets have their owner (roles need it); the others have none.
        assert rows[ends(lab_client)].pid is not None
        assert rows[ends(other_client)].pid is None
        # Asked for (a Process column), every owner is found.
        rows = source.poll(None, owners=True, lab_port=port).by_key()
        assert rows[ends(other_client)].pid is not None


@needs_netlink
def test_a_timer_changes_a_record_once_a_second(socks: Sockets) -> None:
    from tcp_observatory.lab.observe.netlink import NetlinkSource

    lab = socks.listener()
    client, server = socks.pair(lab)
    port = lab.getsockname()[1]
    key = ends(client)
    client.close()  # the client's end goes to TIME_WAIT once the server closes too
    server.close()
    with NetlinkSource() as source:
        def in_time_wait() -> Connection | None:
            row = source.poll(port).by_key().get(key)
            return row if row is not None and row.state == "TIME_WAIT" else None

        row = wait_for(in_time_wait, 5, message="the client's end in TIME_WAIT")
        assert row.timer == "timewait" and row.timer_left is not None
        assert row.timer_left == int(row.timer_left)  # whole seconds
        # Poll after poll, the record is the same object exactly while its second is the
        # same (however long a poll takes on a loaded machine), until two polls fell in
        # the same second.
        polls = [row]

        def same_second_seen() -> bool:
            polls.append(source.poll(port).by_key()[key])
            before, now = polls[-2], polls[-1]
            assert (now is before) == (now.timer_left == before.timer_left), polls[-2:]
            return now is before

        wait_for(same_second_seen, 10, interval=0, message="two polls in the same second")


# -- the observer --------------------------------------------------------------------------

class ListSource:
    """A source that builds every record afresh at every poll, as psutil does: a row is
    (client port, state) or (client port, state, recv-Q), the recv-Q 0 unless given."""

    name = "list"

    def __init__(self) -> None:
        self.rows: list[tuple[int, str] | tuple[int, str, int]] = []
        self.delay = 0.0

    def poll(self, port: int | None, **_: object) -> Snapshot:
        if self.delay:
            time.sleep(self.delay)
        return Snapshot(time.time(), tuple(conn(r[0], 9500, r[1], recv_q=r[2] if len(r) > 2 else 0)
                                           for r in self.rows), self.name)

    def close(self) -> None:
        pass


def test_the_observer_reports_a_replaced_record_as_gone() -> None:
    source = ListSource()
    source.rows = [(50001, "ESTABLISHED"), (50002, "ESTABLISHED")]
    observer = Observer(source, 9500, lambda s, t: None)
    first, _ = observer.poll_once()
    second, transitions = observer.poll_once()
    assert second.changed == () and second.gone == () and transitions == []
    assert set(map(id, first.connections)) == set(map(id, second.connections))
    source.rows = [(50001, "ESTABLISHED", 7), (50002, "ESTABLISHED")]
    third, transitions = observer.poll_once()
    assert [c.recv_q for c in third.changed or ()] == [7]
    assert [c.recv_q for c in third.gone or ()] == [0]
    assert len(third.connections) == 2  # the old record left with its key: one row each
    assert transitions == []  # a queue is not a state


def test_roles_are_decided_again_only_when_the_registry_changes() -> None:
    source = ListSource()
    source.rows = [(50001, "ESTABLISHED")]
    observer = Observer(source, 9500, lambda s, t: None)
    snap, _ = observer.poll_once()
    assert snap.connections[0].role.kind is RoleKind.ORPHANED  # no owner, not ours
    observer.registry.add_client(Endpoint(LOCALHOST, 50001), 3, Endpoint(LOCALHOST, 9500))
    snap, _ = observer.poll_once()
    assert snap.connections[0].role == Role(RoleKind.CLIENT, client=3)
    assert snap.changed == snap.connections  # told again, with its new role


def test_polling_slows_down_when_a_poll_costs_too_much_and_comes_back() -> None:
    source = ListSource()
    source.delay = 0.03  # 30 ms a poll: more than a fifth of 0.1 s
    paced: list[tuple[float, float]] = []
    seen = threading.Event()

    def on_pace(interval: float, cost: float) -> None:
        paced.append((interval, cost))
        seen.set()

    observer = Observer(source, 9500, lambda s, t: None, interval=0.1, on_pace=on_pace)
    observer.start()
    try:
        assert seen.wait(10), "the interval never grew"
        interval, cost = paced[-1]
        assert cost >= 0.025 and interval >= cost / 0.2 * 0.9
        assert observer.effective_interval == interval > 0.1
        seen.clear()
        source.delay = 0.0
        assert seen.wait(10), "the interval never came back"
        assert paced[-1][0] == 0.1 == observer.effective_interval
    finally:
        observer.stop()


# -- the table -----------------------------------------------------------------------------

T0 = TABLE_T0  # the table tests' time: their table's clock stands still there


async def test_a_big_table_removes_many_rows_at_once_and_keeps_the_rest_in_order() -> None:
    from tcp_observatory.tui.widgets.connections import ConnectionsTable, row_key

    rows = crowd(1500)
    app = table_app()
    async with app.run_test(size=(120, 30)) as pilot:
        table = app.query_one(ConnectionsTable)
        table.apply(Snapshot(T0, tuple(rows), "test", seq=1, changed=tuple(rows),
                             gone=()))
        await drawn(pilot)
        assert table.row_count == 1500
        dropped = rows[::3]  # 500 rows leave together
        kept = tuple(r for r in rows if r not in dropped)
        table.apply(Snapshot(T0, kept, "test", seq=2, changed=(),
                             gone=tuple(dropped)))
        table.tick(T0 + 2)  # changes off the lab port are applied once a second
        await drawn(pilot)
        assert table.row_count == 1000
        shown = [table.get_row_at(i)[table.shown.index("local")].plain for i in range(1000)]
        assert shown == sorted(shown)  # still in order, and exactly the rows kept
        assert set(shown) == {str(r.local) for r in kept}
        assert set(table.rows_by_key) == {row_key(r) for r in kept}
        # A row whose cells read the same is not written again (a write redraws the table).
        # The "for" column reads differently as seconds pass: out of this check.
        table.set_shown(tuple(c for c in table.shown if c != "age"))
        before = table.draws
        again = kept[0]._replace(uid=12345)  # a new record, the same text in every cell
        table.apply(Snapshot(T0, (again, *kept[1:]), "test", seq=3,
                             changed=(again,), gone=(kept[0],)))
        table.tick(T0 + 4)
        assert table.draws == before
        table.focus()
        await wait_until(pilot, lambda: table.has_focus, "the table focused")
        await press(pilot, "ctrl+end")
        await wait_until(pilot, lambda: table.cursor_row == 999, "the cursor on the last row")


async def test_rows_that_linger_leave_a_big_table_together_once_a_second() -> None:
    """Closed rows stay shown a moment, then go. In a big table each DataTable.remove_row
    renumbers every row (~20 ms at 10,000): they go together, once a second, in one
    renumbering, and the rest keep their order."""
    from tcp_observatory.lab.observe.model import Transition
    from tcp_observatory.tui.widgets.connections import ConnectionsTable

    app = table_app()
    rows = crowd(1500)
    async with app.run_test(size=(120, 30)) as pilot:
        table = app.query_one(ConnectionsTable)
        t0 = T0
        table.apply(Snapshot(t0, tuple(rows), "test", seq=1, changed=tuple(rows), gone=()))
        closed = rows[1::5]  # 300 rows close
        kept = tuple(r for r in rows if r not in closed)
        table.apply(Snapshot(t0, kept, "test", seq=2, changed=(), gone=tuple(closed)),
                    [Transition(t0, c, "ESTABLISHED", "CLOSED", 1.0) for c in closed])
        removed: list[object] = []

        def remove_row(row_key: object) -> None:
            removed.append(row_key)

        table.remove_row = remove_row  # type: ignore[method-assign]  # one at a time comes here
        table.tick(t0 + 1.1)  # off the lab port: applied at the next second, then linger
        assert table.row_count == 1500
        assert all(table.rows_by_key[f"{c.local}|{c.remote}"].gone_at for c in closed)
        table.tick(t0 + 1.1 + table.linger_seconds + 0.5)
        await drawn(pilot)
        assert removed == [] and table.row_count == 1200
        shown = [table.get_row_at(i)[table.shown.index("local")].plain for i in range(1200)]
        assert shown == [str(r.local) for r in sorted(kept, key=lambda r: r.local.port)]


async def test_many_timers_ticking_are_drawn_once() -> None:
    """A thousand TIME_WAIT countdowns change each second: their cells are written, and the
    table drawn once for all of them (it was once per cell)."""
    from tcp_observatory.tui.widgets.connections import ConnectionsTable

    app = table_app()
    rows = crowd(1200, "TIME_WAIT", timer="timewait", timer_left=50.0)
    async with app.run_test(size=(160, 30)) as pilot:
        table = app.query_one(ConnectionsTable)
        t0 = T0
        table.apply(Snapshot(t0, tuple(rows), "test", seq=1, changed=tuple(rows), gone=()))
        table.tick(t0 + 1.1)
        assert "timer" in table.shown
        later = tuple(r._replace(timer_left=49.0) for r in rows)
        before = table.draws
        table.apply(Snapshot(t0 + 1, later, "test", seq=2, changed=later, gone=tuple(rows)))
        table.tick(t0 + 2.2)
        assert table.draws == before + 1  # (DataTable's own restyles come later)
        await drawn(pilot)
        column = table.shown.index("timer")
        assert {table.get_row_at(i)[column].plain for i in range(1200)} == {"timewait 49 s"}


async def test_the_default_order_is_the_same_by_records_as_by_cells() -> None:
    """A big table sorts by its rows' records (3x faster); the order is the one sorting by
    the cells gave: listener, server side, clients by number, the rest by address."""
    from tcp_observatory.lab.observe.model import Role, RoleKind
    from tcp_observatory.tui.widgets.connections import ConnectionsTable

    lab = Endpoint(LOCALHOST, 9600)
    mixed = [Connection(lab, None, "LISTEN", role=Role(RoleKind.LISTENER))]
    for i in range(1, 40):
        client = Endpoint(LOCALHOST, 40100 - i)
        mixed.append(Connection(client, lab, "ESTABLISHED", role=Role(RoleKind.CLIENT, client=i)))
        mixed.append(Connection(lab, client, "ESTABLISHED", role=Role(RoleKind.SERVER)))
    mixed += crowd(50)
    import random

    random.Random(3).shuffle(mixed)
    app = table_app()
    async with app.run_test(size=(160, 30)) as pilot:
        table = app.query_one(ConnectionsTable)
        table.apply(Snapshot(T0, tuple(mixed), "test", seq=1, changed=tuple(mixed),
                             gone=()))
        local, remote = table.shown.index("local"), table.shown.index("remote")

        def order() -> list[tuple[str, str]]:
            return [(row[local].plain, row[remote].plain)
                    for row in (table.get_row_at(i) for i in range(table.row_count))]

        table.resort()
        by_records = order()
        table.fast = False  # as with a Textual whose DataTable is built otherwise
        table.resort()
        table.fast = True
        await drawn(pilot)
        assert order() == by_records
        assert by_records[0][0] == str(lab)  # the listener
        # then the server's side of each connection, then our clients from number 1
        servers = by_records[1:40]
        assert {loc for loc, _ in servers} == {str(lab)}
        assert by_records[40][0] == str(Endpoint(LOCALHOST, 40099))  # client 1
        assert by_records[-1][0] == str(Endpoint(LOCALHOST, 20049))  # the crowd, last


async def test_a_big_table_keeps_its_rows_out_of_full_collections() -> None:
    """Thousands of rows live as long as their sockets: they are frozen out of the
    collector's full passes (one took 170 ms at 10,000 rows), and given back when the table
    goes. A lab's few rows freeze nothing."""
    import gc

    from tcp_observatory.tui.widgets.connections import ConnectionsTable

    assert gc.get_freeze_count() == 0
    app = table_app()
    async with app.run_test(size=(120, 30)) as pilot:
        table = app.query_one(ConnectionsTable)
        few = crowd(40)
        table.apply(Snapshot(T0, tuple(few), "test", seq=1, changed=tuple(few),
                             gone=()))
        assert table.heap.freezes == 0 and gc.get_freeze_count() == 0
        many = crowd(1500)
        table.apply(Snapshot(T0, tuple(many), "test", seq=2,
                             changed=tuple(many[40:]), gone=()))
        await drawn(pilot)
        assert table.heap.freezes == 1 and gc.get_freeze_count() > 1500 * 5
    assert gc.get_freeze_count() == 0  # the table went: everything is the collector's again


async def test_the_timeline_scrolls_once_for_a_burst_of_lines() -> None:
    """The first look at a busy machine writes thousands of lines at once: one scroll to
    the end for all of them (one each had queued a message per line)."""
    from textual.app import App, ComposeResult

    from tcp_observatory.tui.widgets.timeline import Timeline

    class Host(App[None]):
        def compose(self) -> ComposeResult:
            yield Timeline("en", id="tl", max_lines=1000)

    app = Host()
    async with app.run_test(size=(120, 30)) as pilot:
        timeline = app.query_one(Timeline)
        scrolls: list[object] = []
        real = timeline.scroll_end

        def counted(*args: object, **kw: object) -> None:
            scrolls.append(kw)
            real(*args, **kw)  # type: ignore[arg-type]

        timeline.scroll_end = counted  # type: ignore[method-assign]
        for i in range(3000):
            timeline.add_note(1000.0 + i, f"line {i}")
        timeline.flush()
        await drawn(pilot)
        assert len(scrolls) == 1
        assert len(timeline.lines) == 1000
        assert timeline.lines_text[-1].endswith("line 2999")


# -- one-shot commands ---------------------------------------------------------------------

@needs_netlink
def test_netstat_imports_only_what_it_needs(socks: Sockets) -> None:
    lab = socks.listener()
    port = lab.getsockname()[1]
    probe = (
        "import sys, runpy\n"
        f"sys.argv = ['tcp-observatory', 'netstat', '--port', '{port}']\n"
        "from tcp_observatory.tui.cli import main\n"
        "code = main()\n"
        "heavy = sorted(m for m in ('psutil', 'textual', 'rich', 'dataclasses',"
        " 'tcp_observatory.lab.observe.observer', 'argparse', 'typing', 'threading', 'json')"
        " if m in sys.modules)\n"
        "print('HEAVY', ' '.join(heavy))\n"
    )
    out = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True,
                         timeout=60)
    assert out.returncode == 0, out.stderr
    assert "LISTEN" in out.stdout
    heavy = out.stdout.split("HEAVY", 1)[1].split()
    assert heavy == [], f"a one-shot netstat imported {heavy}"


@needs_netlink
def test_netstat_json_still_names_the_lab_ports_owner(socks: Sockets) -> None:
    lab = socks.listener()
    port = lab.getsockname()[1]
    out = subprocess.run([*console_script(), "netstat", "--port", str(port), "--json"],
                         capture_output=True, text=True, timeout=60)
    rows = [json.loads(line) for line in out.stdout.splitlines()]
    listen = [r for r in rows if r["state"] == "LISTEN"]
    assert listen and listen[0]["role"] == "listener"
    import os

    assert listen[0]["pid"] == os.getpid()
