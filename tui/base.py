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

from textual.app import App

from lab.grading.manifest import DEFAULT_FOLDER
from lab.guide.witness import StepWitness
from lab.observe.model import Connection, Snapshot, Transition
from lab.session import ProgramReport, Session
from lab.text import clean_field
from tui.guided import Guide
from tui.messages import Notice
from tui.scene import Scene
from tui.screenshots import ScreenshotFlow
from tui.stepthrough import Recorder
from tui.widgets.clients import ClientCard, ClientsPane
from tui.widgets.connections import ConnectionsTable
from tui.widgets.server_pane import ServerPane
from tui.widgets.timeline import Timeline

W = TypeVar("W")

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
        self.snapshot: Snapshot | None = None
        # What happened, the moments kept for step-through, and the pause (tui.stepthrough).
        self.recorder = Recorder()
        self._pending: list[Transition] = []
        self._pending_lock = threading.Lock()
        # The student's programs' reports waiting to be shown, in batches (tui.live).
        self._program_batches: list[list[ProgramReport]] = []
        self._program_batch: list[ProgramReport] | None = None  # the one still growing
        self._programs_shown = 0.0  # time.monotonic() when they were last shown
        self._first_look: float | None = None  # the time of the observer's first poll
        self._stopped = False
        self._warned_source = False
        # (every connection, the lab port's among them), for the last snapshot shown
        self._lab_of: tuple[tuple[Connection, ...], Snapshot] | None = None
        self._last_error = ""
        self.present = present
        # The banner's event: its cause (an action or a server event) and what it moved.
        self._event_cause: object = None
        self._event: list[Transition] = []
        self.colours = colours if colours in ("dark", "light") else "dark"  # tui.theme
        self.view = view if view in VIEWS else "connections"
        # The guided lab's progress: the step, the name, the answers, the evidence.
        self.guide = Guide(self, Path(folder), lang, student)
        self.signals = signals
        # Where the keys go (tui.focus): a client's input, the last used, else the first.
        self._last_client: int | None = None  # the client whose input last had the focus
        # No client's input could take it yet: the next card's does (at start, the first's).
        self._client_focus_pending = True
        self._focus_new_client: int | None = None  # F2's client: its card takes the focus
        # What belongs to the current step (tui.scene).
        self.scene = Scene()
        self.autopilot = autopilot
        # The stamp, and a step's picture taken and written (tui.screenshots).
        self.shots = ScreenshotFlow(self, lang, host=clean_field(host or socket.gethostname()),
                                    demo=demo, auto_capture=auto_capture)
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
        """The kernel's witness of the current scene, begun on the lab's rows shown."""
        return self.scene.witness(self._shown_lab_rows)

    def _shown_lab_rows(self) -> tuple[Connection, ...]:
        shown = self.snapshot
        return self._lab_rows(shown).connections if shown is not None else ()

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

    def server_scene(self, when: float) -> None:
        raise NotImplementedError  # tui.guided

    def _lab_rows(self, snapshot: Snapshot) -> Snapshot:
        raise NotImplementedError  # tui.live

    def _check_evidence(self, snapshot: Snapshot) -> None:
        raise NotImplementedError  # tui.app

    def _show_step(self) -> None:
        raise NotImplementedError  # tui.app

    def focus_client(self) -> bool:
        raise NotImplementedError  # tui.focus

    def card_added(self, card: ClientCard) -> None:
        raise NotImplementedError  # tui.focus

    def card_removed(self, had_focus: bool) -> None:
        raise NotImplementedError  # tui.focus

    @property
    def step_id(self) -> str:
        return self.guide.step_id
