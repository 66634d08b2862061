"""The skip conditions are the intended ones: which system skips which need, and why.

The platform is passed (or faked), so these run on Linux and check macOS's and Windows'
decisions too.
"""

from __future__ import annotations

import sys
from types import SimpleNamespace

import conftest
import pytest
from needs import NEEDS, unmet

PLATFORMS = ("linux", "darwin", "win32")

# need -> the systems where a test that needs it is skipped
SKIPPED_ON: dict[str, set[str]] = {
    "netlink": {"darwin", "win32"},
    "linux-accept-queue": {"darwin", "win32"},
    "syn-dropped-when-full": {"win32"},
    "system-sockets": {"darwin"},
    "sigint": {"win32"},
    "posix-shell": {"win32"},
    "stop-signals": {"win32"},
    "rlimit": {"win32"},
    "handout-netstat-layout": {"win32"},
    "posix-paths": {"win32"},
    "tmux": {"win32"},
    "ss": {"darwin", "win32"},
    "proc-io": {"darwin", "win32"},
    "cc": {"win32"},
    "jdk": set(),
}


def installed(program: str) -> str | None:
    return f"/usr/bin/{program}"


@pytest.mark.parametrize("platform", PLATFORMS)
@pytest.mark.parametrize("name", sorted(NEEDS))
def test_each_need_is_skipped_exactly_where_intended(name: str, platform: str) -> None:
    reason = unmet(name, platform, which=installed)
    assert (reason is not None) == (platform in SKIPPED_ON[name])
    if reason is not None:
        assert reason.startswith("needs ") and reason == NEEDS[name].reason


def test_every_need_has_its_intended_systems() -> None:
    assert set(SKIPPED_ON) == set(NEEDS)


def test_the_reasons_name_what_is_missing() -> None:
    assert "netlink sock_diag" in str(unmet("netlink", "darwin"))
    assert "root" in str(unmet("system-sockets", "darwin"))
    assert "refuses" in str(unmet("syn-dropped-when-full", "win32"))
    assert "SIGINT" in str(unmet("sigint", "win32"))


def test_a_program_missing_on_a_system_that_could_have_it() -> None:
    assert unmet("tmux", "linux", which=lambda _: None) == "needs tmux, which is not installed"
    assert unmet("tmux", "linux", which=installed) is None


@pytest.mark.parametrize(("platform", "skipped"), [("linux", False), ("darwin", True),
                                                   ("win32", False)])
def test_a_marked_test_is_skipped_with_its_reason(monkeypatch: pytest.MonkeyPatch,
                                                  platform: str, skipped: bool) -> None:
    """conftest's hook, on a test marked needs("system-sockets"), with sys.platform faked."""
    item = SimpleNamespace(iter_markers=lambda name: [pytest.mark.needs("system-sockets").mark]
                           if name == "needs" else [])
    monkeypatch.setattr(sys, "platform", platform)
    if skipped:
        with pytest.raises(pytest.skip.Exception, match="macOS gives only to root"):
            conftest.pytest_runtest_setup(item)  # type: ignore[arg-type]
    else:
        conftest.pytest_runtest_setup(item)  # type: ignore[arg-type]
