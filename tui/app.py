"""The observatory: the lab's server, its clients and the kernel's view, in one window.

Sockets and polling live in the Session's threads; everything reaches the UI as messages
(``tui.messages``). The app is put together from its parts, each a module: the live view
(``tui.live``), step-through (``tui.stepthrough``), the guided lab (``tui.guided``) and
screenshots (``tui.screenshots``).
"""

from __future__ import annotations

from collections.abc import Sequence

from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.filter import LineFilter
from textual.widget import Widget
from textual.widgets import ContentSwitcher, Header, Static

from lab.i18n import t
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


class ObservatoryApp(Screenshots, Guided, StepThrough, LiveView):
    TITLE = "TCP Observatory"
    ENABLE_COMMAND_PALETTE = False
    # Before any input that has the focus; shown in the footer in the app's language.
    BINDINGS = [Binding("ctrl+q", "quit", "Quit", priority=True)]
    LIGHT = LightFilter()

    def on_load(self) -> None:
        # The keys' descriptions follow --lang, so they are bound per app, not per class.
        for key, action, desc in KEYS:
            self.bind(key, action, description=t(desc, self.lang))

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
            autopilot = self.autopilot
            self.run_worker(lambda: autopilot(self), thread=True, group="autopilot",
                            exit_on_error=False)

    async def action_quit(self) -> None:
        self.shutdown()
        self.exit(0)

    def shutdown(self) -> None:
        if not self._stopped:
            self._stopped = True
            self.session.shutdown()

    def on_unmount(self) -> None:
        self.shutdown()
