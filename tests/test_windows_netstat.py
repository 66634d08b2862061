"""``tcp-observatory netstat`` on Windows writes Windows' own ``netstat -n`` layout,
checked against a real capture (tests/fixtures/windows, with its source); it runs on every
system (the layout is chosen by a parameter, by default from the platform)."""

from __future__ import annotations

from pathlib import Path

from lab.observe.model import Connection, Endpoint, Role, RoleKind, Snapshot
from lab.observe.netstat import render_netstat

FIXTURE = Path(__file__).resolve().parent / "fixtures" / "windows" / "netstat-ano-en.txt"


def capture() -> list[str]:
    return [line for line in FIXTURE.read_text(encoding="utf-8").splitlines()
            if not line.startswith("#")]


def without_pid(line: str) -> str:
    """A line of ``netstat -ano`` as ``netstat -n`` prints it: the PID column removed."""
    return line[:len("  Proto  Local Address          Foreign Address        State")].rstrip() \
        if line.lstrip().startswith("Proto") else line.rsplit(None, 1)[0]


def listener(port: int) -> Connection:
    return Connection(Endpoint("0.0.0.0", port), None, "LISTEN", role=Role(RoleKind.OTHER))


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
