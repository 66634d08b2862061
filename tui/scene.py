"""The scene: what belongs to the current step. It begins when a step is chosen, set up, or
a new server starts; from then on, the connections left by earlier steps stay in view,
marked as earlier, out of the step's evidence and its picture, and what the app did for the
step (its setup, the messages it sent) is told apart from the student's.

A plain object, owned by the app: it knows no widget. It is given the rows it needs (the
lab port's, as shown) rather than reading the views."""

from __future__ import annotations

from collections.abc import Callable, Iterable

from tcp_observatory.lab.guide.evidence import Message
from tcp_observatory.lab.guide.witness import StepWitness
from tcp_observatory.lab.net.server import ServerEvent
from tcp_observatory.lab.observe.model import Connection, Endpoint, Snapshot
from tcp_observatory.tui.bounded import keep
from tcp_observatory.tui.stepthrough import MAX_EVENTS

Key = tuple[Endpoint, Endpoint | None]  # a connection's (local, remote)

HIDDEN_GRACE = 1.0  # seconds a hidden row must be gone before it is forgotten

# States a connection ends in: what is left of a previous step's story.
FINISHED = frozenset({"TIME_WAIT", "FIN_WAIT_2", "CLOSED", "LAST_ACK", "CLOSING"})


class Scene:
    def __init__(self) -> None:
        self.start = 0.0  # when the step's scene began (its picture tells from then)
        self.earlier: set[Key] = set()  # connections of earlier steps still in view
        self._missing: dict[Key, float] = {}  # earlier rows not seen since
        self.past: set[Key] = set()  # connections of earlier scenes, out of its story
        self.by_app: list[str] = []  # the step's setup, as the app performed it
        self.sent_by_app: list[Message] = []  # messages of the step the app sent
        self.messages: list[Message] = []  # the messages the step's server received
        self.refused: list[int] = []  # clients whose connect was refused in this step
        # The kernel's witness of the scene's messages (bytes reaching the server's socket,
        # whoever wrote the server); begun again with each scene (``witness``).
        self._witness = StepWitness()
        # A scene begun before the app's first snapshot (a step chosen at once): the rows
        # that snapshot shows already finished were closed before it (another run's
        # TIME_WAIT on the lab port) and are earlier ones (``first_look``).
        self._unseen = False

    def begin(self, when: float, rows: Iterable[Connection] | None, *, finished_only: bool,
              keep_setup: bool = False) -> None:
        """A new scene from ``when``: the step's messages and refusals start again, and the
        lab's connections in ``rows`` (the lab port's rows on screen) belong to an earlier
        story (only those already finished, with ``finished_only``): they stay in the
        table, marked, and leave the step's evidence and picture. The listener is every
        scene's. ``keep_setup``: a new server within a step keeps what its setup did.
        ``rows`` None: no snapshot seen yet (see ``first_look``)."""
        self.messages = []
        self.refused = []
        self.sent_by_app = []
        if not keep_setup:
            self.by_app = []
        self.start = when
        if rows is None:
            self._unseen, rows = True, ()
        self.earlier |= {c.key for c in rows if c.state != "LISTEN" and (
            not finished_only or c.state in FINISHED)}
        self.past = set(self.earlier)
        self._missing.clear()

    def first_look(self, lab: Callable[[], Snapshot]) -> None:
        """The first snapshot after a scene begun before any (``begin`` with no rows): its
        lab rows (``lab()``, asked only then) already finished belong to an earlier story,
        as ``begin`` would have said."""
        if not self._unseen:
            return
        self._unseen = False
        finished = {c.key for c in lab().connections if c.state in FINISHED}
        self.earlier |= finished
        self.past |= finished

    def set_up(self, by_app: list[str]) -> None:
        """What the app did to set the step's scene up, in words (kept with its picture)."""
        self.by_app = by_app

    def heard(self, said: Message) -> None:
        """A message the step's server received (its report, or its program's line)."""
        keep(self.messages, [said], MAX_EVENTS)

    def sent(self, said: Message) -> None:
        """A message of the step the app sent, not the student."""
        keep(self.sent_by_app, [said], MAX_EVENTS)

    def refuse(self, client: int) -> None:
        """Client ``client``'s connect was refused (Windows, at a full accept queue)."""
        if client not in self.refused:
            self.refused.append(client)

    def track(self, snapshot: Snapshot) -> None:
        """Keep the set of earlier connections true for a new snapshot (every socket the
        kernel holds is still shown).

        An earlier row gone for ``HIDDEN_GRACE`` seconds is forgotten (its address pair
        may be used again). Not at once: a listing may miss a socket for one poll while
        the kernel turns it into a TIME_WAIT, and it must not come back as the step's."""
        earlier, missing = self.earlier, self._missing
        if not earlier:
            return
        if snapshot.gone is not None and snapshot.changed is not None:
            back = {c.key for c in snapshot.changed}  # O(change), not O(connections)
            for key in back:
                missing.pop(key, None)
            for c in snapshot.gone:
                if c.key in earlier and c.key not in back:
                    missing.setdefault(c.key, snapshot.time)
        else:
            present = {c.key for c in snapshot.connections}
            for key in earlier:
                if key in present:
                    missing.pop(key, None)
                else:
                    missing.setdefault(key, snapshot.time)
        for key, since in list(missing.items()):
            if snapshot.time - since >= HIDDEN_GRACE:
                earlier.discard(key)
                del missing[key]

    def only(self, snapshot: Snapshot) -> Snapshot:
        """The step's own rows: without the connections of earlier steps (what its
        evidence and its picture read)."""
        earlier = self.earlier
        if not earlier:
            return snapshot
        kept = tuple(c for c in snapshot.connections if c.key not in earlier)
        if len(kept) == len(snapshot.connections):
            return snapshot
        return snapshot._replace(connections=kept, seq=0, changed=None, gone=None)

    def earlier_count(self, lab: Snapshot) -> int:
        """How many of the lab's connections (``lab``: the lab port's rows) are from
        earlier steps."""
        earlier = self.earlier
        return sum(1 for c in lab.connections if c.key in earlier)

    def from_earlier(self, e: ServerEvent) -> bool:
        """Whether the server event came over a connection of an earlier step (its
        message is not this step's evidence)."""
        peer = e.peer
        return peer is not None and any(
            key[0] == peer or key[1] == peer for key in self.earlier)

    def witness(self, rows: Callable[[], Iterable[Connection]]) -> StepWitness:
        """The kernel's witness of the scene. A new scene begins it again, its baseline
        the bytes each lab socket had received by the last poll (``rows``: the lab port's
        rows shown, asked only then): bytes of an earlier step never count for this one."""
        witness = self._witness
        if witness.scene != self.start:
            witness.begin(self.start, tuple(rows()))
        return witness
