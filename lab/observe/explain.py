"""Why a state lingers or surprises, in one sentence that names who holds the socket.

The kernel's rows say *what* (CLOSE_WAIT for 40 s); the room asks *why*. Five situations
of the lab get a sentence, each from the rows alone:

- CLOSE_WAIT held more than a few seconds: the program holding it received FIN and has not
  called close() (the handout's listing 2 never does);
- an orphaned FIN_WAIT_2: its program closed it, no program holds it, and its kernel waits
  for the other end's FIN up to the system's timeout;
- TIME_WAIT: the side that closed first keeps it for 2 MSL, and why;
- ESTABLISHED in the accept queue: the kernel finished the handshake, accept() was not
  called;
- SYN_SENT sending its SYN again: the server's accept queue is full.

No Textual here: the app shows the sentence, a script or a test can ask for it.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence

from tcp_observatory.lab.i18n import t
from tcp_observatory.lab.observe.model import Connection, RoleKind
from tcp_observatory.lab.observe.roles import describe_role, held_by_nobody

LINGER = 3.0  # seconds in CLOSE_WAIT after which it is told as held open, not passing

# Which sentence the room needs first when several rows have one.
_RANK = {"SYN_SENT": 0, "CLOSE_WAIT": 1, "FIN_WAIT_2": 2, "ESTABLISHED": 3, "TIME_WAIT": 4}


def holder(c: Connection, lang: str) -> str | None:
    """The program that holds the socket, as the OS names it ("python3"), the student's
    program's name first ("Serveur.py"); None when no program holds it."""
    name = c.role.program or c.process
    if name:
        return name  # Windows names "System" what holds nothing: said as it says it
    return t("why.program_pid", lang, pid=c.pid) if c.pid is not None else None


def _listener(c: Connection, rows: Iterable[Connection]) -> Connection | None:
    """The listening socket a connection reaches (a client's end) or came in by (the
    server's end)."""
    port = c.local.port if c.role.server_side else (c.remote.port if c.remote else None)
    for row in rows:
        if row.state == "LISTEN" and row.local.port == port:
            return row
    return None


def _server_program(c: Connection, rows: Iterable[Connection], lang: str) -> str:
    listener = _listener(c, rows)
    name = holder(listener, lang) if listener is not None else None
    return t("why.the_server", lang, program=name) if name else t("why.a_server", lang)


def explain(
    c: Connection,
    lang: str,
    *,
    held: float | None = None,
    rows: Sequence[Connection] = (),
) -> str | None:
    """One sentence saying why ``c`` is in its state, or None when nothing needs saying.

    ``held``: seconds the connection has been in its state, where known (CLOSE_WAIT is told
    only past ``LINGER``: a threaded server's lasts less than a second). ``rows``: the lab
    port's other rows, to name the server behind a listener.
    """
    who = describe_role(c.role, lang)
    state = c.state
    if state == "SYN_SENT" and c.retransmits:
        listener = _listener(c, rows)
        if (listener is not None and listener.recv_q is not None
                and listener.send_q is not None and listener.recv_q > listener.send_q):
            return t("why.syn_sent.full", lang, who=who, n=c.retransmits,
                     program=holder(c, lang) or "?", queue=listener.recv_q,
                     backlog=listener.send_q)
        return t("why.syn_sent", lang, who=who, n=c.retransmits,
                 program=holder(c, lang) or "?")
    if state == "ESTABLISHED" and c.role.kind is RoleKind.QUEUED:
        return t("why.queued", lang, who=who, server=_server_program(c, rows, lang))
    if state == "CLOSE_WAIT" and held is not None and held >= LINGER \
            and c.role.kind is not RoleKind.QUEUED:
        program = holder(c, lang) or t("why.its_program", lang)
        key = "why.close_wait.server" if c.role.server_side else "why.close_wait"
        return t(key, lang, who=who, s=float(held), program=program)
    if state == "FIN_WAIT_2" and (c.role.kind is RoleKind.ORPHANED or held_by_nobody(c)):
        limit = _left(c, lang) or t("why.fin_timeout", lang)
        return t("why.fin_wait_2", lang, who=who, limit=limit)
    if state == "TIME_WAIT":
        return t("why.time_wait", lang, who=who, limit=_left(c, lang))
    return None


def _left(c: Connection, lang: str) -> str:
    """What is left of the kernel's timer, where the source tells it (else nothing)."""
    return "" if c.timer_left is None else t("why.left", lang, s=float(c.timer_left))


def most_telling(
    rows: Sequence[Connection],
    lang: str,
    held: Callable[[Connection], float | None] = lambda _c: None,
) -> tuple[Connection, str] | None:
    """The row whose sentence the room needs first, and that sentence (None if no row has
    one): a client left in SYN_SENT, then a CLOSE_WAIT held open, an orphaned FIN_WAIT_2, a
    connection waiting for accept(), a TIME_WAIT; among equals, the one held longest."""
    best: tuple[tuple[int, float], Connection, str] | None = None
    for c in rows:
        if c.role.kind is RoleKind.OTHER or c.state not in _RANK:
            continue
        h = held(c)
        why = explain(c, lang, held=h, rows=rows)
        if why is None:
            continue
        rank = (_RANK[c.state], -(h or 0.0))
        if best is None or rank < best[0]:
            best = (rank, c, why)
    return None if best is None else (best[1], best[2])
