"""What every part of the app shares: its state, its panes, and the hooks one part calls in
another. The parts (live view, step-through, guided lab, screenshots) are mixins of this
class, each in its own module; ``tui.app`` puts them together."""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

from rich.text import Text
from textual.app import App
from textual.widget import Widget

from lab.grading.autosave import AutoSave
from lab.grading.manifest import DEFAULT_FOLDER, folder_student
from lab.guide.evidence import Evidence, Message
from lab.guide.progress import load_progress
from lab.guide.witness import StepWitness
from lab.net.server import ServerEvent
from lab.observe.model import Connection, Endpoint, Snapshot, Transition
from lab.session import Action, ProgramReport, Session
from lab.text import clean_field
from tui.messages import Notice
from tui.widgets.clients import ClientCard, ClientsPane
from tui.widgets.connections import ConnectionsTable
from tui.widgets.server_pane import ServerPane
from tui.widgets.timeline import Timeline

W = TypeVar("W")
Key = tuple[Endpoint, Endpoint | None]  # a connection's (local, remote)

MAX_EVENTS = 20000  # transitions, actions, server events and messages kept in memory
VIEWS = ("connections", "diagram", "ladder")


class ObservatoryBase(App[int]):
    CSS_PATH = "app.tcss"

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
        self.paused = False
        self.snapshot: Snapshot | None = None
        self.history: list[Transition] = []
        self._pending: list[Transition] = []
        self._pending_lock = threading.Lock()
        # The student's programs' reports waiting to be shown, in batches (tui.live).
        self._program_batches: list[list[ProgramReport]] = []
        self._program_batch: list[ProgramReport] | None = None  # the one still growing
        self._programs_shown = 0.0  # time.monotonic() when they were last shown
        self._first_look: float | None = None  # the time of the observer's first poll
        self._held_snapshot: Snapshot | None = None
        self._held_transitions: list[Transition] = []  # what happened while paused
        self._stopped = False
        self._warned_source = False
        # (every connection, the lab port's among them), for the last snapshot shown
        self._lab_of: tuple[tuple[Connection, ...], Snapshot] | None = None
        self._capturing = False
        self._stamps_shown: dict[int, Text] = {}  # id of a stamp bar -> the text it shows
        self._panel_shown = False  # the steps panel's display, kept while a picture is taken
        self._focus_before: Widget | None = None  # and the focus
        self._shooting: set[str] = set()  # steps whose evidence screenshot is being saved
        self._last_error = ""
        self.present = present
        # The banner's event: its cause (an action or a server event) and what it moved.
        self._event_cause: object = None
        self._event: list[Transition] = []
        self.colours = colours if colours in ("dark", "light") else "dark"  # tui.theme
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
        # What the student types is written as it is typed, off the UI thread (tui.guided).
        self.autosave = AutoSave(self.folder, lang, on_error=self._autosave_failed,
                                 on_saved=self._autosave_told)
        self.signals = signals
        # Where the keys go (tui.focus): a client's input, the last used, else the first.
        self._last_client: int | None = None  # the client whose input last had the focus
        # No client's input could take it yet: the next card's does (at start, the first's).
        self._client_focus_pending = True
        self._focus_new_client: int | None = None  # F2's client: its card takes the focus
        # The name is given (--student), or the folder's own, or asked at the first
        # screenshot: nobody who only watches is asked anything.
        self.student = (clean_field(student) if student else
                        folder_student(self.folder) or self.progress.student)
        self.host = clean_field(host or socket.gethostname())
        self.step_messages: list[Message] = []
        self.step_refused: list[int] = []  # clients whose connect was refused in this step
        self.evidence: Evidence | None = None
        # The step's scene: connections left by earlier steps stay in view, marked as
        # earlier, out of its evidence and its picture; what the app did for the step is
        # told apart from the student's.
        self.scene_earlier: set[Key] = set()
        self._earlier_missing: dict[Key, float] = {}  # earlier rows not seen since
        self.scene_start = 0.0  # when the step's scene began (its picture tells from then)
        self.scene_past: set[Key] = set()  # connections of earlier scenes, out of its story
        self.scene_by_app: list[str] = []  # the step's setup, as the app performed it
        self.sent_by_app: list[Message] = []  # messages of the step the app sent
        # The kernel's witness of the scene's messages (bytes reaching the server's socket,
        # whoever wrote the server); begun again with each scene (``current_witness``).
        self.witness = StepWitness()
        self.autopilot = autopilot
        self.auto_capture = auto_capture
        self.demo = demo  # the app's own demo: watermarked, and marked so in the manifest
        self.saved: list[Path] = []  # screenshots written by this run
        self.save_errors: list[str] = []  # and the sentences of those that could not be
        self.demo_error: str | None = None  # set by ``tcp-observatory demo`` when a step fails

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

    def _focused_in(self, kind: type[W]) -> W | None:
        """The widget of type ``kind`` that holds the focus (the focused widget or a parent)."""
        node = self.focused
        while node is not None:
            if isinstance(node, kind):
                return node
            node = node.parent  # type: ignore[assignment]
        return None

    def _focused_card(self) -> ClientCard | None:
        return self._focused_in(ClientCard)

    def on_notice(self, message: Notice) -> None:
        self.notify(message.text, severity="error" if message.error else "information",
                    timeout=message.timeout)

    def current_witness(self) -> StepWitness:
        """The kernel's witness of the current scene. A new scene (a step, a setup, a new
        server) begins it again, its baseline the bytes each lab socket had received by
        the last poll: bytes of an earlier step never count for this one."""
        witness = self.witness
        if witness.scene != self.scene_start:
            shown = self.snapshot
            witness.begin(self.scene_start,
                          self._lab_rows(shown).connections if shown is not None else ())
        return witness

    # -- hooks, each defined by one part ---------------------------------------------------
    def _refresh_labels(self) -> None:
        raise NotImplementedError  # tui.live

    def _show(self, snapshot: Snapshot, transitions: list[Transition], *,
              exact: bool = False) -> None:
        raise NotImplementedError  # tui.live

    def _apply_view(self) -> None:
        raise NotImplementedError  # tui.live

    def fit_table(self) -> None:
        raise NotImplementedError  # tui.live

    def _record_moment(self, snapshot: Snapshot, transitions: list[Transition]) -> None:
        raise NotImplementedError  # tui.stepthrough

    def _check_evidence(self, snapshot: Snapshot) -> None:
        raise NotImplementedError  # tui.guided

    def scene(self, snapshot: Snapshot) -> Snapshot:
        raise NotImplementedError  # tui.guided

    def scene_only(self, snapshot: Snapshot) -> Snapshot:
        raise NotImplementedError  # tui.guided

    def earlier_count(self, snapshot: Snapshot) -> int:
        raise NotImplementedError  # tui.guided

    def server_scene(self, when: float) -> None:
        raise NotImplementedError  # tui.guided

    def _lab_rows(self, snapshot: Snapshot) -> Snapshot:
        raise NotImplementedError  # tui.live

    def _show_step(self) -> None:
        raise NotImplementedError  # tui.guided

    def _save_progress(self) -> None:
        raise NotImplementedError  # tui.guided

    def _autosave_failed(self, error: str) -> None:
        raise NotImplementedError  # tui.guided

    def _autosave_told(self, steps: list[str]) -> None:
        raise NotImplementedError  # tui.guided

    def focus_client(self) -> bool:
        raise NotImplementedError  # tui.focus

    def card_added(self, card: ClientCard) -> None:
        raise NotImplementedError  # tui.focus

    def card_removed(self, had_focus: bool) -> None:
        raise NotImplementedError  # tui.focus

    def _update_stamp(self, when: float | None = None, seal: str | None = None) -> None:
        raise NotImplementedError  # tui.screenshots

    def take_screenshot(self) -> None:
        raise NotImplementedError  # tui.screenshots

    @property
    def step_id(self) -> str:
        return self.progress.step
