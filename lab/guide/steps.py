"""The lab's steps as data: what to do, the question, the evidence awaited, the setup.

How a step is set up is ``lab.guide.setup``; what proves it was done, ``lab.guide.evidence``.
"""

from __future__ import annotations

import sys
from typing import Any

from tcp_observatory.lab.errors import LabError
from tcp_observatory.lab.i18n import MESSAGES, current_language, t
from tcp_observatory.lab.net.modes import SINGLE, THREADED
from tcp_observatory.lab.records import record

# ("mode", "single") ("close_after_fin", False) ("clients", 2) ("send", 1, "Bonjour") ("fin", 1)
SetupOp = tuple[Any, ...]


@record(frozen=True)
class Step:
    id: str
    part: int
    setup: tuple[SetupOp, ...]
    mode: str  # the server mode the step is about
    # The table's columns the question asks to read: the step's picture shows them whole,
    # and so does the live table wherever they fit (the columns it does not read give way).
    reads: tuple[str, ...] = ("local", "remote", "state", "role")
    # Of those, the one its question is about above the others: at 80 columns, where not
    # every column it reads fits, it comes right after the addresses and the state.
    asks: tuple[str, ...] = ("role",)

    def text(self, what: str, lang: str, *, windows: bool | None = None) -> str:
        """``what`` is title, todo, question or evidence: from the catalogue (``lab.i18n``).

        On Windows (``windows``, default: this system) a step whose story Windows tells its
        own way (a full accept queue refuses the connection) has its own sentence.
        """
        windows = sys.platform == "win32" if windows is None else windows
        if windows and f"step.{self.id}.{what}.windows" in MESSAGES:
            return t(f"step.{self.id}.{what}.windows", lang)
        return t(f"step.{self.id}.{what}", lang)


STEPS: tuple[Step, ...] = (
    Step(
        id="p1-q1",
        part=1,
        setup=(
            ("mode", SINGLE),
            ("close_after_fin", False),
            ("clients", 1),
            ("send", 1, "Bonjour"),
        ),
        mode=SINGLE,
        reads=("local", "remote", "state", "role", "process"),
    ),
    Step(
        id="p1-q2",
        part=1,
        setup=(
            ("mode", SINGLE),
            ("close_after_fin", False),
            ("clients", 1),
            ("send", 1, "Bonjour"),
            ("fin", 1),
        ),
        mode=SINGLE,
        reads=("local", "remote", "state", "role", "process"),
        asks=("process",),  # "Which process holds each end?"
    ),
    Step(
        id="p1-q3",
        part=1,
        setup=(
            ("mode", SINGLE),
            ("close_after_fin", False),
            ("clients", 2),
            ("send", 1, "Bonjour du client 1"),
            ("send", 2, "Bonjour du client 2"),
        ),
        mode=SINGLE,
        reads=("local", "remote", "state", "role", "process", "queues"),
    ),
    Step(
        id="p2-q1",
        part=2,
        setup=(
            ("mode", THREADED),
            ("clients", 2),
            ("send", 1, "Bonjour du client 1"),
            ("send", 2, "Bonjour du client 2"),
        ),
        mode=THREADED,
        reads=("local", "remote", "state", "role", "process"),
    ),
    Step(
        id="p2-fin",
        part=2,
        setup=(
            ("mode", THREADED),
            ("clients", 1),
            ("send", 1, "Bonjour"),
            ("fin", 1),
        ),
        mode=THREADED,
        reads=("local", "remote", "state", "role", "process", "timer"),
        asks=("timer",),  # "How long does it stay there?"
    ),
)

STEP_IDS: tuple[str, ...] = tuple(s.id for s in STEPS)
MAX_ANSWER = 20_000  # characters of the student's answer to a step that are kept
_BY_ID = {s.id: s for s in STEPS}


def get_step(step_id: str) -> Step:
    try:
        return _BY_ID[step_id]
    except KeyError:
        raise LabError(t("err.unknown_step", current_language(), step=repr(step_id),
                         steps=", ".join(STEP_IDS))) from None


def next_step_id(step_id: str) -> str | None:
    """The step after ``step_id``, or None after the last one."""
    i = STEP_IDS.index(step_id)
    return STEP_IDS[i + 1] if i + 1 < len(STEP_IDS) else None
