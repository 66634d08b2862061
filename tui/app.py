"""The observatory: the lab's server, its clients and the kernel's view, in one window.

Sockets and polling live in the Session's threads; everything reaches the UI as messages
(``post_message`` is thread-safe and never blocks the sender). Snapshot messages replace
one another when the UI falls behind, so a slow screen is never flooded; transitions are
queued separately so that none is lost.
"""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

from rich.text import Text
from textual import events
from textual.app import App, ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.css.query import NoMatches
from textual.message import Message
from textual.widgets import ContentSwitcher, Footer, Header, Input, Static

from lab import __version__
from lab.cmdline import is_loopback
from lab.errors import LabError
from lab.grading.manifest import DEFAULT_FOLDER, SavedScreenshot, save_answer, save_screenshot
from lab.grading.record import seal_for
from lab.grading.report import write_report
from lab.grading.stamp import stamp_text
from lab.guide.evidence import Evidence, check_evidence, message_of
from lab.guide.evidence import Message as Message_
from lab.guide.progress import load_progress, save_progress
from lab.guide.setup import run_setup
from lab.guide.steps import STEP_IDS
from lab.i18n import t
from lab.net.client import ClientEvent
from lab.net.server import SINGLE, ServerEvent
from lab.observe.model import Snapshot, Transition
from lab.session import Action, Event, ObserverUpdate, Session, SessionError
from lab.text import clean_field, clock_text, printable
from tui.bounded import keep
from tui.widgets.banner import Banner
from tui.widgets.clients import ClientCard, ClientsPane
from tui.widgets.connections import COLUMNS, PRESENT_COLUMNS, ConnectionsTable
from tui.widgets.diagram import StateDiagram, markers_from
from tui.widgets.ladder import LadderView, ladder_from
from tui.widgets.prompt import NamePrompt
from tui.widgets.server_pane import ServerPane
from tui.widgets.steps_panel import StepsPanel
from tui.widgets.timeline import Timeline

W = TypeVar("W")

# key, action, description key
KEYS: tuple[tuple[str, str, str], ...] = (
    ("f1", "toggle_steps", "key.steps"),
    ("f2", "add_client", "key.add"),
    ("f3", "remove_client", "key.remove"),
    ("f4", "switch_mode", "key.mode"),
    ("f5", "toggle_close_after_fin", "key.close_after_fin"),
    ("f6", "toggle_filter", "key.filter"),
    ("f7", "toggle_pause", "key.pause"),
    ("f8", "toggle_server", "key.server"),
    ("f9", "next_view", "key.view"),
    ("f10", "toggle_present", "key.present"),
    ("left_square_bracket", "step(-1)", "key.step_back"),
    ("right_square_bracket", "step(1)", "key.step_forward"),
    ("ctrl+s", "screenshot", "key.shot"),
    ("ctrl+r", "setup_step", "key.setup"),
    ("ctrl+n", "change_step(1)", "key.next_step"),
    ("ctrl+b", "change_step(-1)", "key.prev_step"),
)
# Shown (and active) only while paused.
STEP_ACTIONS = ("step",)
MAX_MOMENTS = 5000
MAX_MOMENT_ROWS = 200_000  # connection rows kept across all recorded moments
MAX_EVENTS = 20000  # transitions, actions, server events and messages kept in memory
VIEWS = ("connections", "diagram", "ladder")

NARROW = 110  # columns below which the panes are stacked

SERVER_NOTES = {
    "accepted": "act.accepted",
    "released": "act.released",
    "closed": "act.closed",
    "fin": "act.fin-received",
    "eof": "act.eof",
    "reset": "act.reset",
    "refused": "act.refused",
}


class SessionMessage(Message):
    """Anything the session reports, other than snapshots."""

    def __init__(self, event: Event) -> None:
        super().__init__()
        self.event = event


class SnapshotMessage(Message):
    """The latest snapshot; an older one still queued is dropped."""

    def __init__(self, snapshot: Snapshot) -> None:
        super().__init__()
        self.snapshot = snapshot

    def can_replace(self, message: Message) -> bool:
        return isinstance(message, SnapshotMessage)


class ObservatoryApp(App[int]):
    CSS_PATH = "app.tcss"
    TITLE = "TCP Observatory"
    ENABLE_COMMAND_PALETTE = False
    BINDINGS = [Binding("ctrl+q", "quit", "Quit", priority=True, show=False)]

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
        autopilot: Callable[[ObservatoryApp], None] | None = None,
        auto_capture: bool = True,
    ) -> None:
        super().__init__()
        self.session = session
        self.lang = lang
        self.initial_clients = clients
        self.clock = clock
        self.show_clock = show_clock
        self.start_session = start_session
        self.paused = False
        self.snapshot: Snapshot | None = None
        self.history: list[Transition] = []
        self._pending: list[Transition] = []
        self._pending_lock = threading.Lock()
        self._held_snapshot: Snapshot | None = None
        self._stopped = False
        self._warned_source = False
        self._capturing = False
        self._shooting: set[str] = set()  # steps whose evidence screenshot is being saved
        self._last_error = ""
        self.present = present
        self.view = view if view in VIEWS else "connections"
        # What the ladder draws from: the app's actions and the server's events.
        self.actions: list[Action] = []
        self.server_events: list[ServerEvent] = []
        # Recorded moments (a snapshot and the transitions that led to it), for step-through.
        self.moments: list[tuple[Snapshot, list[Transition]]] = []
        self.step_index: int | None = None
        self._moment_rows = 0
        # The guided lab: progress resumes from the screenshots folder.
        self.folder = Path(folder)
        self.progress = load_progress(self.folder)
        self.student = clean_field(student) if student else self.progress.student
        self.host = clean_field(host or socket.gethostname())
        self.step_messages: list[Message_] = []
        self.evidence: Evidence | None = None
        self.autopilot = autopilot
        self.auto_capture = auto_capture
        self.saved: list[Path] = []  # screenshots written by this run
        self.save_errors: list[str] = []  # and the sentences of those that could not be
        for key, action, desc in KEYS:
            self._bindings.bind(key, action, t(desc, lang))
        self._bindings.bind("ctrl+q", "quit", t("key.quit", lang), priority=True)

    # -- layout ----------------------------------------------------------------------------
    def compose(self) -> ComposeResult:
        yield Header(show_clock=self.show_clock, icon="⇄")
        yield Static(id="stamp")
        yield Banner(self.lang, id="banner")
        with Horizontal(id="main"):
            with Vertical(id="left"):
                with ContentSwitcher(initial=self.view, id="views"):
                    yield ConnectionsTable(self.lang, clock=self.clock, id="connections")
                    yield StateDiagram(self.lang, id="diagram")
                    yield LadderView(self.lang, id="ladder")
                yield Timeline(self.lang, id="timeline")
            with Vertical(id="right"):
                yield ServerPane(self.lang, id="server")
                yield ClientsPane(self.lang, id="clients")
        yield StepsPanel(self.lang, id="steps")
        yield Footer(compact=True)

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

    async def on_mount(self) -> None:
        self.title = t("app.title", self.lang)
        self.timeline.border_title = t("pane.timeline", self.lang)
        self.clients_pane.border_title = t("pane.clients", self.lang)
        self._refresh_labels()
        if self.present:
            self._apply_present()
        self._apply_view()
        self._show_step()
        self._update_stamp()
        self.session.set_sink(self._from_session)
        self.set_interval(0.5, self._tick)
        if self.start_session:
            self.session.start(clients=0)
            for _ in range(self.initial_clients):
                self.session.add_client()
        self._refresh_labels()
        if self.autopilot is not None:
            self.run_worker(lambda: self.autopilot(self), thread=True, group="autopilot",
                            exit_on_error=False)
        elif not self.student:
            self.push_screen(NamePrompt(self.lang), self._got_name)

    # -- from the session's threads --------------------------------------------------------
    def _from_session(self, event: Event) -> None:
        """Called on any thread: hand over to the UI without blocking."""
        if isinstance(event, ObserverUpdate):
            if event.transitions:
                with self._pending_lock:
                    self._pending.extend(event.transitions)
            self.post_message(SnapshotMessage(event.snapshot))
        else:
            self.post_message(SessionMessage(event))

    def on_snapshot_message(self, message: SnapshotMessage) -> None:
        with self._pending_lock:
            transitions, self._pending = self._pending, []
        if self._stopped:
            return  # the window is closing: the widgets may be gone already
        try:
            self.apply(message.snapshot, transitions)
        except NoMatches:
            pass  # a snapshot that arrived while the screen was being torn down

    def apply(self, snapshot: Snapshot, transitions: list[Transition]) -> None:
        """Show a snapshot and its transitions (or keep them for later while paused)."""
        if snapshot.warning and not self._warned_source:
            self._warned_source = True
            self.notify(t("ns.own_only", self.lang), severity="warning", timeout=15)
        keep(self.history, transitions, MAX_EVENTS)
        for tr in transitions:
            self.timeline.add_transition(tr)
        if transitions:
            self._record_moment(snapshot, transitions)
        if self.paused:
            self._held_snapshot = snapshot
            return
        self._show(snapshot, transitions[-1] if transitions else None)
        self._check_evidence(snapshot)

    def _record_moment(self, snapshot: Snapshot, transitions: list[Transition]) -> None:
        """Keep a moment for step-through, within a count and a total number of rows (with
        --all on a busy host each snapshot holds thousands of rows)."""
        self.moments.append((snapshot, transitions))
        self._moment_rows += len(snapshot.connections)
        drop = 0
        while len(self.moments) - drop > 1 and (
                len(self.moments) - drop > MAX_MOMENTS or self._moment_rows > MAX_MOMENT_ROWS):
            self._moment_rows -= len(self.moments[drop][0].connections)
            drop += 1
        if drop:
            del self.moments[:drop]
            if self.step_index is not None:
                self.step_index = max(0, self.step_index - drop)

    def _show(self, snapshot: Snapshot, latest: Transition | None, *, exact: bool = False) -> None:
        """Put one moment on every view: the table, the clients' states, the banner."""
        self.snapshot = snapshot
        self.table.apply(snapshot, linger=not exact)
        self._update_client_states(snapshot)
        if latest is not None:
            self.query_one(Banner).show(latest)
        self._refresh_view(snapshot.time if exact else None)

    def _refresh_view(self, until: float | None = None) -> None:
        """Redraw the diagram or the ladder (only the one on screen), as of ``until``."""
        if self.view == "connections" or self.snapshot is None:
            return
        history = self.history if until is None else [
            tr for tr in self.history if tr.time <= until]
        if self.view == "diagram":
            diagram = self.query_one(StateDiagram)
            diagram.border_title = t("pane.diagram", self.lang, port=self.session.port)
            diagram.set_markers(markers_from(self.snapshot, history, self.lang))
            return
        number = self._ladder_client()
        ladder = self.query_one(LadderView)
        if number is None:
            ladder.border_title = t("pane.ladder_none", self.lang)
            ladder.show([], client=None)
            return
        ladder.border_title = t("pane.ladder", self.lang, n=number)
        actions = self.actions if until is None else [a for a in self.actions if a.time <= until]
        events = self.server_events if until is None else [
            e for e in self.server_events if e.time <= until]
        ladder.show(ladder_from(number, actions, events, history, self.lang), client=number)

    def _ladder_client(self) -> int | None:
        """The client whose connection the ladder draws: focused card, else the first one."""
        card = self._focused_card()
        if card is not None:
            return card.number
        cards = self.clients_pane.cards()
        return cards[0].number if cards else None

    def _update_client_states(self, snapshot: Snapshot) -> None:
        states: dict[int, str] = {}
        for c in snapshot.connections:
            if c.role.client is not None and c.local.port != self.session.port:
                states[c.role.client] = c.state
        for card in self.clients_pane.cards():
            card.set_state(states.get(card.number, "CLOSED" if card.closed else ""))

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
            card = self.clients_pane.card(e.number)
            if card is not None:
                card.on_client_event(e)
        elif isinstance(e, Action):
            await self._on_action(e)
        elif isinstance(e, SessionError) and e.text != self._last_error:
            # A failing source reports at every retry: say it once, until it changes.
            self._last_error = e.text
            self.notify(t("err.source", self.lang, text=e.text), severity="error", timeout=10)

    def _on_server_event(self, e: ServerEvent) -> None:
        keep(self.server_events, [e], MAX_EVENTS)
        said = message_of(e, self.session.registry)
        if said is not None:
            keep(self.step_messages, [said], MAX_EVENTS)
        self.server_pane.log_event(e)
        key = SERVER_NOTES.get(e.kind)
        if key is not None:
            peer = str(e.peer) if e.peer else ""
            self.timeline.add_note(e.time, t(key, self.lang, peer=peer), server=True)
        if e.kind in ("listening", "stopped"):
            self._refresh_labels()

    async def _on_action(self, a: Action) -> None:
        keep(self.actions, [a], MAX_EVENTS)
        if a.kind == "client-add" and a.client is not None:
            card = await self.clients_pane.add_card(a.client)
            # At start the first client's input has the focus; later the newest one's.
            first_ones = a.client <= self.initial_clients
            if self.autopilot is None and not self._steps_have_focus() and (
                    not first_ones or a.client == 1):
                card.query_one(Input).focus()
        elif a.kind == "client-remove" and a.client is not None:
            await self.clients_pane.remove_card(a.client)
            rest = self.clients_pane.cards()
            if rest and self.focused is None:
                rest[-1].query_one(Input).focus()
        text = printable(a.text, 80)
        if a.kind in ("mode", "server-start"):
            text = t(f"mode.{a.text}", self.lang)
        elif a.kind == "close-after-fin":
            text = t("yes" if a.text == "on" else "no", self.lang)
        self.timeline.add_note(a.time, t(f"act.{a.kind}", self.lang, n=a.client, text=text))
        self._refresh_labels()

    # -- labels ----------------------------------------------------------------------------
    def _refresh_labels(self) -> None:
        s = self.session
        mode = t(f"mode.{s.mode}", self.lang)
        if s.server is not None and s.server_running:
            sub = t("app.server_at", self.lang, addr=s.server.address, mode=mode)
            key = "server.info" if s.mode == SINGLE else "server.info.threaded"
            info = t(key, self.lang, mode=mode, backlog=s.server.backlog,
                     caf=t("yes" if s.close_after_fin else "no", self.lang))
        elif s.with_server:
            sub = t("app.server_stopped", self.lang, port=s.port)
            info = t("server.off", self.lang)
        else:
            sub = t("app.no_server", self.lang, port=s.port)
            info = t("server.none", self.lang, port=s.port)
        if s.server is not None and s.server_running and not is_loopback(s.host):
            info += "\n⚠ " + t("warn.exposed", self.lang, addr=s.server.address)
        if self.paused:
            sub += "  " + t("app.paused", self.lang)
            if self.step_index is not None and self.moments:
                when = self.moments[self.step_index][0].time
                sub += "  " + t("app.moment", self.lang, i=self.step_index + 1,
                                n=len(self.moments), time=clock_text(when))
        self.sub_title = sub
        server_title = t("pane.server", self.lang)
        if s.server is not None and s.server_running:
            server_title += f" {s.server.address}"
        self.server_pane.set_info(server_title, info)
        self.server_pane.close_after_fin = s.close_after_fin
        filt = (t("app.filter_all", self.lang) if s.all_ports
                else t("app.filter_port", self.lang, port=s.port))
        self.table.border_title = t("pane.connections", self.lang, filter=filt)

    def on_resize(self, event: events.Resize) -> None:
        # The event's size: this handler runs before App's own, so self.size is the old one.
        for main in self.query("#main"):
            main.set_class(event.size.width < NARROW, "-narrow")

    def _tick(self) -> None:
        self._update_stamp()
        if not self.paused and not self._stopped:
            for table in self.query(ConnectionsTable):
                table.tick()

    # -- actions ---------------------------------------------------------------------------
    def action_add_client(self) -> None:
        # The card appears when the session reports the client (a step's setup adds
        # clients from a thread the same way).
        self.session.add_client()

    def _focused_in(self, kind: type[W]) -> W | None:
        """The widget of type ``kind`` that holds the focus (the focused widget or a parent)."""
        node = self.focused
        while node is not None:
            if isinstance(node, kind):
                return node
            node = node.parent  # type: ignore[assignment]
        return None

    def _steps_have_focus(self) -> bool:
        return self._focused_in(StepsPanel) is not None

    def _focused_card(self) -> ClientCard | None:
        return self._focused_in(ClientCard)

    async def action_remove_client(self) -> None:
        card = self._focused_card()
        if card is None:
            cards = self.clients_pane.cards()
            if len(cards) != 1:
                self.notify(t("err.remove_none", self.lang), severity="warning")
                return
            card = cards[0]
        self.session.remove_client(card.number)

    def on_client_card_send(self, message: ClientCard.Send) -> None:
        self.session.send(message.number, message.text)

    def action_switch_mode(self) -> None:
        try:
            self.session.switch_mode()
        except LabError as exc:
            self.notify(str(exc), severity="error", timeout=8)
        self._refresh_labels()

    def action_toggle_close_after_fin(self) -> None:
        self.session.set_close_after_fin(not self.session.close_after_fin)
        self._refresh_labels()

    def action_toggle_filter(self) -> None:
        self.session.set_all_ports(not self.session.all_ports)
        self._refresh_labels()

    def action_toggle_pause(self) -> None:
        self.paused = not self.paused
        self.timeline.set_paused(self.paused)
        if self.paused:
            # Keys now drive the view, not a client's input: [ and ] step through moments.
            self.table.focus()
        else:
            stepped = self.step_index is not None
            self.step_index = None
            latest = self._held_snapshot or (self.moments[-1][0] if stepped and self.moments
                                             else None)
            self._held_snapshot = None
            if latest is not None:
                self._show(latest, self.history[-1] if self.history else None, exact=stepped)
        self.refresh_bindings()
        self._refresh_labels()

    def action_step(self, delta: int) -> None:
        """Paused: show the recorded moment before or after the one on screen."""
        if not self.paused or not self.moments:
            return
        if self.step_index is None:
            self.step_index = len(self.moments) - 1
        self.step_index = max(0, min(len(self.moments) - 1, self.step_index + delta))
        snapshot, transitions = self.moments[self.step_index]
        self._show(snapshot, transitions[-1], exact=True)
        self._refresh_labels()

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action in STEP_ACTIONS:
            return self.paused
        return True

    def action_next_view(self) -> None:
        self.view = VIEWS[(VIEWS.index(self.view) + 1) % len(VIEWS)]
        self._apply_view()

    def _apply_view(self) -> None:
        self.query_one(ContentSwitcher).current = self.view
        self.screen.set_class(self.view != "connections", "-drawing")
        until = None
        if self.step_index is not None and self.moments:
            until = self.moments[self.step_index][0].time
        self._refresh_view(until)
        self.timeline.scroll_end(animate=False)

    def action_toggle_present(self) -> None:
        self.present = not self.present
        self._apply_present()

    def _apply_present(self) -> None:
        """Presentation: the latest change written large, fewer columns, no server log."""
        self.screen.set_class(self.present, "-present")
        self.table.cell_padding = 2 if self.present else 1
        self.table.set_shown(PRESENT_COLUMNS if self.present else COLUMNS)
        if self.present and self.history:
            self.query_one(Banner).show(self.history[-1])

    def action_toggle_server(self) -> None:
        try:
            if self.session.server_running:
                self.session.stop_server()
            else:
                self.session.start_server()
        except LabError as exc:
            self.notify(str(exc), severity="error", timeout=8)
        self._refresh_labels()

    # -- guided lab ------------------------------------------------------------------------
    @property
    def step_id(self) -> str:
        return self.progress.step

    def _update_stamp(self, when: float | None = None, seal: str | None = None) -> None:
        if self._capturing and when is None:
            return  # the stamp must show the screenshot's own time while it is taken
        for bar in self.query("#stamp"):
            bar.update(Text(stamp_text(self.student or "?", self.host,
                                       self.clock() if when is None else when, self.step_id,
                                       __version__, self.lang, seal),
                            style="bold #000000 on #ffd700"))

    def _got_name(self, name: str | None) -> None:
        if name:
            self.student = name
            self.progress.student = name
            self._save_progress()
            self._update_stamp()

    def _save_progress(self) -> None:
        try:
            save_progress(self.folder, self.progress, self.lang)
        except LabError as exc:
            self.notify(str(exc), severity="error", timeout=10)

    def _show_step(self) -> None:
        for panel in self.query(StepsPanel):
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
                self.call_from_thread(self.notify, str(exc), severity="error", timeout=10)
                return
            self.call_from_thread(self.notify, t("steps.ready", self.lang, step=step), timeout=3)

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
                self.call_from_thread(self.notify, str(exc), severity="error", timeout=10)
                return
            self.call_from_thread(self.notify, t("steps.answer_saved", self.lang,
                                                 step=step_id), timeout=3)

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
            self.action_screenshot()

    def action_screenshot(self) -> None:
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

    def _name_then_shoot(self, name: str | None) -> None:
        self._got_name(name)
        if self.student:
            self.action_screenshot()

    def _capture(self, step: str, args: dict[str, Any]) -> None:
        svg = self.export_screenshot(title=f"TCP Observatory — {step}")
        self._capturing = False
        self._update_stamp()

        def work() -> None:
            try:
                saved = save_screenshot(self.folder, step, svg, **args)
                write_report(self.folder, self.lang)
            except LabError as exc:
                self.call_from_thread(self._not_saved, step, str(exc))
                return
            self.call_from_thread(self._saved, step, saved)

        self.run_worker(work, thread=True, group="screenshot", exit_on_error=False)

    def _not_saved(self, step: str, error: str) -> None:
        self._shooting.discard(step)
        self.save_errors.append(error)
        self.notify(error, severity="error", timeout=10)

    def _saved(self, step: str, saved: SavedScreenshot) -> None:
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

    async def action_quit(self) -> None:
        self.shutdown()
        self.exit(0)

    def shutdown(self) -> None:
        if not self._stopped:
            self._stopped = True
            self.session.shutdown()

    def on_unmount(self) -> None:
        self.shutdown()
