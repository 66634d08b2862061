"""The netlink sock_diag source against real loopback sockets, psutil and ``ss``."""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import socket
import subprocess
import sys
import threading
from collections.abc import Callable, Iterator
from typing import Any

import psutil
import pytest
from support import LOCALHOST, ROOT, Proc, Sockets, netlink_available, ss_rows, wait_for

from tcp_observatory.lab.observe.model import Connection, Endpoint, Snapshot
from tcp_observatory.lab.observe.observer import Observer
from tcp_observatory.lab.observe.sources import PsutilSource, open_source

pytestmark = [
    pytest.mark.needs("netlink"),
    pytest.mark.skipif(sys.platform == "linux" and not netlink_available(),
                       reason="netlink sock_diag is refused here (no allowed socket)"),
]

from tcp_observatory.lab.observe import netlink  # noqa: E402  (after the skip decision)
from tcp_observatory.lab.observe.netlink import NetlinkSource  # noqa: E402


def poll_until(
    source: NetlinkSource, port: int | None, ready: Callable[[Snapshot], object], what: str
) -> Snapshot:
    """Poll until ``ready(snapshot)`` holds, and return that snapshot."""

    def probe() -> Snapshot | None:
        snap = source.poll(port)
        return snap if ready(snap) else None

    return wait_for(probe, message=what)


Key = tuple[Endpoint, Endpoint | None]


def has(keys: set[Key]) -> Callable[[Snapshot], bool]:
    """Ready when every key is in the snapshot (a port may also carry strangers: an old
    TIME_WAIT whose peer port was this number, another test's sockets)."""
    return lambda snap: keys <= snap.by_key().keys()


@pytest.fixture
def source() -> Iterator[NetlinkSource]:
    src = NetlinkSource()
    try:
        yield src
    finally:
        src.close()


def pair_keys(
    listener: socket.socket | None, *pairs: tuple[socket.socket, socket.socket]
) -> set[Key]:
    keys: set[Key] = set() if listener is None else {(local_of(listener), None)}
    for a, b in pairs:
        keys |= {(local_of(a), local_of(b)), (local_of(b), local_of(a))}
    return keys


def port_of(sock: socket.socket) -> int:
    return int(sock.getsockname()[1])


def local_of(sock: socket.socket) -> Endpoint:
    host, port = sock.getsockname()[:2]
    return Endpoint.of(host, port)


def find(
    snap: Snapshot, local: Endpoint, remote: Endpoint, state: str | None = None
) -> Connection | None:
    row = snap.by_key().get((local, remote))
    return row if row is not None and (state is None or row.state == state) else None


def listen_row(snap: Snapshot, local: Endpoint) -> Connection | None:
    for c in snap.connections:
        if c.local == local and c.state == "LISTEN":
            return c
    return None


def touches(c: Connection, port: int) -> bool:
    return c.local.port == port or (c.remote is not None and c.remote.port == port)


def triples(connections: tuple[Connection, ...]) -> set[tuple[Endpoint, Endpoint | None, str]]:
    return {(c.local, c.remote, c.state) for c in connections}


def own_name() -> str:
    return psutil.Process().name()


# -- what the kernel reports ---------------------------------------------------------------


def test_listener_and_pair(source: NetlinkSource, socks: Sockets) -> None:
    listener = socks.listener(backlog=3)
    client, server = socks.pair(listener)
    port = port_of(listener)

    snap = poll_until(source, port, has(pair_keys(listener, (client, server))), "3 sockets")
    assert snap.source == "netlink"
    assert snap.duration > 0

    listening = listen_row(snap, local_of(listener))
    assert listening is not None
    assert listening.remote is None
    assert listening.send_q == 3  # the backlog given to listen()
    assert listening.recv_q == 0  # nothing waiting in the accept queue

    for sock, peer in ((client, server), (server, client)):
        row = find(snap, local_of(sock), local_of(peer))
        assert row is not None
        assert row.state == "ESTABLISHED"
        assert row.remote == local_of(peer)
        assert row.family == 4
        assert row.pid == os.getpid()
        assert row.process == own_name()
        assert row.uid == os.getuid()
        assert row.inode
        assert row.timer is None and row.timer_left is None
        assert row.retransmits == 0


def test_agrees_with_psutil(source: NetlinkSource, socks: Sockets) -> None:
    listener = socks.listener(backlog=4)
    keys = pair_keys(listener, socks.pair(listener), socks.pair(listener))
    queued = socks.connect(listener)  # left in the accept queue
    unowned = (Endpoint.of(*queued.getpeername()[:2]), local_of(queued))  # its server side
    keys |= {unowned, (unowned[1], unowned[0])}
    port = port_of(listener)
    ours = poll_until(source, port, has(keys), "7 sockets")
    psutil_source = PsutilSource()

    def agree() -> bool:
        # Both polled again until they agree: a stranger on the port may change in between.
        mine, theirs = source.poll(port), psutil_source.poll(port)
        same = triples(mine.connections) == triples(theirs.connections)
        pids = {c.key: c.pid for c in mine.connections}
        return same and pids == {c.key: c.pid for c in theirs.connections}

    wait_for(agree, message="netlink and psutil to agree")
    pids = {c.key: c.pid for c in ours.connections if c.key in keys}
    assert pids == {k: None if k == unowned else os.getpid() for k in keys}


def _ss_triples(port: int) -> set[tuple[Endpoint, Endpoint | None, str]]:
    rows = ss_rows(port)
    assert rows is not None  # the caller skips when ss is missing
    return rows


@pytest.mark.skipif(shutil.which("ss") is None, reason="ss (iproute2) is not installed")
def test_agrees_with_ss(source: NetlinkSource, socks: Sockets) -> None:
    listener = socks.listener()
    socks.pair(listener)
    closing, _ = socks.pair(listener)
    closing.close()  # FIN_WAIT_2 on the client, CLOSE_WAIT on the server
    port = port_of(listener)

    poll_until(
        source,
        port,
        lambda snap: {c.state for c in snap.connections} >= {"FIN_WAIT_2", "CLOSE_WAIT"},
        "FIN_WAIT_2 and CLOSE_WAIT",
    )
    # Polled again until they agree: a stranger on the port may change between the two.
    wait_for(
        lambda: triples(source.poll(port).connections) == _ss_triples(port),
        message="netlink and ss to agree",
    )


def test_unread_bytes_wait_in_recv_q(source: NetlinkSource, socks: Sockets) -> None:
    listener = socks.listener()
    client, server = socks.pair(listener)
    client.sendall(b"x" * 1234)  # the server never recv()s

    snap = poll_until(
        source,
        port_of(listener),
        lambda snap: (
            (row := find(snap, local_of(server), local_of(client))) is not None
            and row.recv_q == 1234
        ),
        "recv_q == 1234",
    )
    row = find(snap, local_of(server), local_of(client))
    assert row is not None and row.state == "ESTABLISHED"


def test_unaccepted_connection_has_no_owner(source: NetlinkSource, socks: Sockets) -> None:
    listener = socks.listener(backlog=2)
    client = socks.connect(listener)  # never accept()ed
    port = port_of(listener)
    server_side = Endpoint.of(*client.getpeername()[:2])

    def queued() -> Snapshot | None:
        snap = source.poll(port)
        row = listen_row(snap, server_side)
        return snap if row is not None and row.recv_q == 1 else None

    snap = wait_for(queued, message="LISTEN with one queued connection")
    rows = [c for c in snap.connections if c.remote == local_of(client)]
    assert len(rows) == 1
    assert rows[0].state == "ESTABLISHED"
    assert rows[0].pid is None and rows[0].process is None
    assert rows[0].inode == 0
    mine = find(snap, local_of(client), server_side)
    assert mine is not None and mine.pid == os.getpid()


def test_time_wait_has_a_timer(source: NetlinkSource, socks: Sockets) -> None:
    listener = socks.listener()
    client, server = socks.pair(listener)
    port = port_of(listener)
    client_end, server_end = local_of(client), local_of(server)

    client.close()  # the client closes first ...
    wait_for(lambda: find(source.poll(port), server_end, client_end, "CLOSE_WAIT"),
             message="CLOSE_WAIT")
    server.close()  # ... then the server, as the threaded server does

    row = wait_for(
        lambda: find(source.poll(port), client_end, server_end, "TIME_WAIT"), message="TIME_WAIT"
    )
    assert row.timer == "timewait"
    assert row.timer_left is not None and 0 < row.timer_left <= 60
    assert row.pid is None and row.process is None
    assert row.uid is None  # the kernel does not keep it for a timewait socket
    assert find(source.poll(port), server_end, client_end) is None  # LAST_ACK is over on loopback


def test_fin_wait_2_orphan_has_a_timer(source: NetlinkSource, socks: Sockets) -> None:
    listener = socks.listener()
    client, server = socks.pair(listener)
    port = port_of(listener)
    client_end, server_end = local_of(client), local_of(server)

    client.close()  # the server never closes: the single server of the handout
    row = wait_for(
        lambda: find(source.poll(port), client_end, server_end, "FIN_WAIT_2"),
        message="FIN_WAIT_2",
    )
    assert row.pid is None
    assert row.timer is not None
    assert row.timer_left is not None and 0 < row.timer_left <= 60

    peer = find(source.poll(port), server_end, client_end)
    assert peer is not None and peer.state == "CLOSE_WAIT"
    assert peer.pid == os.getpid()


# -- the filter runs in the kernel ---------------------------------------------------------


@pytest.mark.parametrize("use_eq", [True, False], ids=["eq-ops", "ge-le-ops"])
def test_filter_runs_in_the_kernel(source: NetlinkSource, socks: Sockets, use_eq: bool) -> None:
    source._use_eq = use_eq  # both bytecode forms: S_EQ/D_EQ, and GE/LE for old kernels
    lab = socks.listener()
    lab_keys = pair_keys(lab, socks.pair(lab))
    other = socks.listener()
    other_keys = pair_keys(other, socks.pair(other))
    port, other_port = port_of(lab), port_of(other)

    everything = poll_until(source, None, has(other_keys), "the other port's sockets")
    assert source.last_records == len(everything.connections)

    snap = poll_until(source, port, has(lab_keys), "the lab port's sockets")
    # The source does not filter in Python: what it returns is what the kernel sent.
    assert source.last_records == len(snap.connections) < len(everything.connections)
    assert all(touches(c, port) and not touches(c, other_port) for c in snap.connections)
    assert source._use_eq is use_eq  # the kernel accepted the form under test


def test_large_dump_spans_many_datagrams(source: NetlinkSource, socks: Sockets) -> None:
    # ~100 bytes per socket, at most ~32 KiB per datagram: 600 sockets need several reads.
    expected: set[Key] = set()
    for _ in range(200):
        listener = socks.listener()
        expected |= pair_keys(listener, socks.pair(listener))

    poll_until(source, None, has(expected), "600 sockets in one unfiltered poll")
    assert source.last_records >= 600


def test_a_socket_listed_twice_is_one_connection_that_goes_when_closed(
        source: NetlinkSource, socks: Sockets, monkeypatch: pytest.MonkeyPatch) -> None:
    """A dump of several datagrams may list a socket twice (the kernel resumes its walk of
    a hash bucket by position; a socket added ahead meanwhile is sent again). Here every
    record comes twice: each connection is one row, and once closed its ESTABLISHED rows
    leave the observer's snapshot, the client's TIME_WAIT alone staying."""
    listener = socks.listener()
    port = port_of(listener)
    client, server = socks.pair(listener)
    keys = pair_keys(listener, (client, server))
    observer = Observer(source, port, lambda *_: None)
    dump = source._dump_all

    def twice(*args: Any, **kwargs: Any) -> list[bytes]:
        records = dump(*args, **kwargs)
        return records + records

    def rows() -> list[tuple[Key, str]]:
        snap, _ = observer.poll_once()
        return sorted(((c.key, c.state) for c in snap.connections if c.key in keys), key=str)

    wait_for(lambda: len(rows()) == 3, message="the listener and the pair")
    monkeypatch.setattr(source, "_dump_all", twice)
    assert len(rows()) == 3  # each connection once
    client_end, server_end = local_of(client), local_of(server)
    client.close()
    wait_for(lambda: ((server_end, client_end), "CLOSE_WAIT") in rows(), message="CLOSE_WAIT")
    server.close()
    expected = sorted([((local_of(listener), None), "LISTEN"),
                       ((client_end, server_end), "TIME_WAIT")], key=str)
    wait_for(lambda: rows() == expected, message=lambda: f"{expected}; seen {rows()}")


# -- families ------------------------------------------------------------------------------


def _ipv6_loopback() -> bool:
    if not socket.has_ipv6:
        return False
    try:
        with socket.socket(socket.AF_INET6, socket.SOCK_STREAM) as s:
            s.bind(("::1", 0))
    except OSError:
        return False
    return True


@pytest.mark.skipif(not _ipv6_loopback(), reason="no ::1 on this machine")
def test_ipv6_pair(source: NetlinkSource, socks: Sockets) -> None:
    listener = socks.listener(host="::1")
    client, server = socks.pair(listener)
    port = port_of(listener)
    keys = pair_keys(listener, (client, server))

    snap = poll_until(source, port, has(keys), "3 sockets")
    assert {c.family for c in snap.connections if c.key in keys} == {6}
    row = find(snap, local_of(client), local_of(server))
    assert row is not None
    assert row.local.host == "::1" and row.remote == local_of(server)
    assert str(row.local) == f"[::1]:{row.local.port}"


@pytest.mark.skipif(not _ipv6_loopback(), reason="no ::1 on this machine")
@pytest.mark.parametrize("one_walk", [True, False])
def test_both_families_in_one_walk_or_one_dump_each(socks: Sockets,
                                                    monkeypatch: pytest.MonkeyPatch,
                                                    one_walk: bool) -> None:
    """The older request dumps IPv4 and IPv6 in one walk of the kernel's tables (half the
    kernel's work at 50,000 sockets); a kernel that refuses it is asked once per family.
    Both ways see the same sockets."""
    if not one_walk:
        monkeypatch.setattr(netlink, "TCPDIAG_GETSOCK", 0x7777)  # a request no kernel knows
    v4 = socks.listener()
    port = port_of(v4)
    v6 = socks.keep(socket.socket(socket.AF_INET6, socket.SOCK_STREAM))
    v6.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 1)
    v6.bind(("::1", port))
    v6.listen()
    keys = pair_keys(v4, socks.pair(v4)) | pair_keys(v6, socks.pair(v6))
    with NetlinkSource(probe=False) as src:
        snap = poll_until(src, port, has(keys), "both families' pairs")
        assert src._one_walk is one_walk
        assert {c.family for c in snap.connections if c.key in keys} == {4, 6}
        everything = poll_until(src, None, has(keys), "the same, unfiltered").connections
        assert {c.key for c in snap.connections} == {
            c.key for c in everything if port in (c.local.port, c.remote.port if c.remote else 0)}


def test_ipv4_mapped_peer_is_normalised(source: NetlinkSource, socks: Sockets) -> None:
    listener = socks.keep(socket.socket(socket.AF_INET6, socket.SOCK_STREAM))
    listener.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 0)
    listener.bind(("::ffff:127.0.0.1", 0))
    listener.listen(1)
    port = port_of(listener)
    client = socks.keep(socket.create_connection((LOCALHOST, port), timeout=5))
    socks.accept(listener)
    # The server side's addresses arrive as ::ffff:127.0.0.1 and are reported as IPv4 text.
    server_side = (Endpoint(LOCALHOST, port), local_of(client))

    snap = poll_until(source, port, has({server_side}), "the server side")
    assert snap.by_key()[server_side].family == 6
    assert listen_row(snap, Endpoint(LOCALHOST, port)) is not None


# -- owners --------------------------------------------------------------------------------

_CHILD = """
import socket, sys
s = socket.create_connection(("127.0.0.1", int(sys.argv[1])))
print(s.getsockname()[1], flush=True)
sys.stdin.read()
"""


@pytest.fixture
def scans(monkeypatch: pytest.MonkeyPatch) -> list[set[int]]:
    """The inodes each full /proc scan was asked to find."""
    asked: list[set[int]] = []
    real = netlink._scan_proc

    def spy(wanted: set[int], skip: int) -> dict[int, int]:
        asked.append(set(wanted))
        return real(wanted, skip)

    monkeypatch.setattr(netlink, "_scan_proc", spy)
    return asked


def test_other_process_is_named_and_scanned_for_once(
    source: NetlinkSource, socks: Sockets, scans: list[set[int]]
) -> None:
    listener = socks.listener()
    port = port_of(listener)
    child = subprocess.Popen(
        [sys.executable, "-c", _CHILD, str(port)],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert child.stdout is not None
        child_end = Endpoint(LOCALHOST, int(child.stdout.readline()))
        lab_end = local_of(listener)
        socks.accept(listener)

        row = wait_for(lambda: find(source.poll(port), child_end, lab_end),
                       message="the child's socket")
        assert row.pid == child.pid
        assert row.process == psutil.Process(child.pid).name()
        for _ in range(5):  # nothing new about it: no further /proc scan for it
            again = find(source.poll(port), child_end, lab_end)
            assert again is not None and again.pid == child.pid
        assert sum(row.inode in asked for asked in scans) == 1
    finally:
        child.kill()
        child.wait(timeout=10)
        for stream in (child.stdin, child.stdout):
            if stream is not None:
                stream.close()


def test_own_sockets_need_no_proc_scan(
    source: NetlinkSource, socks: Sockets, scans: list[set[int]]
) -> None:
    listener = socks.listener()
    keys = pair_keys(listener, socks.pair(listener))
    snap = poll_until(source, port_of(listener), has(keys), "3 sockets")
    mine = {c.inode for c in snap.connections if c.key in keys}
    assert all(c.pid == os.getpid() for c in snap.connections if c.key in keys)
    assert not any(mine & asked for asked in scans)


def test_owner_cache_forgets_closed_sockets(source: NetlinkSource, socks: Sockets) -> None:
    listener = socks.listener()
    port = port_of(listener)
    keys = pair_keys(listener, socks.pair(listener))
    snap = poll_until(source, port, has(keys), "3 sockets")
    inodes = {c.inode for c in snap.connections if c.key in keys}
    assert inodes <= source._owners.keys()
    socks.close_all()  # what is left is a TIME_WAIT socket, inode 0
    poll_until(
        source, port, lambda s: not inodes & {c.inode for c in s.connections}, "the sockets to go"
    )
    assert not inodes & source._owners.keys()


# -- the source as a whole -----------------------------------------------------------------


def test_concurrent_polls(source: NetlinkSource, socks: Sockets) -> None:
    listener = socks.listener()
    port = port_of(listener)
    keys = pair_keys(listener, socks.pair(listener))
    expected = triples(poll_until(source, port, has(keys), "3 sockets").connections)
    results: list[set[tuple[Endpoint, Endpoint | None, str]]] = []
    errors: list[BaseException] = []

    def worker() -> None:
        try:
            for _ in range(50):
                results.append(triples(source.poll(port).connections))
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=worker) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=30)
    assert not errors
    assert len(results) == 200
    mine = {t for t in expected if (t[0], t[1]) in keys}
    assert len(mine) == 3
    assert all(mine <= r for r in results)


def test_open_source_prefers_netlink() -> None:
    for kind in ("auto", "netlink"):
        src = open_source(kind)
        try:
            assert src.name == "netlink"
        finally:
            src.close()


def test_poll_after_close_raises() -> None:
    src = NetlinkSource()
    src.close()
    with pytest.raises(OSError):
        src.poll(None)


def test_refuses_outside_linux(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(sys, "platform", "darwin")
    with pytest.raises(OSError):
        NetlinkSource()


def test_the_owner_named_is_the_live_one_after_a_fork() -> None:
    """A client forks (twice, with setsid) and exits, leaving its socket to the grandchild:
    the row names the grandchild, not its dead parent (owners are cached by inode, and an
    unchanged record is not built again)."""
    listener = socket.socket()
    listener.bind((LOCALHOST, 0))
    listener.listen(1)
    port = listener.getsockname()[1]
    source = NetlinkSource()
    proc = Proc([sys.executable, str(ROOT / "tests" / "students" / "fork_client.py"),
                 str(port)], stdin=True)
    grandchild = None
    try:
        local = Endpoint(LOCALHOST, int(proc.expect_text("Connecte depuis").split()[-1]))
        server_end = Endpoint(LOCALHOST, port)

        def owner() -> int | None:
            rows = {(c.local, c.remote): c for c in source.poll(port, lab_port=port).connections}
            row = rows.get((local, server_end))
            return row.pid if row is not None else None

        wait_for(lambda: owner() == proc.popen.pid, message="the client as the owner")
        proc.write("go\n")
        grandchild = int(proc.expect_text("petit-fils").split()[1])
        # the client itself is gone (its pipes are not: the grandchild holds them)
        assert proc.popen.wait(10) == 0
        wait_for(lambda: owner() == grandchild, 10,
                 message=f"the grandchild {grandchild} as the owner")
    finally:
        if grandchild is not None:
            with contextlib.suppress(ProcessLookupError):
                os.kill(grandchild, signal.SIGKILL)
        proc.stop()
        source.close()
        listener.close()
