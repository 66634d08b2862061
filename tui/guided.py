"""The guided lab's progress: the current step, the student's name and answers, the steps
met, and the evidence looked for in the scene (met evidence asks for the step's picture).
The steps panel shows it.

A plain object, owned by the app: what it reads of the scene and the session is given to
each call. Its one widget is the steps panel (found through the app's screen)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from textual.app import App

from tcp_observatory.lab.grading.autosave import AutoSave
from tcp_observatory.lab.grading.manifest import folder_student
from tcp_observatory.lab.guide.evidence import Evidence, Message, Receipt, check_evidence
from tcp_observatory.lab.guide.programs import program_hint
from tcp_observatory.lab.guide.progress import load_progress
from tcp_observatory.lab.guide.steps import STEP_IDS
from tcp_observatory.lab.i18n import t
from tcp_observatory.lab.observe.model import Snapshot
from tcp_observatory.lab.session import Session
from tcp_observatory.lab.text import clean_field
from tcp_observatory.tui.lookup import present
from tcp_observatory.tui.messages import Notice
from tcp_observatory.tui.widgets.steps_panel import StepsPanel


class Guide:
    def __init__(self, app: App[Any], folder: Path, lang: str, student: str | None) -> None:
        self._app = app
        self.lang = lang
        self.folder = folder
        # Progress resumes from the screenshots folder.
        self.progress = load_progress(folder)
        # What the student types is written as it is typed, off the UI thread.
        self.autosave = AutoSave(folder, lang, on_error=self._autosave_failed,
                                 on_saved=self._autosave_told)
        # The name is given (--student), or the folder's own, or asked at the first
        # screenshot: nobody who only watches is asked anything.
        self.student = (clean_field(student) if student else
                        folder_student(folder) or self.progress.student)
        self.evidence: Evidence | None = None  # the step's evidence in the last scene looked at

    @property
    def step_id(self) -> str:
        return self.progress.step

    # -- on disk ---------------------------------------------------------------------------
    def save(self) -> None:
        """The step, the name, the steps met: on disk at once, off the UI thread."""
        self.autosave.keep(self.progress, now=True)

    def _autosave_failed(self, error: str) -> None:  # on the saving thread
        self._app.post_message(Notice(error, error=True, timeout=10))

    def _autosave_told(self, steps: list[str]) -> None:  # on the saving thread
        for step in steps:
            self._app.post_message(Notice(t("steps.answer_saved", self.lang, step=step)))

    def close(self) -> None:
        """What the student typed, written before the app ends."""
        self.autosave.close()

    # -- the step, the name, the answers ---------------------------------------------------
    def select(self, step_id: str) -> None:
        """``step_id`` is the current step (its evidence is looked for again)."""
        self.progress.step = step_id
        self.evidence = None
        self.save()

    def neighbour(self, delta: int) -> str | None:
        """The step ``delta`` steps away from the current one, if there is one."""
        i = STEP_IDS.index(self.step_id) + delta
        return STEP_IDS[i] if 0 <= i < len(STEP_IDS) else None

    def set_student(self, name: str) -> None:
        self.student = name
        self.progress.student = name
        self.save()

    def mark_met(self, step: str) -> bool:
        """The step's picture with its evidence is on disk: the step is met (True if it
        was not yet)."""
        if step in self.progress.met:
            return False
        self.progress.mark_met(step)
        self.save()
        return True

    def answer(self, step_id: str) -> str:
        return self.progress.answers.get(step_id, "")

    def take_typed_answer(self) -> None:
        """What the answer box holds is the answer of the step on screen, now: before the
        step changes or the app ends (its last keystrokes' messages may still be on their
        way, and would arrive when the box holds another step's answer)."""
        for panel in present(self._app, StepsPanel):
            typed = panel.typed_answer()
            if panel.step_id == self.step_id and typed != self.answer(self.step_id):
                self.progress.answers[self.step_id] = typed
                self.autosave.keep(self.progress, answer_of=self.step_id, now=True)

    def answer_changed(self, message: StepsPanel.AnswerChanged) -> None:
        if message.submitted:
            self.set_answer(message.step_id, message.answer)
        elif message.answer != self.answer(message.step_id):
            # As typed: on disk within DELAY (lab.grading.autosave), without Enter.
            self.progress.answers[message.step_id] = message.answer
            self.autosave.keep(self.progress, answer_of=message.step_id)

    def remember_answer(self, step_id: str, answer: str) -> None:
        """Set an answer before the step's screenshot (the demo does): kept with it."""
        self.progress.answers[step_id] = answer
        self.save()

    def set_answer(self, step_id: str, answer: str) -> None:
        """Keep the answer with the progress and with the step's screenshots, now (Enter),
        and say so once it is written."""
        self.progress.answers[step_id] = answer
        self.autosave.keep(self.progress, answer_of=step_id, now=True, announce=True)

    # -- the panel -------------------------------------------------------------------------
    def show_step(self, session: Session) -> None:
        for panel in present(self._app, StepsPanel):
            panel.program_hint = lambda step: program_hint(step, session, self.lang)
            panel.show_step(self.step_id, self.progress.met, self.answer(self.step_id))

    def show_setup(self, by_app: list[str], todo: str) -> None:
        for panel in present(self._app, StepsPanel):
            panel.set_scene(by_app, todo)

    # -- the evidence ----------------------------------------------------------------------
    def check(self, scene: Snapshot, messages: list[Message], mode: str, *, port: int,
              refused: list[int], receipts: list[Receipt]) -> Evidence:
        """Look for the step's evidence in the scene (its own rows, its messages, what the
        kernel's witness saw reach the server), and show it. Without a name yet the app
        asks nothing by itself: the panel says Ctrl+S saves it."""
        step = self.step_id
        evidence = check_evidence(step, scene, messages, mode, port=port, lang=self.lang,
                                  refused=refused, receipts=receipts)
        self.evidence = evidence
        waiting = evidence.met and not self.student and step not in self.progress.met
        for panel in present(self._app, StepsPanel):
            panel.set_evidence(evidence, self.progress.met)
            panel.set_hint(t("steps.shoot_hint", self.lang) if waiting else "")
        return evidence

    def wants_picture(self, evidence: Evidence) -> bool:
        """Met evidence of a step not yet met, with a name to stamp: its picture is due."""
        return evidence.met and bool(self.student) and self.step_id not in self.progress.met
