"""Screenshots: the stamp bar, and a step's stamped SVG with its evidence record, written off
the UI thread. The name is asked here, when a student first takes one."""

from __future__ import annotations

from typing import Any

from rich.text import Text
from textual.widgets import Static

from lab import __version__
from lab.errors import LabError
from lab.grading.manifest import save_screenshot
from lab.grading.record import seal_for
from lab.grading.report import write_report
from lab.grading.stamp import stamp_text
from lab.i18n import t
from lab.observe.model import Snapshot
from tui.base import ObservatoryBase
from tui.messages import ShotFailed, ShotSaved
from tui.widgets.prompt import NamePrompt


class Screenshots(ObservatoryBase):
    def _update_stamp(self, when: float | None = None, seal: str | None = None) -> None:
        if self._capturing and when is None:
            return  # the stamp must show the screenshot's own time while it is taken
        for bar in self.query("#stamp").results(Static):
            bar.update(Text(stamp_text(self.student or "?", self.host,
                                       self.clock() if when is None else when, self.step_id,
                                       __version__, self.lang, seal),
                            style="bold #000000 on #ffd700"))

    def action_save_screenshot(self) -> None:
        """Ctrl+S: a stamped SVG of the whole screen for the current step."""
        self.take_screenshot()

    def take_screenshot(self) -> None:
        """Save a stamped SVG of the whole screen for the current step."""
        if self._capturing:
            return
        if not self.student:
            self.push_screen(NamePrompt(self.lang), self._name_then_shoot)
            return
        self._capturing = True
        now = self.clock()
        # What the screenshot proves is frozen now, and its seal shown in the stamp.
        step = self.step_id
        snapshot = self.snapshot or Snapshot(now, (), "none")
        messages = list(self.step_messages)
        mode, port = self.session.mode, self.session.port
        seal = seal_for(step, snapshot, messages, mode, port)
        self._update_stamp(now, seal)
        args = dict(snapshot=snapshot, messages=messages, mode=mode, port=port,
                    transitions=[tr for tr in self.history if tr.time >= now - 120][-200:],
                    answer=self.progress.answers.get(step, ""), student=self.student,
                    host=self.host, version=__version__, now=now, lang=self.lang)
        self.call_after_refresh(self._capture, step, args)

    def _got_name(self, name: str | None) -> None:
        if name:
            self.student = name
            self.progress.student = name
            self._save_progress()
            self._update_stamp()

    def _name_then_shoot(self, name: str | None) -> None:
        self._got_name(name)
        if self.student:
            self.take_screenshot()

    def _capture(self, step: str, args: dict[str, Any]) -> None:
        svg = self.export_screenshot(title=f"TCP Observatory — {step}")
        self._capturing = False
        self._update_stamp()

        def work() -> None:
            try:
                saved = save_screenshot(self.folder, step, svg, **args)
                write_report(self.folder, self.lang)
            except LabError as exc:
                self.post_message(ShotFailed(step, str(exc)))
                return
            self.post_message(ShotSaved(step, saved))

        self.run_worker(work, thread=True, group="screenshot", exit_on_error=False)

    def on_shot_failed(self, message: ShotFailed) -> None:
        step, error = message.step, message.error
        self._shooting.discard(step)
        self.save_errors.append(error)
        self.notify(error, severity="error", timeout=10)

    def on_shot_saved(self, message: ShotSaved) -> None:
        step, saved = message.step, message.saved
        path = saved.path
        self._shooting.discard(step)
        self.saved.append(path)
        if saved.evidence.met and step not in self.progress.met:
            # Met only once its screenshot is on disk: a failed save is retried later.
            self.progress.mark_met(step)
            self._save_progress()
            self._show_step()
        if self.autopilot is None:  # the demo's screenshots would pile these toasts up
            self.notify(t("shot.saved", self.lang, file=path.name), timeout=4)
        self.timeline.add_note(self.clock(), t("steps.met_note", self.lang, step=step,
                                               file=path.name))

