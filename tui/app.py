"""The observatory: the lab's server, its clients and the kernel's view, in one window.

Sockets and polling live in the Session's threads; everything reaches the UI as messages
(``tui.messages``). The app is put together from its parts, each a module: the live view
(``tui.live``), step-through (``tui.stepthrough``), the guided lab (``tui.guided``) and
screenshots (``tui.screenshots``).
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
import threading
from collections.abc import Sequence

from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.css.query import NoMatches
from textual.filter import LineFilter
from textual.widget import Widget
from textual.widgets import ContentSwitcher, Header, Static

from lab.errors import LabError
from lab.guide.setup import describe_op, run_setup, scene_of, student_part
from lab.guide.witness import server_mode
from lab.i18n import t
from lab.observe.model import Snapshot
from tui.focus import Focus
from tui.live import LiveView
from tui.messages import Notice, ShotFailed, ShotSaved
from tui.screenshots import story
from tui.stepthrough import STEP_ACTIONS
from tui.theme import LightFilter
from tui.widgets.banner import Banner
from tui.widgets.clients import ClientsPane
from tui.widgets.connections import ConnectionsTable
from tui.widgets.diagram import StateDiagram
from tui.widgets.evidence_view import EvidenceView
from tui.widgets.footer import KeysFooter
from tui.widgets.ladder import LadderView
from tui.widgets.prompt import NamePrompt
from tui.widgets.server_pane import ServerPane
from tui.widgets.steps_panel import StepsPanel
from tui.widgets.timeline import Timeline
from tui.widgets.why import WhyLine

# key, action, description key
KEYS: tuple[tuple[str, str, str], ...] = (
    ("f1", "toggle_steps", "key.steps"),
    ("f12", "answer", "key.answer"),
    ("f2", "add_client", "key.add"),
    ("f3", "remove_client", "key.remove"),
    ("f4", "toggle_server_mode", "key.mode"),
    ("f5", "toggle_close_after_fin", "key.close_after_fin"),
    ("f6", "toggle_filter", "key.filter"),
    ("f7", "toggle_pause", "key.pause"),
    ("f8", "toggle_server", "key.server"),
    ("f9", "next_view", "key.view"),
    ("f10", "toggle_present", "key.present"),
    ("left_square_bracket", "step(-1)", "key.step_back"),
    ("right_square_bracket", "step(1)", "key.step_forward"),
    ("ctrl+s", "save_screenshot", "key.shot"),
    ("ctrl+r", "setup_step", "key.setup"),
    ("ctrl+n", "change_step(1)", "key.next_step"),
    ("ctrl+b", "change_step(-1)", "key.prev_step"),
    ("ctrl+t", "toggle_theme", "key.theme"),
)
# Keys an input would type: the focused input has them first.
TYPED_KEYS = frozenset({"left_square_bracket", "right_square_bracket"})


# The terminal closed, or the app was told to stop: each ends it as Ctrl+Q does.
STOP_SIGNALS = ("SIGHUP", "SIGTERM")
STOP_GRACE = 5.0  # seconds the window has to close after a signal before the process ends


class ObservatoryApp(Focus, LiveView):
    TITLE = "TCP Observatory"
    ENABLE_COMMAND_PALETTE = False
    # Before any input that has the focus; shown in the footer in the app's language.
    BINDINGS = [Binding("ctrl+q", "quit", "Quit", priority=True)]
    LIGHT = LightFilter()
    _last_resort: threading.Timer | None = None  # ends the process if a signal's exit hangs

    def on_load(self) -> None:
        # The keys' descriptions follow --lang, so they are bound per app, not per class.
        # The function and Ctrl keys come first, before the focused widget: a key that
        # reached the app by bubbling up would act after the keys typed behind it (F12
        # then "oui" at once: "oui" went to the client's input).
        for key, action, desc in KEYS:
            self._bindings.bind(key, action, t(desc, self.lang),
                                priority=key not in TYPED_KEYS)

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action in STEP_ACTIONS:
            return self.recorder.paused
        return True

    # -- step-through (tui.stepthrough) ----------------------------------------------------
    def action_toggle_pause(self) -> None:
        """F7: the view holds still (the keys drive it: [ and ] step through moments), or
        catches up with what happened meanwhile."""
        recorder = self.recorder
        if not recorder.paused:
            recorder.pause()
            self.timeline.set_paused(True)
            self.table.focus()  # keys now drive the view, not a client's input
        else:
            moment, stepped = recorder.resume()
            self.timeline.set_paused(False)
            if moment is not None:
                self._show(*moment, exact=stepped)
        self.refresh_bindings()
        self._refresh_labels()

    def action_step(self, delta: int) -> None:
        """Paused: show the recorded moment before or after the one on screen."""
        moment = self.recorder.step(delta)
        if moment is not None:
            self._show(*moment, exact=True)
            self._refresh_labels()

    # -- the guided lab (tui.guided) and the step's scene (tui.scene) ----------------------
    def _show_step(self) -> None:
        self.guide.show_step(self.session)
        self._update_stamp()

    def select_step(self, step_id: str) -> None:
        """Make ``step_id`` the current step: its evidence is looked for from now on.

        Arriving at a step starts its scene without touching a socket (the next step often
        goes on with the same client): rows already finished (TIME_WAIT, an orphaned
        FIN_WAIT_2) belong to the previous story and leave the view; the timeline keeps them.
        """
        self.guide.select(step_id)
        self._new_scene(self.clock(), finished_only=True)
        self._show_step()
        self.call_after_refresh(self.fit_table)  # the step's columns come first

    def _new_scene(self, when: float, *, finished_only: bool, keep_setup: bool = False) -> None:
        """A new scene (tui.scene): the rows on screen are marked earlier (only those
        finished, with ``finished_only``), and the step's evidence is looked for again."""
        self.guide.evidence = None
        self.scene.begin(when, self._shown_lab_rows(), finished_only=finished_only,
                         keep_setup=keep_setup)
        if self.snapshot is not None:
            self.table.set_earlier(frozenset(self.scene.earlier))
            self._check_evidence(self.scene.only(self._lab_rows(self.snapshot)))

    def server_scene(self, when: float) -> None:
        """A new server (F4, F8, a step's setup): the step's story starts again with it.
        The old server's connections become earlier ones, its messages leave the
        evidence, and its shutdown leaves the picture's story."""
        self._new_scene(when, finished_only=False, keep_setup=True)

    def action_toggle_steps(self) -> None:
        panel = self.query_one(StepsPanel)
        panel.display = not panel.display
        self.focus_client()  # the answer box has its own key (F12)
        self.call_after_refresh(self.fit_table)

    def action_change_step(self, delta: int) -> None:
        step = self.guide.neighbour(delta)
        if step is not None:
            self.guide.take_typed_answer()
            self.select_step(step)
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
        self._new_scene(self.clock(), finished_only=False)
        for pane in self.query(ServerPane):
            pane.clear_log()
        self.scene.set_up([describe_op(op, self.lang) for op in scene_of(step)])
        sep = t("list.sep", self.lang)
        todo = sep.join(describe_op(op, self.lang) for op in student_part(step))
        self.timeline.add_note(self.clock(), t("steps.setup_note", self.lang, step=step,
                                               what=sep.join(self.scene.by_app)))
        self.guide.show_setup(self.scene.by_app, todo)
        return todo

    def on_steps_panel_answer_changed(self, message: StepsPanel.AnswerChanged) -> None:
        self.guide.answer_changed(message)

    def remember_answer(self, step_id: str, answer: str) -> None:
        """Set an answer before the step's screenshot (the demo does): kept with it."""
        self.guide.remember_answer(step_id, answer)
        if step_id == self.step_id:
            self._show_step()

    def _check_evidence(self, snapshot: Snapshot) -> None:
        """Look for the step's evidence in the scene (``snapshot``: its own rows); when
        met, the step's screenshot is taken (by then the step's last awaited event is on
        screen).

        A message counts when the server reports it or when the kernel shows its bytes
        reaching the server's socket (the scene's witness), whoever wrote the server; a
        server the app did not start is judged by its behaviour."""
        step = self.step_id
        witness = self.current_witness()
        witness.feed(snapshot.connections)
        evidence = self.guide.check(snapshot, self.scene.messages, server_mode(self.session),
                                    port=self.session.port, refused=self.scene.refused,
                                    receipts=witness.receipts())
        if (self.guide.wants_picture(evidence) and self.shots.automatic(step)
                and not self.present):
            self.take_screenshot()

    def _tick(self) -> None:
        """Twice a second: the stamp's clock, and the table's times in state."""
        self._update_stamp()
        if not self.recorder.paused and not self._stopped:
            for table in self.query(ConnectionsTable):
                table.tick()
            self._explain()  # a CLOSE_WAIT held open is told once it has lingered

    # -- screenshots (tui.screenshots) -----------------------------------------------------
    def _update_stamp(self, when: float | None = None, seal: str | None = None) -> None:
        if self.shots.capturing and when is None:
            return  # the stamp must show the screenshot's own time while it is taken
        self.shots.stamp(self.guide.student, self.step_id,
                         self.clock() if when is None else when, seal)

    def action_save_screenshot(self) -> None:
        """Ctrl+S: a stamped SVG of the whole screen for the current step."""
        self.take_screenshot()

    def take_screenshot(self) -> None:
        """Save a stamped SVG of the whole screen for the current step. The name is asked
        here, when a student first takes one."""
        if self.shots.capturing:
            return
        if not self.guide.student:
            self.push_screen(NamePrompt(self.lang), self._name_then_shoot)
            return
        now = self.clock()
        # What the screenshot proves is frozen now, and its seal shown in the stamp.
        step = self.step_id
        shown = self.snapshot or Snapshot(now, (), "none")
        seal, args = self.shots.freeze(
            step, now, shown, self.scene, self.recorder, student=self.guide.student,
            answer=self.guide.answer(step), mode=server_mode(self.session),
            port=self.session.port, receipts=self.current_witness().receipts())
        self._update_stamp(now, seal)
        self.enter_capture(step, shown)
        self.call_after_refresh(self.shots.capture, step, args, self.guide.folder,
                                self._update_stamp)

    def _name_then_shoot(self, name: str | None) -> None:
        if name:
            self.guide.set_student(name)
            self._update_stamp()
        if self.guide.student:
            self.take_screenshot()

    def enter_capture(self, step: str, shown: Snapshot) -> None:
        """The screen as the step's picture: its scene alone, every column it reads, whole.
        The connections of earlier steps in ``shown`` (no step's question reads them) are
        left out, and the picture says how many."""
        rows = self.scene.only(shown)
        self.shots.enter(step, rows, story(rows, self.scene, self.recorder, self.lang),
                         self.scene.earlier_count(self._lab_rows(shown)))

    def leave_capture(self) -> None:
        self.shots.leave()

    def on_shot_failed(self, message: ShotFailed) -> None:
        self.shots.failed(message)
        self.notify(message.error, severity="error", timeout=10)

    def on_shot_saved(self, message: ShotSaved) -> None:
        step, saved = message.step, message.saved
        path = saved.path
        self.shots.written(message)
        # Met only once its screenshot is on disk: a failed save is retried later.
        if saved.evidence.met and self.guide.mark_met(step):
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

    def get_line_filters(self) -> Sequence[LineFilter]:
        """The light theme is the dark one's every line, turned light as it is drawn."""
        filters = super().get_line_filters()
        return [*filters, self.LIGHT] if self.colours == "light" else filters

    def action_toggle_theme(self) -> None:
        self.colours = "dark" if self.colours == "light" else "light"
        self.redraw_all()

    def redraw_all(self) -> None:
        """Every widget drawn again (the lines each keeps were drawn in the other theme)."""
        for screen in self.screen_stack:
            for widget in screen.walk_children(Widget, with_self=True):
                widget.refresh()
                if widget.show_vertical_scrollbar:
                    widget.vertical_scrollbar.refresh()
                if widget.show_horizontal_scrollbar:
                    widget.horizontal_scrollbar.refresh()

    def compose(self) -> ComposeResult:
        yield Header(show_clock=self.show_clock, icon="⇄")
        yield Static(id="stamp")
        yield Banner(self.lang, id="banner")
        yield EvidenceView(self.lang, id="evidence")
        with Horizontal(id="main"):
            with Vertical(id="left"):
                with ContentSwitcher(initial=self.view, id="views"):
                    yield ConnectionsTable(self.lang, clock=self.clock, id="connections")
                    yield StateDiagram(self.lang, id="diagram")
                    yield LadderView(self.lang, id="ladder")
                yield WhyLine(id="why")
                yield Timeline(self.lang, id="timeline")
            with Vertical(id="right"):
                yield ServerPane(self.lang, id="server")
                yield ClientsPane(self.lang, id="clients")
        yield StepsPanel(self.lang, id="steps")
        yield KeysFooter(id="keys", descriptions={"quit": t("key.quit", self.lang)})

    async def on_mount(self) -> None:
        self.title = t("app.title", self.lang)
        self.timeline.border_title = t("pane.timeline", self.lang)
        self.clients_pane.border_title = t("pane.clients", self.lang)
        self._refresh_labels()
        if self.present:
            self._apply_present()
        self._apply_view()
        self.call_after_refresh(self.keep_panel_above_keys)
        self._show_step()
        self._update_stamp()
        self.session.set_sink(self._from_session)
        self.set_interval(0.5, self._tick)
        if self.signals:
            self._catch_stop_signals()
        if self.start_session:
            self.session.start(clients=0)
            for _ in range(self.initial_clients):
                self.session.add_client()
        self._refresh_labels()
        if self.autopilot is not None:
            autopilot = self.autopilot
            self.run_worker(lambda: autopilot(self), thread=True, group="autopilot",
                            exit_on_error=False)

    async def action_quit(self) -> None:
        self.guide.take_typed_answer()
        self.shutdown()
        self.exit(0)

    def _catch_stop_signals(self) -> None:
        loop = asyncio.get_running_loop()
        for name in STOP_SIGNALS:
            number = getattr(signal, name, None)
            if number is not None:  # Windows has no SIGHUP, and no loop signal handlers
                with contextlib.suppress(NotImplementedError, RuntimeError, ValueError):
                    loop.add_signal_handler(number, self.stop_by_signal, number)

    def stop_by_signal(self, number: int) -> None:
        """SIGHUP (the terminal closed) or SIGTERM: what was typed is written, every socket
        closed and the terminal restored, as with Ctrl+Q; the exit status is 128 + the
        signal's number, as a shell reports a program a signal ended."""
        with contextlib.suppress(NoMatches):  # the window may be closing already
            self.guide.take_typed_answer()
        self.shutdown()
        code = 128 + number
        if self.signals and self._last_resort is None:
            # A closed window's terminal may never take Textual's last writes, and its exit
            # then waits for ever (seen under tmux). The answers are written and the
            # sockets closed by now: the process ends anyway once the grace time is out.
            self._last_resort = threading.Timer(STOP_GRACE, os._exit, args=(code,))
            self._last_resort.daemon = True
            self._last_resort.start()
        self.exit(code)

    def stopped(self) -> None:
        """The window has closed (``tui.run``): the last resort is not needed."""
        if self._last_resort is not None:
            self._last_resort.cancel()

    def shutdown(self) -> None:
        """Quit's work, once, whatever ends the app: what the student typed is written
        first, then every socket and thread of the session closed."""
        if not self._stopped:
            self._stopped = True
            self.guide.close()
            self.session.shutdown()

    def on_unmount(self) -> None:
        self.shutdown()
