"""What proves a step was done, decided from connection records and messages alone.

The checks are pure functions over connection records, so the app, the tests and a grader's
``verify`` (on a snapshot rebuilt from JSON) all reach the same verdict.

A message counts as received when the server says so (the built-in server's events, or a
line the student's server printed equal to what a client sent), or when the kernel shows
its bytes reaching the server's socket (``Receipt``): whoever wrote the server. A server
the app did not start has no mode the app knows (``UNKNOWN_MODE``): it is judged by its
behaviour, as each step's rows show it (threaded: two clients served at the same time).
"""

from __future__ import annotations

import sys
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from tcp_observatory.lab.errors import LabError
from tcp_observatory.lab.guide.steps import STEP_IDS
from tcp_observatory.lab.i18n import t
from tcp_observatory.lab.net.framing import is_fin
from tcp_observatory.lab.net.modes import SINGLE, THREADED
from tcp_observatory.lab.observe.model import Connection, RoleKind, Snapshot
from tcp_observatory.lab.records import record

if TYPE_CHECKING:
    from tcp_observatory.lab.net.server import ServerEvent
    from tcp_observatory.lab.observe.roles import Registry

# (client number or None when the sender is unknown, text) as the server received it
Message = tuple[int | None, str]

# The mode of a server the app did not start (--exec-server, --no-server): judged by behaviour.
UNKNOWN_MODE = "unknown"


@record(frozen=True)
class Receipt:
    """What the kernel showed of one client's connection during a step.

    ``received``: bytes the server's end received since the step began, its FIN left out
    (None: never counted; this system gives no byte counts). ``fin_acked``: after "Fin"
    was typed in the client, its end reached FIN_WAIT_2 or TIME_WAIT, so its FIN was
    acknowledged, and with it every byte it sent before. ``typed``: the lines typed in the
    client during the step, in order (empty for a client outside the app). ``peer``: the
    client's end, as the sentences name it.
    """

    client: int | None
    peer: str
    received: int | None = None
    fin_acked: bool = False
    typed: tuple[str, ...] = ()

    def messages(self) -> list[Message]:
        """The lines the kernel shows to have reached the server: those typed before an
        acknowledged FIN, or as many (in order) as the bytes received hold, each line
        taking at least one byte per character. Bytes where nothing was typed (a client
        outside the app) are one message whose text is unknown ("")."""
        lines = [text for text in self.typed if text]
        if self.fin_acked:
            last = max((i for i, text in enumerate(lines) if is_fin(text)), default=-1)
            return [(self.client, text) for text in lines[:last + 1]]
        if not self.received:
            return []
        if not lines:
            return [(self.client, "")]
        out: list[Message] = []
        left = self.received
        for text in lines:
            if len(text) > left:
                break
            left -= len(text)
            out.append((self.client, text))
        return out

    def to_json(self) -> dict[str, Any]:
        return {"client": self.client, "peer": self.peer, "received": self.received,
                "fin_acked": self.fin_acked, "typed": list(self.typed)}

    @classmethod
    def from_json(cls, d: object) -> Receipt:
        """The inverse of ``to_json``; ValueError when ``d`` is not one."""
        if not isinstance(d, dict):
            raise ValueError("a kernel receipt must be a JSON object")
        client, peer, received = d.get("client"), d.get("peer"), d.get("received")
        typed = d.get("typed") or []
        if not ((client is None or type(client) is int) and isinstance(peer, str)
                and (received is None or type(received) is int)
                and isinstance(d.get("fin_acked", False), bool) and isinstance(typed, list)
                and all(isinstance(x, str) for x in typed)):
            raise ValueError(f"not a kernel receipt: {d!r}")
        return cls(client, peer, received, bool(d.get("fin_acked", False)), tuple(typed))


def _merged(messages: Sequence[Message], receipts: Sequence[Receipt],
            facts: _Facts) -> list[Message]:
    """The server's messages, and those the kernel shows it received that the server did
    not report (one the server reported is not counted twice). Each receipt that adds one
    says so, with what the kernel showed."""
    out = list(messages)
    left = list(messages)
    for r in receipts:
        added = 0
        for n, text in r.messages():
            same = next((i for i, (m, said) in enumerate(left)
                         if (m is None or n is None or m == n)
                         and (said == text or (not text and not is_fin(said)))), None)
            if same is None:
                out.append((n, text))
                added += 1
            else:
                del left[same]
        if added:
            who = r.client if r.client is not None else "?"
            if r.fin_acked:
                facts.note("ev.kernel_fin", client=who, peer=r.peer)
            else:
                facts.note("ev.kernel_bytes", n=r.received, client=who, peer=r.peer)
    return out


def message_of(event: ServerEvent, registry: Registry) -> Message | None:
    """The (client number, text) of a server "message" event, or None for other events.

    The server knows its peer by address; the registry maps a client's local address to its
    number (None for a program outside the app, such as the handout's client.py).
    """
    if event.kind != "message":
        return None
    number = registry.copy()[0].get(event.peer) if event.peer is not None else None
    return (number, event.text)


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
        self.refused: list[int] = []  # clients whose connect was refused during the step
        self.windows = False
        self.counted = False  # some row carries the kernel's byte counts

    def missing_key(self, key: str) -> str:
        """A missing message's sentence: where bytes are not counted, with what counts."""
        return key if self.counted else key + ".nobytes"

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
    refused: Sequence[int] = (),
    windows: bool | None = None,
    receipts: Sequence[Receipt] = (),
) -> Evidence:
    """Whether ``snapshot`` (roles set) and the messages received during the step show it.

    ``port`` is the lab port; by default it is read from the listening row or the server's
    rows. A message whose client number is None counts for whichever client a rule needs
    (the app could not tell who sent it), but never against one.

    ``refused``: the clients whose connect was refused during the step. On Windows
    (``windows``, default: this system) a full accept queue refuses a connection instead
    of leaving it in SYN_SENT, so there a refused second client is p1-q3's other outcome.

    ``receipts``: what the kernel showed of the step's bytes (``Receipt``); the messages
    they prove count with the server's. ``mode`` ``UNKNOWN_MODE``: a server the app did
    not start, judged by its behaviour in the step's rows.
    """
    conns = list(snapshot.connections if isinstance(snapshot, Snapshot) else snapshot)
    port = port if port is not None else lab_port(conns)
    facts = _Facts(lang)
    check = _CHECKS.get(step_id)
    if check is None:
        raise LabError(t("err.unknown_step", lang, step=repr(step_id), steps=", ".join(STEP_IDS)))
    facts.refused = list(refused)
    facts.windows = sys.platform == "win32" if windows is None else windows
    # Where no row carries byte counts (psutil, macOS, Windows), a missing message says
    # what counts instead: the server's own report of it.
    facts.counted = any(c.bytes_received is not None for c in conns)
    messages = _merged(messages, receipts, facts)
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
    if mode == UNKNOWN_MODE:  # not the app's server: the step's rows judge its behaviour
        facts.note("ev.mode.behaviour")
        return True
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
    ok &= facts.check(said, "ev.message", facts.missing_key("ev.message.missing"), n=len(said))
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
    if facts.windows and facts.refused and not _queued_clients(view):
        return _check_p1_q3_refused(view, messages, mode, facts)
    ok = _mode_ok(mode, SINGLE, facts)
    clients = view.client_ends("ESTABLISHED", (RoleKind.CLIENT,))
    ok &= facts.check(len(clients) >= 2, "ev.two_clients", "ev.two_clients.missing",
                      n=len(clients))
    client_keys = {(c.remote, c.local) for c in clients}
    served = [s for s in view.server_ends("ESTABLISHED", RoleKind.SERVER) if s.key in client_keys]
    queued = [q for q in _queued_clients(view) if q.key in client_keys]
    served_n = _number(served[0], view.opposite(served[0])) if served else None
    queued_ns = {n for q in queued if (n := _number(q, view.opposite(q))) is not None}
    ok &= facts.check(served, "ev.served", "ev.served.missing", n=served_n or "?")
    # On Windows the queue's other outcome (a refused connect) would also do: say both.
    ok &= facts.check(queued, "ev.queued",
                      "ev.queued_or_refused.missing" if facts.windows else "ev.queued.missing",
                      n=", ".join(str(n) for n in sorted(queued_ns)) or "?")
    said = _said(messages, served_n, fin=False) if served else []
    ok &= facts.check(said, "ev.message", facts.missing_key("ev.message.missing"), n=len(said))
    # Nothing heard from the waiting client: a fact only once a client waits (before, it
    # would be ticked with "(?)" for a client that is not there yet).
    if queued_ns:
        leaked = [text for n, text in messages if n is not None and n in queued_ns]
        ok &= facts.check(not leaked, "ev.queued_silent", "ev.queued_silent.missing",
                          n=", ".join(str(n) for n in sorted(queued_ns)))
    # The waiting client's message is the other half of the story: its bytes wait in the
    # queued end's Recv-Q until accept(). Where the OS does not tell queues, say so.
    if queued and all(q.recv_q is None for q in queued):
        facts.note("ev.queued_bytes.unknown")
    elif queued:
        waiting = [q for q in queued if (q.recv_q or 0) > 0]
        ok &= facts.check(waiting, "ev.queued_bytes", "ev.queued_bytes.missing",
                          n=", ".join(str(n) for n in sorted(queued_ns)) or "?",
                          bytes=waiting[0].recv_q if waiting else 0)
    return bool(ok)


def _queued_clients(view: _View) -> list[Connection]:
    return [q for q in view.server_ends("ESTABLISHED", RoleKind.QUEUED) if q.pid is None]


def _check_p1_q3_refused(view: _View, messages: Sequence[Message], mode: str,
                         facts: _Facts) -> bool:
    """Windows' story: the first client served, the second one's connect refused (the
    accept queue was full) instead of waiting in SYN_SENT."""
    ok = _mode_ok(mode, SINGLE, facts)
    served = []
    for s in view.server_ends("ESTABLISHED", RoleKind.SERVER):
        c = view.opposite(s)
        if c is not None and c.role.kind is RoleKind.CLIENT and c.state == "ESTABLISHED":
            served.append((s, c))
    served_n = _number(*served[0]) if served else None
    ok &= facts.check(served, "ev.served", "ev.served.missing", n=served_n or "?")
    said = _said(messages, served_n, fin=False) if served else []
    ok &= facts.check(said, "ev.message", facts.missing_key("ev.message.missing"), n=len(said))
    others = sorted({n for n in facts.refused if n != served_n})
    ok &= facts.check(others, "ev.refused", "ev.queued_or_refused.missing",
                      n=", ".join(str(n) for n in others) or "?")
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
    ok &= facts.check(distinct >= 2, "ev.two_senders", facts.missing_key("ev.two_senders.missing"),
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
