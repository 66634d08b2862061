"""The observatory: the lab's server, its clients and the kernel's view, in one window.

Sockets and polling live in the Session's threads; everything reaches the UI as messages
(``tui.messages``). The app is put together from its parts, each a module: the live view
(``tui.live``), step-through (``tui.stepthrough``), the guided lab (``tui.guided``) and
screenshots (``tui.screenshots``).
"""

from __future__ import annotations

import asyncio
import contextlib
import gc
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

from lab.i18n import t
from tui.focus import Focus
from tui.guided import Guided
from tui.live import LiveView
from tui.screenshots import Screenshots
from tui.stepthrough import StepThrough
from tui.theme import LightFilter
from tui.widgets.banner import Banner
from tui.widgets.clients import ClientsPane
from tui.widgets.connections import ConnectionsTable
from tui.widgets.diagram import StateDiagram
from tui.widgets.evidence_view import EvidenceView
from tui.widgets.footer import KeysFooter
from tui.widgets.ladder import LadderView
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


class ObservatoryApp(Screenshots, Guided, Focus, StepThrough, LiveView):
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
                # The clients started before the window (tui.run) are in its first screen.
                started = sorted(self.session.idents.items()) if self.session.holding else ()
                yield ClientsPane(self.lang, id="clients", cards=started)
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
        self._refresh_labels()
        if self.autopilot is not None:
            autopilot = self.autopilot
            self.run_worker(lambda: autopilot(self), thread=True, group="autopilot",
                            exit_on_error=False)

    async def action_quit(self) -> None:
        self.take_typed_answer()
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
            self.take_typed_answer()
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
            self.autosave.close()
            self.session.shutdown()

    def on_unmount(self) -> None:
        self.shutdown()
