"""The macOS netstat source's parser: columns found by the header's names.

Real captures live in ``tests/fixtures/macos``, each naming where it was published. The
two inline samples below (macOS 12 and 14 layouts) were written here from those versions'
headers: they test the lab's own situations, which no published capture shows.
"""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

from tcp_observatory.lab.observe.macos import MacNetstatSource, parse_netstat
from tcp_observatory.lab.observe.model import Endpoint

# macOS 12 (Monterey): pid in its own column after rhiwat and shiwat.
MONTEREY = """\
Active Internet connections (including servers)
Proto Recv-Q Send-Q  Local Address          Foreign Address        (state)      rhiwat  shiwat    pid   epid state  options           gencnt    flags   flags1 usscnt rtncnt fltrs
tcp4       0      0  127.0.0.1.9500         127.0.0.1.50321        CLOSE_WAIT   407582  146988  51234      0 00102 00000004 000000000004a2c1 00000080 00000800      1      0 000001
tcp4       0      0  127.0.0.1.50321        127.0.0.1.9500         FIN_WAIT_2   408300  146988      0      0 00102 00000000 000000000004a2c0 00000080 00000800      0      0 000001
tcp4      11      0  127.0.0.1.9500         127.0.0.1.50322        ESTABLISHED  408300  146988      0      0 00102 00000000 000000000004a2c3 00000080 00000800      0      0 000001
tcp4       0      0  127.0.0.1.9500         *.*                    LISTEN       131072  131072  51234      0 00100 00000006 000000000004a2b0 00000000 00000800      1      0 000001
tcp4       0      0  127.0.0.1.50400        127.0.0.1.9500         TIME_WAIT    407582  146988      0      0 00102 00000000 000000000004a2d0 00000080 00000800      0      0 000001
tcp4       0      0  192.168.1.20.50999     17.57.144.10.443       ESTABLISHED  131072  131072    345      0 00102 00000000 000000000004a100 00000080 00000800      1      0 000001
tcp6       0      0  ::1.9500               ::1.50500              SYN_RCVD     131072  131072      0      0 00102 00000000 000000000004a400 00000080 00000800      0      0 000001
"""

# macOS 14 (Sonoma): a process:pid column, byte counters before the watermarks.
SONOMA = """\
Active Internet connections (including servers)
Proto Recv-Q Send-Q  Local Address          Foreign Address        (state)          rxbytes      txbytes  rhiwat  shiwat   process:pid    state    options           gencnt    flags   flags1 usscnt rtncnt fltrs
tcp4       0      0  127.0.0.1.9500         127.0.0.1.50321        ESTABLISHED            6            0  407582  146988   Python:51234  00102 00000004 000000000004a2c1 00000080 00000800      1      0 000001
tcp46      0      0  *.9500                 *.*                    LISTEN                 0            0  131072  131072   Python:51234  00100 00000006 000000000004a2b0 00000000 00000800      1      0 000001
tcp4       0      0  127.0.0.1.50321        127.0.0.1.9500         TIME_WAIT              0            0  131072  131072          -:0  00102 00000000 000000000004a2c0 00000080 00000800      0      0 000001
"""


def test_monterey_layout_gives_states_queues_and_owners() -> None:
    rows = parse_netstat(MONTEREY, 9500)
    by_key = {(str(c.local), c.remote_text): (c, pid) for c, pid in rows}
    assert len(rows) == 6  # the unrelated browser row is filtered out
    server, pid = by_key[("127.0.0.1:9500", "127.0.0.1:50321")]
    assert server.state == "CLOSE_WAIT" and pid == 51234
    orphan, pid = by_key[("127.0.0.1:50321", "127.0.0.1:9500")]
    assert orphan.state == "FIN_WAIT_2" and pid is None
    queued, pid = by_key[("127.0.0.1:9500", "127.0.0.1:50322")]
    assert queued.recv_q == 11 and pid is None  # its bytes wait until accept()
    listen, _ = by_key[("127.0.0.1:9500", "0.0.0.0:0")]
    assert listen.state == "LISTEN" and listen.remote is None
    assert by_key[("127.0.0.1:50400", "127.0.0.1:9500")][0].state == "TIME_WAIT"
    six, _ = by_key[("[::1]:9500", "[::1]:50500")]
    assert six.family == 6 and six.state == "SYN_RECEIVED"


def test_sonoma_layout_reads_the_process_pid_column() -> None:
    rows = parse_netstat(SONOMA, None)
    assert [(c.state, pid) for c, pid in rows] == [
        ("ESTABLISHED", 51234), ("LISTEN", 51234), ("TIME_WAIT", None)]
    assert rows[1][0].local == Endpoint("::", 9500) and rows[1][0].family == 6


@pytest.mark.parametrize("platform", ["linux", "win32"])
def test_the_netstat_source_is_macos_only(monkeypatch: pytest.MonkeyPatch, platform: str) -> None:
    monkeypatch.setattr(sys, "platform", platform)  # so that it runs on macOS too
    with pytest.raises(OSError):
        MacNetstatSource()


# -- real captures (tests/fixtures/macos, each with its source) ------------------------------
FIXTURES = Path(__file__).resolve().parent / "fixtures" / "macos"


def capture(name: str) -> str:
    text = (FIXTURES / name).read_text(encoding="utf-8")
    return "\n".join(line for line in text.splitlines() if not line.startswith("#"))


def test_mojave_capture_reads_pid_from_its_named_column() -> None:
    rows = parse_netstat(capture("mojave-10.14-netstat-vnp.txt"), None)
    assert len(rows) == 7
    assert {pid for _, pid in rows} == {9811}
    waiting = [c for c, _ in rows if c.state == "CLOSE_WAIT"]
    assert [(str(c.local), c.recv_q) for c in waiting] == [
        ("192.168.1.191:52040", 24), ("192.168.1.191:52036", 24)]
    first = rows[0][0]
    assert str(first.local) == "192.168.1.191:52044" and str(first.remote) == "31.13.66.35:443"


def test_sequoia_rows_without_a_header_never_give_a_wrong_pid() -> None:
    """macOS 15 moved the byte counters before the watermarks: read at the old place, the
    pid would be rhiwat (131072 or 262144). Without the header the pid is unknown, not
    guessed; addresses, states and queues still read."""
    rows = parse_netstat(capture("sequoia-15.1-netstat-natvln-rows.txt"), None)
    assert len(rows) == 4
    assert {pid for _, pid in rows} == {None}
    assert [c.state for c, _ in rows] == ["ESTABLISHED"] * 4
    assert rows[0][0].send_q == 126 and str(rows[0][0].remote) == "34.117.41.85:443"


def test_sequoia_rows_under_a_real_15_1_header_give_the_pid() -> None:
    """The 15.1 rows under the header a 15.1.1 Mac printed (two captures, one release): the
    pid is read by its column's name, after the two byte counters and the watermarks."""
    rows = parse_netstat(capture("sequoia-15.1.1-netstat-anv-p-tcp-header.txt") + "\n"
                         + capture("sequoia-15.1-netstat-natvln-rows.txt"), None)
    assert [pid for _, pid in rows] == [2903, 5767, 75236, 74164]


def test_ventura_sonoma_captures_read_pid_by_name() -> None:
    """macOS 13 and 14 (gencnt ... usscnt columns, no byte counters)."""
    rows = parse_netstat(capture("ventura-sonoma-13-14-netstat-anv.txt"), None)
    assert [(str(c.local), str(c.remote), pid) for c, pid in rows] == [
        ("127.0.0.1:8001", "127.0.0.1:60348", 34323),
        ("127.0.0.1:60348", "127.0.0.1:8001", 24807),
        ("192.168.50.89:60347", "140.82.113.5:443", 24807),
        ("192.168.50.89:60344", "149.137.136.16:443", 24807),  # rhiwat 1511016 fills its column
    ]
    listeners = parse_netstat(capture("ventura-sonoma-13-14-netstat-anv-p-tcp-listeners.txt"),
                              443)
    assert [(c.state, str(c.local), c.remote, pid) for c, pid in listeners] == [
        ("LISTEN", "0.0.0.0:443", None, 10521)]


def test_tahoe_process_pid_column_with_a_space_in_the_name() -> None:
    rows = parse_netstat(capture("tahoe-26-netstat-anv-p-tcp.txt"), None)
    assert [(str(c.local), str(c.remote), c.state, pid) for c, pid in rows] == [
        ("127.0.0.1:49515", "127.0.0.1:49472", "ESTABLISHED", 22712),
        ("127.0.0.1:49510", "127.0.0.1:49513", "ESTABLISHED", 22712),
    ]


def test_tahoe_header_wider_than_its_rows_still_reads() -> None:
    """A later macOS 26 prints the header with -l's wide columns and the rows narrow: the
    fields are split on spaces and named by the header's words, never cut at its offsets."""
    text = capture("tahoe-26-netstat-anv-p-tcp-wide-header.txt")
    header = next(line for line in text.splitlines() if line.startswith("Proto"))
    first = next(line for line in text.splitlines() if line.startswith("tcp"))
    assert header.index("(state)") != first.index("LISTEN")  # what the capture shows
    rows = parse_netstat(text, None)
    assert len(rows) == 14 and {c.state for c, _ in rows} == {"LISTEN"}
    by_port = {c.local.port: (c.local.host, c.family, pid) for c, pid in rows}
    assert by_port[38123] == ("::", 6, 59043)  # tcp46 *.38123: both families, shown as ::
    assert by_port[58400] == ("127.0.0.1", 4, 57295)  # a name cut at 16 characters
    assert by_port[7679] == ("::1", 6, 1341)  # "Google Drive": a name with a space
    assert by_port[8021] in {("127.0.0.1", 4, 1), ("::1", 6, 1)}  # launchd


def test_a_process_name_with_spaces_or_none_keeps_its_pid() -> None:
    header = ("Proto Recv-Q Send-Q  Local Address          Foreign Address        (state)  "
              "rxbytes txbytes rhiwat shiwat process:pid state options")
    rows = parse_netstat(header + "\n"
                         "tcp4 0 0 127.0.0.1.9500 127.0.0.1.50001 ESTABLISHED 0 0 1 1 "
                         "Google Chrome H:303 00102 0\n"
                         "tcp4 0 0 127.0.0.1.50002 127.0.0.1.9500 TIME_WAIT 0 0 1 1 "
                         ":1234 00102 0\n", None)
    assert [pid for _, pid in rows] == [303, 1234]


def test_macos_roles_come_from_identity_and_state_not_from_a_missing_pid() -> None:
    """macOS keeps the last pid on sockets nobody holds: a pid proves nothing there. The
    app's own sockets are told by identity and state; the rest that cannot be told is
    "unknown", never a guess."""
    from tcp_observatory.lab.observe.model import Connection, RoleKind
    from tcp_observatory.lab.observe.roles import Registry, classify

    lab = Endpoint("127.0.0.1", 9500)
    mine, waiting, theirs = (Endpoint("127.0.0.1", p) for p in (50001, 50002, 50003))
    registry = Registry()
    registry.add_client(mine, 1, lab)
    registry.add_client(waiting, 2, lab)
    registry.add_accepted(mine, "")
    rows = [
        Connection(mine, lab, "TIME_WAIT", pid=777),  # our client, closed: its last pid
        Connection(lab, waiting, "ESTABLISHED", pid=777),  # our client, not accepted yet
        Connection(lab, mine, "ESTABLISHED", pid=777),  # accepted by our server
        Connection(theirs, lab, "FIN_WAIT_2", pid=888),  # someone else's, closed or not?
        Connection(lab, theirs, "ESTABLISHED", pid=777),  # someone else's, queued or not?
    ]
    kinds = [c.role.kind for c in classify(rows, 9500, registry, owners_known=False)]
    assert kinds == [RoleKind.ORPHANED, RoleKind.QUEUED, RoleKind.SERVER, RoleKind.UNKNOWN,
                     RoleKind.UNKNOWN]
    # Where a missing pid is a fact (Linux, Windows), the same rows read as before.
    linux = [c.role.kind for c in classify(rows, 9500, registry)]
    assert linux == [RoleKind.CLIENT, RoleKind.SERVER, RoleKind.SERVER, RoleKind.EXTERNAL,
                     RoleKind.SERVER]
