"""Step-through: pause the view (F7) and walk the recorded moments ([ and ]), the table, the
diagram and the ladder showing each moment exactly as it was."""

from __future__ import annotations

from lab.observe.model import Snapshot, Transition
from tui.base import ObservatoryBase

MAX_MOMENTS = 5000
MAX_MOMENT_ROWS = 200_000  # connection rows kept across all recorded moments
# Shown (and active) only while paused.
STEP_ACTIONS = ("step",)


class StepThrough(ObservatoryBase):
    def _record_moment(self, snapshot: Snapshot, transitions: list[Transition]) -> None:
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

    def action_toggle_pause(self) -> None:
        self.paused = not self.paused
        self.timeline.set_paused(self.paused)
        if self.paused:
            # Keys now drive the view, not a client's input: [ and ] step through moments.
            self.table.focus()
        else:
            stepped = self.step_index is not None
            self.step_index = None
            latest = self._held_snapshot or (self.moments[-1][0] if stepped and self.moments
                                             else None)
            held, self._held_transitions = self._held_transitions, []
            self._held_snapshot = None
            if latest is not None:
                self._show(latest, held, exact=stepped)
        self.refresh_bindings()
        self._refresh_labels()

    def action_step(self, delta: int) -> None:
        """Paused: show the recorded moment before or after the one on screen."""
        if not self.paused or not self.moments:
            return
        if self.step_index is None:
            self.step_index = len(self.moments) - 1
        self.step_index = max(0, min(len(self.moments) - 1, self.step_index + delta))
        snapshot, transitions = self.moments[self.step_index]
        self._show(snapshot, transitions, exact=True)
        self._refresh_labels()

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action in STEP_ACTIONS:
            return self.paused
        return True

