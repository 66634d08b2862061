"""Setting a step up when the student runs their own programs (--exec-server/--exec-client).

The step's clients are the student's, started in the step's number and order; the step's
messages are not sent for them: the student types them (only their own actions count).
The app cannot switch the student's server between single and threaded: the step's hint
says which of their programs to run.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

from tcp_observatory.lab.errors import LabError
from tcp_observatory.lab.guide.steps import Step, get_step
from tcp_observatory.lab.i18n import t
from tcp_observatory.lab.net.modes import THREADED

if TYPE_CHECKING:
    from tcp_observatory.lab.session import Session

Wait = Callable[[Callable[[], bool], float], bool]


def uses_programs(session: Session) -> bool:
    return session.exec_server is not None or bool(session.exec_clients)


def program_hint(step: Step | str, session: Session, lang: str) -> str | None:
    """Which of the student's programs the step needs, when they run their own."""
    if not uses_programs(session):
        return None
    step = get_step(step) if isinstance(step, str) else step
    threaded = step.mode == THREADED
    if session.exec_server is not None:
        if session.exec_threaded_server is not None:
            command = session.program_server_command(step.mode) or ""
            return t("prog.step.restart", lang, command=command[:120])
        return t("prog.step.threaded" if threaded else "prog.step.single", lang)
    return t("prog.step.clients", lang)


def run_program_setup(
    session: Session,
    step: Step | str,
    wait: Wait,
    *,
    timeout: float,
    lang: str = "en",
) -> list[int]:
    """Start the student's server and the step's clients; send nothing for them."""
    step = get_step(step) if isinstance(step, str) else step
    numbers: list[int] = []

    def need(predicate: Callable[[], bool], what: str) -> None:
        if not wait(predicate, timeout):
            raise LabError(t("setup.timeout", lang, step=step.id, what=what, s=timeout))

    for op in step.setup:
        kind = op[0]
        if kind == "mode":
            if session.exec_server is not None:
                # A fresh run, as a fresh built-in server: the old one's sockets (a
                # CLOSE_WAIT it never closed) go with it.
                server = session.restart_program_server(op[1])
                if server is None or not server.running:
                    raise LabError(t("prog.setup.no_server", lang))
                need(lambda s=server: session.port in s.listening_ports(),  # type: ignore[misc]
                     t("prog.setup.listen", lang, port=session.port))
            elif session.with_server or session.server is not None:
                if session.mode != op[1]:
                    session.switch_mode(op[1])
                if not session.server_running:
                    session.start_server()
            # --no-server: the student's server runs outside the app; theirs to start
        elif kind == "clients":
            session.reset_clients()  # the previous scene's clients go; numbering starts at 1
            numbers = []
            for _ in range(int(op[1])):
                number = session.add_client()
                numbers.append(number)
                ident = session.idents.get(number, 0)
                need(lambda n=number, i=ident: session.client_known(n, i),  # type: ignore[misc]
                     t("setup.connect", lang, n=number))
        # ("send", ...), ("fin", ...), ("close_after_fin", ...): the student's to do
    return numbers
