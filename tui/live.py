"""The live view: one moment of the lab on every view (the table, the clients' cards and
states, the server's accept queue, the banner, the diagram or the ladder, the why line),
the timeline, the window's titles, and the layout that keeps the step's columns in view.

A plain object, owned by the app: it keeps what it shows (the snapshot on screen, the view
chosen, presentation mode, the banner's event) and reads the recorder and the scene it is
given, never writing them."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from textual.app import App
from textual.containers import Horizontal
from textual.css.query import NoMatches
from textual.css.scalar import Scalar
from textual.widget import Widget
from textual.widgets import ContentSwitcher
from textual.widgets.data_table import CellDoesNotExist

from tcp_observatory.lab.cmdline import is_loopback
from tcp_observatory.lab.guide.steps import get_step
from tcp_observatory.lab.i18n import t
from tcp_observatory.lab.net.modes import SINGLE
from tcp_observatory.lab.net.program import short_name
from tcp_observatory.lab.observe.explain import explain, most_telling
from tcp_observatory.lab.observe.model import Connection, RoleKind, Snapshot, Transition
from tcp_observatory.lab.session import Action, Session
from tcp_observatory.lab.text import printable
from tcp_observatory.tui.focus import focused_card
from tcp_observatory.tui.lookup import present
from tcp_observatory.tui.notes import action_note, server_note
from tcp_observatory.tui.scene import Scene
from tcp_observatory.tui.stepthrough import Recorder
from tcp_observatory.tui.widgets.banner import Banner
from tcp_observatory.tui.widgets.clients import ClientsPane
from tcp_observatory.tui.widgets.connections import (
    ALWAYS,
    COLUMNS,
    PRESENT_COLUMNS,
    STACKED_SCROLLBAR,
    ConnectionsTable,
    row_key,
    scroll_order,
    stack,
)
from tcp_observatory.tui.widgets.server_pane import ServerPane
from tcp_observatory.tui.widgets.steps_panel import StepsPanel
from tcp_observatory.tui.widgets.timeline import Timeline
from tcp_observatory.tui.widgets.why import WhyLine

VIEWS = ("connections", "diagram", "ladder")
NARROW = 110  # columns below which the panes are stacked and the table scrolls sideways
# As app.tcss lays them out: the steps panel (46 cells, at most 45% of the screen) and the
# server and clients beside the table (a third of the width, 30 to 52 cells).
PANEL_WIDTH, PANEL_SHARE = 46, 0.45
RIGHT_MIN, RIGHT_MAX = 30, 52
SHORT = 32  # rows below which the window is a projector's small one (80x24, 100x30)


class Views:
    def __init__(self, app: App[Any], session: Session, lang: str, clock: Callable[[], float],
                 recorder: Recorder, scene: Scene, step: Callable[[], str], *,
                 view: str, present: bool) -> None:
        self._app = app
        self.session = session
        self.lang = lang
        self.clock = clock
        self._recorder = recorder  # read, never written
        self._scene = scene  # read, never written
        self._step = step  # the current step's id
        self.snapshot: Snapshot | None = None  # the moment on screen
        self.view = view if view in VIEWS else "connections"
        self.present = present
        # (every connection, the lab port's among them), for the last snapshot shown
        self._lab_of: tuple[tuple[Connection, ...], Snapshot] | None = None
        # The banner's event: its cause (an action or a server event) and what it moved.
        self._event_cause: object = None
        self._event: list[Transition] = []

    # -- panes -----------------------------------------------------------------------------
    @property
    def table(self) -> ConnectionsTable:
        return self._app.query_one(ConnectionsTable)

    @property
    def timeline(self) -> Timeline:
        return self._app.query_one(Timeline)

    @property
    def server_pane(self) -> ServerPane:
        return self._app.query_one(ServerPane)

    @property
    def clients_pane(self) -> ClientsPane:
        return self._app.query_one(ClientsPane)

    # -- one moment ------------------------------------------------------------------------
    def quiet(self, snapshot: Snapshot) -> Snapshot | None:
        """Nothing new from the kernel since the snapshot on screen (the next poll, no
        change): every view already shows it. The snapshot on screen takes its time and
        is returned (None: there is something new to show)."""
        shown = self.snapshot
        if (snapshot.changed != () or snapshot.gone != () or shown is None
                or shown.seq != snapshot.seq - 1):
            return None
        self.snapshot = shown = shown._replace(time=snapshot.time, seq=snapshot.seq,
                                               changed=(), gone=())
        self.table.apply(shown, [])
        return shown

    def to_timeline(self, transitions: list[Transition], first_look: float | None) -> None:
        """Write the transitions on the timeline. At the first look, the other programs'
        connections found open did not open then: they are one line, not thousands (a
        busy machine's 10,000 had filled the timeline).

        The first look is the observer's first poll, known by its time, not the first
        snapshot the view applies: paused from the start, every snapshot applied is held
        and none is shown, and those opened later had each been told as found at start."""
        if first_look is not None:
            found = [tr for tr in transitions
                     if tr.time == first_look and tr.from_state is None
                     and tr.connection.role.kind is RoleKind.OTHER]
            if found:
                self.timeline.add_note(found[0].time,
                                       t("tl.already_open", self.lang, n=len(found)))
                skipped = {id(tr) for tr in found}
                transitions = [tr for tr in transitions if id(tr) not in skipped]
        for tr in transitions:
            self.timeline.add_transition(tr)

    def lab_rows(self, snapshot: Snapshot) -> Snapshot:
        """The lab port's rows alone: what the steps, the cards and the queue read. With
        every connection shown (thousands), they need not walk the others."""
        observer = getattr(self.session, "observer", None)
        if observer is None or not observer.all_ports:
            return snapshot
        if self._lab_of is not None and self._lab_of[0] is snapshot.connections:
            return self._lab_of[1]
        port = self.session.port
        lab = snapshot._replace(connections=tuple(
            c for c in snapshot.connections
            if c.local.port == port or (c.remote is not None and c.remote.port == port)))
        self._lab_of = (snapshot.connections, lab)
        return lab

    def show(self, snapshot: Snapshot, transitions: list[Transition], *,
             exact: bool = False) -> None:
        """Put one moment on every view: the table, the clients' states, the banner.

        ``exact``: a recorded moment stepped to (F7, then [ or ]), or the present caught
        up after one. A past moment is shown as it was on every view: time in state up to
        it, each card's state and last line then, the lab's last change then on the
        banner, and the timeline marks it (what came after is dimmed)."""
        self.snapshot = snapshot
        moment = self._recorder.moment(self.lang)
        as_of = moment[1] if moment is not None else None
        since = self._recorder.since(snapshot, as_of) if exact else None
        self.table.apply(snapshot, transitions, linger=not exact, as_of=as_of, since=since)
        self.table.set_earlier(frozenset(self._scene.earlier))
        lab = self.lab_rows(snapshot)
        listener = next((c for c in lab.connections if c.role.kind is RoleKind.LISTENER
                         and c.local.port == self.session.port), None)
        # Linux: a listener's Recv-Q is the accept queue's length, its Send-Q the backlog.
        self.server_pane.set_queue(listener.recv_q if listener else None,
                                   listener.send_q if listener else None)
        # Once the new rows are laid out: a column cut at the edge gives way whole. (Asked
        # here and now, before layout, a quiet table would never be asked again.)
        self._app.call_after_refresh(self._fit_if_cut)
        self._update_client_states(lab, as_of)
        # The banner tells the lab's story: with every connection shown, a browser's
        # sockets coming and going do not take its place.
        told = [tr for tr in transitions if tr.connection.role.kind is not RoleKind.OTHER]
        if exact:
            label = moment[0] if moment is not None else ""
            self._app.query_one(Banner).show(self._recorder.last_told(as_of), past=label)
            self.timeline.show_moment(as_of, label)
        elif told:
            self._tell(told)
        self.refresh_view(snapshot.time if exact else None)
        self.explain()

    def _tell(self, told: list[Transition]) -> None:
        """One event on the banner: what caused it, and every socket it moved. Changes a
        later poll reports for the same cause (the server's end moved a poll after the
        client's) join the same event."""
        when = told[-1].time
        cause = self._recorder.cause_of(when)
        if cause is not None and cause is self._event_cause:
            told = [*self._event, *told]
        self._event_cause, self._event = cause, told
        note = "" if cause is None else (
            action_note(cause, self.lang) if isinstance(cause, Action)
            else server_note(cause, self.lang) or "")
        self._app.query_one(Banner).show_event(told, note)

    def explain(self) -> None:
        """The why line: the selected row's sentence, else the one the room needs first."""
        # (Called at every snapshot, twice a second, and when the table's cursor moves.)
        try:
            why = self._app.query_one(WhyLine)
        except NoMatches:
            return
        if self.snapshot is None:
            why.say(None)
            return
        table = self.table
        now = self.snapshot.time if self._recorder.paused else self.clock()

        def held(c: Connection) -> float | None:
            row = table.rows_by_key.get(row_key(c))
            return None if row is None else max(0.0, now - row.since)

        rows = list(self.lab_rows(self.snapshot).connections)
        selected = self._selected_row()
        if selected is not None and selected.role.kind is not RoleKind.OTHER:
            sentence = explain(selected, self.lang, held=held(selected), rows=rows)
            if sentence:
                why.say(sentence, selected.state)
                return
        if self.view == "connections" and self._app.size.height < SHORT:
            # A small window's table and timeline need every row: the sentence comes for
            # the row one selects (the drawing views have the rows the timeline gave up).
            why.say(None)
            return
        earlier = self._scene.earlier
        found = most_telling([c for c in rows if c.key not in earlier], self.lang, held)
        why.say(found[1] if found else None, found[0].state if found else "")

    def _selected_row(self) -> Connection | None:
        """The connection under the table's cursor, if the table has the focus or was used."""
        table = self.table
        if table.row_count == 0 or self._app.focused is not table:
            return None
        try:
            key = table.coordinate_to_cell_key(table.cursor_coordinate).row_key.value
        except CellDoesNotExist:  # a cursor past the rows just removed
            return None
        row = table.rows_by_key.get(str(key))
        return None if row is None or row.gone_at is not None else row.conn

    def _fit_if_cut(self) -> None:
        # Wide, or with rows of two lines (80 columns): a row grew wider than the view.
        if self.table.overflows() and (self._app.size.width >= NARROW
                                       or self.table.line_height > 1):
            self.fit_table()

    def view_widget(self, view: str) -> Widget:
        """The diagram's or the ladder's widget, made and mounted the first time it is
        shown: most sessions never show them, and the first screen comes sooner without
        (their modules are not even imported until then)."""
        for widget in present(self._app, Widget, view):
            return widget
        widget = self._make_view(view)
        self._app.query_one(ContentSwitcher).mount(widget)
        return widget

    def _make_view(self, view: str) -> Widget:
        if view == "diagram":
            from tcp_observatory.tui.widgets.diagram import StateDiagram

            return StateDiagram(self.lang, id="diagram")
        from tcp_observatory.tui.widgets.ladder import LadderView

        return LadderView(self.lang, id="ladder")

    def refresh_view(self, until: float | None = None) -> None:
        """Redraw the diagram or the ladder (only the one on screen), as of ``until``."""
        if self.view == "connections" or self.snapshot is None:
            return
        history, actions, events = self._recorder.upto(until)
        widget = self.view_widget(self.view)
        if self.view == "diagram":
            from tcp_observatory.tui.widgets.diagram import StateDiagram, markers_from

            assert isinstance(widget, StateDiagram)
            widget.border_title = t("pane.diagram", self.lang, port=self.session.port)
            widget.set_markers(markers_from(self.snapshot, history, self.lang))
            return
        from tcp_observatory.tui.widgets.ladder import LadderView, ladder_from

        number = self._ladder_client()
        assert isinstance(widget, LadderView)
        ladder = widget
        if number is None:
            ladder.border_title = t("pane.ladder_none", self.lang)
            ladder.show([], client=None)
            return
        ladder.border_title = t("pane.ladder", self.lang, n=number)
        ladder.show(ladder_from(number, actions, events, history, self.lang), client=number)

    def _ladder_client(self) -> int | None:
        """The client whose connection the ladder draws: focused card, else the first one."""
        card = focused_card(self._app)
        if card is not None:
            return card.number
        cards = self.clients_pane.cards()
        return cards[0].number if cards else None

    def _update_client_states(self, snapshot: Snapshot, when: float | None = None) -> None:
        """Each card shows its own socket's state in ``snapshot``, the moment ``when``
        (None: now): found by the client's ident (the socket it made), not by its number,
        which a later scene gives to another client."""
        registry = self.session.registry
        by_ident: dict[int, str] = {}
        by_number: dict[int, str] = {}  # clients made without an ident (tests' own)
        for c in snapshot.connections:
            if c.role.client is not None and c.local.port != self.session.port:
                ident = registry.ident_of(c.local, c.remote)
                if ident:
                    by_ident[ident] = c.state
                else:
                    by_number[c.role.client] = c.state
        for card in self.clients_pane.cards():
            card.at(when)
            state = by_ident.get(card.ident) if card.ident else by_number.get(card.number)
            card.set_state(state or ("CLOSED" if card.closed_by(when) else ""))

    def labels(self) -> None:
        s = self.session
        mode = t(f"mode.{s.mode}", self.lang)
        # Read once: a step's setup stops and replaces the server on another thread.
        server = s.server if s.server_running else None
        if server is not None:
            sub = t("app.server_at", self.lang, addr=server.address, mode=mode)
            key = "server.info" if s.mode == SINGLE else "server.info.threaded"
            info = t(key, self.lang, mode=mode, backlog=server.backlog,
                     caf=t("yes" if s.close_after_fin else "no", self.lang))
        elif s.with_server:
            sub = t("app.server_stopped", self.lang, port=s.port)
            info = t("server.off", self.lang)
        elif s.exec_server is not None:
            sub = t("prog.app.server", self.lang, name=short_name(s.exec_server), port=s.port)
            info = t("prog.server.info", self.lang, command=printable(s.exec_server, 200))
        else:
            sub = t("app.no_server", self.lang, port=s.port)
            info = t("server.none", self.lang, port=s.port)
        if server is not None and not is_loopback(s.host):
            info += "\n⚠ " + t("warn.exposed", self.lang, addr=server.address)
        moment = self._recorder.moment(self.lang)
        if self._recorder.paused:
            sub += "  " + t("app.paused", self.lang)
            if moment is not None:
                sub += "  " + moment[0]
        self._app.sub_title = sub
        server_title = t("pane.server", self.lang)
        if server is not None:
            server_title += f" {server.address}"
        self.server_pane.set_info(server_title, info)
        self.server_pane.close_after_fin = s.close_after_fin
        filt = (t("app.filter_all", self.lang) if s.all_ports
                else t("app.filter_port", self.lang, port=s.port))
        observer = s.observer
        if observer.effective_interval > observer.interval:  # polls cost too much: say so
            filt += " · " + t("app.paced", self.lang, interval=observer.effective_interval,
                              cost=observer.poll_cost * 1000)
        title = t("pane.connections", self.lang, filter=filt)
        if moment is not None:  # said where the rows are read, not only in the header
            title = f"{moment[0]} · {title}"
        self.table.border_title = title

    def _columns(self) -> tuple[tuple[str, ...], tuple[str, ...], tuple[str, ...]]:
        """The table's columns: all it may show, those the current step reads (with the
        addresses and the state), and the one its question asks about."""
        wanted = PRESENT_COLUMNS if self.present else COLUMNS
        step = get_step(self._step())
        reads = tuple(c for c in dict.fromkeys((*ALWAYS, *step.reads)) if c in wanted)
        return wanted, reads, tuple(c for c in step.asks if c in wanted)

    def _arrange(self, width: int) -> bool:
        """Lay the window out for the step's columns; True if that changed.

        Where beside the server and the clients the table could not show whole every
        column the step reads, their column narrows to its least (``RIGHT_MIN``); where it
        still could not, or below ``NARROW`` columns, the panes stack (the table above
        them). The steps panel takes its width beside the panes, or, where the table could
        not then show those columns (80x24), lies over the panes' lower half instead
        (F1 takes it away)."""
        mains = present(self._app, Horizontal, "main")
        panels = present(self._app, StepsPanel)
        if not mains or not panels:
            return False
        table = self.table
        _, reads, _ = self._columns()
        laid_out = table.outer_size.width > 0
        gutter = (table.outer_size.width - table.scrollable_content_region.width
                  if laid_out else 2)  # the border, and a scrollbar if one shows
        need = table.needed(reads) + gutter
        panel = panels[0]
        beside = min(PANEL_WIDTH, int(width * PANEL_SHARE))
        overlay = width < NARROW or width - beside < need
        room = width - (beside if panel.display and not overlay else 0)
        right = min(RIGHT_MAX, max(RIGHT_MIN, room // 3))
        stacked = width < NARROW or room - RIGHT_MIN < need
        slim = not stacked and room - right < need
        main = mains[0]
        changed = (main.has_class("-narrow") != stacked or main.has_class("-slim") != slim
                   or panel.has_class("-overlay") != overlay)
        main.set_class(stacked, "-narrow")
        main.set_class(slim, "-slim")
        panel.set_class(overlay, "-overlay")
        return changed

    def keep_panel_above_keys(self) -> None:
        """The steps panel (docked right, or over the panes at 80x24) ends above the keys'
        rows: they wrap on one or two rows, and the panel's answer box, at its bottom, had
        gone under them (off the screen at 140x44)."""
        for keys in present(self._app, Widget, "keys"):
            rows = keys.outer_size.height
            for panel in present(self._app, StepsPanel):
                if panel.styles.margin.bottom != rows:
                    panel.styles.margin = (0, 0, rows, 0)  # docked at the bottom (80x24)
                room = max(3, self._app.size.height - rows)  # docked right: full height, less them
                if panel.has_class("-overlay"):  # over the panes: below the table, not on it
                    room = max(6, room - self.table.region.bottom)
                if panel.styles.max_height != Scalar.from_number(room):
                    panel.styles.max_height = room

    def fit_table(self) -> None:
        """Fit the table to the step: every column it reads shown whole where they fit.

        Wide enough (110 columns or more), the panes are arranged for them (``_arrange``)
        and the columns that still do not fit give way whole, what the step does not read
        first, so no header is cut at the edge. Narrower, the columns come in the order
        the step needs them (the addresses, the state, what its question asks about, the
        rest of what it reads, the others last); where those it reads do not fit side by
        side (80 columns), the two addresses share a column, and so do the role and the
        process, one above the other, as in the step's picture; the columns it does not
        read give way. Otherwise the table scrolls sideways to the others."""
        if self._arrange(self._app.size.width):
            self._app.call_after_refresh(self.fit_table)  # once laid out again
            return
        wanted, reads, asks = self._columns()
        narrow = self._app.size.width < NARROW
        for table in present(self._app, ConnectionsTable):
            if not table.region.width:
                continue  # not on screen (a picture being taken): fitted on its return
            if not narrow:
                table.fit(table.scrollable_content_region.width, wanted, reads, asks)
                continue
            order = wanted if self.present else scroll_order(wanted, reads, asks)
            # Rows of two lines fill the view soon: room is kept for their scrollbar.
            width = table.size.width - STACKED_SCROLLBAR
            if not self.present and table.needed(reads) > width:
                # Too narrow for them side by side: the addresses share a column, the role
                # and the process another, a row takes two lines, and what the step does
                # not read gives way.
                if table.fit(width, stack(order), stack(reads), stack(asks)):
                    table.scroll_to(x=0, animate=False)
            elif table.shown != order:
                table.set_shown(order)
                table.scroll_to(x=0, animate=False)
        # app.tcss gives rows of two lines more room; the table, grown, says so (Resized) and
        # the steps panel is placed below it again.
        for main in present(self._app, Horizontal, "main"):
            main.set_class(self.table.line_height > 1, "-stacked")

    def resize(self, width: int, height: int) -> None:
        """The window's new size (the app's own is still the old one when this is told)."""
        app = self._app
        self._arrange(width)
        app.call_after_refresh(self.keep_panel_above_keys)
        short = height < SHORT
        app.screen.set_class(short, "-short")
        for banner in present(app, Banner):
            banner.set_compact(short)
        for why in present(app, WhyLine):
            why.set_max_lines(2 if short else 3)
        app.call_after_refresh(self.explain)
        app.call_after_refresh(self.fit_table)

    async def next_view(self) -> None:
        """F9: connections table, state diagram, ladder. A view shown the first time is
        mounted (with its parts) before it is switched to."""
        self.view = VIEWS[(VIEWS.index(self.view) + 1) % len(VIEWS)]
        if self.view != "connections" and not present(self._app, Widget, self.view):
            await self._app.query_one(ContentSwitcher).mount(self._make_view(self.view))
        self.apply_view()

    def toggle_present(self) -> None:
        """F10: presentation mode on or off."""
        self.present = not self.present
        self.apply_present()

    def apply_view(self) -> None:
        if self.view != "connections":
            self.view_widget(self.view)
        self._app.query_one(ContentSwitcher).current = self.view
        self._app.screen.set_class(self.view != "connections", "-drawing")
        self.refresh_view(self._recorder.chosen_time())
        self.timeline.scroll_end(animate=False)
        self.explain()

    def apply_present(self) -> None:
        """Presentation: the latest change written large, fewer columns, no server log."""
        self._app.screen.set_class(self.present, "-present")
        self.table.cell_padding = 2 if self.present else 1
        self.table.set_shown(PRESENT_COLUMNS if self.present else COLUMNS)
        self._app.call_after_refresh(self.fit_table)
        told = [tr for tr in self._recorder.history
                if tr.connection.role.kind is not RoleKind.OTHER]
        if self.present and told and not self._app.query_one(Banner).moved:
            self._tell([tr for tr in told if tr.time == told[-1].time])
