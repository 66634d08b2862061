"""The kernel as the witness of a step's messages, whoever wrote the server.

The built-in server reports each message it receives; a student's server (hosted with
--exec-server, or observed with --no-server) may print nothing. On Linux the kernel counts
the bytes each socket received (``Connection.bytes_received``), so a message reached the
server when the server's end of its client's connection received that many bytes since
the step began. The witness keeps, for one scene (a step's story):

- a baseline: the bytes each lab socket had received when the scene began, so that bytes
  of an earlier step never count for this one;
- the most each served end (held by the server, not waiting in the accept queue) received
  since, kept after the socket went (a threaded server closes its end at once after "Fin");
- the lines typed in each client, in order: what the bytes are checked against;
- the clients whose FIN was acknowledged (FIN_WAIT_2, TIME_WAIT) after "Fin" was typed in
  them: TCP acknowledges a FIN only after every byte before it, so all they sent arrived.

What it saw becomes ``Receipt`` records, which the evidence checks (and ``verify``) read.
Not thread-safe: the app's UI thread owns it.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING

from tcp_observatory.lab.guide.evidence import UNKNOWN_MODE, Message, Receipt
from tcp_observatory.lab.net.framing import is_fin
from tcp_observatory.lab.observe.model import Connection, Endpoint, RoleKind

if TYPE_CHECKING:
    from tcp_observatory.lab.session import Session

Key = tuple[Endpoint, Endpoint | None]

# States reached after the peer's FIN arrived: the kernel counts that FIN as one byte.
_FIN_IN = frozenset({"CLOSE_WAIT", "LAST_ACK", "CLOSING", "TIME_WAIT"})
# A client's end whose own FIN was acknowledged.
_FIN_ACKED = frozenset({"FIN_WAIT_2", "TIME_WAIT"})
MAX_TYPED = 200  # lines kept per client and per step (a receipt stores them)
MAX_CHARS = 500  # of each line


def data_received(c: Connection) -> int | None:
    """The data bytes ``c`` received from its peer (its peer's FIN left out), or None."""
    if c.bytes_received is None:
        return None
    return max(0, c.bytes_received - (1 if c.state in _FIN_IN else 0))


def server_mode(session: Session) -> str:
    """The mode the evidence judges: the built-in server's, while it runs; otherwise the
    server on the lab port is not the app's (--exec-server, --no-server, F8) and its mode
    is judged by its behaviour."""
    return session.mode if session.server_running else UNKNOWN_MODE


class StepWitness:
    def __init__(self) -> None:
        self.scene: float | None = None  # the scene this witness was begun for
        self._baseline: dict[Key, int] = {}
        self._received: dict[Key, tuple[int | None, str, int]] = {}  # (client, peer, bytes)
        self._typed: dict[int, list[str]] = {}
        self._fin_typed: set[int] = set()
        self._fin_acked: dict[Key, tuple[int, str]] = {}  # server end's key -> (client, peer)
        self._closed_before: set[Key] = set()  # client ends closed before "Fin" was typed
        self._printed: set[tuple[int, int]] = set()  # (client, line index) a server printed

    def begin(self, scene: float, rows: Iterable[Connection]) -> None:
        """Start the witness of a new scene: every socket's bytes so far are the baseline."""
        self.scene = scene
        self._baseline = {c.key: n for c in rows if (n := data_received(c)) is not None}
        self._received.clear()
        self._typed.clear()
        self._fin_typed.clear()
        self._fin_acked.clear()
        self._closed_before.clear()
        self._printed.clear()

    def typed(self, client: int, text: str) -> None:
        """A line typed (or sent by the app) in client ``client`` during the scene."""
        lines = self._typed.setdefault(client, [])
        if len(lines) < MAX_TYPED:
            lines.append(text[:MAX_CHARS])
        if is_fin(text):
            self._fin_typed.add(client)

    def printed(self, line: str) -> Message | None:
        """The message the student's server just printed (its client, the line as typed),
        or None. A typed line not matched before counts when the printed line is that
        line, or ends with it after a space (the handout's listing 3 prints "Client
        ('127.0.0.1', 50000) a dit : Bonjour"): a whole line first, then the longest end."""
        text = line.strip()
        if not text:
            return None
        best: tuple[int, int, int] | None = None  # (rank, client, index): lowest wins
        for client, lines in self._typed.items():
            for i, typed in enumerate(lines):
                if not typed or (client, i) in self._printed:
                    continue
                if typed == text:
                    rank = 0
                elif text.endswith(" " + typed):
                    rank = MAX_CHARS + 1 - len(typed)
                else:
                    continue
                if best is None or (rank, client, i) < best:
                    best = (rank, client, i)
        if best is None:
            return None
        _rank, client, index = best
        self._printed.add((client, index))
        return client, self._typed[client][index]

    def feed(self, rows: Iterable[Connection]) -> None:
        """Look at the scene's rows (roles set): bytes on served ends, acknowledged FINs."""
        for c in rows:
            role = c.role
            if c.remote is None:
                continue
            if role.server_side:
                if role.kind is not RoleKind.SERVER:
                    continue  # waiting in the accept queue: not received by the server yet
                got = data_received(c)
                if got is None:
                    continue
                since = got - self._baseline.get(c.key, 0)
                seen = self._received.get(c.key)
                if since > 0 and (seen is None or since > seen[2]):
                    self._received[c.key] = (role.client, str(c.remote), since)
            elif role.client is not None and role.kind in (RoleKind.CLIENT, RoleKind.ORPHANED):
                if c.state not in _FIN_ACKED:
                    continue
                if role.client in self._fin_typed and c.key not in self._closed_before:
                    self._fin_acked[(c.remote, c.local)] = (role.client, str(c.local))
                elif role.client not in self._fin_typed:
                    self._closed_before.add(c.key)

    def receipts(self) -> list[Receipt]:
        """What the kernel showed during the scene, one receipt per connection."""
        out: list[Receipt] = []
        for key in dict.fromkeys([*self._received, *self._fin_acked]):
            got, acked = self._received.get(key), self._fin_acked.get(key)
            if got is not None:
                client, peer, received = got
            else:
                assert acked is not None
                (client, peer), received = acked, None
            if client is None and acked is not None:
                client = acked[0]
            typed = tuple(self._typed.get(client, ())) if client is not None else ()
            out.append(Receipt(client, peer, received, acked is not None, typed))
        return out
