"""``tcp-observatory netstat`` on Windows writes Windows' own ``netstat -n`` layout,
checked against a real capture (tests/fixtures/windows, with its source); it runs on every
system (the layout is chosen by a parameter, by default from the platform)."""

from __future__ import annotations

from pathlib import Path

from support import conn, ep

from tcp_observatory.lab.observe.model import (
    Connection,
    Endpoint,
    Role,
    RoleKind,
    Snapshot,
    state_name,
)
from tcp_observatory.lab.observe.netstat import render_netstat

FIXTURE = Path(__file__).resolve().parent / "fixtures" / "windows" / "netstat-ano-en.txt"


def capture() -> list[str]:
    return [line for line in FIXTURE.read_text(encoding="utf-8").splitlines()
            if not line.startswith("#")]


def without_pid(line: str) -> str:
    """A line of ``netstat -ano`` as ``netstat -n`` prints it: the PID column removed."""
    return line[:len("  Proto  Local Address          Foreign Address        State")].rstrip() \
        if line.lstrip().startswith("Proto") else line.rsplit(None, 1)[0]


def listener(port: int) -> Connection:
    return conn(ep(port, "0.0.0.0"), None, "LISTEN")


def test_the_layout_is_windows_own_column_for_column() -> None:
    rows = capture()
    snap = Snapshot(0.0, tuple(listener(p) for p in (80, 135, 445, 623)), "fixed")
    out = render_netstat(snap, None, "en", False, windows=True).splitlines()
    assert out[:3] == ["", "Active Connections", ""]
    assert out[3] == without_pid(rows[0])
    assert out[4:] == [without_pid(line) for line in rows[1:]]


def test_windows_spellings_ipv6_and_owners() -> None:
    lab = Endpoint("::1", 9500)
    snap = Snapshot(0.0, (
        Connection(lab, None, "LISTEN", family=6, pid=42, process="python.exe",
                   role=Role(RoleKind.LISTENER)),
        Connection(Endpoint("::1", 50001), lab, "TIME_WAIT", family=6,
                   role=Role(RoleKind.ORPHANED, client=1)),
        Connection(Endpoint("::1", 50002), lab, "FIN_WAIT_2", family=6,
                   role=Role(RoleKind.ORPHANED, client=2)),
    ), "fixed")
    out = render_netstat(snap, 9500, "en", True, windows=True).splitlines()
    assert "  TCP    [::1]:9500             [::]:0                 LISTENING" in out
    # Windows' netstat -b writes no owner under TIME_WAIT; an orphaned end is "System".
    at = next(i for i, line in enumerate(out) if "TIME_WAIT" in line)
    assert not out[at + 1].startswith("   [")
    fin = next(i for i, line in enumerate(out) if "FIN_WAIT_2" in line)
    assert out[fin + 1].startswith("   [System]")
    # Elsewhere the handout's spelling and the lab's own words.
    other = render_netstat(snap, 9500, "en", True, windows=False)
    assert "LISTENING" not in other and "[orphaned]" in other


# -- a French Windows (tests/fixtures/windows/netstat-ano-fr.txt, with its source) -----------
FRENCH = FIXTURE.with_name("netstat-ano-fr.txt")


def _endpoint(text: str) -> Endpoint:
    host, _, port = text.rpartition(":")
    return Endpoint(host.strip("[]"), int(port))


def test_french_windows_layout_and_order_match_a_real_capture() -> None:
    """Every TCP row of a French Windows 10's ``netstat -ano``, given to the renderer in a
    shuffled order: it writes the capture back line for line (French header, English
    states, ``[::1]:port``, the capture's own order), less the PID column."""
    import random

    lines = [line for line in FRENCH.read_text(encoding="utf-8").splitlines()
             if not line.startswith("#")]
    conns = []
    for line in lines:
        fields = line.split()
        if fields[:1] != ["TCP"]:
            continue
        local, remote = _endpoint(fields[1]), _endpoint(fields[2])
        conns.append(Connection(local, None if remote.port == 0 else remote,
                                state_name(fields[3]), family=6 if "[" in fields[1] else 4,
                                role=Role(RoleKind.OTHER)))
    assert len(conns) == 67
    assert {c.state for c in conns} == {"LISTEN", "ESTABLISHED", "TIME_WAIT", "CLOSE_WAIT"}
    random.Random(7).shuffle(conns)
    out = render_netstat(Snapshot(0.0, tuple(conns), "fixed"), None, "fr", False,
                         windows=True).splitlines()
    expected = [line.rsplit(None, 1)[0] if line.lstrip().startswith("TCP") else line
                for line in lines]
    assert out == ["", *expected]
