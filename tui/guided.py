"""The guided lab: the steps panel, a step's setup, the student's answers, and the evidence
looked for in every snapshot (met evidence takes the step's screenshot)."""

from __future__ import annotations

from lab.errors import LabError
from lab.grading.manifest import save_answer
from lab.grading.report import write_report
from lab.guide.evidence import check_evidence
from lab.guide.programs import program_hint
from lab.guide.progress import save_progress
from lab.guide.setup import run_setup
from lab.guide.steps import STEP_IDS
from lab.i18n import t
from lab.observe.model import Snapshot
from tui.base import ObservatoryBase
from tui.messages import Notice
from tui.widgets.steps_panel import StepsPanel


class Guided(ObservatoryBase):
    def _save_progress(self) -> None:
        try:
            save_progress(self.folder, self.progress, self.lang)
        except LabError as exc:
            self.notify(str(exc), severity="error", timeout=10)

    def _show_step(self) -> None:
        for panel in self.query(StepsPanel):
            panel.hint = lambda step: program_hint(step, self.session, self.lang)
            panel.show_step(self.step_id, self.progress.met,
                            self.progress.answers.get(self.step_id, ""))
        self._update_stamp()

    def select_step(self, step_id: str) -> None:
        """Make ``step_id`` the current step: its evidence is looked for from now on."""
        self.progress.step = step_id
        self.step_messages = []
        self.evidence = None
        self._save_progress()
        self._show_step()

    def action_toggle_steps(self) -> None:
        panel = self.query_one(StepsPanel)
        panel.display = not panel.display
        if panel.display:
            panel.query_one("#step-answer").focus()

    def action_change_step(self, delta: int) -> None:
        i = STEP_IDS.index(self.step_id) + delta
        if 0 <= i < len(STEP_IDS):
            self.select_step(STEP_IDS[i])

    def action_setup_step(self) -> None:
        """Put the lab in the state the current step starts from (in a thread: it waits)."""
        step = self.step_id
        self.notify(t("steps.setting_up", self.lang, step=step), timeout=3)

        def work() -> None:
            try:
                run_setup(self.session, step, lang=self.lang)
            except LabError as exc:
                self.post_message(Notice(str(exc), error=True, timeout=10))
                return
            self.post_message(Notice(t("steps.ready", self.lang, step=step)))

        self.step_messages = []
        self.run_worker(work, thread=True, group="setup", exclusive=True, exit_on_error=False)

    def on_steps_panel_answer_changed(self, message: StepsPanel.AnswerChanged) -> None:
        self.set_answer(message.step_id, message.answer)

    def remember_answer(self, step_id: str, answer: str) -> None:
        """Set an answer before the step's screenshot (the demo does): kept with it."""
        self.progress.answers[step_id] = answer
        self._save_progress()
        if step_id == self.step_id:
            self._show_step()

    def set_answer(self, step_id: str, answer: str) -> None:
        """Keep the answer with the progress and with the step's screenshots."""
        self.progress.answers[step_id] = answer
        self._save_progress()

        def work() -> None:  # rewriting the manifest and the report reads every picture
            try:
                save_answer(self.folder, step_id, answer, lang=self.lang)
                write_report(self.folder, self.lang)
            except LabError as exc:
                self.post_message(Notice(str(exc), error=True, timeout=10))
                return
            self.post_message(Notice(t("steps.answer_saved", self.lang, step=step_id)))

        self.run_worker(work, thread=True, group="answer", exit_on_error=False)

    def _check_evidence(self, snapshot: Snapshot) -> None:
        step = self.step_id
        evidence = check_evidence(step, snapshot, self.step_messages, self.session.mode,
                                  port=self.session.port, lang=self.lang)
        self.evidence = evidence
        for panel in self.query(StepsPanel):
            panel.set_evidence(evidence, self.progress.met)
        if (evidence.met and self.auto_capture and step not in self.progress.met
                and step not in self._shooting and not self._capturing and self.student):
            self._shooting.add(step)
            self.take_screenshot()

