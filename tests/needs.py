"""What a test needs of the system it runs on, named once, with the reason a skip gives.

A test says ``@pytest.mark.needs("system-sockets")``; ``conftest.py`` skips it where the need
is not met, with the sentence below, so a run on macOS or Windows lists what it left out
and why (``-ra``). The platform is a parameter, so the conditions are tested on Linux too.
"""

from __future__ import annotations

import shutil
import sys
from collections.abc import Callable
from dataclasses import dataclass


@dataclass(frozen=True)
class Need:
    reason: str  # the skip's reason: what the test needs
    met: Callable[[str], bool]  # sys.platform -> whether this system has it


def _linux(platform: str) -> bool:
    return platform.startswith("linux")


def _not_windows(platform: str) -> bool:
    return platform != "win32"


def _not_macos(platform: str) -> bool:
    return platform != "darwin"


NEEDS: dict[str, Need] = {
    "netlink": Need("needs Linux's netlink sock_diag", _linux),
    "linux-accept-queue": Need(
        "needs Linux's accept queue: backlog 1 holds two connections and a further SYN is "
        "dropped, its client left in SYN_SENT (Windows refuses it)", _linux),
    "syn-dropped-when-full": Need(
        "needs a kernel that drops a SYN at a full accept queue, leaving the client in "
        "SYN_SENT (Linux, macOS); Windows refuses the connection instead", _not_windows),
    "system-sockets": Need(
        "needs psutil's system-wide socket list (other processes' sockets, and those no "
        "process holds: orphaned FIN_WAIT_2, TIME_WAIT, the accept queue), which macOS "
        "gives only to root", _not_macos),
    "sigint": Need(
        "needs POSIX signals: SIGINT sent to a child process (Windows has only console "
        "control events)", _not_windows),
    "posix-shell": Need("needs a POSIX shell (sh, sleep) and process groups", _not_windows),
    "stop-signals": Need(
        "needs POSIX signals: SIGHUP (the terminal closed) and SIGTERM sent to the app, "
        "which Windows does not deliver", _not_windows),
    "rlimit": Need(
        "needs POSIX's RLIMIT_NOFILE (the resource module) to hold over 1024 sockets",
        _not_windows),
    "handout-netstat-layout": Need(
        "needs the handout's netstat layout, which Windows replaces by its own "
        "(tests/test_windows_netstat.py checks that one)", _not_windows),
    "proc-io": Need("needs Linux's /proc/<pid>/io (the bytes a process wrote)", _linux),
    "cc": Need("needs a C compiler (cc) and pseudo-terminals (a C program's stdio buffers a "
               "pipe, as on Windows)", _not_windows),
    "posix-paths": Need("needs POSIX paths (the expected output spells them)", _not_windows),
    "tmux": Need("needs tmux, a POSIX terminal multiplexer", _not_windows),
    "ss": Need("needs Linux's ss (iproute2), the independent witness of the kernel's states",
               _linux),
    "jdk": Need("needs a JDK (javac and java) for the students' Java programs",
                lambda _platform: True),
}

# Needs met by a program being installed, whatever the system.
PROGRAMS: dict[str, str] = {"tmux": "tmux", "ss": "ss", "cc": "cc", "jdk": "javac"}


def unmet(name: str, platform: str | None = None,
          which: Callable[[str], str | None] = shutil.which) -> str | None:
    """Why ``name`` is not met on ``platform`` (default: this one, read now), or None."""
    need = NEEDS[name]
    if not need.met(sys.platform if platform is None else platform):
        return need.reason
    program = PROGRAMS.get(name)
    if program is not None and which(program) is None:
        return f"needs {program}, which is not installed"
    return None
