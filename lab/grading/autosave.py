"""The student's work written as it is typed, off the caller's thread.

An answer lives in two places: ``progress.json`` (where the student is, with every answer,
so a restart resumes) and the manifest beside the screenshots (with ``report.html``, which
reads every picture to be rewritten). Both are written by one thread, so the window never
waits for a disk, and every write is atomic (``lab.files``).

A change is on disk at most ``DELAY`` seconds after it is made, however fast the typing
goes: a hard kill loses at most that much. A step change, Enter, quitting and a signal ask
for the write now (``flush`` waits until it is done)."""

from __future__ import annotations

import dataclasses
import os
import threading
import time
from collections.abc import Callable
from pathlib import Path

from tcp_observatory.lab.errors import LabError
from tcp_observatory.lab.grading.manifest import save_answers
from tcp_observatory.lab.guide.progress import Progress, save_progress

DELAY = 0.5  # seconds: the most typing a hard kill may lose (with the write's own time)
FLUSH_TIMEOUT = 10.0  # seconds a flush waits for the disk before giving up


class AutoSave:
    """Keeps the latest progress and answers, and writes them soon, in order, once each.

    ``on_error`` is given the sentence of a write that failed (once, until it changes or a
    write succeeds); ``on_saved`` the steps whose answers were written for ``announce``.
    Both are called on the writing thread."""

    def __init__(self, folder: str | os.PathLike[str], lang: str = "fr", *,
                 on_error: Callable[[str], None] | None = None,
                 on_saved: Callable[[list[str]], None] | None = None,
                 delay: float = DELAY) -> None:
        self.folder = Path(folder)
        self.lang = lang
        self.delay = delay
        self._on_error = on_error
        self._on_saved = on_saved
        self._cond = threading.Condition()
        self._progress: Progress | None = None  # the latest progress not yet written
        self._answers: dict[str, str] = {}  # step -> answer not yet in the manifest
        self._announce: set[str] = set()  # steps whose written answer is to be told
        self._due: float | None = None  # when the pending write is due (monotonic)
        self._busy = False  # a write is under way
        self._closed = False
        self._thread: threading.Thread | None = None
        self._last_error = ""

    # -- asked by the app -------------------------------------------------------------------
    def keep(self, progress: Progress, *, answer_of: str | None = None, now: bool = False,
             announce: bool = False) -> None:
        """Write ``progress`` soon (a copy: the caller goes on changing its own), and with
        ``answer_of`` that step's answer into the manifest and the report too. ``now``:
        without waiting for more typing. After ``close`` the write is done here, at once."""
        copy = dataclasses.replace(progress, met=list(progress.met),
                                   answers=dict(progress.answers))
        with self._cond:
            self._progress = copy
            if answer_of is not None:
                self._answers[answer_of] = copy.answers.get(answer_of, "")
                if announce:
                    self._announce.add(answer_of)
            closed = self._closed
            if not closed:
                due = time.monotonic() + (0.0 if now else self.delay)
                # Typing goes on: the first change sets the time, later ones do not push
                # it back (a debounce that waited for a pause could lose a long answer).
                self._due = due if self._due is None else min(self._due, due)
                self._start()
                self._cond.notify_all()
        if closed:
            self._write_pending()

    def flush(self, timeout: float = FLUSH_TIMEOUT) -> bool:
        """Write what is pending now and wait until it is on disk (or ``timeout`` s)."""
        deadline = time.monotonic() + timeout
        with self._cond:
            if self._pending() and self._thread is not None and not self._closed:
                self._due = time.monotonic()
                self._cond.notify_all()
            while (self._pending() or self._busy) and self._thread is not None:
                left = deadline - time.monotonic()
                if left <= 0:
                    return False
                self._cond.wait(left)
        if self._pending():  # no thread (closed, or never started): write here
            self._write_pending()
        return True

    def close(self, timeout: float = FLUSH_TIMEOUT) -> bool:
        """Write what is pending, then stop the thread. Later changes are written at once."""
        done = self.flush(timeout)
        with self._cond:
            self._closed = True
            self._cond.notify_all()
            thread = self._thread
        if thread is not None and thread is not threading.current_thread():
            thread.join(timeout)
        return done

    # -- the writing thread -----------------------------------------------------------------
    def _pending(self) -> bool:
        return self._progress is not None or bool(self._answers)

    def _start(self) -> None:
        if self._thread is None:
            self._thread = threading.Thread(target=self._run, name="autosave", daemon=True)
            self._thread.start()

    def _run(self) -> None:
        while True:
            with self._cond:
                while not self._closed and (
                        self._due is None or time.monotonic() < self._due):
                    self._cond.wait(None if self._due is None else self._due - time.monotonic())
                if self._closed and not self._pending():
                    self._thread = None
                    self._cond.notify_all()
                    return
            self._write_pending()

    def _write_pending(self) -> None:
        with self._cond:
            while self._busy:  # one write at a time, in order
                self._cond.wait()
            progress, answers, announce = self._progress, self._answers, self._announce
            self._progress, self._answers, self._announce, self._due = None, {}, set(), None
            self._busy = True
        try:
            written = self._write(progress, answers)
        finally:
            with self._cond:
                self._busy = False
                self._cond.notify_all()
        told = sorted(announce & set(written))
        if told and self._on_saved is not None:
            self._on_saved(told)

    def _write(self, progress: Progress | None, answers: dict[str, str]) -> list[str]:
        """Write; return the steps whose answers are in the manifest (told when asked)."""
        try:
            if progress is not None:
                save_progress(self.folder, progress, self.lang)
            if answers:
                if save_answers(self.folder, answers, lang=self.lang):
                    # The report's page (and its checks) loads at the first answer written,
                    # not with the app's first screen.
                    from tcp_observatory.lab.grading.report import write_report

                    write_report(self.folder, self.lang)
        except LabError as exc:
            if str(exc) != self._last_error:
                self._last_error = str(exc)
                if self._on_error is not None:
                    self._on_error(str(exc))
            return []
        self._last_error = ""
        return list(answers)
