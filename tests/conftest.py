"""Fixtures for the engine tests: a ``lab`` that owns and cleans up every server, client,
raw socket, observer source and subprocess a test makes (``support.Lab``), and the two
connection sources."""

from __future__ import annotations

import os
import signal
from collections.abc import Iterator

import pytest
from needs import NEEDS, unmet
from support import SOURCES, Lab, Sockets

from tcp_observatory.lab import i18n
from tcp_observatory.lab.observe.sources import open_source

# A message key missing from the catalogue fails the tests (here and in the programs they
# start) instead of showing as itself.
os.environ["TCP_OBSERVATORY_STRICT_I18N"] = "1"
i18n.STRICT = True

# The Ctrl+C tests send SIGINT to the programs they start. A shell without job control
# starts a background job (`pytest &`) with SIGINT ignored, and every child inherits that:
# Python then leaves SIGINT ignored and the Ctrl+C under test never arrives. A handler here
# is reset to the default in each child, which then installs Python's own.
if signal.getsignal(signal.SIGINT) is signal.SIG_IGN:
    signal.signal(signal.SIGINT, signal.default_int_handler)


@pytest.hookimpl(optionalhook=True)  # xdist's hook: without xdist (-p no:xdist), unused
def pytest_xdist_auto_num_workers(config: pytest.Config) -> int:
    """``-n auto``: one and a half workers per core. The tests wait on the kernel, on
    processes and on the window as much as they compute: with one worker per core a third
    of the CPU stood idle (two cores: 225 s with 2 workers, 158 s with 3, 175 s with 4)."""
    return max(2, (os.cpu_count() or 1) * 3 // 2)


def _netlink_missing() -> str | None:
    if (reason := unmet("netlink")) is not None:
        return reason
    try:
        open_source("netlink").close()
    except (ImportError, OSError) as exc:
        return f"netlink source unavailable: {exc}"
    return None


_NETLINK_MISSING = _netlink_missing()


@pytest.fixture
def lab() -> Iterator[Lab]:
    the_lab = Lab()
    try:
        yield the_lab
    finally:
        the_lab.close()


@pytest.fixture(params=SOURCES)
def source_kind(request: pytest.FixtureRequest) -> str:
    """Each source-dependent fact runs with psutil and with netlink (where it opens)."""
    if request.param == "netlink" and _NETLINK_MISSING:
        pytest.skip(_NETLINK_MISSING)
    return str(request.param)


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        for mark in item.iter_markers("needs"):
            unknown = [name for name in mark.args if name not in NEEDS]
            if unknown:
                raise pytest.UsageError(f"{item.nodeid}: unknown need {unknown} (tests/needs.py)")
        # An SVG snapshot holds what one Textual version drew: the job that runs the lowest
        # versions deselects them (-m "not svg_snapshot"), every other test still runs there.
        if "snap_compare" in getattr(item, "fixturenames", ()):
            item.add_marker(pytest.mark.svg_snapshot)


def pytest_runtest_setup(item: pytest.Item) -> None:
    """A test marked ``needs(...)`` is skipped where a need is unmet, saying which."""
    for mark in item.iter_markers("needs"):
        for name in mark.args:
            if (reason := unmet(name)) is not None:
                pytest.skip(reason)


@pytest.fixture
def socks() -> Iterator[Sockets]:
    """Loopback sockets a test opens, every one closed at teardown."""
    s = Sockets()
    try:
        yield s
    finally:
        s.close_all()
