"""Messages that carry work done off the UI thread to the UI, without blocking the sender.

``post_message`` is thread-safe and returns at once; ``call_from_thread`` would make the
worker wait for the UI. Snapshot messages replace one another when the UI falls behind, so
a slow screen is never flooded; transitions travel apart so that none is lost.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from pathlib import Path

from textual.message import Message

from tcp_observatory.lab.grading.manifest import SavedScreenshot
from tcp_observatory.lab.observe.model import Snapshot, Transition
from tcp_observatory.lab.session import Event, ObserverUpdate, ProgramReport


class SessionMessage(Message):
    """Anything the session reports, other than snapshots."""

    def __init__(self, event: Event) -> None:
        super().__init__()
        self.event = event


class ProgramMessage(Message):
    """Reports of the student's programs wait in ``batch`` (``tui.live``), which grows until
    another event comes: one message for many lines, so a program printing 200 lines a
    second costs a few screen updates, not 200."""

    def __init__(self, batch: list[ProgramReport]) -> None:
        super().__init__()
        self.batch = batch


class SnapshotMessage(Message):
    """The latest snapshot; an older one still queued is dropped."""

    def __init__(self, snapshot: Snapshot) -> None:
        super().__init__()
        self.snapshot = snapshot

    def can_replace(self, message: Message) -> bool:
        return isinstance(message, SnapshotMessage)


class Notice(Message):
    """A sentence for the user from a worker: a toast."""

    def __init__(self, text: str, *, error: bool = False, timeout: float = 3) -> None:
        super().__init__()
        self.text = text
        self.error = error
        self.timeout = timeout


class ShotSaved(Message):
    """A step's screenshot and its manifest entry are on disk."""

    def __init__(self, step: str, saved: SavedScreenshot) -> None:
        super().__init__()
        self.step = step
        self.saved = saved


class ShotFailed(Message):
    """A step's screenshot could not be written: the sentence says why."""

    def __init__(self, step: str, error: str, path: Path | None = None) -> None:
        super().__init__()
        self.step = step
        self.error = error
        self.path = path


class Inbox:
    """What the session's threads hand over to the UI: ``put`` is called on any thread and
    never blocks. A snapshot travels as a message (a newer one replaces it); its
    transitions wait here, so that none is lost. The student's programs' reports wait in
    batches, one message per batch."""

    def __init__(self, post: Callable[[Message], object]) -> None:
        self._post = post
        self._lock = threading.Lock()
        self._transitions: list[Transition] = []
        self._batches: list[list[ProgramReport]] = []
        self._batch: list[ProgramReport] | None = None  # the one still growing
        self.first_look: float | None = None  # the time of the observer's first poll

    def put(self, event: Event) -> None:
        if isinstance(event, ObserverUpdate):
            with self._lock:
                if self.first_look is None:  # the observer's first poll the app hears of
                    self.first_look = event.snapshot.time
                self._transitions.extend(event.transitions)
            self._post(SnapshotMessage(event.snapshot))
        elif isinstance(event, ProgramReport):
            # Gathered in a batch; its first report posts the message that shows them all.
            with self._lock:
                batch = self._batch
                if batch is None:
                    batch = self._batch = []
                    self._batches.append(batch)
                    self._post(ProgramMessage(batch))
                batch.append(event)
        else:
            with self._lock:
                # Reports after this event (a client's card added) are shown after it.
                self._batch = None
                self._post(SessionMessage(event))

    def transitions(self) -> list[Transition]:
        """The transitions handed over since the last call, in order."""
        with self._lock:
            transitions, self._transitions = self._transitions, []
        return transitions

    def reports(self, last: list[ProgramReport]) -> list[ProgramReport] | None:
        """The reports of the batches up to ``last``, in order (None if shown already,
        with a later batch)."""
        with self._lock:
            if not any(batch is last for batch in self._batches):
                return None
            upto = next(i for i, batch in enumerate(self._batches) if batch is last)
            batches = self._batches[:upto + 1]
            del self._batches[:upto + 1]
            if any(batch is self._batch for batch in batches):
                self._batch = None
            return [report for batch in batches for report in batch]
