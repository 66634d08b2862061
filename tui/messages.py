"""Messages that carry work done off the UI thread to the UI, without blocking the sender.

``post_message`` is thread-safe and returns at once; ``call_from_thread`` would make the
worker wait for the UI. Snapshot messages replace one another when the UI falls behind, so
a slow screen is never flooded; transitions travel apart so that none is lost.
"""

from __future__ import annotations

from pathlib import Path

from textual.message import Message

from lab.grading.manifest import SavedScreenshot
from lab.observe.model import Snapshot
from lab.session import Event, ProgramReport


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
