"""The recorder: what happened (every transition, the app's actions, the server's events),
the moments kept for step-through, and the pause. Paused (F7), the view holds what arrives;
[ and ] choose a recorded moment, and the views show it exactly as it was.

A plain object, owned by the app: it knows no widget. The views read it (the history, the
moment chosen); only the app writes it, in the order a snapshot takes."""

from __future__ import annotations

from tcp_observatory.lab.i18n import t
from tcp_observatory.lab.net.server import ServerEvent
from tcp_observatory.lab.observe.model import RoleKind, Snapshot, Transition
from tcp_observatory.lab.session import Action
from tcp_observatory.lab.text import clock_text
from tcp_observatory.tui.bounded import keep
from tcp_observatory.tui.widgets.connections import row_key

MAX_EVENTS = 20000  # transitions, actions, server events and messages kept in memory
MAX_MOMENTS = 5000
MAX_MOMENT_ROWS = 200_000  # connection rows kept across all recorded moments
# Shown (and active) only while paused.
STEP_ACTIONS = ("step",)
CAUSE_WINDOW = 2.0  # seconds an action may precede the state changes it caused
# What the server does, as opposed to what it receives: the causes of a change.
SERVER_DOINGS = frozenset({"accepted", "released", "closed", "refused", "idle", "aborted"})

Moment = tuple[Snapshot, list[Transition]]  # a snapshot and the transitions that led to it


class Recorder:
    def __init__(self) -> None:
        self.history: list[Transition] = []
        # What the ladder and the step's story draw from: the app's actions, the server's
        # events.
        self.actions: list[Action] = []
        self.server_events: list[ServerEvent] = []
        self.moments: list[Moment] = []
        self.step_index: int | None = None  # the moment chosen with [ or ] (paused)
        self._moment_rows = 0
        self.paused = False
        self.held_snapshot: Snapshot | None = None  # the latest snapshot, while paused
        self.held_transitions: list[Transition] = []  # what happened while paused

    # -- what happened ---------------------------------------------------------------------
    def keep(self, transitions: list[Transition]) -> None:
        keep(self.history, transitions, MAX_EVENTS)

    def keep_action(self, a: Action) -> None:
        keep(self.actions, [a], MAX_EVENTS)

    def keep_server_event(self, e: ServerEvent) -> None:
        keep(self.server_events, [e], MAX_EVENTS)

    def record(self, snapshot: Snapshot, transitions: list[Transition]) -> None:
        """Keep a moment for step-through, within a count and a total number of rows (with
        --all on a busy host each snapshot holds thousands of rows)."""
        self.moments.append((snapshot, transitions))
        self._moment_rows += len(snapshot.connections)
        drop = 0
        while len(self.moments) - drop > 1 and (
                len(self.moments) - drop > MAX_MOMENTS or self._moment_rows > MAX_MOMENT_ROWS):
            self._moment_rows -= len(self.moments[drop][0].connections)
            drop += 1
        if drop:
            del self.moments[:drop]
            if self.step_index is not None:
                self.step_index = max(0, self.step_index - drop)

    def hold(self, snapshot: Snapshot, transitions: list[Transition]) -> None:
        """Paused: the latest snapshot and what happened are kept for F7's return."""
        self.held_snapshot = snapshot
        keep(self.held_transitions, transitions, MAX_EVENTS)

    # -- the pause and the moment chosen ---------------------------------------------------
    def pause(self) -> None:
        self.paused = True

    def resume(self) -> tuple[Moment | None, bool]:
        """F7 again: the moment to show now (the latest held, with what happened while
        paused) and whether a past moment was on screen (then it is shown exactly)."""
        self.paused = False
        stepped = self.step_index is not None
        self.step_index = None
        latest = self.held_snapshot or (self.moments[-1][0] if stepped and self.moments
                                        else None)
        held, self.held_transitions = self.held_transitions, []
        self.held_snapshot = None
        return (None if latest is None else (latest, held)), stepped

    def step(self, delta: int) -> Moment | None:
        """Paused: the recorded moment before or after the one on screen."""
        if not self.paused or not self.moments:
            return None
        if self.step_index is None:
            self.step_index = len(self.moments) - 1
        self.step_index = max(0, min(len(self.moments) - 1, self.step_index + delta))
        return self.moments[self.step_index]

    def chosen_time(self) -> float | None:
        """The time of the moment chosen with [ or ], if one is."""
        if self.step_index is None or not self.moments:
            return None
        return self.moments[self.step_index][0].time

    def moment(self, lang: str) -> tuple[str, float] | None:
        """The past moment on screen (paused, stepped to with [ or ]): what to call it on
        screen, and its time; None when the view shows the present."""
        if not self.paused or self.step_index is None or not self.moments:
            return None
        when = self.moments[self.step_index][0].time
        label = t("app.past_moment", lang, i=self.step_index + 1, n=len(self.moments),
                  time=clock_text(when))
        return label, when

    # -- read back -------------------------------------------------------------------------
    def upto(self, until: float | None) -> tuple[
            list[Transition], list[Action], list[ServerEvent]]:
        """The history, the actions and the server's events up to ``until`` (None: all)."""
        if until is None:
            return self.history, self.actions, self.server_events
        return ([tr for tr in self.history if tr.time <= until],
                [a for a in self.actions if a.time <= until],
                [e for e in self.server_events if e.time <= until])

    def since(self, snapshot: Snapshot, until: float | None) -> dict[str, float]:
        """When each row of ``snapshot`` entered the state it has there (up to ``until``),
        from the history: a row's time in state at a moment stepped to."""
        state_of = {row_key(c): c.state for c in snapshot.connections}
        began: dict[str, float] = {}
        for tr in self.history:
            if tr.inferred or (until is not None and tr.time > until):
                continue
            key = row_key(tr.connection)
            if state_of.get(key) == tr.to_state and tr.time >= began.get(key, tr.time):
                began[key] = tr.time
        return began

    def last_told(self, until: float | None) -> Transition | None:
        """The lab's last change at ``until`` (None: now), as the banner tells it."""
        for tr in reversed(self.history):
            if tr.connection.role.kind is not RoleKind.OTHER and (
                    until is None or tr.time <= until):
                return tr
        return None

    def cause_of(self, when: float) -> Action | ServerEvent | None:
        """What made the lab's sockets move at ``when``: the latest thing done, just before,
        by the app (a message, "Fin", a client added...) or by the server (it accepted,
        released, closed); not what it only received (a "Fin" read is a consequence)."""
        best: Action | ServerEvent | None = None
        for a in reversed(self.actions):
            if a.time <= when + 0.05:
                best = a
                break
        for e in reversed(self.server_events):
            if e.time <= when + 0.05 and e.kind in SERVER_DOINGS:
                if best is None or e.time > best.time:
                    best = e
                break
        return best if best is not None and best.time >= when - CAUSE_WINDOW else None
