"""The lab's steps as data, how to set each one up, and what proves it was done.

The app shows the steps and runs their setup with one key; the bundle stores what the kernel
showed when the screenshot was taken; ``check_evidence`` decides, from that data alone, whether
the screenshot shows what the step asks for. The checks are pure functions over connection
records, so the app, the tests and a grader's ``verify`` (on a snapshot rebuilt from JSON)
all reach the same verdict.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from lab.errors import LabError
from lab.framing import is_fin
from lab.i18n import t
from lab.observe.model import Connection, RoleKind, Snapshot
from lab.server import SINGLE, THREADED

if TYPE_CHECKING:
    from lab.observe.roles import Registry
    from lab.server import ServerEvent
    from lab.session import Session

# (French, English)
Bilingual = tuple[str, str]
# ("mode", "single") ("close_after_fin", False) ("clients", 2) ("send", 1, "Bonjour") ("fin", 1)
SetupOp = tuple[Any, ...]
# (client number or None when the sender is unknown, text) as the server received it
Message = tuple[int | None, str]
# wait(predicate, timeout) -> True once predicate() held, False when the time ran out
Wait = Callable[[Callable[[], bool], float], bool]

SETUP_TIMEOUT = 10.0  # seconds one setup operation may take (a connect, an accept, a close)


@dataclass(frozen=True)
class Step:
    id: str
    part: int
    title: Bilingual
    todo: Bilingual
    question: Bilingual
    evidence: Bilingual
    setup: tuple[SetupOp, ...]
    mode: str  # the server mode the step is about

    def text(self, what: str, lang: str) -> str:
        """``what`` is title, todo, question or evidence."""
        pair: Bilingual = getattr(self, what)
        return pair[0] if lang == "fr" else pair[1]


STEPS: tuple[Step, ...] = (
    Step(
        id="p1-q1",
        part=1,
        title=("Un serveur, un client", "One server, one client"),
        todo=(
            "Le serveur simple (listing 2) tourne et un client s'y connecte. Trouvez dans le "
            "tableau les lignes du port du TP et lisez leur état, puis envoyez un message "
            "depuis le client.",
            "The single server (listing 2) runs and one client connects to it. Find the lab "
            "port's rows in the table and read their state, then send a message from the "
            "client.",
        ),
        question=(
            "Quelles lignes concernent le port du serveur, et dans quel état est la connexion "
            "entre le client et le serveur ?",
            "Which rows concern the server's port, and what state is the connection between "
            "the client and the server in?",
        ),
        evidence=(
            "Le serveur en LISTEN, la connexion ESTABLISHED vue de ses deux extrémités (serveur "
            "et client), et au moins un message reçu par le serveur.",
            "The server in LISTEN, the connection ESTABLISHED seen from both ends (server and "
            "client), and at least one message received by the server.",
        ),
        setup=(
            ("mode", SINGLE),
            ("close_after_fin", False),
            ("clients", 1),
            ("send", 1, "Bonjour"),
        ),
        mode=SINGLE,
    ),
    Step(
        id="p1-q2",
        part=1,
        title=("Qui possède quoi ; fermer avec « Fin »", "Who owns what; closing with \"Fin\""),
        todo=(
            "Lisez la colonne Processus, l'équivalent de netstat -b, pour chaque ligne. Envoyez "
            "ensuite « Fin » depuis le client et regardez l'état de chaque extrémité.",
            "Read the Process column, the equivalent of netstat -b, for each row. Then send "
            "\"Fin\" from the client and look at the state of each end.",
        ),
        question=(
            "Quel processus détient chaque extrémité ? Après « Fin », dans quel état est le "
            "côté client, et le côté serveur ? Pourquoi le côté client n'a-t-il plus de "
            "processus ?",
            "Which process holds each end? After \"Fin\", what state is the client's end in, "
            "and the server's? Why does the client's end no longer have a process?",
        ),
        evidence=(
            "Pour une même connexion, après un « Fin » reçu : le côté serveur en CLOSE_WAIT, "
            "toujours détenu par le serveur, et le côté client en FIN_WAIT_2.",
            "For one connection, after a \"Fin\" was received: the server's end in CLOSE_WAIT, "
            "still held by the server, and the client's end in FIN_WAIT_2.",
        ),
        setup=(
            ("mode", SINGLE),
            ("close_after_fin", False),
            ("clients", 1),
            ("send", 1, "Bonjour"),
            ("fin", 1),
        ),
        mode=SINGLE,
    ),
    Step(
        id="p1-q3",
        part=1,
        title=("Deux clients, serveur simple", "Two clients, single server"),
        todo=(
            "Toujours avec le serveur simple, connectez deux clients et envoyez un message "
            "depuis chacun.",
            "Still with the single server, connect two clients and send a message from each.",
        ),
        question=(
            "Le serveur reçoit-il les messages des deux clients ? Sinon, où le second client "
            "attend-il, et pourquoi ?",
            "Does the server receive both clients' messages? If not, where does the second "
            "client wait, and why?",
        ),
        evidence=(
            "Deux clients en ESTABLISHED ; côté serveur, l'un est servi et l'autre attend dans "
            "la file d'accept() sans processus ; seuls les messages du client servi sont reçus.",
            "Two clients ESTABLISHED; on the server's side one is served and the other waits "
            "in the accept() queue with no process; only the served client's messages arrive.",
        ),
        setup=(
            ("mode", SINGLE),
            ("close_after_fin", False),
            ("clients", 2),
            ("send", 1, "Bonjour du client 1"),
            ("send", 2, "Bonjour du client 2"),
        ),
        mode=SINGLE,
    ),
    Step(
        id="p2-q1",
        part=2,
        title=("Serveur multi-thread, deux clients", "Threaded server, two clients"),
        todo=(
            "Passez au serveur multi-thread (listing 3), connectez deux clients sans fermer le "
            "premier et envoyez un message depuis chacun. Relevez les lignes du port du TP.",
            "Switch to the threaded server (listing 3), connect two clients without closing "
            "the first, and send a message from each. Note the lab port's rows.",
        ),
        question=(
            "Les deux clients sont-ils servis en même temps ? Que montrent les lignes du port "
            "du TP, par rapport à la question 3 de la partie 1 ?",
            "Are both clients served at the same time? What do the lab port's rows show, "
            "compared with question 3 of part 1?",
        ),
        evidence=(
            "Deux connexions côté serveur en ESTABLISHED, chacune servie par le serveur, et des "
            "messages reçus de deux clients différents.",
            "Two server-side connections ESTABLISHED, each served by the server, and messages "
            "received from two different clients.",
        ),
        setup=(
            ("mode", THREADED),
            ("clients", 2),
            ("send", 1, "Bonjour du client 1"),
            ("send", 2, "Bonjour du client 2"),
        ),
        mode=THREADED,
    ),
    Step(
        id="p2-fin",
        part=2,
        title=("« Fin » avec le serveur multi-thread", "\"Fin\" with the threaded server"),
        todo=(
            "Avec le serveur multi-thread, envoyez « Fin » depuis un client et regardez quelle "
            "extrémité de la connexion reste visible.",
            "With the threaded server, send \"Fin\" from a client and see which end of the "
            "connection remains visible.",
        ),
        question=(
            "Quelle extrémité finit en TIME_WAIT, et pourquoi celle-ci plutôt que l'autre ? "
            "Combien de temps y reste-t-elle ?",
            "Which end finishes in TIME_WAIT, and why that one rather than the other? How long "
            "does it stay there?",
        ),
        evidence=(
            "Le côté client en TIME_WAIT sur le port du TP, après un « Fin » reçu par le "
            "serveur multi-thread.",
            "The client's end in TIME_WAIT on the lab port, after the threaded server received "
            "a \"Fin\".",
        ),
        setup=(
            ("mode", THREADED),
            ("clients", 1),
            ("send", 1, "Bonjour"),
            ("fin", 1),
        ),
        mode=THREADED,
    ),
)

STEP_IDS: tuple[str, ...] = tuple(s.id for s in STEPS)
_BY_ID = {s.id: s for s in STEPS}


def get_step(step_id: str) -> Step:
    try:
        return _BY_ID[step_id]
    except KeyError:
        raise LabError(
            f"Unknown step {step_id!r}: the steps are {', '.join(STEP_IDS)}."
        ) from None


def next_step_id(step_id: str) -> str | None:
    """The step after ``step_id``, or None after the last one."""
    i = STEP_IDS.index(step_id)
    return STEP_IDS[i + 1] if i + 1 < len(STEP_IDS) else None


# -- setting a step up ---------------------------------------------------------------------
def poll_wait(predicate: Callable[[], bool], timeout: float) -> bool:
    """A ``Wait`` for plain threads: check every 20 ms until true or out of time."""
    deadline = time.monotonic() + timeout
    while True:
        if predicate():
            return True
        if time.monotonic() >= deadline:
            return False
        time.sleep(0.02)


def run_setup(
    session: Session,
    step: Step | str,
    wait: Wait = poll_wait,
    *,
    timeout: float = SETUP_TIMEOUT,
    lang: str = "en",
) -> list[int]:
    """Put the lab in the state a step starts from; return the session numbers of its clients.

    Blocks while it waits (for a connect, an accept, a close), so run it off the UI thread.
    Raises LabError (one sentence in ``lang``) when the lab does not get there in time.
    """
    step = get_step(step) if isinstance(step, str) else step
    numbers: list[int] = []

    def need(predicate: Callable[[], bool], what: str) -> None:
        if not wait(predicate, timeout):
            raise LabError(t("setup.timeout", lang, step=step.id, what=what, s=timeout))

    for op in step.setup:
        kind = op[0]
        if kind == "mode":
            if session.mode != op[1]:
                session.switch_mode(op[1])
            if not session.server_running:
                session.start_server()
        elif kind == "close_after_fin":
            if session.close_after_fin != bool(op[1]):
                session.set_close_after_fin(bool(op[1]))
        elif kind == "clients":
            for old in list(session.clients):
                session.remove_client(old)
            numbers = []
            for index in range(int(op[1])):
                number = session.add_client()
                numbers.append(number)
                client = session.clients[number]
                need(lambda c=client: c.state != "connecting",
                     t("setup.connect", lang, n=number))
                if client.state != "connected":
                    raise client.error or LabError(t("setup.connect_failed", lang, n=number))
                # The single server accepts only the first; the others wait in its queue.
                if session.mode == THREADED or index == 0:
                    need(lambda c=client: c.local in session.registry.copy()[1],
                         t("setup.accept", lang, n=number))
        elif kind in ("send", "fin"):
            number = _step_client(numbers, int(op[1]), step.id)
            text = "Fin" if kind == "fin" else str(op[2])
            if not session.send(number, text):
                raise LabError(t("setup.send_failed", lang, n=number))
            if kind == "fin":
                client = session.clients.get(number)
                if client is not None:
                    need(lambda c=client: c.state in ("closed", "failed"),
                         t("setup.close", lang, n=number))
        else:
            raise ValueError(f"unknown setup operation {op!r} in step {step.id}")
    return numbers


def _step_client(numbers: list[int], index: int, step_id: str) -> int:
    if not 1 <= index <= len(numbers):
        raise ValueError(f"step {step_id}: client {index} used before ('clients', n) made it")
    return numbers[index - 1]


def message_of(event: ServerEvent, registry: Registry) -> Message | None:
    """The (client number, text) of a server "message" event, or None for other events.

    The server knows its peer by address; the registry maps a client's local address to its
    number (None for a program outside the app, such as the handout's client.py).
    """
    if event.kind != "message":
        return None
    number = registry.copy()[0].get(event.peer) if event.peer is not None else None
    return (number, event.text)


# -- evidence ------------------------------------------------------------------------------
@dataclass
class Evidence:
    met: bool
    found: list[str] = field(default_factory=list)
    missing: list[str] = field(default_factory=list)

    def to_json(self) -> dict[str, Any]:
        return {"met": self.met, "found": list(self.found), "missing": list(self.missing)}


class _Facts:
    def __init__(self, lang: str) -> None:
        self.lang = lang
        self.found: list[str] = []
        self.missing: list[str] = []

    def check(self, ok: object, found_key: str, missing_key: str, **values: object) -> bool:
        if ok:
            self.found.append(t(found_key, self.lang, **values))
        else:
            self.missing.append(t(missing_key, self.lang, **values))
        return bool(ok)

    def note(self, key: str, **values: object) -> None:
        self.found.append(t(key, self.lang, **values))


def check_evidence(
    step_id: str,
    snapshot: Snapshot | Iterable[Connection],
    messages: Sequence[Message],
    mode: str,
    *,
    port: int | None = None,
    lang: str = "fr",
) -> Evidence:
    """Whether ``snapshot`` (roles set) and the messages received during the step show it.

    ``port`` is the lab port; by default it is read from the listening row or the server's
    rows. A message whose client number is None counts for whichever client a rule needs
    (the app could not tell who sent it), but never against one.
    """
    conns = list(snapshot.connections if isinstance(snapshot, Snapshot) else snapshot)
    port = port if port is not None else lab_port(conns)
    facts = _Facts(lang)
    check = _CHECKS.get(step_id)
    if check is None:
        raise LabError(f"Unknown step {step_id!r}: the steps are {', '.join(STEP_IDS)}.")
    met = check(_View(conns, port), messages, mode, facts)
    return Evidence(met, facts.found, facts.missing)


def lab_port(conns: Iterable[Connection]) -> int | None:
    """The lab port: the listening socket's, else the port of the server's own ends."""
    conns = list(conns)
    for c in conns:
        if c.role.kind is RoleKind.LISTENER:
            return c.local.port
    for c in conns:
        if c.role.server_side:
            return c.local.port
    return None


class _View:
    """The lab port's rows, and the opposite end of a connection by its key."""

    def __init__(self, conns: list[Connection], port: int | None) -> None:
        self.port = port
        self.conns = conns
        self.by_key = {c.key: c for c in conns}

    def listeners(self) -> list[Connection]:
        return [c for c in self.conns if c.role.kind is RoleKind.LISTENER and c.state == "LISTEN"
                and (self.port is None or c.local.port == self.port)]

    def server_ends(self, state: str, kind: RoleKind) -> list[Connection]:
        return [c for c in self.conns if c.role.server_side and c.state == state
                and c.role.kind is kind and c.remote is not None
                and (self.port is None or c.local.port == self.port)]

    def client_ends(self, state: str, kinds: tuple[RoleKind, ...]) -> list[Connection]:
        return [c for c in self.conns if not c.role.server_side and c.state == state
                and c.role.kind in kinds and c.remote is not None
                and (self.port is None or c.remote.port == self.port)]

    def opposite(self, c: Connection) -> Connection | None:
        if c.remote is None:
            return None
        return self.by_key.get((c.remote, c.local))


def _number(*rows: Connection | None) -> int | None:
    for r in rows:
        if r is not None and r.role.client is not None:
            return r.role.client
    return None


def _said(messages: Sequence[Message], number: int | None, *, fin: bool) -> list[str]:
    """Texts from client ``number`` ("Fin" only, or everything but), unknown senders included."""
    return [text for n, text in messages
            if (n is None or number is None or n == number) and is_fin(text) == fin]


def _pair(server: Connection, client: Connection) -> dict[str, object]:
    return {"server": str(server.local), "client": str(client.local),
            "n": _number(server, client) or "?"}


def _mode_ok(mode: str, want: str, facts: _Facts) -> bool:
    return facts.check(mode == want, "ev.mode", "ev.mode.missing", mode=t(f"mode.{want}",
                                                                         facts.lang))


def _listen_ok(view: _View, facts: _Facts) -> bool:
    rows = view.listeners()
    return facts.check(rows, "ev.listen", "ev.listen.missing",
                       addr=str(rows[0].local) if rows else view.port)


def _check_p1_q1(view: _View, messages: Sequence[Message], mode: str, facts: _Facts) -> bool:
    ok = _mode_ok(mode, SINGLE, facts)
    ok &= _listen_ok(view, facts)
    pairs = []
    for s in view.server_ends("ESTABLISHED", RoleKind.SERVER):
        c = view.opposite(s)
        if c is not None and not c.role.server_side and c.role.kind is RoleKind.CLIENT \
                and c.state == "ESTABLISHED":
            pairs.append((s, c))
    ok &= facts.check(pairs, "ev.established", "ev.established.missing",
                      **(_pair(*pairs[0]) if pairs else {}))
    said = [m for s, c in pairs for m in _said(messages, _number(s, c), fin=False)]
    if not pairs:
        said = _said(messages, None, fin=False)
    ok &= facts.check(said, "ev.message", "ev.message.missing", n=len(said))
    return bool(ok)


def _check_p1_q2(view: _View, messages: Sequence[Message], mode: str, facts: _Facts) -> bool:
    ok = _mode_ok(mode, SINGLE, facts)
    pairs = []
    for s in view.server_ends("CLOSE_WAIT", RoleKind.SERVER):
        c = view.opposite(s)
        if c is not None and not c.role.server_side and c.state == "FIN_WAIT_2" \
                and c.role.kind in (RoleKind.ORPHANED, RoleKind.CLIENT):
            pairs.append((s, c))
    ok &= facts.check(pairs, "ev.close_wait", "ev.close_wait.missing",
                      **(_pair(*pairs[0]) if pairs else {}))
    if pairs:
        s, c = pairs[0]
        facts.note("ev.owner", who=s.process or "?", pid=s.pid if s.pid is not None else "?")
        if c.pid is None:
            facts.note("ev.orphan")
    fins = [m for s, c in pairs for m in _said(messages, _number(s, c), fin=True)]
    if not pairs:
        fins = _said(messages, None, fin=True)
    ok &= facts.check(fins, "ev.fin", "ev.fin.missing")
    return bool(ok)


def _check_p1_q3(view: _View, messages: Sequence[Message], mode: str, facts: _Facts) -> bool:
    ok = _mode_ok(mode, SINGLE, facts)
    clients = view.client_ends("ESTABLISHED", (RoleKind.CLIENT,))
    ok &= facts.check(len(clients) >= 2, "ev.two_clients", "ev.two_clients.missing",
                      n=len(clients))
    client_keys = {(c.remote, c.local) for c in clients}
    served = [s for s in view.server_ends("ESTABLISHED", RoleKind.SERVER) if s.key in client_keys]
    queued = [q for q in view.server_ends("ESTABLISHED", RoleKind.QUEUED)
              if q.key in client_keys and q.pid is None]
    served_n = _number(served[0], view.opposite(served[0])) if served else None
    queued_ns = {_number(q, view.opposite(q)) for q in queued} - {None}
    ok &= facts.check(served, "ev.served", "ev.served.missing", n=served_n or "?")
    ok &= facts.check(queued, "ev.queued", "ev.queued.missing",
                      n=", ".join(str(n) for n in sorted(queued_ns)) or "?")
    said = _said(messages, served_n, fin=False) if served else []
    ok &= facts.check(said, "ev.message", "ev.message.missing", n=len(said))
    leaked = [text for n, text in messages if n is not None and n in queued_ns]
    ok &= facts.check(not leaked, "ev.queued_silent", "ev.queued_silent.missing",
                      n=", ".join(str(n) for n in sorted(queued_ns)) or "?")
    return bool(ok)


def _check_p2_q1(view: _View, messages: Sequence[Message], mode: str, facts: _Facts) -> bool:
    ok = _mode_ok(mode, THREADED, facts)
    served = view.server_ends("ESTABLISHED", RoleKind.SERVER)
    peers = {s.remote for s in served}
    ok &= facts.check(len(peers) >= 2, "ev.two_served", "ev.two_served.missing", n=len(peers))
    senders = {n for n, text in messages if n is not None and not is_fin(text)}
    unknown = sum(1 for n, text in messages if n is None and not is_fin(text))
    served_ns = {_number(s, view.opposite(s)) for s in served} - {None}
    # Known senders must be clients the server serves; unknown ones may fill the gap.
    distinct = len(senders & served_ns if served_ns else senders) + unknown
    ok &= facts.check(distinct >= 2, "ev.two_senders", "ev.two_senders.missing",
                      n=min(distinct, 99))
    return bool(ok)


def _check_p2_fin(view: _View, messages: Sequence[Message], mode: str, facts: _Facts) -> bool:
    ok = _mode_ok(mode, THREADED, facts)
    waits = view.client_ends("TIME_WAIT", (RoleKind.ORPHANED, RoleKind.CLIENT))
    # Only a client that sent "Fin" during this step counts (older TIME_WAITs linger 60 s).
    fin_from = {n for n, text in messages if is_fin(text)}
    mine = [w for w in waits if None in fin_from or w.role.client in fin_from]
    ok &= facts.check(fin_from, "ev.fin", "ev.fin.missing")
    row = mine[0] if mine else None
    ok &= facts.check(row is not None, "ev.time_wait", "ev.time_wait.missing",
                      client=str(row.local) if row else "?", server=str(row.remote) if row else "?",
                      n=(row.role.client if row else None) or "?")
    if row is not None and view.opposite(row) is None:
        facts.note("ev.server_gone")
    return bool(ok)


_CHECKS: dict[str, Callable[[_View, Sequence[Message], str, _Facts], bool]] = {
    "p1-q1": _check_p1_q1,
    "p1-q2": _check_p1_q2,
    "p1-q3": _check_p1_q3,
    "p2-q1": _check_p2_q1,
    "p2-fin": _check_p2_fin,
}
