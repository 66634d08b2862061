"""The guided lab: the steps panel, a step's setup, the student's answers, and the evidence
looked for in every snapshot (met evidence takes the step's screenshot)."""

from __future__ import annotations

from lab.errors import LabError
from lab.guide.evidence import check_evidence
from lab.guide.programs import program_hint
from lab.guide.setup import describe_op, run_setup, scene_of, student_part
from lab.guide.steps import STEP_IDS
from lab.guide.witness import server_mode
from lab.i18n import t
from lab.observe.model import Snapshot
from tui.base import ObservatoryBase
from tui.messages import Notice
from tui.widgets.server_pane import ServerPane
from tui.widgets.steps_panel import StepsPanel

HIDDEN_GRACE = 1.0  # seconds a hidden row must be gone before it is forgotten

# States a connection ends in: what is left of a previous step's story.
FINISHED = frozenset({"TIME_WAIT", "FIN_WAIT_2", "CLOSED", "LAST_ACK", "CLOSING"})


class Guided(ObservatoryBase):
    def _save_progress(self) -> None:
        """The step, the name, the steps met: on disk at once, off the UI thread."""
        self.autosave.keep(self.progress, now=True)

    def _autosave_failed(self, error: str) -> None:  # on the saving thread
        self.post_message(Notice(error, error=True, timeout=10))

    def _autosave_told(self, steps: list[str]) -> None:  # on the saving thread
        for step in steps:
            self.post_message(Notice(t("steps.answer_saved", self.lang, step=step)))

    def take_typed_answer(self) -> None:
        """What the answer box holds is the answer of the step on screen, now: before the
        step changes or the app ends (its last keystrokes' messages may still be on their
        way, and would arrive when the box holds another step's answer)."""
        for panel in self.query(StepsPanel):
            typed = panel.typed_answer()
            if panel.step_id == self.step_id and typed != self.progress.answers.get(
                    self.step_id, ""):
                self.progress.answers[self.step_id] = typed
                self.autosave.keep(self.progress, answer_of=self.step_id, now=True)

    def _show_step(self) -> None:
        for panel in self.query(StepsPanel):
            panel.program_hint = lambda step: program_hint(step, self.session, self.lang)
            panel.show_step(self.step_id, self.progress.met,
                            self.progress.answers.get(self.step_id, ""))
        self._update_stamp()

    def select_step(self, step_id: str) -> None:
        """Make ``step_id`` the current step: its evidence is looked for from now on.

        Arriving at a step starts its scene without touching a socket (the next step often
        goes on with the same client): rows already finished (TIME_WAIT, an orphaned
        FIN_WAIT_2) belong to the previous story and leave the view; the timeline keeps them.
        """
        self.progress.step = step_id
        self._new_scene(finished_only=True)
        self._save_progress()
        self._show_step()
        self.call_after_refresh(self.fit_table)  # the step's columns come first

    def _new_scene(self, *, finished_only: bool) -> None:
        self.step_messages = []
        self.step_refused = []
        self.sent_by_app = []
        self.scene_by_app = []
        self.evidence = None
        self.scene_start = self.clock()
        self._mark_earlier(finished_only=finished_only)

    def _mark_earlier(self, *, finished_only: bool) -> None:
        """The lab's connections on screen now belong to an earlier story (only those
        already finished, with ``finished_only``): they stay in the table, marked, and
        leave the step's evidence and picture. The listener is every scene's."""
        rows = self._lab_rows(self.snapshot).connections if self.snapshot is not None else ()
        self.scene_earlier |= {c.key for c in rows if c.state != "LISTEN" and (
            not finished_only or c.state in FINISHED)}
        self.scene_past = set(self.scene_earlier)
        self._earlier_missing.clear()
        if self.snapshot is not None:
            self.table.set_earlier(frozenset(self.scene_earlier))
            self._check_evidence(self.scene_only(self._lab_rows(self.snapshot)))

    def server_scene(self, when: float) -> None:
        """A new server (F4, F8, a step's setup): the step's story starts again with it.
        The old server's connections become earlier ones, its messages leave the
        evidence, and its shutdown leaves the picture's story."""
        self.step_messages = []
        self.step_refused = []
        self.sent_by_app = []
        self.evidence = None
        self.scene_start = when
        self._mark_earlier(finished_only=False)

    def scene(self, snapshot: Snapshot) -> Snapshot:
        """Keep the set of earlier connections true for a new snapshot; the snapshot is
        returned whole (every socket the kernel holds is shown).

        An earlier row gone for ``HIDDEN_GRACE`` seconds is forgotten (its address pair
        may be used again). Not at once: a listing may miss a socket for one poll while
        the kernel turns it into a TIME_WAIT, and it must not come back as the step's."""
        earlier, missing = self.scene_earlier, self._earlier_missing
        if earlier:
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
        return snapshot

    def scene_only(self, snapshot: Snapshot) -> Snapshot:
        """The step's own rows: without the connections of earlier steps (what its
        evidence and its picture read)."""
        earlier = self.scene_earlier
        if not earlier:
            return snapshot
        kept = tuple(c for c in snapshot.connections if c.key not in earlier)
        if len(kept) == len(snapshot.connections):
            return snapshot
        return snapshot._replace(connections=kept, seq=0, changed=None, gone=None)

    def earlier_count(self, snapshot: Snapshot) -> int:
        """How many of the lab's connections in ``snapshot`` are from earlier steps."""
        earlier = self.scene_earlier
        return sum(1 for c in self._lab_rows(snapshot).connections if c.key in earlier)

    def action_toggle_steps(self) -> None:
        panel = self.query_one(StepsPanel)
        panel.display = not panel.display
        self.focus_client()  # the answer box has its own key (F12)
        self.call_after_refresh(self.fit_table)

    def action_change_step(self, delta: int) -> None:
        i = STEP_IDS.index(self.step_id) + delta
        if 0 <= i < len(STEP_IDS):
            self.take_typed_answer()
            self.select_step(STEP_IDS[i])
        self.focus_client()

    def action_setup_step(self) -> None:
        """Set the current step's scene (in a thread: it waits): a fresh server in the
        step's mode, the previous clients gone, the step's clients numbered from 1. The
        messages are left to the student; what the app did is said on screen and kept
        with the screenshot."""
        self.focus_client()  # the step's new clients' inputs take it when they appear
        step = self.step_id
        todo = self.prepare_scene()

        def work() -> None:
            try:
                run_setup(self.session, step, lang=self.lang)
            except LabError as exc:
                self.post_message(Notice(str(exc), error=True, timeout=10))
                return
            self.post_message(Notice(t("steps.ready", self.lang, step=step, todo=todo),
                                     timeout=6))

        self.run_worker(work, thread=True, group="setup", exclusive=True, exit_on_error=False)

    def prepare_scene(self) -> str:
        """The screen's part of setting the step up (the sockets' part is ``run_setup``):
        earlier rows and the server log leave the view, what the app does is labelled.
        Returns what is left to the student, in words."""
        step = self.step_id
        self._new_scene(finished_only=False)
        for pane in self.query(ServerPane):
            pane.clear_log()
        self.scene_by_app = [describe_op(op, self.lang) for op in scene_of(step)]
        sep = t("list.sep", self.lang)
        todo = sep.join(describe_op(op, self.lang) for op in student_part(step))
        self.timeline.add_note(self.clock(), t("steps.setup_note", self.lang, step=step,
                                               what=sep.join(self.scene_by_app)))
        for panel in self.query(StepsPanel):
            panel.set_scene(self.scene_by_app, todo)
        return todo

    def on_steps_panel_answer_changed(self, message: StepsPanel.AnswerChanged) -> None:
        if message.submitted:
            self.set_answer(message.step_id, message.answer)
        elif message.answer != self.progress.answers.get(message.step_id, ""):
            # As typed: on disk within DELAY (lab.grading.autosave), without Enter.
            self.progress.answers[message.step_id] = message.answer
            self.autosave.keep(self.progress, answer_of=message.step_id)

    def remember_answer(self, step_id: str, answer: str) -> None:
        """Set an answer before the step's screenshot (the demo does): kept with it."""
        self.progress.answers[step_id] = answer
        self._save_progress()
        if step_id == self.step_id:
            self._show_step()

    def set_answer(self, step_id: str, answer: str) -> None:
        """Keep the answer with the progress and with the step's screenshots, now (Enter),
        and say so once it is written."""
        self.progress.answers[step_id] = answer
        self.autosave.keep(self.progress, answer_of=step_id, now=True, announce=True)

    def _check_evidence(self, snapshot: Snapshot) -> None:
        """Look for the step's evidence in the scene; when met, the step's screenshot is
        taken (by then the step's last awaited event is on screen). Without a name yet the
        app asks nothing by itself: the panel says Ctrl+S saves it.

        A message counts when the server reports it or when the kernel shows its bytes
        reaching the server's socket (the scene's witness), whoever wrote the server; a
        server the app did not start is judged by its behaviour."""
        step = self.step_id
        witness = self.current_witness()
        witness.feed(snapshot.connections)
        evidence = check_evidence(step, snapshot, self.step_messages, server_mode(self.session),
                                  port=self.session.port, lang=self.lang,
                                  refused=self.step_refused, receipts=witness.receipts())
        self.evidence = evidence
        waiting = evidence.met and not self.student and step not in self.progress.met
        for panel in self.query(StepsPanel):
            panel.set_evidence(evidence, self.progress.met)
            panel.set_hint(t("steps.shoot_hint", self.lang) if waiting else "")
        if (evidence.met and self.auto_capture and step not in self.progress.met
                and step not in self._shooting and not self._capturing and self.student
                and not self.present):
            self._shooting.add(step)
            self.take_screenshot()

