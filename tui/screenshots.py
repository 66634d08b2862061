"""Screenshots: the stamp bar, and a step's stamped SVG with its evidence record, written off
the UI thread. The name is asked here, when a student first takes one."""

from __future__ import annotations

from typing import Any

from rich.text import Text
from textual.widget import Widget
from textual.widgets import Static

from lab import __version__
from lab.errors import LabError
from lab.grading.manifest import save_screenshot
from lab.grading.record import origin_of, seal_for
from lab.grading.stamp import stamp_text, watermark_text
from lab.guide.witness import server_mode
from lab.i18n import t
from lab.observe.model import RoleKind, Snapshot
from lab.observe.roles import describe_role
from lab.text import printable
from tui.base import ObservatoryBase
from tui.live import action_note, server_note
from tui.messages import ShotFailed, ShotSaved
from tui.widgets.evidence_view import EvidenceView, StoryLine
from tui.widgets.prompt import NamePrompt
from tui.widgets.steps_panel import StepsPanel
from tui.widgets.timeline import Timeline

CAPTURE_REFRESHES = 20  # refreshes a capture waits at most for the picture's layout


class Screenshots(ObservatoryBase):
    def _update_stamp(self, when: float | None = None, seal: str | None = None) -> None:
        if self._capturing and when is None:
            return  # the stamp must show the screenshot's own time while it is taken
        line = stamp_text(self.student or "?", self.host, self.clock() if when is None else when,
                          self.step_id, __version__, self.lang, seal)
        text = Text(line, style="bold #000000 on #ffd700")
        if self.demo:  # on screen, and so in every picture: a demo is never a student's work
            text = Text.assemble((f" {watermark_text(self.lang)} ", "bold #ffffff on #d70000"),
                                 " ", text)
        for bar in self.query("#stamp").results(Static):
            shown = self._stamps_shown.get(id(bar))
            if shown is not None and shown.plain == text.plain:
                continue
            # The clock ticks every second: a text as long as the last one wraps as it did,
            # so the screen need not be laid out again (~15 ms with thousands of rows).
            bar.update(text, layout=shown is None or shown.cell_len != text.cell_len)
            self._stamps_shown[id(bar)] = text

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
        self._shooting.add(step)  # until it is saved, no automatic one for the same step
        shown = self.snapshot or Snapshot(now, (), "none")
        snapshot = self.scene_only(shown)  # the step's rows: what its record holds
        messages = list(self.step_messages)
        mode, port = server_mode(self.session), self.session.port
        receipts = self.current_witness().receipts()
        origin = origin_of(demo=self.demo, sent_by_app=self.sent_by_app,
                           scene_by_app=self.scene_by_app)
        refused = list(self.step_refused)
        seal = seal_for(step, snapshot, messages, mode, port, origin, refused, receipts)
        self._update_stamp(now, seal)
        self.enter_capture(step, shown)
        args = dict(snapshot=snapshot, messages=messages, mode=mode, port=port,
                    transitions=[tr for tr in self.history if tr.time >= now - 120][-200:],
                    answer=self.progress.answers.get(step, ""), student=self.student,
                    host=self.host, version=__version__, now=now, lang=self.lang, origin=origin,
                    refused=refused, receipts=receipts)
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

    def enter_capture(self, step: str, shown: Snapshot) -> None:
        """The screen as the step's picture: its scene alone, every column it reads, whole.
        The connections of earlier steps in ``shown`` (no step's question reads them) are
        left out, and the picture says how many."""
        scene = self.scene_only(shown)
        self.query_one(EvidenceView).show_scene(step, scene, self._story(scene),
                                                self.earlier_count(shown))
        self.clear_notifications()  # a toast ("step ready") is not part of the evidence
        self._focus_before = self.focused  # hiding the panes drops the focus: give it back
        self.screen.add_class("-capture")
        panel = self.query_one(StepsPanel)
        self._panel_shown = bool(panel.display)
        panel.display = False  # the evidence wins over side panels in the picture

    def _laid_out_for_capture(self) -> bool:
        """The picture's layout is on screen: the scene shown, the panes and panel gone."""
        shown = self.query_one(EvidenceView).region.area > 0
        hidden = all(w.region.area == 0 for w in (*self.query("#main"), *self.query("#keys"),
                                                   *self.query(StepsPanel)))
        return shown and hidden

    def leave_capture(self) -> None:
        self.screen.remove_class("-capture")
        self.call_after_refresh(self.fit_table)  # the table is back on screen
        self.query_one(StepsPanel).display = self._panel_shown
        before = self._focus_before
        if before is not None and before.is_attached:
            # At once, so that keys typed while the picture is written reach the input, and
            # again once the panes are laid out (hiding them may still blur it).
            self.screen.set_focus(before, scroll_visible=False)
            self.call_after_refresh(before.focus)
            # Hiding the panes sent the input a Hide message, whose handler blurs it. On a
            # loaded machine the input handles it only now, after the focus came back: a
            # call queued behind it, in the input's own queue, gives the focus back again.
            before.call_later(self._refocus, before)
        self._focus_before = None

    def _refocus(self, widget: Widget) -> None:
        if widget.is_attached and not self._capturing and self.focused is not widget:
            self.screen.set_focus(widget, scroll_visible=False)

    def _story(self, snapshot: Snapshot) -> list[StoryLine]:
        """The step's events since its scene began, in time order, causes first."""
        since = self.scene_start
        shown = {c.key for c in snapshot.connections}
        lines: list[tuple[float, int, StoryLine]] = []
        for a in self.actions:
            # Closing the previous scene's server and clients is not this step's story.
            if a.time >= since and a.kind not in ("client-remove", "server-stop"):
                lines.append((a.time, 0, StoryLine(a.time, action_note(a, self.lang), True)))
        for e in self.server_events:
            if e.time < since:
                continue
            note = server_note(e, self.lang)
            if e.kind == "message":
                note = t("pic.received", self.lang, peer=str(e.peer) if e.peer else "?",
                         text=printable(e.text, 60))
            if note is not None:
                lines.append((e.time, 0, StoryLine(e.time, note, True)))
        for tr in self.history:
            c = tr.connection
            if (tr.time < since or c.role.kind in (RoleKind.OTHER, RoleKind.LISTENER)
                    or (c.key in self.scene_past and c.key not in shown)):
                continue
            text = t("pic.change", self.lang, role=describe_role(c.role, self.lang),
                     before=tr.from_state or "-", after=tr.to_state)
            if tr.inferred:
                text += " ≈ " + t("pic.inferred", self.lang)
            lines.append((tr.time, 1, StoryLine(tr.time, text, inferred=tr.inferred,
                                                state=tr.to_state)))
        lines.sort(key=lambda x: (x[0], x[1]))
        return [line for _, _, line in lines]

    def _capture(self, step: str, args: dict[str, Any], tries: int = 0) -> None:
        # A refresh already under way when the capture began may not have laid the
        # picture's screen out yet: exported then, the picture would miss its stamp and
        # scene (and verify would reject it). Wait for the layout, a few refreshes at most.
        if not self._laid_out_for_capture() and tries < CAPTURE_REFRESHES:
            self.call_after_refresh(self._capture, step, args, tries + 1)
            return
        svg = self.export_screenshot(title=f"TCP Observatory — {step}")
        self.leave_capture()
        self._capturing = False
        self._update_stamp()

        def work() -> None:
            from lab.grading.report import write_report  # loaded at the first picture

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
        if self._stopped:
            return  # saved while the window closes: on disk, with nothing left to tell it
        if self.autopilot is None:  # the demo's screenshots would pile these toasts up
            self.notify(t("shot.saved", self.lang, file=path.name), timeout=4)
        # The picture may be saved while the app is closing: its panes are gone by then.
        # It says "evidence observed" only when its record says so (Ctrl+S saves one before).
        key = "steps.met_note" if saved.evidence.met else "steps.shot_note"
        for timeline in self.query(Timeline):
            timeline.add_note(self.clock(), t(key, self.lang, step=step, file=path.name))

