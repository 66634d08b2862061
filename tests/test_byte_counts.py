"""The lab port's byte counts from the kernel (Linux's sock_diag TCP info): what lets the
app see a message reach any server's socket (tests/test_witness.py). Checked against ``ss``.
"""

from __future__ import annotations

import subprocess
from typing import Any

import pytest
from support import Sockets, wait_for

from tcp_observatory.lab.observe.model import Connection, Endpoint, Snapshot

needs_netlink = pytest.mark.needs("netlink")


def ss_counts(port: int) -> dict[tuple[str, str], tuple[int, int]]:
    """``ss -tin`` for the port: (local, remote) -> (bytes_received, bytes_acked); ss leaves
    a count out when it is 0."""
    out = subprocess.run(["ss", "-tinH", f"( sport = :{port} or dport = :{port} )"],
                         capture_output=True, text=True, check=True, timeout=10).stdout
    counts: dict[tuple[str, str], tuple[int, int]] = {}
    key: tuple[str, str] | None = None
    for line in out.splitlines():
        if not line[:1].isspace():
            key = (line.split()[3], line.split()[4])
            counts[key] = (0, 0)
            continue
        assert key is not None
        fields = dict(f.split(":", 1) for f in line.split() if f.startswith("bytes_"))
        counts[key] = (int(fields.get("bytes_received", 0)), int(fields.get("bytes_acked", 0)))
    return counts


def by_local(snapshot: Snapshot) -> dict[str, Connection]:
    return {f"{c.local}|{c.remote_text}": c for c in snapshot.connections}


@needs_netlink
@pytest.mark.needs("ss")
def test_netlink_reads_each_lab_sockets_byte_counts_as_ss_does(socks: Sockets) -> None:
    from tcp_observatory.lab.observe.netlink import NetlinkSource

    listener = socks.listener()
    port = listener.getsockname()[1]
    client, server = socks.pair(listener)
    client.sendall(b"Bonjour")
    server.sendall(b"xyz")
    with NetlinkSource() as plain, NetlinkSource() as counting:
        counting.byte_counts = True
        client_key = f"{Endpoint(*client.getsockname())}|{Endpoint(*server.getsockname())}"
        server_key = f"{Endpoint(*server.getsockname())}|{Endpoint(*client.getsockname())}"

        def settled() -> bool:
            rows = by_local(counting.poll(port, lab_port=port))
            return (rows[server_key].bytes_received, rows[client_key].bytes_received) == (7, 3)

        wait_for(settled, message="the kernel to count 7 and 3 bytes received")
        rows = by_local(counting.poll(port, lab_port=port))
        oracle = ss_counts(port)
        for c in rows.values():
            if c.remote is None:
                continue
            assert (c.bytes_received, c.bytes_acked) == oracle[(str(c.local), str(c.remote))]
        # Nothing changed: the same records (the fast path's promise holds with counts).
        again = counting.poll(port, lab_port=port)
        assert again.changed == () and all(
            a is b for a, b in zip(sorted(again.connections, key=str),
                                   sorted(rows.values(), key=str), strict=True))
        # Every connection shown: the lab port's rows once each, with their counts; the
        # others without (they are not asked for).
        everything = counting.poll(None, lab_port=port)
        lab = [c for c in everything.connections if port in (c.local.port,
               c.remote.port if c.remote else -1)]
        assert sorted(map(str, lab)) == sorted(map(str, rows.values()))
        assert by_local(Snapshot(0, tuple(lab), ""))[server_key].bytes_received == 7
        assert all(c.bytes_received is None for c in everything.connections if c not in lab)
        # A one-shot netstat (counts not asked) pays nothing for them.
        assert all(c.bytes_received is None and c.bytes_acked is None
                   for c in plain.poll(port, lab_port=port).connections)


@needs_netlink
def test_a_message_updates_the_row_without_a_transition(socks: Sockets) -> None:
    """A byte count changing is a change of the record (the table's row and the step's
    witness get it), not a change of state."""
    from tcp_observatory.lab.observe.netlink import NetlinkSource
    from tcp_observatory.lab.observe.observer import Observer

    listener = socks.listener()
    port = listener.getsockname()[1]
    client, _server = socks.pair(listener)
    with NetlinkSource() as source:
        source.byte_counts = True
        observer = Observer(source, port, lambda *_: None)
        # Its own three rows: the port, chosen by the kernel, may be one an earlier test's
        # server had, whose clients' TIME_WAITs (to this port) the kernel still holds.
        own = {(Endpoint.of(*s.getsockname()[:2]),
                Endpoint.of(*s.getpeername()[:2]) if s is not listener else None)
               for s in (listener, client, _server)}
        wait_for(lambda: own <= {c.key for c in observer.poll_once()[0].connections},
                 message="the listener's and the pair's rows")
        client.sendall(b"Bonjour")
        seen: list[tuple[Snapshot, list[Any]]] = []

        def counted() -> bool:
            snap, transitions = observer.poll_once()
            seen.append((snap, transitions))
            return any(c.bytes_received == 7 for c in snap.changed or ())

        wait_for(counted, message="the server end's 7 bytes in a snapshot's changes")
        assert all(transitions == [] for _, transitions in seen)
        snap = seen[-1][0]
        end = next(c for c in snap.changed or () if c.bytes_received == 7)
        assert end.state == "ESTABLISHED" and end.role.server_side
        # The record it replaced leaves as gone, under the same key, with the old count.
        assert [(c.key, c.bytes_received) for c in snap.gone or () if c.key == end.key] == [
            (end.key, 0)]
