"""Setting a step's scene up: a fresh server in the step's mode and its clients (the
messages are the student's part; the demo and the tests may play it, marked as the app's).

Blocks while it waits (for a connect, an accept, a close): run it off the UI thread.
"""

from __future__ import annotations

import sys
import time
from collections.abc import Callable
from typing import TYPE_CHECKING

from tcp_observatory.lab.errors import LabError
from tcp_observatory.lab.guide.programs import run_program_setup, uses_programs
from tcp_observatory.lab.guide.steps import SetupOp, Step, get_step
from tcp_observatory.lab.i18n import t
from tcp_observatory.lab.net.modes import THREADED

if TYPE_CHECKING:
    from tcp_observatory.lab.net.client import LabClient
    from tcp_observatory.lab.session import Session

# wait(predicate, timeout) -> True once predicate() held, False when the time ran out
Wait = Callable[[Callable[[], bool], float], bool]

SETUP_TIMEOUT = 10.0  # seconds one setup operation may take (a connect, an accept, a close)


def poll_wait(predicate: Callable[[], bool], timeout: float) -> bool:
    """A ``Wait`` for plain threads: check every 20 ms until true or out of time."""
    deadline = time.monotonic() + timeout
    while True:
        if predicate():
            return True
        if time.monotonic() >= deadline:
            return False
        time.sleep(0.02)


class SetupCancelled(Exception):
    """A setup called off while it waited: the app quits, or a new Ctrl+R took its place."""


def wait_unless(cancelled: Callable[[], bool]) -> Wait:
    """A ``poll_wait`` that gives up as soon as ``cancelled()``, raising SetupCancelled.

    A setup waits up to SETUP_TIMEOUT for each step of the scene: without this, one still
    waiting when the student quits kept the process alive that long after the window
    closed, and one replaced by the next Ctrl+R went on adding clients beside it."""

    def wait(predicate: Callable[[], bool], timeout: float) -> bool:
        met = poll_wait(lambda: cancelled() or predicate(), timeout)
        if cancelled():
            raise SetupCancelled
        return met

    return wait


def run_setup(
    session: Session,
    step: Step | str,
    wait: Wait = poll_wait,
    *,
    timeout: float = SETUP_TIMEOUT,
    lang: str = "en",
    play_student: bool = False,
    windows: bool | None = None,
) -> list[int]:
    """Set the step's scene; return the session numbers of its clients.

    The scene is the app's part: a fresh server in the step's mode, the previous clients
    gone, the step's clients numbered from 1 and connected. What the student is asked to
    do (the messages, the "Fin") is left to the student, unless ``play_student`` (the demo
    and the tests), which sends them marked as sent by the app.

    On Windows (``windows``, default: this system) a full accept queue refuses a client
    instead of keeping it in SYN_SENT: a refused client after the single server's first is
    the scene's other outcome there (the step says so), not a failed setup.

    Blocks while it waits (for a connect, an accept, a close), so run it off the UI thread.
    Raises LabError (one sentence in ``lang``) when the lab does not get there in time.
    """
    step = get_step(step) if isinstance(step, str) else step
    windows = sys.platform == "win32" if windows is None else windows
    if uses_programs(session):
        return run_program_setup(session, step, wait, timeout=timeout, lang=lang)
    numbers: list[int] = []

    def need(predicate: Callable[[], bool], what: str) -> None:
        if not wait(predicate, timeout):
            raise LabError(t("setup.timeout", lang, step=step.id, what=what, s=timeout))

    for op in step.setup:
        kind = op[0]
        if kind == "mode":
            if session.with_server or session.server is not None:
                session.restart_server(op[1])
            # --no-server: the server on the lab port is not the app's to restart
        elif kind == "close_after_fin":
            if session.close_after_fin != bool(op[1]):
                session.set_close_after_fin(bool(op[1]))
        elif kind == "clients":
            session.reset_clients()
            numbers = []
            for index in range(int(op[1])):
                number = session.add_client()
                numbers.append(number)
                client = session.clients[number]
                need(_state_is_not(client, "connecting"),
                     t("setup.connect", lang, n=number))
                if (client.state != "connected" and windows and client.refused
                        and session.mode != THREADED and index > 0):
                    continue  # Windows refused it at the full queue: the step tells that
                if client.state != "connected":
                    raise client.error or LabError(t("setup.connect_failed", lang, n=number))
                # The single server accepts only the first; the others wait in its queue.
                # (A server outside the app tells nobody what it accepted: not waited for.)
                if session.server_running and (session.mode == THREADED or index == 0):
                    need(_accepted(session, client),
                         t("setup.accept", lang, n=number))
        elif kind in ("send", "fin"):
            number = _step_client(numbers, int(op[1]), step.id)
            if not play_student:
                continue  # the student's part
            text = "Fin" if kind == "fin" else str(op[2])
            if not session.send(number, text, by_app=True):
                sender = session.clients.get(number)
                if windows and sender is not None and sender.refused:
                    continue  # refused at the full queue (Windows): it has nothing to send
                raise LabError(t("setup.send_failed", lang, n=number))
            if kind == "fin":
                closing = session.clients.get(number)
                if closing is not None:
                    need(_state_is(closing, "closed", "failed"),
                         t("setup.close", lang, n=number))
        else:
            raise ValueError(f"unknown setup operation {op!r} in step {step.id}")
    return numbers


def _step_client(numbers: list[int], index: int, step_id: str) -> int:
    if not 1 <= index <= len(numbers):
        raise ValueError(f"step {step_id}: client {index} used before ('clients', n) made it")
    return numbers[index - 1]


def _state_is(client: LabClient, *states: str) -> Callable[[], bool]:
    return lambda: client.state in states


def _state_is_not(client: LabClient, *states: str) -> Callable[[], bool]:
    return lambda: client.state not in states


def _accepted(session: Session, client: LabClient) -> Callable[[], bool]:
    """The server took the client out of its accept queue (its socket is registered)."""
    return lambda: client.local in session.registry.copy()[1]


def scene_of(step: Step | str) -> list[SetupOp]:
    """What setting the step up does by itself (the app's part, labelled as such)."""
    step = get_step(step) if isinstance(step, str) else step
    return [op for op in step.setup if op[0] not in ("send", "fin")]


def student_part(step: Step | str) -> list[SetupOp]:
    """What the step leaves to the student: the messages and the "Fin" to send."""
    step = get_step(step) if isinstance(step, str) else step
    return [op for op in step.setup if op[0] in ("send", "fin")]


def describe_op(op: SetupOp, lang: str) -> str:
    """One setup operation in words, for the screen and the manifest."""
    kind = op[0]
    if kind == "mode":
        return t("op.mode", lang, mode=t(f"mode.{op[1]}", lang))
    if kind == "close_after_fin":
        return t("op.close_after_fin", lang, value=t("yes" if op[1] else "no", lang))
    if kind == "clients":
        return t("op.clients", lang, n=int(op[1]))
    if kind == "send":
        return t("op.send", lang, n=op[1], text=op[2])
    if kind == "fin":
        return t("op.fin", lang, n=op[1])
    raise ValueError(f"unknown setup operation {op!r}")
