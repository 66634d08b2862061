"""The observatory: the lab's server, its clients and the kernel's view, in one window.

Sockets and polling live in the Session's threads; everything reaches the UI as messages
(``tui.messages``). The app owns one object per concern and wires them; none of them
knows another's attributes:

- ``Recorder`` (``tui.stepthrough``): what happened, the moments, the pause;
- ``Scene`` (``tui.scene``): what belongs to the current step;
- ``Guide`` (``tui.guided``): the step, the name, the answers, the evidence;
- ``ScreenshotFlow`` (``tui.screenshots``): the stamp and a step's picture;
- ``Views`` (``tui.live``): one moment on every view, and the layout;
- ``Focus`` (``tui.focus``): where the keys go.

One snapshot's way is ``apply``, read top to bottom: the recorder keeps it, the timeline
tells it, the scene keeps its earlier rows true, the recorder keeps the moment (or holds
it while paused), the views show it, the guide looks for the step's evidence, and met
evidence takes the step's picture.
"""

from __future__ import annotations

import asyncio
import contextlib
import gc
import os
import signal
import socket
import sys
import threading
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from textual import events
from textual.app import App, ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.css.query import NoMatches
from textual.filter import LineFilter
from textual.widget import Widget
from textual.widgets import ContentSwitcher, Input, Static
from textual.worker import get_current_worker

from tcp_observatory.lab.errors import LabError
from tcp_observatory.lab.grading.manifest import DEFAULT_FOLDER
from tcp_observatory.lab.guide.evidence import message_of
from tcp_observatory.lab.guide.setup import (
    SetupCancelled,
    describe_op,
    run_setup,
    scene_of,
    student_part,
    wait_unless,
)
from tcp_observatory.lab.guide.witness import StepWitness, server_mode
from tcp_observatory.lab.i18n import t
from tcp_observatory.lab.net.client import ClientEvent
from tcp_observatory.lab.net.program import ProgramLine
from tcp_observatory.lab.net.server import ServerEvent
from tcp_observatory.lab.observe.model import Connection, Snapshot, Transition
from tcp_observatory.lab.session import Action, Event, Paced, ProgramReport, Session, SessionError
from tcp_observatory.lab.text import clean_field
from tcp_observatory.tui.focus import Focus, focused_card
from tcp_observatory.tui.guided import Guide
from tcp_observatory.tui.live import Views
from tcp_observatory.tui.lookup import present
from tcp_observatory.tui.messages import (
    Inbox,
    Notice,
    ProgramMessage,
    SessionMessage,
    ShotFailed,
    ShotSaved,
    SnapshotMessage,
)
from tcp_observatory.tui.notes import action_note, server_note
from tcp_observatory.tui.programs import show_reports
from tcp_observatory.tui.scene import Scene
from tcp_observatory.tui.screenshots import ScreenshotFlow, story
from tcp_observatory.tui.stepthrough import STEP_ACTIONS, Recorder
from tcp_observatory.tui.theme import LightFilter
from tcp_observatory.tui.widgets.banner import Banner
from tcp_observatory.tui.widgets.clients import ClientCard, ClientsPane
from tcp_observatory.tui.widgets.connections import ConnectionsTable
from tcp_observatory.tui.widgets.footer import KeysFooter
from tcp_observatory.tui.widgets.server_pane import ServerPane
from tcp_observatory.tui.widgets.steps_panel import StepsPanel
from tcp_observatory.tui.widgets.timeline import Timeline
from tcp_observatory.tui.widgets.title_bar import TitleBar
from tcp_observatory.tui.widgets.why import WhyLine

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


PROGRAMS_EVERY = 0.1  # seconds between two showings of the student's programs' lines

# The terminal closed, or the app was told to stop: each ends it as Ctrl+Q does.
STOP_SIGNALS = ("SIGHUP", "SIGTERM")
STOP_GRACE = 5.0  # seconds the window has to close after a signal before the process ends


def no_resume_once_quit() -> None:
    """A terminal that closes sends SIGHUP, then SIGCONT. Textual's driver answers SIGCONT
    by taking the terminal again (the alternate screen, a new input thread): once the app
    has quit, nothing stops that thread, and the process never ends (on a terminal that is
    gone, it spins at 100% CPU). Ctrl+Q, or a signal, then the window closed at once, did
    that. From the app's quit on, SIGCONT does what it does by default."""
    number = getattr(signal, "SIGCONT", None)  # none on Windows
    if number is not None and threading.current_thread() is threading.main_thread():
        signal.signal(number, signal.SIG_DFL)


def threads_left() -> list[threading.Thread]:
    """The threads, besides this one, that the interpreter would wait for at its exit."""
    return [thread for thread in threading.enumerate()
            if thread is not threading.current_thread() and not thread.daemon
            and thread.is_alive()]


def _end_process(code: int) -> None:
    for stream in (sys.stdout, sys.stderr):
        with contextlib.suppress(Exception):
            stream.flush()
    os._exit(code)


class ObservatoryApp(App[int]):
    CSS_PATH = "app.tcss"
    TITLE = "TCP Observatory"
    ENABLE_COMMAND_PALETTE = False
    # Before any input that has the focus; shown in the footer in the app's language.
    BINDINGS = [Binding("ctrl+q", "quit", "Quit", priority=True)]
    LIGHT = LightFilter()
    _last_resort: threading.Timer | None = None  # ends the process if a signal's exit hangs

    def __init__(
        self,
        session: Session,
        *,
        lang: str = "fr",
        clients: int = 1,
        clock: Callable[[], float] = time.time,
        show_clock: bool = True,
        start_session: bool = True,
        present: bool = False,
        view: str = "connections",
        student: str | None = None,
        folder: str | Path = DEFAULT_FOLDER,
        host: str | None = None,
        autopilot: Callable[[Any], None] | None = None,  # given the app, in a worker thread
        auto_capture: bool = True,
        demo: bool = False,
        signals: bool = False,  # SIGHUP and SIGTERM end the app as Ctrl+Q does (tui.run)
        colours: str = "dark",
    ) -> None:
        super().__init__()
        self.session = session
        self.lang = lang
        self.initial_clients = clients
        self.clock = clock
        self.show_clock = show_clock
        self.start_session = start_session
        self.signals = signals
        self.autopilot = autopilot
        self.colours = colours if colours in ("dark", "light") else "dark"  # tui.theme
        self._stopped = False
        self._warned_source = False
        self._last_error = ""
        self._programs_shown = 0.0  # time.monotonic() when they were last shown
        self.demo_error: str | None = None  # set by ``tcp-observatory demo`` when a step fails
        # One object per concern, each in its own module.
        self.inbox = Inbox(self.post_message)
        self.recorder = Recorder()
        self.scene = Scene()
        self.guide = Guide(self, Path(folder), lang, student)
        self.shots = ScreenshotFlow(self, lang, host=clean_field(host or socket.gethostname()),
                                    demo=demo, auto_capture=auto_capture)
        self.views = Views(self, session, lang, clock, self.recorder, self.scene,
                           lambda: self.guide.step_id, view=view, present=present)
        self.focus = Focus(self)

    @property
    def step_id(self) -> str:
        return self.guide.step_id

    # -- panes -----------------------------------------------------------------------------
    @property
    def table(self) -> ConnectionsTable:
        return self.query_one(ConnectionsTable)

    @property
    def timeline(self) -> Timeline:
        return self.query_one(Timeline)

    @property
    def server_pane(self) -> ServerPane:
        return self.query_one(ServerPane)

    @property
    def clients_pane(self) -> ClientsPane:
        return self.query_one(ClientsPane)

    def on_notice(self, message: Notice) -> None:
        self.notify(message.text, severity="error" if message.error else "information",
                    timeout=message.timeout)

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

    # -- one snapshot's way, from the kernel to the screen ---------------------------------
    def on_snapshot_message(self, message: SnapshotMessage) -> None:
        transitions = self.inbox.transitions()
        if self._stopped:
            return  # the window is closing: the widgets may be gone already
        try:
            self.apply(message.snapshot, transitions)
        except NoMatches:
            pass  # a snapshot that arrived while the screen was being torn down

    def apply(self, snapshot: Snapshot, transitions: list[Transition]) -> None:
        """One snapshot and its transitions, from the observer's thread to the screen:
        recorded, told on the timeline, its scene kept true, kept as a moment (and held
        while paused), shown on every view, and its evidence looked for (met, the step's
        picture is taken). The views show the step's scene; the timeline and the
        recorder keep everything."""
        if snapshot.warning and not self._warned_source:
            self._warned_source = True
            self.notify(t("ns.own_only", self.lang), severity="warning", timeout=15)
        self.recorder.keep(transitions)
        self.scene.first_look(lambda: self.views.lab_rows(snapshot))
        self.views.to_timeline(transitions, self.inbox.first_look)
        shown = None if transitions or self.recorder.paused else self.views.quiet(snapshot)
        if shown is not None:
            # Nothing new from the kernel: every view already shows it. Only the evidence
            # is looked at again (a message sent may have met it without a kernel change).
            self._check_evidence(shown)
            return
        self.scene.track(snapshot)
        if transitions:
            self.recorder.record(snapshot, transitions)
        if self.recorder.paused:
            self.recorder.hold(snapshot, transitions)
            return
        self.views.show(snapshot, transitions)
        self._check_evidence(snapshot)

    def _check_evidence(self, snapshot: Snapshot) -> None:
        """Look for the step's evidence in the scene's own rows of ``snapshot``; when met,
        the step's screenshot is taken (by then the step's last awaited event is on
        screen).

        A message counts when the server reports it or when the kernel shows its bytes
        reaching the server's socket (the scene's witness), whoever wrote the server; a
        server the app did not start is judged by its behaviour."""
        rows = self.scene.only(self.views.lab_rows(snapshot))
        witness = self.current_witness()
        witness.feed(rows.connections)
        evidence = self.guide.check(rows, self.scene.messages, server_mode(self.session),
                                    port=self.session.port, refused=self.scene.refused,
                                    receipts=witness.receipts())
        if (self.guide.wants_picture(evidence) and self.shots.automatic(self.step_id)
                and not self.views.present):
            self.take_screenshot()

    def current_witness(self) -> StepWitness:
        """The kernel's witness of the current scene, begun on the lab's rows shown."""
        return self.scene.witness(self._shown_lab_rows)

    def _shown_lab_rows(self) -> tuple[Connection, ...]:
        shown = self.views.snapshot
        return self.views.lab_rows(shown).connections if shown is not None else ()

    # -- everything else the session's threads report --------------------------------------
    def _from_session(self, event: Event) -> None:
        """Called on any thread: hand over to the UI without blocking."""
        self.inbox.put(event)

    def on_program_message(self, message: ProgramMessage) -> None:
        wait = self._programs_shown + PROGRAMS_EVERY - time.monotonic()
        if wait > 0:  # shown a moment ago: the batch grows a little longer
            self.set_timer(wait, lambda: self._show_programs(message.batch))
        else:
            self._show_programs(message.batch)

    def _show_programs(self, last: list[ProgramReport]) -> None:
        """Show the batches of reports up to ``last``, in order (a flood's lines reach the
        screen at most ``1 / PROGRAMS_EVERY`` times a second, many at once)."""
        reports = self.inbox.reports(last)
        if reports is None:
            return  # shown already, with a later batch
        self._programs_shown = time.monotonic()
        if self._stopped or not reports:
            return
        for report in reports:
            self._heard_from_program(report)
        try:
            show_reports(reports, self.lang, self.server_pane, self.clients_pane)
        except NoMatches:
            pass  # reports that arrived while the screen was being torn down

    async def on_session_message(self, message: SessionMessage) -> None:
        if self._stopped:
            return
        try:
            await self._handle(message.event)
        except NoMatches:
            pass  # an event that arrived while the screen was being torn down

    async def _handle(self, e: Event) -> None:
        if isinstance(e, ServerEvent):
            self._on_server_event(e)
        elif isinstance(e, ClientEvent):
            if e.kind == "failed" and e.refused:
                self.scene.refuse(e.number)  # Windows: refused at a full accept queue
            card = self.clients_pane.card(e.number)
            if card is not None:
                card.on_client_event(e)  # the card ignores an earlier client's events
        elif isinstance(e, Action):
            await self._on_action(e)
        elif isinstance(e, ProgramReport):
            self._heard_from_program(e)
            show_reports([e], self.lang, self.server_pane, self.clients_pane)
        elif isinstance(e, Paced):
            self.views.labels()
        elif isinstance(e, SessionError) and e.text != self._last_error:
            # A failing source reports at every retry: say it once, until it changes.
            self._last_error = e.text
            self.notify(t("err.source", self.lang, text=e.text), severity="error", timeout=10)

    def _on_server_event(self, e: ServerEvent) -> None:
        self.recorder.keep_server_event(e)
        said = message_of(e, self.session.registry)
        if said is not None and not self.scene.from_earlier(e):
            self.scene.heard(said)
        self.server_pane.log_event(e)
        note = server_note(e, self.lang)
        if note is not None:
            self.timeline.add_note(e.time, note, server=True)
        if e.kind in ("listening", "stopped"):
            self.views.labels()

    def _heard_from_program(self, e: ProgramReport) -> None:
        """The student's server printed a line equal to one a client sent in this step:
        the server received that message, whatever the kernel could tell."""
        if e.who != 0 or not isinstance(e.event, ProgramLine):
            return
        said = self.current_witness().printed(e.event.text)
        if said is not None:
            self.scene.heard(said)

    async def _on_action(self, a: Action) -> None:
        self.recorder.keep_action(a)
        if a.kind in ("server-start", "program-server"):
            self.server_scene(a.time)
        if a.kind == "client-add" and a.client is not None:
            card = await self.clients_pane.add_card(a.client, a.ident)
            if self.autopilot is None:
                self.focus.card_added(card)  # the keys go to a client's input
        elif a.kind == "client-remove" and a.client is not None:
            focused = focused_card(self)
            had_focus = (focused is not None and focused.number == a.client
                         and focused.follows(a.ident))
            await self.clients_pane.remove_card(a.client, a.ident)
            if self.autopilot is None:
                self.focus.card_removed(had_focus)
        if a.kind in ("send", "fin") and a.client is not None:
            self.current_witness().typed(a.client, a.text)  # what its bytes are checked against
        note = action_note(a, self.lang)
        if a.by_app:
            if a.kind in ("send", "fin"):
                self.scene.sent((a.client, a.text))
        self.timeline.add_note(a.time, note)
        self.views.labels()

    # -- the window ------------------------------------------------------------------------
    def on_resize(self, event: events.Resize) -> None:
        # The event's size: this handler runs before App's own, so self.size is the old one.
        self.views.resize(event.size.width, event.size.height)

    def on_data_table_row_highlighted(self) -> None:
        self.views.explain()

    def on_connections_table_resized(self, message: ConnectionsTable.Resized) -> None:
        # The panes around it were laid out again (the steps panel, a class set by the
        # layout, a picture's end): the step's columns are fitted to its new width, and at
        # 80x24 the steps panel is kept below it.
        self.call_after_refresh(self.views.fit_table)
        self.call_after_refresh(self.views.keep_panel_above_keys)

    def _tick(self) -> None:
        """Twice a second: the stamp's clock, and the table's times in state."""
        self._update_stamp()
        if not self.recorder.paused and not self._stopped:
            for table in present(self, ConnectionsTable):
                table.tick()
            self.views.explain()  # a CLOSE_WAIT held open is told once it has lingered

    def fit_table(self) -> None:
        self.views.fit_table()

    # -- the lab's keys --------------------------------------------------------------------
    def action_add_client(self) -> None:
        # The card appears when the session reports the client (a step's setup adds
        # clients from a thread the same way); its input takes the focus then.
        self.focus.new_client = self.session.add_client()

    async def action_remove_client(self) -> None:
        card = focused_card(self)
        if card is None:
            cards = self.clients_pane.cards()
            if len(cards) != 1:
                self.notify(t("err.remove_none", self.lang), severity="warning")
                return
            card = cards[0]
        self.session.remove_client(card.number)

    def on_client_card_send(self, message: ClientCard.Send) -> None:
        if self.session.send(message.number, message.text):
            return
        card = self.clients_pane.card(message.number)
        if card is not None and card.program and not card.closed:
            # Refused: the student's program does not read its input (its log says so).
            # The line goes back into the field rather than being lost.
            card.query_one(Input).value = message.text

    def action_toggle_server_mode(self) -> None:
        """F4: a new server in the other mode, and a new scene: the old server's clients are
        closed rather than left on screen talking to a server that is gone."""
        self.focus.focus_client()  # the next client's input takes it (these are closed)
        try:
            self.session.reset_clients()
            self.session.switch_mode()
        except LabError as exc:
            self.notify(str(exc), severity="error", timeout=8)
        self.views.labels()

    def action_toggle_close_after_fin(self) -> None:
        self.session.set_close_after_fin(not self.session.close_after_fin)
        self.views.labels()

    def action_toggle_filter(self) -> None:
        self.session.set_all_ports(not self.session.all_ports)
        self.views.labels()

    def action_toggle_server(self) -> None:
        try:
            if self.session.server_running:
                self.session.stop_server()
            else:
                self.session.start_server()
        except LabError as exc:
            self.notify(str(exc), severity="error", timeout=8)
        self.views.labels()

    async def action_next_view(self) -> None:
        await self.views.next_view()

    def action_toggle_present(self) -> None:
        self.views.toggle_present()

    # -- where the keys go (tui.focus) -----------------------------------------------------
    def on_descendant_focus(self, event: events.DescendantFocus) -> None:
        self.focus.focused(event.widget)

    def on_descendant_blur(self, event: events.DescendantBlur) -> None:
        self.focus.blurred(event.widget)

    def on_input_changed(self, event: Input.Changed) -> None:
        self.focus.typed(event.input)

    def action_answer(self) -> None:
        """F12: the answer box takes the focus (the steps panel opens if hidden); pressed
        in the answer box, back to the client's input."""
        if self.focus.answer():
            self.call_after_refresh(self.views.fit_table)

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
                self.views.show(*moment, exact=stepped)
        self.refresh_bindings()
        self.views.labels()

    def action_step(self, delta: int) -> None:
        """Paused: show the recorded moment before or after the one on screen."""
        moment = self.recorder.step(delta)
        if moment is not None:
            self.views.show(*moment, exact=True)
            self.views.labels()

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
        seen = self.views.snapshot is not None  # none yet: the first one will tell
        self.scene.begin(when, self._shown_lab_rows() if seen else None,
                         finished_only=finished_only, keep_setup=keep_setup)
        shown = self.views.snapshot
        if shown is not None:
            self.table.set_earlier(frozenset(self.scene.earlier))
            self._check_evidence(shown)

    def server_scene(self, when: float) -> None:
        """A new server (F4, F8, a step's setup): the step's story starts again with it.
        The old server's connections become earlier ones, its messages leave the
        evidence, and its shutdown leaves the picture's story."""
        self._new_scene(when, finished_only=False, keep_setup=True)

    def action_toggle_steps(self) -> None:
        panel = self.query_one(StepsPanel)
        panel.show(not panel.display)
        self.focus.focus_client()  # the answer box has its own key (F12)
        self.call_after_refresh(self.fit_table)

    def action_change_step(self, delta: int) -> None:
        step = self.guide.neighbour(delta)
        if step is not None:
            self.guide.take_typed_answer()
            self.select_step(step)
        self.focus.focus_client()

    def action_setup_step(self) -> None:
        """Set the current step's scene (in a thread: it waits): a fresh server in the
        step's mode, the previous clients gone, the step's clients numbered from 1. The
        messages are left to the student; what the app did is said on screen and kept
        with the screenshot."""
        self.focus.focus_client()  # the step's new clients' inputs take it when they appear
        step = self.step_id
        todo = self.prepare_scene()

        def work() -> None:
            worker = get_current_worker()
            try:
                run_setup(self.session, step, wait_unless(lambda: worker.is_cancelled),
                          lang=self.lang)
            except SetupCancelled:
                return
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
        for pane in present(self, ServerPane):
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
            from tcp_observatory.tui.widgets.prompt import NamePrompt  # asked rarely: not at start

            self.push_screen(NamePrompt(self.lang), self._name_then_shoot)
            return
        now = self.clock()
        # What the screenshot proves is frozen now, and its seal shown in the stamp.
        step = self.step_id
        shown = self.views.snapshot or Snapshot(now, (), "none")
        seal, args = self.shots.freeze(
            step, now, shown, self.scene, self.recorder, student=self.guide.student,
            answer=self.guide.answer(step), mode=server_mode(self.session),
            port=self.session.port, receipts=self.current_witness().receipts())
        self._update_stamp(now, seal)
        self.enter_capture(step, shown)
        self.call_after_refresh(self.shots.capture, step, args, self.guide.folder,
                                self._after_capture)

    def _after_capture(self) -> None:
        self._update_stamp()
        self.call_after_refresh(self.views.fit_table)  # the table is back on screen

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
                         self.scene.earlier_count(self.views.lab_rows(shown)))

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
        met_now = saved.evidence.met and self.guide.mark_met(step)
        if self._stopped or not self.is_running:
            return  # saved while the window closes: on disk, with nothing left to tell it
        try:
            if met_now:
                self._show_step()
        except NoMatches:
            return  # the screen is being torn down (the app's unmount comes after its widgets')
        if self.autopilot is None:  # the demo's screenshots would pile these toasts up
            self.notify(t("shot.saved", self.lang, file=path.name), timeout=4)
        # The picture may be saved while the app is closing: its panes are gone by then.
        # It says "evidence observed" only when its record says so (Ctrl+S saves one before).
        key = "steps.met_note" if saved.evidence.met else "steps.shot_note"
        for timeline in present(self, Timeline):
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
        yield TitleBar(icon="⇄", show_clock=self.show_clock, clock=self.clock, id="title-bar")
        yield Static(id="stamp")
        yield Banner(self.lang, id="banner")
        with Horizontal(id="main"):
            with Vertical(id="left"):
                # The diagram and the ladder are made when first shown (Views.view_widget).
                with ContentSwitcher(initial="connections", id="views"):
                    yield ConnectionsTable(self.lang, clock=self.clock, id="connections")
                yield WhyLine(id="why")
                yield Timeline(self.lang, id="timeline")
            with Vertical(id="right"):
                yield ServerPane(self.lang, id="server")
                # The clients started before the window (tui.run) are in its first screen.
                started = sorted(self.session.idents.items()) if self.session.holding else ()
                yield ClientsPane(self.lang, id="clients", cards=started)
        yield StepsPanel(self.lang, id="steps")
        yield KeysFooter(id="keys", descriptions={"quit": t("key.quit", self.lang)})

    async def on_mount(self) -> None:
        self.title = t("app.title", self.lang)
        self.timeline.border_title = t("pane.timeline", self.lang)
        self.clients_pane.border_title = t("pane.clients", self.lang)
        self.views.labels()
        if self.views.present:
            self.views.apply_present()
        self.views.apply_view()
        self.call_after_refresh(self.views.keep_panel_above_keys)
        self.call_after_refresh(gc.enable)  # tui.cli held the collector off for the start
        self._show_step()
        self._update_stamp()
        self.session.set_sink(self._from_session)
        self.set_interval(0.5, self._tick)
        if self.signals:
            self._catch_stop_signals()
        if self.start_session:  # else it runs already (tui.run starts it before the window)
            self.session.start(clients=0)
            for _ in range(self.initial_clients):
                self.session.add_client()
        self.views.labels()
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
        if self.signals:
            # A closed window's terminal may never take Textual's last writes, and its exit
            # then waits for ever (seen under tmux). The answers are written and the
            # sockets closed by now: the process ends anyway once the grace time is out.
            self._arm_last_resort(code)
        self.exit(code)

    def _arm_last_resort(self, code: int) -> None:
        if self._last_resort is None:
            self._last_resort = threading.Timer(STOP_GRACE, _end_process, args=(code,))
            self._last_resort.daemon = True
            self._last_resort.start()

    def stopped(self, code: int) -> None:
        """The window has closed (``tui.run``): the last resort is not needed, unless a
        thread is left that would keep the process alive for ever (the interpreter waits
        for every thread not marked daemon): then the process ends after STOP_GRACE, with
        ``code``, whatever that thread is."""
        if self._last_resort is not None:
            self._last_resort.cancel()
            self._last_resort = None
        if self.signals and threads_left():
            self._arm_last_resort(code)

    def shutdown(self) -> None:
        """Quit's work, once, whatever ends the app: what the student typed is written
        first, then every socket and thread of the session closed."""
        if not self._stopped:
            self._stopped = True
            if self.signals:
                no_resume_once_quit()
            self.guide.close()
            self.session.shutdown()

    def on_unmount(self) -> None:
        self.shutdown()
